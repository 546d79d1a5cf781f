// The TypeScript API beyond dump and records: texts, tables and typed options, checked
// against trace-cmd's own view of the same files.
import { expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { open, OptionId, TraceError } from '../src/index.js';
import { flyrecord, optionValue as opt, PUBLIC as PUBLIC_DIR, REAL as REAL_DIR, ROOT } from './helpers.js';

const REAL = join(ROOT, REAL_DIR);
const PUBLIC = join(ROOT, PUBLIC_DIR);
const tc = (...args: string[]) => execFileSync('trace-cmd', args, { encoding: 'utf8', maxBuffer: 1 << 30 });

test.each(['x86guest-wakeup-v7.dat', 'x86guest-wakeup_rt-v6.dat'])('latency text of %s is what trace-cmd report prints', async (f) => {
  const t = await open(join(REAL, f));
  expect(t.metadata.buffers.map((b) => b.kind)).toEqual(['latency']);
  expect(`cpus=1\n${t.text('latency', 0).toString('utf8')}\n`).toBe(tc('report', join(REAL, f)));
});

test('cmdlines, kallsyms and printk tables hold every line trace-cmd dumps', async () => {
  const f = join(REAL, 'sched-irq-sys-v7-zstd.dat');
  const t = await open(f);
  const tables = t.tables();
  const cmdlines = tc('dump', '--cmd-lines', f).split('\n').filter((l) => /^\d+ /.test(l));
  expect(tables.cmdlines.size).toBe(new Set(cmdlines.map((l) => l.split(' ')[0])).size);
  for (const l of cmdlines.slice(0, 50)) {
    const [pid, ...comm] = l.split(' ');
    expect(tables.cmdlines.get(Number(pid))).toBe(comm.join(' '));
  }
  const ksyms = tc('dump', '--kallsyms', f).split('\n').filter((l) => /^[0-9a-f]+ \S /.test(l));
  expect(tables.kallsyms.length).toBe(ksyms.length);
  const sorted = [...tables.kallsyms].map((s) => s.address);
  expect(sorted).toEqual([...sorted].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  const printk = tc('dump', '--printk', f).split('\n').filter((l) => /^0x[0-9a-f]+ : /.test(l));
  expect(tables.printk.size).toBe(new Set(printk.map((l) => l.split(' ')[0])).size);
});

test('host and guest options decode to typed values (GUEST, TIME_SHIFT, TSC2NSEC, TRACEID)', async () => {
  const host = await open(join(PUBLIC, 'Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat'));
  const guest = await open(join(PUBLIC, 'Masterarbeit__documentation__trace-cmd__analysis__test__trace-Salamander4.dat'));
  const g = opt(host, OptionId.GUEST, 'guest');
  expect(g).toEqual({ kind: 'guest', name: '', traceId: 0x5d2b93f358166218n, vcpus: [{ vcpu: 0, pid: 483882 }] });
  expect(opt(guest, OptionId.TRACEID, 'traceId').traceId).toBe(g.traceId);
  const ts = opt(guest, OptionId.TIME_SHIFT, 'timeShift');
  expect(ts.peerTraceId).toBe(opt(host, OptionId.TRACEID, 'traceId').traceId);
  expect(ts.cpus[0]!.length).toBe(2);
  expect(opt(guest, OptionId.TSC2NSEC, 'tsc2nsec')).toMatchObject({ shift: expect.any(Number), mult: expect.any(Number) });
  expect(flyrecord(host.metadata.buffers[0]).cpus.map((c) => c.cpu)).toEqual([0, 2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17]);
});

test('open() of a missing file and of a non-trace file throw TraceError with file and place', async () => {
  await expect(open('/nonexistent/trace.dat')).rejects.toThrow(TraceError);
  const e = await open(join(__dirname, '..', 'package.json')).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(TraceError);
  expect((e as TraceError).message).toMatch(/package\.json: initial header, offset 0: the trace.dat magic 17 08 44/);
});

test('scanAsync runs off the JavaScript thread, concurrently, with the same result as scan', async () => {
  const names = ['sched-irq-sys-v7-zstd.dat', 'instance-v6.dat', 's390x-be-v7-zstd.dat', 'kvm-host-vcpu-create-v7-zstd.dat'];
  const traces = await Promise.all(names.map((f) => open(join(REAL, f))));
  const both = await Promise.all([...traces, ...traces].map((t) => t.scanAsync()));
  traces.forEach((t, i) => {
    expect(both[i]).toEqual(t.scan());
    expect(both[i + traces.length]).toEqual(t.scan());
  });
  // Errors reject the promise with a TraceError.
  const { writeFileSync, readFileSync, mkdtempSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/tracedat-');
  const bad = readFileSync(join(REAL, 'sched-irq-sys-v7-none.dat'));
  const cpu0 = flyrecord((await open(join(REAL, 'sched-irq-sys-v7-none.dat'))).metadata.buffers[0]).cpus[0]!.offset;
  bad.writeUInt32LE(0xffff, cpu0 + 8 + 4096 * 3);
  writeFileSync(join(dir, 'bad.dat'), bad);
  await expect((await open(join(dir, 'bad.dat'))).scanAsync()).rejects.toThrow(/CPU 0 data, offset \d+: a commit size of at most 4080 bytes, found 65535/);
});

test.each(['sched-irq-sys-v7-zstd.dat', 's390x-be-v6.dat', 'x86guest-function_graph-v6.dat'])('formats() of %s: every event trace-cmd lists, with its fields', async (f) => {
  const t = await open(join(REAL, f));
  const formats = t.formats();
  expect(formats.filter((x) => 'error' in x)).toEqual([]);
  // trace-cmd dump --events / --ftrace-events print one "name: X" per format.
  const names = (flag: string) => tc('dump', flag, join(REAL, f)).split('\n').filter((l) => l.startsWith('name: ')).map((l) => l.slice(6));
  const parsed = formats.filter((x) => 'fields' in x);
  expect(parsed.filter((x) => x.system === 'ftrace').map((x) => 'name' in x && x.name)).toEqual(names('--ftrace-events'));
  expect(parsed.filter((x) => x.system !== 'ftrace').map((x) => 'name' in x && x.name)).toEqual(names('--events'));
  // Field names and offsets as the format texts list them (`field:TYPE NAME[..];\toffset:N;`).
  const texts = tc('dump', '--ftrace-events', '--events', join(REAL, f)).split(/\n(?=name: )/);
  for (const text of texts.filter((x) => x.startsWith('name: '))) {
    const name = /^name: (\S+)/.exec(text)![1];
    const id = Number(/\nID: (\d+)/.exec(text)![1]);
    const fields = [...text.matchAll(/field:[^;]*?(\w+)(?:\[[^\]]*\])?;\s*offset:(\d+);/g)].map((m) => `${m[1]}@${m[2]}`);
    const ours = parsed.find((x) => 'id' in x && x.id === id && x.name === name);
    expect(ours && 'fields' in ours ? ours.fields.map((x) => `${x.name}@${x.offset}`) : undefined, name).toEqual(fields);
  }
});
