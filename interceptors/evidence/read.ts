/**
 * Reading an evidence log: splits it into lines, decodes each record and
 * (by default) checks the hash chain. Any fault is an EvidenceLogError that
 * names the line: "evidence log line 7: prev does not match line 6".
 */
import { decodeRecord, encodeRecord, GENESIS_PREV, lineHash, RecordFormatError, type EvidenceRecord } from "./format.js";

/** A record with where it was found. */
export interface EvidenceLogLine {
  /** 1-based line number. */
  readonly line: number;
  /** The line's exact bytes, without its newline (the next record's `prev` hashes them). */
  readonly bytes: Uint8Array;
  readonly record: EvidenceRecord;
}

/** A decoded evidence log. */
export interface EvidenceLog {
  readonly lines: readonly EvidenceLogLine[];
  /** Hex SHA-256 of the last line (the chain head), 64 zeros for an empty log. Anchor it elsewhere to detect truncation. */
  readonly head: string;
  /** Whether the hash chain was checked while reading. */
  readonly chainChecked: boolean;
  /** `seq` of the first record: 1 (this writer), or 0 (logs numbered from 0 are read too). */
  readonly firstSeq: 0 | 1;
}

/** The `seq` origin of a log whose first record has `seq`, or undefined if it is neither 0 nor 1. */
export function seqOrigin(seq: number): 0 | 1 | undefined {
  return seq === 0 || seq === 1 ? seq : undefined;
}

/** A fault in an evidence log, at a line (0: the log as a whole). */
export class EvidenceLogError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `evidence log line ${line}: ${reason}` : `evidence log: ${reason}`);
    this.name = "EvidenceLogError";
  }
}

export interface ReadOptions {
  /** Check `seq` and the `prev` chain (default true). Off, a broken chain can still be read for inspection. */
  readonly checkChain?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads an evidence log from its bytes (or text). Throws EvidenceLogError,
 * naming the line, for anything that is not a well-formed, correctly chained
 * log; never throws anything else.
 */
export function readEvidenceLog(input: Uint8Array | string, options: ReadOptions = {}): EvidenceLog {
  const checkChain = options.checkChain ?? true;
  const data = typeof input === "string" ? utf8.encode(input) : input;
  const lines: EvidenceLogLine[] = [];
  let prevHash = GENESIS_PREV;
  let start = 0;
  let n = 0;
  let firstSeq: 0 | 1 = 1;
  while (start < data.length) {
    n++;
    const end = data.indexOf(LF, start);
    if (end < 0) throw new EvidenceLogError(n, "the last line has no newline: the log was truncated during a write (remove the partial line to inspect the rest)");
    const bytes = data.subarray(start, end);
    start = end + 1;
    if (bytes.length === 0) throw new EvidenceLogError(n, "empty line: a log has one record on every line");
    if (bytes[bytes.length - 1] === CR) throw new EvidenceLogError(n, "the line ends with a carriage return: the log was converted to CRLF line endings, which changes the bytes the chain hashes");
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new EvidenceLogError(n, "the line is not valid UTF-8");
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e: unknown) {
      throw new EvidenceLogError(n, `the line is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    let record: EvidenceRecord;
    try {
      record = decodeRecord(json);
    } catch (e: unknown) {
      if (e instanceof RecordFormatError) throw new EvidenceLogError(n, e.message);
      throw new EvidenceLogError(n, `the record does not decode (${e instanceof Error ? e.message : String(e)})`);
    }
    // One spelling per record: other JSON for the same values (spaces, escapes, a key twice, another
    // order, a byte-order mark) is refused, so that every reader sees the record the chain hashes.
    if (!Buffer.from(encodeRecord(record.seq, record.prev, record.entry), "utf8").equals(bytes)) {
      throw new EvidenceLogError(n, "the line is not in the record format (its fields in order, once each, no spaces, no escapes the writer does not write): it was rewritten");
    }
    if (n === 1) {
      const origin = seqOrigin(record.seq);
      if (origin !== undefined) firstSeq = origin;
      else if (checkChain) throw new EvidenceLogError(1, `seq is ${record.seq}, expected 1: records before it were removed`);
    }
    if (checkChain) {
      const due = n - 1 + firstSeq;
      if (record.seq !== due) throw new EvidenceLogError(n, `seq is ${record.seq}, expected ${due}: a record was removed, inserted or moved`);
      if (record.prev !== prevHash) {
        throw new EvidenceLogError(n, n === 1 ? "prev of the first record must be 64 zeros: records before it were removed" : `prev does not match line ${n - 1} (one of the two lines was altered)`);
      }
    }
    lines.push({ line: n, bytes, record });
    prevHash = lineHash(bytes);
  }
  return { lines, head: prevHash, chainChecked: checkChain, firstSeq };
}
