/**
 * The sessions the offline verifier knows: each a descriptor with the
 * protoc-gen-es file of its message types, indexed by session code. The
 * message types are needed because payloads are checked the way the runtime
 * checks them (decoded, then their values: docs/evidence.md).
 */
import { createRegistry, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { verifySessionCode } from "../descriptor/code.js";
import type { SessionDescriptor } from "../descriptor/types.js";
import type { SchemaLookup } from "../runtime/values.js";

/**
 * A session as the verifier takes it: its descriptor and the file of its
 * messages (the file's imports are followed). A generated role definition,
 * such as `ConfPc`, is one.
 */
export interface VerifiableSession {
  readonly descriptor: SessionDescriptor;
  readonly file: DescFile;
}

/** A session of the input, ready for checking. */
export interface KnownSession {
  readonly descriptor: SessionDescriptor;
  /** The descriptor's content matches its code (checked once, not per session of the log). */
  readonly intact: boolean;
  readonly schemas: SchemaLookup;
}

/** True for one VerifiableSession (rather than a collection of them). */
export function isVerifiableSession(x: unknown): x is VerifiableSession {
  return typeof x === "object" && x !== null && "descriptor" in x && "file" in x;
}

/**
 * Indexes the sessions given by session code. Throws a TypeError (a misuse,
 * not a fault of the log) for anything else, such as a bare descriptor.
 */
export function indexSessions(input: VerifiableSession | Iterable<VerifiableSession>): Map<string, KnownSession[]> {
  const byCode = new Map<string, KnownSession[]>();
  for (const s of isVerifiableSession(input) ? [input] : input) {
    if (!isVerifiableSession(s)) {
      const name = typeof (s as Partial<SessionDescriptor>).name === "string" ? ` (${(s as SessionDescriptor).name})` : "";
      throw new TypeError(
        `secsession: verifyEvidence takes each session with its message types — a generated role definition such as ConfPc, or { descriptor, file } — not a descriptor alone${name}: payloads are checked as the runtime checks them`,
      );
    }
    const known: KnownSession = { descriptor: s.descriptor, intact: verifySessionCode(s.descriptor), schemas: schemaLookup(s.file) };
    const list = byCode.get(s.descriptor.code);
    if (list === undefined) byCode.set(s.descriptor.code, [known]);
    else list.push(known);
  }
  return byCode;
}

/** The message types of `file` and of every file it imports, as the runtime's Party sees them. */
function schemaLookup(file: DescFile): SchemaLookup {
  const files = new Map<string, DescFile>();
  const stack = [file];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (files.has(f.proto.name)) continue;
    files.set(f.proto.name, f);
    stack.push(...f.dependencies);
  }
  const registry = createRegistry(...files.values());
  return (typeName: string): DescMessage | undefined => registry.getMessage(typeName);
}
