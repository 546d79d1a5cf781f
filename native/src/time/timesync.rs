//! Turning ring-buffer timestamps into the times trace-cmd reports, bit for bit.
//!
//! trace-cmd's pipeline per record (trace-input.c `timestamp_calc`):
//! 1. a guest file's TIME_SHIFT samples map guest time to host time (top buffer only);
//! 2. TSC2NSEC turns TSC cycles into nanoseconds with `mul_u64_u32_shr`;
//! 3. DATE (µs × 1000) and OFFSET options are added.
//!
//! The arithmetic is trace-cmd's, quirks included, because merged timelines must line up
//! with what `trace-cmd report -i host -i guest` prints: C truncating division in the
//! interpolation, the step mode using the second-to-last sample after the last one, one sample
//! ignoring scaling, the TSC2NSEC multiplier read as a *signed* int, and u64 wrap-around.
//! Where that differs from KVM's own definition (guest = (host * ratio >> frac) + offset, whose
//! exact inverse is not what trace-cmd applies when ratio != 1) we still follow trace-cmd.

use std::sync::Arc;

use crate::format::clib;
use crate::format::options::{TimeShift, TsSample, Tsc2Nsec};

/// Bit 0 of TIME_SHIFT flags: interpolate between samples instead of stepping.
pub const FLAG_INTERPOLATE: u32 = 1;

/// A guest file's TIME_SHIFT as trace-cmd applies it: per guest vCPU, the samples sorted by
/// time with equal times dropped, mapping guest times to host times.
#[derive(Clone, Debug)]
pub struct TimeShiftMap {
    flags: u32,
    cpus: Vec<Vec<TsSample>>,
}

impl TimeShiftMap {
    pub fn new(ts: &TimeShift) -> TimeShiftMap {
        let cpus = ts
            .cpus
            .iter()
            .map(|samples| {
                let mut s = samples.clone();
                s.sort_by_key(|x| x.time);
                s.dedup_by_key(|x| x.time);
                s
            })
            .collect();
        TimeShiftMap { flags: ts.flags, cpus }
    }

    /// trace-cmd's `timestamp_host_sync`: the host time of guest time `ts` on guest `cpu`.
    pub fn host(&self, ts: u64, cpu: u32) -> u64 {
        host_sync(ts, cpu, self.flags, &self.cpus)
    }

    /// How many samples there are, over all vCPUs.
    pub fn samples(&self) -> usize {
        self.cpus.iter().map(Vec::len).sum()
    }

    /// The TSC scaling of guest `cpu` (KVM's ratio and fraction bits), when its first sample
    /// has one other than 1.
    pub fn scaling(&self, cpu: u32) -> Option<(u64, u32)> {
        let s = self.cpus.get(cpu as usize)?.first()?;
        (s.scaling != 1 && s.scaling > 0).then_some((s.scaling as u64, s.fraction.clamp(0, 63) as u32))
    }
}

/// The time conversion of one buffer of one file.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    shift: Option<Arc<TimeShiftMap>>,
    tsc2nsec: Option<Tsc2Nsec>,
    /// DATE and OFFSET options (and a user offset), added last.
    offset: u64,
    /// report's `--ts2secs HZ`: nanoseconds per clock count (1e9 / HZ), in place of TSC2NSEC.
    ts2secs: Option<f64>,
}

impl Clock {
    /// The conversion trace-cmd applies to buffer `top` (true for the top instance) of a file
    /// with these options.
    pub fn new(time_shift: Option<&TimeShift>, tsc2nsec: Option<Tsc2Nsec>, date: &[String], offsets: &[String], top: bool) -> Clock {
        let shift = time_shift.filter(|_| top).map(|ts| Arc::new(TimeShiftMap::new(ts)));
        let mut offset = 0u64;
        for d in date {
            offset = offset.wrapping_add(clib::strtoll(d.as_bytes(), 0).wrapping_mul(1000) as u64);
        }
        for o in offsets {
            offset = offset.wrapping_add(clib::strtoll(o.as_bytes(), 0) as u64);
        }
        Clock { shift, tsc2nsec: tsc2nsec.filter(|t| t.mult != 0), offset, ts2secs: None }
    }

    /// The same conversion with the clock counting `hz` per second (report's `--ts2secs`):
    /// trace-cmd multiplies by the double 1e9 / hz instead of applying TSC2NSEC; a zero `hz`
    /// is ignored, as trace-cmd ignores it.
    pub fn with_ts2secs(mut self, hz: u64) -> Clock {
        if hz != 0 {
            self.ts2secs = Some(1e9 / hz as f64);
        }
        self
    }

    /// The same conversion with `by` added at the end (report's `--ts-offset`, which trace-cmd
    /// adds to the DATE and OFFSET options' sum).
    pub fn shifted(mut self, by: i64) -> Clock {
        self.offset = self.offset.wrapping_add(by as u64);
        self
    }

    /// This conversion without its TIME_SHIFT: what a host applies to times already on its
    /// own clock (a guest's records once moved there).
    pub fn without_time_shift(mut self) -> Clock {
        self.shift = None;
        self
    }

    /// The reported time of a record with raw time `ts` on `cpu`.
    pub fn convert(&self, ts: u64, cpu: u32) -> u64 {
        let mut ts = ts;
        if let Some(shift) = &self.shift {
            ts = shift.host(ts, cpu);
        }
        if let Some(m) = self.ts2secs {
            ts = c_double_to_u64(ts as f64 * m);
        } else if let Some(t) = self.tsc2nsec {
            ts = mul_u64_u32_shr(ts, t.mult as i32 as i64 as u64, t.shift);
        }
        ts.wrapping_add(self.offset)
    }
}

/// C's `ts *= double` back to an unsigned long long as x86-64 compilers do it: truncated, and
/// a product of 2^64 or more (a high `--ts2secs` factor on a large count) becomes 0, not the
/// largest value (what Rust's `as` would give).
fn c_double_to_u64(p: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if p < TWO_63 {
        p as i64 as u64
    } else if p < 2.0 * TWO_63 {
        ((p - TWO_63) as i64 as u64) ^ (1 << 63)
    } else {
        // cvttsd2si's "integer indefinite" 1 << 63, with the top bit flipped back.
        0
    }
}

/// The clock counts that TSC2NSEC turns into `ns` nanoseconds, to the nearest: for offsets a
/// user gives in the units a report shows, applied to raw times.
pub fn nsec_to_cycles(t: &Tsc2Nsec, ns: i64) -> i64 {
    if t.mult == 0 {
        return ns;
    }
    let n = (ns as i128) << (t.shift & 63).min(62);
    let m = t.mult as i128;
    ((n + n.signum() * m / 2) / m) as i64
}

/// The kernel's helper, as trace-cmd copied it; `mul` is the multiplier sign-extended from
/// the int trace-cmd stores it in.
pub fn mul_u64_u32_shr(a: u64, mul: u64, shift: u32) -> u64 {
    let al = a & 0xffff_ffff;
    let ah = a >> 32;
    let sh = shift & 63;
    let mut ret = al.wrapping_mul(mul) >> sh;
    if ah != 0 {
        ret = ret.wrapping_add(ah.wrapping_mul(mul).wrapping_shl(32u32.wrapping_sub(shift) & 63));
    }
    ret
}

fn correction(ts: u64, flags: u32, min: &TsSample, max: &TsSample) -> u64 {
    let cor = if flags & FLAG_INTERPOLATE != 0 {
        let delta = max.time.wrapping_sub(min.time);
        let off = (ts as i64).wrapping_sub(min.time).wrapping_mul(max.offset.wrapping_sub(min.offset));
        // C division truncates toward zero, as Rust's does; a zero delta cannot happen after
        // dropping equal times, but a damaged file must not make us divide by it.
        min.offset.wrapping_add(off.wrapping_add(delta / 2).checked_div(delta).unwrap_or(0))
    } else {
        min.offset
    };
    let ts = ts.wrapping_mul(min.scaling as u64).wrapping_shr(min.fraction as u32 & 63);
    ts.wrapping_add(cor as u64)
}

/// trace-cmd's `timestamp_host_sync`.
fn host_sync(ts: u64, cpu: u32, flags: u32, cpus: &[Vec<TsSample>]) -> u64 {
    let Some(s) = cpus.get(cpu as usize) else { return ts };
    let n = s.len();
    match n {
        0 => ts,
        1 => ts.wrapping_add(s[0].offset as u64),
        2 => correction(ts, flags, &s[0], &s[1]),
        _ if ts <= s[0].time as u64 => correction(ts, flags, &s[0], &s[1]),
        _ if ts >= s[n - 1].time as u64 => correction(ts, flags, &s[n - 2], &s[n - 1]),
        _ => {
            // The same binary search as trace-cmd, including where it leaves `mid`.
            let (mut min, mut max) = (0i64, n as i64 - 1);
            let mut mid = (min + max) / 2;
            while min <= max {
                let t = s[mid as usize].time as u64;
                if ts < t {
                    max = mid - 1;
                } else if ts > t {
                    min = mid + 1;
                } else {
                    break;
                }
                mid = (min + max) / 2;
            }
            let i = (mid.max(0) as usize).min(n - 2);
            correction(ts, flags, &s[i], &s[i + 1])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(time: i64, offset: i64) -> TsSample {
        TsSample { time, offset, scaling: 1, fraction: 0 }
    }

    fn shift(flags: u32) -> TimeShift {
        TimeShift { peer_id: 0, flags, cpus: vec![vec![sample(845_300_000_000, 2000), sample(845_200_000_000, 1000), sample(845_400_000_000, 4000)]] }
    }

    #[test]
    fn ts2secs_products_convert_as_c_does() {
        assert_eq!(c_double_to_u64(12.9), 12);
        assert_eq!(c_double_to_u64(1.5e19), 15_000_000_000_000_000_000);
        assert_eq!(c_double_to_u64(2e19), 0);
        let c = Clock::default().with_ts2secs(26_000_000_000);
        assert_eq!(c.convert(26_000_000_000, 0), 1_000_000_000);
        assert_eq!(Clock::default().with_ts2secs(1000).convert(u64::MAX / 2, 0), 0);
    }

    #[test]
    fn step_mode_uses_second_to_last_sample_after_the_end() {
        // Measured with trace-cmd 3.1.6: +1000 before the 2nd sample, +2000 after the last.
        let c = Clock::new(Some(&shift(0)), None, &[], &[], true);
        assert_eq!(c.convert(845_250_000_000, 0), 845_250_001_000);
        assert_eq!(c.convert(845_500_000_000, 0), 845_500_002_000);
        assert_eq!(c.convert(845_500_000_000, 1), 845_500_000_000, "CPUs beyond the samples are unchanged");
    }

    #[test]
    fn interpolation_truncates_like_c() {
        let c = Clock::new(Some(&shift(FLAG_INTERPOLATE)), None, &[], &[], true);
        // Between samples 0 and 1 (100 ms apart, offsets 1000 and 2000):
        // 1000 + ((ts - t0) * 1000 + 50e6) / 100e6, here 1000 + 500 (500.5 truncated).
        let ts = 845_250_000_001u64;
        assert_eq!(c.convert(ts, 0), ts + 1500);
        // Before the first sample it extrapolates: (-50e6*1000 + 50e6) / 100e6 = -499.5 -> -499.
        let ts = 845_150_000_000u64;
        assert_eq!(c.convert(ts, 0), ts + 501);
    }

    #[test]
    fn instances_get_no_time_shift() {
        let c = Clock::new(Some(&shift(0)), None, &[], &[], false);
        assert_eq!(c.convert(845_250_000_000, 0), 845_250_000_000);
    }

    #[test]
    fn tsc2nsec_then_offsets() {
        // Verified with trace-cmd 3.1.6: TIME_SHIFT(+981) then mult 2^30 shift 31 (x0.5).
        let ts = TimeShift { peer_id: 0, flags: 0, cpus: vec![vec![sample(0, 981)]] };
        let t = Tsc2Nsec { mult: 1 << 30, shift: 31, offset: 0 };
        let c = Clock::new(Some(&ts), Some(t), &[], &[], true);
        assert_eq!(c.convert(845_197_986_955, 0), 422_598_993_968);
        let c = Clock::new(None, None, &["0x10".into()], &["5000".into()], true);
        assert_eq!(c.convert(1, 0), 1 + 16_000 + 5000);
    }

    #[test]
    fn nanoseconds_back_to_cycles() {
        // The public KVM pair's TSC2NSEC: 735842807 >> 31 (a 2.92 GHz TSC).
        let t = Tsc2Nsec { mult: 735_842_807, shift: 31, offset: 0 };
        for ns in [0i64, 1, 1000, -1000, 1_000_000_007, -5_000_000_000] {
            let c = nsec_to_cycles(&t, ns);
            let back = mul_u64_u32_shr(c.unsigned_abs(), t.mult as u64, t.shift) as i64 * c.signum();
            assert!((back - ns).abs() <= 1, "{ns} ns -> {c} cycles -> {back} ns");
        }
    }

    #[test]
    fn multiplier_is_signed_like_trace_cmd() {
        let t = Tsc2Nsec { mult: 3 << 30, shift: 0, offset: 0 };
        let c = Clock::new(None, Some(t), &[], &[], true);
        assert_eq!(c.convert(1, 0), (3u32 << 30) as i32 as i64 as u64);
    }
}
