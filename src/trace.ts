// The TypeScript face of an opened trace.dat.
import { native, type Cursor, type Handle, type TextKind } from './native.js';
import { UsageError } from './usage.js';
import { events, type EventsOptions, type TraceEvent } from './events.js';
import { fromNative, TraceError } from './errors.js';
import { resolveSource } from './source.js';
import { parseMetadata, parseScan, type Metadata, type BufferScan, type EventFormat, type BrokenFormat, type Skipped } from './metadata.js';
import { iterate, iterateBatches, type RecordBatch, type RecordOptions, type TraceRecord } from './records.js';
import { convertHandle, type ConvertOptions, type ConvertResult } from './convert.js';

export class TraceFile {
  /** The name the file was opened by (a path or `bundle.zip:member`). */
  readonly name: string;
  /** @internal */
  readonly handle: Handle;
  readonly metadata: Metadata;
  /**
   * The known writer bugs the file was read around, one line each (e.g. trace-cmd 3.1.6's
   * `convert --file-version 6` of a big-endian file writes instance offsets byte-swapped).
   */
  readonly warnings: readonly string[];

  private constructor(name: string, handle: Handle) {
    this.name = name;
    this.handle = handle;
    this.metadata = parseMetadata(native.info(handle));
    this.warnings = native.warnings(handle).split('\n').filter((w) => w !== '');
  }

  /** Opens a trace file read-only: a path, `bundle.zip` or `bundle.zip:member.dat`. */
  static async open(spec: string): Promise<TraceFile> {
    const source = await resolveSource(spec);
    try {
      const h = source.kind === 'path' ? native.open(source.path) : native.openBytes(source.bytes);
      return new TraceFile(spec, h);
    } catch (e) {
      throw fromNative(spec, e);
    }
  }

  private call<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw fromNative(this.name, e);
    }
  }

  /**
   * `trace-cmd dump` output for the given items (0 = the default summary). Throws a TraceError
   * where trace-cmd would die; `partial` on the error holds what was printed before.
   */
  dump(items: number, displayName = this.name): Buffer {
    const r = native.dump(this.handle, items >>> 0, displayName);
    if (r.message !== undefined) {
      const e = new TraceError(this.name, r.section ?? 'file', r.offset, r.expected ?? r.message);
      throw Object.assign(e, { partial: r.out });
    }
    return r.out;
  }

  /**
   * Reads every page of every CPU of every buffer: per CPU the record count, first and last
   * timestamps and lost-event marks. Throws a TraceError at the first damaged page, or with
   * `salvage` steps over damaged pages and chunks and lists them as each CPU's `skipped`.
   */
  scan(options: { salvage?: boolean } = {}): BufferScan[] {
    return this.call(() => parseScan(native.scan(this.handle, options.salvage ?? false)));
  }

  /**
   * Writes this trace to `out` as trace.dat v7 (default, zstd) or v6 in trace-cmd's layout,
   * like `trace-cmd convert`: every option and ring-buffer page is kept. The work runs on a
   * thread of libuv's pool; the file appears complete or not at all (written to a temporary
   * file, then renamed) and `out` may not be the input. Rejects with a TraceError on damaged
   * input data or when the file cannot be written, with a UsageError on bad options.
   */
  convert(out: string, options: ConvertOptions = {}): Promise<ConvertResult> {
    return convertHandle(this.handle, this.name, this.metadata, out, options);
  }

  /**
   * A metadata text as stored: header_page, header_event, kallsyms, printk formats, saved
   * cmdlines, or the text of latency buffer `buffer` (inflated when compressed).
   */
  text(which: TextKind, buffer = 0): Buffer {
    return this.call(() => native.text(this.handle, which, buffer));
  }

  /** Saved cmdlines, kallsyms (sorted by address) and printk formats, parsed as `report` reads them. */
  tables(): Tables {
    return this.call(() => {
      const t = JSON.parse(native.tables(this.handle)) as { cmdlines: [number, string][]; printk: [string, string][]; kallsyms: [string, string, string, string][] };
      return {
        cmdlines: new Map(t.cmdlines),
        printk: new Map(t.printk.map(([a, f]) => [BigInt('0x' + a), f])),
        kallsyms: t.kallsyms.map(([a, type, name, module]) => ({ address: BigInt('0x' + a), type, name, module: module || undefined })),
      };
    });
  }

  /**
   * What `dump -v` checks beyond the metadata trace-cmd reads: every CPU's data lies inside the
   * file and, compressed, is a whole chunk stream within its declared size. Throws a
   * TraceError at the first damage. (`scan()` then checks every page.)
   */
  validate(): void {
    this.call(() => native.validate(this.handle));
  }

  /**
   * All the damage `dump -v --salvage` names, reading around it: the first CPU-data framing
   * error `validate()` finds (a size field can be wrong while the chunks it frames still read)
   * unless a skipped region starts at the same offset (the same damage, named by the page
   * reader), then every page, chunk or CPU that
   * `scan({ salvage: true })` stepped over. Both empty for a sound file.
   */
  damage(): { framing?: TraceError; skipped: Skipped[] } {
    let framing: TraceError | undefined;
    try {
      this.validate();
    } catch (e) {
      if (!(e instanceof TraceError)) throw e;
      framing = e;
    }
    const skipped = this.scan({ salvage: true }).flatMap((b) => b.cpus.flatMap((c) => c.skipped ?? []));
    if (framing && skipped.some((s) => s.offset === framing!.offset)) framing = undefined;
    return { framing, skipped };
  }

  /** `scan()` on libuv's thread pool: the event loop keeps running while pages are read. */
  async scanAsync(options: { salvage?: boolean } = {}): Promise<BufferScan[]> {
    try {
      return parseScan(await native.scanAsync(this.handle, options.salvage ?? false));
    } catch (e) {
      throw fromNative(this.name, e);
    }
  }

  private formatCache?: (EventFormat | BrokenFormat)[];

  /** Every event format (ftrace's own first), parsed into fields; unparsable ones carry `error`. */
  formats(): (EventFormat | BrokenFormat)[] {
    this.formatCache ??= this.call(() => JSON.parse(native.formats(this.handle)) as (EventFormat | BrokenFormat)[]);
    return this.formatCache;
  }

  private pidAt?: number;

  /** Offset of common_pid, the same in every event (4 on every kernel seen). @internal */
  get pidOffset(): number {
    this.pidAt ??= this.call(() => native.commonOffset(this.handle, 'common_pid')) ?? 4;
    return this.pidAt;
  }

  /**
   * The records of every buffer merged in report's order, each with its event's system, name
   * and decoded fields (as `report --format json` gives them), delivered from the addon in
   * batches; `filter`, `buffers` and `cpus` select as report's -F, instances and --cpu do.
   */
  events(options: EventsOptions = {}): Generator<TraceEvent> {
    return events(this, options);
  }

  /** The records of one buffer (default: the top one), in time order across its CPUs. */
  *records(buffer = 0, options: RecordOptions = {}): Generator<TraceRecord> {
    const cursor = this.cursor(buffer, options);
    const onSkip = options.salvage ? (options.onSkip ?? (() => {})) : undefined;
    // Errors of the addon name this file (a consumer's own exceptions never come through here).
    try {
      yield* iterate(cursor, buffer, this.metadata.bigEndian, this.pidOffset, options.batch ?? 4096, onSkip);
    } catch (e) {
      throw fromNative(this.name, e);
    }
  }

  /**
   * The records `records(buffer, options)` gives, in the same order, as columns of up to
   * `options.batch` (default 65536) records each: for passes over every record that should
   * cost no object per record (see `RecordBatch`). Each batch is overwritten by the next.
   */
  *batches(buffer = 0, options: RecordOptions = {}): Generator<RecordBatch> {
    const capacity = options.batch ?? 65536;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 20) throw new UsageError(`batch: a whole number of records from 1 to ${1 << 20}, not ${capacity}`);
    const cursor = this.cursor(buffer, options);
    const onSkip = options.salvage ? (options.onSkip ?? (() => {})) : undefined;
    const pageSize = Math.max(this.metadata.pageSize, this.metadata.buffers[buffer]?.pageSize ?? 0);
    try {
      yield* iterateBatches(cursor, buffer, this.pidOffset, capacity, pageSize, onSkip);
    } catch (e) {
      throw fromNative(this.name, e);
    }
  }

  /** A record cursor over `buffer` as `options` select. */
  private cursor(buffer: number, options: RecordOptions): Cursor {
    return this.call(() => native.records(this.handle, buffer, (options.cpus ?? []).join(','), options.rawTimestamps ?? false, options.salvage ?? false));
  }
}

export interface KernelSymbol {
  address: bigint;
  /** nm-style type letter (T, t, D, ...). */
  type: string;
  name: string;
  module?: string;
}

export interface Tables {
  /** pid to comm. */
  cmdlines: Map<number, string>;
  /** Address of a trace_printk format to the format as trace-cmd reads it (quotes and a trailing `\n` removed, other escapes kept). */
  printk: Map<bigint, string>;
  kallsyms: KernelSymbol[];
}

export async function open(spec: string): Promise<TraceFile> {
  return TraceFile.open(spec);
}
