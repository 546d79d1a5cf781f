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
    pub fn new(section: impl Into<String>, offset: u64, expected: impl Into<String>) -> Error {
        Error { section: section.into(), offset, expected: expected.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, offset {}: {}", self.section, self.offset, self.expected)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
