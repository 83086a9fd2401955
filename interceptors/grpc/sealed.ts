/**
 * The values that travel between our typed layer, the interceptors and the
 * sealed codec. The codec serialises only `SealedBytes`: a message that did
 * not pass our client or server interceptor cannot leave the process, and a
 * handler registered without our server interceptor receives `SealedBytes`
 * instead of an opened message and refuses to run.
 */
import type { MethodDefinition } from "@grpc/grpc-js";
import type { EdgeDescriptor } from "../descriptor/types.js";
import type { Message } from "@bufbuild/protobuf";
import type { SessionState } from "../monitor/state.js";
import type { Party, Received } from "../runtime/party.js";
import type { RoleBinding } from "../wire/encoding.js";
import { SecSessionError as SecSessionErrorClass, type SecSessionError } from "../errors.js";

/** Envelope bytes as they are on the wire. */
export class SealedBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/** A session message on its way out, sealed by an interceptor when it passes to the transport. */
export class PendingSend {
  /** The sender's state once the message is sealed (set by the interceptor). */
  sealed: SessionState | undefined;
  /** For a one-way message on an HMAC edge: the tag its receipt must carry. */
  expectedReceipt: Uint8Array | undefined;
  private failure: { readonly error: unknown } | undefined;
  private promise: Promise<SessionState> | undefined;
  private settle: { resolve: (s: SessionState) => void; reject: (e: unknown) => void } | undefined;
  constructor(
    readonly party: Party,
    readonly sessionKey: string,
    readonly edge: EdgeDescriptor,
    readonly message: Message,
    readonly bindings: readonly RoleBinding[],
    /** Called once the message is sealed and its state committed, before it passes to the transport. */
    private readonly onSealed?: (state: SessionState) => void,
  ) {}

  /**
   * Settles when the interceptor has sealed the message (or failed to).
   * Made when first asked for: a request's sender learns of a failed seal
   * from its call, and needs no promise per message for it.
   */
  get done(): Promise<SessionState> {
    if (this.promise === undefined) {
      if (this.sealed !== undefined) this.promise = Promise.resolve(this.sealed);
      else if (this.failure !== undefined) this.promise = Promise.reject(this.failure.error);
      else this.promise = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
      this.promise.catch(() => undefined); // observed by whoever awaits it
    }
    return this.promise;
  }

  /** Called by the interceptor once the envelope is sealed and its state committed. */
  markSealed(state: SessionState): void {
    this.sealed = state;
    this.onSealed?.(state);
    this.settle?.resolve(state);
  }

  /** Called by the interceptor when sealing failed. */
  markFailed(e: unknown): void {
    this.failure = { error: e };
    this.settle?.reject(e);
  }
}

/**
 * Seals a pending message as it passes to the transport, then hands the
 * envelope bytes to `next`; on failure, marks it failed and reports the error.
 */
export function sealThenPass(message: PendingSend, next: (m: unknown) => void, fail: (err: SecSessionError) => void): void {
  message.party.wrap(message.sessionKey, message.edge, message.message, message.bindings).then(
    ({ bytes, state, expectedReceipt }) => {
      message.expectedReceipt = expectedReceipt;
      message.markSealed(state);
      next(new SealedBytes(bytes));
    },
    (e: unknown) => {
      const err = SecSessionErrorClass.from(e);
      message.markFailed(err);
      fail(err);
    },
  );
}

/** The receipt a server returns for an accepted one-way message. */
export class PendingReceipt {
  constructor(
    readonly party: Party,
    readonly received: Received,
  ) {}
}

/** The grpc-js callback of a unary call: an error status, or the value to send. */
export type Responder = (error: { code: number; details: string } | null, value?: unknown) => void;

/**
 * An accepted incoming message, delivered to its session when it was opened
 * (server-interceptor.ts) and handed to the gRPC handler, which connects the
 * call to what the session answers: `respond` may run before or after
 * `connect`.
 */
export class OpenedMessage {
  /** Set once the message reached its session. */
  delivered = false;
  private callback: Responder | undefined;
  private pending: Parameters<Responder> | undefined;
  constructor(
    readonly party: Party,
    readonly received: Received,
  ) {}

  /** The session's answer (response, receipt or error): sent now if the call is connected, else when it is. */
  readonly respond: Responder = (error, value) => {
    if (this.callback !== undefined) this.callback(error, value);
    else this.pending = [error, value];
  };

  /** Connects the gRPC call (called by the handler). */
  connect(callback: Responder): void {
    this.callback = callback;
    const p = this.pending;
    this.pending = undefined;
    if (p !== undefined) callback(...p);
  }
}

/** A response that failed its checks in the client interceptor. */
export class RefusedResponse {
  constructor(readonly error: SecSessionError) {}
}

/** A checked receipt of a one-way message. */
export class CheckedReceipt {
  constructor(readonly state: SessionState) {}
}

/** The codec of every session rpc: envelope bytes in, envelope bytes out. */
export function serialize(v: unknown): Buffer {
  if (v instanceof SealedBytes) return Buffer.from(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength);
  throw new Error("secsession: refusing to send an unsealed message: install the secsession interceptors");
}

// A copy, not a view: grpc-js may reuse the buffer it hands us while our checks
// are still running asynchronously, and what was checked must be what is used.
export const deserialize = (b: Buffer): SealedBytes => new SealedBytes(Uint8Array.prototype.slice.call(b));

/** A unary method definition with the sealed codec. */
export function sealedMethod(path: string, originalName: string): MethodDefinition<unknown, unknown> {
  return {
    path,
    originalName,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}
