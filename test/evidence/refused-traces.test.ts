/**
 * The offline verifier refuses the traces a runtime refuses
 * (test/evidence/refused-traces.ts): a response whose oneof case is not its
 * branch's, a `where` that does not hold, a payload that does not open its
 * commitment, a principal bound that the field naming it contradicts — each
 * in the receiver's log and in the sender's — a role re-bound to another
 * principal, and a segment without the signature of a sender's latest
 * authenticated message. Each trace's counterpart that differs only in the
 * rule at stake verifies.
 */
import test from "ava";
import { verifyEvidence } from "../../interceptors/evidence/index.js";
import { bindTrace, caseTrace, opensTrace, rebindingTrace, visibilityTrace, whereTrace, type RefusedTrace } from "./refused-traces.js";

const TRACES: ReadonlyArray<readonly [string, () => RefusedTrace | Promise<RefusedTrace>]> = [
  ["case: Conf's Upload answered on its bad_format branch with the ok case", caseTrace],
  ["where: Wsn's Extra about another query than its Request's", whereTrace],
  ["opens: Commit's Reveal of another bit than the one committed to", opensTrace],
  ["bind w = server: Select's Forward binding w to search-eu while its server field names search-us", bindTrace],
  ["re-binding: Rebind's w bound to worker-1, then to worker-2", rebindingTrace],
  ["visibility: Latest's Forward without the signature of a's latest authenticated message (Order; Plain has no authenticity)", visibilityTrace],
];

// Serial: the runtime-written traces switch the receiver's value checks off for one unwrap (a global switch).
for (const [name, build] of TRACES) {
  test.serial(`${name}: refused in every log that holds it`, async (t) => {
    const trace = await build();
    if (trace.refusal !== undefined) {
      t.is(trace.refusal.kind, "value", "the honest receiver refused the envelope for its value");
      t.log(`the receiver refused it: ${trace.refusal.reason}`);
    }
    for (const [which, log] of Object.entries(trace.logs)) {
      const r = verifyEvidence(log, trace.sessions, trace.resolver);
      if (r.ok) {
        t.fail(`${which}: the log verified`);
        continue;
      }
      t.is(r.line, trace.line[which] ?? -1, `${which}: ${r.reason}`);
      t.regex(r.reason, trace.reason, which);
    }
    for (const [which, log] of Object.entries(trace.accepted)) {
      const r = verifyEvidence(log, trace.sessions, trace.resolver);
      t.true(r.ok, `${which}: ${r.ok ? "" : `line ${r.line}: ${r.reason}`}`);
    }
  });
}
