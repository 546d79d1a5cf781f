// `tracedat dump`: trace-cmd dump's flags and output, byte for byte.
import { open, TraceFile } from '../trace.js';
import { DumpItem } from '../constants.js';
import { TraceError } from '../errors.js';
import { writeStdout } from './stdout.js';

const FLAGS: Record<string, number> = {
  '--all': DumpItem.all,
  '-a': DumpItem.all,
  '--summary': DumpItem.summary,
  '--head-page': DumpItem.headPage,
  '--head-event': DumpItem.headEvent,
  '--ftrace-events': DumpItem.ftraceEvents,
  '--systems': DumpItem.systems,
  '--events': DumpItem.events,
  '--kallsyms': DumpItem.kallsyms,
  '--printk': DumpItem.printk,
  '--cmd-lines': DumpItem.cmdLines,
  '--options': DumpItem.options,
  '--flyrecord': DumpItem.flyrecord,
  '--clock': DumpItem.clock,
  '--sections': DumpItem.sections,
  '--strings': DumpItem.strings,
};

export const DUMP_USAGE = `usage: tracedat dump [options] [-i FILE | FILE]
  --summary (default)  --head-page  --head-event  --ftrace-events  --systems  --events
  --kallsyms  --printk  --cmd-lines  --options  --flyrecord  --clock  --sections  --strings
  --all  -v/--validate (also walks every page of every CPU)
  --salvage (with -v: steps over damaged pages and chunks, names each on stderr, exit 2)
FILE may be a .zip holding one .dat, or bundle.zip:member.dat; default trace.dat`;

function write(buf: Buffer | string): void {
  writeStdout(typeof buf === 'string' ? Buffer.from(buf) : buf);
}

export async function dumpCommand(args: string[]): Promise<number> {
  let items = 0;
  let validate = false;
  let salvage = false;
  let input: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-i') {
      input = args[++i];
      if (input === undefined) throw new TraceError('dump', 'arguments', undefined, 'a file after -i');
    } else if (a === '-v' || a === '--validate') {
      validate = true;
    } else if (a === '--salvage') {
      salvage = true;
    } else if (a === '-h' || a === '--help') {
      write(DUMP_USAGE + '\n');
      return 0;
    } else if (a.startsWith('--verbose')) {
      // trace-cmd's log level; dump output does not depend on it.
    } else if (a in FLAGS) {
      items = (items | FLAGS[a]!) >>> 0;
    } else if (a.startsWith('-') && a.length > 1) {
      process.stderr.write(`tracedat: dump: unknown option ${a}\n${DUMP_USAGE}\n`);
      return 1;
    } else {
      positional.push(a);
    }
  }
  if (positional.length > 1 || (positional.length === 1 && input !== undefined)) {
    process.stderr.write(`tracedat: dump: one input file only\n${DUMP_USAGE}\n`);
    return 1;
  }
  if (salvage && !validate) {
    process.stderr.write(`tracedat: dump: --salvage goes with -v\n${DUMP_USAGE}\n`);
    return 1;
  }
  const file = input ?? positional[0] ?? 'trace.dat';
  if (items === 0 && !validate) items = DumpItem.summary;
  const trace: TraceFile = await open(file);
  try {
    write(trace.dump(items, file));
  } catch (e) {
    const partial = (e as { partial?: Buffer }).partial;
    if (partial) write(partial);
    throw e;
  }
  if (validate) {
    // trace-cmd stops at the metadata; we also check that the CPU data is whole and walk every
    // page of every CPU, so damaged ring-buffer data is named (buffer, CPU, file offset)
    // instead of declared valid. With --salvage every damaged region is stepped over and
    // named on stderr, one line each in the error form; the file is then not valid (exit 2)
    // but all else has been read.
    if (!salvage) {
      trace.validate();
      trace.scan();
    } else {
      const { framing, skipped } = trace.damage();
      const lines = [...(framing ? [`tracedat: ${framing.message}\n`] : []), ...skipped.map((s) => `tracedat: ${file}: ${s.section}, offset ${s.offset}: ${s.expected}; skipped ${s.what}\n`)];
      if (lines.length) {
        process.stderr.write(lines.join(''));
        return 2;
      }
    }
    write(`File ${file} is a valid trace-cmd file\n`);
  }
  return 0;
}
