// Typed metadata of a trace file, as the addon describes it (native/src/info.rs).

export interface CpuData {
  cpu: number;
  /** File offset of the CPU's stream. */
  offset: number;
  /** Size as declared by the writer (4 bytes short in compressed files before trace-cmd 3.2). */
  size: number;
}

interface BufferCommon {
  /** "" for the top instance. */
  name: string;
  clock: string | null;
  pageSize: number;
}

/** A buffer of ring-buffer pages, per CPU. */
export interface FlyrecordBuffer extends BufferCommon {
  kind: 'flyrecord';
  cpus: CpuData[];
}

/** A latency-tracer buffer: its text as stored. */
export interface LatencyBuffer extends BufferCommon {
  kind: 'latency';
  /** File offset and size of the text. */
  offset: number;
  size: number;
}

export type TraceBuffer = FlyrecordBuffer | LatencyBuffer;

export interface TimeShiftSample {
  time: bigint;
  offset: bigint;
  scaling: bigint;
  fraction: number;
}

/** A BUFFER or BUFFER_TEXT option: where an instance's data is. */
export interface BufferOptionValue {
  kind: 'buffer';
  offset: number;
  name: string;
  clock: string | null;
  pageSize: number | null;
  cpus: CpuData[];
}

/** A decoded option payload; `kind` says which shape it has. */
export type OptionValue =
  /** DATE, CPUSTAT, TRACECLOCK, UNAME, HOOK, OFFSET, VERSION, PROCMAPS, LAST_BOOT_INFO. */
  | { kind: 'text'; text: string }
  /** CPUCOUNT. */
  | { kind: 'count'; value: number }
  /** DONE (v7: the next options section) and the v7 section pointers. */
  | { kind: 'offset'; value: number }
  /** TRACEID. */
  | { kind: 'traceId'; traceId: bigint }
  | BufferOptionValue
  /** TimeShift: per CPU, the samples of guest-to-host time. */
  | { kind: 'timeShift'; peerTraceId: bigint; flags: number; cpus: TimeShiftSample[][] }
  /** GUEST: a guest of this host, and which host task runs each of its vCPUs. */
  | { kind: 'guest'; name: string; traceId: bigint; vcpus: { vcpu: number; pid: number }[] }
  /** TSC2NSEC. */
  | { kind: 'tsc2nsec'; mult: number; shift: number; offset: bigint };

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
  buffers: TraceBuffer[];
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

/** The 64-bit values of an option as the addon writes them: decimal strings. */
type Wire<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] extends TimeShiftSample[][] ? Wire<TimeShiftSample>[][] : T[K] };

/** Parses the addon's JSON, turning the 64-bit values it writes as strings into BigInts. */
export function parseMetadata(json: string): Metadata {
  const m = JSON.parse(json) as Metadata;
  for (const o of m.options) {
    const v = o.value as Wire<OptionValue> | undefined;
    switch (v?.kind) {
      case 'traceId':
        o.value = { ...v, traceId: BigInt(v.traceId) };
        break;
      case 'timeShift':
        o.value = {
          ...v,
          peerTraceId: BigInt(v.peerTraceId),
          cpus: v.cpus.map((cpu) => cpu.map((s) => ({ ...s, time: BigInt(s.time), offset: BigInt(s.offset), scaling: BigInt(s.scaling) }))),
        };
        break;
      case 'guest':
        o.value = { ...v, traceId: BigInt(v.traceId) };
        break;
      case 'tsc2nsec':
        o.value = { ...v, offset: BigInt(v.offset) };
        break;
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
