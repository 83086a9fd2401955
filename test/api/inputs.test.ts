/**
 * The public API's inputs (issue break 15): a runtime without an identity or
 * resolver, a start without bindings, a benchmark-only switch passed as an
 * option — each refused at once with a message that names what is wrong,
 * leaving nothing behind; and principals named like Object.prototype's keys
 * play a session like any other, over real gRPC on loopback.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { SingleC, SingleW } from "../../gen/single/single_secsession.js";
import { createMemoryStore, createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type SessionRuntimeOptions, type SessionStore } from "../../interceptors/index.js";

const me = generateIdentity("customer");
const resolver = staticResolver([[me.id, publicKeysOf(me)]]);

test("createSessionRuntime({}) throws, naming the missing identity, and leaves no timer behind", (t) => {
  const handles = (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  const err = t.throws(() => createSessionRuntime({} as SessionRuntimeOptions));
  t.regex(err!.message, /secsession: createSessionRuntime: options\.identity is required: this peer's id and private keys \(generateIdentity\)/);
  t.is((process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().filter((r) => r === "Timeout").length, handles);
});

test("createSessionRuntime without options, or with a malformed identity or resolver, throws a precise error", (t) => {
  t.regex(t.throws(() => createSessionRuntime(undefined as unknown as SessionRuntimeOptions))!.message, /createSessionRuntime: expected an options object, got undefined/);
  t.regex(t.throws(() => createSessionRuntime(null as unknown as SessionRuntimeOptions))!.message, /expected an options object, got null/);
  t.regex(t.throws(() => createSessionRuntime({ identity: { id: "" }, resolver } as unknown as SessionRuntimeOptions))!.message, /options\.identity\.id must be a non-empty string/);
  t.regex(t.throws(() => createSessionRuntime({ identity: { ...me, x25519: { publicKey: new Uint8Array(32), privateKey: new Uint8Array(31) } }, resolver }))!.message, /options\.identity\.x25519\.privateKey: expected 32 bytes, got 31/);
  t.regex(t.throws(() => createSessionRuntime({ identity: me } as SessionRuntimeOptions))!.message, /options\.resolver is required: a function from a principal to its public keys/);
  t.regex(t.throws(() => createSessionRuntime({ identity: me, resolver: {} as never }))!.message, /options\.resolver must be a function, got object/);
  t.regex(t.throws(() => createSessionRuntime({ identity: me, resolver, peers: 42 as never }))!.message, /options\.peers must be a Map, an object or a function/);
});

test("verifyAttestations is not a public option: passing it throws, and no runtime is made", (t) => {
  for (const v of [false, true]) {
    const err = t.throws(() => createSessionRuntime({ identity: me, resolver, verifyAttestations: v } as SessionRuntimeOptions));
    t.regex(err!.message, /verifyAttestations is not an option: attestations are always verified/);
  }
});

test("start(def, null) throws a clear error and stores nothing", async (t) => {
  const writes: string[] = [];
  const mem = createMemoryStore();
  const store: SessionStore = { get: (k) => mem.get(k), commit: (k, e, n) => (writes.push(k), mem.commit(k, e, n)), delete: (k) => mem.delete(k) };
  const rt = createSessionRuntime({ identity: me, resolver, store });
  for (const bad of [null, undefined, "w", ["worker"]]) {
    const err = await t.throwsAsync(rt.start(SingleC, bad as never));
    t.regex(err!.message, /secsession: start \(session Single, role c\): bindings must be an object naming the principal of each role bound at the start \(e\.g\. \{ "c": "<principal>", "w": "<principal>" \}\), got /);
  }
  const err = await t.throwsAsync(rt.start(SingleC, { c: "customer", w: 7 as never }));
  t.regex(err!.message, /bindings\.w must be a principal \(a non-empty string\), got number/);
  t.deepEqual(writes, [], "no session was stored");
  t.is(rt.openSessions.total, 0, "and none is open");
});

test("a role bound at the start needs a principal even when it is named like an Object.prototype key", async (t) => {
  const rt = createSessionRuntime({ identity: me, resolver });
  // `w` is missing: Object.prototype must not provide one (bindings["constructor"] is a function on a plain object).
  const err = await t.throwsAsync(rt.start(SingleC, Object.assign(Object.create({ w: "inherited" }) as Record<string, string>, { c: "customer" }) as never));
  t.regex(err!.message, /needs a principal for role w/);
});

for (const [client, server] of [
  ["constructor", "__proto__"],
  ["toString", "hasOwnProperty"],
  ["__proto__", "valueOf"],
] as const) {
  for (const book of ["record", "map", "function"] as const) {
    test.serial(`principals ${client} and ${server} play a session over gRPC (peers as a ${book})`, async (t) => {
      const ids = [generateIdentity(client), generateIdentity(server)];
      const res = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
      // A plain object with own keys, as JSON.parse makes it (an assignment `book["__proto__"] = …` would set its prototype instead).
      const record: Record<string, string> = {};
      const map = new Map<string, string>();
      const peers = book === "record" ? record : book === "map" ? map : (p: string) => map.get(p);
      const c = createSessionRuntime({ identity: ids[0]!, resolver: res, peers });
      const w = createSessionRuntime({ identity: ids[1]!, resolver: res, peers });
      const srv = new grpc.Server({ interceptors: [w.serverInterceptor()] });
      const got: string[] = [];
      w.serve(srv, SingleW, { request: ({ message }) => void got.push(message.query) });
      const port = await new Promise<number>((res2, rej) => srv.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res2(p))));
      Object.defineProperty(record, server, { value: `127.0.0.1:${port}`, enumerable: true });
      map.set(server, `127.0.0.1:${port}`);
      try {
        const s0 = await c.start(SingleC, { c: client, w: server });
        const done = await s0.request({ query: "job" });
        t.true("final" in done);
        await new Promise((r) => setTimeout(r, 20));
        t.deepEqual(got, ["job"]);
        // And a principal with no address is refused by name, not found on Object.prototype.
        const s1 = await c.start(SingleC, { c: client, w: client });
        const err = await t.throwsAsync(s1.request({ query: "lost" }));
        t.is(err!.message, `secsession: no address for principal ${JSON.stringify(client)}: add it to the runtime's peers`);
      } finally {
        c.close();
        srv.forceShutdown();
      }
    });
  }
}

test("a plain object address book is read by own keys only", async (t) => {
  const rt = createSessionRuntime({ identity: me, resolver: staticResolver([[me.id, publicKeysOf(me)], ["toString", publicKeysOf(generateIdentity("toString"))]]), peers: {} });
  const s0 = await rt.start(SingleC, { c: "customer", w: "toString" });
  const err = await t.throwsAsync(s0.request({ query: "x" }));
  t.is(err!.message, 'secsession: no address for principal "toString": add it to the runtime\'s peers');
  rt.close();
});

test("skipping attestation checks is reachable only through an internal key, not from the package", async (t) => {
  const pkg = await import("../../interceptors/index.js");
  const { SKIP_ATTESTATION_CHECKS } = await import("../../interceptors/api/options.js");
  t.false(Object.values(pkg).includes(SKIP_ATTESTATION_CHECKS as never));
  t.true(createSessionRuntime({ identity: me, resolver }).party(SingleW).ctx.verifyAttestations);
  const bench = createSessionRuntime({ identity: me, resolver, [SKIP_ATTESTATION_CHECKS]: true } as SessionRuntimeOptions);
  t.false(bench.party(SingleW).ctx.verifyAttestations);
});
