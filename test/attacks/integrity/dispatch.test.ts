/**
 * Dispatch (issue breaks 11 and 8): which of a runtime's parties receives a
 * message that arrives on a path several of them receive on. Routing is by
 * what the envelope addresses — the session code of a start, the edge's
 * receiving role, the session the party holds — never by the first party
 * that receives on the path; and the envelope is decoded once, strictly,
 * with no unknown field kept. Over real gRPC on loopback.
 *
 * Before: a peer serving both roles of a symmetric protocol refused honest
 * messages as `not-addressed` (the first role's party got the other role's
 * message), and a replicated role sharing a service with another protocol
 * never got past its first message (its later messages went to the other
 * protocol's party). The envelope was decoded with protobuf-es, unknown
 * fields kept, and then decoded again by the party.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { defineRole, generateIdentity, publicKeysOf, staticResolver, createSessionRuntime, SecSessionError, type RoleDefinition, type SessionRuntime } from "../../../interceptors/index.js";
import { SealedBytes, sealedMethod } from "../../../interceptors/grpc/sealed.js";
import { ALERT_KIND_METADATA } from "../../../interceptors/errors.js";
import { inlineSession, type InlineSession } from "../../support/inline-session.js";

const SYMMETRIC = `
syntax = "proto3";
package peer;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Gossip"
  roles: [ { name: "a" service: "Peer" }, { name: "b" service: "Peer" } ]
  protocol: "a -> b.Tell; b -> a.Tell; a -> b.Tell;"
};
service Peer { rpc Tell(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

// Two protocols whose roles serve one service, shared.Worker.
const JOBS = `
syntax = "proto3";
package shared;
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Jobs"
  roles: [ { name: "c" service: "" }, { name: "w" service: "Worker" } ]
  protocol: "c => w.Task; c => w.Task; c => w.Task;"
};
service Worker { rpc Task(Msg) returns (Msg); }
message Msg { string text = 1; }
`;
const PROBE = `
syntax = "proto3";
package shared;
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Probe"
  roles: [ { name: "d" service: "" }, { name: "v" service: "Worker" } ]
  protocol: "d => v.Task;"
};
service Worker { rpc Task(Msg) returns (Msg); }
message Msg { string text = 1; }
`;

interface Node {
  readonly runtime: SessionRuntime;
  readonly server: grpc.Server;
}

async function nodes(ids: readonly string[]): Promise<{ node: Record<string, Node>; addresses: Map<string, string>; listen(): Promise<void>; close(): void }> {
  const identities = ids.map((id) => generateIdentity(id));
  const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
  const addresses = new Map<string, string>();
  const node: Record<string, Node> = {};
  for (const identity of identities) {
    const runtime = createSessionRuntime({ identity, resolver, peers: addresses });
    node[identity.id] = { runtime, server: new grpc.Server({ interceptors: [runtime.serverInterceptor()] }) };
  }
  return {
    node,
    addresses,
    async listen() {
      for (const [id, n] of Object.entries(node)) {
        const port = await new Promise<number>((res, rej) => n.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
        addresses.set(id, `127.0.0.1:${port}`);
      }
    },
    close() {
      for (const n of Object.values(node)) {
        n.runtime.close();
        n.server.forceShutdown();
      }
    },
  };
}

type Any = Record<string, (...a: unknown[]) => Promise<Any>> & { kind: string; message: { text: string }; next: Any };
const role = (s: InlineSession, r: string): RoleDefinition => defineRole(s.descriptor, r, s.file);
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => "ok", (e: unknown) => (e instanceof SecSessionError ? e.kind : String(e)));

/**
 * bob serves both roles of Gossip (`first` served first); alice plays a with
 * bob as b, and bob plays a with carol as b. Returns each session's outcome.
 */
async function gossip(first: "a" | "b"): Promise<{ alice: string; bob: string; notAddressed: number }> {
  const s = inlineSession(SYMMETRIC);
  const n = await nodes(["alice", "bob", "carol"]);
  const serveB = (who: string) =>
    n.node[who]!.runtime.serve(n.node[who]!.server, role(s, "b"), {
      tell: async ({ message, next }: Any) => {
        const after = await (next as Any)["tell"]!({ text: `re: ${message.text}` });
        await (after as Any)["receive"]!();
      },
    } as never);
  // bob's a plays sessions he starts; the messages to it come back through the server on the same path.
  const serveA = () => n.node["bob"]!.runtime.serve(n.node["bob"]!.server, role(s, "a"), {} as never);
  if (first === "a") {
    serveA();
    serveB("bob");
  } else {
    serveB("bob");
    serveA();
  }
  serveB("carol");
  n.node["alice"]!.runtime.serve(n.node["alice"]!.server, role(s, "a"), {} as never);
  await n.listen();
  try {
    const run = async (who: string, peer: string) => {
      const s0 = (await n.node[who]!.runtime.start(role(s, "a"), { a: who, b: peer })) as unknown as Any;
      const s1 = await s0["tell"]!({ text: "hello" });
      const got = await s1["receive"]!();
      await got.next["tell"]!({ text: "bye" });
    };
    const [alice, bob] = await Promise.all([outcome(withTimeout(run("alice", "bob"))), outcome(withTimeout(run("bob", "carol")))]);
    return { alice, bob, notAddressed: n.node["bob"]!.runtime.metrics.refused["not-addressed"] ?? 0 };
  } finally {
    n.close();
  }
}

for (const first of ["a", "b"] as const) {
  test.serial(`break 11: a peer serving both roles of a symmetric protocol (role ${first} served first) accepts the messages of each`, async (t) => {
    t.deepEqual(await gossip(first), { alice: "ok", bob: "ok", notAddressed: 0 });
  });
}

/** A replicated role (Jobs' w) and another protocol's role (Probe's v) served on one server, both on /shared.Worker/Task. */
async function sharedService(probeFirst: boolean): Promise<{ jobs: string; replies: string[]; probe: string }> {
  const jobs = inlineSession(JOBS);
  const probe = inlineSession(PROBE);
  const n = await nodes(["client", "worker"]);
  const w = n.node["worker"]!;
  const replies: string[] = [];
  const serveProbe = () => w.runtime.serve(w.server, role(probe, "v"), { task: async ({ next }: Any) => void (await next["taskResponse"]!({ text: "probe" })) } as never);
  const serveJobs = () =>
    w.runtime.serveReplicated(w.server, role(jobs, "w"), { task: async ({ message, next }: Any) => void (await next["taskResponse"]!({ text: `done ${message.text}` })) } as never);
  if (probeFirst) {
    serveProbe();
    serveJobs();
  } else {
    serveJobs();
    serveProbe();
  }
  await n.listen();
  try {
    const c = n.node["client"]!.runtime;
    const jobsRun = async () => {
      let st = (await c.start(role(jobs, "c"), { c: "client", w: "worker" })) as unknown as Any;
      for (const job of ["1", "2", "3"]) {
        const r = await st["task"]!({ text: job });
        replies.push(r.message.text);
        st = r.next;
      }
    };
    const probeRun = async () => {
      const st = (await c.start(role(probe, "d"), { d: "client", v: "worker" })) as unknown as Any;
      await st["task"]!({ text: "ping" });
    };
    return { jobs: await outcome(withTimeout(jobsRun())), replies, probe: await outcome(withTimeout(probeRun())) };
  } finally {
    n.close();
  }
}

for (const probeFirst of [true, false]) {
  test.serial(`break 11: a replicated role sharing its service with another protocol (${probeFirst ? "the other" : "it"} served first) gets past its first message`, async (t) => {
    t.deepEqual(await sharedService(probeFirst), { jobs: "ok", replies: ["done 1", "done 2", "done 3"], probe: "ok" });
  });
}

/**
 * Sends `junk` on /shared.Worker/Task to a worker that serves Probe's v and,
 * if `shared`, Jobs' w on the same path; returns the refusal and how long it
 * took (median of `runs`).
 */
async function refuseJunk(junk: Uint8Array, shared: boolean, runs: number): Promise<{ code: number; kind: unknown; alerts: string[]; ms: number }> {
  const n = await nodes(["client", "worker"]);
  const w = n.node["worker"]!;
  w.runtime.serve(w.server, role(inlineSession(PROBE), "v"), { task: () => undefined } as never);
  if (shared) w.runtime.serveReplicated(w.server, role(inlineSession(JOBS), "w"), { task: () => undefined } as never);
  const alerts: string[] = [];
  w.runtime.on("securityAlert", (a) => alerts.push(`${a.kind}: ${a.reason}`));
  await n.listen();
  const client = new grpc.Client(n.addresses.get("worker")!, grpc.credentials.createInsecure(), { "grpc.max_send_message_length": -1 });
  const method = sealedMethod("/shared.Worker/Task", "Task");
  const times: number[] = [];
  let last = { code: 0, kind: undefined as unknown };
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      last = await new Promise<{ code: number; kind: unknown }>((resolve) =>
        client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, new SealedBytes(junk), (err) =>
          resolve({ code: err?.code ?? 0, kind: err?.metadata?.get(ALERT_KIND_METADATA)[0] }),
        ),
      );
      times.push(performance.now() - t0);
    }
  } finally {
    client.close();
    n.close();
  }
  times.sort((a, b) => a - b);
  return { ...last, alerts, ms: times[Math.floor(times.length / 2)]! };
}

/** 4 MiB: the version, then field 1000 (length-delimited, one byte) over and over — a field the envelope does not have. */
function unknownFields(): Uint8Array {
  const unit = [0xc2, 0x3e, 0x01, 0x00];
  const junk = new Uint8Array(2 + unit.length * (1_048_575));
  junk.set([0x08, 0x02]);
  for (let i = 2; i < junk.length; i += unit.length) junk.set(unit, i);
  return junk;
}

test.serial("break 8: 4 MiB of unknown fields on a path two parties share is refused by one strict decode, costing no more than where one party listens", async (t) => {
  const junk = unknownFields();
  const alone = await refuseJunk(junk, false, 3);
  const shared = await refuseJunk(junk, true, 3);
  t.log(`refusal of ${junk.length} bytes of unknown fields: ${alone.ms.toFixed(0)} ms with one party on the path, ${shared.ms.toFixed(0)} ms with two`);
  for (const r of [alone, shared]) {
    t.is(r.code, grpc.status.INVALID_ARGUMENT);
    t.is(r.kind, "malformed");
    t.is(r.alerts.length, 3, r.alerts.join("\n"));
  }
  t.is(shared.alerts[0], alone.alerts[0], "the same refusal");
  // Time budget (may flake on a loaded machine): a second, lenient decode that kept every unknown field cost ~8x.
  t.true(shared.ms < 1.5 * alone.ms + 100, `${shared.ms.toFixed(0)} ms with two parties vs ${alone.ms.toFixed(0)} ms with one`);
});

function withTimeout<T>(p: Promise<T>, ms = 5_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}
