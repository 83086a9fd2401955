/**
 * Ws: a web service. The client c asks the worker w for the population of
 * a city; w answers with a Reply, or a Fault when it does not know the city.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { WsC, WsW } from "../../gen/ws/ws_secsession.js";
import { Trace } from "../support/trace.js";

/** c: asks for `city`; returns the population, or "fault". */
export async function runC(runtime: SessionRuntime, bindings: { c: string; w: string }, choices: { city: string }, trace = new Trace()): Promise<bigint | "fault"> {
  const s0 = await runtime.start(WsC, bindings);
  const answer = await s0.request({ query: choices.city });
  const outcome = answer.message.outcome;
  trace.got("c", "w", outcome.case === "reply" ? `Reply(${outcome.value.result})` : "Fault");
  trace.end("c", answer.next);
  return outcome.case === "reply" ? outcome.value.result : "fault";
}

/** w: looks the city up in `populations`; a city it does not know is a Fault. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { populations: Readonly<Record<string, bigint>>; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, WsW, {
    request: async ({ message, next }) => {
      trace.got("w", "c", `Request(${message.query})`);
      const population = options.populations[message.query];
      const done =
        population === undefined
          ? await next.requestFault({ outcome: { case: "fault", value: {} } })
          : await next.requestReply({ outcome: { case: "reply", value: { result: population } } });
      trace.end("w", done);
    },
  });
}
