// The CLI as a process in a pipeline: a reader that goes away (`tracedat report ... | head`)
// stops it quietly with the status of a C tool killed by SIGPIPE, as trace-cmd is.
import { expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { run } from './helpers.js';
import { join } from 'node:path';
import { CLI, REAL, ROOT } from './helpers.js';

/**
 * Runs the CLI, reads its first chunk of stdout, closes the pipe; exit status and stderr. Node's
 * `stdio: 'pipe'` is a socketpair: closed at once, the writer's next write answers EPIPE;
 * closed with text still unread (`unread`: the reader pauses first, so the writer fills the
 * socket), the kernel resets it and the write answers ECONNRESET. Both are `| head`.
 */
function closeEarly(args: string[], unread: boolean): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; got: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let got = 0;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.once('data', (b: Buffer) => {
      got = b.length;
      if (!unread) return child.stdout.destroy();
      child.stdout.pause();
      setTimeout(() => child.stdout.destroy(), 300);
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stderr, got }));
  });
}

test.each([
  [['report', join(REAL, 'instance-v6.dat')], false],
  [['report', join(REAL, 'instance-v6.dat')], true],
  [['dump', '--all', join(REAL, 'sched-irq-sys-v7-zstd-fullksyms.dat')], false],
  [['dump', '--all', join(REAL, 'sched-irq-sys-v7-zstd-fullksyms.dat')], true],
])('%j | head (closed with text unread: %s): exit 141, nothing on stderr', async (args, unread) => {
  const r = await closeEarly(args, unread);
  expect(r.got).toBeGreaterThan(0);
  expect([r.status, r.signal, r.stderr]).toEqual([141, null, '']);
});

test.each([
  [['report', join(REAL, 'instance-v6.dat'), '-i'], "tracedat: report: option requires an argument -- 'i'"],
  [['report', join(REAL, 'instance-v6.dat'), '--cpu'], "tracedat: report: option '--cpu' requires an argument"],
  [['report', '--cpu', '1,x', join(REAL, 'instance-v6.dat')], "tracedat: report: invalid character in cpu string '1,x'"],
  [['report', '--cpu', '3-1', join(REAL, 'instance-v6.dat')], 'tracedat: report: range of cpu numbers must be lower to greater'],
  [['report', '--cpu', '0-4000000000', join(REAL, 'instance-v6.dat')], 'tracedat: report: CPU numbers below 65536, found 4000000000'],
  [['report', '--ts-offset', '5', join(REAL, 'instance-v6.dat')], 'tracedat: report: --ts-offset must come after -i'],
  [['report', '-i', join(REAL, 'instance-v6.dat'), '--ts-offset', '0x10'], 'tracedat: report: a signed integer after --ts-offset'],
])('%j is a usage error: exit 1, the reason, then the usage', async (args, line) => {
  const r = await run(process.execPath, [CLI, ...args]);
  expect(r.status).toBe(1);
  expect(r.stderr.split('\n').slice(0, 2)).toEqual([line, expect.stringMatching(/^usage: tracedat report /)]);
  expect(r.stdout.length).toBe(0);
});

// Run as a program (its #! line: sh), the CLI starts node without NODE_EXTRA_CA_CERTS, whose
// certificates node would otherwise read before anything runs; a bundle it cannot read makes
// node warn on stderr, so the warning shows whether the variable reached node.
test('as a program, the CLI starts node without NODE_EXTRA_CA_CERTS', () => {
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(ROOT, 'no-such-bundle.pem') };
  const file = join(REAL, 'instance-v6.dat');
  const direct = spawnSync(process.execPath, [CLI, 'report', file], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(direct.stderr).toMatch(/Ignoring extra certs from .*no-such-bundle\.pem/);
  const program = spawnSync('/bin/sh', [CLI, 'report', file], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  expect([program.status, program.stderr]).toEqual([0, '']);
  expect(program.stdout).toBe(direct.stdout);
  expect(program.stdout.length).toBeGreaterThan(1000);
});
