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
  /** JSON: the layouts, option ids and dump items of src/constants.ts. */
  constants(): string;
  open(path: string): Handle;
  openBytes(bytes: Buffer): Handle;
  dump(handle: Handle, verbosity: number, fileName: string): { out: Buffer } & Partial<NativeFailure>;
  info(handle: Handle): string;
  records(handle: Handle, buffer: number, cpus: string, raw: boolean, salvage: boolean): Cursor;
  nextBatch(cursor: Cursor, maxRecords: number): Buffer;
  /** Writes up to `capacity` records into `columns` (laid out as `BATCH_COLUMNS` says, then data): how many. */
  fillBatch(cursor: Cursor, columns: Uint8Array, capacity: number, pidOffset: number): number;
  skipped(cursor: Cursor): string;
  scan(handle: Handle, salvage: boolean): string;
  scanAsync(handle: Handle, salvage: boolean): Promise<string>;
  text(handle: Handle, which: TextKind, buffer: number): Buffer;
  tables(handle: Handle): string;
  formats(handle: Handle): string;
  commonOffset(handle: Handle, name: string): number | undefined;
  /** Throws the first damage found in the CPU data (what `dump -v` checks beyond metadata). */
  validate(handle: Handle): void;
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
  reportOpen(raw: boolean, rawTs: boolean, nsec: boolean, cpus: string, filters: string, sync: string): ReportCursor;
  reportWarnings(cursor: ReportCursor): string;
  reportSalvage(cursor: ReportCursor): void;
  warnings(handle: Handle): string;
  reportSkipped(cursor: ReportCursor): string;
  build(
    template: Handle,
    outPath: string,
    fileVersion: number,
    compression: string,
    level: number | null,
    options: Buffer | null,
    records: Buffer,
  ): Promise<string>;
  mergeOpen(sync: string): MergeCursor;
  mergeOption(cursor: MergeCursor, flag: string, value: string): void;
  mergeInput(cursor: MergeCursor, handle: Handle, path: string): void;
  timelineOpen(cursor: MergeCursor): TimelineCursor;
  timelineSources(cursor: TimelineCursor): string;
  timelineNext(cursor: TimelineCursor, maxRecords: number): Buffer;
  attachRun(
    cursor: MergeCursor,
    outDir: string,
    fileVersion: number,
    compression: string,
    level: number | null,
    progressFd: number | null,
    threads: number | null,
  ): Promise<string>;
  mergeRun(
    cursor: MergeCursor,
    outPath: string,
    fileVersion: number,
    compression: string,
    level: number | null,
    progressFd: number | null,
    threads: number | null,
  ): Promise<string>;
  reportInput(cursor: ReportCursor, handle: Handle, name: string, tsOffset: string, filters: string): void;
  reportOption(cursor: ReportCursor, name: string, value: string): void;
  /** 'json-api': JSON lines whose integers beyond 2^53 are strings `"\u0000DIGITS"`. */
  reportFormat(cursor: ReportCursor, format: ReportFormat | 'json-api'): void;
  reportBuffers(cursor: ReportCursor, names: string): void;
  reportOutDir(cursor: ReportCursor, dir: string): void;
  reportFiles(cursor: ReportCursor): string;
  reportNext(cursor: ReportCursor, minBytes: number): Buffer;
  /** The next chunk written to `fd` instead: its length, 0 at the end (an EPIPE error keeps that code). */
  reportWrite(cursor: ReportCursor, fd: number, minBytes: number): number;
  reportCpus(handle: Handle, fileName: string, first: boolean, last: boolean, rawTs: boolean, nsec: boolean): Buffer;
  explainOpen(
    cursor: MergeCursor,
    from: string,
    to: string,
    match: string,
    threshold: string,
    top: number | null,
    guest: string,
    pid: number | null,
    comm: string,
    lines: boolean,
  ): ExplainCursor;
  explainNext(cursor: ExplainCursor, maxRecords: number, mode: 'objects' | 'jsonl' | 'text'): string;
  explainSummary(cursor: ExplainCursor): string;
}

/** How a report writes its records: trace-cmd's text, JSON lines, or CSV. */
export type ReportFormat = 'text' | 'json' | 'csv';

export type TextKind = 'headerPage' | 'headerEvent' | 'kallsyms' | 'printk' | 'cmdlines' | 'latency';

export type Cursor = { readonly __tracedatCursor: unique symbol };

export type ReportCursor = { readonly __tracedatReportCursor: unique symbol };

export type MergeCursor = { readonly __tracedatMergeCursor: unique symbol };

export type ExplainCursor = { readonly __tracedatExplainCursor: unique symbol };

export type TimelineCursor = { readonly __tracedatTimelineCursor: unique symbol };

// The same relative path works from src/ (vitest) and from dist/ (compiled).
export const native: Native = createRequire(import.meta.url)('../build/Release/tracedat_native.node');
