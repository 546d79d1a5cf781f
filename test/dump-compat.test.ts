// `tracedat dump` against `trace-cmd dump`, run now on every fixture with every flag: stdout
// byte for byte, and the same success or failure (tracedat exits 2 where trace-cmd dies).
// Debian's trace-cmd 3.1.6 cannot read zlib files; those are compared with the outputs of
// trace-cmd 3.2.0 stored beside them.
//
// The full matrix computes tracedat's side in-process (see dumpInProcess: one node process per
// case would take minutes on CI's two cores); the CLI itself runs every flag on a v6, a v7 and
// a big-endian file and on the defective one, and `-i`, zip bundles and the zlib files.
import { existsSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DUMP_FLAGS,
  ERROR_LINE,
  EXPECTED_320,
  PUBLIC,
  REAL,
  ROOT,
  compressionOf,
  dats,
  dumpArgs,
  dumpInProcess,
  firstDifference,
  makeZip,
  oneErrorLine,
  traceCmd,
  tracedat,
  unzipMember,
  type DumpFlag,
  type Run,
} from './helpers.js';

const files = [...dats(REAL).map((f) => `${REAL}/${f}`), ...dats(PUBLIC).map((f) => `${PUBLIC}/${f}`)];
const zlib = files.filter((f) => compressionOf(f) === 'zlib');
const readable = files.filter((f) => !zlib.includes(f));

/** Same stdout, and the same outcome: both succeed, or trace-cmd dies and tracedat exits 2. */
function expectSameAsTraceCmd(ours: Run, theirs: Run): void {
  expect(firstDifference(ours.stdout, theirs.stdout)).toBe('');
  if (theirs.status === 0) {
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
  } else {
    expect(theirs.signal, `trace-cmd was killed: ${theirs.stderr}`).toBeNull();
    expect(oneErrorLine(ours.stderr)).toMatch(ERROR_LINE);
    expect(ours.status).toBe(2);
  }
}

const flagName = (flag: string): string => (flag === '' ? '(no flag)' : flag);

test('the fixture directories hold what this suite expects', () => {
  expect(dats(REAL).length).toBeGreaterThanOrEqual(16);
  expect(dats(PUBLIC).length).toBeGreaterThanOrEqual(20);
  expect(zlib.map((f) => basename(f))).toEqual([
    'Masterarbeit__documentation__trace-cmd__LTS__trace-cmd-v3.2__trace.dat',
    'Masterarbeit__documentation__trace-cmd__analysis__test__trace-Salamander4.dat',
    'Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat',
  ]);
});

describe.concurrent.each(readable)('%s', (file) => {
  test.each(DUMP_FLAGS.map((f) => [flagName(f), f] as const))('dump %s matches trace-cmd', async (_name, flag) => {
    const theirs = await traceCmd(dumpArgs(flag, file));
    expectSameAsTraceCmd(await dumpInProcess(file, flag), theirs);
  });
});

const CLI_FILES = [
  `${REAL}/sched-irq-sys-v6.dat`,
  `${REAL}/instance-v7-zstd.dat`,
  `${REAL}/s390x-be-v7-zstd.dat`,
  `${PUBLIC}/Masterarbeit__documentation__trace-cmd__analysis__trace__c984cb2.dat`,
];

describe.concurrent.each(CLI_FILES)('%s through the CLI', (file) => {
  test.each(DUMP_FLAGS.map((f) => [flagName(f), f] as const))('node dist/cli.js dump %s matches trace-cmd', async (_name, flag) => {
    const args = dumpArgs(flag, file);
    const [theirs, ours] = await Promise.all([traceCmd(args), tracedat(args)]);
    expectSameAsTraceCmd(ours, theirs);
  });

  test('dump -i FILE matches trace-cmd -i FILE', async () => {
    const [theirs, ours] = await Promise.all([traceCmd(['-i', file]), tracedat(['-i', file])]);
    expectSameAsTraceCmd(ours, theirs);
  });
});

// 3.2.0's outputs were made in the fixture directory with the bare file name, so tracedat runs
// there too. Its dump of --kallsyms (and so --all) was not stored.
const STORED_320: readonly DumpFlag[] = DUMP_FLAGS.filter((f) => f !== '--kallsyms' && f !== '--all');

describe.concurrent.each(zlib.map((f) => basename(f)))('%s (zlib; vs stored trace-cmd 3.2.0 output; --kallsyms and --all not stored, not compared)', (name) => {
  const stored = (flag: DumpFlag): Buffer => {
    // No flag is trace-cmd's --summary (`if (!verbosity && !validate) verbosity = SUMMARY`).
    const suffix = flag === '-v' ? 'dump-v' : `dump${flag === '' ? '--summary' : flag}`;
    return readFileSync(join(ROOT, EXPECTED_320, `${name.replace(/\.dat$/, '')}.${suffix}.txt`));
  };
  const cwd = join(ROOT, PUBLIC);

  // No flag is compared with the stored --summary: trace-cmd's default.
  test.each(STORED_320.map((f) => [f === '' ? '(no flag, vs its --summary)' : f, f] as const))('dump %s matches 3.2.0', async (_name, flag) => {
    const ours = await dumpInProcess(join(PUBLIC, name), flag, name);
    expect(firstDifference(ours.stdout, stored(flag))).toBe('');
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
  });

  test.each([['-v'], ['-i']] as const)('node dist/cli.js dump %s FILE (in the fixture directory) matches 3.2.0', async (flag) => {
    const ours = await tracedat([flag, name], { cwd });
    expect(firstDifference(ours.stdout, stored(flag === '-v' ? '-v' : ''))).toBe('');
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
  });
});

test('the defective public file: trace-cmd prints its header and dies; tracedat prints the same and exits 2', async () => {
  const file = `${PUBLIC}/Masterarbeit__documentation__trace-cmd__analysis__trace__c984cb2.dat`;
  const [theirs, ours] = await Promise.all([traceCmd([file]), tracedat([file])]);
  expect(theirs.stderr).toContain('cannot read the rest of the header');
  expect(theirs.status).not.toBe(0);
  expect(theirs.stdout.length).toBeGreaterThan(0);
  expectSameAsTraceCmd(ours, theirs);
  expect(ours.stderr).toBe(
    `tracedat: ${file}: v6 metadata, offset 3178302: the rest of the header (another 10-byte tag, or the padding before the CPU data), but the file ends here\n`,
  );
});

test('-i FILE and a trailing FILE give the same output, flags before or after', async () => {
  const file = `${REAL}/instance-v7-zstd.dat`;
  const runs = await Promise.all([tracedat(['--all', file]), tracedat(['-i', file, '--all']), tracedat(['--all', '-i', file])]);
  for (const r of runs) {
    expect(r.status).toBe(0);
    expect(firstDifference(r.stdout, runs[0]!.stdout)).toBe('');
  }
  expect(runs[0]!.stdout.length).toBeGreaterThan(100_000);
});

describe('a .zip bundle', () => {
  const member = 'sched-irq-sys-v7-zstd.dat';
  let dir = '';
  let zip = '';
  let extracted = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tracedat-zip-'));
    zip = join(dir, 'bundle.zip');
    extracted = join(dir, 'extracted.dat');
    copyFileSync(join(ROOT, 'fixtures', member), join(dir, member));
    makeZip(zip, { [member]: join(dir, member), 'README.txt': join(ROOT, REAL, 'INDEX.txt') });
    rmSync(join(dir, member));
    unzipMember(zip, member, extracted);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** trace-cmd's output on the extracted file, with its name where tracedat prints `spec`. */
  async function expected(flag: DumpFlag, spec: string): Promise<Buffer> {
    const r = await traceCmd(dumpArgs(flag, extracted));
    expect(r.status).toBe(0);
    const text = r.stdout.toString('latin1');
    const renamed = text
      .replace(`\n Tracing meta data in file ${extracted}:\n`, `\n Tracing meta data in file ${spec}:\n`)
      .replace(`File ${extracted} is a valid trace-cmd file\n`, `File ${spec} is a valid trace-cmd file\n`);
    const namesTheFile = flag === '' || flag === '--summary' || flag === '--all' || flag === '-v';
    expect(renamed !== text, 'the line naming the file was found and renamed').toBe(namesTheFile);
    return Buffer.from(renamed, 'latin1');
  }

  test.each(
    (
      [
        ['bundle.zip', '--all'],
        ['bundle.zip', '-v'],
        ['bundle.zip', ''],
        ['bundle.zip:member', '--all'],
        ['bundle.zip:member', '--kallsyms'],
        ['bundle.zip:member', '-v'],
      ] as const
    ).map(([which, flag]) => [which, flagName(flag), flag] as const),
  )('dump %s %s matches trace-cmd on the extracted member', async (which, _name, flag) => {
    expect(existsSync(zip)).toBe(true);
    const spec = which === 'bundle.zip' ? zip : `${zip}:${member}`;
    const ours = await tracedat(dumpArgs(flag, spec));
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
    expect(firstDifference(ours.stdout, await expected(flag, spec))).toBe('');
  });
});
