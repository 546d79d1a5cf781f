//! Which guest is which: a host names each guest it ran in a GUEST option (the guest's name,
//! its trace id and the host pid of each vCPU thread), and a guest file carries that trace id
//! in its TRACEID option. This is how trace-cmd links a host with its guests, and how the kvm
//! plugin finds the guest whose kallsyms name the rip of a host `kvm_exit`.

use crate::format::file::Trace;
use crate::format::options::{self, Guest};

/// The file's TRACEID option (the last one), if any.
pub fn trace_id(trace: &Trace, data: &[u8]) -> Option<u64> {
    trace.option_payload(data, options::TRACEID).and_then(|(_, p)| p.get(..8)).and_then(|b| trace.endian.uint(b))
}

/// The host's GUEST options that parse, in file order.
pub fn guest_options(host: &Trace, data: &[u8]) -> Vec<Guest> {
    host.options.iter().filter(|o| o.id == options::GUEST).filter_map(|o| Guest::parse(host.bytes(data, &o.payload), host.endian, o.offset).ok()).collect()
}

/// The GUEST option a host holds for a guest trace id (the last one for an id wins, as in
/// trace-cmd), with its host pids indexed by vCPU number. As trace-cmd's `trace_guest_load`
/// reads it, a vCPU number out of range voids the option and a vCPU left out has pid 0.
pub fn vcpu_pids(guests: &[Guest], trace_id: u64) -> Option<(&Guest, Vec<i32>)> {
    let g = guests.iter().rev().find(|g| g.trace_id == trace_id)?;
    let mut pids = vec![0i32; g.vcpus.len()];
    for &(cpu, pid) in &g.vcpus {
        *pids.get_mut(cpu as usize)? = pid;
    }
    Some((g, pids))
}

/// trace-cmd's `map_vcpus`: the host pid of every vCPU thread, with the guest it runs.
#[derive(Clone, Debug, Default)]
pub struct VcpuThreads {
    /// (host pid, guest), sorted by pid.
    by_pid: Vec<(i32, usize)>,
}

impl VcpuThreads {
    /// The vCPU threads of `guests` (index, trace, bytes), looked up in the host's GUEST
    /// options by each guest's TRACEID.
    pub fn new<'a>(host: (&Trace, &[u8]), guests: impl IntoIterator<Item = (usize, &'a Trace, &'a [u8])>) -> VcpuThreads {
        let options = guest_options(host.0, host.1);
        let mut by_pid = Vec::new();
        for (gi, trace, data) in guests {
            let Some((_, pids)) = vcpu_pids(&options, trace_id(trace, data).unwrap_or(0)) else { continue };
            by_pid.extend(pids.into_iter().map(|pid| (pid, gi)));
        }
        by_pid.sort_by_key(|&(pid, _)| pid);
        VcpuThreads { by_pid }
    }

    /// The guest whose vCPU thread `pid` is.
    pub fn guest_of(&self, pid: i32) -> Option<usize> {
        let i = self.by_pid.partition_point(|&(p, _)| p < pid);
        self.by_pid.get(i).filter(|&&(p, _)| p == pid).map(|&(_, g)| g)
    }
}
