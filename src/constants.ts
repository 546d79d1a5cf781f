// The values the addon and this layer must agree on, read once from the addon (native/src/ffi/constants.rs),
// which takes them from the definitions the Rust side itself uses: no copy to keep in step.
import { native } from './native.js';

/** Byte offsets in one record of a batch (`nextBatch`), then the header size and the data's padding. */
export interface BatchLayout {
  ts: number;
  rawTs: number;
  missed: number;
  cpu: number;
  length: number;
  header: number;
  align: number;
}

/** The columns of a `fillBatch` batch (see src/records.ts), in their order, to their element sizes. */
export type BatchColumns = Readonly<
  Record<'timestamp' | 'rawTimestamp' | 'missedEvents' | 'timestampHigh' | 'timestampLow' | 'cpu' | 'eventId' | 'pid' | 'length' | 'offset', number>
>;

/** Byte offsets in one record header of `build`'s block, then the header size. */
export interface BuildRecordLayout {
  buffer: number;
  cpu: number;
  ts: number;
  missed: number;
  length: number;
  header: number;
}

/** Byte offsets in one option edit header (`setOptions`), then the header size. */
export interface OptionEditLayout {
  id: number;
  present: number;
  size: number;
  header: number;
}

/** trace.dat option ids, by their names in trace-cmd's `enum trace_option_id` (TRACECMD_OPTION_ dropped). */
export type OptionIds = Readonly<
  Record<
    | 'DONE'
    | 'DATE'
    | 'CPUSTAT'
    | 'BUFFER'
    | 'TRACECLOCK'
    | 'UNAME'
    | 'HOOK'
    | 'OFFSET'
    | 'CPUCOUNT'
    | 'VERSION'
    | 'PROCMAPS'
    | 'TRACEID'
    | 'TIME_SHIFT'
    | 'GUEST'
    | 'TSC2NSEC'
    | 'STRINGS'
    | 'HEADER_INFO'
    | 'FTRACE_EVENTS'
    | 'EVENT_FORMATS'
    | 'KALLSYMS'
    | 'PRINTK'
    | 'CMDLINES'
    | 'BUFFER_TEXT'
    | 'BTF_FILE'
    | 'LAST_BOOT_INFO'
    | 'MODULES_FILE',
    number
  >
>;

/** `trace-cmd dump` item flags (its `enum dump_items`), named after the dump options; `all` sets every bit. */
export type DumpItems = Readonly<
  Record<
    | 'summary'
    | 'headPage'
    | 'headEvent'
    | 'ftraceEvents'
    | 'systems'
    | 'events'
    | 'kallsyms'
    | 'printk'
    | 'cmdLines'
    | 'options'
    | 'flyrecord'
    | 'clock'
    | 'sections'
    | 'strings'
    | 'all',
    number
  >
>;

interface Constants {
  batch: BatchLayout;
  batchColumns: BatchColumns;
  buildRecord: BuildRecordLayout;
  optionEdit: OptionEditLayout;
  optionIds: OptionIds;
  dumpItems: DumpItems;
}

const constants = JSON.parse(native.constants()) as Constants;
for (const group of Object.values(constants)) Object.freeze(group);

export const { batch: BATCH, batchColumns: BATCH_COLUMNS, buildRecord: BUILD_RECORD, optionEdit: OPTION_EDIT } = constants;

/** Option ids, for `setOptions` and for reading `metadata.options`. */
export const OptionId: OptionIds = constants.optionIds;

/** `trace-cmd dump` item flags for `TraceFile.dump`. */
export const DumpItem: DumpItems = constants.dumpItems;
