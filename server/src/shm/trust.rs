//! Which ring files a publisher writes to. Anyone on the host can create a file in `/dev/shm`,
//! so a file at the ring's path proves nothing: a publisher only attaches to a ring that one of
//! the parties it already trusts could have made (see `docs/adr/0004-ring-trust.md`):
//!
//! - owned by this process's effective user, or by root;
//! - or owned by another user but in a group this process is a member of: only members of a
//!   group (or root) can give a file that group, so this is the shared-group set-up
//!   (`shm.mode = "0660"`, server and web workers in one group), and nobody else can produce it;
//! - and never readable or writable by every user (then anyone could read or inject events).

/// Who this process is, as the kernel checks file access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    /// Effective user id.
    pub uid: u32,
    /// Effective group id and supplementary groups.
    pub groups: Vec<u32>,
}

impl Identity {
    /// This process's effective user and groups.
    pub(super) fn current() -> Self {
        #[allow(unsafe_code)]
        // SAFETY: geteuid/getegid cannot fail; getgroups writes at most `len` entries into a
        // buffer of that length, and a size query with 0 writes nothing.
        let (uid, mut groups) = unsafe {
            let uid = libc::geteuid();
            let mut groups = vec![libc::getegid()];
            let n = libc::getgroups(0, std::ptr::null_mut());
            if let Ok(len) = usize::try_from(n)
                && len > 0
            {
                let mut extra: Vec<libc::gid_t> = vec![0; len];
                let got = libc::getgroups(n, extra.as_mut_ptr());
                extra.truncate(usize::try_from(got).unwrap_or(0));
                groups.extend(extra);
            }
            (uid, groups)
        };
        groups.sort_unstable();
        groups.dedup();
        Identity { uid, groups }
    }
}

/// What a ring file's inode says about who made it and who can use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Owner {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits.
    pub mode: u32,
}

/// Why a ring file is not trusted: the end of "refusing ring NAME: ...".
pub(super) fn refusal(owner: Owner, me: &Identity) -> Option<String> {
    let mode = owner.mode & 0o7777;
    if mode & 0o006 != 0 {
        return Some(format!(
            "its mode {mode:04o} lets every local user read or write it \
             (use shm.mode \"0600\", or \"0660\" with a shared group)"
        ));
    }
    if owner.uid == me.uid || owner.uid == 0 || me.groups.contains(&owner.gid) {
        return None;
    }
    Some(format!(
        "it belongs to uid {} and group {}, neither this user (uid {}), root, nor a group this \
         process is in; another user may be running a server on this ring name",
        owner.uid, owner.gid, me.uid
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 7001;
    const SHARED: u32 = 7010;

    fn me() -> Identity {
        Identity {
            uid: ME,
            groups: vec![ME, SHARED],
        }
    }

    fn owner(uid: u32, gid: u32, mode: u32) -> Owner {
        Owner { uid, gid, mode }
    }

    #[test]
    fn own_root_and_shared_group_rings_are_trusted() {
        assert_eq!(refusal(owner(ME, ME, 0o600), &me()), None);
        assert_eq!(refusal(owner(0, 0, 0o600), &me()), None);
        assert_eq!(refusal(owner(7003, SHARED, 0o660), &me()), None);
    }

    #[test]
    fn strangers_and_world_access_are_refused() {
        let stranger = refusal(owner(7002, 7002, 0o600), &me()).unwrap_or_default();
        assert!(stranger.contains("uid 7002"), "{stranger}");
        for mode in [0o666, 0o604, 0o602, 0o100_666] {
            let open = refusal(owner(ME, ME, mode), &me()).unwrap_or_default();
            assert!(open.contains("every local user"), "{mode:o}: {open}");
        }
    }
}
