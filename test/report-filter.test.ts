// `tracedat report -F ...` against `trace-cmd report -F ...` (3.1.6, run at test time), byte for
// byte: event names, systems and regexes; numeric, string and regex comparisons; &&/||/! and
// parentheses (no precedence: left to right); common_* fields, COMM and CPU; a field the event
// lacks; -v; several -F; kernel_stack records following printed ones; files with instances and a
// big-endian file; the KVM host+guest pair with filters per input; and the errors.
//
// trace-cmd 3.1.6 frees the filter of a file with instances twice when it closes it (instance
// handles copy their file's handle, filter included) and crashes after writing everything; it is
// run there with unbuffered output, which is then complete. Where 3.1.6 is wrong on purpose-made
// semantics (a -F after the only -i is ignored, bug 217038; a -F before the -i's applies to the
// first input only) the expected output is trace-cmd's for the equivalent arguments of 3.2's
// reading: a -F before any -i applies to every input, one after an -i to that input.
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, report, UsageError } from '../src/index.js';
import type { ReportFilter } from '../src/index.js';
import { CLI, PUBLIC, REAL, ROOT, firstDifference, run } from './helpers.js';

const HAVE = existsSync(join(ROOT, REAL)) && existsSync(join(ROOT, PUBLIC));
if (!HAVE) console.warn(`report-filter: no ${REAL} or ${PUBLIC}: the comparisons with trace-cmd are skipped`);

const real = (f: string) => join(REAL, f);
const pub = (f: string) => join(PUBLIC, f);
/** Files whose filters trace-cmd 3.1.6 frees twice at exit (instances; the s390x files too). */
const CRASHES_AT_CLOSE = /instance-|s390x-be-/;

/** trace-cmd report's output for these arguments, checked to be complete. */
async function traceCmd(args: string[]): Promise<Buffer> {
  const crashes = args.some((a) => CRASHES_AT_CLOSE.test(a));
  const r = crashes ? await run('stdbuf', ['-o0', 'trace-cmd', 'report', ...args], { timeoutMs: 120_000 }) : await run('trace-cmd', ['report', ...args], { timeoutMs: 120_000 });
  if (crashes) expect([0, null], `trace-cmd report ${args.join(' ')}: ${r.stderr}`).toContain(r.status);
  else expect(r.status, `trace-cmd report ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function tracedat(args: string[]): Promise<Buffer> {
  const r = await run(process.execPath, [CLI, 'report', ...args], { timeoutMs: 120_000 });
  expect([r.status, r.stderr]).toEqual([0, '']);
  return r.stdout;
}

function expectSame(ours: Buffer, theirs: Buffer): void {
  if (!ours.equals(theirs)) expect(firstDifference(ours, theirs)).toBe('');
}

/** Filters for files of sched events, each checked through the API. */
const SCHED: string[] = [
  'sched_switch',
  'sched/sched_switch,sched_wakeup',
  'sched', // a system
  'sched_*', // a regex: "sched" and underscores, i.e. the system
  'SCHED_SW.*', // case-insensitive
  '.*',
  'sched_switch: prev_pid == 0 || next_pid == 0',
  'sched_switch: prev_pid != 0 && prev_pid == 1 || next_pid == 0', // (a && b) || c
  'sched_switch: next_pid == 0 || prev_pid != 0 && prev_pid == 1', // (a || b) && c
  'sched_switch: next_pid == 0 || (prev_pid != 0 && prev_pid == 1)',
  'sched_switch: !(prev_state == 0) && prev_prio >= 120 && next_prio < 0x78',
  'sched_switch: prev_comm =~ "^k.*worker" || next_comm == "bash"',
  'sched_switch: prev_comm !~ "SWAPPER"',
  'sched_switch: prev_pid == -1', // arithmetic after a comparison replaces it: prev_pid - 1
  '.*: common_pid == 0',
  '.*: common_flags & 1 && common_preempt_count > 0',
  '.*: COMM =~ "bash\\|node" && CPU == 1',
  'sched : bogus == 1 || common_pid == 2', // the man page's: bogus is false in every event
  'sched_wakeup: pid == "0x1" || comm != "bash"', // a number compared as text (0x%llx)
];

const CASES: [string, string[]][] = [
  [real('sched-irq-sys-v6.dat'), [...SCHED, 'irq.*,timer.*', 'irq_handler_entry: name =~ "^virtio[0-9]-req" && irq != 37', 'sys_enter_execve: filename != 0']],
  [real('sched-irq-sys-v7-zstd.dat'), ['softirq_.*: vec == 3 || vec >= 9', "syscalls: common_pid > 20000 && COMM != 'sh'", 'sched_switch: (prev_pid == 0) && !(next_comm == "bash")']],
  [real('kvm-host-vcpu-create-v7-zstd.dat'), [...SCHED.slice(6, 12), 'kvm_.*: common_pid > 1000', 'kvm_mmio: len == 4 && type != 0', 'kvm/kvm_pio: port == 0x70 || port == 0x71']],
  [real('x86guest-function-v7.dat'), ['function: ip == "vfs_statx"', 'function: parent_ip =~ "^vfs_"', 'function: ip > 0xffffffff81000000 && !(ip == "vfs_open")', 'print', 'print: buf == ""']],
  [real('s390x-be-v7-zstd.dat'), ['sched_switch: prev_pid == 0 || next_comm =~ "rcu"', 'hrtimer_expire_entry: function == "tick_sched_timer"', '.*: common_pid == 114']],
  [real('instance-v7-zstd.dat'), ['sched_switch: prev_pid == 0', '.*: CPU == 1 && COMM != "<idle>"']],
  [pub('trappy__tests__trace__0af4721.dat'), ['sched_rq_.*: cpu == 1', 'sched_task_.*: comm =~ "^sh$" || pid < 100', 'sched_stat_runtime: runtime > 1000000']],
  [pub('lisa__tests__assets__sched_load__trace.dat'), ['sched_switch: prev_state & 2 || next_pid == 0', 'cpu_idle: state == 4294967295 && cpu_id > 1', 'sched_migrate_task,sched_load_se: dest_cpu == 3 || comm =~ "^kworker/u"']],
  // kernel_stack records print after a record of their CPU that printed.
  [pub('LanGraph__trace.dat'), ['sched_switch: next_pid == 0']],
];

describe.skipIf(!HAVE)('-F through the API equals trace-cmd report -F', () => {
  describe.each(CASES)('%s', (file, filters) => {
    test.each(filters)('-F %j', async (filter) => {
      expectSame(report(await open(file), { filters: [filter] }), await traceCmd(['-F', filter, file]));
    });
  });
});

describe.skipIf(!HAVE)('-v and several -F through the CLI', () => {
  test.each([
    [real('sched-irq-sys-v6.dat'), ['-v', '-F', 'sched_switch']],
    [real('sched-irq-sys-v6.dat'), ['-F', 'sched_switch', '-F', 'irq.*']],
    [real('sched-irq-sys-v6.dat'), ['-F', 'sched', '-v', '-F', 'sched_switch: prev_pid == 0', '-F', 'sched_wakeup: COMM == "bash"']],
    [real('kvm-host-vcpu-create-v7-zstd.dat'), ['-F', '.*: CPU == 0', '-Fkvm_mmio', '-v', '-F', '.*: common_pid == 0']],
    [real('instance-v6.dat'), ['-v', '-F', 'sched_switch,sched_wakeup']],
    [pub('LanGraph__trace.dat'), ['-F', 'sched_switch', '-v', '-F', 'kernel_stack']],
    // With --cpu (trace-cmd filters first; the stack memory is the file's, by buffer CPU).
    [pub('LanGraph__trace.dat'), ['--cpu', '1,2', '-F', 'sched_switch: next_pid == 0']],
    [real('instance-v6.dat'), ['--cpu', '0-1,3', '-F', 'sched_switch: prev_pid == 0 || next_comm =~ "^k"']],
  ])('%s %j', async (file, args) => {
    expectSame(await tracedat([...args, file]), await traceCmd([...args, file]));
  });

  test('the API takes excluding filters as { filter, exclude: true }', async () => {
    const file = real('sched-irq-sys-v6.dat');
    const filters: ReportFilter[] = ['sched', { filter: 'sched_switch: prev_pid == 0', exclude: true }];
    expectSame(report(await open(file), { filters }), await traceCmd(['-F', 'sched', '-v', '-F', 'sched_switch: prev_pid == 0', file]));
  });
});

describe.skipIf(!HAVE)('COMM filters while the comm table learns (answers kept per pid until it changes)', () => {
  // pid 100 prints as <...> until a printed sched_wakeup names it "ls"; pids 1223 and 1728 are
  // <...> until their own printed sched_switch teaches scan.sh and head.
  const buildroot = pub('buildroot-kernel__tracing__trace.192.168.1.10_53616.dat');
  const kvm = real('kvm-host-vcpu-create-v7-zstd.dat');
  test.each([
    [buildroot, ['sched_switch,sched_wakeup', '.*: COMM == "ls"']],
    [buildroot, ['sched_wakeup', '.*: COMM =~ "^l" || COMM == "<...>"']],
    [kvm, ['sched_switch', '.*: COMM =~ "^scan\\|^head"']],
    [kvm, ['.*: COMM =~ "^<" || next_pid == 1728']],
    [kvm, ['sched_switch: !(COMM != "head") || prev_pid == 1223', 'kvm_.*: COMM =~ "^[sh]"']],
  ])('%s %j, sequential and on the formatting thread', async (file, filters) => {
    const theirs = await traceCmd([...filters.flatMap((f) => ['-F', f]), file]);
    expect(theirs.length).toBeGreaterThan(1000);
    const t = await open(file);
    for (const parallel of [false, true]) expectSame(report(t, { filters, parallel }), theirs);
    expectSame(await tracedat([...filters.flatMap((f) => ['-F', f]), file]), theirs);
  });
});

describe.skipIf(!HAVE)('filters and inputs', () => {
  test('a -F after the only -i applies to it (trace-cmd 3.1.6 ignores it: bug 217038)', async () => {
    const file = real('sched-irq-sys-v6.dat');
    const filter = 'sched_wakeup: target_cpu == 1';
    expectSame(await tracedat(['-i', file, '-F', filter]), await traceCmd(['-F', filter, file]));
    expectSame(await traceCmd(['-i', file, '-F', filter]), await traceCmd([file]));
  });

  describe('the KVM host and its guest (zstd copies of the zlib files)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedat-filter-'));
    const host = join(dir, 'host.dat');
    const guest = join(dir, 'guest.dat');
    beforeAll(async () => {
      if (!HAVE) return;
      await (await open(pub('Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat'))).convert(host, { compression: 'zstd' });
      await (await open(pub('Masterarbeit__documentation__trace-cmd__analysis__test__trace-Salamander4.dat'))).convert(guest, { compression: 'zstd' });
    }, 60_000);

    test('a -F after each -i filters that input (3.1.6 does so with several inputs)', async () => {
      const args = ['-i', host, '-F', 'kvm_exit: exit_reason == 1 || guest_rip =~ "idle"', '-F', 'kvm_entry: vcpu_id == 0', '-i', guest, '-F', 'sched_switch: prev_pid == 0'];
      const ours = await tracedat(args);
      expectSame(ours, await traceCmd(args));
      // The host's kvm lines still name guest functions.
      expect(ours.toString('latin1')).toMatch(/kvm_entry: +vcpu 0 rip 0x[0-9a-f]+ [a-z_0-9]+\+0x/);
    });

    test('a -F before the -i applies to every input (3.1.6: to the first only)', async () => {
      // The host file has only kvm_entry and kvm_exit; a regex names events of both.
      const global = '.*: COMM =~ "^qemu" || common_pid == 0';
      const ours = await tracedat(['-F', global, '-i', host, '-i', guest]);
      expectSame(ours, await traceCmd(['-i', host, '-F', global, '-i', guest, '-F', global]));
      // Through the API, and with -v after an -i.
      const traces = [await open(host), await open(guest)];
      const excluded = { filter: 'sched_switch: next_comm =~ "^kworker"', exclude: true };
      expectSame(report(traces, { filters: [global], inputFilters: [undefined, [excluded]] }), await traceCmd(['-i', host, '-F', global, '-i', guest, '-F', global, '-v', '-F', excluded.filter]));
    });
  });
});

describe('errors', () => {
  const file = real('sched-irq-sys-v6.dat');
  const cli = (args: string[]) => run(process.execPath, [CLI, 'report', ...args]);

  test.skipIf(!HAVE).each([
    ['nosuch', "no event or system matches 'nosuch'"],
    ['sched_switch,', 'an event name is missing'],
    ['sched_switch: prev_pid == 1, next_pid == 2', "',' after the ':' (the event list ends at the first ':')"],
    ['sched_switch: prev_pid == next_pid', 'a comparison needs a number or a quoted string on its right at "prev_pid == next_pid"'],
    ['sched_switch: (prev_pid == 1', 'unbalanced \'(\' at "(prev_pid == 1"'],
    ['sched_switch: prev_comm < "a"', 'prev_comm compares with a string: use ==, !=, =~ or !~ (event sched/sched_switch)'],
    ['sched_switch: prev_comm =~ "[a"', 'regex of prev_comm: Unmatched [, [^, [:, [., or [= (event sched/sched_switch)'],
  ])('-F %j: trace-cmd dies, tracedat exits 1 naming the file and the reason', async (filter, reason) => {
    const theirs = await run('trace-cmd', ['report', '-F', filter, file]);
    // (Its exit status is errno's value: 255, or 12 where its event-list split runs out of memory.)
    expect([theirs.status === 0, theirs.signal, theirs.stdout.length]).toEqual([false, null, 0]);
    expect(theirs.stderr).toContain(`Failed to create event filter: ${filter}`);
    const ours = await cli(['-F', filter, file]);
    expect([ours.status, ours.stdout.length]).toEqual([1, 0]);
    expect(ours.stderr.split('\n')[0]).toBe(`tracedat: report: ${file}: -F '${filter}': ${reason}`);
  });

  test.skipIf(!HAVE).each([
    ['sched_switch: prev_pid ==', 'unfinished expression: an operator without its operand (event sched/sched_switch)'],
    ['sched_switch: prev_pid == 1 &&', 'unfinished expression: an operator without its operand (event sched/sched_switch)'],
  ])('-F %j: trace-cmd crashes, tracedat exits 1', async (filter, reason) => {
    expect((await run('trace-cmd', ['report', '-F', filter, file])).signal).toBe('SIGSEGV');
    const ours = await cli(['-F', filter, file]);
    expect([ours.status, ours.stderr.split('\n')[0]]).toEqual([1, `tracedat: report: ${file}: -F '${filter}': ${reason}`]);
  });

  test.skipIf(!HAVE)('what libtraceevent compares as undefined memory is refused', async () => {
    const t = await open(file);
    expect(() => report(t, { filters: ["sched_switch: prev_state == 'R'"] })).toThrow(/compares by its address in trace-cmd/);
    expect(() => report(t, { filters: ['sched_switch: COMM > 5'] })).toThrow(/COMM is the task's name/);
    // Old kernels' print event declares `char buf` of size 0: no number, no string.
    const old = await open(pub('TestesKernelShark__trace_fifo_v3.dat'));
    expect(() => report(old, { filters: ['print: buf =~ "x"'] })).toThrow("-F 'print: buf =~ \"x\"': buf is 0 bytes, not a number and no string either (event ftrace/print)");
  });

  test.skipIf(!HAVE)('a filter error is a UsageError; -v twice and a missing filter are usage errors', async () => {
    const t = await open(file);
    let error: unknown;
    try {
      report(t, { filters: [{ filter: 'nosuch', exclude: true }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`${file}: -v -F 'nosuch': no event or system matches 'nosuch'`);
    const twice = await cli(['-v', '-v', '-F', 'sched', file]);
    expect([twice.status, twice.stderr.split('\n')[0]]).toEqual([1, 'tracedat: report: only one -v can be used (every -F after it excludes)']);
    const missing = await cli([file, '-F']);
    expect([missing.status, missing.stderr.split('\n')[0]]).toEqual([1, "tracedat: report: option requires an argument -- 'F'"]);
    expect(() => report(t, { filters: ['a\0b'] })).toThrow(TypeError);
  });
});
