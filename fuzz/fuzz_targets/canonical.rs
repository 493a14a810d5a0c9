//! libFuzzer entry point (`cargo +nightly fuzz run canonical`); the body is
//! `expert_cli_fuzz::canonical_form` (a flag byte, then a tar stream).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expert_cli_fuzz::canonical_form(data));
