//! Ctrl-C (SIGINT/SIGTERM) while a file is being written: the temporary file is removed and
//! the process exits with 130, so an interrupted run leaves nothing behind. (A destructor
//! cannot do this: the default signal action ends the process without unwinding.) This is the
//! one exit outside `main`, because a signal arrives outside its control flow.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handler once.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(paths) = PENDING.lock() {
            for p in paths.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
        eprintln!("error: interrupted; nothing was written");
        std::process::exit(i32::from(crate::exit::ExitStatus::Interrupted.code()));
    });
}

/// Removes `path` if the run is interrupted before [`forget`].
pub fn guard(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.push(path.to_owned());
    }
}

/// `path` is committed (renamed) or gone: stop guarding it.
pub fn forget(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|q| q != path);
    }
}
