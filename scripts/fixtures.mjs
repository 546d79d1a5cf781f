// Where the shared fixtures are, for tests, the fuzz harness, the bench and the example:
// $TRACEDAT_FIXTURES, else the nearest `shared/fixtures` in a folder above the repository.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function find() {
  const env = process.env.TRACEDAT_FIXTURES;
  if (env) return existsSync(env) ? resolve(env) : null;
  for (let d = dirname(ROOT); ; d = dirname(d)) {
    const f = join(d, 'shared', 'fixtures');
    if (existsSync(f)) return f;
    if (dirname(d) === d) return null;
  }
}

/** The fixtures folder (holding `real/` and `public/`), or null when there is none. */
export const FIXTURES = find();

/** The one line said when the fixtures are missing. */
export const MISSING = process.env.TRACEDAT_FIXTURES
  ? `the shared fixtures are not at $TRACEDAT_FIXTURES (${process.env.TRACEDAT_FIXTURES})`
  : `no shared/fixtures found above ${ROOT} (set $TRACEDAT_FIXTURES to the folder holding real/ and public/)`;

/** The fixtures folder; throws the one line of MISSING when there is none. */
export function fixtures() {
  if (FIXTURES === null) throw new Error(MISSING);
  return FIXTURES;
}
