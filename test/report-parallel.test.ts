// The report's text formatted on a second thread (`parallel: true`, TRACEDAT_PARALLEL=1) is the
// sequential report's, byte for byte: on every fixture with the flags whose state crosses records
// (comms the sched handlers teach, -F COMM filters, function stacks, function_graph entries, where
// the thread stops and hands its state back, --ts-diff), on merged inputs, on damaged data (the
// lines before the damage, then the same error), in small chunks (chunks in flight between calls)
// and on a generated set large enough for the default to be the thread, against trace-cmd too,
// also as written to a descriptor by the addon (`reportToFd`, the CLI's way).
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { open, reportChunks, type ReportOptions, type TraceFile } from '../src/index.js';
import { reportToFd } from '../src/report.js';
// @ts-expect-error: plain JavaScript harness, no types
import { layout, apply, fixturePath } from '../scripts/fuzz-lib.mjs';
// @ts-expect-error: a plain .mjs script of bench/, no declarations
import { generate } from '../bench/gen.mjs';
import { CLI, PUBLIC, REAL, firstDifference, run, traceCmdReport } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tracedat-report-parallel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The report's bytes and the error it ended with, if any. */
function text(traces: TraceFile | TraceFile[], options: ReportOptions): { bytes: Buffer; error?: string } {
  const chunks: Buffer[] = [];
  try {
    for (const b of reportChunks(traces, options)) chunks.push(b);
  } catch (e) {
    return { bytes: Buffer.concat(chunks), error: String(e) };
  }
  return { bytes: Buffer.concat(chunks) };
}

function expectSameAsSequential(traces: TraceFile | TraceFile[], options: ReportOptions): Buffer {
  const seq = text(traces, { ...options, parallel: false });
  for (const chunk of [undefined, 4096]) {
    const par = text(traces, { ...options, parallel: true, chunk });
    if (!par.bytes.equals(seq.bytes)) expect(firstDifference(par.bytes, seq.bytes)).toBe('');
    expect(par.error).toBe(seq.error);
  }
  return seq.bytes;
}

const FLAGS: [string, ReportOptions][] = [
  ['', {}],
  ['-R', { raw: true }],
  ['-l', { display: { latency: true } }],
  ['--ts-diff', { display: { tsDiff: true } }],
  ['-t --cpu 0,2', { nanoseconds: true, cpus: [0, 2] }],
  ['-F COMM', { filters: ['.*: COMM =~ "^k" || CPU == 1 || common_pid == 0'] }],
  ['-v -F sched_switch', { filters: [{ filter: 'sched_switch: prev_pid == 0', exclude: true }] }],
];

const FIXTURES = [REAL, PUBLIC].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.dat')).map((f) => join(d, f)));

describe.concurrent.each(FIXTURES)('%s', (file) => {
  test.each(FLAGS)('report %s: the thread prints what the sequential report prints', async (_flags, options) => {
    expectSameAsSequential(await open(file), options);
  });
});

test.each([
  ['sched-irq-sys-v6.dat', 'instance-v6.dat'],
  ['kvm-host-vcpu-create-v7-zstd.dat', 'x86guest-function-v7.dat'],
  ['x86guest-function_graph-v6.dat', 'sched-irq-sys-v7-none.dat'],
  ['overflow-overwrite-v7-zstd.dat', 'overflow-nooverwrite-v7-zstd.dat', 'sched-irq-sys-v7-zstd-fullksyms.dat'],
])('merged inputs %j', async (...files) => {
  const traces = await Promise.all(files.map((f) => open(join(REAL, f))));
  for (const sync of ['trace-cmd', 'auto'] as const) expectSameAsSequential(traces, { sync });
  expectSameAsSequential(traces, { sync: 'trace-cmd', display: { tsDiff: true } });
});

test('the KVM host and guest pair, the host naming guest functions', async () => {
  const traces = await Promise.all(['kvm-host.dat', 'kvm-guest.dat'].map((f) => open(join('fixtures', f))));
  expectSameAsSequential(traces, {});
});

test.each([
  // A chunk of CPU 0 that does not inflate, a page of CPU 1 with a corrupt header.
  ['real/sched-irq-sys-v7-zstd.dat', (L: Layout, b: Buffer) => [flip(b, chunkAt(L, 0) + 8 + 20)]],
  ['real/sched-irq-sys-v7-none.dat', (L: Layout) => [{ at: L.streams[1]!.pages![3]!, del: 16, ins: Buffer.alloc(16, 0xff) }]],
])('damaged %s: the lines before the damage, then its error, as the sequential report', async (fixture, edit) => {
  const src = fixturePath(fixture);
  const buf = readFileSync(src);
  const L = layout(buf, (await open(src)).metadata) as Layout;
  const path = join(dir, fixture.replace('/', '-'));
  writeFileSync(path, apply(buf, edit(L, buf)));
  const seq = expectSameAsSequential(await open(path), {});
  expect(seq.length).toBeGreaterThan(10_000);
  const cli = await Promise.all(['0', '1'].map((p) => run('env', [`TRACEDAT_PARALLEL=${p}`, process.execPath, CLI, 'report', path], { timeoutMs: 60_000 })));
  expect(cli[0]!.status).toBe(2);
  expect([cli[1]!.status, cli[1]!.stderr]).toEqual([cli[0]!.status, cli[0]!.stderr]);
  expect(cli[1]!.stdout.equals(cli[0]!.stdout)).toBe(true);
  expect(cli[0]!.stdout.equals(seq)).toBe(true);
});

test('a generated 12 MiB set: the default is the thread; it prints trace-cmd report', async () => {
  const files = (await generate(12 * 2 ** 20, dir, () => {})) as { single: string };
  const path = `${files.single}-none.dat`;
  const t = await open(path);
  const seq = expectSameAsSequential(t, {});
  const auto = text(t, { chunk: 1 << 16 });
  expect(auto.bytes.equals(seq)).toBe(true);
  // Written to a descriptor by the addon (the CLI's way), from either thread, and by the CLI.
  for (const parallel of [false, true]) {
    const out = join(dir, `to-fd-${parallel}.txt`);
    const fd = openSync(out, 'w');
    try {
      reportToFd(t, fd, { parallel, chunk: 1 << 16 });
    } finally {
      closeSync(fd);
    }
    if (!readFileSync(out).equals(seq)) expect(firstDifference(readFileSync(out), seq)).toBe('');
  }
  const cli = await run(process.execPath, [CLI, 'report', path], { timeoutMs: 120_000 });
  expect([cli.status, cli.stderr]).toEqual([0, '']);
  expect(cli.stdout.equals(seq)).toBe(true);
  const theirs = await traceCmdReport([path], { expected: seq });
  expect(theirs.status).toBe(0);
  if (!theirs.stdout.equals(seq)) expect(firstDifference(seq, theirs.stdout)).toBe('');
}, 300_000);

type Op = { at: number; del: number; ins: Buffer };
interface Layout {
  streams: { cpu: number; buffer: number; pages?: number[]; chunks?: { at: number }[] }[];
}
const flip = (b: Buffer, at: number): Op => ({ at, del: 1, ins: Buffer.from([b[at]! ^ 0xff]) });
const chunkAt = (L: Layout, cpu: number) => L.streams.find((s) => s.buffer === 0 && s.cpu === cpu)!.chunks![2]!.at;
