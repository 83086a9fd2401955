/**
 * Commit: coin flipping by telephone. The caller c commits to its bit x by
 * sending the SHA-256 of the Reveal message it will send later (the bit and a
 * random salt); the worker w answers with its own bit y; then c reveals. The
 * runtime of w accepts the Reveal only if it opens the commitment, so c
 * cannot change x after seeing y. The coin is x XOR y.
 */
import { createHash, randomBytes } from "node:crypto";
import type * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { RevealRequestSchema, type RevealRequest } from "../../gen/commit/commit_pb.js";
import { CommitC, CommitW } from "../../gen/commit/commit_secsession.js";
import type { SessionRuntime } from "secsession";
import { Trace } from "../support/trace.js";

export type Coin = "heads" | "tails";
const coinOf = (x: boolean, y: boolean): Coin => (x !== y ? "heads" : "tails");

/** The Reveal c will send, and its commitment: SHA-256 of its exact protobuf bytes. */
export function commitTo(value: boolean): { reveal: RevealRequest; commitment: Uint8Array } {
  const reveal = create(RevealRequestSchema, { value, salt: new Uint8Array(randomBytes(16)) });
  const commitment = new Uint8Array(createHash("sha256").update(toBinary(RevealRequestSchema, reveal)).digest());
  return { reveal, commitment };
}

/** c: commits to `value`, learns w's bit, reveals. */
export async function runC(runtime: SessionRuntime, bindings: { c: string; w: string }, choices: { value: boolean }, trace = new Trace()): Promise<Coin> {
  const { reveal, commitment } = commitTo(choices.value);
  const s0 = await runtime.start(CommitC, bindings);
  const flip = await s0.commit({ commitment });
  trace.got("c", "w", `Flip(${flip.message.value})`);
  const done = await flip.next.reveal(reveal);
  trace.end("c", done);
  return coinOf(choices.value, flip.message.value);
}

/** w: answers each commitment with its bit `flip()`, then takes the opening. */
export function serveW(runtime: SessionRuntime, server: grpc.Server, options: { flip: () => boolean; trace?: Trace; onCoin?: (coin: Coin) => void }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, CommitW, {
    commit: async ({ message, next }) => {
      trace.got("w", "c", `Commit(${message.commitment.length} bytes)`);
      const mine = options.flip();
      const waiting = await next.commitResponse({ value: mine });
      // Only a Reveal that opens the commitment gets here.
      const opened = await waiting.receive();
      trace.got("w", "c", `Reveal(${opened.message.value})`);
      trace.end("w", opened.next);
      options.onCoin?.(coinOf(opened.message.value, mine));
    },
  });
}
