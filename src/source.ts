// Where a trace's bytes come from: a path (mapped by the addon), or a member of a .zip bundle
// (`bundle.zip` holding one .dat, or `bundle.zip:dir/guest.dat`), read with yauzl-promise.
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { TraceError } from './errors.js';

export type Source = { kind: 'path'; path: string } | { kind: 'bytes'; bytes: Buffer };

/** Largest .zip member we inflate into memory (a mapped path has no such limit). */
const MAX_MEMBER = 8 * 1024 ** 3;

function isZip(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === 0x04034b50;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Splits `bundle.zip:member` when `bundle.zip` is an existing file and the whole is not. */
function splitZipPath(spec: string): { zip: string; member: string | undefined } | undefined {
  if (isFile(spec)) return isZip(spec) ? { zip: spec, member: undefined } : undefined;
  for (let i = spec.indexOf(':'); i > 0; i = spec.indexOf(':', i + 1)) {
    const zip = spec.slice(0, i);
    if (isFile(zip) && isZip(zip)) return { zip, member: spec.slice(i + 1) };
  }
  return undefined;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Most member names an error about a .zip lists. */
const MAX_LISTED = 20;

/** `a, b, c` (and how many more), for errors naming what an archive holds. */
function listNames(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

export async function resolveSource(spec: string): Promise<Source> {
  const z = splitZipPath(spec);
  if (!z) {
    // The addon maps what it is given; a directory would only say ENODEV there.
    if (isDirectory(spec)) throw new TraceError(spec, 'file', undefined, 'a trace.dat file, found a directory');
    return { kind: 'path', path: spec };
  }
  // Loaded here, not at start-up: it costs the CLI ~0.1-0.2 s and only .zip inputs need it.
  const { default: yauzl } = await import('yauzl-promise');
  const zip = await yauzl.open(z.zip).catch((e: Error) => {
    throw new TraceError(spec, 'zip archive', undefined, `a readable .zip (${e.message})`);
  });
  try {
    const entries = [];
    for await (const entry of zip) {
      if (!entry.filename.endsWith('/')) entries.push(entry);
    }
    let entry;
    if (z.member !== undefined) {
      entry = entries.find((e) => e.filename === z.member);
      if (!entry) {
        const names = entries.map((e) => e.filename);
        throw new TraceError(spec, 'zip archive', undefined, `a member named ${z.member}; ${z.zip} holds ${listNames(names)}`);
      }
    } else {
      const dats = entries.filter((e) => e.filename.endsWith('.dat'));
      if (dats.length !== 1) {
        const held = dats.length > 0 ? `: ${listNames(dats.map((e) => e.filename))}` : `; it holds ${listNames(entries.map((e) => e.filename))}`;
        throw new TraceError(spec, 'zip archive', undefined, `exactly one .dat member (found ${dats.length}${held}); name one as ${z.zip}:MEMBER`);
      }
      entry = dats[0]!;
    }
    if (entry.uncompressedSize > MAX_MEMBER) {
      throw new TraceError(spec, 'zip archive', undefined, `a member of at most ${MAX_MEMBER} bytes`);
    }
    const stream = await entry.openReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { kind: 'bytes', bytes: Buffer.concat(chunks) };
  } finally {
    await zip.close();
  }
}
