#!/usr/bin/env node
// Deterministic fuzzing of tracedat on every real and public fixture.
//
//   npm run fuzz -- [--cases N] [--seed S] [--start K] [--commands a,b] [--classes a,b]
//                   [--fixtures REGEX] [--jobs J] [--timeout MS] [--rss-mb M] [--as-mb A]
//                   [--spawn-every K] [--no-save] [--quiet]
//   npm run fuzz -- --replay fixtures/fuzz-regressions/x.json
//
// Cases run in worker processes (each under `prlimit --as`), every command of a case in
// process through the API, with a watchdog per case (a hang is a failure) and the worker's
// peak RSS checked after each case. Every K-th case also runs each command as a real CLI
// process, judged the same way and compared with the in-process result. A failure prints its
// reproducer (fixture, seed, case, mutation) and saves the recipe under
// fixtures/fuzz-regressions/ (test/fuzz.test.ts replays them all).
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLASSES, COMMANDS, REGRESSIONS, ROOT, apply, fixturePath, fixtures, judge, mutate, prepare, runInProcess, runSpawned } from './fuzz-lib.mjs';

const SELF = new URL(import.meta.url).pathname;

export function parseArgs(argv) {
  const o = { cases: 1000, seed: 1, start: 0, commands: null, classes: null, fixtures: null, jobs: 2, timeout: 20000, rssMb: 1024, asMb: 4096, spawnEvery: 100, save: true, quiet: false, replay: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--cases') o.cases = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--start') o.start = Number(v());
    else if (a === '--commands') o.commands = v().split(',');
    else if (a === '--classes') o.classes = v().split(',');
    else if (a === '--fixtures') o.fixtures = v();
    else if (a === '--jobs') o.jobs = Number(v());
    else if (a === '--timeout') o.timeout = Number(v());
    else if (a === '--rss-mb') o.rssMb = Number(v());
    else if (a === '--as-mb') o.asMb = Number(v());
    else if (a === '--spawn-every') o.spawnEvery = Number(v());
    else if (a === '--no-save') o.save = false;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--replay') o.replay.push(v());
    else throw new Error(`fuzz: unknown argument ${a}`);
  }
  return o;
}

// ---- worker ---------------------------------------------------------------------------------

async function worker() {
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
  const states = new Map();
  const dir = join(process.env.TRACEDAT_FUZZ_TMP ?? tmpdir(), `tracedat-fuzz-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  process.on('disconnect', () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  process.on('message', async (m) => {
    let fx = states.get(m.fixture.name);
    if (!fx) {
      fx = await prepare(m.fixture, api.open);
      states.set(m.fixture.name, fx);
    }
    const mut = m.recipe ?? mutate(fx, m.seed, m.n, m.classes ?? undefined);
    if (!mut) return process.send({ n: m.n, skipped: true });
    const ops = m.recipe ? m.recipe.ops : mut.ops;
    const recipe = { class: mut.class, detail: mut.detail, ops: m.recipe ? ops : ops.map((o) => ({ at: o.at, del: o.del, ins: o.ins.toString('hex') })) };
    // The watchdog starts now, after the fixture's preparation; the recipe is with the parent
    // before anything runs, so a hang or a crash can be reproduced.
    process.send({ n: m.n, running: recipe });
    const bytes = apply(fx.bytes, ops.map((o) => ({ ...o, ins: Buffer.isBuffer(o.ins) ? o.ins : Buffer.from(o.ins, 'hex') })));
    const path = join(dir, `case-${m.n}.dat`);
    writeFileSync(path, bytes);
    const failures = [];
    const opened = api.open(path);
    opened.catch(() => {}); // each command reports the failure itself
    for (const cmd of COMMANDS.filter((c) => m.commands.includes(c.name))) {
      const res = await runInProcess(api, cmd, path, opened);
      const why = judge(cmd, res);
      if (why) failures.push({ command: cmd.name, how: 'in process', why, code: res.code, stderr: res.stderr.slice(0, 2000) });
      rmSync(`${path}.out`, { force: true, recursive: true });
      if (m.spawn) {
        const sp = runSpawned(cmd, path, { timeoutMs: m.timeout, asBytes: m.asMb * 2 ** 20, out: `${path}.out` });
        const why = judge(cmd, sp) ?? (sp.code !== res.code || sp.stderr !== res.stderr ? `the CLI (exit ${sp.code}) differs from the API (exit ${res.code})` : null);
        if (why) failures.push({ command: cmd.name, how: 'cli', why, code: sp.code, signal: sp.signal, stderr: sp.stderr.slice(0, 2000) });
        rmSync(`${path}.out`, { force: true, recursive: true });
      }
    }
    rmSync(path, { force: true });
    const rss = process.resourceUsage().maxRSS * 1024;
    process.send({ n: m.n, ...recipe, failures, rss, size: bytes.length });
  });
  process.send({ ready: true });
}

// ---- parent ---------------------------------------------------------------------------------

/**
 * Runs cases [start, start+cases) of `seed`, or the given recipes, on `jobs` workers. Returns
 * `{ cases, skipped, failures, ms, byClass }`; `onFailure` sees each failure as it happens.
 */
export async function run(opts, onFailure = () => {}) {
  const all = fixtures().filter((f) => !opts.fixtures || new RegExp(opts.fixtures).test(f.name));
  if (!all.length) throw new Error('fuzz: no fixtures found');
  const commands = (opts.commands ?? COMMANDS.map((c) => c.name)).filter((c) => COMMANDS.some((x) => x.name === c));
  const classes = opts.classes ?? Object.keys(CLASSES);
  const queue = [];
  if (opts.replay.length) {
    opts.replay.forEach((file, i) => {
      const r = JSON.parse(readFileSync(file, 'utf8'));
      queue.push({ n: i, seed: r.seed, fixture: { name: r.fixture, path: fixturePath(r.fixture) }, recipe: r, file });
    });
  } else {
    for (let n = opts.start; n < opts.start + opts.cases; n++) queue.push({ n, seed: opts.seed, fixture: all[n % all.length] });
  }
  const total = queue.length;
  const stats = { cases: 0, skipped: 0, failures: [], byClass: {}, maxRss: 0 };
  const t0 = Date.now();
  let next = 0;
  const one = () =>
    new Promise((resolve) => {
      let w;
      let busy = null;
      let timer = null;
      // fork() runs `execPath execArgv script`: run node itself under prlimit instead.
      const start = () => {
        w = fork(SELF, ['--worker'], { execPath: 'prlimit', execArgv: [`--as=${opts.asMb * 2 ** 20}`, process.execPath], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
        let stderr = '';
        w.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
        w.on('message', (m) => {
          if (m.ready) return feed();
          if (m.running) {
            busy.recipe ??= m.running;
            return arm();
          }
          clearTimeout(timer);
          const c = busy;
          busy = null;
          if (m.skipped) stats.skipped++;
          else {
            stats.cases++;
            stats.byClass[m.class] = (stats.byClass[m.class] ?? 0) + 1;
            stats.maxRss = Math.max(stats.maxRss, m.rss);
            const failures = [...m.failures];
            if (m.rss > opts.rssMb * 2 ** 20) failures.push({ command: '*', how: 'worker', why: `peak RSS ${m.rss >> 20} MiB over ${opts.rssMb} MiB` });
            if (failures.length) report(c, m, failures);
            if (m.rss > opts.rssMb * 2 ** 20) return restart();
          }
          feed();
        });
        w.on('exit', (code, signal) => {
          clearTimeout(timer);
          if (busy) {
            const c = busy;
            busy = null;
            stats.cases++;
            report(c, c.recipe ?? {}, [{ command: '*', how: 'worker', why: c.timedOut ? `timeout after ${opts.timeout} ms` : `worker died (${signal ?? `exit ${code}`})`, stderr: stderr.slice(-2000) }]);
            spawnAgain();
          } else {
            // Died before it took a case (it could not start): a failure, not a wait for ever.
            const f = { fixture: '*', seed: opts.seed, case: -1, class: 'startup', detail: 'a worker starting', failures: [{ command: '*', how: 'worker', why: `worker died before taking a case (${signal ?? `exit ${code}`})`, stderr: stderr.slice(-2000) }] };
            stats.failures.push(f);
            onFailure(f);
            resolve();
          }
        });
      };
      const spawnAgain = () => {
        if (next < total) start();
        else resolve();
      };
      const restart = () => {
        w.removeAllListeners('exit');
        w.kill('SIGKILL');
        spawnAgain();
      };
      const arm = (ms = busy.limit) => {
        clearTimeout(timer);
        const c = busy;
        timer = setTimeout(() => {
          c.timedOut = true;
          w.kill('SIGKILL');
        }, ms);
      };
      const feed = () => {
        if (next >= total) {
          w.removeAllListeners('exit');
          w.disconnect();
          return resolve();
        }
        const c = queue[next++];
        busy = c;
        // A replayed recipe runs every command as the CLI too: its limit counts those processes.
        const spawn = (!opts.replay.length && opts.spawnEvery > 0 && c.n % opts.spawnEvery === 0) || !!c.recipe;
        c.limit = opts.timeout * (spawn ? 1 + commands.length : 1);
        // Preparing a fixture (layout, recompressed variants) may take a while the first time.
        arm(c.limit + 120000);
        w.send({ n: c.n, seed: c.seed, fixture: c.fixture, recipe: c.recipe, classes, commands, spawn, timeout: opts.timeout, asMb: opts.asMb });
      };
      start();
    });
  const report = (c, m, failures) => {
    const f = { fixture: c.fixture.name, seed: c.seed, case: c.n, class: m.class, detail: m.detail, ops: m.ops ?? c.recipe?.ops, failures, file: c.file };
    stats.failures.push(f);
    onFailure(f);
  };
  const progress = opts.quiet
    ? null
    : setInterval(() => {
        const s = (Date.now() - t0) / 1000;
        process.stderr.write(`fuzz: ${stats.cases}/${total} cases, ${stats.failures.length} failures, ${Math.round((stats.cases / s) * 60)} cases/min\n`);
      }, 10000);
  await Promise.all(Array.from({ length: Math.min(opts.jobs, total) }, one));
  if (progress) clearInterval(progress);
  return { ...stats, ms: Date.now() - t0, fixtures: all.length, commands };
}

/** Saves a failure's recipe as fixtures/fuzz-regressions/CLASS-FIXTURE-sSEED-cCASE.json. */
export function save(f) {
  mkdirSync(REGRESSIONS, { recursive: true });
  const stem = f.fixture.replace(/^.*\//, '').replace(/\.dat$/, '');
  const file = join(REGRESSIONS, `${f.class ?? 'case'}-${stem}-s${f.seed}-c${f.case}.json`);
  const { fixture, seed, case: n, class: cls, detail, ops, failures } = f;
  writeFileSync(file, JSON.stringify({ fixture, seed, case: n, class: cls, detail, ops, found: failures.map((x) => `${x.command} (${x.how}): ${x.why}${x.stderr ? ` -- ${x.stderr.split('\n')[0]}` : ''}`) }, null, 1) + '\n');
  return file;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const r = await run(opts, (f) => {
    const where = opts.save && !f.file && f.ops ? save(f) : f.file;
    process.stderr.write(
      `FAIL ${f.fixture} seed ${f.seed} case ${f.case} [${f.class}] ${f.detail ?? ''}\n` +
        f.failures.map((x) => `  ${x.command} (${x.how}): ${x.why}${x.stderr ? `\n    ${x.stderr.trim().split('\n').slice(0, 3).join('\n    ')}` : ''}\n`).join('') +
        (where ? `  reproducer: ${where}\n` : ''),
    );
  });
  const s = r.ms / 1000;
  process.stdout.write(
    `fuzz: ${r.cases} cases (${r.skipped} not applicable) on ${r.fixtures} fixtures, commands ${r.commands.join(' | ')}\n` +
      `fuzz: classes ${Object.entries(r.byClass).map(([k, v]) => `${k} ${v}`).join(', ')}\n` +
      `fuzz: ${r.failures.length} failures in ${s.toFixed(1)} s (${Math.round((r.cases / s) * 60)} cases/min), worker peak RSS ${r.maxRss >> 20} MiB\n`,
  );
  process.exitCode = r.failures.length ? 1 : 0;
}

if (process.argv[2] === '--worker') await worker();
else if (process.argv[1] === SELF) await main();
