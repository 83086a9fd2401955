/**
 * Forward: the client c sends a lookup to the proxy p, which forwards it to
 * the worker w; w replies to c directly (here: the stock of a product).
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { ForwardC, ForwardP, ForwardW } from "../../gen/forward/forward_secsession.js";
import { Trace } from "../support/trace.js";

/** c serves Client so that w's Reply reaches it (a Reply starts no session: no handlers). */
export function serveC(runtime: SessionRuntime, server: grpc.Server): void {
  runtime.serve(server, ForwardC, {});
}

/** c: asks for the stock of `sku` through p; returns w's answer. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; p: string; w: string }, choices: { sku: string }, trace = new Trace()): Promise<bigint> {
  const s0 = await runtime.start(ForwardC, bindings);
  const waiting = await s0.request({ query: choices.sku });
  const reply = await waiting.receive();
  trace.got("c", "w", `Reply(${reply.message.result})`);
  trace.end("c", reply.next);
  return reply.message.result;
}

/** p: normalises the SKU and passes the request on. */
export function serveP(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ForwardP, {
    request: async ({ message, next }) => {
      trace.got("p", "c", `Request(${message.query})`);
      trace.end("p", await next.forward({ query: message.query.trim().toUpperCase() }));
    },
  });
}

/** w: answers with the stock of the SKU (0 if unknown). */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { stock: Readonly<Record<string, bigint>>; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ForwardW, {
    forward: async ({ message, next }) => {
      trace.got("w", "p", `Forward(${message.query})`);
      trace.end("w", await next.reply({ result: options.stock[message.query] ?? 0n }));
    },
  });
}
