/**
 * An EvidenceSink that appends to a hash-chained JSON Lines file
 * (docs/evidence.md). Each append writes one whole line with one write(2)
 * on a file opened for appending, synchronously: concurrent calls from the
 * runtime are serialised by the event loop, and a record is in the file
 * (in the OS cache, or on disk with `fsync`) before `append` returns.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import type { EvidenceEntry, EvidenceSink } from "../runtime/evidence.js";
import { encodeRecord, GENESIS_PREV, lineHash } from "./format.js";
import { EvidenceLogError, readEvidenceLog } from "./read.js";

export interface FileEvidenceLogOptions {
  /** fsync(2) after every record (default false: the record reaches the OS before `append` returns). */
  readonly fsync?: boolean;
}

/** A file evidence log: the sink, and where its chain stands. */
export interface FileEvidenceLog extends EvidenceSink {
  readonly path: string;
  /** Records in the file. */
  readonly count: number;
  /** Hex SHA-256 of the last line (64 zeros when empty): anchor it elsewhere to make truncation detectable. */
  readonly head: string;
  append(entry: EvidenceEntry): void;
}

/**
 * Opens (or creates) the evidence log at `path`. An existing file is read
 * and its chain checked first: a log is only ever extended from a valid
 * head. Throws when the existing file is not a valid log.
 *
 * One process per file: two writers would fork the chain.
 */
export function createFileEvidenceLog(path: string, options: FileEvidenceLogOptions = {}): FileEvidenceLog {
  let count = 0;
  let head = GENESIS_PREV;
  let firstSeq = 1;
  if (existsSync(path)) {
    try {
      const existing = readEvidenceLog(readFileSync(path));
      count = existing.lines.length;
      head = existing.head;
      firstSeq = existing.firstSeq;
    } catch (e: unknown) {
      const why = e instanceof EvidenceLogError ? e.message : e instanceof Error ? e.message : String(e);
      throw new Error(`secsession: refusing to extend the evidence log ${path}: ${why}. Move it aside and start a new log, or repair it`, { cause: e });
    }
  }
  let broken: Error | undefined;
  const fd = () => openSync(path, "a", 0o600);
  return {
    path,
    get count() {
      return count;
    },
    get head() {
      return head;
    },
    append(entry: EvidenceEntry): void {
      if (broken !== undefined) throw new Error(`secsession: the evidence log ${path} stopped after a failed write: ${broken.message}`, { cause: broken });
      const line = encodeRecord(firstSeq + count, head, entry);
      const bytes = Buffer.from(`${line}\n`, "utf8");
      let f: number | undefined;
      try {
        f = fd();
        let off = 0;
        while (off < bytes.length) off += writeSync(f, bytes, off, bytes.length - off);
        if (options.fsync === true) fsyncSync(f);
      } catch (e: unknown) {
        // The file may now end with part of a line: never write after it.
        broken = e instanceof Error ? e : new Error(String(e));
        throw new Error(`secsession: could not append to the evidence log ${path}: ${broken.message}`, { cause: e });
      } finally {
        if (f !== undefined) closeSync(f);
      }
      count++;
      head = lineHash(bytes.subarray(0, bytes.length - 1));
    },
  };
}
