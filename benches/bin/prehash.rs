//! BLAKE2b-512 of a file and nothing else, with the library's prehash (the `blake2` crate, a
//! fixed 64 KiB buffer): the part of `verify`'s fast path that `minisign -V` does too. Used by
//! `benches/minisig_bench.sh` to tell the hash's cost from the rest.
//!
//! Usage: `bench-prehash FILE`. Prints the digest in hex.

use expert_cli::signing::minisign::prehash;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: bench-prehash FILE")?;
    let digest = prehash(std::fs::File::open(path)?)?;
    println!("{}", hex::encode(digest));
    Ok(())
}
