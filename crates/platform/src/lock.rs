//! Exclusive locks on files, shared by mcpgw processes that run at once (clients start
//! several): around updates of the encrypted secret file and around each server's login and
//! refresh.
//!
//! std's `File::lock` is `flock` on Unix and `LockFileEx` on Windows. Both are released
//! when the process dies, so a crashed mcpgw never leaves a lock behind. On Windows the lock
//! is mandatory, so a lock file is never the file that holds the data: readers of the data
//! file are never blocked.

use std::fs::File;
use std::path::Path;

/// An exclusive lock on a file, held until it is dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Waits until this process holds the lock on `path`, creating it and its folder when
    /// missing. Blocking: async code calls it from the blocking pool.
    pub fn acquire(path: &Path) -> std::io::Result<FileLock> {
        let file = open(path)?;
        file.lock()?;
        Ok(FileLock { _file: file })
    }
}

/// The lock file, made with its folder when missing. Its contents are never read.
fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether another holder could take the lock now.
    fn free(path: &Path) -> bool {
        match open(path).unwrap().try_lock() {
            Ok(()) => true,
            Err(std::fs::TryLockError::WouldBlock) => false,
            Err(std::fs::TryLockError::Error(e)) => panic!("{e}"),
        }
    }

    #[test]
    fn a_held_lock_excludes_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.lock");
        let held = FileLock::acquire(&path).unwrap();
        assert!(!free(&path));
        drop(held);
        assert!(free(&path));
    }
}
