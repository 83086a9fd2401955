/**
 * Evidence logs of traces a runtime refuses, one per check the offline
 * verifier used to miss (each with the reason the verifier must give now):
 *
 * - `case`, `where`, `opens`, a principal bound from a field: written by
 *   real runtimes over the buffer API. A compromised sender seals a message
 *   that breaks the edge's value check; the honest receiver refuses it
 *   (`refusal` keeps its reason), and accepts the same bytes only with its
 *   value checks switched off (interceptors/monitor/defences.ts) — then both
 *   logs hold the trace.
 * - `rebinding`, `visibility`: written by forgeLog (test/evidence/forge-log.ts)
 *   from what a receiver with the rule switched off would have recorded: a
 *   binding of an already bound role to another principal, and a segment
 *   whose sender's latest authenticated (Ed25519) message comes without its
 *   signature because a later message of the same sender has authenticity
 *   none. Each has an `accepted` counterpart that differs only in that rule.
 */
import { create, toBinary, type Message } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfAuthor, ConfConfman, ConfPc } from "../../gen/conf/conf_secsession.js";
import { CfpRequestSchema, UploadRequestSchema, UploadResponseSchema } from "../../gen/conf/conf_pb.js";
import { CommitC, CommitW } from "../../gen/commit/commit_secsession.js";
import { SelectC, SelectP, SelectW } from "../../gen/select/select_secsession.js";
import { ForwardRequestSchema, QueryRequestSchema } from "../../gen/select/select_pb.js";
import { CommitRequestSchema, FlipSchema, RevealRequestSchema } from "../../gen/commit/commit_pb.js";
import { WsnC, WsnW } from "../../gen/wsn/wsn_secsession.js";
import { ExtraRequestSchema, RequestRequestSchema, RequestResponseSchema } from "../../gen/wsn/wsn_pb.js";
import { file_single_single, RequestRequestSchema as TextSchema } from "../../gen/single/single_pb.js";
import { sessionCode, type DirectionSecurity, type EdgeDescriptor, type SessionDescriptor } from "../../interceptors/index.js";
import { createFileEvidenceLog, type VerifiableSession } from "../../interceptors/evidence/index.js";
import { SecSessionError } from "../../interceptors/errors.js";
import { generateIdentity, publicKeysOf, staticResolver, type KeyResolver } from "../../interceptors/keys/identity.js";
import { without } from "../../interceptors/monitor/defences.js";
import type { Party } from "../../interceptors/runtime/party.js";
import type { RoleBinding } from "../../interceptors/wire/encoding.js";
import { cluster } from "../support/parties.js";
import { forgeLog, type ForgedMessage, type ForgedRecord } from "./forge-log.js";

/** A trace a runtime refuses, as evidence logs. */
export interface RefusedTrace {
  /** Each log holding the trace, by name. */
  readonly logs: Readonly<Record<string, string>>;
  /** Logs that differ only in the rule at stake, and verify. */
  readonly accepted: Readonly<Record<string, string>>;
  readonly sessions: readonly VerifiableSession[];
  readonly resolver: KeyResolver;
  /** What the verifier must say, at which line of each log. */
  readonly reason: RegExp;
  readonly line: Readonly<Record<string, number>>;
  /** Why the honest receiver refused the envelope (the runtime-written traces). */
  readonly refusal?: { readonly kind: string; readonly reason: string };
}

/** A runtime per principal with a file evidence log each; `send` wraps at one party and unwraps at another. */
function buffers(ids: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), "secsession-refused-"));
  const c = cluster(ids, (id) => ({ evidence: createFileEvidenceLog(join(dir, `${id}.jsonl`)) }));
  const resolver = staticResolver(Object.values(c.peers).map((p) => [p.id, publicKeysOf(p.identity)] as const));
  const edge = (p: Party, rpc: string, kind: EdgeDescriptor["kind"], oneofCase?: string): EdgeDescriptor => {
    const e = p.plan.edges.find((x) => x.rpc === rpc && x.kind === kind && (oneofCase === undefined || x.case?.field.name === oneofCase));
    if (e === undefined) throw new Error(`no ${kind} edge ${rpc} ${oneofCase ?? ""}`);
    return e;
  };
  const send = async (from: Party, to: Party, sid: string, e: EdgeDescriptor, message: Message, peer: string): Promise<void> => {
    const sealed = await from.wrap(sid, e, message);
    await to.unwrap(sealed.bytes, e.rpc, [e.kind], peer);
  };
  /** Seals a message its receiver refuses; returns the refusal, after the receiver accepted it with value checks off. */
  const forceThrough = async (from: Party, to: Party, sid: string, e: EdgeDescriptor, message: Message, peer: string, bindings: readonly RoleBinding[] = []): Promise<{ kind: string; reason: string }> => {
    const sealed = await from.wrap(sid, e, message, bindings);
    let refusal: { kind: string; reason: string } | undefined;
    try {
      await to.unwrap(sealed.bytes, e.rpc, [e.kind], peer);
    } catch (err: unknown) {
      if (!(err instanceof SecSessionError)) throw err;
      refusal = { kind: err.kind, reason: err.reason };
    }
    if (refusal === undefined) throw new Error("the receiver accepted the message with its value checks on");
    await without("values", () => to.unwrap(sealed.bytes, e.rpc, [e.kind], peer));
    return refusal;
  };
  const logs = () => Object.fromEntries(ids.map((id) => [id, readFileSync(join(dir, `${id}.jsonl`), "utf8")]));
  return { peer: (id: string) => c.peers[id]!.runtime, edge, send, forceThrough, logs, resolver, close: () => c.close() };
}

/** Conf: confman answers Upload on its bad_format branch with a response that carries the ok case. */
export async function caseTrace(): Promise<RefusedTrace> {
  const b = buffers(["committee", "alice", "easychair"]);
  try {
    const pc = b.peer("committee").party(ConfPc);
    const author = b.peer("alice").party(ConfAuthor);
    const confman = b.peer("easychair").party(ConfConfman);
    const sid = (await pc.start({ pc: "committee", author: "alice", confman: "easychair" })).key;
    await b.send(pc, author, sid, b.edge(pc, "/conf.Author/Cfp", "oneway"), create(CfpRequestSchema, { call: "CSF 2026" }), "committee");
    await b.send(author, confman, sid, b.edge(author, "/conf.ConferenceManager/Upload", "request"), create(UploadRequestSchema, { paper: "paper.docx" }), "alice");
    const badFormat = b.edge(confman, "/conf.ConferenceManager/Upload", "response", "bad_format");
    const refusal = await b.forceThrough(confman, author, sid, badFormat, create(UploadResponseSchema, { outcome: { case: "ok", value: {} } }), "easychair");
    const logs = b.logs();
    return {
      logs: { "author (received)": logs["alice"]!, "confman (sent)": logs["easychair"]! },
      accepted: {},
      sessions: [ConfPc],
      resolver: b.resolver,
      reason: /step 3 \(edge 2, \/conf\.ConferenceManager\/Upload response bad_format\): edge 2 is the bad_format branch, but the response carries case ok: its receiver refuses it/,
      line: { "author (received)": 3, "confman (sent)": 2 },
      refusal,
    };
  } finally {
    await b.close();
  }
}

/** Wsn: c asks Extra about another query than its Request's (`where query == Request.query`). */
export async function whereTrace(): Promise<RefusedTrace> {
  const b = buffers(["client", "worker"]);
  try {
    const c = b.peer("client").party(WsnC);
    const w = b.peer("worker").party(WsnW);
    const sid = (await c.start({ c: "client", w: "worker" })).key;
    await b.send(c, w, sid, b.edge(c, "/wsn.Worker/Request", "request"), create(RequestRequestSchema, { query: "weather in Paris" }), "client");
    await b.send(w, c, sid, b.edge(w, "/wsn.Worker/Request", "response", "reply"), create(RequestResponseSchema, { outcome: { case: "reply", value: { result: 21n } } }), "worker");
    const refusal = await b.forceThrough(c, w, sid, b.edge(c, "/wsn.Worker/Extra", "request"), create(ExtraRequestSchema, { query: "weather in Rome" }), "client");
    const logs = b.logs();
    return {
      logs: { "w (received)": logs["worker"]!, "c (sent)": logs["client"]! },
      accepted: {},
      sessions: [WsnC],
      resolver: b.resolver,
      reason: /step 3 \(edge \d+, \/wsn\.Worker\/Extra request\): query must equal query of the earlier \/wsn\.Worker\/Request request: its receiver refuses it/,
      line: { "w (received)": 3, "c (sent)": 3 },
      refusal,
    };
  } finally {
    await b.close();
  }
}

/** Commit: c reveals another bit than the one it committed to (`opens Commit.commitment`). */
export async function opensTrace(): Promise<RefusedTrace> {
  const b = buffers(["client", "worker"]);
  try {
    const c = b.peer("client").party(CommitC);
    const w = b.peer("worker").party(CommitW);
    const sid = (await c.start({ c: "client", w: "worker" })).key;
    const salt = new Uint8Array(16).fill(9);
    const promised = toBinary(RevealRequestSchema, create(RevealRequestSchema, { value: true, salt }));
    const commitment = new Uint8Array(createHash("sha256").update(promised).digest());
    await b.send(c, w, sid, b.edge(c, "/commit.Worker/Commit", "request"), create(CommitRequestSchema, { commitment }), "client");
    await b.send(w, c, sid, b.edge(w, "/commit.Worker/Commit", "response"), create(FlipSchema, { value: true }), "worker");
    const refusal = await b.forceThrough(c, w, sid, b.edge(c, "/commit.Worker/Reveal", "oneway"), create(RevealRequestSchema, { value: false, salt }), "client");
    const logs = b.logs();
    return {
      logs: { "w (received)": logs["worker"]!, "c (sent)": logs["client"]! },
      accepted: {},
      sessions: [CommitC],
      resolver: b.resolver,
      reason: /step 3 \(edge 2, \/commit\.Worker\/Reveal oneway\): the payload does not open the earlier commitment \(its SHA-256 differs\): its receiver refuses it/,
      line: { "w (received)": 3, "c (sent)": 3 },
      refusal,
    };
  } finally {
    await b.close();
  }
}

/** Select: p binds w to search-eu with a Forward whose `server` (`bind w = server`) names search-us. */
export async function bindTrace(): Promise<RefusedTrace> {
  const b = buffers(["client", "portal", "search-eu"]);
  try {
    const c = b.peer("client").party(SelectC);
    const p = b.peer("portal").party(SelectP);
    const w = b.peer("search-eu").party(SelectW);
    const sid = (await c.start({ c: "client", p: "portal" })).key;
    await b.send(c, p, sid, b.edge(c, "/select.Portal/Query", "oneway"), create(QueryRequestSchema, { credentials: "alice:token-42", query: "eu/rail strikes" }), "client");
    const forward = create(ForwardRequestSchema, { query: "eu/rail strikes", server: "search-us" });
    const refusal = await b.forceThrough(p, w, sid, b.edge(p, "/select.Server/Forward", "oneway"), forward, "portal", [{ role: "w", principal: "search-eu" }]);
    const logs = b.logs();
    return {
      logs: { "w (received)": logs["search-eu"]!, "p (sent)": logs["portal"]! },
      accepted: {},
      sessions: [SelectP],
      resolver: b.resolver,
      reason: /step 2 \(edge 1, \/select\.Server\/Forward oneway\): server must name the principal bound to w \("search-eu"\), got "search-us": its receiver refuses it/,
      line: { "w (received)": 1, "p (sent)": 2 },
      refusal,
    };
  } finally {
    await b.close();
  }
}

const SIGNED: DirectionSecurity = { privacy: "none", authenticity: "ed25519", nonRepudiation: false, replayPrevention: true, history: "visibility" };

/**
 * A descriptor as the plugin compiles it from `protocol` (edges written out;
 * projections, which the verifier does not use, left empty), every message a
 * single.RequestRequest (one string field).
 */
function handDescriptor(name: string, roles: SessionDescriptor["roles"], holders: ReadonlyArray<string | null>, edges: ReadonlyArray<Omit<EdgeDescriptor, "id" | "messageType" | "case" | "where" | "opens" | "visibility" | "security" | "binds"> & Partial<Pick<EdgeDescriptor, "security" | "binds">>>): VerifiableSession {
  const body: Omit<SessionDescriptor, "code"> = {
    format: "secsession.descriptor.v1",
    package: name.toLowerCase(),
    name,
    file: `${name.toLowerCase()}/${name.toLowerCase()}.proto`,
    roles,
    security: { ...SIGNED, keyEstablishment: "noise" },
    replayWindowMs: 120_000,
    initial: 0,
    states: holders.map((holder, id) => ({ id, holder })),
    edges: edges.map((e, id) => ({ binds: [], security: SIGNED, ...e, id, messageType: "single.RequestRequest", case: null, where: [], opens: null, visibility: [] })),
    projections: {},
  };
  return { descriptor: { ...body, code: sessionCode(body) }, file: file_single_single };
}

/**
 * Rebind, the protocol of break 1 (issue 11):
 * `c -> p.Query; rec L { choice at p { p -> w.Task bind w; w -> p.Done; continue L; } or { p -> w.Stop bind w; w -> c.Result; } }`.
 */
export const REBIND = handDescriptor(
  "Rebind",
  [
    { name: "c", service: "rebind.Client", dynamic: false },
    { name: "p", service: "rebind.Portal", dynamic: false },
    { name: "w", service: "rebind.Worker", dynamic: true },
  ],
  ["c", "p", "w", "w", null],
  [
    { from: 0, to: 1, sender: "c", receiver: "p", kind: "oneway", rpc: "/rebind.Portal/Query" },
    { from: 1, to: 2, sender: "p", receiver: "w", kind: "oneway", rpc: "/rebind.Worker/Task", binds: [{ role: "w", field: null }] },
    { from: 2, to: 1, sender: "w", receiver: "p", kind: "oneway", rpc: "/rebind.Portal/Done" },
    { from: 1, to: 3, sender: "p", receiver: "w", kind: "oneway", rpc: "/rebind.Worker/Stop", binds: [{ role: "w", field: null }] },
    { from: 3, to: 4, sender: "w", receiver: "c", kind: "oneway", rpc: "/rebind.Client/Result" },
  ],
);

/**
 * Latest: `a -> b.Order; b -> a.Note; a -> b.Plain; b -> c.Forward;`, Ed25519
 * everywhere but Plain, which has authenticity (and with it replay
 * prevention and history) off.
 */
export const LATEST = handDescriptor(
  "Latest",
  [
    { name: "a", service: "latest.A", dynamic: false },
    { name: "b", service: "latest.B", dynamic: false },
    { name: "c", service: "latest.C", dynamic: false },
  ],
  ["a", "b", "a", "b", null],
  [
    { from: 0, to: 1, sender: "a", receiver: "b", kind: "oneway", rpc: "/latest.B/Order" },
    { from: 1, to: 2, sender: "b", receiver: "a", kind: "oneway", rpc: "/latest.A/Note" },
    { from: 2, to: 3, sender: "a", receiver: "b", kind: "oneway", rpc: "/latest.B/Plain", security: { privacy: "none", authenticity: "none", nonRepudiation: false, replayPrevention: false, history: "none" } },
    { from: 3, to: 4, sender: "b", receiver: "c", kind: "oneway", rpc: "/latest.C/Forward" },
  ],
);

const text = (s: string): Uint8Array => toBinary(TextSchema, create(TextSchema, { query: s }));

function identities(ids: readonly string[]) {
  const all = ids.map((id) => generateIdentity(id));
  return {
    byId: Object.fromEntries(all.map((i) => [i.id, i])),
    resolver: staticResolver(all.map((i) => [i.id, publicKeysOf(i)] as const)),
  };
}

/**
 * Rebind as c records it: p binds w to worker-1 for a Task that "worker-1"
 * answers Done, then re-binds w to worker-2 (an outsider p colludes with),
 * which stops and sends c the Result. c's log says honest worker-1 took part;
 * worker-1 never signed anything. Accepted counterpart: worker-2 throughout.
 */
export function rebindingTrace(): RefusedTrace {
  const keys = identities(["client", "portal", "worker-1", "worker-2"]);
  const start = { c: "client", p: "portal" };
  const run = (first: string): ForgedMessage[] => [
    { edge: 0, payload: text("query") },
    { edge: 1, payload: text("task 1"), bindings: [{ role: "w", principal: first }] },
    { edge: 2, payload: text("done 1") },
    { edge: 1, payload: text("task 2"), bindings: [{ role: "w", principal: "worker-2" }] },
    { edge: 2, payload: text("done 2") },
    { edge: 3, payload: text("stop"), bindings: [{ role: "w", principal: "worker-2" }] },
    { edge: 4, payload: text("result") },
  ];
  // c sent Query, then received Result with the history since; visibility: the latest signatures of p and w.
  const records: ForgedRecord[] = [
    { direction: "sent", role: "c", upTo: 1, signed: [1] },
    { direction: "received", role: "c", upTo: 7, signed: [6, 7] },
  ];
  return {
    logs: { "c (received)": forgeLog(REBIND.descriptor, start, keys.byId, run("worker-1"), records) },
    accepted: { "c, w bound once": forgeLog(REBIND.descriptor, start, keys.byId, run("worker-2"), records) },
    sessions: [REBIND],
    resolver: keys.resolver,
    reason: /step 4 \(edge 1, \/rebind\.Worker\/Task oneway\) binds w to "worker-2", but w is bound to "worker-1": a runtime refuses to re-bind a role to another principal/,
    line: { "c (received)": 2 },
  };
}

/**
 * Latest as c records it: Forward arrives with the history Order, Note,
 * Plain and b's signature only. a's latest message, Plain, has no
 * authenticity; its latest authenticated one, Order, is what c's runtime
 * must verify, so a log without a's signature for Order is one c's runtime
 * refuses. Accepted counterpart: with that signature.
 */
export function visibilityTrace(): RefusedTrace {
  const keys = identities(["alice", "bob", "carol"]);
  const start = { a: "alice", b: "bob", c: "carol" };
  const run: ForgedMessage[] = [
    { edge: 0, payload: text("order: 10 crates") },
    { edge: 1, payload: text("noted") },
    { edge: 2, payload: text("by the way") },
    { edge: 3, payload: text("forwarded order") },
  ];
  const received = (signed: number[]): ForgedRecord[] => [{ direction: "received", role: "c", upTo: 4, signed }];
  return {
    logs: { "c (received)": forgeLog(LATEST.descriptor, start, keys.byId, run, received([4])) },
    accepted: { "c, with a's signature": forgeLog(LATEST.descriptor, start, keys.byId, run, received([1, 4])) },
    sessions: [LATEST],
    resolver: keys.resolver,
    reason: /this record of receiving step 4 \(edge 3, \/latest\.C\/Forward oneway\) lacks the signature of a \(alice\) for step 1 \(edge 0, \/latest\.B\/Order oneway\), which its receiver must have verified \(history visibility\)/,
    line: { "c (received)": 1 },
  };
}
