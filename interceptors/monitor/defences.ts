/**
 * Switches for each defence of the monitor. They are all on, always, in any
 * real use; the adversary tests switch one off to show that the attack they
 * target then succeeds (a test that passes with the defence removed proves
 * nothing). Not exported from the package.
 */
export const defences = {
  /** The session start names this session's code. */
  sessionCode: true,
  /** The session start is inside the time window. */
  startWindow: true,
  /** A session start is accepted once (anti-replay cache). */
  startCache: true,
  /** Steps continue exactly where the receiver's knowledge ends. */
  step: true,
  /** The claimed path is legal in the global graph from the receiver's state. */
  path: true,
  /** The envelope MAC, and the MACs and signatures over the transcript, verify. */
  attestations: true,
  /** A bound role is never bound again to another principal (re-binding is not supported). */
  rebinding: true,
  /** A speaker is a (role, principal) pair: each principal that the history says spoke must have attested, with its own key. */
  speakers: true,
  /** Visibility picks each speaker's latest authenticated message: a later unauthenticated one does not hide it. */
  latestAuthenticated: true,
  /** History carried by a message without authenticity is checked against its speakers' attestations. */
  unvouchedHistory: true,
  /** Steps are the receiver's own count: a direction without authenticity or replay prevention cannot rewind them. */
  ownSteps: true,
  /** Starts are accepted up to the allowed skew ahead (not a whole window), and remembered until the window passed their own time. */
  startMemory: true,
  /** A session rpc carries one message per call, opened only once the call's input is complete. */
  oneMessagePerCall: true,
  /** An accepted message reaches its session as it is committed, not when (or if) grpc-js runs the handler. */
  deliverAtCommit: true,
  /** A stored state older than its session's high-water mark is refused (a rolled-back store). */
  highWater: true,
  /** Only extras (attestations, key updates) that belong to a message the role knows of are kept and carried. */
  extras: true,
  /** Key updates (first contact, ratchet steps) verify and come in order. */
  keyUpdates: true,
  /** Oneof cases, bound principals, `where` and `opens` hold. */
  values: true,
  /** The receiver is the principal bound to the edge's receiving role. */
  addressing: true,
  /** A response belongs to the session of the call it answers (client interceptor). */
  responseSession: true,
  /** No principal holds more open sessions at a runtime than maxSessionsPerPrincipal. */
  sessionCap: true,
  /** Sessions idle for longer than sessionIdleTimeoutMs are expired and freed. */
  idleExpiry: true,
  /** An encrypted direction's payload is decrypted, even when the envelope claims it is in the clear (key version 0). */
  privacy: true,
};

export type Defence = keyof typeof defences;

/** Runs `f` with one defence switched off (tests only). */
export async function without<T>(d: Defence, f: () => Promise<T>): Promise<T> {
  defences[d] = false;
  try {
    return await f();
  } finally {
    defences[d] = true;
  }
}
