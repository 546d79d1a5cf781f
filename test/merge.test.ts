// `tracedat merge` proved on ground truth made from real recordings (test/scenarios.ts): a real
// trace's records split into host.dat and guest.dat, the guest's times moved off host time by the
// inverse of the clock under test, and truth.dat = the same records on their TRUE host times in
// one file (host in the top buffer, the guest in an instance named as merge names it). Then
// `trace-cmd report -t` (3.1.6, run now) of the merged file must equal that of truth.dat byte for
// byte, `tracedat report -t` must equal both, and every buffer keeps its records (count and
// payload hash per CPU). Clocks: TIME_SHIFT (constant, steps, interpolated drift, TSC scaling;
// trace-cmd's arithmetic), the host's kvm_write_tsc_offset events (real ones, and forward,
// backward and ambiguous writes as in seed 003), and offsets given by hand. Also the public KVM
// pair against trace-cmd 3.2.0's own merged report, the CLI's refusals, KernelShark, and
// `trace-cmd report -i host -i guest` agreeing with the truth where it can line guests up.
import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { merge, open, writeTrace, type BuildBuffer, type TraceFile } from '../src/index.js';
import { oneErrorLine, run } from './helpers.js';
import {
  FLAG_INTERPOLATE,
  INSTANCE,
  KSHARK_CHECK,
  KVM,
  PUBLIC_GUEST,
  PUBLIC_HOST,
  PUBLIC_REPORT,
  byCpu,
  digest,
  eventId,
  eventNames,
  firstLineDifference,
  hostSync,
  insertByTime,
  invertRecords,
  kvmGuest,
  need,
  recordLines,
  recordsOf,
  reportDifference,
  timeShiftPayload,
  traceCmdReport,
  tracedat,
  tscWrite,
  u64,
  unamePayload,
  writeLayout,
  type Line,
  type Rec,
  type Sample,
  type TimeShift,
} from './scenarios.js';

const dir = mkdtempSync(join(tmpdir(), 'tracedat-merge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let serial = 0;
/** A fresh path in the scratch directory. */
const tmp = (name: string) => join(dir, `${++serial}-${name}`);

const TIME_SHIFT = 12;
const UNAME = 5;

function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const hostTimes = (recs: readonly Rec[]) => recs.map((r) => r.timestamp);
const s = (time: bigint, offset: bigint, scaling = 1n, fraction = 0n): Sample => ({ time, offset, scaling, fraction });

/** The instance fixture as host (top buffer) and guest ("fixture2"), and the truth of every scenario that moves only the guest's clock. */
const instance = once(async () => {
  const template = await open(need(INSTANCE));
  const host = recordsOf(template, 0);
  const guest = recordsOf(template, 1);
  const clock = template.metadata.buffers[0]!.clock!;
  const traceId = template.metadata.options.find((o) => o.id === 11)!.value as bigint;
  const hostPath = tmp('host.dat');
  const truthPath = tmp('truth.dat');
  await writeTrace(template, hostPath, [{ name: '', clock, records: host }]);
  await writeTrace(template, truthPath, [
    { name: '', clock, records: host },
    { name: 'vm', clock, records: guest },
  ]);
  return { template, host, guest, clock, traceId, hostPath, truthPath, truth: await traceCmdReport(['-t', truthPath]) };
});

/** A guest file: `records` on guest time with the template's metadata and `options` set. */
async function guestFile(template: TraceFile, records: Rec[], name: string, setOptions: { id: number; payload: Uint8Array | null }[] = []): Promise<string> {
  const path = tmp(name);
  await writeTrace(template, path, [{ name: '', clock: template.metadata.buffers[0]!.clock!, records }], { setOptions });
  return path;
}

/**
 * The merged file against the truth: trace-cmd's report and ours equal the truth's byte for
 * byte, the buffers are the truth's, and each keeps its input's records (count and payload per
 * CPU): `sources` maps a merged buffer name to the input file and buffer it came from.
 */
async function expectTruth(merged: string, truth: Buffer, sources: Record<string, [string, number]>): Promise<void> {
  const [theirs, ours] = await Promise.all([traceCmdReport(['-t', merged]), tracedat(['report', '-t', merged])]);
  expect(reportDifference(theirs, truth), 'trace-cmd report -t merged vs truth').toBe('');
  expect([ours.status, ours.stderr]).toEqual([0, '']);
  expect(reportDifference(ours.stdout, theirs), 'tracedat report -t merged vs trace-cmd').toBe('');
  const m = await open(merged);
  const names = m.metadata.buffers.map((b) => b.name);
  expect(names).toEqual(Object.keys(sources));
  for (const [name, [path, buffer]] of Object.entries(sources)) {
    expect(digest(m, names.indexOf(name)), `buffer "${name}" vs ${basename(path)}`).toEqual(digest(await open(path), buffer));
  }
}

/** Report lines without the comm column (trace-cmd names some pids `<...>` across files), each named by the buffer the truth holds it in. */
function columns(lines: Line[], rename: (source: string) => string): string[] {
  return lines.map((l) => `${rename(l.source)}|${l.pid}|${l.cpu}|${l.time}|${l.rest}`);
}

/** 12: `trace-cmd report -i host -i guest...` lines the guests up as the truth has them, in the same order. */
async function expectTraceCmdAgrees(host: string, guests: { path: string; name: string }[], truth: Buffer): Promise<void> {
  const out = await traceCmdReport(['-t', '-i', host, ...guests.flatMap((g) => ['-i', g.path])]);
  // Each line names its input by base name.
  const theirs = columns(recordLines(out, [host, ...guests.map((g) => g.path)].map((p) => basename(p))), (src) =>
    src === basename(host) ? '' : guests.find((g) => basename(g.path) === src)!.name,
  );
  const expected = columns(recordLines(truth, guests.map((g) => g.name)), (src) => src);
  expect(firstLineDifference(theirs, expected, (x) => x)).toBe('');
}

/** Per CPU: `k` such that the gap after record k is over `gap`, from index `from` on. */
function gapAfter(hs: readonly bigint[], from: number, gap: bigint): number {
  for (let k = from; k + 1 < hs.length; k++) if (hs[k + 1]! - hs[k]! > gap) return k;
  throw new Error(`scenario: no gap over ${gap} after record ${from}`);
}

describe.concurrent('TIME_SHIFT: trace-cmd 3.1.6 arithmetic', () => {
  /** One guest with `shift`, merged through the API; the truth and trace-cmd's own view checked. */
  async function timeShiftScenario(name: string, shift: (guestByCpu: Map<number, bigint[]>) => TimeShift, samples: number) {
    const b = await instance();
    const ts = shift(new Map([...byCpu(b.guest)].map(([c, r]) => [c, hostTimes(r)])));
    const records = invertRecords(b.guest, (g, cpu) => hostSync(g, cpu, ts));
    const guestPath = await guestFile(b.template, records, `${name}-guest.dat`, [{ id: TIME_SHIFT, payload: timeShiftPayload(b.traceId, ts) }]);
    const out = tmp(`${name}-merged.dat`);
    const r = await merge([await open(b.hostPath), await open(guestPath)], out);
    expect(r.guests.map((g) => [g.name, g.sync, g.source, g.records])).toEqual([['vm', 'time-shift', `its TIME_SHIFT option (${samples} samples)`, b.guest.length]]);
    await expectTruth(out, b.truth, { '': [b.hostPath, 0], vm: [guestPath, 0] });
    await expectTraceCmdAgrees(b.hostPath, [{ path: guestPath, name: 'vm' }], b.truth);
  }

  test('1: constant per-vCPU offsets (one sample each; trace-cmd ignores one sample\'s scaling)', async () => {
    // KVM-size offsets: the guest's TSC started near 0, ~2154 s of host TSC ago; vCPU 1 a bit later.
    await timeShiftScenario(
      'constant',
      (hs) => ({
        flags: 0,
        cpus: [0, 1].map((c) => [s(0n, hs.get(c)![0]! - 5_000_000n - BigInt(c) * 12_345n, c === 1 ? 3n : 1n, c === 1 ? 2n : 0n)]),
      }),
      2,
    );
  });

  test('2: offsets stepping at known times (step mode; after the last sample the second-to-last offset applies)', async () => {
    await timeShiftScenario(
      'steps',
      (hs) => ({
        flags: 0,
        cpus: [0, 1].map((c) => {
          const h = hs.get(c)!;
          const at = (q: number) => Math.floor(h.length * q);
          const off = [2_154_000_000_000n + BigInt(c) * 777n, 2_154_000_004_000n + BigInt(c) * 777n, 2_154_000_009_000n + BigInt(c) * 777n];
          // Each step where the CPU has a gap wider than it, so that every record has a guest time.
          const k1 = gapAfter(h, at(0.3), off[1]! - off[0]! + 1n);
          const k2 = gapAfter(h, at(0.6), off[2]! - off[1]! + 1n);
          const k3 = at(0.8);
          return [
            s(h[0]! - off[0]! + 500n, off[0]!),
            s(h[k1]! - off[0]! + 1n, off[1]!),
            s(h[k2]! - off[1]! + 1n, off[2]!),
            // Never applied by trace-cmd (its step mode keeps the second-to-last offset).
            s(h[k3]! - off[2]! + 1n, off[2]! + 1_000_000_000n),
          ];
        }),
      }),
      8,
    );
  });

  test('3: interpolated drift (flag 1; the guest clock gains on the host, extrapolated past both ends)', async () => {
    await timeShiftScenario(
      'drift',
      (hs) => ({
        flags: FLAG_INTERPOLATE,
        cpus: [0, 1].map((c) => {
          const h = hs.get(c)!;
          const base = 2_154_000_000_000n + BigInt(c) * 999n;
          const at = (q: number) => h[Math.floor(h.length * q)]! - base;
          // Offsets falling by ~150 and ~75 ppm: slope > -1, so every host time has a guest time.
          return [s(at(0.1), base), s(at(0.5), base - 200_000n - BigInt(c) * 1000n), s(at(0.9), base - 300_000n)];
        }),
      }),
      6,
    );
  });

  test('4: TSC scaling with fraction bits (2 samples: host = (guest * 3 >> 2) + offset)', async () => {
    await timeShiftScenario(
      'scaling',
      (hs) => ({
        flags: 0,
        cpus: [0, 1].map((c) => {
          const h = hs.get(c)!;
          const base = h[0]! - 1_000_000n - BigInt(c) * 4242n;
          return [s(0n, base, 3n, 2n), s(((h[h.length >> 1]! - base) * 4n) / 3n, base + 12_345n, 3n, 2n)];
        }),
      }),
      4,
    );
  });

  test('5: two guests (one file, two instances) and KernelShark reads it as three streams', async () => {
    const b = await instance();
    const host = b.host.filter((r) => r.cpu === 0);
    const hostPath = tmp('two-host.dat');
    await writeTrace(b.template, hostPath, [{ name: '', clock: b.clock, records: host }]);
    // Guest A: the instance's records, a constant offset per vCPU. Guest B: the top buffer's CPU 1 as its vCPU 1, drifting.
    const hA = byCpu(b.guest);
    const shiftA: TimeShift = { flags: 0, cpus: [0, 1].map((c) => [s(0n, hA.get(c)![0]!.timestamp - 7_000_000n - BigInt(c) * 31n)]) };
    const b1 = b.host.filter((r) => r.cpu === 1);
    const base = b1[0]!.timestamp - 3_000_000n;
    const shiftB: TimeShift = { flags: FLAG_INTERPOLATE, cpus: [[s(0n, 1n)], [s(0n, base), s(b1.at(-1)!.timestamp - base, base - 100_000n)]] };
    const guestA = await guestFile(b.template, invertRecords(b.guest, (g, c) => hostSync(g, c, shiftA)), 'two-a.dat', [
      { id: TIME_SHIFT, payload: timeShiftPayload(b.traceId, shiftA) },
      { id: UNAME, payload: unamePayload('vmA') },
    ]);
    const guestB = await guestFile(b.template, invertRecords(b1, (g, c) => hostSync(g, c, shiftB)), 'two-b.dat', [
      { id: TIME_SHIFT, payload: timeShiftPayload(b.traceId, shiftB) },
      { id: UNAME, payload: unamePayload('vmB') },
    ]);
    const out = tmp('two-merged.dat');
    const r = await merge([await open(hostPath), await open(guestA), await open(guestB)], out);
    expect(r.guests.map((g) => [g.name, g.sync, g.records])).toEqual([
      ['vmA', 'time-shift', b.guest.length],
      ['vmB', 'time-shift', b1.length],
    ]);
    const truthPath = tmp('two-truth.dat');
    await writeTrace(b.template, truthPath, [
      { name: '', clock: b.clock, records: host },
      { name: 'vmA', clock: b.clock, records: b.guest },
      { name: 'vmB', clock: b.clock, records: b1 },
    ]);
    const truth = await traceCmdReport(['-t', truthPath]);
    await expectTruth(out, truth, { '': [hostPath, 0], vmA: [guestA, 0], vmB: [guestB, 0] });
    await expectTraceCmdAgrees(
      hostPath,
      [
        { path: guestA, name: 'vmA' },
        { path: guestB, name: 'vmB' },
      ],
      truth,
    );
    const png = tmp('two-merged.png');
    const ks = await run('bash', [need(KSHARK_CHECK), out, png], { timeoutMs: 90_000 });
    expect(ks.stdout.toString()).toMatch(new RegExp(`^kernelshark: loaded ${host.length + b.guest.length + b1.length} entries \\(3 streams\\)`));
  });
});
