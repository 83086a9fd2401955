/**
 * The Redis store, replay cache and marks on a real Redis Cluster: six
 * redis-server processes on loopback (three masters with a replica each,
 * test/support/redis-cluster.ts), confman's replicas each with their own
 * cluster client (`rootNodes`), over real gRPC (replica-rig.ts).
 *
 * - sessions spread over the replicas of a role complete;
 * - every key one session writes (state, mark, session start) is in one slot;
 * - a slot migrated (MIGRATING / IMPORTING, MIGRATE) while a session's keys
 *   are split between two nodes, and `redis-cli --cluster reshard` while
 *   sessions run: each session completes or fails closed, no message is
 *   accepted twice;
 * - a master killed (SIGKILL) while 1,000 races run (the same message to two
 *   replicas at once, session starts and mid-session), after its replica was
 *   cut off (so that the master takes writes it passes on to no one): sessions continue after the failover or fail closed, and no
 *   message is accepted twice — not even when every envelope is delivered
 *   again after the failover.
 */
import test, { type ExecutionContext } from "ava";
import * as grpc from "@grpc/grpc-js";
import { useRedisCluster, type ClusterNode } from "../support/redis-cluster.js";
import { E, M, rig, RPC, type Delivery, type Rig } from "./replica-rig.js";

const cluster = useRedisCluster(test);
const RACE_SESSIONS = 500; // two races each: the session start and a mid-session message
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const connection = () => ({ rootNodes: [...cluster().rootNodes] });
const handledOf = (r: Rig, sid: string, move: string) => r.handled.filter((h) => h.session === sid && h.move === move).length;

/** Every delivery of every message, by message: what "accepted twice" is counted on. */
class Ledger {
  readonly deliveries = new Map<string, { rpc: string; bytes: Uint8Array; outcomes: Delivery[] }>();
  note(id: string, rpc: string, bytes: Uint8Array, outcomes: readonly Delivery[]): void {
    const e = this.deliveries.get(id) ?? { rpc, bytes, outcomes: [] };
    e.outcomes.push(...outcomes);
    this.deliveries.set(id, e);
  }
  acceptedTwice(): string[] {
    return [...this.deliveries].filter(([, e]) => e.outcomes.filter((d) => d.ok).length > 1).map(([id]) => id);
  }
  accepted(): number {
    return [...this.deliveries.values()].reduce((s, e) => s + e.outcomes.filter((d) => d.ok).length, 0);
  }
}

/**
 * Delivers `bytes` to replicas `a` and `b` at the same moment; while no copy
 * was accepted and one was refused UNAVAILABLE, the sender's retry (the same
 * bytes, to the next replica) until `retryMs`. Returns the accepted delivery, or
 * undefined: refused for good (failed closed).
 */
async function race(r: Rig, ledger: Ledger, id: string, rpc: string, bytes: Uint8Array, a: number, b: number, retryMs = 15_000): Promise<Uint8Array | undefined> {
  const first = await Promise.all([r.send(a, rpc, bytes), r.send(b, rpc, bytes)]);
  ledger.note(id, rpc, bytes, first);
  let won = first.find((d) => d.ok);
  let retryable = first.some((d) => !d.ok && d.code === grpc.status.UNAVAILABLE) && first.every((d) => d.ok || d.code === grpc.status.UNAVAILABLE);
  const end = Date.now() + retryMs;
  for (let i = b; won === undefined && retryable && Date.now() < end; i++) {
    await sleep(100);
    const d = await r.send(i % r.replicas.length, rpc, bytes);
    ledger.note(id, rpc, bytes, [d]);
    if (d.ok) won = d;
    else retryable = d.code === grpc.status.UNAVAILABLE;
  }
  return won?.ok === true ? won.bytes : undefined;
}

/** One session: its start raced to two replicas, then its Submit. "continued" when both were accepted. */
async function raceSession(r: Rig, ledger: Ledger, n: number): Promise<{ sid: string; outcome: "continued" | "failed-closed" }> {
  const [a, b] = [n % 3, (n + 1) % 3];
  const sid = await r.begin();
  const upload = await r.authorWrap(sid, E.upload, M.UploadRequestSchema, { paper: "p.pdf" });
  const ok = await race(r, ledger, `${sid} upload`, RPC.upload, upload, a, b);
  if (ok === undefined) return { sid, outcome: "failed-closed" };
  await r.author.party.unwrap(ok, RPC.upload, ["response"], "confman");
  const submit = await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" });
  const ok2 = await race(r, ledger, `${sid} submit`, RPC.submit, submit, b, a);
  return { sid, outcome: ok2 === undefined ? "failed-closed" : "continued" };
}

/** Runs `one(i)` for i < count, `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

/** pc closes submission (replica `i`) and rejects the paper: every role finishes. */
async function finish(r: Rig, sid: string, i: number): Promise<void> {
  await r.pcAt(sid, 7);
  const d = await r.send(i, RPC.close, await r.pcWrap(sid, E.close, M.CloseRequestSchema, {}));
  if (!d.ok) throw new Error(`close refused: ${d.details}`);
  await r.pc.party.unwrap(d.bytes, RPC.close, ["response"], "confman");
  await r.author.party.unwrap(await r.pcWrap(sid, E.reject, M.RejectRequestSchema, {}), "/conf.Author/Reject", ["oneway"], "pc");
}

/** A plain cluster client for the test's own looks. */
async function inspector() {
  const { createCluster } = await import("redis");
  const c = createCluster({ rootNodes: cluster().rootNodes.map((url) => ({ url })) });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

/** Every key on every live master whose name contains `needle`, with the node it is on. */
async function keysContaining(needle: string): Promise<{ key: string; port: number }[]> {
  const found: { key: string; port: number }[] = [];
  for (const n of cluster().nodes.filter((x) => x.alive())) {
    if (!/role:master/.test(await cluster().cli(n.port, "INFO", "replication"))) continue;
    const out = await cluster().cli(n.port, "--scan", "--pattern", `*${needle}*`);
    for (const key of out.split("\n").filter((l) => l !== "")) found.push({ key, port: n.port });
  }
  return found;
}

/** `others`: messages accepted outside the ledger (a session's Close in finish()). */
function noneTwice(t: ExecutionContext, r: Rig, ledger: Ledger, sids: readonly string[], others = 0): void {
  t.deepEqual(ledger.acceptedTwice(), [], "a message accepted twice");
  for (const sid of sids) {
    t.true(handledOf(r, sid, "upload") <= 1, `${sid}: upload handled ${handledOf(r, sid, "upload")} times`);
    t.true(handledOf(r, sid, "submit") <= 1, `${sid}: submit handled ${handledOf(r, sid, "submit")} times`);
  }
  // A replica counts a message accepted once it is committed; its call may still fail after that (the answer's own
  // commit refused): so at least the deliveries answered ok, and at most one per message.
  const accepted = r.replicas.reduce((s, x) => s + x.runtime.metrics.accepted, 0);
  t.true(accepted >= ledger.accepted() + others, `${accepted} accepted, ${ledger.accepted() + others} answered ok`);
  t.true(accepted <= ledger.deliveries.size + others, `${accepted} acceptances of ${ledger.deliveries.size + others} messages`);
}

test.serial("sessions spread over three replicas of confman complete on the cluster, each message handled once", async (t) => {
  const r = await rig(connection(), 3);
  try {
    const sids: string[] = [];
    for (let n = 0; n < 12; n++) {
      const sid = await r.begin();
      sids.push(sid);
      const up = await r.send(n % 3, RPC.upload, await r.authorWrap(sid, E.upload, M.UploadRequestSchema, { paper: "p.pdf" }));
      if (!up.ok) return t.fail(`upload refused: ${up.details}`);
      await r.author.party.unwrap(up.bytes, RPC.upload, ["response"], "confman");
      const sub = await r.send((n + 1) % 3, RPC.submit, await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" }));
      t.true(sub.ok, JSON.stringify(sub));
      await finish(r, sid, (n + 2) % 3);
      t.is((await r.pc.party.state(sid))?.state, 6, "pc reached the end");
    }
    for (const sid of sids) for (const move of ["upload", "submit", "close"]) t.is(handledOf(r, sid, move), 1, `${sid} ${move}`);
    // The sessions' keys are spread over the three masters.
    const ports = new Set<number>();
    for (const sid of sids) for (const k of await keysContaining(sid)) ports.add(k.port);
    t.true(ports.size >= 2, `the sessions' keys are on ${ports.size} master(s)`);
    t.deepEqual(r.replicas.flatMap((x) => x.alerts), []);
  } finally {
    await r.close();
  }
});

test.serial("every key of one session is in one slot: the state, its high-water mark and the session start", async (t) => {
  const r = await rig(connection(), 2);
  const admin = await inspector();
  try {
    const sid = await r.begin();
    const up = await r.send(0, RPC.upload, await r.authorWrap(sid, E.upload, M.UploadRequestSchema, { paper: "p.pdf" }));
    if (!up.ok) return t.fail(up.details);
    const keys = await keysContaining(sid);
    const key = r.replicas[0]!.party.key(sid);
    t.deepEqual(
      keys.map((k) => k.key).sort(),
      [r.replicas[0]!.store.redisKey(key), `secsession:hwm:${key.slice(0, key.lastIndexOf(":"))}:{${sid}}`, r.replicas[0]!.replayCache.redisKey(`confman:${sid}`)].sort(),
      "the store wrote these three keys",
    );
    const slots = new Set(await Promise.all(keys.map((k) => cluster().keyslot(k.key))));
    t.is(slots.size, 1, `the session's keys are in slots ${[...slots].join(", ")}`);
    t.is(new Set(keys.map((k) => k.port)).size, 1, "on one node");
    t.is([...slots][0], await cluster().keyslot(sid), "the slot of the session id (the hash tag)");
    // Without the tag, the same names would not share a slot: what makes the multi-key scripts possible.
    const untagged = new Set(await Promise.all(keys.map((k) => cluster().keyslot(k.key.replace(/[{}]/g, "")))));
    t.true(untagged.size > 1);
    t.is(Number(await admin.sendCommand(keys[0]!.key, true, ["EXISTS", keys[0]!.key])), 1);
  } finally {
    await admin.close();
    await r.close();
  }
});

/** Node ids and ports of a slot's move from `from` to `to`, by CLUSTER SETSLOT and MIGRATE. */
async function migrator(slot: number, from: ClusterNode, to: ClusterNode) {
  const c = cluster();
  const [fromId, toId] = [await from.id(), await to.id()];
  return {
    async open() {
      await c.cli(to.port, "CLUSTER", "SETSLOT", String(slot), "IMPORTING", fromId);
      await c.cli(from.port, "CLUSTER", "SETSLOT", String(slot), "MIGRATING", toId);
    },
    async move(keys: readonly string[]) {
      if (keys.length > 0) await c.cli(from.port, "MIGRATE", "127.0.0.1", String(to.port), "", "0", "5000", "KEYS", ...keys);
    },
    async rest() {
      const left = (await c.cli(from.port, "CLUSTER", "GETKEYSINSLOT", String(slot), "1000")).split("\n").filter((l) => l !== "");
      await this.move(left);
    },
    async close() {
      for (const n of c.nodes.filter((x) => x.alive())) await c.cli(n.port, "CLUSTER", "SETSLOT", String(slot), "NODE", toId).catch(() => "");
    },
  };
}

test.serial("a slot migrated mid-session: with the session's keys split between two nodes its messages fail closed; once moved they are accepted once; a reshard while sessions run", async (t) => {
  const r = await rig(connection(), 3);
  const ledger = new Ledger();
  try {
    const c = cluster();
    const sids: string[] = [];
    let splitRefused = 0;
    for (let n = 0; n < 6; n++) {
      const sid = await r.begin();
      sids.push(sid);
      const upload = await r.authorWrap(sid, E.upload, M.UploadRequestSchema, { paper: "p.pdf" });
      const ok = await race(r, ledger, `${sid} upload`, RPC.upload, upload, 0, 1);
      if (ok === undefined) return t.fail("upload refused");
      await r.author.party.unwrap(ok, RPC.upload, ["response"], "confman");
      // Move the session's slot to another master, one key first: the state is on the new node, its mark and start on the old.
      const slot = await c.keyslot(sid);
      const from = await c.masterOf(slot);
      const masters = [];
      for (const x of c.nodes.filter((y) => y.alive())) if (/role:master/.test(await c.cli(x.port, "INFO", "replication"))) masters.push(x);
      const to = masters.find((x) => x.port !== from.port)!;
      const m = await migrator(slot, from, to);
      await m.open();
      await m.move([r.replicas[0]!.store.redisKey(r.replicas[0]!.party.key(sid))]);
      const submit = await r.authorWrap(sid, E.submit, M.SubmitRequestSchema, { paper: "p.pdf v1" });
      const split = await Promise.all([r.send(1, RPC.submit, submit), r.send(2, RPC.submit, submit)]);
      ledger.note(`${sid} submit`, RPC.submit, submit, split);
      t.true(split.every((d) => !d.ok && d.code === grpc.status.UNAVAILABLE), `split keys: ${JSON.stringify(split.map((d) => (d.ok ? "ok" : d.details)))}`);
      splitRefused += split.length;
      t.is(handledOf(r, sid, "submit"), 0);
      await m.rest();
      await m.close();
      t.is((await c.masterOf(slot)).port, to.port, "the slot moved");
      t.truthy(await race(r, ledger, `${sid} submit`, RPC.submit, submit, 2, 0), "the retry after the move is accepted");
      await finish(r, sid, n % 3);
    }
    t.log(`${splitRefused} deliveries refused while a session's keys were split over two nodes`);

    // redis-cli --cluster reshard of 2000 slots between two masters while sessions race (until it is over).
    const masters: ClusterNode[] = [];
    for (const x of c.nodes.filter((y) => y.alive())) if (/role:master/.test(await c.cli(x.port, "INFO", "replication"))) masters.push(x);
    const [src, dst] = [masters[0]!, masters[1]!];
    const before = await c.owners();
    let resharded = false;
    const reshard = (async () => {
      await sleep(300);
      try {
        await c.cli(src.port, "--cluster", "reshard", `127.0.0.1:${src.port}`, "--cluster-from", await src.id(), "--cluster-to", await dst.id(), "--cluster-slots", "2000", "--cluster-yes", "--cluster-pipeline", "5");
      } finally {
        resharded = true;
      }
    })();
    const outcomes: { sid: string; outcome: string }[] = [];
    let count = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!resharded || count < 60) outcomes.push(await raceSession(r, ledger, count++));
      }),
    );
    await reshard;
    const after = await c.owners();
    const moved = new Set(before.flatMap((p, slot) => (p === src.port && after[slot] === dst.port ? [slot] : [])));
    t.true(moved.size >= 1900, `${moved.size} slots moved`);
    const ids = outcomes.map((o) => o.sid);
    let inMoved = 0;
    for (const sid of ids) if (moved.has(await c.keyslot(sid))) inMoved++;
    sids.push(...ids);
    noneTwice(t, r, ledger, sids, 6);
    const closed = outcomes.filter((o) => o.outcome === "failed-closed").length;
    t.log(`reshard of ${moved.size} slots during ${outcomes.length} sessions (${outcomes.length * 2} races; ${inMoved} of them in moved slots): ${outcomes.length - closed} continued, ${closed} failed closed`);
    t.true(inMoved > 0, "some sessions were in the slots that moved");
    t.true(closed <= outcomes.length / 10, `${closed} sessions failed closed`);
  } finally {
    await r.close();
  }
});

test.serial(`a master killed mid-run (its replica behind): ${RACE_SESSIONS * 2} races, sessions continue after the failover or fail closed, no message accepted twice even when every envelope is delivered again`, async (t) => {
  const r = await rig(connection(), 3);
  const ledger = new Ledger();
  const c = cluster();
  try {
    const victim = await c.masterOf(0);
    const [replica] = await c.replicasOf(victim);
    if (replica === undefined) return t.fail("the victim has no replica");
    let killedAt = -1;
    let failedOverAt = -1;
    let settledAt = -1;
    const failover = async (): Promise<void> => {
      // The replica stops, the master drops its replication link (what it sent so far the replica still reads when it
      // goes on); the master then takes writes it passes on to no one, for 400 ms; then it dies.
      replica.pause();
      await c.cli(victim.port, "CLIENT", "KILL", "TYPE", "replica");
      await sleep(400);
      await victim.kill();
      replica.resume();
      killedAt = done;
      const end = Date.now() + 20_000;
      while ((await c.masterOf(0)).port !== replica.port) {
        if (Date.now() > end) throw new Error("no failover within 20 s");
        await sleep(200);
      }
      failedOverAt = done;
      // The killed master comes back, as a replica of its successor (which until then has none: its writes are refused).
      await victim.restart();
      await c.settled();
      settledAt = done;
    };
    let done = 0;
    let killing: Promise<void> | undefined;
    const t0 = Date.now();
    const outcomes = await pool(RACE_SESSIONS, 6, async (i) => {
      if (i === Math.floor(RACE_SESSIONS / 4)) killing = failover();
      const o = await raceSession(r, ledger, i);
      done++;
      return { ...o, i };
    });
    await killing;
    const runMs = Date.now() - t0;
    const sids = outcomes.map((o) => o.sid);
    noneTwice(t, r, ledger, sids);
    const closed = outcomes.filter((o) => o.outcome === "failed-closed");
    t.log(`${RACE_SESSIONS * 2} races in ${runMs} ms; master killed after ${killedAt} sessions, failed over after ${failedOverAt}, its node back as a replica after ${settledAt}; ${RACE_SESSIONS - closed.length} sessions continued, ${closed.length} failed closed`);
    t.true(killedAt >= 0 && settledAt > killedAt);
    const why = new Map<string, number>();
    for (const o of closed) {
      const last = [...ledger.deliveries].filter(([id]) => id.startsWith(o.sid)).at(-1)![1].outcomes.map((d) => (d.ok ? "ok" : `${d.kind}: ${d.details.replace(/[0-9a-f]{16,}/g, "…").slice(0, 90)}`));
      const k = last.join(" / ");
      why.set(k, (why.get(k) ?? 0) + 1);
    }
    for (const [k, v] of why) why.set(k.replace(/(store-unavailable: secsession store-unavailable: the receiver's session store is unavailable; retry later)( \/ \1)+/g, "$1 (repeated)"), v);
    t.log(`failed closed, by their last message's outcomes: ${[...why].map(([k, v]) => `${v} × [${k}]`).join("; ")}`);
    const reasons = new Map<string, number>();
    for (const a of r.replicas.flatMap((x) => x.alerts)) {
      const k = `${a.kind}: ${a.reason.replace(/[0-9a-f]{16,}/g, "…").replace(/[0-9]+/g, "N").slice(0, 120)}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    t.log(`the replicas' alerts: ${[...reasons].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${v} × ${k}`).join("\n  ")}`);
    // Sessions that started once the cluster had settled all continue.
    const late = outcomes.filter((o) => o.i >= settledAt + 6);
    t.true(late.length > 100, `${late.length} sessions after the failover`);
    const lateClosed = late.filter((o) => o.outcome !== "continued");
    for (const o of lateClosed) {
      for (const [id, e] of ledger.deliveries) if (id.startsWith(o.sid)) t.log(`session ${o.i} ${id.slice(-6)}: ${e.outcomes.map((d) => (d.ok ? "ok" : `${d.code} ${d.kind} ${d.details}`)).join(" | ")}`);
    }
    // A session can still fail closed on a loaded machine (a commit whose answer or WAIT came after the timeout:
    // docs/scale-out.md, residual windows 1 and 3); more than 1 % of them is a failure to recover.
    t.true(lateClosed.length <= late.length / 100, `sessions after the failover that failed closed: ${lateClosed.map((o) => o.i).join(", ")}`);

    // Every envelope again, after the failover (a replay of everything): none is accepted a second time.
    await pool([...ledger.deliveries.keys()].length, 6, async (i) => {
      const [id, e] = [...ledger.deliveries][i]!;
      ledger.note(id, e.rpc, e.bytes, [await r.send(i % 3, e.rpc, e.bytes)]);
    });
    noneTwice(t, r, ledger, sids);

    t.true((await c.replicasOf(replica)).some((n) => n.port === victim.port), "the killed master is back as its successor's replica");
    const after = await pool(6, 3, (i) => raceSession(r, ledger, i));
    t.deepEqual(after.map((o) => o.outcome), Array(6).fill("continued"));
    noneTwice(t, r, ledger, [...sids, ...after.map((o) => o.sid)]);
  } finally {
    await r.close();
  }
});

test.serial("a store can use a cluster client of the caller's, and leaves it open", async (t) => {
  const { createCluster } = await import("redis");
  const mine = createCluster({ rootNodes: cluster().rootNodes.map((url) => ({ url })), defaults: { disableOfflineQueue: true } });
  mine.on("error", () => undefined);
  await mine.connect();
  const { createRedisReplayCache } = await import("../../interceptors/index.js");
  const cache = createRedisReplayCache({ cluster: mine as never });
  try {
    t.true(await cache.add("confman:abc", Date.now() + 5000));
    t.false(await cache.add("confman:abc", Date.now() + 5000));
    await cache.close();
    t.true(mine.isOpen);
    t.is(Number(await mine.sendCommand(cache.redisKey("confman:abc"), true, ["EXISTS", cache.redisKey("confman:abc")])), 1);
  } finally {
    await mine.close();
  }
});
