//! A `bprint` record (trace_printk with a binary buffer): its format is found by address in
//! the file's printk formats and its arguments are packed in the record, so each record gets
//! a program of its own.

use std::rc::Rc;

use super::eval::Ctx;
use super::fields::Field;
use super::format::parse_pieces;
use super::lexer::c_isprint;
use super::parse::{Arg, ArgId, Program};
use crate::tep::cprintf;

/// A bprint record's format and arguments (`get_bprint_format` + `make_bprint_args`), as a
/// program of its own to evaluate against the record.
pub fn bprint_program(ctx: &Ctx<'_>, data: &[u8], fields: &[Field], nr_common: usize) -> Program {
    let find = |n: &str| fields.iter().skip(nr_common).find(|f| f.name == n);
    let mut prog = Program::default();
    let (Some(fmt_f), Some(buf_f), Some(ip_f)) = (find("fmt"), find("buf"), find("ip")) else {
        return prog;
    };
    let addr = ctx.read(data, fmt_f.offset as usize, fmt_f.size as usize);
    let mut format = b"%ps: ".to_vec();
    match ctx.printk.find(addr) {
        Some(p) => format.extend_from_slice(p),
        None => format.extend_from_slice(format!("(NO FORMAT FOUND at {addr:x})\n").as_bytes()),
    }
    let ip = ctx.read(data, ip_f.offset as usize, ip_f.size as usize);
    let mut arena = vec![Arg::Atom((ip as i64).to_string().into_bytes())];
    let mut bptr = buf_f.offset as usize;
    let size = ctx.size;
    let mut p = 5usize;
    while bptr < size && p < format.len() {
        if format[p] != b'%' {
            p += 1;
            continue;
        }
        let mut ls = 0i32;
        loop {
            p += 1;
            let c = format.get(p).copied().unwrap_or(0);
            let mut is_string = false;
            let vsize: usize;
            match c {
                b'%' => break,
                b'l' => {
                    ls += 1;
                    continue;
                }
                b'L' => {
                    ls = 2;
                    continue;
                }
                b'0'..=b'9' | b'.' | b'#' => continue,
                b'z' | b'Z' => {
                    ls = 1;
                    continue;
                }
                b'*' => vsize = 4,
                b'p' | b'd' | b'u' | b'i' | b'x' | b'X' | b'o' => {
                    if c == b'p' {
                        ls = 1;
                        let n = format.get(p + 1).copied().unwrap_or(0);
                        if n.is_ascii_alphanumeric() {
                            p += 1;
                            let special = match n {
                                b's' | b'S' | b'x' => false,
                                b'f' | b'F' => format.get(p + 1) == Some(&b'w'),
                                _ => true,
                            };
                            if special && c_isprint(data.get(bptr).copied().unwrap_or(0) as i8 as i32) {
                                is_string = true;
                            }
                        }
                    }
                    vsize = match ls {
                        0 => 4,
                        1 => ctx.long_size as usize,
                        2 => 8,
                        n => n.max(0) as usize,
                    };
                }
                b's' => {
                    is_string = true;
                    vsize = 0;
                }
                _ => break,
            }
            if is_string {
                let s = cprintf::cstr(data.get(bptr..).unwrap_or(&[])).to_vec();
                bptr += s.len() + 1;
                arena.push(Arg::BStr(s));
                break;
            }
            bptr = (bptr + 3) & !3;
            let v = ctx.read(data, bptr, vsize);
            bptr += vsize;
            arena.push(Arg::Atom((v as i64).to_string().into_bytes()));
            if c == b'*' {
                continue;
            }
            break;
        }
        p += 1;
    }
    let args: Vec<ArgId> = (0..arena.len()).collect();
    let mut failed = false;
    prog.pieces = parse_pieces(&format, &args, &mut failed).into();
    prog.format = format;
    prog.args = args;
    prog.arena = arena.into_iter().map(Rc::new).collect();
    prog
}
