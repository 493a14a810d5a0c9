//! How long-running library work reports progress without printing: the caller implements
//! [`Progress`] (the CLI draws a bar on a terminal; tests and pipes use [`NoProgress`]).

/// Receives progress from library operations.
pub trait Progress {
    /// A new phase starts with `total` units of work (bytes), 0 when unknown.
    fn start(&mut self, label: &str, total: u64);
    /// `n` more units are done.
    fn advance(&mut self, n: u64);
    /// The phase is over.
    fn finish(&mut self);
}

/// A [`Progress`] that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _label: &str, _total: u64) {}
    fn advance(&mut self, _n: u64) {}
    fn finish(&mut self) {}
}
