// Shared helpers of the dump tests: running trace-cmd and tracedat, comparing their output,
// and the byte layout of trace.dat files (to damage them in the right places).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures } from '../scripts/fixtures.mjs';
import { DumpItem, open, TraceError, type FlyrecordBuffer, type OptionValue, type TraceBuffer, type TraceFile } from '../src/index.js';

/** The repository root: trace-cmd and tracedat both run here, with paths relative to it. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The shared fixtures ($TRACEDAT_FIXTURES or the nearest shared/fixtures above ROOT); a test file
 * that finds none fails with one line saying so. */
export const FIXTURES = fixtures();
/** Our recordings and the third-party files, relative to ROOT. */
export const REAL = relative(ROOT, join(FIXTURES, 'real'));
export const PUBLIC = relative(ROOT, join(FIXTURES, 'public'));
/** trace-cmd 3.2.0's dump outputs for the files Debian's 3.1.6 cannot read (zlib). */
export const EXPECTED_320 = `${PUBLIC}/expected-trace-cmd-3.2.0`;
export const CLI = join(ROOT, 'dist', 'cli.js');
/** The public files Debian's trace-cmd 3.1.6 cannot read (zlib); EXPECTED_320 has their outputs. */
export const ZLIB_FILES = /Masterarbeit__documentation__trace-cmd__(analysis__test__trace|LTS)/;

/** Every dump flag: each item, --all, -v, and none (trace-cmd's default, --summary). */
export const DUMP_FLAGS = [
  '',
  '--summary',
  '--head-page',
  '--head-event',
  '--ftrace-events',
  '--systems',
  '--events',
  '--kallsyms',
  '--printk',
  '--cmd-lines',
  '--options',
  '--flyrecord',
  '--clock',
  '--sections',
  '--strings',
  '--all',
  '-v',
] as const;
export type DumpFlag = (typeof DUMP_FLAGS)[number];

/** The one stderr line tracedat prints for a damaged file. */
export const ERROR_LINE = /^tracedat: .+: .+, offset \d+: .+$/;

/** The first option `id` of `t`, whose value must be of `kind` (else it throws, failing the test). */
export function optionValue<K extends OptionValue['kind']>(t: TraceFile, id: number, kind: K): Extract<OptionValue, { kind: K }> {
  const v = t.metadata.options.find((o) => o.id === id)?.value;
  if (v?.kind !== kind) throw new Error(`option ${id}: expected a ${kind} value, found ${v ? v.kind : 'none'}`);
  return v as Extract<OptionValue, { kind: K }>;
}

/** The buffer as a flyrecord one; throws (failing the test) when it is missing or a latency buffer. */
export function flyrecord(b: TraceBuffer | undefined): FlyrecordBuffer {
  if (b?.kind !== 'flyrecord') throw new Error(`expected a flyrecord buffer, found ${b ? b.kind : 'none'}`);
  return b;
}

/** The .dat files of a fixture directory (relative to ROOT), sorted. */
export function dats(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.dat'))
    .sort();
}

export interface Run {
  stdout: Buffer;
  stderr: string;
  /** Exit status, or null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

/** A counting semaphore: at most `n` callers inside at once. */
export function limiter(n: number): <T>(f: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((wake) => waiting.push(wake));
    active++;
    try {
      return await f();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Processes started by the tests at once (CI has 2 cores). */
const jobs = limiter(Number(process.env.TRACEDAT_TEST_JOBS ?? 3));

/** Runs a command to completion, killing it after `timeoutMs`. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return jobs(
    () =>
      new Promise<Run>((resolve, reject) => {
        const start = performance.now();
        const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 30_000 });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('error', reject);
        child.on('close', (status, signal) =>
          resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), status, signal, ms: performance.now() - start }),
        );
      }),
  );
}

/** `trace-cmd dump ARGS...`. */
export function traceCmd(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return run('trace-cmd', ['dump', ...args], opts);
}

/** `node dist/cli.js dump ARGS...`. */
export function tracedat(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return run(process.execPath, [CLI, 'dump', ...args], opts);
}

/** The arguments for one flag ('' = none) and a file. */
export function dumpArgs(flag: DumpFlag | string, file: string): string[] {
  return flag === '' ? [file] : [flag, file];
}

/**
 * Where two outputs first differ, as a readable line ('' when they are byte-identical): the
 * 1-based line number and both versions of that line.
 */
export function firstDifference(actual: Buffer, expected: Buffer): string {
  if (actual.equals(expected)) return '';
  let i = 0;
  const n = Math.min(actual.length, expected.length);
  while (i < n && actual[i] === expected[i]) i++;
  // (lastIndexOf with a negative offset counts from the end: guard i = 0.)
  const lineStart = i === 0 ? 0 : actual.lastIndexOf(0x0a, i - 1) + 1;
  const line = actual.subarray(0, lineStart).toString('latin1').split('\n').length;
  const lineOf = (b: Buffer): string => {
    const end = b.indexOf(0x0a, lineStart);
    return JSON.stringify(b.subarray(lineStart, end < 0 ? b.length : end).toString('latin1'));
  };
  return (
    `outputs differ at byte ${i} (line ${line}; tracedat ${actual.length} bytes, trace-cmd ${expected.length}):\n` +
    `  tracedat:  ${i >= actual.length ? '<end of output>' : lineOf(actual)}\n` +
    `  trace-cmd: ${i >= expected.length ? '<end of output>' : lineOf(expected)}`
  );
}

/** The stderr of a failed tracedat run, checked to be one clean error line; returns it. */
export function oneErrorLine(stderr: string): string {
  const lines = stderr.split('\n');
  if (lines.length !== 2 || lines[1] !== '') throw new Error(`expected exactly one stderr line, got:\n${stderr}`);
  if (/panicked|internal error|^\s+at /m.test(stderr)) throw new Error(`a crash, not an error line:\n${stderr}`);
  return lines[0]!;
}

/** The compression named in a v7 initial header ('' for v6 or unreadable). */
export function compressionOf(path: string): string {
  const b = readFileSync(join(ROOT, path)).subarray(0, 64);
  const version = b.indexOf(0, 10);
  if (b.subarray(10, version).toString() !== '7') return '';
  const name = version + 1 + 2 + 4;
  return b.subarray(name, b.indexOf(0, name)).toString();
}

/** Sections as trace-cmd's `dump --sections` lists them: id, offset and description. */
export interface Section {
  id: number;
  offset: number;
  description: string;
}

export async function sectionsByTraceCmd(path: string): Promise<Section[]> {
  const r = await traceCmd(['--sections', path]);
  if (r.status !== 0) throw new Error(`trace-cmd dump --sections ${path} failed: ${r.stderr}`);
  return [...r.stdout.toString().matchAll(/^\t\[Section +(\d+) @ (\d+) +\t"([^"]*)"/gm)].map((m) => ({
    id: Number(m[1]),
    offset: Number(m[2]),
    description: m[3]!,
  }));
}

/** A file's numbers in its own byte order. */
export class Layout {
  constructor(
    readonly data: Buffer,
    readonly bigEndian = data[data.indexOf(0, 10) + 1] !== 0,
  ) {}
  u16(at: number): number {
    return this.bigEndian ? this.data.readUInt16BE(at) : this.data.readUInt16LE(at);
  }
  u32(at: number): number {
    return this.bigEndian ? this.data.readUInt32BE(at) : this.data.readUInt32LE(at);
  }
  u64(at: number): number {
    return Number(this.bigEndian ? this.data.readBigUInt64BE(at) : this.data.readBigUInt64LE(at));
  }
  /** A copy with the u16/u32/u64 at `at` set to `value`. */
  patch(at: number, width: 2 | 4 | 8, value: number): Buffer {
    const c = Buffer.from(this.data);
    if (width === 2) this.bigEndian ? c.writeUInt16BE(value, at) : c.writeUInt16LE(value, at);
    else if (width === 4) this.bigEndian ? c.writeUInt32BE(value, at) : c.writeUInt32LE(value, at);
    else this.bigEndian ? c.writeBigUInt64BE(BigInt(value), at) : c.writeBigUInt64LE(BigInt(value), at);
    return c;
  }
}

/** A named place in a file. */
export interface Mark {
  name: string;
  offset: number;
}

/** The fields of the initial header (v6 and v7), each at its offset. */
export function initialHeaderMarks(l: Layout): Mark[] {
  const d = l.data;
  const version = d.indexOf(0, 10);
  const marks: Mark[] = [
    { name: 'magic', offset: 0 },
    { name: '"tracing"', offset: 3 },
    { name: 'version string', offset: 10 },
    { name: 'endian flag', offset: version + 1 },
    { name: 'long size', offset: version + 2 },
    { name: 'page size', offset: version + 3 },
  ];
  if (d.subarray(10, version).toString() === '7') {
    const name = version + 7;
    const ver = d.indexOf(0, name) + 1;
    const first = d.indexOf(0, ver) + 1;
    marks.push({ name: 'compression name', offset: name }, { name: 'compression version', offset: ver }, { name: 'first options offset', offset: first });
  }
  return marks;
}

/** The v6 layout (trace-cmd.dat.v6(5)): every part of the metadata, the options, and the CPU data. */
export interface V6Layout {
  marks: Mark[];
  /** Offset of each option's id field, with its id, in the first options block. */
  options: { id: number; offset: number }[];
  kallsymsSize: number;
  /** Per CPU: offset and size of its data. */
  cpus: { offset: number; size: number }[];
}

export function v6Layout(l: Layout): V6Layout {
  const d = l.data;
  const marks = initialHeaderMarks(l);
  let p = marks.at(-1)!.offset + 4;
  const mark = (name: string): void => void marks.push({ name, offset: p });
  const u32 = (): number => ((p += 4), l.u32(p - 4));
  const u64 = (): number => ((p += 8), l.u64(p - 8));
  // A size field, then that many bytes (not `p += u64()`: p would be read before u64 moves it).
  const sized = (read: () => number): void => {
    const n = read();
    p += n;
  };
  mark('header_page');
  p += 12;
  mark('header_page size');
  sized(u64);
  mark('header_event');
  p += 13;
  mark('header_event size');
  sized(u64);
  mark('ftrace event formats');
  for (let n = u32(); n > 0; n--) sized(u64);
  mark('event systems');
  for (let n = u32(); n > 0; n--) {
    p = d.indexOf(0, p) + 1;
    for (let m = u32(); m > 0; m--) sized(u64);
  }
  mark('kallsyms');
  const kallsymsSize = l.u32(p);
  p += 4 + kallsymsSize;
  mark('printk');
  sized(u32);
  mark('cmdlines');
  sized(u64);
  mark('CPU count');
  const ncpus = u32();
  const options: { id: number; offset: number }[] = [];
  const cpus: { offset: number; size: number }[] = [];
  for (;;) {
    const tag = d.subarray(p, p + 10).toString('latin1');
    if (tag === 'options  \0' && options.length === 0) {
      mark('options tag');
      p += 10;
      for (let id = l.u16(p); id !== 0; id = l.u16(p)) {
        options.push({ id, offset: p });
        p += 6 + l.u32(p + 2);
      }
      mark('options end marker');
      p += 2;
    } else if (tag === 'flyrecord\0') {
      mark('flyrecord tag');
      p += 10;
      mark('flyrecord table');
      for (let i = 0; i < ncpus; i++) cpus.push({ offset: u64(), size: u64() });
      if (options.some((o) => o.id === 4)) {
        mark('clock');
        sized(u64);
      }
      mark('after the header');
      break;
    } else {
      throw new Error(`unexpected v6 tag ${JSON.stringify(tag)} at ${p}`);
    }
  }
  for (const [i, c] of cpus.entries()) {
    if (c.size === 0) continue;
    for (const [name, offset] of [
      [`CPU ${i} data`, c.offset],
      [`CPU ${i} data + 1`, c.offset + 1],
      [`CPU ${i} data, middle`, c.offset + Math.floor(c.size / 2)],
      [`CPU ${i} data, last byte`, c.offset + c.size - 1],
    ] as const) {
      marks.push({ name, offset });
    }
  }
  return { marks, options, kallsymsSize, cpus };
}

/** Options of a v7 options section (uncompressed), each with its id and id-field offset. */
export function v7Options(l: Layout, section: number): { id: number; offset: number }[] {
  const out: { id: number; offset: number }[] = [];
  let p = section + 16;
  for (;;) {
    const id = l.u16(p);
    out.push({ id, offset: p });
    if (id === 0) return out;
    p += 6 + l.u32(p + 2);
  }
}

/** Offset of the CPU count field of a v7 BUFFER option whose id field is at `at`. */
export function bufferCpuCountAt(l: Layout, at: number): number {
  const name = at + 6 + 8;
  const clock = l.data.indexOf(0, name) + 1;
  return l.data.indexOf(0, clock) + 1 + 4;
}

/** Makes `dir/NAME.zip` holding `members` (name → file on disk), deflated, with python3's zipfile. */
export function makeZip(zip: string, members: Record<string, string>): void {
  const script = 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)\nfor i in range(2, len(sys.argv), 2): z.write(sys.argv[i + 1], sys.argv[i])\nz.close()';
  const args = Object.entries(members).flat();
  const r = spawnSync('python3', ['-c', script, zip, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 zipfile failed: ${r.stderr || r.error?.message}`);
}

/** Extracts one member of a zip with python3's zipfile (independently of tracedat's reader). */
export function unzipMember(zip: string, member: string, dest: string): void {
  const script = 'import sys, zipfile, shutil\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as out: shutil.copyfileobj(src, out)';
  const r = spawnSync('python3', ['-c', script, zip, member, dest], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 zipfile failed: ${r.stderr || r.error?.message}`);
}

/** The dump modes the damage tests run: metadata summary, everything, and validation. */
export const DAMAGE_MODES = ['--summary', '--all', '-v'] as const;
export type DamageMode = (typeof DAMAGE_MODES)[number];

/** trace-cmd dump's item flags and the API's DumpItem for each (written out, not the CLI's table). */
const ITEMS: Record<Exclude<DumpFlag, '' | '-v'>, number> = {
  '--summary': DumpItem.summary,
  '--head-page': DumpItem.headPage,
  '--head-event': DumpItem.headEvent,
  '--ftrace-events': DumpItem.ftraceEvents,
  '--systems': DumpItem.systems,
  '--events': DumpItem.events,
  '--kallsyms': DumpItem.kallsyms,
  '--printk': DumpItem.printk,
  '--cmd-lines': DumpItem.cmdLines,
  '--options': DumpItem.options,
  '--flyrecord': DumpItem.flyrecord,
  '--clock': DumpItem.clock,
  '--sections': DumpItem.sections,
  '--strings': DumpItem.strings,
  '--all': DumpItem.all,
};

/**
 * What `tracedat dump FLAG path` prints and returns, computed in-process through the API (a
 * node process per case would be too slow): on a TraceError, the output printed before it,
 * `tracedat: MESSAGE` and status 2, as src/cli.ts does. `name` is the name the output shows
 * (the path as given on the command line). Every flag also runs through the CLI on a few
 * files, and one damaged file of each kind, checked to print exactly this.
 */
export async function dumpInProcess(path: string, flag: DumpFlag, name = path): Promise<Run> {
  const start = performance.now();
  let stdout: Buffer = Buffer.alloc(0);
  try {
    const trace = await open(path);
    stdout = trace.dump(flag === '' ? DumpItem.summary : flag === '-v' ? 0 : ITEMS[flag], name);
    if (flag === '-v') {
      trace.validate();
      stdout = Buffer.concat([stdout, Buffer.from(`File ${name} is a valid trace-cmd file\n`)]);
    }
    return { stdout, stderr: '', status: 0, signal: null, ms: performance.now() - start };
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    const partial = (e as TraceError & { partial?: Buffer }).partial;
    return { stdout: partial ?? stdout, stderr: `tracedat: ${e.message}\n`, status: 2, signal: null, ms: performance.now() - start };
  }
}
