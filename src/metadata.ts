// Typed metadata of a trace file, as the addon describes it (native/src/info.rs).

export interface CpuData {
  cpu: number;
  /** File offset of the CPU's stream. */
  offset: number;
  /** Size as declared by the writer (4 bytes short in compressed files before trace-cmd 3.2). */
  size: number;
}

export interface Buffer {
  /** "" for the top instance. */
  name: string;
  clock: string | null;
  pageSize: number;
  kind: 'flyrecord' | 'latency';
  cpus?: CpuData[];
  offset?: number;
  size?: number;
}

export interface TimeShiftSample {
  time: bigint;
  offset: bigint;
  scaling: bigint;
  fraction: number;
}

export type OptionValue =
  | string
  | number
  | bigint
  | null
  | { offset: number; name: string; clock: string | null; pageSize: number | null; cpus: CpuData[] }
  | { peerTraceId: bigint; flags: number; cpus: TimeShiftSample[][] }
  | { name: string; traceId: bigint; vcpus: { vcpu: number; pid: number }[] }
  | { mult: number; shift: number; offset: bigint };

export interface TraceOption {
  id: number;
  /** trace-cmd's name for the id (TimeShift for 12), null when unknown. */
  name: string | null;
  size: number;
  /** File offset of the option's id field (inside the inflated section when compressed). */
  offset: number;
  /** The decoded payload; unknown or undecodable options have `raw` (hex) instead. */
  value?: OptionValue;
  raw?: string;
}

export interface Metadata {
  version: number;
  bigEndian: boolean;
  /** sizeof(long) of the recording user space. */
  longSize: number;
  /** The kernel's long size (from header_page), which places page data at 12 or 16. */
  kernelLongSize: number;
  pageSize: number;
  compression: { name: string; version: string } | null;
  fileSize: number;
  buffers: Buffer[];
  /** Byte sizes and counts of the metadata sections. */
  metadata: {
    headerPage?: number;
    headerEvent?: number;
    ftraceEvents?: number;
    eventSystems?: number;
    events?: number;
    kallsyms?: number;
    printk?: number;
    cmdlines?: number;
  };
  options: TraceOption[];
}

/** Parses the addon's JSON, turning the 64-bit values it writes as strings into BigInts. */
export function parseMetadata(json: string): Metadata {
  const m = JSON.parse(json) as Metadata;
  for (const o of m.options) {
    if (o.id === 11 && typeof o.value === 'string') o.value = BigInt(o.value);
    const v = o.value as Record<string, unknown> | undefined;
    if (!v || typeof v !== 'object') continue;
    if (o.id === 12) {
      const ts = v as unknown as { peerTraceId: string | bigint; cpus: { time: string | bigint; offset: string | bigint; scaling: string | bigint }[][] };
      ts.peerTraceId = BigInt(ts.peerTraceId);
      for (const cpu of ts.cpus)
        for (const s of cpu) {
          s.time = BigInt(s.time);
          s.offset = BigInt(s.offset);
          s.scaling = BigInt(s.scaling);
        }
    } else if (o.id === 13) {
      v.traceId = BigInt(v.traceId as string);
    } else if (o.id === 14) {
      v.offset = BigInt(v.offset as string);
    }
  }
  return m;
}

/** A region of a CPU's data that a salvaging read stepped over, and why. */
export interface Skipped {
  /** 'page', 'chunk' (compressed), 'rest of the CPU data', or 'CPU data' (all of it). */
  what: string;
  /** The error it would have been without salvage: where, and what was expected there. */
  section: string;
  offset: number;
  expected: string;
}

export interface CpuScan {
  cpu: number;
  count: number;
  /** Reported (converted) and raw ring-buffer times of the first and last records. */
  first?: bigint;
  last?: bigint;
  firstRaw?: bigint;
  lastRaw?: bigint;
  /** Pages carrying a lost-events mark, and the events they say were lost (when stored). */
  missedMarks: number;
  missedEvents: number;
  /** With `scan({ salvage: true })`: the damaged regions stepped over, in file order. */
  skipped?: Skipped[];
}

export interface BufferScan {
  name: string;
  cpus: CpuScan[];
}

export function parseScan(json: string): BufferScan[] {
  const s = JSON.parse(json) as BufferScan[];
  for (const b of s)
    for (const c of b.cpus) {
      for (const k of ['first', 'last', 'firstRaw', 'lastRaw'] as const) {
        if (c[k] !== undefined) c[k] = BigInt(c[k] as unknown as string);
      }
    }
  return s;
}

export interface FormatField {
  name: string;
  /** The declared type without name and array suffix: "unsigned short", "__data_loc char[]". */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** One of the common_* fields every event starts with. */
  common: boolean;
  /** null: not an array; a number: its declared length; a string: "" for `[]`, else the
   * length as written (`TASK_COMM_LEN`). Use `size` to locate the bytes. */
  array: number | string | null;
  /** `__data_loc`: a u32 (length << 16 | offset) pointing into the record. */
  dataLoc: boolean;
  /** `__rel_loc`: like dataLoc, with the offset relative to the end of the field. */
  relLoc: boolean;
}

export interface EventFormat {
  /** "ftrace" for ftrace's own events. */
  system: string;
  name: string;
  id: number;
  /** Common fields first, then the event's own. */
  fields: FormatField[];
  /** The raw `print fmt:` text. */
  printFmt: string;
}

/** A format that did not parse: its system and the reason. */
export interface BrokenFormat {
  system: string;
  error: string;
}
