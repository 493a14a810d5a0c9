//! `verify`: the trusted keys (flags, else `EXPERT_CLI_TRUSTED_KEYS`, else the trust store),
//! then `expert_cli::signing::verify_package` (the detached `PACKAGE.minisig` as a fast path
//! unless `--full`). Four outcomes, four exit codes: verified 0, untrusted 3, unsigned 4,
//! invalid 5.

use crate::cli::VerifyArgs;
use crate::env;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{self, Ui};
use expert_cli::signing::{self, TrustSources, VerifyOptions};

pub fn run(args: VerifyArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let sources = TrustSources::choose(
        &args.pubkey,
        args.trusted_keys.as_slice(),
        std::env::var_os(env::EXPERT_CLI_TRUSTED_KEYS).as_deref(),
        std::env::var_os(env::XDG_CONFIG_HOME).as_deref(),
        std::env::var_os(env::HOME).as_deref(),
    );
    let (trusted, skipped) = sources.load()?;
    render::verify::skipped(ui, &skipped);
    let path = args
        .package
        .as_deref()
        .or(args.expert.as_deref())
        .expect("clap requires PACKAGE or --expert");
    let opts = VerifyOptions {
        expect_name: args.expect_name,
        expect_version: args.expect_version,
        full: args.full,
        ..VerifyOptions::default()
    };
    let report = signing::verify_package(path, &trusted, &opts)?;
    let status = ExitStatus::from(&report.outcome);
    let trust = render::verify::Trust {
        sources: &sources,
        keys: trusted.len(),
    };
    render::verify::report(ui, &report, &trust, status);
    Ok(status)
}
