/**
 * The integrity property can fail: with the defence behind a break of issue
 * 11 switched off (defences.ts), the same generator, adversary and oracle
 * find a violation within a bounded number of cases, searching from a fixed
 * seed (search.ts: searchViolation, no shrinking). Each test fails if the
 * search runs out of cases. The bounds are about twice the cases each search
 * takes from its seed (docs/fuzzing.md, "The integrity property").
 *
 * Break 2 (latestAuthenticated) needs the relay focus (sessions.ts, run.ts):
 * protocols with `a -> b.Order` (authenticated), later `a -> b.Notice`
 * (authenticity off), then b to c, random statements around them, and b's
 * principals as the coalition, whose walks begin with a lie about an honest
 * principal's authenticated message. With every defence on, the same focused
 * search finds nothing: the focus finds break 2, it does not make violations
 * of its own.
 *
 * Break 1 (rebinding and speakers) needs protocols that re-bind a dynamic
 * role, which the checker refuses (a role is bound once per session): its
 * focus compiles them with that one rule relaxed (Focus.rebinding), since the
 * runtime must be sound whatever the checker accepts. With every defence on,
 * that search finds nothing either.
 */
import test from "ava";
import type { Defence } from "../../../interceptors/monitor/defences.js";
import type { Focus } from "./run.js";
import { searchViolation, withoutAll } from "./search.js";
import { baseRegistry } from "./sessions.js";
import { LONG } from "../arbitraries.js";

baseRegistry();

interface Row {
  readonly brk: string;
  readonly off: readonly Defence[];
  readonly limit: number;
  readonly grpc?: boolean;
  readonly focus?: Focus;
}

const ROWS: readonly Row[] = [
  { brk: "1", off: ["rebinding", "speakers"], limit: 7_000, focus: { dynamic: true, loops: true, coalition: true, rebinding: true } },
  { brk: "2", off: ["latestAuthenticated"], limit: 120, focus: { relay: true } },
  { brk: "3", off: ["unvouchedHistory"], limit: 3_000 },
  { brk: "4", off: ["oneMessagePerCall", "deliverAtCommit"], limit: 10, grpc: true },
  { brk: "5", off: ["startMemory"], limit: 4_500, focus: { skew: true } },
  { brk: "6", off: ["highWater"], limit: 200 },
  { brk: "7", off: ["ownSteps"], limit: 1_500 },
];

for (const r of ROWS) {
  test.serial(`break ${r.brk}: with ${r.off.join(" and ")} off, the property finds a violation within ${r.limit} cases${r.grpc === true ? " over gRPC" : ""}`, async (t) => {
    t.timeout(10 * 60_000);
    const s = await withoutAll(r.off, () => searchViolation(1, r.limit, r.grpc ?? false, r.focus ?? {}));
    t.log(`${s.found ? "violation after" : "nothing in"} ${s.cases} cases\n${s.report}`);
    t.true(s.found);
  });
}

test.serial("with every defence on, the relay-focused search (break 2's) finds nothing in 600 cases", async (t) => {
  t.timeout(10 * 60_000);
  const s = await searchViolation(1, 600, false, { relay: true });
  t.log(`${s.found ? "violation after" : "nothing in"} ${s.cases} cases\n${s.report}`);
  t.false(s.found);
  t.true(s.cases >= 600);
});

// Break 1's focus hands the runtime protocols the checker refuses for re-binding: with every defence on, nothing.
test.serial("with every defence on, the re-binding search (break 1's) finds nothing", async (t) => {
  t.timeout(15 * 60_000);
  const limit = LONG ? 7_000 : 2_000;
  const s = await searchViolation(1, limit, false, { dynamic: true, loops: true, coalition: true, rebinding: true });
  t.log(`${s.found ? "violation after" : "nothing in"} ${s.cases} cases\n${s.report}`);
  t.false(s.found);
  t.true(s.cases >= limit);
});
