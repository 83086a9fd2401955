/**
 * Resuming an imported session in a SessionRuntime: the role's local state is
 * computed from the global state the imported SessionState records, and the
 * runtime is asked to make the state object of that local state, registered
 * so that the session's next incoming messages reach its `receive()`.
 *
 * The runtime part needs `SessionRuntime.resume(def, sessionKey, localState)`
 * (docs/save-restore.md, "Resuming in a runtime"): a runtime keeps its live
 * sessions privately, so no function outside it can register one. Until that
 * method exists, resumeSession throws a clear error, and a process can go on
 * with the transport-agnostic Party API (wrap/unwrap), which needs nothing
 * beyond the imported state in the store.
 */
import type { SessionDescriptor } from "../descriptor/types.js";
import type { RoleDefinition } from "../api/role.js";
import type { SessionRuntime } from "../api/session-runtime.js";
import type { Machine, RoleState } from "../api/types.js";

/** The state object of any local state of machine M (narrow on `localState`, or on `final`). */
export type AnyRoleState<M extends Machine> = { [S in keyof M]: RoleState<M, S> }[keyof M];

/** What resumeSession needs from a runtime. */
export interface ResumableRuntime {
  resume(def: RoleDefinition, sessionKey: string, localState: number): Promise<object>;
}

/**
 * The local state of `role` when the session is at `globalState` as far as
 * that role knows: the unique local state whose `globals` contain it.
 */
export function localStateOf(descriptor: SessionDescriptor, role: string, globalState: number): number {
  const projection = descriptor.projections[role];
  if (projection === undefined) throw new Error(`secsession: session ${descriptor.name} has no role ${role}`);
  const matches = projection.states.filter((s) => s.globals.includes(globalState));
  if (matches.length !== 1) {
    throw new Error(`secsession: global state ${globalState} of ${descriptor.name} is in ${matches.length} local states of role ${role}, not exactly one: cannot resume there`);
  }
  return matches[0]!.id;
}

/**
 * Continues, in `runtime`, the session `sessionKey` whose state is in the
 * runtime's store (importSession put it there) but which this process has not
 * played: returns the state object of the role's current local state. Call it
 * before the session's next message can arrive.
 */
export async function resumeSession<M extends Machine>(runtime: SessionRuntime, def: RoleDefinition<M>, sessionKey: string): Promise<AnyRoleState<M>> {
  const party = runtime.party(def);
  const st = await party.state(sessionKey);
  if (st === undefined) throw new Error(`secsession: no session ${sessionKey} of role ${def.role} in this runtime's store: import it first`);
  const local = localStateOf(def.descriptor, def.role, st.state);
  const r = runtime as unknown as Partial<ResumableRuntime>;
  if (typeof r.resume !== "function") {
    throw new Error(
      "secsession: resumeSession needs SessionRuntime.resume(def, sessionKey, localState), which this build lacks (docs/save-restore.md, " +
        '"Resuming in a runtime"); meanwhile continue the imported session with Party.wrap/unwrap',
    );
  }
  return (await r.resume.call(runtime, def as RoleDefinition, sessionKey, local)) as AnyRoleState<M>;
}
