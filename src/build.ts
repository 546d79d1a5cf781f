// A trace.dat written from records, with a template file's metadata (native/src/write/build.rs).
import { native } from './native.js';
import { BUILD_RECORD } from './constants.js';
import { fromNative, TraceError } from './errors.js';
import { UsageError } from './usage.js';
import { encodeOptions, isInput, type Compression, type ConvertResult } from './convert.js';
import type { TraceFile } from './trace.js';

export interface BuildRecord {
  cpu: number;
  /** Raw ring-buffer time, in the clock's units. */
  timestamp: bigint;
  /** The record's data, its common_type first (a format of the template's, in its byte order). */
  data: Uint8Array;
  /** Events lost before this record: 0 none, -1 unknown, else the count. */
  missed?: number;
}

export interface BuildBuffer {
  /** "" for the top buffer. */
  name: string;
  clock: string;
  /** Per CPU in stream order (records of different CPUs may interleave). */
  records: Iterable<BuildRecord>;
}

export interface BuildOptions {
  version?: 6 | 7;
  compression?: Compression;
  level?: number;
  /** As for `convert`: options of the template to replace or remove. */
  setOptions?: { id: number; payload: Uint8Array | null }[];
}

/** The addon's encoding of the buffers and their records (native/src/write/build.rs `parse`). */
function encode(buffers: readonly BuildBuffer[]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head.writeUInt32LE(buffers.length);
  parts.push(head);
  for (const b of buffers) {
    for (const s of [b.name, b.clock]) {
      const t = Buffer.from(s);
      const l = Buffer.alloc(2);
      l.writeUInt16LE(t.length);
      parts.push(l, t);
    }
  }
  buffers.forEach((b, i) => {
    for (const r of b.records) {
      const h = Buffer.alloc(BUILD_RECORD.header);
      h.writeUInt32LE(i, BUILD_RECORD.buffer);
      h.writeUInt32LE(r.cpu, BUILD_RECORD.cpu);
      h.writeBigUInt64LE(BigInt.asUintN(64, r.timestamp), BUILD_RECORD.ts);
      h.writeBigInt64LE(BigInt(r.missed ?? 0), BUILD_RECORD.missed);
      h.writeUInt32LE(r.data.length, BUILD_RECORD.length);
      parts.push(h, Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length));
    }
  });
  return Buffer.concat(parts);
}

/**
 * Writes `out`: `template`'s metadata (formats, kallsyms, comms) and options, with `buffers`
 * of records instead of its own, in pages made as trace-cmd's writer makes them.
 */
export async function writeTrace(template: TraceFile, out: string, buffers: readonly BuildBuffer[], options: BuildOptions = {}): Promise<ConvertResult> {
  const version = options.version ?? 7;
  const compression = options.compression ?? (version === 7 ? 'any' : 'none');
  if (isInput(template.name, out)) throw new UsageError(`${out}: refusing to write over the input file`);
  let json: string;
  try {
    json = await native.build(template.handle, out, version, compression, options.level ?? null, options.setOptions ? encodeOptions(options.setOptions) : null, encode(buffers));
  } catch (e) {
    const n = e as { code?: string; message?: string; path?: string };
    if (n?.code === 'ERR_TRACEDAT_OUTPUT') throw new TraceError(n.path ?? out, 'output file', undefined, `cannot write it (${n.message ?? 'failed'})`, 'ERR_TRACEDAT_OUTPUT');
    if (n?.code === 'ERR_TRACEDAT_USAGE') throw new UsageError(n.message ?? 'bad arguments');
    throw fromNative(template.name, e);
  }
  const r = JSON.parse(json) as Omit<ConvertResult, 'path' | 'version' | 'compression'>;
  return { path: out, version, compression: compression === 'any' ? 'zstd' : compression, ...r };
}
