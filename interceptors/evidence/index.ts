/**
 * Evidence: a hash-chained JSON Lines log of every message a runtime sends or
 * accepts (an EvidenceSink), its reader, and the offline verifier
 * (docs/evidence.md).
 *
 * @example
 * const evidence = createFileEvidenceLog("/var/lib/app/evidence.jsonl");
 * const runtime = createSessionRuntime({ identity, resolver, evidence });
 * // later, anywhere, with public keys only:
 * const r = verifyEvidence(readFileSync(path), [ConfSession], keyringResolver("keyring.json"));
 */
export { createFileEvidenceLog } from "./file-log.js";
export type { FileEvidenceLog, FileEvidenceLogOptions } from "./file-log.js";
export { readEvidenceLog, EvidenceLogError } from "./read.js";
export type { EvidenceLog, EvidenceLogLine, ReadOptions } from "./read.js";
export { encodeRecord, decodeRecord, lineHash, GENESIS_PREV } from "./format.js";
export type { EvidenceRecord } from "./format.js";
export { verifyEvidence } from "./verify.js";
export type { EvidenceVerification, SessionSummary, VerifiableSession, VerifyOptions } from "./verify.js";
