//! Writing a new trace file: a sequential, offset-tracking byte stream whose few numbers that
//! are only known later (section sizes, options-chain links, v6 CPU tables) are patched at the
//! end, and a temporary file that becomes the target only once it is complete.
//!
//! The stream is strictly sequential (a [`Spool`] over the file) so that large CPU data can be
//! written straight from the mapped input; patches are a handful of small positional writes
//! (`pwrite`) after the last byte. The temporary file lives next to the target
//! (`<dir>/.<name>.tmp-<pid>`) so that the final `rename` stays on one file system and is atomic:
//! a reader of the target sees the old file or the whole new one, never a half-written one.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::format::bytes::Endian;
use crate::write::spool::Spool;

/// A number written as a placeholder, to be set once its value is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    at: u64,
    width: u8,
}

impl Slot {
    /// The offset just past the placeholder.
    pub fn end(&self) -> u64 {
        self.at + self.width as u64
    }
}

/// An offset-tracking writer in one byte order.
/// Bytes to write at a file offset once the stream is complete.
pub type Patch = (u64, Vec<u8>);

pub struct Out<W: Write> {
    w: W,
    pos: u64,
    endian: Endian,
    patches: Vec<Patch>,
}

impl<W: Write> Out<W> {
    pub fn new(w: W, endian: Endian) -> Out<W> {
        Out { w, pos: 0, endian, patches: Vec::new() }
    }

    /// Offset of the next byte.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    pub fn u16(&mut self, v: u16) -> io::Result<()> {
        self.bytes(&self.endian.put_u16(v))
    }

    pub fn u32(&mut self, v: u32) -> io::Result<()> {
        self.bytes(&self.endian.put_u32(v))
    }

    pub fn u64(&mut self, v: u64) -> io::Result<()> {
        self.bytes(&self.endian.put_u64(v))
    }

    /// `s` and its terminating NUL.
    pub fn cstr(&mut self, s: &[u8]) -> io::Result<()> {
        self.bytes(s)?;
        self.bytes(&[0])
    }

    pub fn zeros(&mut self, mut n: u64) -> io::Result<()> {
        const Z: [u8; 4096] = [0; 4096];
        while n > 0 {
            let k = n.min(Z.len() as u64) as usize;
            self.bytes(&Z[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Pads with zeros to the next multiple of `align` (a power of two).
    pub fn align(&mut self, align: u64) -> io::Result<()> {
        let rem = self.pos & (align - 1);
        if rem == 0 {
            return Ok(());
        }
        self.zeros(align - rem)
    }

    /// Writes a zero u32 to be set later.
    pub fn slot_u32(&mut self) -> io::Result<Slot> {
        let at = self.pos;
        self.u32(0)?;
        Ok(Slot { at, width: 4 })
    }

    /// Writes a zero u64 to be set later.
    pub fn slot_u64(&mut self) -> io::Result<Slot> {
        let at = self.pos;
        self.u64(0)?;
        Ok(Slot { at, width: 8 })
    }

    /// Sets a placeholder; applied when the stream is finished. A u32 slot keeps the low bits
    /// (callers check that the value fits).
    pub fn set(&mut self, slot: Slot, v: u64) {
        let b = if slot.width == 4 { self.endian.put_u32(v as u32).to_vec() } else { self.endian.put_u64(v).to_vec() };
        self.patches.push((slot.at, b));
    }

    /// Flushes the stream; returns the writer and the patches still to apply.
    pub fn finish(mut self) -> io::Result<(W, Vec<Patch>)> {
        self.w.flush()?;
        Ok((self.w, self.patches))
    }
}

/// Applies patches to bytes held in memory.
#[cfg(test)]
pub fn patch_vec(v: &mut [u8], patches: &[(u64, Vec<u8>)]) {
    for (at, b) in patches {
        if let Some(dst) = v.get_mut(*at as usize..*at as usize + b.len()) {
            dst.copy_from_slice(b);
        }
    }
}

/// What can go wrong creating the target, with the path it concerns.
#[derive(Debug)]
pub enum TargetError {
    /// The target is the input file itself (same inode, possibly through another name).
    IsInput(PathBuf),
    /// Creating, writing or renaming failed (the path is the target's, also for failures of
    /// the temporary file beside it).
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetError::IsInput(p) => write!(f, "{}: refusing to write over the input file", p.display()),
            TargetError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// The output file while it is being written: `.<name>.tmp-<pid>` beside the target, removed
/// unless [`Target::commit`] renamed it into place (also when a panic unwinds through it).
pub struct Target {
    path: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Target {
    /// Creates the temporary file for `path`. `inputs` are the (device, inode) of the files
    /// being read, where they are files: writing over one is refused, whatever name it is
    /// reached by.
    pub fn create(path: &Path, inputs: &[Option<(u64, u64)>]) -> Result<(Target, File), TargetError> {
        let io = |e| TargetError::Io(path.to_path_buf(), e);
        let name = path.file_name().ok_or_else(|| io(io::Error::new(io::ErrorKind::InvalidInput, "not a file name")))?;
        if let Ok(m) = std::fs::metadata(path) {
            if inputs.contains(&Some((m.dev(), m.ino()))) {
                return Err(TargetError::IsInput(path.to_path_buf()));
            }
            if m.is_dir() {
                return Err(io(io::Error::new(io::ErrorKind::InvalidInput, "is a directory")));
            }
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = dir.join(tmp_name);
        // create_new: never truncate a file we did not make (a conversion to the same target
        // already running in this process holds that name).
        let file = OpenOptions::new().write(true).create_new(true).mode(0o644).open(&tmp).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => {
                io(io::Error::new(e.kind(), format!("{} exists: another conversion to this file is running, or one was killed", tmp.display())))
            }
            _ => io(e),
        })?;
        Ok((Target { path: path.to_path_buf(), tmp, committed: false }, file))
    }

    /// The target's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies the patches and renames the complete file over the target.
    pub fn commit(mut self, file: impl Finish, patches: &[(u64, Vec<u8>)]) -> Result<(), TargetError> {
        let io = |e| TargetError::Io(self.path.clone(), e);
        let file = file.finish().map_err(io)?;
        for (at, b) in patches {
            file.write_all_at(b, *at).map_err(io)?;
        }
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| TargetError::Io(self.path.clone(), e))?;
        self.committed = true;
        Ok(())
    }
}

/// A writer over the target's file that gives the file back once every byte is written.
pub trait Finish {
    fn finish(self) -> io::Result<File>;
}

impl Finish for BufWriter<File> {
    fn finish(self) -> io::Result<File> {
        self.into_inner().map_err(|e| e.into_error())
    }
}

impl Finish for Spool {
    fn finish(self) -> io::Result<File> {
        Spool::finish(self)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_offsets_and_patches_in_file_order() {
        let mut o = Out::new(Vec::new(), Endian::Big);
        o.bytes(b"ab").unwrap();
        let s = o.slot_u32().unwrap();
        o.align(8).unwrap();
        assert_eq!(o.pos(), 8);
        let t = o.slot_u64().unwrap();
        o.cstr(b"x").unwrap();
        o.set(s, 0x0102_0304);
        o.set(t, 7);
        let (mut v, p) = o.finish().unwrap();
        patch_vec(&mut v, &p);
        assert_eq!(v, [b'a', b'b', 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, b'x', 0]);
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tracedat-output-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn temporary_file_is_renamed_or_removed() {
        let d = scratch("rename");
        let target = d.join("out.dat");
        let (t, f) = Target::create(&target, &[None]).unwrap();
        let tmp = d.join(format!(".out.dat.tmp-{}", std::process::id()));
        assert!(tmp.exists());
        let mut w = BufWriter::new(f);
        w.write_all(b"hello").unwrap();
        t.commit(w, &[(1, b"E".to_vec())]).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hEllo");
        assert!(!tmp.exists());

        let (t, _f) = Target::create(&d.join("gone.dat"), &[None]).unwrap();
        drop(t);
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1, "only out.dat is left");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_the_input_by_any_name() {
        let d = scratch("input");
        let input = d.join("in.dat");
        std::fs::write(&input, b"x").unwrap();
        std::fs::hard_link(&input, d.join("link.dat")).unwrap();
        let m = std::fs::metadata(&input).unwrap();
        let id = Some((m.dev(), m.ino()));
        assert!(matches!(Target::create(&input, &[id]), Err(TargetError::IsInput(_))));
        assert!(matches!(Target::create(&d.join("link.dat"), &[id]), Err(TargetError::IsInput(_))));
        assert!(matches!(Target::create(&d, &[id]), Err(TargetError::Io(..))));
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 2);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
