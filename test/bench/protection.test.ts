/**
 * The benchmark baselines (runtime option `protection`, monitor/protection.ts):
 * full protection unless set; "off" and "replay-only" play the same stubs
 * without attestations, keys or transcript; replay-only still refuses
 * replays; and nothing a peer sends can make a fully protected runtime
 * accept an unprotected message.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import { ExtraRequestSchema, ExtraResponseSchema, RequestRequestSchema, RequestResponseSchema } from "../../gen/wsne/wsne_pb.js";
import { WsneSession } from "../../gen/wsne/wsne_secsession.js";
import { file_wsne_wsne } from "../../gen/wsne/wsne_pb.js";
import { createSessionRuntime, generateIdentity, publicKeysOf, SecSessionError, staticResolver, type SessionRuntimeOptions } from "../../interceptors/index.js";
import { SealedBytes } from "../../interceptors/grpc/sealed.js";
import { Party } from "../../interceptors/runtime/party.js";
import { sessionIdOf } from "../../interceptors/wire/transcript.js";
import { defaultBackend } from "../../interceptors/keys/crypto/index.js";
import { unhex } from "../../interceptors/wire/encoding.js";
import { cluster } from "../support/parties.js";
import { playWsne, serveWsne, WSNE_PRINCIPALS, wsneRoles } from "../../bench/overhead/wsne.js";

/** A client interceptor that keeps a decoded copy of every envelope it sees leave. */
function recorder(): { interceptor: grpc.Interceptor; sent: Envelope[] } {
  const sent: Envelope[] = [];
  const interceptor: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      sendMessage(message: unknown, next: (m: unknown) => void) {
        if (message instanceof SealedBytes) sent.push(fromBinary(EnvelopeSchema, message.bytes));
        next(message);
      },
    });
  return { interceptor, sent };
}

/** Plays one Wsne session (Request, `extras` Extras, Exit) over gRPC on loopback with `options` for both peers. */
async function wsneOverGrpc(options: Partial<SessionRuntimeOptions>, extras: number) {
  const rec = recorder();
  const c = cluster(Object.values(WSNE_PRINCIPALS), () => ({ ...options, interceptors: [rec.interceptor] }));
  const roles = wsneRoles();
  const errors: unknown[] = [];
  serveWsne(c, roles, (e) => errors.push(e));
  await c.listen();
  try {
    await playWsne(c, roles, { extras, query: "LHR-CDG" });
  } finally {
    await c.close();
  }
  const refused = Object.values(c.peers).flatMap((p) => Object.keys(p.runtime.metrics.refused));
  return { sent: rec.sent.filter((e) => !e.ack), errors, refused, peers: c.peers };
}

test("a runtime protects fully unless told otherwise: every envelope carries its MAC, the first a Noise key update", async (t) => {
  const r = await wsneOverGrpc({}, 3);
  t.deepEqual(r.errors, []);
  t.deepEqual(r.refused, []);
  for (const p of Object.values(r.peers)) t.is(p.runtime.core.protection, "full");
  t.is(r.sent.length, 5, "Request, 3 Extras and Exit left the client");
  for (const e of r.sent) {
    t.is(e.mac.length, 32, `step ${e.step} carries an HMAC-SHA256 envelope MAC`);
    t.true(e.attestations.every((a) => a.tag.length === 32), `step ${e.step}: any attestation is an HMAC`);
    t.false(e.history.some((x) => x.payloadHash.every((b) => b === 0)), "payload hashes are real");
  }
  t.is(r.sent[0]!.keyUpdates[0]?.body.case, "noise");
  t.deepEqual(r.sent[0]!.start?.sessionCode, unhex(WsneSession.code), "the start names the generated session code");
});

for (const protection of ["off", "replay-only"] as const) {
  test(`protection "${protection}" plays the same stubs with no attestation, key update or other session code`, async (t) => {
    const r = await wsneOverGrpc({ protection }, 3);
    t.deepEqual(r.errors, []);
    t.deepEqual(r.refused, []);
    t.is(r.sent.length, 5);
    for (const e of r.sent) {
      t.deepEqual(e.attestations, []);
      t.deepEqual(e.keyUpdates, []);
      t.is(e.mac.length, 0);
    }
    t.notDeepEqual(r.sent[0]!.start?.sessionCode, unhex(WsneSession.code), "a baseline is another session: a full peer refuses it");
  });
}

/** Two parties of Wsne on runtimes with the given protections (buffer API, no transport). */
function pair(c: Partial<SessionRuntimeOptions>, w: Partial<SessionRuntimeOptions>) {
  const ids = [generateIdentity(WSNE_PRINCIPALS.c), generateIdentity(WSNE_PRINCIPALS.w)];
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const roles = wsneRoles();
  const crt = createSessionRuntime({ identity: ids[0]!, resolver, ...c });
  const wrt = createSessionRuntime({ identity: ids[1]!, resolver, ...w });
  const cp = crt.party(roles.c);
  const wp = wrt.party(roles.w);
  const edge = (p: Party, rpc: string, kind: string, oneofCase?: string) => p.plan.edges.find((e) => e.rpc === rpc && e.kind === kind && (oneofCase === undefined || e.case?.field.name === oneofCase))!;
  return { crt, wrt, cp, wp, edge };
}

test('"replay-only" still refuses a replayed message; "off" accepts it (it is the unprotected baseline)', async (t) => {
  for (const protection of ["replay-only", "off"] as const) {
    const { cp, wp, edge } = pair({ protection }, { protection });
    const sid = (await cp.start(WSNE_PRINCIPALS)).key;
    const req = edge(cp, "/wsne.Worker/Request", "request");
    await wp.unwrap((await cp.wrap(sid, req, create(RequestRequestSchema, { query: "q" }))).bytes, req.rpc, ["request"], WSNE_PRINCIPALS.c);
    const rep = edge(wp, "/wsne.Worker/Request", "response", "reply");
    await cp.unwrap((await wp.wrap(sid, rep, create(RequestResponseSchema, { outcome: { case: "reply", value: { result: 1n } } }))).bytes, rep.rpc, ["response"], WSNE_PRINCIPALS.w);
    const extra = edge(cp, "/wsne.Worker/Extra", "request");
    const extraBytes = (await cp.wrap(sid, extra, create(ExtraRequestSchema, { query: "q" }))).bytes;
    await wp.unwrap(extraBytes, extra.rpc, ["request"], WSNE_PRINCIPALS.c);
    const xrep = edge(wp, "/wsne.Worker/Extra", "response", "reply");
    await cp.unwrap((await wp.wrap(sid, xrep, create(ExtraResponseSchema, { outcome: { case: "reply", value: { result: 2n } } }))).bytes, xrep.rpc, ["response"], WSNE_PRINCIPALS.w);
    // w waits for the next Extra: the old one fits the path, only its step gives it away.
    const replay = wp.unwrap(extraBytes, extra.rpc, ["request"], WSNE_PRINCIPALS.c);
    if (protection === "replay-only") {
      const e = await t.throwsAsync(replay, { instanceOf: SecSessionError });
      t.is(e?.kind, "replay");
    } else {
      await t.notThrowsAsync(replay);
    }
  }
});

test("nothing on the wire turns protection off: a fully protected runtime refuses a baseline's messages and changes nothing", async (t) => {
  const { cp, wp, wrt, edge } = pair({ protection: "off" }, {});
  const alerts: string[] = [];
  wrt.on("securityAlert", (a) => alerts.push(a.kind));
  const sid = (await cp.start(WSNE_PRINCIPALS)).key;
  const req = edge(cp, "/wsne.Worker/Request", "request");
  const bytes = (await cp.wrap(sid, req, create(RequestRequestSchema, { query: "q" }))).bytes;

  // As sent: the start names the baseline's session code.
  const asSent = await t.throwsAsync(wp.unwrap(bytes, req.rpc, ["request"], WSNE_PRINCIPALS.c), { instanceOf: SecSessionError });
  t.is(asSent?.kind, "wrong-session-code");

  // Rewritten to name the real session (with a consistent session id): no attestation, refused.
  const env = fromBinary(EnvelopeSchema, bytes);
  const start = env.start!;
  start.sessionCode = unhex(WsneSession.code);
  env.sessionId = sessionIdOf(defaultBackend(), { nonce: start.nonce, code: start.sessionCode, timeMs: start.timeMs, bindings: start.bindings });
  const forged = await t.throwsAsync(wp.unwrap(toBinary(EnvelopeSchema, env), req.rpc, ["request"], WSNE_PRINCIPALS.c), { instanceOf: SecSessionError });
  t.is(forged?.kind, "bad-attestation");

  t.deepEqual(alerts, ["wrong-session-code", "bad-attestation"]);
  t.is(wrt.metrics.accepted, 0);
  t.is(await wp.state(Buffer.from(env.sessionId).toString("hex")), undefined, "no session state was created");
});

test("an unknown protection is refused with the accepted values, and a baseline runtime never plays the real descriptor", (t) => {
  const identity = generateIdentity("x");
  const resolver = staticResolver([[identity.id, publicKeysOf(identity)]]);
  t.throws(() => createSessionRuntime({ identity, resolver, protection: "none" as never }), {
    message: 'secsession: protection must be one of "full", "replay-only", "off", got "none"',
  });
  const rt = createSessionRuntime({ identity, resolver, protection: "off" });
  t.throws(() => new Party(rt.core, WsneSession, "c", file_wsne_wsne), { message: /protection "off" plays a baseline descriptor/ });
});
