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

/// A scratch folder with `expert-cli` on PATH, the multi-model example and a few files (which
/// `--model` must never offer).
struct Shell {
    dir: tempfile::TempDir,
    path: String,
}

impl Shell {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        crate::common::copy_dir(
            &crate::common::root().join("examples/multi-model-expert"),
            &dir.path().join("example"),
        );
        std::fs::write(dir.path().join("not-a-model.txt"), "").unwrap();
        let bin = assert_cmd::cargo::cargo_bin("expert-cli");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Shell { dir, path }
    }

    /// Runs `program args…` in the folder; `None` (after a skip) when the shell is missing.
    fn run(&self, program: &str, args: &[&str]) -> Option<String> {
        let out = match std::process::Command::new(program)
            .args(args)
            .current_dir(self.dir.path())
            .env("PATH", &self.path)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .output()
        {
            Ok(out) => out,
            Err(_) => {
                crate::common::skip(&format!(
                    "`{program}` is not installed to test its completions (scripts/test.sh installs it)"
                ));
                return None;
            }
        };
        assert!(out.status.success(), "{program} {args:?}: {out:?}");
        Some(String::from_utf8(out.stdout).unwrap())
    }
}

/// What bash offers for `line` (ending where the cursor is), computed the way bash does it: the
/// function `complete -p expert-cli` names, called with COMP_WORDS, COMP_CWORD, COMP_LINE and
/// COMP_POINT set, and the command, the current and the previous word as arguments. `compopt`
/// (a no-op outside an interactive completion) records its options on the last line.
fn bash(shell: &Shell, line: &str) -> Option<Vec<String>> {
    let script = format!(
        r#"source <(expert-cli completions bash)
compopt() {{ COMPOPT+="$* "; }}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
spec=$(complete -p expert-cli)
function=${{spec##*-F }}; function=${{function%% *}}
"$function" expert-cli "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
(( ${{#COMPREPLY[@]}} )) && printf '%s\n' "${{COMPREPLY[@]}}"
printf 'compopt: %s\n' "$COMPOPT""#
    );
    let out = shell.run("bash", &["-c", &script])?;
    Some(out.lines().map(str::to_owned).collect())
}

#[test]
fn bash_completes_a_subcommands_flags() {
    // clap-rs/clap#6421: with a hyphen in the binary's name, no subcommand flag completed.
    let shell = Shell::new();
    let Some(got) = bash(&shell, "expert-cli package --") else {
        return;
    };
    for flag in [
        "--manifest",
        "--model",
        "--weights",
        "--output",
        "--list-contents",
    ] {
        assert!(got.contains(&flag.to_owned()), "{flag} missing: {got:?}");
    }
    assert!(!got.contains(&"--strict".to_owned()), "{got:?}");
    let got = bash(&shell, "expert-cli --format json verify --p").unwrap();
    assert_eq!(got[0], "--pubkey", "{got:?}");
    let got = bash(&shell, "expert-cli pa").unwrap();
    assert_eq!(got[0], "package", "{got:?}");
}

#[test]
fn bash_completes_only_the_formats_a_command_takes() {
    let shell = Shell::new();
    let Some(got) = bash(&shell, "expert-cli package --format ") else {
        return;
    };
    assert_eq!(got[..2], ["text", "json"], "{got:?}");
    let got = bash(&shell, "expert-cli validate --format ").unwrap();
    assert_eq!(got[..4], ["text", "json", "sarif", "github"], "{got:?}");
}

#[test]
fn bash_completes_model_with_the_manifests_models_and_never_files() {
    let shell = Shell::new();
    let Some(got) = bash(
        &shell,
        "expert-cli package --manifest example/manifest.json --model ",
    ) else {
        return;
    };
    assert_eq!(
        got,
        [
            "qwen3-0.6b",
            "qwen3-1.7b",
            "qwen3-4b",
            "compopt: +o default +o bashdefault "
        ],
        "{got:?}"
    );
    let got = bash(
        &shell,
        "expert-cli train -m example/manifest.json --model qwen3-1",
    )
    .unwrap();
    assert_eq!(got[0], "qwen3-1.7b", "{got:?}");
    // No manifest on the line and none in the folder: nothing, and bash's file fallback is off.
    let got = bash(&shell, "expert-cli package --model ").unwrap();
    assert_eq!(got, ["compopt: +o default +o bashdefault "], "{got:?}");
}

/// Lists what zsh offers for `line`: an interactive zsh in a pseudo-terminal (`zsh/zpty`),
/// `compinit` with `_expert-cli` on `fpath`, `compadd` wrapped to print each candidate, then the
/// line and a TAB typed.
const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () {
  if [[ ${@[(I)-(O|A|D)]} -gt 0 ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits
  builtin compadd -A __hits "$@"
  local ret=$?
  (( $#__hits )) && print -l -- "<"hit">"${^__hits}
  return $ret
}'
zpty -w z "zstyle ':completion:*' menu no"
zpty -w z "$2"$'\t'
zpty -w z $'\C-u print "<do""ne>"'
local out line
integer deadline=$(( SECONDS + 30 ))
while (( SECONDS < deadline )); do
  if zpty -r -t z line; then
    out+=$line
    [[ $out == *'<done>'* ]] && break
  else
    sleep 0.05
  fi
done
zpty -d z
print -r -- "$out" | tr -d '\r' | grep -ao '<hit>[^<]*' | sed 's/<hit>//; s/[[:space:]]*$//' | sort -u
"#;

fn zsh(shell: &Shell, line: &str) -> Option<Vec<String>> {
    let functions = shell.dir.path().join("zfunc");
    std::fs::create_dir_all(&functions).unwrap();
    let script = cmd().args(["completions", "zsh"]).output().unwrap().stdout;
    std::fs::write(functions.join("_expert-cli"), script).unwrap();
    let capture = shell.dir.path().join("capture.zsh");
    std::fs::write(&capture, ZSH_CAPTURE).unwrap();
    let out = shell.run(
        "zsh",
        &[
            "-f",
            capture.to_str().unwrap(),
            functions.to_str().unwrap(),
            line,
        ],
    )?;
    Some(out.lines().map(str::to_owned).collect())
}

#[test]
fn zsh_completes_flags_formats_and_models() {
    let shell = Shell::new();
    let Some(got) = zsh(&shell, "expert-cli package --") else {
        return;
    };
    for flag in ["--manifest", "--model", "--list-contents", "--format"] {
        assert!(got.contains(&flag.to_owned()), "{flag} missing: {got:?}");
    }
    assert_eq!(
        zsh(&shell, "expert-cli package --format ").unwrap(),
        ["json", "text"]
    );
    assert_eq!(
        zsh(&shell, "expert-cli --format ").unwrap(),
        ["github", "json", "sarif", "text"]
    );
    assert_eq!(
        zsh(
            &shell,
            "expert-cli package -m example/manifest.json --model "
        )
        .unwrap(),
        ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b"]
    );
    assert!(zsh(&shell, "expert-cli package --model ")
        .unwrap()
        .is_empty());
}

fn fish(shell: &Shell, line: &str) -> Option<Vec<String>> {
    let script = format!(
        "expert-cli completions fish | source; complete -C'{line}' | string split -f1 \\t; true"
    );
    let out = shell.run("fish", &["--no-config", "-c", &script])?;
    Some(out.lines().map(str::to_owned).collect())
}

#[test]
fn fish_completes_flags_formats_shells_and_models() {
    let shell = Shell::new();
    let Some(got) = fish(&shell, "expert-cli package --") else {
        return;
    };
    for flag in ["--manifest", "--model", "--list-contents", "--format"] {
        assert!(got.contains(&flag.to_owned()), "{flag} missing: {got:?}");
    }
    assert_eq!(
        fish(&shell, "expert-cli package --format ").unwrap(),
        ["json", "text"]
    );
    assert_eq!(
        fish(&shell, "expert-cli --format ").unwrap(),
        ["github", "json", "sarif", "text"]
    );
    assert_eq!(
        fish(&shell, "expert-cli completions ").unwrap(),
        ["bash", "elvish", "fish", "powershell", "zsh"]
    );
    assert_eq!(
        fish(
            &shell,
            "expert-cli train --manifest example/manifest.json --model "
        )
        .unwrap(),
        ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b"]
    );
    assert!(fish(&shell, "expert-cli package --model ")
        .unwrap()
        .is_empty());
}

#[test]
fn list_models_prints_what_model_takes() {
    let out = stdout_of(&[
        "completions",
        "--list-models",
        crate::common::root()
            .join("examples/multi-model-expert/manifest.json")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(out, "qwen3-0.6b\nqwen3-1.7b\nqwen3-4b\n");
    for model in out.lines() {
        cmd()
            .current_dir(crate::common::root().join("examples/multi-model-expert"))
            .args(["package", "--list-contents", "--model", model])
            .assert()
            .success();
    }
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
