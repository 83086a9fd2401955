/**
 * Proxy: the client c sends a request to the proxy p, which hands it to the
 * worker w either as a plain Forward or as an Audit. The worker then asks p
 * for details; p answers Retry (w asks again) until it is ready, then
 * Resume; finally w replies to c directly. The messages carry no fields:
 * the protocol is all in their order.
 */
import type * as grpc from "@grpc/grpc-js";
import type { RoleState, SessionRuntime } from "secsession";
import { ProxyC, ProxyP, ProxyW, type ProxyWMachine } from "../../gen/proxy/proxy_secsession.js";
import { Trace } from "../support/trace.js";

/** c serves Client so that w's Reply reaches it (a Reply starts no session: no handlers). */
export function serveC(runtime: SessionRuntime, server: grpc.Server): void {
  runtime.serve(server, ProxyC, {});
}

/** c: sends its request through p and waits for w's reply. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; p: string; w: string }, trace = new Trace()): Promise<void> {
  const s0 = await runtime.start(ProxyC, bindings);
  const waiting = await s0.request({});
  const reply = await waiting.receive();
  trace.got("c", "w", "Reply");
  trace.end("c", reply.next);
}

/** p: hands the request on for `audit` or plain forwarding; answers `retries` Retry before Resume. */
export function serveP(runtime: SessionRuntime, server: grpc.Server, options: { audit: boolean; retries: number; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ProxyP, {
    request: async ({ next }) => {
      trace.got("p", "c", "Request");
      let s = options.audit ? await next.audit({}) : await next.forward({});
      for (let retried = 0; ; retried++) {
        const ask = await s.receive();
        trace.got("p", "w", "Details");
        if (retried >= options.retries) return trace.end("p", await ask.next.detailsResume({ outcome: { case: "resume", value: {} } }));
        s = await ask.next.detailsRetry({ outcome: { case: "retry", value: {} } });
      }
    },
  });
}

/** w: asks p for details until told to resume, then replies to c. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ProxyW, {
    forward: ({ next }) => work("Forward", next),
    audit: ({ next }) => work("Audit", next),
  });
  async function work(how: string, start: RoleState<ProxyWMachine, 1>): Promise<void> {
    trace.got("w", "p", how);
    let s = start;
    for (;;) {
      const answer = await s.details({});
      trace.got("w", "p", answer.kind === "detailsRetry" ? "Retry" : "Resume");
      if (answer.kind === "detailsResume") return trace.end("w", await answer.next.reply({}));
      s = answer.next;
    }
  }
}
