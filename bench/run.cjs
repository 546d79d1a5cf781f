#!/usr/bin/env node
// `npm run bench [-- --size 64M] [--runs 3] [--only report,merge,...] [--out FILE] [--no-write]`:
// tracedat against trace-cmd 3.1.6 on the same inputs in the same run, and bench/RESULTS.md (or
// FILE) written from it.
//
// Inputs: bench/gen.mjs's set of SIZE (replayed real pages: a single recording, a TIME_SHIFT
// host+guest pair, a KVM host+guest pair with kvm_write_tsc_offset events; v7 uncompressed and
// zstd), made on first use under bench/data/ (gitignored).
//
// Each case runs trace-cmd, the tracedat CLI (dist/cli.js run as the installed bin runs, through
// its #! line: sh, then node; start-up included, like trace-cmd's)
// and the API (bench/api.mjs in a process of its own: the time of the work alone, measured
// inside it) RUNS times, interleaved (trace-cmd, CLI, API, trace-cmd, ...) so that a change of
// load hits all three alike; each figure is the median of the runs. Wall time from spawn to
// exit, CPU time and peak RSS from /usr/bin/time (-f %U %S %M, the maximum resident set). Stdout
// goes to /dev/null. Ratios are trace-cmd's wall time over tracedat's (above 1: tracedat is
// faster), from the same run: on a loaded machine the absolute times swing, the ratios much less.
//
// Groups (--only): report (text, -F keeping ~1%, --format json when the CLI has it), dump
// (--summary), convert (to v6, v7 zstd, v7 zlib), merge (each pair, --compression none and zstd,
// against trace-cmd report -i host -i guest), explain (when the CLI has it), decode (every
// record's timestamp, id and length through the API, against cat of the same bytes).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
const apiCase = path.join(__dirname, 'api.mjs');
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const sizeText = opt('--size', '64M');
const runs = Number(opt('--runs', '3'));
const only = opt('--only', 'report,dump,convert,merge,explain,decode').split(',');
const dataDir = path.join(__dirname, 'data', `gen-${sizeText}`);
const scratch = path.join(__dirname, 'data', 'out');
/** A regex on every record's task name: about 1% of the records of the set pass. */
const FILTER = '.*: COMM =~ "^kworker"';

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** Runs `cmd args` under /usr/bin/time, stdout to /dev/null; {wall, cpu, rss (KiB), stdout?}. */
function measure(cmd, args, { keepStdout = false } = {}) {
  const timeFile = path.join(scratch, `time-${process.pid}.txt`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', cmd, ...args], { stdio: ['ignore', keepStdout ? 'pipe' : fs.openSync('/dev/null', 'w'), 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (keepStdout) p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
      const [u, s, m] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      resolve({ wall, cpu: u + s, rss: m, stdout });
    });
  });
}

/** An API case: its own time (printed by bench/api.mjs), the process's CPU and RSS. */
async function measureApi(args) {
  const r = await measure(process.execPath, [apiCase, ...args], { keepStdout: true });
  const j = JSON.parse(r.stdout);
  return { ...r, wall: j.seconds, info: j };
}

/** Medians over RUNS interleaved rounds of each of `sides` ({name: () => Promise<measure>}). */
async function rounds(sides, after = () => {}) {
  const got = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [k, f] of Object.entries(sides)) {
      got[k].push(await f());
      after();
    }
  }
  return Object.fromEntries(
    Object.entries(got).map(([k, v]) => [k, { wall: median(v.map((x) => x.wall)), cpu: median(v.map((x) => x.cpu)), rss: median(v.map((x) => x.rss)), info: v[0].info }]),
  );
}

const sizeOf = (files) => files.reduce((a, f) => a + fs.statSync(f).size, 0);
const clean = () => {
  for (const f of fs.readdirSync(scratch)) if (f.startsWith('o-')) fs.unlinkSync(path.join(scratch, f));
};
const out = (name) => path.join(scratch, `o-${name}.dat`);

/** Whether the CLI has a subcommand (`tracedat CMD --help` exits 0). */
const hasCommand = (cmd) => spawnSync(process.execPath, [cli, cmd, '--help'], { stdio: 'ignore' }).status === 0;

const rows = [];
/** Records a case: `base` the reference side, the others compared with it. */
function row(group, name, inputs, events, result, base, note = '') {
  const bytes = sizeOf(inputs);
  const r = { group, name, inputs: inputs.map((f) => path.basename(f)), bytes, events, base, sides: result, note };
  rows.push(r);
  const fmt = (k) => {
    const s = result[k];
    const ratio = k === base ? '' : ` ${(result[base].wall / s.wall).toFixed(2)}x`;
    return `${k} ${s.wall.toFixed(2)}s ${(s.rss / 1024).toFixed(0)}MiB${ratio}`;
  };
  console.log(`${name.padEnd(44)} ${Object.keys(result).map(fmt).join(' | ')}`);
}

async function main() {
  fs.mkdirSync(scratch, { recursive: true });
  const { generate } = await import('./gen.mjs');
  const { parseSize } = await import('./gen.mjs');
  const set = await generate(parseSize(sizeText), dataDir);
  const single = `${set.single}-none.dat`;
  const { open } = await import('../dist/index.js');
  // The record count, and the decode row's checksum as the record iterator gives it.
  const count = async (files) => {
    let n = 0;
    let sum = 0n;
    let ids = 0;
    let len = 0;
    for (const f of files) {
      const t = await open(f);
      for (let b = 0; b < t.metadata.buffers.length; b++) {
        for (const r of t.records(b, { batch: 65536 })) {
          n++;
          sum += r.timestamp;
          ids += r.eventId;
          len += r.data.length;
        }
      }
    }
    return { n, check: `${sum}:${ids}:${len}` };
  };
  const { n: events, check } = await count([single]);
  const load0 = os.loadavg();
  const t0 = Date.now();
  const tc = (args) => () => measure('trace-cmd', args);
  // What the kernel does for the bin's `#!/bin/sh` (npm links and marks it executable on install).
  const ours = (args) => () => measure('/bin/sh', [cli, ...args]);
  const api = (args) => () => measureApi(args);

  if (only.includes('report')) {
    const r = await rounds({ 'trace-cmd': tc(['report', single]), 'tracedat CLI': ours(['report', single]), 'tracedat API': api(['report', '-', single]) });
    row('report', 'report (text)', [single], events, r, 'trace-cmd');
    const f = await rounds({ 'trace-cmd': tc(['report', '-F', FILTER, single]), 'tracedat CLI': ours(['report', '-F', FILTER, single]), 'tracedat API': api(['report', FILTER, single]) });
    row('report', `report -F '${FILTER}' (~1% kept)`, [single], events, f, 'trace-cmd');
    const help = spawnSync(process.execPath, [cli, 'report', '--help'], { encoding: 'utf8' });
    if (help.status === 0 && /--format\b/.test(help.stdout + help.stderr)) {
      const j = await rounds({ 'trace-cmd': tc(['report', single]), 'tracedat CLI': ours(['report', '--format', 'json', single]) });
      row('report', 'report --format json (vs trace-cmd text)', [single], events, j, 'trace-cmd');
    } else console.log('report --format json: not in this build (report --help has no --format), skipped');
  }
  if (only.includes('dump')) {
    const r = await rounds({ 'trace-cmd': tc(['dump', '--summary', single]), 'tracedat CLI': ours(['dump', '--summary', single]) });
    row('dump', 'dump --summary', [single], events, r, 'trace-cmd');
  }
  if (only.includes('convert')) {
    const targets = [
      ['v6', ['--file-version', '6'], ['6', 'none']],
      ['v7 zstd', ['--file-version', '7', '--compression', 'zstd'], ['7', 'zstd']],
      ['v7 zlib', ['--file-version', '7', '--compression', 'zlib'], ['7', 'zlib']],
    ];
    for (const [name, flags, apiArgs] of targets) {
      const slug = name.replace(' ', '-');
      // Debian's trace-cmd 3.1.6 has no zlib (trace-cmd list -c): that row has no trace-cmd side.
      const tcHas = name !== 'v7 zlib' || /zlib/.test(spawnSync('trace-cmd', ['list', '-c'], { encoding: 'utf8' }).stdout);
      const sides = {
        ...(tcHas ? { 'trace-cmd': tc(['convert', '-i', single, '-o', out(`tc-${slug}`), ...flags]) } : {}),
        'tracedat CLI': ours(['convert', '-i', single, '-o', out(`cli-${slug}`), ...flags]),
        'tracedat API': api(['convert', single, out(`api-${slug}`), ...apiArgs]),
      };
      // trace-cmd failing on an input (3.1.6 could not write a v6 copy of the 2 GiB file: "error
      // writing ...: Invalid argument") leaves that row without its side, said in a note.
      let [r, base, note] = [undefined, tcHas ? 'trace-cmd' : 'tracedat CLI', tcHas ? '' : 'trace-cmd 3.1.6 here has no zlib: no trace-cmd side'];
      try {
        r = await rounds(sides, clean);
      } catch (e) {
        if (!tcHas || !String(e.message).startsWith('trace-cmd ')) throw e;
        delete sides['trace-cmd'];
        clean();
        [r, base, note] = [await rounds(sides, clean), 'tracedat CLI', `trace-cmd failed: ${e.message.replace(/^.*?: exit/, 'exit')}`];
      }
      row('convert', `convert to ${name}`, [single], events, r, base, note);
    }
  }
  if (only.includes('merge')) {
    for (const [pair, label] of [
      [set.ts, 'TIME_SHIFT pair'],
      [set.kvm, 'KVM pair, kvm_write_tsc_offset'],
    ]) {
      const files = pair.map((b) => `${b}-none.dat`);
      const { n } = await count(files);
      for (const compression of ['none', 'zstd']) {
        const r = await rounds(
          {
            'trace-cmd': tc(['report', '-i', files[0], '-i', files[1]]),
            'tracedat CLI': ours(['merge', '-i', files[0], '-i', files[1], '-o', out('cli-merge'), '--compression', compression]),
            'tracedat API': api(['merge', compression, out('api-merge'), ...files]),
          },
          clean,
        );
        row('merge', `merge --compression ${compression} (${label})`, files, n, r, 'trace-cmd', 'trace-cmd side: report -i host -i guest > /dev/null');
      }
    }
  }
  if (only.includes('explain')) {
    if (hasCommand('explain')) {
      // The KVM pair: its host has the vCPU threads' kvm_exit/kvm_entry, its guest the wakeups.
      const files = set.kvm.map((b) => `${b}-none.dat`);
      const { n } = await count(files);
      const r = await rounds({ 'trace-cmd': tc(['report', '-i', files[0], '-i', files[1]]), 'tracedat CLI': ours(['explain', files[0], files[1]]) });
      row('explain', 'explain (KVM pair, vs trace-cmd report -i host -i guest)', files, n, r, 'trace-cmd', 'trace-cmd side: the merged listing a person would read to find the same answer');
    } else console.log('explain: not in this build (tracedat explain --help fails), skipped');
  }
  if (only.includes('decode')) {
    const r = await rounds({ cat: () => measure('cat', [single]), 'tracedat API': api(['decode', single]) });
    const got = r['tracedat API'].info;
    if (got.records !== events || got.check !== check) throw new Error(`decode: ${got.records} records, check ${got.check}; the record iterator gives ${events}, ${check}`);
    row('decode', 'decode only (API) vs cat', [single], events, r, 'cat');
  }
  clean();
  const elapsed = (Date.now() - t0) / 1000;
  if (!argv.includes('--no-write')) {
    const file = opt('--out', path.join(__dirname, 'RESULTS.md'));
    fs.writeFileSync(file, results(load0, os.loadavg(), elapsed));
    console.log(`\n${path.relative(root, file)} written (${elapsed.toFixed(0)} s)`);
  }
}

function machine() {
  const cpu = os.cpus();
  const tcv = spawnSync('trace-cmd', ['--version'], { encoding: 'utf8' });
  const tcVersion = /version (\S+)/.exec(tcv.stdout + tcv.stderr)?.[1] ?? '?';
  return `${cpu.length} × ${cpu[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${os.release()}, node ${process.version}, trace-cmd ${tcVersion}`;
}

const mib = (kb) => (kb / 1024).toFixed(0);
function results(load0, load1, elapsed) {
  const lines = [];
  lines.push('# Benchmark results', '');
  lines.push(`Written by \`npm run bench -- ${argv.length ? argv.join(' ') : `--size ${sizeText}`}\` (bench/run.cjs) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${elapsed.toFixed(0)} s.`);
  lines.push('', `Machine: ${machine()}. Load average at start ${load0.map((x) => x.toFixed(1)).join(' ')}, at end ${load1.map((x) => x.toFixed(1)).join(' ')}.`);
  lines.push('', 'Absolute times swing with the machine\'s load (the load averages above). Every side of a case ran in the same rounds, interleaved, and each figure is the median of', `${runs} runs, so the **ratios** (trace-cmd's wall time over tracedat's, above 1: tracedat is faster) are the figures to read; rerun on a quiet machine for absolute speed: \`npm run bench -- --size 2G\` for the 2 GB figures.`);
  lines.push('', 'Inputs (bench/gen.mjs): the pages of real recordings replayed with monotonic times; `single` is sched-irq-sys (sched, irq, syscalls, timer on 2 CPUs), the pairs are a TIME_SHIFT host+guest and the bundled KVM host+guest (guest lined up by the host\'s kvm_write_tsc_offset events).');
  lines.push('"CLI" is a whole `tracedat` process, dist/cli.js run through its #! line as the installed bin is (start-up included, like trace-cmd\'s); "API" is the library in a process of its own, timed around the work (open included, node start-up not). RSS is the peak resident set of the process (`/usr/bin/time` %M).');
  lines.push('', '## Summary (for the README)', '');
  lines.push('| operation | input | trace-cmd | tracedat CLI | ratio | tracedat peak RSS |', '|---|---|---|---|---|---|');
  for (const r of rows) {
    const base = r.sides[r.base];
    const c = r.sides['tracedat CLI'] ?? r.sides['tracedat API'];
    const ratio = r.base === 'tracedat CLI' ? 'n/a' : `**${(base.wall / c.wall).toFixed(1)}x**`;
    const baseText = r.base === 'tracedat CLI' ? 'n/a' : `${r.base === 'cat' ? 'cat ' : ''}${base.wall.toFixed(2)} s`;
    const cText = `${r.sides['tracedat CLI'] ? '' : 'API '}${c.wall.toFixed(2)} s`;
    lines.push(`| ${r.name} | ${(r.bytes / 1e6).toFixed(0)} MB | ${baseText} | ${cText} | ${ratio} | ${mib(c.rss)} MiB |`);
  }
  lines.push('', '## Every side', '');
  lines.push('| operation | side | wall s | CPU s | ratio | events/s | MB/s | peak RSS |', '|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    for (const [k, s] of Object.entries(r.sides)) {
      const ratio = k === r.base ? '1' : (r.sides[r.base].wall / s.wall).toFixed(2) + 'x';
      lines.push(`| ${r.name} | ${k} | ${s.wall.toFixed(2)} | ${s.cpu.toFixed(2)} | ${ratio} | ${(r.events / s.wall / 1e6).toFixed(2)} M | ${(r.bytes / 1e6 / s.wall).toFixed(0)} | ${mib(s.rss)} MiB |`);
    }
  }
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}.`);
  lines.push('', '## Notes', '', `- Inputs: ${[...new Set(rows.flatMap((r) => r.inputs))].join(', ')}; single: ${rows[0] ? rows.find((r) => r.inputs.length === 1)?.events : '?'} events.`, ...[...new Set(notes)]);
  lines.push('- trace-cmd 3.1.6 does not read kvm_write_tsc_offset events: on the KVM pair its `report -i host -i guest` prints the guest on its own clock; it is the reading and formatting work that is compared.');
  lines.push('- Slots for `report --format json` and `explain` run when the CLI has them (a `--format` in `report --help`; `explain --help` exits 0), else they are left out of the table.');
  return `${lines.join('\n')}\n`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
