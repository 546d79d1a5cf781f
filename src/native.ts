// The addon's exports, typed. Handles are opaque: only this package's modules hold them.
import { createRequire } from 'node:module';

export type Handle = { readonly __tracedatHandle: unique symbol };

export interface NativeFailure {
  message: string;
  section: string;
  offset: number;
  expected: string;
}

export interface Native {
  open(path: string): Handle;
  openBytes(bytes: Buffer): Handle;
  dump(handle: Handle, verbosity: number, fileName: string): { out: Buffer } & Partial<NativeFailure>;
  info(handle: Handle): string;
  records(handle: Handle, buffer: number, cpus: string, raw: boolean): Cursor;
  nextBatch(cursor: Cursor, maxRecords: number): Buffer;
  scan(handle: Handle): string;
  convert(
    handle: Handle,
    outPath: string,
    fileVersion: number,
    compression: string,
    level: number | null,
    progressFd: number | null,
    buffers: string | null,
    cpus: string | null,
    threads: number | null,
    options: Buffer | null,
  ): Promise<string>;
}

export type Cursor = { readonly __tracedatCursor: unique symbol };

// The same relative path works from src/ (vitest) and from dist/ (compiled).
export const native: Native = createRequire(import.meta.url)('../build/Release/tracedat_native.node');
