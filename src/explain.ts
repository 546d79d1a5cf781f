// `explain`: guest latencies broken down by what the host did on the vCPU's thread meanwhile
// (native/src/explain/). One pass over the host+guest timeline in Rust; windows arrive in batches.
import { native, type ExplainCursor } from './native.js';
import { cursorFor, mergeFailure, type MergeOptions } from './merge.js';
import type { TraceFile } from './trace.js';

export interface ExplainOptions extends Pick<MergeOptions, 'sync' | 'guests' | 'cliOptions'> {
  /** A pair of guest events in `-F`'s language, `EVENT[:FILTER]`; without them, wakeup latencies. */
  from?: string;
  to?: string;
  /** A `to` closes the window its `from` opened with the same value of this field (else: the same CPU). */
  match?: string;
  /** Windows shorter than this (host ns, or raw counts when the clock has no unit) are left out. */
  threshold?: bigint | number;
  /** Only the N slowest windows, slowest first (0: all, slowest first). */
  top?: number;
  guest?: string;
  pid?: number;
  comm?: string;
  /** Each window's merged host+guest lines, as report prints them. */
  lines?: boolean;
}

// Times and durations are numbers: host nanoseconds since boot stay below 2^53 (104 days);
// raw clock counts may not, and `jsonLines()` gives them exactly.

export interface ExplainExit {
  /** The exit reason as trace-cmd's kvm plugin names it. */
  reason: string;
  start_ns: number;
  /** null when the vCPU was still out at the end of the trace. */
  end_ns: number | null;
  /** Its part inside the window. */
  ns: number;
  /** The guest rip, hex. */
  rip: string;
  /** The guest function the rip is in, when the guest's kallsyms say. */
  function: string | null;
}

export interface ExplainOffCpu {
  start_ns: number;
  end_ns: number | null;
  ns: number;
  state: 'preempted' | 'blocked';
  by_pid: number;
  by_comm: string;
}

export interface ExplainWindow {
  guest: string;
  vcpu: number;
  kind: 'wakeup' | 'pair';
  pid: number;
  comm: string;
  start_ns: number;
  end_ns: number;
  latency_ns: number;
  /** The vCPU thread, -1 when not known. */
  host_pid: number;
  /** latency_ns minus the exits' ns. */
  in_guest_ns: number;
  exits: ExplainExit[];
  off_cpu: ExplainOffCpu[];
  host_irqs: { name: string; start_ns: number; end_ns: number }[];
  injected: { event: string; ts_ns: number; vector: number }[];
  lines?: string[];
}

interface Tally {
  count: number;
  total_ns: number;
  max_ns: number;
}

export interface ExplainSummary {
  /** Whether times are nanoseconds (else raw clock counts). */
  nanoseconds: boolean;
  windows: Tally;
  in_guest_ns: number;
  /** How each guest was lined up with the host, and what that found worth saying. */
  notes: string[];
  /** Windows on a vCPU whose host thread is not known (no host side). */
  no_thread: number;
  /** Windows given up: open so long that what they needed was no longer kept (memory stays bounded). */
  given_up: number;
  exits: ({ reason: string } & Tally)[];
  preempting: ({ comm: string; pid: number } & Tally)[];
}

/** Records read per native call. */
const BATCH = 65536;

/** An explain being read: iterate it for the windows; `summary()` once done. */
export class Explanation implements Iterable<ExplainWindow> {
  private done = false;

  constructor(
    private readonly cursor: ExplainCursor,
    private readonly inputs: readonly TraceFile[],
  ) {}

  private step(mode: 'objects' | 'jsonl' | 'text'): { done: boolean; windows?: ExplainWindow[]; text?: string } {
    try {
      const r = JSON.parse(native.explainNext(this.cursor, BATCH, mode)) as { done: boolean; windows?: ExplainWindow[]; text?: string };
      this.done = r.done;
      return r;
    } catch (e) {
      throw mergeFailure(this.inputs, '', e);
    }
  }

  *[Symbol.iterator](): Iterator<ExplainWindow> {
    while (!this.done) yield* this.step('objects').windows ?? [];
  }

  /** The text report in parts: each window's block, then the summary tables. */
  *text(): Generator<string> {
    yield* this.parts('text');
  }

  /** `--format json` in parts: one JSON object per window and line, its numbers exact (past 2^53 too). */
  *jsonLines(): Generator<string> {
    yield* this.parts('jsonl');
  }

  private *parts(mode: 'text' | 'jsonl'): Generator<string> {
    while (!this.done) {
      const t = this.step(mode).text ?? '';
      if (t.length > 0) yield t;
    }
  }

  /** What the windows add up to (all of them once the iteration is done). */
  summary(): ExplainSummary {
    return JSON.parse(native.explainSummary(this.cursor)) as ExplainSummary;
  }
}

/**
 * Explains the guests' latencies: `inputs` is a file `merge` wrote, or a host and its guests
 * (lined up as `merge` lines them up). Each window yielded is a guest latency with the host's
 * `kvm_exit` -> `kvm_entry` intervals of the vCPU thread that overlap it, its times off its host
 * CPU, the host interrupts meanwhile and the interrupts injected.
 */
export function explain(inputs: TraceFile | readonly TraceFile[], options: ExplainOptions = {}): Explanation {
  const list = Array.isArray(inputs) ? (inputs as readonly TraceFile[]) : [inputs as TraceFile];
  const cursor = cursorFor(list, options);
  try {
    const c = native.explainOpen(
      cursor,
      options.from ?? '',
      options.to ?? '',
      options.match ?? '',
      BigInt(options.threshold ?? 0).toString(),
      options.top === undefined ? null : options.top === 0 ? 2 ** 31 : options.top,
      options.guest ?? '',
      options.pid ?? null,
      options.comm ?? '',
      options.lines ?? false,
    );
    return new Explanation(c, list);
  } catch (e) {
    throw mergeFailure(list, '', e);
  }
}
