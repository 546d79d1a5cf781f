// The TypeScript face of an opened trace.dat.
import { native, type Handle } from './native.js';
import { fromNative, TraceError } from './errors.js';
import { resolveSource } from './source.js';

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

  private constructor(name: string, handle: Handle) {
    this.name = name;
    this.handle = handle;
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
   * What `dump -v` checks beyond the metadata trace-cmd reads: every CPU's data lies inside the
   * file and, compressed, is a whole chunk stream. Throws a TraceError at the first damage.
   */
  validate(): void {
    try {
      native.validate(this.handle);
    } catch (e) {
      throw fromNative(this.name, e);
    }
  }
}

export async function open(spec: string): Promise<TraceFile> {
  return TraceFile.open(spec);
}
