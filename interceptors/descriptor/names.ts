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

/** The names of the moves of one local state (its transitions, in order). */
export function stateMoveNames(moves: readonly LocalTransitionDescriptor[]): string[] {
  return moves.map(moveName);
}
