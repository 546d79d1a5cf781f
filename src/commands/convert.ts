// `tracedat convert`: trace-cmd convert's flags (-i, -o, --file-version, --compression), plus
// --level; writes v7 (zstd) by default, like trace-cmd.
import { open } from '../trace.js';
import { UsageError } from '../usage.js';
import type { Compression } from '../convert.js';

export const CONVERT_USAGE = `usage: tracedat convert [-i] IN [-o] OUT [--file-version 6|7] [--compression any|none|zstd|zlib] [--level N]
  -i IN               input trace.dat (v6 or v7, any compression, or bundle.zip[:member])
  -o OUT              output file (written to a temporary file, then renamed)
  --file-version N    6 or 7 (default 7)
  --compression C     any (default for v7: zstd), none, zstd or zlib; v6 files are never compressed
  --level N           compression level (zstd -7..22, default 3; zlib 0..9, default 9)
With one file name and no -i/-o, it is the output and the input is trace.dat (as trace-cmd).`;

const COMPRESSIONS = ['any', 'none', 'zstd', 'zlib'];

export async function convertCommand(args: string[]): Promise<number> {
  let input: string | undefined;
  let output: string | undefined;
  let version: 6 | 7 = 7;
  let compression: Compression | undefined;
  let level: number | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // `--name=value`, `--name value`, `-xVALUE` and `-x VALUE`, as getopt_long takes them.
    const value = (name: string): string => {
      const eq = a.startsWith(`${name}=`) ? a.slice(name.length + 1) : a.length > 2 && !a.startsWith('--') ? a.slice(2) : args[++i];
      if (eq === undefined) throw new UsageError(`option ${name} needs a value`);
      return eq;
    };
    const is = (name: string) => a === name || a.startsWith(`${name}=`) || (name.length === 2 && a.startsWith(name) && a.length > 2 && !a.startsWith('--'));
    if (a === '-h' || a === '--help') {
      process.stdout.write(CONVERT_USAGE + '\n');
      return 0;
    } else if (is('-i')) {
      if (input !== undefined) throw new UsageError(`only one input file is supported, ${input} already set`);
      input = value('-i');
    } else if (is('-o')) {
      if (output !== undefined) throw new UsageError(`only one output file is supported, ${output} already set`);
      output = value('-o');
    } else if (is('--file-version')) {
      const v = value('--file-version');
      if (v !== '6' && v !== '7') throw new UsageError(`unsupported file version ${v}, supported versions are from 6 to 7`);
      version = Number(v) as 6 | 7;
    } else if (is('--compression')) {
      const c = value('--compression');
      if (!COMPRESSIONS.includes(c)) throw new UsageError(`compression algorithm ${c} is not supported (${COMPRESSIONS.join(', ')})`);
      compression = c as Compression;
    } else if (is('--level')) {
      const l = value('--level');
      if (!/^-?\d+$/.test(l)) throw new UsageError(`--level needs an integer, not ${l}`);
      level = Number(l);
    } else if (a.startsWith('-') && a.length > 1) {
      throw new UsageError(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  // trace-cmd: a lone file name is the output (the input defaults to trace.dat); ours also
  // takes `IN OUT`.
  if (input === undefined && output === undefined && positional.length === 2) [input, output] = positional;
  else if (output === undefined && positional.length === 1) output = positional.shift();
  else if (input === undefined && positional.length === 1) input = positional.shift();
  else if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
  if (output === undefined) throw new UsageError('no output file (-o OUT)');
  input ??= 'trace.dat';
  if (version === 6 && compression !== undefined && compression !== 'none') {
    throw new UsageError(`--compression ${compression} needs --file-version 7: v6 files are never compressed`);
  }
  const trace = await open(input);
  for (const w of trace.warnings) process.stderr.write(`tracedat: convert: ${input}: ${w}\n`);
  const tty = process.stderr.isTTY === true;
  const r = await trace.convert(output, { version, compression, level, progress: tty });
  if (tty) {
    const kind = r.version === 6 ? 'v6' : `v7 ${r.compression}`;
    process.stderr.write(`tracedat: wrote ${output} (${kind}, ${r.size} bytes)\n`);
  }
  return 0;
}
