/**
 * A man in the middle on loopback: a gRPC server that takes every session
 * rpc meant for one peer and hands it to a policy, which may forward it
 * (unchanged, rewritten, later, twice), drop it or inject others. Refusals
 * travel back with their trailing metadata, so the sender still learns the
 * alert kind.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "../../../gen/secsession/v1/envelope_pb.js";
import { SealedBytes, sealedMethod } from "../../../interceptors/grpc/sealed.js";
import { ALERT_KIND_METADATA } from "../../../interceptors/errors.js";

/**
 * What a raw call returned: the response bytes, or the gRPC error with the
 * alert kind its trailing metadata carried (absent when the refusal did not
 * come from a secsession runtime, e.g. a transport limit).
 */
export type Outcome = { ok: true; bytes: Uint8Array } | { ok: false; code: number; details: string; kind?: string };

/** Reusable raw clients, one channel per address. */
export interface RawCaller {
  call(address: string, path: string, bytes: Uint8Array): Promise<Outcome>;
  /** Sends every envelope of `messages` on one call of `path` (a client stream, whatever the rpc's kind). */
  callFramed(address: string, path: string, messages: readonly Uint8Array[]): Promise<Outcome>;
  close(): void;
}

/** Creates a raw caller that keeps one client per address until `close`. */
export function rawCaller(): RawCaller {
  const clients = new Map<string, grpc.Client>();
  return {
    call(address, path, bytes) {
      let client = clients.get(address);
      if (client === undefined) {
        client = new grpc.Client(address, grpc.credentials.createInsecure());
        clients.set(address, client);
      }
      return unary(client, path, bytes);
    },
    callFramed(address, path, messages) {
      let client = clients.get(address);
      if (client === undefined) {
        client = new grpc.Client(address, grpc.credentials.createInsecure());
        clients.set(address, client);
      }
      return framed(client, path, messages);
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}

/** Sends raw envelope bytes to `address` on `path`, as an attacker can. */
export async function rawCall(address: string, path: string, bytes: Uint8Array): Promise<Outcome> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    return await unary(client, path, bytes);
  } finally {
    client.close();
  }
}

function unary(client: grpc.Client, path: string, bytes: Uint8Array): Promise<Outcome> {
  const m = sealedMethod(path, path);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, m.requestSerialize, m.responseDeserialize, new SealedBytes(bytes), { deadline: Date.now() + 10_000 }, (err, value) => {
      if (err === null) return resolve({ ok: true, bytes: (value as SealedBytes).bytes });
      const kind = err.metadata?.get(ALERT_KIND_METADATA)[0];
      resolve({ ok: false, code: err.code, details: err.details, ...(typeof kind === "string" ? { kind } : {}) });
    });
  });
}

function framed(client: grpc.Client, path: string, messages: readonly Uint8Array[]): Promise<Outcome> {
  const m = sealedMethod(path, path);
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(path, m.requestSerialize, m.responseDeserialize, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, value) => {
      if (err === null) return resolve({ ok: true, bytes: (value as SealedBytes).bytes });
      const kind = err.metadata?.get(ALERT_KIND_METADATA)[0];
      resolve({ ok: false, code: err.code, details: err.details, ...(typeof kind === "string" ? { kind } : {}) });
    });
    for (const b of messages) call.write(new SealedBytes(b));
    call.end();
  });
}

export type Policy = (path: string, bytes: Uint8Array, forward: (path: string, bytes: Uint8Array) => Promise<Outcome>) => Promise<Outcome>;

export interface Mitm {
  readonly address: string;
  /** Every request that passed through, in order. */
  readonly seen: Array<{ path: string; bytes: Uint8Array }>;
  policy: Policy;
  close(): void;
}

/** Starts a proxy for `target` serving the rpc `paths`. */
export async function mitm(target: () => string, paths: readonly string[]): Promise<Mitm> {
  const server = new grpc.Server();
  const caller = rawCaller();
  const seen: Mitm["seen"] = [];
  const state: { policy: Policy } = { policy: (path, bytes, forward) => forward(path, bytes) };
  const byService = new Map<string, string[]>();
  for (const p of new Set(paths)) {
    const [, svc, method] = p.split("/");
    byService.set(svc!, [...(byService.get(svc!) ?? []), method!]);
  }
  for (const [svc, methods] of byService) {
    const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    for (const m of methods) {
      const path = `/${svc}/${m}`;
      def[m] = sealedMethod(path, m);
      impl[m] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const bytes = (call.request as SealedBytes).bytes;
        seen.push({ path, bytes });
        state.policy(path, bytes, (p, b) => caller.call(target(), p, b)).then(
          (o) => (o.ok ? cb(null, new SealedBytes(o.bytes)) : cb({ code: o.code, details: o.details, metadata: trailers(o.kind) })),
          (e: unknown) => cb({ code: grpc.status.INTERNAL, details: `man in the middle: ${e instanceof Error ? e.message : String(e)}` }),
        );
      };
    }
    server.addService(def as grpc.ServiceDefinition, impl);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    seen,
    get policy() {
      return state.policy;
    },
    set policy(p: Policy) {
      state.policy = p;
    },
    close: () => {
      server.forceShutdown();
      caller.close();
    },
  };
}

function trailers(kind: string | undefined): grpc.Metadata {
  const m = new grpc.Metadata();
  if (kind !== undefined) m.set(ALERT_KIND_METADATA, kind);
  return m;
}

/** Decodes an envelope. */
export function decode(bytes: Uint8Array): Envelope {
  return fromBinary(EnvelopeSchema, bytes);
}

/** Decodes an envelope, or undefined when the bytes are not one. */
export function tryDecode(bytes: Uint8Array): Envelope | undefined {
  try {
    return fromBinary(EnvelopeSchema, bytes);
  } catch {
    return undefined;
  }
}

/** Encodes an envelope after `change` edits a copy of it. */
export function rewrite(bytes: Uint8Array, change: (e: Envelope) => void): Uint8Array {
  const e = fromBinary(EnvelopeSchema, bytes);
  change(e);
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, e));
}
