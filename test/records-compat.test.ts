// Records against trace-cmd 3.1.6, run at test time: per-CPU first and last timestamps of the
// top buffer (`report --first-event --last-event`) and the number of events of all buffers.
import { describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC as PUBLIC_DIR, REAL as REAL_DIR, ROOT } from './helpers.js';
import { open } from '../src/index.js';

const run = promisify(execFile);
const REAL = join(ROOT, REAL_DIR);
const PUBLIC = join(ROOT, PUBLIC_DIR);
/** Files Debian's trace-cmd cannot read (zlib); checked against stored 3.2.0 output elsewhere. */
const ZLIB = /Masterarbeit__documentation__trace-cmd__(analysis__test__trace|LTS)/;

const files = [
  ...readdirSync(REAL).filter((f) => f.endsWith('.dat')).map((f) => join(REAL, f)),
  ...readdirSync(PUBLIC).filter((f) => f.endsWith('.dat') && !ZLIB.test(f)).map((f) => join(PUBLIC, f)),
];

async function traceCmd(args: string[]): Promise<string> {
  const r = await run('trace-cmd', args, { maxBuffer: 1 << 30, encoding: 'utf8' }).catch((e: { stdout: string }) => e);
  return r.stdout;
}

/** A reported time as trace-cmd prints it: raw, or `secs.usecs` (rounded) for ns clocks. */
function show(ts: bigint, usecs: boolean): string {
  if (!usecs) return ts.toString();
  const us = (ts + 500n) / 1000n;
  return `${(us / 1_000_000n).toString().padStart(5)}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

describe.each(files)('%s', (file) => {
  test('per-CPU first and last event times equal trace-cmd report --first-event --last-event', async () => {
    const expected = await traceCmd(['report', '--first-event', '--last-event', file]);
    const t = await open(file);
    const top = t.metadata.buffers[0];
    let ours = '';
    if (top?.kind === 'flyrecord') {
      ours = `List of CPUs in ${file} with data:\n`;
      const usecs = /First event:\s*\d+\.\d{6}/.test(expected);
      for (const c of t.scan()[0]!.cpus) {
        if (c.count) ours += `  ${c.cpu}\tFirst event:${show(c.first!, usecs)}\tLast event:${show(c.last!, usecs)}\n`;
      }
    }
    expect(ours).toBe(expected);
  });

  test('event count of all buffers equals trace-cmd report -R', async () => {
    const t = await open(file);
    if (t.metadata.buffers.some((b) => b.kind === 'latency')) {
      // Latency tracer files hold text, not events: there is nothing to count.
      expect(t.metadata.buffers.map((b) => b.kind)).toEqual(['latency']);
      return;
    }
    // -R prints every event on its own (function_graph would otherwise fold entry/exit pairs);
    // one header `[CPU] time:` per event, continuation lines of multi-line events have none.
    const report = await traceCmd(['report', '-R', file]);
    const lines = report.split('\n').filter((l) => /\[\d{3}\]\s*\d+(\.\d+)?: /.test(l)).length;
    const ours = t.scan().reduce((n, b) => n + b.cpus.reduce((m, c) => m + c.count, 0), 0);
    expect(ours).toBe(lines);
  });
});

test('records() streams every record in time order with decoded common fields', async () => {
  const t = await open(join(REAL, 'sched-irq-sys-v7-zstd.dat'));
  const scan = t.scan()[0]!;
  let n = 0;
  let last = 0n;
  const perCpu = new Map<number, number>();
  for (const r of t.records()) {
    expect(r.timestamp >= last).toBe(true);
    last = r.timestamp;
    perCpu.set(r.cpu, (perCpu.get(r.cpu) ?? 0) + 1);
    expect(r.eventId).toBeGreaterThan(0);
    n++;
  }
  expect(n).toBe(12886);
  for (const c of scan.cpus) expect(perCpu.get(c.cpu)).toBe(c.count);
  // A CPU filter and raw timestamps.
  const only1 = [...t.records(0, { cpus: [1], rawTimestamps: true })];
  expect(only1.length).toBe(scan.cpus.find((c) => c.cpu === 1)!.count);
  expect(only1.every((r) => r.cpu === 1 && r.timestamp === r.rawTimestamp)).toBe(true);
});

describe.each(readdirSync(PUBLIC).filter((f) => ZLIB.test(f) && f.endsWith('.dat')))('%s (zlib)', (name) => {
  test('events and per-CPU first/last times equal trace-cmd 3.2.0 report', async () => {
    const gz = join(PUBLIC, 'expected-trace-cmd-3.2.0', name.replace(/\.dat$/, '.report.txt.gz'));
    const report = (await import('node:zlib')).gunzipSync((await import('node:fs')).readFileSync(gz)).toString('utf8');
    const seen = new Map<number, { first: string; last: string; n: number }>();
    for (const m of report.matchAll(/\[(\d{3})\]\s*(\d+(?:\.\d+)?): /g)) {
      const cpu = Number(m[1]);
      const s = seen.get(cpu) ?? { first: m[2]!, last: m[2]!, n: 0 };
      s.last = m[2]!;
      s.n++;
      seen.set(cpu, s);
    }
    const t = await open(join(PUBLIC, name));
    const usecs = /\]\s*\d+\.\d{6}: /.test(report);
    const ours = new Map<number, { first: string; last: string; n: number }>();
    for (const c of t.scan()[0]!.cpus) {
      if (c.count) ours.set(c.cpu, { first: show(c.first!, usecs).trim(), last: show(c.last!, usecs).trim(), n: c.count });
    }
    expect(ours).toEqual(seen);
  });
});
