//! The gzip layer: the writer's one gzip member whose deflate stream is a sequence of
//! independently compressed *segments*, each ending on a byte boundary with a sync flush; and
//! the reader's [`GzipReader`], flate2's decoder with the package rules on top (one member,
//! nothing after it, and in canonical mode exactly the writer's [`GZIP_HEADER`]).
//!
//! Why segments: a segment can use its own deflate settings (Huffman-only for weights, LZ77 at
//! `level` for text) and can be compressed on any thread, because a segment never refers back
//! into an earlier one. Segment boundaries depend only on the bytes and their [`Mode`]s (a new
//! segment starts when the mode changes or the current one reaches [`SEGMENT_SIZE`]), so the
//! output is the same whatever the thread count or timing. See `docs/ARCHIVE_FORMAT.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Strategy};

/// Uncompressed bytes per segment. Part of the format's determinism: changing it changes the
/// bytes of every archive.
pub(crate) const SEGMENT_SIZE: usize = 1 << 20;

/// Fixed gzip header: magic, CM=deflate, no flags, MTIME 0, XFL 0, OS 255 (unknown). The
/// canonical reader accepts these 10 bytes and no others.
pub(crate) const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

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

// ---- reading --------------------------------------------------------------------------------

/// Size of the compressed-input buffer.
const IN_BUF: usize = 64 * 1024;

/// A gzip-layer fault met while reading. It travels inside an `io::Error` (the tar layer reads
/// through `Read`) and `read.rs` turns it back into its `ReadError`.
#[derive(Debug)]
pub(crate) enum GzFault {
    /// The input is empty.
    Empty,
    /// The input does not start with the gzip magic bytes.
    NotGzip,
    /// The gzip header is malformed or uses a method other than deflate.
    BadHeader(String),
    /// The deflate data is corrupt.
    Corrupt(String),
    /// The CRC-32 or ISIZE of the trailer does not match the data.
    Checksum,
    /// The input ends early.
    Truncated(&'static str),
    /// Bytes follow the gzip member (a second member, or anything else).
    Trailing,
}

impl fmt::Display for GzFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for GzFault {}

fn fault(f: GzFault) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, f)
}

/// An error of the underlying input, marked so that it is told apart from flate2's own errors
/// after passing through the decoder.
#[derive(Debug)]
pub(crate) struct SourceError(pub(crate) io::Error);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The package input with its errors marked as [`SourceError`].
struct Source<R>(R);

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io::Error::new(e.kind(), SourceError(e))),
                ok => return ok,
            }
        }
    }
}

type Input<R> = BufReader<std::io::Chain<Cursor<[u8; 10]>, Source<R>>>;

/// Reads one gzip member with flate2's decoder (which checks the header, its optional CRC-16,
/// the CRC-32 and ISIZE of the trailer) and adds the package rule that nothing may follow the
/// member. The first 10 header bytes are read before anything is inflated and kept
/// ([`header`](Self::header)), so the canonical reader can compare them with [`GZIP_HEADER`]
/// (no FNAME, FCOMMENT, FEXTRA or FHCRC, MTIME 0, XFL 0, OS 255) before any data is inflated.
pub(crate) struct GzipReader<R: Read> {
    decoder: flate2::bufread::GzDecoder<Input<R>>,
    header: [u8; 10],
    done: bool,
}

impl<R: Read> GzipReader<R> {
    /// Reads and checks the 10-byte fixed part of the header.
    ///
    /// # Errors
    ///
    /// An `io::Error` holding a [`GzFault`] (empty, not gzip, not deflate, truncated) or a
    /// [`SourceError`].
    pub(crate) fn new(input: R) -> io::Result<Self> {
        let mut source = Source(input);
        let mut header = [0u8; 10];
        let mut got = 0;
        while got < header.len() {
            match source.read(&mut header[got..])? {
                0 => break,
                n => got += n,
            }
        }
        if got == 0 {
            return Err(fault(GzFault::Empty));
        }
        if got < 2 || header[..2] != GZIP_HEADER[..2] {
            return Err(fault(GzFault::NotGzip));
        }
        if got < header.len() {
            return Err(fault(GzFault::Truncated("the gzip header is incomplete")));
        }
        if header[2] != GZIP_HEADER[2] {
            return Err(fault(GzFault::BadHeader(format!(
                "the compression method is {} where deflate (8) is the only one defined",
                header[2]
            ))));
        }
        if header[3] & 0xe0 != 0 {
            return Err(fault(GzFault::BadHeader(
                "reserved flag bits are set".into(),
            )));
        }
        let input = BufReader::with_capacity(IN_BUF, Cursor::new(header).chain(source));
        Ok(GzipReader {
            decoder: flate2::bufread::GzDecoder::new(input),
            header,
            done: false,
        })
    }

    /// The first 10 bytes of the gzip header (the fixed part).
    pub(crate) fn header(&self) -> [u8; 10] {
        self.header
    }

    /// flate2's errors as [`GzFault`]s; the input's own errors unchanged.
    fn classify(e: io::Error) -> io::Error {
        if e.get_ref().is_some_and(|inner| inner.is::<SourceError>()) {
            return e;
        }
        match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                fault(GzFault::Truncated("the compressed data ends early"))
            }
            // flate2 says "corrupt gzip stream does not have a matching checksum" for a
            // trailer that does not match, "invalid gzip header" for a bad header, "corrupt
            // deflate stream" for bad data.
            _ if e.to_string().contains("checksum") => fault(GzFault::Checksum),
            _ if e.to_string().contains("header") => fault(GzFault::BadHeader(format!(
                "{e} (file name, comment, extra field or header CRC)"
            ))),
            _ => fault(GzFault::Corrupt(e.to_string())),
        }
    }
}

impl<R: Read> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        let n = self.decoder.read(out).map_err(Self::classify)?;
        if n == 0 {
            // The decoder has checked the trailer; exactly one member, nothing after it.
            if !self.decoder.get_mut().fill_buf()?.is_empty() {
                return Err(fault(GzFault::Trailing));
            }
            self.done = true;
        }
        Ok(n)
    }
}
