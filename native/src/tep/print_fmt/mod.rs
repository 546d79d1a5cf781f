//! An event's `print fmt`, parsed once and evaluated per record, with libtraceevent 1.7.1's
//! results: the same tokenizer, the same (quirky) operator-precedence rotations, the same
//! helper functions, and the same failures, since an event libtraceevent cannot parse prints
//! as `[FAILED TO PARSE]` plus its raw fields and that text is part of what we must match.
//!
//! The argument tree lives in an arena of [`Arg`]s addressed by index: libtraceevent
//! restructures its tree by copying nodes (`*left = *arg`) and swapping them to rotate
//! operators, which maps onto arena slots without any pointer juggling. Formatting goes
//! through [`crate::tep::cprintf`] with the exact format fragments libtraceevent hands to printf.
//!
//! One file per stage: `fields.rs` types the event's fields, `lexer.rs` is libtraceevent's
//! tokenizer, `parse.rs` builds the argument tree, `format.rs` splits the format string into
//! pieces bound to arguments, `eval.rs` evaluates them against a record, `bprint.rs` builds
//! the program of a `bprint` record, whose format comes from the record itself, and `value.rs`
//! types a record's fields for machine output. The paths other code uses are re-exported here.

mod bprint;
mod eval;
mod fields;
mod format;
mod lexer;
mod parse;
#[cfg(test)]
mod tests;
mod value;

pub use bprint::bprint_program;
pub use eval::{Ctx, Eval};
pub use fields::{fields, Field, F_DYNAMIC, F_LONG, F_POINTER, F_RELATIVE, F_SIGNED, F_STRING};
pub(crate) use lexer::{Lexer, Tt};
pub use parse::{parse, Program};
pub use value::{Value, View};

/// The rest of the surface the single-file module had, kept at the same paths for the code
/// being written against it (a filter engine reads fields and evaluates arguments too).
#[allow(unused_imports, reason = "public paths kept from before the split; not all are used yet")]
pub use {
    eval::dyn_offset,
    fields::F_ARRAY,
    format::{Piece, PieceKind},
    parse::{Arg, ArgId, Helper},
};
