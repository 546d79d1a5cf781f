// A KVM host and its guests merged into ONE trace.dat in host time (native/src/merge/plan.rs).
import { native, type MergeCursor, type TimelineCursor } from './native.js';
import { fromNative, TraceError } from './errors.js';
import { UsageError } from './usage.js';
import { isInput } from './convert.js';
import type { Compression } from './convert.js';
import type { TraceFile } from './trace.js';
import { iterateTagged, type TraceRecord } from './records.js';

/** How a guest's clock is lined up with the host's (`--sync`). */
export type SyncMethod = 'auto' | 'time-shift' | 'kvm' | 'offset' | 'none';

export interface GuestSyncOptions {
  /** KVM's TSC offset (guest = host + offset), for all vCPUs or per vCPU: `{ 1: -5000n }`. */
  tscOffset?: bigint | Record<number, bigint>;
  /** Added to the guest's times, in the units the host's report shows (trace-cmd's `--ts-offset`). */
  tsOffset?: bigint;
  /** KVM's TSC scaling ratio and its fraction bits. */
  tscScaling?: { ratio: bigint; fractionBits: number };
  /** The host pids of the guest's vCPU threads, vCPU 0 first. */
  vcpuPids?: number[];
}

export interface MergeOptions {
  /** Default 'auto': TIME_SHIFT, else the host's kvm_write_tsc_offset events, else an offset given. */
  sync?: SyncMethod;
  /** Per guest, by its name, file name or path. */
  guests?: Record<string, GuestSyncOptions>;
  /** Per-guest options as the CLI spells them, e.g. `['tsc-offset', 'vm1:0=18446743360465545001']`. */
  cliOptions?: readonly (readonly [string, string])[];
  version?: 6 | 7;
  compression?: Compression;
  level?: number;
  /** Redraw a progress line on stderr (a terminal). */
  progress?: boolean;
  threads?: number;
}

export interface MergedGuest {
  /** The buffer instance the guest became. */
  name: string;
  path: string;
  /** Where its host times came from, in words, and as a key. */
  source: string;
  sync: 'time-shift' | 'kvm' | 'offset' | 'none';
  vcpus: number;
  records: number;
  /** First and last host time of its records (as reported, and raw). */
  first?: bigint;
  last?: bigint;
  firstRaw?: bigint;
  lastRaw?: bigint;
  eventsShared: number;
  eventsAdded: number;
  /** Guest table entries added to the file's one table, and those that could not be. */
  kallsyms: { added: number; dropped: number };
  printk: { added: number; dropped: number };
  comms: { added: number; dropped: number };
  unknownEvents: number;
  tooLarge: number;
  notes: string[];
}

export interface MergeResult {
  path: string;
  /** The input taken as the host. */
  host: string;
  /** Whether the host's times are nanoseconds (else raw clock counts), as its report prints them. */
  nanoseconds: boolean;
  guests: MergedGuest[];
}

interface NativeMergeError {
  code?: string;
  message?: string;
  input?: number;
  path?: string;
}

/** Bigint fields arrive as decimal strings (they may pass 2^53). */
function bigints<T extends object>(o: T, keys: string[]): T {
  const r = o as Record<string, unknown>;
  for (const k of keys) if (typeof r[k] === 'string') r[k] = BigInt(r[k] as string);
  return o;
}

/** A native merge cursor with `inputs` and the sync options of `options`. */
function cursorFor(inputs: readonly TraceFile[], options: MergeOptions | AttachOptions): MergeCursor {
  try {
    const cursor = native.mergeOpen(options.sync ?? 'auto');
    for (const [key, g] of Object.entries(options.guests ?? {})) {
      if (typeof g.tscOffset === 'bigint') native.mergeOption(cursor, 'tsc-offset', `${key}=${BigInt.asUintN(64, g.tscOffset)}`);
      else for (const [vcpu, n] of Object.entries(g.tscOffset ?? {})) native.mergeOption(cursor, 'tsc-offset', `${key}:${vcpu}=${BigInt.asUintN(64, n)}`);
      if (g.tsOffset !== undefined) native.mergeOption(cursor, 'ts-offset', `${key}=${g.tsOffset}`);
      if (g.tscScaling !== undefined) native.mergeOption(cursor, 'tsc-scaling', `${key}=${g.tscScaling.ratio},${g.tscScaling.fractionBits}`);
      if (g.vcpuPids !== undefined) native.mergeOption(cursor, 'vcpu-pids', `${key}=${g.vcpuPids.join(',')}`);
    }
    for (const [flag, value] of options.cliOptions ?? []) native.mergeOption(cursor, flag, value);
    for (const t of inputs) native.mergeInput(cursor, t.handle, t.name);
    return cursor;
  } catch (e) {
    const n = e as NativeMergeError;
    if (n?.code === 'ERR_TRACEDAT_USAGE') throw new UsageError(n.message ?? 'bad merge options');
    throw e;
  }
}

/** The error of a native merge or attach, in the terms of its inputs and output. */
function mergeFailure(inputs: readonly TraceFile[], out: string, e: unknown): unknown {
  const n = e as NativeMergeError;
  if (n?.code === 'ERR_TRACEDAT_OUTPUT') return new TraceError(n.path ?? out, 'output file', undefined, `cannot write it (${n.message ?? 'failed'})`, 'ERR_TRACEDAT_OUTPUT');
  if (n?.code === 'ERR_TRACEDAT_USAGE') return new UsageError(n.message ?? 'bad arguments');
  if (n?.code === 'ERR_TRACEDAT_SYNC') return new TraceError(inputs[n.input ?? 0]!.name, 'time sync', undefined, n.message ?? 'cannot line it up with the host', 'ERR_TRACEDAT_SYNC');
  return fromNative(inputs[n?.input ?? 0]!.name, e);
}

/**
 * Merges a host trace and its guests' (in any order: the host is the file whose GUEST
 * options name the others, else the first) into `out`, one file in host time that trace-cmd
 * and KernelShark read as one timeline: the host's buffers as they are, each guest a buffer
 * instance named after it. Written on libuv's thread pool, through a temporary file.
 */
export async function merge(inputs: readonly TraceFile[], out: string, options: MergeOptions = {}): Promise<MergeResult> {
  if (inputs.length < 2) throw new UsageError('merge: a host and at least one guest');
  for (const t of inputs) if (isInput(t.name, out)) throw new UsageError(`${out}: refusing to write over the input file`);
  const version = options.version ?? 7;
  const compression = options.compression ?? (version === 7 ? 'any' : 'none');
  const cursor = cursorFor(inputs, options);
  let json: string;
  try {
    json = await native.mergeRun(cursor, out, version, compression, options.level ?? null, options.progress ? 2 : null, options.threads ?? null);
  } catch (e) {
    throw mergeFailure(inputs, out, e);
  }
  const r = JSON.parse(json) as { host: string; nanoseconds: boolean; guests: MergedGuest[] };
  return { path: out, host: r.host, nanoseconds: r.nanoseconds, guests: r.guests.map((g) => bigints(g, ['first', 'last', 'firstRaw', 'lastRaw'])) };
}

export type AttachOptions = Pick<MergeOptions, 'sync' | 'guests' | 'cliOptions' | 'version' | 'compression' | 'level' | 'threads'>;

export interface AttachedGuest {
  name: string;
  path: string;
  /** Its copy. */
  out: string;
  source: string;
  /** kept: its own TIME_SHIFT; time-shift: one written (`samples` per vCPU); rewritten: its
   * timestamps moved onto host time (no TIME_SHIFT can say the mapping, e.g. a clock going back). */
  mode: 'kept' | 'time-shift' | 'rewritten';
  samples?: number[];
  notes: string[];
}

export interface AttachResult {
  /** The host's copy. */
  host: string;
  guests: AttachedGuest[];
}

/**
 * Copies of a host and its guests into `dir`, named as the inputs, in which stock `trace-cmd
 * report -i host -i guest` orders every record truly: the host copy names each guest in a
 * GUEST option, each guest copy carries a TRACEID and a TIME_SHIFT made from its clock.
 */
export async function attach(inputs: readonly TraceFile[], dir: string, options: AttachOptions = {}): Promise<AttachResult> {
  if (inputs.length < 2) throw new UsageError('attach: a host and at least one guest');
  const version = options.version ?? 7;
  const compression = options.compression ?? (version === 7 ? 'any' : 'none');
  const cursor = cursorFor(inputs, options);
  try {
    return JSON.parse(await native.attachRun(cursor, dir, version, compression, options.level ?? null, null, options.threads ?? null)) as AttachResult;
  } catch (e) {
    throw mergeFailure(inputs, dir, e);
  }
}

export type TimelineOptions = Pick<MergeOptions, 'sync' | 'guests' | 'cliOptions'> & {
  /** Records per N-API call. */
  batch?: number;
};

/** A record of the merged timeline, its time on the host's clock. */
export interface TimelineRecord extends TraceRecord {
  /** Index in the timeline's inputs of the file it came from. */
  input: number;
  /** Its buffer as the merged file names it: the host's as they are ('' the top one), a
   * guest's top buffer by the guest's name, its instances `guest:instance`. */
  source: string;
  /** Whether it is one of the host's records. */
  host: boolean;
}

export interface TimelineSource {
  input: number;
  /** Index of the buffer in that input's `metadata.buffers`. */
  buffer: number;
  name: string;
}

/** A host and its guests read as one timeline in host time, without writing a file. */
export interface Timeline {
  /** The index in `inputs` of the host. */
  host: number;
  sources: TimelineSource[];
  /** What lined each guest up, and what could not be kept (a buffer on another clock). */
  notes: string[];
  /** Every record of every source, in host-time order (trace-cmd's order for equal times). */
  records(): Generator<TimelineRecord>;
}

/**
 * The records of a host and its guests as one timeline in host time, the guests lined up as
 * `merge` would line them up (the same sync sources and options), read in batches from the
 * addon's k-way merge: what `merge` would write, without the file.
 */
export function timeline(inputs: readonly TraceFile[], options: TimelineOptions = {}): Timeline {
  if (inputs.length < 2) throw new UsageError('timeline: a host and at least one guest');
  const merging = cursorFor(inputs, options);
  let cursor: TimelineCursor;
  try {
    cursor = native.timelineOpen(merging);
  } catch (e) {
    throw mergeFailure(inputs, '', e);
  }
  const info = JSON.parse(native.timelineSources(cursor)) as { host: number; sources: TimelineSource[]; notes: string[] };
  const batch = options.batch ?? 4096;
  const tagged = info.sources.map((s) => ({ buffer: s.buffer, bigEndian: inputs[s.input]!.metadata.bigEndian, pidOffset: inputs[s.input]!.pidOffset }));
  let started = false;
  function* records(): Generator<TimelineRecord> {
    if (started) throw new Error('timeline: records() reads the timeline once');
    started = true;
    const it = iterateTagged(() => native.timelineNext(cursor, batch), tagged);
    for (;;) {
      let n: IteratorResult<[number, TraceRecord]>;
      try {
        n = it.next();
      } catch (e) {
        throw fromNative(inputs[(e as NativeMergeError)?.input ?? info.host]!.name, e);
      }
      if (n.done) return;
      const [si, r] = n.value;
      const s = info.sources[si]!;
      yield Object.assign(r, { input: s.input, source: s.name, host: s.input === info.host });
    }
  }
  return { ...info, records };
}
