//! What the benchmark asks of the operating system: enough file descriptors for tens of thousands
//! of sockets, CPU pinning so the server under test and the load generator do not share a core,
//! and a process's resident memory.
#![allow(unsafe_code)]

use std::net::TcpListener;

/// Raise `RLIMIT_NOFILE` so `wanted` descriptors fit. The soft limit goes up to the hard limit;
/// the hard limit itself is raised when the process may (root), since children started
/// afterwards (the servers under test) inherit both. Returns the soft limit now in force.
pub fn raise_nofile(wanted: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    if lim.rlim_max < wanted {
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: wanted,
        };
        // SAFETY: setrlimit reads the struct; failure (not privileged) leaves limits unchanged.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return wanted;
        }
    }
    let soft = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above; raising soft up to hard is always allowed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) } == 0 {
        lim.rlim_max
    } else {
        lim.rlim_cur
    }
}

/// Pin the calling thread to one CPU (threads it starts inherit the mask). No-op when the CPU
/// does not exist.
pub fn pin_current_thread(cpu: usize) {
    if cpu >= cpu_count() {
        return;
    }
    // SAFETY: cpu_set_t is plain data; CPU_SET writes a bit within it; sched_setaffinity(0)
    // targets the calling thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// CPUs online, whatever the calling thread's affinity: the load generator pins itself to CPU 0
/// before it starts the servers, and `available_parallelism` would then answer 1 and leave every
/// server on the load generator's CPU.
pub fn cpu_count() -> usize {
    // SAFETY: sysconf reads a system constant; no memory is passed.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(online).unwrap_or(1).max(1)
}

/// Resident set size of `pid` in bytes (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The CPUs `pid` may run on, as `Cpus_allowed_list` in `/proc/<pid>/status` gives them (`1`,
/// `0-1`).
pub fn allowed_cpus(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?;
    Some(line.trim().to_owned())
}

/// CPU time (user + system) consumed so far by `pid`, in clock ticks converted to seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some((utime + stime) / ticks.max(1) as f64)
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
