// Several inputs in one report: `tracedat report -i A -i B ...` against `trace-cmd report -i A
// -i B ...` (3.1.6, run at test time), byte for byte. Inputs that are not a host and its guests
// are compared with `--sync trace-cmd` (trace-cmd's way: each file's own clock and TIME_SHIFT);
// the KVM pair, whose guest has a TIME_SHIFT, prints the same with the default `--sync auto`. Covers the name column (widened by
// instances as each file is read), the per-file `cpus=` lines, ties between files, CPU filters
// numbered across files, each file's own clock and TIME_SHIFT, and the KVM host+guest pair,
// whose host kvm_entry/kvm_exit lines name guest functions through the host's GUEST option.
import { beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, report, TraceError } from '../src/index.js';
import { CLI, EXPECTED_320, PUBLIC, REAL, firstDifference, flyrecord, run as runProcess } from './helpers.js';

const run = promisify(execFile);
const real = (f: string) => join(REAL, f);
const HOST = join(PUBLIC, 'Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat');
const GUEST = join(PUBLIC, 'Masterarbeit__documentation__trace-cmd__analysis__test__trace-Salamander4.dat');

async function traceCmd(args: string[]): Promise<Buffer> {
  const { stdout } = await run('trace-cmd', ['report', ...args], { maxBuffer: 1 << 30, encoding: 'buffer' });
  return stdout;
}

function expectSame(ours: Buffer, theirs: Buffer): void {
  if (!ours.equals(theirs)) expect(firstDifference(ours, theirs)).toBe('');
}

const inputs = (files: string[]) => files.flatMap((f) => ['-i', f]);

describe.each([
  [[], ['sched-irq-sys-v6.dat', 'instance-v6.dat']],
  [[], ['instance-v7-zstd.dat', 'sched-irq-sys-v7-zstd.dat']],
  [['--cpu', '1,3'], ['instance-v6.dat', 'instance-v7-zstd.dat']],
  [['-R'], ['s390x-be-v6.dat', 'local-clock-v7-zstd.dat']],
  [['-t'], ['kvm-host-vcpu-create-v7-zstd.dat', 'x86guest-function-v7.dat']],
  [['--raw-ts'], ['x86guest-function_graph-v6.dat', 'sched-irq-sys-v7-none.dat']],
  [[], ['overflow-overwrite-v7-zstd.dat', 'overflow-nooverwrite-v7-zstd.dat', 'sched-irq-sys-v7-zstd-fullksyms.dat']],
])('report %j -i %j', (flags, files) => {
  const paths = files.map(real);
  test('the CLI with --sync trace-cmd equals trace-cmd report', async () => {
    const ours = await runProcess(process.execPath, [CLI, 'report', '--sync', 'trace-cmd', ...flags, ...inputs(paths)]);
    expect([ours.status, ours.stderr]).toEqual([0, '']);
    expectSame(ours.stdout, await traceCmd([...flags, ...inputs(paths)]));
  });
});

test('the API merges the same way', async () => {
  const paths = ['instance-v6.dat', 'sched-irq-sys-v7-zstd.dat'].map(real);
  const traces = await Promise.all(paths.map((p) => open(p)));
  expectSame(report(traces, { nanoseconds: true, sync: 'trace-cmd' }), await traceCmd(['-t', ...inputs(paths)]));
});

describe('--ts-offset after an -i', () => {
  test.each([
    [['-i', 'sched-irq-sys-v6.dat', '-i', 'instance-v6.dat', '--ts-offset', '5000000000']],
    [['-i', 'sched-irq-sys-v6.dat', '-i', 'instance-v6.dat', '--ts-offset', '-123456789']],
    [['-t', '-i', 'instance-v7-zstd.dat', '-i', 'x86guest-function-v7.dat', '--ts-offset', '1000']],
    [['--raw-ts', '-i', 'kvm-host-vcpu-create-v7-zstd.dat', '-i', 'sched-irq-sys-v7-zstd.dat', '--ts-offset', '99']],
  ])('%j equals trace-cmd (the offset moves that file and its instances; --raw-ts ignores it)', async (args) => {
    const withPaths = args.map((a) => (a.endsWith('.dat') ? real(a) : a));
    const ours = await runProcess(process.execPath, [CLI, 'report', '--sync', 'trace-cmd', ...withPaths]);
    expect([ours.status, ours.stderr]).toEqual([0, '']);
    expectSame(ours.stdout, await traceCmd(withPaths));
  });

  test('on the first input too, which trace-cmd 3.1.6 silently ignores', async () => {
    // trace-cmd's parser stores --ts-offset into an input only once a second -i has been seen.
    // This file prints raw counter times (`[000]2145777202674:`): every one moves by N.
    const file = real('sched-irq-sys-v6.dat');
    const theirs = (await traceCmd(['-i', file, '--ts-offset', '5000000000'])).toString('latin1').split('\n');
    expect(theirs).toEqual((await traceCmd(['-i', file])).toString('latin1').split('\n'));
    const ours = report([await open(file)], { tsOffsets: [5_000_000_000n] }).toString('latin1').split('\n');
    expect(ours.length).toBe(theirs.length);
    let moved = 0;
    ours.forEach((line, i) => {
      const m = /^(.* \[\d{3}\])(\d+)(:.*)$/.exec(theirs[i]!);
      if (!m) return expect(line).toBe(theirs[i]);
      moved++;
      expect(line).toBe(`${m[1]}${BigInt(m[2]!) + 5_000_000_000n}${m[3]}`);
    });
    expect(moved).toBeGreaterThan(10_000);
  });
});

describe('a KVM host and its guest', () => {
  test('equals the stored trace-cmd 3.2.0 output (zlib files, 101,760 lines)', async () => {
    const ours = report([await open(HOST), await open(GUEST)]);
    expectSame(ours, gunzipSync(readFileSync(join(EXPECTED_320, 'hip24-host-guest.report.txt.gz'))));
    // The host's kvm lines name guest functions, which the host file alone cannot.
    expect(ours.toString('latin1')).toContain('kvm_entry:             vcpu 0 rip 0xffffffffa13f2e30 default_idle+0x10\n');
    expect(report(await open(HOST)).toString('latin1')).toContain('kvm_entry:             vcpu 0 rip 0xffffffffa13f2e30\n');
  });

  describe('recompressed with zstd, against trace-cmd 3.1.6', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedat-merge-'));
    const host = join(dir, 'host.dat');
    const guest = join(dir, 'guest.dat');
    beforeAll(async () => {
      await (await open(HOST)).convert(host, { compression: 'zstd' });
      await (await open(GUEST)).convert(guest, { compression: 'zstd' });
    });
    test.each([[[]], [['-t']], [['--raw-ts']], [['--cpu', '0,7']], [['-R']]])('report %j -i host -i guest', async (flags) => {
      expectSame(report([await open(host), await open(guest)], { nanoseconds: flags.includes('-t'), rawTimestamps: flags.includes('--raw-ts'), raw: flags.includes('-R'), cpus: flags.includes('--cpu') ? [0, 7] : undefined }), await traceCmd([...flags, '-i', host, '-i', guest]));
    });
    test('the guest first: no vCPU map, guest times still shifted', async () => {
      expectSame(report([await open(guest), await open(host)]), await traceCmd(['-i', guest, '-i', host]));
    });
  });
});

describe('errors', () => {
  test('a latency trace does not merge: one line naming it, exit 2', async () => {
    const lat = real('x86guest-wakeup-v7.dat');
    const r = await runProcess(process.execPath, [CLI, 'report', '-i', real('sched-irq-sys-v6.dat'), '-i', lat]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`tracedat: ${lat}: report, offset 0: a ring-buffer trace: latency tracer text does not merge with other inputs\n`);
  });

  test('damage in the second input is reported against that file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedat-merge-'));
    const bad = join(dir, 'bad.dat');
    const bytes = readFileSync(real('sched-irq-sys-v6.dat'));
    // A page in the middle of CPU 1 with an impossible commit size.
    const meta = (await open(real('sched-irq-sys-v6.dat'))).metadata;
    const cpu1 = flyrecord(meta.buffers[0]).cpus[1]!;
    bytes.fill(0xff, Number(cpu1.offset) + 3 * 4096 + 8, Number(cpu1.offset) + 3 * 4096 + 16);
    writeFileSync(bad, bytes);
    const traces = [await open(real('instance-v6.dat')), await open(bad)];
    let error: unknown;
    try {
      report(traces);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TraceError);
    expect((error as TraceError).file).toBe(bad);
    expect((error as TraceError).section).toBe('CPU 1 data');
  });

  test('several inputs take -i each; --cpus lists one', async () => {
    const a = await runProcess(process.execPath, [CLI, 'report', '-i', real('instance-v6.dat'), real('sched-irq-sys-v6.dat')]);
    expect([a.status, a.stderr.split('\n')[0]]).toEqual([1, 'tracedat: report: several inputs go each after its own -i']);
    const b = await runProcess(process.execPath, [CLI, 'report', '--cpus', '-i', real('instance-v6.dat'), '-i', real('sched-irq-sys-v6.dat')]);
    expect([b.status, b.stderr.split('\n')[0]]).toEqual([1, 'tracedat: report: --cpus lists the CPUs of one input']);
  });
});
