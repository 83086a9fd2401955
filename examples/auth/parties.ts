/**
 * Auth: the client c sends its request to the gateway a, which first has the
 * authentication server d check it (d answers Ok), then forwards it to the
 * worker w; w replies to c directly (here: an account balance).
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { AuthA, AuthC, AuthD, AuthW } from "../../gen/auth/auth_secsession.js";
import { Trace } from "../support/trace.js";

/** c serves Client so that w's Reply reaches it (a Reply starts no session: no handlers). */
export function serveC(runtime: SessionRuntime, server: grpc.Server): void {
  runtime.serve(server, AuthC, {});
}

/** c: asks for the balance of `account` through the gateway; returns w's answer. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; a: string; w: string; d: string }, choices: { account: string }, trace = new Trace()): Promise<bigint> {
  const s0 = await runtime.start(AuthC, bindings);
  const waiting = await s0.request({ query: choices.account });
  const reply = await waiting.receive();
  trace.got("c", "w", `Reply(${reply.message.result})`);
  trace.end("c", reply.next);
  return reply.message.result;
}

/** a: has d authenticate each request, then forwards it to w. */
export function serveA(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, AuthA, {
    request: async ({ message, next }) => {
      trace.got("a", "c", `Request(${message.query})`);
      const ok = await next.auth({});
      trace.got("a", "d", "Ok");
      trace.end("a", await ok.next.forward({ query: message.query }));
    },
  });
}

/** d: authenticates (the session's signed history tells it who asks). */
export function serveD(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, AuthD, {
    auth: async ({ next }) => {
      trace.got("d", "a", "Auth");
      trace.end("d", await next.authResponse({}));
    },
  });
}

/** w: answers with the balance of the account, in cents. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { balances: Readonly<Record<string, bigint>>; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, AuthW, {
    forward: async ({ message, next }) => {
      trace.got("w", "a", `Forward(${message.query})`);
      trace.end("w", await next.reply({ result: options.balances[message.query] ?? 0n }));
    },
  });
}
