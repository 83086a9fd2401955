/**
 * Save and restore of a role's session (docs/save-restore.md): the state
 * codec round-trips real Shopping states exactly; an export taken mid-way
 * continues in a new process and the other roles accept its messages (while
 * a wrong restore is refused by the monitor); tampered, stale, misdirected
 * exports and wrong storage keys are refused and change nothing.
 */
import test, { type ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { OfferRequestSchema } from "../../gen/shopping/shopping_pb.js";
import { ShoppingC, ShoppingSession } from "../../gen/shopping/shopping_secsession.js";
import { SingleC } from "../../gen/single/single_secsession.js";
import {
  createMemoryStore,
  createSessionRuntime,
  decodeState,
  encodeState,
  exportSession,
  highWaterKey,
  highWaterMarksOf,
  importSession,
  ImportRefusedError,
  localStateOf,
  resumeSession,
  SecSessionError,
  sealState,
  SessionRuntime,
  StaleExportError,
  type Party,
  type ResumableRuntime,
  type SessionState,
} from "../../interceptors/index.js";
import { b64, identityToJson, peersToJson, unb64, type Reply } from "./fixtures/wire.js";
import { BINDINGS, edge, negotiate, send, shop, spawnChild, type Principal, type Shop } from "./shop.js";

const storageKey = (): Uint8Array => new Uint8Array(randomBytes(32));

/** The parts of an export: "SSEX" ‖ u8 ‖ code(32) ‖ lps(role) ‖ sid(32) ‖ nonce(12) ‖ ct. */
const ROLE_AT = 4 + 1 + 32;
const sidAt = (role: string) => ROLE_AT + 4 + Buffer.byteLength(role);

function ok(t: ExecutionContext, r: Reply): Record<string, unknown> {
  if (!r.ok) t.fail(`child: ${r.name}: ${r.message}`);
  return r as Record<string, unknown>;
}

async function refusedKind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof SecSessionError) return e.kind;
    throw e;
  }
  return "accepted";
}

/** A store key's state and mark, to show a refusal changed nothing. */
async function snapshot(party: Party, sid: string): Promise<{ state: SessionState | undefined; mark: number | undefined }> {
  const key = party.key(sid);
  return { state: await party.core.store.get(key), mark: await highWaterMarksOf(party.core.store)!.get(highWaterKey(key)) };
}

// ---- (a) the codec ----

test("(a) encodeState round-trips every state of a Shopping run exactly, canonically, without sharing buffers", async (t) => {
  const s = shop();
  const seen = new Set<string>();
  const check = async (who: Principal, sid: string) => {
    const st = (await s.parties[who].state(sid))!;
    const bytes = encodeState(st);
    const back = decodeState(bytes);
    t.deepEqual(back, st, `${who} at version ${st.version}`);
    t.deepEqual(encodeState(back), bytes, "the encoding is canonical");
    t.not(back.h, st.h);
    for (const [peer, p] of Object.entries(st.pairs)) {
      t.not(back.pairs[peer]!.root, p.root, "decoded keys are fresh buffers");
      if (p.mine) seen.add("mine");
      if (p.theirs) seen.add("theirs");
      if (p.send) seen.add("send");
      if (p.recv) seen.add("recv");
      seen.add(`mustRatchet=${p.mustRatchet}`);
      if (p.version > 1) seen.add("ratcheted");
    }
    if (st.history.length > 0) seen.add("history");
    if (Object.keys(st.carried).length > 0) seen.add("carried");
    if (Object.keys(st.carriedUpdates).length > 0) seen.add("carriedUpdates");
    if (Object.keys(st.lastActed).length > 0) seen.add("lastActed");
  };
  let sid = "";
  const start = s.parties.customer.start.bind(s.parties.customer);
  (s.parties.customer as { start: typeof start }).start = async (b) => {
    const st = await start(b);
    sid = st.key;
    await check("customer", sid);
    return st;
  };
  await negotiate(s, 3, async (from, to) => {
    await check(from, sid);
    await check(to, sid);
  });
  await send(s.parties.customer, s.parties.warehouse, sid, "Accept");
  await check("customer", sid); // a tombstone: c's part is over
  await send(s.parties.warehouse, s.parties.office, sid, "Confirm");
  await check("warehouse", sid);
  await check("office", sid);
  t.deepEqual([...seen].sort(), ["carried", "carriedUpdates", "history", "lastActed", "mine", "mustRatchet=false", "mustRatchet=true", "ratcheted", "recv", "send", "theirs"]);

  // Shopping compares no values: a state with some, and every optional field absent, round-trips too.
  const st = (await s.parties.office.state(sid))!;
  const withValues: SessionState = { ...st, values: { "/a.B/C|request": Uint8Array.of(1, 2, 3), "/a.B/C|response": new Uint8Array(0) }, pairs: { x: { version: 1, root: new Uint8Array(32), mine: undefined, theirs: undefined, send: undefined, recv: undefined, mustRatchet: false, sent: 3, dhAtMs: 1_700_000_000_000 } } };
  t.deepEqual(decodeState(encodeState(withValues)), withValues);
});

test("(a) encodeState refuses what it cannot carry exactly", (t) => {
  const s = shop();
  return s.parties.customer.start(BINDINGS).then((st) => {
    t.throws(() => encodeState({ ...st, extra: 1 } as SessionState), { message: /unknown field "extra"/ });
    t.throws(() => encodeState({ ...st, step: -1n }), { message: /step/ });
    t.throws(() => encodeState({ ...st, step: 1n << 64n }), { message: /step/ });
    t.throws(() => encodeState({ ...st, role: "\ud800" }), { message: /well-formed/ });
    t.throws(() => encodeState({ ...st, key: "00" }), { message: /key/ });
    t.throws(() => encodeState({ ...st, h: new Uint8Array(31) }), { message: /h: expected 32 bytes/ });
    t.throws(() => encodeState({ ...st, lastActed: { c: "01" } }), { message: /canonical decimal/ });
    t.throws(() => encodeState({ ...st, version: 0.5 }), { message: /version/ });
  });
});

// ---- (b) export mid-way, continue in a new process ----

test.serial("(b) an export taken mid-way continues in a new process: the other roles accept its next messages", async (t) => {
  const s = shop();
  const { customer: c, office: o, warehouse: w } = s.parties;
  const sid = await negotiate(s, 2); // Request, Contract, Offer, Change, Offer, Change, Offer
  const key = storageKey();
  const atExport = (await c.state(sid))!;
  const blob = await exportSession(c, sid, key);

  // Control: a wrong restore is refused by the peers — a state whose transcript
  // hash, pair-channel root or step differs cannot continue the session.
  const wBefore = (await w.state(sid))!.version;
  const flip = (b: Uint8Array) => {
    const x = b.slice();
    x[0]! ^= 1;
    return x;
  };
  const wrongs: Array<[SessionState, string]> = [
    [{ ...atExport, h: flip(atExport.h) }, "bad-attestation"],
    [{ ...atExport, pairs: { ...atExport.pairs, warehouse: { ...atExport.pairs["warehouse"]!, root: flip(atExport.pairs["warehouse"]!.root) } } }, "bad-key-update"],
    [{ ...atExport, step: atExport.step + 1n }, "out-of-order"],
  ];
  for (const [wrong, kind] of wrongs) {
    const other = s.fresh("customer");
    await importSession(other.party, sealState(c, wrong, key), key);
    t.is(await refusedKind(send(other.party, w, sid, "Change", { change: "x" })), kind, "a wrong restore is refused");
  }
  t.is((await w.state(sid))!.version, wBefore, "the refused messages changed nothing at w");

  const child = spawnChild();
  try {
    ok(t, await child.request({ op: "init", identity: identityToJson(s.identities.customer), peers: peersToJson(Object.values(s.identities).map((i) => [i.id, { x25519: i.x25519.publicKey, ed25519: i.ed25519.publicKey }] as const)), storageKey: b64(key) }));
    const imported = ok(t, await child.request({ op: "import", blob: b64(blob) }));
    t.is(imported["version"], atExport.version);
    t.is(imported["step"], atExport.step.toString());

    // The restored customer asks for another change: w accepts it, and c checks w's receipt.
    const change = edge("Change");
    const wrapped = ok(t, await child.request({ op: "wrap", sessionKey: sid, edge: change.id, init: { change: "cheaper still" } }));
    const r1 = await w.unwrap(unb64(wrapped["bytes"] as string), change.rpc, ["oneway", "request"], "customer");
    t.is(r1.edge.id, change.id);
    t.is((r1.message as unknown as { change: string }).change, "cheaper still");
    ok(t, await child.request({ op: "receipt", edge: change.id, bytes: b64(w.receipt(r1)), peer: "warehouse" }));

    // The original process still holds the exported state: its own next message is refused (w saw this step).
    t.is(await refusedKind(send(c, w, sid, "Accept")), "replay", "a fork of the session is refused by the peer");

    // w offers again: the restored customer accepts the message (steps, transcript, MACs under ratcheted keys).
    const offer = edge("Offer");
    const sent = await w.wrap(sid, offer, create(OfferRequestSchema, { offer: "95" }));
    const got = ok(t, await child.request({ op: "unwrap", bytes: b64(sent.bytes), rpc: offer.rpc, peer: "warehouse" }));
    t.is(got["edge"], offer.id);
    t.deepEqual(got["message"], { offer: "95" });
    w.checkReceipt(unb64(got["receipt"] as string), sent.state, offer, "customer", sent.expectedReceipt);

    // The restored customer accepts; w confirms to o: every role reaches the end.
    const accept = edge("Accept");
    const acc = ok(t, await child.request({ op: "wrap", sessionKey: sid, edge: accept.id, init: {} }));
    const r2 = await w.unwrap(unb64(acc["bytes"] as string), accept.rpc, ["oneway", "request"], "customer");
    ok(t, await child.request({ op: "receipt", edge: accept.id, bytes: b64(w.receipt(r2)), peer: "warehouse" }));
    await send(w, o, sid, "Confirm");
    const end = ShoppingSession.edges.find((e) => e.rpc.endsWith("/Confirm"))!.to;
    t.is((await o.state(sid))!.state, end);
    t.is((await w.state(sid))!.state, end);
    const childState = ok(t, await child.request({ op: "state", sessionKey: sid }));
    t.is(childState["step"], r2.state.step.toString(), "the restored customer's transcript position is w's after Accept");
    t.true(c.plan.finishedFor("c").has(childState["state"] as number));
  } finally {
    t.is(await child.close(), 0);
  }
});

// ---- (c) tampering ----

test("(c) a tampered export is refused, whichever byte changed, and changes nothing", async (t) => {
  const s = shop();
  const sid = await negotiate(s, 1);
  const key = storageKey();
  const blob = await exportSession(s.parties.customer, sid, key);
  const target = s.fresh("customer");
  const before = await snapshot(target.party, sid);
  const kinds = new Set<string>();
  for (let i = 0; i < blob.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const bad = blob.slice();
      bad[i]! ^= bit;
      const e = await t.throwsAsync(importSession(target.party, bad, key), { instanceOf: ImportRefusedError });
      kinds.add(e!.kind);
    }
  }
  await t.throwsAsync(importSession(target.party, blob.subarray(0, blob.length - 1), key), { instanceOf: ImportRefusedError });
  await t.throwsAsync(importSession(target.party, Uint8Array.from([...blob, 0]), key), { instanceOf: ImportRefusedError });
  await t.throwsAsync(importSession(target.party, new Uint8Array(0), key), { instanceOf: ImportRefusedError });
  t.deepEqual([...kinds].sort(), ["malformed", "unauthentic", "wrong-party"]);
  t.deepEqual(await snapshot(target.party, sid), before, "no state, no mark");
  t.deepEqual(target.runtime.core.vault.alive(`${sid}:c:warehouse`), [], "no key entered the vault");

  // The intact export imports, and its keys enter the vault at their versions.
  const st = await importSession(target.party, blob, key);
  t.is(st.version, (await s.parties.customer.state(sid))!.version);
  t.true(target.runtime.core.vault.alive(`${sid}:c:warehouse`).length > 0);
  t.is(target.runtime.core.vault.version(`${sid}:c:warehouse`), st.pairs["warehouse"]!.version);
});

// ---- (d) stale exports ----

test("(d) a stale export is refused once a newer state is in the store, and after it is deleted (high-water mark)", async (t) => {
  const s = shop();
  const { customer: c, office: o, warehouse: w } = s.parties;
  const sid = await negotiate(s, 1);
  const key = storageKey();
  const old = await exportSession(c, sid, key);
  const v = (await c.state(sid))!.version;
  await send(c, w, sid, "Change", { change: "cheaper" });
  await send(w, c, sid, "Offer", { offer: "90" });
  const newer = await exportSession(c, sid, key);
  const current = (await c.state(sid))!;
  t.is(current.version, v + 2);

  const e1 = await t.throwsAsync(importSession(c, old, key), { instanceOf: StaleExportError });
  t.like(e1, { source: "state", exportVersion: v, storedVersion: v + 2 });
  const e2 = await t.throwsAsync(importSession(c, newer, key), { instanceOf: StaleExportError });
  t.like(e2, { source: "state", exportVersion: v + 2 }, "an export no newer than the stored state is refused too");
  t.is(await c.state(sid), current, "the refusals changed nothing");

  // The state is deleted: the mark still refuses the older export.
  await c.core.store.delete(c.key(sid));
  const e3 = await t.throwsAsync(importSession(c, old, key), { instanceOf: StaleExportError });
  t.like(e3, { source: "high-water", exportVersion: v, storedVersion: v + 2 });
  t.deepEqual(await snapshot(c, sid), { state: undefined, mark: v + 2 });

  // The latest export restores the session, which then completes.
  await importSession(c, newer, key);
  await send(c, w, sid, "Accept");
  await send(w, o, sid, "Confirm");
  t.true(o.plan.finishedFor("o").has((await o.state(sid))!.state));

  // The limit: a store with no memory of the session (a fresh in-memory one)
  // accepts the old export — and the peers then refuse the fork's messages.
  const amnesiac = s.fresh("customer");
  await importSession(amnesiac.party, old, key);
  const wBefore = (await w.state(sid))!.version;
  t.is(await refusedKind(send(amnesiac.party, w, sid, "Change", { change: "x" })), "replay");
  t.is((await w.state(sid))!.version, wBefore);
});

test("(d) importSession needs a high-water mark unless told to do without", async (t) => {
  const s = shop();
  const sid = await negotiate(s, 0);
  const key = storageKey();
  const blob = await exportSession(s.parties.customer, sid, key);
  const plain = createSessionRuntime({ identity: s.identities.customer, resolver: s.resolver, store: createMemoryStore() }).party(ShoppingC);
  await t.throwsAsync(importSession(plain, blob, key), { message: /high-water/ });
  t.is(await plain.state(sid), undefined);
  const st = await importSession(plain, blob, key, { marks: null });
  t.is((await plain.state(sid))?.version, st.version);
  await t.throwsAsync(importSession(plain, blob, key, { marks: null }), { instanceOf: StaleExportError });
});

// ---- (e) misdirected exports ----

test("(e) an export of role c cannot be imported as role w, by another principal, for another session code, or into another session", async (t) => {
  const s = shop();
  const c = s.parties.customer;
  const sid = await negotiate(s, 1);
  const sid2 = (await c.start(BINDINGS)).key; // another session of the same parties
  const key = storageKey();
  const blob = await exportSession(c, sid, key);

  // As role w (the warehouse's own party), with the header as written …
  const w = s.fresh("warehouse").party;
  t.like(await t.throwsAsync(importSession(w, blob, key), { instanceOf: ImportRefusedError }), { kind: "wrong-party" });
  // … or with the header's role rewritten to "w": it no longer authenticates.
  const asW = blob.slice();
  asW[ROLE_AT + 4] = "w".charCodeAt(0);
  t.like(await t.throwsAsync(importSession(w, asW, key), { instanceOf: ImportRefusedError }), { kind: "unauthentic" });
  t.is(await w.state(sid), undefined);

  // Role c played by another principal (the office's runtime).
  const byOffice = s.fresh("office").runtime.party(ShoppingC);
  t.like(await t.throwsAsync(importSession(byOffice, blob, key), { instanceOf: ImportRefusedError }), { kind: "wrong-party" });
  t.is(await byOffice.state(sid), undefined);

  // Role c of another session code (Single also has a role c), with the header's code as written or rewritten.
  const single = s.fresh("customer").runtime.party(SingleC);
  t.like(await t.throwsAsync(importSession(single, blob, key), { instanceOf: ImportRefusedError }), { kind: "wrong-party" });
  const asSingle = blob.slice();
  asSingle.set(single.plan.code, 5);
  t.like(await t.throwsAsync(importSession(single, asSingle, key), { instanceOf: ImportRefusedError }), { kind: "unauthentic" });

  // Into another session: the caller names the one it expects, or the header's id is rewritten.
  const target = s.fresh("customer").party;
  t.like(await t.throwsAsync(importSession(target, blob, key, { sessionKey: sid2 }), { instanceOf: ImportRefusedError }), { kind: "wrong-session" });
  const intoSid2 = blob.slice();
  intoSid2.set(Buffer.from(sid2, "hex"), sidAt("c"));
  t.like(await t.throwsAsync(importSession(target, intoSid2, key), { instanceOf: ImportRefusedError }), { kind: "unauthentic" });
  t.is(await target.state(sid), undefined);
  t.is(await target.state(sid2), undefined);
  t.is((await importSession(target, blob, key, { sessionKey: sid })).key, sid);
});

// ---- (f) storage keys ----

test("(f) a wrong storage key is refused and changes nothing", async (t) => {
  const s = shop();
  const sid = await negotiate(s, 1);
  const blob = await exportSession(s.parties.customer, sid, storageKey());
  const target = s.fresh("customer").party;
  t.like(await t.throwsAsync(importSession(target, blob, storageKey()), { instanceOf: ImportRefusedError }), { kind: "unauthentic" });
  await t.throwsAsync(importSession(target, blob, new Uint8Array(31)), { instanceOf: RangeError });
  await t.throwsAsync(exportSession(s.parties.customer, sid, new Uint8Array(16)), { instanceOf: RangeError });
  t.deepEqual(await snapshot(target, sid), { state: undefined, mark: undefined });
  await t.throwsAsync(exportSession(s.parties.customer, "00".repeat(32), storageKey()), { message: /no session/ });
});

test("two exports of one state differ (random nonce) and both decrypt to the same state", async (t) => {
  const s = shop();
  const sid = await negotiate(s, 0);
  const key = storageKey();
  const a = await exportSession(s.parties.customer, sid, key);
  const b = await exportSession(s.parties.customer, sid, key);
  t.notDeepEqual(a, b);
  const ta = s.fresh("customer").party;
  const tb = s.fresh("customer").party;
  t.deepEqual(await importSession(ta, a, key), await importSession(tb, b, key));
});

// ---- resuming in a runtime ----

test("localStateOf maps every global state of Shopping to the local state of each role", (t) => {
  for (const role of ["c", "o", "w"]) {
    const p = ShoppingSession.projections[role]!;
    for (const g of ShoppingSession.states) {
      const local = localStateOf(ShoppingSession, role, g.id);
      t.true(p.states[local]!.globals.includes(g.id));
    }
  }
  t.throws(() => localStateOf(ShoppingSession, "c", 99), { message: /in 0 local states/ });
  t.throws(() => localStateOf(ShoppingSession, "x", 0), { message: /no role x/ });
});

const hasResume = typeof (SessionRuntime.prototype as unknown as Partial<ResumableRuntime>).resume === "function";

if (hasResume) {
  test.serial("resumeSession: an imported session continues through the typed API over gRPC", async (t) => {
    const { resumeOverGrpc } = await import("./resume-grpc.js");
    await resumeOverGrpc(t);
  });
} else {
  test("resumeSession explains what it needs while SessionRuntime.resume is missing", async (t) => {
    const s: Shop = shop();
    const sid = await negotiate(s, 0);
    const runtime = s.fresh("customer").runtime;
    await t.throwsAsync(resumeSession(runtime, ShoppingC, sid), { message: /no session/ });
    await importSession(runtime.party(ShoppingC), await exportSession(s.parties.customer, sid, new Uint8Array(32)), new Uint8Array(32));
    await t.throwsAsync(resumeSession(runtime, ShoppingC, sid), { message: /needs SessionRuntime\.resume/ });
  });
  test.todo("resumeSession over gRPC (runs once SessionRuntime.resume exists: test/store/resume-grpc.ts)");
}
