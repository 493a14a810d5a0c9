//! The one rule for member names, shared by the writer (which refuses to write a bad name) and
//! the reader (which refuses to accept one).
//!
//! A member name is a relative, `/`-separated UTF-8 path with no empty, `.` or `..` component, no
//! backslash and no control character, at most [`MAX_NAME_LEN`] bytes long. Upstream bug list
//! items 6 and 8 (`reference/upstream-packaging.md` §7) are why each of these is refused rather
//! than repaired.

use std::fmt;

/// The longest member name accepted, in bytes (Linux `PATH_MAX`).
pub const MAX_NAME_LEN: usize = 4096;

/// Why a member name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The name contains a control character (including newline and NUL).
    ControlCharacter,
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
            NameProblem::ControlCharacter => "the name contains a control character",
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
    if name.chars().any(char::is_control) {
        return Err(NameProblem::ControlCharacter);
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
}
