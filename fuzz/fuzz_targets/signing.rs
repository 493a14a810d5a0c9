//! libFuzzer entry point (`cargo +nightly fuzz run signing`); the body is `expert_cli_fuzz::signing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expert_cli_fuzz::signing(data));
