//! libtraceevent's plugin_futex.c: `sys_enter_futex` with the operation decoded and only the
//! arguments that operation uses.

use super::Rec;
use crate::tep::cprintf::{self, Arg as C};

/// `futex_handler`.
pub(super) fn sys_enter_futex(r: Rec<'_>, out: &mut Vec<u8>) -> Option<bool> {
    let uaddr = r.val("uaddr", out)?;
    let op = r.val("op", out)?;
    let v = r.val("val", out)?;
    let utime = r.val("utime", out)?;
    let uaddr2 = r.val("uaddr2", out)?;
    let val3 = r.val("val3", out)?;
    // (name, val, utime, uaddr2, val3) formats per FUTEX_* command.
    type Op = (&'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>, Option<&'static str>);
    const OPS: [Op; 13] = [
        ("FUTEX_WAIT", Some(" val=0x%08llx"), Some(" utime=0x%08llx"), None, None),
        ("FUTEX_WAKE", Some(" val=%llu"), None, None, None),
        ("FUTEX_FD", Some(" val=%llu"), None, None, None),
        ("FUTEX_REQUEUE", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), None),
        ("FUTEX_CMP_REQUEUE", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
        ("FUTEX_WAKE_OP", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
        ("FUTEX_LOCK_PI", None, Some(" utime=0x%08llx"), None, None),
        ("FUTEX_UNLOCK_PI", None, None, None, None),
        ("FUTEX_TRYLOCK_PI", None, None, None, None),
        ("FUTEX_WAIT_BITSET", Some(" val=0x%08llx"), Some(" utime=0x%08llx"), None, Some(" val3=0x%08llx")),
        ("FUTEX_WAKE_BITSET", Some(" val=%llu"), None, None, Some(" val3=0x%08llx")),
        ("FUTEX_WAIT_REQUEUE_PI", Some(" val=0x%08llx"), Some(" utime=0x%08llx"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
        ("FUTEX_CMP_REQUEUE_PI", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
    ];
    let cmd = op & !(128 | 256);
    let &(name, fv, fu, fa, f3) = OPS.get(cmd as usize)?;
    out.extend_from_slice(b"op=");
    out.extend_from_slice(name.as_bytes());
    if op & 128 != 0 {
        out.extend_from_slice(b"|FUTEX_PRIVATE_FLAG");
    }
    if op & 256 != 0 {
        out.extend_from_slice(b"|FUTEX_CLOCK_REALTIME");
    }
    cprintf::printf(out, b" uaddr=0x%08llx", &[C::Int(uaddr)]);
    for (fmt, x) in [(fv, v), (fu, utime), (fa, uaddr2), (f3, val3)] {
        if let Some(f) = fmt {
            cprintf::printf(out, f.as_bytes(), &[C::Int(x)]);
        }
    }
    Some(false)
}
