//! Every environment variable expert-cli reads, one documented constant each
//! (`docs/CLI.md` lists them; a test keeps the two in step).

/// Set to anything to turn colour off (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Unix time used as the mtime of every package member, for reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// The active Python virtual environment; `train` takes the trainer's packages from it when no
/// --python-env is given.
pub const VIRTUAL_ENV: &str = "VIRTUAL_ENV";

/// The passphrase of an encrypted secret key (`keygen --encrypt`, `sign` with such a key):
/// read instead of asking on the terminal, which never happens without one (CI).
pub const EXPERT_CLI_KEY_PASSPHRASE: &str = "EXPERT_CLI_KEY_PASSPHRASE";
/// verify: trusted public keys when neither --pubkey nor --trusted-keys is given: a
/// `:`-separated list of key files and folders of `*.pub` files.
pub const EXPERT_CLI_TRUSTED_KEYS: &str = "EXPERT_CLI_TRUSTED_KEYS";
/// verify: the configuration folder holding the trust store `expert-cli/trusted/`.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// verify: the home folder; the trust store defaults to `~/.config/expert-cli/trusted/`.
pub const HOME: &str = "HOME";

/// Every variable, with one line of documentation.
#[cfg_attr(not(test), allow(dead_code))] // read by the docs test below
pub const ALL: &[(&str, &str)] = &[
    (NO_COLOR, "turns colour off when set"),
    (
        VIRTUAL_ENV,
        "train: Python environment of the trainer when --python-env is absent",
    ),
    (
        SOURCE_DATE_EPOCH,
        "mtime of package members (default 315532800, 1980-01-01)",
    ),
    (
        EXPERT_CLI_KEY_PASSPHRASE,
        "passphrase of an encrypted secret key (keygen --encrypt, sign); else asked on the terminal",
    ),
    (
        EXPERT_CLI_TRUSTED_KEYS,
        "verify: trusted keys (`:`-separated files and folders) when no --pubkey/--trusted-keys",
    ),
    (
        XDG_CONFIG_HOME,
        "verify: the trust store is `$XDG_CONFIG_HOME/expert-cli/trusted/`",
    ),
    (
        HOME,
        "verify: the trust store defaults to `~/.config/expert-cli/trusted/`",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_variable_is_documented_in_cli_md() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CLI.md")).unwrap();
        for (name, _) in super::ALL {
            assert!(
                doc.contains(&format!("| `{name}` |")),
                "docs/CLI.md does not list `{name}`"
            );
        }
    }
}
