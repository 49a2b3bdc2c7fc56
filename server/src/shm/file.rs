//! Ring files in `/dev/shm`, a directory every local user can write to (sticky, so nobody can
//! remove or replace another user's file). The server creates its ring under an unpredictable
//! temporary name, exclusively and without following links, then renames it into place; a
//! publisher opens the ring without following links and attaches only when [`trust`] accepts
//! the file's owner and mode.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::trust::{self, Identity, Owner};
use super::{DIR, RingError};

/// Permission bits the server refuses for its ring: any access for "others".
const WORLD: u32 = 0o007;

/// Create the ring file `path` with `len` bytes and mode `mode`, fully initialised by `init`
/// before it appears under its name. Returns the file and its inode number.
///
/// # Errors
/// A mode that gives every user access, a name held by another user's file, or an I/O error.
pub(super) fn create(
    name: &str,
    path: &Path,
    len: u64,
    mode: u32,
    init: impl FnOnce(&File) -> std::io::Result<()>,
) -> Result<(File, u64), RingError> {
    if mode & WORLD != 0 || mode & !0o777 != 0 {
        return Err(RingError::InsecureMode(mode));
    }
    let io = |source| RingError::Io {
        name: name.to_owned(),
        source,
    };
    // An unpredictable temporary name: nobody can plant a file or link there ahead of us.
    let tmp = PathBuf::from(DIR).join(format!(".{name}.{:016x}.tmp", random_u64()));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(io)?;
    let made = (|| {
        // The umask may have cleared bits the operator asked for (a shared group's `rw`).
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.set_len(len)?;
        init(&file)?;
        file.metadata()
    })();
    let renamed = made.and_then(|meta| std::fs::rename(&tmp, path).map(|()| meta));
    match renamed {
        Ok(meta) => Ok((file, meta.ino())),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            match std::fs::symlink_metadata(path) {
                // In the sticky directory only the owner may replace a file.
                Ok(held) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    Err(RingError::Taken {
                        name: name.to_owned(),
                        uid: held.uid(),
                    })
                }
                _ => Err(io(e)),
            }
        }
    }
}

/// Open the ring file `path` for publishing, if it is a regular file that [`trust`] accepts.
///
/// # Errors
/// No such file, a link or other non-regular file, an untrusted owner or mode, or an I/O error.
pub(super) fn open_trusted(
    name: &str,
    path: &Path,
) -> Result<(File, std::fs::Metadata), RingError> {
    let untrusted = |reason: String| RingError::Untrusted {
        name: name.to_owned(),
        reason,
    };
    // O_NONBLOCK: a FIFO planted at the path must not block the publisher.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path);
    let file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RingError::NotFound(name.to_owned()));
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(untrusted("it is a symbolic link".to_owned()));
        }
        Err(source) => {
            return Err(RingError::Io {
                name: name.to_owned(),
                source,
            });
        }
    };
    let meta = file.metadata().map_err(|source| RingError::Io {
        name: name.to_owned(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(untrusted("it is not a regular file".to_owned()));
    }
    let owner = Owner {
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode(),
    };
    match trust::refusal(owner, &Identity::current()) {
        Some(reason) => Err(untrusted(reason)),
        None => Ok((file, meta)),
    }
}

/// 64 random bits from the kernel; the clock and pid if it has none to give.
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    #[allow(unsafe_code)]
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if usize::try_from(got).ok() == Some(bytes.len()) {
        return u64::from_le_bytes(bytes);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ (u64::from(std::process::id()) << 32)
}
