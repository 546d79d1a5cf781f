//! `report --format csv --out-dir DIR`: one CSV file per event, its columns the common ones and
//! the event's own fields. Each file is written beside its name as a temporary file and renamed
//! when the report is complete (see [`Target`]); a file not complete when the report fails is
//! removed.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::write::output::{Target, TargetError};

/// A table's key: the input and event it holds, or lost events, damage, unknown events.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Table {
    Event(usize, usize),
    Lost,
    Damaged,
    Unknown,
}

/// The files being written.
pub struct EventFiles {
    dir: PathBuf,
    by_table: HashMap<Table, usize>,
    files: Vec<(Target, BufWriter<File>)>,
    /// File names given, to name a second event of the same name (another input's) apart.
    names: HashMap<String, u32>,
    /// The first failure: the report stops there.
    pub error: Option<TargetError>,
}

/// `system-event` with anything but letters, digits, `_`, `.` and `-` as `_`.
fn file_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' }).collect()
}

impl EventFiles {
    pub fn new(dir: PathBuf) -> EventFiles {
        EventFiles { dir, by_table: HashMap::new(), files: Vec::new(), names: HashMap::new(), error: None }
    }

    /// Appends a row to `table`'s file, creating it (named after `name`, with `header`) first.
    pub fn row(&mut self, table: Table, name: &str, header: impl FnOnce() -> Vec<u8>, row: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let i = match self.by_table.get(&table) {
            Some(&i) => i,
            None => {
                let base = file_name(name);
                let n = self.names.entry(base.clone()).or_insert(0);
                *n += 1;
                let stem = if *n == 1 { base } else { format!("{base}-{n}") };
                let path = self.dir.join(format!("{stem}.csv"));
                let (target, file) = match Target::create(&path, &[]) {
                    Ok(t) => t,
                    Err(e) => {
                        self.error = Some(e);
                        return;
                    }
                };
                self.files.push((target, BufWriter::with_capacity(1 << 16, file)));
                let i = self.files.len() - 1;
                self.by_table.insert(table, i);
                self.write(i, &header());
                i
            }
        };
        self.write(i, row);
    }

    fn write(&mut self, i: usize, bytes: &[u8]) {
        let Some((target, w)) = self.files.get_mut(i) else { return };
        if let Err(e) = w.write_all(bytes) {
            self.error = Some(TargetError::Io(target.path().to_path_buf(), e));
        }
    }

    /// Renames every complete file into place; the names written, in the order first seen.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, TargetError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut done = Vec::with_capacity(self.files.len());
        for (target, w) in self.files.drain(..) {
            let path = target.path().to_path_buf();
            target.commit(w, &[])?;
            done.push(path);
        }
        Ok(done)
    }
}
