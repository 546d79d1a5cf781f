// `trace-cmd report` text, produced by the native report engine in large chunks.
import { mkdirSync } from 'node:fs';
import { native, type ReportFormat } from './native.js';

export type { ReportFormat };
import { fromNative, TraceError } from './errors.js';
import type { Skipped } from './metadata.js';
import type { TraceFile } from './trace.js';
import { UsageError } from './usage.js';

/**
 * A `trace-cmd report -F` filter in libtraceevent's language (`EVENTS[:EXPR]`, e.g.
 * `sched/sched_switch: prev_pid == 0 && next_comm =~ "^kworker"`), or `{ filter, exclude: true }`
 * for `-v -F`: records it matches are dropped.
 */
export type ReportFilter = string | { filter: string; exclude?: boolean };

/** How guests meet the host's time: trace-cmd's way, or as `merge` lines them up. */
export type ReportSync = 'trace-cmd' | 'auto' | 'time-shift' | 'kvm' | 'offset' | 'none';

/** trace-cmd report's display flags. */
export interface ReportDisplay {
  /** `--ts-diff`: each line's time since the line before, after its time. */
  tsDiff?: boolean;
  /** `-l`: the latency column (irqs-off, need-resched, irq context, preempt depth). */
  latency?: boolean;
  /** `-w`: wakeup latencies on sched_switch lines and their summary at the end (one trace). */
  wakeup?: boolean;
  /** `--ts-check`: an `onWarning` for every record earlier than the one before it. */
  tsCheck?: boolean;
  /** `--align-ts`: times counted from the first record of the traces' top buffers. */
  alignTs?: boolean;
  /** `--nodate`: the DATE options' offsets left out. */
  nodate?: boolean;
  /** `--ts2secs HZ` for every trace without its own `inputTs2secs`: the clock counts HZ a second. */
  ts2secs?: bigint | number;
  /** `--stat`, `--uname` or `--version`: that instead of the records. */
  only?: 'stat' | 'uname' | 'version';
}

export interface ReportOptions {
  /**
   * `--format`: 'text' (trace-cmd's), 'json' (one object per record and line: ts, source,
   * buffer, cpu, pid, comm, system, event, flags and the typed fields; lost events as records
   * of their own) or 'csv' (a header, then those columns with the fields as JSON).
   */
  format?: ReportFormat | 'json-api';
  /** Only these buffers of every trace, by instance name ('' for the top buffer; default: all). */
  buffers?: readonly string[];
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
  /**
   * `--ts-offset`, per input (in the order of the traces): added to every reported time of
   * that file, after its clock conversion (ignored with `rawTimestamps`).
   */
  tsOffsets?: readonly (bigint | number | undefined)[];
  /**
   * With several traces, how the guests (every trace after the first, the host) meet the
   * host's time (default 'auto': a guest's TIME_SHIFT as trace-cmd applies it, else the host's
   * kvm_write_tsc_offset events, else its tsOffset; 'trace-cmd': exactly trace-cmd's way).
   */
  sync?: ReportSync;
  /** Told what the set-up found that a user should know (how each guest was lined up). */
  onWarning?: (message: string) => void;
  /**
   * `-F` before any `-i`: event filters for every trace. A record prints when a positive filter
   * matches it (or there is none) and no excluding one does; an event a filter does not name does
   * not match it. A filter trace-cmd refuses throws a UsageError.
   */
  filters?: readonly ReportFilter[];
  /** `-F` after an `-i`: per trace (in the order of the traces), added to `filters` for it. */
  inputFilters?: readonly (readonly ReportFilter[] | undefined)[];
  /** Display flags (`--ts-diff`, `-l`, `-w`, `--stat`, ...). */
  display?: ReportDisplay;
  /** `--ts2secs` per trace (in the order of the traces), over `display.ts2secs`. */
  inputTs2secs?: readonly (bigint | number | undefined)[];
  /**
   * `--salvage`: step over each damaged page, chunk or CPU stream, printing
   * `CPU:N [DAMAGED: BYTES bytes skipped at offset X]` after that CPU's last record before it,
   * and go on. Without it the report ends at the first damage: every line before it is yielded,
   * then the damage is thrown.
   */
  salvage?: boolean;
  /** With `salvage`: told of each region stepped over, after the chunk holding its marker. */
  onSkip?: (s: ReportSkipped) => void;
  /**
   * Lines (text, JSON or CSV) formatted on two more threads while the records are read (the
   * output is the same); default: when the traces are large (8 MiB in all), or as the
   * environment's `TRACEDAT_PARALLEL` says (`0`: never, `1`: always). `-w`, `salvage` and CSV
   * into a directory are always formatted in order on one thread.
   */
  parallel?: boolean;
}

/** `TRACEDAT_PARALLEL`: `0` or `1`, else undefined (by the traces' size). */
function parallelDefault(): boolean | undefined {
  const v = process.env['TRACEDAT_PARALLEL'];
  return v === '0' ? false : v === '1' ? true : undefined;
}

/** A region a salvaging report stepped over: where (`at`, `bytes`: its marker's numbers) and why. */
export interface ReportSkipped extends Skipped {
  /** The trace it is in (its index among the traces given). */
  input: number;
  /** Its buffer ("" for the top one) and CPU. */
  buffer: string;
  cpu: number;
  at: number;
  bytes: number;
}

/** Filters as the addon takes them: `+`/`-` and the text of each, NUL-separated. */
function encodeFilters(filters: readonly ReportFilter[] | undefined): string {
  return (filters ?? [])
    .map((f) => {
      const [text, exclude] = typeof f === 'string' ? [f, false] : [f.filter, f.exclude ?? false];
      if (typeof text !== 'string' || text.includes('\0')) throw new TypeError('report: a filter is a string without NUL characters');
      return (exclude ? '-' : '+') + text;
    })
    .join('\0');
}

/**
 * The report as chunks of bytes, identical in concatenation to `trace-cmd report`. Several
 * traces are merged into one timeline as `trace-cmd report -i host.dat -i guest.dat ...` does:
 * every line carries its file's name, guests' times are moved to the host's clock by their
 * TIME_SHIFT, and the host's kvm events name guest functions when the first trace is the host
 * (its GUEST options list the others' trace ids).
 */
export function* reportChunks(traces: TraceFile | readonly TraceFile[], options: ReportOptions = {}): Generator<Buffer> {
  yield* run(traces, options);
}

/**
 * `report --format csv --out-dir DIR`: one CSV file per event in `dir` (made if missing), named
 * `SYSTEM-EVENT.csv` (`-2`... for a second event of that name from another trace;
 * `lost_events.csv`, `unknown_events.csv`), with the columns ts, source, buffer, cpu, pid, comm,
 * flags and the event's fields (arrays as JSON). Each file is written as a temporary file and
 * renamed when the report is complete. Returns the paths written.
 */
export function reportCsvFiles(traces: TraceFile | readonly TraceFile[], dir: string, options: Omit<ReportOptions, 'format' | 'chunk'> = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const chunk of run(traces, { ...options, format: 'csv' }, dir, (f) => files.push(...f))) void chunk;
  return files;
}

/**
 * The report written to the file descriptor `fd` (e.g. 1, standard output) by the addon with
 * write(2), chunk after chunk, none of its text copied into JavaScript: what `reportChunks`
 * yields, for a caller that only writes it out. A full non-blocking pipe is waited for; a
 * reader gone away throws an error whose code is 'EPIPE'.
 */
export function reportToFd(traces: TraceFile | readonly TraceFile[], fd: number, options: ReportOptions = {}): void {
  for (const chunk of run(traces, options, undefined, undefined, fd)) void chunk;
}

function* run(traces: TraceFile | readonly TraceFile[], options: ReportOptions, outDir?: string, onFiles?: (files: string[]) => void, fd?: number): Generator<Buffer> {
  const inputs = Array.isArray(traces) ? (traces as readonly TraceFile[]) : [traces as TraceFile];
  if (inputs.length === 0) throw new TypeError('report: no input trace');
  const fail = (e: unknown): unknown => {
    const n = e as { code?: string; message?: string; input?: number };
    if (n && n.code === 'ERR_TRACEDAT_USAGE') return new UsageError(n.message ?? 'bad filter');
    if (n && n.code === 'EPIPE') return e;
    const out = e as { code?: string; message?: string; path?: string };
    if (out?.code === 'ERR_TRACEDAT_OUTPUT') return new TraceError(out.path ?? outDir ?? '', 'output file', undefined, `cannot write it (${out.message ?? 'failed'})`, 'ERR_TRACEDAT_OUTPUT');
    return fromNative(inputs[n?.input ?? 0]!.name, e);
  };
  const cursor = native.reportOpen(options.raw ?? false, options.rawTimestamps ?? false, options.nanoseconds ?? false, (options.cpus ?? []).join(','), encodeFilters(options.filters), options.sync ?? 'auto');
  const d = options.display ?? {};
  const flags = { 'ts-diff': d.tsDiff, latency: d.latency, wakeup: d.wakeup, 'ts-check': d.tsCheck, 'align-ts': d.alignTs, nodate: d.nodate };
  for (const [name, on] of Object.entries(flags)) if (on) native.reportOption(cursor, name, '');
  if (d.only !== undefined) native.reportOption(cursor, 'only', d.only);
  const hz = (v: bigint | number | undefined) => (v === undefined ? undefined : BigInt.asUintN(64, BigInt(v)).toString());
  if (d.ts2secs !== undefined) native.reportOption(cursor, 'ts2secs', hz(d.ts2secs)!);
  inputs.forEach((t, i) => {
    native.reportInput(cursor, t.handle, t.name, BigInt.asIntN(64, BigInt(options.tsOffsets?.[i] ?? 0)).toString(), encodeFilters(options.inputFilters?.[i]));
    const own = hz(options.inputTs2secs?.[i]);
    if (own !== undefined) native.reportOption(cursor, 'ts2secs', own);
  });
  const parallel = options.parallel ?? parallelDefault();
  if (parallel !== undefined) native.reportOption(cursor, 'parallel', parallel ? 'on' : 'off');
  if (options.salvage) native.reportSalvage(cursor);
  if (options.format !== undefined) native.reportFormat(cursor, options.format);
  if (options.buffers !== undefined) native.reportBuffers(cursor, options.buffers.join('\0'));
  if (outDir !== undefined) native.reportOutDir(cursor, outDir);
  const chunk = options.chunk ?? 1 << 20;
  for (;;) {
    let b: Buffer | undefined;
    let length: number;
    try {
      if (fd === undefined) length = (b = native.reportNext(cursor, chunk)).length;
      else length = native.reportWrite(cursor, fd, chunk);
    } catch (e) {
      throw fail(e);
    }
    // Set-up notes after the first chunk, --ts-check's as they are found.
    if (options.onWarning) for (const w of native.reportWarnings(cursor).split('\n')) if (w !== '') options.onWarning(w);
    if (length === 0) {
      const files = native.reportFiles(cursor);
      onFiles?.(files === '' ? [] : files.split('\n'));
      return;
    }
    if (b !== undefined) yield b;
    if (options.salvage && options.onSkip) for (const s of JSON.parse(native.reportSkipped(cursor)) as ReportSkipped[]) options.onSkip(s);
  }
}

/** The whole report as one Buffer. */
export function report(traces: TraceFile | readonly TraceFile[], options: ReportOptions = {}): Buffer {
  return Buffer.concat([...reportChunks(traces, options)]);
}

/** `trace-cmd report --cpus [--first-event] [--last-event]` text; `name` is the file as given. */
export function reportCpus(trace: TraceFile, name: string, options: { first?: boolean; last?: boolean; rawTimestamps?: boolean; nanoseconds?: boolean } = {}): Buffer {
  try {
    return native.reportCpus(trace.handle, name, options.first ?? false, options.last ?? false, options.rawTimestamps ?? false, options.nanoseconds ?? false);
  } catch (e) {
    throw fromNative(trace.name, e);
  }
}
