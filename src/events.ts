// `trace.events()`: records with their event's system, name and decoded fields, in the order and
// with the values of `report --format json`, delivered from Rust in batches of JSON lines.
import { reportChunks, type ReportFilter, type ReportSync } from './report.js';
import type { TraceFile } from './trace.js';

/** A field's value: an integer (a BigInt beyond 2^53), a string, the name a symbol table gives it, or an array's elements. */
export type FieldValue = number | bigint | string | (number | bigint)[];

/** One record, decoded. */
export interface TraceEvent {
  /** Nanoseconds when the clock has a unit (as report converts it), else the clock's raw count. */
  ts: bigint;
  /** The trace's file name (base name). */
  source: string;
  /** The instance the record was written to, '' for the top buffer. */
  buffer: string;
  cpu: number;
  /** null on a lost-events record. */
  pid: number | null;
  comm: string | null;
  /** null on a lost-events record or an event no format declares. */
  system: string | null;
  /** 'lost_events' for events the ring buffer dropped before the next record; null for an event no format declares. */
  event: string | null;
  /** common_flags (irqs-off, need-resched, ...). */
  flags: number | null;
  /** The event's own fields; a lost-events record's `count` (null: unknown); null for an unknown event. */
  fields: Record<string, FieldValue> | null;
}

export interface EventsOptions {
  /** `-F` filters in trace-cmd's language (a record passes when a positive one matches and no excluding one does). */
  filter?: ReportFilter | readonly ReportFilter[];
  /** Only these buffers, by instance name ('' for the top buffer). */
  buffers?: readonly string[];
  /** Only these CPUs (trace-cmd numbers instance CPUs after the top buffer's). */
  cpus?: readonly number[];
  /** Several traces: how the guests meet the host's time (as `report`). */
  sync?: ReportSync;
  /** Bytes of JSON per batch from the addon (default 256 KiB). */
  batch?: number;
}

/** Strings the addon marks as integers beyond 2^53 (no trace string holds a NUL). */
function revive(_key: string, v: unknown): unknown {
  return typeof v === 'string' && v.charCodeAt(0) === 0 ? BigInt(v.slice(1)) : v;
}

/**
 * The records of one trace or of several (a host then its guests, merged into one timeline as
 * `report -i host -i guest` does), decoded, in report's order.
 */
export function* events(traces: TraceFile | readonly TraceFile[], options: EventsOptions = {}): Generator<TraceEvent> {
  if (options.buffers?.length === 0) return;
  const filters = options.filter === undefined ? [] : Array.isArray(options.filter) ? (options.filter as readonly ReportFilter[]) : [options.filter as ReportFilter];
  let rest = '';
  for (const chunk of reportChunks(traces, {
    format: 'json-api',
    filters,
    buffers: options.buffers,
    cpus: options.cpus ? [...options.cpus] : undefined,
    sync: options.sync,
    chunk: options.batch ?? 256 << 10,
  })) {
    // Chunks end at a line's end; lines are parsed as one JSON array per batch.
    const text = rest + chunk.toString('utf8');
    const end = text.lastIndexOf('\n');
    rest = text.slice(end + 1);
    if (end < 0) continue;
    const batch = JSON.parse('[' + text.slice(0, end).replaceAll('\n', ',') + ']', revive) as (Omit<TraceEvent, 'ts'> & { ts: number | bigint })[];
    for (const e of batch) {
      e.ts = BigInt(e.ts);
      yield e as TraceEvent;
    }
  }
}
