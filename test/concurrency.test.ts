// The API from several threads and from concurrent async calls: every result equals what a
// single-threaded run of the same calls gives.
import { expect, test } from 'vitest';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { PUBLIC as PUBLIC_DIR, REAL as REAL_DIR, ROOT } from './helpers.js';
// @ts-expect-error: plain JavaScript helper, no types
import { digest } from './concurrency-digest.mjs';

const REAL = join(ROOT, REAL_DIR);
const PUBLIC = join(ROOT, PUBLIC_DIR);
const FILES = [
  join(REAL, 'sched-irq-sys-v6.dat'),
  join(REAL, 'instance-v7-zstd.dat'),
  join(REAL, 's390x-be-v7-zstd.dat'),
  join(REAL, 'kvm-host-vcpu-create-v7-zstd.dat'),
  join(REAL, 'x86guest-wakeup-v7.dat'),
  join(PUBLIC, 'Masterarbeit__documentation__trace-cmd__LTS__trace-cmd-v3.2__trace.dat'),
];

function inWorker(files: string[], interleave: boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./concurrency-digest.mjs', import.meta.url), { workerData: { files, interleave } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

test('worker threads and concurrent async calls read exactly what one thread reads', { timeout: 240_000 }, async () => {
  const single: Record<string, unknown> = {};
  for (const f of FILES) single[f] = await digest(f);

  // Four threads at once, each over every file in its own order, while this thread reads the
  // same files twice over, concurrently, with records read in small interleaved batches: the
  // same file is open several times in several threads and cursors on one file alternate.
  const orders = [FILES, [...FILES].reverse(), [...FILES.slice(3), ...FILES.slice(0, 3)], [FILES[1]!, FILES[1]!, FILES[0]!]];
  const [threads, here] = await Promise.all([
    Promise.all(orders.map((o, i) => inWorker(o, i % 2 === 1))),
    Promise.all([...FILES, ...FILES].map(async (f) => [f, await digest(f, true)] as const)),
  ]);
  for (const t of threads) for (const [f, d] of Object.entries(t)) expect(d, f).toEqual(single[f]);
  for (const [f, d] of here) expect(d, f).toEqual(single[f]);
});
