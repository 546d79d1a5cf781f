#!/usr/bin/env node
// The records path as a command, for the fuzz harness's real-process runs:
//   node scripts/fuzz-records.mjs [--salvage] FILE
// opens FILE, scans it and reads every record of every flyrecord buffer through the API, and
// prints and exits as the CLI does (one `tracedat: ...` line and status 2 on bad input).
import { writeSync } from 'node:fs';
import * as api from '../dist/index.js';
import { COMMANDS, runInProcess } from './fuzz-lib.mjs';

const args = process.argv.slice(2);
const salvage = args.includes('--salvage');
const file = args.find((a) => !a.startsWith('--'));
const cmd = COMMANDS.find((c) => c.records && !!c.salvage === salvage);
const res = await runInProcess(api, cmd, file);
writeSync(1, res.stdout);
writeSync(2, res.stderr);
process.exitCode = res.code;
