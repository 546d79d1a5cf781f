#!/usr/bin/env node
// The test suite compares tracedat with trace-cmd 3.1.6, Debian's package, run at test time.
// Installs it when missing (as root, with apt-get), so that a fresh machine needs no manual step.
import { spawnSync } from 'node:child_process';

const has = () => spawnSync('trace-cmd', ['--version'], { stdio: 'ignore' }).status !== null;
if (!has()) {
  if (process.getuid?.() !== 0) {
    console.error('tracedat tests need trace-cmd: run `apt-get install -y trace-cmd` as root');
    process.exit(1);
  }
  console.error('installing trace-cmd (Debian) for the comparison tests ...');
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'trace-cmd']]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) {
      console.error(`apt-get ${args.join(' ')} failed`);
      process.exit(1);
    }
  }
  if (!has()) process.exit(1);
}
