//! The command line's own output (#12.3, #12.5): `--format json` gives JSON on stdout for usage
//! errors too, `--help` ends with examples, `--format` offers only what a command takes, man
//! pages carry EXIT STATUS, ENVIRONMENT and EXAMPLES from the tables docs/CLI.md shows, and a
//! closed stdout ends the run quietly with success.

use crate::common::{cmd, fixture, root};

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

/// Runs `args`; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = cmd().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn usage_errors_are_json_on_stdout_with_format_json() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--format", "json", "validate", "--bogus"],
            "unexpected argument '--bogus' found",
        ),
        (
            &["--format", "json", "package", "--modle", "x"],
            "unexpected argument '--modle' found",
        ),
        (
            &["validate", "--format=json"],
            "the following required arguments were not provided: <PATH>...",
        ),
        (
            &["--format", "json", "frobnicate"],
            "unrecognized subcommand 'frobnicate'",
        ),
        (
            &["--format", "json"],
            "'expert-cli' requires a subcommand but one was not provided [subcommands: validate,",
        ),
        (
            &["--format", "json", "sign", "--expert", "p.expert"],
            "the following required arguments were not provided: <--key <KEY>|--key-env <VAR>>",
        ),
        (
            &["--format", "json", "completions", "bash"],
            "`completions` prints a script or a page: it takes only --format text, not json",
        ),
    ];
    for (args, message) in cases {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"));
        assert_eq!(json["error"]["exit_code"], 2, "{args:?}");
        let got = json["error"]["message"].as_str().unwrap();
        assert!(got.starts_with(message), "{args:?}: {json}");
        assert!(json["error"]["hint"].is_string(), "{args:?}: {json}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    // The hint is clap's tip where it has one.
    let (_, stdout, _) = run(&["--format", "json", "package", "--modle", "x"]);
    assert!(stdout.contains("\"hint\": \"a similar argument exists: '--model'\""));
    // Without --format json a usage error is text on stderr only.
    let (code, stdout, stderr) = run(&["validate", "--bogus"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.starts_with("error: unexpected argument '--bogus' found"));
}

#[test]
fn command_errors_are_json_on_stdout_with_format_json() {
    // (`validate` reports a path it cannot read inside its own JSON report, with exit 7:
    // tests/cli/cli_validate.rs; this is the error of a command that stops.)
    let (code, stdout, stderr) = run(&[
        "--format",
        "json",
        "migrate",
        "--manifest",
        "/nonexistent/m.json",
    ]);
    assert_eq!(code, 7, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["error"]["exit_code"], 7);
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/m.json"));
}

#[test]
fn help_and_version_stay_text_with_format_json() {
    for args in [
        &["--format", "json", "--help"][..],
        &["--format", "json", "validate", "--help"],
        &["validate", "--format", "json", "-h"],
    ] {
        let (code, stdout, _) = run(args);
        assert_eq!(code, 0, "{args:?}");
        assert!(stdout.contains("Usage: expert-cli"), "{args:?}: {stdout}");
        assert!(serde_json::from_str::<serde_json::Value>(&stdout).is_err());
    }
    let (code, stdout, _) = run(&["--format", "json", "--version"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("expert-cli "), "{stdout}");
    assert!(stdout.contains("(train: "), "{stdout}");
}

#[test]
fn every_commands_help_ends_with_examples() {
    for c in COMMANDS {
        for flag in ["-h", "--help"] {
            let (code, stdout, _) = run(&[c, flag]);
            assert_eq!(code, 0);
            let examples = stdout
                .split("\nExamples:\n")
                .nth(1)
                .unwrap_or_else(|| panic!("`{c} {flag}` has no examples:\n{stdout}"));
            let lines: Vec<&str> = examples.lines().collect();
            let commands = lines
                .iter()
                .filter(|l| l.starts_with("  ") && l.contains("expert-cli "))
                .count();
            let comments = lines.iter().filter(|l| l.starts_with("  # ")).count();
            assert!(
                (2..=4).contains(&commands) && commands == comments,
                "`{c} {flag}`:\n{examples}"
            );
            // cargo's and ripgrep's style: the examples are the end of the help
            assert!(
                examples
                    .trim_end()
                    .lines()
                    .last()
                    .unwrap()
                    .contains("expert-cli "),
                "{examples}"
            );
        }
    }
}

#[test]
fn format_offers_only_what_a_command_takes() {
    let (_, help, _) = run(&["package", "--help"]);
    let format = help.split("--format <FORMAT>").nth(1).unwrap();
    let format = &format[..format.find("\n  -").unwrap_or(format.len())];
    assert!(
        format.contains("- text") && format.contains("- json"),
        "{format}"
    );
    assert!(
        !format.contains("sarif") && !format.contains("github"),
        "{format}"
    );
    let (_, help, _) = run(&["validate", "--help"]);
    assert!(
        help.contains("- sarif") && help.contains("- github"),
        "{help}"
    );

    // After the command, clap refuses what the command does not take, listing what it does.
    let (code, _, stderr) = run(&["package", "--format", "sarif"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("invalid value 'sarif' for '--format <FORMAT>'")
            && stderr.contains("[possible values: text, json]"),
        "{stderr}"
    );
    // Before it, the command says so.
    let (code, _, stderr) = run(&["--format", "github", "sign", "--expert", "x", "--key", "k"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: --format github is only for `validate`; `sign` takes --format text or json\nhint: use --format text or json\n"
    );
    let good = fixture("manifests/valid-v2.json");
    for format in ["text", "json", "sarif", "github"] {
        cmd()
            .args(["validate", "--format", format])
            .arg(&good)
            .assert()
            .success();
    }
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_with_success() {
    // `schema` writes more than a pipe holds, so the write after `head` has gone fails.
    let bin = assert_cmd::cargo::cargo_bin("expert-cli");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' schema | head -c 100 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
            bin.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n", "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    let schema = cmd().arg("schema").output().unwrap().stdout;
    assert!(schema.len() > 70_000, "schema no longer fills a pipe");
}

/// docs/CLI.md's table under `heading`: (first cell without backticks, second cell).
fn table(heading: &str) -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(root().join("docs/CLI.md")).unwrap();
    doc.lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| code") && !l.starts_with("| variable"))
        .filter_map(|l| {
            let mut cells = l.strip_prefix("| ")?.strip_suffix(" |")?.split(" | ");
            Some((
                cells.next()?.trim_matches('`').to_owned(),
                cells.next()?.to_owned(),
            ))
        })
        .collect()
}

/// `text` as the man page writes it: hyphens escaped, `code` in bold.
fn roff(text: &str) -> String {
    text.replace('-', "\\-")
        .split('`')
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 1 {
                format!("\\fB{p}\\fR")
            } else {
                p.to_owned()
            }
        })
        .collect()
}

#[test]
fn man_pages_have_exit_status_environment_and_examples_from_the_tables() {
    let codes = table("## Exit codes");
    let vars = table("## Environment");
    assert!(codes.len() >= 10 && vars.len() >= 3, "{codes:?} {vars:?}");
    let dir = tempfile::tempdir().unwrap();
    cmd()
        .arg("man")
        .arg("--output")
        .arg(dir.path())
        .assert()
        .success();
    for page in std::fs::read_dir(dir.path()).unwrap() {
        let page = page.unwrap().path();
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let exit = text
            .find(".SH \"EXIT STATUS\"")
            .unwrap_or_else(|| panic!("{name}"));
        let env = text
            .find(".SH ENVIRONMENT")
            .unwrap_or_else(|| panic!("{name}"));
        let examples = text
            .find(".SH EXAMPLES")
            .unwrap_or_else(|| panic!("{name}"));
        assert!(exit < env && env < examples, "{name}: section order");
        for (code, meaning) in &codes {
            assert!(
                text.contains(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff(meaning))),
                "{name} lacks exit status {code}: {meaning}"
            );
        }
        for (var, meaning) in &vars {
            assert!(
                text.contains(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(var), roff(meaning))),
                "{name} lacks {var}"
            );
        }
        assert!(!text.contains(".SH EXTRA"), "{name}: examples twice");
        // a command's page shows its own examples
        if let Some(command) = name
            .strip_prefix("expert-cli-")
            .and_then(|n| n.strip_suffix(".1"))
        {
            let shown = &text[examples..];
            assert!(
                shown.contains(&format!("\\fBexpert\\-cli {command}"))
                    || shown.contains(&format!("expert\\-cli \\-\\-format json {command}"))
                    || shown.contains(&format!("expert\\-cli \\-\\-format github {command}")),
                "{name}: {shown}"
            );
        }
    }
}
