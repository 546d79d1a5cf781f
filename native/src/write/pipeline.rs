//! Compressing a stream of chunks on several threads while writing them in order.
//!
//! The calling thread produces raw chunks (slices of the mapped input, or pages it read or
//! inflated) and writes the results; `threads` workers compress. Chunks travel in batches of
//! [`BATCH`]: batch `k` goes to worker `k % threads` and each worker answers its batches in
//! order, so the result of batch `k` is simply the next answer of that worker: output order is
//! production order without a reordering buffer. Each worker has at most [`DEPTH`] batches
//! queued, so at most `threads * DEPTH * BATCH` chunks are alive at once and memory stays flat
//! however long the stream is. One chunk per hand-over (as before) woke a thread on both sides
//! for every 40 KiB: 75,000 context switches and some 5% of a 2 GiB conversion's CPU time in
//! futex calls and the scheduler, for work that is otherwise all zstd's.
//!
//! A chunk's own buffer comes back with its result and is given to the producer to fill again:
//! a stream read from the file reuses a few dozen buffers instead of allocating and zeroing
//! one per chunk.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::format::compression::{self, Codec};

/// Chunks per hand-over to a worker: 320 KiB of 4 KiB pages, few enough wake-ups that they
/// no longer show in a profile, small enough that the last batch of a short stream does not
/// leave a worker idle for long.
const BATCH: usize = 8;
/// Batches queued per worker: enough to keep a worker busy while the producer refills.
const DEPTH: usize = 2;

/// Uncompressed bytes of one chunk: borrowed from the mapped input, or owned after reading or
/// inflating.
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

/// A worker's answer to a batch: each chunk compressed (or the codec's error), and the buffers
/// of the chunks it owned, to be filled again.
struct Answer {
    packed: Vec<Result<Packed, String>>,
    spare: Vec<Vec<u8>>,
}

fn pack(codec: Codec, level: i32, raw: &Raw<'_>) -> Result<Packed, String> {
    compression::compress(codec, raw.bytes(), level).map(|data| Packed { raw_len: raw.bytes().len(), data })
}

fn pack_batch(codec: Codec, level: i32, batch: Vec<Raw<'_>>) -> Answer {
    let mut packed = Vec::with_capacity(batch.len());
    let mut spare = Vec::new();
    for raw in batch {
        packed.push(pack(codec, level, &raw));
        if let Raw::Owned(v) = raw {
            spare.push(v);
        }
    }
    Answer { packed, spare }
}

/// Compresses the chunks `produce` returns (None ends the stream) with `codec` at `level` on
/// `threads` workers (1 = on this thread), handing each result to `write` in order. `produce`
/// is given a buffer to fill when it owns the chunk (an earlier chunk's, with its old bytes, or
/// a new empty one). Returns the number of chunks.
pub fn run<'a, E>(
    codec: Codec,
    level: i32,
    threads: usize,
    mut produce: impl FnMut(Vec<u8>) -> Result<Option<Raw<'a>>, E>,
    mut write: impl FnMut(Packed) -> Result<(), E>,
) -> Result<u64, Stop<E>> {
    let mut spares: Vec<Vec<u8>> = Vec::new();
    if threads <= 1 {
        let mut n = 0;
        while let Some(raw) = produce(spares.pop().unwrap_or_default()).map_err(Stop::Caller)? {
            write(pack(codec, level, &raw).map_err(Stop::Codec)?).map_err(Stop::Caller)?;
            if let Raw::Owned(v) = raw {
                spares.push(v);
            }
            n += 1;
        }
        return Ok(n);
    }
    std::thread::scope(|s| {
        let mut jobs: Vec<SyncSender<Vec<Raw<'a>>>> = Vec::with_capacity(threads);
        let mut results: Vec<Receiver<Answer>> = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (job_tx, job_rx) = sync_channel::<Vec<Raw<'a>>>(DEPTH);
            let (res_tx, res_rx) = sync_channel(DEPTH);
            s.spawn(move || {
                // Ends when the producer hangs up, or when the results are no longer wanted.
                for batch in job_rx {
                    if res_tx.send(pack_batch(codec, level, batch)).is_err() {
                        break;
                    }
                }
            });
            jobs.push(job_tx);
            results.push(res_rx);
        }
        let stopped = || Stop::Codec("a compression thread stopped".into());
        // Returning from this closure drops both channel ends, which stops the workers before
        // the scope joins them, on success and on every error path alike.
        let mut take = |k: u64, spares: &mut Vec<Vec<u8>>| -> Result<(), Stop<E>> {
            let answer = results[(k % threads as u64) as usize].recv().map_err(|_| stopped())?;
            spares.extend(answer.spare);
            for p in answer.packed {
                write(p.map_err(Stop::Codec)?).map_err(Stop::Caller)?;
            }
            Ok(())
        };
        let (mut sent, mut done, mut chunks) = (0u64, 0u64, 0u64);
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let raw = produce(spares.pop().unwrap_or_default()).map_err(Stop::Caller)?;
            let end = raw.is_none();
            if let Some(raw) = raw {
                batch.push(raw);
                chunks += 1;
            }
            if batch.len() == BATCH || (end && !batch.is_empty()) {
                if sent - done == (threads * DEPTH) as u64 {
                    take(done, &mut spares)?;
                    done += 1;
                }
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                jobs[(sent % threads as u64) as usize].send(full).map_err(|_| stopped())?;
                sent += 1;
            }
            if end {
                break;
            }
        }
        while done < sent {
            take(done, &mut spares)?;
            done += 1;
        }
        Ok(chunks)
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
                    |_| Ok(it.next().map(|c| Raw::Borrowed(c))),
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
    fn owned_buffers_come_back_to_be_filled_again() {
        let input = chunks(100);
        for threads in [1, 2] {
            let (mut it, mut reused, mut out) = (input.iter(), 0, Vec::new());
            let n = run::<()>(
                Codec::Zstd,
                1,
                threads,
                |mut buf| {
                    reused += usize::from(buf.capacity() > 0);
                    Ok(it.next().map(|c| {
                        // An old buffer still holds its chunk: the producer fills it anew.
                        buf.clear();
                        buf.extend_from_slice(c);
                        Raw::Owned(buf)
                    }))
                },
                |p| {
                    out.push(compression::decompress(Codec::Zstd, &p.data, p.raw_len).unwrap());
                    Ok(())
                },
            )
            .ok()
            .unwrap();
            assert_eq!(n, 100);
            assert_eq!(out, input);
            // All but the chunks in flight before the first answers came back reuse a buffer.
            let fresh = if threads == 1 { 1 } else { (threads * DEPTH + 1) * BATCH };
            assert!(reused + fresh > 100, "{threads} threads: {reused} of 101 calls reused a buffer");
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
            |_| match it.next() {
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
            |_| Ok(it.next().map(|c| Raw::Borrowed(c))),
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
