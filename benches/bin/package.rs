//! Packages files with the library's writer, as `expert-cli package` does (plan: hash every
//! source; then write, compare and hash the output; atomic rename; sidecar). Used by
//! `benches/package_bench.sh` until the CLI command exists, and to measure the library alone.
//!
//! Usage: `bench-package OUT.expert NAME=PATH...` (`manifest.json=...` is put first). Prints the
//! package's SHA-256, size and member count.

use expert_cli::archive::{sort_members, write_members, write_sidecar, Member, WriteOptions};
use expert_cli::fs::AtomicFile;
use expert_cli::progress::NoProgress;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((output, specs)) = args.split_first() else {
        return Err("usage: bench-package OUT.expert NAME=PATH...".into());
    };
    let mut members = Vec::new();
    for spec in specs {
        let (name, path) = spec.split_once('=').ok_or("expected NAME=PATH")?;
        members.push(Member::from_file(name, path)?);
    }
    sort_members(&mut members);
    let output = std::path::Path::new(output);
    let mut file = AtomicFile::create(output, true)?;
    let summary = write_members(
        &members,
        file.file_mut(),
        &WriteOptions::default(),
        &mut NoProgress,
    )?;
    file.commit()?;
    write_sidecar(output, &summary.sha256)?;
    println!(
        "{}  {}  {} members",
        summary.sha256,
        summary.size,
        summary.members.len()
    );
    Ok(())
}
