// The pieces of tracedat's fuzz harness (scripts/fuzz.mjs), shared with test/fuzz.test.ts:
// fixtures and their layout, mutation classes, the commands a case runs, and the judge.
//
// A case is deterministic: (seed, case number) picks the fixture (round-robin over all of
// them), the mutation class and every random choice. A mutation is a list of splices
// `{ at, del, ins }` applied in order to the fixture's bytes, so a failure is saved as a small
// JSON recipe that replays from the fixture however large the fixture is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
// Option ids (and v7 section ids, which are option ids), as the addon defines them.
import { OptionId as OPT } from '../dist/index.js';
import { fixtures as fixturesDir } from './fixtures.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURE_DIRS = { real: join(fixturesDir(), 'real'), public: join(fixturesDir(), 'public') };
export const REGRESSIONS = join(ROOT, 'fixtures', 'fuzz-regressions');

/** The one stderr line of a failure: `tracedat: FILE: SECTION, offset N: EXPECTED`. */
export const ERROR_LINE = /^tracedat: .+: .+, offset \d+: .+$/;

// ---- random numbers -----------------------------------------------------------------------

/** mulberry32 seeded from (seed, case): the same case always makes the same choices. */
export function rng(seed, n) {
  let a = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(n >>> 0, 0x85ebca77) ^ 0x27d4eb2f) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
  return r;
}

// ---- fixtures -------------------------------------------------------------------------------

/** Every real and public fixture, as `{ name: 'real/x.dat', path }`, sorted. */
export function fixtures() {
  const out = [];
  for (const [dir, path] of Object.entries(FIXTURE_DIRS)) {
    if (!existsSync(path)) continue;
    for (const f of readdirSync(path).filter((f) => f.endsWith('.dat')).sort()) out.push({ name: `${dir}/${f}`, path: join(path, f) });
  }
  return out;
}

export function fixturePath(name) {
  const [dir, ...rest] = name.split('/');
  return join(FIXTURE_DIRS[dir], rest.join('/'));
}

// ---- layout: where the size and count fields are ------------------------------------------

/**
 * The places a mutation aims at, found by walking the file with the metadata the API gives
 * (`TraceFile.metadata`): every size, count and offset field with its width, v7 section
 * headers, options sections and their DONE links, CPU streams with their chunks or pages.
 */
export function layout(buf, meta) {
  const be = meta.bigEndian;
  const L = {
    be,
    v7: meta.version >= 7,
    codec: meta.compression?.name ?? null,
    size: buf.length,
    fields: [],
    sections: [],
    optionSections: [],
    dones: [],
    firstOptions: null,
    cpuTables: [],
    streams: [],
  };
  const u = (at, w) => {
    if (at < 0 || at + w > buf.length) throw new RangeError('outside');
    if (w === 1) return buf[at];
    if (w === 2) return be ? buf.readUInt16BE(at) : buf.readUInt16LE(at);
    if (w === 4) return be ? buf.readUInt32BE(at) : buf.readUInt32LE(at);
    return Number(be ? buf.readBigUInt64BE(at) : buf.readBigUInt64LE(at));
  };
  const field = (name, at, w) => {
    L.fields.push({ name, at, w, value: u(at, w) });
    return u(at, w);
  };
  const cstrEnd = (at) => {
    const e = buf.indexOf(0, at);
    if (e < 0) throw new RangeError('no NUL');
    return e + 1;
  };
  // Initial header.
  let p = cstrEnd(10);
  field('endian flag', p, 1);
  field('long size', p + 1, 1);
  field('page size', p + 2, 4);
  p += 6;
  if (L.v7) {
    p = cstrEnd(cstrEnd(p));
    L.firstOptions = field('first options section', p, 8);
    p += 8;
  }
  const headerEnd = p;
  const sized = (name, at, w) => at + w + field(name, at, w);
  // Metadata in v6 order (also the content of uncompressed v7 sections).
  const metaBlock = (q, kind) => {
    if (kind === 'headers') {
      q = sized('header_page size', q + 12, 8);
      return sized('header_event size', q + 13, 8);
    }
    if (kind === 'ftrace') {
      const n = field('ftrace format count', q, 4);
      q += 4;
      for (let i = 0; i < n; i++) q = sized('ftrace format size', q, 8);
      return q;
    }
    if (kind === 'events') {
      const n = field('event system count', q, 4);
      q += 4;
      for (let i = 0; i < n; i++) {
        q = cstrEnd(q);
        const m = field('event count', q, 4);
        q += 4;
        for (let j = 0; j < m; j++) q = sized('event format size', q, 8);
      }
      return q;
    }
    if (kind === 'kallsyms') return sized('kallsyms size', q, 4);
    if (kind === 'printk') return sized('printk size', q, 4);
    return sized('cmdlines size', q, 8);
  };
  const KINDS = { [OPT.HEADER_INFO]: 'headers', [OPT.FTRACE_EVENTS]: 'ftrace', [OPT.EVENT_FORMATS]: 'events', [OPT.KALLSYMS]: 'kallsyms', [OPT.PRINTK]: 'printk', [OPT.CMDLINES]: 'cmdlines' };
  // Options: `u16 id, u32 size, payload`; v6 lists end at id 0 with no size.
  const options = (q, end, v6) => {
    let clock = false;
    while (q + 2 <= end) {
      const id = u(q, 2);
      if (v6 && id === OPT.DONE) return { end: q + 2, clock };
      const size = field(`option ${id} size`, q + 2, 4);
      const pl = q + 6;
      if (id === OPT.TRACECLOCK) clock = true;
      if (id === OPT.DONE && !v6 && size >= 8) L.dones.push({ at: pl, value: field('options chain link', pl, 8) });
      if (id >= OPT.HEADER_INFO && id <= OPT.CMDLINES && size >= 8) field(`option ${id} section offset`, pl, 8);
      if (id === OPT.BUFFER || id === OPT.BUFFER_TEXT) {
        field('buffer offset', pl, 8);
        if (!v6) {
          let b = cstrEnd(cstrEnd(pl + 8));
          if (id === OPT.BUFFER) {
            field('buffer page size', b, 4);
            const n = field('buffer CPU count', b + 4, 4);
            b += 8;
            const table = [];
            for (let i = 0; i < n; i++, b += 20) {
              field('buffer CPU id', b, 4);
              table.push({ offset: field('buffer CPU offset', b + 4, 8), offAt: b + 4, sizeAt: b + 12, size: field('buffer CPU size', b + 12, 8) });
            }
            L.cpuTables.push(table);
          }
        }
      }
      if (id === OPT.DONE && !v6) return { end: pl + size, clock };
      q = pl + size;
    }
    return { end: q, clock };
  };
  if (L.v7) {
    for (let q = headerEnd; q + 16 <= buf.length; ) {
      const s = { at: q, id: field('section id', q, 2), flags: field('section flags', q + 2, 2), size: field('section size', q + 8, 8) };
      L.sections.push(s);
      if (s.flags & 1 && s.id !== OPT.BUFFER && s.id !== OPT.BUFFER_TEXT && s.size >= 8) {
        s.block = { at: q + 16, csize: field('block compressed size', q + 16, 4), usize: field('block uncompressed size', q + 20, 4) };
      }
      q += 16 + s.size;
    }
    for (let at = L.firstOptions, seen = new Set(); at && !seen.has(at); ) {
      seen.add(at);
      const s = L.sections.find((x) => x.at === at);
      if (!s) break;
      L.optionSections.push(s);
      if (s.flags & 1) break;
      const before = L.dones.length;
      options(at + 16, at + 16 + s.size, false);
      at = L.dones.length > before ? L.dones[L.dones.length - 1].value : 0;
    }
    for (const s of L.sections) {
      if (!(s.flags & 1) && KINDS[s.id]) {
        try {
          metaBlock(s.at + 16, KINDS[s.id]);
        } catch {
          // A layout the walk does not know; the section header fields are still there.
        }
      }
    }
  } else {
    let q = headerEnd;
    for (const k of ['headers', 'ftrace', 'events', 'kallsyms', 'printk', 'cmdlines']) q = metaBlock(q, k);
    const cpus = field('CPU count', q, 4);
    q += 4;
    let clock = false;
    const tags = (q, once) => {
      for (;;) {
        const tag = buf.subarray(q, q + 10).toString('latin1');
        if (tag === 'options  \0') {
          const r = options(q + 10, buf.length, true);
          clock ||= r.clock;
          q = r.end;
        } else if (tag === 'flyrecord\0') {
          q += 10;
          const table = [];
          for (let i = 0; i < cpus; i++, q += 16) table.push({ offset: field('flyrecord CPU offset', q, 8), offAt: q, sizeAt: q + 8, size: field('flyrecord CPU size', q + 8, 8) });
          L.cpuTables.push(table);
          if (clock) q = sized('clock trailer size', q, 8);
          if (once) return;
        } else return;
      }
    };
    tags(q, false);
    for (const o of meta.options.filter((o) => o.id === OPT.BUFFER)) {
      try {
        tags(o.value.offset, true);
      } catch {
        // Instance tables the walk cannot follow stay unmutated.
      }
    }
  }
  // CPU streams, from the metadata the reader gave.
  meta.buffers.forEach((b, bi) => {
    for (const c of b.cpus ?? []) {
      if (c.size === 0) continue;
      const s = { buffer: bi, cpu: c.cpu, offset: c.offset, size: c.size, pageSize: b.pageSize, chunks: null, pages: [] };
      if (L.codec) {
        const n = field('chunk count', c.offset, 4);
        s.chunks = [];
        for (let i = 0, q = c.offset + 4; i < n && q + 8 <= buf.length; i++) {
          const ch = { at: q, csize: field('chunk compressed size', q, 4), usize: field('chunk uncompressed size', q + 4, 4) };
          s.chunks.push(ch);
          q += 8 + ch.csize;
        }
      } else {
        for (let q = c.offset; q + b.pageSize <= c.offset + c.size; q += b.pageSize) s.pages.push(q);
        for (const q of s.pages.slice(0, 64)) field('page commit', q + 8, meta.kernelLongSize);
      }
      L.streams.push(s);
    }
  });
  L.fields = L.fields.filter((f) => f.at + f.w <= buf.length);
  return L;
}

// ---- mutations ------------------------------------------------------------------------------

const put = (L, v, w) => {
  const b = Buffer.alloc(w);
  const big = BigInt.asUintN(w * 8, BigInt(v));
  if (w === 1) b[0] = Number(big);
  else if (w === 2) L.be ? b.writeUInt16BE(Number(big)) : b.writeUInt16LE(Number(big));
  else if (w === 4) L.be ? b.writeUInt32BE(Number(big)) : b.writeUInt32LE(Number(big));
  else L.be ? b.writeBigUInt64BE(big) : b.writeBigUInt64LE(big);
  return b;
};
const write = (at, bytes) => ({ at, del: bytes.length, ins: bytes });

/** A structurally interesting offset: a field, a section or page start, or anywhere. */
function spot(r, L) {
  const k = r.int(0, 3);
  if (k === 0 || L.fields.length === 0) return r.int(0, L.size - 1);
  if (k === 1 && L.streams.length) {
    const s = r.pick(L.streams);
    const base = s.chunks?.length ? r.pick(s.chunks).at : s.pages.length ? r.pick(s.pages) : s.offset;
    return Math.min(L.size - 1, base + r.int(0, 64));
  }
  const f = r.pick(L.fields);
  return Math.max(0, Math.min(L.size - 1, f.at + r.int(-8, f.w + 8)));
}

function inflated(r, L, f) {
  const max = 2 ** (8 * f.w) - 1;
  const v = r.pick([f.value + 1, f.value + r.int(2, 64), f.value * 2 + 1, f.value + L.size, max, 2 ** (8 * f.w - 1), L.size, L.size - f.at, 0x10000000]);
  return Math.min(v, max);
}

/** Mutation classes: each returns `{ detail, ops }` or null when it does not apply. */
export const CLASSES = {
  truncate(r, L) {
    const at = r.chance(0.5) ? r.int(0, L.size - 1) : spot(r, L);
    return { detail: `truncate to ${at} bytes`, ops: [{ at, del: L.size - at, ins: Buffer.alloc(0) }] };
  },
  bitflip(r, L, buf) {
    const ops = [];
    const n = r.int(1, 4);
    for (let i = 0; i < n; i++) {
      const at = r.chance(0.3) ? r.int(0, L.size - 1) : spot(r, L);
      ops.push(write(at, Buffer.from([buf[at] ^ (1 << r.int(0, 7))])));
    }
    return { detail: `flip ${n} bit(s) at ${ops.map((o) => o.at).join(',')}`, ops };
  },
  'inflate-field'(r, L) {
    if (!L.fields.length) return null;
    const f = r.pick(L.fields);
    const v = inflated(r, L, f);
    return { detail: `${f.name} @ ${f.at}: ${f.value} -> ${v}`, ops: [write(f.at, put(L, v, f.w))] };
  },
  'zero-field'(r, L) {
    const f = L.fields.length ? r.pick(L.fields.filter((f) => f.value !== 0)) : null;
    if (!f) return null;
    return { detail: `${f.name} @ ${f.at}: ${f.value} -> 0`, ops: [write(f.at, Buffer.alloc(f.w))] };
  },
  'dup-run'(r, L, buf) {
    const at = spot(r, L);
    const len = Math.min(L.size - at, r.pick([r.int(1, 16), r.int(17, 512), r.int(513, 8192)]));
    return { detail: `duplicate ${len} bytes at ${at}`, ops: [{ at, del: 0, ins: Buffer.from(buf.subarray(at, at + len)) }] };
  },
  'drop-run'(r, L) {
    const at = spot(r, L);
    const len = Math.min(L.size - at, r.pick([r.int(1, 16), r.int(17, 512), r.int(513, 8192)]));
    return { detail: `drop ${len} bytes at ${at}`, ops: [{ at, del: len, ins: Buffer.alloc(0) }] };
  },
  'chunk-corrupt'(r, L, buf, fx) {
    const chunks = L.streams.flatMap((s) => s.chunks ?? []);
    const blocks = L.sections.filter((s) => s.block).map((s) => s.block);
    const all = [...chunks, ...blocks];
    if (!all.length || !L.codec) return null;
    const k = r.int(0, 4);
    if (k === 4 && fx?.variants?.length) {
      const v = r.pick(fx.variants);
      return { detail: `chunk @ ${v.at}: recompressed with ${v.what}`, ops: [write(v.at + 8, v.data)] };
    }
    const c = r.pick(all);
    if (k === 0) {
      const at = c.at + 8 + r.int(0, Math.max(0, Math.min(c.csize, L.size - c.at - 9)));
      return { detail: `chunk @ ${c.at}: corrupt compressed byte ${at}`, ops: [write(at, Buffer.from([r.int(0, 255)]))] };
    }
    if (k === 1) {
      const v = r.pick([0xffffffff, 0x40000000, 0x3fffffff, c.usize * 1000, c.usize + 1, c.usize - 1, 0]);
      return { detail: `chunk @ ${c.at}: uncompressed size ${c.usize} -> ${v >>> 0}`, ops: [write(c.at + 4, put(L, v, 4))] };
    }
    if (k === 2) {
      const v = r.pick([c.csize + 1, c.csize - 1, 0, 0xffffffff, c.csize * 2]);
      return { detail: `chunk @ ${c.at}: compressed size ${c.csize} -> ${v >>> 0}`, ops: [write(c.at, put(L, v, 4))] };
    }
    // A bomb: a valid stream of zeros far larger than any chunk, declared honestly.
    const bomb = fx?.bomb;
    if (!bomb || c.csize < bomb.data.length) return { detail: `chunk @ ${c.at}: zero the compressed data`, ops: [write(c.at + 8, Buffer.alloc(Math.min(c.csize, L.size - c.at - 8)))] };
    return { detail: `chunk @ ${c.at}: a ${bomb.size}-byte ${L.codec} bomb`, ops: [write(c.at, Buffer.concat([put(L, c.csize, 4), put(L, bomb.size, 4), bomb.data]))] };
  },
  'options-loop'(r, L) {
    if (!L.v7 || !L.optionSections.length) return null;
    const targets = [...L.optionSections.map((s) => s.at), L.firstOptions];
    if (L.dones.length && r.chance(0.6)) {
      const d = r.pick(L.dones);
      const to = r.chance(0.8) ? r.pick(targets) : r.pick(L.sections).at;
      return { detail: `options chain link @ ${d.at}: ${d.value} -> ${to}`, ops: [write(d.at, put(L, to, 8))] };
    }
    // Compressed options: overwrite the first options section with a plain one that links back.
    const at = L.firstOptions;
    const to = r.pick(targets);
    const sec = Buffer.concat([put(L, 0, 2), put(L, 0, 2), put(L, 0xffffffff, 4), put(L, 14, 8), put(L, 0, 2), put(L, 8, 4), put(L, to, 8)]);
    return { detail: `options section @ ${at} rewritten, DONE -> ${to}`, ops: [write(at, sec)] };
  },
  overlap(r, L) {
    const k = r.int(0, 3);
    const tables = L.cpuTables.filter((t) => t.length);
    if (k === 0 && tables.length) {
      const t = r.pick(tables);
      const a = r.pick(t);
      const b = r.pick(t);
      const to = r.chance(0.5) ? b.offset : b.offset + r.int(1, Math.max(1, b.size - 1));
      return { detail: `CPU data offset @ ${a.offAt}: ${a.offset} -> ${to}`, ops: [write(a.offAt, put(L, to, 8))] };
    }
    if (k === 1 && tables.length) {
      const t = r.pick(tables);
      const a = r.pick(t);
      const v = a.size + r.pick([L.size, a.size, 4096, 1]);
      return { detail: `CPU data size @ ${a.sizeAt}: ${a.size} -> ${v}`, ops: [write(a.sizeAt, put(L, v, 8))] };
    }
    if (k === 2 && L.sections.length > 1) {
      const i = r.int(0, L.sections.length - 2);
      const s = L.sections[i];
      const v = s.size + 16 + r.int(0, L.sections[i + 1].size);
      return { detail: `section @ ${s.at} size ${s.size} -> ${v}`, ops: [write(s.at + 8, put(L, v, 8))] };
    }
    const ptrs = L.fields.filter((f) => /section offset|buffer offset|first options/.test(f.name));
    if (!ptrs.length) return null;
    const f = r.pick(ptrs);
    const starts = L.v7 ? L.sections.map((s) => s.at) : L.fields.map((g) => g.at);
    const to = r.chance(0.7) ? r.pick(starts) : r.pick(starts) + r.int(1, 64);
    return { detail: `${f.name} @ ${f.at}: ${f.value} -> ${to}`, ops: [write(f.at, put(L, to, f.w))] };
  },
  'zero-page'(r, L, _buf, fx) {
    const plain = L.streams.filter((s) => s.pages.length);
    if (!plain.length) {
      const v = fx?.variants?.filter((v) => /zero/.test(v.what)) ?? [];
      if (!v.length) return null;
      const x = r.pick(v);
      return { detail: `chunk @ ${x.at}: recompressed with ${x.what}`, ops: [write(x.at + 8, x.data)] };
    }
    const s = r.pick(plain);
    const p = r.pick(s.pages);
    const k = r.int(0, 2);
    const len = k === 0 ? s.pageSize : 16;
    return { detail: `page @ ${p}: ${k === 2 ? 'fill header with 0xff' : k === 0 ? 'zero the page' : 'zero the header'}`, ops: [write(p, Buffer.alloc(len, k === 2 ? 0xff : 0))] };
  },
};

export function apply(buf, ops) {
  let b = buf;
  for (const o of ops) {
    const at = Math.min(o.at, b.length);
    b = Buffer.concat([b.subarray(0, at), o.ins, b.subarray(Math.min(b.length, at + o.del))]);
  }
  return b;
}

/** Case `n` of seed `seed` for fixture state `fx` (see {@link prepare}). */
export function mutate(fx, seed, n, classes = Object.keys(CLASSES)) {
  const r = rng(seed, n);
  const usable = classes.filter((c) => fx.applicable.includes(c));
  for (let tries = 0; tries < 8 && usable.length; tries++) {
    const cls = r.pick(usable);
    const m = CLASSES[cls](r, fx.layout, fx.bytes, fx);
    if (m) return { class: cls, detail: m.detail, ops: m.ops };
  }
  return null;
}

// ---- per-fixture preparation ----------------------------------------------------------------

/** The zstd program (only to build damaged chunks; without it those cases are left out). */
function zstd(args, input) {
  const p = spawnSync('zstd', [...args, '-q', '-c'], { input, maxBuffer: 1 << 30 });
  if (p.status !== 0) throw new Error(`zstd ${args.join(' ')} failed`);
  return p.stdout;
}

/**
 * Pages inside compressed chunks can only be damaged by recompressing: for the first chunk of
 * each stream, damaged variants (zeroed page, commit past the page, event length below 4,
 * flipped bits) are recompressed and padded to the original compressed size (zstd with a
 * skippable frame, zlib with trailing bytes zlib ignores), so a case splices them in place.
 */
function variants(L, buf) {
  const out = [];
  if (!L.codec) return out;
  for (const s of L.streams.slice(0, 2)) {
    const ch = s.chunks?.[0];
    if (!ch || ch.at + 8 + ch.csize > buf.length) continue;
    const z = buf.subarray(ch.at + 8, ch.at + 8 + ch.csize);
    let raw;
    try {
      raw = L.codec === 'zstd' ? zstd(['-d'], z) : inflateSync(z);
    } catch {
      continue;
    }
    const ps = s.pageSize;
    const pages = Math.floor(raw.length / ps);
    const page = Math.min(1, pages - 1);
    const edits = [
      ['a zeroed page', (b) => b.fill(0, page * ps, (page + 1) * ps)],
      ['a commit past the page', (b) => b.writeUInt32LE(ps * 2, page * ps + 8)],
      ['an event length below 4', (b) => {
        b.writeUInt32LE(0, page * ps + 16);
        b.writeUInt32LE(2, page * ps + 20);
      }],
      ['flipped page bits', (b) => {
        for (let i = 0; i < 6; i++) b[page * ps + 16 + i * 97] ^= 0x10;
      }],
    ];
    for (const [what, edit] of edits) {
      const d = Buffer.from(raw);
      edit(d);
      let c;
      try {
        c = L.codec === 'zstd' ? zstd(['-3'], d) : deflateSync(d, { level: 9 });
      } catch {
        continue;
      }
      const room = ch.csize - c.length;
      if (L.codec === 'zstd') {
        if (room < 8 && room !== 0) continue;
        if (room >= 8) {
          const skip = Buffer.alloc(8);
          skip.writeUInt32LE(0x184d2a50, 0);
          skip.writeUInt32LE(room - 8, 4);
          c = Buffer.concat([c, skip, Buffer.alloc(room - 8)]);
        }
      } else {
        if (room < 0) continue;
        c = Buffer.concat([c, Buffer.alloc(room)]);
      }
      out.push({ at: ch.at, what, data: c });
    }
  }
  return out;
}

function bomb(codec) {
  // About 9 KB either way, so that it fits in place of a chunk.
  const size = codec === 'zstd' ? 256 << 20 : 8 << 20;
  const zeros = Buffer.alloc(size);
  return { size, data: codec === 'zstd' ? zstd(['-1'], zeros) : deflateSync(zeros, { level: 9 }) };
}

const bombs = new Map();

/** Recompressed data, kept across runs in the temp directory (zstd runs take a while). */
function cached(fixture, bytes, what, make) {
  const dir = join(tmpdir(), 'tracedat-fuzz-cache');
  const file = join(dir, `${fixture.name.replace(/\//g, '_')}-${bytes.length}-${what}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')).map((v) => ({ ...v, data: Buffer.from(v.data, 'hex') }));
  } catch {
    const v = make();
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(v.map((x) => ({ ...x, data: x.data.toString('hex') }))));
    renameSync(`${file}.${process.pid}`, file);
    return v;
  }
}

/** Reads a fixture and maps it: `{ name, bytes, meta, layout, variants, bomb, applicable }`. */
export async function prepare(fixture, openFile) {
  const bytes = readFileSync(fixture.path);
  const t = await openFile(fixture.path);
  const meta = t.metadata;
  const L = layout(bytes, meta);
  const fx = { name: fixture.name, path: fixture.path, bytes, meta, layout: L, variants: cached(fixture, bytes, 'variants', () => variants(L, bytes)), bomb: null };
  if (L.codec) {
    if (!bombs.has(L.codec)) {
      try {
        bombs.set(L.codec, bomb(L.codec));
      } catch {
        // Without the zstd program there is no zstd bomb; the other chunk damage remains.
        bombs.set(L.codec, null);
      }
    }
    fx.bomb = bombs.get(L.codec);
  }
  fx.applicable = Object.keys(CLASSES).filter((c) => {
    for (let i = 0; i < 16; i++) if (CLASSES[c](rng(1, i), L, bytes, fx)) return true;
    return false;
  });
  return fx;
}

// ---- commands and the judge -----------------------------------------------------------------

/**
 * The commands every case runs. `argv` is the CLI's (FILE is appended; `spawn` replaces the
 * command), `run(api, path)` is the same work in process, returning what the CLI would print
 * and its exit status. Commands whose module is missing are skipped, so a new one (convert)
 * joins by adding a line here once it exists.
 */
export const COMMANDS = [
  { name: 'dump', argv: ['dump', '--summary'], items: 'summary' },
  { name: 'dump --all', argv: ['dump', '--all'], items: 'all' },
  { name: 'dump -v', argv: ['dump', '-v'], validate: true },
  { name: 'dump -v --salvage', argv: ['dump', '-v', '--salvage'], validate: true, salvage: true },
  { name: 'records', spawn: ['scripts/fuzz-records.mjs'], argv: [], records: true },
  { name: 'records --salvage', spawn: ['scripts/fuzz-records.mjs', '--salvage'], argv: [], records: true, salvage: true },
  { name: 'convert', argv: ['convert'], module: 'dist/commands/convert.js', out: true },
  { name: 'report', argv: ['report'], module: 'dist/commands/report.js', report: {} },
  { name: 'report -R', argv: ['report', '-R'], module: 'dist/commands/report.js', report: { raw: true } },
  { name: 'report --salvage', argv: ['report', '--salvage'], module: 'dist/commands/report.js', report: { salvage: true }, salvage: true },
  // The damaged file as the guest of a good host, and as the host of a good guest (the bundled
  // pair's), with --sync none so that damage, not missing sync data, is what is judged.
  { name: 'merge', module: 'dist/commands/merge.js', out: true, merge: 'guest', args: (path, out) => ['merge', '--sync', 'none', PARTNER.host, path, '-o', out] },
  { name: 'merge as host', module: 'dist/commands/merge.js', out: true, merge: 'host', args: (path, out) => ['merge', '--sync', 'none', path, PARTNER.guest, '-o', out] },
  { name: 'attach', module: 'dist/commands/merge.js', out: true, attach: true, args: (path, out) => ['attach', '--sync', 'none', PARTNER.host, path, '--out-dir', out] },
].filter((c) => !c.module || existsSync(join(ROOT, c.module)));

/** The good half of a merge or attach case: the bundled example pair. */
export const PARTNER = { host: join(ROOT, 'fixtures', 'kvm-host.dat'), guest: join(ROOT, 'fixtures', 'kvm-guest.dat') };

/** Writes the way the CLI does, to a string: what `tracedat` would print and its status. */
export function cliError(e) {
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 2, stdout: '', stderr: `tracedat: ${msg}\n` };
}

/** Head and tail of a long output: all the judge looks at. */
const clip = (b) => (b.length > 8192 ? `${b.subarray(0, 4096).toString('latin1')}\n[...]\n${b.subarray(b.length - 4096).toString('latin1')}` : b.toString('latin1'));

/**
 * Runs a command in process with the API (dist/index.js), as the CLI would. A command with an
 * output file writes `${path}.out`, which must not exist after a failure (no partial output).
 * `opened` is the case's `api.open(path)` promise, shared by its commands as an API user
 * would share one handle (opening inflates the metadata: re-opening per command was about
 * half of a case's time); each CLI run still opens the file itself.
 */
export async function runInProcess(api, cmd, path, opened = api.open(path)) {
  let out = '';
  try {
    const t = await opened;
    if (cmd.records) return records(t, cmd.salvage, path);
    if (cmd.merge || cmd.attach) return await mergeInProcess(api, cmd, t, path);
    if (cmd.out) {
      try {
        await t.convert(`${path}.out`);
      } catch (e) {
        if (existsSync(`${path}.out`)) return { code: 2, stdout: '', stderr: `tracedat: ${path}.out: partial output left behind after: ${e.message}\n`, partial: true };
        throw e;
      }
      return { code: 0, stdout: '', stderr: '' };
    }
    if (cmd.report) {
      // As the CLI prints it: chunk by chunk, so that an error comes after the text before it,
      // and with --salvage a stderr line per region stepped over (src/commands/report.ts).
      const chunks = [];
      const skips = [];
      const onSkip = (s) => skips.push(`tracedat: ${path}: ${s.section}, offset ${s.offset}: ${s.expected}; skipped ${s.what}\n`);
      try {
        for (const c of api.reportChunks(t, { ...cmd.report, onSkip })) chunks.push(c);
      } catch (e) {
        if (skips.length === 0) throw e;
        return { code: 2, stdout: clip(Buffer.concat(chunks)), stderr: skips.join('') + cliError(e).stderr };
      } finally {
        out = clip(Buffer.concat(chunks));
      }
      return { code: skips.length ? 2 : 0, stdout: out, stderr: skips.join('') };
    }
    if (cmd.validate) {
      // `dump -v` alone prints no meta data (trace-cmd's too), only its verdict.
      out = clip(t.dump(0, path));
      return validate(t, cmd.salvage, path, out);
    }
    out = clip(t.dump(api.DumpItem[cmd.items], path));
    return { code: 0, stdout: out, stderr: '' };
  } catch (e) {
    const partial = e && e.partial ? clip(e.partial) : '';
    return { ...cliError(e), stdout: out + partial };
  }
}

/**
 * `merge` and `attach` as the CLI runs them (src/commands/merge.ts): the damaged trace with a
 * good partner, its summary on stderr. Nothing of `${path}.out` may remain after a failure.
 */
async function mergeInProcess(api, cmd, t, path) {
  const out = `${path}.out`;
  const { mergeSummary, attachSummary } = await import(join(ROOT, 'dist', 'commands', 'merge.js'));
  const partner = await api.open(cmd.merge === 'host' ? PARTNER.guest : PARTNER.host);
  const inputs = cmd.merge === 'host' ? [t, partner] : [partner, t];
  try {
    if (cmd.attach) {
      mkdirSync(out, { recursive: true });
      return { code: 0, stdout: '', stderr: attachSummary(await api.attach(inputs, out, { sync: 'none' })) };
    }
    return { code: 0, stdout: '', stderr: mergeSummary(await api.merge(inputs, out, { sync: 'none' })) };
  } catch (e) {
    const left = cmd.attach ? existsSync(out) && readdirSync(out).length > 0 : existsSync(out);
    if (left) return { code: 2, stdout: '', stderr: `tracedat: ${out}: partial output left behind after: ${e.message}\n`, partial: true };
    throw e;
  }
}

/** `dump -v [--salvage]` after its summary: the same calls and text src/commands/dump.ts makes. */
function validate(t, salvage, path, out) {
  const valid = { code: 0, stdout: out + `File ${path} is a valid trace-cmd file\n`, stderr: '' };
  if (!salvage) {
    t.validate();
    t.scan();
    return valid;
  }
  const { framing, skipped } = t.damage();
  const lines = [...(framing ? [`tracedat: ${framing.message}\n`] : []), ...salvageLines([{ cpus: [{ skipped }] }], path)];
  return lines.length ? { code: 2, stdout: out, stderr: lines.join('') } : valid;
}

/** The stderr lines of `--salvage`: one per skipped region. */
export function salvageLines(scan, path) {
  const lines = [];
  for (const b of scan) for (const c of b.cpus) for (const s of c.skipped ?? []) lines.push(`tracedat: ${path}: ${s.section}, offset ${s.offset}: ${s.expected}; skipped ${s.what}\n`);
  return lines;
}

/** The records driver: every record of every flyrecord buffer, counted against scan(). */
function records(t, salvage, path) {
  const scan = t.scan(salvage ? { salvage: true } : undefined);
  let out = '';
  let bi = 0;
  for (const [i, b] of t.metadata.buffers.entries()) {
    if (b.kind !== 'flyrecord') continue;
    const s = scan[bi++];
    let n = 0;
    let last = -1n;
    for (const r of t.records(i, salvage ? { salvage: true } : {})) {
      n++;
      if (r.cpu < 0 || r.data.length === 0) throw new Error(`record ${n} of buffer ${i} is empty`);
      last = r.timestamp;
    }
    const want = s.cpus.reduce((a, c) => a + c.count, 0);
    if (n !== want) throw new Error(`buffer ${i}: records() gave ${n} records, scan() counted ${want}`);
    out += `buffer ${i} "${b.name}": ${n} records, last ${last}\n`;
  }
  if (salvage) {
    const lines = salvageLines(scan, path);
    if (lines.length) return { code: 2, stdout: out, stderr: lines.join('') };
  }
  return { code: 0, stdout: out, stderr: '' };
}

/** Runs a command as a real process under a timeout and an address-space cap. */
export function runSpawned(cmd, path, { timeoutMs, asBytes, out }) {
  const script = cmd.spawn ? cmd.spawn.map((a) => (a.endsWith('.mjs') ? join(ROOT, a) : a)) : [join(ROOT, 'dist', 'cli.js'), ...(cmd.argv ?? [])];
  const args = cmd.args ? [join(ROOT, 'dist', 'cli.js'), ...cmd.args(path, out)] : [...script, path, ...(cmd.out ? [out] : [])];
  const p = spawnSync('prlimit', [`--as=${asBytes}`, process.execPath, ...args], { timeout: timeoutMs, maxBuffer: 1 << 30, killSignal: 'SIGKILL' });
  return {
    code: p.status,
    signal: p.signal,
    timedOut: p.error?.code === 'ETIMEDOUT' || (p.signal === 'SIGKILL' && !p.status),
    stdout: p.stdout?.toString('latin1') ?? '',
    stderr: p.stderr?.toString('utf8') ?? '',
  };
}

/**
 * The verdict on one command's result: null when acceptable, else why not. Exit 0 needs sane
 * output; exit 2 needs exactly one stderr line in the `tracedat: FILE: SECTION, offset N:
 * EXPECTED` form (with --salvage: one or more such lines). Anything else is a failure.
 */
export function judge(cmd, res) {
  if (res.timedOut) return 'timeout';
  if (res.signal) return `killed by ${res.signal}`;
  if (res.partial) return 'partial output left behind';
  const err = res.stderr;
  if (/panicked|internal error|RUST_BACKTRACE|\n\s+at /.test(err)) return 'crash text on stderr';
  if (res.code === 0) {
    if (cmd.merge || cmd.attach) return err.split('\n').slice(0, -1).every((l) => /^tracedat: (host|guest) /.test(l)) ? null : 'merge said more than its summary';
    if (err !== '') return 'exit 0 with stderr output';
    if (cmd.records) return /^(buffer \d+ ".*": \d+ records, last -?\d+\n)*$/.test(res.stdout) ? null : 'records output is not sane';
    if (cmd.out) return null;
    if (cmd.validate) return / is a valid trace-cmd file\n$/.test(res.stdout) ? null : 'dump -v did not end with its verdict';
    if (cmd.report) return /^cpus=\d+\n/.test(res.stdout) ? null : 'report output does not start with cpus=N';
    return res.stdout.startsWith('\n Tracing meta data in file ') ? null : 'dump output does not start with the meta data title';
  }
  if (res.code === 2) {
    const lines = err.split('\n');
    if (lines.pop() !== '') return 'stderr does not end with a newline';
    if (lines.length !== 1 && !(cmd.salvage && lines.length >= 1)) return `${lines.length} stderr lines`;
    const bad = lines.find((l) => !ERROR_LINE.test(l));
    return bad === undefined ? null : `stderr line not in the error form: ${JSON.stringify(bad.slice(0, 200))}`;
  }
  return `exit status ${res.code}`;
}
