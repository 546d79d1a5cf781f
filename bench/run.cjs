#!/usr/bin/env node
// `npm run bench [convert|report]`: tracedat against trace-cmd, in the same run.
//  - convert: a large uncompressed v7 input to v6, v7 zstd and v7 none;
//  - report: `report` of a 20 MB v7 input (the same replayed pages), the same with a `-F` filter
//    keeping under 1% of its records, and `report -i host -i guest` of the KVM pair in
//    ../shared/fixtures/public, output to /dev/null.
// Prints each tool's mean time and the ratio trace-cmd / tracedat (above 1: tracedat is
// faster), for the API (in-process, awaited) and for the CLI (a process, node's start-up
// included, like trace-cmd's).
//
// Wall time is what benchmark.js measures; on a shared machine it swings with the load, so the
// CPU time each side spends (user + system, median of 5 runs; the CLI's includes node's
// start-up) is printed too.
//
// The input, bench/data/big.dat (gitignored), is made on first run: the ring-buffer pages of a
// real recording (shared/fixtures/real/sched-irq-sys-v6.dat) replayed end to end with their
// page timestamps shifted, about 280 MB, as v6, then converted to v7 uncompressed by trace-cmd.
// Nothing touches tracefs. BENCH_MB sets another size; BENCH_MAX_TIME the seconds per case.
'use strict';
const Benchmark = require('benchmark');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const data = path.join(__dirname, 'data');
const big = path.join(data, 'big.dat');
const mid = path.join(data, 'mid.dat');
const publicDir = path.join(root, '..', 'shared', 'fixtures', 'public');
const host = path.join(publicDir, 'Masterarbeit__documentation__trace-cmd__analysis__test__trace.dat');
const guest = path.join(publicDir, 'Masterarbeit__documentation__trace-cmd__analysis__test__trace-Salamander4.dat');
const source = path.join(root, '..', 'shared', 'fixtures', 'real', 'sched-irq-sys-v6.dat');
const cli = path.join(root, 'dist', 'cli.js');
const targetMB = Number(process.env.BENCH_MB ?? 280);
const maxTime = Number(process.env.BENCH_MAX_TIME ?? 4);

/** Writes `dest`, a v7 file: `source`'s metadata, then its pages repeated until about `mb` MB. */
async function makeInput(dest, mb) {
  const { open } = await import('../dist/index.js');
  const t = await open(source);
  const bytes = fs.readFileSync(source);
  const cpus = t.metadata.buffers[0].cpus;
  // v6: u32 CPU count, "options  \0" ..., "flyrecord\0", count x {offset, size}, clock trailer.
  const ncpu = bytes.readUInt32LE(bytes.indexOf('options  \0') - 4);
  const tag = bytes.indexOf('flyrecord\0');
  const table = tag + 10;
  const trailerLen = Number(bytes.readBigUInt64LE(table + 16 * ncpu));
  const headEnd = table + 16 * ncpu + 8 + trailerLen;
  const pageSize = t.metadata.pageSize;
  // Shift each replay past the last page time of the one before.
  let span = 0n;
  for (const c of cpus) {
    for (let off = c.offset; off < c.offset + c.size; off += pageSize) {
      const ts = bytes.readBigUInt64LE(off);
      if (ts > span) span = ts;
    }
  }
  const repeats = Math.max(1, Math.round((mb * 1e6) / cpus.reduce((a, c) => a + c.size, 0)));
  const v6 = `${dest}.v6`;
  const fd = fs.openSync(v6, 'w');
  const head = Buffer.from(bytes.subarray(0, headEnd));
  let pos = Math.ceil(headEnd / pageSize) * pageSize;
  for (const c of cpus) {
    head.writeBigUInt64LE(BigInt(pos), table + 16 * c.cpu);
    head.writeBigUInt64LE(BigInt(c.size * repeats), table + 16 * c.cpu + 8);
    pos += c.size * repeats;
  }
  fs.writeSync(fd, head);
  fs.writeSync(fd, Buffer.alloc(Math.ceil(headEnd / pageSize) * pageSize - headEnd));
  for (const c of cpus) {
    const pages = Buffer.from(bytes.subarray(c.offset, c.offset + c.size));
    for (let k = 0; k < repeats; k++) {
      if (k > 0) {
        for (let off = 0; off < pages.length; off += pageSize) {
          pages.writeBigUInt64LE(pages.readBigUInt64LE(off) + span, off);
        }
      }
      fs.writeSync(fd, pages);
    }
  }
  fs.closeSync(fd);
  execFileSync('trace-cmd', ['convert', '-i', v6, '-o', dest, '--compression', 'none'], { stdio: 'ignore' });
  fs.unlinkSync(v6);
}

/** CPU seconds (user + system) of a command, from /usr/bin/time; its stdout is discarded. */
function cpuOf(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return u + s;
}

async function cpuOfApi(fn) {
  const before = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1e6;
}

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** Runs a command to completion, its stdout to /dev/null. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}`))));
  });
}

/** Runs `cases` ([name, () => Promise]) in one benchmark.js suite; their mean times by name. */
async function suite(title, cases) {
  const s = new Benchmark.Suite(title);
  for (const [name, fn] of cases) {
    s.add(name, { defer: true, minSamples: 5, maxTime, fn: (d) => fn().then(() => d.resolve(), (e) => { console.error(e); process.exit(1); }) });
  }
  await new Promise((resolve) => s.on('complete', resolve).run({ async: true }));
  console.log(`\n${title}`);
  const runs = s.map((b) => b);
  for (const b of runs) console.log(`  ${b.name.padEnd(24)} ${(b.stats.mean * 1000).toFixed(0).padStart(6)} ms ±${b.stats.rme.toFixed(0)}%`);
  return Object.fromEntries(runs.map((b) => [b.name, b.stats.mean]));
}

async function ensure(file, mb) {
  fs.mkdirSync(data, { recursive: true });
  if (!fs.existsSync(file)) {
    process.stderr.write(`bench: making ${path.relative(root, file)} (~${mb} MB of replayed pages) ...\n`);
    await makeInput(file, mb);
  }
}

/** report: trace-cmd report against tracedat's API (chunks counted, not kept) and CLI. */
async function reportBench() {
  await ensure(mid, 20);
  const api = await import('../dist/index.js');
  const drain = async (files, filters) => {
    const traces = await Promise.all(files.map((f) => api.open(f)));
    let n = 0;
    for (const c of api.reportChunks(traces, { chunk: 4 << 20, filters })) n += c.length;
    return n;
  };
  // A regex on every record's task name: 0.75% of the records pass.
  const filter = '.*: COMM =~ "^kworker/0" && CPU == 0';
  const results = [];
  const cases = [
    [`report ${path.relative(root, mid)}`, [mid], []],
    [`report -F '${filter}' (${path.relative(root, mid)})`, [mid], [filter]],
    ['report -i host -i guest (KVM pair, zlib)', [host, guest], []],
  ];
  for (const [title, files, filters] of cases) {
    const args = [...filters.flatMap((f) => ['-F', f]), ...(files.length === 1 ? files : files.flatMap((f) => ['-i', f]))];
    // Debian's trace-cmd reads no zlib: it reads zstd copies of the pair (tracedat convert; report equal, see test/report-merge.test.ts).
    let tcArgs = args;
    if (files.length > 1) {
      const copies = files.map((f, i) => path.join(data, `pair-${i}.dat`));
      for (const [i, f] of files.entries()) if (!fs.existsSync(copies[i])) await (await api.open(f)).convert(copies[i], { compression: 'zstd', progress: false });
      tcArgs = [...filters.flatMap((f) => ['-F', f]), ...copies.flatMap((f) => ['-i', f])];
    }
    const mean = await suite(title, [
      ['trace-cmd report', () => run('trace-cmd', ['report', ...tcArgs])],
      ['tracedat API', () => drain(files, filters)],
      ['tracedat CLI', () => run(process.execPath, [cli, 'report', ...args])],
    ]);
    const tc = mean['trace-cmd report'];
    const r = { target: title, api: tc / mean['tracedat API'], cli: tc / mean['tracedat CLI'] };
    const cpu = { tc: [], cli: [], api: [] };
    for (let i = 0; i < 5; i++) {
      cpu.tc.push(cpuOf('trace-cmd', ['report', ...tcArgs]));
      cpu.cli.push(cpuOf(process.execPath, [cli, 'report', ...args]));
      cpu.api.push(await cpuOfApi(() => drain(files, filters)));
    }
    r.cpu = { tc: median(cpu.tc), cli: median(cpu.cli), api: median(cpu.api) };
    console.log(`  wall ratio trace-cmd / tracedat: API ${r.api.toFixed(2)}x, CLI ${r.cli.toFixed(2)}x`);
    console.log(`  CPU s (median of 5): trace-cmd ${r.cpu.tc.toFixed(2)}, tracedat CLI ${r.cpu.cli.toFixed(2)}, API ${r.cpu.api.toFixed(2)}`);
    results.push(r);
  }
  return results;
}

async function main() {
  const only = process.argv[2];
  const results = [];
  if (only === undefined || only === 'convert') results.push(...(await convertBench()));
  if (only === undefined || only === 'report') results.push(...(await reportBench()));
  for (const f of fs.readdirSync(data)) if (f.startsWith('out-')) fs.unlinkSync(path.join(data, f));
  console.log(`\nsummary, trace-cmd time / tracedat time (load now ${os.loadavg()[0].toFixed(1)}):`);
  for (const r of results) {
    console.log(`  ${r.target.padEnd(44)} wall: API ${r.api.toFixed(2)}x  CLI ${r.cli.toFixed(2)}x   CPU: API ${(r.cpu.tc / r.cpu.api).toFixed(2)}x  CLI ${(r.cpu.tc / r.cpu.cli).toFixed(2)}x`);
  }
}

/** convert: trace-cmd convert against tracedat's API and CLI, to each target. */
async function convertBench() {
  await ensure(big, targetMB);
  const { open } = await import('../dist/index.js');
  const input = await open(big);
  const mb = (fs.statSync(big).size / 1e6).toFixed(0);
  const pagesMB = (input.metadata.buffers[0].cpus.reduce((a, c) => a + c.size, 0) / 1e6).toFixed(0);
  console.log(`input: ${path.relative(root, big)}, ${mb} MB (v7 uncompressed, ${pagesMB} MB of pages); ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`);

  const out = (name) => path.join(data, `out-${name}.dat`);
  const targets = [
    { name: 'v6', tc: ['--file-version', '6'], ours: { version: 6 } },
    { name: 'v7 zstd', tc: ['--file-version', '7', '--compression', 'zstd'], ours: { version: 7, compression: 'zstd' } },
    { name: 'v7 none', tc: ['--file-version', '7', '--compression', 'none'], ours: { version: 7, compression: 'none' } },
  ];
  const results = [];
  for (const t of targets) {
    const slug = t.name.replace(' ', '-');
    const cases = [
      ['trace-cmd convert', () => run('trace-cmd', ['convert', '-i', big, '-o', out(`tc-${slug}`), ...t.tc])],
      ['tracedat API', () => input.convert(out(`api-${slug}`), { ...t.ours, progress: false })],
      ['tracedat CLI', () => run(process.execPath, [cli, 'convert', '-i', big, '-o', out(`cli-${slug}`), ...t.tc])],
    ];
    if (t.name === 'v7 zstd') cases.push(['tracedat API, 1 thread', () => input.convert(out(`api1-${slug}`), { ...t.ours, threads: 1, progress: false })]);
    const mean = await suite(`convert to ${t.name}`, cases);
    const tc = mean['trace-cmd convert'];
    const r = { target: `convert to ${t.name}`, api: tc / mean['tracedat API'], cli: tc / mean['tracedat CLI'] };
    if (mean['tracedat API, 1 thread']) r.threads = mean['tracedat API, 1 thread'] / mean['tracedat API'];
    console.log(`  wall ratio trace-cmd / tracedat: API ${r.api.toFixed(2)}x, CLI ${r.cli.toFixed(2)}x${r.threads ? `; 2+ threads vs 1: ${r.threads.toFixed(2)}x` : ''}`);
    const cpu = { tc: [], cli: [], api: [] };
    for (let i = 0; i < 5; i++) {
      cpu.tc.push(cpuOf('trace-cmd', ['convert', '-i', big, '-o', out(`tc-${slug}`), ...t.tc]));
      cpu.cli.push(cpuOf(process.execPath, [cli, 'convert', '-i', big, '-o', out(`cli-${slug}`), ...t.tc]));
      cpu.api.push(await cpuOfApi(() => input.convert(out(`api-${slug}`), { ...t.ours, progress: false })));
    }
    r.cpu = { tc: median(cpu.tc), cli: median(cpu.cli), api: median(cpu.api) };
    console.log(`  CPU s (median of 5): trace-cmd ${r.cpu.tc.toFixed(2)}, tracedat CLI ${r.cpu.cli.toFixed(2)}, API ${r.cpu.api.toFixed(2)}`);
    results.push(r);
  }
  return results;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
