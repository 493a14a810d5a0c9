//! libFuzzer entry point (`cargo +nightly fuzz run scan`); the body is `expert_cli_fuzz::archive_scan`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expert_cli_fuzz::archive_scan(data));
