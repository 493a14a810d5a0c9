//! libFuzzer entry point (`cargo +nightly fuzz run manifest`); the body is `expert_cli_fuzz::manifest`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expert_cli_fuzz::manifest(data));
