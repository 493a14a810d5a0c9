//! The one rule for member names, shared by the archive writer (which refuses to write a bad
//! name), the archive reader (which refuses to accept one) and signing (whose free-text values
//! refuse the same characters).
//!
//! A member name is a relative, `/`-separated UTF-8 path with no empty, `.` or `..` component, no
//! backslash, no control character or line/paragraph separator and no bidirectional formatting
//! character, at most [`MAX_NAME_LEN`] bytes long. Upstream bug list items 6 and 8
//! (`reference/upstream-packaging.md` §7) are why each of these is refused rather than repaired;
//! bidirectional controls because they make a name display as another (issue #10, the
//! "Trojan Source" trick, CVE-2021-42574).
//!
//! Names are shown to people only through [`display_name`], which escapes every character that
//! is invisible or changes how the text around it is displayed, so what a message shows is what
//! the archive holds.

use std::fmt;

/// The longest member name accepted, in bytes (Linux `PATH_MAX`).
pub const MAX_NAME_LEN: usize = 4096;

/// Why a member name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// The name starts with `/`.
    Absolute,
    /// A component is `..`.
    ParentDir,
    /// A component is `.`.
    CurrentDir,
    /// Two `/` in a row, or a trailing `/`.
    EmptyComponent,
    /// The name contains `\`, which is a separator on Windows.
    Backslash,
    /// The name contains a control character (including newline and NUL) or a Unicode line or
    /// paragraph separator (U+2028, U+2029).
    ControlCharacter,
    /// The name contains a bidirectional formatting character (U+202A–U+202E, U+2066–U+2069,
    /// U+200E, U+200F, U+061C), which changes the order in which the name is displayed.
    BidiControl,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    TooLong,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::Empty => "the name is empty",
            NameProblem::Absolute => "the name is an absolute path",
            NameProblem::ParentDir => "the name has a `..` component",
            NameProblem::CurrentDir => "the name has a `.` component",
            NameProblem::EmptyComponent => "the name has an empty component",
            NameProblem::Backslash => "the name contains a backslash",
            NameProblem::ControlCharacter => {
                "the name contains a control character or a line separator"
            }
            NameProblem::BidiControl => {
                "the name contains a bidirectional formatting character, which changes how it is displayed"
            }
            NameProblem::TooLong => "the name is longer than 4096 bytes",
        })
    }
}

/// Checks `name` against the member-name rule.
///
/// # Errors
///
/// Returns the first [`NameProblem`] found.
pub fn check_member_name(name: &str) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameProblem::TooLong);
    }
    if name.starts_with('/') {
        return Err(NameProblem::Absolute);
    }
    if name.contains('\\') {
        return Err(NameProblem::Backslash);
    }
    if name.chars().any(is_control_or_separator) {
        return Err(NameProblem::ControlCharacter);
    }
    if name.chars().any(is_bidi_control) {
        return Err(NameProblem::BidiControl);
    }
    for component in name.split('/') {
        match component {
            "" => return Err(NameProblem::EmptyComponent),
            "." => return Err(NameProblem::CurrentDir),
            ".." => return Err(NameProblem::ParentDir),
            _ => {}
        }
    }
    Ok(())
}

/// The characters no member name may hold: controls, line and paragraph separators and
/// bidirectional formatting characters ([`NameProblem::ControlCharacter`],
/// [`NameProblem::BidiControl`]). `signing` refuses them in the free-text values it prints
/// verbatim too (publisher, key names), with [`is_zero_width`] besides.
pub(crate) fn is_forbidden_in_name(c: char) -> bool {
    is_control_or_separator(c) || is_bidi_control(c)
}

/// Controls (C0 including NUL and newline, DEL, C1) and the Unicode line and paragraph
/// separators (U+2028, U+2029).
fn is_control_or_separator(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The bidirectional formatting characters: embeddings, overrides and isolates, the marks
/// (LRM, RLM, ALM). Unicode's "Bidi_Control" property.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// The zero-width characters that are not bidirectional controls: ZWSP, ZWNJ, ZWJ, the word
/// joiner and the invisible operators (U+2060–U+2064), and the BOM. A member name may hold
/// them ([`display_name`] shows them escaped); a value printed verbatim may not.
pub(crate) fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// Characters that are invisible or change how the text around them is displayed: Unicode
/// general categories Cc (control), Cf (format: bidirectional controls, zero-width characters,
/// the BOM, tag characters …), Zl and Zp (line and paragraph separators), every other
/// whitespace but the ASCII space, and the remaining default-ignorable code points (combining
/// grapheme joiner, Hangul fillers, variation selectors …). Tables from Unicode 15.1
/// (`DerivedGeneralCategory.txt`, `DerivedCoreProperties.txt`).
fn is_hidden(c: char) -> bool {
    if c.is_control() || (c.is_whitespace() && c != ' ') {
        return true;
    }
    matches!(c,
        // Cf
        '\u{00ad}' | '\u{0600}'..='\u{0605}' | '\u{061c}' | '\u{06dd}' | '\u{070f}'
        | '\u{0890}'..='\u{0891}' | '\u{08e2}' | '\u{180e}' | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}'
        | '\u{fff0}'..='\u{fffb}' | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}'
        // other default-ignorable code points
        | '\u{034f}' | '\u{115f}'..='\u{1160}' | '\u{17b4}'..='\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{ffa0}'
        // blank-looking symbols
        | '\u{2800}'
    )
}

/// A member name rendered for people: see [`display_name`].
#[derive(Debug, Clone, Copy)]
pub struct DisplayName<'a>(&'a str);

impl fmt::Display for DisplayName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\0' => f.write_str("\\0")?,
                '\t' => f.write_str("\\t")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                c if is_hidden(c) => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

/// Renders a member name (or any name read from a package) for a message: every control,
/// bidirectional, zero-width, format, separator or other invisible character is shown as an
/// escape (`\u{202e}`, `\n`, `\0`), and a backslash as `\\`, so the text shown is exactly
/// the characters the name holds, in their order. Use it wherever a name reaches a person.
pub fn display_name(name: &str) -> DisplayName<'_> {
    DisplayName(name)
}

/// [`display_name`] for bytes that may not be UTF-8: valid runs as `display_name` shows them,
/// each invalid byte as `\xNN`.
pub(crate) fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&display_name(chunk.valid()).to_string());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_names() {
        for ok in [
            "manifest.json",
            "tests/a.txt",
            "a/b/c",
            "..a",
            "a..",
            "a/.hidden",
            "ünï",
        ] {
            assert_eq!(check_member_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_each_problem() {
        let cases = [
            ("", NameProblem::Empty),
            ("/etc/x", NameProblem::Absolute),
            ("../x", NameProblem::ParentDir),
            ("a/../x", NameProblem::ParentDir),
            ("./x", NameProblem::CurrentDir),
            ("a//b", NameProblem::EmptyComponent),
            ("a/", NameProblem::EmptyComponent),
            ("a\\b", NameProblem::Backslash),
            ("a\nb", NameProblem::ControlCharacter),
            ("a\0b", NameProblem::ControlCharacter),
            ("a\u{7f}", NameProblem::ControlCharacter),
            ("a\u{2028}b", NameProblem::ControlCharacter),
            ("adapter\u{202e}nosj.json", NameProblem::BidiControl),
            ("a\u{2066}b\u{2069}", NameProblem::BidiControl),
            ("a\u{200f}", NameProblem::BidiControl),
            ("a\u{061c}", NameProblem::BidiControl),
        ];
        for (name, problem) in cases {
            assert_eq!(check_member_name(name), Err(problem), "{name:?}");
        }
        assert_eq!(
            check_member_name(&"a".repeat(MAX_NAME_LEN + 1)),
            Err(NameProblem::TooLong)
        );
        assert_eq!(check_member_name(&"a".repeat(MAX_NAME_LEN)), Ok(()));
    }

    #[test]
    fn display_name_escapes_what_cannot_be_seen() {
        let cases = [
            ("manifest.json", "manifest.json"),
            ("ünï/日本.txt", "ünï/日本.txt"),
            ("a b", "a b"),
            ("adapter\u{202e}nosj.json", "adapter\\u{202e}nosj.json"),
            (
                "a\u{2066}b\u{2069}c\u{200e}d\u{200f}e\u{061c}",
                "a\\u{2066}b\\u{2069}c\\u{200e}d\\u{200f}e\\u{61c}",
            ),
            (
                "zw\u{200b}\u{200c}\u{200d}\u{feff}",
                "zw\\u{200b}\\u{200c}\\u{200d}\\u{feff}",
            ),
            ("l\u{2028}p\u{2029}", "l\\u{2028}p\\u{2029}"),
            ("nb\u{a0}sp\u{3000}", "nb\\u{a0}sp\\u{3000}"),
            ("shy\u{ad}tag\u{e0041}", "shy\\u{ad}tag\\u{e0041}"),
            ("c\u{7f}\u{85}\u{1b}[0m", "c\\u{7f}\\u{85}\\u{1b}[0m"),
            ("nl\n\t\r\0", "nl\\n\\t\\r\\0"),
            ("back\\slash", "back\\\\slash"),
            ("vs\u{fe0f}hf\u{3164}", "vs\\u{fe0f}hf\\u{3164}"),
        ];
        for (name, shown) in cases {
            assert_eq!(display_name(name).to_string(), shown, "{name:?}");
        }
        assert_eq!(display_bytes(b"bad\xff\xfe.txt"), "bad\\xff\\xfe.txt");
        assert_eq!(display_bytes("a\u{202e}".as_bytes()), "a\\u{202e}");
    }
}
