/**
 * Scenarios of framing, time and storage: several envelopes on one call of a
 * one-shot rpc, the replay of a start whose initiator's clock runs ahead of
 * its receiver's, and a replay into a store rolled back under its party.
 */
import { grpcStatus, stateBefore, type Scenario } from "./kit.js";
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
  {
    id: "rollback-replay",
    title: "roll a party's store back (a restored backup) and replay a message it had accepted",
    attacker: "network",
    explanation:
      "The receiver's store keeps high-water marks (withHighWater, as Redis with highWater: true does). Once the session is over, its state at the receiver is put back to what it was before a message it accepted — a backup restored, an older sealed state written back — and the network replays that message: to the rolled-back state it is new.",
    defence: "high-water marks checked on every load and commit: a state older than its session's mark is refused, fail closed (check 17)",
    plan(p) {
      const seen = new Set<string>();
      let hop: Hop | undefined;
      for (const h of p.hops.filter((x) => x.session === 0)) {
        if (hop === undefined && seen.has(h.to) && protectedCall(h) && h.edge.kind !== "response") hop = h;
        seen.add(h.from).add(h.to);
      }
      if (hop === undefined) return { na: "no protected request or one-way message to a party that already holds the session" };
      const target = hop;
      return {
        target: label(target, p.hops),
        expect: { kind: "store-unavailable", status: grpcStatus.UNAVAILABLE },
        after: "completes",
        interceptor: (a) => {
          a.rig.peers[target.to]!.store.setMarks(true);
          return {};
        },
        async atEnd(a) {
          const victim = a.rig.peers[target.to]!;
          try {
            const held = a.hops.find((h) => h.index === target.index && h.session === 0);
            if (held === undefined) return;
            const before = stateBefore(a.rig, held.to, held.edge.receiver, held.sid, held.env.step);
            await victim.store.rollBack(a.rig.key(held.edge.receiver, held.sid), before);
            await a.inject(held.to, held.path, held.bytes, "the accepted message, replayed into the rolled-back store");
          } finally {
            victim.store.setMarks(false);
          }
        },
      };
    },
  },
];
