#!/usr/bin/env node
// Builds the Rust addon with plain cargo (no crates: --offline --locked) and installs it as
// build/Release/tracedat_native.node through a temporary file and a rename, so a .node that a
// running process has mapped is never rewritten in place. A no-op rebuild takes ~0.1 s.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const debug = process.argv.includes('--debug');
const profile = debug ? 'debug' : 'release';
const args = ['build', '--offline', '--locked', '--manifest-path', join(root, 'native', 'Cargo.toml')];
if (!debug) args.push('--release');

const r = spawnSync('cargo', args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error) {
  console.error(`tracedat: cannot run cargo (${r.error.message}); install Rust (cargo) to build the native addon`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status ?? 1);

const built = join(root, 'native', 'target', profile, 'libtracedat_native.so');
const dest = join(root, 'build', 'Release', 'tracedat_native.node');
mkdirSync(dirname(dest), { recursive: true });
let fresh = true;
try {
  fresh = statSync(dest).mtimeMs < statSync(built).mtimeMs;
} catch {
  fresh = true;
}
if (fresh) {
  const tmp = `${dest}.tmp-${process.pid}`;
  copyFileSync(built, tmp);
  renameSync(tmp, dest);
}
