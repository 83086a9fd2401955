/**
 * Where the time goes: runs a workload under the V8 sampling profiler
 * (node:inspector, the same profiler as `node --cpu-prof`) and attributes
 * every sample to one micro-protocol, by the innermost frame that says what
 * the work is for (docs/benchmarks.md lists the rules).
 */
import { Session } from "node:inspector/promises";

export const CATEGORIES = [
  "key agreement (Noise, DH ratchet)",
  "key deletion (vault, zeroing)",
  "authenticity (MACs, receipts)",
  "signatures (Ed25519)",
  "privacy (AEAD)",
  "history (payload hash, transcript)",
  "state machine (steps, path, next state)",
  "value checks (oneof, where)",
  "protobuf encoding (envelopes, payloads)",
  "runtime (typed API, interceptors, store)",
  "gRPC transport (grpc-js, HTTP/2)",
  "benchmark driver",
  "garbage collection",
  "other (Node internals, microtasks)",
  "idle (waiting for I/O)",
] as const;

export type Category = (typeof CATEGORIES)[number];

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const MAC_FUNCTIONS = new Set(["attest", "checkAttestations", "sealReceipt", "expectedReceipt", "checkReceipt", "attestationInput", "receiptInput"]);

/** The category one frame decides, or undefined to look at its caller. */
function frameCategory(f: CallFrame): Category | undefined {
  const u = f.url;
  const fn = f.functionName;
  if (u.includes("@grpc/grpc-js") || /node:(internal\/)?(http2|net|stream|_http)/.test(u) || u.includes("internal/http2") || u.includes("internal/streams")) {
    return "gRPC transport (grpc-js, HTTP/2)";
  }
  if (u.includes("@bufbuild/protobuf")) return "protobuf encoding (envelopes, payloads)";
  if (u.includes("/bench/") || u.includes("/test/support/")) return "benchmark driver";
  const our = u.match(/\/interceptors\/(.+)$/)?.[1];
  if (our === undefined) return undefined;
  if (fn === "ed25519Sign" || fn === "ed25519Verify") return "signatures (Ed25519)";
  if (MAC_FUNCTIONS.has(fn)) return "authenticity (MACs, receipts)";
  if (our.startsWith("keys/pair-channel") || our.startsWith("keys/noise/") || our.startsWith("monitor/keying") || fn === "staticKeys" || fn === "forgetKeys") {
    return "key agreement (Noise, DH ratchet)";
  }
  if (our.startsWith("keys/vault") || fn === "retireKeys" || fn === "zeroize") return "key deletion (vault, zeroing)";
  if (our.startsWith("wire/payload-crypto")) return "privacy (AEAD)";
  if (our.startsWith("wire/transcript") || fn === "transcriptStep" || fn === "sessionIdOf") return "history (payload hash, transcript)";
  if (our.startsWith("runtime/values")) return "value checks (oneof, where)";
  if (fn === "encodeEnvelope" || fn === "encode" || fn === "decode" || fn === "decodeMessage") return "protobuf encoding (envelopes, payloads)";
  if (our.startsWith("monitor/")) return "state machine (steps, path, next state)";
  if (our.startsWith("keys/") || our.startsWith("wire/")) return undefined; // primitives and byte helpers: their caller says what for
  return "runtime (typed API, interceptors, store)";
}

/** Milliseconds per category in a CPU profile; the profiler's own work (inspector calls) is left out. */
export function attribute(profile: CpuProfile): Map<Category, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, Category | "profiler">();
  const categoryOf = (id: number): Category | "profiler" => {
    const hit = memo.get(id);
    if (hit !== undefined) return hit;
    const leaf = byId.get(id)!.callFrame.functionName;
    let out: Category | "profiler" | undefined;
    if (leaf === "(idle)") out = "idle (waiting for I/O)";
    else if (leaf === "(garbage collector)") out = "garbage collection";
    let primitive: string | undefined;
    for (let cur: number | undefined = id; out === undefined && cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (frame.url === "node:inspector" || frame.url.endsWith("inspector/promises")) out = "profiler";
      else out = frameCategory(frame);
      if (frame.url.includes("keys/crypto/")) primitive = frame.functionName;
    }
    // SHA-256 called by the seal/open steps themselves is the payload hash of the history.
    if (out === "state machine (steps, path, next state)" && primitive === "sha256") out = "history (payload hash, transcript)";
    out ??= "other (Node internals, microtasks)";
    memo.set(id, out);
    return out;
  };
  const ms = new Map<Category, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const c = categoryOf(profile.samples[i]!);
    if (c === "profiler") continue;
    ms.set(c, (ms.get(c) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return ms;
}

/**
 * Runs `work` under the sampling profiler (interval in µs) and returns its
 * per-category milliseconds. Switching the profiler on deoptimises code, so
 * `work` runs once unrecorded under the profiler first.
 */
export async function profiled(work: () => Promise<void>, intervalUs = 250): Promise<Map<Category, number>> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
    await session.post("Profiler.start");
    try {
      await work();
    } finally {
      await session.post("Profiler.stop");
    }
    await session.post("Profiler.start");
    let profile: CpuProfile;
    try {
      await work();
    } finally {
      profile = (await session.post("Profiler.stop")).profile as unknown as CpuProfile;
    }
    return attribute(profile);
  } finally {
    session.disconnect();
  }
}

/**
 * Splits `usPerMessage` (a timed, unprofiled figure) across categories in
 * the proportions of a profile: the profiler slows the work down, its
 * proportions are what it measures.
 */
export function scaled(ms: ReadonlyMap<Category, number>, usPerMessage: number): Partial<Record<Category, number>> {
  const total = [...ms.values()].reduce((a, b) => a + b, 0);
  const out: Partial<Record<Category, number>> = {};
  for (const c of CATEGORIES) {
    const v = ms.get(c) ?? 0;
    if (v > 0) out[c] = (v / total) * usPerMessage;
  }
  return out;
}
