/**
 * Replicated roles against a real Redis over real gRPC on loopback
 * (docs/scale-out.md): Conf's confman played by several replicas sharing
 * sessions and session starts in Redis.
 *
 * - the same message delivered to two replicas at the same moment is
 *   accepted by exactly one, and its handler runs once (400 races: session
 *   starts and mid-session messages);
 * - a message accepted by one replica is refused as a replay by the others,
 *   later, and a session start after the session ended too;
 * - Redis stopped mid-session: UNAVAILABLE with an alert, the stored state
 *   unchanged, no handler run; Redis back: the same envelope is accepted and
 *   the session completes;
 * - a commit that cannot reach Redis in time (writes paused) is refused and
 *   does not land afterwards: the retried envelope is accepted once;
 * - nothing in Redis holds a session's key bytes;
 * - a replica holding old copies of a session's keys zeroes them when it
 *   sees that another replica moved the session on;
 * - replicas as separate processes behind a round-robin client: sessions
 *   spread over them complete; a replica killed and restarted mid-session;
 *   Redis paused mid-session, the client's retry completes the session.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient, RESP_TYPES } from "redis";
import { ConfConfman, ConfPc } from "../../gen/conf/conf_secsession.js";
import { startMesh } from "../../examples/mesh/mesh.js";
import { createMemoryStore, createRedisStore, createSessionRuntime, encodeState, generateIdentity, publicKeysOf, staticResolver, type SessionState } from "../../interceptors/index.js";
import { isAllZero } from "../../interceptors/keys/crypto/bytes.js";
import { pairKeyBuffers } from "../../interceptors/store/state-codec.js";
import { useRedis } from "../support/redis.js";
import { E, M, rig, RPC, waitFor, type Rig } from "./replica-rig.js";

const redis = useRedis(test);
const RACES = 200;

/** A Redis client for the test's own looks at what is stored. */
async function inspector() {
  const c = createClient({ url: redis().url });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

/** Upload accepted (Ok answered and opened by the author): returns the session id. */
async function uploaded(r: Rig, replica = 0): Promise<string> {
  const sid = await r.begin();
  const d = await r.send(replica, RPC.upload, await r.authorWrap(sid, E.upload, M.UploadRequestSchema, { paper: "p.pdf" }));
  if (!d.ok) throw new Error(`upload refused: ${d.details}`);
  await r.author.party.unwrap(d.bytes, RPC.upload, ["response"], "confman");
  return sid;
}

/** pc closes submission (replica `i`) and rejects the paper: every role finishes. */
async function finish(r: Rig, sid: string, i: number): Promise<void> {
  await r.pcAt(sid, 7);
  const d = await r.send(i, RPC.close, await r.pcWrap(sid, E.close, M.CloseRequestSchema, {}));
  if (!d.ok) throw new Error(`close refused: ${d.details}`);
  await r.pc.party.unwrap(d.bytes, RPC.close, ["response"], "confman");
  const reject = await r.pcWrap(sid, E.reject, M.RejectRequestSchema, {});
  await r.author.party.unwrap(reject, "/conf.Author/Reject", ["oneway"], "pc");
}

const handledOf = (r: Rig, sid: string, move: string) => r.handled.filter((h) => h.session === sid && h.move === move).length;

test.serial(`the same message delivered to two replicas at the same moment is accepted once (${RACES} session starts, ${RACES} mid-session messages)`, async (t) => {
  const r = await rig(redis().url, 3);
  try {
    const refusedKinds = new Map<string, number>();
    for (let n = 0; n < RACES; n++) {
      const [a, b] = [n % 3, (n + 1) % 3];
      const sid = await r.begin();
      // The session start: the first message confman receives.
      const upload = await r.authorWrap(sid, E.upload, M.UploadRequestSchema, { paper: "p.pdf" });
      const starts = await Promise.all([r.send(a, RPC.upload, upload), r.send(b, RPC.upload, upload)]);
      const won = starts.filter((d) => d.ok);
      t.is(won.length, 1, `race ${n}: session start accepted ${won.length} times`);
      for (const d of starts) if (!d.ok) refusedKinds.set(d.kind, (refusedKinds.get(d.kind) ?? 0) + 1);
      t.true(starts.every((d) => d.ok || d.code === grpc.status.ABORTED), `race ${n}: ${JSON.stringify(starts.filter((d) => !d.ok))}`);
      await r.author.party.unwrap((won[0] as { bytes: Uint8Array }).bytes, RPC.upload, ["response"], "confman");
      // A mid-session message.
      const submit = await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" });
      const subs = await Promise.all([r.send(b, RPC.submit, submit), r.send(a, RPC.submit, submit)]);
      t.is(subs.filter((d) => d.ok).length, 1, `race ${n}: submission accepted ${subs.filter((d) => d.ok).length} times`);
      for (const d of subs) if (!d.ok) refusedKinds.set(d.kind, (refusedKinds.get(d.kind) ?? 0) + 1);
      t.true(subs.every((d) => d.ok || d.code === grpc.status.ABORTED));
      await finish(r, sid, (n + 2) % 3);
      t.is(handledOf(r, sid, "upload"), 1, `race ${n}: upload handled ${handledOf(r, sid, "upload")} times`);
      t.is(handledOf(r, sid, "submit"), 1, `race ${n}: submit handled ${handledOf(r, sid, "submit")} times`);
    }
    const accepted = r.replicas.reduce((s, x) => s + x.runtime.metrics.accepted, 0);
    t.is(accepted, RACES * 3, "each session: upload, submit, close accepted once each");
    const refused = [...refusedKinds.values()].reduce((s, x) => s + x, 0);
    t.is(refused, RACES * 2, "every losing copy refused");
    t.true([...refusedKinds.keys()].every((k) => ["replayed-start", "replay", "conflict"].includes(k)), [...refusedKinds.keys()].join());
    t.is(r.replicas.reduce((s, x) => s + x.alerts.length, 0), RACES * 2, "every losing copy raised an alert");
    t.log(`losing copies refused as: ${[...refusedKinds].map(([k, v]) => `${k} ×${v}`).join(", ")}`);
  } finally {
    await r.close();
  }
});

test.serial("a message accepted by one replica is refused as a replay by another, later; and a session start after the session ended", async (t) => {
  const r = await rig(redis().url, 3);
  try {
    const sid = await r.begin();
    const upload = await r.authorWrap(sid, E.upload, M.UploadRequestSchema, { paper: "p.pdf" });
    const first = await r.send(0, RPC.upload, upload);
    t.true(first.ok);
    await r.author.party.unwrap((first as { bytes: Uint8Array }).bytes, RPC.upload, ["response"], "confman");
    const again = await r.send(1, RPC.upload, upload);
    t.false(again.ok);
    t.is((again as { code: number }).code, grpc.status.ABORTED);
    t.is(r.replicas[1]!.alerts.at(-1)?.kind, "replay");

    const submit = await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" });
    t.true((await r.send(1, RPC.submit, submit)).ok);
    for (const i of [0, 1, 2]) {
      const d = await r.send(i, RPC.submit, submit);
      t.false(d.ok, `replica ${i} accepted a replayed submission`);
      t.is((d as { kind: string }).kind, "replay");
    }
    await finish(r, sid, 2);
    // After the session ended: its start, replayed to each replica.
    for (const i of [0, 1, 2]) {
      const d = await r.send(i, RPC.upload, upload);
      t.false(d.ok);
      t.is((d as { code: number }).code, grpc.status.ABORTED);
    }
    t.is(handledOf(r, sid, "upload"), 1);
    t.is(handledOf(r, sid, "submit"), 1);
  } finally {
    await r.close();
  }
});

test.serial("Redis stopped mid-session: UNAVAILABLE with an alert, nothing changed, no handler run; Redis back: the same envelope is accepted and the session completes", async (t) => {
  const r = await rig(redis().url, 2);
  const probe = createRedisStore({ url: redis().url, storageKey: r.storageKey });
  try {
    const sid = await uploaded(r, 0);
    const key = r.replicas[0]!.party.key(sid);
    const before = (await probe.get(key))!;
    const submit = await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" });

    await redis().shutdown();
    const down = await r.send(1, RPC.submit, submit);
    t.false(down.ok);
    t.is((down as { code: number }).code, grpc.status.UNAVAILABLE);
    t.is((down as { kind: string }).kind, "store-unavailable");
    const alert = r.replicas[1]!.alerts.at(-1)!;
    t.is(alert.kind, "store-unavailable");
    t.is(alert.sessionId, sid);
    t.is(handledOf(r, sid, "submit"), 0, "no handler ran");

    await redis().restart();
    let after: SessionState | undefined;
    await waitFor("the probe to reconnect", async () => (after = await probe.get(key).catch(() => undefined)) !== undefined);
    t.is(after!.version, before.version, "the stored state did not move");
    // The sender's retry: the very same bytes, until the replica's client has reconnected.
    let outcome = await r.send(1, RPC.submit, submit);
    for (let i = 0; !outcome.ok && outcome.code === grpc.status.UNAVAILABLE && i < 100; i++) {
      await new Promise((res) => setTimeout(res, 50));
      outcome = await r.send(1, RPC.submit, submit);
    }
    t.true(outcome.ok, JSON.stringify(outcome));
    t.is(handledOf(r, sid, "submit"), 1);
    await finish(r, sid, 0);
    t.is((await r.pc.party.state(sid))?.state, 6, "pc reached the end");
  } finally {
    await probe.close();
    await r.close();
  }
});

test.serial("a commit that cannot reach Redis in time is refused and does not land later: the retried envelope is accepted once", async (t) => {
  // A deadline that a loaded machine still meets for the honest commits, and a pause well past it.
  const r = await rig(redis().url, 2, { timeoutMs: 1_500 });
  const probe = createRedisStore({ url: redis().url, storageKey: r.storageKey });
  const admin = await inspector();
  try {
    const sid = await uploaded(r, 0);
    const key = r.replicas[0]!.party.key(sid);
    const before = (await probe.get(key))!.version;
    const submit = await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" });
    // Reads pass, writes (our commit script) wait 3 s: the replica reads the state, accepts the message, and cannot commit.
    await admin.sendCommand(["CLIENT", "PAUSE", "3000", "WRITE"]);
    const paused = await r.send(0, RPC.submit, submit);
    t.false(paused.ok);
    t.is((paused as { code: number }).code, grpc.status.UNAVAILABLE);
    t.regex(r.replicas[0]!.alerts.at(-1)!.reason, /commit/);
    t.is(handledOf(r, sid, "submit"), 0, "the handler of an uncommitted message did not run");
    // The paused script runs when the pause ends, past its deadline: it must not write.
    await new Promise((res) => setTimeout(res, 3_300));
    t.is((await probe.get(key))!.version, before, "the late commit did not land");
    const retried = await r.send(1, RPC.submit, submit);
    t.true(retried.ok, JSON.stringify(retried));
    t.is(handledOf(r, sid, "submit"), 1);
    await finish(r, sid, 1);
  } finally {
    await admin.close();
    await probe.close();
    await r.close();
  }
});

test.serial("nothing stored in Redis holds a session's key bytes", async (t) => {
  const r = await rig(redis().url, 2);
  const admin = await inspector();
  try {
    const sid = await uploaded(r, 0);
    t.true((await r.send(1, RPC.submit, await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" }))).ok);
    await r.pcAt(sid, 7);
    const st = (await r.replicas[0]!.party.state(sid))!;
    const keys = Object.values(st.pairs).flatMap((p) => pairKeyBuffers(p)).filter((b) => !isAllZero(b));
    t.true(keys.length >= 4, `confman holds live keys with the author and pc (${keys.length})`);
    const plain = Buffer.from(encodeState(st));
    // The check can fail: the plaintext encoding does hold these bytes.
    t.true(keys.every((k) => plain.includes(Buffer.from(k))));

    const values: Buffer[] = [];
    const binary = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };
    for await (const batch of admin.scanIterator({ COUNT: 100 })) {
      for (const k of batch) {
        const type = await admin.type(k);
        if (type === "hash") values.push(...((await admin.sendCommand(["HGETALL", k], binary)) as Buffer[]));
        else if (type === "string") values.push((await admin.sendCommand(["GET", k], binary)) as Buffer);
      }
    }
    t.true(values.some((v) => v.subarray(0, 4).toString("latin1") === "SSRS"), "the sealed session state was among the values searched");
    const stored = Buffer.concat(values);
    for (const k of keys) t.false(stored.includes(Buffer.from(k)), "a key of the session is stored in the clear");
    t.false(stored.includes(plain.subarray(0, 64)), "the state's encoding is stored in the clear");
    await finish(r, sid, 1);
  } finally {
    await admin.close();
    await r.close();
  }
});

test.serial("a replica zeroes its old copies of a session's keys once another replica moved the session on", async (t) => {
  const r = await rig(redis().url, 2);
  try {
    const sid = await uploaded(r, 0);
    const a = r.replicas[0]!;
    const held = (await a.party.state(sid))!;
    const old = Object.values(held.pairs).flatMap((p) => pairKeyBuffers(p)).filter((b) => !isAllZero(b));
    t.true(old.length > 0);
    t.is(await a.party.state(sid), held, "an unchanged state is the object this replica already holds");
    // Replica 2 takes the submission: the author ratchets, confman's keys with the author move to the next version.
    t.true((await r.send(1, RPC.submit, await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" }))).ok);
    await r.pcAt(sid, 7);
    const now: SessionState = (await a.party.state(sid))!;
    t.not(now, held);
    t.true(old.every(isAllZero), "replica 1's copies of the old keys are zeroed");
    const scope = `${sid}:confman:alice`;
    t.true(a.runtime.core.vault.alive(scope).every((x) => pairKeyBuffers(now.pairs["alice"]!).includes(x.key)), "the vault holds only the current keys");
    // And replica 1 can take the session on from there (its vault accepts the next ratchet step).
    await finish(r, sid, 0);
    t.is((await r.pc.party.state(sid))?.state, 6);
  } finally {
    await r.close();
  }
});

test.serial("serveReplicated: every received move needs a handler, unknown moves are refused, and receive() refuses", async (t) => {
  const identity = generateIdentity("easychair");
  const runtime = createSessionRuntime({ identity, resolver: staticResolver([[identity.id, publicKeysOf(identity)]]), store: createMemoryStore() });
  const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
  const noop = async () => undefined;
  t.throws(() => runtime.serveReplicated(server, ConfConfman, { upload: noop, submit: noop, withdraw: noop, reqRevision: noop } as never), {
    message: /needs handlers for close/,
  });
  t.throws(() => runtime.serveReplicated(server, ConfConfman, { upload: noop, submit: noop, withdraw: noop, reqRevision: noop, close: noop, paper: noop } as never), {
    message: /never receives paper/,
  });
  t.throws(() => runtime.serveReplicated(server, ConfPc, {} as never), { message: /needs handlers for/ });
  server.forceShutdown();

  // A handler that waits for the session's next message is told why it cannot.
  const r = await rig(redis().url, 0);
  try {
    let waited: unknown;
    await r.addReplica({
      serve: (rt, srv) =>
        rt.serveReplicated(srv, ConfConfman, {
          upload: async ({ next }) => void (await next.uploadOk({ outcome: { case: "ok", value: {} } })),
          submit: async ({ message, next }) => {
            const after = await next.paper({ paper: message.paper });
            await after.receive().catch((e: unknown) => (waited = e));
          },
          withdraw: async ({ next }) => void (await next.retract({})),
          reqRevision: async ({ next }) => void (await next.revise({})),
          close: async ({ next }) => void (await next.closeResponse({})),
        }),
    });
    const sid = await uploaded(r, 0);
    t.true((await r.send(0, RPC.submit, await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" }))).ok);
    await waitFor("the handler's receive()", () => waited !== undefined);
    t.regex(String(waited), /does not wait for its next message/);
    await finish(r, sid, 0);
  } finally {
    await r.close();
  }
});

test.serial("replicas as separate processes behind a round-robin client: sessions spread over them complete; a replica killed and restarted mid-session; Redis paused mid-session", async (t) => {
  const mesh = await startMesh({ replicas: 3, redisUrl: redis().url, timeoutMs: 400, author: { files: ["a.docx", "a.pdf"], rounds: ["submit", "submit"] } });
  const admin = await inspector();
  try {
    const { runPc } = await import("../../examples/conf/parties.js");
    for (let n = 0; n < 4; n++) {
      t.is(await runPc(mesh.pc, mesh.bindings, { call: "CSF", reviews: ["revise", "close"], verdicts: ["shepherd", "accept"] }), "accepted");
    }
    await waitFor("the replicas' reports", () => mesh.handled.length >= 24);
    const by = new Map<string, number>();
    for (const h of mesh.handled) by.set(h.replica, (by.get(h.replica) ?? 0) + 1);
    t.deepEqual([...by.keys()].sort(), [...mesh.names].sort(), "every replica handled messages");
    t.log(`messages per replica: ${[...by].map(([k, v]) => `${k} ${v}`).join(", ")}`);
    t.deepEqual(mesh.alerts, []);

    // Kill and restart each replica in turn, mid-session, with nothing in flight.
    const s0 = await mesh.pc.start(ConfPc, mesh.bindings);
    let m = await (await s0.cfp({ call: "CSF" })).receive();
    for (const i of [0, 1, 2]) {
      if (m.kind !== "paper") return t.fail(`expected a paper, got ${m.kind}`);
      await mesh.kill(i);
      await mesh.restart(i);
      m = await (await m.next.reqRevision({ comments: `round ${i}` })).receive();
    }
    if (m.kind !== "paper") return t.fail(`expected a paper, got ${m.kind}`);

    // Redis pauses for 1.2 s right before pc's next message: the replica refuses it (UNAVAILABLE),
    // pc's client retries the same envelope, and once Redis answers again it is accepted once.
    await admin.sendCommand(["CLIENT", "PAUSE", "1200", "ALL"]);
    const closed = await m.next.close({});
    const final = await closed.next.accept({ comments: "ok" });
    t.regex(final.message.paper, /camera-ready/);
    const sid = s0.sessionId;
    await waitFor("the close report", () => mesh.handled.some((h) => h.session === sid && h.move === "close"));
    t.true(mesh.alerts.some((a) => a.kind === "store-unavailable"), "a replica refused a message while Redis was paused");
    t.is(mesh.handled.filter((h) => h.session === sid && h.move === "close").length, 1, "Close handled once");
    t.is(mesh.handled.filter((h) => h.session === sid && h.move === "submit").length, 4);
    t.deepEqual(mesh.localAlerts, []);
  } finally {
    await admin.close();
    await mesh.close();
  }
});

test.serial("examples/mesh/main.ts runs, prints the replica that handled each message, and exits 0", async (t) => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const output = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--import=tsx", "examples/mesh/main.ts"], { cwd: root, encoding: "utf8", timeout: 110_000, env: { ...process.env, REDIS_URL: redis().url } }, (err, stdout, stderr) =>
      err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stdout}\n${stderr}`)),
    ),
  );
  for (const name of ["confman-1", "confman-2", "confman-3"]) t.regex(output, new RegExp(`${name} handled (upload|submit|reqRevision|close)`));
  t.regex(output, /confman-2 killed[\s\S]*confman-2 started again[\s\S]*→ accepted: paper\.pdf v2 \(camera-ready\)/);
  t.regex(output, /24 messages handled by 3 replicas; 0 refused/);
});
