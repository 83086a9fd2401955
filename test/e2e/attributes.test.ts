/**
 * The security attributes of examples/attributes/attributes.proto, switched
 * per interaction and per direction, change the bytes on the wire
 * accordingly. The session runs over real gRPC on loopback; a man in the
 * middle in front of each receiving party (bank, auditor) records every
 * envelope, requests and responses, as the network sees them.
 */
import { aeadNonceLength } from "../../interceptors/keys/crypto/index.js";
import test from "ava";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import {
  AccountSchema,
  ClosedSchema,
  CloseOrderSchema,
  ClosingReportSchema,
  FiledSchema,
  OpenRequestSchema,
  RatesRequestSchema,
  RatesResponseSchema,
  TransferOrderSchema,
  TransferReceiptSchema,
} from "../../gen/attributes/attributes_pb.js";
import { AttributesA, AttributesB, AttributesC, AttributesSession } from "../../gen/attributes/attributes_secsession.js";
import type { Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import { decode, mitm, rewrite, type Mitm } from "../../examples/support/adversary/mitm.js";
import { runMain } from "../../examples/support/run-main.js";
import type { EdgeDescriptor, EvidenceEntry } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";

const edges = AttributesSession.edges;
const edge = (method: string, kind: EdgeDescriptor["kind"]): EdgeDescriptor => {
  const e = edges.find((x) => x.rpc.endsWith(`/${method}`) && x.kind === kind);
  if (e === undefined) throw new Error(`no ${kind} edge for ${method}`);
  return e;
};
const E = {
  openReq: edge("Open", "request"),
  openRes: edge("Open", "response"),
  ratesReq: edge("Rates", "request"),
  ratesRes: edge("Rates", "response"),
  transferReq: edge("Transfer", "request"),
  transferRes: edge("Transfer", "response"),
  closeReq: edge("Close", "request"),
  closeRes: edge("Close", "response"),
  report: edge("Report", "oneway"),
  file: edge("File", "oneway"),
};
const bindings = { c: "client", b: "bank", a: "auditor" };
const order = { payee: "FR76-3000-4000-0123", amountCents: 12_500n, memo: "rent for March" };

/** One session message as the network carried it (receipts of one-way messages are left out). */
interface Wire {
  readonly bytes: Uint8Array;
  readonly env: Envelope;
  readonly edge: EdgeDescriptor;
}

type Tamper = "Transfer request" | "Transfer response" | "Report";
const TAMPERED: Record<Tamper, EdgeDescriptor> = { "Transfer request": E.transferReq, "Transfer response": E.transferRes, Report: E.report };

/**
 * The client, bank and auditor on loopback behind two men in the middle.
 * Every message a party sends goes through `say`, which records
 * `toBinary(schema, message)` per edge, in order.
 */
async function setup(tamper?: Tamper) {
  const evidence: EvidenceEntry[] = [];
  const taps: Record<string, Mitm> = {};
  const c = cluster(Object.values(bindings), (id) => ({
    peers: (principal: string) => taps[principal]?.address,
    ...(id === "bank" ? { evidence: { append: (e: EvidenceEntry) => void evidence.push(e) } } : {}),
  }));
  const plain = new Map<number, Uint8Array[]>();
  const say = <D extends DescMessage>(e: EdgeDescriptor, schema: D, init: MessageInitShape<D>): MessageInitShape<D> => {
    plain.set(e.id, [...(plain.get(e.id) ?? []), toBinary(schema, create(schema, init))]);
    return init;
  };
  const failures: unknown[] = [];
  const { client, bank, auditor } = c.peers;
  bank!.runtime.serve(bank!.server, AttributesB, {
    open: async ({ message, next }) => {
      const accountId = `${message.owner}-1`;
      let s = await next.openResponse(say(E.openRes, AccountSchema, { accountId, balanceCents: 100_000n }));
      for (;;) {
        const r = await s.receive();
        if (r.kind === "rates") s = await r.next.ratesResponse(say(E.ratesRes, RatesResponseSchema, { currency: r.message.currency, microEur: 920_000n }));
        else if (r.kind === "transfer") {
          const { payee, amountCents, memo } = r.message;
          s = await r.next.transferResponse(say(E.transferRes, TransferReceiptSchema, { payee, amountCents, memo }));
        } else {
          let waiting;
          try {
            waiting = await r.next.report(say(E.report, ClosingReportSchema, { accountId, transfers: 2n, finalBalanceCents: 75_000n }));
          } catch (e: unknown) {
            failures.push(e);
            throw e;
          }
          const filed = await waiting.receive();
          await filed.next.closeResponse(say(E.closeRes, ClosedSchema, { finalBalanceCents: 75_000n, auditReference: filed.message.reference }));
          return;
        }
      }
    },
  });
  auditor!.runtime.serve(auditor!.server, AttributesA, {
    report: async ({ message, next }) => void (await next.file(say(E.file, FiledSchema, { reference: `audit-${message.accountId}` }))),
  });
  await c.listen();

  const wire: Wire[] = [];
  const record = (bytes: Uint8Array) => {
    const env = decode(bytes);
    if (!env.ack) wire.push({ bytes, env, edge: edges[env.edge]! });
  };
  const flip = (bytes: Uint8Array) => rewrite(bytes, (e) => void (e.payload[Math.floor(e.payload.length / 2)]! ^= 0x01));
  for (const [id, role] of [["bank", "b"], ["auditor", "a"]] as const) {
    const paths = [...new Set(edges.filter((e) => e.receiver === role && e.kind !== "response").map((e) => e.rpc))];
    const tap = await mitm(() => c.addresses[id]!, paths);
    tap.policy = async (path, bytes, forward) => {
      const request = (tamper === "Transfer request" && path.endsWith("/Transfer")) || (tamper === "Report" && path.endsWith("/Report")) ? flip(bytes) : bytes;
      record(request);
      const o = await forward(path, request);
      if (!o.ok) return o;
      const response = tamper === "Transfer response" && path.endsWith("/Transfer") ? { ok: true as const, bytes: flip(o.bytes) } : o;
      record(response.bytes);
      return response;
    };
    taps[id] = tap;
  }

  /** The client's side: open, rates, the same transfer twice, rates, close. */
  const play = async () => {
    const s0 = await client!.runtime.start(AttributesC, bindings);
    const opened = await s0.open(say(E.openReq, OpenRequestSchema, { owner: "alice" }));
    const r1 = await opened.next.rates(say(E.ratesReq, RatesRequestSchema, { currency: "USD" }));
    const t1 = await r1.next.transfer(say(E.transferReq, TransferOrderSchema, order));
    const t2 = await t1.next.transfer(say(E.transferReq, TransferOrderSchema, order));
    const r2 = await t2.next.rates(say(E.ratesReq, RatesRequestSchema, { currency: "USD" }));
    const closed = await r2.next.close(say(E.closeReq, CloseOrderSchema, { accountId: opened.message.accountId, reason: "moving abroad" }));
    return { closed, receipts: [t1.message, t2.message] };
  };
  return {
    c,
    wire,
    plain,
    evidence,
    failures,
    play,
    close: async () => {
      for (const t of Object.values(taps)) t.close();
      await c.close();
    },
  };
}

const contains = (hay: Uint8Array, needle: Uint8Array): boolean => Buffer.from(hay).includes(Buffer.from(needle));
const own = (w: Wire) => w.env.attestations.filter((a) => a.role === w.edge.sender && a.step === w.env.step);

test("the session declares the attributes it was written with, per direction", (t) => {
  const compact = (e: EdgeDescriptor) => {
    const s = e.security;
    return `${s.privacy} ${s.authenticity}${s.nonRepudiation ? "+nr" : ""} history=${s.history} replay=${s.replayPrevention ? "on" : "off"}`;
  };
  t.deepEqual(Object.fromEntries(Object.entries(E).map(([k, e]) => [k, compact(e)])), {
    openReq: "none hmac-sha256 history=visibility replay=on",
    openRes: "none hmac-sha256 history=visibility replay=on",
    ratesReq: "none hmac-sha256 history=visibility replay=on",
    ratesRes: "none none history=none replay=off",
    transferReq: "chacha20-poly1305 hmac-sha256 history=visibility replay=on",
    transferRes: "aes-256-gcm hmac-sha256 history=visibility replay=on",
    closeReq: "none ed25519+nr history=visibility replay=on",
    closeRes: "none hmac-sha256 history=visibility replay=on",
    report: "xsalsa20-poly1305 hmac-sha256 history=visibility replay=on",
    file: "none hmac-sha256 history=visibility replay=on",
  });
  t.is(AttributesSession.security.keyEstablishment, "noise");
});

test("the bytes on the wire follow each direction's attributes, and every message is accepted", async (t) => {
  const s = await setup();
  try {
    const { closed, receipts } = await s.play();
    t.true(closed.next.final);
    t.is(closed.message.auditReference, "audit-alice-1");
    t.deepEqual(receipts.map((r) => r.memo), [order.memo, order.memo]);
    for (const p of Object.values(s.c.peers)) t.deepEqual(p.runtime.metrics.refused, {}, `${p.id} refused nothing`);

    // Every edge of the session crossed the wire, in protocol order, with the plaintext its sender serialised.
    t.deepEqual([...new Set(s.wire.map((w) => w.edge.id))].sort((x, y) => x - y), edges.map((e) => e.id));
    t.deepEqual(s.wire.map((w) => w.env.step), s.wire.map((_, i) => BigInt(i + 1)));
    const cursor = new Map<number, number>();
    const plaintextOf = (w: Wire): Uint8Array => {
      const i = cursor.get(w.edge.id) ?? 0;
      cursor.set(w.edge.id, i + 1);
      return s.plain.get(w.edge.id)![i]!;
    };

    for (const w of s.wire) {
      const where = `step ${w.env.step} ${w.edge.rpc} ${w.edge.kind}`;
      const sec = w.edge.security;
      const pt = plaintextOf(w);
      // Privacy.
      if (sec.privacy === "none") {
        t.deepEqual(new Uint8Array(w.env.payload), pt, `${where}: the payload is toBinary(message), byte for byte`);
        t.is(w.env.payloadKeyVersion, 0, where);
      } else {
        t.false(contains(w.env.payload, pt), `${where}: the plaintext is not on the wire`);
        t.is(w.env.payload.length, aeadNonceLength(sec.privacy) + pt.length + 16, `${where}: random nonce, then AEAD (plaintext + 16-byte tag)`);
        t.true(w.env.payloadKeyVersion > 0, `${where}: payload_key_version names the pair-channel key`);
      }
      // Authenticity: the envelope MAC for the receiver, and what the sender attests for this very message.
      const mine = own(w);
      if (sec.authenticity === "none") t.is(w.env.mac.length, 0, `${where}: no envelope MAC`);
      else t.is(w.env.mac.length, 32, `${where}: an HMAC-SHA256 envelope MAC for the receiver`);
      if (sec.authenticity === "ed25519") {
        t.is(mine.length, 1, `${where}: one signature`);
        t.is(mine[0]!.target, "", `${where}: a signature has no target`);
        t.is(mine[0]!.tag.length, 64, `${where}: Ed25519 tag`);
        t.false(w.env.attestations.some((a) => a.target === w.edge.receiver), `${where}: no MAC attestation for the receiver`);
      } else if (sec.authenticity === "hmac-sha256") {
        for (const a of mine) {
          t.not(a.target, "", `${where}: a MAC names its target`);
          t.not(a.target, w.edge.receiver, `${where}: the receiver's MAC is the envelope MAC`);
          t.is(a.tag.length, 32, `${where}: HMAC-SHA256 tag`);
        }
      } else {
        t.deepEqual(mine, [], `${where}: the sender attests nothing for this message`);
        t.true(w.env.attestations.every((a) => a.step < w.env.step), `${where}: anything present was carried from earlier steps`);
      }
    }

    // Same plaintext, different ciphertexts: the two transfer orders, and an order and its echoed receipt.
    const [o1, o2] = s.wire.filter((w) => w.edge === E.transferReq);
    const [r1, r2] = s.wire.filter((w) => w.edge === E.transferRes);
    const [p1, p2] = s.plain.get(E.transferReq.id)!;
    t.deepEqual(p1, p2, "the two orders serialise identically");
    t.deepEqual(s.plain.get(E.transferRes.id)![0], p1, "the receipt serialises exactly as the order");
    t.notDeepEqual(o1!.env.payload, o2!.env.payload, "ChaCha20-Poly1305: same plaintext, different ciphertext");
    t.notDeepEqual(r1!.env.payload, r2!.env.payload, "AES-256-GCM: same plaintext, different ciphertext");
    t.notDeepEqual(o1!.env.payload, r1!.env.payload, "request and response directions differ");
    t.false(contains(o1!.bytes, new TextEncoder().encode(order.memo)), "not even a field of the order is visible");

    // Non-repudiation: the bank's evidence log keeps the client's signature of the Close order.
    const close = s.wire.find((w) => w.edge === E.closeReq)!;
    const kept = s.evidence.filter((e) => e.direction === "received").flatMap((e) => e.signatures);
    t.true(kept.some((x) => x.role === "c" && x.step === close.env.step && Buffer.from(x.tag).equals(Buffer.from(own(close)[0]!.tag))));
  } finally {
    await s.close();
  }
});

// The stronger statement for the all-off direction: nothing on it is authenticated, and nothing is carried across
// it either (no role needs an attestation that would have to travel there: plan.ts attestTargets).
test("the all-off direction carries no attestations at all", async (t) => {
  const s = await setup();
  try {
    await s.play();
    const rates = s.wire.filter((w) => w.edge === E.ratesRes);
    t.is(rates.length, 2);
    for (const w of rates) t.deepEqual(w.env.attestations, [], `step ${w.env.step}`);
  } finally {
    await s.close();
  }
});

for (const [tamper, refuser, how] of [
  ["Transfer request", "bank", "ChaCha20-Poly1305 request: the client's call"],
  ["Transfer response", "client", "AES-256-GCM response: the client's call (it receives the response)"],
  ["Report", "auditor", "XSalsa20-Poly1305 one-way: the bank's send"],
] as const) {
  test(`one flipped byte of a private payload in flight is refused — ${how} fails UNAUTHENTICATED`, async (t) => {
    const s = await setup(tamper);
    try {
      const err = await t.throwsAsync(s.play());
      if (tamper === "Report") {
        // The bank's Report fails; its handler gives up, and the client's Close fails in turn.
        t.is(s.failures.length, 1);
        t.is((s.failures[0] as { code?: number }).code, 16, "UNAUTHENTICATED");
      } else {
        t.is((err as { code?: number }).code, 16, "UNAUTHENTICATED");
      }
      t.deepEqual(s.c.peers[refuser]!.runtime.metrics.refused as Record<string, number>, { "bad-attestation": 1 });
      const flipped = s.wire.find((w) => w.edge === TAMPERED[tamper])!;
      t.true(flipped.env.payloadKeyVersion > 0, "the flipped payload was a ciphertext");
    } finally {
      await s.close();
    }
  });
}

test("examples/attributes/main.ts prints each message with its attributes and envelope size", (t) => {
  const output = runMain("attributes");
  t.regex(output, /c → b {2}Transfer +chacha20-poly1305 · hmac-sha256 · history visibility · replay on +\d+ B {2}payload \d+ B sealed/);
  t.regex(output, /b → c {2}Rates response +clear · no auth · history none · replay off +\d+ B {2}payload \d+ B clear/);
  t.regex(output, /c → b {2}Close +clear · ed25519\+nr .* c sig 64 B/);
  t.regex(output, /b → a {2}Report +xsalsa20-poly1305/);
  t.regex(output, /every message accepted/);
});
