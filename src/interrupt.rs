//! Ctrl-C (SIGINT/SIGTERM), one handler for the whole run.
//!
//! - While a file is being written, the temporary file is removed and the process exits with
//!   130, so an interrupted run leaves nothing behind. (A destructor cannot do this: the default
//!   signal action ends the process without unwinding.)
//! - While `train` runs, the first Ctrl-C only raises a flag the trainer polls — it stops after
//!   the current step with a usable checkpoint — and a second one aborts at once.
//!
//! This is the one exit outside `main`, because a signal arrives outside its control flow.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

static COOPERATIVE: Mutex<Option<Arc<AtomicBool>>> = Mutex::new(None);

/// Installs the handler once.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(flag) = COOPERATIVE.lock() {
            if let Some(stop) = flag.as_ref() {
                if !stop.swap(true, Ordering::SeqCst) {
                    eprintln!("\nstopping after this step and saving a checkpoint (Ctrl-C again to abort)");
                    return;
                }
            }
        }
        // Every output file written through the library's fs::AtomicFile is guarded there.
        expert_cli::fs::remove_temp_files();
        eprintln!("error: interrupted");
        std::process::exit(i32::from(crate::exit::ExitStatus::Interrupted.code()));
    });
}

/// From now on the first Ctrl-C sets `stop` instead of ending the process.
pub fn cooperate(stop: Arc<AtomicBool>) {
    if let Ok(mut f) = COOPERATIVE.lock() {
        *f = Some(stop);
    }
}
