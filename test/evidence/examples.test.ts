/**
 * Every example, played honestly over gRPC by its own parties with an
 * evidence log per principal: every log verifies, knows every message its
 * principal's roles took part in, and the verifier checks the values of
 * each message whose payload the log has in the clear.
 */
import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXAMPLES } from "../../examples/support/adversary/examples.js";
import { Trace } from "../../examples/support/trace.js";
import { createFileEvidenceLog, readEvidenceLog, verifyEvidence } from "../../interceptors/evidence/index.js";
import { hex } from "../../interceptors/wire/encoding.js";
import { publicKeysOf, staticResolver } from "../../interceptors/keys/identity.js";
import { cluster } from "../support/parties.js";

for (const spec of EXAMPLES) {
  test(`${spec.name}: the evidence log of every principal of an honest session verifies`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), `secsession-evidence-${spec.name}-`));
    const principals = [...new Set(Object.values(spec.bindings))];
    const c = cluster(principals, (id) => ({ evidence: createFileEvidenceLog(join(dir, `${id}.jsonl`)) }));
    const trace = new Trace();
    const roles = Object.keys(spec.roles);
    for (const role of roles) spec.serveRole(role, c.peers[spec.bindings[role]!]!, trace);
    await c.listen();
    try {
      const initiator = spec.descriptor.states[spec.descriptor.initial]!.holder!;
      await spec.play(c.peers[spec.bindings[initiator]!]!.runtime, trace);
      // The parties of attributes keep no trace; its session ends with the response to the initiator, so every record is written once play returns.
      if (trace.lines.length > 0) await trace.ended(roles);
    } finally {
      await c.close();
    }
    for (const p of Object.values(c.peers)) t.deepEqual(p.runtime.metrics.refused, {}, `${p.id} refused nothing`);
    const resolver = staticResolver(Object.values(c.peers).map((p) => [p.id, publicKeysOf(p.identity)] as const));
    const sessions = Object.values(spec.roles);
    let valuesChecked = 0;
    for (const id of principals) {
      const r = verifyEvidence(readFileSync(join(dir, `${id}.jsonl`)), sessions, resolver);
      if (!r.ok) {
        t.fail(`${id}: line ${r.line}: ${r.reason}`);
        continue;
      }
      t.is(r.sessions, 1, id);
      const s = r.details[0]!;
      t.is(s.name, spec.descriptor.name, id);
      t.true(s.messages > 0, `${id} knows ${s.messages} messages`);
      for (const [role, principal] of Object.entries(s.principals)) t.is(principal, spec.bindings[role] ?? "", `${id}: ${role}`);
      valuesChecked += s.valuesChecked;
      t.log(`${id}: ${s.records} records, ${s.messages} messages, ${s.signatures} signatures, values checked for ${s.valuesChecked} messages, not checkable for ${s.valuesUnchecked}`);
    }
    // The logs agree on every step two of them have (docs/evidence.md: logs of one session can be compared so).
    const seen = new Map<bigint, { item: string; by: string }>();
    for (const id of principals) {
      for (const l of readEvidenceLog(readFileSync(join(dir, `${id}.jsonl`))).lines) {
        for (const x of l.record.entry.items) {
          const item = `${x.edge} ${hex(x.payloadHash)} ${JSON.stringify(x.bindings)}`;
          const other = seen.get(x.step);
          if (other === undefined) seen.set(x.step, { item, by: id });
          else if (other.item !== item) t.fail(`step ${x.step}: ${id} has ${item}, ${other.by} has ${other.item}`);
        }
      }
    }
    // An example with value checks on a direction in the clear has them checked in some log (the test checks something).
    const checkable = spec.descriptor.edges.some((e) => e.security.privacy === "none" && (e.case !== null || e.where.length > 0 || e.opens !== null || e.binds.some((b) => b.field !== null)));
    if (checkable) t.true(valuesChecked > 0, "values were checked");
  });
}
