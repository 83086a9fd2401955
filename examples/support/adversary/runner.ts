/**
 * Runs the catalogue: for each example, one rig (servers started once), one
 * honest run to plan from, then every scenario in turn. Each attempt is
 * measured where it lands — the gRPC status and alert kind, whether the
 * victim's runtime accepted it or any handler ran, and whether any honest
 * party's stored state changed — and the honest session is then run to its
 * end (or, when the attack consumed its only copy of a message, a new one).
 */
import { STATUS_OF, type AlertKind } from "secsession";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Attacker, Expectation, Plan, Scenario } from "./kit.js";
import { isNa } from "./kit.js";
import { EXAMPLES, type ExampleSpec } from "./examples.js";
import { tryDecode, type Outcome } from "./mitm.js";
import { createRig, type Hop, type Interceptor, type Rig, type Run } from "./rig.js";
import { CATALOGUE } from "./catalogue.js";

/** One attempt of an attack, as measured. */
export interface AttemptRecord {
  readonly what: string;
  readonly victim: string;
  readonly expect: Expectation;
  /** The victim accepted it. */
  readonly delivered: boolean;
  /** gRPC status the attempt ended with (for a substituted response: the status of the caller's refusal). */
  readonly status: number | undefined;
  /** `secsession-alert-kind` of the refusal (trailing metadata, or the caller's alert for a response). */
  readonly kind: string | undefined;
  /** The victim's alert for it, if any. */
  readonly alert: { readonly kind: AlertKind; readonly reason: string } | undefined;
  /** Application code saw it: a handler ran or the victim's runtime accepted a message. */
  readonly reached: boolean;
  /** Stored states of honest parties that changed during the attempt (`principal role sid: before → after`). */
  readonly changed: readonly string[];
}

export type Verdict = "refused" | "delivered" | "n/a" | "error";

export interface ScenarioResult {
  readonly example: string;
  readonly scenario: string;
  readonly verdict: Verdict;
  /** Why it does not apply, or what went wrong. */
  readonly reason?: string;
  readonly target?: string;
  readonly expect?: Expectation;
  readonly after?: Plan["after"];
  /** The honest session completed afterwards (a new one for "fresh"). */
  readonly completed?: boolean;
  readonly attempts: readonly AttemptRecord[];
  readonly ms: number;
}

export interface CatalogueOptions {
  readonly examples?: readonly string[];
  readonly scenarios?: readonly string[];
  /** Called as each result is known. */
  readonly onResult?: (r: ScenarioResult) => void;
}

/** Runs the catalogue (or the selected part of it) on the examples. */
export async function runCatalogue(options: CatalogueOptions = {}): Promise<ScenarioResult[]> {
  const examples = EXAMPLES.filter((e) => options.examples === undefined || options.examples.includes(e.name));
  const scenarios = CATALOGUE.filter((s) => options.scenarios === undefined || options.scenarios.includes(s.id));
  const unknown = [...(options.examples ?? []).filter((n) => !EXAMPLES.some((e) => e.name === n)), ...(options.scenarios ?? []).filter((n) => !CATALOGUE.some((s) => s.id === n))];
  if (unknown.length > 0) throw new Error(`adversary: unknown example or scenario: ${unknown.join(", ")}`);
  const results: ScenarioResult[] = [];
  for (const spec of examples) {
    for (const r of await runExample(spec, scenarios)) {
      results.push(r);
      options.onResult?.(r);
    }
  }
  return results;
}

/** Every scenario of `scenarios` against one example, on one rig. */
export async function runExample(spec: ExampleSpec, scenarios: readonly Scenario[]): Promise<ScenarioResult[]> {
  const rig = await createRig(spec);
  try {
    const baseline = rig.run();
    const played = await baseline.plays;
    if (played.some((p) => p.status === "rejected") || !(await rig.finished(baseline.sids[0]!))) {
      throw new Error(`adversary: the honest ${spec.name} session did not complete: ${played.map((p) => (p.status === "rejected" ? String(p.reason) : "ok")).join(", ")}`);
    }
    const out: ScenarioResult[] = [];
    for (const s of scenarios) out.push(await runScenario(rig, baseline, s));
    return out;
  } finally {
    rig.close();
  }
}

async function runScenario(rig: Rig, baseline: Run, scenario: Scenario): Promise<ScenarioResult> {
  const t0 = Date.now();
  const base = { example: rig.spec.name, scenario: scenario.id };
  let plan: Plan;
  try {
    const p = scenario.plan({ rig, hops: baseline.hops });
    if (isNa(p)) return { ...base, verdict: "n/a", reason: p.na, attempts: [], ms: Date.now() - t0 };
    plan = p;
  } catch (e: unknown) {
    return { ...base, verdict: "error", reason: `planning failed: ${message(e)}`, attempts: [], ms: Date.now() - t0 };
  }
  const errors: string[] = [];
  const prior: Hop[][] = [];
  const attacker = new Measuring(rig, prior, plan.expect, errors);
  try {
    for (let i = 0; i < (plan.prior ?? 0); i++) {
      const run = rig.run();
      await run.plays;
      if (!(await rig.finished(run.sids[0]!))) throw new Error("a prior honest session did not complete");
      prior.push(run.hops);
    }
    const run = rig.run(guarded(plan.interceptor(attacker), errors), plan.concurrent ?? 1);
    attacker.sids = run.sids;
    attacker.hops = run.hops;
    let completed: boolean;
    if (plan.after === "completes") {
      const played = await within(run.plays, 8_000);
      completed =
        played !== undefined &&
        played.every((p) => p.status === "fulfilled") &&
        (await rig.finished(run.sids[0]!)) &&
        JSON.stringify(run.trace.lines) === JSON.stringify(baseline.trace.lines);
      if (plan.atEnd !== undefined) await plan.atEnd(attacker).catch((e: unknown) => void errors.push(message(e)));
    } else {
      await Promise.race([run.plays, attacker.quiet(5_000)]);
      if (plan.atEnd !== undefined) await plan.atEnd(attacker).catch((e: unknown) => void errors.push(message(e)));
      await attacker.settled();
      for (const p of Object.keys(rig.peers)) rig.skew(p, 0);
      const fresh = rig.run();
      const played = await within(fresh.plays, 8_000);
      completed = played !== undefined && played.every((p) => p.status === "fulfilled") && (await rig.finished(fresh.sids[0]!));
    }
    await attacker.settled();
    const attempts = attacker.records;
    const verdict: Verdict = errors.length > 0 || attempts.length === 0 ? "error" : attempts.some((a) => a.delivered) ? "delivered" : "refused";
    const reason = errors.length > 0 ? errors.join("; ") : attempts.length === 0 ? `the attack never ran (${plan.target} was not reached)` : undefined;
    return { ...base, verdict, ...(reason === undefined ? {} : { reason }), target: plan.target, expect: plan.expect, after: plan.after, completed, attempts, ms: Date.now() - t0 };
  } catch (e: unknown) {
    return { ...base, verdict: "error", reason: message(e), target: plan.target, attempts: attacker.records, ms: Date.now() - t0 };
  } finally {
    for (const p of Object.keys(rig.peers)) rig.skew(p, 0);
  }
}

/** The attacker's actions, each measured at its victim. */
class Measuring implements Attacker {
  readonly records: AttemptRecord[] = [];
  sids: readonly string[] = [];
  hops: readonly Hop[] = [];
  private readonly pending: Array<Promise<void>> = [];
  /** Substitutions not answered by their caller yet. */
  private open = 0;

  constructor(
    readonly rig: Rig,
    readonly prior: ReadonlyArray<readonly Hop[]>,
    private readonly expect: Expectation,
    private readonly errors: string[],
  ) {}

  async inject(victim: string, path: string, bytes: Uint8Array, what: string, expect = this.expect): Promise<Outcome> {
    const watch = this.watch(victim, bytes);
    const outcome = await this.rig.call(victim, path, bytes);
    const alert = watch.alert();
    this.records.push({
      what,
      victim,
      expect,
      // Accepted, even if the handler it reached then failed the call.
      delivered: outcome.ok || (alert === undefined && watch.reached()),
      status: outcome.ok ? undefined : outcome.code,
      kind: outcome.ok ? undefined : outcome.kind,
      alert,
      reached: watch.reached(),
      changed: watch.changed(),
    });
    return outcome;
  }

  async injectFramed(victim: string, path: string, messages: readonly Uint8Array[], what: string, expect = this.expect): Promise<Outcome> {
    const watch = this.watch(victim, messages[0]!);
    const outcome = await this.rig.callFramed(victim, path, messages);
    const alert = watch.alert();
    const changed = watch.changed();
    this.records.push({
      what,
      victim,
      expect,
      // Opened at all, though the call then failed: what the one-message rule prevents.
      delivered: outcome.ok || changed.length > 0 || watch.reached(),
      status: outcome.ok ? undefined : outcome.code,
      kind: outcome.ok ? undefined : outcome.kind,
      alert,
      reached: watch.reached(),
      changed,
    });
    return outcome;
  }

  substitute(hop: Hop, bytes: Uint8Array, what: string, expect = this.expect): Uint8Array {
    const victim = hop.to;
    const watch = this.watch(victim, bytes);
    this.open++;
    this.pending.push(
      (async () => {
        for (let i = 0; i < 600 && watch.alert() === undefined && !watch.reached(); i++) await new Promise((r) => setTimeout(r, 5));
        const alert = watch.alert();
        this.records.push({
          what,
          victim,
          expect,
          delivered: alert === undefined && watch.reached(),
          status: alert === undefined ? undefined : STATUS_OF[alert.kind],
          kind: alert?.kind,
          alert,
          reached: watch.reached(),
          changed: watch.changed(),
        });
      })()
        .catch((e: unknown) => void this.errors.push(message(e)))
        .finally(() => this.open--),
    );
    return bytes;
  }

  /** Resolves once an attempt was made and every substitution was answered (or after `ms`). */
  async quiet(ms: number): Promise<void> {
    for (const until = Date.now() + ms; Date.now() < until && (this.records.length === 0 || this.open > 0); ) await new Promise((r) => setTimeout(r, 10));
    await this.settled();
  }

  async settled(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }

  /** Snapshots what an attempt on `victim` could change. */
  private watch(victim: string, bytes: Uint8Array) {
    const rig = this.rig;
    const peer = rig.peers[victim];
    if (peer === undefined) throw new Error(`adversary: no peer ${victim}`);
    const env = tryDecode(bytes);
    const sids = new Set([...this.sids, ...this.prior.flatMap((hops) => hops.map((h) => h.sid))]);
    if (env !== undefined && env.sessionId.length === 32) sids.add(Buffer.from(env.sessionId).toString("hex"));
    const before = snapshot(rig, sids);
    const accepted = peer.runtime.metrics.accepted;
    const handled = peer.handled;
    const alerts = rig.alerts.length;
    return {
      alert: () => {
        const a = rig.alerts.slice(alerts).find((x) => x.at === victim);
        return a === undefined ? undefined : { kind: a.kind, reason: a.reason };
      },
      reached: () => peer.runtime.metrics.accepted > accepted || peer.handled > handled,
      changed: () => {
        const after = snapshot(rig, sids);
        return [...after.keys()].filter((k) => after.get(k) !== before.get(k)).map((k) => `${k}: ${before.get(k)} → ${after.get(k)}`);
      },
    };
  }
}

/** Every honest party's stored state in the given sessions, as `version@step/state`. */
function snapshot(rig: Rig, sids: ReadonlySet<string>): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of rig.honest) {
    for (const role of Object.keys(rig.spec.roles)) {
      for (const sid of sids) {
        const st = rig.state(p, role, sid);
        m.set(`${p} ${role} ${sid.slice(0, 8)}`, st === undefined ? "none" : `v${st.version}@${st.step}/${st.state}`);
      }
    }
  }
  return m;
}

/** The interceptor with its failures recorded (the genuine traffic goes on). */
function guarded(i: Interceptor, errors: string[]): Interceptor {
  return {
    async onCall(hop, forward) {
      if (i.onCall === undefined) return forward();
      try {
        return await i.onCall(hop, forward);
      } catch (e: unknown) {
        errors.push(message(e));
        return forward();
      }
    },
    async onResponse(hop) {
      if (i.onResponse === undefined) return hop.bytes;
      try {
        return await i.onResponse(hop);
      } catch (e: unknown) {
        errors.push(message(e));
        return hop.bytes;
      }
    },
  };
}

function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The name of a gRPC status code. */
export const statusName = (code: number | undefined): string => (code === undefined ? "-" : (grpcStatus[code] ?? String(code)));

/**
 * What is wrong with a result, measured against its plan: nothing for a
 * scenario that does not apply; otherwise every attempt must be refused with
 * the expected status, alert kind (and reason words), reach no application
 * code, change no honest state, and the honest session must complete.
 */
export function problems(r: ScenarioResult): string[] {
  if (r.verdict === "n/a") return [];
  if (r.verdict === "error") return [`error: ${r.reason}`];
  const out: string[] = [];
  if (r.verdict === "delivered") out.push("delivered");
  for (const a of r.attempts) {
    const tag = `${a.what} →`;
    if (a.delivered) out.push(`${tag} accepted by ${a.victim}`);
    const alternative = a.expect.or?.find((x) => x.status === a.status && x.kind === a.kind && a.alert?.kind === x.kind);
    if (alternative !== undefined) {
      if (a.delivered) out.push(`${tag} accepted by ${a.victim}`);
      if (a.reached) out.push(`${tag} reached application code at ${a.victim}`);
      if (a.changed.length > 0) out.push(`${tag} changed stored state: ${a.changed.join("; ")}`);
      continue;
    }
    if (a.status !== a.expect.status) out.push(`${tag} status ${statusName(a.status)}, expected ${statusName(a.expect.status)}`);
    if (a.kind !== a.expect.kind) out.push(`${tag} alert kind ${a.kind ?? "none"}, expected ${a.expect.kind ?? "none"}`);
    if (a.expect.kind !== undefined && a.alert?.kind !== a.expect.kind) out.push(`${tag} ${a.victim} raised ${a.alert?.kind ?? "no alert"}`);
    if (a.expect.about !== undefined && !(a.alert?.reason ?? "").includes(a.expect.about)) out.push(`${tag} reason "${a.alert?.reason}" does not mention "${a.expect.about}"`);
    if (a.reached) out.push(`${tag} reached application code at ${a.victim}`);
    if (a.changed.length > 0) out.push(`${tag} changed stored state: ${a.changed.join("; ")}`);
  }
  if (r.completed !== true) out.push(r.after === "fresh" ? "a new honest session did not complete afterwards" : "the honest session did not complete afterwards");
  return out;
}
