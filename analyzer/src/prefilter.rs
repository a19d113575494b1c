//! The text prefilter: which files of a project are worth parsing.
//!
//! Most files of a large project never touch a connection. A file is parsed when one of its
//! words could start an analysis ([`Seeds::may_matter`]), or when the files already analysed
//! need it ([`needed`]); the project step repeats until nothing more is needed. The seeds
//! over-approximate what makes the Python front end lower a function or record a pool, so a
//! file left out would have produced no findings and no summary anyone reads.

use rustc_hash::FxHashSet;

use aho_corasick::{AhoCorasick, MatchKind};
use rayon::prelude::*;

use crate::project::{Declarations, SourceFile};
use crate::python::{words, CONN_PARTS, CONN_WORDS};
use crate::tables;

/// Words that can make a file matter on its own, found in one multi-pattern pass.
pub(crate) struct Seeds {
    /// Every seed, ASCII case-insensitive (connection-like names are matched so); `None` only
    /// if it could not be built, and then every file matters.
    automaton: Option<AhoCorasick>,
    /// What each pattern of the automaton is, by pattern index.
    kinds: Vec<(Kind, String)>,
}

/// How a pattern found in the text makes the file matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// As a whole word, wherever it is: library roots, pool constructors and types, finalizer
    /// names, declared functions.
    Word,
    /// As a whole word that is called (`getconn(`): acquiring and connecting APIs, releases.
    Call,
    /// Inside a word that is an attribute of `self`, any case (`self._db_conn`).
    ConnPart,
    /// As the whole word, after leading underscores and in any case, attribute of `self`.
    ConnWord,
}

/// A byte of an identifier-like word (non-ASCII counts), through a table rather than three
/// comparisons: every byte of every analysed file is asked.
pub(crate) fn is_word_byte(b: u8) -> bool {
    const WORD: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            table[b] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
            b += 1;
        }
        table
    };
    WORD[b as usize]
}

/// Whether `bytes[start..end]` is a whole word: no word byte touches it on either side.
fn whole_word(bytes: &[u8], start: usize, end: usize) -> bool {
    let starts = start == 0 || bytes.get(start - 1).is_none_or(|b| !is_word_byte(*b));
    starts && bytes.get(end).is_none_or(|b| !is_word_byte(*b))
}

/// Release names: a class whose methods call one on an attribute of `self` can be a wrapper,
/// and a `__del__` that does is CL003 material. They matter only as calls (`.close(`), as the
/// front end reads them (a release passed as a callback is read inside a function that is
/// lowered for another reason).
const RELEASE_CALLS: &[&str] = &[
    "close",
    "aclose",
    "putconn",
    "release",
    "terminate",
    "finalize",
];

/// Finalizer and exit methods, which matter wherever they are.
const FINALIZERS: &[&str] = &["__del__", "__exit__", "__aexit__"];

impl Seeds {
    pub fn new(declared: &Declarations) -> Self {
        let mut words: FxHashSet<&'static str> = FxHashSet::default();
        let mut calls: FxHashSet<&'static str> = FxHashSet::default();
        words.extend(FINALIZERS);
        calls.extend(RELEASE_CALLS);
        // The module root (`psycopg2`) and the last name (`ThreadedConnectionPool`).
        let root = |path: &'static str| path.split('.').next().unwrap_or(path);
        let last = |path: &'static str| path.rsplit('.').next().unwrap_or(path);
        for library in tables::LIBRARIES {
            for pool in library.pools {
                for path in pool.constructors.iter().chain(pool.types) {
                    words.insert(root(path));
                    words.insert(last(path));
                }
                for acquire in pool.acquire {
                    // A method name (`getconn`) is only a call; a function path also names
                    // its module (`psycopg2` of `psycopg2.connect`).
                    if acquire.name.contains('.') {
                        words.insert(root(acquire.name));
                    }
                    calls.insert(last(acquire.name));
                }
            }
            for connect in library.connects {
                if connect.name.contains('.') {
                    words.insert(root(connect.name));
                }
                calls.insert(last(connect.name));
            }
        }
        for sizing in tables::POOL_SIZINGS {
            for path in sizing.constructors {
                words.insert(root(path));
                words.insert(last(path));
            }
        }
        calls.extend(tables::ACQUIRING_NAMES);
        calls.retain(|w| !words.contains(w));
        let declared = declared
            .acquire
            .iter()
            .chain(&declared.release)
            .filter_map(|d| d.trim().trim_start_matches('.').rsplit('.').next())
            .filter(|w| !w.is_empty() && w.bytes().all(is_word_byte));
        let mut kinds: Vec<(Kind, String)> = Vec::new();
        kinds.extend(words.iter().map(|w| (Kind::Word, w.to_string())));
        kinds.extend(declared.map(|w| (Kind::Word, w.to_string())));
        kinds.extend(calls.iter().map(|w| (Kind::Call, w.to_string())));
        kinds.extend(CONN_PARTS.iter().map(|w| (Kind::ConnPart, w.to_string())));
        kinds.extend(CONN_WORDS.iter().map(|w| (Kind::ConnWord, w.to_string())));
        Seeds::from_kinds(kinds)
    }

    /// One automaton for all the patterns, ASCII case-insensitive (the connection-like names
    /// are matched in any case; the others are compared exactly where found).
    fn from_kinds(kinds: Vec<(Kind, String)>) -> Self {
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(kinds.iter().map(|(_, p)| p))
            .ok();
        Seeds { automaton, kinds }
    }

    /// The seeds of Rust files: the pool crates and their pool types, as the Rust front end
    /// recognises pools (`sqlx::PgPool`, `deadpool_postgres::Pool`, `PgPoolOptions::new`): the
    /// crate and the type of each pool type's path, and of each builder's path (not its method,
    /// `new` or `builder`, nor the modules between, `any` or `pool`: a path that names them
    /// also names its crate, in the code or in a `use`).
    pub fn rust() -> Self {
        let mut words: FxHashSet<&'static str> = FxHashSet::default();
        for pool in crate::rust::tables::POOLS {
            for path in pool.types {
                let segments: Vec<&'static str> = path.split("::").collect();
                words.extend(segments.first());
                words.extend(segments.last());
            }
            for path in pool.builders {
                let segments: Vec<&'static str> = path.split("::").collect();
                let head = &segments[..segments.len().saturating_sub(1)];
                words.extend(head.first());
                words.extend(head.last());
            }
        }
        Seeds::from_kinds(words.iter().map(|w| (Kind::Word, w.to_string())).collect())
    }

    /// Whether the text has a word that can start an analysis. Each test is the front end's
    /// own, read off the text: an acquiring name makes a function worth lowering only where it
    /// is called (`engine.begin(`), and a connection-like name makes a class a possible owner
    /// only as an attribute of `self` (`self.conn = ...`); `begin` in prose or `connected` in
    /// a graph library start nothing.
    pub fn may_matter(&self, text: &str) -> bool {
        let Some(automaton) = &self.automaton else {
            return true;
        };
        let bytes = text.as_bytes();
        let word_start = |mut at: usize| {
            while at > 0 && is_word_byte(bytes[at - 1]) {
                at -= 1;
            }
            at
        };
        let word_end = |mut at: usize| {
            while at < bytes.len() && is_word_byte(bytes[at]) {
                at += 1;
            }
            at
        };
        automaton.find_overlapping_iter(text).any(|m| {
            let (start, end) = (m.start(), m.end());
            let Some((kind, pattern)) = self.kinds.get(m.pattern().as_usize()) else {
                return true;
            };
            match kind {
                Kind::Word | Kind::Call => {
                    bytes.get(start..end) == Some(pattern.as_bytes())
                        && whole_word(bytes, start, end)
                        && (*kind == Kind::Word || called_at(text, end))
                }
                Kind::ConnPart => after_self(text, word_start(start)),
                Kind::ConnWord => {
                    let (from, to) = (word_start(start), word_end(end));
                    bytes.get(from..to).is_some_and(|w| {
                        let mut w = w;
                        while let [b'_', rest @ ..] = w {
                            w = rest;
                        }
                        w.eq_ignore_ascii_case(pattern.as_bytes())
                    }) && after_self(text, from)
                }
            }
        })
    }
}

/// Whether the text continues with a call's `(` at `end` (after a word), as the front end
/// decides which calls matter.
fn called_at(text: &str, end: usize) -> bool {
    text.get(end..)
        .is_some_and(|rest| rest.trim_start().starts_with('('))
}

/// Whether the word at `at` is an attribute of `self` (`self.conn`, `self . _session`).
fn after_self(text: &str, at: usize) -> bool {
    let Some(head) = text.get(..at) else {
        return false;
    };
    let Some(head) = head.trim_end().strip_suffix('.') else {
        return false;
    };
    let Some(before) = head.trim_end().strip_suffix("self") else {
        return false;
    };
    !before.bytes().next_back().is_some_and(is_word_byte)
}

/// Files not chosen yet that the analysed ones need. A file matters only if it has a seed, or
/// its analysis is pulled in by others: a file holding connections demands the names it imports
/// (so their files are needed), and a file mentioning a name whose summary says something
/// lowers the functions that mention it. Lookups of
/// other names need nothing more: a file without a seed that nobody pulls in exports nothing.
/// (Whether a method name is unique is decided from every file's text, [`method_defs`].)
pub(crate) fn needed(
    files: &[SourceFile],
    by_module: &crate::project::ModuleIndex,
    results: &[crate::project::Analysed],
    chosen: &[bool],
) -> Vec<usize> {
    let mut wanted: FxHashSet<usize> = FxHashSet::default();
    let mut names: FxHashSet<&str> = FxHashSet::default();
    for (i, result) in results.iter().enumerate() {
        let (analysis, link) = &**result;
        if !chosen[i] {
            continue;
        }
        if analysis
            .functions
            .iter()
            .any(|f| !f.acquisitions.is_empty())
        {
            // `app.db.get_db` can be `get_db` in module `app.db`, or `db.get_db` in module
            // `app`, ...: every leading part of the path, as a module suffix.
            for (_, path) in &link.imports {
                let parts: Vec<&str> = path.split('.').collect();
                for end in 1..=parts.len() {
                    if let Some(files) = by_module.get(&parts[..end].join(".")) {
                        wanted.extend(files.iter().filter(|&&f| !chosen[f]));
                    }
                }
            }
        }
        // Only top-level names can be imported, which is how another file's functions come to
        // be lowered for them (methods are looked up from functions already lowered).
        for (name, summary) in &link.exports {
            if !summary.is_trivial() && !name.contains('.') {
                names.insert(name);
            }
        }
    }
    if !names.is_empty() {
        let names: Vec<&str> = names.into_iter().collect();
        let skip: Vec<bool> = (0..files.len())
            .map(|i| chosen[i] || wanted.contains(&i))
            .collect();
        wanted.extend(mentioning(files, &names, &skip));
    }
    let mut wanted: Vec<usize> = wanted.into_iter().collect();
    wanted.sort_unstable();
    wanted
}

/// The names of the indented `def`s of a text (methods, and nested functions: an
/// over-approximation that both modes share).
pub(crate) fn method_defs(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut defs = Vec::new();
    for at in memchr::memmem::find_iter(bytes, b"def") {
        let end = at + 3;
        if !whole_word(bytes, at, end) {
            continue;
        }
        // The next word, wherever it is.
        let mut from = end;
        while from < bytes.len() && !is_word_byte(bytes[from]) {
            from += 1;
        }
        let mut to = from;
        while to < bytes.len() && is_word_byte(bytes[to]) {
            to += 1;
        }
        let Some(name) = text.get(from..to).filter(|n| !n.is_empty()) else {
            continue;
        };
        let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
        let before = &text[line_start..at];
        let lead = before.trim_start_matches([' ', '\t']);
        let indented = lead.len() < before.len();
        if indented && matches!(lead.trim_end(), "" | "async") {
            defs.push(name);
        }
    }
    defs
}

/// The files not `skip`ped whose text has one of `names` as a whole word, found with one
/// Aho-Corasick pass per file for all the names at once.
pub(crate) fn mentioning(files: &[SourceFile], names: &[&str], skip: &[bool]) -> Vec<usize> {
    if names.is_empty() {
        return Vec::new();
    }
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(names)
        .ok();
    let mentions = |text: &str| match &automaton {
        Some(automaton) => {
            let bytes = text.as_bytes();
            automaton
                .find_overlapping_iter(text)
                .any(|m| whole_word(bytes, m.start(), m.end()))
        }
        None => words(text).any(|(_, w)| names.contains(&w)),
    };
    files
        .par_iter()
        .enumerate()
        .filter(|(i, f)| !skip[*i] && mentions(f.text))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_find_connection_code_and_skip_the_rest() {
        let seeds = Seeds::new(&Declarations {
            acquire: vec!["vendor.db.borrow".into()],
            release: vec![".give_back".into()],
            slow_await: Vec::new(),
        });
        for text in [
            "import psycopg2\n",
            "conn = pool.getconn()\n",
            "class W:\n    def __del__(self):\n        self.x.close()\n",
            "x = borrow()\n",
            "h.give_back(x)\n",
            "engine = create_engine(url)\n",
            "self._session = s\n",
            "self . db = db\n",
            "with engine.begin () as c:\n    pass\n",
        ] {
            assert!(seeds.may_matter(text), "{text:?}");
        }
        assert_eq!(
            method_defs("def f():\n    def g():\n        pass\nclass A:\n    async def h(self):\n        x = 'def no('\n"),
            ["g", "h"]
        );
        for text in [
            "import math\n\ndef area(r):\n    return math.pi * r * r\n",
            "class Matrix:\n    def det(self):\n        return 0\n",
            // Words the front end reads only as calls or as attributes of `self`.
            "# begin here: the graph is connected\nparts = connected_components(g)\n",
            "def f(session: Session, db):\n    return db.begin\n",
            "myself.conn = 1\n",
        ] {
            assert!(!seeds.may_matter(text), "{text:?}");
        }
    }
}
