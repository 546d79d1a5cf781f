// What a file reads as through the API, as one digest per part: used by concurrency.test.ts
// in the test's own thread and, unchanged, in worker threads (this file is plain JavaScript
// so that a worker can load it without the test's transform).
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import * as api from '../dist/index.js';

const hash = (h) => h.digest('hex').slice(0, 16);

/** Digests of open / dump --all / scan / records of `path`; `interleave` reads records in
 *  small batches, yielding to the event loop between them so that async callers interleave. */
export async function digest(path, interleave = false) {
  const t = await api.open(path);
  const out = { metadata: hash(createHash('sha256').update(JSON.stringify(t.metadata, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))) };
  try {
    out.dump = hash(createHash('sha256').update(t.dump(api.DumpItem.all)));
  } catch (e) {
    out.dump = `error ${e.message}`;
  }
  out.scan = hash(createHash('sha256').update(JSON.stringify(t.scan(), (_, v) => (typeof v === 'bigint' ? `${v}n` : v))));
  const h = createHash('sha256');
  let n = 0;
  for (const [i, b] of t.metadata.buffers.entries()) {
    if (b.kind !== 'flyrecord') continue;
    for (const r of t.records(i, { batch: interleave ? 257 : 4096 })) {
      h.update(`${r.cpu} ${r.timestamp} ${r.eventId} ${r.pid}`);
      h.update(r.data);
      if (interleave && ++n % 1000 === 0) await new Promise((res) => setImmediate(res));
    }
  }
  out.records = hash(h);
  return out;
}

if (parentPort && workerData?.files) {
  const results = {};
  for (const f of workerData.files) results[f] = await digest(f, workerData.interleave);
  parentPort.postMessage(results);
}
