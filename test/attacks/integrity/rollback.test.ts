/**
 * Restores and rollbacks (issue break 6): a party whose state goes back in
 * time must not accept again a message it already accepted. High-water
 * marks are checked on every load and commit, not only on import: a store
 * that hands back a state older than its session's mark (an older sealed
 * state put back in Redis, a restored backup) is refused as unavailable —
 * fail closed — and an import must use marks that every later commit raises
 * (the store's own), or the same export imports again after the next
 * restart.
 */
import test from "ava";
import { randomBytes } from "node:crypto";
import { createClient, RESP_TYPES } from "redis";
import {
  createMemoryHighWaterMarks,
  createMemoryStore,
  createRedisStore,
  decodeState,
  encodeState,
  exportSession,
  importSession,
  SecSessionError,
  StaleExportError,
  withHighWater,
  type SessionStore,
} from "../../../interceptors/index.js";
import { without } from "../../../interceptors/monitor/defences.js";
import { inlineSession, world, type World } from "../../support/inline-session.js";
import { useRedis } from "../../support/redis.js";

const redis = useRedis(test);

const RATES = `
syntax = "proto3";
package rollback;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Rates"
  roles: [ { name: "c" }, { name: "b" service: "Bank" } ]
  protocol: "rec L { choice at c { c => b.Rate; continue L; } or { c -> b.Bye; } }"
};
service Bank { rpc Rate(Msg) returns (Msg); rpc Bye(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;
const session = inlineSession(RATES);

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e instanceof SecSessionError ? e.kind : String(e)),
  );

/** Two rate calls; `between` runs after the bank answered the first (the state to go back to). Returns the second request's bytes. */
async function twoCalls(w: World, between: (sid: string) => Promise<void>): Promise<{ sid: string; second: Uint8Array }> {
  const [rate, answer] = [w.edge("Rate", "request"), w.edge("Rate", "response")];
  const sid = (await w.party("carol", "c").start({ c: "carol", b: "bank" })).key;
  await w.unwrap("bank", rate, await w.wrap("carol", sid, rate, { text: "USD" }), "carol");
  await w.unwrap("carol", answer, await w.wrap("bank", sid, answer, { text: "0.92" }), "bank", sid);
  await between(sid);
  const second = await w.wrap("carol", sid, rate, { text: "GBP" });
  await w.unwrap("bank", rate, second, "carol");
  await w.unwrap("carol", answer, await w.wrap("bank", sid, answer, { text: "1.17" }), "bank", sid);
  return { sid, second };
}

/** The bank's state is put back to what it was after the first answer; the network replays the second request. */
async function memoryRollback(): Promise<string> {
  const inner = createMemoryStore();
  const w = world(session, ["carol", "bank"], (id) => (id === "bank" ? { store: withHighWater(inner) } : {}));
  const bank = w.party("bank", "b");
  let old: Awaited<ReturnType<SessionStore["get"]>>;
  // A copy, as a backup would be (the live objects' retired keys are zeroed).
  const { sid, second } = await twoCalls(w, async (s) => void (old = decodeState(encodeState((await inner.get(bank.key(s)))!))));
  const now = (await inner.get(bank.key(sid)))!;
  if (!(await inner.commit(bank.key(sid), now.version, old!))) throw new Error("the rollback did not take");
  return outcome(w.unwrap("bank", w.edge("Rate", "request"), second, "carol"));
}

test.serial("break 6: a store rolled back under the party is refused (fail closed): the replayed request is not accepted again", async (t) => {
  t.is(await memoryRollback(), "store-unavailable");
});

test.serial("break 6, defence off: with marks checked on import only, the rolled-back party accepts the replay a second time", async (t) => {
  t.is(await without("highWater", memoryRollback), "accepted");
});

async function redisRollback(): Promise<string> {
  const storageKey = randomBytes(32);
  const store = createRedisStore({ url: redis().url, storageKey, prefix: `rollback:${randomBytes(4).toString("hex")}:`, highWater: true });
  const raw = createClient({ url: redis().url });
  await raw.connect();
  const buffers = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };
  try {
    const w = world(session, ["carol", "bank"], (id) => (id === "bank" ? { store } : {}));
    const bank = w.party("bank", "b");
    let key = "";
    let older: unknown[] = [];
    const { second } = await twoCalls(w, async (sid) => {
      key = store.redisKey(bank.key(sid));
      older = (await raw.sendCommand(["HMGET", key, "v", "s"], buffers)) as unknown[];
    });
    // The older sealed state, authentic and bound to its key, put back in Redis.
    await raw.sendCommand(["HSET", key, "v", older[0] as Buffer, "s", older[1] as Buffer]);
    return await outcome(w.unwrap("bank", w.edge("Rate", "request"), second, "carol"));
  } finally {
    await raw.quit();
    await store.close();
  }
}

test.serial("break 6: an older sealed state put back in Redis is refused (its mark is higher): the replay is not accepted", async (t) => {
  t.is(await redisRollback(), "store-unavailable");
});

test.serial("break 6, defence off: Redis without the mark check accepts the replay again", async (t) => {
  t.is(await without("highWater", redisRollback), "accepted");
});

test.serial("break 6: after a restart, an older export is refused by marks that every commit raised", async (t) => {
  const storageKey = randomBytes(32);
  const durable = createMemoryHighWaterMarks(); // marks that outlive the process (Redis, a database)
  const w = world(session, ["carol", "bank"], (id) => (id === "bank" ? { store: withHighWater(createMemoryStore(), durable) } : {}));
  let blob: Uint8Array = new Uint8Array();
  await twoCalls(w, async (sid) => void (blob = await exportSession(w.party("bank", "b"), sid, storageKey)));
  const restarted = world(session, ["carol", "bank"], (id) => (id === "bank" ? { store: withHighWater(createMemoryStore(), durable) } : {}));
  await t.throwsAsync(importSession(restarted.party("bank", "b"), blob, storageKey), { instanceOf: StaleExportError });
});

test.serial("break 6: an import refuses marks its store does not raise (else the same export imports again after the next restart)", async (t) => {
  const storageKey = randomBytes(32);
  const w = world(session, ["carol", "bank"]);
  let blob: Uint8Array = new Uint8Array();
  await twoCalls(w, async (sid) => void (blob = await exportSession(w.party("bank", "b"), sid, storageKey)));
  const restarted = world(session, ["carol", "bank"]);
  await t.throwsAsync(importSession(restarted.party("bank", "b"), blob, storageKey, { marks: createMemoryHighWaterMarks() }), { message: /must be the party's store's own/ });
});
