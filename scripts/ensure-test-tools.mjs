#!/usr/bin/env node
// The test suite compares tracedat with trace-cmd 3.1.6 (Debian's package, run at test time) and
// opens merged files in KernelShark 2.2 headless (../shared/tools/kshark-check.sh). Installs
// what is missing (as root, with apt-get), so that a fresh machine needs no manual step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Each command (or, with a slash, file) the tests need, and the Debian package that brings it. */
const TOOLS = [
  ['trace-cmd', 'trace-cmd'],
  ['kernelshark', 'kernelshark'],
  ['Xvfb', 'xvfb'],
  ['xwd', 'x11-apps'],
  ['convert', 'imagemagick'],
  ['xdotool', 'xdotool'],
  // kshark-check.sh counts the entries with a small libkshark program it compiles.
  ['gcc', 'gcc'],
  ['/usr/include/kernelshark/libkshark.h', 'libkshark-dev'],
  ['/usr/include/json-c/json.h', 'libjson-c-dev'],
];
const present = (what) => (what.includes('/') ? existsSync(what) : spawnSync('sh', ['-c', `command -v ${what}`], { stdio: 'ignore' }).status === 0);
const missing = () => TOOLS.filter(([cmd]) => !present(cmd));

if (missing().length > 0) {
  const packages = [...new Set(missing().map(([, pkg]) => pkg))];
  if (process.getuid?.() !== 0) {
    console.error(`tracedat tests need ${packages.join(', ')}: run \`apt-get install -y ${packages.join(' ')}\` as root`);
    process.exit(1);
  }
  console.error(`installing ${packages.join(', ')} (Debian) for the comparison tests ...`);
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) {
      console.error(`apt-get ${args.join(' ')} failed`);
      process.exit(1);
    }
  }
  const still = missing();
  if (still.length > 0) {
    console.error(`still missing after apt-get: ${still.map(([cmd]) => cmd).join(', ')}`);
    process.exit(1);
  }
}
