// Standard output for the commands that print a lot (dump, report).
import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `b` to fd 1 with write(2): one system call per chunk and no stream buffering,
 * so memory stays flat however much is printed. When fd 1 is a non-blocking pipe (another
 * process set O_NONBLOCK on it, or Node's stdout stream was opened) a full pipe answers EAGAIN:
 * wait a millisecond and go on rather than fail. EPIPE is thrown to the CLI, which stops quietly.
 */
export function writeStdout(b: Buffer): void {
  for (let off = 0; off < b.length; ) {
    try {
      off += writeSync(1, b, off, b.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A socket's reader that closed with text unread resets it: the reader went away, as EPIPE.
      if (code === 'ECONNRESET') throw Object.assign(e as Error, { code: 'EPIPE' });
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
