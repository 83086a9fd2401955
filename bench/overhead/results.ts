/**
 * The overhead benchmark's results (bench/overhead.json) and the targets
 * they are held to, each met, missed (with the measured breakdown that says
 * why) or not measured in this run.
 */
import type { MemoryResult } from "./memory.js";
import type { ModeId } from "./modes.js";
import type { OpCounts, PrimitiveCosts } from "./primitives.js";
import type { Category } from "./profile.js";

/** One mode of one session workload over gRPC. */
export interface Row {
  readonly mode: ModeId;
  readonly label: string;
  readonly runsMs: number[];
  readonly medianMs: number;
  readonly usPerMessage: number;
  /** CPU time of the process (user + system, all threads) per message, median of the repetitions; absent in older results. */
  readonly cpuUsPerMessage?: number;
  /** Median time over the unprotected run's median. */
  readonly ratio: number;
  /** gRPC calls (round trips) per session. */
  readonly callsPerSession: number;
}

export type PerMessage = Partial<Record<Category, number>>;

export interface Target {
  readonly target: string;
  readonly measured: string;
  /** undefined: not measured in this run (its modes were filtered out). */
  readonly met: boolean | undefined;
  /** Why it is missed, or what qualifies it. */
  readonly note: string;
}

export interface Results {
  date: string;
  machine: { cpus: number; model: string; memoryGiB: number; os: string; loadAverage: { start: number; end: number } };
  versions: Record<string, string>;
  config: Record<string, unknown>;
  conf: Row[];
  wsne: Row[];
  concurrency: Array<{ mode: ModeId; runsMs: number[]; medianMs: number; messagesPerSecond: number }>;
  buffer: Array<{ mode: ModeId; label: string; runsUs: number[]; usPerWrapUnwrap: number }>;
  primitives: PrimitiveCosts;
  ops: Partial<Record<ModeId, OpCounts & { messages: number }>>;
  /** Microseconds per message by micro-protocol, from the sampling profiler (gRPC Conf, and the buffer API). */
  breakdown: { conf: Partial<Record<ModeId, PerMessage>>; buffer: Partial<Record<ModeId, PerMessage>> };
  memory: MemoryResult[];
  /** What the time budget made the run skip. */
  skipped: string[];
  seconds: number;
  targets: Target[];
}

const us = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} µs`;

/** The categories where `mode` spends more than `base`, largest first (µs per message). */
export function extraCost(b: Partial<Record<ModeId, PerMessage>>, mode: ModeId, base: ModeId): Array<[Category, number]> {
  const m = b[mode];
  const o = b[base];
  if (m === undefined || o === undefined) return [];
  const keys = new Set([...Object.keys(m), ...Object.keys(o)] as Category[]);
  return [...keys]
    .map((k) => [k, (m[k] ?? 0) - (o[k] ?? 0)] as [Category, number])
    .filter(([, v]) => v > 0.5)
    .sort((a, b) => b[1] - a[1]);
}

const listing = (xs: Array<[Category, number]>, n = 5) => xs.slice(0, n).map(([k, v]) => `${k} ${us(v)}`).join(", ");

/**
 * Holds the results to the performance issue's targets: ratios to plain
 * grpc-js in the same run, the buffer API, concurrency, the extra cost of
 * signatures and privacy over MAC mode, and memory per session.
 */
export function evaluateTargets(r: Results): Target[] {
  const row = (rows: Row[], m: ModeId) => rows.find((x) => x.mode === m);
  const p = r.primitives;
  const out: Target[] = [];
  const times = (x: number) => `${x.toFixed(2)}×`;

  const full = row(r.conf, "full");
  const off = row(r.conf, "off");
  const plain = row(r.conf, "grpc");
  const stat = row(r.conf, "static");
  const wfull = row(r.wsne, "full");
  const wplain = row(r.wsne, "grpc");
  const fo = r.ops.full;
  const overPlain = (a: Row | undefined, b: Row | undefined) => (a && b ? a.medianMs / b.medianMs : undefined);
  const cpuNote = (a: Row | undefined, b: Row | undefined) =>
    a?.cpuUsPerMessage !== undefined && b?.cpuUsPerMessage !== undefined ? ` (CPU: ${us(a.cpuUsPerMessage)} against ${us(b.cpuUsPerMessage)} per message, ${times(a.cpuUsPerMessage / b.cpuUsPerMessage)})` : "";

  const fullRatio = overPlain(full, plain);
  out.push({
    target: "Conf fully protected (MAC, default policy) ÷ plain grpc-js ≤ 1.5×",
    measured: fullRatio !== undefined ? `${times(fullRatio)}${cpuNote(full, plain)}${stat && plain ? `; with static keys (no ratchet) ${times(stat.medianMs / plain.medianMs)}` : ""}` : "not run",
    met: fullRatio !== undefined ? fullRatio <= 1.5 : undefined,
    note:
      full && off
        ? `${us(full.usPerMessage - off.usPerMessage)} more per message than unprotected (${us(off.usPerMessage)}); by the profiler, the extra is ${listing(extraCost(r.breakdown.conf, "full", "off"))}` +
          `${fo ? ` (counted per message: ${(fo.x25519KeyPair / fo.messages).toFixed(2)} X25519 key pairs, ${(fo.x25519 / fo.messages).toFixed(2)} X25519, ${(fo.hmacSha256 / fo.messages).toFixed(1)} HMAC-SHA256)` : ""}. ` +
          `A DH ratchet step is one key pair and one X25519 at each end, ${us((p["x25519KeyPair (backend)"] ?? 0) + 2 * (p["x25519 (backend)"] ?? 0))} through the backend.`
        : "",
  });
  const offRatio = overPlain(off, plain);
  out.push({
    target: "Conf unprotected ÷ plain grpc-js ≤ 1.2×",
    measured: offRatio !== undefined ? `${times(offRatio)}${cpuNote(off, plain)}` : "not run",
    met: offRatio !== undefined ? offRatio <= 1.2 : undefined,
    note: off && plain ? `Unprotected, a message still is an envelope encoded, decoded and checked against the session's state, through two interceptors and the typed API: ${us(off.usPerMessage - plain.usPerMessage)} per message over plain grpc-js; by the profiler, ${listing(Object.entries(r.breakdown.conf.off ?? {}).sort((a, b) => b[1] - a[1]) as Array<[Category, number]>, 5)}.` : "",
  });
  const wRatio = overPlain(wfull, wplain);
  out.push({
    target: "Wsne fully protected ÷ plain grpc-js ≤ 1.5×",
    measured: wRatio !== undefined ? `${times(wRatio)}${cpuNote(wfull, wplain)}` : "not run",
    met: wRatio !== undefined ? wRatio <= 1.5 : undefined,
    note: "Wsne is two parties ping-ponging: every message passes the token back, so every message is a key renewal under a per-turn policy.",
  });

  const bf = r.buffer.find((b) => b.mode === "full");
  const bs = r.buffer.find((b) => b.mode === "static");
  const bo = r.buffer.find((b) => b.mode === "off");
  out.push({
    target: "buffer API wrap+unwrap of 64 B, fully protected ≤ 20 µs",
    measured: bf ? `${us(bf.usPerWrapUnwrap)}${bs ? `; static keys (no ratchet) ${us(bs.usPerWrapUnwrap)}` : ""}${bo ? `; unprotected ${us(bo.usPerWrapUnwrap)}` : ""}` : "not run",
    met: bf ? bf.usPerWrapUnwrap <= 20 : undefined,
    note: bf ? `By the profiler, one wrap+unwrap in MAC mode: ${listing(Object.entries(r.breakdown.buffer.full ?? {}).sort((a, b) => b[1] - a[1]) as Array<[Category, number]>, 7)}.` : "",
  });

  const cf = r.concurrency.find((c) => c.mode === "full");
  const co = r.concurrency.find((c) => c.mode === "off");
  out.push({
    target: "64 concurrent Conf sessions, fully protected ÷ unprotected throughput ≥ 75 %",
    measured: cf && co ? `${((cf.messagesPerSecond / co.messagesPerSecond) * 100).toFixed(0)} % (${cf.messagesPerSecond.toFixed(0)} against ${co.messagesPerSecond.toFixed(0)} messages/s)` : "not run",
    met: cf && co ? cf.messagesPerSecond / co.messagesPerSecond >= 0.75 : undefined,
    note: "One Node process, all peers in it, CPU-bound: concurrency hides no cost, so throughput falls by the same per-message cost as in the sequential runs.",
  });

  const sig = row(r.conf, "signatures");
  const so = r.ops.signatures;
  if (sig && full && so) {
    const signUs = p["ed25519Sign (backend)"] ?? 0;
    const verifyUs = p["ed25519Verify (backend)"] ?? 0;
    const raw = (so.ed25519Sign * signUs + so.ed25519Verify * verifyUs) / so.messages;
    const extra = sig.usPerMessage - full.usPerMessage;
    out.push({
      target: "Ed25519 mode, extra per message over MAC mode ≤ 1.2× the raw cost of the signatures it makes and checks",
      measured: `${(extra / raw).toFixed(2)}× (${us(extra)} per message over MAC mode; ${(so.ed25519Sign / so.messages).toFixed(2)} signatures and ${(so.ed25519Verify / so.messages).toFixed(2)} verifications per message = ${us(raw)} raw)`,
      met: extra / raw <= 1.2,
      note: `Through the backend signing costs ${us(signUs)} and verifying ${us(verifyUs)}. Extra over MAC mode by the profiler: ${listing(extraCost(r.breakdown.conf, "signatures", "full"))}.`,
    });
  } else out.push({ target: "Ed25519 mode, extra per message over MAC mode ≤ 1.2× the raw cost of the signatures it makes and checks", measured: "not run", met: undefined, note: "" });

  const priv = row(r.conf, "privacy");
  out.push({
    target: "privacy on every direction, extra over MAC mode ≤ +10 µs per message",
    measured: priv && full ? `${priv.usPerMessage - full.usPerMessage >= 0 ? "+" : ""}${us(priv.usPerMessage - full.usPerMessage)} per message (${us(priv.usPerMessage)} against ${us(full.usPerMessage)})` : "not run",
    met: priv && full ? priv.usPerMessage - full.usPerMessage <= 10 : undefined,
    note: `Sealing 64 B with ChaCha20-Poly1305 through the backend costs ${us(p["chacha20-poly1305 seal (64 B)"] ?? 0)} (opening about as much); the rest is key derivation, the nonce and the larger envelope.`,
  });

  const started = r.memory.find((m) => m.kind === "started");
  const est = r.memory.find((m) => m.kind === "established" && m.mode === "full");
  const perEndOf = (mode: string) => {
    const m = r.memory.find((x) => x.kind === "established" && x.mode === mode);
    return m === undefined ? undefined : m.bytes / m.sessions / 2;
  };
  const offEnd = perEndOf("off");
  const staticEnd = perEndOf("static");
  const perEnd = est ? est.bytes / est.sessions / 2 : undefined;
  const perStarted = started ? started.bytes / started.sessions : undefined;
  out.push({
    target: "memory per idle established session end ≤ 1,536 B (two roles ≤ 1,024 B) / per started session ≤ 1,024 B",
    measured: `${perEnd !== undefined ? `${perEnd.toFixed(0)} B per end of an established two-role session (${est!.sessions} sessions, both ends in one process)` : ""}${perStarted !== undefined ? `; ${perStarted.toFixed(0)} B per started session (${started!.sessions})` : ""}`,
    met: perStarted !== undefined && perEnd !== undefined ? perStarted <= 1024 && perEnd <= 1024 : undefined,
    note:
      perEnd !== undefined && offEnd !== undefined
        ? `Per end of an established session: ${offEnd.toFixed(0)} B without keys (protection off: session state, local position, replay entry)` +
          `${staticEnd !== undefined ? `, ${staticEnd.toFixed(0)} B with static pairwise keys` : ""}, ${perEnd.toFixed(0)} B with the Noise pair channel: ${(perEnd - offEnd).toFixed(0)} B are keys and key state.`
        : "",
  });

  const calls = [off, full, plain, sig].filter((x) => x !== undefined).map((x) => `${x.mode} ${x.callsPerSession}`);
  out.push({
    target: "handshake adds no round trip",
    measured: `gRPC calls per Conf session: ${calls.join(", ")}; per Wsne session: ${r.wsne.map((x) => `${x.mode} ${x.callsPerSession}`).join(", ")}`,
    met: full && off ? full.callsPerSession === off.callsPerSession && (plain === undefined || plain.callsPerSession === full.callsPerSession) : undefined,
    note: "Noise first contacts and ratchet keys ride in the envelopes of the session's own messages: every mode makes exactly the calls of plain gRPC.",
  });
  return out;
}
