// trace-cmd report's display flags against `trace-cmd report` (3.1.6, run at test time), byte for
// byte: --ts-diff, --ts2secs (every input's before the second -i, that input's after it), -l
// (alone and with -R), -w, --align-ts, --nodate, --ts-check, --stat, --uname, --version; on
// real and public files (v6 and v7, instances, big-endian, 32-bit ARM, lost events, empty
// CPUs, latency traces), on a copy given a DATE option, and on the public KVM host and guest
// read together.
//
// trace-cmd 3.1.6 dies of a segfault on --align-ts of a latency trace (a file with text, no CPU
// data); ours prints the text as without the flag, and that is what is checked there.
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, report } from '../src/index.js';
import type { ReportOptions } from '../src/index.js';
import { CLI, PUBLIC, REAL, ROOT, firstDifference, run, traceCmdReport } from './helpers.js';

const HAVE = existsSync(join(ROOT, REAL)) && existsSync(join(ROOT, PUBLIC));
if (!HAVE) console.warn(`report-flags: no ${REAL} or ${PUBLIC}: the comparisons with trace-cmd are skipped`);

const real = (f: string) => join(REAL, f);
const pub = (f: string) => join(PUBLIC, f);

/** `ours` against `trace-cmd report ARGS` (run again where 3.1.6 misprints: see traceCmdReport), byte for byte. */
async function expectReport(ours: Buffer | string, args: string[]): Promise<void> {
  const mine = Buffer.from(ours);
  const r = await traceCmdReport(args, { expected: mine, timeoutMs: 120_000 });
  expect(r.status, `trace-cmd report ${args.join(' ')}: ${r.stderr}`).toBe(0);
  if (!mine.equals(r.stdout)) expect(firstDifference(mine, r.stdout)).toBe('');
}

async function tracedat(args: string[]): Promise<Buffer> {
  const r = await run(process.execPath, [CLI, 'report', ...args], { timeoutMs: 120_000 });
  expect([r.status, r.stderr]).toEqual([0, '']);
  return r.stdout;
}

/** Each flag set as trace-cmd takes it and as the API does. */
const FLAGS: [string[], ReportOptions][] = [
  [['--ts-diff'], { display: { tsDiff: true } }],
  [['--ts-diff', '-t'], { nanoseconds: true, display: { tsDiff: true } }],
  [['-l'], { display: { latency: true } }],
  [['-l', '-R'], { raw: true, display: { latency: true } }],
  [['-w'], { display: { wakeup: true } }],
  [['--align-ts'], { display: { alignTs: true } }],
  [['--align-ts', '--ts-diff', '-t'], { nanoseconds: true, display: { alignTs: true, tsDiff: true } }],
  [['--nodate'], { display: { nodate: true } }],
  [['--ts-check'], { display: { tsCheck: true } }],
  [['--ts2secs', '1000000000'], { display: { ts2secs: 1000000000n } }],
  [['--ts2secs', '2400000000', '-t'], { nanoseconds: true, display: { ts2secs: 2400000000 } }],
  [['--ts2secs', '3000', '--raw-ts'], { rawTimestamps: true, display: { ts2secs: 3000 } }],
  [['--stat'], { display: { only: 'stat' } }],
  [['--uname'], { display: { only: 'uname' } }],
  [['--version'], { display: { only: 'version' } }],
];

/** Every flag set on these. */
const FILES = [
  real('sched-irq-sys-v7-zstd.dat'), // RT tasks for -w
  real('local-clock-v7-zstd.dat'), // a ns clock: --ts-diff in µs unless -t
  real('instance-v7-zstd.dat'), // an instance: its lines interleaved with the top's
  real('s390x-be-v7-zstd.dat'), // big-endian
  pub('trappy__tests__trace__f7968a7.dat'), // 32-bit ARM, 8 CPUs, v6, no clock saved
];

/** What the recorder saved, on these too. */
const MORE_FILES = [
  real('sched-irq-sys-v6.dat'),
  real('sched-irq-sys-v7-none.dat'),
  real('instance-v6.dat'),
  real('overflow-overwrite-v7-zstd.dat'),
  real('kvm-host-vcpu-create-v7-zstd.dat'),
  real('x86guest-function_graph-v6.dat'),
  real('x86guest-wakeup_rt-v6.dat'), // latency traces: text, no CPU data
  real('x86guest-wakeup-v7.dat'),
  pub('lisa__tests__assets__sched_load__trace.dat'),
  pub('intel-gpu-tools__tests__trace.dat'), // empty CPUs in the flyrecord table
  pub('trappy__doc__trace_stats.dat'),
  pub('AOS-1.0__trace__846645b.dat'), // no CPU data at all
  pub('LanGraph__trace.dat'),
];
const SAVED = FLAGS.filter(([args]) => ['--stat', '--uname', '--version'].includes(args[0]!));
const LATENCY = /x86guest-wakeup/;

describe.skipIf(!HAVE)('display flags through the API equal trace-cmd report', () => {
  const cases = [
    ...FILES.flatMap((file) => FLAGS.map(([args, options]) => [file, args, options] as const)),
    ...MORE_FILES.flatMap((file) => SAVED.map(([args, options]) => [file, args, options] as const)),
    ...MORE_FILES.filter((f) => LATENCY.test(f)).flatMap((file) => FLAGS.filter(([a]) => a.includes('-l')).map(([args, options]) => [file, args, options] as const)),
  ];
  test.each(cases)('%s %j', async (file, args, options) => {
    await expectReport(report(await open(file), options), [...args, file]);
  });

  test.each(MORE_FILES.filter((f) => LATENCY.test(f)))('--align-ts of latency trace %s: its text (trace-cmd 3.1.6 segfaults)', async (file) => {
    await expectReport(report(await open(file), { display: { alignTs: true } }), [file]);
  });

  test('-w measures something on these files (its summary is printed)', async () => {
    const out = report(await open(real('sched-irq-sys-v7-zstd.dat')), { display: { wakeup: true } }).toString('latin1');
    expect(out).toMatch(/ Latency: \d+\.\d{3} usecs\n/);
    expect(out).toMatch(/\nAverage wakeup latency: \d+\.\d{3} usecs\nMaximum Latency: .*\nMinimum Latency: .*\n\nRT task timings:\n/);
  });

  test('--version wins over --uname, which wins over --stat (the CLI flags)', async () => {
    const file = real('sched-irq-sys-v7-zstd.dat');
    await expectReport(await tracedat(['--stat', '--version', '--uname', file]), ['--version', file]);
    await expectReport(await tracedat(['--stat', '--uname', file]), ['--stat', '--uname', file]);
    await expectReport(await tracedat(['--ts-diff', '-l', '-w', file]), ['--ts-diff', '-l', '-w', file]);
  });

  test('-w reads one input only', async () => {
    const file = real('sched-irq-sys-v7-zstd.dat');
    const r = await run(process.execPath, [CLI, 'report', '-w', '-i', file, '-i', file]);
    expect([r.status, r.stderr.split('\n')[0]]).toEqual([1, 'tracedat: report: -w (wakeup latencies) reads a single input file']);
  });
});

describe.skipIf(!HAVE)('--nodate on a trace with a DATE option (none of the fixtures has one)', () => {
  // A copy with the option `trace-cmd record --date` saves: the µs from the trace clock to the
  // time of day, as "0x..." text.
  const dir = mkdtempSync(join(tmpdir(), 'tracedat-flags-'));
  const file = join(dir, 'dated.dat');
  beforeAll(async () => {
    if (!HAVE) return;
    const t = await open(real('sched-irq-sys-v7-zstd.dat'));
    await t.convert(file, { compression: 'zstd', setOptions: [{ id: 1, payload: Buffer.from('0x5f0f3c8a1b2c3\0') }] });
  }, 60_000);

  test.each([[[]], [['--nodate']], [['--nodate', '-t']], [['-t', '--ts-diff']], [['--nodate', '--align-ts']]])('%j', async (args) => {
    const ours = await tracedat([...args, file]);
    await expectReport(ours, [...args, file]);
    if (args.length === 0) expect(ours.equals(await tracedat(['--nodate', file]))).toBe(false);
  });
});

describe.skipIf(!HAVE)('the KVM host and its guest (zstd copies of the zlib files)', () => {
  // Copies under the original names: every line names its file.
  const dir = mkdtempSync(join(tmpdir(), 'tracedat-flags-'));
  const HOST = 'Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat';
  const GUEST = 'Masterarbeit__documentation__trace-cmd__analysis__test__trace-Salamander4.dat';
  const host = join(dir, HOST);
  const guest = join(dir, GUEST);
  beforeAll(async () => {
    if (!HAVE) return;
    await (await open(pub(HOST))).convert(host, { compression: 'zstd' });
    await (await open(pub(GUEST))).convert(guest, { compression: 'zstd' });
  }, 60_000);

  test.each([
    // Seed 002's command line (its --ts-offset after the guest: 3.1.6 ignores one after the first -i).
    [['--ts-diff', '--ts2secs', '26000000000', '-t', '-i', '@H', '-i', '@G', '--ts-offset', '-1500000']],
    // Before the second -i, --ts2secs is every input's; after it, that input's.
    [['-t', '-i', '@H', '--ts2secs', '1000000000', '-i', '@G', '--ts2secs', '2000000000']],
    [['--ts2secs', '2000000000', '-i', '@H', '-i', '@G']],
    [['-i', '@H', '-i', '@G', '--ts2secs', '1000']],
    [['--ts-diff', '-i', '@H', '-i', '@G']],
    [['--align-ts', '-t', '-i', '@H', '-i', '@G']],
    [['-l', '-i', '@H', '-i', '@G']],
    [['--ts-check', '-i', '@H', '-i', '@G']],
    [['--stat', '-i', '@H', '-i', '@G']],
    [['--uname', '-i', '@H', '-i', '@G']],
    [['--version', '-i', '@H', '-i', '@G']],
  ])('%j', async (args) => {
    const ours = await tracedat(args.map((a) => (a === '@H' ? pub(HOST) : a === '@G' ? pub(GUEST) : a)));
    await expectReport(ours, args.map((a) => (a === '@H' ? host : a === '@G' ? guest : a)));
  });
});
