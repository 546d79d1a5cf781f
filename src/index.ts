export { open, TraceFile, DumpItem } from './trace.js';
export type { Tables, KernelSymbol } from './trace.js';
export { TraceError } from './errors.js';
export { UsageError } from './usage.js';
export type { Metadata, TraceOption, OptionValue, CpuData, TimeShiftSample, BufferScan, CpuScan, EventFormat, FormatField, BrokenFormat } from './metadata.js';
export type { TraceRecord, RecordOptions } from './records.js';
export type { ConvertOptions, ConvertResult, ConvertedCpu, Compression } from './convert.js';
export { report, reportChunks, reportCpus } from './report.js';
export type { ReportOptions, ReportFilter } from './report.js';
