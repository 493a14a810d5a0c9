//! Every environment variable expert-cli reads, one documented constant each
//! (`docs/CLI.md` lists them; a test keeps the two in step).

/// Set to anything to turn colour off (<https://no-color.org>). Read, like the three below, by
/// `anstream` when `render::Ui` decides whether a stream gets colour (`--color auto`).
pub const NO_COLOR: &str = "NO_COLOR";
/// Set to anything: colour even when not writing to a terminal (unless `NO_COLOR` is set).
pub const CLICOLOR_FORCE: &str = "CLICOLOR_FORCE";
/// `0` turns colour off (<https://bixense.com/clicolors/>).
pub const CLICOLOR: &str = "CLICOLOR";
/// The terminal type: `dumb` (or, outside Windows, no `TERM` at all) turns colour off.
pub const TERM: &str = "TERM";
/// Unix time used as the mtime of every package member, for reproducible builds, and as
/// `sign`'s `integrity.created_at` (re-signing keeps the package's member mtime).
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

/// The prefix of the Python installation whose standard library `train`'s embedded
/// interpreter uses; by default the `home` of the virtual environment's `pyvenv.cfg`. `train`
/// sets it for the interpreter it starts.
pub const PYTHONHOME: &str = "PYTHONHOME";

/// Every variable, with one line of documentation: the text of docs/CLI.md's table and of the
/// man page's ENVIRONMENT section.
pub const ALL: &[(&str, &str)] = &[
    (
        NO_COLOR,
        "turns colour off when set (to anything non-empty)",
    ),
    (
        CLICOLOR_FORCE,
        "colour even when not writing to a terminal, when set (to anything non-empty) and `NO_COLOR` is not",
    ),
    (CLICOLOR, "`0` turns colour off"),
    (
        TERM,
        "`dumb` turns colour off; so does no `TERM` at all outside Windows, unless `CLICOLOR` or `CI` is set",
    ),
    (
        VIRTUAL_ENV,
        "train: Python environment of the trainer when --python-env is absent",
    ),
    (
        PYTHONHOME,
        "train: the Python installation whose standard library the embedded interpreter uses (default: the `home` of the environment's pyvenv.cfg)",
    ),
    (
        SOURCE_DATE_EPOCH,
        "mtime of package members (default 315532800, 1980-01-01); `integrity.created_at` of `sign` (default: now; `sign` keeps the members' mtime)",
    ),
    (
        EXPERT_CLI_KEY_PASSPHRASE,
        "passphrase of an encrypted secret key (`keygen --encrypt`, `sign`); without it the passphrase is asked on the terminal, and never without one",
    ),
    (
        EXPERT_CLI_TRUSTED_KEYS,
        "verify: trusted keys when neither `--pubkey` nor `--trusted-keys` is given: `:`-separated key files and folders of `*.pub` files",
    ),
    (
        XDG_CONFIG_HOME,
        "verify: the trust store is `$XDG_CONFIG_HOME/expert-cli/trusted/` (when absolute)",
    ),
    (
        HOME,
        "verify: without `XDG_CONFIG_HOME` the trust store is `~/.config/expert-cli/trusted/`",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_in_cli_md_matches() {
        let rows: Vec<(String, String)> = crate::cli_md_table("Environment")
            .into_iter()
            .filter_map(|cells| {
                let name = cells[0].strip_prefix('`')?.strip_suffix('`')?;
                Some((name.to_owned(), cells[1..].join(" | ")))
            })
            .collect();
        let table: Vec<(String, String)> = super::ALL
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(
            rows, table,
            "docs/CLI.md's environment table differs from src/env.rs"
        );
    }
}
