export { open, TraceFile, DumpItem } from './trace.js';
export { TraceError } from './errors.js';
