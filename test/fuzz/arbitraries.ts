/**
 * Shared configuration and arbitraries for the property-based fuzzing
 * (test/fuzz/*.test.ts; docs/fuzzing.md).
 *
 * Environment:
 *   FUZZ_SEED=<int>   seed (default: a fixed seed per target, printed by every test)
 *   FUZZ_LONG=1       long mode (`npm run fuzz`): ten times the runs of every target, in chunks of 100,000 (one ava test per chunk)
 *   FUZZ_RUNS=<int>   override the number of runs of every target
 *   FUZZ_PATH=<path>  with FUZZ_SEED, replay the one case fast-check reported (its `path`), then shrink it again
 *   FUZZ_DEPTH=<int>  nesting depth of the generated protocols (default 3)
 *   FUZZ_WORKERS=<n>  threads sharing the checker fuzzing (default: the cores, at most 4; 1 runs it in the test's process)
 */
import type { ExecutionContext } from "ava";
import fc from "fast-check";
import { create, ScalarType, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { Position } from "../../plugin/language/diagnostic.js";
import type { ProtocolSource } from "../../plugin/language/proto-source.js";

// ---------------------------------------------------------------------------------------------
// Configuration

export const LONG = process.env["FUZZ_LONG"] === "1";

export interface FuzzChunk {
  readonly label: string;
  readonly seed: number;
  readonly numRuns: number;
  /** Time budget of the chunk, for t.timeout and fast-check's interruptAfterTimeLimit. */
  readonly budgetMs: number;
}

const CHUNK = 100_000;

/**
 * The runs of one target, split into chunks of at most 100,000 runs (one ava test each, so ava's
 * inactivity timeout never sees a test of more than a chunk). Chunk k uses seed + k.
 */
export function fuzzChunks(defaultSeed: number, defaultRuns = 100_000, budgetMsPerChunk = 300_000): FuzzChunk[] {
  const envSeed = process.env["FUZZ_SEED"];
  const seed = envSeed !== undefined && envSeed !== "" ? Number.parseInt(envSeed, 10) | 0 : defaultSeed;
  const envRuns = process.env["FUZZ_RUNS"];
  const total = envRuns !== undefined && envRuns !== "" ? Number.parseInt(envRuns, 10) : LONG ? 10 * defaultRuns : defaultRuns;
  const out: FuzzChunk[] = [];
  for (let k = 0, done = 0; done < total; k++) {
    const n = Math.min(CHUNK, total - done);
    out.push({ label: total > CHUNK ? ` [chunk ${k + 1}/${Math.ceil(total / CHUNK)}]` : "", seed: (seed + k) | 0, numRuns: n, budgetMs: budgetMsPerChunk });
    done += n;
  }
  return out;
}

/**
 * Sets a test's timeout and yields once, so that ava's main process learns of it before the
 * synchronous fuzz loop blocks the worker (else ava's inactivity timeout still applies).
 */
export async function allowTime(t: ExecutionContext, ms: number): Promise<void> {
  t.timeout(ms);
  await new Promise((resolve) => setTimeout(resolve, 10));
}

/** fast-check parameters of a chunk: the fixed seed, the run count, and the time budget as a failure (FUZZ_PATH: one case). */
export function fcParams<T>(c: FuzzChunk): fc.Parameters<T> {
  const path = process.env["FUZZ_PATH"];
  return { seed: c.seed, numRuns: c.numRuns, interruptAfterTimeLimit: c.budgetMs, markInterruptAsFailure: true, includeErrorInReport: true, ...(path ? { path } : {}) };
}

/** Runs a property over a chunk, measuring wall time; throws fast-check's report on failure. */
export function runChunk<T>(c: FuzzChunk, prop: fc.IPropertyWithHooks<T>): { ms: number; perSecond: number; report: string } {
  const start = performance.now();
  fc.assert(prop, fcParams<T>(c));
  return timing(c, performance.now() - start);
}

/** runChunk for an async property. */
export async function runAsyncChunk<T>(c: FuzzChunk, prop: fc.IAsyncPropertyWithHooks<T>): Promise<{ ms: number; perSecond: number; report: string }> {
  const start = performance.now();
  await fc.assert(prop, fcParams<T>(c));
  return timing(c, performance.now() - start);
}

function timing(c: FuzzChunk, ms: number): { ms: number; perSecond: number; report: string } {
  const perSecond = Math.round((c.numRuns / ms) * 1000);
  return { ms, perSecond, report: `seed ${c.seed}: ${c.numRuns} runs in ${(ms / 1000).toFixed(2)} s (${perSecond} cases/s)` };
}

// ---------------------------------------------------------------------------------------------
// Sources

/**
 * A protocol source over the text itself (as if the protocol were the whole file): `positionAt(i)`
 * is the 1-based line and column of text[i] (UTF-16 units), or one past the end.
 */
export function textSource(file: string, text: string): ProtocolSource {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  return {
    text,
    positionAt(offset: number): Position {
      const o = Math.max(0, Math.min(offset, text.length));
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid]! <= o) lo = mid;
        else hi = mid - 1;
      }
      return { file, line: lo + 1, col: o - lineStarts[lo]! + 1 };
    },
    fieldPosition: () => undefined,
    elementPosition: () => undefined,
  };
}

/** The offset of a 1-based (line, col) in `text`, or undefined when outside it. */
export function offsetOf(text: string, line: number, col: number): number | undefined {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf("\n", start);
  const lineLength = (end < 0 ? text.length : end) - start;
  if (col < 1 || col > lineLength + 1) return undefined;
  return start + col - 1;
}

// ---------------------------------------------------------------------------------------------
// Target 1: strings for the lexer and parser

/** Arbitrary unicode: any code unit sequence (lone surrogates included), graphemes, ASCII. */
export const unicodeText: fc.Arbitrary<string> = fc.constant(null).chain(() => unicode());
let unicodeArb: fc.Arbitrary<string> | undefined;
/** Built on first use: fast-check's full-unicode string arbitraries take a second to set up. */
function unicode(): fc.Arbitrary<string> {
  return (unicodeArb ??= fc.oneof(
    fc.string({ unit: "binary", maxLength: 120 }),
    fc.string({ unit: "grapheme", maxLength: 60 }),
    fc.string({ unit: "binary-ascii", maxLength: 200 }),
  ));
}

export const ROLES = ["a", "b", "c"] as const;
const KEYWORDS = ["choice", "at", "or", "rec", "continue", "bind", "where", "opens", "returns"];
const METHOD_NAMES = ["Ping", "Pong", "Ask", "Decide", "Route", "Open", "Double", "Flood", "Nope"];
const FIELDS = ["text", "count", "digest", "server", "value", "yes", "no"];
const PUNCTS = ["->", "=>", "==", "=", ".", ";", ":", "{", "}", "(", ")", "?"];
const ODD = ["-", ">", "<", "/", "//", "/*", "*/", '"', "\\", "#", "0", "9x", "é", "\u{1F600}", "\uD800", "\u0000", "\u2028", "_", "L", "x", "A.B", "corpus.Note"];
const SEPARATORS = [" ", " ", " ", "", "\n", "\t", "\r\n", " // note\n", "//\n", "  "];

/** One token of the language (or a near miss). */
export const languageToken: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...ROLES, "x"), weight: 4 },
  { arbitrary: fc.constantFrom(...KEYWORDS), weight: 3 },
  { arbitrary: fc.constantFrom(...METHOD_NAMES), weight: 3 },
  { arbitrary: fc.constantFrom(...FIELDS), weight: 2 },
  { arbitrary: fc.constantFrom(...PUNCTS), weight: 6 },
  { arbitrary: fc.constantFrom(...ODD), weight: 1 },
  { arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/), weight: 1 },
);

/** A sequence of language tokens with random separators. */
export const tokenSoup: fc.Arbitrary<string> = fc
  .array(fc.tuple(languageToken, fc.constantFrom(...SEPARATORS)), { maxLength: 60 })
  .map((ts) => ts.map(([t, s]) => t + s).join(""));

type Mutation =
  | { k: "delete"; at: number; len: number }
  | { k: "insert"; at: number; s: string }
  | { k: "duplicate"; at: number; len: number; to: number }
  | { k: "swap"; at: number; len: number; to: number }
  | { k: "truncate"; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ k: fc.constant("insert" as const), at: fc.nat(), s: fc.oneof(languageToken, fc.constantFrom(...SEPARATORS), unicodeText) }),
  fc.record({ k: fc.constant("duplicate" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }), to: fc.nat() }),
  fc.record({ k: fc.constant("swap" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }), to: fc.nat() }),
  fc.record({ k: fc.constant("truncate" as const), at: fc.nat() }),
);

function applyMutation(s: string, m: Mutation): string {
  const at = s.length === 0 ? 0 : m.at % (s.length + 1);
  switch (m.k) {
    case "delete": return s.slice(0, at) + s.slice(at + m.len);
    case "insert": return s.slice(0, at) + m.s + s.slice(at);
    case "truncate": return s.slice(0, at);
    case "duplicate": {
      const piece = s.slice(at, at + m.len);
      const to = m.to % (s.length + 1);
      return s.slice(0, to) + piece + s.slice(to);
    }
    case "swap": {
      const piece = s.slice(at, at + m.len);
      const rest = s.slice(0, at) + s.slice(at + m.len);
      const to = m.to % (rest.length + 1);
      return rest.slice(0, to) + piece + rest.slice(to);
    }
  }
}

/** Mutates strings drawn from `base` by one to four edits. */
export function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => ms.reduce(applyMutation, s));
}

// ---------------------------------------------------------------------------------------------
// Target 3: grammar-generated protocols over corpus/common.proto (services A, B, C)

/** An interaction as generated: role and method choices are relative, resolved by the renderer. */
export interface MsgNode {
  readonly k: "msg";
  readonly call: boolean;
  /** Receiver: index among the roles other than the token holder. */
  readonly to: number;
  /** Method: index into the methods that fit (one-way or call). */
  readonly m: number;
  /** 0: no types, 1: request type, 2: request and response type, 3: qualified request type. */
  readonly types: number;
  readonly clause: number;
  readonly body: readonly Node[] | null;
  readonly branches: readonly [readonly Node[], readonly Node[]] | null;
  /** Per mille; below NOISE the renderer breaks something on purpose (which thing: noise modulo the kinds). */
  readonly noise: number;
  /** Formatting: line break and comment after the statement. */
  readonly fmt: number;
}

export interface ChoiceNode {
  readonly k: "choice";
  readonly branches: ReadonlyArray<{ readonly lead: MsgNode; readonly rest: readonly Node[] }>;
  readonly noise: number;
  readonly fmt: number;
}

export interface RecNode {
  readonly k: "rec";
  readonly body: readonly Node[];
  readonly again: { readonly lead: MsgNode; readonly rest: readonly Node[] };
  readonly exit: { readonly lead: MsgNode; readonly rest: readonly Node[] };
  readonly noise: number;
  readonly fmt: number;
}

/** A `continue` outside the renderer's loop discipline (mostly ill-formed). */
export interface ContinueNode {
  readonly k: "continue";
  readonly label: number;
  readonly fmt: number;
}

export type Node = MsgNode | ChoiceNode | RecNode | ContinueNode;

export interface ProtocolTree {
  readonly start: number;
  readonly stmts: readonly Node[];
  /** Two- or three-role session. */
  readonly threeRoles: boolean;
  /** Role c is dynamic (bound with `bind c` on the first message to or from it). */
  readonly dynamicC: boolean;
  /** < 10: declare all three roles whatever the protocol uses. */
  readonly declareAll: number;
  /** Session security: undefined for the defaults, else the enum values to set. */
  readonly security: SecurityChoice | undefined;
}

export interface SecurityChoice {
  readonly privacy: number;
  readonly authenticity: number;
  readonly nonRepudiation: number;
  readonly replayPrevention: number;
  readonly history: number;
  readonly keyEstablishment: number;
}

/** Per mille of nodes the renderer breaks on purpose (2%; a multiple of every node's number of kinds of noise). */
export const NOISE = 20;
/** Nesting depth of generated protocols (blocks in blocks); FUZZ_DEPTH to explore. */
const MAX_DEPTH = Number(process.env["FUZZ_DEPTH"] ?? 3);
/** Uniform values (fast-check biases integers towards small values, which would inflate the noise). */
const noise = fc.noBias(fc.nat(999));
const percent = fc.noBias(fc.nat(99));
const fmt = percent;
const clause = fc.noBias(fc.nat(999));

export const protocolTree: fc.Arbitrary<ProtocolTree> = (() => {
  const depth = { depthSize: "small" as const, depthIdentifier: "protocol" };
  const arbs = fc.letrec<{ stmts: Node[]; stmt: Node; msg: MsgNode; lead: MsgNode; choice: ChoiceNode; rec: RecNode; cont: ContinueNode }>((tie) => ({
    stmts: fc.array(tie("stmt"), { minLength: 1, maxLength: 3, ...depth }),
    stmt: fc.oneof(
      { maxDepth: MAX_DEPTH, ...depth, withCrossShrink: true },
      { arbitrary: tie("msg"), weight: 40 },
      { arbitrary: tie("choice"), weight: 10 },
      { arbitrary: tie("rec"), weight: 10 },
      { arbitrary: tie("cont"), weight: 1 },
    ),
    msg: fc.record({
      k: fc.constant("msg" as const),
      call: fc.boolean(),
      to: fc.nat(5),
      m: fc.nat(11),
      types: fc.oneof({ arbitrary: fc.constant(0), weight: 40 }, { arbitrary: fc.constantFrom(1, 2), weight: 4 }, { arbitrary: fc.constant(3), weight: 1 }),
      clause,
      body: fc.oneof({ ...depth, maxDepth: MAX_DEPTH }, { arbitrary: fc.constant(null), weight: 6 }, { arbitrary: tie("stmts"), weight: 1 }),
      branches: fc.oneof(
        { ...depth, maxDepth: MAX_DEPTH },
        { arbitrary: fc.constant(null), weight: 5 },
        { arbitrary: fc.tuple(fc.oneof(fc.constant([]), tie("stmts")), fc.oneof(fc.constant([]), tie("stmts"))), weight: 1 },
      ),
      noise,
      fmt,
    }),
    lead: fc.record({
      k: fc.constant("msg" as const),
      call: fc.boolean(),
      to: fc.nat(5),
      m: fc.nat(11),
      types: fc.constant(0),
      clause,
      body: fc.constant(null),
      branches: fc.constant(null),
      noise,
      fmt,
    }),
    choice: fc.record({
      k: fc.constant("choice" as const),
      branches: fc.array(fc.record({ lead: tie("lead"), rest: fc.oneof(fc.constant([]), tie("stmts")) }), { minLength: 2, maxLength: 3, ...depth }),
      noise,
      fmt,
    }),
    rec: fc.record({
      k: fc.constant("rec" as const),
      body: fc.oneof(fc.constant([]), tie("stmts")),
      again: fc.record({ lead: tie("lead"), rest: fc.oneof(fc.constant([]), tie("stmts")) }),
      exit: fc.record({ lead: tie("lead"), rest: fc.oneof(fc.constant([]), tie("stmts")) }),
      noise,
      fmt,
    }),
    cont: fc.record({ k: fc.constant("continue" as const), label: fc.nat(3), fmt }),
  }));
  const security = fc.record({
    privacy: fc.nat(4),
    authenticity: fc.nat(3),
    nonRepudiation: fc.nat(2),
    replayPrevention: fc.nat(2),
    history: fc.nat(3),
    keyEstablishment: fc.nat(3),
  });
  return fc.record({
    start: fc.nat(2),
    stmts: arbs.stmts,
    threeRoles: fc.boolean(),
    dynamicC: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
    declareAll: percent,
    security: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: security, weight: 1 }),
  });
})();

/**
 * Straight-line protocols of 20 to 40 one-way messages between a and b: the projection's
 * minimisation was once exponential in their length (test/plugin/projection.test.ts).
 */
export const longSequenceTree: fc.Arbitrary<ProtocolTree> = fc.integer({ min: 20, max: 40 }).map((n) => ({
  start: 0,
  stmts: Array.from({ length: n }, (): MsgNode => ({ k: "msg", call: false, to: 0, m: 0, types: 0, clause: 999, body: null, branches: null, noise: 999, fmt: 0 })),
  threeRoles: false,
  dynamicC: false,
  declareAll: 99,
  security: undefined,
}));

/** The protocols of the checker fuzzing: the grammar's, and now and then a long straight line. */
export const checkerTree: fc.Arbitrary<ProtocolTree> = fc.oneof({ arbitrary: protocolTree, weight: 50 }, { arbitrary: longSequenceTree, weight: 1 });

/** The methods of corpus/common.proto by service; `Decide` returns Verdict (oneof outcome { yes, no }). */
const SERVICE: Record<string, string> = { a: "A", b: "B", c: "C" };
const METHODS: Record<string, readonly string[]> = {
  A: ["Ping", "Pong", "Ask", "Decide"],
  B: ["Ping", "Pong", "Ask", "Decide", "Route", "Open", "Double"],
  C: ["Ping", "Pong", "Ask"],
};
const ONEWAY = ["Ping", "Pong", "Route", "Open"];
const CALL = ["Ask", "Decide", "Ping", "Pong"];
const RESPONSE: Record<string, string> = { Ping: "google.protobuf.Empty", Pong: "google.protobuf.Empty", Ask: "Answer", Decide: "Verdict", Route: "google.protobuf.Empty", Open: "google.protobuf.Empty", Double: "Twice" };
const REQUEST: Record<string, string> = { Ping: "Note", Pong: "Note", Ask: "Note", Decide: "Note", Route: "Routed", Open: "Opening", Double: "Note" };

export interface RenderedProtocol {
  /** One entry per string literal of the `protocol` field. */
  readonly lines: readonly string[];
  /** The roles the session declares, in order. */
  readonly roles: ReadonlyArray<{ readonly name: string; readonly service: string; readonly dynamic: boolean }>;
  readonly security: SecurityChoice | undefined;
}

interface Flow {
  readonly holder: string;
  readonly bound: ReadonlySet<string>;
  /** `role:Method` seen on every path. */
  readonly seen: ReadonlySet<string>;
}

type Loops = ReadonlyArray<{ readonly label: string; readonly holder: string }>;

/**
 * Renders a tree as protocol text. The renderer tracks the token holder (and the dynamic bindings and
 * the messages seen) so that, unless a node's `noise` breaks something on purpose, the protocol keeps
 * the token discipline: the holder sends, branches end with one holder (the renderer hands the token
 * over with a Ping), a loop is continued by the role that started it, a call body ends at the callee.
 * `layout` varies the formatting only (line breaks, comments, spaces).
 */
export function renderProtocol(tree: ProtocolTree, layout = 0): RenderedProtocol {
  const roles = tree.threeRoles ? ["a", "b", "c"] : ["a", "b"];
  const dynamic = (r: string) => tree.dynamicC && r === "c";
  const out = new Printer(layout);
  let labels = 0;
  const mentioned = new Set<string>();
  const others = (h: string) => roles.filter((r) => r !== h);

  const join = (flows: ReadonlyArray<Flow | undefined>): Flow | undefined => {
    const live = flows.filter((f): f is Flow => f !== undefined);
    const first = live[0];
    if (first === undefined) return undefined;
    return {
      holder: first.holder,
      bound: new Set([...first.bound].filter((r) => live.every((f) => f.bound.has(r)))),
      seen: new Set([...first.seen].filter((r) => live.every((f) => f.seen.has(r)))),
    };
  };

  /** Hands the token from the flow's holder to `to` with a Ping, unless it holds it already. */
  const handTo = (f: Flow | undefined, to: string): Flow | undefined => {
    if (f === undefined || f.holder === to) return f;
    mentioned.add(f.holder);
    mentioned.add(to);
    const bound = new Set(f.bound);
    let bind = "";
    if (dynamic(to) && !bound.has(to)) {
      bind = ` bind ${to}`;
      bound.add(to);
    }
    out.stmt(`${f.holder} -> ${to}.Ping${bind};`, 100);
    return { holder: to, bound, seen: new Set([...f.seen, `${f.holder}:Ping`, `${to}:Ping`]) };
  };

  /**
   * Renders branches (each opened by `open`, closed by `close`); with `fix`, every branch hands the token
   * to the holder the first live branch ends with, so that what follows has one holder.
   */
  const branches = (items: ReadonlyArray<{ open: string; close: string; render: () => Flow | undefined }>, fix: boolean): Flow | undefined => {
    const ends: Array<Flow | undefined> = [];
    let target: string | undefined;
    for (const it of items) {
      out.open(it.open);
      let end = it.render();
      if (end !== undefined) {
        if (fix && target !== undefined) end = handTo(end, target);
        target ??= end?.holder;
      }
      out.close(it.close);
      ends.push(end);
    }
    return join(ends);
  };

  const msg = (n: MsgNode, f: Flow, loops: Loops, leads?: Set<string>): Flow | undefined => {
    const broken = n.noise < NOISE ? n.noise % 10 : -1;
    const from = broken === 0 ? others(f.holder)[n.to % others(f.holder).length]! : f.holder; // token discipline
    const candidates = others(from);
    let to = candidates[n.to % candidates.length]!;
    if (broken === 1) to = n.to % 2 === 0 ? from : "x"; // self send, unknown role
    let call = n.call;
    const branchesWanted = n.branches !== null && call;
    let method: string;
    if (branchesWanted) {
      if (SERVICE[to] === "C") to = candidates.find((r) => r !== "c") ?? to; // Decide is served by A and B
      method = "Decide";
    } else {
      const fit = (r: string) => (call ? CALL : ONEWAY).filter((m) => (METHODS[SERVICE[r] ?? ""] ?? []).includes(m));
      method = fit(to)[n.m % Math.max(1, fit(to).length)] ?? "Ping";
      if (leads !== undefined) {
        // The branches of a choice start with different messages (receiver and method).
        for (let k = 0; leads.has(`${to}.${method}`) && k < 4 * candidates.length; k++) {
          to = candidates[(n.to + (k >> 2)) % candidates.length]!;
          method = fit(to)[(n.m + k) % Math.max(1, fit(to).length)] ?? method;
        }
      }
    }
    if (leads !== undefined && broken !== 3) leads.add(`${to}.${method}`);
    if (broken === 2) method = ["Nope", "Flood", "Double", "rec"][n.m % 4]!; // unknown, streaming, two oneofs, keyword
    if (broken === 4) call = !call; // one-way on a call, or a call where the body or branches need it
    let extra = "";
    const req = REQUEST[method] ?? "Note";
    if (n.types === 1) extra += `(${req})`;
    else if (n.types === 2) extra += call ? `(${req}) returns (${RESPONSE[method] ?? "Answer"})` : `(corpus.${req})`;
    else if (n.types === 3) extra += n.m % 2 === 0 || !call ? "(Answer)" : "(Note) returns (corpus.Note)"; // wrong types
    if (n.clause < 40) {
      // Value passing and commitments on Note requests, against an earlier Ping the receiver saw.
      if (req === "Note" && (f.seen.has(`${to}:Ping`) || n.clause < 2)) {
        extra += [" where text == Ping.text", " where count == Ping.count", " opens Ping.digest"][n.clause % 3];
      }
    } else if (n.clause < 44) {
      extra += [" where digest == Ping.text", " bind a", " bind y", " where text == Pong.nothing"][n.clause - 40];
    }
    mentioned.add(from);
    mentioned.add(to);
    const bound = new Set(f.bound);
    for (const r of [from, to]) {
      if (dynamic(r) && !bound.has(r) && r !== from && broken !== 5) {
        extra += ` bind ${r}${n.clause % 2 === 0 ? " = text" : ""}`;
        bound.add(r);
      }
    }
    const seen = new Set([...f.seen, `${from}:${method}`, `${to}:${method}`]);
    const head = `${from} ${call ? "=>" : "->"} ${to}.${method}${extra}`;
    const hasBody = n.body !== null && broken !== 6;
    if ((!call && broken !== 4) || (n.body === null && n.branches === null)) {
      out.stmt(`${head};`, n.fmt);
      return { holder: call ? from : to, bound, seen };
    }
    out.open(head);
    let inner: Flow | undefined = { holder: to, bound, seen };
    if (hasBody) {
      out.open("{");
      inner = block(n.body ?? [], inner, []);
      if (broken !== 7) inner = handTo(inner, to);
      out.close("}");
      if (inner === undefined) {
        out.close(";");
        return undefined;
      }
    } else if (n.body !== null) {
      out.stmt("{ }", 0); // an empty body
    }
    const after: Flow = { holder: from, bound: inner.bound, seen: inner.seen };
    if (n.branches === null) {
      out.close(";");
      return after;
    }
    let cases = ["yes", "no"];
    if (broken === 8) cases = [["yes"], ["yes", "yes", "no"], ["yes", "maybe", "no"], ["no", "yes"]][n.m % 4]!;
    out.open("? {");
    const result = branches(
      cases.map((c, i) => ({ open: `${c}:`, close: "", render: () => block(n.branches?.[i % 2] ?? [], after, loops) })),
      broken !== 9,
    );
    out.close("}");
    return result;
  };

  /** Renders statements; returns the flow after them (undefined: never falls through). */
  const block = (stmts: readonly Node[], f: Flow, loops: Loops): Flow | undefined => {
    let cur: Flow | undefined = f;
    for (const s of stmts) {
      if (cur === undefined) break;
      cur = stmt(s, cur, loops);
    }
    return cur;
  };

  const stmt = (s: Node, f: Flow, loops: Loops): Flow | undefined => {
    switch (s.k) {
      case "msg":
        return msg(s, f, loops);
      case "continue": {
        const loop = loops[s.label % Math.max(1, loops.length)];
        out.stmt(`continue ${loop?.label ?? "Nowhere"};`, s.fmt);
        return undefined;
      }
      case "choice": {
        const broken = s.noise < NOISE ? s.noise % 3 : -1;
        const at = broken === 0 ? others(f.holder)[0]! : f.holder; // a choice by a role without the token
        out.open(`choice at ${at}`);
        const leads = new Set<string>();
        const r = branches(
          s.branches.map((b, i) => ({
            open: i === 0 ? "{" : "or {",
            close: "}",
            render: () => {
              const started = broken === 1 && i === 1 ? f : msg(b.lead, f, loops, leads); // a branch without a lead
              return started === undefined ? undefined : block(b.rest, started, loops);
            },
          })),
          broken !== 2,
        );
        out.close("");
        return r;
      }
      case "rec": {
        const broken = s.noise < NOISE ? s.noise % 3 : -1;
        const label = broken === 0 && loops.length > 0 ? loops[0]!.label : `L${labels++}`; // label reuse
        out.open(`rec ${label} {`);
        const inner = [...loops, { label, holder: f.holder }];
        const afterBody = block(s.body, f, inner);
        if (afterBody === undefined) {
          out.close("}");
          return undefined;
        }
        out.open(`choice at ${afterBody.holder}`);
        const leads = new Set<string>();
        const r = branches(
          [
            {
              open: "{",
              close: "}",
              render: () => {
                let again = msg(s.again.lead, afterBody, inner, leads);
                if (again !== undefined) again = block(s.again.rest, again, inner);
                if (again !== undefined) {
                  if (broken !== 1) again = handTo(again, f.holder);
                  out.stmt(`continue ${label};`, s.fmt);
                }
                return undefined;
              },
            },
            {
              open: "or {",
              close: "}",
              render: () => {
                const exit = broken === 2 ? afterBody : msg(s.exit.lead, afterBody, inner, leads);
                return exit === undefined ? undefined : block(s.exit.rest, exit, inner);
              },
            },
          ],
          true,
        );
        out.close("");
        out.close("}");
        return r;
      }
    }
  };

  const startRole = roles[tree.start % roles.length]!;
  block(tree.stmts, { holder: startRole, bound: new Set(), seen: new Set() }, []);
  const declared = (tree.declareAll < 10 ? ["a", "b", "c"] : roles.filter((r) => mentioned.has(r))).map((name) => ({
    name,
    service: SERVICE[name]!,
    dynamic: dynamic(name),
  }));
  return { lines: out.lines(), roles: declared, security: tree.security };
}

/** Prints statements into protocol literals (one line each), with a layout-dependent formatting. */
class Printer {
  private readonly out: string[] = [];
  private cur = "";
  private depth = 0;
  constructor(private readonly layout: number) {}

  private brk(f: number): boolean {
    // layout 0: one statement per line; others vary by statement.
    return this.layout === 0 ? true : (f + this.layout) % 3 !== 0;
  }

  private push(s: string): void {
    this.cur += (this.cur === "" ? "  ".repeat(this.depth) : " ") + s;
  }

  private flush(comment: boolean): void {
    if (this.cur === "") return;
    if (comment) {
      this.cur += " // -> => { } ; choice";
    }
    this.out.push(this.cur);
    this.cur = "";
  }

  stmt(s: string, f: number): void {
    this.push(s);
    if (this.brk(f)) this.flush(this.layout !== 0 && (f + this.layout) % 7 === 0);
  }

  open(s: string): void {
    if (s !== "") this.push(s);
    this.depth++;
  }

  close(s: string): void {
    this.depth--;
    if (s !== "") this.push(s);
    if (this.layout !== 1) this.flush(false);
  }

  lines(): string[] {
    this.flush(false);
    return this.out;
  }
}

// ---------------------------------------------------------------------------------------------
// Target 2: .proto sources with a session option, and what protocolSourceAt must find in them

/** A piece of a string literal: its source text and the characters protoc decodes it to. */
export interface Piece {
  readonly raw: string;
  readonly decoded: string;
  readonly escape: boolean;
}

export interface Literal {
  readonly quote: '"' | "'";
  readonly pieces: readonly Piece[];
}

const SIMPLE: ReadonlyArray<readonly [string, string]> = [
  ["n", "\n"], ["t", "\t"], ["r", "\r"], ["a", "\x07"], ["b", "\b"], ["f", "\f"], ["v", "\v"],
  ["\\", "\\"], ["'", "'"], ['"', '"'], ["?", "?"],
];

const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");

/** The UTF-8 bytes of a code point, each as an octal or a hex escape (as protoc decodes them). */
const utf8Escapes = fc.tuple(fc.oneof(fc.integer({ min: 0x80, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })).map(([cp, octal]) => {
  const raw = [...Buffer.from(String.fromCodePoint(cp), "utf8")].map((b, k) => (octal[k] ? `\\${b.toString(8)}` : `\\x${hex(b, 2)}`)).join("");
  return { raw, decoded: String.fromCodePoint(cp), escape: true };
});

/** An escape sequence protoc accepts: simple, octal, hex, \u, \U, and bytes forming UTF-8. */
const escapePiece: fc.Arbitrary<Piece> = fc.oneof(
  fc.constantFrom(...SIMPLE).map(([e, d]) => ({ raw: `\\${e}`, decoded: d, escape: true })),
  fc.integer({ min: 0, max: 0o177 }).map((n) => ({ raw: `\\${n.toString(8).padStart(3, "0")}`, decoded: String.fromCharCode(n), escape: true })),
  fc.tuple(fc.integer({ min: 0, max: 0x7f }), fc.boolean(), fc.boolean()).map(([n, upperX, upperDigits]) => {
    const digits = upperDigits ? hex(n, 2).toUpperCase() : hex(n, 2);
    return { raw: `\\${upperX ? "X" : "x"}${digits}`, decoded: String.fromCharCode(n), escape: true };
  }),
  fc.integer({ min: 0x20, max: 0xd7ff }).map((n) => ({ raw: `\\u${hex(n, 4)}`, decoded: String.fromCodePoint(n), escape: true })),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((n) => ({ raw: `\\U${hex(n, 8)}`, decoded: String.fromCodePoint(n), escape: true })),
  utf8Escapes,
);

/** Plain characters of a literal (not its quote, a backslash or a line break). */
function plainPiece(quote: string): fc.Arbitrary<Piece> {
  const ascii = fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)).filter((c) => c !== quote && c !== "\\");
  const text = fc.oneof(
    { arbitrary: fc.array(ascii, { minLength: 1, maxLength: 12 }).map((cs) => cs.join("")), weight: 6 },
    { arbitrary: fc.constantFrom("a -> b.Ping;", "choice at a {", "} or {", "// comment", "rec L {", "continue L;", "?", "/*", "*/"), weight: 3 },
    { arbitrary: fc.constantFrom("é", "\u{1F600}", "ü", "\u00a0", "\t"), weight: 1 },
  );
  return text.map((s) => ({ raw: s, decoded: s, escape: false }));
}

export const literalArb: fc.Arbitrary<Literal> = fc.constantFrom<'"' | "'">('"', "'").chain((quote) =>
  fc.record({
    quote: fc.constant(quote),
    pieces: fc.array(fc.oneof({ arbitrary: plainPiece(quote), weight: 3 }, { arbitrary: escapePiece, weight: 1 }), { maxLength: 6 }),
  }),
);

/** Separators between the tokens of the option statement (comments included). */
const GAPS = [" ", " ", " ", "\n", "\n    ", "  ", "\r\n", "\t", " /* c */ ", "/* two\nlines */", " // line comment\n", "\n// option (secsession.v1.session) = {\n"];
const gap = fc.constantFrom(...GAPS);
const gapOrNone = fc.oneof({ arbitrary: gap, weight: 3 }, { arbitrary: fc.constant(""), weight: 1 });

/** Statements before the option (all valid proto, some that look like session options). */
const PREFIX = [
  "// A session: option (secsession.v1.session) = { protocol: \"x\" };",
  "/* option (secsession.v1.session) = {\n  protocol: \"not this one\"\n}; */",
  'option java_package = "a;b{c}[d]";',
  'option go_package = "x/y\\";z";',
  "message M { string protocol = 1; }",
  "enum E { E_UNSPECIFIED = 0; }",
  "",
  "   ",
];

/** Statements after the option. */
const SUFFIX = ["// after", "/* after */", "message After { string protocol = 1; }"];

export interface ProtoCase {
  readonly source: string;
  /** 0-based position of the `option` keyword (as SourceCodeInfo spans are). */
  readonly line: number;
  readonly col: number;
  /** The protocol value protoc stores: the decoded literals, concatenated. */
  readonly value: string;
  /** What protocolSourceAt must return as text: the literals, a line break between two unless one ends the first. */
  readonly text: string;
  /** For text[i] (and i = text.length): the source offset positionAt(i) must point at. */
  readonly offsets: readonly number[];
  /** Offsets of text characters that come from escapes (the offset is the backslash). */
  readonly escaped: ReadonlySet<number>;
  /** Top-level keys and their source offsets (first occurrence). */
  readonly fields: ReadonlyMap<string, number>;
  /** Offsets of the `{`/`<` of each element of `roles: [...]`. */
  readonly roleElements: readonly number[];
}

interface OptionShape {
  readonly prefix: readonly string[];
  readonly indent: string;
  readonly gaps: readonly string[];
  readonly name: boolean;
  readonly roles: ReadonlyArray<{ readonly name: string; readonly angle: boolean }>;
  readonly protocol: readonly Literal[] | null;
  readonly colonBeforeProtocol: boolean;
  readonly security: boolean;
  readonly replay: boolean;
  readonly order: readonly number[];
  readonly separators: readonly string[];
  readonly suffix: readonly string[];
}

/** The column buf records for an option after each indent (measured with buf 1.75). */
const INDENT_COLUMNS: Readonly<Record<string, number>> = { "\t": 4, " \t": 4, "\t\t": 8, "/* \u4e2d\u{1F600} */ ": 11, "/*\u00e9*/\t": 8, "/* e\u0301 */": 7 };

const shape: fc.Arbitrary<OptionShape> = fc.record({
  prefix: fc.shuffledSubarray(PREFIX, { maxLength: 4 }),
  indent: fc.constantFrom("", "", "  ", " ", "\t", " \t", "\t\t", "/* \u4e2d\u{1F600} */ ", "/*\u00e9*/\t", "/* e\u0301 */"),
  gaps: fc.array(gapOrNone, { minLength: 64, maxLength: 64 }),
  name: fc.boolean(),
  roles: fc.array(fc.record({ name: fc.constantFrom("a", "b", "client", "x_1"), angle: fc.boolean() }), { maxLength: 3 }),
  protocol: fc.option(fc.array(literalArb, { maxLength: 5 }), { nil: null, freq: 8 }),
  colonBeforeProtocol: fc.boolean(),
  security: fc.boolean(),
  replay: fc.boolean(),
  order: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }),
  separators: fc.array(fc.constantFrom("", "", ",", ";"), { minLength: 5, maxLength: 5 }),
  suffix: fc.shuffledSubarray(SUFFIX, { maxLength: 2 }),
});

/**
 * Builds the .proto text of a shape, recording where every protocol character comes from. For buf
 * (`strict`), the text is what protoc accepts: a colon before a string value. `col` is the option's
 * column as buf counts it (terminal cells: tab stops of 4, wide characters of 2).
 */
export function buildProtoCase(s: OptionShape, strict = false): ProtoCase {
  let src = ['syntax = "proto3";', "", "package fuzz;", "", 'import "secsession/v1/options.proto";', "", ...s.prefix, ""].join("\n");
  const indent = s.indent;
  src += indent;
  const line = src.split("\n").length - 1;
  const col = INDENT_COLUMNS[indent] ?? indent.length;
  const optionAt = src.length;
  let g = 0;
  const nextGap = (required: boolean) => {
    const x = s.gaps[g++ % s.gaps.length]!;
    return x === "" && required ? " " : x;
  };
  const fields = new Map<string, number>();
  const roleElements: number[] = [];
  let text = "";
  let value = "";
  const offsets: number[] = [];
  const escaped = new Set<number>();
  let end = optionAt;
  const emit = (tok: string, needsSpace = false) => {
    src += nextGap(needsSpace) + tok;
  };
  src += "option";
  emit("(secsession.v1.session)", true);
  emit("=");
  emit("{");
  const key = (k: string) => {
    src += nextGap(true);
    if (!fields.has(k)) fields.set(k, src.length);
    src += k;
  };
  for (const [i, f] of s.order.entries()) {
    switch (f) {
      case 0:
        if (!s.name) continue;
        key("name");
        emit(":");
        emit('"Fuzz"');
        break;
      case 1:
        if (s.roles.length === 0) continue;
        key("roles");
        emit(":");
        emit("[");
        s.roles.forEach((r, k) => {
          if (k > 0) emit(",");
          src += nextGap(false);
          roleElements.push(src.length);
          src += r.angle ? "<" : "{";
          emit("name", true);
          emit(":");
          emit(`"${r.name}"`);
          emit("service", true);
          emit(":");
          emit('"S"');
          emit(r.angle ? ">" : "}");
        });
        emit("]");
        break;
      case 2:
        if (s.protocol === null) continue;
        key("protocol");
        const colon = s.colonBeforeProtocol || strict;
        if (colon) emit(":");
        for (const lit of s.protocol.length === 0 ? [{ quote: '"' as const, pieces: [] }] : s.protocol) {
          // buf 1.75 panics on an empty literal directly followed by another one (`"""x"`): not for buf.
          src += nextGap(strict || (!colon && lit === s.protocol[0]));
          if (text.length > 0 && !text.endsWith("\n")) {
            text += "\n";
            offsets.push(end);
          }
          src += lit.quote;
          for (const p of lit.pieces) {
            if (p.escape) {
              for (let k = 0; k < p.decoded.length; k++) {
                escaped.add(text.length);
                offsets.push(src.length);
                text += p.decoded[k];
              }
            } else {
              for (let k = 0; k < p.raw.length; k++) {
                offsets.push(src.length + k);
                text += p.raw[k];
              }
            }
            value += p.decoded;
            src += p.raw;
          }
          end = src.length;
          src += lit.quote;
        }
        break;
      case 3:
        if (!s.security) continue;
        key("security");
        emit(":");
        emit("{");
        emit("privacy", true);
        emit(":");
        emit("PRIVACY_NONE", true);
        emit("history", true);
        emit(":");
        emit("HISTORY_FULL", true);
        emit("}");
        break;
      case 4:
        if (!s.replay) continue;
        key("replay_window_seconds");
        emit(":");
        emit("60", true);
        break;
    }
    if (s.separators[i] !== "") emit(s.separators[i]!);
  }
  emit("}");
  emit(";");
  offsets.push(end);
  src += "\n" + s.suffix.join("\n") + "\n";
  return { source: src, line, col, value, text, offsets, escaped, fields, roleElements };
}

export const protoCase: fc.Arbitrary<ProtoCase> = shape.map((s) => buildProtoCase(s));
/** Cases buf must accept as written, with the option where buf's columns and ours agree. */
export const protoCaseForBuf: fc.Arbitrary<ProtoCase> = shape.map((s) => buildProtoCase(s, true));

/** The 1-based line and column of a source offset. */
export function positionOf(source: string, offset: number): { line: number; col: number } {
  const before = source.slice(0, offset);
  const nl = before.lastIndexOf("\n");
  return { line: before.split("\n").length, col: offset - nl };
}

// ---------------------------------------------------------------------------------------------
// Target 4: protobuf messages (by reflection, so the arbitraries follow the schema) and byte mutations

/** A random value of a scalar type. */
function scalarArb(t: ScalarType): fc.Arbitrary<unknown> {
  switch (t) {
    case ScalarType.DOUBLE: return fc.double();
    case ScalarType.FLOAT: return fc.float();
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64: return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case ScalarType.UINT64: case ScalarType.FIXED64: return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case ScalarType.INT32: case ScalarType.SINT32: case ScalarType.SFIXED32: return fc.integer();
    case ScalarType.UINT32: case ScalarType.FIXED32: return fc.nat({ max: 0xffff_ffff });
    case ScalarType.BOOL: return fc.boolean();
    case ScalarType.STRING: return fc.string({ maxLength: 24 });
    case ScalarType.BYTES: return fc.uint8Array({ maxLength: 48 });
  }
}

/** Random messages of a schema, nested up to `depth` levels (fields of a oneof are left unset). */
export function messageArb<Desc extends DescMessage>(desc: Desc, depth = 3): fc.Arbitrary<MessageShape<Desc>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of desc.fields) {
    if (f.oneof !== undefined) continue;
    switch (f.fieldKind) {
      case "scalar": fields[f.localName] = scalarArb(f.scalar); break;
      case "enum": fields[f.localName] = fc.constantFrom(...f.enum.values.map((v) => v.number)); break;
      case "message": if (depth > 0) fields[f.localName] = fc.option(messageArb(f.message, depth - 1), { nil: undefined }); break;
      case "list":
        if (f.listKind === "scalar") fields[f.localName] = fc.array(scalarArb(f.scalar), { maxLength: 4 });
        else if (f.listKind === "enum") fields[f.localName] = fc.array(fc.constantFrom(...f.enum.values.map((v) => v.number)), { maxLength: 4 });
        else if (depth > 0) fields[f.localName] = fc.array(messageArb(f.message, depth - 1), { maxLength: 4 });
        break;
      case "map": break;
    }
  }
  return fc.record(fields, { requiredKeys: [] }).map((init) => create(desc, init as never));
}

type ByteMutation =
  | { k: "flip"; at: number; bit: number }
  | { k: "set"; at: number; v: number }
  | { k: "insert"; at: number; bytes: Uint8Array }
  | { k: "delete"; at: number; len: number }
  | { k: "truncate"; at: number }
  | { k: "duplicate"; at: number; len: number; to: number };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ k: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ k: fc.constant("set" as const), at: fc.nat(), v: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x0b, 0x0c, 0x08) }),
  fc.record({ k: fc.constant("insert" as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.constant(new Uint8Array(11).fill(0xff)), fc.constant(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f))) }),
  fc.record({ k: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ k: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ k: fc.constant("duplicate" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }), to: fc.nat() }),
);

function mutateBytes(b: Uint8Array, m: ByteMutation): Uint8Array {
  const at = b.length === 0 ? 0 : m.at % (b.length + 1);
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  switch (m.k) {
    case "flip": {
      const out = b.slice();
      if (at < out.length) out[at]! ^= 1 << m.bit;
      return out;
    }
    case "set": {
      const out = b.slice();
      if (at < out.length) out[at] = m.v;
      return out;
    }
    case "insert": return cat(b.subarray(0, at), m.bytes, b.subarray(at));
    case "delete": return cat(b.subarray(0, at), b.subarray(at + m.len));
    case "truncate": return b.slice(0, at);
    case "duplicate": {
      const to = m.to % (b.length + 1);
      return cat(b.subarray(0, to), b.subarray(at, at + m.len), b.subarray(to));
    }
  }
}

/** Encodings mutated by one to eight edits. */
export function mutatedBytes(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, fc.array(byteMutation, { minLength: 1, maxLength: 8 })).map(([b, ms]) => ms.reduce(mutateBytes, b));
}

/** Hand-made hostile encodings of up to 4 KiB: nested groups, overlong varints, huge lengths, deep messages. */
export const hostileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  // Start-group tags of an unknown field, nested as deep as 4 KiB allows, maybe closed.
  fc.tuple(fc.integer({ min: 1, max: 2048 }), fc.boolean()).map(([n, close]) => {
    const open = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) open.set([0xfb, 0x01], 2 * i); // field 31, wire type 3
    if (!close) return open;
    const out = new Uint8Array(n * 4);
    out.set(open);
    for (let i = 0; i < n; i++) out.set([0xfc, 0x01], 2 * n + 2 * i); // field 31, wire type 4
    return out;
  }),
  // A length-delimited field claiming a huge length.
  fc.tuple(fc.integer({ min: 1, max: 15 }), fc.bigInt({ min: 1n, max: 2n ** 64n - 1n })).map(([field, len]) => {
    const out = [(field << 3) | 2];
    for (let v = len; ; v >>= 7n) {
      if (v < 0x80n) {
        out.push(Number(v));
        break;
      }
      out.push(Number(v & 0x7fn) | 0x80);
    }
    return Uint8Array.from(out);
  }),
  // Overlong and unterminated varints.
  fc.tuple(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 1, max: 4000 }), fc.boolean()).map(([field, n, end]) => {
    const out = new Uint8Array(n + 2);
    out[0] = field << 3;
    out.fill(0xff, 1, n + 1);
    out[n + 1] = end ? 0x01 : 0xff;
    return out;
  }),
  // Length-delimited fields nested as deep as 4 KiB allows (message fields 6, 7, 8 and unknown 30).
  fc.tuple(fc.constantFrom(6, 7, 8, 30), fc.integer({ min: 1, max: 1000 })).map(([field, n]) => {
    let inner = new Uint8Array(0);
    for (let i = 0; i < n; i++) {
      const len = inner.length;
      const head = len < 0x80 ? [len] : [(len & 0x7f) | 0x80, len >> 7];
      const tag = field < 16 ? [(field << 3) | 2] : [((field << 3) | 2) & 0x7f | 0x80, field >> 4];
      const next = new Uint8Array(tag.length + head.length + len);
      next.set(tag);
      next.set(head, tag.length);
      next.set(inner, tag.length + head.length);
      inner = next;
      if (inner.length > 4090) break;
    }
    return inner;
  }),
);
