//! libFuzzer entry point (`cargo +nightly fuzz run read`); the body is `expert_cli_fuzz::archive_read`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expert_cli_fuzz::archive_read(data));
