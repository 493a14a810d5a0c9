//! Every environment variable expert-cli reads, one documented constant each
//! (`docs/CLI.md` lists them; a test keeps the two in step).

/// Set to anything to turn colour off (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Unix time used as the mtime of every package member, for reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// The active Python virtual environment; `train` takes the trainer's packages from it when no
/// --python-env is given.
pub const VIRTUAL_ENV: &str = "VIRTUAL_ENV";

/// The prefix of the Python installation whose standard library `train`'s embedded
/// interpreter uses; by default the `home` of the virtual environment's `pyvenv.cfg`. `train`
/// sets it for the interpreter it starts.
pub const PYTHONHOME: &str = "PYTHONHOME";

/// Every variable, with one line of documentation: the text of docs/CLI.md's table and of the
/// man page's ENVIRONMENT section.
pub const ALL: &[(&str, &str)] = &[
    (NO_COLOR, "turns colour off when set (to anything non-empty)"),
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
        "mtime of package members (default 315532800, 1980-01-01)",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_in_cli_md_matches() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CLI.md")).unwrap();
        let rows: Vec<(String, String)> = doc
            .lines()
            .skip_while(|l| !l.starts_with("## Environment"))
            .skip(1)
            .take_while(|l| !l.starts_with("## "))
            .filter_map(|l| {
                let (name, text) = l
                    .strip_prefix("| `")?
                    .strip_suffix(" |")?
                    .split_once("` | ")?;
                Some((name.to_owned(), text.to_owned()))
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
