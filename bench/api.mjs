#!/usr/bin/env node
// One in-process API case of `npm run bench`, run in a process of its own so that its peak RSS
// is its own: `node bench/api.mjs CASE ARGS...`. Prints {"seconds": S, ...} on stdout, S the
// time of the work alone (files opened, records read or files written; node's start-up and
// the import of the library excluded).
//   report FILTER|- FILE...            reportChunks of the files (text, 4 MiB chunks), drained
//   convert FILE OUT VERSION COMPR     TraceFile.convert
//   merge COMPR OUT HOST GUEST         merge
//   decode FILE                        every record's timestamp, event id and length (batches)
import { open, reportChunks, merge } from '../dist/index.js';

const [kind, ...args] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const out = {};
if (kind === 'report') {
  const [filter, ...files] = args;
  const traces = await Promise.all(files.map((f) => open(f)));
  let bytes = 0;
  const options = { chunk: 4 << 20, ...(filter === '-' ? {} : { filters: [filter] }) };
  for (const c of reportChunks(traces, options)) bytes += c.length;
  out.outputBytes = bytes;
} else if (kind === 'convert') {
  const [file, dest, version, compression] = args;
  await (await open(file)).convert(dest, { version: Number(version), ...(version === '7' ? { compression } : {}), progress: false });
} else if (kind === 'merge') {
  const [compression, dest, ...files] = args;
  await merge(await Promise.all(files.map((f) => open(f))), dest, { compression });
} else if (kind === 'decode') {
  // Through TraceFile.batches: no object per record. The time is summed as its two 32-bit
  // halves per batch (exact: a batch's sums stay below 2^53), then folded into one BigInt.
  const t = await open(args[0]);
  let n = 0;
  let sum = 0n;
  let ids = 0;
  let len = 0;
  for (let b = 0; b < t.metadata.buffers.length; b++) {
    if (t.metadata.buffers[b].kind !== 'flyrecord') continue;
    for (const batch of t.batches(b)) {
      const { count, timestampHigh, timestampLow, eventId, length } = batch;
      let high = 0;
      let low = 0;
      for (let i = 0; i < count; i++) {
        high += timestampHigh[i];
        low += timestampLow[i];
        ids += eventId[i];
        len += length[i];
      }
      n += count;
      sum += (BigInt(high) << 32n) + BigInt(low);
    }
  }
  Object.assign(out, { records: n, check: `${sum}:${ids}:${len}` });
} else {
  console.error(`bench/api.mjs: unknown case ${kind}`);
  process.exit(2);
}
out.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify(out));
