//! How report prints a timestamp: libtraceevent's `print_event_time`.

use crate::tep::cprintf::{Arg as C, Conv};
use std::sync::LazyLock;

/// `%5llu`, `%0llu` (given the precision as its width, as `%0*llu`), `%12llu`, parsed once.
static CONVS: LazyLock<[Conv; 3]> = LazyLock::new(|| [b"%5llu".as_slice(), b"%0llu", b"%12llu"].map(|f| Conv::parse(f).expect("a conversion")));

/// How timestamps print: `%5llu.%0Nllu` after rounding to `div`, or a bare `%12llu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeFmt {
    pub prec: u32,
    pub div: u64,
}

impl TimeFmt {
    /// The time format of a line.
    pub fn new(usecs: bool, nsec: bool) -> TimeFmt {
        match (usecs, nsec) {
            (true, true) => TimeFmt { prec: 9, div: 1 },
            (true, false) => TimeFmt { prec: 6, div: 1000 },
            // "%12d": a precision of 12 whose power of ten overflows an int.
            (false, _) => TimeFmt { prec: 12, div: 0 },
        }
    }

    /// libtraceevent's `print_event_time`.
    pub fn print(&self, ts: u64, out: &mut Vec<u8>) {
        // Rounded to `div` (0: not divided).
        let t = ts.wrapping_add(self.div / 2).checked_div(self.div).unwrap_or(ts);
        // p10 is a C int there: 10^12 overflows to a negative and falls back to "%12llu".
        let mut p10: i32 = 1;
        for _ in 0..self.prec {
            p10 = p10.wrapping_mul(10);
        }
        if p10 > 1 {
            let p = p10 as u64;
            // "%5llu.%0*llu"
            CONVS[0].print(out, C::Int(t / p));
            out.push(b'.');
            CONVS[1].with_width(self.prec as usize).print(out, C::Int(t % p));
        } else {
            CONVS[2].print(out, C::Int(t));
        }
    }
}
