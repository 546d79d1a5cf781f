// Writing a trace again, as trace.dat v6 or v7 in trace-cmd's layout (native/src/writer.rs).
import { statSync } from 'node:fs';
import { native, type Handle } from './native.js';
import { OPTION_EDIT } from './constants.js';
import { fromNative, TraceError } from './errors.js';
import { UsageError } from './usage.js';
import type { Metadata } from './metadata.js';

export type Compression = 'none' | 'zlib' | 'zstd' | 'any';

export interface ConvertOptions {
  /** File version: 7 (default) or 6. */
  version?: 6 | 7;
  /** v7 only: 'any' (default for v7, = zstd, trace-cmd's choice), 'zstd', 'zlib' or 'none'. */
  compression?: Compression;
  /** Compression level: zstd -7..22 (default 3), zlib 0..9 (default 9), as trace-cmd uses. */
  level?: number;
  /** Buffers to keep, by index in `metadata.buffers` or by name ("" = top); default all. */
  buffers?: (number | string)[];
  /** CPUs whose data to keep; default all. The file's CPU count does not change. */
  cpus?: number[];
  /** Redraw a progress line on stderr, which should be a terminal (default false; the CLI
   * turns it on when stderr is a terminal). */
  progress?: boolean;
  /** Compression threads (default: the CPU count, 2 to 8). */
  threads?: number;
  /**
   * Options to set. Every option of the input with a listed id is left out, and the payloads
   * given are written instead, in this order (`null` only removes). Payloads are written as
   * they are: numbers in them must be in the file's byte order (`metadata.bigEndian`). Options
   * that describe the layout (BUFFER, CPUCOUNT, section pointers...) are the writer's own.
   */
  setOptions?: { id: number; payload: Uint8Array | null }[];
}

export interface ConvertedCpu {
  cpu: number;
  /** File offset of the CPU's stream in the new file. */
  offset: number;
  /** Bytes in the file (compressed: including the chunk count). */
  size: number;
  /** Uncompressed bytes (whole ring-buffer pages). */
  uncompressed: number;
}

export interface ConvertResult {
  path: string;
  version: 6 | 7;
  compression: 'none' | 'zlib' | 'zstd';
  /** Size of the new file. */
  size: number;
  buffers: { name: string; kind: 'flyrecord' | 'latency'; cpus: ConvertedCpu[] }[];
  /** Ids of options that the chosen version has no place for (v6: BTF_FILE, MODULES_FILE). */
  droppedOptions: number[];
}

interface NativeOutputError {
  code?: string;
  message?: string;
  path?: string;
}

/** The addon's encoding of `setOptions` (native/src/ffi/exports.rs `set_options`). */
export function encodeOptions(list: { id: number; payload: Uint8Array | null }[]): Buffer {
  return Buffer.concat(
    list.flatMap(({ id, payload }) => {
      const head = Buffer.alloc(OPTION_EDIT.header);
      head.writeUInt16LE(id, OPTION_EDIT.id);
      head.writeUInt8(payload === null ? 0 : 1, OPTION_EDIT.present);
      head.writeUInt32LE(payload?.length ?? 0, OPTION_EDIT.size);
      return payload === null ? [head] : [head, payload];
    }),
  );
}

/** Resolves buffer names to indexes. */
function bufferIndexes(metadata: Metadata, buffers: (number | string)[], file: string): number[] {
  return buffers.map((b) => {
    if (typeof b === 'number') return b;
    const i = metadata.buffers.findIndex((x) => x.name === b);
    if (i < 0) throw new UsageError(`${file} has no buffer named "${b}" (it has ${metadata.buffers.map((x) => `"${x.name}"`).join(', ')})`);
    return i;
  });
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * Whether `out` is the file an input spec reads. The addon checks mapped files itself; a .zip
 * member (`bundle.zip:member.dat`) was read into memory, and only its name tells the .zip.
 */
export function isInput(spec: string, out: string): boolean {
  if (sameFile(spec, out)) return true;
  for (let i = spec.indexOf(':'); i > 0; i = spec.indexOf(':', i + 1)) {
    if (sameFile(spec.slice(0, i), out)) return true;
  }
  return false;
}

/** @internal Used by TraceFile.convert. */
export async function convertHandle(handle: Handle, name: string, metadata: Metadata, out: string, options: ConvertOptions): Promise<ConvertResult> {
  const version = options.version ?? 7;
  const compression = options.compression ?? (version === 7 ? 'any' : 'none');
  const progress = options.progress ?? false;
  const buffers = options.buffers === undefined ? null : bufferIndexes(metadata, options.buffers, name).join(',');
  if (isInput(name, out)) throw new UsageError(`${out}: refusing to write over the input file`);
  let json: string;
  try {
    json = await native.convert(
      handle,
      out,
      version,
      compression,
      options.level ?? null,
      progress ? 2 : null,
      buffers,
      options.cpus === undefined ? null : options.cpus.join(','),
      options.threads ?? null,
      options.setOptions === undefined ? null : encodeOptions(options.setOptions),
    );
  } catch (e) {
    const n = e as NativeOutputError;
    if (n && n.code === 'ERR_TRACEDAT_OUTPUT') {
      throw new TraceError(n.path ?? out, 'output file', undefined, `cannot write it (${n.message ?? 'failed'})`, 'ERR_TRACEDAT_OUTPUT');
    }
    if (n && n.code === 'ERR_TRACEDAT_USAGE') throw new UsageError(n.message ?? 'bad arguments');
    throw fromNative(name, e);
  }
  const r = JSON.parse(json) as Omit<ConvertResult, 'path' | 'version' | 'compression'>;
  return { path: out, version, compression: compression === 'any' ? 'zstd' : compression, ...r };
}
