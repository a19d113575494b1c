//! The text prefilter: which files of a project are worth parsing.
//!
//! Most files of a large project never touch a connection. A file is parsed when one of its
//! words could start an analysis ([`Seeds::may_matter`]), or when the files already analysed
//! need it ([`needed`]); the project step repeats until nothing more is needed. The seeds
//! over-approximate what makes the Python front end lower a function or record a pool, so a
//! file left out would have produced no findings and no summary anyone reads.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::project::{Declarations, SourceFile};
use crate::python::words;
use crate::tables;

/// Words that can make a file matter on its own.
pub(crate) struct Seeds {
    words: HashSet<&'static str>,
    declared: HashSet<String>,
}

/// Release and finalizer names: a class that releases an attribute can be a wrapper, and a
/// `__del__` that releases one is CL003 material.
const RELEASES: &[&str] = &[
    "close",
    "aclose",
    "putconn",
    "release",
    "terminate",
    "finalize",
    "__del__",
    "__exit__",
    "__aexit__",
];

impl Seeds {
    pub fn new(declared: &Declarations) -> Self {
        let mut words: HashSet<&'static str> = HashSet::new();
        words.extend(RELEASES);
        let mut add_path = |path: &'static str| {
            // The module root (`psycopg2`) and the last name (`ThreadedConnectionPool`).
            if let Some(root) = path.split('.').next() {
                words.insert(root);
            }
            if let Some(last) = path.rsplit('.').next() {
                words.insert(last);
            }
        };
        for library in tables::LIBRARIES {
            for pool in library.pools {
                pool.constructors.iter().for_each(|c| add_path(c));
                pool.types.iter().for_each(|t| add_path(t));
                for acquire in pool.acquire {
                    add_path(acquire.name);
                }
            }
            for connect in library.connects {
                add_path(connect.name);
            }
        }
        for sizing in tables::POOL_SIZINGS {
            sizing.constructors.iter().for_each(|c| add_path(c));
        }
        let declared = declared
            .acquire
            .iter()
            .chain(&declared.release)
            .filter_map(|d| d.trim().trim_start_matches('.').rsplit('.').next())
            .map(str::to_string)
            .collect();
        Seeds { words, declared }
    }

    /// Whether the text has a word that can start an analysis.
    pub fn may_matter(&self, text: &str) -> bool {
        words(text).any(|(_, w)| {
            self.words.contains(w)
                || tables::is_acquiring_name(w)
                || self.declared.contains(w)
                || connection_like_word(w)
        })
    }
}

/// Names the front end treats as holding a connection (`self.conn`, `self._session`, `db`).
fn connection_like_word(word: &str) -> bool {
    let lower = word.trim_start_matches('_').to_ascii_lowercase();
    lower.contains("conn")
        || lower.contains("session")
        || matches!(lower.as_str(), "db" | "cnx" | "con" | "client")
}

/// Files not chosen yet that the analysed ones need. A file matters only if it has a seed, or
/// its analysis is pulled in by others: a file holding connections demands the names it imports
/// (so their files are needed), and a file mentioning a name whose summary says something
/// lowers the functions that mention it. Lookups of
/// other names need nothing more: a file without a seed that nobody pulls in exports nothing.
/// (Whether a method name is unique is decided from every file's text, [`method_defs`].)
pub(crate) fn needed(
    files: &[SourceFile],
    by_module: &HashMap<String, Vec<usize>>,
    results: &[crate::project::Analysed],
    chosen: &[bool],
) -> Vec<usize> {
    let mut wanted: HashSet<usize> = HashSet::new();
    let mut names: HashSet<&str> = HashSet::new();
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
        let extra: Vec<usize> = files
            .par_iter()
            .enumerate()
            .filter(|(i, _)| !chosen[*i] && !wanted.contains(i))
            .filter(|(_, f)| words(f.text).any(|(_, w)| names.contains(w)))
            .map(|(i, _)| i)
            .collect();
        wanted.extend(extra);
    }
    let mut wanted: Vec<usize> = wanted.into_iter().collect();
    wanted.sort_unstable();
    wanted
}

/// The names of the indented `def`s of a text (methods, and nested functions: an
/// over-approximation that both modes share).
pub(crate) fn method_defs(text: &str) -> Vec<&str> {
    let mut defs = Vec::new();
    let mut def_at: Option<usize> = None;
    for (at, w) in words(text) {
        if let Some(at_def) = def_at.take() {
            let line_start = text[..at_def].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[line_start..at_def];
            let lead = before.trim_start_matches([' ', '\t']);
            let indented = lead.len() < before.len();
            if indented && matches!(lead.trim_end(), "" | "async") {
                defs.push(w);
            }
        }
        if w == "def" {
            def_at = Some(at as usize);
        }
    }
    defs
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
        ] {
            assert!(!seeds.may_matter(text), "{text:?}");
        }
    }
}
