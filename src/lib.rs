//! expert-cli's library: the manifest model and its validator, the `.expert` archive format,
//! signing, and the training plan.
//!
//! Nothing in here prints, exits or reads the environment: the binary (`src/main.rs`) parses
//! flags, calls these modules and renders their results. `tests/cli/layering.rs` enforces that.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod archive;
pub mod clock;
pub mod digest;
pub mod fs;
pub mod manifest;
pub mod names;
pub mod progress;
pub mod signing;
pub mod train;
