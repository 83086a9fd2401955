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
  /** MACs and signatures over the transcript verify. */
  attestations: true,
  /** Key updates (first contact, ratchet steps) verify and come in order. */
  keyUpdates: true,
  /** Oneof cases, bound principals, `where` and `opens` hold. */
  values: true,
  /** The receiver is the principal bound to the edge's receiving role. */
  addressing: true,
  /** A response belongs to the session of the call it answers (client interceptor). */
  responseSession: true,
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
