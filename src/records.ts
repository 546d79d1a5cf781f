// Records streamed out of the addon in batches: one N-API call per few thousand events.
import { native, type Cursor } from './native.js';
import { BATCH, BATCH_COLUMNS, type BatchColumns } from './constants.js';
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
  /** Records per N-API call (default 4096; `batches`: 65536, the most each batch holds). */
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

/**
 * Records as columns, for passes over millions of them (`TraceFile.batches`): entry `i` of
 * every array is record `i` of the batch, `count` entries each, the fields of `TraceRecord`.
 * Reading them makes no object per record, except an element of the BigUint64Arrays, which
 * is a BigInt: a pass that must be fast reads the time as `timestampHigh`/`timestampLow`.
 * The arrays view one buffer that the next batch overwrites: copy what must outlive it.
 */
export interface RecordBatch {
  /** Index of the buffer in `TraceFile.metadata.buffers`. */
  buffer: number;
  count: number;
  /** Time as trace-cmd reports it (`TraceRecord.timestamp`). */
  timestamp: BigUint64Array;
  /** The same time's upper and lower 32 bits: `timestampHigh[i] * 2 ** 32 + timestampLow[i]`. */
  timestampHigh: Uint32Array;
  timestampLow: Uint32Array;
  /** The ring-buffer time as recorded. */
  rawTimestamp: BigUint64Array;
  cpu: Uint32Array;
  /** common_type, -1 when the data is shorter than 2 bytes. */
  eventId: Int32Array;
  /** common_pid, -1 when the data does not reach it. */
  pid: Int32Array;
  /** Events lost before the record: 0 none, -1 an unknown number, else the count. */
  missedEvents: Float64Array;
  /** Record `i`'s data is `data.subarray(offset[i], offset[i] + length[i])`. */
  length: Uint32Array;
  offset: Uint32Array;
  /** The batch's records' data, back to back. */
  data: Uint8Array;
}

/** The typed array of each column; its element size is checked against the addon's. */
const COLUMN_TYPES = {
  timestamp: BigUint64Array,
  rawTimestamp: BigUint64Array,
  missedEvents: Float64Array,
  timestampHigh: Uint32Array,
  timestampLow: Uint32Array,
  cpu: Uint32Array,
  eventId: Int32Array,
  pid: Int32Array,
  length: Uint32Array,
  offset: Uint32Array,
} as const satisfies Record<keyof BatchColumns, { BYTES_PER_ELEMENT: number }>;

for (const [name, size] of Object.entries(BATCH_COLUMNS)) {
  if (COLUMN_TYPES[name as keyof BatchColumns]?.BYTES_PER_ELEMENT !== size) throw new Error(`tracedat: the addon's batch column ${name} (${size} bytes) is not this layer's`);
}

/** Data bytes a batch holds per record it can hold (trace events average 30-60 bytes). */
const DATA_PER_RECORD = 64;

/**
 * Iterates a cursor's records as batches of up to `capacity` records, all filled into one
 * buffer allocated here; a batch also ends when its data region has less than a page left.
 */
export function* iterateBatches(cursor: Cursor, buffer: number, pidOffset: number, capacity: number, pageSize: number, onSkip?: RecordOptions['onSkip']): Generator<RecordBatch> {
  const at = {} as Record<keyof BatchColumns, number>;
  let size = 0;
  for (const [name, element] of Object.entries(BATCH_COLUMNS)) {
    at[name as keyof BatchColumns] = size;
    size += element * capacity;
  }
  const dataAt = size;
  const memory = new ArrayBuffer(dataAt + Math.max(capacity * DATA_PER_RECORD, 2 * pageSize));
  const bytes = new Uint8Array(memory);
  for (;;) {
    const n = native.fillBatch(cursor, bytes, capacity, pidOffset);
    if (onSkip) for (const s of JSON.parse(native.skipped(cursor)) as (Skipped & { cpu: number })[]) onSkip(s);
    if (n === 0) return;
    const length = new Uint32Array(memory, at.length, n);
    const offset = new Uint32Array(memory, at.offset, n);
    yield {
      buffer,
      count: n,
      timestamp: new BigUint64Array(memory, at.timestamp, n),
      timestampHigh: new Uint32Array(memory, at.timestampHigh, n),
      timestampLow: new Uint32Array(memory, at.timestampLow, n),
      rawTimestamp: new BigUint64Array(memory, at.rawTimestamp, n),
      cpu: new Uint32Array(memory, at.cpu, n),
      eventId: new Int32Array(memory, at.eventId, n),
      pid: new Int32Array(memory, at.pid, n),
      missedEvents: new Float64Array(memory, at.missedEvents, n),
      length,
      offset,
      data: new Uint8Array(memory, dataAt, offset[n - 1]! + length[n - 1]!),
    };
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
