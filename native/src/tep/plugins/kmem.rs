//! libtraceevent's plugin_kmem.c: the kmalloc/kfree family's `call_site` named before the
//! print fmt output.

use super::Rec;
use crate::tep::cprintf::{self, Arg as C};

/// `call_site_handler`: `(function+0xoffset) ` when the call site is a known function.
pub(super) fn call_site(r: Rec<'_>, out: &mut Vec<u8>) -> Option<bool> {
    let v = r.opt("call_site")?;
    if let Some(func) = r.ctx.funcs.find(v) {
        cprintf::printf(out, b"(%s+0x%x) ", &[C::Str(func.name), C::Int(v.wrapping_sub(func.addr))]);
    }
    Some(true)
}
