//! Man pages generated from the clap tree ([`super::command`]) with clap_mangen, plus EXIT
//! STATUS (from `exit.rs`'s table), ENVIRONMENT (from `env.rs`'s) and EXAMPLES (from
//! [`super::EXAMPLES`]): the same sources as `--help` and docs/CLI.md, so they cannot disagree.

use crate::exit::ExitStatus;

/// `(file name, roff bytes)` for the main page, then one per visible command, in tree order.
///
/// # Errors
/// clap_mangen's, writing into memory (not expected).
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = super::command().disable_help_subcommand(true);
    // `build` gives each subcommand its display name, `expert-cli-validate`.
    cmd.build();
    // The main page shows each command's first example.
    let firsts: Vec<(&str, &str)> = super::EXAMPLES
        .iter()
        .filter_map(|(_, e)| e.first().copied())
        .collect();
    let mut pages = vec![render(cmd.clone(), &firsts)?];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let examples = super::examples(sub.get_name());
        // The examples get their own section instead of clap_mangen's EXTRA.
        let sub = sub.clone().after_help(None::<&str>);
        pages.push(render(sub, examples)?);
    }
    Ok(pages)
}

fn render(cmd: clap::Command, examples: &[(&str, &str)]) -> std::io::Result<(String, Vec<u8>)> {
    let man = clap_mangen::Man::new(cmd);
    let mut bytes = Vec::new();
    man.render(&mut bytes)?;
    let page = String::from_utf8_lossy(&bytes).into_owned();
    let sections = sections(examples);
    // Before VERSION, the page's last section, as man-pages(7) orders them.
    let page = match page.find(".SH VERSION") {
        Some(at) => format!("{}{sections}{}", &page[..at], &page[at..]),
        None => page + &sections,
    };
    Ok((man.get_filename(), page.into_bytes()))
}

/// EXIT STATUS, ENVIRONMENT and EXAMPLES in roff.
fn sections(examples: &[(&str, &str)]) -> String {
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for status in ExitStatus::ALL {
        roff.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            status.code(),
            text(status.meaning())
        ));
    }
    roff.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in crate::env::ALL {
        roff.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            escape(name),
            text(meaning)
        ));
    }
    if !examples.is_empty() {
        roff.push_str(".SH EXAMPLES\n");
        for (what, line) in examples {
            roff.push_str(&format!(
                ".PP\n{}\n.PP\n.RS 4\n.nf\n\\fB{}\\fR\n.fi\n.RE\n",
                text(what),
                escape(line)
            ));
        }
    }
    roff
}

/// A line of prose: `code` spans in bold.
fn text(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("\\fB{}\\fR", escape(part)));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// Escapes roff's specials: backslashes, hyphens (`\-`, so they copy as ASCII) and a control
/// character at the start of a line.
fn escape(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}
