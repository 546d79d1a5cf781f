// Records streamed out of the addon in batches: one N-API call per few thousand events.
import { native, type Cursor } from './native.js';
import { BATCH } from './constants.js';
import type { Skipped } from './metadata.js';

export interface TraceRecord {
  /** Index of the buffer in `TraceFile.metadata.buffers` (0 = top instance). */
  buffer: number;
  cpu: number;
  /** Time as trace-cmd reports it (TIME_SHIFT, TSC2NSEC, DATE and OFFSET applied). */
  timestamp: bigint;
  /** The ring-buffer time as recorded. */
  rawTimestamp: bigint;
  /** Event id (common_type), read in the file's byte order. */
  eventId: number;
  /** common_pid. */
  pid: number;
  /** Events lost before this record: 0 none, -1 an unknown number, else the count. */
  missedEvents: number;
  /** The event's data (common fields first); a view valid until the next batch is read. */
  data: Uint8Array;
}

export interface RecordOptions {
  /** Only these CPUs. */
  cpus?: number[];
  /** Keep ring-buffer timestamps (trace-cmd report --raw-ts). */
  rawTimestamps?: boolean;
  /** Records per N-API call. */
  batch?: number;
  /**
   * Step over damaged pages and chunks instead of throwing at the first one. Each region
   * skipped is passed to `onSkip` (with its CPU) before the records of the batch it was met in.
   */
  salvage?: boolean;
  onSkip?: (s: Skipped & { cpu: number }) => void;
}

/** The record encoded at `off` in a batch (laid out as `BATCH` says), and where the next one starts. */
function decodeAt(b: Buffer, view: DataView, off: number, buffer: number, bigEndian: boolean, pidOffset: number): [TraceRecord, number] {
  const len = view.getUint32(off + BATCH.length, true);
  const at = off + BATCH.header;
  const data = b.subarray(at, at + len);
  const record: TraceRecord = {
    buffer,
    cpu: view.getUint32(off + BATCH.cpu, true),
    timestamp: view.getBigUint64(off + BATCH.ts, true),
    rawTimestamp: view.getBigUint64(off + BATCH.rawTs, true),
    missedEvents: Number(view.getBigInt64(off + BATCH.missed, true)),
    eventId: len >= 2 ? view.getUint16(at, !bigEndian) : -1,
    pid: len >= pidOffset + 4 ? view.getInt32(at + pidOffset, !bigEndian) : -1,
    data,
  };
  return [record, off + BATCH.header + ((len + BATCH.align - 1) & -BATCH.align)];
}

/** Iterates a cursor's records. `bigEndian` and `pidOffset` decode the common fields. */
export function* iterate(cursor: Cursor, buffer: number, bigEndian: boolean, pidOffset: number, batch: number, onSkip?: RecordOptions['onSkip']): Generator<TraceRecord> {
  for (;;) {
    const b = native.nextBatch(cursor, batch);
    if (onSkip) for (const s of JSON.parse(native.skipped(cursor)) as (Skipped & { cpu: number })[]) onSkip(s);
    if (b.length === 0) return;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let off = 0; off < b.length; ) {
      const [record, next] = decodeAt(b, view, off, buffer, bigEndian, pidOffset);
      yield record;
      off = next;
    }
  }
}

/** One source of a tagged batch: which buffer of which input, and how to read its common fields. */
export interface TaggedSource {
  buffer: number;
  bigEndian: boolean;
  pidOffset: number;
}

/**
 * Iterates batches whose records each follow a u64 (little-endian) index into `sources`, as the
 * merged timeline sends them; `next` reads the next batch (empty at the end).
 */
export function* iterateTagged(next: () => Buffer, sources: readonly TaggedSource[]): Generator<[number, TraceRecord]> {
  for (;;) {
    const b = next();
    if (b.length === 0) return;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let off = 0; off < b.length; ) {
      const si = Number(view.getBigUint64(off, true));
      const s = sources[si]!;
      const [record, after] = decodeAt(b, view, off + 8, s.buffer, s.bigEndian, s.pidOffset);
      yield [si, record];
      off = after;
    }
  }
}
