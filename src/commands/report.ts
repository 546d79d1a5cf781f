// `tracedat report`: trace-cmd report's output for the flags below, byte for byte.
import { open } from '../trace.js';
import { reportChunks, reportCpus, type ReportFilter, type ReportFormat, type ReportSkipped, type ReportSync } from '../report.js';

const REPORT_SYNCS = ['auto', 'trace-cmd', 'time-shift', 'kvm', 'offset', 'none'];
import { writeStdout as write } from './stdout.js';
import { UsageError } from '../usage.js';

export const REPORT_USAGE = `usage: tracedat report [-i FILE [-i GUEST ...] | FILE] [-F FILTER] [-v] [--format F] [-R] [--raw-ts] [-t] [--cpu LIST] [--cpus] [--first-event] [--last-event] [--salvage]
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
  -R             raw: every event's fields instead of its print format
  --raw-ts       ring-buffer timestamps, no clock conversion
  -t             nanosecond timestamps
  --cpu LIST     only these CPUs (e.g. 0,2-3)
  --cpus         list the CPUs with data (--first-event/--last-event add their first/last time)
  --salvage      step over damaged ring-buffer data: a line 'CPU:N [DAMAGED: BYTES bytes skipped
                 at offset X]' in its place, one stderr line per region, exit 2 (without it the
                 report stops at the damage, after every line before it)
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

export async function reportCommand(args: string[]): Promise<number> {
  const inputs: string[] = [];
  const offsets: (bigint | undefined)[] = [];
  const positional: string[] = [];
  let raw = false;
  let format: ReportFormat | undefined;
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
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-i') {
      const input = args[++i];
      if (input === undefined) throw new UsageError('report: a file after -i', REPORT_USAGE);
      inputs.push(input);
    } else if (a === '--ts-offset' || a.startsWith('--ts-offset=')) {
      const v = a === '--ts-offset' ? args[++i] : a.slice('--ts-offset='.length);
      if (v === undefined || !/^[+-]?\d+$/.test(v)) throw new UsageError('report: a signed integer after --ts-offset', REPORT_USAGE);
      if (inputs.length === 0) throw new UsageError('report: --ts-offset must come after -i', REPORT_USAGE);
      offsets[inputs.length - 1] = BigInt(v);
    } else if (a === '--sync' || a.startsWith('--sync=')) {
      const v = a === '--sync' ? args[++i] : a.slice('--sync='.length);
      if (v === undefined || !REPORT_SYNCS.includes(v)) throw new UsageError(`report: --sync takes ${REPORT_SYNCS.join(', ')}`, REPORT_USAGE);
      sync = v as ReportSync;
    } else if (a.startsWith('-F')) {
      const filter = a === '-F' ? args[++i] : a.slice(2);
      if (filter === undefined) throw new UsageError('report: a filter after -F', REPORT_USAGE);
      (inputs.length === 0 ? filters : (inputFilters[inputs.length - 1] ??= [])).push({ filter, exclude });
    } else if (a === '-v') {
      if (exclude) throw new UsageError('report: only one -v can be used (every -F after it excludes)', REPORT_USAGE);
      exclude = true;
    } else if (a === '--format' || a.startsWith('--format=')) {
      const v = a === '--format' ? args[++i] : a.slice('--format='.length);
      if (v !== 'text' && v !== 'json' && v !== 'csv') throw new UsageError('report: --format takes text, json or csv', REPORT_USAGE);
      format = v;
    } else if (a === '-R') raw = true;
    else if (a === '--raw-ts') rawTimestamps = true;
    else if (a === '-t') nanoseconds = true;
    else if (a === '--cpu' || a.startsWith('--cpu=')) {
      const v = a === '--cpu' ? args[++i] : a.slice('--cpu='.length);
      if (v === undefined) throw new UsageError('report: a CPU list after --cpu', REPORT_USAGE);
      cpus = [...(cpus ?? []), ...parseCpuList(v)];
    } else if (a === '--cpus') showCpus = true;
    else if (a === '--salvage') salvage = true;
    else if (a === '--first-event') {
      first = true;
      showCpus = true;
    } else if (a === '--last-event') {
      last = true;
      showCpus = true;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(REPORT_USAGE + '\n');
      return 0;
    } else if (a.startsWith('-') && a.length > 1) {
      process.stderr.write(`tracedat: report: unknown option ${a}\n${REPORT_USAGE}\n`);
      return 1;
    } else positional.push(a);
  }
  if (positional.length > 1 || (positional.length === 1 && inputs.length > 0)) {
    process.stderr.write(`tracedat: report: several inputs go each after its own -i\n${REPORT_USAGE}\n`);
    return 1;
  }
  if (showCpus && inputs.length > 1) {
    process.stderr.write(`tracedat: report: --cpus lists the CPUs of one input\n${REPORT_USAGE}\n`);
    return 1;
  }
  if (inputs.length === 0) inputs.push(positional[0] ?? 'trace.dat');
  const traces = [];
  for (const file of inputs) traces.push(await open(file));
  if (showCpus) {
    write(reportCpus(traces[0]!, inputs[0]!, { first, last, rawTimestamps, nanoseconds }));
    return 0;
  }
  // Chunks of 4 MiB: one N-API call and one write(2) each.
  const onWarning = (m: string) => process.stderr.write(`tracedat: report: ${m}\n`);
  // With --salvage, one line per damaged region, in the form of an error, after the chunk
  // holding its marker.
  let damaged = 0;
  const onSkip = (s: ReportSkipped) => {
    damaged++;
    process.stderr.write(`tracedat: ${inputs[s.input]}: ${s.section}, offset ${s.offset}: ${s.expected}; skipped ${s.what}\n`);
  };
  try {
    for (const chunk of reportChunks(traces, { format, raw, rawTimestamps, nanoseconds, cpus, tsOffsets: offsets, filters, inputFilters, sync, onWarning, salvage, onSkip, chunk: 4 << 20 })) write(chunk);
  } catch (e) {
    // A filter the file's events refuse.
    if (e instanceof UsageError) throw new UsageError(`report: ${e.message}`, REPORT_USAGE);
    throw e;
  }
  return damaged > 0 ? 2 : 0;
}
