//! How report prints a timestamp: libtraceevent's `print_event_time`.

use crate::tep::cprintf::put_unsigned;

/// How timestamps print: `%5llu.%0Nllu` after rounding to `div`, or a bare `%12llu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeFmt {
    pub prec: u32,
    pub div: u64,
    /// 10^prec as a C int (wrapping), worked out once rather than for every line.
    p10: i32,
}

impl TimeFmt {
    /// The time format of a line.
    pub fn new(usecs: bool, nsec: bool) -> TimeFmt {
        let (prec, div) = match (usecs, nsec) {
            (true, true) => (9, 1),
            (true, false) => (6, 1000),
            // "%12d": a precision of 12 whose power of ten overflows an int.
            (false, _) => (12, 0),
        };
        // p10 is a C int there: 10^12 overflows to a negative and falls back to "%12llu".
        let mut p10: i32 = 1;
        for _ in 0..prec {
            p10 = p10.wrapping_mul(10);
        }
        TimeFmt { prec, div, p10 }
    }

    /// libtraceevent's `print_event_time`.
    pub fn print(&self, ts: u64, out: &mut Vec<u8>) {
        // Rounded to `div` (0: not divided).
        let t = ts.wrapping_add(self.div / 2).checked_div(self.div).unwrap_or(ts);
        if self.p10 > 1 {
            let p = self.p10 as u64;
            // "%5llu.%0*llu"
            put_unsigned(out, t / p, 5, false);
            out.push(b'.');
            put_unsigned(out, t % p, self.prec as usize, true);
        } else {
            put_unsigned(out, t, 12, false);
        }
    }
}
