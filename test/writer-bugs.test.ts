// Files a known trace-cmd bug wrote are read with one warning.
//
// trace-cmd 3.1.6's `convert --file-version 6` of a big-endian file with instances writes the
// BUFFER options' offsets in the converting host's byte order, after which trace-cmd's own
// report loses the instances. The file is made here from the big-endian fixture, whose
// "second" instance the check below finds first.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { open } from '../src/index.js';
import { CLI, REAL, ROOT, run } from './helpers.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tracedat-writer-bugs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('trace-cmd 3.1.6 convert --file-version 6 of a big-endian file with an instance: its BUFFER offset is read byte-swapped, with one warning, and convert writes it right', async () => {
  const original = join(ROOT, REAL, 's390x-be-v7-zstd.dat');
  const converted = join(dir, 'be-v6.dat');
  const options = (await exec('trace-cmd', ['dump', '--options', original])).stdout;
  expect(options).toContain('"second" [name]');
  await exec('trace-cmd', ['convert', '--file-version', '6', '-i', original, '-o', converted]);

  // The bug as trace-cmd writes it: the offset's 8 bytes in little-endian order in a big-endian file.
  const dumped = (await exec('trace-cmd', ['dump', '--options', converted])).stdout;
  const stored = BigInt(/(\d+) \[offset\]\n"second" \[name\]/.exec(dumped)![1]!);
  const swapped = swap(stored);
  expect(stored).toBeGreaterThan(1n << 40n);
  expect(swapped).toBeLessThan(1n << 32n);
  // ... which trace-cmd's own report then loses.
  const theirs = await run('trace-cmd', ['report', converted], { timeoutMs: 60_000 });
  expect(theirs.stderr).toContain('could not retrieve handle second');
  expect(theirs.stdout.toString()).not.toContain('second:');

  const want = (await run('trace-cmd', ['report', original], { timeoutMs: 60_000 })).stdout;
  const ours = await run(process.execPath, [CLI, 'report', converted], { timeoutMs: 60_000 });
  expect(ours.status).toBe(0);
  expect(ours.stderr).toBe(
    `tracedat: report: ${converted}: the BUFFER option of buffer "second" holds offset 0x${stored.toString(16)} in the wrong byte order (a writer bug of trace-cmd 3.1.6's convert --file-version 6); read as 0x${swapped.toString(16)}\n`,
  );
  expect(ours.stdout.toString()).toContain('second:');
  expect(ours.stdout.equals(want)).toBe(true);

  // The API says it once per file; convert says it and writes the offset right.
  const warning = ours.stderr.slice(`tracedat: report: ${converted}: `.length, -1);
  expect((await open(converted)).warnings).toEqual([warning]);
  const again = join(dir, 'again.dat');
  const c = await run(process.execPath, [CLI, 'convert', converted, again]);
  expect({ status: c.status, stderr: c.stderr }).toEqual({ status: 0, stderr: `tracedat: convert: ${converted}: ${warning}\n` });
  expect((await open(again)).warnings).toEqual([]);
  const fixed = await run('trace-cmd', ['report', again], { timeoutMs: 60_000 });
  expect(fixed.stderr).toBe('');
  expect(fixed.stdout.equals(want)).toBe(true);
});

/** The 8 bytes of `v` in the other order. */
function swap(v: bigint): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b.readBigUInt64BE();
}
