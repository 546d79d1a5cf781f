//! v7 sections: a 16-byte header (`u16 id, u16 flags, u32 description, u64 size`) and `size`
//! bytes of content, laid out back to back from the end of the initial header to the end of
//! the file. The description is an offset into the concatenation of all STRINGS sections.
//!
//! Sections are found two ways and we need both: through the options that point at them
//! (how trace-cmd's reader finds content) and by walking headers by their sizes (how it finds
//! the STRINGS sections, and how `trace-cmd dump --sections` lists them).

use crate::bytes::{Cursor, Endian};
use crate::compression::{Block, Budget, Codec};
use crate::error::{Error, Result};

/// Bit 0 of the flags: the content is compressed.
pub const FLAG_COMPRESS: u16 = 1;
pub const HEADER_SIZE: u64 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionHeader {
    /// File offset of the header.
    pub offset: u64,
    pub id: u16,
    pub flags: u16,
    /// Offset into the strings table, or -1 (any negative) for none.
    pub description: i32,
    /// Bytes of content after the header (compressed size when compressed).
    pub size: u64,
}

impl SectionHeader {
    pub fn read(data: &[u8], offset: u64, endian: Endian) -> Result<SectionHeader> {
        let mut c = Cursor::new(data, 0, endian, "section header");
        c.seek(usize::try_from(offset).unwrap_or(usize::MAX).min(data.len() + 1), "a section header")
            .map_err(|_| Error::new("section header", offset, "a section header inside the file"))?;
        let id = c.u16("the section id")?;
        let flags = c.u16("the section flags")?;
        let description = c.u32("the section description")? as i32;
        let size = c.u64("the section size")?;
        Ok(SectionHeader { offset, id, flags, description, size })
    }

    pub fn compressed(&self) -> bool {
        self.flags & FLAG_COMPRESS != 0
    }
    /// Offset of the first content byte.
    pub fn content(&self) -> u64 {
        self.offset + HEADER_SIZE
    }
    /// Offset just past the content (may exceed the file: callers check).
    pub fn end(&self) -> u64 {
        self.content().saturating_add(self.size)
    }

    /// The content bytes inside `data`, checked against the file size.
    pub fn bytes<'a>(&self, data: &'a [u8], what: &str) -> Result<&'a [u8]> {
        crate::bytes::span(self.content(), self.size, data.len())
            .and_then(|r| data.get(r))
            .ok_or_else(|| {
                Error::new(what, self.offset, format!("{} bytes of section content, the file has {}", self.size, data.len()))
            })
    }

    /// For a compressed metadata section, the header of its single block.
    pub fn block(&self, data: &[u8], endian: Endian, what: &str) -> Result<Block> {
        // The block must lie inside the section, so the cursor covers only its content.
        let bytes = self.bytes(data, what)?;
        Block::read(&mut Cursor::new(bytes, self.content(), endian, what))
    }

    /// The section content, inflated (within `budget`) when compressed.
    pub fn read_content<'a>(&self, data: &'a [u8], endian: Endian, codec: Option<Codec>, budget: &mut Budget, what: &str) -> Result<std::borrow::Cow<'a, [u8]>> {
        if !self.compressed() {
            return self.bytes(data, what).map(std::borrow::Cow::Borrowed);
        }
        let codec = codec.ok_or_else(|| Error::new(what, self.offset, "an uncompressed section: the file declares no compression"))?;
        let block = self.block(data, endian, what)?;
        block.inflate(data, codec, budget, what).map(std::borrow::Cow::Owned)
    }
}

/// What a walk of the section headers found.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    pub sections: Vec<SectionHeader>,
    /// Set when the walk stopped at bytes that are not a whole section header (trace-cmd's
    /// dump dies there; its reader ignores it).
    pub trailing: Option<Error>,
}

/// Walks headers from `start` to the end of the file by their sizes.
pub fn walk(data: &[u8], start: u64, endian: Endian) -> Walk {
    let mut w = Walk::default();
    let mut at = start;
    // One header takes at least 16 bytes, so the walk ends after at most len/16 steps.
    while at.saturating_add(2) <= data.len() as u64 {
        match SectionHeader::read(data, at, endian) {
            Ok(h) => {
                w.sections.push(h);
                at = h.end();
            }
            Err(e) => {
                w.trailing = Some(e);
                break;
            }
        }
    }
    w
}

/// The strings table: all STRINGS sections' contents, in file order.
#[derive(Clone, Debug, Default)]
pub struct Strings {
    pub table: Vec<u8>,
    /// (offset in table, length) of each STRINGS section's contribution, for `--strings`.
    pub parts: Vec<(usize, usize)>,
}

impl Strings {
    pub fn collect(data: &[u8], walk: &Walk, endian: Endian, codec: Option<Codec>, budget: &mut Budget) -> Result<Strings> {
        let mut s = Strings::default();
        for h in walk.sections.iter().filter(|h| h.id == crate::options::STRINGS) {
            let content = h.read_content(data, endian, codec, budget, "strings section")?;
            s.parts.push((s.table.len(), content.len()));
            s.table.extend_from_slice(&content);
        }
        Ok(s)
    }

    /// The description string at `offset`, as trace-cmd's dump resolves it.
    pub fn get(&self, offset: i32) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        let rest = self.table.get(start..)?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}
