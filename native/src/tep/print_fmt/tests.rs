//! End-to-end checks: print fmts parsed and evaluated against hand-made records.

use super::*;
use crate::format::bytes::Endian;
use crate::format::event_format;
use crate::tep::lookups::{Funcs, Printk};

const SCHED_SWITCH: &str = "name: sched_switch\nID: 372\nformat:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
    \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
    \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\
    \tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n\
    \tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n\
    \tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n\
    \tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n\
    \tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\n\
    print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio\n";

fn record(state: u64) -> Vec<u8> {
    let mut r = vec![0u8; 64];
    r[0..2].copy_from_slice(&372u16.to_le_bytes());
    r[8..12].copy_from_slice(b"bash");
    r[24..28].copy_from_slice(&3195i32.to_le_bytes());
    r[28..32].copy_from_slice(&120i32.to_le_bytes());
    r[32..40].copy_from_slice(&state.to_le_bytes());
    r[40..44].copy_from_slice(b"npm\0");
    r[56..60].copy_from_slice(&(-1i32).to_le_bytes());
    r[60..64].copy_from_slice(&99i32.to_le_bytes());
    r
}

fn run(text: &str, data: &[u8], raw: bool) -> String {
    let f = event_format::parse("sched", text.as_bytes()).unwrap();
    let (mut fields, nc) = fields(&f, 8);
    let mut prog = parse(f.print_fmt.as_bytes(), &fields, nc, 8, false, false);
    let funcs = Funcs::default();
    let printk = Printk::default();
    let ctx = Ctx { size: data.len(), endian: Endian::Little, long_size: 8, funcs: &funcs, printk: &printk };
    let mut out = Vec::new();
    let mut e = Eval { prog: &mut prog, fields: &mut fields };
    if raw {
        e.fields_raw(&ctx, data, nc, &mut out);
    } else {
        e.pretty(&ctx, data, &mut out);
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn sched_switch_pretty_and_raw() {
    assert_eq!(run(SCHED_SWITCH, &record(0), false), "prev_comm=bash prev_pid=3195 prev_prio=120 prev_state=R ==> next_comm=npm next_pid=-1 next_prio=99");
    assert_eq!(run(SCHED_SWITCH, &record(1 | 2 | 0x100), false).split(' ').nth(3), Some("prev_state=S|D+"));
    assert_eq!(run(SCHED_SWITCH, &record(0x100), false).split(' ').nth(3), Some("prev_state=R+"));
    assert_eq!(run(SCHED_SWITCH, &record(1), true), " prev_comm=bash prev_pid=3195 prev_prio=120 prev_state=1 next_comm=npm next_pid=-1 next_prio=99");
}

#[test]
fn operators_casts_and_symbols() {
    let text = "name: t\nID: 1\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
        \tfield:unsigned int a;\toffset:4;\tsize:4;\tsigned:0;\n\
        \tfield:int b;\toffset:8;\tsize:4;\tsigned:1;\n\n\
        print fmt: \"%u %d %s %x %lu %c\", REC->a * 2 + 1, -REC->b, __print_symbolic(REC->a, { 0, \"zero\" }, { 5, \"five\" }), (u8)REC->b, sizeof(long), REC->a ? 1 : 2\n";
    let mut d = vec![0u8; 12];
    d[4..8].copy_from_slice(&5u32.to_le_bytes());
    d[8..12].copy_from_slice(&(-300i32).to_le_bytes());
    assert_eq!(run(text, &d, false), "11 300 five d4 8 >c<");
}

#[test]
fn unknown_helper_fails_the_parse() {
    let text = "name: t\nID: 1\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
        \tfield:unsigned int a;\toffset:4;\tsize:4;\tsigned:0;\n\n\
        print fmt: \"%u\", nope(REC->a)\n";
    let f = event_format::parse("t", text.as_bytes()).unwrap();
    let (fields, nc) = fields(&f, 8);
    assert!(parse(f.print_fmt.as_bytes(), &fields, nc, 8, false, false).failed);
}

/// ftrace's `print` (trace_marker) and `bprint` formats from real/sched-irq-sys-v6.dat.
#[test]
fn print_and_bprint_with_symbols() {
    let print = "name: print\nID: 5\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n\
        \tfield:char buf[];\toffset:16;\tsize:0;\tsigned:0;\n\n\
        print fmt: \"%ps: %s\", (void *)REC->ip, REC->buf\n";
    let f = event_format::parse("ftrace", print.as_bytes()).unwrap();
    let (mut fs, nc) = fields(&f, 8);
    let mut prog = parse(f.print_fmt.as_bytes(), &fs, nc, 8, true, false);
    let funcs = Funcs::parse(b"ffffffff81000000 T _text\nffffffff81400000 T tracing_mark_write\nffffffff81400100 T next_fn\n");
    let printk = Printk::parse(b"0xffffffff82000000 : \"value %d %s\\n\"\n");
    let mut rec = vec![0u8; 32];
    rec[8..16].copy_from_slice(&0xffffffff81400010u64.to_le_bytes());
    rec[16..28].copy_from_slice(b"hello world\n");
    let ctx = Ctx { size: rec.len(), endian: Endian::Little, long_size: 8, funcs: &funcs, printk: &printk };
    let mut out = Vec::new();
    Eval { prog: &mut prog, fields: &mut fs }.pretty(&ctx, &rec, &mut out);
    assert_eq!(out, b"tracing_mark_write: hello world\n");

    let bprint = "name: bprint\nID: 6\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n\
        \tfield:const char * fmt;\toffset:16;\tsize:8;\tsigned:0;\n\
        \tfield:u32 buf[];\toffset:24;\tsize:0;\tsigned:0;\n\n\
        print fmt: \"%ps: %s\", (void *)REC->ip, REC->fmt\n";
    let f = event_format::parse("ftrace", bprint.as_bytes()).unwrap();
    let (fs, nc) = fields(&f, 8);
    let mut rec = vec![0u8; 36];
    rec[8..16].copy_from_slice(&0xffffffff81400100u64.to_le_bytes());
    rec[16..24].copy_from_slice(&0xffffffff82000000u64.to_le_bytes());
    rec[24..28].copy_from_slice(&(-7i32).to_le_bytes());
    rec[28..31].copy_from_slice(b"ok\0");
    let ctx = Ctx { size: rec.len(), endian: Endian::Little, long_size: 8, funcs: &funcs, printk: &printk };
    let mut prog = bprint_program(&ctx, &rec, &fs, nc);
    let mut fs = fs.clone();
    let mut out = Vec::new();
    Eval { prog: &mut prog, fields: &mut fs }.pretty(&ctx, &rec, &mut out);
    assert_eq!(String::from_utf8(out).unwrap(), "next_fn: value -7 ok");
}
