//! libtraceevent's plugin_function.c: the `function` tracer's lines indented by a per-CPU
//! call stack, `func_repeats`, and ftrace's `kernel_stack` and `raw_data` records.

use std::collections::HashMap;

use super::{Env, Rec};
use crate::tep::cprintf::{self, Arg as C};

/// The function plugin's per-CPU stacks of function names (for indentation), by CPU number:
/// a map, because the number comes from the file (a damaged one may say CPU 268435456).
#[derive(Default)]
pub struct FuncStacks {
    cpus: HashMap<usize, Vec<Option<Vec<u8>>>>,
}

impl FuncStacks {
    fn add_child(stack: &mut Vec<Option<Vec<u8>>>, child: Option<&[u8]>, pos: usize) {
        let Some(child) = child else { return };
        while pos >= stack.len() {
            stack.extend(std::iter::repeat_n(None, 10));
        }
        stack[pos] = Some(child.to_vec());
    }

    /// `add_and_get_index`.
    fn index(&mut self, parent: &[u8], child: Option<&[u8]>, cpu: usize) -> usize {
        let stack = self.cpus.entry(cpu).or_default();
        for i in 0..stack.len() {
            match &stack[i] {
                None => break,
                Some(s) if s == parent => {
                    Self::add_child(stack, child, i + 1);
                    return i;
                }
                _ => {}
            }
        }
        Self::add_child(stack, Some(parent), 0);
        Self::add_child(stack, child, 1);
        0
    }
}

/// `function_handler` (indent on, parent and offset off: the plugin's defaults).
pub(super) fn function(r: Rec<'_>, env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    let ip = r.need("ip", out)?;
    let func = r.ctx.funcs.find(ip).map(|f| f.name);
    let pip = r.need("parent_ip", out)?;
    let parent = r.ctx.funcs.find(pip).map(|f| f.name);
    let index = match parent {
        Some(p) => env.stacks.index(p, func, env.cpu as usize),
        None => 0,
    };
    out.resize(out.len() + index * 3, b' ');
    match func {
        Some(f) => out.extend_from_slice(f),
        None => cprintf::printf(out, b"0x%llx", &[C::Int(ip)]),
    }
    Some(false)
}

/// `trace_func_repeat_handler`: the function line, then how often it repeated and when last.
pub(super) fn func_repeats(r: Rec<'_>, env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    // The function part's own bail-out does not stop this one.
    let _ = function(r, env, out);
    let count = r.need("count", out)?;
    let top = r.need("top_delta_ts", out)?;
    let bottom = r.need("bottom_delta_ts", out)?;
    cprintf::printf(out, b" (count: %lld  last_ts: ", &[C::Int(count)]);
    env.time_fmt.print(env.ts.wrapping_sub((top << 32) | bottom), out);
    out.push(b')');
    Some(false)
}

/// `trace_stack_handler`: the caller addresses up to the first -1, one per line.
pub(super) fn kernel_stack(r: Rec<'_>, out: &mut Vec<u8>) -> Option<bool> {
    let ctx = r.ctx;
    let Some(f) = r.ev.any("caller") else {
        out.extend_from_slice(b"<CANT FIND FIELD caller>");
        return Some(false);
    };
    out.extend_from_slice(b"<stack trace >\n");
    let ls = ctx.long_size as usize;
    let mut at = f.offset as usize;
    while at < ctx.size {
        let addr = ctx.read(r.data, at, ls);
        if (ls == 8 && addr == u64::MAX) || addr as u32 as i32 == -1 {
            break;
        }
        match ctx.funcs.find(addr) {
            Some(func) => {
                out.extend_from_slice(b"=> ");
                out.extend_from_slice(func.name);
                cprintf::printf(out, b" (%llx)\n", &[C::Int(addr)]);
            }
            None => cprintf::printf(out, b"=> %llx\n", &[C::Int(addr)]),
        }
        at += ls.max(1);
    }
    Some(false)
}

/// `trace_raw_data_handler`: the id, then up to 8 bytes of the buffer per long.
pub(super) fn raw_data(r: Rec<'_>, out: &mut Vec<u8>) -> Option<bool> {
    let ctx = r.ctx;
    let id = r.need("id", out)?;
    cprintf::printf(out, b"# %llx", &[C::Int(id)]);
    let Some(f) = r.ev.any("buf") else {
        out.extend_from_slice(b"<CANT FIND FIELD buf>");
        return Some(false);
    };
    let ls = (ctx.long_size as usize).max(1);
    let mut at = f.offset as usize;
    while at < ctx.size {
        let n = 8usize.min(ctx.size - at);
        for b in &r.data[at..at + n] {
            cprintf::printf(out, b" %02x", &[C::Int(*b as u64)]);
        }
        at += ls;
    }
    Some(false)
}
