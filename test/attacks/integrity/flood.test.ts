/**
 * Abandoned sessions (issue break 10). Any principal the resolver knows can
 * open sessions and walk away; each held its state, keys and session object
 * at the receiver for ever. Now a runtime caps the sessions a principal holds
 * open (maxSessionsPerPrincipal: a further first message is refused
 * `session-limit`, RESOURCE_EXHAUSTED, before anything is stored), expires
 * sessions left idle (sessionIdleTimeoutMs: freed from memory and from the
 * store, waiting receives reject, a late message is refused saying the
 * session expired), and `receive()` can time out, leaving the session as it
 * was. Over real gRPC on loopback, and over the buffer API with a moved clock.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import {
  createSessionRuntime,
  defineRole,
  generateIdentity,
  publicKeysOf,
  ReceiveTimeoutError,
  SecSessionError,
  staticResolver,
  type SessionRuntime,
  type SessionRuntimeOptions,
} from "../../../interceptors/index.js";
import { without } from "../../../interceptors/monitor/defences.js";
import { inlineSession, world } from "../../support/inline-session.js";

// c opens with a call, then owes w a one-way Data: a client that stops after Open leaves w waiting.
const OPEN_THEN_DATA = `
syntax = "proto3";
package flood;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Upload"
  roles: [ { name: "c" service: "" }, { name: "w" service: "Worker" } ]
  protocol: "c => w.Open; c -> w.Data;"
};
service Worker { rpc Open(Msg) returns (Msg); rpc Data(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;
const session = inlineSession(OPEN_THEN_DATA);
const C = defineRole(session.descriptor, "c", session.file);
const W = defineRole(session.descriptor, "w", session.file);

type Any = Record<string, (...a: unknown[]) => Promise<Any>> & { kind: string; message: { text: string }; next: Any; sessionId: string };

interface Rig {
  readonly server: SessionRuntime;
  /** A client runtime per principal (mallory, alice); theirs never expire, to send late. */
  readonly client: Record<string, SessionRuntime>;
  /** What the worker's handlers saw: "data <text>", or the error its receive rejected with. */
  readonly seen: string[];
  close(): void;
}

async function rig(server: Partial<SessionRuntimeOptions>, handler: "wait" | ((incoming: Any) => Promise<void>) = "wait"): Promise<Rig> {
  const ids = ["worker", "mallory", "alice"].map((id) => generateIdentity(id));
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const peers = new Map<string, string>();
  const worker = createSessionRuntime({ identity: ids[0]!, resolver, peers, ...server });
  const client = Object.fromEntries(ids.slice(1).map((i) => [i.id, createSessionRuntime({ identity: i, resolver, peers, sessionIdleTimeoutMs: 0 })]));
  const srv = new grpc.Server({ interceptors: [worker.serverInterceptor()] });
  const seen: string[] = [];
  worker.serve(srv, W, {
    open: async (incoming: Any) => {
      if (handler !== "wait") return handler(incoming);
      const waiting = await incoming.next["openResponse"]!({ text: "ok" });
      try {
        const data = (await waiting["receive"]!()) as unknown as Any;
        seen.push(`data ${data.message.text}`);
      } catch (e: unknown) {
        seen.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
    },
  } as never);
  const port = await new Promise<number>((res, rej) => srv.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  peers.set("worker", `127.0.0.1:${port}`);
  return {
    server: worker,
    client,
    seen,
    close() {
      for (const r of [worker, ...Object.values(client)]) r.close();
      srv.forceShutdown();
    },
  };
}

/** `who` opens a session with the worker and stops: the state it stops at (owing Data), or the refusal. */
async function open(r: Rig, who: string): Promise<Any | SecSessionError> {
  const s0 = (await r.client[who]!.start(C, { c: who, w: "worker" })) as unknown as Any;
  return s0["open"]!({ text: "hi" }).then(
    (res) => res.next,
    (e: unknown) => e as SecSessionError,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.serial("break 10: a principal holds at most maxSessionsPerPrincipal open sessions; beyond, a start is refused RESOURCE_EXHAUSTED and nothing is stored", async (t) => {
  const r = await rig({ maxSessionsPerPrincipal: 5 });
  try {
    const outcomes: string[] = [];
    let refused: SecSessionError | undefined;
    let refusedSid = "";
    for (let i = 0; i < 7; i++) {
      const s0 = (await r.client["mallory"]!.start(C, { c: "mallory", w: "worker" })) as unknown as Any;
      const res = await s0["open"]!({ text: "hi" }).then(
        () => "open",
        (e: unknown) => e as SecSessionError,
      );
      if (res instanceof SecSessionError) {
        refused = res;
        refusedSid = s0.sessionId;
      }
      outcomes.push(res instanceof SecSessionError ? `${res.kind} ${grpc.status[res.code]}` : res);
    }
    t.deepEqual(outcomes, ["open", "open", "open", "open", "open", "session-limit RESOURCE_EXHAUSTED", "session-limit RESOURCE_EXHAUSTED"]);
    t.regex(refused!.reason, /principal "mallory" holds 5 open sessions here, the most it may \(maxSessionsPerPrincipal 5\): this session is refused and nothing of it is stored/);
    t.is(r.server.openSessions.heldBy("mallory"), 5);
    t.is(await r.server.party(W).state(refusedSid), undefined, "nothing stored for the refused session");
    t.is(r.server.metrics.refused["session-limit"], 2);
    t.false(await open(r, "alice") instanceof SecSessionError, "another principal still opens sessions");
    t.is(r.server.openSessions.total, 6);
  } finally {
    r.close();
  }
});

test.serial("break 10, defence off: without the cap, one principal opens as many sessions as it likes", async (t) => {
  await without("sessionCap", async () => {
    const r = await rig({ maxSessionsPerPrincipal: 5 });
    try {
      for (let i = 0; i < 8; i++) t.false((await open(r, "mallory")) instanceof SecSessionError);
      t.is(r.server.openSessions.heldBy("mallory"), 8);
    } finally {
      r.close();
    }
  });
});

test.serial("break 10: idle sessions expire — freed from memory and store, the waiting receive rejects, a late message is refused saying so, and the principal may open again", async (t) => {
  // The worker's clock is moved by hand, so a loaded machine cannot expire a session before the test means it to.
  const clock = { ms: Date.now() };
  const r = await rig({ maxSessionsPerPrincipal: 3, sessionIdleTimeoutMs: 300, now: () => clock.ms });
  try {
    const states = [await open(r, "mallory"), await open(r, "mallory"), await open(r, "mallory")] as Any[];
    t.true((await open(r, "mallory")) instanceof SecSessionError, "at the cap");
    const sids = states.map((s) => s.sessionId);
    t.is(r.server.openSessions.heldBy("mallory"), 3);
    clock.ms += 299;
    t.is(await r.server.expireIdleSessions(), 0, "not idle for the timeout yet");
    clock.ms += 2;
    await r.server.expireIdleSessions(); // what the periodic sweep (every 75 ms) does
    t.is(r.server.openSessions.total, 0);
    for (let i = 0; i < 100 && r.seen.length < 3; i++) await sleep(20); // the waiting receives reject
    for (const sid of sids) t.is(await r.server.party(W).state(sid), undefined, "the state is gone from the store");
    t.is(r.seen.length, 3);
    for (const s of r.seen) t.regex(s, /^SessionExpiredError: secsession: session .* expired: it was idle for more than 300 ms \(sessionIdleTimeoutMs\)$/);
    // mallory sends the Data it owed, late.
    const late = await states[0]!["data"]!({ text: "late" }).then(
      () => undefined,
      (e: unknown) => e as SecSessionError,
    );
    t.is(late?.kind, "unknown-session");
    t.regex(late!.reason, /^session [0-9a-f]{64} expired: it was idle for more than 300 ms \(sessionIdleTimeoutMs\), and its state is gone$/);
    t.false((await open(r, "mallory")) instanceof SecSessionError, "below the cap again");
  } finally {
    r.close();
  }
});

test.serial("break 10, defence off: without expiry, abandoned sessions are held for ever", async (t) => {
  await without("idleExpiry", async () => {
    const r = await rig({ sessionIdleTimeoutMs: 100 });
    try {
      const s = (await open(r, "mallory")) as Any;
      await sleep(400);
      t.is(r.server.openSessions.total, 1);
      t.not(await r.server.party(W).state(s.sessionId), undefined);
      t.deepEqual(r.seen, []);
    } finally {
      r.close();
    }
  });
});

test.serial("an active session does not expire; a finished one is no longer counted", async (t) => {
  const r = await rig({ sessionIdleTimeoutMs: 400 });
  try {
    const s = (await open(r, "mallory")) as Any;
    await sleep(100);
    t.is(r.server.openSessions.heldBy("mallory"), 1);
    await s["data"]!({ text: "on time" });
    await sleep(50);
    t.deepEqual(r.seen, ["data on time"]);
    t.is(r.server.openSessions.total, 0, "its part over, the session is no longer open");
  } finally {
    r.close();
  }
});

test.serial("receive() times out with ReceiveTimeoutError; the session is unchanged and the same state object receives the message that comes later", async (t) => {
  const events: string[] = [];
  const r = await rig({ receiveTimeoutMs: 150 }, async (incoming) => {
    const waiting = await incoming.next["openResponse"]!({ text: "ok" });
    const t0 = Date.now();
    const err = await waiting["receive"]!().catch((e: unknown) => e as Error);
    events.push(`${(err as Error).name} after ≥150 ms: ${Date.now() - t0 >= 145}`);
    t.true(err instanceof ReceiveTimeoutError);
    t.regex((err as Error).message, /no message within 150 ms in session .*; the session is unchanged and this state object may receive again/);
    const err2 = await waiting["receive"]!({ timeoutMs: 50 }).catch((e: unknown) => e as Error);
    events.push(`${(err2 as Error).message.includes("within 50 ms")}`);
    const data = (await waiting["receive"]!({ timeoutMs: 5_000 })) as unknown as Any;
    events.push(`data ${data.message.text}`);
  });
  try {
    const s = (await open(r, "mallory")) as Any;
    await sleep(400);
    await s["data"]!({ text: "slow" });
    await sleep(100);
    t.deepEqual(events, ["ReceiveTimeoutError after ≥150 ms: true", "true", "data slow"]);
  } finally {
    r.close();
  }
});

test("receive timeouts and the new options are checked", async (t) => {
  const me = generateIdentity("me");
  const resolver = staticResolver([[me.id, publicKeysOf(me)]]);
  t.throws(() => createSessionRuntime({ identity: me, resolver, sessionIdleTimeoutMs: -1 }), { message: /sessionIdleTimeoutMs must be a whole number of milliseconds ≥ 0, got -1/ });
  t.throws(() => createSessionRuntime({ identity: me, resolver, maxSessionsPerPrincipal: 1.5 }), { message: /maxSessionsPerPrincipal must be a whole number ≥ 0, got 1.5/ });
  t.throws(() => createSessionRuntime({ identity: me, resolver, receiveTimeoutMs: 0 }), { message: /receiveTimeoutMs must be a whole number of milliseconds > 0, got 0/ });
});

test("over the buffer API with a moved clock: expiry frees exactly the sessions idle past the timeout, and the others go on", async (t) => {
  let now = 1_000_000;
  const w = world(session, ["alice", "bob"], () => ({ now: () => now, sessionIdleTimeoutMs: 60_000 }));
  const open = w.edge("Open", "request");
  const reply = w.edge("Open", "response");
  const sids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const sid = (await w.party("alice", "c").start({ c: "alice", w: "bob" })).key;
    await w.unwrap("bob", open, await w.wrap("alice", sid, open, { text: `${i}` }), "alice");
    sids.push(sid);
    now += 30_000;
  }
  const bob = w.runtimes["bob"]!;
  t.is(bob.openSessions.heldBy("alice"), 3);
  now += 1; // the first is 90 s idle, the second 60 s + 1 ms, the third 30 s
  t.is(await bob.expireIdleSessions(), 2);
  t.is(bob.openSessions.heldBy("alice"), 1);
  t.is(await w.party("bob", "w").state(sids[0]!), undefined);
  t.is(await w.party("bob", "w").state(sids[1]!), undefined);
  t.not(await w.party("bob", "w").state(sids[2]!), undefined);
  // The live session still answers.
  const bytes = await w.wrap("bob", sids[2]!, reply, { text: "ok" });
  await w.unwrap("alice", reply, bytes, "bob", sids[2]);
  t.is((await w.party("alice", "c").state(sids[2]!))?.state, (await w.party("bob", "w").state(sids[2]!))?.state);
});

const RELAYED = `
syntax = "proto3";
package relayed;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Relayed"
  roles: [ { name: "c" service: "Client" }, { name: "r" service: "Relay" }, { name: "w" service: "Worker" } ]
  protocol: "c -> r.Go; r -> w.Pass; w -> c.Done;"
};
service Client { rpc Done(Msg) returns (google.protobuf.Empty); }
service Relay { rpc Go(Msg) returns (google.protobuf.Empty); }
service Worker { rpc Pass(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

test("downstream, a session counts for the principal that started it, not for the relay: one client cannot use up the relay's share", async (t) => {
  const relayed = inlineSession(RELAYED);
  const w = world(relayed, ["mallory", "alice", "relay", "worker"], (p) => (p === "worker" ? { maxSessionsPerPrincipal: 2 } : {}));
  const [go, pass] = [w.edge("Go", "oneway"), w.edge("Pass", "oneway")];
  const through = async (client: string): Promise<string> => {
    const sid = (await w.party(client, "c").start({ c: client, r: "relay", w: "worker" })).key;
    await w.unwrap("relay", go, await w.wrap(client, sid, go, { text: "go" }), client);
    const bytes = await w.wrap("relay", sid, pass, { text: "pass" });
    return w.unwrap("worker", pass, bytes, "relay").then(
      () => "open",
      (e: unknown) => (e instanceof SecSessionError ? `${e.kind}: ${e.reason}` : String(e)),
    );
  };
  t.deepEqual([await through("mallory"), await through("mallory")], ["open", "open"]);
  const third = await through("mallory");
  t.regex(third, /^session-limit: principal "mallory" holds 2 open sessions here/);
  t.is(await through("alice"), "open", "another client of the same relay still gets through");
  const worker = w.runtimes["worker"]!;
  t.deepEqual([worker.openSessions.heldBy("mallory"), worker.openSessions.heldBy("alice"), worker.openSessions.heldBy("relay")], [2, 1, 0]);
});
