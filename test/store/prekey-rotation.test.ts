/**
 * Prekey rotation across the replicas of one principal (keys/prekey-source.ts,
 * docs/keys.md "Rotation across replicas"): three replicas of `worker` (one
 * identity, three servers), sessions spread over them round robin, real gRPC
 * on loopback. A rotation on one replica is published to the shared source
 * (a real redis-server, and in memory); the others adopt it; peers then use
 * the new prekey on every replica, first contacts under the previous prekey
 * keep working for the documented overlap (the rotation keeps two), and the
 * one before is refused. Without sharing, a first contact under the new
 * prekey that lands on another replica is refused — the failure the source
 * removes. Also: concurrent rotations on two replicas publish one line of
 * prekeys; a set written by anyone but the principal is refused.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import {
  createMemoryPrekeySource,
  createRedisPrekeySource,
  createSessionRuntime,
  defineRole,
  generateIdentity,
  publicKeysOf,
  SecSessionError,
  type PeerPublicKeys,
  type PrekeySource,
  type SessionRuntime,
} from "../../interceptors/index.js";
import { sealPrekeySet } from "../../interceptors/keys/prekey-source.js";
import { defaultBackend } from "../../interceptors/keys/crypto/index.js";
import { inlineSession } from "../support/inline-session.js";
import { useRedis } from "../support/redis.js";

const redis = useRedis(test);

const PING = `
syntax = "proto3";
package rotate;
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Ping"
  roles: [ { name: "c" service: "" }, { name: "w" service: "Worker" } ]
  protocol: "c => w.Ping;"
};
service Worker { rpc Ping(Msg) returns (Msg); }
message Msg { string text = 1; }
`;
const session = inlineSession(PING);
const C = defineRole(session.descriptor, "c", session.file);
const W = defineRole(session.descriptor, "w", session.file);
type Any = Record<string, (...a: unknown[]) => Promise<Any>> & { message: { text: string } };

interface Mesh {
  readonly replicas: SessionRuntime[];
  /** What the client believes the worker's public keys are (its keyring). */
  keyring: PeerPublicKeys;
  /** One session (a first contact with the worker) on replica `i`; "ok" or the refusal's kind. */
  ping(i: number): Promise<string>;
  close(): void;
}

async function mesh(sources: ReadonlyArray<PrekeySource | undefined>): Promise<Mesh> {
  const worker = generateIdentity("worker");
  const client = generateIdentity("client");
  const addresses: string[] = [];
  let target = 0;
  const m: Mesh = {
    replicas: [],
    keyring: publicKeysOf(worker),
    async ping(i) {
      target = i;
      const s0 = (await rt.start(C, { w: "worker" })) as unknown as Any;
      return s0["ping"]!({ text: `to ${i}` }).then(
        (r) => (r.message.text === `re: to ${i}` ? "ok" : `wrong answer ${r.message.text}`),
        (e: unknown) => (e instanceof SecSessionError ? e.kind : String(e)),
      );
    },
    close() {
      rt.close();
      for (const r of m.replicas) r.close();
      for (const s of servers) s.forceShutdown();
    },
  };
  const resolver = (p: string) => (p === "worker" ? m.keyring : p === "client" ? publicKeysOf(client) : undefined);
  const rt = createSessionRuntime({ identity: client, resolver, peers: (p) => (p === "worker" ? addresses[target] : undefined), channelOptions: { "grpc.use_local_subchannel_pool": 1 } });
  const servers: grpc.Server[] = [];
  for (const source of sources) {
    // Each replica holds its own copy of the identity, as three processes loading one key file would.
    const identity = { ...worker, prekeys: worker.prekeys!.map((p) => ({ ...p, privateKey: p.privateKey.slice() })) };
    const r = createSessionRuntime({ identity, resolver, ...(source === undefined ? {} : { prekeySource: source, prekeyRefreshMs: 60_000 }) });
    const server = new grpc.Server({ interceptors: [r.serverInterceptor()] });
    r.serve(server, W, { ping: async ({ message, next }: Any & { next: Any }) => void (await next["pingResponse"]!({ text: `re: ${message.text}` })) } as never);
    const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    addresses.push(`127.0.0.1:${port}`);
    m.replicas.push(r);
    servers.push(server);
  }
  return m;
}

/** A session on each replica in turn (one at a time: the client's address book points at one replica per call). */
async function round(m: Mesh): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < m.replicas.length; i++) out.push(await m.ping(i));
  return out;
}

for (const kind of ["redis", "memory"] as const) {
  test.serial(`${kind}: a rotation on one replica is adopted by all, traffic goes on, the previous prekey keeps working and the one before is refused`, async (t) => {
    const shared = kind === "memory" ? createMemoryPrekeySource() : createRedisPrekeySource({ url: redis().url, principal: "worker", prefix: `rot-${Date.now()}:` });
    const m = await mesh([shared, shared, shared]);
    try {
      t.deepEqual(await round(m), ["ok", "ok", "ok"]);
      const v1 = m.keyring;
      // Rotation on replica 0 while traffic runs.
      const traffic = round(m);
      const v2 = await m.replicas[0]!.rotateSharedPrekey();
      t.deepEqual(await traffic, ["ok", "ok", "ok"]);
      t.is(v2.prekey?.id, 2);
      t.true(await m.replicas[1]!.refreshPrekeys());
      t.true(await m.replicas[2]!.refreshPrekeys());
      t.false(await m.replicas[2]!.refreshPrekeys(), "nothing newer the second time");
      m.keyring = v2; // the peers' keyring now names prekey 2
      t.deepEqual(await round(m), ["ok", "ok", "ok"], "the new prekey works on every replica");
      m.keyring = v1;
      t.deepEqual(await round(m), ["ok", "ok", "ok"], "a peer with the previous keyring still gets through (overlap of one rotation)");
      const v3 = await m.replicas[2]!.rotateSharedPrekey();
      t.is(v3.prekey?.id, 3);
      for (const r of m.replicas.slice(0, 2)) await r.refreshPrekeys();
      t.deepEqual(await round(m), ["bad-key-update", "bad-key-update", "bad-key-update"], "prekey 1 is dropped (zeroed) everywhere after two rotations");
      m.keyring = v3;
      t.deepEqual(await round(m), ["ok", "ok", "ok"]);
    } finally {
      m.close();
      if ("close" in shared) await (shared as { close(): Promise<void> }).close();
    }
  });
}

test.serial("without a shared source, a first contact under the new prekey that lands on another replica is refused", async (t) => {
  const m = await mesh([undefined, undefined, undefined]);
  try {
    m.keyring = m.replicas[0]!.rotatePrekey();
    t.deepEqual(await round(m), ["ok", "bad-key-update", "bad-key-update"]);
  } finally {
    m.close();
  }
});

test.serial("concurrent rotations on two replicas publish one line of prekeys (compare-and-set); every replica ends with the same set", async (t) => {
  const shared = createRedisPrekeySource({ url: redis().url, principal: "worker", prefix: `cas-${Date.now()}:` });
  const m = await mesh([shared, shared, shared]);
  try {
    const [a, b] = await Promise.all([m.replicas[0]!.rotateSharedPrekey(), m.replicas[1]!.rotateSharedPrekey()]);
    t.deepEqual([a.prekey?.id, b.prekey?.id].sort(), [2, 3]);
    for (const r of m.replicas) await r.refreshPrekeys();
    m.keyring = (a.prekey?.id ?? 0) > (b.prekey?.id ?? 0) ? a : b;
    t.deepEqual(await round(m), ["ok", "ok", "ok"]);
    t.throws(() => m.replicas[0]!.rotatePrekey(), { message: /shares its prekeys \(prekeySource\): rotate with rotateSharedPrekey\(\)/ });
  } finally {
    m.close();
    await shared.close();
  }
});

test.serial("a set published by anyone but the principal is refused, and the replica keeps its prekeys", async (t) => {
  const shared = createMemoryPrekeySource();
  const m = await mesh([shared]);
  try {
    const mallory = generateIdentity("worker"); // same name, other keys
    const forged = sealPrekeySet(defaultBackend(), mallory, [...mallory.prekeys!, ...mallory.prekeys!.map((p) => ({ ...p, id: 9 }))]);
    t.true(await shared.write(undefined, forged));
    await t.throwsAsync(m.replicas[0]!.refreshPrekeys(), { message: /does not open under this identity/ });
    t.deepEqual(await round(m), ["ok"]);
  } finally {
    m.close();
  }
});
