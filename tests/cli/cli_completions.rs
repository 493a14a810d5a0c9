//! `completions` and `man`: generated from the clap tree, so every command appears in both.

use crate::common::cmd;

const COMMANDS: &[&str] = &[
    "validate",
    "package",
    "keygen",
    "sign",
    "verify",
    "train",
    "migrate",
    "schema",
    "completions",
    "man",
];

fn stdout_of(args: &[&str]) -> String {
    let out = cmd().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completions_load_in_bash() {
    let bin = assert_cmd::cargo::cargo_bin("expert-cli");
    let script = format!(
        "source <('{}' completions bash) && complete -p expert-cli",
        bin.display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("complete") && text.contains("expert-cli"),
        "{text}"
    );
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let text = stdout_of(&["completions", shell]);
        for c in COMMANDS {
            assert!(text.contains(c), "{shell} script lacks `{c}`");
        }
        assert!(
            text.contains("pubkey"),
            "{shell} script lacks the --pubkey flag"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    cmd().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn the_man_page_names_every_command() {
    let roff = stdout_of(&["man"]);
    assert!(roff.starts_with(".ie \\n(.g .ds Aq"), "{}", &roff[..80]);
    assert!(roff.contains(".TH expert-cli 1"));
    for c in COMMANDS {
        assert!(
            roff.contains(&format!("expert\\-cli\\-{c}(1)")),
            "man page lacks `{c}`"
        );
    }
    // Rendered by man(1) when it is installed (man-db); the roff checks above always run.
    let Ok(man) = which("man") else {
        crate::common::skip("`man` is not installed to render the page");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("expert-cli.1");
    std::fs::write(&page, &roff).unwrap();
    let out = std::process::Command::new(man)
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    // man may hyphenate or embolden; strip backspace overstrikes before searching.
    let text = strip_overstrike(&text);
    assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
    for c in COMMANDS {
        assert!(
            text.contains(&format!("expert-cli-{c}(1)")),
            "rendered page lacks `{c}`:\n{text}"
        );
    }
}

#[test]
fn man_output_writes_one_page_per_command_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let listed = stdout_of(&["man", "--output", d]);
    assert_eq!(listed.lines().count(), COMMANDS.len() + 1, "{listed}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut want: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("expert-cli-{c}.1"))
        .collect();
    want.push("expert-cli.1".to_owned());
    want.sort();
    assert_eq!(names, want);
    let validate = std::fs::read_to_string(dir.path().join("expert-cli-validate.1")).unwrap();
    assert!(validate.contains("\\-\\-strict"), "{validate}");

    let before = std::fs::read(dir.path().join("expert-cli.1")).unwrap();
    let out = cmd().args(["man", "--output", d]).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: `") && err.contains("hint: pass --force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("expert-cli.1")).unwrap(),
        before
    );
    cmd()
        .args(["man", "--force", "--output", d])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        COMMANDS.len() + 1
    );
}

fn which(tool: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .ok_or(())
}

fn strip_overstrike(s: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in s.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect::<String>().replace('\u{2010}', "-")
}
