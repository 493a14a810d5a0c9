//! The gzip layer of the writer: one gzip member whose deflate stream is a sequence of
//! independently compressed *segments*, each ending on a byte boundary with a sync flush.
//!
//! Why segments: a segment can use its own deflate settings (Huffman-only for weights, LZ77 at
//! `level` for text) and can be compressed on any thread, because a segment never refers back
//! into an earlier one. Segment boundaries depend only on the bytes and their [`Mode`]s (a new
//! segment starts when the mode changes or the current one reaches [`SEGMENT_SIZE`]), so the
//! output is the same whatever the thread count or timing. See `docs/ARCHIVE_FORMAT.md`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Strategy};

/// Uncompressed bytes per segment. Part of the format's determinism: changing it changes the
/// bytes of every archive.
pub(crate) const SEGMENT_SIZE: usize = 1 << 20;

/// Fixed gzip header: magic, CM=deflate, no flags, MTIME 0, XFL 0, OS 255 (unknown).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A final, empty fixed-Huffman block: what zlib emits for `Z_FINISH` after a sync flush.
const FINAL_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

/// How a segment is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// LZ77 + Huffman at this zlib level (1..=9).
    Lz(i32),
    /// Huffman coding only, no string matching.
    HuffmanOnly,
}

/// What can go wrong below the tar layer.
#[derive(Debug)]
pub(crate) enum GzError {
    Io(io::Error),
    Compress(String),
}

struct Job {
    seq: u64,
    mode: Mode,
    input: Vec<u8>,
}

struct Done {
    seq: u64,
    input: Vec<u8>,
    output: Result<Vec<u8>, String>,
    crc: u32,
}

/// One `Deflate` per mode, reused across segments with `reset`.
#[derive(Default)]
struct Engines {
    lz: Option<(i32, Deflate)>,
    huffman: Option<Deflate>,
}

impl Engines {
    fn get(&mut self, mode: Mode) -> &mut Deflate {
        let config = |level, strategy| DeflateConfig {
            level,
            window_bits: -15, // raw deflate: the gzip framing is ours
            strategy,
            ..DeflateConfig::default()
        };
        match mode {
            Mode::HuffmanOnly => self
                .huffman
                .get_or_insert_with(|| Deflate::new_with_config(config(6, Strategy::HuffmanOnly))),
            Mode::Lz(level) => {
                if self.lz.as_ref().is_some_and(|(l, _)| *l != level) {
                    self.lz = None;
                }
                let (_, d) = self.lz.get_or_insert_with(|| {
                    (
                        level,
                        Deflate::new_with_config(config(level, Strategy::Default)),
                    )
                });
                d
            }
        }
    }

    /// Compresses `input` as one segment into `out` (cleared first).
    fn compress(&mut self, mode: Mode, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let d = self.get(mode);
        d.reset();
        out.clear();
        out.resize(input.len() + input.len() / 8 + 1024, 0);
        let (mut in_pos, mut out_pos) = (0usize, 0usize);
        // Each round either finishes or doubles the room; 32 rounds is far more than enough.
        for _ in 0..32 {
            let (before_in, before_out) = (d.total_in(), d.total_out());
            d.compress(
                &input[in_pos..],
                &mut out[out_pos..],
                DeflateFlush::SyncFlush,
            )
            .map_err(|e| e.as_str().to_owned())?;
            in_pos += usize::try_from(d.total_in() - before_in).map_err(|e| e.to_string())?;
            out_pos += usize::try_from(d.total_out() - before_out).map_err(|e| e.to_string())?;
            // zlib's rule: the flush is complete when output room is left over.
            if in_pos == input.len() && out_pos < out.len() {
                out.truncate(out_pos);
                return Ok(());
            }
            let grow = out.len();
            out.resize(out.len() + grow, 0);
        }
        Err("the deflate encoder made no progress".to_owned())
    }
}

fn run_job(engines: &mut Engines, job: Job) -> Done {
    let Job { seq, mode, input } = job;
    let crc = crc32fast::hash(&input);
    let mut out = Vec::new();
    let output = match catch_unwind(AssertUnwindSafe(|| {
        engines.compress(mode, &input, &mut out)
    })) {
        Ok(Ok(())) => Ok(out),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("the deflate encoder panicked".to_owned()),
    };
    Done {
        seq,
        input,
        output,
        crc,
    }
}

struct Workers {
    jobs: Option<mpsc::Sender<Job>>,
    results: mpsc::Receiver<Done>,
    handles: Vec<JoinHandle<()>>,
    in_flight: usize,
    max_in_flight: usize,
}

impl Workers {
    fn spawn(threads: usize) -> Result<Self, GzError> {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("expert-deflate-{i}"))
                .spawn(move || {
                    let mut engines = Engines::default();
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok(job) = job else { break };
                        if done_tx.send(run_job(&mut engines, job)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(GzError::Io)?;
            handles.push(handle);
        }
        Ok(Workers {
            jobs: Some(job_tx),
            results: done_rx,
            handles,
            in_flight: 0,
            // Two segments per thread keeps every worker busy while memory stays a few MiB.
            max_in_flight: threads * 2,
        })
    }
}

impl Drop for Workers {
    /// Closing the job channel ends each worker's loop; joining leaves no thread behind.
    fn drop(&mut self) {
        self.jobs = None;
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

/// Streams a gzip member made of independently compressed segments to `out`.
pub(crate) struct SegmentedGzip<W: Write> {
    out: W,
    crc: crc32fast::Hasher,
    total_in: u64,
    buf: Vec<u8>,
    buf_mode: Option<Mode>,
    next_seq: u64,
    next_write: u64,
    pending: BTreeMap<u64, Done>,
    workers: Option<Workers>,
    inline: Engines,
    free: Vec<Vec<u8>>,
}

impl<W: Write> SegmentedGzip<W> {
    /// Writes the gzip header and, for `threads > 1`, starts the worker threads.
    pub(crate) fn new(mut out: W, threads: usize) -> Result<Self, GzError> {
        out.write_all(&GZIP_HEADER).map_err(GzError::Io)?;
        let workers = if threads > 1 {
            Some(Workers::spawn(threads)?)
        } else {
            None
        };
        Ok(SegmentedGzip {
            out,
            crc: crc32fast::Hasher::new(),
            total_in: 0,
            buf: Vec::with_capacity(SEGMENT_SIZE),
            buf_mode: None,
            next_seq: 0,
            next_write: 0,
            pending: BTreeMap::new(),
            workers,
            inline: Engines::default(),
            free: Vec::new(),
        })
    }

    /// Adds uncompressed bytes that are to be compressed with `mode`.
    pub(crate) fn push(&mut self, mut bytes: &[u8], mode: Mode) -> Result<(), GzError> {
        while !bytes.is_empty() {
            if self.buf_mode != Some(mode) {
                self.seal()?;
                self.buf_mode = Some(mode);
            }
            let take = (SEGMENT_SIZE - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == SEGMENT_SIZE {
                self.seal()?;
            }
        }
        Ok(())
    }

    /// Ends the current segment and hands it to a worker (or compresses it here).
    fn seal(&mut self) -> Result<(), GzError> {
        let Some(mode) = self.buf_mode else {
            return Ok(());
        };
        if self.buf.is_empty() {
            return Ok(());
        }
        let fresh = self
            .free
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(SEGMENT_SIZE));
        let input = std::mem::replace(&mut self.buf, fresh);
        let seq = self.next_seq;
        self.next_seq += 1;
        let job = Job { seq, mode, input };
        match &mut self.workers {
            None => {
                let done = run_job(&mut self.inline, job);
                self.pending.insert(done.seq, done);
                self.write_ready()
            }
            Some(workers) => {
                if workers.in_flight >= workers.max_in_flight {
                    self.wait_one()?;
                }
                let Some(workers) = &mut self.workers else {
                    return Ok(());
                };
                let sent = workers.jobs.as_ref().map(|tx| tx.send(job).is_ok());
                if sent != Some(true) {
                    return Err(GzError::Compress("a compression thread stopped".to_owned()));
                }
                workers.in_flight += 1;
                Ok(())
            }
        }
    }

    /// Waits for one finished segment and writes whatever is now in order.
    fn wait_one(&mut self) -> Result<(), GzError> {
        if let Some(workers) = &mut self.workers {
            let done = workers
                .results
                .recv()
                .map_err(|_| GzError::Compress("a compression thread stopped".to_owned()))?;
            workers.in_flight -= 1;
            self.pending.insert(done.seq, done);
        }
        self.write_ready()
    }

    fn write_ready(&mut self) -> Result<(), GzError> {
        while let Some(done) = self.pending.remove(&self.next_write) {
            let output = done.output.map_err(GzError::Compress)?;
            self.out.write_all(&output).map_err(GzError::Io)?;
            let len = done.input.len() as u64;
            self.crc
                .combine(&crc32fast::Hasher::new_with_initial_len(done.crc, len));
            self.total_in += len;
            self.next_write += 1;
            let mut input = done.input;
            input.clear();
            if self.free.len() < 8 {
                self.free.push(input);
            }
        }
        Ok(())
    }

    /// Flushes every segment, writes the final block and the gzip trailer, and returns `out`.
    pub(crate) fn finish(mut self) -> Result<W, GzError> {
        self.seal()?;
        while self.workers.as_ref().is_some_and(|w| w.in_flight > 0) {
            self.wait_one()?;
        }
        self.write_ready()?;
        self.workers = None; // joins the threads
        let crc = std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize();
        // ISIZE is the input length modulo 2^32 (RFC 1952 §2.3.1).
        let isize = (self.total_in & 0xffff_ffff) as u32;
        let mut trailer = [0u8; 10];
        trailer[..2].copy_from_slice(&FINAL_EMPTY_BLOCK);
        trailer[2..6].copy_from_slice(&crc.to_le_bytes());
        trailer[6..].copy_from_slice(&isize.to_le_bytes());
        self.out.write_all(&trailer).map_err(GzError::Io)?;
        self.out.flush().map_err(GzError::Io)?;
        Ok(self.out)
    }
}
