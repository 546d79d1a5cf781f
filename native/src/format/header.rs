//! The initial header, common to every file version (trace-cmd.dat.v6(5), .v7(5)).
//!
//! ```text
//! 17 08 44 "tracing" <version>\0 <endian u8> <long size u8> <page size u32>
//! v7 adds: <compression name>\0 <compression version>\0 <first options section u64>
//! ```

use crate::format::bytes::{Cursor, Endian};
use crate::format::compression::Codec;
use crate::format::error::{Error, Result};

pub const MAGIC: [u8; 3] = [0x17, 0x08, 0x44];
pub const TRACING: &[u8; 7] = b"tracing";
/// First version with sections, options chains and compression.
pub const FIRST_SECTIONS_VERSION: u64 = 7;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialHeader {
    /// The version string exactly as written (trace-cmd prints it verbatim).
    pub version_text: String,
    pub version: u64,
    /// The raw endian flag byte (0 little, anything else big, as trace-cmd treats it).
    pub endian_flag: u8,
    pub endian: Endian,
    /// sizeof(long) of the recording user space (the kernel's is read from header_page).
    pub long_size: u8,
    pub page_size: u32,
    /// File offset of the page size.
    pub page_size_at: u64,
    /// v7: compression name and version as written ("none" and "" when uncompressed).
    pub compression: Option<(String, String)>,
    /// v7: file offset of the first options section.
    pub first_options: u64,
    /// Offset of the first byte after the header.
    pub end: u64,
}

impl InitialHeader {
    pub fn is_v7(&self) -> bool {
        self.version >= FIRST_SECTIONS_VERSION
    }

    /// The codec of a compressed v7 file, or None for v6 and v7 "none". An unknown name is an
    /// error here, because nothing after the header can be read without it.
    pub fn codec(&self) -> Result<Option<Codec>> {
        match &self.compression {
            None => Ok(None),
            Some((name, _)) if name == "none" => Ok(None),
            Some((name, _)) => {
                Codec::from_name(name).map(Some).ok_or_else(|| Error::new("initial header", 0, format!("a known compression (zlib, zstd), found \"{name}\"")))
            }
        }
    }

    pub fn parse(data: &[u8]) -> Result<InitialHeader> {
        if data.is_empty() {
            return Err(Error::new("initial header", 0, "a trace.dat file, found an empty file (0 bytes)"));
        }
        // The endianness is not known until byte 12 or so; the numbers before it are bytes.
        let mut c = Cursor::new(data, 0, Endian::Little, "initial header");
        let magic = c.bytes(3, "the trace.dat magic 17 08 44")?;
        if magic != MAGIC {
            return Err(Error::new("initial header", 0, "the trace.dat magic 17 08 44: this is not a trace-cmd file"));
        }
        if c.bytes(7, "the string \"tracing\"")? != TRACING {
            return Err(Error::new("initial header", 3, "the string \"tracing\""));
        }
        let at = c.offset();
        let text = c.cstr("the version string")?;
        let version_text = String::from_utf8_lossy(text).into_owned();
        let version = parse_version(text).ok_or_else(|| Error::new("initial header", at, format!("a file version number, found \"{version_text}\"")))?;
        if version > FIRST_SECTIONS_VERSION {
            return Err(Error::new("initial header", at, format!("file version 6 or 7, found {version}")));
        }
        let endian_flag = c.u8("the endianness flag")?;
        let endian = if endian_flag == 0 { Endian::Little } else { Endian::Big };
        let long_size = c.u8("the size of a long")?;
        let mut c = Cursor::new(data, 0, endian, "initial header");
        c.seek(at as usize + text.len() + 3, "page size")?;
        let page_size_at = c.offset();
        let page_size = c.u32("the page size")?;
        let mut compression = None;
        let mut first_options = 0;
        if version >= FIRST_SECTIONS_VERSION {
            let name = String::from_utf8_lossy(c.cstr("the compression name")?).into_owned();
            let ver = String::from_utf8_lossy(c.cstr("the compression version")?).into_owned();
            compression = Some((name, ver));
            first_options = c.u64("the offset of the first options section")?;
        }
        Ok(InitialHeader { version_text, version, endian_flag, endian, long_size, page_size, page_size_at, compression, first_options, end: c.offset() })
    }
}

/// `strtol(s, NULL, 10)` for the digits trace-cmd accepts; versions below 6 have no layout we
/// know, but trace-cmd accepts anything <= 7 and so do we for reading the header.
fn parse_version(text: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(text).ok()?.trim_start();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_named_so() {
        let e = InitialHeader::parse(&[]).unwrap_err();
        assert_eq!(e.to_string(), "initial header, offset 0: a trace.dat file, found an empty file (0 bytes)");
        assert!(InitialHeader::parse(&[0x17]).unwrap_err().to_string().contains("the trace.dat magic 17 08 44 (3 bytes, 1 left)"));
    }

    #[test]
    fn parses_v7_header() {
        let mut f = vec![0x17, 0x08, 0x44];
        f.extend_from_slice(b"tracing7\0");
        f.extend_from_slice(&[0, 8]);
        f.extend_from_slice(&4096u32.to_le_bytes());
        f.extend_from_slice(b"zstd\x001.5.4\0");
        f.extend_from_slice(&37u64.to_le_bytes());
        let h = InitialHeader::parse(&f).unwrap();
        assert_eq!(h.version, 7);
        assert_eq!(h.page_size, 4096);
        assert_eq!(h.compression, Some(("zstd".into(), "1.5.4".into())));
        assert_eq!(h.first_options, 37);
        assert_eq!(h.end, 37);
        assert_eq!(h.codec().unwrap(), Some(Codec::Zstd));
    }

    #[test]
    fn big_endian_page_size() {
        let mut f = vec![0x17, 0x08, 0x44];
        f.extend_from_slice(b"tracing6\0");
        f.extend_from_slice(&[1, 8]);
        f.extend_from_slice(&4096u32.to_be_bytes());
        let h = InitialHeader::parse(&f).unwrap();
        assert_eq!(h.endian, Endian::Big);
        assert_eq!(h.page_size, 4096);
    }

    #[test]
    fn rejects_wrong_magic_and_truncation() {
        assert!(InitialHeader::parse(b"\x17\x08\x45tracing6\0").is_err());
        // Magic, "tracing", "6\0", the endian flag, then the file ends before the long size.
        let e = InitialHeader::parse(b"\x17\x08\x44tracing6\0\0").unwrap_err();
        assert_eq!(e.offset, 13);
    }
}
