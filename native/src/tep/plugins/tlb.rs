//! libtraceevent's plugin_tlb.c: `tlb_flush` with its reason named.

use super::Rec;
use crate::tep::cprintf::{self, Arg as C};

/// `tlb_flush_handler`.
pub(super) fn flush(r: Rec<'_>, out: &mut Vec<u8>) -> Option<bool> {
    out.extend_from_slice(b"pages=");
    r.print_num(b"%ld", "pages", true, out);
    let v = r.val("reason", out)?;
    out.extend_from_slice(b" reason=");
    let reason: &[u8] = match v {
        0 => b"flush on task switch",
        1 => b"remote shootdown",
        2 => b"local shootdown",
        3 => b"local mm shootdown",
        _ => b"",
    };
    out.extend_from_slice(reason);
    cprintf::printf(out, b" (%lld)", &[C::Int(v)]);
    Some(false)
}
