#!/usr/bin/env node
// tracedat: trace-cmd compatible tools for trace.dat files.
import { TraceError } from './errors.js';
import { dumpCommand } from './commands/dump.js';
import { reportCommand } from './commands/report.js';

const USAGE = `usage: tracedat <command> [options]

commands:
  dump     print the meta data of a trace.dat, like trace-cmd dump (identical output)
  report   print the events of a trace.dat, like trace-cmd report (identical output)
`;

export class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dump':
      return dumpCommand(rest);
    case 'report':
      return reportCommand(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof TraceError) {
      process.stderr.write(`tracedat: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof UsageError) {
      process.stderr.write(`tracedat: ${e.message}\n${USAGE}`);
      process.exitCode = 1;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`tracedat: ${msg}\n`);
      process.exitCode = 2;
    }
  },
);
