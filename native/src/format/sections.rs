//! v7 sections: a 16-byte header (`u16 id, u16 flags, u32 description, u64 size`) and `size`
//! bytes of content, laid out back to back from the end of the initial header to the end of
//! the file. The description is an offset into the concatenation of all STRINGS sections.
//!
//! Sections are found two ways and we need both: through the options that point at them
//! (how trace-cmd's reader finds content) and by walking headers by their sizes (how it finds
//! the STRINGS sections, and how `trace-cmd dump --sections` lists them).

use crate::format::bytes::{Cursor, Endian};
use crate::format::compression::{Block, Budget, Codec};
use crate::format::error::{Error, Result};

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
            .map_err(|_| Error::new("section header", offset, format!("a section header inside the file, but the file ends at {}", data.len())))?;
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
        crate::format::bytes::span(self.content(), self.size, data.len()).and_then(|r| data.get(r)).ok_or_else(|| {
            Error::new(what, self.offset, format!("{} bytes of section content from offset {}, but the file ends at {}", self.size, self.content(), data.len()))
        })
    }

    /// For a compressed metadata section, the header of its single block.
    pub fn block(&self, data: &[u8], endian: Endian, what: &str) -> Result<Block> {
        // The block must lie inside the section, so the cursor covers only its content.
        let bytes = self.bytes(data, what)?;
        Block::read(&mut Cursor::new(bytes, self.content(), endian, what))
    }

    /// The section content, inflated (within `budget`) when compressed.
    pub fn read_content<'a>(
        &self,
        data: &'a [u8],
        endian: Endian,
        codec: Option<Codec>,
        budget: &mut Budget,
        what: &str,
    ) -> Result<std::borrow::Cow<'a, [u8]>> {
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
    /// dump dies there, before it lists the sections; its reader ignores it).
    pub trailing: Option<Error>,
    /// Set when the last section found runs past the end of the file: a truncated file or a
    /// corrupt size. trace-cmd's dump lists the sections and goes on as if the file ended
    /// cleanly; we stop there, after the same list.
    pub past_end: Option<Error>,
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
                if h.end() > data.len() as u64 {
                    w.past_end = Some(Error::new(
                        "section header",
                        h.offset,
                        format!(
                            "a section inside the file, found section {} declaring {} bytes of content from offset {}, but the file ends at {}",
                            h.id,
                            h.size,
                            h.content(),
                            data.len()
                        ),
                    ));
                    break;
                }
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
        for h in walk.sections.iter().filter(|h| h.id == crate::format::options::STRINGS) {
            let content = h.read_content(data, endian, codec, budget, "strings section")?;
            s.parts.push((s.table.len(), content.len()));
            s.table.extend_from_slice(&content);
        }
        Ok(s)
    }

    /// Every section's description (when it has one) lies inside the table. trace-cmd writes
    /// the strings section last, so a file cut short before it (or inside its header) still
    /// walks cleanly but resolves no description; trace-cmd's dump prints "Unknown" for them.
    pub fn check(&self, walk: &Walk) -> Result<()> {
        let n = self.table.len();
        match walk.sections.iter().find(|h| h.description >= 0 && h.description as usize >= n) {
            None => Ok(()),
            Some(h) if n == 0 => Err(Error::new(
                "section header",
                h.offset,
                format!("a description at offset {} of the strings, but the file has no strings section", h.description),
            )),
            Some(h) => Err(Error::new("section header", h.offset, format!("a description at offset {} of the strings, which hold {n} bytes", h.description))),
        }
    }

    /// The description string at `offset`, as trace-cmd's dump resolves it: an offset that is
    /// negative or not below the table's size has none ("Unknown").
    pub fn get(&self, offset: i32) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok().filter(|&s| s < self.table.len())?;
        let rest = &self.table[start..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(id: u16, size: u64) -> Vec<u8> {
        let mut h = id.to_le_bytes().to_vec();
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&(-1i32).to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h
    }

    #[test]
    fn walk_stops_at_a_partial_header_or_a_section_past_the_end() {
        let mut f = header(16, 4);
        f.extend_from_slice(b"abcd");
        let clean = walk(&f, 0, Endian::Little);
        assert_eq!(clean.sections.len(), 1);
        assert!(clean.trailing.is_none() && clean.past_end.is_none());

        let mut partial = f.clone();
        partial.extend_from_slice(&[0, 0, 0, 0, 0]);
        let w = walk(&partial, 0, Endian::Little);
        assert_eq!((w.sections.len(), w.past_end.is_none()), (1, true));
        let e = w.trailing.unwrap();
        assert_eq!((e.offset, e.expected.as_str()), (24, "the section description (4 bytes, 1 left)"));

        let mut long = f.clone();
        long.extend_from_slice(&header(3, u64::from(u32::MAX)));
        long.extend_from_slice(&[0; 100]);
        let w = walk(&long, 0, Endian::Little);
        assert_eq!((w.sections.len(), w.trailing.is_none()), (2, true));
        let e = w.past_end.unwrap();
        assert_eq!(e.section, "section header");
        assert_eq!(e.offset, 20);
        assert_eq!(e.expected, "a section inside the file, found section 3 declaring 4294967295 bytes of content from offset 36, but the file ends at 136");
    }

    #[test]
    fn descriptions_resolve_like_trace_cmd() {
        let s = Strings { table: b"options\0strings\0".to_vec(), parts: vec![(0, 16)] };
        assert_eq!(s.get(0), Some(&b"options"[..]));
        assert_eq!(s.get(8), Some(&b"strings"[..]));
        assert_eq!(s.get(15), Some(&b""[..]), "the last NUL is inside the table");
        assert_eq!(s.get(16), None, "an offset at the end of the table is Unknown, not empty");
        assert_eq!(s.get(-1), None);
        assert_eq!(Strings::default().get(0), None, "no strings section: every description is Unknown");
    }

    #[test]
    fn lost_strings_are_damage() {
        let mut h = SectionHeader { offset: 40, id: 16, flags: 0, description: 8, size: 0 };
        let walk = Walk { sections: vec![h], ..Walk::default() };
        let s = Strings { table: b"options\0headers\0".to_vec(), parts: vec![(0, 16)] };
        assert!(s.check(&walk).is_ok());
        let e = Strings::default().check(&walk).unwrap_err();
        assert_eq!((e.section.as_str(), e.offset), ("section header", 40));
        assert_eq!(e.expected, "a description at offset 8 of the strings, but the file has no strings section");
        h.description = 16;
        let e = s.check(&Walk { sections: vec![h], ..Walk::default() }).unwrap_err();
        assert_eq!(e.expected, "a description at offset 16 of the strings, which hold 16 bytes");
        h.description = -1;
        assert!(Strings::default().check(&Walk { sections: vec![h], ..Walk::default() }).is_ok(), "no description");
    }
}
