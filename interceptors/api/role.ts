/**
 * A role definition: what generated code exports for each role of a session
 * (`<Session><Role>`), binding the descriptor, the role name and the file of
 * its message types to the role's machine type.
 */
import type { DescFile } from "@bufbuild/protobuf";
import type { SessionDescriptor } from "../descriptor/types.js";
import type { Machine } from "./types.js";

/** One role of one session, with its machine type `M`. */
export interface RoleDefinition<M extends Machine = Machine> {
  readonly descriptor: SessionDescriptor;
  readonly role: string;
  /** The protoc-gen-es file of the session's messages (its dependencies are followed). */
  readonly file: DescFile;
  /** Type-level only. */
  readonly machine?: M;
}

/** Defines a role (called by generated code). */
export function defineRole<M extends Machine>(descriptor: SessionDescriptor, role: string, file: DescFile): RoleDefinition<M> {
  if (!descriptor.roles.some((r) => r.name === role)) throw new Error(`secsession: session ${descriptor.name} has no role ${role}`);
  return { descriptor, role, file };
}
