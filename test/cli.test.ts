// The CLI as a process in a pipeline: a reader that goes away (`tracedat report ... | head`)
// stops it quietly with the status of a C tool killed by SIGPIPE, as trace-cmd is.
import { expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, REAL, ROOT } from './helpers.js';

/** Runs the CLI, reads its first chunk of stdout, closes the pipe; exit status and stderr. */
function closeEarly(args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; got: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let got = 0;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.once('data', (b: Buffer) => {
      got = b.length;
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stderr, got }));
  });
}

test.each([
  [['report', join(REAL, 'instance-v6.dat')]],
  [['dump', '--all', join(REAL, 'sched-irq-sys-v7-zstd-fullksyms.dat')]],
])('%j | head: exit 141, nothing on stderr', async (args) => {
  const r = await closeEarly(args);
  expect(r.got).toBeGreaterThan(0);
  expect([r.status, r.signal, r.stderr]).toEqual([141, null, '']);
});
