#!/bin/sh
//usr/bin/env true; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"
// tracedat: trace-cmd compatible tools for trace.dat files.
// Run as a program, this file starts in sh: the line above (`//usr/bin/env true` does nothing)
// execs node on it without NODE_EXTRA_CA_CERTS; to JavaScript the line is a comment. With that
// variable set, node reads and parses every certificate of the bundle before it runs anything
// (30-50 ms here, four fifths of its start-up instructions); tracedat opens no TLS connection.
// Only the command run is loaded (each import below is in its case): start-up is paid on every
// call, and the modules of the other commands (and for --help the addon) are not needed.
import module from 'node:module';
import { TraceError } from './errors.js';
import { UsageError } from './usage.js';

// Node >= 22.1 keeps V8's compiled code of the modules between runs (in the temporary
// directory); Node 20 has no such cache and goes on without it.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const USAGE = `usage: tracedat <command> [options]

commands:
  dump     print the meta data of a trace.dat, like trace-cmd dump (identical output)
  convert  write a trace.dat again as v6 or v7 (zstd, zlib or uncompressed), like trace-cmd convert
  report   print the events of a trace.dat, like trace-cmd report (identical output)
  merge    merge a KVM host's trace and its guests' into one trace.dat in host time
  attach   copies of a host and its guests that trace-cmd report -i host -i guest lines up
  explain  guest latencies broken down by the host's exits, preemptions and interrupts meanwhile
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dump':
      return (await import('./commands/dump.js')).dumpCommand(rest);
    case 'convert':
      return (await import('./commands/convert.js')).convertCommand(rest);
    case 'report':
      return (await import('./commands/report.js')).reportCommand(rest);
    case 'merge':
      return (await import('./commands/merge.js')).mergeCommand(rest);
    case 'attach':
      return (await import('./commands/merge.js')).attachCommand(rest);
    case 'explain': {
      const { explainCommand, EXPLAIN_USAGE } = await import('./commands/explain.js');
      return explainCommand(rest).catch((e: unknown) => {
        if (e instanceof UsageError && e.usage === undefined) throw new UsageError(e.message, EXPLAIN_USAGE);
        throw e;
      });
    }
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
    if ((e as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') {
      // The reader went away (`| head`): stop quietly with the status a C tool killed by
      // SIGPIPE leaves (128 + 13), as trace-cmd does. Node ignores SIGPIPE, so it is an error here.
      process.exitCode = 141;
    } else if (e instanceof TraceError) {
      process.stderr.write(`tracedat: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof UsageError) {
      process.stderr.write(`tracedat: ${e.message}\n${e.usage === undefined ? USAGE : `${e.usage}\n`}`);
      process.exitCode = 1;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`tracedat: ${msg}\n`);
      process.exitCode = 2;
    }
  },
);
