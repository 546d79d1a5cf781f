#!/usr/bin/env node
// `npm start`: the main job on the bundled example. Merges fixtures/kvm-host.dat (a KVM host's
// trace) and fixtures/kvm-guest.dat (its guest's, on the guest's own TSC, no TIME_SHIFT) into one
// trace.dat in host time, as a user runs it, then shows where host and guest records interleave.
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const out = join(tmpdir(), 'tracedat-example-merged.dat');
const run = (args) => {
  console.log(`$ tracedat ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  process.stderr.write(r.stderr);
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r.stdout;
};
run(['merge', 'fixtures/kvm-host.dat', 'fixtures/kvm-guest.dat', '-o', out]);
const lines = run(['report', out]).split('\n');
const first = lines.findIndex((l) => l.startsWith('kvm-guest:'));
console.log(lines.slice(Math.max(1, first - 6), first + 14).join('\n'));
console.log(`... (${lines.length - 2} records in all; the whole file: tracedat report ${out}, or open it in KernelShark)`);
