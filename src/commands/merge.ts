// `tracedat merge [HOST] GUEST... -o OUT`: one trace.dat in host time from a KVM host's trace
// and its guests', with each guest's sync source said on stderr; and `tracedat attach HOST
// GUEST... --out-dir DIR`: copies that stock trace-cmd report lines up.
import { mkdirSync } from 'node:fs';
import { open } from '../trace.js';
import { attach, merge, type AttachResult, type MergeOptions, type MergeResult, type SyncMethod, type MergedGuest } from '../merge.js';
import { UsageError } from '../usage.js';
import { getopt, HELP, type OptionSpec } from '../getopt.js';
import type { Compression } from '../convert.js';

export const MERGE_USAGE = `usage: tracedat merge [-i] HOST [-i] GUEST... -o OUT [--sync auto|time-shift|kvm|offset|none]
                      [--tsc-offset GUEST[:VCPU]=N] [--ts-offset GUEST=N] [--tsc-scaling GUEST=RATIO,FRAC]
                      [--vcpu-pids GUEST=PID,...] [--file-version 6|7] [--compression any|none|zstd|zlib] [--level N]
  Inputs in any order (trace-cmd's agent writes trace.dat trace-GUEST.dat): the host is the file whose
  GUEST options name the others' trace ids, else the first. The host's buffers are copied as they are;
  each guest becomes a buffer instance named after it, its records moved onto host time.
  -o OUT              the merged file (written to a temporary file, then renamed)
  --sync M            how guests are lined up (default auto: the guest's TIME_SHIFT option, else the
                      host's kvm_write_tsc_offset events, else an offset given below); none: the
                      guest's clock is the host's
  --tsc-offset G[:V]=N  KVM's TSC offset of guest G (guest = host + N), for vCPU V or all; as
                      kvm_write_tsc_offset and KVM's debugfs tsc-offset show it
  --ts-offset G=N     add N to guest G's times (trace-cmd report's --ts-offset sign; in the units the
                      host's report shows: ns with TSC2NSEC)
  --tsc-scaling G=R,F guest G's TSC scaling: KVM's ratio and its fraction bits
  --vcpu-pids G=P,... the host pids of guest G's vCPU threads, vCPU 0 first (when the host's GUEST
                      option does not say and the kvm events come from several VMs)
  --file-version N    6 or 7 (default 7)
  --compression C     any (default for v7: zstd), none, zstd or zlib
  --level N           compression level (zstd -7..22, default 3; zlib 0..9, default 9)
G is a guest's name (its GUEST option's, else its UNAME nodename), its file name, or its path.`;

export const ATTACH_USAGE = `usage: tracedat attach [-i] HOST [-i] GUEST... --out-dir DIR [--sync ...] [--tsc-offset ...] [--ts-offset ...]
                       [--tsc-scaling ...] [--vcpu-pids ...] [--file-version 6|7] [--compression C] [--level N]
  Copies of the inputs into DIR (same names) in which stock \`trace-cmd report -i HOST -i GUEST\` orders every
  record truly: the host copy names each guest in a GUEST option, each guest copy has a TRACEID and a
  TIME_SHIFT made from its clock (the sync options are merge's, see \`tracedat merge --help\`). Where no
  TIME_SHIFT can say the mapping (a vCPU whose guest clock went back), the guest copy's timestamps are
  rewritten onto host time with a zero TIME_SHIFT, and stderr says so.`;

const SYNCS = ['auto', 'time-shift', 'kvm', 'offset', 'none'];
const COMPRESSIONS = ['any', 'none', 'zstd', 'zlib'];
const PER_GUEST = ['tsc-offset', 'ts-offset', 'tsc-scaling', 'vcpu-pids'];

const MERGE_OPTIONS: readonly OptionSpec[] = [
  ...HELP,
  { short: 'i', value: 'required' },
  { short: 'o', value: 'required' },
  { long: 'out-dir', value: 'required' },
  { long: 'sync', value: 'required' },
  ...PER_GUEST.map((long) => ({ long, value: 'required' as const })),
  { long: 'file-version', value: 'required' },
  { long: 'compression', value: 'required' },
  { long: 'level', value: 'required' },
];

/** The native merge takes per-guest options as the CLI writes them; kept in order. */
interface Parsed {
  inputs: string[];
  output: string | undefined;
  outDir: string | undefined;
  options: MergeOptions;
  perGuest: [string, string][];
}

function parse(args: string[], usage: string): Parsed | 'help' {
  const p: Parsed = { inputs: [], output: undefined, outDir: undefined, options: {}, perGuest: [] };
  const command = usage === MERGE_USAGE ? 'merge' : 'attach';
  // Inputs in the order given, with -i or without.
  for (const { key, value } of getopt(args, MERGE_OPTIONS, command, usage).sequence) {
    const v = value ?? '';
    if (key === 'help') return 'help';
    if (key === 'i' || key === '') p.inputs.push(v);
    else if (key === 'o') {
      if (p.output !== undefined) throw new UsageError(`merge: only one output file, ${p.output} already set`, usage);
      p.output = v;
    } else if (key === 'out-dir') {
      p.outDir = v;
    } else if (key === 'sync') {
      if (!SYNCS.includes(v)) throw new UsageError(`merge: --sync ${v}: one of ${SYNCS.join(', ')}`, usage);
      p.options.sync = v as SyncMethod;
    } else if (PER_GUEST.includes(key)) p.perGuest.push([key, v]);
    else if (key === 'file-version') {
      if (v !== '6' && v !== '7') throw new UsageError(`merge: unsupported file version ${v}, supported versions are from 6 to 7`, usage);
      p.options.version = Number(v) as 6 | 7;
    } else if (key === 'compression') {
      if (!COMPRESSIONS.includes(v)) throw new UsageError(`merge: compression algorithm ${v} is not supported (${COMPRESSIONS.join(', ')})`, usage);
      p.options.compression = v as Compression;
    } else if (key === 'level') {
      if (!/^-?\d+$/.test(v)) throw new UsageError(`merge: --level needs an integer, not ${v}`, usage);
      p.options.level = Number(v);
    }
  }
  return p;
}

/** `12.345678` seconds from nanoseconds (or the raw count when the clock has no unit). */
function seconds(ns: bigint | undefined, usecs: boolean): string {
  if (ns === undefined) return '-';
  if (!usecs) return ns.toString();
  const us = (ns + 500n) / 1000n;
  return `${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

function describe(g: MergedGuest, usecs: boolean): string {
  const lost: string[] = [];
  if (g.kallsyms.dropped > 0) lost.push(`${g.kallsyms.dropped} kallsyms lines overlapping the host's`);
  if (g.printk.dropped > 0) lost.push(`${g.printk.dropped} printk formats at the host's addresses`);
  if (g.comms.dropped > 0) lost.push(`${g.comms.dropped} comms of pids the host names otherwise`);
  if (g.unknownEvents > 0) lost.push(`${g.unknownEvents} records of events with no format (kept with their ids)`);
  if (g.tooLarge > 0) lost.push(`${g.tooLarge} records larger than a page (left out)`);
  const lines = [
    `tracedat: guest ${g.name} (${g.path}, ${g.vcpus} vCPUs): lined up by ${g.source}; ${g.records} records, host time ${seconds(g.first, usecs)} .. ${seconds(g.last, usecs)}; ${g.eventsAdded} event formats of its own`,
  ];
  if (lost.length > 0) lines.push(`tracedat: guest ${g.name}: not kept in the one file: ${lost.join(', ')}`);
  for (const n of g.notes) lines.push(`tracedat: guest ${g.name}: ${n}`);
  return lines.join('\n') + '\n';
}

export async function mergeCommand(args: string[]): Promise<number> {
  const p = parse(args, MERGE_USAGE);
  if (p === 'help') {
    process.stdout.write(MERGE_USAGE + '\n');
    return 0;
  }
  if (p.output === undefined) throw new UsageError('merge: no output file (-o OUT)', MERGE_USAGE);
  if (p.inputs.length < 2) throw new UsageError('merge: a host and at least one guest trace', MERGE_USAGE);
  if (p.options.version === 6 && p.options.compression !== undefined && p.options.compression !== 'none') {
    throw new UsageError(`merge: --compression ${p.options.compression} needs --file-version 7: v6 files are never compressed`, MERGE_USAGE);
  }
  const traces = [];
  for (const f of p.inputs) traces.push(await open(f));
  const tty = process.stderr.isTTY === true;
  const r = await merge(traces, p.output, { ...p.options, progress: tty, cliOptions: p.perGuest });
  process.stderr.write(mergeSummary(r));
  return 0;
}

/** What merge says on stderr when it is done: the host, the output, and per guest how it was
 * lined up and what could not be kept. */
export function mergeSummary(r: MergeResult): string {
  return `tracedat: host ${r.host}; wrote ${r.path}\n` + r.guests.map((g) => describe(g, r.nanoseconds)).join('');
}

/** What attach says on stderr when it is done. */
export function attachSummary(r: AttachResult): string {
  const lines = [`tracedat: host copy ${r.host}`];
  for (const g of r.guests) {
    const how =
      g.mode === 'kept'
        ? 'its own TIME_SHIFT kept'
        : g.mode === 'time-shift'
          ? `a TIME_SHIFT of ${g.samples?.join('/') ?? '?'} samples per vCPU`
          : 'its timestamps rewritten onto host time';
    lines.push(`tracedat: guest ${g.name} (${g.path}) -> ${g.out}: lined up by ${g.source}; ${how}`);
    for (const n of g.notes) lines.push(`tracedat: guest ${g.name}: ${n}`);
  }
  return lines.join('\n') + '\n';
}

export async function attachCommand(args: string[]): Promise<number> {
  const p = parse(args, ATTACH_USAGE);
  if (p === 'help') {
    process.stdout.write(ATTACH_USAGE + '\n');
    return 0;
  }
  if (p.outDir === undefined) throw new UsageError('attach: no output directory (--out-dir DIR)', ATTACH_USAGE);
  if (p.output !== undefined) throw new UsageError('attach: copies go to --out-dir DIR, not -o', ATTACH_USAGE);
  if (p.inputs.length < 2) throw new UsageError('attach: a host and at least one guest trace', ATTACH_USAGE);
  const traces = [];
  for (const f of p.inputs) traces.push(await open(f));
  mkdirSync(p.outDir, { recursive: true });
  const r = await attach(traces, p.outDir, { ...p.options, cliOptions: p.perGuest });
  process.stderr.write(attachSummary(r));
  return 0;
}
