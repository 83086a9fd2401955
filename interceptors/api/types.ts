/**
 * The typed role API, computed from the role machines the plugin emits
 * (`<Session><Role>Machine`): a state object offers exactly the moves its
 * local state allows, sends take the message type of their edge, and
 * receives are a discriminated union on `kind`.
 */
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/** One move of a local state, as the plugin emits it. */
export interface Move {
  readonly direction: "send" | "receive";
  readonly kind: "oneway" | "request" | "response";
  readonly peer: string;
  readonly rpc: string;
  readonly message: DescMessage;
  /**
   * The oneof case of a response branch (`case` of the edge, by the
   * protoc-gen-es local names): a send of the move must set `oneof` to
   * `field`, and a receive carries only that case.
   */
  readonly case?: { readonly oneof: string; readonly field: string };
  readonly next: number;
}

/** A role machine: local state id -> moves, or `{ final: true }`. */
export type Machine = { readonly [state: number]: { readonly [move: string]: Move } | { readonly final: true } };

type MovesOf<M, S extends keyof M> = M[S] extends { readonly final: true } ? never : M[S];
type KeysWhere<T, D> = { [K in keyof T]: T[K] extends { readonly direction: D } ? K : never }[keyof T];

/** Names of the sends a local state allows. */
export type SendKeys<M, S extends keyof M> = KeysWhere<MovesOf<M, S>, "send">;
/** Names of the receives a local state allows. */
export type ReceiveKeys<M, S extends keyof M> = KeysWhere<MovesOf<M, S>, "receive">;

/** Options of a send. */
export interface SendOptions {
  /** Principals of the roles this message binds (dynamic binding), e.g. `{ w: "server-2" }`. */
  readonly bind?: Readonly<Record<string, string>>;
  /** gRPC deadline of the call. */
  readonly deadline?: Date | number;
}

/** Options of a receive. */
export interface ReceiveOptions {
  /**
   * How long to wait for the message (ms; default the runtime's
   * receiveTimeoutMs, else until the session expires). On timeout the
   * promise rejects with ReceiveTimeoutError and the session is unchanged:
   * the same state object may receive again.
   */
  readonly timeoutMs?: number;
}

/** The state object of a finished session. */
export interface Final {
  readonly final: true;
  readonly sessionId: string;
}

type Next<M, N> = N extends keyof M ? RoleState<M, N> : never;
type After<M, Mv> = Mv extends { readonly kind: "request"; readonly next: infer N }
  ? N extends keyof M ? Incoming<M, N> : never
  : Mv extends { readonly next: infer N } ? Next<M, N> : never;

/**
 * `I` with oneof `O` narrowed to (and required to be) case `F`: the message
 * of a response branch, whose case the move implies. Distributes over the
 * union of a message and its init shape.
 */
type WithCase<I, O extends string, F extends string> = I extends unknown
  ? O extends keyof I
    ? Omit<I, O> & { [K in O]: Extract<Exclude<I[K], undefined>, { readonly case: F }> }
    : I
  : never;

/** What a send of move `Mv` takes: the message of its edge, with a response branch's case fixed. */
export type SendMessage<Mv> = Mv extends { readonly message: infer D extends DescMessage }
  ? Mv extends { readonly case: { readonly oneof: infer O extends string; readonly field: infer F extends string } }
    ? WithCase<MessageInitShape<D>, O, F>
    : MessageInitShape<D>
  : never;

type SendFn<M, Mv> = Mv extends { readonly message: DescMessage }
  ? (message: SendMessage<Mv>, options?: SendOptions) => Promise<After<M, Mv>>
  : never;

/** What `receive()` (or a request's send) resolves with: one case per allowed message. */
export type Incoming<M, S extends keyof M> = {
  [K in ReceiveKeys<M, S>]: MovesOf<M, S>[K] extends { readonly message: infer D extends DescMessage; readonly next: infer N }
    ? { readonly kind: K; readonly message: MessageShape<D>; readonly next: Next<M, N> }
    : never;
}[ReceiveKeys<M, S>];

/** The state object of local state S: its sends, and `receive()` when it waits for a message. */
export type RoleState<M, S extends keyof M> = M[S] extends { readonly final: true }
  ? Final
  : { readonly sessionId: string; readonly localState: S } & { readonly [K in SendKeys<M, S>]: SendFn<M, MovesOf<M, S>[K]> } & ([ReceiveKeys<M, S>] extends [never]
        ? unknown
        : { receive(options?: ReceiveOptions): Promise<Incoming<M, S>> });

/** Handlers of the messages that start a session for a role (the receives of its initial state). */
export type SessionHandlers<M> = {
  readonly [K in ReceiveKeys<M, 0 & keyof M>]: (incoming: Extract<Incoming<M, 0 & keyof M>, { readonly kind: K }>) => Promise<void> | void;
};
