// trace.events(): the decoded records of the events API against `report --format json` (whose
// values report-json.test.ts checks against trace-cmd): the same records in the same order, every
// field equal (integers beyond 2^53 as BigInts), and buffers/cpus/filter selecting as report's
// instance names, --cpu and -F do; TraceError's stable codes.
import { describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, open, report, TraceError, type TraceEvent, type TraceFile } from '../src/index.js';
import { PUBLIC, REAL, ROOT } from './helpers.js';

const HAVE = existsSync(join(ROOT, REAL)) && existsSync(join(ROOT, PUBLIC));
if (!HAVE) console.warn(`events: ${REAL} or ${PUBLIC} not found; the fixture tests do not run`);
const FILES = [
  join(ROOT, REAL, 'sched-irq-sys-v7-zstd.dat'),
  join(ROOT, REAL, 'instance-v7-zstd.dat'),
  join(ROOT, REAL, 's390x-be-v7-zstd.dat'),
  join(ROOT, PUBLIC, 'Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat'),
];

/** The JSON record a decoded event must equal: decimal strings where the event has BigInts. */
function asJson(e: TraceEvent): unknown {
  const big = (v: unknown): unknown => (typeof v === 'bigint' ? (v <= 2n ** 53n && v >= -(2n ** 53n) ? Number(v) : v.toString()) : Array.isArray(v) ? v.map(big) : v);
  const fields = e.fields === null ? null : Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, big(v)]));
  return { ...e, ts: big(e.ts), fields };
}

function jsonRecords(trace: TraceFile | TraceFile[], options: Parameters<typeof report>[1] = {}): Record<string, unknown>[] {
  const text = report(trace, { ...options, format: 'json' }).toString('utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe.runIf(HAVE).each(FILES)('%s', (file) => {
  test('events() equals report --format json, record for record', async () => {
    const trace = await open(file);
    const ours = [...trace.events({ batch: 64 << 10 })];
    const json = jsonRecords(trace);
    expect(ours.length).toBe(json.length);
    expect(ours.length).toBeGreaterThan(1000);
    ours.forEach((e, i) => {
      expect(typeof e.ts).toBe('bigint');
      expect(asJson(e), `record ${i}`).toEqual(json[i]);
    });
    // Integers beyond 2^53 arrive as BigInts (kernel addresses).
    if (file.includes('Masterarbeit')) expect(ours.some((e) => typeof e.fields?.guest_rip === 'bigint')).toBe(true);
  }, 60_000);
});

describe.runIf(HAVE)('selection', () => {
  test('buffers, cpus and filter select as report does', async () => {
    const trace = await open(join(ROOT, REAL, 'instance-v7-zstd.dat'));
    const all = jsonRecords(trace);
    const names = [...new Set(all.map((r) => r.buffer as string))];
    expect(names.length).toBeGreaterThan(1);
    for (const b of names) {
      const picked = [...trace.events({ buffers: [b] })];
      expect(picked.length, b).toBe(all.filter((r) => r.buffer === b).length);
      expect(picked.every((e) => e.buffer === b)).toBe(true);
    }
    const cpu1 = [...trace.events({ cpus: [1] })].map(asJson);
    expect(cpu1).toEqual(jsonRecords(trace, { cpus: [1] }));
    const switches = [...trace.events({ filter: 'sched_switch: prev_pid != 0' })];
    expect(switches.map(asJson)).toEqual(jsonRecords(trace, { filters: ['sched_switch: prev_pid != 0'] }));
    expect(switches.length).toBeGreaterThan(10);
    expect(switches.every((e) => e.event === 'sched_switch' && e.fields!.prev_pid !== 0)).toBe(true);
    expect([...trace.events({ filter: { filter: 'sched_switch', exclude: true } })].some((e) => e.event === 'sched_switch')).toBe(false);
  });

  test('a host and its guest: one timeline, each record naming its source', async () => {
    const [a, b] = await Promise.all(['sched-irq-sys-v6.dat', 'instance-v6.dat'].map((f) => open(join(ROOT, REAL, f))));
    const ours = [...events([a!, b!])].map(asJson);
    expect(ours).toEqual(jsonRecords([a!, b!]));
    expect(new Set(ours.map((e) => (e as { source: string }).source)).size).toBe(2);
  }, 60_000);
});

describe('TraceError codes', () => {
  test('a missing file is ERR_TRACEDAT_IO, a truncated one ERR_TRACEDAT_FORMAT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedat-events-'));
    try {
      await expect(open(join(dir, 'missing.dat'))).rejects.toMatchObject({ name: 'TraceError', code: 'ERR_TRACEDAT_IO' });
      const cut = join(dir, 'cut.dat');
      writeFileSync(cut, HAVE ? readFileSync(join(ROOT, REAL, 'sched-irq-sys-v6.dat')).subarray(0, 300) : Buffer.from('\x17\x08Dtracing6\0'));
      const e = await open(cut).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(TraceError);
      expect((e as TraceError).code).toBe('ERR_TRACEDAT_FORMAT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
