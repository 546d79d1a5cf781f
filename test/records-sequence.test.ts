// Every record, in order: our merged records of each buffer against `trace-cmd report
// --raw-ts -R`, line by line (CPU, raw timestamp, pid, lost-events marks). This checks the page
// decoder, the chunk walker and the merge order (ties go to the lower CPU) on real files.
import { expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC as PUBLIC_DIR, REAL as REAL_DIR, ROOT } from './helpers.js';
import { open } from '../src/index.js';

const run = promisify(execFile);
const REAL = join(ROOT, REAL_DIR);
const PUBLIC = join(ROOT, PUBLIC_DIR);
const ZLIB = /Masterarbeit__documentation__trace-cmd__(analysis__test__trace|LTS)/;
const files = [
  ...readdirSync(REAL).map((f) => join(REAL, f)),
  ...readdirSync(PUBLIC).filter((f) => !ZLIB.test(f)).map((f) => join(PUBLIC, f)),
].filter((f) => f.endsWith('.dat'));

// `[prefix:] comm-pid [cpu]ts: name:` or `CPU:n [N EVENTS DROPPED]`.
const EVENT = /^(?:(\S+): )?\s*.*-(\d+)\s+\[(\d{3})\]\s*(\d+(?:\.\d{6})?): /;
const DROPPED = /^(?:(\S+): )?\s*CPU:(\d+) \[(?:(\d+) )?EVENTS DROPPED\]$/;

/** trace-cmd prints even raw times as secs.usecs (rounded) when the clock counts ns. */
function show(ts: bigint, usecs: boolean): string {
  if (!usecs) return ts.toString();
  const us = (ts + 500n) / 1000n;
  return `${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

test.each(files)('%s: every record equals trace-cmd report --raw-ts -R', async (file) => {
  const t = await open(file);
  if (t.metadata.buffers.some((b) => b.kind === 'latency')) return expect(t.metadata.buffers).toHaveLength(1);
  const { stdout } = await run('trace-cmd', ['report', '--raw-ts', '-R', file], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const names = t.metadata.buffers.map((b) => b.name);
  const usecs = /\]\s*\d+\.\d{6}: /.test(stdout);
  const expected = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const line of stdout.split('\n')) {
    let m = EVENT.exec(line);
    if (m) {
      const buf = m[1] !== undefined && names.includes(m[1]) ? m[1] : '';
      expected.get(buf)!.push(`${m[3]} ${m[4]} ${m[2]}`);
      continue;
    }
    m = DROPPED.exec(line);
    if (m) expected.get(m[1] !== undefined && names.includes(m[1]) ? m[1] : '')!.push(`${Number(m[2])} dropped ${m[3] ?? ''}`);
  }
  for (const [i, name] of names.entries()) {
    const ours: string[] = [];
    for (const r of t.records(i, { rawTimestamps: true })) {
      if (r.missedEvents !== 0) ours.push(`${r.cpu} dropped ${r.missedEvents > 0 ? r.missedEvents : ''}`);
      ours.push(`${r.cpu.toString().padStart(3, '0')} ${show(r.rawTimestamp, usecs)} ${r.pid}`);
    }
    const exp = expected.get(name)!.map((l) => l.replace(/^(\d+) dropped/, (_, c: string) => `${Number(c)} dropped`));
    expect(ours.length, `buffer "${name}"`).toBe(exp.length);
    expect(ours).toEqual(exp);
  }
});
