/**
 * Network scenarios in time: replays (within a session, from older sessions,
 * of session starts), reordering across loop iterations, delays, drops and
 * resends, and responses swapped between concurrent sessions.
 */
import { aborted, denied, protectedCall, startHop, unauthenticated } from "./network-kit.js";
import { at, authenticated, cryptoRefusal, firstHop, grpcStatus, label, noLoop, type Plan, type Scenario } from "./kit.js";
import { rewrite } from "./mitm.js";
import type { Hop } from "./rig.js";

export const REPLAY_SCENARIOS: readonly Scenario[] = [
  {
    id: "replay-old-iteration",
    title: "replay a message of an earlier loop iteration into a later one (seed: old Offer)",
    attacker: "network",
    explanation:
      "When the loop comes round again, the network delivers the message of the previous iteration, as the s2ml paper replays w's first Offer when the second is due. Its step is one the receiver has already passed.",
    defence: "step counter (replay prevention, check 6)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => protectedCall(h) && p.hops.some((g) => g.session === 0 && g.index < h.index && g.edge.id === h.edge.id));
      if (hop === undefined) return noLoop(p.rig.spec.descriptor);
      return {
        target: label(hop, p.hops),
        expect: aborted("replay"),
        after: "completes",
        interceptor: (a) =>
          at(hop.index, {
            call: async (h) => {
              const old = a.hops.find((g) => g.session === 0 && g.index < h.index && g.edge.id === h.edge.id)!;
              await a.inject(h.to, old.path, old.bytes, `${label(old, a.hops)} delivered again in place of ${label(h, a.hops)}`);
            },
          }),
      };
    },
  },
  {
    id: "reorder-iterations",
    title: "deliver a later iteration's message during an earlier iteration",
    attacker: "network",
    explanation:
      "The network recorded an earlier run of the same session type; when the first iteration's message is due, it delivers the second iteration's message (moved into this session), reordering the loop. Its step runs ahead of the receiver's.",
    defence: "step counter (steps continue exactly, check 6), then the path (check 10)",
    plan(p) {
      // The receiver of the earlier message must already be in the session (a start would make it join instead).
      const hop = firstHop(p.hops, (h) => protectedCall(h) && h.env.start === undefined && p.hops.some((g) => g.session === 0 && g.index > h.index && g.edge.id === h.edge.id));
      if (hop === undefined) return noLoop(p.rig.spec.descriptor);
      const later = p.hops.find((g) => g.session === 0 && g.index > hop.index && g.edge.id === hop.edge.id)!;
      return {
        target: label(hop, p.hops),
        expect: denied("out-of-order"),
        after: "completes",
        prior: 1,
        interceptor: (a) =>
          at(hop.index, {
            call: async (h) => {
              const old = a.prior[0]!.find((g) => g.index === later.index)!;
              await a.inject(h.to, old.path, rewrite(old.bytes, (e) => (e.sessionId = h.env.sessionId)), `${label(later, p.hops)} of an earlier session, delivered when ${label(h, a.hops)} is due`);
            },
          }),
      };
    },
  },
  {
    id: "duplicate",
    title: "deliver a message twice",
    attacker: "network",
    explanation: "Once a message has been accepted, the network delivers another copy of it (before the next message, or after the session ended).",
    defence: "step counter (replay prevention, check 6); a finished session keeps a tombstone for the replay window",
    plan(p) {
      const hop = firstHop(p.hops, (h) => protectedCall(h) && h.index > 0) ?? firstHop(p.hops, protectedCall);
      if (hop === undefined) return { na: "no message is protected against replays" };
      const next = p.hops.find((g) => g.session === 0 && g.index === hop.index + 1);
      const dup = async (a: Parameters<Plan["interceptor"]>[0]) => {
        const sent = a.hops.find((g) => g.session === 0 && g.index === hop.index)!;
        await a.inject(sent.to, sent.path, sent.bytes, `${label(sent, a.hops)} delivered a second time`);
      };
      if (next === undefined) return { target: label(hop, p.hops), expect: aborted("replay"), after: "completes", interceptor: () => ({}), atEnd: dup };
      return {
        target: label(hop, p.hops),
        expect: aborted("replay"),
        after: "completes",
        interceptor: (a) => at(next.index, { call: () => dup(a), response: async (h) => (await dup(a), h.bytes) }),
      };
    },
  },
  {
    id: "replay-old-session",
    title: "replay a message of an older session",
    attacker: "network",
    explanation: "The network delivers, during a new session, a message it recorded in an earlier, finished session of the same parties, unchanged.",
    defence: "step counter against the finished session's tombstone (check 6)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => protectedCall(h) && h.index > 0) ?? firstHop(p.hops, protectedCall);
      if (hop === undefined) return { na: "no message is protected against replays" };
      return {
        target: label(hop, p.hops),
        expect: aborted("replay"),
        after: "completes",
        prior: 1,
        interceptor: (a) =>
          at(hop.index, {
            call: async (h) => {
              const old = a.prior[0]!.find((g) => g.index === h.index)!;
              await a.inject(h.to, old.path, old.bytes, `${label(old)} of the earlier session`);
            },
          }),
      };
    },
  },
  {
    id: "splice-old-session",
    title: "move a message of an older session into the current one",
    attacker: "network",
    explanation:
      "The network takes the message at the same position of an earlier session and rewrites its session id to the current session's: step, path and history all fit, only the cryptography ties it to its own session.",
    defence: "key updates bound to the session id, MACs over a transcript that starts from it (checks 9)",
    plan(p) {
      // A message that carries no session start: a start's session id is the hash of its start, which the splice breaks.
      const hop = firstHop(p.hops, (h) => protectedCall(h) && h.env.start === undefined);
      if (hop === undefined) return { na: "every protected message carries a session start" };
      return {
        target: label(hop, p.hops),
        expect: unauthenticated(),
        after: "completes",
        prior: 1,
        interceptor: (a) =>
          at(hop.index, {
            call: async (h) => {
              const old = a.prior[0]!.find((g) => g.index === h.index)!;
              const st = a.rig.state(h.to, h.edge.receiver, h.sid);
              await a.inject(h.to, old.path, rewrite(old.bytes, (e) => (e.sessionId = h.env.sessionId)), `${label(old)} of the earlier session, moved into this one`, cryptoRefusal(old.env, h.to, st));
            },
          }),
      };
    },
  },
  {
    id: "replay-start",
    title: "replay the start of an older session",
    attacker: "network",
    explanation: "The network delivers again the first message of an earlier session (its session start) while the receiver still remembers that session.",
    defence: "step counter against the finished session's tombstone (check 6)",
    plan(p) {
      const hop = startHop(p);
      if (hop === undefined) return { na: "the session starts with no message" };
      return {
        target: label(hop, p.hops),
        expect: aborted("replay"),
        after: "completes",
        prior: 1,
        interceptor: (a) => at(0, { call: async (h) => void (await a.inject(h.to, a.prior[0]![0]!.path, a.prior[0]![0]!.bytes, "the start of the earlier session")) }),
      };
    },
  },
  {
    id: "replay-start-forgotten",
    title: "replay the start of an older session the receiver has forgotten",
    attacker: "network",
    explanation:
      "As replay-start, once the receiver dropped the finished session's tombstone (as it does after the replay window; here the tombstone is deleted): the start would make it join the old session afresh.",
    defence: "anti-replay cache of session starts (check 19)",
    plan(p) {
      const hop = startHop(p);
      if (hop === undefined) return { na: "the session starts with no message" };
      return {
        target: label(hop, p.hops),
        expect: aborted("replayed-start"),
        after: "completes",
        prior: 1,
        interceptor: (a) =>
          at(0, {
            call: async (h) => {
              const old = a.prior[0]![0]!;
              await a.rig.peers[h.to]!.store.delete(a.rig.key(h.edge.receiver, old.sid));
              await a.inject(h.to, old.path, old.bytes, "the start of the earlier session, forgotten by its receiver");
            },
          }),
      };
    },
  },
  {
    id: "delay-start",
    title: "delay a session start beyond the replay window",
    attacker: "network",
    explanation:
      "The network holds the first message of a session until the receiver's clock is past the session's replay window (the receiver's clock is moved forward), then delivers it. The initiator's call fails; a new session goes through.",
    defence: "time window of session starts (check 5)",
    plan(p) {
      const hop = startHop(p);
      if (hop === undefined) return { na: "the session starts with no message" };
      const late = p.rig.spec.descriptor.replayWindowMs + 60_000;
      return {
        target: label(hop, p.hops),
        expect: aborted("stale-start"),
        after: "fresh",
        interceptor: (a) =>
          at(0, {
            call: async (h) => {
              a.rig.skew(h.to, late);
              return a.inject(h.to, h.path, h.bytes, `the start, delivered ${late / 1000} s late`);
            },
          }),
      };
    },
  },
  {
    id: "drop-resend",
    title: "drop a message, then resend it later",
    attacker: "network",
    explanation:
      "The network drops a session's first message (the initiator's call fails as unavailable) and resends it once the initiator has given up and the replay window has passed.",
    defence: "time window of session starts (check 5)",
    plan(p) {
      const hop = startHop(p);
      if (hop === undefined) return { na: "the session starts with no message" };
      let dropped: Hop | undefined;
      return {
        target: label(hop, p.hops),
        expect: aborted("stale-start"),
        after: "fresh",
        interceptor: () =>
          at(0, {
            call: async (h) => {
              dropped = h;
              return { ok: false, code: grpcStatus.UNAVAILABLE, details: "dropped by the network" };
            },
          }),
        async atEnd(a) {
          if (dropped === undefined) return;
          a.rig.skew(dropped.to, a.rig.spec.descriptor.replayWindowMs + 60_000);
          await a.inject(dropped.to, dropped.path, dropped.bytes, "the dropped start, resent after the window");
        },
      };
    },
  },
  {
    id: "swap-responses",
    title: "swap the responses of two concurrent sessions",
    attacker: "network",
    explanation:
      "The same parties run two sessions of the same type at once; when a party waits in both for the response to the same request, the network hands each call the other session's response. Each response is genuine and valid in its own session.",
    defence: "a response belongs to the session of its call (client interceptor)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => h.edge.kind === "response" && authenticated(h.edge));
      if (hop === undefined) return { na: "no request-response interaction" };
      return {
        target: label(hop, p.hops),
        expect: denied("not-addressed"),
        after: "fresh",
        concurrent: 2,
        interceptor(a) {
          const waiting: Array<{ hop: Hop; give: (b: Uint8Array) => void }> = [];
          return {
            onResponse(h) {
              if (h.index !== hop.index || h.session > 1) return Promise.resolve(h.bytes);
              return new Promise<Uint8Array>((give) => {
                waiting.push({ hop: h, give });
                // Should the other session never get there, the genuine response goes on (and the attack never ran).
                if (waiting.length < 2) return void setTimeout(() => waiting.length < 2 && give(h.bytes), 3_000).unref();
                const [x, y] = waiting as [(typeof waiting)[0], (typeof waiting)[0]];
                x.give(a.substitute(x.hop, y.hop.bytes, "the other session's response"));
                void a.settled().then(() => y.give(a.substitute(y.hop, x.hop.bytes, "the other session's response")));
              });
            },
          };
        },
      };
    },
  },
];
