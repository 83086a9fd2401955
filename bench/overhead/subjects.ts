/**
 * A benchmark subject: one mode of one session (Conf or Wsne), set up once
 * (peers listening on loopback) and played many times.
 */
import * as grpc from "@grpc/grpc-js";
import { ConfSession } from "../../gen/conf/conf_secsession.js";
import { WsneSession } from "../../gen/wsne/wsne_secsession.js";
import type { SessionRuntimeOptions } from "../../interceptors/index.js";
import { cluster, type Cluster } from "../../test/support/parties.js";
import { confRoles, playConf, PRINCIPALS, serveConf, type ConfShape } from "./conf.js";
import type { Mode } from "./modes.js";
import { insecure, PlainConf, PlainWsne, type PlainCredentials } from "./plain-grpc.js";
import { playWsne, serveWsne, WSNE_PRINCIPALS, wsneRoles, type WsneShape } from "./wsne.js";

export type SessionName = "Conf" | "Wsne";

export interface Subject<S> {
  readonly mode: Mode;
  /** Plays one session of `shape`. */
  play(shape: S): Promise<void>;
  /** gRPC calls made so far (unary calls, one per request/response pair or one-way message). */
  calls(): number;
  /** Messages refused by any peer so far (must stay 0). */
  refused(): number;
  close(): Promise<void>;
}

/** Counts the calls a client makes (an extra interceptor: it sees sealed envelopes). */
function counter(): { interceptor: grpc.Interceptor; count: () => number } {
  let n = 0;
  return {
    interceptor: (options, nextCall) => {
      n++;
      return new grpc.InterceptingCall(nextCall(options));
    },
    count: () => n,
  };
}

async function ours<S>(
  mode: Mode,
  ids: readonly string[],
  setup: (c: Cluster, onError: (e: unknown) => void) => (shape: S) => Promise<void>,
  extra: Partial<SessionRuntimeOptions>,
): Promise<Subject<S>> {
  const count = counter();
  let failure: unknown;
  const c = cluster(ids, () => ({ ...mode.runtime, ...extra, interceptors: [count.interceptor] }));
  const play = setup(c, (e) => (failure ??= e));
  await c.listen();
  return {
    mode,
    async play(shape) {
      await play(shape);
      if (failure !== undefined) throw failure;
    },
    calls: count.count,
    refused: () => Object.values(c.peers).reduce((n, p) => n + Object.values(p.runtime.metrics.refused).reduce((a, b) => a + b, 0), 0),
    close: () => c.close(),
  };
}

/** Sets up `mode` of Conf. `credentials` for the plain modes (insecure by default). */
export async function confSubject(mode: Mode, credentials: PlainCredentials = insecure(), extra: Partial<SessionRuntimeOptions> = {}): Promise<Subject<ConfShape>> {
  if (mode.kind === "plain") {
    const p = new PlainConf(credentials, mode.id === "mtls" ? "localhost" : undefined);
    await p.cluster.listen();
    return { mode, play: (s) => p.play(s), calls: () => p.cluster.calls(), refused: () => 0, close: async () => p.cluster.close() };
  }
  const roles = confRoles(mode.variant ? mode.variant(ConfSession) : ConfSession);
  return ours<ConfShape>(mode, Object.values(PRINCIPALS), (c, onError) => {
    serveConf(c, roles, onError);
    return (shape) => playConf(c, roles, shape);
  }, extra);
}

/** Sets up `mode` of Wsne. */
export async function wsneSubject(mode: Mode, credentials: PlainCredentials = insecure(), extra: Partial<SessionRuntimeOptions> = {}): Promise<Subject<WsneShape>> {
  if (mode.kind === "plain") {
    const p = new PlainWsne(credentials, mode.id === "mtls" ? "localhost" : undefined);
    await p.cluster.listen();
    return { mode, play: (s) => p.play(s), calls: () => p.cluster.calls(), refused: () => 0, close: async () => p.cluster.close() };
  }
  const roles = wsneRoles(mode.variant ? mode.variant(WsneSession) : WsneSession);
  return ours<WsneShape>(mode, Object.values(WSNE_PRINCIPALS), (c, onError) => {
    serveWsne(c, roles, onError);
    return (shape) => playWsne(c, roles, shape);
  }, extra);
}
