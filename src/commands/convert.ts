// `tracedat convert`: trace-cmd convert's flags (-i, -o, --file-version, --compression), plus
// --level; writes v7 (zstd) by default, like trace-cmd.
import { open } from '../trace.js';
import { UsageError } from '../usage.js';
import { getopt, HELP, type OptionSpec } from '../getopt.js';
import type { Compression } from '../convert.js';

export const CONVERT_USAGE = `usage: tracedat convert [-i] IN [-o] OUT [--file-version 6|7] [--compression any|none|zstd|zlib] [--level N]
  -i IN               input trace.dat (v6 or v7, any compression, or bundle.zip[:member])
  -o OUT              output file (written to a temporary file, then renamed)
  --file-version N    6 or 7 (default 7)
  --compression C     any (default for v7: zstd), none, zstd or zlib; v6 files are never compressed
  --level N           compression level (zstd -7..22, default 3; zlib 0..9, default 9)
With one file name and no -i/-o, it is the output and the input is trace.dat (as trace-cmd).`;

const COMPRESSIONS = ['any', 'none', 'zstd', 'zlib'];

const CONVERT_OPTIONS: readonly OptionSpec[] = [
  ...HELP,
  { short: 'i', value: 'required' },
  { short: 'o', value: 'required' },
  { long: 'file-version', value: 'required' },
  { long: 'compression', value: 'required' },
  { long: 'level', value: 'required' },
];

export async function convertCommand(args: string[]): Promise<number> {
  let input: string | undefined;
  let output: string | undefined;
  let version: 6 | 7 = 7;
  let compression: Compression | undefined;
  let level: number | undefined;
  const { options, positional } = getopt(args, CONVERT_OPTIONS, 'convert', CONVERT_USAGE);
  for (const { key, value } of options) {
    const v = value ?? '';
    if (key === 'help') {
      process.stdout.write(CONVERT_USAGE + '\n');
      return 0;
    } else if (key === 'i') {
      if (input !== undefined) throw new UsageError(`convert: only one input file is supported, ${input} already set`, CONVERT_USAGE);
      input = v;
    } else if (key === 'o') {
      if (output !== undefined) throw new UsageError(`convert: only one output file is supported, ${output} already set`, CONVERT_USAGE);
      output = v;
    } else if (key === 'file-version') {
      if (v !== '6' && v !== '7') throw new UsageError(`convert: unsupported file version ${v}, supported versions are from 6 to 7`, CONVERT_USAGE);
      version = Number(v) as 6 | 7;
    } else if (key === 'compression') {
      if (!COMPRESSIONS.includes(v)) throw new UsageError(`convert: compression algorithm ${v} is not supported (${COMPRESSIONS.join(', ')})`, CONVERT_USAGE);
      compression = v as Compression;
    } else if (key === 'level') {
      if (!/^-?\d+$/.test(v)) throw new UsageError(`convert: --level needs an integer, not ${v}`, CONVERT_USAGE);
      level = Number(v);
    }
  }
  // trace-cmd: a lone file name is the output (the input defaults to trace.dat); ours also
  // takes `IN OUT`.
  if (input === undefined && output === undefined && positional.length === 2) [input, output] = positional;
  else if (output === undefined && positional.length === 1) output = positional.shift();
  else if (input === undefined && positional.length === 1) input = positional.shift();
  else if (positional.length > 0) throw new UsageError(`convert: unexpected argument ${positional[0]}`, CONVERT_USAGE);
  if (output === undefined) throw new UsageError('convert: no output file (-o OUT)', CONVERT_USAGE);
  input ??= 'trace.dat';
  if (version === 6 && compression !== undefined && compression !== 'none') {
    throw new UsageError(`convert: --compression ${compression} needs --file-version 7: v6 files are never compressed`, CONVERT_USAGE);
  }
  const trace = await open(input);
  for (const w of trace.warnings) process.stderr.write(`tracedat: convert: ${input}: ${w}\n`);
  const tty = process.stderr.isTTY === true;
  const r = await trace.convert(output, { version, compression, level, progress: tty }).catch((e: unknown) => {
    // What the writer refuses (an output that is the input, a buffer that is not there).
    throw e instanceof UsageError ? new UsageError(`convert: ${e.message}`, CONVERT_USAGE) : e;
  });
  if (tty) {
    const kind = r.version === 6 ? 'v6' : `v7 ${r.compression}`;
    process.stderr.write(`tracedat: wrote ${output} (${kind}, ${r.size} bytes)\n`);
  }
  return 0;
}
