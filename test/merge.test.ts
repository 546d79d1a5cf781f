// `tracedat merge` proved on ground truth made from real recordings (test/scenarios.ts): a real
// trace's records split into host.dat and guest.dat, the guest's times moved off host time by the
// inverse of the clock under test, and truth.dat = the same records on their TRUE host times in
// one file (host in the top buffer, the guest in an instance named as merge names it). Then
// `trace-cmd report -t` (3.1.6, run now) of the merged file must equal that of truth.dat byte for
// byte, `tracedat report -t` must equal both, and every buffer keeps its input's records (count
// and payload hash per CPU, read back with the records API).
//  1-4  TIME_SHIFT with trace-cmd's arithmetic: constant offsets, steps, interpolated drift, TSC
//       scaling; 5 two guests (and KernelShark); 13 a big-endian guest; 14 lost-event marks;
//       15 a guest's own instance and vCPUs beyond TIME_SHIFT's count; 16 a real file as host;
//       12 in each: `trace-cmd report -i host -i guest` agrees with the truth (comms aside).
//  6-8  the host's kvm_write_tsc_offset events: real ones (which trace-cmd cannot use), writes
//       forward and backward, another VM's writes, the ambiguous case (seed 003).
//  9    offsets given by hand: --tsc-offset (all vCPUs, per vCPU), --ts-offset, --tsc-scaling.
//  10   the public KVM pair against trace-cmd 3.2.0's own merged report.
//  11   the CLI: no or a missing sync source, --sync none, output formats, output = an input,
//       damaged guests (no output left behind).
import { afterAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { merge, open, OptionId, timeline, writeTrace, type MergeOptions, type TraceFile } from '../src/index.js';
import { flyrecord, oneErrorLine, optionValue, run } from './helpers.js';
import {
  FLAG_INTERPOLATE,
  INSTANCE,
  KSHARK_CHECK,
  KVM,
  OVERFLOW,
  S390X,
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
  type Digest,
  type Line,
  type Rec,
  type Sample,
  type TimeShift,
} from './scenarios.js';

const dir = mkdtempSync(join(tmpdir(), 'tracedat-mergetest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let serial = 0;
/** A fresh path in the scratch directory. */
const tmp = (name: string) => join(dir, `${++serial}-${name}`);

const { TIME_SHIFT, UNAME } = OptionId;

function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const hostTimes = (recs: readonly Rec[]) => recs.map((r) => r.timestamp);
const s = (time: bigint, offset: bigint, scaling = 1n, fraction = 0n): Sample => ({ time, offset, scaling, fraction });

/**
 * The instance fixture as host (top buffer) and guest ("fixture2"), and the truth of every
 * scenario that moves only the guest's clock. Its first 1.2e9 TSC cycles (~0.5 s, 12.6k of its
 * 27.5k records) keep the file's run time down.
 */
const instance = once(async () => {
  const template = await open(need(INSTANCE));
  const all = [recordsOf(template, 0), recordsOf(template, 1)];
  const end = [...all[0]!, ...all[1]!].reduce((m, r) => (r.timestamp < m ? r.timestamp : m), all[0]![0]!.timestamp) + 1_200_000_000n;
  const [host, guest] = all.map((recs) => recs.filter((r) => r.timestamp < end)) as [Rec[], Rec[]];
  const clock = template.metadata.buffers[0]!.clock!;
  const traceId = optionValue(template, OptionId.TRACEID, 'traceId').traceId;
  const hostPath = tmp('host.dat');
  const truthPath = tmp('truth.dat');
  await writeTrace(template, hostPath, [{ name: '', clock, records: host }]);
  await writeTrace(template, truthPath, [
    { name: '', clock, records: host },
    { name: 'vm', clock, records: guest },
  ]);
  return { template, host, guest, clock, traceId, hostPath, truth: await traceCmdReport(['-t', truthPath]) };
});

/** A guest file: `records` (on guest time) with the template's metadata and `setOptions`. */
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
  const events = eventNames(m);
  for (const [name, [path, buffer]] of Object.entries(sources)) {
    expect(digest(m, names.indexOf(name), events), `buffer "${name}" vs ${basename(path)}`).toEqual(await inputDigest(path, buffer));
  }
}

/**
 * The API's merged timeline of `inputs` is the merged file's content without the file: per
 * buffer the same records (time on the host's clock, CPU, event, payload after common_type,
 * which the merge may renumber), all of them in one non-decreasing host-time order.
 */
async function expectTimeline(paths: readonly string[], merged: string, options: MergeOptions = {}): Promise<void> {
  const inputs = await Promise.all(paths.map((p) => open(p)));
  const names = inputs.map((t) => eventNames(t));
  const tl = timeline(inputs, options);
  const seen = new Map<string, string[]>();
  let last = -1n;
  let disorder = 0;
  for (const r of tl.records()) {
    if (r.timestamp < last) disorder++;
    last = r.timestamp;
    expect(r.host).toBe(r.input === tl.host);
    if (!seen.has(r.source)) seen.set(r.source, []);
    seen.get(r.source)!.push(`${r.cpu} ${r.timestamp} ${names[r.input]!.get(r.eventId)} ${Buffer.from(r.data.subarray(2)).toString('hex')}`);
  }
  expect(disorder, 'records out of host-time order').toBe(0);
  const m = await open(merged);
  const events = eventNames(m);
  const want = new Map<string, string[]>();
  m.metadata.buffers.forEach((b, i) => {
    want.set(b.name, [...m.records(i)].map((r) => `${r.cpu} ${r.timestamp} ${events.get(r.eventId)} ${Buffer.from(r.data.subarray(2)).toString('hex')}`));
  });
  expect([...seen.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, lines] of want) expect(firstLineDifference(seen.get(name)!, lines, (x) => x), `buffer "${name}"`).toBe('');
}

const digests = new Map<string, Promise<Digest>>();
/** The digest of an input's buffer, worked out once (several scenarios share a host). */
function inputDigest(path: string, buffer: number): Promise<Digest> {
  const key = `${buffer}:${path}`;
  let p = digests.get(key);
  if (!p) digests.set(key, (p = open(path).then((t) => digest(t, buffer))));
  return p;
}

/** Report lines without the comm column (trace-cmd names some pids `<...>` across files), each named by the buffer the truth holds it in. */
function columns(lines: Line[], rename: (source: string) => string): string[] {
  return lines.map((l) => `${rename(l.source)}|${l.pid}|${l.cpu}|${l.time}|${l.rest}`);
}

/** 12: `trace-cmd report -i host -i guest...` lines the guests up as the truth has them, in the same order. */
async function expectTraceCmdAgrees(host: string, guests: { path: string; name: string; args?: string[] }[], truth: Buffer): Promise<void> {
  const out = await traceCmdReport(['-t', '-i', host, ...guests.flatMap((g) => ['-i', g.path, ...(g.args ?? [])])]);
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

describe.concurrent('TIME_SHIFT (trace-cmd 3.1.6 arithmetic; 12: trace-cmd -i host -i guest agrees)', () => {
  /** One guest with `shift`, merged through the API; the truth and trace-cmd's own view checked. */
  async function timeShiftScenario(name: string, shift: (guestByCpu: Map<number, bigint[]>) => TimeShift, samples: number) {
    const b = await instance();
    const ts = shift(new Map([...byCpu(b.guest)].map(([c, r]) => [c, hostTimes(r)])));
    const records = invertRecords(b.guest, (g, cpu) => hostSync(g, cpu, ts));
    const guestPath = await guestFile(b.template, records, `${name}-guest.dat`, [{ id: TIME_SHIFT, payload: timeShiftPayload(b.traceId, ts) }]);
    const out = tmp(`${name}-merged.dat`);
    const r = await merge([await open(b.hostPath), await open(guestPath)], out);
    expect(r.guests.map((g) => [g.name, g.sync, g.source, g.records])).toEqual([['vm', 'time-shift', `its TIME_SHIFT option (${samples} samples)`, b.guest.length]]);
    // The guest's tables are the host's: nothing of them is lost.
    expect(r.guests.map((g) => [g.kallsyms.dropped, g.printk.dropped, g.comms.dropped])).toEqual([[0, 0, 0]]);
    await expectTruth(out, b.truth, { '': [b.hostPath, 0], vm: [guestPath, 0] });
    await expectTimeline([b.hostPath, guestPath], out);
    await expectTraceCmdAgrees(b.hostPath, [{ path: guestPath, name: 'vm' }], b.truth);
  }

  test('1: constant per-vCPU offsets (one sample each; trace-cmd ignores one sample\'s scaling)', async () => {
    // KVM-size offsets: the guest's TSC started near 0 (the offset is about the host's TSC when
    // it did), vCPU 1 a little later.
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

  /**
   * A guest cut out of another real trace: `host` records stay on host time, each guest buffer's
   * records are moved onto guest time by `shift`'s inverse (vCPUs beyond its CPU count keep
   * their times, as trace-cmd leaves them); merged through the API and checked against the truth.
   */
  async function splitScenario(name: string, path: string, host: Rec[], guest: { name: string; records: Rec[] }[], shift: TimeShift, guestName: string) {
    const template = await open(need(path));
    const clock = template.metadata.buffers[0]!.clock!;
    const bigEndian = template.metadata.bigEndian;
    const traceId = optionValue(template, OptionId.TRACEID, 'traceId').traceId;
    const hostPath = tmp(`${name}-host.dat`);
    await writeTrace(template, hostPath, [{ name: '', clock, records: host }]);
    const guestPath = tmp(`${name}-guest.dat`);
    await writeTrace(
      template,
      guestPath,
      guest.map((g) => ({ name: g.name, clock, records: invertRecords(g.records, (t, cpu) => (cpu < shift.cpus.length ? hostSync(t, cpu, shift) : t)) })),
      { setOptions: [{ id: TIME_SHIFT, payload: timeShiftPayload(traceId, shift, bigEndian) }] },
    );
    const truthPath = tmp(`${name}-truth.dat`);
    const inside = (g: string) => (g === '' ? guestName : `${guestName}:${g}`);
    await writeTrace(template, truthPath, [{ name: '', clock, records: host }, ...guest.map((g) => ({ name: inside(g.name), clock, records: g.records }))]);
    const truth = await traceCmdReport(['-t', truthPath]);
    const out = tmp(`${name}-merged.dat`);
    const r = await merge([await open(hostPath), await open(guestPath)], out);
    expect(r.guests.map((g) => [g.name, g.sync, g.records])).toEqual([[guestName, 'time-shift', guest.reduce((n, g) => n + g.records.length, 0)]]);
    await expectTruth(out, truth, { '': [hostPath, 0], ...Object.fromEntries(guest.map((g, i) => [inside(g.name), [guestPath, i] as [string, number]])) });
    return { hostPath, guestPath, truth };
  }

  test('13: a big-endian (s390x) guest on the local clock, a ptp-like interpolated TIME_SHIFT in its byte order', async () => {
    const t = await open(need(S390X));
    const [top, second] = [recordsOf(t, 0), recordsOf(t, 1)];
    const c = byCpu(second);
    const shift: TimeShift = {
      flags: FLAG_INTERPOLATE,
      cpus: [0, 1].map((cpu) => {
        const h = hostTimes(c.get(cpu)!);
        const at = (q: number) => h[Math.floor(h.length * q)]! - 2_000_000n;
        return [s(at(0.2), 2_000_000n), s(at(0.5), 1_999_000n - BigInt(cpu) * 100n), s(at(0.8), 1_998_500n)];
      }),
    };
    const f = await splitScenario('s390x', S390X, top, [{ name: '', records: second }], shift, '(none)');
    await expectTraceCmdAgrees(f.hostPath, [{ path: f.guestPath, name: '(none)' }], f.truth);
  });

  test('14: lost-event marks keep their place on the guest\'s CPUs', async () => {
    const t = await open(need(OVERFLOW));
    const all = recordsOf(t, 0);
    const guest = all.filter((r) => r.cpu === 1);
    expect(guest.filter((r) => r.missed !== 0).length, 'the premise: CPU 1 lost events').toBeGreaterThan(0);
    const shift: TimeShift = { flags: 0, cpus: [[s(0n, 1n)], [s(0n, guest[0]!.timestamp - 1_000_000n)]] };
    const f = await splitScenario('lost', OVERFLOW, all.filter((r) => r.cpu === 0), [{ name: '', records: guest }], shift, 'vm');
    expect(f.truth.toString()).toMatch(/^vm: CPU:1 \[\d+ EVENTS DROPPED\]$/m);
    await expectTraceCmdAgrees(f.hostPath, [{ path: f.guestPath, name: 'vm' }], f.truth);
  });

  test('15: a guest\'s own buffer instance on its top clock, and vCPUs beyond TIME_SHIFT\'s CPU count keep their times', async () => {
    const b = await instance();
    const hG = byCpu(b.guest);
    // TIME_SHIFT for vCPU 0 only: the top buffer's CPU 1 records and fixture2's CPU 1 stay put.
    const shift: TimeShift = { flags: 0, cpus: [[s(0n, hG.get(0)![0]!.timestamp - 9_000_000n)]] };
    await splitScenario(
      'instances',
      INSTANCE,
      b.host.filter((r) => r.cpu === 0),
      [
        { name: '', records: b.host.filter((r) => r.cpu === 1) },
        { name: 'fixture2', records: b.guest },
      ],
      shift,
      'vm',
    );
  });

  test('16: a real trace-cmd file as the host, its two buffers copied page for page beside the guest', async () => {
    const host = need(INSTANCE);
    const t = (await instance()).template;
    const [top, fixture2] = [recordsOf(t, 0), recordsOf(t, 1)];
    // The guest: a copy of the top buffer's CPU 1 as its vCPU 1, on a clock 5e6 cycles behind.
    const guest = top.filter((r) => r.cpu === 1);
    const shift: TimeShift = { flags: 0, cpus: [[s(0n, 5_000_000n)], [s(0n, 5_000_000n)]] };
    const traceId = optionValue(t, OptionId.TRACEID, 'traceId').traceId;
    const guestPath = await guestFile(t, invertRecords(guest, (g, c) => hostSync(g, c, shift)), 'real-host-guest.dat', [{ id: TIME_SHIFT, payload: timeShiftPayload(traceId, shift) }]);
    const truthPath = tmp('real-host-truth.dat');
    const clock = t.metadata.buffers[0]!.clock!;
    await writeTrace(t, truthPath, [
      { name: '', clock, records: top },
      { name: 'fixture2', clock, records: fixture2 },
      { name: 'vm', clock, records: guest },
    ]);
    const out = tmp('real-host-merged.dat');
    const r = await merge([await open(host), await open(guestPath)], out);
    expect(r.guests.map((g) => [g.name, g.records])).toEqual([['vm', guest.length]]);
    await expectTruth(out, await traceCmdReport(['-t', truthPath]), { '': [host, 0], fixture2: [host, 1], vm: [guestPath, 0] });
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
    await expectTimeline([guestB, hostPath, guestA], out);
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

/** The KVM host fixture up to 0.5e9 TSC cycles after its last kvm_write_tsc_offset, its writes and its field layout. */
const kvm = once(async () => {
  const template = await open(need(KVM));
  const layout = writeLayout(template);
  const all = recordsOf(template, 0);
  const writes = all
    .filter((r) => eventId(r) === layout.id)
    .map((r) => {
      const d = Buffer.from(r.data);
      return { host: r.timestamp, pid: d.readInt32LE(layout.pid), vcpu: d.readUInt32LE(layout.vcpu), previous: d.readBigUInt64LE(layout.previous), next: d.readBigUInt64LE(layout.next), data: r.data };
    });
  // The fixture's README: vCPU 0 written by pid 1227, vCPU 1 by 1229, prev 0, next N, three times each.
  expect(layout).toMatchObject({ pid: 4, vcpu: 8, previous: 16, next: 24 });
  const N = 18446742074170048365n;
  expect(writes.map((w) => [w.vcpu, w.pid, w.previous, w.next]).sort()).toEqual([...Array(3).fill([0, 1227, 0n, N]), ...Array(3).fill([1, 1229, 0n, N])]);
  const last = writes.reduce((m, w) => (w.host > m ? w.host : m), 0n);
  const records = all.filter((r) => r.timestamp <= last + 500_000_000n);
  const names = eventNames(template);
  return { template, layout, writes, last, N, records, names, clock: template.metadata.buffers[0]!.clock! };
});

/** The records a guest takes from the KVM host (CPU c's become its vCPU c's): these kinds, after the last write. */
const GUEST_KINDS = new Set(['kvm:kvm_pio', 'kvm:kvm_userspace_exit', 'kvm:kvm_fpu', 'sched:sched_wakeup']);

/** Host, guest (on guest time) and truth files of a KVM scenario; `extra` are writes added to the host. */
async function kvmFiles(name: string, pick: (r: Rec) => boolean, toGuest: (r: Rec) => bigint, extra: Rec[] = [], truthTime: (r: Rec) => bigint = (r) => r.timestamp) {
  const k = await kvm();
  const moved = k.records.filter((r) => r.timestamp > k.last && GUEST_KINDS.has(k.names.get(eventId(r))!) && pick(r));
  const guestOwn = new Set(moved);
  const kept = insertByTime(
    k.records.filter((r) => !guestOwn.has(r)),
    extra,
  );
  const hostPath = tmp(`${name}-host.dat`);
  const truthPath = tmp(`${name}-truth.dat`);
  await writeTrace(k.template, hostPath, [{ name: '', clock: k.clock, records: kept }]);
  const guestPath = await guestFile(k.template, moved.map((r) => ({ ...r, timestamp: toGuest(r) })), `${name}-guest.dat`);
  await writeTrace(k.template, truthPath, [
    { name: '', clock: k.clock, records: kept },
    { name: 'vm', clock: k.clock, records: moved.map((r) => ({ ...r, timestamp: truthTime(r) })) },
  ]);
  return { hostPath, guestPath, truthPath, moved, kept, truth: await traceCmdReport(['-t', truthPath]) };
}

/** `tracedat merge ARGS -o OUT`: exit 0, and its stderr. */
async function mergeCli(args: string[], out: string): Promise<string> {
  const r = await tracedat(['merge', ...args, '-o', out]);
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

describe.concurrent('kvm_write_tsc_offset: the host\'s own record of the guest clocks', () => {
  const real = once(async () => {
    const k = await kvm();
    return kvmFiles('kvm', () => true, (r) => kvmGuest(r.timestamp, k.N));
  });

  test('6: a guest without TIME_SHIFT lined up by the host\'s real writes (auto and --sync kvm), which trace-cmd cannot do', async () => {
    const f = await real();
    const out = tmp('kvm-merged.dat');
    const stderr = await mergeCli([f.hostPath, f.guestPath], out);
    expect(stderr).toContain("lined up by the host's kvm_write_tsc_offset events (6 writes for 2 vCPUs)");
    expect(stderr).toContain(`${f.moved.length} records`);
    expect(stderr).not.toContain('not kept');
    await expectTruth(out, f.truth, { '': [f.hostPath, 0], vm: [f.guestPath, 0] });
    await expectTimeline([f.hostPath, f.guestPath], out);
    const explicit = tmp('kvm-merged-explicit.dat');
    await mergeCli([f.hostPath, f.guestPath, '--sync', 'kvm'], explicit);
    expect(sha(explicit)).toBe(sha(out));
    // trace-cmd has only TIME_SHIFT: it prints the guest on its own clock, ~2000 s before the host.
    const theirs = recordLines(await traceCmdReport(['-t', '-i', f.hostPath, '-i', f.guestPath]), [basename(f.hostPath), basename(f.guestPath)]);
    const truthTimes = new Set(recordLines(f.truth, ['vm']).filter((l) => l.source === 'vm').map((l) => l.time));
    const guestLines = theirs.filter((l) => l.source === basename(f.guestPath));
    expect(guestLines.length).toBe(f.moved.length);
    expect(guestLines.filter((l) => truthTimes.has(l.time))).toEqual([]);
    expect(theirs[0]!.source).toBe(basename(f.guestPath));
  });

  test('7b: writes of another VM in the host: refused until --vcpu-pids says which threads are this guest\'s', async () => {
    const k = await kvm();
    const like = k.writes[0]!.data;
    const foreign: Rec[] = [
      [0, 3001, k.last + 50_000_000n],
      [1, 3002, k.last + 60_000_000n],
      [0, 3001, k.last + 250_000_000n],
    ].map(([vcpu, pid, at]) => ({
      cpu: Number(vcpu),
      timestamp: BigInt(at!),
      missed: 0,
      data: tscWrite(like, k.layout, { pid: Number(pid), vcpu: Number(vcpu), previous: 0n, next: u64(-BigInt(at!) + 5_000n) }),
    }));
    const f = await kvmFiles('two-vms', () => true, (r) => kvmGuest(r.timestamp, k.N), foreign);
    const out = tmp('two-vms-merged.dat');
    const refused = await tracedat(['merge', f.hostPath, f.guestPath, '-o', out]);
    expect(refused.status).toBe(2);
    expect(oneErrorLine(refused.stderr)).toContain("the host's kvm_write_tsc_offset events come from several VMs (say which with --vcpu-pids)");
    const stderr = await mergeCli([f.hostPath, f.guestPath, '--vcpu-pids', 'vm=1227,1229'], out);
    expect(stderr).toContain("lined up by the host's kvm_write_tsc_offset events (6 writes for 2 vCPUs)");
    await expectTruth(out, f.truth, { '': [f.hostPath, 0], vm: [f.guestPath, 0] });
  });

  test('9e: --tsc-scaling with the kvm source: the exact inverse of KVM\'s guest = ((host * ratio) >> frac) + offset', async () => {
    const k = await kvm();
    const f = await real();
    const scaling = { ratio: 0x1400000000000n, frac: 48n };
    const guestPath = await guestFile(k.template, f.moved.map((r) => ({ ...r, timestamp: kvmGuest(r.timestamp, k.N, scaling) })), 'kvm-scaled-guest.dat');
    const out = tmp('kvm-scaled-merged.dat');
    const stderr = await mergeCli([f.hostPath, guestPath, '--tsc-scaling', `vm=${scaling.ratio},${scaling.frac}`], out);
    expect(stderr).toContain("lined up by the host's kvm_write_tsc_offset events");
    await expectTruth(out, f.truth, { '': [f.hostPath, 0], vm: [guestPath, 0] });
  });

  test('7: writes changing the offset mid-trace, forward and backward (seed 003); after a backward write guest times repeat', async () => {
    const k = await kvm();
    const like = k.writes[0]!.data;
    const L = k.last;
    const D_F = 50_000_000n;
    const D_B = 80_000_000n;
    // vCPU 0: forward at L+100M, backward at L+300M; vCPU 1: backward at L+150M, forward at L+350M.
    const plan = [
      { vcpu: 0, pid: 1227, changes: [[L + 100_000_000n, D_F], [L + 300_000_000n, -D_B]] },
      { vcpu: 1, pid: 1229, changes: [[L + 150_000_000n, -D_B], [L + 350_000_000n, D_F]] },
    ] as const;
    const recordTimes = new Set(k.records.map((r) => r.timestamp));
    const segments = plan.map((p) => {
      let offset = k.N;
      const segs = [{ from: 0n, offset }];
      for (const [at, by] of p.changes) {
        let t = at;
        while (recordTimes.has(t)) t++;
        offset = u64(offset + by);
        segs.push({ from: t, offset });
      }
      return segs;
    });
    const extra: Rec[] = plan.flatMap((p, i) =>
      segments[i]!.slice(1).map((seg, j) => ({
        cpu: p.vcpu,
        timestamp: seg.from,
        missed: 0,
        data: tscWrite(like, k.layout, { pid: p.pid, vcpu: p.vcpu, previous: segments[i]![j]!.offset, next: seg.offset }),
      })),
    );
    const offsetAt = (r: Rec) => [...segments[r.cpu]!].reverse().find((seg) => seg.from <= r.timestamp)!.offset;
    const f = await kvmFiles('steps', () => true, (r) => kvmGuest(r.timestamp, offsetAt(r)), extra);
    // The premise: after each backward write the guest's clock reads lower than before it.
    for (const [i, p] of plan.entries()) {
      const g = f.moved.filter((r) => r.cpu === p.vcpu).map((r) => ({ h: r.timestamp, g: kvmGuest(r.timestamp, offsetAt(r)) }));
      for (const seg of segments[i]!.slice(1)) {
        const k2 = g.findIndex((x) => x.h > seg.from);
        expect(k2, `records after the write at ${seg.from}`).toBeGreaterThan(0);
        if (seg.offset < segments[i]![segments[i]!.indexOf(seg) - 1]!.offset) expect(g[k2]!.g).toBeLessThan(g[k2 - 1]!.g);
      }
    }
    const out = tmp('steps-merged.dat');
    const stderr = await mergeCli([f.hostPath, f.guestPath], out);
    expect(stderr).toContain("lined up by the host's kvm_write_tsc_offset events (10 writes for 2 vCPUs)");
    expect(stderr).not.toMatch(/vCPU \d/);
    await expectTruth(out, f.truth, { '': [f.hostPath, 0], vm: [f.guestPath, 0] });
    await expectTimeline([f.hostPath, f.guestPath], out);
  });

  test('8: ambiguous writes (seed 003\'s eventD): the earliest reading, a warning naming the vCPU and the writes\' host times', async () => {
    const k = await kvm();
    const like = k.writes[0]!.data;
    const L = k.last;
    const G0 = 1000n;
    // Three writes on vCPU 0 each set its TSC to G0; the guest ran after the first and after the
    // third (for less than the time between the second and the third), not in between.
    const [wa, wb, wc] = [L + 100_000_000n, L + 200_000_000n, L + 300_000_000n];
    const off = (w: bigint) => u64(G0 - w);
    const extra: Rec[] = [
      [wa, k.N, off(wa)],
      [wb, off(wa), off(wb)],
      [wc, off(wb), off(wc)],
    ].map(([at, previous, next]) => ({ cpu: 0, timestamp: at!, missed: 0, data: tscWrite(like, k.layout, { pid: 1227, vcpu: 0, previous: previous!, next: next! }) }));
    const run2 = (r: Rec) => r.timestamp >= wc;
    const pick = (r: Rec) => r.cpu === 1 || r.timestamp < wb || (r.timestamp > wc && r.timestamp < wc + 90_000_000n);
    const guestTime = (r: Rec) => (r.cpu === 1 || r.timestamp < wa ? kvmGuest(r.timestamp, k.N) : kvmGuest(r.timestamp, r.timestamp < wb ? off(wa) : off(wc)));
    // The earliest reading puts the second run after the second write.
    const f = await kvmFiles('ambiguous', pick, guestTime, extra, (r) => (r.cpu === 0 && run2(r) ? r.timestamp - (wc - wb) : r.timestamp));
    const first = f.moved.find((r) => r.cpu === 0 && run2(r))!;
    const run1 = f.moved.find((r) => r.cpu === 0 && r.timestamp > wa && r.timestamp < wb)!;
    const out = tmp('ambiguous-merged.dat');
    const stderr = await mergeCli([f.hostPath, f.guestPath], out);
    const warnings = stderr.split('\n').filter((l) => /vCPU \d/.test(l));
    // The writes alone cannot tell either run's place: the first run fits after any of the
    // three writes (the guest may have run only after the second, or the third), the second
    // after the second or the third. Both stay possible to the end of the stream.
    expect(warnings).toEqual([
      `tracedat: guest vm: vCPU 0: the records from guest time ${guestTime(run1)} fit the TSC offsets written at host times ${wa}, ${wb}, ${wc} alike; taking the earliest`,
      `tracedat: guest vm: vCPU 0: the records from guest time ${guestTime(first)} fit the TSC offsets written at host times ${wb}, ${wc} alike; taking the earliest`,
    ]);
    await expectTruth(out, f.truth, { '': [f.hostPath, 0], vm: [f.guestPath, 0] });
    const m = await open(out);
    const vm = m.metadata.buffers.findIndex((b) => b.name === 'vm');
    for (const [cpu, recs] of byCpu(recordsOf(m, vm))) {
      const t = hostTimes(recs);
      expect(t.every((x, i) => i === 0 || t[i - 1]! <= x), `vCPU ${cpu}: host times non-decreasing`).toBe(true);
    }
  });
});

describe.concurrent('offsets given by hand', () => {
  /** A guest of the instance fixture on `toGuest` time, merged by the CLI with `args`: the instance truth. */
  async function manual(name: string, toGuest: (r: Rec) => bigint, args: string[], source: string) {
    const b = await instance();
    const guestPath = await guestFile(b.template, b.guest.map((r) => ({ ...r, timestamp: toGuest(r) })), `${name}-guest.dat`);
    const out = tmp(`${name}-merged.dat`);
    const stderr = await mergeCli([b.hostPath, guestPath, ...args], out);
    expect(stderr).toContain(`lined up by ${source}; ${b.guest.length} records`);
    await expectTruth(out, b.truth, { '': [b.hostPath, 0], vm: [guestPath, 0] });
  }

  test('9f: --ts-offset on top of TIME_SHIFT, added after it as trace-cmd\'s `-i guest --ts-offset N` adds it', async () => {
    const b = await instance();
    const N = -123_456_789n;
    const hs = byCpu(b.guest);
    const shift: TimeShift = { flags: 0, cpus: [0, 1].map((c) => [s(0n, hs.get(c)![0]!.timestamp - 4_000_000n + BigInt(c) * 5n)]) };
    const guestPath = await guestFile(b.template, invertRecords(b.guest, (g, c) => hostSync(g, c, shift) + N), 'shift-and-offset-guest.dat', [
      { id: TIME_SHIFT, payload: timeShiftPayload(b.traceId, shift) },
    ]);
    const out = tmp('shift-and-offset-merged.dat');
    const stderr = await mergeCli([b.hostPath, guestPath, '--ts-offset', `vm=${N}`], out);
    expect(stderr).toContain('lined up by its TIME_SHIFT option (2 samples)');
    await expectTruth(out, b.truth, { '': [b.hostPath, 0], vm: [guestPath, 0] });
    await expectTraceCmdAgrees(b.hostPath, [{ path: guestPath, name: 'vm', args: ['--ts-offset', `${N}`] }], b.truth);
  });

  test('9a: --tsc-offset GUEST=N in KVM\'s sign (seed 000\'s 18446743360465545001: guest = host + N, u64)', async () => {
    const N = 18446743360465545001n;
    await manual('tsc-offset', (r) => u64(r.timestamp + N), ['--tsc-offset', `vm=${N}`], 'the TSC offset given (--tsc-offset)');
  });

  test('9b: --ts-offset GUEST=N in trace-cmd\'s sign (added to the guest\'s times)', async () => {
    const N = 1_500_000_000_000n;
    await manual('ts-offset', (r) => r.timestamp - N, [`--ts-offset=vm=${N}`], "the host's clock as its own");
  });

  test('9c: per-vCPU --tsc-offset GUEST:1=N over a GUEST=N for all (negative and u64 spellings)', async () => {
    const A = -2_154_000_000_000n;
    const B = A - 777_777n;
    await manual('per-vcpu', (r) => u64(r.timestamp + (r.cpu === 1 ? B : A)), ['--tsc-offset', `vm=${A}`, '--tsc-offset', `vm:1=${u64(B)}`], 'the TSC offset given (--tsc-offset)');
  });

  test('9d: --tsc-scaling GUEST=RATIO,FRAC with a --tsc-offset (Intel\'s 48 fraction bits, ratio 1.25)', async () => {
    const scaling = { ratio: 0x1400000000000n, frac: 48n };
    const N = u64(-((2_154_000_000_000n * 5n) / 4n));
    await manual('tsc-scaling', (r) => kvmGuest(r.timestamp, N, scaling), ['--tsc-scaling', `vm=0x${scaling.ratio.toString(16)},48`, '--tsc-offset', `vm=${N}`], 'the TSC offset given (--tsc-offset)');
  });
});

/** Saved cmdlines (`PID COMM` lines), read here rather than by the addon's table. */
function comms(text: Buffer): Map<number, string> {
  return new Map([...text.toString('latin1').matchAll(/^(\d+) (.*)$/gm)].map((m) => [Number(m[1]), m[2]!]));
}

test('10: the public KVM pair against trace-cmd 3.2.0\'s own merged report, but for what one file cannot hold', async () => {
  const [host, guest] = [need(PUBLIC_HOST), need(PUBLIC_GUEST)];
  const out = tmp('public-merged.dat');
  const reversed = tmp('public-merged-guest-first.dat');
  const [stderr] = await Promise.all([mergeCli([host, guest], out), mergeCli([guest, host], reversed)]);
  expect(sha(reversed), 'inputs in any order give the same file').toBe(sha(out));
  const [h, g] = [await open(host), await open(guest)];
  const expected = recordLines(gunzipSync(readFileSync(need(PUBLIC_REPORT))), [basename(host), basename(guest)]).map((l) => ({
    ...l,
    source: l.source === basename(guest) ? 'sigmatek-core2' : '',
  }));
  const guestLines = expected.filter((l) => l.source !== '');
  const guestDigest = digest(g, 0);
  const guestRecords = guestDigest.records;
  // All the guest's table loses: comms of pids the host names otherwise (its printk lines are
  // at addresses the host does not use, 32 of them twice; its kernel is apart from the host's).
  const hostComms = comms(h.text('cmdlines'));
  const guestComms = comms(g.text('cmdlines'));
  const clashes = [...guestComms].filter(([pid, comm]) => hostComms.has(pid) && hostComms.get(pid) !== comm).length;
  expect(clashes).toBeGreaterThan(0);
  expect(guestLines.length).toBe(guestRecords);
  expect(stderr.split('\n')).toEqual([
    `tracedat: host ${host}; wrote ${out}`,
    expect.stringMatching(
      new RegExp(
        `^tracedat: guest sigmatek-core2 \\(${guest}, 1 vCPUs\\): lined up by its TIME_SHIFT option \\(2 samples\\); ${guestRecords} records, host time ${guestLines[0]!.time} \\.\\. ${guestLines.at(-1)!.time}; \\d+ event formats of its own$`,
      ),
    ),
    `tracedat: guest sigmatek-core2: not kept in the one file: ${clashes} comms of pids the host names otherwise`,
    '',
  ]);

  // What the one file cannot hold, each worked out here from the inputs' own tables.
  const guestSyms = g.tables().kallsyms;
  const namesAt = new Map<bigint, Set<string>>();
  for (const k of guestSyms) namesAt.set(k.address, (namesAt.get(k.address) ?? new Set()).add(k.name));
  // (The host's 313k kallsyms lines read as text: only vmemmap_base is needed.)
  const vmemmap = [...h.text('kallsyms').toString('latin1').matchAll(/^([0-9a-f]+) \S+ vmemmap_base$/gm)].map((x) => BigInt(`0x${x[1]}`));
  expect(vmemmap.length).toBe(1);
  expect(guestSyms.some((k) => k.name === 'vmemmap_base'), 'the guest names no vmemmap_base (3.2.0 printed page = pfn)').toBe(false);
  const vmemmapEvents = new Set(g.formats().flatMap((f) => ('printFmt' in f && f.printFmt.includes('vmemmap_base') ? [f.name] : [])));
  const fixed = { rip: 0, comm: 0, page: 0 };
  const wrong: string[] = [];
  /** The guest's last symbol at or below an address. */
  const symbolAt = (addr: bigint) => {
    let lo = 0;
    let hi = guestSyms.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (guestSyms[mid]!.address <= addr) lo = mid;
      else hi = mid;
    }
    return guestSyms[lo]!;
  };
  const expectedMerged = expected.map((l) => {
    const event = l.rest.slice(0, l.rest.indexOf(':'));
    if (l.source === '' && (event === 'kvm_entry' || event === 'kvm_exit')) {
      // trace-cmd names the guest function after the rip only across files (its GUEST map).
      const m = / rip 0x([0-9a-f]+)( (\S+?)(?:\+0x([0-9a-f]+))?)(?= info |$)/.exec(l.rest);
      if (!m) return l;
      const at = BigInt(`0x${m[1]}`);
      const start = at - BigInt(`0x${m[4] ?? 0}`);
      // The guest's last symbol at or below the rip (one of those sharing its address).
      if (symbolAt(at).address !== start || namesAt.get(start)?.has(m[3]!) !== true) wrong.push(`not the guest's symbol: ${l.rest}`);
      fixed.rip++;
      return { ...l, rest: l.rest.replace(m[0], ` rip 0x${m[1]}`) };
    }
    if (l.source === '') return l;
    let r = l;
    const hostComm = hostComms.get(l.pid);
    if (l.pid !== 0 && hostComm !== undefined && hostComm !== guestComms.get(l.pid)) {
      // One table of comms: the host's names win.
      fixed.comm++;
      r = { ...r, comm: hostComm };
    }
    if (vmemmapEvents.has(event)) {
      // page= is vmemmap_base + pfn, and vmemmap_base is now the host's symbol.
      const m = /page=0x([0-9a-f]+) pfn=0x([0-9a-f]+)/.exec(l.rest);
      if (!m || m[1] !== m[2]) wrong.push(`page is not pfn: ${l.rest}`);
      fixed.page++;
      r = { ...r, rest: l.rest.replace(`page=0x${m![1]}`, `page=0x${u64(vmemmap[0]! + BigInt(`0x${m![2]}`)).toString(16)}`) };
    }
    return r;
  });
  expect(wrong.slice(0, 5)).toEqual([]);
  expect(Object.values(fixed).every((n) => n > 0), JSON.stringify(fixed)).toBe(true);
  const [theirs, ours] = await Promise.all([traceCmdReport([out]), tracedat(['report', out])]);
  expect([ours.status, ours.stderr]).toEqual([0, '']);
  expect(reportDifference(ours.stdout, theirs)).toBe('');
  const show = (l: Line) => `${l.source}|${l.comm}|${l.pid}|${l.cpu}|${l.time}|${l.rest}`;
  expect(firstLineDifference(recordLines(theirs, ['sigmatek-core2']), expectedMerged, show)).toBe('');
  const m = await open(out);
  expect(m.metadata.buffers.map((b) => b.name)).toEqual(['', 'sigmatek-core2']);
  const events = eventNames(m);
  expect(digest(m, 0, events)).toEqual(digest(h, 0));
  expect(digest(m, 1, events)).toEqual(guestDigest);
});

describe.concurrent('11: the CLI', () => {
  /** The instance's guest on the host's own clock, with no TIME_SHIFT: nothing to line it up by. */
  const sameClock = once(async () => {
    const b = await instance();
    return guestFile(b.template, b.guest, 'same-clock-guest.dat');
  });

  test('no sync source: exit 2 and one line naming the sources looked for, no output; --sync none takes the guest\'s clock as the host\'s', async () => {
    const b = await instance();
    const guestPath = await sameClock();
    const out = tmp('nosync-merged.dat');
    const r = await tracedat(['merge', b.hostPath, guestPath, '-o', out]);
    expect(r.status).toBe(2);
    const line = oneErrorLine(r.stderr);
    for (const named of ['TIME_SHIFT', 'kvm_write_tsc_offset', '--tsc-offset', '--ts-offset', '--sync none']) expect(line).toContain(named);
    expect(existsSync(out)).toBe(false);
    // A source asked for that is not there.
    for (const [sync, why] of [
      ['time-shift', '--sync time-shift, but the guest has no TIME_SHIFT option'],
      ['kvm', '--sync kvm, but the host has no kvm_write_tsc_offset events'],
      ['offset', '--sync offset, but no --tsc-offset or --ts-offset was given for this guest'],
    ]) {
      const refused = await tracedat(['merge', b.hostPath, guestPath, '--sync', sync!, '-o', out]);
      expect(refused.status).toBe(2);
      expect(oneErrorLine(refused.stderr)).toBe(`tracedat: ${guestPath}: time sync: cannot line it up with the host: ${why}`);
      expect(existsSync(out)).toBe(false);
    }
    const stderr = await mergeCli([b.hostPath, guestPath, '--sync', 'none'], out);
    expect(stderr).toContain("lined up by the host's clock as its own");
    await expectTruth(out, b.truth, { '': [b.hostPath, 0], vm: [guestPath, 0] });
  });

  test('a guest with more vCPUs than the host has CPUs (its vCPUs 2 and 3)', async () => {
    const b = await instance();
    const guest = b.guest.map((r) => ({ ...r, cpu: r.cpu + 2 }));
    const guestPath = await guestFile(b.template, guest, 'four-vcpus-guest.dat');
    const truthPath = tmp('four-vcpus-truth.dat');
    await writeTrace(b.template, truthPath, [
      { name: '', clock: b.clock, records: b.host },
      { name: 'vm', clock: b.clock, records: guest },
    ]);
    const out = tmp('four-vcpus-merged.dat');
    const r = await merge([await open(b.hostPath), await open(guestPath)], out, { sync: 'none' });
    expect(r.guests.map((g) => [g.vcpus, g.records])).toEqual([[4, guest.length]]);
    await expectTruth(out, await traceCmdReport(['-t', truthPath]), { '': [b.hostPath, 0], vm: [guestPath, 0] });
  });

  test('--file-version 6 and --compression none write the same merge', async () => {
    const b = await instance();
    const guestPath = await sameClock();
    for (const args of [['--file-version', '6'], ['--compression', 'none']]) {
      const out = tmp(`format-${args[1]}-merged.dat`);
      await mergeCli([b.hostPath, guestPath, '--sync', 'none', ...args], out);
      expect((await open(out)).metadata.version).toBe(args[1] === '6' ? 6 : 7);
      await expectTruth(out, b.truth, { '': [b.hostPath, 0], vm: [guestPath, 0] });
    }
  });

  test('an output that is an input is refused (as given, through a symlink, or spelled otherwise) and the input is untouched', async () => {
    const b = await instance();
    const guestPath = await sameClock();
    const before = [sha(b.hostPath), sha(guestPath)];
    const link = tmp('link-to-guest.dat');
    symlinkSync(guestPath, link);
    for (const out of [b.hostPath, link, join(dir, '.', basename(guestPath))]) {
      const r = await tracedat(['merge', b.hostPath, guestPath, '--sync', 'none', '-o', out]);
      expect([1, 2], r.stderr).toContain(r.status);
      expect(r.stderr.split('\n')[0]).toBe(`tracedat: ${out}: refusing to write over the input file`);
    }
    expect([sha(b.hostPath), sha(guestPath)]).toEqual(before);
  });

  test('a damaged guest (a bad page; CPU data cut short): exit 2, one line, no output file, a previous one left as it was', async () => {
    const b = await instance();
    const shift: TimeShift = { flags: 0, cpus: [[s(0n, 0n)], [s(0n, 0n)]] };
    const setOptions = [{ id: TIME_SHIFT, payload: timeShiftPayload(b.traceId, shift) }];
    // v7 uncompressed: the commit word of CPU 0's third page says more bytes than a page holds
    // (found while the output is being written).
    const badPage = tmp('bad-page-guest.dat');
    await writeTrace(b.template, badPage, [{ name: '', clock: b.clock, records: b.guest }], { compression: 'none', setOptions });
    const cpu0 = flyrecord((await open(badPage)).metadata.buffers[0]).cpus.find((c) => c.cpu === 0)!;
    expect(cpu0.size).toBeGreaterThan(3 * 4096);
    const data = readFileSync(badPage);
    data.writeBigUInt64LE(0x7ffffffn, cpu0.offset + 2 * 4096 + 8);
    writeFileSync(badPage, data);
    // v6, whose CPU data ends the file: cut in the middle of CPU 1's.
    const cut = tmp('cut-guest.dat');
    await writeTrace(b.template, cut, [{ name: '', clock: b.clock, records: b.guest }], { version: 6, setOptions });
    const cpu1 = flyrecord((await open(cut)).metadata.buffers[0]).cpus.find((c) => c.cpu === 1)!;
    truncateSync(cut, cpu1.offset + Math.floor(cpu1.size / 2));
    for (const guest of [badPage, cut]) {
      const outDir = mkdtempSync(join(dir, 'out-'));
      const out = join(outDir, 'merged.dat');
      const r = await tracedat(['merge', b.hostPath, guest, '-o', out]);
      expect(r.status, r.stderr).toBe(2);
      expect(oneErrorLine(r.stderr)).toMatch(new RegExp(`^tracedat: ${guest}: .*CPU`));
      expect(readdirSync(outDir)).toEqual([]);
      writeFileSync(out, 'a previous output\n');
      const again = await tracedat(['merge', b.hostPath, guest, '-o', out]);
      expect([again.status, again.stderr]).toEqual([2, r.stderr]);
      expect(readdirSync(outDir)).toEqual(['merged.dat']);
      expect(readFileSync(out, 'utf8')).toBe('a previous output\n');
    }
  });
});
