//! libtraceevent's plugin_kvm.c: `kvm_exit` with the VMX or SVM exit reason named,
//! `kvm_entry`, and `kvm_emulate_insn` (its instruction bytes in hex: no disassembler), each
//! guest rip followed by the guest function when the guest's trace is being read too.

use super::{Env, Rec};
use crate::tep::cprintf::{self, Arg as C};
use crate::tep::print_fmt::{F_DYNAMIC, F_RELATIVE};

/// `kvm_exit_handler`.
pub(super) fn exit(r: Rec<'_>, env: &Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    exit_reason(r, "exit_reason", out)?;
    let rip = r.val("guest_rip", out)?;
    cprintf::printf(out, b" rip 0x%llx", &[C::Int(rip)]);
    guest_function(env, rip, out);
    if let (Some(a), Some(b)) = (r.opt("info1"), r.opt("info2")) {
        cprintf::printf(out, b" info %llx %llx", &[C::Int(a), C::Int(b)]);
    }
    Some(false)
}

/// `kvm_entry_handler`.
pub(super) fn entry(r: Rec<'_>, env: &Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    r.print_num(b" vcpu %u", "vcpu_id", true, out);
    let rip = r.val("rip", out)?;
    cprintf::printf(out, b" rip 0x%llx", &[C::Int(rip)]);
    guest_function(env, rip, out);
    Some(false)
}

/// `kvm_emulate_insn_handler`: `csbase:rip function: bytes`, ` FAIL` when it failed.
pub(super) fn emulate_insn(r: Rec<'_>, env: &Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    let rip = r.val("rip", out)?;
    let csbase = r.val("csbase", out)?;
    let len = r.val("len", out)?;
    r.val("flags", out)?;
    let failed = r.val("failed", out)?;
    let Some(f) = r.ev.find("insn") else {
        out.extend_from_slice(b"<CANT FIND FIELD insn>");
        return None;
    };
    // tep_get_field_raw; without udis86 the plugin prints the bytes in hex.
    let off = if f.flags & F_DYNAMIC != 0 {
        let mut o = (r.read(f) & 0xffff) as usize;
        if f.flags & F_RELATIVE != 0 {
            o += (f.offset + f.size) as usize;
        }
        o
    } else {
        f.offset as usize
    };
    let mut hex = Vec::new();
    for i in 0..(len as usize).min(15) {
        cprintf::printf(&mut hex, b"%02x ", &[C::Int(r.data.get(off + i).copied().unwrap_or(0) as u64)]);
    }
    hex.pop();
    cprintf::printf(out, b"%llx:%llx", &[C::Int(csbase), C::Int(rip)]);
    guest_function(env, rip, out);
    out.extend_from_slice(b": ");
    out.extend_from_slice(&hex);
    if failed != 0 {
        out.extend_from_slice(b" FAIL");
    }
    Some(false)
}

/// `print_exit_reason`: VMX or SVM exit names by the event's `isa` field.
fn exit_reason(r: Rec<'_>, field: &str, out: &mut Vec<u8>) -> Option<()> {
    let v = r.val(field, out)?;
    match exit_reason_name(r, v) {
        Some(r) => {
            out.extend_from_slice(b"reason ");
            out.extend_from_slice(r.as_bytes());
        }
        None => cprintf::printf(out, b"reason UNKNOWN (%llu)", &[C::Int(v)]),
    }
    Some(())
}

/// The name `print_exit_reason` gives exit reason `v` of record `r`, by its `isa` field.
pub(super) fn exit_reason_name(r: Rec<'_>, v: u64) -> Option<&'static str> {
    match r.opt("isa").unwrap_or(1) {
        1 => VMX.iter().find(|(_, n)| *n as i32 == v as i32).map(|(s, _)| *s),
        2 => SVM.iter().find(|(_, n)| *n as i32 == v as i32).map(|(s, _)| *s),
        _ => Some("UNKNOWN-ISA"),
    }
}

/// `add_rip_function`: ` function[+0xoffset]` of a guest rip, when the record comes from a
/// vCPU thread of a guest whose trace is also being read.
fn guest_function(env: &Env<'_, '_>, rip: u64, out: &mut Vec<u8>) {
    let Some(f) = env.guest.and_then(|g| g.find(rip)) else { return };
    out.push(b' ');
    out.extend_from_slice(f.name);
    if f.addr != rip {
        cprintf::printf(out, b"+0x%0llx", &[C::Int(rip.wrapping_sub(f.addr))]);
    }
}

/// VMX exit reasons (arch/x86/include/uapi/asm/vmx.h).
const VMX: &[(&str, i64)] = &[
    ("EXCEPTION_NMI", 0),
    ("EXTERNAL_INTERRUPT", 1),
    ("TRIPLE_FAULT", 2),
    ("PENDING_INTERRUPT", 7),
    ("NMI_WINDOW", 8),
    ("TASK_SWITCH", 9),
    ("CPUID", 10),
    ("HLT", 12),
    ("INVD", 13),
    ("INVLPG", 14),
    ("RDPMC", 15),
    ("RDTSC", 16),
    ("VMCALL", 18),
    ("VMCLEAR", 19),
    ("VMLAUNCH", 20),
    ("VMPTRLD", 21),
    ("VMPTRST", 22),
    ("VMREAD", 23),
    ("VMRESUME", 24),
    ("VMWRITE", 25),
    ("VMOFF", 26),
    ("VMON", 27),
    ("CR_ACCESS", 28),
    ("DR_ACCESS", 29),
    ("IO_INSTRUCTION", 30),
    ("MSR_READ", 31),
    ("MSR_WRITE", 32),
    ("MWAIT_INSTRUCTION", 36),
    ("MONITOR_INSTRUCTION", 39),
    ("PAUSE_INSTRUCTION", 40),
    ("MCE_DURING_VMENTRY", 41),
    ("TPR_BELOW_THRESHOLD", 43),
    ("APIC_ACCESS", 44),
    ("EOI_INDUCED", 45),
    ("EPT_VIOLATION", 48),
    ("EPT_MISCONFIG", 49),
    ("INVEPT", 50),
    ("PREEMPTION_TIMER", 52),
    ("WBINVD", 54),
    ("XSETBV", 55),
    ("APIC_WRITE", 56),
    ("INVPCID", 58),
    ("PML_FULL", 62),
    ("XSAVES", 63),
    ("XRSTORS", 64),
];

/// SVM exit codes (arch/x86/include/uapi/asm/svm.h).
const SVM: &[(&str, i64)] = &[
    ("EXIT_READ_CR0", 0x000),
    ("EXIT_READ_CR3", 0x003),
    ("EXIT_READ_CR4", 0x004),
    ("EXIT_READ_CR8", 0x008),
    ("EXIT_WRITE_CR0", 0x010),
    ("EXIT_WRITE_CR3", 0x013),
    ("EXIT_WRITE_CR4", 0x014),
    ("EXIT_WRITE_CR8", 0x018),
    ("EXIT_READ_DR0", 0x020),
    ("EXIT_READ_DR1", 0x021),
    ("EXIT_READ_DR2", 0x022),
    ("EXIT_READ_DR3", 0x023),
    ("EXIT_READ_DR4", 0x024),
    ("EXIT_READ_DR5", 0x025),
    ("EXIT_READ_DR6", 0x026),
    ("EXIT_READ_DR7", 0x027),
    ("EXIT_WRITE_DR0", 0x030),
    ("EXIT_WRITE_DR1", 0x031),
    ("EXIT_WRITE_DR2", 0x032),
    ("EXIT_WRITE_DR3", 0x033),
    ("EXIT_WRITE_DR4", 0x034),
    ("EXIT_WRITE_DR5", 0x035),
    ("EXIT_WRITE_DR6", 0x036),
    ("EXIT_WRITE_DR7", 0x037),
    ("EXIT_EXCP_DE", 0x040),
    ("EXIT_EXCP_DB", 0x041),
    ("EXIT_EXCP_BP", 0x043),
    ("EXIT_EXCP_OF", 0x044),
    ("EXIT_EXCP_BR", 0x045),
    ("EXIT_EXCP_UD", 0x046),
    ("EXIT_EXCP_NM", 0x047),
    ("EXIT_EXCP_DF", 0x048),
    ("EXIT_EXCP_TS", 0x04a),
    ("EXIT_EXCP_NP", 0x04b),
    ("EXIT_EXCP_SS", 0x04c),
    ("EXIT_EXCP_GP", 0x04d),
    ("EXIT_EXCP_PF", 0x04e),
    ("EXIT_EXCP_MF", 0x050),
    ("EXIT_EXCP_AC", 0x051),
    ("EXIT_EXCP_MC", 0x052),
    ("EXIT_EXCP_XF", 0x053),
    ("EXIT_INTR", 0x060),
    ("EXIT_NMI", 0x061),
    ("EXIT_SMI", 0x062),
    ("EXIT_INIT", 0x063),
    ("EXIT_VINTR", 0x064),
    ("EXIT_CR0_SEL_WRITE", 0x065),
    ("EXIT_IDTR_READ", 0x066),
    ("EXIT_GDTR_READ", 0x067),
    ("EXIT_LDTR_READ", 0x068),
    ("EXIT_TR_READ", 0x069),
    ("EXIT_IDTR_WRITE", 0x06a),
    ("EXIT_GDTR_WRITE", 0x06b),
    ("EXIT_LDTR_WRITE", 0x06c),
    ("EXIT_TR_WRITE", 0x06d),
    ("EXIT_RDTSC", 0x06e),
    ("EXIT_RDPMC", 0x06f),
    ("EXIT_PUSHF", 0x070),
    ("EXIT_POPF", 0x071),
    ("EXIT_CPUID", 0x072),
    ("EXIT_RSM", 0x073),
    ("EXIT_IRET", 0x074),
    ("EXIT_SWINT", 0x075),
    ("EXIT_INVD", 0x076),
    ("EXIT_PAUSE", 0x077),
    ("EXIT_HLT", 0x078),
    ("EXIT_INVLPG", 0x079),
    ("EXIT_INVLPGA", 0x07a),
    ("EXIT_IOIO", 0x07b),
    ("EXIT_MSR", 0x07c),
    ("EXIT_TASK_SWITCH", 0x07d),
    ("EXIT_FERR_FREEZE", 0x07e),
    ("EXIT_SHUTDOWN", 0x07f),
    ("EXIT_VMRUN", 0x080),
    ("EXIT_VMMCALL", 0x081),
    ("EXIT_VMLOAD", 0x082),
    ("EXIT_VMSAVE", 0x083),
    ("EXIT_STGI", 0x084),
    ("EXIT_CLGI", 0x085),
    ("EXIT_SKINIT", 0x086),
    ("EXIT_RDTSCP", 0x087),
    ("EXIT_ICEBP", 0x088),
    ("EXIT_WBINVD", 0x089),
    ("EXIT_MONITOR", 0x08a),
    ("EXIT_MWAIT", 0x08b),
    ("EXIT_MWAIT_COND", 0x08c),
    ("EXIT_XSETBV", 0x08d),
    ("EXIT_NPF", 0x400),
    ("EXIT_AVIC_INCOMPLETE_IPI", 0x401),
    ("EXIT_AVIC_UNACCELERATED_ACCESS", 0x402),
    ("EXIT_ERR", -1),
];
