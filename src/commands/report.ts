// `tracedat report`: trace-cmd report's output for the flags below, byte for byte.
import { open } from '../trace.js';
import { reportToFd, reportCpus, reportCsvFiles, type ReportDisplay, type ReportFilter, type ReportFormat, type ReportSkipped, type ReportSync } from '../report.js';
import { getopt, HELP, type OptionSpec } from '../getopt.js';

const REPORT_SYNCS = ['auto', 'trace-cmd', 'time-shift', 'kvm', 'offset', 'none'];
import { writeStdout as write } from './stdout.js';
import { UsageError } from '../usage.js';

export const REPORT_USAGE = `usage: tracedat report [-i FILE [-i GUEST ...] | FILE] [-F FILTER] [-v] [--format F [--out-dir DIR]] [-R] [-t] [-l] [-w] [--raw-ts] [--cpu LIST] [--cpus]
                      [--first-event] [--last-event] [--ts-diff] [--ts2secs HZ] [--align-ts] [--nodate] [--ts-check]
                      [--stat] [--uname] [--version] [--sync M] [--ts-offset N] [--salvage]
  -i FILE        an input; several are merged into one timeline, each line naming its file
                 (the host first: its kvm events then name the guests' functions)
  --ts-offset N  after an -i: add N to every time of that input (a guest without sync data)
  -F FILTER      only what FILTER matches, in trace-cmd's language: EVENTS[:EXPR], e.g.
                 'sched/sched_switch,irq.*' or 'sched_switch: prev_pid == 0 || next_comm =~ "^kworker"';
                 before any -i for every input, after an -i for that input; several add up
  -v             every -F after it drops what it matches instead
  --sync M       how guests (inputs after the first) meet the host's time: auto (default: a
                 guest's TIME_SHIFT as trace-cmd applies it, else the host's kvm_write_tsc_offset
                 events, else --ts-offset), trace-cmd (exactly trace-cmd's: TIME_SHIFT only),
                 time-shift, kvm, offset, or none (the guest's clock is the host's)
  --format F     text (default), json (one object per record and line, fields typed) or
                 csv (a header, the common columns and the fields as JSON)
  --out-dir DIR  with --format csv: one file per event in DIR (SYSTEM-EVENT.csv: the common
                 columns and the event's fields)
  -R             raw: every event's fields instead of its print format
  --raw-ts       ring-buffer timestamps, no clock conversion
  -t             nanosecond timestamps
  --cpu LIST     only these CPUs (e.g. 0,2-3)
  --cpus         list the CPUs with data (--first-event/--last-event add their first/last time)
  --salvage      step over damaged ring-buffer data: a line 'CPU:N [DAMAGED: BYTES bytes skipped
                 at offset X]' in its place, one stderr line per region, exit 2 (without it the
                 report stops at the damage, after every line before it)
  -l             latency format: irqs-off, need-resched, irq context and preempt depth after the CPU
  -w             wakeup latencies on sched_switch lines, then their average, maximum and minimum
  --ts-diff      each line's time since the line before
  --ts2secs HZ   the clock counts HZ per second (before the second -i for every input, after it for that one)
  --align-ts     times counted from the first event of the inputs
  --nodate       leave out the offset of a trace recorded with --date
  --ts-check     warn on stderr about records that go back in time
  --stat         the kernel buffer statistics saved with the trace, instead of the events
  --uname        the recording system's uname (then its trace-cmd version), instead of the events
  --version      the trace-cmd version that recorded the trace, instead of the events
Short options bundle (-Rt), values attach (-iFILE, --cpu=0), -- ends the options.
FILE may be a .zip holding one .dat, or bundle.zip:member.dat; default trace.dat`;

/** trace-cmd's parse_cpulist: `a[-b]` items separated by ',' or ':'. */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const item of s.split(/[,:]/)) {
    if (item === '') continue;
    const m = /^\s*(\d+)(?:-\s*(\d+))?$/.exec(item);
    if (!m) throw new UsageError(`report: invalid character in cpu string '${s}'`, REPORT_USAGE);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > b) throw new UsageError('report: range of cpu numbers must be lower to greater', REPORT_USAGE);
    // Linux has at most 8192 CPUs; a larger number is a typo that must not become a huge list.
    if (b >= 1 << 16) throw new UsageError(`report: CPU numbers below 65536, found ${b}`, REPORT_USAGE);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

const REPORT_OPTIONS: readonly OptionSpec[] = [
  ...HELP,
  { short: 'i', value: 'required' },
  { short: 'F', value: 'required' },
  { short: 'v' },
  { short: 'R' },
  { short: 't' },
  { short: 'l' },
  { short: 'w' },
  { long: 'raw-ts' },
  { long: 'cpu', value: 'required' },
  { long: 'cpus' },
  { long: 'first-event' },
  { long: 'last-event' },
  { long: 'ts-offset', value: 'required' },
  { long: 'sync', value: 'required' },
  { long: 'ts-diff' },
  { long: 'ts2secs', value: 'required' },
  { long: 'ts-check' },
  { long: 'align-ts' },
  { long: 'nodate' },
  { long: 'stat' },
  { long: 'uname' },
  { long: 'version' },
  { long: 'format', value: 'required' },
  { long: 'out-dir', value: 'required' },
  { long: 'salvage' },
];

/** trace-cmd's atoll: leading blanks, a sign, the digits up to the first other character. */
function atoll(s: string): bigint {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? BigInt.asIntN(64, BigInt(m[1]!)) : 0n;
}

export async function reportCommand(args: string[]): Promise<number> {
  const inputs: string[] = [];
  const offsets: (bigint | undefined)[] = [];
  let raw = false;
  let format: ReportFormat | undefined;
  let outDir: string | undefined;
  let rawTimestamps = false;
  let nanoseconds = false;
  let cpus: number[] | undefined;
  let showCpus = false;
  let first = false;
  let sync: ReportSync | undefined;
  let last = false;
  let salvage = false;
  // trace-cmd's positional -F: before any -i for every input, after one for that input.
  const filters: ReportFilter[] = [];
  const inputFilters: ReportFilter[][] = [];
  let exclude = false;
  const display: ReportDisplay = {};
  // trace-cmd 3.1.6: --ts2secs before the second -i is every input's, after it the last input's.
  const inputTs2secs: (bigint | undefined)[] = [];
  let stat = false;
  let uname = false;
  let version = false;
  const { options, positional } = getopt(args, REPORT_OPTIONS, 'report', REPORT_USAGE);
  for (const { key, value } of options) {
    const v = value ?? '';
    switch (key) {
      case 'help':
        process.stdout.write(REPORT_USAGE + '\n');
        return 0;
      case 'i':
        inputs.push(v);
        break;
      case 'ts-offset':
        if (!/^[+-]?\d+$/.test(v)) throw new UsageError('report: a signed integer after --ts-offset', REPORT_USAGE);
        if (inputs.length === 0) throw new UsageError('report: --ts-offset must come after -i', REPORT_USAGE);
        offsets[inputs.length - 1] = BigInt(v);
        break;
      case 'ts2secs':
        if (inputs.length > 1) inputTs2secs[inputs.length - 1] = atoll(v);
        else display.ts2secs = atoll(v);
        break;
      case 'sync':
        if (!REPORT_SYNCS.includes(v)) throw new UsageError(`report: --sync takes ${REPORT_SYNCS.join(', ')}`, REPORT_USAGE);
        sync = v as ReportSync;
        break;
      case 'F':
        (inputs.length === 0 ? filters : (inputFilters[inputs.length - 1] ??= [])).push({ filter: v, exclude });
        break;
      case 'v':
        if (exclude) throw new UsageError('report: only one -v can be used (every -F after it excludes)', REPORT_USAGE);
        exclude = true;
        break;
      case 'R':
        raw = true;
        break;
      case 'raw-ts':
        rawTimestamps = true;
        break;
      case 't':
        nanoseconds = true;
        break;
      case 'cpu':
        cpus = [...(cpus ?? []), ...parseCpuList(v)];
        break;
      case 'cpus':
        showCpus = true;
        break;
      case 'first-event':
        first = showCpus = true;
        break;
      case 'last-event':
        last = showCpus = true;
        break;
      case 'ts-diff':
        display.tsDiff = true;
        break;
      case 'l':
        display.latency = true;
        break;
      case 'w':
        display.wakeup = true;
        break;
      case 'ts-check':
        display.tsCheck = true;
        break;
      case 'align-ts':
        display.alignTs = true;
        break;
      case 'nodate':
        display.nodate = true;
        break;
      case 'stat':
        stat = true;
        break;
      case 'uname':
        uname = true;
        break;
      case 'version':
        version = true;
        break;
      case 'format':
        if (v !== 'text' && v !== 'json' && v !== 'csv') throw new UsageError('report: --format takes text, json or csv', REPORT_USAGE);
        format = v;
        break;
      case 'out-dir':
        if (v === '') throw new UsageError('report: a directory after --out-dir', REPORT_USAGE);
        outDir = v;
        break;
      case 'salvage':
        salvage = true;
        break;
    }
  }
  // trace-cmd: --version wins over --uname, which wins over --stat.
  if (version) display.only = 'version';
  else if (uname) display.only = 'uname';
  else if (stat) display.only = 'stat';
  if (positional.length > 1 || (positional.length === 1 && inputs.length > 0)) {
    process.stderr.write(`tracedat: report: several inputs go each after its own -i\n${REPORT_USAGE}\n`);
    return 1;
  }
  if (display.wakeup && inputs.length > 1) {
    process.stderr.write(`tracedat: report: -w (wakeup latencies) reads a single input file\n${REPORT_USAGE}\n`);
    return 1;
  }
  if (showCpus && inputs.length > 1) {
    process.stderr.write(`tracedat: report: --cpus lists the CPUs of one input\n${REPORT_USAGE}\n`);
    return 1;
  }
  if (outDir !== undefined && format !== 'csv') {
    process.stderr.write(`tracedat: report: --out-dir writes one CSV file per event: it goes with --format csv\n${REPORT_USAGE}\n`);
    return 1;
  }
  if (inputs.length === 0) inputs.push(positional[0] ?? 'trace.dat');
  const traces = [];
  for (const file of inputs) traces.push(await open(file));
  if (showCpus) {
    write(reportCpus(traces[0]!, inputs[0]!, { first, last, rawTimestamps, nanoseconds }));
    return 0;
  }
  // Chunks of 64 KiB or more, written to fd 1 by the addon (no copy into JavaScript): each
  // call of a large report is one chunk of lines from the formatting thread, not copied at all.
  const onWarning = (m: string) => process.stderr.write(`tracedat: report: ${m}\n`);
  // With --salvage, one line per damaged region, in the form of an error, after the chunk
  // holding its marker.
  let damaged = 0;
  const onSkip = (s: ReportSkipped) => {
    damaged++;
    process.stderr.write(`tracedat: ${inputs[s.input]}: ${s.section}, offset ${s.offset}: ${s.expected}; skipped ${s.what}\n`);
  };
  if (outDir !== undefined) {
    const files = reportCsvFiles(traces, outDir, { raw, rawTimestamps, nanoseconds, cpus, tsOffsets: offsets, filters, inputFilters, sync, onWarning, salvage, onSkip });
    if (process.stderr.isTTY) process.stderr.write(`tracedat: report: ${files.length} files in ${outDir}\n`);
    return damaged > 0 ? 2 : 0;
  }
  try {
    reportToFd(traces, 1, { format, raw, rawTimestamps, nanoseconds, cpus, tsOffsets: offsets, filters, inputFilters, sync, onWarning, salvage, onSkip, chunk: 1 << 16, display, inputTs2secs });
  } catch (e) {
    // A filter the file's events refuse.
    if (e instanceof UsageError) throw new UsageError(`report: ${e.message}`, REPORT_USAGE);
    throw e;
  }
  return damaged > 0 ? 2 : 0;
}
