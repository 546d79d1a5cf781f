// The TypeScript face of an opened trace.dat.
import { native, type Handle } from './native.js';
import { fromNative, TraceError } from './errors.js';
import { resolveSource } from './source.js';
import { parseMetadata, parseScan, type Metadata, type BufferScan } from './metadata.js';
import { iterate, type RecordOptions, type TraceRecord } from './records.js';
import { convertHandle, type ConvertOptions, type ConvertResult } from './convert.js';

/** `trace-cmd dump` item flags (its `enum dump_items`). */
export const DumpItem = {
  summary: 1 << 0,
  headPage: 1 << 1,
  headEvent: 1 << 2,
  ftraceEvents: 1 << 3,
  systems: 1 << 4,
  events: 1 << 5,
  kallsyms: 1 << 6,
  printk: 1 << 7,
  cmdLines: 1 << 8,
  options: 1 << 9,
  flyrecord: 1 << 10,
  clock: 1 << 11,
  sections: 1 << 12,
  strings: 1 << 13,
  all: 0xffffffff,
} as const;

export class TraceFile {
  /** The name the file was opened by (a path or `bundle.zip:member`). */
  readonly name: string;
  /** @internal */
  readonly handle: Handle;
  readonly metadata: Metadata;

  private constructor(name: string, handle: Handle) {
    this.name = name;
    this.handle = handle;
    this.metadata = parseMetadata(native.info(handle));
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
   * timestamps and lost-event marks. Throws a TraceError at the first damaged page.
   */
  scan(): BufferScan[] {
    return this.call(() => parseScan(native.scan(this.handle)));
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

  /** Offset of common_pid in every event (4 on every kernel with the common fields). */
  private get pidOffset(): number {
    return 4;
  }

  /** The records of one buffer (default: the top one), in time order across its CPUs. */
  *records(buffer = 0, options: RecordOptions = {}): Generator<TraceRecord> {
    const cursor = this.call(() => native.records(this.handle, buffer, (options.cpus ?? []).join(','), options.rawTimestamps ?? false));
    const it = iterate(cursor, buffer, this.metadata.bigEndian, this.pidOffset, options.batch ?? 4096);
    for (;;) {
      let n: IteratorResult<TraceRecord>;
      try {
        n = it.next();
      } catch (e) {
        throw fromNative(this.name, e);
      }
      if (n.done) return;
      yield n.value;
    }
  }
}

export async function open(spec: string): Promise<TraceFile> {
  return TraceFile.open(spec);
}
