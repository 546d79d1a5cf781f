#!/usr/bin/env node
// Makes fixtures/kvm-host.dat and fixtures/kvm-guest.dat, the bundled host+guest pair that
// `npm start` merges, from a real recording: ../shared/fixtures/real/kvm-host-vcpu-create-v7-zstd.dat
// (a KVM host, x86-tsc clock, with the real kvm_write_tsc_offset events of a 2-vCPU VM's creation).
// The guest is made of that recording's own sched_switch and sched_wakeup records of a window
// after the writes, CPU c as vCPU c, moved onto the guest's clock by the offset the host wrote
// (guest TSC = host TSC + offset); the host keeps everything else. The guest has no TIME_SHIFT:
// `tracedat merge` lines it up from the host's kvm_write_tsc_offset events, and the merged file
// interleaves the two exactly as the recording had them. Run: node scripts/make-example.mjs
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, OptionId, writeTrace } from '../dist/index.js';
import { fixtures } from './fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t = await open(join(fixtures(), 'real', 'kvm-host-vcpu-create-v7-zstd.dat'));
const ids = new Map(t.formats().map((f) => [f.id, `${f.system}/${f.name}`]));
const all = [...t.records(0, { rawTimestamps: true })].map((r) => ({ cpu: r.cpu, timestamp: r.rawTimestamp, data: Uint8Array.from(r.data), missed: r.missedEvents, event: ids.get(r.eventId) }));
const writes = all.filter((r) => r.event === 'kvm/kvm_write_tsc_offset');
const offset = new DataView(writes.at(-1).data.buffer).getBigUint64(24, true);
const from = writes[0].timestamp - 1_000_000n;
const to = writes.at(-1).timestamp + 400_000_000n;
const window = all.filter((r) => r.timestamp >= from && r.timestamp <= to);
const guestEvent = (r) => r.timestamp > writes.at(-1).timestamp && (r.event === 'sched/sched_switch' || r.event === 'sched/sched_wakeup');
const host = window.filter((r) => !guestEvent(r));
const guest = window.filter(guestEvent).map((r) => ({ ...r, timestamp: BigInt.asUintN(64, r.timestamp + offset) }));
const uname = Buffer.from('Linux kvm-guest 6.18.0 x86_64\0');
await writeTrace(t, join(root, 'fixtures', 'kvm-host.dat'), [{ name: '', clock: 'x86-tsc', records: host }]);
await writeTrace(t, join(root, 'fixtures', 'kvm-guest.dat'), [{ name: '', clock: 'x86-tsc', records: guest }], { setOptions: [{ id: OptionId.UNAME, payload: uname }] });
console.log(`host: ${host.length} records (${writes.length} kvm_write_tsc_offset); guest: ${guest.length} records, offset ${offset}`);
