/**
 * `secsession evidence verify <log> --keyring FILE --descriptor MODULE[#Name]`:
 * the offline verifier of an evidence log (docs/evidence.md).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isVerifiableSession, type VerifiableSession } from "../../interceptors/evidence/sessions.js";
import { verifyEvidence } from "../../interceptors/evidence/verify.js";
import { keyringResolver, type KeyResolver } from "../../interceptors/keys/identity.js";
import { EXIT, parse, UsageError, type Command, type Io } from "../command.js";
import { loadDescriptors } from "../descriptor-module.js";

export const evidenceVerify: Command = {
  kind: "command",
  summary: "verify an evidence log offline, with public keys and session descriptors only",
  usage: "secsession evidence verify <log> --keyring FILE --descriptor MODULE[#ExportName] [--direct-signatures] [--expect-head HEX] [--progress]",
  help: `Usage: secsession evidence verify <log> --keyring FILE --descriptor MODULE[#ExportName] [options]

Checks an evidence log written by createFileEvidenceLog (interceptors/evidence):
the hash chain of its records; for every session in it, that the session id is
the hash of its start, that its messages are steps 1..n with no gap and agree
wherever they are recorded, that they follow the session's global graph with
the bindings of its edges, that every recorded signature verifies over the
recomputed transcript with the signer's public key, that every message of an
edge with non-repudiation is covered by its sender's signature, that each
recorded payload hashes to its message's payload hash, and that every payload
the log has in the clear decodes and passes the runtime's value checks
(response case, bound fields, where, opens). See docs/evidence.md.

Options:
  --keyring FILE              public keys of the principals ({ "peers": { … } }, as keygen writes)
  --descriptor MODULE[#Name]  a generated *_secsession.ts file: every SessionDescriptor it exports,
                              or only the export Name, with the message types of its role
                              definitions; repeat for sessions of several files
  --direct-signatures         require each such message to be signed at its own step (by default a
                              signature of the sender over a later transcript hash covers it too)
  --expect-head HEX           the chain head (SHA-256 of the last line) recorded elsewhere: fails if
                              the log does not end there (detects records removed from the end)
  --progress                  report on stderr as records are checked (a line per tenth of the log)
  -h, --help                  this help

Output: on success, a summary on stdout; on failure, the line at fault and why on stderr.
Exit codes: 0 the log verifies, 1 it does not, 2 usage error or an input that cannot be read.`,
  async run(args: readonly string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      args,
      {
        keyring: { type: "string" },
        descriptor: { type: "string", multiple: true },
        "direct-signatures": { type: "boolean", default: false },
        "expect-head": { type: "string" },
        progress: { type: "boolean", default: false },
      },
      { min: 1, max: 1, names: "<log>" },
    );
    if (values.keyring === undefined) throw new UsageError("missing --keyring FILE: the public keys of the principals (secsession keygen --keyring writes one)");
    if (values.descriptor === undefined || values.descriptor.length === 0) throw new UsageError("missing --descriptor MODULE[#ExportName]: the generated *_secsession.ts file of the session");
    const expectHead = values["expect-head"];
    if (expectHead !== undefined && !/^[0-9a-f]{64}$/.test(expectHead)) throw new UsageError("--expect-head must be 64 lowercase hex digits");
    const logPath = resolve(io.cwd, positionals[0]!);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(logPath);
    } catch (e: unknown) {
      throw new UsageError(`cannot read the log ${logPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
    let resolver: KeyResolver;
    const keyringPath = resolve(io.cwd, values.keyring);
    try {
      resolver = keyringResolver(keyringPath);
    } catch (e: unknown) {
      const why = e instanceof Error ? e.message.replace(/^secsession: /, "") : String(e);
      throw new UsageError(`cannot use the keyring ${keyringPath}: ${why}`);
    }
    const sessions: VerifiableSession[] = [];
    for (const spec of values.descriptor) for (const s of await sessionsOf(spec, io.cwd)) if (!sessions.some((x) => x.descriptor === s.descriptor)) sessions.push(s);

    let shown = 0;
    const progress = (done: number, total: number): void => {
      // A line per tenth of the log, and the last one.
      if (total === 0 || (done < total && done * 10 < (shown + 1) * total)) return;
      shown = Math.floor((done * 10) / total);
      io.err(`  ${done} of ${total} records checked\n`);
    };
    const r = verifyEvidence(bytes, sessions, resolver, {
      nonRepudiation: values["direct-signatures"] === true ? "direct" : "transcript",
      ...(values.progress === true ? { onProgress: progress } : {}),
    });
    if (!r.ok) {
      io.err(`${logPath}: verification FAILED\n  ${r.line > 0 ? `line ${r.line}: ` : ""}${r.reason}\n`);
      return EXIT.failed;
    }
    if (expectHead !== undefined && r.head !== expectHead) {
      io.err(`${logPath}: verification FAILED\n  the log ends at head ${r.head} (line ${r.records}), not at the expected ${expectHead}: records were removed from its end, or it is another log\n`);
      return EXIT.failed;
    }
    const lines = [
      `${logPath}: OK, verified: ${r.sessions} session(s), ${r.messages} messages, ${r.signatures} signatures checked`,
      `  ${r.records} records, hash chain intact, head ${r.head}`,
    ];
    for (const s of r.details) {
      lines.push(
        `  session ${s.sessionId.slice(0, 16)}… ${s.name}: ${s.messages} messages, ${s.signatures} signatures, ${s.nonRepudiable} non-repudiable; ` +
          `${s.finished ? "finished" : "in progress as far as this log knows"} (global state ${s.state}); ` +
          Object.entries(s.principals)
            .map(([role, p]) => `${role}=${p}`)
            .join(" "),
      );
      if (s.valuesUnchecked > 0) {
        lines.push(`    (${s.valuesUnchecked} message(s) with value checks — response case, bound field, where, opens — this log cannot check in full: a payload it needs is encrypted, or known here only by its hash)`);
      }
      if (s.signatures === 0 && s.messages > 0) {
        lines.push("    (no signatures: this session's messages are authenticated with MACs only; the log records them, but proves nothing to a third party)");
      }
    }
    io.out(`${lines.join("\n")}\n`);
    return EXIT.ok;
  },
};

/**
 * The descriptors `spec` names, each with the file of its message types,
 * taken from a role definition the same module exports (generated code
 * exports one per role): payloads are checked as the runtime checks them.
 */
async function sessionsOf(spec: string, cwd: string): Promise<VerifiableSession[]> {
  const descriptors = await loadDescriptors(spec, cwd);
  const hash = spec.lastIndexOf("#");
  const path = resolve(cwd, hash < 0 ? spec : spec.slice(0, hash));
  // Already loaded by loadDescriptors: the same module instance.
  const exported = Object.values((await import(pathToFileURL(path).href)) as Record<string, unknown>);
  return descriptors.map((d) => {
    const def = exported.find((v): v is VerifiableSession => isVerifiableSession(v) && v.descriptor === d);
    if (def === undefined) throw new UsageError(`--descriptor: ${path} exports ${d.name}'s descriptor but no role definition of it (defineRole): the verifier needs the session's message types`);
    return { descriptor: d, file: def.file };
  });
}
