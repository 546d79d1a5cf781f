// Errors of tracedat: one line naming the file, the part of it, the byte offset and what was
// expected there. The CLI prints `tracedat: <message>` and exits with status 2.

/**
 * What kind of failure a TraceError is, stable across releases: the file's bytes are not what
 * the format says (damage, truncation, an unsupported variant), the file cannot be read, an
 * output cannot be written, or a guest cannot be lined up with its host.
 */
export type TraceErrorCode = 'ERR_TRACEDAT_FORMAT' | 'ERR_TRACEDAT_IO' | 'ERR_TRACEDAT_OUTPUT' | 'ERR_TRACEDAT_SYNC';

export class TraceError extends Error {
  readonly code: TraceErrorCode;
  readonly file: string;
  readonly section: string;
  readonly offset: number | undefined;
  readonly expected: string;

  constructor(file: string, section: string, offset: number | undefined, expected: string, code: TraceErrorCode = 'ERR_TRACEDAT_FORMAT') {
    const where = offset === undefined ? section : `${section}, offset ${offset}`;
    super(`${file}: ${where}: ${expected}`);
    this.name = 'TraceError';
    this.code = code;
    this.file = file;
    this.section = section;
    this.offset = offset;
    this.expected = expected;
  }
}

interface NativeError {
  code?: string;
  message?: string;
  section?: string;
  offset?: number;
  expected?: string;
}

/** Turns an error thrown by the addon into a TraceError for `file`; others pass through. */
export function fromNative(file: string, e: unknown): unknown {
  const n = e as NativeError;
  if (n && n.code === 'ERR_TRACEDAT_FORMAT' && n.section !== undefined && n.expected !== undefined) {
    return new TraceError(file, n.section, n.offset, n.expected);
  }
  if (n && n.code === 'ERR_TRACEDAT_IO') {
    return new TraceError(file, 'file', undefined, n.message ?? 'cannot open', 'ERR_TRACEDAT_IO');
  }
  return e;
}
