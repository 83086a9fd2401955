/**
 * Clock skew and session starts (issue break 5). A start is accepted from
 * the replay window before the receiver's clock to the allowed skew after it
 * (maxClockSkewMs, default 30 s), and its replay-cache entry and finished
 * session's tombstone last until the window has passed the start's own time
 * (plus the skew). Remembered only until the receiver's clock plus one
 * window, a start from an initiator whose clock ran ahead could be replayed
 * once the entry expired while still inside the window, and the handler ran
 * twice. Simulated clocks on both ends, and real ones.
 */
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { RequestRequestSchema } from "../../../gen/single/single_pb.js";
import { SingleC, SingleSession, SingleW } from "../../../gen/single/single_secsession.js";
import { createSessionRuntime, generateIdentity, publicKeysOf, SecSessionError, staticResolver } from "../../../interceptors/index.js";
import { without } from "../../../interceptors/monitor/defences.js";

const WINDOW = SingleSession.replayWindowMs;
const T = 1_800_000_000_000;

/** A customer whose clock reads `cNow()`, a worker whose clock reads `wNow()`; the start's first message, and a way to deliver it. */
function single(cNow: () => number, wNow: () => number) {
  const [ci, wi] = [generateIdentity("customer"), generateIdentity("worker")];
  const resolver = staticResolver([ci, wi].map((i) => [i.id, publicKeysOf(i)] as const));
  const c = createSessionRuntime({ identity: ci, resolver, now: cNow }).party(SingleC);
  const w = createSessionRuntime({ identity: wi, resolver, now: wNow }).party(SingleW);
  const edge = SingleSession.edges[0]!;
  return {
    w,
    async first(): Promise<{ sid: string; bytes: Uint8Array }> {
      const sid = (await c.start({ c: "customer", w: "worker" })).key;
      const bytes = (await c.wrap(sid, edge, create(RequestRequestSchema, { query: "hello" }))).bytes;
      return { sid, bytes };
    },
    deliver: (bytes: Uint8Array) =>
      w.unwrap(bytes, edge.rpc, ["oneway"], "customer").then(
        () => "accepted",
        (e: unknown) => (e instanceof SecSessionError ? e.kind : String(e)),
      ),
    /** What the tombstone's timer does once it is due (the simulated clock does not run real timers). */
    forget: (sid: string) => w.core.store.delete(w.key(sid)),
  };
}

async function aheadThenReplay(skewMs: number, replayAtMs: number) {
  let wNow = T;
  const s = single(() => T + skewMs, () => wNow);
  const { sid, bytes } = await s.first();
  const first = await s.deliver(bytes);
  wNow = T + replayAtMs;
  await s.forget(sid);
  return { first, replay: await s.deliver(bytes) };
}

test.serial("break 5: a start 30 s ahead is accepted; replayed a window later it is still remembered, and later still it is stale", async (t) => {
  t.deepEqual(await aheadThenReplay(30_000, WINDOW + 1_000), { first: "accepted", replay: "replayed-start" });
  t.deepEqual(await aheadThenReplay(30_000, 30_000 + WINDOW + 1_000), { first: "accepted", replay: "stale-start" });
});

test.serial("break 5, defence off: remembered for one window of the receiver's clock, the replay runs a second time", async (t) => {
  t.deepEqual(await without("startMemory", () => aheadThenReplay(30_000, WINDOW + 1_000)), { first: "accepted", replay: "accepted" });
});

test.serial("break 5: a start further ahead than the allowed skew is refused; one behind by most of the window is accepted, and its replay is stale", async (t) => {
  t.is((await aheadThenReplay(31_000, 0)).first, "stale-start");
  t.deepEqual(await aheadThenReplay(-(WINDOW - 20_000), WINDOW + 1_000), { first: "accepted", replay: "stale-start" });
});

test.serial("break 5: the allowed skew is a runtime option", async (t) => {
  const [ci, wi] = [generateIdentity("customer"), generateIdentity("worker")];
  const resolver = staticResolver([ci, wi].map((i) => [i.id, publicKeysOf(i)] as const));
  const c = createSessionRuntime({ identity: ci, resolver, now: () => T + 90_000 }).party(SingleC);
  const w = createSessionRuntime({ identity: wi, resolver, now: () => T, maxClockSkewMs: 100_000 }).party(SingleW);
  const sid = (await c.start({ c: "customer", w: "worker" })).key;
  const bytes = (await c.wrap(sid, SingleSession.edges[0]!, create(RequestRequestSchema, { query: "hello" }))).bytes;
  await t.notThrowsAsync(w.unwrap(bytes, SingleSession.edges[0]!.rpc, ["oneway"], "customer"));
  t.throws(() => createSessionRuntime({ identity: wi, resolver, maxClockSkewMs: -1 }), { message: /maxClockSkewMs/ });
});

test.serial("break 5, real clocks: an initiator 25 s ahead is accepted, and its replay refused", async (t) => {
  const s = single(() => Date.now() + 25_000, () => Date.now());
  const { sid, bytes } = await s.first();
  t.is(await s.deliver(bytes), "accepted");
  await s.forget(sid);
  t.is(await s.deliver(bytes), "replayed-start");
});
