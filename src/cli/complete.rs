//! Shell completion scripts, generated from the clap tree ([`super::command`]) so they always
//! know every command and flag of this binary, with the fixes clap_complete needs for
//! `expert-cli` (a hyphenated name, per-command `--format` values, `--model` from the manifest),
//! and the base-model list the scripts ask `completions --list-models MANIFEST` for. The
//! `completions` command (`commands/completions.rs`) prints what these return.

use clap_complete::Shell;
use expert_cli::manifest;

/// The name the scripts register for.
const BIN: &str = "expert-cli";
/// The name bash's script is generated under, then renamed (see [`bash`]).
const BASH_NAME: &str = "expertcli";

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut cmd = super::command();
    let mut out = Vec::new();
    if shell == Shell::Bash {
        clap_complete::generate(shell, &mut cmd, BASH_NAME, &mut out);
        return bash(&String::from_utf8_lossy(&out));
    }
    clap_complete::generate(shell, &mut cmd, BIN, &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    match shell {
        Shell::Zsh => zsh(&text),
        Shell::Fish => fish(&text, &cmd),
        _ => text,
    }
}

/// Makes clap_complete's bash script work for `expert-cli`.
///
/// clap_complete names a subcommand's state from the binary name with `-` escaped, but not
/// consistently when the name has a hyphen: it sets `expert__cli__subcmd__package` and matches
/// `expert__subcmd__cli__subcmd__package`, so no subcommand flag ever completes
/// (clap-rs/clap#6421). The script is generated for a name without a hyphen, whose states agree,
/// and then registered for `expert-cli`. `--model` completes the base models of the manifest on
/// the line (`--manifest`/`-m`, default `manifest.json`) through `--list-models`.
fn bash(generated: &str) -> String {
    let mut text = String::with_capacity(generated.len() + 1024);
    for line in generated.lines() {
        let trimmed = line.trim_start();
        match trimmed.strip_suffix(&format!(" {BASH_NAME}")) {
            Some(head) if trimmed.starts_with("complete ") => {
                text.push_str(&line[..line.len() - trimmed.len()]);
                text.push_str(&format!("{head} {BIN}"));
            }
            _ => text.push_str(line),
        }
        text.push('\n');
    }
    // `--model` has no values clap knows (ValueHint::Other): clap_complete echoes the word
    // and adds no space after it.
    let echo = "--model)\n                    COMPREPLY=(\"${cur}\")\n                    if [[ \"${BASH_VERSINFO[0]}\" -ge 4 ]]; then\n                        compopt -o nospace\n                    fi";
    // Never files: `-o default` would list them when there is no model to offer.
    let models = "--model)\n                    COMPREPLY=($(compgen -W \"$(_expertcli_models)\" -- \"${cur}\"))\n                    compopt +o default +o bashdefault 2>/dev/null";
    let text = text.replace(echo, models);
    text + MODELS_FUNCTION
}

const MODELS_FUNCTION: &str = r#"
# The base models of the manifest on the command line, as --model takes them.
_expertcli_models() {
    local manifest=manifest.json i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            --manifest|-m) manifest="${COMP_WORDS[i+1]}" ;;
            --manifest=*) manifest="${COMP_WORDS[i]#--manifest=}" ;;
        esac
    done
    manifest="${manifest/#\~/$HOME}"
    [[ -f "$manifest" ]] && "${COMP_WORDS[0]}" completions --list-models "$manifest" 2>/dev/null
}
"#;

/// Each base model as `--model` takes it: the last path component in lower case (`qwen3-0.6b`),
/// or the slug when that is shared or holds a space, or the whole name when the slug is
/// shared too.
pub fn models(manifest: &manifest::Manifest) -> Vec<String> {
    let base = |name: &str| expert_cli::names::base_name(name).to_lowercase();
    let all = &manifest.base_models;
    all.iter()
        .map(|m| {
            let b = base(&m.name);
            let unique = |f: &dyn Fn(&manifest::BaseModel) -> String, v: &str| {
                all.iter().filter(|o| f(o) == v).count() == 1
            };
            if !b.contains(char::is_whitespace) && unique(&|o| base(&o.name), &b) {
                b
            } else if unique(&|o| o.slug.clone(), &m.slug) {
                m.slug.clone()
            } else {
                m.name.clone()
            }
        })
        .collect()
}

/// Makes clap_complete's zsh script complete each command's own `--format` values, and
/// `--model` with the manifest's base models.
///
/// The top-level `_arguments` also parses options after the command word, so
/// `expert-cli package --format <TAB>` offered the global flag's four values instead of
/// `package`'s two; `-A "-*"` ends the top level's options at the command word.
fn zsh(generated: &str) -> String {
    let top = "_arguments \"${_arguments_options[@]}\" : \\";
    let text = generated.replacen(
        top,
        "_arguments \"${_arguments_options[@]}\" -A \"-*\" : \\",
        1,
    );
    let text = text.replace("]:MODEL:' \\", "]:MODEL:_expert-cli_models' \\");
    let dispatch = "if [ \"$funcstack[1]\" = \"_expert-cli\" ]; then";
    text.replacen(dispatch, &format!("{ZSH_MODELS}\n{dispatch}"), 1)
}

const ZSH_MODELS: &str = r#"(( $+functions[_expert-cli_models] )) ||
_expert-cli_models() {
    local manifest=${opt_args[--manifest]:-${opt_args[-m]:-manifest.json}}
    manifest=${~manifest}
    [[ -f $manifest ]] || return 1
    local -a models
    models=(${(f)"$(expert-cli completions --list-models $manifest 2>/dev/null)"})
    compadd -a models
}
"#;

/// Makes clap_complete's fish script complete the global options' values before the command
/// (its guard failed while an option waited for its value, so fish listed files), the values of
/// positional arguments (`completions <TAB>`), and `--model` with the manifest's base models.
fn fish(generated: &str, cmd: &clap::Command) -> String {
    let guard =
        "argparse -s (__fish_expert_cli_global_optspecs) -- $cmd 2>/dev/null\n    or return\n";
    let relaxed = "argparse -s (__fish_expert_cli_global_optspecs) -- $cmd 2>/dev/null\n    # An option still waiting for its value: no command yet.\n    or return 0\n";
    let mut text = generated.replacen(guard, relaxed, 1);
    for sub in cmd.get_subcommands() {
        for arg in sub.get_positionals() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_owned())
                .collect();
            if !values.is_empty() {
                text.push_str(&format!(
                    "complete -c {BIN} -n \"__fish_expert_cli_using_subcommand {}\" -f -a \"{}\"\n",
                    sub.get_name(),
                    values.join(" ")
                ));
            }
        }
        if sub.get_arguments().any(|a| a.get_id() == "model") {
            text.push_str(&format!(
                "complete -c {BIN} -n \"__fish_expert_cli_using_subcommand {}\" -l model -r -f -a \"(__fish_expert_cli_models)\"\n",
                sub.get_name()
            ));
        }
    }
    text + FISH_MODELS
}

const FISH_MODELS: &str = r#"
# The base models of the manifest on the command line, as --model takes them.
function __fish_expert_cli_models
    set -l words (commandline -opc)
    set -l manifest manifest.json
    for i in (seq (count $words))
        switch $words[$i]
            case --manifest -m
                set -l next (math $i + 1)
                set -q words[$next]; and set manifest $words[$next]
            case '--manifest=*'
                set manifest (string replace -- --manifest= '' $words[$i])
        end
    end
    test -f "$manifest"; and $words[1] completions --list-models $manifest 2>/dev/null
end
"#;
