/**
 * Wsne: as Wsn, but after each fare the client c chooses: ask for another
 * (Extra, about the same route: the runtime checks `query == Request.query`)
 * or Exit once it has `wanted` fares. The worker w answers Fault when it has
 * no fare left.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import type { ExtraResponse, RequestResponse } from "../../gen/wsne/wsne_pb.js";
import { WsneC, WsneW } from "../../gen/wsne/wsne_secsession.js";
import { Trace } from "../support/trace.js";

/** The fare a Reply carries (the runtime checked that the case matches the branch). */
export const fareOf = (m: RequestResponse | ExtraResponse): bigint => (m.outcome.case === "reply" ? m.outcome.value.result : -1n);

/** c: collects fares of `route` until it has `wanted` of them (then Exit) or w has no more. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; w: string }, choices: { route: string; wanted: number }, trace = new Trace()): Promise<bigint[]> {
  const s0 = await runtime.start(WsneC, bindings);
  const first = await s0.request({ query: choices.route });
  if (first.kind === "requestFault") {
    trace.got("c", "w", "Fault");
    trace.end("c", first.next);
    return [];
  }
  const fares = [fareOf(first.message)];
  trace.got("c", "w", `Reply(${fares[0]})`);
  let s = first.next;
  while (fares.length < choices.wanted) {
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
  trace.end("c", await s.exit({}));
  return fares;
}

/** w: serves the fares of each route from `fares`, one per message, then Fault. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { fares: Readonly<Record<string, readonly bigint[]>>; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  const fault = { outcome: { case: "fault", value: {} } } as const;
  const reply = (result: bigint) => ({ outcome: { case: "reply", value: { result } } }) as const;
  runtime.serve(server, WsneW, {
    request: async ({ message, next }) => {
      trace.got("w", "c", `Request(${message.query})`);
      const left = [...(options.fares[message.query] ?? [])];
      const first = left.shift();
      if (first === undefined) return trace.end("w", await next.requestFault(fault));
      let s = await next.requestReply(reply(first));
      for (;;) {
        const m = await s.receive();
        if (m.kind === "exit") {
          trace.got("w", "c", "Exit");
          return trace.end("w", m.next);
        }
        trace.got("w", "c", `Extra(${m.message.query})`);
        const fare = left.shift();
        if (fare === undefined) return trace.end("w", await m.next.extraFault(fault));
        s = await m.next.extraReply(reply(fare));
      }
    },
  });
}
