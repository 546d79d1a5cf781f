#!/usr/bin/env node
// One in-process API case of `npm run bench`, run in a process of its own so that its peak RSS
// is its own: `node bench/api.mjs CASE ARGS...`. Prints {"seconds": S, ...} on stdout, S the
// time of the work alone (files opened, records read or files written; node's start-up and
// the import of the library excluded).
//   report FILTER|- FILE...            reportChunks of the files (text, 4 MiB chunks), drained
//   convert FILE OUT VERSION COMPR     TraceFile.convert
//   merge COMPR OUT HOST GUEST         merge
//   decode FILE                        every record's timestamp, event id and length
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
  const t = await open(args[0]);
  let n = 0;
  let sum = 0n;
  let ids = 0;
  let len = 0;
  for (let b = 0; b < t.metadata.buffers.length; b++) {
    for (const r of t.records(b, { batch: 65536 })) {
      n++;
      sum += r.timestamp;
      ids += r.eventId;
      len += r.data.length;
    }
  }
  Object.assign(out, { records: n, check: `${sum}:${ids}:${len}` });
} else {
  console.error(`bench/api.mjs: unknown case ${kind}`);
  process.exit(2);
}
out.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify(out));
