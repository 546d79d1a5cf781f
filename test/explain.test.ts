// `tracedat explain`: guest latency windows broken down by what the host did on the vCPU's
// thread. On the public KVM pair every window is checked against `trace-cmd report -t -i host
// -i guest` (3.1.6, run at test time on zstd copies), read independently here: the window
// bounds are those guest events, the exits are exactly the vCPU thread's kvm_exit -> kvm_entry
// pairs overlapping it, the parts add up. A scenario built from real records has a known answer.
import { beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explain, merge, open, writeTrace, type ExplainWindow } from '../src/index.js';
import { CLI, ROOT, run, traceCmdReport } from './helpers.js';
import { EXPLAIN_USAGE } from '../src/commands/explain.js';
import { KVM, PUBLIC_GUEST, PUBLIC_HOST, need, recordsOf, type Rec } from './scenarios.js';

/** One line of a merged `report -t`: its file, task, CPU, time in ns, event and text. */
interface Line {
  file: string;
  comm: string;
  pid: number;
  cpu: number;
  ts: bigint;
  event: string;
  text: string;
}

const LINE = /^\s*(\S+): +(.*)-(\d+) +\[(\d+)\] +(\d+)(?:\.(\d+))?: (\S+): +(.*)$/;

function lines(report: string): Line[] {
  const out: Line[] = [];
  for (const l of report.split('\n')) {
    const m = LINE.exec(l);
    if (m === null) continue;
    const ts = m[6] === undefined ? BigInt(m[5]!) : BigInt(m[5]!) * 1_000_000_000n + BigInt(m[6]!.padEnd(9, '0'));
    out.push({ file: m[1]!, comm: m[2]!, pid: Number(m[3]), cpu: Number(m[4]), ts, event: m[7]!, text: m[8]! });
  }
  return out;
}

interface Expected {
  pid: number;
  vcpu: number;
  start: bigint;
  end: bigint;
}

/** Wakeup windows as the listing shows them: the first sched_waking/sched_wakeup of a pid to
 * the sched_switch whose next task it is (given up if the task is switched out first). */
function wakeups(ls: readonly Line[], guest: string): Expected[] {
  const open = new Map<number, bigint>();
  const out: Expected[] = [];
  for (const l of ls) {
    if (l.file !== guest) continue;
    if (l.event === 'sched_waking' || l.event === 'sched_wakeup') {
      const m = l.event === 'sched_waking' ? / pid=(\d+) /.exec(l.text) : /:(\d+) \[-?\d+\]/.exec(l.text);
      const pid = Number(m![1]);
      if (!open.has(pid)) open.set(pid, l.ts);
    } else if (l.event === 'sched_switch') {
      // A task switched out while its wakeup is open was running: no latency.
      open.delete(Number(/^.*:(\d+) \[-?\d+\] \S+ ==> /.exec(l.text)![1]));
      const pid = Number(/==> .*:(\d+) \[-?\d+\]$/.exec(l.text)![1]);
      const start = open.get(pid);
      if (start === undefined) continue;
      open.delete(pid);
      out.push({ pid, vcpu: l.cpu, start, end: l.ts });
    }
  }
  return out;
}

interface Pair {
  reason: string;
  start: bigint;
  end: bigint;
}

/** A host thread's kvm_exit -> kvm_entry pairs as the listing shows them. */
function exitPairs(ls: readonly Line[], host: string, pid: number): Pair[] {
  const out: Pair[] = [];
  let open: { reason: string; start: bigint } | undefined;
  for (const l of ls) {
    if (l.file !== host || l.pid !== pid) continue;
    if (l.event === 'kvm_exit') open = { reason: /^reason (.*?) rip /.exec(l.text)![1]!, start: l.ts };
    else if (l.event === 'kvm_entry' && open !== undefined) {
      out.push({ ...open, end: l.ts });
      open = undefined;
    }
  }
  return out;
}

/** The pairs overlapping [s, e), as `REASON START END`: they follow each other, so from the
 * first ending after s on while they start before e. */
function overlaps(pairs: readonly Pair[], s: bigint, e: bigint): string[] {
  let lo = 0;
  for (let hi = pairs.length; lo < hi; ) {
    const mid = (lo + hi) >> 1;
    if (pairs[mid]!.end > s) hi = mid;
    else lo = mid + 1;
  }
  const out: string[] = [];
  for (let i = lo; i < pairs.length && pairs[i]!.start < e; i++) out.push(`${pairs[i]!.reason} ${pairs[i]!.start} ${pairs[i]!.end}`);
  return out;
}

/** The vCPU thread: the host task whose kvm_entry lines name guest functions (trace-cmd names
 * them only for the vCPU threads of a guest it reads). */
function vcpuThread(ls: readonly Line[]): number {
  const named = new Set(ls.filter((l) => l.file === 'host.dat' && l.event === 'kvm_entry' && /rip 0x[0-9a-f]+ \S/.test(l.text)).map((l) => l.pid));
  expect(named.size).toBe(1);
  return [...named][0]!;
}

/** The checks every window passes whatever the input. */
function sumsAddUp(w: ExplainWindow): void {
  expect(w.latency_ns).toBe(w.end_ns - w.start_ns);
  const clip = (s: number, e: number | null) => Math.max(0, Math.min(e ?? w.end_ns, w.end_ns) - Math.max(s, w.start_ns));
  for (const e of w.exits) expect(e.ns).toBe(clip(e.start_ns, e.end_ns));
  expect(w.in_guest_ns + w.exits.reduce((a, e) => a + e.ns, 0)).toBe(w.latency_ns);
  for (const o of w.off_cpu) {
    expect(w.exits.some((e) => e.start_ns <= o.start_ns && o.end_ns !== null && e.end_ns !== null && o.end_ns <= e.end_ns)).toBe(true);
  }
}

describe('the public KVM pair, against trace-cmd report -t -i host -i guest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracedat-explain-'));
  const host = join(dir, 'host.dat');
  const guest = join(dir, 'guest.dat');
  let listing: Line[] = [];
  let listed = new Set<string>();
  let windows: ExplainWindow[] = [];
  beforeAll(async () => {
    await (await open(need(PUBLIC_HOST))).convert(host, { compression: 'zstd' });
    await (await open(need(PUBLIC_GUEST))).convert(guest, { compression: 'zstd' });
    const r = await run('trace-cmd', ['report', '-t', '-i', host, '-i', guest], { timeoutMs: 120_000 });
    expect(r.status).toBe(0);
    listing = lines(r.stdout.toString('latin1'));
    listed = new Set(r.stdout.toString('latin1').split('\n'));
    windows = [...explain([await open(host), await open(guest)])];
  }, 120_000);

  test('the windows are the listing wakeup windows, bounds and vCPU', () => {
    const expected = wakeups(listing, 'guest.dat');
    expect(expected.length).toBeGreaterThan(1000);
    const key = (pid: number, vcpu: number, s: bigint, e: bigint) => `${pid} ${vcpu} ${s} ${e}`;
    expect(windows.map((w) => key(w.pid, w.vcpu, BigInt(w.start_ns), BigInt(w.end_ns)))).toEqual(expected.map((x) => key(x.pid, x.vcpu, x.start, x.end)));
  });

  test("each window's exits are exactly the vCPU thread's kvm_exit -> kvm_entry pairs overlapping it, and the sums add up", () => {
    const thread = vcpuThread(listing);
    const pairs = exitPairs(listing, 'host.dat', thread);
    expect(pairs.length).toBeGreaterThan(1000);
    let withExits = 0;
    for (const w of windows) {
      expect(w.host_pid).toBe(thread);
      const s = BigInt(w.start_ns);
      const e = BigInt(w.end_ns);
      const overlapping = overlaps(pairs, s, e);
      expect(w.exits.map((x) => `${x.reason} ${x.start_ns} ${x.end_ns}`)).toEqual(overlapping);
      withExits += Number(overlapping.length > 0);
      sumsAddUp(w);
    }
    expect(withExits).toBeGreaterThan(100);
  });

  test('--from irq_handler_entry --to irq_handler_exit --match irq: the pairs the listing shows, their exits, the sums', async () => {
    const open_ = new Map<string, Line>();
    const expected: string[] = [];
    for (const l of listing) {
      if (l.file !== 'guest.dat' || (l.event !== 'irq_handler_entry' && l.event !== 'irq_handler_exit')) continue;
      const irq = /^irq=(\d+) /.exec(l.text)![1]!;
      if (l.event === 'irq_handler_entry') {
        if (!open_.has(irq)) open_.set(irq, l);
      } else {
        const from = open_.get(irq);
        open_.delete(irq);
        if (from !== undefined) expected.push(`${from.pid} ${l.cpu} ${from.ts} ${l.ts}`);
      }
    }
    expect(expected.length).toBeGreaterThan(1000);
    const pairs = [...explain([await open(host), await open(guest)], { from: 'irq_handler_entry', to: 'irq_handler_exit', match: 'irq' })];
    expect(pairs.map((w) => `${w.pid} ${w.vcpu} ${w.start_ns} ${w.end_ns}`)).toEqual(expected);
    const exits = exitPairs(listing, 'host.dat', vcpuThread(listing));
    for (const w of pairs) {
      expect(w.kind).toBe('pair');
      expect(w.exits.map((x) => `${x.reason} ${x.start_ns} ${x.end_ns}`)).toEqual(overlaps(exits, BigInt(w.start_ns), BigInt(w.end_ns)));
      sumsAddUp(w);
    }
  });

  test("the README's example is the CLI's output", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const command = 'tracedat explain host.dat guest.dat --comm LRTMgr-Main --top 1';
    const at = readme.indexOf(`$ ${command}\n`);
    expect(at).toBeGreaterThan(0);
    const block = readme.slice(at + command.length + 3, readme.indexOf('```', at));
    const r = await run(process.execPath, [CLI, ...command.split(' ').slice(1)], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(block);
  });

  test('a merged file explains as its inputs do; the CLI gives the same objects, text slowest first', async () => {
    const merged = join(dir, 'merged.dat');
    await merge([await open(host), await open(guest)], merged);
    const fromMerged = [...explain(await open(merged))];
    const strip = (w: ExplainWindow) => ({ ...w, exits: w.exits.map((e) => ({ ...e, function: null })) });
    expect(fromMerged).toEqual(windows.map(strip));
    const json = await run(process.execPath, [CLI, 'explain', host, guest, '--format', 'json', '--threshold', '100us']);
    expect(json.status).toBe(0);
    const objects = json.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as ExplainWindow);
    expect(objects).toEqual(windows.filter((w) => w.latency_ns >= 100_000));
    const text = await run(process.execPath, [CLI, 'explain', host, guest, '--top', '3']);
    expect(text.status).toBe(0);
    const slowest = [...windows].sort((a, b) => b.latency_ns - a.latency_ns).slice(0, 3);
    const heads = text.stdout.toString().split('\n').filter((l) => / vCPU \d+: wakeup of /.test(l));
    expect(heads.map((h) => / ([\w-]+)-(\d+): /.exec(h)!.slice(1, 3).join('-'))).toEqual(slowest.map((w) => `${w.comm}-${w.pid}`));
    expect(text.stdout.toString()).toContain(`summary: ${windows.length} windows of at least 0.000us`);
    // Each window's merged lines are the listing's own lines, host and guest marked by file.
    const shown = text.stdout.toString('latin1').split('\n').filter((l) => /^ {4} *(host|guest)\.dat: /.test(l)).map((l) => l.slice(4));
    expect(shown.length).toBeGreaterThan(100);
    expect(shown.filter((l) => !listed.has(l))).toEqual([]);
    expect(shown.some((l) => / host\.dat: .* kvm_exit: +reason \S+ rip 0x[0-9a-f]+ \w/.test(l))).toBe(true);
  });
});

/** VMX exit reasons (arch/x86/include/uapi/asm/vmx.h) the scenario's exits may have. */
const VMX: Record<number, string> = { 1: 'EXTERNAL_INTERRUPT', 10: 'CPUID', 12: 'HLT', 30: 'IO_INSTRUCTION', 31: 'MSR_READ', 32: 'MSR_WRITE', 48: 'EPT_VIOLATION', 49: 'EPT_MISCONFIG', 52: 'PREEMPTION_TIMER', 56: 'APIC_WRITE' };

describe('a scenario with a known answer', () => {
  // The host: the public host's real kvm_exit/kvm_entry records of its vCPU thread (vCPU 0),
  // re-encoded into the formats of a real host recording that has sched and irq events too
  // (its fields sit at the same offsets), on one host CPU; inside the third exit a real
  // sched_switch of that recording, rewritten to take the thread off its CPU for `stress`
  // (still runnable: preempted) and back, and an irq meanwhile. The host has no GUEST option:
  // the thread is found by kvm_entry's vcpu_id. The guest: a real sched_waking of the public
  // guest and the sched_switch that runs its task, placed inside the first exit and the fifth,
  // on the host's clock (`--sync none`). Times are raw TSC counts (no TSC2NSEC on the host).
  const dir = mkdtempSync(join(tmpdir(), 'tracedat-explain-'));
  const hostPath = join(dir, 'host.dat');
  const guestPath = join(dir, 'guest.dat');
  const THREAD = 483882;
  const le = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const idOf = (t: Awaited<ReturnType<typeof open>>, name: string) => (t.formats().find((f) => 'fields' in f && f.name === name) as { id: number }).id;
  const type = (r: Rec) => le(r.data).getUint16(0, true);
  let exits: { reason: string; start: bigint; end: bigint; rip: bigint }[] = [];
  let wake: Rec;
  let run: Rec;
  let off: [bigint, bigint];
  let irq: [bigint, bigint];

  beforeAll(async () => {
    const pub = await open(need(PUBLIC_HOST));
    const tmpl = await open(need(KVM));
    const [pubExit, pubEntry] = [idOf(pub, 'kvm_exit'), idOf(pub, 'kvm_entry')];
    const [exitId, entryId, switchId, irqIn, irqOut] = ['kvm_exit', 'kvm_entry', 'sched_switch', 'irq_handler_entry', 'irq_handler_exit'].map((n) => idOf(tmpl, n));
    const own = recordsOf(pub).filter((r) => le(r.data).getInt32(4, true) === THREAD && (type(r) === pubExit || type(r) === pubEntry));
    // Six exits in a row, each long enough to hold the off-CPU part.
    let at = own.findIndex((r, i) => i > 200 && type(r) === pubExit);
    const pick: Rec[] = [];
    for (; pick.length < 12 && at + 1 < own.length; at += 2) {
      const [x, y] = [own[at]!, own[at + 1]!];
      if (type(x) !== pubExit || type(y) !== pubEntry) throw new Error('kvm records of the thread do not alternate');
      const reason = VMX[le(x.data).getUint32(8, true)];
      if (reason === undefined || y.timestamp - x.timestamp < 400n) {
        if (pick.length > 0) pick.length = 0;
        continue;
      }
      pick.push(x, y);
    }
    expect(pick.length).toBe(12);
    const reencode = (r: Rec, id: number, size: number): Rec => {
      const data = new Uint8Array(size);
      data.set(r.data.subarray(0, Math.min(r.data.length, size)));
      le(data).setUint16(0, id, true);
      return { cpu: 1, timestamp: r.timestamp, data, missed: 0 };
    };
    const hostRecs = pick.map((r) => (type(r) === pubExit ? reencode(r, exitId!, 72) : reencode(r, entryId!, 40)));
    exits = [];
    for (let i = 0; i < 12; i += 2) {
      const d = le(pick[i]!.data);
      exits.push({ reason: VMX[d.getUint32(8, true)]!, start: pick[i]!.timestamp, end: pick[i + 1]!.timestamp, rip: d.getBigUint64(16, true) });
    }
    // Off its CPU in the middle half of the third exit, an irq in the middle of that.
    const e2 = exits[2]!;
    const span = e2.end - e2.start;
    off = [e2.start + span / 4n, e2.start + (3n * span) / 4n];
    irq = [off[0] + span / 8n, off[1] - span / 8n];
    const realSwitch = recordsOf(tmpl).find((r) => type(r) === switchId)!;
    const sw = (ts: bigint, prev: [number, string], next: [number, string]): Rec => {
      const data = Uint8Array.from(realSwitch.data);
      const d = le(data);
      const comm = (o: number, s: string) => {
        data.fill(0, o, o + 16);
        data.set(Buffer.from(s), o);
      };
      d.setInt32(4, prev[0], true);
      comm(8, prev[1]);
      d.setInt32(24, prev[0], true);
      d.setBigUint64(32, 0n, true);
      comm(40, next[1]);
      d.setInt32(56, next[0], true);
      return { cpu: 1, timestamp: ts, data, missed: 0 };
    };
    const irqRec = (ts: bigint, entry: boolean): Rec => {
      const data = new Uint8Array(24);
      const d = le(data);
      d.setUint16(0, entry ? irqIn! : irqOut!, true);
      d.setInt32(4, 4242, true);
      d.setInt32(8, 33, true);
      if (entry) {
        d.setUint32(12, (5 << 16) | 16, true);
        data.set(Buffer.from('eth0\0'), 16);
      } else d.setInt32(12, 1, true);
      return { cpu: 1, timestamp: ts, data, missed: 0 };
    };
    const extra = [sw(off[0], [THREAD, 'qemu-system-x86'], [4242, 'stress']), irqRec(irq[0], true), irqRec(irq[1], false), sw(off[1], [4242, 'stress'], [THREAD, 'qemu-system-x86'])];
    const all = [...hostRecs, ...extra].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    await writeTrace(tmpl, hostPath, [{ name: '', clock: tmpl.metadata.buffers[0]!.clock!, records: all }]);

    const g = await open(need(PUBLIC_GUEST));
    const grecs = recordsOf(g);
    const [wakingId, gSwitch] = [idOf(g, 'sched_waking'), idOf(g, 'sched_switch')];
    const wi = grecs.findIndex((r) => type(r) === wakingId);
    wake = grecs[wi]!;
    const pid = le(wake.data).getInt32(24, true);
    run = grecs.slice(wi).find((r) => type(r) === gSwitch && le(r.data).getInt32(56, true) === pid)!;
    const mid = (e: { start: bigint; end: bigint }) => e.start + (e.end - e.start) / 2n;
    wake = { ...wake, cpu: 0, timestamp: mid(exits[0]!) };
    run = { ...run, cpu: 0, timestamp: mid(exits[4]!) };
    await writeTrace(g, guestPath, [{ name: '', clock: g.metadata.buffers[0]!.clock!, records: [wake, run] }]);
  }, 60_000);

  test('gives the known breakdown', async () => {
    const ws = [...explain([await open(hostPath), await open(guestPath)], { sync: 'none' })];
    expect(ws).toHaveLength(1);
    const w = ws[0]!;
    const start = wake.timestamp;
    const end = run.timestamp;
    const n = (x: bigint) => Number(x);
    const clipped = (e: { start: bigint; end: bigint }) => (e.end < end ? e.end : end) - (e.start > start ? e.start : start);
    const known = exits.slice(0, 5);
    const pid = le(wake.data).getInt32(24, true);
    expect({ ...w, exits: w.exits.map((e) => ({ ...e, function: null })) }).toEqual({
      // Named as merge names it: the guest's UNAME nodename.
      guest: 'sigmatek-core2',
      vcpu: 0,
      kind: 'wakeup',
      pid,
      comm: Buffer.from(wake.data.subarray(8, 24)).toString('latin1').replace(/\0.*$/s, ''),
      start_ns: n(start),
      end_ns: n(end),
      latency_ns: n(end - start),
      host_pid: THREAD,
      in_guest_ns: n(end - start - known.reduce((a, e) => a + clipped(e), 0n)),
      exits: known.map((e) => ({ reason: e.reason, start_ns: n(e.start), end_ns: n(e.end), ns: n(clipped(e)), rip: `0x${e.rip.toString(16)}`, function: null })),
      off_cpu: [{ start_ns: n(off[0]), end_ns: n(off[1]), ns: n(off[1] - off[0]), state: 'preempted', by_pid: 4242, by_comm: 'stress' }],
      host_irqs: [{ name: 'irq:33 eth0', start_ns: n(irq[0]), end_ns: n(irq[1]) }],
      injected: [],
    });
    sumsAddUp(w);
    const text = await run_(['explain', hostPath, guestPath, '--sync', 'none']);
    expect(text).toContain(`off CPU `);
    expect(text).toContain('preempted, ran instead: stress-4242');
    expect(text).toContain('host irq:33 eth0');
    // The merged lines: the host's switch back to the vCPU thread, the guest's lines on host time.
    expect(text).toMatch(/^ +host\.dat: .* \[001\] ?\d+: sched_switch: +stress:4242 \[\d+\] R ==> qemu-system-x86:483882 /m);
    expect(text).toContain(`guest.dat: ${' '.repeat(10)}<idle>-0     [000]${run.timestamp}: sched_switch:`);
  });

  test('--threshold, --pid and --guest focus; a --from/--to pair on one CPU', async () => {
    const inputs = async () => [await open(hostPath), await open(guestPath)];
    const pid = le(wake.data).getInt32(24, true);
    expect([...explain(await inputs(), { sync: 'none', threshold: run.timestamp - wake.timestamp + 1n })]).toHaveLength(0);
    expect([...explain(await inputs(), { sync: 'none', pid: pid + 1 })]).toHaveLength(0);
    expect([...explain(await inputs(), { sync: 'none', pid, guest: 'sigmatek-core2' })]).toHaveLength(1);
    const byCpu = [...explain(await inputs(), { sync: 'none', from: 'sched_waking', to: `sched_switch: next_pid == ${pid}` })];
    expect(byCpu.map((w) => [w.kind, w.start_ns, w.end_ns, w.exits.length])).toEqual([['pair', Number(wake.timestamp), Number(run.timestamp), 5]]);
  });
});

async function run_(args: string[]): Promise<string> {
  const r = await run(process.execPath, [CLI, ...args]);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.toString();
}

describe('the bundled KVM pair: no kvm_entry, no GUEST option, only the kvm_write_tsc_offset events', () => {
  test("each vCPU's host thread is the one that wrote its TSC offset (read from trace-cmd's report of the host); a merge's GUEST option names them", async () => {
    const host = join(ROOT, 'fixtures', 'kvm-host.dat');
    const guest = join(ROOT, 'fixtures', 'kvm-guest.dat');
    const r = await traceCmdReport([host]);
    const writers = new Map<number, Set<number>>();
    for (const m of r.stdout.toString('latin1').matchAll(/^ *\S.*-(\d+) +\[\d+\] *[\d.]+: kvm_write_tsc_offset: +vcpu=(\d+) /gm)) {
      const vcpu = Number(m[2]);
      writers.set(vcpu, (writers.get(vcpu) ?? new Set()).add(Number(m[1])));
    }
    expect([...writers.keys()].sort()).toEqual([0, 1]);
    const thread = new Map([...writers].map(([v, pids]) => [v, [...pids]]));
    for (const pids of thread.values()) expect(pids.length).toBe(1);
    const windows = [...explain([await open(host), await open(guest)])];
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) expect(w.host_pid).toBe(thread.get(w.vcpu)![0]);
    const merged = join(mkdtempSync(join(tmpdir(), 'tracedat-explain-')), 'merged.dat');
    await merge([await open(host), await open(guest)], merged);
    const option = (await open(merged)).metadata.options.find((o) => o.value?.kind === 'guest');
    expect(option?.value?.kind === 'guest' && option.value.vcpus).toEqual([0, 1].map((vcpu) => ({ vcpu, pid: thread.get(vcpu)![0] })));
  });
});

describe('refusals', () => {
  test('one file that is not a merge, a lone --from, an unknown guest, a filter the guest refuses: exit 1 naming why', async () => {
    const cases: [string[], string][] = [
      [[need(KVM)], 'tracedat: no guest: give HOST GUEST..., or a file tracedat merge wrote\n'],
      [[need(PUBLIC_HOST), need(PUBLIC_GUEST), '--from', 'sched_waking'], 'tracedat: explain: --from and --to go together\n'],
      [[need(PUBLIC_HOST), need(PUBLIC_GUEST), '--guest', 'vm9'], 'tracedat: --guest vm9: no such guest (the guests are sigmatek-core2)\n'],
      [[need(PUBLIC_HOST), need(PUBLIC_GUEST), '--threshold', '5 ms'], 'tracedat: explain: --threshold 5 ms: a duration such as 100us, 2ms or 1500 (ns)\n'],
    ];
    for (const [args, first] of cases) {
      const r = await run(process.execPath, [CLI, 'explain', ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr.slice(0, first.length)).toBe(first);
    }
    const bad = await run(process.execPath, [CLI, 'explain', need(PUBLIC_HOST), need(PUBLIC_GUEST), '--from', 'sched_waking: pid ==', '--to', 'sched_switch']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.split('\n').slice(0, 2)).toEqual([
      "tracedat: sigmatek-core2: -F 'sched_waking: pid ==': unfinished expression: an operator without its operand (event sched/sched_waking)",
      EXPLAIN_USAGE.split('\n')[0],
    ]);
  });
});
