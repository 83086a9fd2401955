/**
 * Names shared by generated code and the runtime: the move names of the
 * typed role API.
 */
import type { LocalTransitionDescriptor } from "./types.js";

/** `place_order` or `PlaceOrder` -> `placeOrder`. */
export function lowerCamel(s: string): string {
  const p = upperCamel(s);
  return p.charAt(0).toLowerCase() + p.slice(1);
}

/** `place_order` or `placeOrder` -> `PlaceOrder`. */
export function upperCamel(s: string): string {
  return s
    .split(/[_\s]+/)
    .filter((x) => x.length > 0)
    .map((x) => x.charAt(0).toUpperCase() + x.slice(1))
    .join("");
}

/**
 * The name of a move in a role's local state: the method in lower camel case,
 * with `Response` for a response, or the oneof case for a response branch.
 */
export function moveName(t: LocalTransitionDescriptor): string {
  const [rpc, part] = t.label.split("/");
  const method = lowerCamel(rpc!.split(".").pop()!);
  if (part === undefined || part === "request") return method;
  if (part === "response") return `${method}Response`;
  return `${method}${upperCamel(part.slice("response.".length))}`;
}

/** Keys of a state object that are not moves. */
const RESERVED = new Set(["receive", "final", "sessionId", "localState"]);

/**
 * The names of the moves of one local state (its transitions, in order), distinct by this rule:
 * each move is named by `moveName`; while two moves share a name (or a move's name is a key the
 * state object already has: receive, final, sessionId, localState), each of them is qualified
 * once more: first by its peer (`pingToA` for a send to a, `pingFromA` for a receive), then by
 * the service of its rpc (`bPingToA` for B.Ping), then by its kind (`bPingToARequest` for the
 * request of a call, `bPingToAOneWay` for a one-way message, `bDecideFromAYesCase` for a case of a
 * response). The peer, direction and label of a move are unique in a deterministic local state,
 * so the names end up distinct.
 */
export function stateMoveNames(moves: readonly LocalTransitionDescriptor[]): string[] {
  const level = moves.map(() => 0);
  const name = (t: LocalTransitionDescriptor, l: number): string => {
    let n = moveName(t);
    if (l >= 1) n += `${t.direction === "send" ? "To" : "From"}${upperCamel(t.peer)}`;
    if (l >= 2) n = lowerCamel(t.label.split(".")[0]!) + n.charAt(0).toUpperCase() + n.slice(1);
    if (l >= 3) {
      const part = t.label.split("/")[1];
      n += part === undefined ? "OneWay" : part === "request" ? "Request" : part === "response" ? "" : "Case";
    }
    return n;
  };
  for (;;) {
    const names = moves.map((t, i) => name(t, level[i]!));
    const count = new Map<string, number>();
    for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
    let changed = false;
    names.forEach((n, i) => {
      if ((count.get(n)! > 1 || RESERVED.has(n)) && level[i]! < 3) {
        level[i] = level[i]! + 1;
        changed = true;
      }
    });
    if (!changed) return names;
  }
}

const namesOf = new WeakMap<object, Map<LocalTransitionDescriptor, string>>();

/** The name of transition `t` among the moves of its local state in `p` (computed once per projection). */
export function moveNameIn(p: { readonly transitions: readonly LocalTransitionDescriptor[] }, t: LocalTransitionDescriptor): string {
  let names = namesOf.get(p);
  if (names === undefined) {
    names = new Map();
    const byState = new Map<number, LocalTransitionDescriptor[]>();
    for (const x of p.transitions) {
      const moves = byState.get(x.from);
      if (moves === undefined) byState.set(x.from, [x]);
      else moves.push(x);
    }
    for (const moves of byState.values()) stateMoveNames(moves).forEach((n, i) => names!.set(moves[i]!, n));
    namesOf.set(p, names);
  }
  const n = names.get(t);
  if (n !== undefined) return n;
  // A transition object not of `p` (a copy): named the slow way.
  const moves = p.transitions.filter((x) => x.from === t.from);
  return stateMoveNames(moves)[moves.indexOf(t)]!;
}
