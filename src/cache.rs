//! The analysis cache on disk: what `check` learned about each file, kept between runs so that a
//! run over an unchanged tree only replays the project-wide step.
//!
//! The analyzer decides what is still valid (see `connlint_analyzer::memo`); this module only
//! finds, reads and writes the bytes. A cache that cannot be read is an empty one (the run is a
//! cold run); one that cannot be written costs the next run its speed, so it is a warning, never
//! an error.
//!
//! Layout: `<cache dir>/<version>/memo-<build>.bin`, one file for every run from this cache
//! folder whatever paths it checks (the memo is keyed by file content). `<build>` hashes the
//! executable's size and modification time, so that a rebuilt connlint never trusts a cache
//! written by another build of the same version; writing removes other builds' files. Runs in
//! parallel (pre-commit splits its files between processes) each write a whole memo and the
//! last rename wins: what the others learned is lost, which costs time, never correctness.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use connlint_analyzer::Memo;

/// The folder name used when neither `--cache-dir` nor `cache-dir` names one.
pub(crate) const DEFAULT_DIR: &str = ".connlint_cache";

pub(crate) struct Cache {
    file: PathBuf,
    root: PathBuf,
    pub memo: Memo,
}

impl Cache {
    /// Opens the cache kept in `root`.
    pub fn open(root: &Path) -> Cache {
        let mut h = DefaultHasher::new();
        build_identity().hash(&mut h);
        let file = root
            .join(env!("CARGO_PKG_VERSION"))
            .join(format!("memo-{:016x}.bin", h.finish()));
        let memo = std::fs::read(&file)
            .ok()
            .and_then(|bytes| Memo::from_bytes(&bytes).ok())
            .unwrap_or_default();
        Cache {
            file,
            root: root.to_path_buf(),
            memo,
        }
    }

    /// Writes the cache back when the run changed it.
    pub fn save(&self) -> Result<(), String> {
        let stats = self.memo.stats();
        if stats.analysed == 0 && stats.forgotten == 0 {
            return Ok(());
        }
        self.write()
            .map_err(|e| format!("cannot write the cache {}: {e}", self.file.display()))
    }

    fn write(&self) -> std::io::Result<()> {
        let bytes = self
            .memo
            .to_bytes()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        if !self.root.exists() {
            std::fs::create_dir_all(&self.root)?;
            // Keeps the cache out of version control and out of backups.
            std::fs::write(
                self.root.join(".gitignore"),
                "# Created by connlint; safe to delete.\n*\n",
            )?;
            std::fs::write(
                self.root.join("CACHEDIR.TAG"),
                "Signature: 8a477f597d28d172789f06886806bc55\n\
                 # This file is a cache directory tag created by connlint.\n",
            )?;
        }
        let dir = self.file.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        // Written aside and renamed, so that a concurrent run never reads half a file.
        let tmp = self
            .file
            .with_extension(format!("tmp.{}", std::process::id()));
        let mut out = std::fs::File::create(&tmp)?;
        out.write_all(&bytes)?;
        out.sync_all().ok();
        drop(out);
        std::fs::rename(&tmp, &self.file).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        // Other builds' memos can never be read by this one.
        for entry in std::fs::read_dir(dir)?.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path != self.file && name.starts_with("memo-") && name.ends_with(".bin") {
                let _ = std::fs::remove_file(path);
            }
        }
        Ok(())
    }
}

/// The running executable's size and modification time: a cache written by a different build
/// is never read.
fn build_identity() -> Option<(u64, std::time::SystemTime)> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_corrupt_cache_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("cache");
        let cache = Cache::open(&root);
        assert!(cache.memo.is_empty());
        std::fs::create_dir_all(cache.file.parent().unwrap()).unwrap();
        std::fs::write(&cache.file, b"not a cache").unwrap();
        let again = Cache::open(&root);
        assert!(again.memo.is_empty());
    }

    #[test]
    fn writing_replaces_other_builds_memos() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path());
        let folder = cache.file.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("memo-0000000000000000.bin"), b"old build").unwrap();
        std::fs::write(folder.join("notes.txt"), b"not ours").unwrap();
        cache.write().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let ours = cache
            .file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(names, [ours, "notes.txt".to_string()]);
    }
}
