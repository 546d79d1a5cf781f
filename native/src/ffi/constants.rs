//! The values the TypeScript layer needs to speak to the addon, taken from the definitions the
//! Rust side uses itself, so that the two can never drift apart: the layout of a record batch,
//! of a built record and of an option edit, the option ids and `dump`'s item flags. Read once by
//! `src/constants.ts`.

use crate::ffi::exports::option_edit;
use crate::format::options;
use crate::out::dump;
use crate::out::json::Json;
use crate::ring::columns;
use crate::ring::records::batch;
use crate::write::build::record;

/// The constants as JSON: `{batch, batchColumns, buildRecord, optionEdit, optionIds,
/// dumpItems}`, each an object of names to numbers (`batchColumns`: the element sizes of
/// `fillBatch`'s columns, in their order).
pub fn json() -> String {
    let mut j = Json::new();
    j.begin_object(None);
    let layouts: [(&str, &[(&str, usize)]); 4] = [
        (
            "batch",
            &[
                ("ts", batch::TS),
                ("rawTs", batch::RAW_TS),
                ("missed", batch::MISSED),
                ("cpu", batch::CPU),
                ("length", batch::LENGTH),
                ("header", batch::HEADER),
                ("align", batch::ALIGN),
            ],
        ),
        ("batchColumns", &columns::COLUMNS),
        (
            "buildRecord",
            &[
                ("buffer", record::BUFFER),
                ("cpu", record::CPU),
                ("ts", record::TS),
                ("missed", record::MISSED),
                ("length", record::LENGTH),
                ("header", record::HEADER),
            ],
        ),
        ("optionEdit", &[("id", option_edit::ID), ("present", option_edit::PRESENT), ("size", option_edit::SIZE), ("header", option_edit::HEADER)]),
    ];
    for (name, fields) in layouts {
        j.begin_object(Some(name));
        for (k, v) in fields {
            j.num(k, *v as i64);
        }
        j.end_object();
    }
    j.begin_object(Some("optionIds"));
    for (k, v) in options::IDS {
        j.num(k, *v as i64);
    }
    j.end_object();
    j.begin_object(Some("dumpItems"));
    for (k, v) in dump::ITEMS {
        j.num(k, *v as i64);
    }
    j.end_object();
    j.end_object();
    j.finish()
}
