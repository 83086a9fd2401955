/**
 * Wsn: a web service with follow-ups. The client c asks the worker w for the
 * fares of a flight route; w answers one fare per message: the Request gets
 * the first, each Extra the next, until w has none left and answers Fault.
 * Every Extra must be about the same route: the runtime checks
 * `query == Request.query` before w sees it.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import type { ExtraResponse, RequestResponse } from "../../gen/wsn/wsn_pb.js";
import { WsnC, WsnW } from "../../gen/wsn/wsn_secsession.js";
import { Trace } from "../support/trace.js";

/** The fare a Reply carries (the runtime checked that the case matches the branch). */
export const fareOf = (m: RequestResponse | ExtraResponse): bigint => (m.outcome.case === "reply" ? m.outcome.value.result : -1n);

/** c: collects every fare of `route`, asking for more until w has none. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; w: string }, choices: { route: string }, trace = new Trace()): Promise<bigint[]> {
  const s0 = await runtime.start(WsnC, bindings);
  const first = await s0.request({ query: choices.route });
  if (first.kind === "requestFault") {
    trace.got("c", "w", "Fault");
    trace.end("c", first.next);
    return [];
  }
  const fares = [fareOf(first.message)];
  trace.got("c", "w", `Reply(${fares[0]})`);
  let s = first.next;
  for (;;) {
    const more = await s.extra({ query: choices.route });
    if (more.kind === "extraFault") {
      trace.got("c", "w", "Fault");
      trace.end("c", more.next);
      return fares;
    }
    fares.push(fareOf(more.message));
    trace.got("c", "w", `Reply(${fareOf(more.message)})`);
    s = more.next;
  }
}

/** w: serves the fares of each route from `fares`, one per message, then Fault. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { fares: Readonly<Record<string, readonly bigint[]>>; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  const fault = { outcome: { case: "fault", value: {} } } as const;
  const reply = (result: bigint) => ({ outcome: { case: "reply", value: { result } } }) as const;
  runtime.serve(server, WsnW, {
    request: async ({ message, next }) => {
      trace.got("w", "c", `Request(${message.query})`);
      const left = [...(options.fares[message.query] ?? [])];
      const first = left.shift();
      if (first === undefined) return trace.end("w", await next.requestFault(fault));
      let s = await next.requestReply(reply(first));
      for (;;) {
        const extra = await s.receive();
        trace.got("w", "c", `Extra(${extra.message.query})`);
        const fare = left.shift();
        if (fare === undefined) return trace.end("w", await extra.next.extraFault(fault));
        s = await extra.next.extraReply(reply(fare));
      }
    },
  });
}
