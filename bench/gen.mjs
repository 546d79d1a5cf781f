#!/usr/bin/env node
// `npm run bench:gen -- --size 2G [--out DIR] [--check]`: realistic trace.dat files of any size,
// no tracing needed. The ring-buffer pages of real recordings are replayed end to end, each
// replay's page timestamps moved past the previous replay's last record, so that every CPU's
// stream stays monotonic and trace-cmd reads the files as one long recording. Written to DIR
// (default bench/data/gen-SIZE, gitignored):
//   single-none.dat, single-zstd.dat      ../shared/fixtures/real/sched-irq-sys-v7-zstd.dat's pages
//                                          (sched, irq, syscalls, timer on 2 CPUs), SIZE bytes of pages
//   ts-host-*.dat, ts-guest-*.dat          a host and a guest with a TIME_SHIFT option: the guest is
//                                          the same pages on a clock D ahead of the host (one sample
//                                          per vCPU, offset -D), its own trace id; SIZE/2 each
//   kvm-host-*.dat, kvm-guest-*.dat        fixtures/kvm-host.dat and kvm-guest.dat (a real KVM host
//                                          with its kvm_write_tsc_offset events, and the guest on
//                                          the written TSC offset, see scripts/make-example.mjs)
//                                          replayed on one span, so the guest stays on host TSC +
//                                          offset; SIZE/2 each
// each as v7 uncompressed (-none) and v7 zstd level 3 (-zstd). SIZE takes K, M, G suffixes
// (powers of 1024). Files already there (same size asked) are kept.
// --check: trace-cmd report reads every file made (each single, and each pair as
// `report -i host -i guest`) and prints one line per record that tracedat counts; exit 1 if not.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../dist/index.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/** ../shared (or ../../shared from a worktree under wt/; TRACEDAT_SHARED overrides). */
export const shared = [process.env.TRACEDAT_SHARED, path.join(root, '..', 'shared'), path.join(root, '..', '..', 'shared')].find((d) => d && fs.existsSync(d)) ?? path.join(root, '..', 'shared');
const real = path.join(shared, 'fixtures', 'real');
const TRACE_ID = 11;
const TIME_SHIFT = 12;
/** The TIME_SHIFT pair's guest clock runs this far ahead of the host's (in the clock's units). */
const GUEST_AHEAD = 1_000_000_000_000n;

/** "2G" -> bytes. */
export function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)B?$/i.exec(String(s));
  if (!m) throw new Error(`bench:gen: --size ${s}: expected a number with K, M or G`);
  return Math.round(Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase()));
}

/**
 * Reads the v6 uncompressed `file` (little-endian, top buffer only): its bytes before the
 * first CPU's data, where the flyrecord table of (offset, size) per CPU sits, and per CPU its
 * page bytes. Raw record times from tracedat give the span of the recording.
 */
async function loadV6(file) {
  const t = await open(file);
  const m = t.metadata;
  if (m.version !== 6 || m.bigEndian || m.buffers.length !== 1) throw new Error(`${file}: expected a little-endian v6 file with one buffer`);
  const bytes = fs.readFileSync(file);
  const cpus = m.buffers[0].cpus;
  const start = Math.min(...cpus.map((c) => c.offset));
  const head = Buffer.from(bytes.subarray(0, start));
  // The table: each CPU's (offset, size) as two u64s, found by its first entry's bytes.
  const first = Buffer.alloc(16);
  first.writeBigUInt64LE(BigInt(cpus[0].offset), 0);
  first.writeBigUInt64LE(BigInt(cpus[0].size), 8);
  const table = head.indexOf(first) - 16 * cpus[0].cpu;
  if (table < 0) throw new Error(`${file}: flyrecord table not found`);
  let lo = -1n;
  let hi = 0n;
  for (const r of t.records(0, { rawTimestamps: true, batch: 65536 })) {
    if (lo < 0n || r.rawTimestamp < lo) lo = r.rawTimestamp;
    if (r.rawTimestamp > hi) hi = r.rawTimestamp;
  }
  const pages = new Map(cpus.map((c) => [c.cpu, Buffer.from(bytes.subarray(c.offset, c.offset + c.size))]));
  for (const p of pages.values()) for (let off = 0; off < p.length; off += m.pageSize) lo = p.readBigUInt64LE(off) < lo ? p.readBigUInt64LE(off) : lo;
  return { trace: t, head, table, ncpu: Math.max(...cpus.map((c) => c.cpu)) + 1, pages, pageSize: m.pageSize, lo, hi, bytes: cpus.reduce((a, c) => a + c.size, 0) };
}

/**
 * Writes the v6 file `dest`: `src`'s metadata, then per CPU its pages `repeats` times, replay k's
 * page times moved by `shift` + k * `span` (the caller makes `span` exceed the recording).
 */
function replay(src, dest, repeats, span, shift = 0n) {
  const head = Buffer.from(src.head);
  const align = (n) => Math.ceil(n / src.pageSize) * src.pageSize;
  let pos = align(head.length);
  for (const [cpu, p] of src.pages) {
    head.writeBigUInt64LE(BigInt(pos), src.table + 16 * cpu);
    head.writeBigUInt64LE(BigInt(p.length * repeats), src.table + 16 * cpu + 8);
    pos += p.length * repeats;
  }
  const fd = fs.openSync(dest, 'w');
  try {
    fs.writeSync(fd, head);
    fs.writeSync(fd, Buffer.alloc(align(head.length) - head.length));
    for (const p of src.pages.values()) {
      const base = [];
      for (let off = 0; off < p.length; off += src.pageSize) base.push(p.readBigUInt64LE(off));
      const out = Buffer.from(p);
      for (let k = 0; k < repeats; k++) {
        const d = shift + BigInt(k) * span;
        for (let i = 0; i < base.length; i++) out.writeBigUInt64LE(BigInt.asUintN(64, base[i] + d), i * src.pageSize);
        fs.writeSync(fd, out);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** One sample per vCPU (time 0, `offset`, scaling 1, no fraction): notes B.1's layout, little-endian. */
function timeShiftPayload(peer, ncpu, offset) {
  const b = Buffer.alloc(16 + ncpu * (4 + 24) + ncpu * 8);
  b.writeBigUInt64LE(peer, 0);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(ncpu, 12);
  let at = 16;
  for (let c = 0; c < ncpu; c++) {
    b.writeUInt32LE(1, at);
    b.writeBigInt64LE(0n, at + 4);
    b.writeBigInt64LE(offset, at + 12);
    b.writeBigInt64LE(1n, at + 20);
    at += 28;
  }
  return b; // the fractions (0) follow, already zero
}

const u64 = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
};

/** A v6 uncompressed copy of `file` in `dir` (the page source), made once. */
async function v6Of(file, dir) {
  const dest = path.join(dir, `src-${path.basename(file, '.dat')}-v6.dat`);
  if (!fs.existsSync(dest)) await (await open(file)).convert(dest, { version: 6, progress: false });
  return dest;
}

/** `base`-none.dat and `base`-zstd.dat from the replayed v6 file (removed afterwards). */
async function finish(v6, base, setOptions) {
  const t = await open(v6);
  await t.convert(`${base}-none.dat`, { version: 7, compression: 'none', setOptions, progress: false });
  await t.convert(`${base}-zstd.dat`, { version: 7, compression: 'zstd', level: 3, setOptions, progress: false });
  fs.unlinkSync(v6);
}

const done = (base) => fs.existsSync(`${base}-none.dat`) && fs.existsSync(`${base}-zstd.dat`);

/** Makes the set of `size` bytes in `dir`; returns its files. */
export async function generate(size, dir, log = (s) => process.stderr.write(`${s}\n`)) {
  fs.mkdirSync(dir, { recursive: true });
  const free = fs.statfsSync(dir);
  const need = size * 3.5; // v6 scratch + none + zstd for the single and the pairs
  if (free.bavail * free.bsize < need) throw new Error(`bench:gen: ${dir} has ${(free.bavail * free.bsize / 2 ** 30).toFixed(1)} GiB free, ${(need / 2 ** 30).toFixed(1)} GiB needed`);
  const srcDir = path.join(dir, 'src');
  fs.mkdirSync(srcDir, { recursive: true });
  const files = { single: path.join(dir, 'single'), ts: [path.join(dir, 'ts-host'), path.join(dir, 'ts-guest')], kvm: [path.join(dir, 'kvm-host'), path.join(dir, 'kvm-guest')] };

  if (!done(files.single)) {
    const s = await loadV6(await v6Of(path.join(real, 'sched-irq-sys-v7-zstd.dat'), srcDir));
    const repeats = Math.max(1, Math.round(size / s.bytes));
    log(`bench:gen: ${files.single}: ${repeats} replays of sched-irq-sys (${(repeats * s.bytes / 2 ** 20).toFixed(0)} MiB of pages)`);
    replay(s, `${files.single}.v6`, repeats, s.hi - s.lo + 1_000_000n);
    await finish(`${files.single}.v6`, files.single, undefined);
  }

  if (!done(files.ts[0]) || !done(files.ts[1])) {
    const s = await loadV6(await v6Of(path.join(real, 'sched-irq-sys-v7-zstd.dat'), srcDir));
    const repeats = Math.max(1, Math.round(size / 2 / s.bytes));
    const span = s.hi - s.lo + 1_000_000n;
    const traceId = s.trace.metadata.options.find((o) => o.id === TRACE_ID)?.value?.traceId;
    if (typeof traceId !== 'bigint') throw new Error('bench:gen: sched-irq-sys has no trace id');
    log(`bench:gen: ${files.ts[0]} + guest: ${repeats} replays each, guest ${GUEST_AHEAD} ahead with TIME_SHIFT`);
    replay(s, `${files.ts[0]}.v6`, repeats, span);
    await finish(`${files.ts[0]}.v6`, files.ts[0], undefined);
    replay(s, `${files.ts[1]}.v6`, repeats, span, GUEST_AHEAD);
    await finish(`${files.ts[1]}.v6`, files.ts[1], [
      { id: TRACE_ID, payload: u64(traceId ^ 0x5a5a5a5a5a5a5a5an) },
      { id: TIME_SHIFT, payload: timeShiftPayload(traceId, s.ncpu, -GUEST_AHEAD) },
    ]);
  }

  if (!done(files.kvm[0]) || !done(files.kvm[1])) {
    const h = await loadV6(await v6Of(path.join(root, 'fixtures', 'kvm-host.dat'), srcDir));
    const g = await loadV6(await v6Of(path.join(root, 'fixtures', 'kvm-guest.dat'), srcDir));
    // One span for both, longer than either: the guest stays on host TSC + the written offset.
    const span = [h, g].reduce((a, x) => (x.hi - x.lo > a ? x.hi - x.lo : a), 0n) + 1_000_000n;
    const repeats = Math.max(1, Math.round(size / 2 / (h.bytes + g.bytes)));
    log(`bench:gen: ${files.kvm[0]} + guest: ${repeats} replays of the bundled KVM pair`);
    replay(h, `${files.kvm[0]}.v6`, repeats, span);
    await finish(`${files.kvm[0]}.v6`, files.kvm[0], undefined);
    replay(g, `${files.kvm[1]}.v6`, repeats, span);
    await finish(`${files.kvm[1]}.v6`, files.kvm[1], undefined);
  }
  fs.rmSync(srcDir, { recursive: true, force: true });
  return files;
}

/** Lines trace-cmd report prints for `args` that look like records, and its exit status and stderr. */
function traceCmdLines(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('trace-cmd', ['report', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let tail = '';
    let err = '';
    p.stdout.on('data', (d) => {
      const s = tail + d.toString('latin1');
      const parts = s.split('\n');
      tail = parts.pop();
      for (const l of parts) if (/\[\d+\]\s*\d+(?:\.\d+)?:/.test(l)) lines++;
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, lines, err }));
  });
}

async function countOf(files) {
  let n = 0;
  for (const f of files) {
    const t = await open(f);
    for (let b = 0; b < t.metadata.buffers.length; b++) for (const _ of t.records(b, { batch: 65536 })) n++;
  }
  return n;
}

/** trace-cmd reads every file of the set, a record line for each record tracedat counts. */
export async function check(files) {
  const sets = [];
  for (const kind of ['none', 'zstd']) {
    sets.push([`${files.single}-${kind}.dat`]);
    sets.push(files.ts.map((b) => `${b}-${kind}.dat`));
    sets.push(files.kvm.map((b) => `${b}-${kind}.dat`));
  }
  const failures = [];
  for (const set of sets) {
    const r = await traceCmdLines(set.length === 1 ? ['-i', set[0]] : set.flatMap((f) => ['-i', f]));
    const want = await countOf(set);
    const ok = r.code === 0 && r.lines === want;
    if (!ok) failures.push(`${set.map((f) => path.basename(f)).join(' + ')}: trace-cmd exit ${r.code}, ${r.lines} record lines, tracedat ${want} records${r.err ? `; stderr: ${r.err.split('\n')[0]}` : ''}`);
    else process.stderr.write(`bench:gen: trace-cmd report ${set.map((f) => path.basename(f)).join(' + ')}: ${r.lines} records\n`);
  }
  return failures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const sizeText = opt('--size', '256M');
  const dir = path.resolve(opt('--out', path.join(root, 'bench', 'data', `gen-${sizeText}`)));
  try {
    const files = await generate(parseSize(sizeText), dir);
    for (const f of fs.readdirSync(dir).sort()) console.log(`${path.join(dir, f)}\t${(fs.statSync(path.join(dir, f)).size / 2 ** 20).toFixed(1)} MiB`);
    if (args.includes('--check')) {
      const failures = await check(files);
      for (const f of failures) console.error(`bench:gen: ${f}`);
      process.exit(failures.length ? 1 : 0);
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
