//! The one exit-code table. `docs/CLI.md` lists the same codes; a test keeps them in step.

use std::process::ExitCode;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked (validate: no errors; verify: verified).
    Success,
    /// The input is invalid: a manifest or package has errors, or was refused as unsafe.
    Invalid,
    /// Bad flags or arguments.
    Usage,
    /// verify: the signature is valid but made by a key that is not trusted.
    Untrusted,
    /// verify: the package is not signed.
    Unsigned,
    /// verify: the signature or a member does not match: the package was altered.
    BadSignature,
    /// The output exists and --force was not given.
    Exists,
    /// A file could not be read or written.
    Io,
    /// Training failed (Python environment or trainer error).
    Train,
    /// Interrupted (Ctrl-C).
    Interrupted,
}

impl ExitStatus {
    /// Every status, in table order.
    pub const ALL: &'static [ExitStatus] = &[
        ExitStatus::Success,
        ExitStatus::Invalid,
        ExitStatus::Usage,
        ExitStatus::Untrusted,
        ExitStatus::Unsigned,
        ExitStatus::BadSignature,
        ExitStatus::Exists,
        ExitStatus::Io,
        ExitStatus::Train,
        ExitStatus::Interrupted,
    ];

    /// What the code means: the text of docs/CLI.md's table and of the man page's EXIT STATUS.
    pub fn meaning(self) -> &'static str {
        match self {
            ExitStatus::Success => "success (validate: no errors; verify: verified)",
            ExitStatus::Invalid => {
                "invalid input: a manifest or package has errors, or was refused as unsafe"
            }
            ExitStatus::Usage => "usage: bad flags or arguments",
            ExitStatus::Untrusted => "verify: the signature is valid but its key is not trusted",
            ExitStatus::Unsigned => "verify: the package is not signed",
            ExitStatus::BadSignature => {
                "verify: a signature or member does not match: the package was altered"
            }
            ExitStatus::Exists => "the output exists and `--force` was not given",
            ExitStatus::Io => "a file could not be read or written",
            ExitStatus::Train => "training failed (Python environment or trainer error)",
            ExitStatus::Interrupted => "interrupted (Ctrl-C)",
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Invalid => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Untrusted => 3,
            ExitStatus::Unsigned => 4,
            ExitStatus::BadSignature => 5,
            ExitStatus::Exists => 6,
            ExitStatus::Io => 7,
            ExitStatus::Train => 8,
            ExitStatus::Interrupted => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

/// verify: the one place an outcome becomes an exit status (0, 3, 4, 5).
impl From<&expert_cli::signing::Outcome> for ExitStatus {
    fn from(outcome: &expert_cli::signing::Outcome) -> ExitStatus {
        use expert_cli::signing::Outcome;
        match outcome {
            Outcome::Verified { .. } => ExitStatus::Success,
            Outcome::Untrusted { .. } => ExitStatus::Untrusted,
            Outcome::Unsigned => ExitStatus::Unsigned,
            Outcome::Invalid(_) => ExitStatus::BadSignature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    #[test]
    fn the_table_in_cli_md_matches() {
        let rows: Vec<(u8, String)> = crate::cli_md_table("Exit codes")
            .into_iter()
            .filter_map(|cells| Some((cells[0].parse().ok()?, cells[1..].join(" | "))))
            .collect();
        let table: Vec<(u8, String)> = ExitStatus::ALL
            .iter()
            .map(|s| (s.code(), s.meaning().to_owned()))
            .collect();
        assert_eq!(
            rows, table,
            "docs/CLI.md's exit-code table differs from src/exit.rs"
        );
        let mut unique: Vec<u8> = table.iter().map(|(c, _)| *c).collect();
        unique.dedup();
        assert_eq!(unique.len(), table.len());
    }
}
