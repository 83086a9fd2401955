/**
 * Scenarios of framing and time: several envelopes on one call of a
 * one-shot rpc, and the replay of a start whose initiator's clock runs
 * ahead of its receiver's.
 */
import type { Scenario } from "./kit.js";
import { at, label } from "./kit.js";
import { aborted, invalid, protectedCall, startHop } from "./network-kit.js";
import { firstHop } from "./kit.js";
import type { Hop } from "./rig.js";

/** How far the initiator's clock runs ahead of the receiver's (within the default allowed skew of 30 s). */
const AHEAD_MS = 25_000;

export const FRAMING_SCENARIOS: readonly Scenario[] = [
  {
    id: "framing",
    title: "send two envelopes on one call of a one-shot rpc",
    attacker: "network",
    explanation:
      "The network sends the genuine envelope twice on one call (a client stream on a unary or one-way rpc), then the genuine call. Opened as they arrived, the first copy would be committed on a call that grpc-js then fails, and the genuine call refused as its replay: the message lost.",
    defence: "one message per call: the server interceptor reads the call's whole input before opening anything, and refuses a second message without opening either",
    plan(p) {
      const hop = firstHop(p.hops, (h) => protectedCall(h) && h.edge.kind !== "response");
      if (hop === undefined) return { na: "no protected request or one-way message" };
      return {
        target: label(hop, p.hops),
        expect: invalid("malformed"),
        after: "completes",
        interceptor: (a) =>
          at(hop.index, {
            call: async (h) => void (await a.injectFramed(h.to, h.path, [h.bytes, h.bytes], "the genuine envelope twice on one call")),
          }),
      };
    },
  },
  {
    id: "replay-skewed-start",
    title: "replay a start from an initiator whose clock runs ahead, late in the receiver's window",
    attacker: "network",
    explanation: `The initiator's clock runs ${AHEAD_MS / 1000} s ahead of the receiver's (within the allowed skew). Once the session is over and the receiver dropped its tombstone, the network replays the start when the receiver's clock is 10 s short of a replay window past the start's own time: the start is still inside its window there. Remembered for one window of the receiver's clock from when it accepted it, it would be forgotten by then.`,
    defence: "the anti-replay cache keeps a start until the window has passed the start's own time plus the allowed skew (check 19)",
    plan(p) {
      const hop = startHop(p);
      if (hop === undefined) return { na: "the session starts with no message" };
      const window = p.rig.spec.descriptor.replayWindowMs;
      let start: Hop | undefined;
      return {
        target: label(hop, p.hops),
        expect: aborted("replayed-start"),
        after: "completes",
        interceptor: (a) =>
          at(0, {
            call: async (h) => {
              start = h;
              a.rig.skew(h.to, -AHEAD_MS); // the receiver's clock behind: the initiator's ahead
            },
          }),
        async atEnd(a) {
          if (start === undefined) return;
          await a.rig.peers[start.to]!.store.delete(a.rig.key(start.edge.receiver, start.sid));
          a.rig.skew(start.to, window - 10_000);
          await a.inject(start.to, start.path, start.bytes, `the start, replayed ${(window - 10_000) / 1000} s after it was sent`);
        },
      };
    },
  },
];
