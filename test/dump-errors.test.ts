// Damaged trace.dat files are normal input: tracedat must name the damage in one line
// (`tracedat: FILE: SECTION, offset N: EXPECTED`, exit 2), or, where the damage is in data dump
// does not read, print what trace-cmd prints and exit 0, and never crash, hang or blow up.
//
// Damaged copies of four real fixtures (v6, v7 zstd, v7 uncompressed, big-endian v7 zstd) are
// made here: truncated at every boundary of their layout, with size and count fields set to
// 0xFFFFFFFF or twice the file size, a loop in the v7 options chain, a wrong magic. Every
// case runs in-process in three modes (--summary, --all, -v); trace-cmd's `dump --all` on the
// same file (for all but the inner truncation offsets that change no field, see TRACE_CMD_AT)
// must print the same where we succeed, or more where we fail: what we printed is a prefix of
// what it printed before it died or went on. One case of each kind also runs through the CLI,
// whose stderr is checked word for word.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  DAMAGE_MODES,
  ERROR_LINE,
  Layout,
  REAL,
  ROOT,
  bufferCpuCountAt,
  dumpInProcess,
  firstDifference,
  initialHeaderMarks,
  oneErrorLine,
  sectionsByTraceCmd,
  traceCmd,
  tracedat,
  v6Layout,
  v7Options,
  type DamageMode,
  type Section,
} from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tracedat-damage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How a damaged file must come out, per mode. */
type Outcome = Record<DamageMode, 0 | 2>;
const FAILS: Outcome = { '--summary': 2, '--all': 2, '-v': 2 };
/** Damage in ring-buffer data: dump (metadata only, like trace-cmd's) succeeds, -v does not. */
const DATA_ONLY: Outcome = { '--summary': 0, '--all': 0, '-v': 2 };

interface Damage {
  name: string;
  bytes: () => Buffer;
  outcome: Outcome;
  /** trace-cmd loops forever on a looping options chain: not run there. */
  traceCmd: boolean;
}

const HUGE = 0xffffffff;

interface Fixture {
  key: string;
  path: string;
  layout: Layout;
  sections: Section[];
}

async function fixture(key: string, file: string): Promise<Fixture> {
  const path = `${REAL}/${file}`;
  const layout = new Layout(readFileSync(join(ROOT, path)));
  const v7 = initialHeaderMarks(layout).length > 6;
  return { key, path, layout, sections: v7 ? await sectionsByTraceCmd(path) : [] };
}

const [v6, v7zstd, v7none, be] = await Promise.all([
  fixture('v6', 'sched-irq-sys-v6.dat'),
  fixture('v7-zstd', 'sched-irq-sys-v7-zstd.dat'),
  fixture('v7-none', 'sched-irq-sys-v7-none.dat'),
  fixture('v7-zstd-be', 's390x-be-v7-zstd.dat'),
]);

function truncated(f: Fixture, at: number, where: string, runTraceCmd = true): Damage {
  return { name: `truncated at ${at} (${where})`, bytes: () => f.layout.data.subarray(0, at), outcome: FAILS, traceCmd: runTraceCmd };
}

/**
 * Inside a section, trace-cmd runs on a truncation at each field of the header and of a
 * compressed block's header, and at the end of the 64 bytes (a process per offset would make
 * this suite take minutes); tracedat runs on every offset.
 */
const TRACE_CMD_AT = new Set([0, 1, 2, 4, 8, 15, 16, 20, 24, 64]);

function patched(name: string, bytes: () => Buffer, outcome: Outcome = FAILS, runTraceCmd = true): Damage {
  return { name, bytes, outcome, traceCmd: runTraceCmd };
}

/** Truncations at every field of the initial header, every section header and the 64 bytes after it. */
function v7Truncations(f: Fixture): Damage[] {
  const out = initialHeaderMarks(f.layout).map((m) => truncated(f, m.offset, m.name));
  for (const s of f.sections) {
    for (let k = 0; k <= 64 && s.offset + k < f.layout.data.length; k++) {
      out.push(truncated(f, s.offset + k, `section ${s.id} "${s.description}" @ ${s.offset} + ${k}`, TRACE_CMD_AT.has(k)));
    }
  }
  out.push(truncated(f, f.layout.data.length - 1, 'one byte short'));
  return out;
}

function v7SizeFields(f: Fixture): Damage[] {
  const l = f.layout;
  const out: Damage[] = [];
  for (const s of f.sections) {
    for (const v of [HUGE, 2 * l.data.length]) {
      out.push(patched(`section ${s.id} "${s.description}" @ ${s.offset}: size ${v}`, () => l.patch(s.offset + 8, 8, v)));
    }
  }
  // The kallsyms size inside an uncompressed kallsyms section (a compressed one would need
  // recompressing).
  for (const s of f.sections.filter((s) => s.id === 19 && (l.u16(s.offset + 2) & 1) === 0)) {
    for (const v of [HUGE, 2 * l.data.length]) {
      out.push(patched(`kallsyms section @ ${s.offset}: kallsyms size ${v}`, () => l.patch(s.offset + 16, 4, v)));
    }
  }
  const optionSections = f.sections.filter((s) => s.id === 0);
  for (const o of v7Options(l, optionSections[0]!.offset)) {
    for (const v of [HUGE, 2 * l.data.length]) {
      out.push(patched(`option ${o.id} @ ${o.offset}: size ${v}`, () => l.patch(o.offset + 2, 4, v)));
    }
  }
  for (const s of optionSections) {
    for (const o of v7Options(l, s.offset).filter((o) => o.id === 3)) {
      const count = bufferCpuCountAt(l, o.offset);
      for (const v of [HUGE, 2 * l.data.length]) {
        out.push(patched(`BUFFER option @ ${o.offset}: CPU count ${v}`, () => l.patch(count, 4, v)));
      }
      // CPU 0's data size: dump prints it as trace-cmd does; -v finds the data outside the file.
      out.push(patched(`BUFFER option @ ${o.offset}: CPU 0 data size ${2 * l.data.length}`, () => l.patch(count + 4 + 4 + 8, 8, 2 * l.data.length), DATA_ONLY));
      // A compressed buffer section: CPU data is a chunk count, then chunks (size, size, data).
      if (l.u16(l.u64(o.offset + 6) + 2) & 1) {
        const data = l.u64(count + 4 + 4);
        for (const v of [HUGE, 2 * l.data.length]) {
          out.push(patched(`CPU data @ ${data}: chunk count ${v}`, () => l.patch(data, 4, v), DATA_ONLY));
          out.push(patched(`CPU data @ ${data}: first chunk size ${v}`, () => l.patch(data + 4, 4, v), DATA_ONLY));
        }
      }
    }
  }
  // The last DONE points back at the first options section, or at its own.
  const last = optionSections.at(-1)!;
  const done = v7Options(l, last.offset).at(-1)!;
  for (const target of [optionSections[0]!, last]) {
    out.push(patched(`options chain loops from ${last.offset} back to ${target.offset}`, () => l.patch(done.offset + 6, 8, target.offset), FAILS, false));
  }
  return out;
}

function v6Damage(f: Fixture): Damage[] {
  const l = f.layout;
  const v = v6Layout(l);
  const out = v.marks.map((m) => truncated(f, m.offset, m.name));
  out.push(truncated(f, l.data.length - 1, 'one byte short'));
  const kallsyms = v.marks.find((m) => m.name === 'kallsyms')!.offset;
  const table = v.marks.find((m) => m.name === 'flyrecord table')!.offset;
  for (const x of [HUGE, 2 * l.data.length]) {
    out.push(patched(`kallsyms size ${x}`, () => l.patch(kallsyms, 4, x)));
    out.push(patched(`CPU 0 data size ${x}`, () => l.patch(table + 8, 8, x)));
    for (const o of v.options) out.push(patched(`option ${o.id} @ ${o.offset}: size ${x}`, () => l.patch(o.offset + 2, 4, x)));
  }
  return out;
}

function commonDamage(f: Fixture): Damage[] {
  const l = f.layout;
  const version = l.data.indexOf(0, 10);
  return [
    patched('wrong magic', () => Buffer.concat([Buffer.from([0x17, 0x08, 0x45]), l.data.subarray(3)])),
    patched('"tracing" misspelt', () => Buffer.concat([l.data.subarray(0, 3), Buffer.from('trazing'), l.data.subarray(10)])),
    patched('file version 8', () => Buffer.concat([l.data.subarray(0, 10), Buffer.from('8'), l.data.subarray(version)])),
    patched('empty file', () => Buffer.alloc(0)),
  ];
}

/** trace-cmd reads these small files in milliseconds; one still running after this is looping. */
const TRACE_CMD_LOOP_MS = 5_000;

/** Peak memory of this worker may grow by this much over all the damaged files together. */
const MEMORY_BUDGET_KB = 512 * 1024;
const baselineKB = process.resourceUsage().maxRSS;

async function check(f: Fixture, d: Damage, id: string): Promise<void> {
  const path = join(dir, `${f.key}-${id}.dat`);
  writeFileSync(path, d.bytes());
  try {
    for (const mode of DAMAGE_MODES) {
      const r = await dumpInProcess(path, mode);
      expect(r.ms, `${mode} took ${r.ms} ms`).toBeLessThan(5000);
      expect(process.resourceUsage().maxRSS - baselineKB).toBeLessThan(MEMORY_BUDGET_KB);
      expect({ mode, status: r.status, stderr: r.stderr }).toMatchObject({ mode, status: d.outcome[mode] });
      if (r.status === 2) {
        const line = oneErrorLine(r.stderr);
        expect(line).toMatch(ERROR_LINE);
        expect(line.startsWith(`tracedat: ${path}: `)).toBe(true);
      } else {
        expect(r.stderr).toBe('');
      }
      if (mode === '--all' && d.traceCmd) {
        const theirs = await traceCmd(['--all', path], { timeoutMs: TRACE_CMD_LOOP_MS });
        if (theirs.signal !== null) {
          // trace-cmd 3.1.6 at times loops on a truncated strings section (CI saw it on two of
          // them; the same files pass alone): only what it printed before it was stopped can be
          // compared, and the damage must be one we report.
          expect(r.status, `trace-cmd looped (${theirs.signal}) on damage we read cleanly`).toBe(2);
          const n = Math.min(r.stdout.length, theirs.stdout.length);
          expect(firstDifference(r.stdout.subarray(0, n), theirs.stdout.subarray(0, n))).toBe('');
        } else if (r.status === 0) {
          expect(theirs.status).toBe(0);
          expect(firstDifference(r.stdout, theirs.stdout)).toBe('');
        } else {
          // Everything we printed, trace-cmd printed too, before dying or going on.
          expect(firstDifference(r.stdout, theirs.stdout.subarray(0, r.stdout.length))).toBe('');
        }
      }
    }
  } finally {
    rmSync(path, { force: true });
  }
}

const suites: [Fixture, Damage[]][] = [
  [v6, [...v6Damage(v6), ...commonDamage(v6)]],
  [v7zstd, [...v7Truncations(v7zstd), ...v7SizeFields(v7zstd), ...commonDamage(v7zstd)]],
  [v7none, [...v7Truncations(v7none), ...v7SizeFields(v7none)]],
  [be, [...v7Truncations(be), ...v7SizeFields(be)]],
];

for (const [f, damages] of suites) {
  describe.concurrent(`${f.path} damaged`, () => {
    test.each(damages.map((d, i) => [d.name, d, i] as const))('%s', async (_name, d, i) => {
      await check(f, d, String(i));
    });
  });
}

test('every kind of damage above was generated', () => {
  const names = suites.flatMap(([f, ds]) => ds.map((d) => `${f.key}: ${d.name}`));
  for (const kind of [/v6: truncated at .* \(kallsyms\)/, /v6: truncated at .* \(CPU 1 data, middle\)/, /v7-zstd: truncated at .* \+ 64\)/, /v7-zstd-be: .*"strings" @ \d+ \+ 0/, /v7-none: BUFFER option .* CPU count/, /v7-none: kallsyms section .* kallsyms size/, /v7-zstd: CPU data .* first chunk size/, /loops from/, /v6: option 4 .* size/]) {
    expect(names.some((n) => kind.test(n)), String(kind)).toBe(true);
  }
  expect(names.length).toBeGreaterThan(2000);
});

/** Offset of the first section with id `id` in a v7 fixture. */
function sectionAt(f: Fixture, id: number, nth = 0): number {
  return f.sections.filter((s) => s.id === id)[nth]!.offset;
}

interface Representative {
  name: string;
  bytes: () => Buffer;
  flag: DamageMode | '' | '--kallsyms' | '--sections' | '--options' | '--flyrecord';
  status: 0 | 2;
  /** The stderr line after `tracedat: PATH: `. */
  error: string;
}

function representatives(): Representative[] {
  const z = v7zstd.layout;
  const len = z.data.length;
  const opt0 = sectionAt(v7zstd, 0);
  const lastOpt = sectionAt(v7zstd, 0, 1);
  const buffer = sectionAt(v7zstd, 3);
  const count = bufferCpuCountAt(z, v7Options(z, lastOpt)[0]!.offset);
  const data = z.u64(count + 8);
  const v6l = v6Layout(v6.layout);
  const kallsyms = v6l.marks.find((m) => m.name === 'kallsyms')!.offset;
  const cpu1 = v6l.cpus[1]!;
  const cut = cpu1.offset + cpu1.size / 2;
  const none = v7none.layout;
  const noneKallsyms = sectionAt(v7none, 19);
  const noneKallsymsSize = none.u32(noneKallsyms + 16);
  return [
    {
      name: 'v7 truncated at a section header',
      bytes: () => z.data.subarray(0, opt0),
      flag: '',
      status: 2,
      error: `options section @ ${opt0}, offset ${opt0}: the section id (2 bytes, 0 left)`,
    },
    {
      name: 'v7 truncated inside a metadata section',
      bytes: () => z.data.subarray(0, 37 + 20),
      flag: '--all',
      status: 2,
      error: `options section @ ${opt0}, offset ${opt0}: a section header inside the file, but the file ends at 57`,
    },
    {
      name: 'v7 cut just before its strings section',
      bytes: () => z.data.subarray(0, sectionAt(v7zstd, 15)),
      flag: '--sections',
      status: 2,
      error: 'section header, offset 37: a description at offset 0 of the strings, but the file has no strings section',
    },
    {
      name: 'v6 truncated inside the kallsyms',
      bytes: () => v6.layout.data.subarray(0, kallsyms + 4 + 10),
      flag: '--kallsyms',
      status: 2,
      error: `v6 metadata, offset ${kallsyms + 4}: the kallsyms (${v6l.kallsymsSize} bytes, 10 left)`,
    },
    {
      name: 'v6 truncated inside the CPU data (trace-cmd dump prints the summary; its reader, like ours, refuses the file)',
      bytes: () => v6.layout.data.subarray(0, cut),
      flag: '--summary',
      status: 2,
      error: `flyrecord CPU 1, offset ${cpu1.offset}: ${cpu1.size} bytes of CPU data from offset ${cpu1.offset}, but the file ends at ${cut}`,
    },
    {
      name: 'big-endian v7: a metadata section size of 0xFFFFFFFF',
      bytes: () => be.layout.patch(37 + 8, 8, HUGE),
      flag: '',
      status: 2,
      error: `headers section @ 37, offset 37: 4294967295 bytes of section content from offset 53, but the file ends at ${be.layout.data.length}`,
    },
    {
      name: 'v7: the buffer section size runs past the end (trace-cmd goes on regardless)',
      bytes: () => z.patch(buffer + 8, 8, 2 * len),
      flag: '--sections',
      status: 2,
      error: `section header, offset ${buffer}: a section inside the file, found section 3 declaring ${2 * len} bytes of content from offset ${buffer + 16}, but the file ends at ${len}`,
    },
    {
      name: 'v7: an option size of 0xFFFFFFFF',
      bytes: () => z.patch(opt0 + 16 + 2, 4, HUGE),
      flag: '--options',
      status: 2,
      error: `options section @ ${opt0}, offset ${opt0 + 16 + 6}: the option payload (4294967295 bytes, ${z.u64(opt0 + 8) - 6} left)`,
    },
    {
      name: 'v7 uncompressed: a kallsyms size of twice the file size',
      bytes: () => none.patch(noneKallsyms + 16, 4, 2 * none.data.length),
      flag: '',
      status: 2,
      error: `kallsyms section @ ${noneKallsyms}, offset ${noneKallsyms + 20}: the kallsyms (${2 * none.data.length} bytes, ${noneKallsymsSize} left)`,
    },
    {
      name: 'v7: a BUFFER option CPU count of 0xFFFFFFFF',
      bytes: () => z.patch(count, 4, HUGE),
      flag: '--flyrecord',
      status: 2,
      error: `BUFFER option, offset ${count + 4}: 4294967295 CPU entries of 20 bytes, only 40 bytes left`,
    },
    {
      name: 'v7: a chunk size of 0xFFFFFFFF, dump -v',
      bytes: () => z.patch(data + 4, 4, HUGE),
      flag: '-v',
      status: 2,
      error: `buffer "" CPU 0 data, offset ${data + 12}: compressed block data (4294967295 bytes, ${len - data - 12} left)`,
    },
    {
      name: 'v7: the options chain loops back to its first section',
      bytes: () => z.patch(v7Options(z, lastOpt).at(-1)!.offset + 6, 8, opt0),
      flag: '--all',
      status: 2,
      error: `options chain, offset ${opt0}: a new options section (the chain loops back here)`,
    },
    {
      name: 'a wrong magic',
      bytes: () => Buffer.concat([Buffer.from('PK\x03'), v6.layout.data.subarray(3)]),
      flag: '',
      status: 2,
      error: 'initial header, offset 0: the trace.dat magic 17 08 44: this is not a trace-cmd file',
    },
    {
      name: 'file version 8',
      bytes: () => Buffer.concat([z.data.subarray(0, 10), Buffer.from('8'), z.data.subarray(11)]),
      flag: '-v',
      status: 2,
      error: 'initial header, offset 10: file version 6 or 7, found 8',
    },
  ];
}

describe.concurrent('the CLI on one damaged file of each kind', () => {
  test.each(representatives().map((r, i) => [r.name, r, i] as const))('%s', async (_name, r, i) => {
    const path = join(dir, `cli-${i}.dat`);
    writeFileSync(path, r.bytes());
    const args = r.flag === '' ? [path] : [r.flag, path];
    const ours = await tracedat(args, { timeoutMs: 10_000 });
    expect(ours.signal).toBeNull();
    expect(ours.ms).toBeLessThan(5000);
    expect(ours.stderr).toBe(`tracedat: ${path}: ${r.error}\n`);
    expect(ours.status).toBe(r.status);
    // The CLI prints what the in-process runs used for all the cases above compute.
    const mode = r.flag === '' ? '--summary' : r.flag;
    if (mode === '--summary' || mode === '--all' || mode === '-v') {
      const inProcess = await dumpInProcess(path, mode);
      expect(firstDifference(ours.stdout, inProcess.stdout)).toBe('');
      expect(inProcess.stderr).toBe(ours.stderr);
    }
    // What we printed, trace-cmd printed too (it loops forever on a looping chain).
    if (!r.name.includes('loops')) {
      const theirs = await traceCmd(args, { timeoutMs: 10_000 });
      expect(firstDifference(ours.stdout, theirs.stdout.subarray(0, ours.stdout.length))).toBe('');
    }
    rmSync(path);
  });
});
