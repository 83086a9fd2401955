/**
 * The checks of createSessionRuntime's options: each refused at once with a
 * message naming the option and what it must be, before anything is made.
 */
import type { Identity } from "../keys/identity.js";

/** Where each principal listens: a Map, an object of own keys, or a function. */
export type PeerAddresses = ReadonlyMap<string, string> | Readonly<Record<string, string>> | ((principal: string) => string | undefined);

/**
 * Benchmark only, never in the public options: a runtime made with this key
 * set to true builds attestations but does not verify them (it accepts
 * forged MACs). Not exported from the package.
 */
export const SKIP_ATTESTATION_CHECKS: unique symbol = Symbol("secsession.benchmarkOnly.skipAttestationChecks");

const WHERE = "secsession: createSessionRuntime";

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}

function checkKeyPair(v: unknown, name: string): void {
  if (v === null || typeof v !== "object") throw new TypeError(`${WHERE}: options.identity.${name} must be { publicKey, privateKey }, got ${describe(v)}`);
  for (const part of ["publicKey", "privateKey"] as const) {
    const b = (v as Record<string, unknown>)[part];
    if (!(b instanceof Uint8Array)) throw new TypeError(`${WHERE}: options.identity.${name}.${part} must be a Uint8Array, got ${describe(b)}`);
    if (b.length !== 32) throw new RangeError(`${WHERE}: options.identity.${name}.${part}: expected 32 bytes, got ${b.length}`);
  }
}

/** Throws unless `options` has what a runtime needs; reads nothing else. */
export function checkRuntimeOptions(options: unknown): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw new TypeError(`${WHERE}: expected an options object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  const identity = o["identity"];
  if (identity === undefined) throw new TypeError(`${WHERE}: options.identity is required: this peer's id and private keys (generateIdentity)`);
  if (identity === null || typeof identity !== "object") throw new TypeError(`${WHERE}: options.identity must be an Identity, got ${describe(identity)}`);
  const id = (identity as Partial<Identity>).id;
  if (typeof id !== "string" || id === "") throw new TypeError(`${WHERE}: options.identity.id must be a non-empty string, got ${typeof id === "string" ? '""' : describe(id)}`);
  checkKeyPair((identity as Record<string, unknown>)["x25519"], "x25519");
  checkKeyPair((identity as Record<string, unknown>)["ed25519"], "ed25519");
  const resolver = o["resolver"];
  if (resolver === undefined) throw new TypeError(`${WHERE}: options.resolver is required: a function from a principal to its public keys (staticResolver, keyringResolver)`);
  if (typeof resolver !== "function") throw new TypeError(`${WHERE}: options.resolver must be a function, got ${describe(resolver)}`);
  const peers = o["peers"];
  if (peers !== undefined && typeof peers !== "function" && (peers === null || typeof peers !== "object" || Array.isArray(peers))) {
    throw new TypeError(`${WHERE}: options.peers must be a Map, an object or a function from a principal to its address, got ${describe(peers)}`);
  }
  const telemetry = o["telemetry"];
  if (telemetry !== undefined && telemetry !== false) {
    if (telemetry === null || typeof telemetry !== "object" || Array.isArray(telemetry)) throw new TypeError(`${WHERE}: options.telemetry must be false or { meterProvider?, tracerProvider? }, got ${describe(telemetry)}`);
    for (const [k, method] of [["meterProvider", "getMeter"], ["tracerProvider", "getTracer"]] as const) {
      const v = (telemetry as Record<string, unknown>)[k];
      if (v !== undefined && (v === null || typeof (v as Record<string, unknown>)[method] !== "function")) throw new TypeError(`${WHERE}: options.telemetry.${k} must be an OpenTelemetry ${k === "meterProvider" ? "MeterProvider" : "TracerProvider"} (with ${method}()), got ${describe(v)}`);
    }
  }
  if ("verifyAttestations" in o) throw new TypeError(`${WHERE}: verifyAttestations is not an option: attestations are always verified`);
}

/** The address of `principal` in `peers`, by own key only (a principal may be called `constructor` or `__proto__`). */
export function lookUpAddress(peers: PeerAddresses | undefined, principal: string): string | undefined {
  if (peers === undefined) return undefined;
  if (typeof peers === "function") return peers(principal);
  if (peers instanceof Map) return (peers as ReadonlyMap<string, string>).get(principal);
  const book = peers as Readonly<Record<string, string>>;
  return Object.hasOwn(book, principal) ? book[principal] : undefined;
}

/**
 * Throws unless `bindings` is an object naming principals (strings) by
 * role; `example` shows the expected shape in the message. A role whose value
 * is `undefined` counts as not given, as its optional property in the
 * generated bindings type says (the starting role's own then defaults to the
 * runtime's identity; any other is missing).
 */
export function checkBindings(where: string, bindings: unknown, example: readonly string[]): void {
  if (bindings === null || typeof bindings !== "object" || Array.isArray(bindings)) {
    const shape = `{ ${example.map((r) => `${JSON.stringify(r)}: "<principal>"`).join(", ")} }`;
    throw new TypeError(`secsession: ${where}: bindings must be an object naming the principal of each role bound at the start (e.g. ${shape}), got ${describe(bindings)}`);
  }
  for (const [role, p] of Object.entries(bindings)) {
    if (p === undefined) continue;
    if (typeof p !== "string" || p === "") throw new TypeError(`secsession: ${where}: bindings.${role} must be a principal (a non-empty string), got ${typeof p === "string" ? '""' : describe(p)}`);
  }
}
