// bench/gen.mjs: the replayed inputs of the benchmark are files trace-cmd reads as one long
// recording (every record of each set printed by `trace-cmd report`, pairs with -i host -i guest),
// with monotonic times per CPU, and the TIME_SHIFT guest lined up on its host by both tools.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { open } from '../src/index.js';
// @ts-expect-error: a plain .mjs script of bench/, no declarations
import { check, generate, parseSize, shared } from '../bench/gen.mjs';
import { existsSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'tracedat-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench:gen', () => {
  test('sizes', () => {
    expect([parseSize('2G'), parseSize('256M'), parseSize('4k'), parseSize('100')]).toEqual([2 ** 31, 2 ** 28, 4096, 100]);
    expect(() => parseSize('2X')).toThrow(/--size 2X/);
  });

  test('a 3 MiB set: trace-cmd reports every record; times monotonic per CPU; the TIME_SHIFT guest on host time', async () => {
    if (!existsSync(join(shared as string, 'fixtures', 'real'))) throw new Error(`bench:gen needs ${shared}/fixtures/real (../shared is not there)`);
    const files = (await generate(3 * 2 ** 20, dir, () => {})) as { single: string; ts: string[]; kvm: string[] };
    expect(await check(files)).toEqual([]);
    for (const f of [`${files.single}-none.dat`, `${files.kvm[1]}-zstd.dat`]) {
      const t = await open(f);
      const last = new Map<number, bigint>();
      let n = 0;
      for (const r of t.records(0, { rawTimestamps: true })) {
        expect(r.rawTimestamp >= (last.get(r.cpu) ?? 0n), `${f} CPU ${r.cpu} record ${n}`).toBe(true);
        last.set(r.cpu, r.rawTimestamp);
        n++;
      }
      expect(n).toBeGreaterThan(1000);
    }
    // The guest is the host's pages on a clock 1e12 ahead; TIME_SHIFT brings each record back.
    const [host, guest] = await Promise.all(files.ts.map((b) => open(`${b}-none.dat`)));
    const h = [...host!.records(0)].slice(0, 1000).map((r) => r.timestamp);
    const g = [...guest!.records(0)].slice(0, 1000).map((r) => r.timestamp);
    expect(g).toEqual(h);
  }, 60_000);
});
