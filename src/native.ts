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
  scanAsync(handle: Handle): Promise<string>;
  text(handle: Handle, which: TextKind, buffer: number): Buffer;
  tables(handle: Handle): string;
  formats(handle: Handle): string;
  reportOpen(handle: Handle, raw: boolean, rawTs: boolean, nsec: boolean, cpus: string): ReportCursor;
  reportNext(cursor: ReportCursor, minBytes: number): Buffer;
  reportCpus(handle: Handle, fileName: string, first: boolean, last: boolean, rawTs: boolean, nsec: boolean): Buffer;
}

export type TextKind = 'headerPage' | 'headerEvent' | 'kallsyms' | 'printk' | 'cmdlines' | 'latency';

export type Cursor = { readonly __tracedatCursor: unique symbol };

export type ReportCursor = { readonly __tracedatReportCursor: unique symbol };

// The same relative path works from src/ (vitest) and from dist/ (compiled).
export const native: Native = createRequire(import.meta.url)('../build/Release/tracedat_native.node');
