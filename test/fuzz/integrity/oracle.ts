/**
 * The oracle of the integrity property, over what each party logged as
 * evidence (every message it sent, every segment it accepted: the items as
 * its monitor checked them):
 *
 * 1. for every honest party, the messages it knows of are a prefix of a legal
 *    run of the global protocol: steps 1, 2, 3 … with no gap or repeat (a
 *    message accepted twice, a rewound step), each edge leaving the state the
 *    previous one entered, its own role the sender of what it sent and the
 *    receiver of what it accepted, each message binding exactly its edge's
 *    roles, and no role bound to two principals;
 * 2. every message it accepted on an authenticated direction and attributed
 *    to an honest principal (by the bindings of its own view) was sent by that
 *    principal, in that session, at that step (so that loop iteration), with
 *    that payload and those bindings, and the transcripts agree at that step:
 *    the receiver's hash is the sender's (one global trace up to there). This
 *    holds for the history items a message carries too — except that a
 *    direction with authenticity but history `none` takes the history on its
 *    sender's word (docs/protocol.md), so with a compromised principal in the
 *    world those items are not checked;
 * 3. any two honest parties of a session agree on the transcript at every
 *    step both know from the same honest speaker (their own message, or one
 *    checked under 2): the honest parties' views are consistent with one
 *    legal global trace wherever an honest principal spoke (a compromised
 *    one may tell two honest ones different stories: it is their views of
 *    what the honest ones sent that must agree).
 * The refusal checks (a refused message changes no state, logs nothing,
 * reaches no handler; an accepted one logs exactly one entry) are made as
 * each message is delivered (play.ts).
 */
import type { EdgeDescriptor, SessionDescriptor } from "../../../interceptors/descriptor/types.js";
import type { EvidenceEntry } from "../../../interceptors/index.js";
import type { CryptoBackend } from "../../../interceptors/keys/crypto/index.js";
import { hex } from "../../../interceptors/wire/encoding.js";
import { transcriptStart, transcriptStep } from "../../../interceptors/wire/transcript.js";
import type { World } from "./play.js";
import { label } from "./play.js";

interface ViewItem {
  readonly edge: EdgeDescriptor | undefined;
  readonly edgeId: number;
  readonly step: bigint;
  readonly payloadHash: string;
  readonly bindings: string;
  readonly h: string;
  readonly sent: boolean;
  /** For a received item: the message that carried it (the segment's last item), undefined for that message itself. */
  readonly carrier: EdgeDescriptor | undefined;
  /** The principal bound to the edge's sender in this view. */
  readonly speaker: string | undefined;
  vouched: boolean;
}

const bindingsKey = (bs: ReadonlyArray<{ role: string; principal: string }>) =>
  bs
    .map((b) => `${b.role}=${b.principal}`)
    .sort()
    .join(",");

export interface OracleStats {
  checked: number;
  /** History items on a direction with history `none` from a sender when a coalition exists: not attributable (see 2). */
  unvouched: number;
}

export function checkWorld(w: World, crypto: CryptoBackend, stats: OracleStats = { checked: 0, unvouched: 0 }): string[] {
  const d: SessionDescriptor = w.descriptor;
  const out: string[] = [];
  const coalition = w.coalition.length > 0;
  // Every party's view of every session, from its evidence, in order.
  const views = new Map<string, { principal: string; role: string; sid: string; items: ViewItem[] }>();
  for (const p of Object.values(w.principals)) {
    const bySession = new Map<string, EvidenceEntry[]>();
    for (const e of p.evidence) {
      const k = `${hex(e.sessionId)}|${e.role}`;
      bySession.set(k, [...(bySession.get(k) ?? []), e]);
    }
    for (const [k, entries] of bySession) {
      const [sid, role] = k.split("|") as [string, string];
      const items: ViewItem[] = [];
      let h = transcriptStart(crypto, entries[0]!.sessionId);
      const principals = new Map(entries[0]!.start.bindings.map((b) => [b.role, b.principal]));
      for (const e of entries) {
        const carrier = e.direction === "received" ? d.edges[e.items.at(-1)!.edge] : undefined;
        e.items.forEach((x, i) => {
          h = transcriptStep(crypto, h, x);
          const edge = d.edges[x.edge];
          const speaker = e.direction === "sent" ? p.id : edge === undefined ? undefined : principals.get(edge.sender);
          for (const b of x.bindings) if (!principals.has(b.role)) principals.set(b.role, b.principal);
          items.push({
            edge,
            edgeId: x.edge,
            step: x.step,
            payloadHash: hex(x.payloadHash),
            bindings: bindingsKey(x.bindings),
            h: hex(h),
            sent: e.direction === "sent",
            carrier: i === e.items.length - 1 ? undefined : carrier,
            speaker,
            vouched: e.direction === "sent",
          });
        });
      }
      views.set(`${p.id}|${k}`, { principal: p.id, role, sid, items });
      // 1. A prefix of a legal run.
      if (!p.honest) continue;
      const who = `${p.id} (${role}) in session ${sid.slice(0, 8)}`;
      let state = d.initial;
      const bound = new Map(entries[0]!.start.bindings.map((b) => [b.role, b.principal]));
      items.forEach((x, i) => {
        if (x.step !== BigInt(i + 1)) out.push(`${who}: its ${i + 1}th message has step ${x.step} (accepted twice, rewound or skipped): steps ${items.map((y) => y.step).join(",")}`);
        if (x.edge === undefined) return void out.push(`${who}: step ${x.step} is edge ${x.edgeId}, which the session does not have`);
        if (x.edge.from !== state) out.push(`${who}: step ${x.step} is ${label(x.edge)}, which does not leave global state ${state}`);
        state = x.edge.to;
        if (x.sent && x.edge.sender !== role) out.push(`${who}: it sent ${label(x.edge)}, whose sender is ${x.edge.sender}`);
        const roles = x.bindings === "" ? [] : x.bindings.split(",").map((b) => b.split("=") as [string, string]);
        if ([...new Set(roles.map((r) => r[0]))].sort().join() !== x.edge.binds.map((b) => b.role).sort().join()) out.push(`${who}: step ${x.step} binds ${x.bindings || "nothing"}, its edge binds ${x.edge.binds.map((b) => b.role).join(",") || "nothing"}`);
        for (const [r, principal] of roles) {
          const had = bound.get(r);
          if (had !== undefined && had !== principal) out.push(`${who}: step ${x.step} binds ${r} to ${principal}, already bound to ${had}`);
          bound.set(r, principal);
        }
      });
      const last = entries.at(-1)!;
      if (last.direction === "received" && d.edges[last.items.at(-1)!.edge]?.receiver !== role) out.push(`${who}: accepted a message for role ${d.edges[last.items.at(-1)!.edge]?.receiver}`);
    }
  }
  // What the honest principals really sent: (session, step) -> their messages.
  const sent = new Map<string, ViewItem & { principal: string; role: string }>();
  for (const v of views.values()) {
    if (!w.principals[v.principal]!.honest) continue;
    for (const x of v.items) if (x.sent) sent.set(`${v.sid}|${x.step}|${v.principal}|${v.role}`, { ...x, principal: v.principal, role: v.role });
  }
  // 2. Attribution.
  for (const v of views.values()) {
    if (!w.principals[v.principal]!.honest) continue;
    const who = `${v.principal} (${v.role}) in session ${v.sid.slice(0, 8)}`;
    for (const x of v.items) {
      if (x.sent || x.edge === undefined || x.edge.security.authenticity === "none") continue;
      if (x.speaker === undefined || !(w.principals[x.speaker]?.honest ?? false)) continue;
      if (x.carrier !== undefined && coalition && x.carrier.security.authenticity !== "none" && x.carrier.security.history === "none") {
        stats.unvouched++;
        continue;
      }
      stats.checked++;
      const truth = sent.get(`${v.sid}|${x.step}|${x.speaker}|${x.edge.sender}`);
      const what = `${who}: accepted at step ${x.step} ${label(x.edge)} attributed to honest ${x.speaker}${x.carrier === undefined ? "" : ` (history of ${label(x.carrier)})`}`;
      if (truth === undefined) out.push(`${what}, which ${x.speaker} never sent at that step`);
      else if (truth.edgeId !== x.edgeId) out.push(`${what}; ${x.speaker} sent ${truth.edge === undefined ? truth.edgeId : label(truth.edge)} at that step`);
      else if (truth.payloadHash !== x.payloadHash) out.push(`${what} with a payload ${x.speaker} did not send`);
      else if (truth.bindings !== x.bindings) out.push(`${what} binding ${x.bindings}; it bound ${truth.bindings}`);
      else if (truth.h !== x.h) out.push(`${what}, over a transcript that differs from the sender's`);
      else x.vouched = true;
    }
  }
  // 3. The honest views agree wherever both can trust what they know.
  const bySid = new Map<string, Array<{ principal: string; items: ViewItem[] }>>();
  for (const v of views.values()) if (w.principals[v.principal]!.honest) bySid.set(v.sid, [...(bySid.get(v.sid) ?? []), v]);
  for (const [sid, vs] of bySid) {
    for (let i = 0; i < vs.length; i++) {
      for (let j = i + 1; j < vs.length; j++) {
        const a = vs[i]!;
        const b = vs[j]!;
        const n = Math.min(a.items.length, b.items.length);
        for (let k = 0; k < n; k++) {
          const x = a.items[k]!;
          const y = b.items[k]!;
          // A compromised principal may tell two honest ones different stories (equivocate): they must agree where an honest one spoke.
          if (x.vouched && y.vouched && x.speaker === y.speaker && x.h !== y.h) out.push(`session ${sid.slice(0, 8)}: ${a.principal} and ${b.principal} disagree on the transcript at step ${k + 1}, which both got from a trusted source`);
        }
      }
    }
  }
  return out;
}
