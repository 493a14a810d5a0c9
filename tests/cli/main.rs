//! The one integration-test binary: every area of expert-cli driven through the real binary and
//! the library, one module per area (`cargo test --test cli AREA::`).

mod common;

mod archive;
mod cases;
mod cli_completions;
mod cli_output;
mod cli_package;
mod cli_signing;
mod cli_validate;
mod concurrency;
mod corpus;
mod crash;
mod differential;
mod docs;
mod experts;
mod hostile;
mod layering;
mod manifest_rules;
mod minisign;
mod package_adapter;
mod precommit;
mod regressions;
mod runtime_load;
mod runtime_model;
mod signing;
mod startup;
mod train;
mod train_templates;
