/**
 * Single: the smallest session. The client c files one request with the
 * worker w (here: a job for a print queue), and that is all.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { SingleC, SingleW } from "../../gen/single/single_secsession.js";
import { Trace } from "../support/trace.js";

/** c: files `job` with w. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; w: string }, choices: { job: string }, trace = new Trace()): Promise<void> {
  const s0 = await runtime.start(SingleC, bindings);
  const done = await s0.request({ query: choices.job });
  trace.end("c", done);
}

/** w: queues each job it receives. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { queue: string[]; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, SingleW, {
    request: ({ message, next }) => {
      trace.got("w", "c", `Request(${message.query})`);
      options.queue.push(message.query);
      trace.end("w", next);
    },
  });
}
