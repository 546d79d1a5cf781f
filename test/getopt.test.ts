// getopt_long's syntax in every command: the parser's rules, then each command through the CLI:
// bundled short options and attached values give the same output as spelled out (and as
// trace-cmd, which parses with getopt_long), `--` ends the options, a mistake exits 1 with that
// command's usage on stderr, and `--help` / `-h` print it on stdout.
import { describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getopt, type OptionSpec } from '../src/getopt.js';
import { UsageError } from '../src/index.js';
import { CLI, REAL, ROOT, run } from './helpers.js';

const SPEC: OptionSpec[] = [
  { short: 'h', long: 'help' },
  { short: 'i', value: 'required' },
  { short: 'R' },
  { short: 't' },
  { short: 'V', value: 'optional' },
  { long: 'cpu', value: 'required' },
  { long: 'cpus' },
  { long: 'first-event' },
  { long: 'ts-diff' },
  { long: 'ts2secs', value: 'required' },
  { long: 'verbose', value: 'optional' },
];

const parse = (args: string[]) => getopt(args, SPEC, 'report', 'usage: x');

describe('the parser', () => {
  test('bundled short options, attached and separate values', () => {
    expect(parse(['-Rt', '-iA', '-i', 'B', '-RiC', 'D']).options).toEqual([
      { key: 'R', value: undefined },
      { key: 't', value: undefined },
      { key: 'i', value: 'A' },
      { key: 'i', value: 'B' },
      { key: 'R', value: undefined },
      { key: 'i', value: 'C' },
    ]);
    expect(parse(['-RiC', 'D']).positional).toEqual(['D']);
  });

  test('long options: =value, a separate value, unambiguous prefixes, exact names over prefixes', () => {
    expect(parse(['--cpu=0,1', '--cpu', '2', '--first', '--ts2=5', '--cpus', '--verbose=3', '--verbose']).options).toEqual([
      { key: 'cpu', value: '0,1' },
      { key: 'cpu', value: '2' },
      { key: 'first-event', value: undefined },
      { key: 'ts2secs', value: '5' },
      { key: 'cpus', value: undefined },
      { key: 'verbose', value: '3' },
      { key: 'verbose', value: undefined },
    ]);
  });

  test('an optional value attaches only; -- ends the options; - is an argument', () => {
    const p = parse(['-V', 'x', '-V2', 'a', '-', '--', '-t', '--cpu']);
    expect(p.options).toEqual([
      { key: 'V', value: undefined },
      { key: 'V', value: '2' },
    ]);
    expect(p.positional).toEqual(['x', 'a', '-', '-t', '--cpu']);
    expect(p.sequence.map((o) => o.key)).toEqual(['V', '', 'V', '', '', '', '']);
  });

  test.each([
    [['-x'], "report: invalid option -- 'x'"],
    [['-Rx'], "report: invalid option -- 'x'"],
    [['-i'], "report: option requires an argument -- 'i'"],
    [['--bogus'], "report: unrecognized option '--bogus'"],
    [['--cpu'], "report: option '--cpu' requires an argument"],
    [['--cpus=1'], "report: option '--cpus' doesn't allow an argument"],
    [['--c'], "report: option '--c' is ambiguous; possibilities: '--cpu' '--cpus'"],
    [['--ts'], "report: option '--ts' is ambiguous; possibilities: '--ts-diff' '--ts2secs'"],
  ])('%j: %s', (args, message) => {
    let error: unknown;
    try {
      parse(args);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect([(error as UsageError).message, (error as UsageError).usage]).toEqual([message, 'usage: x']);
  });
});

const HAVE = existsSync(join(ROOT, REAL));
if (!HAVE) console.warn(`getopt: no ${REAL}: the commands are not run`);
const FILE = join(REAL, 'sched-irq-sys-v7-zstd.dat');
const cli = (args: string[]) => run(process.execPath, [CLI, ...args], { timeoutMs: 120_000 });

describe.skipIf(!HAVE)('the commands', () => {
  test('report: -Rt, -iFILE, --cpu=1 and -- read as trace-cmd reads them', async () => {
    const theirs = await run('trace-cmd', ['report', '-R', '-t', '--cpu', '1', FILE]);
    expect(theirs.status).toBe(0);
    for (const args of [
      ['-R', '-t', '--cpu', '1', FILE],
      ['-Rt', `-i${FILE}`, '--cpu=1'],
      ['-tR', '--cpu=1', '--', FILE],
      ['--cpu=1', '-tRi', FILE],
    ]) {
      const ours = await cli(['report', ...args]);
      expect([ours.status, ours.stderr], args.join(' ')).toEqual([0, '']);
      expect(ours.stdout.equals(theirs.stdout), args.join(' ')).toBe(true);
    }
    const tc = await run('trace-cmd', ['report', '-Rt', `-i${FILE}`, '--cpu=1']);
    expect(tc.stdout.equals(theirs.stdout)).toBe(true);
  });

  test('report: a file name that looks like an option after --', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedat-getopt-'));
    const r = await run(process.execPath, [CLI, 'report', '-t', '--', '-t'], { cwd: dir });
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/^tracedat: .*-t/)]);
  });

  test('dump: --summary bundled with -i as trace-cmd dump', async () => {
    const theirs = await run('trace-cmd', ['dump', '--options', '--cmd-lines', '-i', FILE]);
    for (const args of [['--options', '--cmd-lines', `-i${FILE}`], ['--cmd', '--opt', '--', FILE]]) {
      const ours = await cli(['dump', ...args]);
      expect([ours.status, ours.stderr], args.join(' ')).toEqual([0, '']);
      expect(ours.stdout.equals(theirs.stdout), args.join(' ')).toBe(true);
    }
  });

  test('convert: -iIN -oOUT and --file-version=6 as -i IN -o OUT --file-version 6', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedat-getopt-'));
    const a = join(dir, 'a.dat');
    const b = join(dir, 'b.dat');
    expect((await cli(['convert', '-i', FILE, '-o', a, '--file-version', '6'])).status).toBe(0);
    expect((await cli(['convert', `-i${FILE}`, `-o${b}`, '--file-version=6'])).status).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  test.each([
    ['report', ['--bogus', FILE], "tracedat: report: unrecognized option '--bogus'"],
    ['report', ['-Rz', FILE], "tracedat: report: invalid option -- 'z'"],
    ['report', ['--ts2secs'], "tracedat: report: option '--ts2secs' requires an argument"],
    ['dump', ['-x', FILE], "tracedat: dump: invalid option -- 'x'"],
    ['dump', [FILE, '-i'], "tracedat: dump: option requires an argument -- 'i'"],
    ['convert', [FILE, '-o'], "tracedat: convert: option requires an argument -- 'o'"],
    ['convert', ['--level=3=', FILE, 'x.dat'], 'tracedat: convert: --level needs an integer, not 3='],
    ['merge', ['--sync=bogus', FILE, FILE, '-o', 'x.dat'], 'tracedat: merge: --sync bogus: one of auto, time-shift, kvm, offset, none'],
    ['merge', ['--ts=x', FILE], "tracedat: merge: option '--ts' is ambiguous; possibilities: '--tsc-offset' '--ts-offset' '--tsc-scaling'"],
    ['dump', ['--he', FILE], "tracedat: dump: option '--he' is ambiguous; possibilities: '--help' '--head-page' '--head-event'"],
    ['attach', ['--tsc-offset'], "tracedat: attach: option '--tsc-offset' requires an argument"],
  ])('%s %j: exit 1, the reason, then that command\'s usage', async (command, args, line) => {
    const r = await cli([command, ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([line, expect.stringMatching(new RegExp(`^usage: tracedat ${command} `))]);
    expect(r.stdout.length).toBe(0);
  });

  test.each(['report', 'dump', 'convert', 'merge', 'attach'])('%s --help and -h: its usage on stdout, exit 0', async (command) => {
    for (const flag of ['--help', '-h', '--hel']) {
      const r = await cli([command, flag]);
      expect([r.status, r.stderr], flag).toEqual([0, '']);
      expect(r.stdout.toString()).toMatch(new RegExp(`^usage: tracedat ${command} `));
    }
  });
});
