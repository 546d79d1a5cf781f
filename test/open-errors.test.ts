// Inputs that are not a trace at all get one plain line naming what was found (exit 2): a
// directory, an empty file (as a path and as a .zip member), a .zip member that is not there
// (the members are listed), a .zip with no or several .dat members.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, REAL, ROOT, makeZip, run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tracedat-open-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixture = join(ROOT, REAL, 'sched-irq-sys-v6.dat');
const empty = join(dir, 'empty.dat');
writeFileSync(empty, '');
const sub = join(dir, 'traces');
mkdirSync(sub);
const zip = join(dir, 'bundle.zip');
makeZip(zip, { 'host.dat': fixture, 'notes/README.txt': join(ROOT, REAL, 'INDEX.txt'), 'empty.dat': empty });
const two = join(dir, 'two.zip');
makeZip(two, { 'a.dat': fixture, 'b.dat': fixture });
const none = join(dir, 'none.zip');
makeZip(none, { 'INDEX.txt': join(ROOT, REAL, 'INDEX.txt') });

const CASES: [string, string, string][] = [
  ['a directory', sub, `${sub}: file: a trace.dat file, found a directory`],
  ['an empty file', empty, `${empty}: initial header, offset 0: a trace.dat file, found an empty file (0 bytes)`],
  ['an empty .zip member', `${zip}:empty.dat`, `${zip}:empty.dat: initial header, offset 0: a trace.dat file, found an empty file (0 bytes)`],
  ['a .zip member that is not there', `${zip}:guest.dat`, `${zip}:guest.dat: zip archive: a member named guest.dat; ${zip} holds host.dat, notes/README.txt, empty.dat`],
  ['a .zip with two .dat members', two, `${two}: zip archive: exactly one .dat member (found 2: a.dat, b.dat); name one as ${two}:MEMBER`],
  ['a .zip with no .dat member', none, `${none}: zip archive: exactly one .dat member (found 0; it holds INDEX.txt); name one as ${none}:MEMBER`],
];

describe.concurrent('opening what is not a trace', () => {
  test.each(CASES)('%s', async (_name, input, error) => {
    for (const command of ['report', 'dump']) {
      const r = await run(process.execPath, [CLI, command, input]);
      expect({ command, stderr: r.stderr, status: r.status, stdout: r.stdout.length }).toEqual({ command, stderr: `tracedat: ${error}\n`, status: 2, stdout: 0 });
    }
  });
});
