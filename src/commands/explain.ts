// `tracedat explain INPUTS...`: guest latencies broken down by what the host did on the vCPU's
// thread meanwhile; inputs and sync options as `tracedat merge` takes them.
import { open } from '../trace.js';
import { explain, type ExplainOptions, type ExplainSummary } from '../explain.js';
import type { SyncMethod } from '../merge.js';
import { UsageError } from '../usage.js';
import { writeStdout as write } from './stdout.js';

export const EXPLAIN_USAGE = `usage: tracedat explain [-i] MERGED | [-i] HOST [-i] GUEST... [--from EVENT[:FILTER] --to EVENT[:FILTER] [--match FIELD]]
                        [--threshold DURATION] [--top N] [--guest NAME] [--pid PID] [--comm COMM] [--format text|json]
                        [--sync auto|time-shift|kvm|offset|none] [--tsc-offset ...] [--ts-offset ...] [--tsc-scaling ...] [--vcpu-pids ...]
  Latency windows in the guests, each with what the host did on the thread running that vCPU meanwhile:
  its kvm_exit -> kvm_entry intervals (reason, guest rip), the times it was off its host CPU (who ran
  instead, preempted or blocked), host interrupts on that CPU while it was out, interrupts injected.
  Inputs: a file tracedat merge wrote, or a host and its guests lined up as merge lines them up (the
  sync options are merge's, see \`tracedat merge --help\`).
  --from E[:F] --to E[:F]  windows from a guest record matching the first filter (-F's language) to the
                      next one matching the second on the same guest CPU (default: wakeup latency,
                      sched_waking/sched_wakeup of a task to the sched_switch that runs it)
  --match FIELD       pair --from and --to records by this field's value instead of by CPU
  --threshold D       leave out windows shorter than D (500ns, 100us, 2ms, 1s; a bare number is ns)
  --top N             the N slowest windows (text: default 10; 0: all)
  --guest NAME        only this guest; --pid PID, --comm COMM: only windows of this guest task
  --format F          text (default: slowest first, breakdown, merged lines, summary tables) or json
                      (one object per window and line)`;

const SYNCS = ['auto', 'time-shift', 'kvm', 'offset', 'none'];
const PER_GUEST = ['--tsc-offset', '--ts-offset', '--tsc-scaling', '--vcpu-pids'];
const UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n };

/** `100us` in nanoseconds (a bare number is taken as is). */
function duration(s: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?(ns|us|ms|s)?$/.exec(s);
  if (m === null) throw new UsageError(`explain: --threshold ${s}: a duration such as 100us, 2ms or 1500 (ns)`, EXPLAIN_USAGE);
  const unit = UNITS[m[3] ?? 'ns']!;
  const frac = m[2] ?? '';
  const scale = 10n ** BigInt(frac.length);
  return (BigInt(m[1]!) * scale + BigInt(frac || '0')) * unit / scale;
}

interface Parsed {
  inputs: string[];
  options: ExplainOptions;
  perGuest: [string, string][];
  format: 'text' | 'json';
}

function parse(args: string[]): Parsed | 'help' {
  const p: Parsed = { inputs: [], options: {}, perGuest: [], format: 'text' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      const v = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : a.length > 2 && !a.startsWith('--') ? a.slice(2) : args[++i];
      if (v === undefined) throw new UsageError(`explain: option ${name} needs a value`, EXPLAIN_USAGE);
      return v;
    };
    const count = (what: string): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`explain: ${what} ${v}: a number`, EXPLAIN_USAGE);
      return Number(v);
    };
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--') {
      p.inputs.push(...args.slice(i + 1));
      break;
    }
    if (name === '-i' || (a.startsWith('-i') && !a.startsWith('--'))) p.inputs.push(value());
    else if (name === '--sync') {
      const s = value();
      if (!SYNCS.includes(s)) throw new UsageError(`explain: --sync ${s}: one of ${SYNCS.join(', ')}`, EXPLAIN_USAGE);
      p.options.sync = s as SyncMethod;
    } else if (PER_GUEST.includes(name)) p.perGuest.push([name.slice(2), value()]);
    else if (name === '--from') p.options.from = value();
    else if (name === '--to') p.options.to = value();
    else if (name === '--match') p.options.match = value();
    else if (name === '--threshold') p.options.threshold = duration(value());
    else if (name === '--top') p.options.top = count('--top');
    else if (name === '--guest') p.options.guest = value();
    else if (name === '--pid') p.options.pid = count('--pid');
    else if (name === '--comm') p.options.comm = value();
    else if (name === '--format') {
      const f = value();
      if (f !== 'text' && f !== 'json') throw new UsageError(`explain: --format ${f}: text or json`, EXPLAIN_USAGE);
      p.format = f;
    } else if (a.startsWith('-') && a.length > 1) throw new UsageError(`explain: unknown option ${a}`, EXPLAIN_USAGE);
    else p.inputs.push(a);
  }
  return p;
}

/** What explain says on stderr once done: how each guest was lined up with the host. */
export function explainNotes(s: ExplainSummary): string {
  return s.notes.map((n) => `tracedat: explain: ${n}\n`).join('');
}

export async function explainCommand(args: string[]): Promise<number> {
  const p = parse(args);
  if (p === 'help') {
    process.stdout.write(EXPLAIN_USAGE + '\n');
    return 0;
  }
  if (p.inputs.length === 0) throw new UsageError('explain: a merged file, or a host and its guests', EXPLAIN_USAGE);
  if ((p.options.from === undefined) !== (p.options.to === undefined)) throw new UsageError('explain: --from and --to go together', EXPLAIN_USAGE);
  if (p.options.match !== undefined && p.options.from === undefined) throw new UsageError('explain: --match needs --from and --to', EXPLAIN_USAGE);
  const traces = [];
  for (const f of p.inputs) traces.push(await open(f));
  const text = p.format === 'text';
  const run = explain(traces, { ...p.options, top: p.options.top ?? (text ? 10 : undefined), lines: text, cliOptions: p.perGuest });
  for (const part of text ? run.text() : run.jsonLines()) write(Buffer.from(part));
  process.stderr.write(explainNotes(run.summary()));
  return 0;
}
