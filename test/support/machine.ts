/**
 * Compares local state machines written by hand with compiled projections,
 * up to the naming of states. A hand-written machine is a list of lines
 * `from move to`, where a move is `!peer.Method` (send), `?peer.Method`
 * (receive), with `/request`, `/response` or `/response.case` for calls,
 * plus `final state` lines for the states where the role's part is over.
 * The first line's `from` is the initial state.
 */
import type { ProjectionDescriptor, SessionDescriptor } from "../../interceptors/descriptor/types.js";

/** Renders a projection in the hand-written form, with states numbered canonically. */
export function renderProjection(d: SessionDescriptor, role: string): string[] {
  const p: ProjectionDescriptor = d.projections[role]!;
  const move = (t: ProjectionDescriptor["transitions"][number]) => `${t.direction === "send" ? "!" : "?"}${t.peer}.${t.label.replace(/^[^.]*\./, "")}`;
  const lines = p.transitions.map((t) => ({ from: t.from, to: t.to, move: move(t) }));
  const finals = p.states.filter((s) => s.final).map((s) => s.id);
  return canonical(p.initial, lines, finals);
}

/** Parses and canonicalises a hand-written machine. */
export function machine(text: string[]): string[] {
  const lines: Array<{ from: string; to: string; move: string }> = [];
  const finals: string[] = [];
  for (const l of text) {
    const parts = l.trim().split(/\s+/);
    if (parts[0] === "final") finals.push(parts[1]!);
    else lines.push({ from: parts[0]!, move: parts[1]!, to: parts[2]! });
  }
  return canonical(lines[0]?.from ?? finals[0]!, lines, finals);
}

function canonical<S>(initial: S, lines: ReadonlyArray<{ from: S; to: S; move: string }>, finals: readonly S[]): string[] {
  const ids = new Map<S, number>([[initial, 0]]);
  const queue = [initial];
  while (queue.length > 0) {
    const s = queue.shift()!;
    for (const l of lines.filter((x) => x.from === s).sort((a, b) => a.move.localeCompare(b.move))) {
      if (!ids.has(l.to)) {
        ids.set(l.to, ids.size);
        queue.push(l.to);
      }
    }
  }
  const name = (s: S) => `s${ids.get(s) ?? "?"}`;
  const out = lines.map((l) => `${name(l.from)} ${l.move} ${name(l.to)}`).sort();
  return [...out, ...finals.map((f) => `final ${name(f)}`).sort()];
}
