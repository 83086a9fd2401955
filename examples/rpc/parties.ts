/**
 * Rpc: a remote procedure call. The client c asks the worker w how many
 * words a text has; w answers with the count.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { RpcC, RpcW } from "../../gen/rpc/rpc_secsession.js";
import { Trace } from "../support/trace.js";

/** c: asks w to count the words of `text`; returns w's answer. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; w: string }, choices: { text: string }, trace = new Trace()): Promise<bigint> {
  const s0 = await runtime.start(RpcC, bindings);
  const reply = await s0.request({ query: choices.text });
  trace.got("c", "w", `Reply(${reply.message.result})`);
  trace.end("c", reply.next);
  return reply.message.result;
}

/** w: counts words. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, RpcW, {
    request: async ({ message, next }) => {
      trace.got("w", "c", `Request(${message.query})`);
      const words = message.query.split(/\s+/).filter((w) => w !== "").length;
      trace.end("w", await next.requestResponse({ result: BigInt(words) }));
    },
  });
}
