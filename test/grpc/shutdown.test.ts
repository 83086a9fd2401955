/**
 * Graceful shutdown (SessionRuntime.shutdown): the runtime starts no new
 * session, lets the calls in flight finish — a call waiting for its
 * handler's response is answered, and the session goes on to its end —
 * answers what is still waiting after the grace period with UNAVAILABLE, and
 * closes the stores given to it (unless told they are shared). Real gRPC on
 * loopback.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { createMemoryReplayCache, createMemoryStore, defineRole, type SessionRuntime } from "../../interceptors/index.js";
import { cluster, type Peer } from "../support/parties.js";
import { inlineSession } from "../support/inline-session.js";

const ASK_THEN_TELL = `
syntax = "proto3";
package drain;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Drain"
  roles: [ { name: "c" service: "" }, { name: "w" service: "Worker" } ]
  protocol: "c => w.Ask; c -> w.Tell;"
};
service Worker { rpc Ask(Msg) returns (Msg); rpc Tell(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;
const session = inlineSession(ASK_THEN_TELL);
const C = defineRole(session.descriptor, "c", session.file);
const W = defineRole(session.descriptor, "w", session.file);

type Any = Record<string, (...a: unknown[]) => Promise<Any>> & { kind: string; message: { text: string }; next: Any };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Rig {
  readonly client: SessionRuntime;
  readonly worker: SessionRuntime;
  /** Called when w's handler got Ask; resolve `answer` to let it respond. */
  readonly asked: Promise<void>;
  readonly answer: () => void;
  readonly told: string[];
  readonly closed: string[];
  close(): void;
}

async function rig(): Promise<Rig> {
  const closed: string[] = [];
  const store = Object.assign(createMemoryStore(), { close: () => void closed.push("store") });
  const replayCache = Object.assign(createMemoryReplayCache(), { close: () => void closed.push("replay cache") });
  const c = cluster(["client", "worker"], (id) => (id === "worker" ? { store, replayCache } : {}));
  const { client, worker } = c.peers as Record<string, Peer>;
  let signal!: () => void;
  const asked = new Promise<void>((r) => (signal = r));
  let answer!: () => void;
  const go = new Promise<void>((r) => (answer = r));
  const told: string[] = [];
  worker!.runtime.serve(worker!.server, W, {
    ask: async (incoming: Any) => {
      signal();
      await go;
      const waiting = await incoming.next["askResponse"]!({ text: `re: ${incoming.message.text}` });
      const tell = (await waiting["receive"]!()) as unknown as Any;
      told.push(tell.message.text);
    },
  } as never);
  await c.listen();
  return { client: client!.runtime, worker: worker!.runtime, asked, answer, told, closed, close: () => void c.close() };
}

test("shutdown drains: a call waiting for its handler is answered, the session ends, then the stores are closed", async (t) => {
  const r = await rig();
  try {
    const s0 = (await r.client.start(C, { w: "worker" })) as unknown as Any;
    const asking = s0["ask"]!({ text: "q" });
    await r.asked;
    const shutting = r.worker.shutdown({ graceMs: 10_000 });
    await sleep(100);
    t.deepEqual(r.closed, [], "nothing closed while a call waits for its response");
    r.answer();
    const reply = await asking;
    t.is(reply.message.text, "re: q");
    await reply.next["tell"]!({ text: "bye" });
    t.deepEqual(await shutting, { drained: true, unanswered: 0 });
    t.deepEqual(r.told, ["bye"]);
    t.deepEqual(r.closed, ["store", "replay cache"]);
  } finally {
    r.close();
  }
});

test("after the grace period, a call still waiting is answered UNAVAILABLE, and shutdown says so", async (t) => {
  const r = await rig();
  try {
    const s0 = (await r.client.start(C, { w: "worker" })) as unknown as Any;
    const asking = s0["ask"]!({ text: "q" }).then(
      () => undefined,
      (e: unknown) => e as grpc.ServiceError,
    );
    await r.asked;
    t.deepEqual(await r.worker.shutdown({ graceMs: 150, closeStores: false }), { drained: false, unanswered: 1 });
    const e = await asking;
    t.is(e?.code, grpc.status.UNAVAILABLE, "a gRPC status, no alert: the peer did nothing wrong");
    t.regex(e?.details ?? "", /shut down before this call's response was sent/);
    t.deepEqual(r.closed, [], "closeStores: false leaves the stores open");
    r.answer(); // the handler's late response goes nowhere
  } finally {
    r.close();
  }
});

test("a runtime shutting down starts no new session; a bad grace period is refused", async (t) => {
  const r = await rig();
  try {
    await t.throwsAsync(r.client.shutdown({ graceMs: -1 }), { instanceOf: RangeError, message: /graceMs must be a number of milliseconds ≥ 0, got -1/ });
    t.deepEqual(await r.client.shutdown({ graceMs: 0 }), { drained: true, unanswered: 0 });
    await t.throwsAsync(r.client.start(C, { w: "worker" }), { message: /the runtime is shutting down: it starts no new session/ });
  } finally {
    r.close();
  }
});
