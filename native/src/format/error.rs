//! Errors that say where: the part of the file, the byte offset, and what was expected there.
//!
//! The file name is added at the edge (the CLI and the TypeScript `TraceError`), so that the
//! reader itself can run over a path, a mapped file or a member of a .zip alike.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The part of the file: "initial header", "options section @ 1138918", "CPU 1 data", ...
    pub section: String,
    /// Absolute file offset (for compressed data: the offset inside the decompressed stream,
    /// which `section` then names).
    pub offset: u64,
    /// What was expected there, or what is wrong with what was found.
    pub expected: String,
}

impl Error {
    /// The texts may quote the file (a compression name, a buffer name): they are made one
    /// printable line of bounded length, so that an error is always one line on stderr.
    pub fn new(section: impl Into<String>, offset: u64, expected: impl Into<String>) -> Error {
        Error { section: one_line(section.into()), offset, expected: one_line(expected.into()) }
    }
}

/// Longest text kept in an error; quoted file bytes beyond it are cut.
const MAX_TEXT: usize = 300;

/// Control characters escaped (`\n`, `\x1b`, ...), and cut after [`MAX_TEXT`] characters.
fn one_line(s: String) -> String {
    if s.len() <= MAX_TEXT && !s.chars().any(char::is_control) {
        return s;
    }
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX_TEXT {
            out.push_str("...");
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, offset {}: {}", self.section, self.offset, self.expected)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_file_bytes_stay_on_one_short_line() {
        let e = Error::new("buffer \"a\nb\"", 5, format!("a name, found \"{}\"", "\x1b[2J".to_string() + &"x".repeat(1000)));
        assert_eq!(e.section, "buffer \"a\\nb\"");
        assert!(e.expected.starts_with("a name, found \"\\x1b[2J"));
        assert!(e.expected.ends_with("xxx..."));
        assert_eq!(e.expected.chars().count(), MAX_TEXT + 3 + 3);
        assert_eq!(Error::new("s", 1, "plain").to_string(), "s, offset 1: plain");
    }
}
