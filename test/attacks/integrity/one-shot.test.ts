/**
 * Several messages on a one-shot rpc (issue break 4). Session rpcs are
 * unary: the server interceptor reads a call's whole input before opening
 * anything, and refuses a call that carries more than one envelope without
 * opening any of them — nothing is committed, no handler runs, and the
 * genuine message is accepted on its own call. Opening each envelope as it
 * arrived, the first was committed from the attacker's call, grpc-js then
 * failed that call, and the genuine sender's call was refused as a replay.
 *
 * And commit and delivery happen together: an accepted message reaches its
 * session as it is committed (grpc/server-interceptor.ts). Left to grpc-js's
 * handler, a call cancelled while its message was being checked got the
 * message committed and never delivered — lost. Over real gRPC on loopback.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { RequestRequestSchema } from "../../../gen/single/single_pb.js";
import { SingleC, SingleSession, SingleW } from "../../../gen/single/single_secsession.js";
import { ALERT_KIND_METADATA } from "../../../interceptors/errors.js";
import { SealedBytes, sealedMethod } from "../../../interceptors/grpc/sealed.js";
import { without } from "../../../interceptors/monitor/defences.js";
import { serveW } from "../../../examples/single/parties.js";
import { cluster } from "../../support/parties.js";
import { createMemoryStore, type SessionStore } from "../../../interceptors/index.js";

const edge = SingleSession.edges[0]!;

async function framing(copies: number, options: { slowCommitMs?: number; deadlineMs?: number } = {}) {
  const c = cluster(["customer", "worker"], (id) => (id === "worker" && options.slowCommitMs !== undefined ? { store: slow(createMemoryStore(), options.slowCommitMs) } : {}));
  const queue: string[] = [];
  serveW(c.peers["worker"]!.runtime, c.peers["worker"]!.server, { queue });
  await c.listen();
  const client = new grpc.Client(c.addresses["worker"]!, grpc.credentials.createInsecure());
  const method = sealedMethod(edge.rpc, edge.rpc);
  try {
    const party = c.peers["customer"]!.runtime.party(SingleC);
    const sid = (await party.start({ c: "customer", w: "worker" })).key;
    const bytes = (await party.wrap(sid, edge, create(RequestRequestSchema, { query: "print me" }))).bytes;
    // The attacker sends the genuine envelope `copies` times on one call, as a client stream on the unary path.
    const callOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
    const streamed = await new Promise<{ code: number; kind: string | undefined }>((resolve) => {
      const call = client.makeClientStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, new grpc.Metadata(), callOptions, (err) =>
        resolve({ code: err?.code ?? 0, kind: err?.metadata?.get(ALERT_KIND_METADATA)[0] as string | undefined }),
      );
      for (let i = 0; i < copies; i++) call.write(new SealedBytes(bytes));
      call.end();
    });
    await new Promise((r) => setTimeout(r, 3 * (options.slowCommitMs ?? 0) + 100)); // the message's commit, then its tombstone's
    const stored = await c.peers["worker"]!.runtime.party(SingleW).state(sid);
    const handledBeforeRetry = [...queue];
    // Then the genuine message arrives on its own call.
    const genuine = await new Promise<{ code: number; kind: string | undefined }>((resolve) =>
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, new SealedBytes(bytes), (err) =>
        resolve({ code: err?.code ?? 0, kind: err?.metadata?.get(ALERT_KIND_METADATA)[0] as string | undefined }),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    return { streamed, storedAfterStream: stored !== undefined, handledBeforeRetry, genuine, queue };
  } finally {
    client.close();
    await c.close();
  }
}

for (const copies of [2, 3]) {
  test.serial(`break 4: ${copies} envelopes on one call are refused unopened; the genuine message is then accepted, and handled once`, async (t) => {
    const r = await framing(copies);
    t.deepEqual(r.streamed, { code: grpc.status.INVALID_ARGUMENT, kind: "malformed" });
    t.false(r.storedAfterStream, "nothing was committed");
    t.deepEqual(r.genuine, { code: grpc.status.OK, kind: undefined });
    t.deepEqual(r.queue, ["print me"]);
  });
}

test.serial("break 4, defence off: opened as they arrive, the first is committed from the attacker's call, which fails; the genuine call is refused as a replay", async (t) => {
  const r = await without("oneMessagePerCall", () => framing(2));
  t.not(r.streamed.code, grpc.status.OK);
  t.true(r.storedAfterStream, "the first copy was committed");
  t.deepEqual(r.genuine, { code: grpc.status.ABORTED, kind: "replay" });
});

test.serial("a call cancelled while its message is checked: committed and delivered together, so the message is handled", async (t) => {
  const r = await framing(1, { slowCommitMs: 300, deadlineMs: 100 });
  t.is(r.streamed.code, grpc.status.DEADLINE_EXCEEDED);
  t.true(r.storedAfterStream, "committed");
  t.deepEqual(r.handledBeforeRetry, ["print me"], "and delivered, although grpc-js never ran the handler of the cancelled call");
  t.deepEqual(r.genuine, { code: grpc.status.ABORTED, kind: "replay" }, "a retry is a replay: the message is in");
});

test.serial("a call cancelled while its message is checked, defence off: delivered by grpc-js's handler, it is committed and lost", async (t) => {
  const r = await without("deliverAtCommit", () => framing(1, { slowCommitMs: 300, deadlineMs: 100 }));
  t.is(r.streamed.code, grpc.status.DEADLINE_EXCEEDED);
  t.true(r.storedAfterStream, "committed");
  t.deepEqual(r.queue, [], "never handled, and the retry is refused as a replay");
  t.deepEqual(r.genuine, { code: grpc.status.ABORTED, kind: "replay" });
});

/** A store whose commits take `ms` longer. */
function slow(store: SessionStore, ms: number): SessionStore {
  return {
    get: (k) => store.get(k),
    commit: async (k, e, n) => {
      await new Promise((r) => setTimeout(r, ms));
      return store.commit(k, e, n);
    },
    delete: (k) => store.delete(k),
  };
}
