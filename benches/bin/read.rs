//! Reads a package with the library's hardened reader, as `expert-cli verify` does before any
//! signature check: every member decompressed, checked and hashed, nothing kept. Used by
//! `benches/verify_bench.sh`.
//!
//! Usage: `bench-read PACKAGE`. Prints each member's SHA-256, size and name.

use expert_cli::archive::{read_members_keeping, Limits};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: bench-read PACKAGE")?;
    let file = std::fs::File::open(path)?;
    let listing = read_members_keeping(file, &Limits::default(), &|_| false)?;
    for m in &listing.members {
        println!("{}  {:>12}  {}", m.sha256, m.size, m.path);
    }
    Ok(())
}
