// Ground truth for the merge tests, made from real recordings: a trace's own records split into
// a "host" and a "guest" file, the guest's times moved off host time by the inverse of the
// clock under test, and a truth file holding the same records on their TRUE host times (host in
// the top buffer, guest in an instance named as merge names it). Everything a merge must get
// right is then a byte comparison of reports. The clock arithmetic here is written out from the
// notes (trace-cmd's TIME_SHIFT, KVM's TSC offset and scaling), not taken from native/src.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildRecord, TraceFile } from '../src/index.js';
import { CLI, FIXTURES, PUBLIC, REAL, ROOT, run, type Run } from './helpers.js';

const real = (f: string) => join(ROOT, REAL, f);
const pub = (f: string) => join(ROOT, PUBLIC, f);

/** Two buffers (top + "fixture2") on one x86-tsc clock, 2 CPUs: host and guest records. */
export const INSTANCE = real('instance-v7-zstd.dat');
/** Big-endian (s390x), `local` clock: top + instance "second", 2 CPUs, nodename "(none)". */
export const S390X = real('s390x-be-v7-zstd.dat');
/** A 64 KB/CPU overwrite-mode capture: each CPU's first page carries a lost-events count. */
export const OVERFLOW = real('overflow-overwrite-v7-zstd.dat');
/** A KVM host with real kvm_write_tsc_offset events (vCPU 0 by pid 1227, vCPU 1 by 1229). */
export const KVM = real('kvm-host-vcpu-create-v7-zstd.dat');
export const PUBLIC_HOST = pub('Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat');
export const PUBLIC_GUEST = pub('Masterarbeit__documentation__trace-cmd__analysis__test__trace-Salamander4.dat');
/** `trace-cmd report -i PUBLIC_HOST -i PUBLIC_GUEST` by trace-cmd 3.2.0 (3.1.6 cannot read zlib). */
export const PUBLIC_REPORT = pub('expected-trace-cmd-3.2.0/hip24-host-guest.report.txt.gz');
export const KSHARK_CHECK = join(FIXTURES, '..', 'tools', 'kshark-check.sh');

/** The path, or a one-line failure saying what of the shared folder is missing. */
export function need(path: string): string {
  if (!existsSync(path)) throw new Error(`merge tests need ${path}, which is not there`);
  return path;
}

export const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
export const i64 = (x: bigint): bigint => BigInt.asIntN(64, x);

/** A record to write, with its data copied out of the reader's batch. */
export interface Rec extends BuildRecord {
  timestamp: bigint;
  missed: number;
}

/** Every record of `buffer`, raw times, in time order across CPUs (stream order per CPU). */
export function recordsOf(t: TraceFile, buffer = 0): Rec[] {
  const out: Rec[] = [];
  for (const r of t.records(buffer, { rawTimestamps: true })) out.push({ cpu: r.cpu, timestamp: r.rawTimestamp, data: Uint8Array.from(r.data), missed: r.missedEvents });
  return out;
}

/** The records of each CPU, in stream order. */
export function byCpu(recs: readonly Rec[]): Map<number, Rec[]> {
  const m = new Map<number, Rec[]>();
  for (const r of recs) {
    if (!m.has(r.cpu)) m.set(r.cpu, []);
    m.get(r.cpu)!.push(r);
  }
  return m;
}

/** Event id → name, from a file's formats. */
export function eventNames(t: TraceFile): Map<number, string> {
  const m = new Map<number, string>();
  for (const f of t.formats()) if ('id' in f) m.set(f.id, `${f.system}:${f.name}`);
  return m;
}

export const eventId = (r: { data: Uint8Array }): number => r.data[0]! | (r.data[1]! << 8);

/** A TIME_SHIFT sample (notes B.1): guest time, offset, scaling, fraction bits. */
export interface Sample {
  time: bigint;
  offset: bigint;
  scaling: bigint;
  fraction: bigint;
}

export interface TimeShift {
  flags: number;
  /** Per guest vCPU, sorted by time with distinct times (as trace-cmd's reader leaves them). */
  cpus: Sample[][];
}

export const FLAG_INTERPOLATE = 1;

/** The TIME_SHIFT option's payload (id 12) in the file's byte order: notes B.1's order, fractions last. */
export function timeShiftPayload(peer: bigint, shift: TimeShift, bigEndian = false): Buffer {
  const u32 = (b: Buffer, v: number, at: number) => (bigEndian ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  const i64 = (b: Buffer, v: bigint, at: number) => (bigEndian ? b.writeBigInt64BE(v, at) : b.writeBigInt64LE(v, at));
  const head = Buffer.alloc(16);
  if (bigEndian) head.writeBigUInt64BE(peer, 0);
  else head.writeBigUInt64LE(peer, 0);
  u32(head, shift.flags, 8);
  u32(head, shift.cpus.length, 12);
  const parts = [head];
  for (const samples of shift.cpus) {
    const n = samples.length;
    const b = Buffer.alloc(4 + 24 * n);
    u32(b, n, 0);
    samples.forEach((s, i) => {
      i64(b, s.time, 4 + 8 * i);
      i64(b, s.offset, 4 + 8 * (n + i));
      i64(b, s.scaling, 4 + 8 * (2 * n + i));
    });
    parts.push(b);
  }
  for (const samples of shift.cpus) {
    const b = Buffer.alloc(8 * samples.length);
    samples.forEach((s, i) => i64(b, s.fraction, 8 * i));
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** The UNAME option's payload: `sysname nodename release machine` and a NUL. */
export function unamePayload(nodename: string): Buffer {
  return Buffer.from(`Linux ${nodename} 6.18.44-fc-v669 x86_64\0`);
}

/**
 * trace-cmd 3.1.6's `timestamp_host_sync` (notes D.2): one sample adds its offset and ignores
 * scaling; with more, the pair around `ts` (the first two before the first sample, the last two
 * after the last one); the correction is the pair's first offset (step mode: so after the last
 * sample the second-to-last offset applies) or the interpolation in signed 64-bit with C's
 * truncating division; then ts * scaling >> fraction in u64, plus the correction.
 */
export function hostSync(ts: bigint, cpu: number, shift: TimeShift): bigint {
  const s = shift.cpus[cpu];
  if (!s || s.length === 0) return ts;
  if (s.length === 1) return u64(ts + s[0]!.offset);
  const n = s.length;
  let i = 0;
  if (n > 2 && ts > s[0]!.time) {
    if (ts >= s[n - 1]!.time) i = n - 2;
    else while (s[i + 1]!.time <= ts) i++;
  }
  const a = s[i]!;
  const b = s[i + 1]!;
  let cor = a.offset;
  if (shift.flags & FLAG_INTERPOLATE) {
    const delta = b.time - a.time;
    const num = i64(i64(i64(ts) - a.time) * (b.offset - a.offset));
    cor = i64(a.offset + i64(num + delta / 2n) / delta);
  }
  return u64((u64(ts * a.scaling) >> a.fraction) + cor);
}

/**
 * The least guest time g >= `lo` that `f` (non-decreasing there) maps to host time `h`,
 * searched from `guess`. Throws when no guest time maps to `h`: the scenario is built wrong.
 */
export function preimage(f: (g: bigint) => bigint, h: bigint, lo: bigint, guess: bigint): bigint {
  let hi = guess < lo ? lo : guess;
  let below = lo - 1n;
  if (f(hi) >= h) {
    for (let step = 1n; ; step *= 2n) {
      const c = hi - step;
      if (c < lo) break;
      if (f(c) < h) {
        below = c;
        break;
      }
      hi = c;
    }
  } else {
    below = hi;
    for (let step = 1n; ; step *= 2n) {
      const c = below + step;
      if (f(c) >= h) {
        hi = c;
        break;
      }
      below = c;
    }
  }
  while (hi - below > 1n) {
    const m = (hi + below) / 2n;
    if (f(m) >= h) hi = m;
    else below = m;
  }
  if (f(hi) !== h) throw new Error(`scenario: no guest time from ${lo} maps to host time ${h} (nearest ${hi} -> ${f(hi)})`);
  return hi;
}

/** Guest records on guest time: per CPU in stream order, each the least time after its predecessor's that `toHost` maps to its host time. */
export function invertRecords(recs: readonly Rec[], toHost: (g: bigint, cpu: number) => bigint): Rec[] {
  const prev = new Map<number, { g: bigint; h: bigint }>();
  return recs.map((r) => {
    const p = prev.get(r.cpu);
    const f = (g: bigint) => toHost(g, r.cpu);
    const guess = p ? p.g + (r.timestamp - p.h) : r.timestamp - (f(r.timestamp) - r.timestamp);
    const g = preimage(f, r.timestamp, p?.g ?? 0n, guess);
    prev.set(r.cpu, { g, h: r.timestamp });
    return { ...r, timestamp: g };
  });
}

/** KVM's guest TSC: ((host * ratio) >> frac) + offset, in u64 (the product in 128 bits, as KVM's mul_u64_u64_shr). */
export function kvmGuest(host: bigint, offset: bigint, scaling?: { ratio: bigint; frac: bigint }): bigint {
  const scaled = scaling ? (host * scaling.ratio) >> scaling.frac : host;
  return u64(scaled + offset);
}

/** Field offsets of kvm_write_tsc_offset in a file's formats. */
export interface WriteLayout {
  id: number;
  pid: number;
  vcpu: number;
  previous: number;
  next: number;
}

export function writeLayout(t: TraceFile): WriteLayout {
  const f = t.formats().find((x) => 'id' in x && x.name === 'kvm_write_tsc_offset');
  if (!f || !('fields' in f)) throw new Error(`${t.name}: no kvm_write_tsc_offset format`);
  const at = (name: string) => {
    const x = f.fields.find((y) => y.name === name);
    if (!x) throw new Error(`kvm_write_tsc_offset has no ${name}`);
    return x.offset;
  };
  return { id: f.id, pid: at('common_pid'), vcpu: at('vcpu_id'), previous: at('previous_tsc_offset'), next: at('next_tsc_offset') };
}

/** A kvm_write_tsc_offset record: a real one's bytes with the fields set (little-endian file). */
export function tscWrite(like: Uint8Array, l: WriteLayout, w: { pid: number; vcpu: number; previous: bigint; next: bigint }): Uint8Array {
  const b = Buffer.from(like);
  b.writeUInt16LE(l.id, 0);
  b.writeInt32LE(w.pid, l.pid);
  b.writeUInt32LE(w.vcpu, l.vcpu);
  b.writeBigUInt64LE(u64(w.previous), l.previous);
  b.writeBigUInt64LE(u64(w.next), l.next);
  return new Uint8Array(b);
}

/** Inserts `extra` records into `recs` by time (after records of equal time), per CPU order kept. */
export function insertByTime(recs: readonly Rec[], extra: readonly Rec[]): Rec[] {
  const out = [...recs];
  for (const e of [...extra].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0))) {
    let i = out.findIndex((r) => r.timestamp > e.timestamp);
    if (i < 0) i = out.length;
    out.splice(i, 0, e);
  }
  return out;
}

/** Per CPU: record count and a hash of (event name, data after common_type, missed events) in stream order. */
export interface Digest {
  records: number;
  cpus: Record<number, { records: number; sha: string }>;
}

export function digest(t: TraceFile, buffer: number, names = eventNames(t)): Digest {
  const hashes = new Map<number, { records: number; h: ReturnType<typeof createHash> }>();
  let records = 0;
  for (const r of t.records(buffer, { rawTimestamps: true })) {
    records++;
    let c = hashes.get(r.cpu);
    if (!c) hashes.set(r.cpu, (c = { records: 0, h: createHash('sha256') }));
    c.records++;
    c.h.update(`${names.get(r.eventId) ?? r.eventId}\0${r.missedEvents}\0${r.data.length}\0`);
    c.h.update(r.data.subarray(2));
  }
  const cpus: Digest['cpus'] = {};
  for (const [cpu, c] of [...hashes].sort((a, b) => a[0] - b[0])) cpus[cpu] = { records: c.records, sha: c.h.digest('hex') };
  return { records, cpus };
}

/** `trace-cmd report ARGS`: stdout, failing on a non-zero exit. */
export async function traceCmdReport(args: readonly string[]): Promise<Buffer> {
  const r = await run('trace-cmd', ['report', ...args], { timeoutMs: 120_000 });
  if (r.status !== 0) throw new Error(`trace-cmd report ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
  return r.stdout;
}

/** `node dist/cli.js ARGS`. */
export function tracedat(args: readonly string[]): Promise<Run> {
  return run(process.execPath, [CLI, ...args], { timeoutMs: 120_000 });
}

/** One record line of a report: which buffer (or input) printed it and its columns. */
export interface Line {
  /** The name before the ':' ('' for the top buffer). */
  source: string;
  comm: string;
  pid: number;
  cpu: string;
  time: string;
  rest: string;
}

const RECORD = /^(.*?)-(\d+) +\[(\d{3})\] *(\d+(?:\.\d+)?): (.*)$/;
const DROPPED = /^(.*?)CPU:(\d+) (\[(?:\d+ )?EVENTS DROPPED\])$/;

/**
 * The record lines of a report (not `cpus=` lines), split at the buffer or file name (one of
 * `names`, as trace-cmd prints `NAME:` padded to the longest) and the `COMM-PID [CPU] TIME:`
 * columns; lost-event lines too (pid -1). trace-cmd prints the name before `CPU:N [.. EVENTS
 * DROPPED]` and not again on the record line that follows it: that one takes the name above.
 */
export function recordLines(report: Buffer | string, names: readonly string[]): Line[] {
  const text = typeof report === 'string' ? report : report.toString('latin1');
  const sorted = [...names].sort((a, b) => b.length - a.length);
  const split = (head: string): [string, string] => {
    const trimmed = head.trimStart();
    const name = sorted.find((n) => n !== '' && trimmed.startsWith(`${n}: `));
    return name === undefined ? ['', head] : [name, trimmed.slice(name.length + 1)];
  };
  const out: Line[] = [];
  let after: string | undefined;
  for (const line of text.split('\n')) {
    const d = DROPPED.exec(line);
    if (d) {
      after = split(d[1]!)[0];
      out.push({ source: after, comm: '', pid: -1, cpu: d[2]!, time: '', rest: d[3]! });
      continue;
    }
    const m = RECORD.exec(line);
    if (!m) continue;
    let [source, head] = split(m[1]!);
    if (source === '' && after !== undefined) source = after;
    after = undefined;
    out.push({ source, comm: head.trim(), pid: Number(m[2]), cpu: m[3]!, time: m[4]!, rest: m[5]! });
  }
  return out;
}

/** Where two lists of lines first differ ('' when equal), with a few lines of context. */
export function firstLineDifference<T>(actual: readonly T[], expected: readonly T[], show: (x: T) => string = (x) => JSON.stringify(x)): string {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && show(actual[i]!) === show(expected[i]!)) i++;
  if (i === n && actual.length === expected.length) return '';
  const at = (l: readonly T[], k: number) => (k < l.length ? show(l[k]!) : '<end>');
  return `line ${i + 1} of ${actual.length} (expected ${expected.length}):\n  got:      ${at(actual, i)}\n  expected: ${at(expected, i)}\n  next got:      ${at(actual, i + 1)}\n  next expected: ${at(expected, i + 1)}`;
}

/** Report outputs compared line by line, the first difference shown. */
export function reportDifference(actual: Buffer, expected: Buffer): string {
  if (actual.equals(expected)) return '';
  return firstLineDifference(actual.toString('latin1').split('\n'), expected.toString('latin1').split('\n'), (x) => x);
}
