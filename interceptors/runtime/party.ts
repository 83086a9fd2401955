/**
 * A party: one role of one session, played by one runtime. It starts
 * sessions, seals outgoing messages and opens incoming ones — the
 * transport-agnostic wrap/unwrap API (Themis's buffer-aware API) that the
 * gRPC interceptors use and that works on its own.
 */
import { createRegistry, fromBinary, type DescFile, type DescMessage, type DescService, type Message } from "@bufbuild/protobuf";
import type { EdgeDescriptor, SessionDescriptor } from "../descriptor/types.js";
import { SecSessionError } from "../errors.js";
import { constantTimeEqual } from "../keys/crypto/index.js";
import type { MonitorContext } from "../monitor/context.js";
import { openEnvelope } from "../monitor/open.js";
import { planOf, type SessionPlan } from "../monitor/plan.js";
import { sealMessage, sealReceipt } from "../monitor/seal.js";
import { Keying } from "../monitor/keying.js";
import { isAllZero } from "../keys/crypto/bytes.js";
import { defences } from "../monitor/defences.js";
import { initialState, tombstoneOf, type SessionState } from "../monitor/state.js";
import { UNHASHED } from "../monitor/protection.js";
import { StoreUnavailableError } from "../store/store.js";
import { hex, type RoleBinding } from "../wire/encoding.js";
import { receiptInput, sessionIdOf } from "../wire/transcript.js";
import { decodeEnvelope, encodeEnvelope, EnvelopeDecodeError, readLazyParts, type WireEnvelope } from "../wire/envelope-codec.js";
import type { RuntimeCore } from "./runtime-core.js";
import type { EvidenceItem } from "./evidence.js";
import { valueCheck } from "./values.js";
import type { PartyLabels } from "./telemetry.js";

/** An accepted incoming message. */
export interface Received {
  readonly sessionKey: string;
  readonly edge: EdgeDescriptor;
  readonly message: Message;
  readonly state: SessionState;
  /** True for the first message of a session this role receives. */
  readonly joined: boolean;
  /** For a one-way message: the receipt to return, sealed when it was accepted. */
  readonly receipt: Uint8Array | undefined;
}

/** Upper bound on an envelope's size (bytes). */
export const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;

/** One role of one session in one runtime. */
export class Party {
  readonly plan: SessionPlan;
  /** What this party's spans and metrics say of it. */
  private readonly labels: PartyLabels;
  /** Each edge as its spans name it, by edge id (made once, not per message). */
  private readonly edgeLabels: readonly string[];
  readonly ctx: MonitorContext;
  private readonly schemas: (typeName: string) => DescMessage | undefined;
  private readonly services: (typeName: string) => DescService | undefined;
  /** `<session code>:<role>:`, the start of this party's store keys. */
  private readonly keyPrefix: string;

  constructor(
    readonly core: RuntimeCore,
    readonly descriptor: SessionDescriptor,
    readonly role: string,
    file: DescFile,
  ) {
    this.plan = planOf(descriptor);
    this.keyPrefix = `${descriptor.code}:${role}:`;
    this.labels = { session: descriptor.name, code: descriptor.code, role };
    this.edgeLabels = this.plan.edges.map(edgeLabel);
    if (!this.plan.roles.includes(role)) throw new Error(`secsession: session ${descriptor.name} has no role ${role}`);
    const registry = createRegistry(...withDependencies(file));
    this.schemas = (t) => registry.getMessage(t);
    this.services = (t) => registry.getService(t);
    for (const e of descriptor.edges) {
      if (this.schemas(e.messageType) === undefined) throw new Error(`secsession: message type ${e.messageType} of session ${descriptor.name} is not in ${file.name}`);
    }
    this.ctx = core.monitorContext(this.plan, role);
  }

  /** The store key of a session of this party. */
  key(sessionId: Uint8Array | string): string {
    return this.keyPrefix + (typeof sessionId === "string" ? sessionId : hex(sessionId));
  }

  /** Starts a session as its initiator, binding the static roles to principals. */
  async start(bindings: Readonly<Record<string, string>>): Promise<SessionState> {
    const d = this.descriptor;
    if (d.states[d.initial]?.holder !== this.role) throw new Error(`secsession: ${this.role} does not start session ${d.name}; ${d.states[d.initial]?.holder} does`);
    const list: RoleBinding[] = [];
    for (const r of this.plan.staticRoles) {
      // Own keys only: a role may be called `constructor`.
      const given = Object.hasOwn(bindings, r) ? bindings[r] : undefined;
      const p = r === this.role ? (given ?? this.core.identity.id) : given;
      if (p === undefined || p === "") throw new Error(`secsession: starting ${d.name} needs a principal for role ${r}`);
      list.push({ role: r, principal: p });
    }
    for (const r of Object.keys(bindings)) {
      if (!this.plan.staticRoles.includes(r)) throw new Error(`secsession: role ${r} of ${d.name} is ${this.plan.roles.includes(r) ? "dynamic: bind it with the message that binds it" : "unknown"}`);
    }
    if (list.find((b) => b.role === this.role)!.principal !== this.core.identity.id) throw new Error(`secsession: role ${this.role} must be bound to this peer (${this.core.identity.id})`);
    const start = { nonce: this.core.crypto.randomBytes(32), code: this.plan.code, timeMs: BigInt(this.core.now()), bindings: list };
    const sid = sessionIdOf(this.core.crypto, start);
    const state = initialState(this.core.crypto, sid, this.role, start, d.initial);
    await this.core.replay.add(`${this.role}:${state.key}`, this.startRememberedUntil(state));
    // One key string for the store and the open-session table: each keeps the string it was first given.
    const key = this.key(state.key);
    if (!(await this.core.store.commit(key, undefined, state))) throw new Error("secsession: session id collision");
    this.core.openSessions.touch(key, this.core.now());
    return state;
  }

  /**
   * Seals `message` as `edge` of the session `sessionKey`, committing the
   * sender's next state. Returns the envelope bytes to send.
   */
  wrap(
    sessionKey: string,
    edge: EdgeDescriptor,
    message: Message,
    bindings: readonly RoleBinding[] = [],
  ): Promise<{ bytes: Uint8Array; state: SessionState; expectedReceipt: Uint8Array | undefined }> {
    return this.core.telemetry.seal(this.labels, this.edgeLabels[edge.id] ?? edgeLabel(edge), () => this.sealOnce(sessionKey, edge, message, bindings), (r) => r.state.principals[edge.receiver]);
  }

  private async sealOnce(
    sessionKey: string,
    edge: EdgeDescriptor,
    message: Message,
    bindings: readonly RoleBinding[],
  ): Promise<{ bytes: Uint8Array; state: SessionState; expectedReceipt: Uint8Array | undefined }> {
    const schema = this.schemas(edge.messageType)!;
    if (message.$typeName !== schema.typeName) throw new Error(`secsession: edge ${edge.id} carries ${schema.typeName}, got ${message.$typeName}`);
    const payload = this.core.encode(schema, message);
    const key = this.key(sessionKey);
    const st = await this.load(key);
    if (st === undefined) throw new Error(`secsession: no session ${sessionKey} for role ${this.role}`);
    const sealed = sealMessage(this.ctx, st, edge, payload, bindings);
    if (!(await this.commit(key, st.version, sealed.state))) {
      sealed.keying.abandon();
      throw new SecSessionError("conflict", "another writer advanced this session first");
    }
    this.core.openSessions.touch(key, this.core.now());
    // The receipt's MAC is computed now, while the keys it uses are alive: a
    // later message may retire them before the receipt arrives.
    const expectedReceipt = edge.kind === "oneway" ? this.expectedReceipt(sealed.state, edge) : undefined;
    const bytes = sealed.bytes;
    if (this.core.evidence !== undefined) {
      // The item comes from the envelope: the state's history may already be pruned.
      const sent = sealed.envelope;
      await this.recordOrUndo(key, st, sealed.state, sealed.keying, ["", edge.id, ""], () =>
        this.record("sent", sealed.state, sent.payload, [{ edge: edge.id, step: sent.step, payloadHash: this.core.crypto.sha256(sent.payload), bindings: sent.bindings.map((b) => ({ role: b.role, principal: b.principal })) }], sent.attestations.filter((a) => a.target === "" && a.role === this.role)),
      );
    }
    this.retireKeys(sealed.state, sealed.keying);
    await this.closeIfFinished(key, sealed.state);
    return { bytes, state: sealed.state, expectedReceipt };
  }

  /**
   * Opens envelope bytes received on `rpc` as one of `kinds`: checks
   * everything, commits the next state, and returns the decoded message.
   * Throws SecSessionError (and raises a securityAlert) when refused.
   * `session`: the session the message must belong to (a response belongs
   * to the session of its call, or a response swapped in from another
   * session would be checked, and committed, there).
   */
  async unwrap(bytes: Uint8Array, rpc: string, kinds: readonly EdgeDescriptor["kind"][], peer: string, session?: string): Promise<Received> {
    return this.unwrapDecoded(this.decode(bytes, peer), rpc, kinds, peer, session);
  }

  /**
   * As unwrap, for an envelope already decoded by decodeIncoming: a message
   * is decoded once, strictly, whoever routes it (the runtime's dispatch).
   */
  unwrapDecoded(env: WireEnvelope, rpc: string, kinds: readonly EdgeDescriptor["kind"][], peer: string, session?: string): Promise<Received> {
    return this.core.telemetry.open(
      this.labels,
      this.edgeLabels[env.edge] ?? `edge ${env.edge}`,
      env.body.length + (env.mac?.length ?? 0),
      () => this.openOnce(env, rpc, kinds, peer, session),
      (r) => r.state.principals[r.edge.sender],
    );
  }

  /** Counts and emits a refusal of this party; returns the error to throw. */
  private alert(e: SecSessionError, sessionId: string, edge: number, peer: string): SecSessionError {
    return this.core.alert(e, sessionId, edge, peer, this.labels);
  }

  private async openOnce(env: WireEnvelope, rpc: string, kinds: readonly EdgeDescriptor["kind"][], peer: string, session?: string): Promise<Received> {
    const sidHex = hex(env.sessionId);
    if (session !== undefined && sidHex !== session && defences.responseSession) {
      throw this.alert(new SecSessionError("not-addressed", `the response belongs to session ${sidHex}, not to session ${session} of this call`), sidHex, env.edge, peer);
    }
    const claimed = this.plan.edges[env.edge];
    const key = this.key(sidHex);
    const current = await this.load(key, sidHex, env.edge, peer);
    if (current === undefined && env.start === undefined) {
      const expired = this.core.openSessions.expiredAt(key);
      if (expired !== undefined) {
        const idle = this.core.openSessions.idleTimeoutMs;
        throw this.alert(new SecSessionError("unknown-session", `session ${sidHex} expired: it was idle for more than ${idle} ms (sessionIdleTimeoutMs), and its state is gone`), sidHex, env.edge, peer);
      }
    }
    const decoded: { message?: Message } = {};
    const schema = claimed === undefined ? undefined : this.schemas(claimed.messageType)!;
    const check = valueCheck(this.schemas, (ref) => this.typeOf(ref.rpc, ref.direction), this.core.crypto, schema!, decoded);
    let verdict: ReturnType<typeof openEnvelope>;
    try {
      verdict = openEnvelope(this.ctx, env, rpc, kinds, current, check, sidHex);
    } catch (e: unknown) {
      // A fault of this runtime or of a hook it calls (a resolver that threw): refused as internal, with the detail in the alert only.
      throw this.alert(SecSessionError.from(e), sidHex, env.edge, peer);
    }
    if (!verdict.ok) throw this.alert(new SecSessionError(verdict.kind, verdict.reason), verdict.sessionId, verdict.edge, peer);
    const edge = verdict.value.edge;
    const message = decoded.message;
    const { state, joined } = verdict.value;
    const keying = verdict.value.keying;
    // A session new here counts for the principal that started it, up to its cap: refused before anything is stored.
    const opening = current === undefined && this.reserveSession(key, state, edge, keying, sidHex, peer);
    try {
      // The receipt is sealed before the commit: a message accepted is a message vouched for.
      let receipt: Uint8Array | undefined;
      try {
        receipt = edge.kind === "oneway" ? encodeEnvelope(sealReceipt(this.ctx, state, edge, verdict.value.keyVersion)) : undefined;
      } catch (e: unknown) {
        keying.abandon();
        throw this.alert(SecSessionError.from(e, "bad-attestation"), sidHex, edge.id, peer);
      }
      if (!(await this.commit(key, current?.version, state, sidHex, edge.id, peer))) {
        keying.abandon();
        throw this.alert(new SecSessionError(current === undefined ? "replayed-start" : "conflict", "another copy of this message was accepted first"), sidHex, edge.id, peer);
      }
      // A start is entered in the replay cache once its state is committed, so a
      // store failure in between leaves nothing behind that refuses the retry.
      if (joined && defences.startCache) {
        let fresh: boolean;
        try {
          fresh = await this.replayAdd(`${this.role}:${sidHex}`, this.startRememberedUntil(state), sidHex, edge.id, peer);
        } catch (e: unknown) {
          await this.undoOrKeep(key, current, state, keying);
          throw e;
        }
        if (!fresh) {
          await this.undoOrKeep(key, current, state, keying);
          throw this.alert(new SecSessionError("replayed-start", "this session start was already accepted"), sidHex, edge.id, peer);
        }
      }
      // The items as checked (the receiver's own step count; the payload hash of the message as sent).
      const items = this.core.evidence === undefined ? [] : verdict.value.segment.map((x) => x.item);
      if (this.core.evidence !== undefined) await this.recordOrUndo(key, current, state, keying, [sidHex, edge.id, peer], () =>
        this.record(
          "received",
          state,
          env.payload,
          items.map((x, i) => ({ edge: x.edge, step: x.step, payloadHash: i === items.length - 1 && x.payloadHash === UNHASHED ? this.core.crypto.sha256(env.payload) : x.payloadHash, bindings: x.bindings })),
          verdict.value.signatures,
        ),
      );
      this.retireKeys(state, keying);
      this.core.accepted(edge.id);
      this.core.openSessions.touch(key, this.core.now());
      await this.closeIfFinished(key, state);
      return { sessionKey: sidHex, edge, message: message!, state, joined, receipt };
    } catch (e: unknown) {
      if (opening) this.core.openSessions.release(key);
      throw e;
    }
  }

  /**
   * Counts a session that a message opens at this runtime, for the principal
   * that started it (bound to the initiating role: a role downstream counts
   * the initiator's sessions, not those of the peer relaying them, which
   * would otherwise let one client use up a relay's share); refuses it,
   * counting and storing nothing, when that principal already holds the most
   * open sessions it may (maxSessionsPerPrincipal).
   * True when this message's handling owns the new count (and releases it if
   * the message is refused after all).
   */
  private reserveSession(key: string, state: SessionState, edge: EdgeDescriptor, keying: Keying, sidHex: string, peer: string): boolean {
    const initiator = this.descriptor.states[this.descriptor.initial]!.holder!;
    const owner = state.principals[initiator] ?? state.principals[edge.sender] ?? "";
    const open = this.core.openSessions;
    const r = open.reserve(key, owner, this.core.now(), defences.sessionCap);
    if (r !== "full") return r === "reserved";
    keying.abandon();
    throw this.alert(
      new SecSessionError("session-limit", `principal ${JSON.stringify(owner)} holds ${open.heldBy(owner)} open sessions here, the most it may (maxSessionsPerPrincipal ${open.maxPerPrincipal}): this session is refused and nothing of it is stored`),
      sidHex,
      edge.id,
      peer,
    );
  }

  /**
   * After a commit: zeroes the key buffers the message retired, and moves
   * each changed pair channel's vault scope to its new version (refused if a
   * key of the old version were still alive).
   */
  private retireKeys(next: SessionState, keying: Keying): void {
    for (const [peer, change] of keying.changes) {
      const scope = `${next.key}:${this.role}:${peer}`;
      const vault = this.core.vault;
      for (const b of change.retired) vault.retireKey(scope, b);
      const version = next.pairs[peer]?.version ?? 0;
      while (vault.version(scope) < version) vault.bump(scope);
      for (const b of change.created) if (!isAllZero(b)) vault.issue(scope, b);
    }
  }

  /**
   * Appends the evidence of a committed message. If the append fails, the
   * commit is undone (the previous state is put back by compare-and-set;
   * the keys the message created are zeroed, the ones it replaced are still
   * live) and the message is refused `store-unavailable`: no message is
   * accepted or sent without its evidence, and the sender may retry.
   */
  private async recordOrUndo(
    key: string,
    previous: SessionState | undefined,
    next: SessionState,
    keying: Keying,
    [sid, edge, peer]: readonly [string, number, string],
    append: () => Promise<void>,
  ): Promise<void> {
    if (this.core.evidence === undefined) return; // nothing to append: no payload hashed for it either
    try {
      await append();
    } catch (e: unknown) {
      if (await this.undoOrKeep(key, previous, next, keying)) {
        throw this.alert(new SecSessionError("store-unavailable", "the evidence log cannot be appended: the message is not accepted", { cause: e }), sid, edge, peer);
      }
      throw this.alert(new SecSessionError("store-unavailable", "the evidence log cannot be appended and the store cannot undo the commit: the message stands without its evidence", { cause: e }), sid, edge, peer);
    }
  }

  /**
   * Undoes a commit: puts `previous` back by compare-and-set (or deletes a
   * session that did not exist) and zeroes the keys the message created.
   * When the store cannot undo it, the committed state stands and its keys
   * are kept consistent with it (retired as after any commit, never zeroed
   * under it). Returns whether the commit was undone.
   */
  private async undoOrKeep(key: string, previous: SessionState | undefined, next: SessionState, keying: Keying): Promise<boolean> {
    let undone: boolean;
    try {
      if (previous === undefined) {
        await this.core.store.delete(key);
        undone = true;
      } else undone = await this.core.store.commit(key, next.version, previous);
    } catch {
      undone = false;
    }
    if (undone) keying.abandon();
    else this.retireKeys(next, keying);
    return undone;
  }

  private async record(
    direction: "sent" | "received",
    st: SessionState,
    payload: Uint8Array,
    items: readonly EvidenceItem[],
    signatures: ReadonlyArray<{ role: string; step: bigint; tag: Uint8Array }>,
  ): Promise<void> {
    const sink = this.core.evidence;
    if (sink === undefined) return;
    await sink.append({
      direction,
      sessionCode: this.descriptor.code,
      sessionId: st.sessionId,
      role: this.role,
      start: st.start,
      items: items.map((x) => ({ edge: x.edge, step: x.step, payloadHash: x.payloadHash, bindings: x.bindings })),
      // Only signatures this role made or verified: anything else on the wire is unchecked.
      signatures: signatures.map((a) => ({ role: a.role, step: a.step, tag: a.tag })),
      payload,
    });
  }

  /** The receipt for an accepted one-way message. */
  receipt(r: Received): Uint8Array {
    if (r.receipt === undefined) throw new Error(`secsession: edge ${r.edge.id} is not one-way: it has no receipt`);
    return r.receipt;
  }

  /** The attestation tag a valid receipt for a one-way message must carry (HMAC edges). */
  private expectedReceipt(sent: SessionState, edge: EdgeDescriptor): Uint8Array | undefined {
    if (edge.security.authenticity !== "hmac-sha256") return undefined;
    const principal = sent.principals[edge.receiver]!;
    const keys = new Keying(this.ctx, sent).sendKeysIfAny(principal);
    if (keys === undefined) return undefined;
    return this.core.crypto.hmacSha256(keys.mac, receiptInput(sent.sessionId, edge.receiver, this.role, edge.id, sent.step, sent.h));
  }

  /** Checks the receipt of a one-way message this party sent (state: after sending). */
  checkReceipt(bytes: Uint8Array, sent: SessionState, edge: EdgeDescriptor, peer: string, expected: Uint8Array | undefined): void {
    const env = this.decode(bytes, peer);
    const fail = (reason: string) => this.alert(new SecSessionError("bad-ack", reason), sent.key, edge.id, peer);
    if (!env.ack || env.edge !== edge.id || env.step !== sent.step || !constantTimeEqual(env.sessionId, sent.sessionId)) {
      throw fail("the receipt is not for the message sent");
    }
    if (edge.security.authenticity === "none") return;
    const malformed = readLazyParts(env);
    if (malformed !== undefined) throw this.alert(new SecSessionError("malformed", `the envelope does not decode: ${malformed}`), sent.key, edge.id, peer);
    const a = env.attestations.find((x) => x.role === edge.receiver);
    if (a === undefined) throw fail("the receipt carries no attestation");
    if (edge.security.authenticity === "hmac-sha256") {
      if (expected === undefined || !constantTimeEqual(expected, a.tag)) throw fail("the receipt's MAC does not verify");
      return;
    }
    const keys = this.ctx.peerKeys(sent.principals[edge.receiver]!);
    const input = receiptInput(sent.sessionId, edge.receiver, this.role, edge.id, sent.step, sent.h);
    if (keys === undefined || !this.core.crypto.ed25519Verify(keys.ed25519, input, a.tag)) throw fail("the receipt's signature does not verify");
  }

  /**
   * When this role's part is over, keeps only a tombstone of the session (its
   * position, step and transcript hash: enough to refuse late duplicates as
   * replays), zeroes its keys, and forgets it after the replay window.
   */
  private async closeIfFinished(key: string, st: SessionState): Promise<void> {
    if (!this.plan.finishedFor(this.role).has(st.state)) return;
    this.core.openSessions.release(key);
    // No keys in a tombstone: a finished role never uses them again, and stores may outlive this process.
    if (await this.commit(key, st.version, tombstoneOf(st))) {
      this.core.forgetKeys(st.key);
      const timer = setTimeout(() => void this.core.store.delete(key).catch(() => undefined), this.startRememberedUntil(st) - this.core.now());
      timer.unref();
    }
  }

  /** The state of a session, if this party has one. */
  state(sessionKey: string): Promise<SessionState | undefined> {
    return this.load(this.key(sessionKey));
  }

  /** Decodes a message of this session's types. */
  decodeMessage(typeName: string, bytes: Uint8Array): Message {
    return fromBinary(this.schemas(typeName)!, bytes);
  }

  /** The descriptor of a service of this session. */
  service(typeName: string): DescService {
    const s = this.services(typeName);
    if (s === undefined) throw new Error(`secsession: service ${typeName} is not in the session's file or its imports`);
    return s;
  }

  /** True when this role receives one-way messages or requests on `path`. */
  receivesOn(path: string): boolean {
    return this.plan.edges.some((e) => e.rpc === path && e.receiver === this.role && e.kind !== "response");
  }

  /**
   * True when the edge `env` claims is one this role receives on `path`, and
   * a start it carries names this session's code: a cheap routing test on
   * unauthenticated fields (the message is then checked in full).
   */
  addressedBy(env: WireEnvelope, path: string): boolean {
    const e = this.plan.edges[env.edge];
    if (e === undefined || e.rpc !== path || e.receiver !== this.role || e.kind === "response") return false;
    return env.start === undefined || hex(env.start.sessionCode) === this.descriptor.code;
  }

  /** The schema of a message type of this session. */
  schema(typeName: string): DescMessage {
    return this.schemas(typeName)!;
  }

  private typeOf(rpc: string, direction: "request" | "response"): string | undefined {
    const e = this.plan.edges.find((x) => x.rpc === rpc && (direction === "response" ? x.kind === "response" : x.kind !== "response"));
    return e?.messageType;
  }

  private decode(bytes: Uint8Array, peer: string): WireEnvelope {
    return decodeIncoming(this.core, bytes, peer);
  }

  private async load(key: string, sid = "", edge = -1, peer = ""): Promise<SessionState | undefined> {
    try {
      return await this.core.store.get(key);
    } catch (e: unknown) {
      throw this.storeDown(e, sid, edge, peer);
    }
  }

  private async commit(key: string, expected: number | undefined, next: SessionState, sid = "", edge = -1, peer = ""): Promise<boolean> {
    try {
      return await this.core.store.commit(key, expected, next);
    } catch (e: unknown) {
      throw this.storeDown(e, sid, edge, peer);
    }
  }

  /**
   * Until when (this clock, ms) a session start must be remembered — its
   * replay-cache entry and its finished session's tombstone: a replay of it
   * is refused as stale only once this clock is a window past the start's own
   * time, and that time may be up to the allowed skew ahead of this clock
   * when it arrived. At least a window from now.
   */
  startRememberedUntil(st: SessionState): number {
    const window = this.descriptor.replayWindowMs;
    if (!defences.startMemory) return this.core.now() + window;
    return Math.max(this.core.now() + window, Number(st.start.timeMs) + window + this.core.maxClockSkewMs);
  }

  private async replayAdd(id: string, until: number, sid: string, edge: number, peer: string): Promise<boolean> {
    try {
      return await this.core.replay.add(id, until);
    } catch (e: unknown) {
      throw this.storeDown(e, sid, edge, peer);
    }
  }

  private storeDown(e: unknown, sid: string, edge: number, peer: string): SecSessionError {
    const reason = e instanceof StoreUnavailableError ? e.message : "the session store failed";
    return this.alert(new SecSessionError("store-unavailable", reason, { cause: e }), sid, edge, peer);
  }
}

/**
 * Decodes incoming envelope bytes, strictly and once (wire/envelope-codec.ts:
 * unknown fields are skipped, never kept); too large or malformed is refused
 * with an alert.
 */
export function decodeIncoming(core: RuntimeCore, bytes: Uint8Array, peer: string): WireEnvelope {
  if (bytes.length > MAX_ENVELOPE_BYTES) throw core.alert(new SecSessionError("malformed", `envelope of ${bytes.length} bytes exceeds ${MAX_ENVELOPE_BYTES}`), "", -1, peer);
  try {
    return decodeEnvelope(bytes);
  } catch (e: unknown) {
    if (!(e instanceof EnvelopeDecodeError)) throw e;
    throw core.alert(new SecSessionError("malformed", `the envelope does not decode: ${e.message}`, { cause: e }), "", -1, peer);
  }
}

function withDependencies(file: DescFile): DescFile[] {
  const out = new Map<string, DescFile>();
  const stack = [file];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (out.has(f.proto.name)) continue;
    out.set(f.proto.name, f);
    stack.push(...f.dependencies);
  }
  return [...out.values()];
}

/** An edge as spans name it: `c -> w: wsne.Worker/Request (request)`. */
function edgeLabel(e: EdgeDescriptor): string {
  return `${e.sender} -> ${e.receiver}: ${e.rpc.slice(1)} (${e.kind})`;
}
