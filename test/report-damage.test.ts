// `tracedat report` on damaged ring-buffer data, against trace-cmd 3.1.6 on the same file.
//
// Without --salvage the report is a streaming reader's: it prints every record before the damage
// in the merged order, then the one error line, exit 2. "Before the damage" is exact: the
// damaged CPU's records up to its last good one, and the other CPUs' records merged before that
// one (where the others' later records fall against the lost ones is unknown). trace-cmd 3.1.6
// ends the damaged CPU there too (a chunk that does not inflate) or dies a little after it (a
// corrupt page: it reads the garbage and crashes), so our stdout must be trace-cmd's lines up to
// and including its last line of the damaged CPU before the damage (trace-cmd runs unbuffered,
// so that what it printed before a crash is seen).
//
// With --salvage each damaged region is a `CPU:N [DAMAGED: BYTES bytes skipped at offset X]`
// line right after that CPU's last record before it, one stderr line, and the rest: without the
// marker, the output is trace-cmd's report of the undamaged file with exactly the damaged
// region's records taken out (a run of consecutive records of that CPU).
//
// The damage is made at test time from the real fixtures with the fuzz harness's layout
// (scripts/fuzz-lib.mjs), as test/fuzz.test.ts makes its cases.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import * as api from '../dist/index.js';
// @ts-expect-error: plain JavaScript harness, no types
import { layout, apply, fixturePath } from '../scripts/fuzz-lib.mjs';
import { CLI, run } from './helpers.js';

type Op = { at: number; del: number; ins: Buffer };
/** What fuzz-lib's layout finds, as far as used here. */
interface Layout {
  be: boolean;
  size: number;
  streams: { cpu: number; buffer: number; pages?: number[]; chunks?: { at: number; csize: number; usize: number }[] }[];
  cpuTables: { offset: number; sizeAt: number; size: number }[][];
}

const dir = mkdtempSync(join(tmpdir(), 'tracedat-report-damage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  fixture: string;
  /** The damage, from the file's layout. */
  edit: (L: Layout, b: Buffer) => Op[];
  /** The damaged CPU and its buffer's line prefix ("" for the top buffer of a file without instances). */
  cpu: number;
  prefix: string;
  /** The error line after `tracedat: PATH: `, the marker's numbers and what is skipped. */
  error: (L: Layout) => RegExp;
  region: (L: Layout) => { at: number; bytes: number };
  what: string;
  /** Whether trace-cmd reads the damaged file at all; when it refuses it, what we print before the error. */
  traceCmd: boolean | string[];
  /** The damaged CPU's records salvage loses: some (a run of them), none, or all. */
  lost: 'some' | 'none' | 'all';
}

const flip = (b: Buffer, at: number): Op => ({ at, del: 1, ins: Buffer.from([b[at]! ^ 0xff]) });
const chunkOf = (L: Layout, buffer: number, cpu: number, n: number) => L.streams.find((s) => s.buffer === buffer && s.cpu === cpu)!.chunks![n]!;
const u64 = (L: Layout, v: number) => {
  const b = Buffer.alloc(8);
  if (L.be) b.writeBigUInt64BE(BigInt(v));
  else b.writeBigUInt64LE(BigInt(v));
  return b;
};

const CASES: Case[] = [
  {
    name: 'v7 zstd: a chunk of CPU 0 that does not inflate',
    fixture: 'real/sched-irq-sys-v7-zstd.dat',
    edit: (L, b) => [flip(b, chunkOf(L, 0, 0, 2).at + 8 + 20)],
    cpu: 0,
    prefix: '',
    error: (L) => new RegExp(`^CPU 0 data, offset ${chunkOf(L, 0, 0, 2).at}: zstd decompression failed \\(.+\\)$`),
    region: (L) => ({ at: chunkOf(L, 0, 0, 2).at, bytes: 8 + chunkOf(L, 0, 0, 2).csize }),
    what: 'chunk',
    traceCmd: true,
    lost: 'some',
  },
  {
    name: 'big-endian v7 zstd with an instance: a chunk of the instance that does not inflate',
    fixture: 'real/s390x-be-v7-zstd.dat',
    edit: (L, b) => [flip(b, chunkOf(L, 1, 0, 1).at + 8 + 20)],
    cpu: 0,
    prefix: 'second: ',
    error: (L) => new RegExp(`^buffer "second" CPU 0 data, offset ${chunkOf(L, 1, 0, 1).at}: zstd decompression failed \\(.+\\)$`),
    region: (L) => ({ at: chunkOf(L, 1, 0, 1).at, bytes: 8 + chunkOf(L, 1, 0, 1).csize }),
    what: 'chunk',
    traceCmd: true,
    lost: 'some',
  },
  {
    name: 'v7 uncompressed: a page of CPU 1 with a corrupt header',
    fixture: 'real/sched-irq-sys-v7-none.dat',
    edit: (L) => [{ at: L.streams[1]!.pages![3]!, del: 16, ins: Buffer.alloc(16, 0xff) }],
    cpu: 1,
    prefix: '',
    error: (L) => new RegExp(`^CPU 1 data, offset ${L.streams[1]!.pages![3]! + 8}: a commit size of at most 4080 bytes, found 134217727$`),
    region: (L) => ({ at: L.streams[1]!.pages![3]!, bytes: 4096 }),
    what: 'page',
    traceCmd: true,
    lost: 'some',
  },
  {
    name: 'v7 uncompressed: CPU 1 declared 10 MB longer than the file (trace-cmd refuses the file)',
    fixture: 'real/sched-irq-sys-v7-none.dat',
    edit: (L) => [{ at: L.cpuTables[0]![1]!.sizeAt, del: 8, ins: u64(L, L.cpuTables[0]![1]!.size + 10_000_000) }],
    cpu: 1,
    prefix: '',
    error: (L) => new RegExp(`^CPU 1 data, offset ${L.cpuTables[0]![1]!.offset}: ${L.cpuTables[0]![1]!.size + 10_000_000} bytes of CPU data, the file has \\d+ after this offset$`),
    // The whole pages in the file are read; the rest of the declared size is what is skipped.
    region: (L) => ({ at: L.cpuTables[0]![1]!.offset + L.cpuTables[0]![1]!.size, bytes: 10_000_000 }),
    what: 'rest of the CPU data',
    // Refused on opening: nothing can be placed before it.
    traceCmd: [],
    lost: 'none',
  },
  {
    // One of test/dump-errors.test.ts's damages: its first chunk size 0xFFFFFFFF.
    name: 'v7 zstd: CPU 0 whose first chunk runs off the file (trace-cmd refuses the file)',
    fixture: 'real/sched-irq-sys-v7-zstd.dat',
    edit: (L) => [{ at: chunkOf(L, 0, 0, 0).at, del: 4, ins: Buffer.from([0xff, 0xff, 0xff, 0xff]) }],
    cpu: 0,
    prefix: '',
    error: (L) => new RegExp(`^CPU 0 data, offset ${chunkOf(L, 0, 0, 0).at + 8}: compressed block data \\(4294967295 bytes, \\d+ left\\)$`),
    region: (L) => ({ at: chunkOf(L, 0, 0, 0).at, bytes: L.size - chunkOf(L, 0, 0, 0).at }),
    what: 'rest of the CPU data',
    // The file's header is read: its cpus= line comes before the damage.
    traceCmd: ['cpus=2'],
    lost: 'all',
  },
];

const lines = (b: Buffer): string[] => {
  const l = b.toString('latin1').split('\n');
  l.pop(); // after the last newline: empty, or the line trace-cmd was printing when it crashed
  return l;
};

/** The CPU of a report line of the buffer `prefix` names, or undefined. */
function cpuOf(line: string, prefix: string): number | undefined {
  const m = / \[(\d{3})\][ \d]/.exec(line);
  return m && line.startsWith(prefix) ? Number(m[1]) : undefined;
}

const report = (args: string[]) => run(process.execPath, [CLI, 'report', ...args], { timeoutMs: 60_000 });
// trace-cmd unbuffered: what it printed before it crashes is not lost in its stdio buffer.
const traceCmdReport = (path: string) => run('stdbuf', ['-o0', 'trace-cmd', 'report', path], { timeoutMs: 60_000 });

describe.concurrent('report on damaged ring-buffer data', () => {
  test.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const src = fixturePath(c.fixture);
    const buf = readFileSync(src);
    const L = layout(buf, (await api.open(src)).metadata) as Layout;
    const path = join(dir, `${i}.dat`);
    writeFileSync(path, apply(buf, c.edit(L, buf)));
    const [ours, salvaged, original, theirs] = await Promise.all([report([path]), report(['--salvage', path]), traceCmdReport(src), c.traceCmd === true ? traceCmdReport(path) : undefined]);

    // Streaming: the lines before the damage, then the one error line.
    expect(ours.status).toBe(2);
    expect(ours.stderr.startsWith(`tracedat: ${path}: `)).toBe(true);
    expect(ours.stderr.endsWith('\n') && ours.stderr.split('\n').length === 2).toBe(true);
    expect(ours.stderr.slice(`tracedat: ${path}: `.length, -1)).toMatch(c.error(L));
    const before = lines(ours.stdout);
    if (c.traceCmd === true) {
      if (!theirs) throw new Error('trace-cmd did not run');
      const t = lines(theirs.stdout);
      const last = t.map((l) => cpuOf(l, c.prefix)).lastIndexOf(c.cpu);
      expect(before.length).toBeGreaterThan(100);
      expect(before.length).toBe(last + 1);
      expect(before).toEqual(t.slice(0, last + 1));
    } else {
      // trace-cmd prints no report at all.
      expect(before).toEqual(c.traceCmd);
    }

    // Salvage: the marker where the damage was met, one stderr line, the rest.
    const { at, bytes } = c.region(L);
    expect(salvaged.status).toBe(2);
    expect(salvaged.stderr).toBe(ours.stderr.replace(/\n$/, `; skipped ${c.what}\n`));
    const s = lines(salvaged.stdout);
    const markers = s.flatMap((l, k) => (l.includes('[DAMAGED') ? [k] : []));
    expect(markers.length).toBe(1);
    const k = markers[0]!;
    expect(s[k]).toBe(`${c.prefix}CPU:${c.cpu} [DAMAGED: ${bytes} bytes skipped at offset ${at}]`);
    // Right after the damaged CPU's last record before it: what the streaming report printed.
    expect(s.slice(0, k)).toEqual(before.length > 0 ? before : ['cpus=2']);
    // Without the marker: the undamaged file's report less a run of the damaged CPU's records.
    const rest = [...s.slice(0, k), ...s.slice(k + 1)];
    const full = lines(original.stdout);
    const removed: number[] = [];
    let j = 0;
    for (let f = 0; f < full.length; f++) {
      if (j < rest.length && rest[j] === full[f]) j++;
      else removed.push(f);
    }
    expect(j).toBe(rest.length);
    expect(removed.every((f) => cpuOf(full[f]!, c.prefix) === c.cpu)).toBe(true);
    // Consecutive among that CPU's own lines.
    const own = full.flatMap((l, f) => (cpuOf(l, c.prefix) === c.cpu ? [f] : []));
    if (removed.length > 0) {
      const first = own.indexOf(removed[0]!);
      expect(own.slice(first, first + removed.length)).toEqual(removed);
    }
    if (c.lost === 'some') expect(removed.length > 0 && removed.length < own.length, `${removed.length} of ${own.length} lost`).toBe(true);
    else expect(removed.length).toBe(c.lost === 'none' ? 0 : own.length);
  });
});

test('the report and records APIs yield what is before the damage, then throw it; salvage names each region', async () => {
  const c = CASES[0]!;
  const src = fixturePath(c.fixture);
  const buf = readFileSync(src);
  const L = layout(buf, (await api.open(src)).metadata) as Layout;
  const path = join(dir, 'api.dat');
  writeFileSync(path, apply(buf, c.edit(L, buf)));
  const t = await api.open(path);
  const chunks: Buffer[] = [];
  expect(() => {
    for (const b of api.reportChunks(t, { chunk: 1 << 16 })) chunks.push(b);
  }).toThrow(`${path}: CPU 0 data, offset ${c.region(L).at}: zstd decompression failed`);
  const cli = await report([path]);
  expect(Buffer.concat(chunks).equals(cli.stdout)).toBe(true);
  // records() is the same streaming reader: the top buffer's records before the damage, then it.
  let n = 0;
  expect(() => {
    for (const _ of t.records(0, { batch: 1000 })) n++;
  }).toThrow(`${path}: CPU 0 data, offset ${c.region(L).at}: zstd decompression failed`);
  expect(n).toBe(lines(cli.stdout).length - 1);
  const skips: api.ReportSkipped[] = [];
  const text = api.report(t, { salvage: true, onSkip: (s) => skips.push(s) });
  expect(skips).toEqual([{ input: 0, buffer: '', cpu: 0, what: 'chunk', section: 'CPU 0 data', offset: c.region(L).at, expected: expect.stringMatching(/^zstd decompression failed/), ...c.region(L) }]);
  expect(text.equals((await report(['--salvage', path])).stdout)).toBe(true);
});

test('with several inputs the report stops after the damaged CPU of the damaged input, as trace-cmd -i ... -i ... ends it', async () => {
  const c = CASES[0]!;
  const src = fixturePath(c.fixture);
  const buf = readFileSync(src);
  const L = layout(buf, (await api.open(src)).metadata) as Layout;
  const path = join(dir, 'guest.dat');
  writeFileSync(path, apply(buf, c.edit(L, buf)));
  const host = fixturePath('real/instance-v7-zstd.dat');
  const args = ['-i', host, '-i', path];
  const [ours, salvaged, theirs] = await Promise.all([report(['--sync', 'trace-cmd', ...args]), report(['--sync', 'trace-cmd', '--salvage', ...args]), run('stdbuf', ['-o0', 'trace-cmd', 'report', ...args], { timeoutMs: 60_000 })]);
  expect(ours.status).toBe(2);
  const t = lines(theirs.stdout);
  // The name column is as wide as the longest input or instance name.
  const prefix = /^ *guest\.dat: /.exec(t.find((l) => /^ *guest\.dat: /.test(l))!)![0];
  const last = t.map((l) => cpuOf(l, prefix)).lastIndexOf(0);
  const before = lines(ours.stdout);
  expect(before.length).toBeGreaterThan(1000);
  expect(before).toEqual(t.slice(0, last + 1));
  const s = lines(salvaged.stdout);
  const { at, bytes } = c.region(L);
  expect(s[before.length]).toBe(`${prefix}CPU:0 [DAMAGED: ${bytes} bytes skipped at offset ${at}]`);
  expect(s.slice(0, before.length)).toEqual(before);
  expect(salvaged.stderr).toBe(ours.stderr.replace(/\n$/, '; skipped chunk\n'));
});
