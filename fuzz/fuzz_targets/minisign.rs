//! libFuzzer entry point (`cargo +nightly fuzz run minisign`); the body is
//! `expert_cli_fuzz::minisign_files`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expert_cli_fuzz::minisign_files(data));
