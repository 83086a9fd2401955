/**
 * A role definition: what generated code exports for each role of a session
 * (`<Session><Role>`), binding the descriptor, the role name and the file of
 * its message types to the role's machine type and bindings type.
 */
import type { DescFile } from "@bufbuild/protobuf";
import type { SessionDescriptor } from "../descriptor/types.js";
import type { Machine } from "./types.js";

/**
 * What `start` takes for a role defined without a bindings type (a role
 * definition built at run time): principals by role name, checked at run time
 * only.
 */
export type AnyBindings = Readonly<Record<string, string>>;

/**
 * One role of one session, with its machine type `M` and the bindings `B`
 * that `SessionRuntime.start` takes for it: generated code gives, for the role
 * that starts the session, every static role (required) and its own
 * (optional: the runtime fills in its identity), and `never` for a role that
 * does not start the session.
 */
export interface RoleDefinition<M extends Machine = Machine, B = AnyBindings> {
  readonly descriptor: SessionDescriptor;
  readonly role: string;
  /** The protoc-gen-es file of the session's messages (its dependencies are followed). */
  readonly file: DescFile;
  /** Type-level only. */
  readonly machine?: M;
  /** Type-level only. */
  readonly bindings?: B;
}

/** Defines a role (called by generated code). */
export function defineRole<M extends Machine, B = AnyBindings>(descriptor: SessionDescriptor, role: string, file: DescFile): RoleDefinition<M, B> {
  if (!descriptor.roles.some((r) => r.name === role)) throw new Error(`secsession: session ${descriptor.name} has no role ${role}`);
  return { descriptor, role, file };
}
