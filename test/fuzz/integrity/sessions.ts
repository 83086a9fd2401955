/**
 * Random sessions the checker accepts, for the integrity property: 2 to 6
 * roles (a..f, each serving its own copy of one service), one-way messages,
 * calls with bodies and response branches, choices, nested loops, dynamic
 * roles bound with `bind` (also `bind r = text`), `where` over an earlier
 * message's count; and random per-direction attributes over every
 * combination the configuration constraints allow (withSecurity), including
 * directions with every attribute off between protected ones. The relay
 * focus (break 2's search) adds a fixed shape among random statements —
 * `a -> b.Order` authenticated, later `a -> b.Notice` with authenticity off,
 * then b to c — whose two methods get their own attributes (byMethod); the
 * default generator never uses `Order` or `Notice`.
 *
 * The renderer keeps the token discipline, so most trees render a protocol
 * the parser and the flow checks accept; the knowledge-of-choice check
 * refuses some, which the property skips (fc.pre) and counts.
 */
import fc from "fast-check";
import { create, createFileRegistry, setExtension, type DescFile, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, FileOptionsSchema } from "@bufbuild/protobuf/wkt";
import { RoleSchema, SessionSchema, session as sessionExt } from "../../../gen/secsession/v1/options_pb.js";
import type { DirectionSecurity, EdgeDescriptor, KeyEstablishmentMode, SessionDescriptor } from "../../../interceptors/descriptor/types.js";
import { securityViolations } from "../../../interceptors/monitor/security-constraints.js";
import { compileFile } from "../../../plugin/compile.js";
import { formatDiagnostic } from "../../../plugin/language/diagnostic.js";
import { bufBuild } from "../../support/plugin-run.js";
import { withSecurity } from "../../support/inline-session.js";

export const ROLE_NAMES = ["a", "b", "c", "d", "e", "f"] as const;
const SERVICE = (r: string) => r.toUpperCase();

/** The services every generated session uses: one per role, all alike. */
export const BASE_FILE = "integrity/base.proto";
export const BASE_SOURCE = [
  'syntax = "proto3";',
  "package integrity;",
  'import "google/protobuf/empty.proto";',
  ...ROLE_NAMES.map(
    (r) =>
      `service ${SERVICE(r)} { rpc Ping(Note) returns (google.protobuf.Empty); rpc Pong(Note) returns (google.protobuf.Empty); rpc Ask(Note) returns (Answer); rpc Decide(Note) returns (Verdict); rpc Order(Note) returns (google.protobuf.Empty); rpc Notice(Note) returns (google.protobuf.Empty); }`,
  ),
  "message Note { string text = 1; int64 count = 2; bytes digest = 3; }",
  "message Answer { string text = 1; }",
  "message Verdict { oneof outcome { Answer yes = 1; Answer no = 2; } }",
  "",
].join("\n");

export const FILE = "integrity/fuzz.proto";

// ---------------------------------------------------------------------------------------------
// Trees

export interface Msg {
  readonly k: "msg";
  readonly call: boolean;
  readonly to: number;
  readonly method: number;
  /** Calls only: the callee's body. */
  readonly body: readonly Node[] | null;
  /** Calls only: response branches (Decide's yes / no). */
  readonly branches: readonly [readonly Node[], readonly Node[]] | null;
  /** Selects a clause: `bind r = text` instead of `bind r`, a `where` on count. */
  readonly clause: number;
  /** The relay shape's messages: this receiver (and method) whatever `to` (and `method`) say. */
  readonly fixed?: { readonly to: string; readonly method?: string };
}
export interface Choice {
  readonly k: "choice";
  readonly branches: ReadonlyArray<{ readonly lead: Msg; readonly rest: readonly Node[] }>;
}
export interface Rec {
  readonly k: "rec";
  readonly body: readonly Node[];
  readonly again: { readonly lead: Msg; readonly rest: readonly Node[] };
  readonly exit: { readonly lead: Msg; readonly rest: readonly Node[] };
}
export type Node = Msg | Choice | Rec;

export interface Tree {
  readonly roles: number;
  /** Bit i: role i (never a, the initiator) is dynamic. */
  readonly dynamic: number;
  readonly stmts: readonly Node[];
  /**
   * The relay shape, after `stmts` (the relay focus): `a -> b.Order` (authenticated: `RELAY_PICKS`), `mid`, the
   * token back to a, `a -> b.Notice` (authenticity off), then b's `relay` message to c, then `post`.
   */
  readonly relay?: { readonly order: number; readonly mid: readonly Node[]; readonly notice: number; readonly relay: Msg; readonly post: readonly Node[] };
}

const DEPTH = Number(process.env["INTEGRITY_DEPTH"] ?? 2);

/**
 * What a search may concentrate on: every non-initiating role dynamic, loops more often; or the relay shape (at
 * least three roles, random statements around it): a sends b an authenticated `Order`, later a `Notice` with
 * authenticity off, then b talks to c (issue 11's break 2 needs a compromised b to lie to c about the Order).
 */
export interface TreeFocus {
  readonly dynamic?: boolean;
  readonly loops?: boolean;
  readonly relay?: boolean;
}

export const treeArb: fc.Arbitrary<Tree> = makeTreeArb({});

export function makeTreeArb(focus: TreeFocus): fc.Arbitrary<Tree> {
  const depth = { depthSize: "small" as const, depthIdentifier: "integrity" };
  const lead = fc.record({ k: fc.constant("msg" as const), call: fc.boolean(), to: fc.nat(5), method: fc.nat(3), body: fc.constant(null), branches: fc.constant(null), clause: fc.nat(9) });
  const arbs = fc.letrec<{ stmts: Node[]; stmt: Node; msg: Msg; choice: Choice; rec: Rec }>((tie) => ({
    stmts: fc.array(tie("stmt"), { minLength: 1, maxLength: 3, ...depth }),
    stmt: fc.oneof({ maxDepth: DEPTH, ...depth, withCrossShrink: true }, { arbitrary: tie("msg"), weight: 6 }, { arbitrary: tie("choice"), weight: 2 }, { arbitrary: tie("rec"), weight: focus.loops === true ? 6 : 2 }),
    msg: fc.record({
      k: fc.constant("msg" as const),
      call: fc.boolean(),
      to: fc.nat(5),
      method: fc.nat(3),
      body: fc.oneof({ ...depth, maxDepth: DEPTH }, { arbitrary: fc.constant(null), weight: 2 }, { arbitrary: tie("stmts"), weight: 1 }),
      branches: fc.oneof(
        { ...depth, maxDepth: DEPTH },
        { arbitrary: fc.constant(null), weight: 4 },
        { arbitrary: fc.tuple(fc.oneof(fc.constant([]), tie("stmts")), fc.oneof(fc.constant([]), tie("stmts"))), weight: 1 },
      ),
      clause: fc.nat(9),
    }),
    choice: fc.record({ k: fc.constant("choice" as const), branches: fc.array(fc.record({ lead, rest: fc.oneof(fc.constant([]), tie("stmts")) }), { minLength: 2, maxLength: 3 }) }),
    rec: fc.record({
      k: fc.constant("rec" as const),
      body: fc.oneof(fc.constant([]), tie("stmts")),
      again: fc.record({ lead, rest: fc.oneof(fc.constant([]), tie("stmts")) }),
      exit: fc.record({ lead, rest: fc.oneof(fc.constant([]), tie("stmts")) }),
    }),
  }));
  const dynamic = focus.dynamic === true ? fc.constant(63) : fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(63), weight: 1 });
  if (focus.relay !== true) return fc.record({ roles: fc.integer({ min: 2, max: 6 }), dynamic, stmts: arbs.stmts });
  const some = fc.oneof(fc.constant([]), arbs.stmts);
  const relay = fc.record({ order: fc.nat(9), mid: some, notice: fc.nat(9), relay: lead.map((m) => ({ ...m, fixed: { to: "c" } })), post: some });
  return fc.record({ roles: fc.integer({ min: 3, max: 6 }), dynamic, stmts: some, relay });
}

interface Flow {
  readonly holder: string;
  readonly bound: ReadonlySet<string>;
  /** Per role, the methods it sent or received on every path. */
  readonly seen: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface Rendered {
  readonly protocol: string;
  readonly roles: ReadonlyArray<{ readonly name: string; readonly service: string; readonly dynamic: boolean }>;
}

/** Renders a tree as protocol text, keeping the token discipline (the holder sends; branches end with one holder). */
export function render(tree: Tree): Rendered {
  const roles = ROLE_NAMES.slice(0, tree.roles);
  const dynamic = (r: string) => r !== "a" && ((tree.dynamic >> roles.indexOf(r as never)) & 1) === 1;
  const out: string[] = [];
  const used = new Set<string>();
  let labels = 0;
  // The callers of the calls whose bodies are being rendered: they wait for the response, so they take no part.
  const waiting: string[] = [];
  const others = (h: string) => roles.filter((r) => r !== h && !waiting.includes(r));
  const saw = (f: Flow, pairs: ReadonlyArray<readonly [string, string]>): Map<string, ReadonlySet<string>> => {
    const m = new Map(f.seen);
    for (const [r, x] of pairs) m.set(r, new Set([...(m.get(r) ?? []), x]));
    return m;
  };
  const join = (flows: ReadonlyArray<Flow | undefined>): Flow | undefined => {
    const live = flows.filter((f): f is Flow => f !== undefined);
    if (live.length === 0) return undefined;
    const seen = new Map<string, ReadonlySet<string>>();
    for (const r of roles) seen.set(r, new Set([...(live[0]!.seen.get(r) ?? [])].filter((x) => live.every((f) => f.seen.get(r)?.has(x)))));
    return { holder: live[0]!.holder, bound: new Set([...live[0]!.bound].filter((r) => live.every((f) => f.bound.has(r)))), seen };
  };
  const bindFor = (f: Flow, from: string, to: string, clause: number, bound: Set<string>): string => {
    if (!dynamic(to) || bound.has(to) || to === from) return "";
    bound.add(to);
    return clause % 3 === 0 ? ` bind ${to} = text` : ` bind ${to}`;
  };
  const handTo = (f: Flow | undefined, to: string): Flow | undefined => {
    if (f === undefined || f.holder === to) return f;
    const bound = new Set(f.bound);
    const b = bindFor(f, f.holder, to, 1, bound);
    used.add(f.holder).add(to);
    out.push(`${f.holder} -> ${to}.Pong${b};`);
    return { holder: to, bound, seen: saw(f, [[f.holder, "Pong"], [to, "Pong"]]) };
  };
  const msg = (n: Msg, f: Flow, loops: readonly string[], leads?: Set<string>): Flow | undefined => {
    const from = f.holder;
    const cands = others(from);
    // Half the time, a role not used yet (so that larger sessions use their roles).
    let to = n.fixed?.to ?? (n.to >= 3 ? cands.find((r) => !used.has(r)) : undefined) ?? cands[n.to % cands.length]!;
    const wantsBranches = n.call && n.branches !== null;
    const methods = n.call ? ["Ask", "Decide"] : ["Ping", "Pong"];
    let method = n.fixed?.method ?? (wantsBranches ? "Decide" : methods[n.method % 2]!);
    if (leads !== undefined) {
      for (let k = 0; leads.has(`${to}.${method}`) && k < 2 * cands.length; k++) {
        to = cands[(n.to + (k >> 1) + 1) % cands.length]!;
        if (!wantsBranches) method = methods[(n.method + k) % 2]!;
      }
      leads.add(`${to}.${method}`);
    }
    used.add(from).add(to);
    const bound = new Set(f.bound);
    let clause = bindFor(f, from, to, n.clause, bound);
    const known = f.seen.get(to) ?? new Set();
    if (n.clause % 4 === 1 && known.size > 0) clause += ` where count == ${[...known].sort()[n.clause % known.size]}.count`;
    const seen = saw(f, [
      [from, method],
      [to, method],
    ]);
    const head = `${from} ${n.call ? "=>" : "->"} ${to}.${method}${clause}`;
    if (!n.call || (n.body === null && n.branches === null)) {
      out.push(`${head};`);
      return { holder: n.call ? from : to, bound, seen };
    }
    let inner: Flow | undefined = { holder: to, bound, seen };
    if (n.body !== null && others(to).some((r) => r !== from)) {
      out.push(`${head} {`);
      waiting.push(from);
      inner = handTo(block(n.body, inner, []), to);
      waiting.pop();
      out.push("}");
      if (inner === undefined) return undefined;
    } else out.push(head);
    const after: Flow = { holder: from, bound: inner.bound, seen: inner.seen };
    if (n.branches === null) {
      out.push(";");
      return after;
    }
    out.push("? {");
    const ends: Array<Flow | undefined> = [];
    let target: string | undefined;
    ["yes", "no"].forEach((c, i) => {
      out.push(`${c}:`);
      let end = block(n.branches![i]!, after, loops);
      if (end !== undefined) {
        if (target !== undefined) end = handTo(end, target);
        target ??= end?.holder;
      }
      ends.push(end);
    });
    out.push("}");
    return join(ends);
  };
  const block = (stmts: readonly Node[], f: Flow | undefined, loops: readonly string[]): Flow | undefined => {
    let cur = f;
    for (const s of stmts) {
      if (cur === undefined) return undefined;
      cur = stmt(s, cur, loops);
    }
    return cur;
  };
  const branches = (items: ReadonlyArray<() => Flow | undefined>, open: (i: number) => string): Flow | undefined => {
    const ends: Array<Flow | undefined> = [];
    let target: string | undefined;
    items.forEach((render, i) => {
      out.push(open(i));
      let end = render();
      if (end !== undefined) {
        if (target !== undefined) end = handTo(end, target);
        target ??= end?.holder;
      }
      out.push("}");
      ends.push(end);
    });
    return join(ends);
  };
  const stmt = (s: Node, f: Flow, loops: readonly string[]): Flow | undefined => {
    if (s.k === "msg") return msg(s, f, loops);
    if (s.k === "choice") {
      out.push(`choice at ${f.holder}`);
      const leads = new Set<string>();
      return branches(
        s.branches.map((b) => () => block(b.rest, msg(b.lead, f, loops, leads), loops)),
        (i) => (i === 0 ? "{" : "or {"),
      );
    }
    const label = `L${labels++}`;
    out.push(`rec ${label} {`);
    const inner = [...loops, label];
    const afterBody = block(s.body, f, inner);
    if (afterBody === undefined) {
      out.push("}");
      return undefined;
    }
    out.push(`choice at ${afterBody.holder}`);
    const leads = new Set<string>();
    const r = branches(
      [
        () => {
          const again = handTo(block(s.again.rest, msg(s.again.lead, afterBody, inner, leads), inner), f.holder);
          if (again !== undefined) out.push(`continue ${label};`);
          return undefined;
        },
        () => block(s.exit.rest, msg(s.exit.lead, afterBody, inner, leads), inner),
      ],
      (i) => (i === 0 ? "{" : "or {"),
    );
    out.push("}");
    return r;
  };
  const end = block(tree.stmts, { holder: "a", bound: new Set(), seen: new Map() }, []);
  if (tree.relay !== undefined) {
    const r = tree.relay;
    const oneway = (method: string, clause: number): Msg => ({ k: "msg", call: false, to: 0, method: 0, body: null, branches: null, clause, fixed: { to: "b", method } });
    const at = (f: Flow | undefined, m: Msg) => (f === undefined ? undefined : msg(m, f, []));
    const order = at(handTo(end, "a"), oneway("Order", r.order));
    const notice = at(handTo(block(r.mid, order, []), "a"), oneway("Notice", r.notice));
    block(r.post, at(notice, r.relay), []);
  }
  const declared = roles.filter((r) => used.has(r)).map((name) => ({ name, service: SERVICE(name), dynamic: dynamic(name) }));
  return { protocol: out.join(" "), roles: declared };
}

// ---------------------------------------------------------------------------------------------
// Attributes

/** One direction's attributes, as generated: indices normalised by `directionSecurity`. */
export interface Pick {
  readonly auth: number;
  readonly history: number;
  readonly replay: boolean;
  readonly nonRep: boolean;
  readonly privacy: number;
}

export interface Attributes {
  readonly keys: KeyEstablishmentMode;
  /** Edge i gets picks[i % picks.length] (unless `byMethod` has its rpc's method). */
  readonly picks: readonly Pick[];
  /** Per method name (the relay shape's `Order` and `Notice`): the pick of every edge of that method. */
  readonly byMethod?: Readonly<Record<string, Pick>>;
}

const AUTH = ["none", "hmac-sha256", "ed25519"] as const;
const HISTORY = ["none", "visibility", "full"] as const;
const PRIVACY = ["none", "chacha20-poly1305", "aes-256-gcm", "xsalsa20-poly1305"] as const;

const pickArb = (auth: fc.Arbitrary<number>): fc.Arbitrary<Pick> =>
  fc.record({
    auth,
    history: fc.nat(2),
    replay: fc.boolean(),
    nonRep: fc.boolean(),
    privacy: fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(3), weight: 1 }),
  });

const keysArb = fc.constantFrom<KeyEstablishmentMode>("noise", "static", "none");
const picksArb = fc.array(pickArb(fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, { arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.constant(2), weight: 1 })), {
  minLength: 1,
  maxLength: 6,
});

export const attributesArb: fc.Arbitrary<Attributes> = fc.record({ keys: keysArb, picks: picksArb });

/** The relay focus's attributes: the `Order` direction authenticated (HMAC or Ed25519), the `Notice` one with every attribute off, the rest as usual. */
export const relayAttributesArb: fc.Arbitrary<Attributes> = fc.record({
  keys: keysArb,
  picks: picksArb,
  byMethod: fc.record({ Order: pickArb(fc.integer({ min: 1, max: 2 })), Notice: pickArb(fc.constant(0)) }),
});

/** The attributes of a pick under `keys`, made to satisfy every configuration constraint (all off when authenticity is). */
export function directionSecurity(p: Pick, keys: KeyEstablishmentMode): DirectionSecurity {
  let authenticity: DirectionSecurity["authenticity"] = AUTH[p.auth % 3]!;
  if (authenticity === "hmac-sha256" && keys === "none") authenticity = "ed25519";
  const on = authenticity !== "none";
  const d: DirectionSecurity = {
    authenticity,
    history: on ? HISTORY[p.history % 3]! : "none",
    replayPrevention: on && p.replay,
    nonRepudiation: authenticity === "ed25519" && p.nonRep,
    privacy: keys === "none" ? "none" : PRIVACY[p.privacy % 4]!,
  };
  const bad = securityViolations(d, keys);
  if (bad.length > 0) throw new Error(`generated attributes violate the constraints: ${bad.join("; ")}`);
  return d;
}

export function applyAttributes(d: SessionDescriptor, a: Attributes): SessionDescriptor {
  const sec = (e: EdgeDescriptor) => directionSecurity(a.byMethod?.[e.rpc.slice(e.rpc.lastIndexOf("/") + 1)] ?? a.picks[e.id % a.picks.length]!, a.keys);
  return withSecurity(d, { security: sec, session: { keyEstablishment: a.keys } });
}

// ---------------------------------------------------------------------------------------------
// Compiling in memory (as test/fuzz/harness.ts does, over this file's services)

export interface Compiled {
  readonly descriptor: SessionDescriptor;
  readonly file: DescFile;
}

let base: FileRegistry | undefined;

/** The registry of the base services, compiled by buf once per process. */
export function baseRegistry(): FileRegistry {
  base ??= createFileRegistry(create(FileDescriptorSetSchema, { file: bufBuild({ [BASE_FILE]: BASE_SOURCE }).files }));
  return base;
}

const compiled = new Map<string, Compiled | string>();

/** The checker's verdict on a rendered protocol: the session (with the default attributes), or the diagnostics. Cached by text. */
export function compileRendered(r: Rendered, checker: { readonly allowRebinding?: boolean } = {}): Compiled | string {
  const key = JSON.stringify([r, checker.allowRebinding === true]);
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  const reg = baseRegistry();
  const proto = create(FileDescriptorProtoSchema, { name: FILE, package: "integrity", syntax: "proto3", dependency: [BASE_FILE, "secsession/v1/options.proto"] });
  const options = create(FileOptionsSchema);
  setExtension(options, sessionExt, [create(SessionSchema, { name: "Fuzz", roles: r.roles.map((x) => create(RoleSchema, x)), protocol: r.protocol })]);
  proto.options = options;
  const file = createFileRegistry(proto, (n) => reg.getFile(n)).getFile(FILE)!;
  const res = compileFile(file, (n) => reg.getService(n), () => undefined, checker);
  const out: Compiled | string = res.descriptors.length > 0 ? { descriptor: res.descriptors[0]!, file } : res.diagnostics.map(formatDiagnostic).join("; ") || "no session";
  if (compiled.size > 20_000) compiled.clear();
  compiled.set(key, out);
  return out;
}

/** The session option of a rendered protocol, as .proto text (for reports and regression tests). */
export function sessionText(r: Rendered): string {
  return `roles: [${r.roles.map((x) => `{ name: "${x.name}" service: "${x.service}"${x.dynamic ? " dynamic: true" : ""} }`).join(", ")}] protocol: "${r.protocol}"`;
}
