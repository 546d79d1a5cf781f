//! trace-cmd's own function_graph printer (lib/trace-cmd/trace-ftrace.c): `funcgraph_entry`
//! folded with the matching `funcgraph_exit` that follows it into `func();` (a leaf), else
//! `func() {`, and the exits as `}`, each with its overhead mark and duration column.

use super::{Env, Rec};
use crate::tep::cprintf::{self, Arg as C};

/// `fgraph_ent_handler`.
pub(super) fn entry(r: Rec<'_>, env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    let Some(ret) = env.graph_ret.as_ref() else { return Some(true) };
    let pid = r.need_common("common_pid", out)?;
    let func = r.need("func", out)?;
    // get_return_for_leaf: the next record is this call's exit.
    let leaf = env.next.map(|next| Rec { ctx: r.ctx, ev: &ret.fields, data: next }).filter(|exit| {
        exit.common_opt("common_type") == Some(ret.id) && exit.common_opt("common_pid").map(|p| p as i32) == Some(pid as i32) && exit.opt("func") == Some(func)
    });
    // Past this point a missing field ends the line with its `!` and nothing follows.
    match leaf {
        Some(exit) => {
            env.consumed = true;
            let _ = entry_leaf(r, exit, func, out);
        }
        None => {
            let _ = nested(r, func, out);
        }
    }
    Some(false)
}

/// `print_graph_entry_leaf`: `func();` with the duration the exit record gives.
fn entry_leaf(r: Rec<'_>, exit: Rec<'_>, func: u64, out: &mut Vec<u8>) -> Option<()> {
    let rettime = exit.need("rettime", out)?;
    let calltime = exit.need("calltime", out)?;
    let d = rettime.wrapping_sub(calltime);
    overhead(out, d);
    duration(out, d);
    let depth = r.need("depth", out)?;
    indent(out, depth);
    match r.ctx.funcs.find(func) {
        Some(f) => {
            out.extend_from_slice(f.name);
            out.extend_from_slice(b"();");
        }
        None => cprintf::printf(out, b"%llx();", &[C::Int(func)]),
    }
    Some(())
}

/// `print_graph_nested`: `func() {` with an empty duration column.
fn nested(r: Rec<'_>, func: u64, out: &mut Vec<u8>) -> Option<()> {
    overhead(out, u64::MAX);
    out.extend_from_slice(b"           |  ");
    let depth = r.need("depth", out)?;
    indent(out, depth);
    match r.ctx.funcs.find(func) {
        Some(f) => {
            out.extend_from_slice(f.name);
            out.extend_from_slice(b"() {");
        }
        None => cprintf::printf(out, b"%llx() {", &[C::Int(func)]),
    }
    Some(())
}

/// `fgraph_ret_handler`: `}` after the call's duration.
pub(super) fn exit(r: Rec<'_>, env: &Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    if env.graph_ret.is_none() {
        return Some(true);
    }
    let rettime = r.need("rettime", out)?;
    let calltime = r.need("calltime", out)?;
    let d = rettime.wrapping_sub(calltime);
    overhead(out, d);
    duration(out, d);
    let depth = r.need("depth", out)?;
    indent(out, depth);
    out.push(b'}');
    Some(false)
}

/// `print_graph_overhead`: the mark of a long call (`+` over 10 us ... `$` over 1 s).
fn overhead(out: &mut Vec<u8>, d: u64) {
    let s: &[u8] = if d == u64::MAX {
        b"  "
    } else if d > 1_000_000_000 {
        b"$ "
    } else if d > 1_000_000 {
        b"# "
    } else if d > 100_000 {
        b"! "
    } else if d > 10_000 {
        b"+ "
    } else {
        b"  "
    };
    out.extend_from_slice(s);
}

/// `print_graph_duration`, including its use of the line length so far as a size limit.
fn duration(out: &mut Vec<u8>, d: u64) {
    let usecs = d / 1000;
    let rem = d % 1000;
    let start = out.len();
    cprintf::printf(out, b"%lu", &[C::Int(usecs)]);
    if out.len() - start < 7 {
        // snprintf(nsecs_str, MIN(sizeof(nsecs_str), 8 - len), ...) with len = the whole
        // line length so far (a trace-cmd quirk): the size is 5 unless that goes negative.
        let size = (8i64 - start as i64).clamp(i64::MIN, 5);
        let ns = format!("{rem:03}");
        let keep = if size <= 0 { ns.len() } else { (size as usize - 1).min(ns.len()) };
        out.push(b'.');
        out.extend_from_slice(&ns.as_bytes()[..keep]);
    }
    let len = out.len() - start;
    out.extend_from_slice(b" us ");
    for _ in len..7 {
        out.push(b' ');
    }
    out.extend_from_slice(b"|  ");
}

/// function_graph's `%*s` of depth * 2 spaces (a damaged depth is cut as any printf width).
fn indent(out: &mut Vec<u8>, depth: u64) {
    let n = (depth as i64).wrapping_mul(2) as i32;
    out.resize(out.len() + (n.max(0) as usize).min(cprintf::MAX_PAD), b' ');
}
