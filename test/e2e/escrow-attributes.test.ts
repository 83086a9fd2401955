/**
 * Security attributes switched per direction in examples/escrow/escrow.proto
 * change the bytes on the wire accordingly (recorded by men in the middle).
 */
import test from "ava";
import { create, toBinary } from "@bufbuild/protobuf";
import { CloseRequestSchema, DepositRequestSchema, DepositResponseSchema, NotifyRequestSchema, ShipmentSchema } from "../../gen/escrow/escrow_pb.js";
import { EscrowB, EscrowE, EscrowS, EscrowSession } from "../../gen/escrow/escrow_secsession.js";
import type { Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import { decode, mitm, rewrite, type Mitm } from "../../examples/support/adversary/mitm.js";
import { cluster } from "../support/parties.js";

const deposit = { card: "4111 1111 1111 1111", amountCents: 12_900n };
const order = { order: "one bicycle" };
const shipment = { tracking: "TRACK-42" };

async function run(tamper = false) {
  const c = cluster(["buyer", "agent", "seller"]);
  const { buyer, agent, seller } = c.peers;
  const wire: Array<{ path: string; request: Envelope; response: Envelope | undefined }> = [];
  let closed = "";
  agent!.runtime.serve(agent!.server, EscrowE, {
    deposit: async ({ next }) => {
      const shipped = await next.notify(order);
      const s = await shipped.next.depositResponse({ depositId: `D-${shipped.message.tracking}` });
      const close = await s.receive();
      closed = close.message.note;
    },
  });
  seller!.runtime.serve(seller!.server, EscrowS, { notify: async ({ next }) => void (await next.notifyResponse(shipment)) });
  await c.listen();
  const real = { ...c.addresses };
  const proxies: Mitm[] = [];
  for (const [id, role] of [["agent", "e"], ["seller", "s"]] as const) {
    const m = await mitm(() => real[id]!, EscrowSession.edges.filter((e) => e.receiver === role && e.kind !== "response").map((e) => e.rpc));
    m.policy = async (path, bytes, forward) => {
      const sent = tamper && path.endsWith("/Deposit") ? rewrite(bytes, (e) => void (e.payload[5]! ^= 1)) : bytes;
      const o = await forward(path, sent);
      wire.push({ path, request: decode(sent), response: o.ok ? decode(o.bytes) : undefined });
      return o;
    };
    c.addresses[id] = m.address;
    proxies.push(m);
  }
  try {
    const s0 = await buyer!.runtime.start(EscrowB, { b: "buyer", e: "agent", s: "seller" });
    const r = await s0.deposit(deposit).catch((e: unknown) => e as Error);
    if (r instanceof Error) return { wire, error: r, closed, c };
    await r.next.close({ note: "thanks" });
    for (let i = 0; i < 400 && closed === ""; i++) await new Promise((w) => setTimeout(w, 5));
    return { wire, error: undefined, closed, c, refused: Object.values(c.peers).map((p) => p.runtime.metrics.refused) };
  } finally {
    await c.close();
    for (const m of proxies) m.close();
  }
}

const on = (wire: Awaited<ReturnType<typeof run>>["wire"], rpc: string) => wire.find((w) => w.path.endsWith(rpc))!;
const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).includes(Buffer.from(needle));

test("each direction's attributes show on the wire", async (t) => {
  const { wire, error, closed, refused } = await run();
  t.is(error, undefined);
  t.is(closed, "thanks");
  t.deepEqual(refused, [{}, {}, {}]);

  // Deposit request: ChaCha20-Poly1305, MACs addressed to their targets.
  const dep = on(wire, "/Deposit");
  const depPlain = toBinary(DepositRequestSchema, create(DepositRequestSchema, deposit));
  t.true(dep.request.payloadKeyVersion > 0);
  t.is(dep.request.payload.length, 12 + depPlain.length + 16, "a 12-byte random nonce, then the AEAD");
  t.false(contains(dep.request.payload, new TextEncoder().encode("4111")), "the card number is not on the wire");
  t.true(dep.request.attestations.every((a) => a.target !== "" && a.tag.length === 32));
  // Deposit response: AES-256-GCM, a different ciphertext of a different key direction.
  const depResp = dep.response!;
  t.true(depResp.payloadKeyVersion > 0);
  t.is(depResp.payload.length, toBinary(DepositResponseSchema, create(DepositResponseSchema, { depositId: "D-TRACK-42" })).length + 12 + 16);

  // Notify request: XSalsa20-Poly1305 (a 24-byte nonce; tag first, same tag overhead).
  const notify = on(wire, "/Notify");
  t.true(notify.request.payloadKeyVersion > 0);
  t.is(notify.request.payload.length, toBinary(NotifyRequestSchema, create(NotifyRequestSchema, order)).length + 24 + 16);
  t.false(contains(notify.request.payload, new TextEncoder().encode("bicycle")));
  // Notify response: in the clear, signed: one 64-byte signature for everyone, no MAC for the receiver.
  const ship = notify.response!;
  t.is(ship.payloadKeyVersion, 0);
  t.true(Buffer.from(ship.payload).equals(toBinary(ShipmentSchema, create(ShipmentSchema, shipment))), "the shipment is on the wire as serialised");
  const own = ship.attestations.filter((a) => a.role === "s");
  t.true(own.length === 1 && own[0]!.target === "" && own[0]!.tag.length === 64);

  // Close: every protection off: the payload as is, and no attestation at all.
  const close = on(wire, "/Close");
  t.true(Buffer.from(close.request.payload).equals(toBinary(CloseRequestSchema, create(CloseRequestSchema, { note: "thanks" }))));
  t.is(close.request.attestations.length, 0);
});

test("a byte flipped in a private payload in flight is refused, and the buyer's call fails", async (t) => {
  const { error, c } = await run(true);
  t.truthy(error);
  t.regex(error!.message, /UNAUTHENTICATED|bad-attestation/);
  void c;
});
