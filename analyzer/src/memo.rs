//! Remembered analyses, so that a file whose text did not change is not parsed again.
//!
//! Each analysis of a file is a pure function of its text, its path, the user's declared
//! functions, the names other files demand of it, and the answers to the lookups it made into
//! other files' summaries, which [`Linking::seen`] records. A remembered analysis is therefore
//! valid for a new run when the first four are equal (they make up the key) and every recorded
//! lookup still gets the same answer, or one that cannot change the analysis (see
//! `Externals::answer_changed`: a callee that now keeps or releases arguments the file never
//! hands it a connection in): a *verifying trace*. The project step asks the memo before
//! it analyses a file in any round, so a run over an unchanged tree replays every round from
//! memory and agrees with a cold run by construction, and a run after an edit re-analyses only
//! the files whose inputs really changed.
//!
//! The memo is plain data; reading and writing it to disk is the caller's business (the CLI
//! keeps it in a cache folder, the language server in memory). It is keyed by content, so one
//! memo serves any set of files (the whole tree in CI, a few staged files in a pre-commit hook)
//! and an analysis is dropped only after many runs that did not need it.

use rustc_hash::FxHashMap;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use crate::project::{Analysed, Declarations, Externals};

/// Bumped whenever the meaning of remembered data changes without a version change.
const FORMAT: u32 = 6;

/// What identifies the inputs of one file's analysis, apart from other files' summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileKey(u128);

impl FileKey {
    pub(crate) fn new(path: &str, text: &str, declared: &Declarations) -> Self {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut field = |bytes: &[u8]| {
            h.write(&(bytes.len() as u64).to_le_bytes());
            h.write(bytes);
        };
        field(&FORMAT.to_le_bytes());
        field(env!("CARGO_PKG_VERSION").as_bytes());
        field(path.as_bytes());
        field(text.as_bytes());
        for list in [&declared.acquire, &declared.release, &declared.slow_await] {
            field(&(list.len() as u64).to_le_bytes());
            for name in list {
                field(name.as_bytes());
            }
        }
        FileKey(h.digest128())
    }
}

/// How many runs (that wrote the memo) a remembered analysis outlives its last use.
const KEEP_FOR_RUNS: u64 = 32;
/// At most this many analyses of one file text (different demands or lookup answers).
const RUNS_PER_FILE: usize = 8;

/// One remembered analysis of a file.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Run {
    /// The analysis and its linking (shared with the run that made or used it).
    result: Analysed,
    /// The generation of the memo that last used it.
    used: u64,
}

/// Analyses of files from earlier runs, by the key of their inputs. One memo serves every set
/// of files checked with it (a whole tree, a few staged files): an analysis is forgotten only
/// after [`KEEP_FOR_RUNS`] runs that did not use it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Memo {
    format: u32,
    /// Counts the runs that changed the memo.
    generation: u64,
    runs: FxHashMap<FileKey, Vec<Run>>,
    #[serde(skip)]
    stats: MemoStats,
}

/// How a run used the memo.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// File analyses replayed from memory.
    pub reused: usize,
    /// File analyses done afresh (each parses the file).
    pub analysed: usize,
    /// Remembered analyses dropped at the end of the run, unused for too long.
    pub forgotten: usize,
}

/// Why remembered bytes could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("unreadable analysis cache: {0}")]
pub struct MemoError(String);

impl Default for Memo {
    fn default() -> Self {
        Memo {
            format: FORMAT,
            generation: 0,
            runs: FxHashMap::default(),
            stats: MemoStats::default(),
        }
    }
}

impl Memo {
    pub fn new() -> Self {
        Memo::default()
    }

    /// The memo as bytes (postcard).
    pub fn to_bytes(&self) -> Result<Vec<u8>, MemoError> {
        postcard::to_allocvec(self).map_err(|e| MemoError(e.to_string()))
    }

    /// A memo written by [`Memo::to_bytes`] of this same version of connlint.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MemoError> {
        let memo: Memo = postcard::from_bytes(bytes).map_err(|e| MemoError(e.to_string()))?;
        if memo.format != FORMAT {
            return Err(MemoError(format!("format {}", memo.format)));
        }
        Ok(memo)
    }

    /// The counts of the last run; a memo whose last run analysed and forgot nothing need not
    /// be written back.
    pub fn stats(&self) -> MemoStats {
        self.stats
    }

    /// Number of file texts remembered.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Starts a run.
    pub(crate) fn begin(&mut self) {
        self.stats = MemoStats::default();
        self.generation += 1;
    }

    /// Ends a run: forgets what has not been used for a while.
    pub(crate) fn end(&mut self) {
        let oldest = self.generation.saturating_sub(KEEP_FOR_RUNS);
        let before: usize = self.runs.values().map(Vec::len).sum();
        self.runs.retain(|_, runs| {
            runs.retain(|run| run.used >= oldest);
            if runs.len() > RUNS_PER_FILE {
                runs.sort_by_key(|run| std::cmp::Reverse(run.used));
                runs.truncate(RUNS_PER_FILE);
            }
            !runs.is_empty()
        });
        let after: usize = self.runs.values().map(Vec::len).sum();
        self.stats.forgotten = before - after;
    }

    /// A remembered analysis of the file with this key that asked for nothing `ext` now
    /// answers differently in a way that matters to it, with the same demanded names.
    pub(crate) fn recall(
        &mut self,
        key: FileKey,
        ext: &Externals,
        demanded: &[String],
        module: &str,
    ) -> Option<Analysed> {
        let generation = self.generation;
        let found = self.runs.get_mut(&key)?.iter_mut().find(|run| {
            run.result.1.demanded == demanded
                && (0..run.result.1.seen.len())
                    .all(|at| !ext.answer_changed(&run.result.1, at, module))
        })?;
        found.used = generation;
        self.stats.reused += 1;
        Some(found.result.clone())
    }

    /// Remembers an analysis just done.
    pub(crate) fn remember(&mut self, key: FileKey, result: Analysed) {
        self.stats.analysed += 1;
        let runs = self.runs.entry(key).or_default();
        let link = &result.1;
        runs.retain(|run| run.result.1.demanded != link.demanded || run.result.1.seen != link.seen);
        runs.push(Run {
            result,
            used: self.generation,
        });
    }
}
