/**
 * The outcome of a failed check of the offline verifier: the line at fault
 * and why. Thrown inside the verifier, returned as `{ ok: false, line, reason }`.
 */
export class Fault extends Error {
  constructor(
    /** 1-based line of the log; 0 when the fault is not at one line. */
    readonly line: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = "Fault";
  }
}
