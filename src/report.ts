// `trace-cmd report` text, produced by the native report engine in large chunks.
import { native, type Handle } from './native.js';
import { fromNative } from './errors.js';
import type { TraceFile } from './trace.js';

export interface ReportOptions {
  /** `-R`: every event's raw fields instead of its print format and plugin output. */
  raw?: boolean;
  /** `--raw-ts`: ring-buffer timestamps, no clock conversion. */
  rawTimestamps?: boolean;
  /** `-t`: nanosecond timestamps. */
  nanoseconds?: boolean;
  /** `--cpu`: only these CPUs (trace-cmd numbers instance CPUs after the top buffer's). */
  cpus?: number[];
  /** Bytes per chunk (default 1 MiB). */
  chunk?: number;
}

/** The report as chunks of bytes, identical in concatenation to `trace-cmd report`. */
export function* reportChunks(trace: TraceFile, options: ReportOptions = {}): Generator<Buffer> {
  const h: Handle = trace.handle;
  let cursor;
  try {
    cursor = native.reportOpen(h, options.raw ?? false, options.rawTimestamps ?? false, options.nanoseconds ?? false, (options.cpus ?? []).join(','));
  } catch (e) {
    throw fromNative(trace.name, e);
  }
  const chunk = options.chunk ?? 1 << 20;
  for (;;) {
    let b: Buffer;
    try {
      b = native.reportNext(cursor, chunk);
    } catch (e) {
      throw fromNative(trace.name, e);
    }
    if (b.length === 0) return;
    yield b;
  }
}

/** The whole report as one Buffer. */
export function report(trace: TraceFile, options: ReportOptions = {}): Buffer {
  return Buffer.concat([...reportChunks(trace, options)]);
}

/** `trace-cmd report --cpus [--first-event] [--last-event]` text; `name` is the file as given. */
export function reportCpus(trace: TraceFile, name: string, options: { first?: boolean; last?: boolean; rawTimestamps?: boolean; nanoseconds?: boolean } = {}): Buffer {
  try {
    return native.reportCpus(trace.handle, name, options.first ?? false, options.last ?? false, options.rawTimestamps ?? false, options.nanoseconds ?? false);
  } catch (e) {
    throw fromNative(trace.name, e);
  }
}
