//! Compressing a stream of chunks on several threads while writing them in order.
//!
//! The calling thread produces raw chunks (slices of the mapped input, or pages it inflated)
//! and writes the results; `threads` workers compress. Job `k` goes to worker `k % threads` and
//! each worker answers its jobs in order, so the result of job `k` is simply the next answer of
//! that worker: output order is production order without a reordering buffer. Each worker has
//! at most [`DEPTH`] jobs queued, so at most `threads * DEPTH` chunks are alive at once and
//! memory stays flat however long the stream is.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::format::compression::{self, Codec};

/// Jobs queued per worker: enough to keep a worker busy while the producer refills.
const DEPTH: usize = 4;

/// Uncompressed bytes of one chunk: borrowed from the mapped input, or owned after inflating.
pub enum Raw<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Raw<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Raw::Borrowed(b) => b,
            Raw::Owned(v) => v,
        }
    }
}

/// A compressed chunk: its uncompressed length and the compressed bytes.
pub struct Packed {
    pub raw_len: usize,
    pub data: Vec<u8>,
}

/// Why a pipeline stopped: the producer's or the writer's error, or a codec failure.
pub enum Stop<E> {
    Caller(E),
    Codec(String),
}

/// Compresses the chunks `produce` returns (None ends the stream) with `codec` at `level` on
/// `threads` workers (1 = on this thread), handing each result to `write` in order. Returns the
/// number of chunks.
pub fn run<'a, E>(
    codec: Codec,
    level: i32,
    threads: usize,
    mut produce: impl FnMut() -> Result<Option<Raw<'a>>, E>,
    mut write: impl FnMut(Packed) -> Result<(), E>,
) -> Result<u64, Stop<E>> {
    let pack = |raw: &Raw<'_>| compression::compress(codec, raw.bytes(), level).map(|data| Packed { raw_len: raw.bytes().len(), data });
    if threads <= 1 {
        let mut n = 0;
        while let Some(raw) = produce().map_err(Stop::Caller)? {
            write(pack(&raw).map_err(Stop::Codec)?).map_err(Stop::Caller)?;
            n += 1;
        }
        return Ok(n);
    }
    std::thread::scope(|s| {
        let mut jobs: Vec<SyncSender<Raw<'a>>> = Vec::with_capacity(threads);
        let mut results: Vec<Receiver<Result<Packed, String>>> = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (job_tx, job_rx) = sync_channel::<Raw<'a>>(DEPTH);
            let (res_tx, res_rx) = sync_channel(DEPTH);
            s.spawn(move || {
                // Ends when the producer hangs up, or when the results are no longer wanted.
                for raw in job_rx {
                    if res_tx.send(pack(&raw)).is_err() {
                        break;
                    }
                }
            });
            jobs.push(job_tx);
            results.push(res_rx);
        }
        // Returning from this closure drops both channel ends, which stops the workers before
        // the scope joins them, on success and on every error path alike.
        let mut take = |k: u64| -> Result<(), Stop<E>> {
            let r = results[(k % threads as u64) as usize].recv().map_err(|_| Stop::Codec("a compression thread stopped".into()))?;
            write(r.map_err(Stop::Codec)?).map_err(Stop::Caller)
        };
        let (mut sent, mut done) = (0u64, 0u64);
        while let Some(raw) = produce().map_err(Stop::Caller)? {
            if sent - done == (threads * DEPTH) as u64 {
                take(done)?;
                done += 1;
            }
            jobs[(sent % threads as u64) as usize].send(raw).map_err(|_| Stop::Codec("a compression thread stopped".into()))?;
            sent += 1;
        }
        while done < sent {
            take(done)?;
            done += 1;
        }
        Ok(sent)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| (0..40_960u32).map(|j| ((j / 7 + i as u32) % 251) as u8).collect()).collect()
    }

    #[test]
    fn output_order_is_input_order_for_any_thread_count() {
        let input = chunks(37);
        for threads in [1, 2, 3, 8] {
            for codec in [Codec::Zstd, Codec::Zlib] {
                let mut it = input.iter();
                let mut out = Vec::new();
                let n = run::<()>(
                    codec,
                    1,
                    threads,
                    || Ok(it.next().map(|c| Raw::Borrowed(c))),
                    |p| {
                        out.push(compression::decompress(codec, &p.data, p.raw_len).unwrap());
                        Ok(())
                    },
                )
                .ok()
                .unwrap();
                assert_eq!(n, 37);
                assert_eq!(out, input, "{threads} threads, {codec:?}");
            }
        }
    }

    #[test]
    fn errors_stop_the_pipeline() {
        let input = chunks(50);
        let mut it = input.iter().enumerate();
        let r = run(
            Codec::Zstd,
            1,
            2,
            || match it.next() {
                Some((20, _)) => Err("bad chunk 20"),
                Some((_, c)) => Ok(Some(Raw::Owned(c.clone()))),
                None => Ok(None),
            },
            |_| Ok(()),
        );
        assert!(matches!(r, Err(Stop::Caller("bad chunk 20"))));
        let mut it = input.iter();
        let mut written = 0;
        let r = run(
            Codec::Zstd,
            1,
            2,
            || Ok(it.next().map(|c| Raw::Borrowed(c))),
            |_| {
                written += 1;
                if written == 3 {
                    Err("disk full")
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(r, Err(Stop::Caller("disk full"))));
        assert_eq!(written, 3);
    }
}
