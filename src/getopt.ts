// getopt_long's syntax, for every command: bundled short options (`-Rt`), attached values
// (`-iFILE`, `--cpu=0`), separate values (`-i FILE`, `--cpu 0`), unambiguous prefixes of long
// names (`--first` for `--first-event`), `--` ending the options; arguments that are not
// options are collected in order wherever they appear (GNU's permutation).
import { UsageError } from './usage.js';

/** One option a command takes: its short letter and/or long name, and whether it has a value
 * (`required`: attached or the next argument; `optional`: attached only, as getopt's `::`). */
export interface OptionSpec {
  short?: string;
  long?: string;
  value?: 'required' | 'optional';
}

/** An option as given: its key (the long name when it has one, else the letter) and value. */
export interface GivenOption {
  key: string;
  value: string | undefined;
}

export interface Parsed {
  /** The options in the order given (order matters: `-F` after `-i` is that input's). */
  options: GivenOption[];
  positional: string[];
  /** Options and other arguments (key '') together, in the order given. */
  sequence: GivenOption[];
}

const keyOf = (o: OptionSpec): string => o.long ?? o.short!;

/**
 * Parses `args` against `spec`. A mistake (unknown or ambiguous option, a value missing or
 * given to an option that takes none) is a UsageError with getopt's wording, prefixed by
 * `command` and carrying `usage`.
 */
export function getopt(args: readonly string[], spec: readonly OptionSpec[], command: string, usage: string): Parsed {
  const fail = (message: string): never => {
    throw new UsageError(`${command}: ${message}`, usage);
  };
  const sequence: GivenOption[] = [];
  const positional: string[] = [];
  const options: GivenOption[] = [];
  const add = (o: GivenOption) => {
    options.push(o);
    sequence.push(o);
  };
  const arg = (a: string) => {
    positional.push(a);
    sequence.push({ key: '', value: a });
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      args.slice(i + 1).forEach(arg);
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const exact = spec.find((o) => o.long === name);
      const prefixed = spec.filter((o) => o.long?.startsWith(name));
      const o = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      if (o === undefined) fail(prefixed.length > 1 ? `option '--${name}' is ambiguous; possibilities: ${prefixed.map((p) => `'--${p.long}'`).join(' ')}` : `unrecognized option '--${name}'`);
      const opt = o!;
      let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
      if (opt.value === undefined && value !== undefined) fail(`option '--${opt.long}' doesn't allow an argument`);
      if (opt.value === 'required' && value === undefined) {
        if (i + 1 >= args.length) fail(`option '--${opt.long}' requires an argument`);
        value = args[++i];
      }
      add({ key: keyOf(opt), value });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const o = spec.find((s) => s.short === c);
        if (o === undefined) fail(`invalid option -- '${c}'`);
        const opt = o!;
        if (opt.value === undefined) {
          add({ key: keyOf(opt), value: undefined });
          continue;
        }
        // The rest of this argument is the value; a required one may be the next argument.
        let value: string | undefined = j + 1 < a.length ? a.slice(j + 1) : undefined;
        if (opt.value === 'required' && value === undefined) {
          if (i + 1 >= args.length) fail(`option requires an argument -- '${c}'`);
          value = args[++i];
        }
        add({ key: keyOf(opt), value });
        break;
      }
      continue;
    }
    arg(a);
  }
  return { options, positional, sequence };
}

/** `-h` and `--help`, which every command takes. */
export const HELP: readonly OptionSpec[] = [{ short: 'h', long: 'help' }];
