//! The library never prints, exits, reads the environment or uses the binary's crates
//! (STYLE §3): this scans every library source file and fails on a breach, in the spirit of
//! ripgrep's meta-tests.
//!
//! Which files are the library is read from `src/lib.rs` itself (its `mod` lines), so a new
//! module is covered the day it is declared; no list here to forget to update.

use std::path::{Path, PathBuf};

/// What a library file must not contain, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("println!", "prints"),
    ("eprintln!", "prints"),
    ("print!(", "prints"),
    ("eprint!(", "prints"),
    ("dbg!(", "prints"),
    ("stdout()", "writes to stdout"),
    ("stderr()", "writes to stderr"),
    ("process::exit", "exits"),
    ("process::abort", "exits"),
    ("std::env::", "reads the environment"),
    ("env::var", "reads the environment"),
    ("env::set_var", "changes the environment"),
    ("env::remove_var", "changes the environment"),
    ("env::args", "reads the command line"),
    ("clap::", "uses clap"),
    ("clap_complete", "uses clap"),
    ("clap_mangen", "uses clap"),
    ("anyhow", "uses anyhow"),
    ("indicatif", "uses indicatif"),
    ("rpassword", "asks on the terminal"),
    ("ctrlc", "handles signals"),
    ("anstream", "decides terminal colour"),
    ("anstyle", "decides terminal colour"),
];

/// The modules `src/lib.rs` declares (`pub mod x;`, `mod x;`, with or without attributes).
fn library_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .filter_map(|l| {
            let l = l.rsplit(']').next().unwrap_or(l).trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("pub(crate) mod "))
                .or_else(|| l.strip_prefix("mod "))?;
            Some(rest.strip_suffix(';')?.trim().to_owned())
        })
        .collect()
}

/// `src/NAME.rs` and everything under `src/NAME/`.
fn module_files(src: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let file = src.join(format!("{name}.rs"));
    let dir = src.join(name);
    assert!(
        file.is_file() || dir.is_dir(),
        "src/lib.rs declares `{name}`, but neither src/{name}.rs nor src/{name}/ exists"
    );
    if file.is_file() {
        out.push(file);
    }
    if dir.is_dir() {
        sources(&dir, out);
    }
}

fn sources(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            sources(&e.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

/// Where `code` breaks a rule: `(line number, what it does)`. Comments are skipped; so is
/// everything from the first `#[cfg(test)]` on (tests may use what they like).
fn breaches(code: &str) -> Vec<(usize, &'static str, &'static str)> {
    let code = code.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = Vec::new();
    for (i, line) in code.lines().enumerate() {
        let l = line.trim_start();
        if l.starts_with("//") {
            continue;
        }
        // `env!`/`option_env!` read the build's environment at compile time, not the user's.
        let l = l.replace("option_env!(", "").replace("env!(", "");
        for (bad, why) in FORBIDDEN {
            if l.contains(bad) {
                found.push((i + 1, *bad, *why));
            }
        }
    }
    found
}

#[test]
fn library_modules_do_not_print_exit_or_read_the_environment() {
    let root = crate::common::root();
    let src = root.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let modules = library_modules(&lib);
    for m in [
        "archive", "clock", "digest", "fs", "manifest", "names", "signing", "train",
    ] {
        assert!(
            modules.iter().any(|n| n == m),
            "`{m}` not found in src/lib.rs: {modules:?}"
        );
    }
    for binary_only in ["cli", "commands", "render", "error", "exit", "env"] {
        assert!(
            !modules.iter().any(|n| n == binary_only),
            "src/lib.rs declares `{binary_only}`, a module of the binary"
        );
    }
    let mut files = vec![src.join("lib.rs")];
    for m in &modules {
        module_files(&src, m, &mut files);
    }
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (line, bad, why) in breaches(&text) {
            let shown = f.strip_prefix(&root).unwrap_or(f).display();
            found.push(format!("{shown}:{line}: `{bad}` ({why})"));
        }
    }
    assert!(
        found.is_empty(),
        "library code breaks the layering rules (STYLE §3):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_reads_lib_rs_and_catches_each_kind_of_breach() {
    let lib =
        "//! docs\n#![forbid(unsafe_code)]\npub mod a;\n#[cfg(x)]\npub mod b;\nmod c;\n// mod d;\n";
    assert_eq!(library_modules(lib), ["a", "b", "c"]);
    let code = "fn f() {\n    println!(\"x\");\n    let _ = std::env::var(\"HOME\");\n    \
                std::process::exit(1);\n    let v = env!(\"CARGO_MANIFEST_DIR\");\n    \
                // eprintln!(\"comment\")\n    let _ = clap::Command::new(\"x\");\n}\n\
                #[cfg(test)]\nmod tests { fn t() { println!(\"fine\"); } }\n";
    let found: Vec<(usize, &str)> = breaches(code).iter().map(|(l, b, _)| (*l, *b)).collect();
    assert_eq!(
        found,
        [
            (2, "println!"),
            (3, "std::env::"),
            (3, "env::var"),
            (4, "process::exit"),
            (7, "clap::")
        ]
    );
}
