/**
 * The buffer API (Party.wrap / Party.unwrap, Themis's wrap/unwrap): one Wsne
 * session between two runtimes in this process, no transport. Each loop
 * round is two wrap+unwrap pairs: Extra with a 64-byte payload from c to w,
 * and its Reply from w to c. Sessions are opened first (with their key
 * agreement) and not counted.
 */
import { create } from "@bufbuild/protobuf";
import { performance } from "node:perf_hooks";
import { ExitRequestSchema, ExtraRequestSchema, ExtraResponseSchema, RequestRequestSchema, RequestResponseSchema } from "../../gen/wsne/wsne_pb.js";
import { WsneSession } from "../../gen/wsne/wsne_secsession.js";
import type { EdgeDescriptor, SessionRuntimeOptions } from "../../interceptors/index.js";
import type { Party } from "../../interceptors/runtime/party.js";
import { cluster } from "../../test/support/parties.js";
import type { Mode } from "./modes.js";
import { WSNE_PRINCIPALS, wsneRoles } from "./wsne.js";

/** A query of 62 characters: the ExtraRequest payload is 64 bytes (tag, length, text). */
export const QUERY_64B = "q".repeat(62);

export interface BufferLoop {
  /** Runs `rounds` rounds (2 wrap+unwrap pairs each); returns elapsed ms. */
  run(rounds: number): Promise<number>;
  /** Ends the session (Exit). */
  close(): Promise<void>;
}

function edgeOf(p: Party, rpc: string, kind: EdgeDescriptor["kind"], oneofCase?: string): EdgeDescriptor {
  const e = p.plan.edges.find((x) => x.rpc === rpc && x.kind === kind && (oneofCase === undefined || x.case?.field.name === oneofCase));
  if (e === undefined) throw new Error(`Wsne has no ${kind} edge ${rpc} ${oneofCase ?? ""}`);
  return e;
}

/** Opens one Wsne session in `mode` between two runtimes and returns its loop. */
export async function bufferLoop(mode: Mode, extra: Partial<SessionRuntimeOptions> = {}): Promise<BufferLoop> {
  if (mode.kind !== "secsession") throw new Error(`the buffer API has no ${mode.id} mode`);
  const roles = wsneRoles(mode.variant ? mode.variant(WsneSession) : WsneSession);
  const c = cluster(Object.values(WSNE_PRINCIPALS), () => ({ ...mode.runtime, ...extra }));
  const cp = c.peers[WSNE_PRINCIPALS.c]!.runtime.party(roles.c);
  const wp = c.peers[WSNE_PRINCIPALS.w]!.runtime.party(roles.w);
  const extraReq = edgeOf(cp, "/wsne.Worker/Extra", "request");
  const extraReply = edgeOf(cp, "/wsne.Worker/Extra", "response", "reply");
  const reply = create(ExtraResponseSchema, { outcome: { case: "reply", value: { result: 42n } } });
  const ask = create(ExtraRequestSchema, { query: QUERY_64B });

  const st = await cp.start(WSNE_PRINCIPALS);
  const sid = st.key;
  const first = await cp.wrap(sid, edgeOf(cp, "/wsne.Worker/Request", "request"), create(RequestRequestSchema, { query: QUERY_64B }));
  await wp.unwrap(first.bytes, "/wsne.Worker/Request", ["request"], WSNE_PRINCIPALS.c);
  const answer = await wp.wrap(sid, edgeOf(wp, "/wsne.Worker/Request", "response", "reply"), create(RequestResponseSchema, { outcome: { case: "reply", value: { result: 1n } } }));
  await cp.unwrap(answer.bytes, "/wsne.Worker/Request", ["response"], WSNE_PRINCIPALS.w);

  return {
    async run(rounds) {
      const t = performance.now();
      for (let i = 0; i < rounds; i++) {
        const q = await cp.wrap(sid, extraReq, ask);
        await wp.unwrap(q.bytes, extraReq.rpc, ["request"], WSNE_PRINCIPALS.c);
        const r = await wp.wrap(sid, extraReply, reply);
        await cp.unwrap(r.bytes, extraReply.rpc, ["response"], WSNE_PRINCIPALS.w);
      }
      return performance.now() - t;
    },
    async close() {
      const exit = edgeOf(cp, "/wsne.Worker/Exit", "oneway");
      const e = await cp.wrap(sid, exit, create(ExitRequestSchema, {}));
      await wp.unwrap(e.bytes, exit.rpc, ["oneway"], WSNE_PRINCIPALS.c);
      const refused = [cp, wp].reduce((n, p) => n + Object.values(p.core.metrics.refused).reduce((a, b) => a + b, 0), 0);
      await c.close();
      if (refused > 0) throw new Error(`the buffer-API loop in mode ${mode.id} had ${refused} refusals`);
    },
  };
}
