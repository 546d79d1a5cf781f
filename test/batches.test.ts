// TraceFile.batches against TraceFile.records: the same records, field by field, in the same
// order, on every fixture (multi-buffer, big-endian, compressed, overflowed), batch sizes from
// 1 up, with the options both take; and the same damage the same way.
import { expect, test, describe } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC as PUBLIC_DIR, REAL as REAL_DIR, ROOT, ZLIB_FILES } from './helpers.js';
import { open, TraceError, UsageError, type RecordBatch, type RecordOptions, type TraceFile, type TraceRecord } from '../src/index.js';

const REAL = join(ROOT, REAL_DIR);
const PUBLIC = join(ROOT, PUBLIC_DIR);
const files = [
  ...readdirSync(REAL).filter((f) => f.endsWith('.dat')).map((f) => join(REAL, f)),
  ...readdirSync(PUBLIC).filter((f) => f.endsWith('.dat') && !ZLIB_FILES.test(f)).map((f) => join(PUBLIC, f)),
];

/** A record as a line of text, every field of it (the data as hex). */
function line(r: Omit<TraceRecord, 'data'> & { data: Uint8Array }): string {
  return `${r.buffer} ${r.cpu} ${r.timestamp} ${r.rawTimestamp} ${r.eventId} ${r.pid} ${r.missedEvents} ${Buffer.from(r.data).toString('hex')}`;
}

/** Record `i` of a batch, as `line` shows it; also checks the split time against the whole one. */
function batchLine(b: RecordBatch, i: number): string {
  const ts = b.timestamp[i]!;
  expect((BigInt(b.timestampHigh[i]!) << 32n) | BigInt(b.timestampLow[i]!)).toBe(ts);
  const data = b.data.subarray(b.offset[i]!, b.offset[i]! + b.length[i]!);
  return line({ buffer: b.buffer, cpu: b.cpu[i]!, timestamp: ts, rawTimestamp: b.rawTimestamp[i]!, eventId: b.eventId[i]!, pid: b.pid[i]!, missedEvents: b.missedEvents[i]!, data });
}

function viaRecords(t: TraceFile, buffer: number, options: RecordOptions = {}): string[] {
  return [...t.records(buffer, options)].map(line);
}

function viaBatches(t: TraceFile, buffer: number, options: RecordOptions = {}): string[] {
  const out: string[] = [];
  for (const b of t.batches(buffer, options)) {
    expect(b.count).toBeGreaterThan(0);
    expect(b.count).toBeLessThanOrEqual(options.batch ?? 65536);
    for (let i = 0; i < b.count; i++) out.push(batchLine(b, i));
  }
  return out;
}

describe.each(files)('%s', (file) => {
  test('batches() gives every buffer the records records() gives, at any batch size', async () => {
    const t = await open(file);
    t.metadata.buffers.forEach((b, i) => {
      if (b.kind !== 'flyrecord') return;
      const expected = viaRecords(t, i);
      expect(viaBatches(t, i)).toEqual(expected);
      expect(viaBatches(t, i, { batch: 7 })).toEqual(expected);
    });
  });
});

test('batches() takes records() options: raw timestamps and CPUs', async () => {
  const t = await open(join(REAL, 'sched-irq-sys-v7-zstd.dat'));
  expect(viaBatches(t, 0, { rawTimestamps: true, batch: 1 })).toEqual(viaRecords(t, 0, { rawTimestamps: true }));
  expect(viaBatches(t, 0, { cpus: [1, 3] })).toEqual(viaRecords(t, 0, { cpus: [1, 3] }));
  expect(() => t.batches(0, { batch: 0 }).next()).toThrow(UsageError);
});

test('batches() meets damage as records() does: after the same records, or salvaged the same way', async () => {
  const good = join(REAL, 'sched-irq-sys-v7-none.dat');
  const bad = readFileSync(good);
  const t0 = await open(good);
  const top = t0.metadata.buffers[0];
  if (top?.kind !== 'flyrecord') throw new Error('a flyrecord top buffer');
  bad.writeUInt32LE(0xffff, top.cpus[0]!.offset + 8 + 4096 * 3);
  const path = join(mkdtempSync('/tmp/tracedat-'), 'bad.dat');
  writeFileSync(path, bad);
  const t = await open(path);
  const drain = <T>(it: Iterable<T>, out: T[]) => {
    try {
      for (const x of it) out.push(x);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const records: TraceRecord[] = [];
  const e1 = drain(t.records(0), records);
  const batches: string[] = [];
  const e2 = drain(
    (function* () {
      for (const b of t.batches(0, { batch: 100 })) for (let i = 0; i < b.count; i++) yield batchLine(b, i);
    })(),
    batches,
  );
  expect(e1).toBeInstanceOf(TraceError);
  expect(e2).toEqual(e1);
  expect(records.length).toBeGreaterThan(0);
  expect(batches).toEqual(records.map(line));
  const skips: [unknown[], unknown[]] = [[], []];
  const salvaged = viaRecords(t, 0, { salvage: true, onSkip: (s) => skips[0].push(s) });
  expect(viaBatches(t, 0, { salvage: true, onSkip: (s) => skips[1].push(s) })).toEqual(salvaged);
  expect(skips[1]).toEqual(skips[0]);
  expect(skips[0].length).toBe(1);
});
