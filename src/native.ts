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
  /** Throws the first damage found in the CPU data (what `dump -v` checks beyond metadata). */
  validate(handle: Handle): void;
}

// The same relative path works from src/ (vitest) and from dist/ (compiled).
export const native: Native = createRequire(import.meta.url)('../build/Release/tracedat_native.node');
