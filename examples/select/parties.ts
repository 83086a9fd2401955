/**
 * Select: dynamic principal binding. The client c sends its search query
 * with credentials to the portal p; p picks the search server that will
 * answer and binds role w to it (`bind w = server`: the Forward's `server`
 * field names the principal); c accepts the Reply only from that principal.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { SelectC, SelectP, SelectW } from "../../gen/select/select_secsession.js";
import { Trace } from "../support/trace.js";

/** c serves Client so that the Reply reaches it (a Reply starts no session: no handlers). */
export function serveC(runtime: SessionRuntime, server: grpc.Server): void {
  runtime.serve(server, SelectC, {});
}

/** c: searches through the portal (w is bound by p, not here); returns the number of hits. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; p: string }, choices: { query: string; credentials: string }, trace = new Trace()): Promise<bigint> {
  const s0 = await runtime.start(SelectC, bindings);
  const waiting = await s0.query({ query: choices.query, credentials: choices.credentials });
  const reply = await waiting.receive();
  trace.got("c", "w", `Reply(${reply.message.result})`);
  trace.end("c", reply.next);
  return reply.message.result;
}

/** p: routes each query to the server `route(query)` names, binding w to it. */
export function serveP(runtime: SessionRuntime, server: grpc.Server, options: { route: (query: string) => string; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, SelectP, {
    query: async ({ message, next }) => {
      trace.got("p", "c", `Query(${message.query}, by ${message.credentials})`);
      const chosen = options.route(message.query);
      trace.end("p", await next.forward({ query: message.query, server: chosen }));
    },
  });
}

/** w (one search server among several): answers with its hit count; `as` labels it in the trace. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { hits: Readonly<Record<string, bigint>>; as?: string; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  const me = options.as ?? "w";
  runtime.serve(server, SelectW, {
    forward: async ({ message, next }) => {
      trace.got(me, "p", `Forward(${message.query}, server ${message.server})`);
      trace.end(me, await next.reply({ result: options.hits[message.query] ?? 0n }));
    },
  });
}
