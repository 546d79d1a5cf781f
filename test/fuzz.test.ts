// Hostile input: a short deterministic fuzz run, every saved regression replayed, and one
// representative case per mutation class with its exact error text (scripts/fuzz-lib.mjs).
import { expect, test } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as api from '../dist/index.js';
// @ts-expect-error: plain JavaScript harness, no types
import { layout, apply, fixturePath, COMMANDS, CLASSES, REGRESSIONS, runInProcess, judge } from '../scripts/fuzz-lib.mjs';
// @ts-expect-error: plain JavaScript harness, no types
import { run } from '../scripts/fuzz.mjs';

type Res = { code: number; stdout: string; stderr: string };
type Op = { at: number; del: number; ins: Buffer };
const dir = mkdtempSync(join(tmpdir(), 'tracedat-fuzz-test-'));
const u32 = (v: number) => Buffer.from(new Uint32Array([v]).buffer);
const u64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};

// A worker keeps earlier cases' mapped inputs resident until V8 collects their handles, so its
// RSS grows with the cases it has run (about 700 MiB after 120 of them, near 1 GiB after 250):
// a fresh worker every 100 cases keeps the RSS limit a check of each case, not of GC timing.
test('a short fuzz run over every fixture, class and command finds nothing', { timeout: 1_800_000 }, async () => {
  const r = await run({ cases: 2000, seed: 1, start: 0, commands: null, classes: null, fixtures: null, jobs: 2, timeout: 30_000, rssMb: 1024, asMb: 4096, spawnEvery: 100, save: false, quiet: true, replay: [] });
  expect(r.failures).toEqual([]);
  expect(r.cases).toBe(2000);
  expect(Object.keys(r.byClass).sort()).toEqual(Object.keys(CLASSES).sort());
});

const saved = existsSync(REGRESSIONS) ? readdirSync(REGRESSIONS).filter((f) => f.endsWith('.json')) : [];

test.runIf(saved.length > 0)('every saved fuzz regression now passes, in process and as the CLI', { timeout: 600_000 }, async () => {
  const r = await run({ cases: 0, seed: 0, start: 0, commands: null, classes: null, fixtures: null, jobs: 2, timeout: 30_000, rssMb: 1024, asMb: 4096, spawnEvery: 1, save: false, quiet: true, replay: saved.map((f) => join(REGRESSIONS, f)) });
  expect(r.failures).toEqual([]);
  expect(r.cases).toBe(saved.length);
});

/** Applies `edit(layout, bytes)` to a fixture and runs one command on the result. */
async function damaged(fixture: string, name: string, command: string, edit: (L: any, buf: Buffer) => Op[]): Promise<{ res: Res; path: string }> {
  const src = fixturePath(fixture);
  const buf = readFileSync(src);
  const L = layout(buf, (await api.open(src)).metadata);
  const path = join(dir, `${name}.dat`);
  writeFileSync(path, apply(buf, edit(L, buf)));
  const cmd = COMMANDS.find((c: { name: string }) => c.name === command);
  const res: Res = await runInProcess(api, cmd, path);
  expect(judge(cmd, res)).toBeNull();
  return { res, path };
}

const V6 = 'real/sched-irq-sys-v6.dat';
const V7 = 'real/sched-irq-sys-v7-none.dat';
const ZSTD = 'real/sched-irq-sys-v7-zstd.dat';

test.each([
  ['truncate', V6, 'dump', (_L: any, b: Buffer) => [{ at: 1_000_000, del: b.length, ins: Buffer.alloc(0) }],
    'v6 metadata, offset 999960: an event format (425 bytes, 40 left)'],
  ['bitflip', V6, 'dump', (_L: any, b: Buffer) => [{ at: 1, del: 1, ins: Buffer.from([b[1]! ^ 4]) }],
    'initial header, offset 0: the trace.dat magic 17 08 44: this is not a trace-cmd file'],
  ['inflate-field', V6, 'dump', (L: any) => {
    const k = L.fields.find((f: any) => f.name === 'kallsyms size');
    return [{ at: k.at, del: 4, ins: u32(k.value * 2) }];
  }, 'v6 metadata, offset 2117087: the printk formats (1851876211 bytes, 455201 left)'],
  ['zero-field', V6, 'dump -v', (L: any) => [{ at: L.fields.find((f: any) => f.name === 'page size').at, del: 4, ins: u32(0) }],
    'CPU 0 data, offset 2150400: a page size that is a power of two >= 64, found 0'],
  ['dup-run', V7, 'dump', (L: any, b: Buffer) => [{ at: L.sections[3].at, del: 0, ins: b.subarray(L.sections[3].at, L.sections[3].at + 16) }],
    'options chain, offset 2149295: an options section (id 0), found section id 26400'],
  ['drop-run', V7, 'dump', (L: any) => [{ at: L.sections[2].at + 4, del: 100, ins: Buffer.alloc(0) }],
    'options chain, offset 2149295: an options section (id 0), found section id 25199'],
  ['chunk-corrupt', ZSTD, 'dump -v', (L: any) => [{ at: L.streams[0].chunks[2].at + 4, del: 4, ins: u32(0x40000000) }],
    'CPU 0 data, offset 164808: a chunk of 1 to 1024 whole 4096-byte pages, found one of 1073741824 bytes'],
  ['options-loop', V7, 'dump', (L: any) => [{ at: L.dones[L.dones.length - 1].at, del: 8, ins: u64(L.firstOptions) }],
    'options chain, offset 2149295: a new options section (the chain loops back here)'],
  ['overlap', V6, 'records', (L: any) => [{ at: L.cpuTables[0][1].offAt, del: 8, ins: u64(L.cpuTables[0][0].offset + 100) }],
    'CPU 1 data, offset 2150508: a commit size of at most 4080 bytes, found 21886'],
  ['zero-page', V6, 'dump -v', (L: any) => [{ at: L.streams[1].pages[3], del: 16, ins: Buffer.alloc(16, 0xff) }],
    'CPU 1 data, offset 2379784: a commit size of at most 4080 bytes, found 134217727'],
] as const)('%s: %s %s fails with one exact line', async (name, fixture, command, edit, expected) => {
  const { res, path } = await damaged(fixture, name, command, edit as (L: any, b: Buffer) => Op[]);
  expect(res.code).toBe(2);
  expect(res.stderr).toBe(`tracedat: ${path}: ${expected}\n`);
});

test('a decompression bomb in a metadata block is refused before inflating', async () => {
  const { res, path } = await damaged(ZSTD, 'bomb', 'dump', (L) => {
    const b = L.sections.find((s: any) => s.id === 19).block;
    return [{ at: b.at + 4, del: 4, ins: u32(0x3fffffff) }];
  });
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(new RegExp(`^tracedat: ${path}: kallsyms section @ \\d+, offset \\d+: compressed data to inflate at most 64 times \\(\\d+ bytes so far, to at most \\d+\\), found a block declaring 1073741823 \\(damage or a decompression bomb\\)\\n$`));
});

test('--salvage reads around a damaged page and names it', async () => {
  const { res, path } = await damaged(V6, 'salvage', 'dump -v --salvage', (L) => [{ at: L.streams[1].pages[3], del: 16, ins: Buffer.alloc(16, 0xff) }]);
  expect(res.code).toBe(2);
  expect(res.stderr).toBe(`tracedat: ${path}: CPU 1 data, offset 2379784: a commit size of at most 4080 bytes, found 134217727; skipped page\n`);
  const whole = (await api.open(fixturePath(V6))).scan()[0]!.cpus;
  const t = await api.open(path);
  const salvaged = t.scan({ salvage: true })[0]!.cpus;
  expect(salvaged[0]!.count).toBe(whole[0]!.count);
  expect(salvaged[1]!.count).toBeLessThan(whole[1]!.count);
  expect(salvaged[1]!.skipped).toEqual([{ what: 'page', section: 'CPU 1 data', offset: 2379784, expected: 'a commit size of at most 4080 bytes, found 134217727' }]);
  const skips: unknown[] = [];
  let n = 0;
  for (const _ of t.records(0, { salvage: true, onSkip: (s) => skips.push(s) })) n++;
  expect(n).toBe(salvaged[0]!.count + salvaged[1]!.count);
  expect(skips).toEqual([{ cpu: 1, ...salvaged[1]!.skipped![0] }]);
  // Without salvage the same page is an error, and none of its events is read.
  expect(() => [...t.records(0)]).toThrow('CPU 1 data, offset 2379784: a commit size of at most 4080 bytes');
});

test('--salvage reads the whole pages of CPU data declared past the end of the file', async () => {
  const { res, path } = await damaged(V7, 'salvage-size', 'records --salvage', (L) => {
    const e = L.cpuTables[0][1];
    return [{ at: e.sizeAt, del: 8, ins: u64(e.size + 10_000_000) }];
  });
  expect(res.code).toBe(2);
  expect(res.stderr).toBe(`tracedat: ${path}: CPU 1 data, offset 2375680: 10221184 bytes of CPU data, the file has 221409 after this offset; skipped rest of the CPU data\n`);
  const whole = (await api.open(fixturePath(V7))).scan()[0]!.cpus.map((c) => c.count);
  expect((await api.open(path)).scan({ salvage: true })[0]!.cpus.map((c) => c.count)).toEqual(whole);
  // dump -v --salvage names that damage once, as the page reader saw it.
  const dump = await runInProcess(api, COMMANDS.find((c: { name: string }) => c.name === 'dump -v --salvage'), path);
  expect(dump.stderr).toBe(res.stderr);
});

test('a compressed CPU size past the end of the file is damage for dump -v, with or without --salvage', async () => {
  // The chunks frame themselves, so every record still reads; the size field is still wrong.
  const edit = (L: any) => {
    const e = L.cpuTables[0][0];
    return [{ at: e.sizeAt, del: 8, ins: u64(e.size + 10_000_000) }];
  };
  const line = (path: string) => `tracedat: ${path}: buffer "" CPU 0 data, offset 151552: 10047339 bytes of CPU data from offset 151552, but the file ends at 254654\n`;
  for (const command of ['dump -v', 'dump -v --salvage']) {
    const { res, path } = await damaged(ZSTD, `zstd-size-${command.length}`, command, edit);
    expect([res.code, res.stderr]).toEqual([2, line(path)]);
  }
  const { res, path } = await damaged(ZSTD, 'zstd-size-records', 'records', edit);
  expect(res.code).toBe(0);
  const whole = (await api.open(fixturePath(ZSTD))).scan()[0]!.cpus.map((c) => c.count);
  expect((await api.open(path)).scan()[0]!.cpus.map((c) => c.count)).toEqual(whole);
});
