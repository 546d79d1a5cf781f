//! The events explain follows and their fields, looked up by name in a file's event table once
//! and read from each record's bytes.

use crate::tep::event::Tep;
use crate::tep::print_fmt::{F_ARRAY, F_DYNAMIC, F_RELATIVE};

/// An event explain reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SchedSwitch,
    SchedWaking,
    SchedWakeup,
    KvmExit,
    KvmEntry,
    IrqEntry,
    IrqExit,
    SoftirqEntry,
    SoftirqExit,
    InjVirq,
    ApicAcceptIrq,
}

/// The kind of every event of one event table, by event index.
pub struct Kinds(Vec<Option<Kind>>);

impl Kinds {
    pub fn new(tep: &Tep) -> Kinds {
        Kinds(
            tep.events
                .iter()
                .map(|e| match (e.system.as_str(), e.name.as_str()) {
                    ("sched", "sched_switch") => Some(Kind::SchedSwitch),
                    ("sched", "sched_waking") => Some(Kind::SchedWaking),
                    ("sched", "sched_wakeup") => Some(Kind::SchedWakeup),
                    ("kvm", "kvm_exit") => Some(Kind::KvmExit),
                    ("kvm", "kvm_entry") => Some(Kind::KvmEntry),
                    ("irq", "irq_handler_entry") => Some(Kind::IrqEntry),
                    ("irq", "irq_handler_exit") => Some(Kind::IrqExit),
                    ("irq", "softirq_entry") => Some(Kind::SoftirqEntry),
                    ("irq", "softirq_exit") => Some(Kind::SoftirqExit),
                    ("kvm", "kvm_inj_virq") => Some(Kind::InjVirq),
                    ("kvm", "kvm_apic_accept_irq") => Some(Kind::ApicAcceptIrq),
                    _ => None,
                })
                .collect(),
        )
    }

    pub fn of(&self, ev: Option<usize>) -> Option<Kind> {
        ev.and_then(|e| self.0.get(e).copied().flatten())
    }
}

/// One record's fields by name (common ones included), as its event declares them.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    pub tep: &'a Tep,
    pub ev: usize,
    pub data: &'a [u8],
}

impl<'a> Fields<'a> {
    fn field(&self, name: &str) -> Option<&'a crate::tep::print_fmt::Field> {
        self.tep.events.get(self.ev)?.fields.iter().find(|f| f.name == name)
    }

    /// A number field of 1, 2, 4 or 8 bytes; None when the event lacks it or the record is short.
    pub fn num(&self, name: &str) -> Option<u64> {
        let f = self.field(name).filter(|f| f.flags & (F_ARRAY | F_DYNAMIC) == 0 && matches!(f.size, 1 | 2 | 4 | 8))?;
        self.tep.endian.uint_at(self.data, f.offset as usize, f.size as usize)
    }

    /// A string field (a char array or a `__data_loc` string) up to its NUL.
    pub fn text(&self, name: &str) -> Option<&'a [u8]> {
        let f = self.field(name)?;
        let bytes = if f.flags & F_DYNAMIC != 0 {
            let loc = self.tep.endian.uint_at(self.data, f.offset as usize, f.size.min(4) as usize)?;
            let mut at = (loc & 0xffff) as usize;
            if f.flags & F_RELATIVE != 0 {
                at = at.checked_add((f.offset + f.size) as usize)?;
            }
            self.data.get(at..at.checked_add((loc >> 16) as usize)?)?
        } else if f.flags & F_ARRAY != 0 {
            self.data.get(f.offset as usize..(f.offset as usize).checked_add(f.size as usize)?)?
        } else {
            return None;
        };
        Some(&bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())])
    }

    /// A field's value as bytes to compare two records by (`--match`): a number's value, a
    /// string's text.
    pub fn key(&self, name: &str) -> Option<Vec<u8>> {
        match self.num(name) {
            Some(n) => Some(n.to_le_bytes().to_vec()),
            None => self.text(name).map(<[u8]>::to_vec),
        }
    }

    pub fn pid(&self) -> i32 {
        self.tep.pid_of(self.data)
    }
}
