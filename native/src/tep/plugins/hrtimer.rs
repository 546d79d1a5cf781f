//! libtraceevent's plugin_hrtimer.c: `hrtimer_expire_entry` and `hrtimer_start` with the
//! timer's function named.

use super::Rec;

/// `timer_expire_handler`.
pub(super) fn expire_entry(r: Rec<'_>, out: &mut Vec<u8>) -> Option<bool> {
    out.extend_from_slice(b"hrtimer=");
    if !r.print_num(b"0x%llx", "timer", false, out) {
        r.print_num(b"0x%llx", "hrtimer", true, out);
    }
    out.extend_from_slice(b" now=");
    r.print_num(b"%llu", "now", true, out);
    r.print_func(b" function=%s", "function", false, out);
    Some(false)
}

/// `timer_start_handler`.
pub(super) fn start(r: Rec<'_>, out: &mut Vec<u8>) -> Option<bool> {
    out.extend_from_slice(b"hrtimer=");
    if !r.print_num(b"0x%llx", "timer", false, out) {
        r.print_num(b"0x%llx", "hrtimer", true, out);
    }
    r.print_func(b" function=%s", "function", false, out);
    out.extend_from_slice(b" expires=");
    r.print_num(b"%llu", "expires", true, out);
    out.extend_from_slice(b" softexpires=");
    r.print_num(b"%llu", "softexpires", true, out);
    Some(false)
}
