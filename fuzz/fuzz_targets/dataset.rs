//! libFuzzer entry point (`cargo +nightly fuzz run dataset`); the body is `expert_cli_fuzz::dataset`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expert_cli_fuzz::dataset(data));
