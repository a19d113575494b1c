//! The project-wide step: summaries of functions and classes flow across files.
//!
//! Every file is first analysed once, in parallel waves that put the files a file imports
//! before it (see `order.rs`), each wave against the summaries the waves before it made.
//! Each analysis exports the summaries of
//! its functions and classes under their module path (`pkg.db.get_db`) and records which
//! summaries from other files it looked up and what it got. Then, round by round, a file is
//! analysed again only when something it imports, or looked up, now has a different summary; a
//! few rounds reach the fixed point for any realistic call depth. The work is linear in the
//! number of files that actually depend on a changed summary.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::memo::{FileKey, Memo};
use crate::prefilter;
use crate::python::{self, UserSummary, MAX_ROUNDS};
use crate::summary::FileAnalysis;
use crate::Language;

/// Functions of code connlint does not model, declared in the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declarations {
    /// Calls that return a connection the caller must give back: `myapp.db.borrow` (a function,
    /// matched against imports like any project function) or `.take` (a method of any object).
    pub acquire: Vec<String>,
    /// Calls that give back the connection passed as their first argument, named the same way.
    pub release: Vec<String>,
    /// Calls whose awaited result is slow work that must not hold a connection (CL006), named
    /// the same way (`myapp.http.fetch`, `.call_remote`; Rust paths with `.` or `::`).
    pub slow_await: Vec<String>,
}

impl Declarations {
    /// Whether an awaited call is declared slow: `callee` is the call's dotted path as written
    /// (`self.client.call_remote`, `http.fetch`) and `resolved` the same through the imports
    /// (`myapp.http.fetch`), when known; a declared path matches when one of the two paths
    /// ends with the other, whole segments only. Rust paths are compared with `::` read as `.`.
    pub(crate) fn is_slow_await(&self, callee: &str, resolved: Option<&str>) -> bool {
        if self.slow_await.is_empty() {
            return false;
        }
        let callee = callee.replace("::", ".");
        let resolved = resolved.map(|r| r.replace("::", "."));
        let method = callee.rsplit_once('.').map(|(_, m)| m);
        self.slow_await.iter().any(|declared| {
            let declared = declared.trim().replace("::", ".");
            match declared.strip_prefix('.') {
                Some(name) => method == Some(name),
                // Through the imports when they say where the function comes from.
                None => {
                    let path = resolved.as_deref().unwrap_or(&callee);
                    dotted_suffix(&declared, path) || dotted_suffix(path, &declared)
                }
            }
        })
    }
}

/// Whether `suffix` is `full` or its last dotted segments (`db.fetch` of `app.db.fetch`).
fn dotted_suffix(full: &str, suffix: &str) -> bool {
    !suffix.is_empty()
        && (full == suffix
            || full
                .strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('.')))
}

/// What a declared acquire function returns: released by `close()`, `with`, or a declared
/// release function.
pub(crate) static DECLARED: crate::tables::HandleSpec = crate::tables::HandleSpec {
    name: "connection",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};

/// One file of the project, as text.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile<'a> {
    /// As the user named it: used for module paths and shown in messages.
    pub path: &'a str,
    pub text: &'a str,
}

/// What a file exports and what it looked up, kept beside its analysis.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Linking {
    /// In-file name (`get_db`, `Wrapped`, `Adapter.get_connection`) -> summary.
    pub exports: Vec<(String, Arc<UserSummary>)>,
    /// Local name -> module path it was imported from (relative imports made absolute).
    pub imports: Vec<(String, String)>,
    /// Lookups into other files' summaries and what they returned.
    pub seen: Vec<(String, Option<Arc<UserSummary>>)>,
    /// Names other files import from this one, which were analysed whatever they contain.
    pub demanded: Vec<String>,
    /// The imported functions (as paths, `app.db.give_back`) that the lowered functions call
    /// with an argument that may be a connection (a temporary or a pending acquisition, or a
    /// variable that some binding of the function's graph makes an alias of an acquisition or
    /// a parameter): what this file, if it holds connections, demands of other files.
    pub handed_to: Vec<String>,
    /// Sorted positions in `seen` of the lookups of every function the lowered functions call
    /// with something that may hold a connection, imported or not. A change in what another
    /// function does with its arguments matters to this file only if its lookup is here.
    pub handed_seen: Vec<u32>,
    /// The functions (qualified in the file) and classes that were analysed.
    pub lowered: Vec<String>,
    /// Every method the file defines (`Class.method`), summarised or not: whether a method name
    /// is unique in the project must not depend on summaries, which change between rounds.
    pub methods: Vec<String>,
}

impl Linking {
    /// Gives back the spare capacity of its lists (kept for the whole run, like the analysis).
    pub(crate) fn shrink(&mut self) {
        self.exports.shrink_to_fit();
        self.imports.shrink_to_fit();
        self.seen.shrink_to_fit();
        self.demanded.shrink_to_fit();
        self.handed_to.shrink_to_fit();
        self.handed_seen.shrink_to_fit();
        self.lowered.shrink_to_fit();
        self.methods.shrink_to_fit();
    }
}

/// One file's analysis and linking, shared between the rounds, the results and the memo
/// (never copied).
pub(crate) type Analysed = Arc<(FileAnalysis, Linking)>;

/// Index entries: (key hash, file, position), many per hash where many files export a name
/// (`db.get_db` in 200 packages). One table of 16-byte entries, where a map from hash to a list
/// took 33 bytes a key plus the lists: the dense tree's two tables held 26 MB at the peak.
type Entries = hashbrown::HashTable<(u64, u32, u32)>;

/// The (file, position) pairs under key hash `hash` (the table's probe also meets entries of
/// other hashes, which are passed over).
fn entries_under(table: &Entries, hash: u64) -> impl Iterator<Item = (u32, u32)> + '_ {
    table
        .iter_hash(hash)
        .filter(move |e| e.0 == hash)
        .map(|&(_, file, at)| (file, at))
}

/// A file's index entries, exports and methods: (key hash, position).
type IndexKeys = (Vec<(u64, u32)>, Vec<(u64, u32)>);

/// Summaries of the other files, as one file's analysis sees them.
///
/// The index points into the analyses themselves (shared, never copied): an export is found by
/// the hash of the path that names it, a method by the hash of its name, and every candidate
/// is checked against the whole path, so a hash collision costs a comparison, never a wrong
/// answer.
#[derive(Debug, Default)]
pub(crate) struct Externals {
    /// The module path of each file of the project.
    modules: Arc<Vec<String>>,
    /// The analysis of each file whose exports are visible (empty for the others).
    files: Vec<Analysed>,
    /// Hash of each key that can name an export (`app.db.get_db`, `db.get_db`; see
    /// [`lookup_keys`]) -> (file, index in its exports): a lookup finds only the exports whose
    /// qualified name ends with its path, even where many files export the same name.
    exports: Entries,
    /// Hash of a method's name -> (file, index in its `methods`).
    methods: Entries,
    /// Declared functions: dotted suffixes of the declared path -> declared paths.
    declared_by_suffix: FxHashMap<String, Vec<String>>,
    /// Declared functions (by path) and methods (by `<declared>.name`) -> summary.
    declared_summaries: FxHashMap<String, Arc<UserSummary>>,
    /// Declared method name -> its keys in `declared_summaries`.
    declared_methods: FxHashMap<String, Vec<String>>,
    /// How many indented `def NAME(` lines the whole project's text has, per name: a method
    /// resolves by name only when it is defined once in all the files, read or not.
    method_defs: Arc<FxHashMap<String, u32>>,
    /// Names that make a function worth analysing: declared functions and methods.
    pub declared_words: Vec<String>,
    /// The declared slow awaits (CL006), the only declarations kept here.
    pub slow: Declarations,
}

/// A qualified name, as its module path and in-file name (never joined into one string).
#[derive(Clone, Copy)]
struct Qualified<'a> {
    module: &'a str,
    name: &'a str,
}

impl Qualified<'_> {
    fn parts(&self) -> impl Iterator<Item = &str> {
        let module = (!self.module.is_empty()).then(|| self.module.split('.'));
        module.into_iter().flatten().chain(self.name.split('.'))
    }
}

fn word_hash(word: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(word.as_bytes())
}

/// The last dotted segment of a name or lookup key (`get_db` of `app.db.get_db`).
pub(crate) fn last_segment(name: &str) -> &str {
    // memchr's search: this runs for every lookup of every file in each round's check, and
    // for every unit's short name in the front end.
    match memchr::memrchr(b'.', name.as_bytes()) {
        Some(dot) => &name[dot + 1..],
        None => name,
    }
}

/// Marks the lookups an export's changed summary can answer differently: the function or
/// class by its last segment (`get_db`, `close` of `Wrapper.close`), the method by its name.
fn touch(affected: &mut FxHashSet<String>, name: &str) {
    let short = last_segment(name);
    affected.insert(short.to_string());
    affected.insert(format!("method:{short}"));
}

/// The lookup keys that can name an export, given as its qualified name `module.name` and the
/// length of `module`: the dotted suffixes that keep the whole in-file name and at least one
/// module component (`app.db.get_db` and `db.get_db`), as [`names_export`] accepts them.
fn lookup_keys(qualified: &str, module_len: usize) -> impl Iterator<Item = &str> {
    let starts = qualified
        .get(..module_len)
        .unwrap_or("")
        .match_indices('.')
        .map(|(dot, _)| dot + 1);
    std::iter::once(0)
        .chain(starts)
        .filter_map(move |start| qualified.get(start..))
}

/// Whether lookup key `path` names export `name` of module `module`: the path is the
/// qualified name or one of its dotted suffixes that keep the whole in-file name and at least
/// one module component (`db.get_db` and `app.db.get_db` for `get_db` of `app.db`).
fn names_export(module: &str, name: &str, path: &str) -> bool {
    let Some(head) = path
        .strip_suffix(name)
        .and_then(|head| head.strip_suffix('.'))
    else {
        return false;
    };
    !module.is_empty() && dotted_suffix(module, head)
}

impl Externals {
    fn build(
        modules: &Arc<Vec<String>>,
        results: &[Analysed],
        declared: &Declarations,
        method_defs: &Arc<FxHashMap<String, u32>>,
    ) -> Self {
        let mut ext = Externals::declared(declared);
        ext.method_defs = method_defs.clone();
        ext.modules = modules.clone();
        ext.files = results.to_vec();
        let all: Vec<usize> = (0..results.len()).collect();
        ext.index_all(&all);
        ext
    }

    /// The index entries of file `file`'s exports and methods: (key hash, position).
    fn keys_of(&self, file: usize) -> IndexKeys {
        let link = &self.files[file].1;
        let module = self.modules[file].as_str();
        let mut exports = Vec::new();
        if !module.is_empty() {
            for (i, (name, _)) in link.exports.iter().enumerate() {
                let qualified = format!("{module}.{name}");
                for key in lookup_keys(&qualified, module.len()) {
                    exports.push((word_hash(key), i as u32));
                }
            }
        }
        // Two keys of one export colliding must not make it two candidates.
        exports.sort_unstable();
        exports.dedup();
        let methods = link
            .methods
            .iter()
            .enumerate()
            .map(|(i, method)| (word_hash(last_segment(method)), i as u32))
            .collect();
        (exports, methods)
    }

    /// Adds the exports and methods of files `which` (not yet in the index) to the index: the
    /// keys are hashed in parallel, the table filled in order (on the dense tree, indexing one
    /// file after another took a tenth of a second with the other core idle).
    fn index_all(&mut self, which: &[usize]) {
        let keyed: Vec<(usize, IndexKeys)> =
            which.par_iter().map(|&f| (f, self.keys_of(f))).collect();
        for (file, keys) in keyed {
            self.apply(file, &keys, true);
        }
    }

    /// Adds file `file`'s exports and methods to the index, or takes them out.
    fn index(&mut self, file: usize, add: bool) {
        let keys = self.keys_of(file);
        self.apply(file, &keys, add);
    }

    fn apply(&mut self, file: usize, (exports, methods): &IndexKeys, add: bool) {
        let at = file as u32;
        // The key hashes are xxh3's: the table uses them as they are.
        let update = |table: &mut Entries, key: u64, i: u32| {
            let entry = (key, at, i);
            if add {
                table.insert_unique(key, entry, |e| e.0);
            } else if let Ok(found) = table.find_entry(key, |e| *e == entry) {
                found.remove();
            }
        };
        for &(key, i) in exports {
            update(&mut self.exports, key, i);
        }
        for &(key, i) in methods {
            update(&mut self.methods, key, i);
        }
    }

    /// Adds the first analyses of files that had none.
    fn add(&mut self, analysed: &[(usize, Analysed)]) {
        for (file, analysis) in analysed {
            self.files[*file] = analysis.clone();
        }
        let which: Vec<usize> = analysed.iter().map(|(f, _)| *f).collect();
        self.index_all(&which);
    }

    /// Replaces file `file`'s analysis by `after`, and adds to `affected` the last segments of
    /// the lookup keys (as [`Linking::seen`] records them) whose answer may have changed.
    fn replace(&mut self, file: usize, after: &Analysed, affected: &mut FxHashSet<String>) {
        let before = &self.files[file].1;
        let same_names = before.methods == after.1.methods
            && before.exports.len() == after.1.exports.len()
            && before
                .exports
                .iter()
                .zip(&after.1.exports)
                .all(|((a, _), (b, _))| a == b);
        if same_names {
            // The index stays as it is (it holds positions, not copies): only the summaries
            // that differ touch the lookups.
            for ((name, old), (_, new)) in before.exports.iter().zip(&after.1.exports) {
                if old != new {
                    touch(affected, name);
                }
            }
            self.files[file] = after.clone();
            return;
        }
        type Summaries<'s> = Vec<&'s UserSummary>;
        let mut changed: FxHashMap<&str, (Summaries, Summaries)> = FxHashMap::default();
        for (name, summary) in &before.exports {
            changed.entry(name).or_default().0.push(summary);
        }
        for (name, summary) in &after.1.exports {
            changed.entry(name).or_default().1.push(summary);
        }
        for (name, (old, new)) in changed {
            if old != new {
                touch(affected, name);
            }
        }
        if before.methods != after.1.methods {
            for method in before.methods.iter().chain(&after.1.methods) {
                affected.insert(format!("method:{}", last_segment(method)));
            }
        }
        self.index(file, false);
        self.files[file] = after.clone();
        self.index(file, true);
    }

    /// Only the user's declarations (the first round, before any file is summarised).
    pub fn declared(declared: &Declarations) -> Self {
        let mut ext = Externals {
            slow: Declarations {
                slow_await: declared.slow_await.clone(),
                ..Declarations::default()
            },
            ..Externals::default()
        };
        let entries = declared
            .acquire
            .iter()
            .map(|n| {
                (
                    n,
                    UserSummary {
                        returns: Some(crate::tables::Handle::Lib(&DECLARED)),
                        ..Default::default()
                    },
                )
            })
            .chain(declared.release.iter().map(|n| {
                (
                    n,
                    UserSummary {
                        releases: vec![0],
                        ..Default::default()
                    },
                )
            }));
        for (name, mut summary) in entries {
            let name = name.trim();
            summary.origin = format!(
                "`{}` (declared in the configuration)",
                name.trim_start_matches('.')
            );
            match name.strip_prefix('.') {
                Some(method) => {
                    let key = format!("<declared>.{method}");
                    ext.declared_methods
                        .entry(method.to_string())
                        .or_default()
                        .push(key.clone());
                    ext.declared_words.push(method.to_string());
                    ext.declared_summaries.insert(key, Arc::new(summary));
                }
                None => {
                    let parts: Vec<&str> = name.split('.').collect();
                    for start in 0..parts.len() {
                        ext.declared_by_suffix
                            .entry(parts[start..].join("."))
                            .or_default()
                            .push(name.to_string());
                    }
                    if let Some(last) = parts.last() {
                        ext.declared_words.push(last.to_string());
                    }
                    ext.declared_summaries
                        .insert(name.to_string(), Arc::new(summary));
                }
            }
        }
        ext
    }

    /// The summary a dotted path names (`pkg.db.get_db`, as imported from module `from`): the
    /// project's export matching it, or, when several do (two packages named `app` in one
    /// tree), the one nearest to the importing module; a tie resolves to nothing.
    pub fn lookup(&self, path: &str, from: &str) -> Option<&Arc<UserSummary>> {
        let mut candidates: Vec<(Qualified, &Arc<UserSummary>)> = Vec::new();
        for (file, at) in entries_under(&self.exports, word_hash(path)) {
            let module = &self.modules[file as usize];
            let (name, summary) = &self.files[file as usize].1.exports[at as usize];
            if names_export(module, name, path) {
                candidates.push((Qualified { module, name }, summary));
            }
        }
        for name in self.declared_by_suffix.get(path).into_iter().flatten() {
            if let Some(summary) = self.declared_summaries.get(name) {
                candidates.push((Qualified { module: "", name }, summary));
            }
        }
        nearest(&candidates, |(q, _)| *q, from).map(|(_, s)| *s)
    }

    /// A method by name, when exactly one class of the project defines a method of that name
    /// and it has a summary.
    pub fn lookup_method(&self, method: &str, _from: &str) -> Option<&Arc<UserSummary>> {
        // Strictly one definition in the whole project: a guess between classes would be worse
        // than none, and the check stays O(1) for names every class defines (`get`, `close`).
        if self.method_defs.get(method).is_some_and(|n| *n > 1) {
            return None;
        }
        let mut defined = entries_under(&self.methods, word_hash(method))
            .map(|(file, at)| {
                (
                    file as usize,
                    &self.files[file as usize].1.methods[at as usize],
                )
            })
            .filter(|(_, qualified)| last_segment(qualified) == method);
        let declared = self
            .declared_methods
            .get(method)
            .map_or(&[][..], Vec::as_slice);
        match (defined.next(), defined.next(), declared) {
            (Some((file, qualified)), None, []) => self.files[file]
                .1
                .exports
                .iter()
                .find(|(name, _)| name == qualified)
                .map(|(_, s)| s),
            (None, None, [one]) => self.declared_summaries.get(one),
            _ => None,
        }
    }

    /// Whether lookup `at` of a file's [`Linking::seen`] now gets an answer that could change
    /// the file's analysis: another summary, unless the two differ only in what the function
    /// does with its arguments ([`only_argument_facts_differ`]) and the file hands the function
    /// nothing that may hold a connection ([`Linking::handed_seen`]). Releasing or keeping a
    /// variable that is never an alias of an acquisition changes no state of the flow (the
    /// graph gains a node for it, after the nodes before it, so no order the findings read
    /// changes; only the solver's work ceiling, met by pathological graphs alone, counts
    /// nodes). An imported name whose summary appears or disappears always counts: it decides
    /// which of the file's functions are lowered.
    pub(crate) fn answer_changed(&self, link: &Linking, at: usize, from: &str) -> bool {
        let Some((key, before)) = link.seen.get(at) else {
            return false;
        };
        let now = match key.strip_prefix("method:") {
            Some(m) => self.lookup_method(m, from),
            None => self.lookup(key, from),
        };
        let differs = match (now, before) {
            // The same summary, shared: no need to compare its contents.
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b) && a != b,
            (None, None) => false,
            _ => true,
        };
        if !differs {
            return false;
        }
        let presence_matters =
            now.is_some() != before.is_some() && link.imports.iter().any(|(_, path)| path == key);
        presence_matters
            || !only_argument_facts_differ(before.as_deref(), now.map(|s| &**s))
            || link.handed_seen.binary_search(&(at as u32)).is_ok()
    }
}

/// Whether two answers to a lookup (no summary counting as an empty one) differ only in the
/// parameters the function releases or keeps: everything else a caller's analysis reads of a
/// summary is equal (where it is defined only matters when it returns a connection or builds a
/// pool).
fn only_argument_facts_differ(before: Option<&UserSummary>, now: Option<&UserSummary>) -> bool {
    let empty = UserSummary::default();
    let (a, b) = (before.unwrap_or(&empty), now.unwrap_or(&empty));
    a.returns == b.returns
        && a.pool == b.pool
        && a.releases_attrs == b.releases_attrs
        && a.acquired_into == b.acquired_into
        && a.params_into == b.params_into
        && a.acquires_from == b.acquires_from
        && ((a.returns.is_none() && a.pool.is_none()) || a.origin == b.origin)
}

/// The dotted module path of a file: `src/pkg/db.py` -> `src.pkg.db`, `pkg/__init__.py` -> `pkg`.
pub(crate) fn module_path(path: &str) -> String {
    let path = path.trim_start_matches("./").replace('\\', "/");
    let stem = path
        .strip_suffix(".py")
        .or_else(|| path.strip_suffix(".pyi"))
        .unwrap_or(&path);
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    stem.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join(".")
}

/// Analyses all files of a project together: findings in one file can depend on factories,
/// closers and wrapper classes defined in another. Results are in the order of `files`.
pub fn analyze_project(language: Language, files: &[SourceFile]) -> Vec<FileAnalysis> {
    analyze_project_with(language, files, &Declarations::default())
}

/// [`analyze_project`] with the user's declared acquire/release functions.
pub fn analyze_project_with(
    language: Language,
    files: &[SourceFile],
    declared: &Declarations,
) -> Vec<FileAnalysis> {
    analyze_project_memo(language, files, declared, &mut Memo::new())
}

/// [`analyze_project_with`], replaying from `memo` every file analysis whose inputs did not
/// change (see [`crate::memo`]) and leaving in it the analyses of this run. The results are
/// the same as without a memo. Files that cannot matter are not parsed (see
/// [`analyze_project_prefiltered`]).
pub fn analyze_project_memo(
    language: Language,
    files: &[SourceFile],
    declared: &Declarations,
    memo: &mut Memo,
) -> Vec<FileAnalysis> {
    analyze_project_prefiltered(language, files, declared, memo, true)
}

/// The project step, with the text prefilter on or off. With it on, a file is parsed only
/// when its text has a word that can start an analysis (an acquiring call, a library, a pool
/// constructor, a declared function, a connection-like name, a release or finalizer), or when
/// the analysed files need it: it defines a name that a file holding connections imports, or it
/// mentions a function or class whose summary matters. That closure is computed to a fixed
/// point, so the findings are those of a run without the prefilter; only syntax errors in files
/// never parsed go unreported. Rust files have their own seeds (`rust::analyze_crate`).
pub fn analyze_project_prefiltered(
    language: Language,
    files: &[SourceFile],
    declared: &Declarations,
    memo: &mut Memo,
    prefilter: bool,
) -> Vec<FileAnalysis> {
    analyze_project_shared(language, files, declared, memo, prefilter)
        .into_iter()
        .map(SharedAnalysis::into_analysis)
        .collect()
}

/// One file's analysis as the project step and the memo keep it: shared, never copied, read
/// through `Deref`.
#[derive(Clone, Debug)]
pub struct SharedAnalysis(Analysed);

impl std::ops::Deref for SharedAnalysis {
    type Target = FileAnalysis;

    fn deref(&self) -> &FileAnalysis {
        &self.0 .0
    }
}

impl SharedAnalysis {
    /// The analysis itself: a copy when the memo still shares it.
    pub fn into_analysis(self) -> FileAnalysis {
        Arc::try_unwrap(self.0).map_or_else(|shared| shared.0.clone(), |(a, _)| a)
    }
}

/// [`analyze_project_prefiltered`] without copying the analyses out of the memo: what the
/// command line and the language server use.
pub fn analyze_project_shared(
    language: Language,
    files: &[SourceFile],
    declared: &Declarations,
    memo: &mut Memo,
    prefilter: bool,
) -> Vec<SharedAnalysis> {
    if language == Language::Rust {
        // The files of one crate, with their own fixed point (not remembered in the memo yet).
        return crate::rust::analyze_crate(files, declared, prefilter)
            .into_iter()
            .map(|a| SharedAnalysis(Arc::new((a, Linking::default()))))
            .collect();
    }
    memo.begin();
    let modules: Arc<Vec<String>> = Arc::new(files.iter().map(|f| module_path(f.path)).collect());
    let keys: Vec<FileKey> = files
        .par_iter()
        .map(|f| FileKey::new(f.path, f.text, declared))
        .collect();
    let by_module = ModuleIndex::new(&modules);
    let seeds = prefilter::Seeds::new(declared);
    let scanned: Vec<(bool, Vec<&str>)> = files
        .par_iter()
        .map(|f| (seeds.may_matter(f.text), prefilter::method_defs(f.text)))
        .collect();
    let mut method_defs: FxHashMap<String, u32> = FxHashMap::default();
    for (_, defs) in &scanned {
        for &d in defs {
            // A copy of the name only the first time it is seen.
            match method_defs.get_mut(d) {
                Some(count) => *count += 1,
                None => {
                    method_defs.insert(d.to_string(), 1);
                }
            }
        }
    }
    let method_defs = std::sync::Arc::new(method_defs);
    let mut chosen: Vec<bool> = if prefilter {
        scanned.iter().map(|(seeded, _)| *seeded).collect()
    } else {
        vec![true; files.len()]
    };
    // Leaving files out pays only when they are a fair part of the text: every file the
    // closure adds back costs another fixed point (the index rebuilt, every lookup of every
    // chosen file asked again). Below a tenth of the text, the prefilter is skipped: on the
    // dense tree (0.25% left out, 200 files added back) it cost 0.11 s of 1.4 s; on
    // SQLAlchemy (2% left out) 0.016 s, for 0.01 s of analysis saved.
    let left_out: usize = files
        .iter()
        .zip(&chosen)
        .filter(|(_, c)| !**c)
        .map(|(f, _)| f.text.len())
        .sum();
    let total: usize = files.iter().map(|f| f.text.len()).sum();
    if left_out < total / 10 {
        chosen.iter_mut().for_each(|c| *c = true);
    }
    drop(scanned);
    let solve = |memo: &mut Memo, chosen: &[bool], start: Option<Vec<Analysed>>| {
        fixed_point(
            files,
            &modules,
            &keys,
            &by_module,
            (declared, &method_defs),
            memo,
            (chosen, start),
        )
    };
    let mut results = solve(memo, &chosen, None);
    loop {
        let wanted = prefilter::needed(files, &by_module, &results, &chosen);
        if wanted.is_empty() {
            break;
        }
        for &i in &wanted {
            chosen[i] = true;
        }
        // Files that turn out inert (an empty `__init__.py`: nothing exported, imported, looked
        // up or demanded) join the fixed point as they are: another fixed point would analyse
        // every other file exactly as before.
        let no_demands = vec![Vec::new(); files.len()];
        let first = Externals::declared(declared);
        let added = analyse_files((files, &modules, &keys), memo, &wanted, &first, &no_demands);
        let inert = added.iter().all(|(_, r)| {
            let link = &r.1;
            link.exports.is_empty()
                && link.methods.is_empty()
                && link.imports.is_empty()
                && link.seen.is_empty()
        });
        for (i, r) in added {
            results[i] = r;
        }
        // Whether the chosen files need a fixed point again: not when the files added are
        // inert and nothing is demanded of them.
        let again = !inert || {
            let demands = demanded_names(&modules, &by_module, &results);
            !wanted.iter().all(|&i| demands[i].is_empty())
        };
        if again {
            results = solve(memo, &chosen, Some(std::mem::take(&mut results)));
        }
    }
    memo.end();
    results.into_iter().map(SharedAnalysis).collect()
}

/// Analyses the chosen files to the project-wide fixed point; the others stay empty.
///
/// The first round analyses every chosen file once, in waves (the files a file imports in an
/// earlier wave, as its import lines say), each against the declarations and the summaries of
/// the waves before it; which summaries a file saw then does not matter to the end result,
/// since the checks below ask every lookup again. Unless the analyses to start from are given:
/// those of the fixed point of fewer files, with the files the prefilter added since analysed
/// against the declarations alone. Starting again from nothing
/// replayed every round of the smaller fixed point (about 8% of SQLAlchemy's time, where the
/// prefilter then cost more than it saved). Summaries only add facts, and a file's demands
/// resolve among all files, chosen or not, so the files added can only add to what the
/// others see: each check below finds what they change.
///
/// After the first round, each round checks every chosen
/// file against the summaries the previous round left: a file is analysed again when a name
/// it imports is now demanded of it, or when one of its lookups would now get another answer.
/// The externals are updated in place with the exports of the files analysed again, and only
/// the lookups whose keys those changes touch are asked again (the first check asks all).
fn fixed_point(
    files: &[SourceFile],
    modules: &Arc<Vec<String>>,
    keys: &[FileKey],
    by_module: &ModuleIndex,
    (declared, method_defs): (&Declarations, &Arc<FxHashMap<String, u32>>),
    memo: &mut Memo,
    (chosen, start): (&[bool], Option<Vec<Analysed>>),
) -> Vec<Analysed> {
    let all: Vec<usize> = (0..files.len()).filter(|&i| chosen[i]).collect();
    let (mut results, mut ext) = match start {
        Some(results) => {
            let ext = Externals::build(modules, &results, declared, method_defs);
            (results, ext)
        }
        None => {
            // In waves, the files a file imports before it: each wave is analysed against the
            // summaries of the waves before (SQLAlchemy: 238 -> 206 analyses again in the
            // later rounds, 11% faster than one wave). Waves of at least a sixteenth of the
            // text (small ones merged): a wave ends when its slowest file does, and the
            // other cores wait, so a wave must hold enough work; but files merged into one
            // wave do not see each other's summaries (an eighth: SQLAlchemy 4% slower, more
            // files stale after the first round; no merging at all: 11% slower).
            let empty: Analysed = Arc::default();
            let mut results: Vec<Analysed> = vec![empty; files.len()];
            let mut ext = Externals::build(modules, &results, declared, method_defs);
            let no_demands = vec![Vec::new(); files.len()];
            for wave in first_waves(files, modules, by_module, &all) {
                let analysed =
                    analyse_files((files, modules, keys), memo, &wave, &ext, &no_demands);
                ext.add(&analysed);
                for (i, r) in analysed {
                    results[i] = r;
                }
            }
            (results, ext)
        }
    };
    // `None`: every lookup may have changed (the first check: a lookup may have been made
    // before the file it names was analysed).
    let mut affected: Option<FxHashSet<String>> = None;
    for _round in 0..MAX_ROUNDS {
        let demands = demanded_names(modules, by_module, &results);
        let may_change = |key: &str| {
            affected
                .as_ref()
                .is_none_or(|a| a.contains(last_segment(key)))
        };
        // Each check asks the index again (about as costly as the analysis on a tree of many
        // small files), so the files are checked in parallel.
        let stale: Vec<usize> = all
            .par_iter()
            .copied()
            .filter(|&i| {
                let link = &results[i].1;
                demands[i]
                    .iter()
                    .any(|d| !link.demanded.contains(d) && !link.lowered.contains(d))
                    || link.seen.iter().enumerate().any(|(at, (k, _))| {
                        may_change(k) && ext.answer_changed(link, at, &modules[i])
                    })
                    || link.imports.iter().any(|(_, path)| {
                        may_change(path)
                            && !link.seen.iter().any(|(k, _)| k == path)
                            && ext.lookup(path, &modules[i]).is_some()
                    })
            })
            .collect();
        if stale.is_empty() {
            break;
        }
        let mut touched = FxHashSet::default();
        for (i, r) in analyse_files((files, modules, keys), memo, &stale, &ext, &demands) {
            ext.replace(i, &r, &mut touched);
            results[i] = r;
        }
        affected = Some(touched);
    }
    results
}

/// The chosen files `all` in the waves of the first round (see [`crate::order`]), each but
/// the last holding at least a sixteenth of their text; an import names the file it would
/// resolve to. A wave ends when its slowest file does and the other cores wait, so a wave must
/// hold enough work: counted in bytes, since one large file can outweigh many small ones (in
/// SymPy, 16 small files made two waves ahead of the one with a large file, which then ran
/// alone: 7% of the run).
fn first_waves(
    files: &[SourceFile],
    modules: &[String],
    by_module: &ModuleIndex,
    all: &[usize],
) -> Vec<Vec<usize>> {
    let imports: FxHashMap<usize, Vec<usize>> = all
        .par_iter()
        .map(|&i| {
            let is_package = files[i].path.ends_with("__init__.py");
            let named = crate::order::imported_modules(files[i].text, &modules[i], is_package);
            let mut deps: Vec<usize> = named
                .iter()
                .filter_map(|m| nearest_module(&by_module.get(m)?, modules, &modules[i]).copied())
                .filter(|&d| d != i)
                .collect();
            deps.sort_unstable();
            deps.dedup();
            (i, deps)
        })
        .collect();
    let total: usize = all.iter().map(|&i| files[i].text.len()).sum();
    crate::order::waves(all, &imports, |i| files[i].text.len(), total / 16)
}

/// Analyses the files `which` against `ext`, each from the memo when it can be.
fn analyse_files(
    (files, modules, keys): (&[SourceFile], &[String], &[FileKey]),
    memo: &mut Memo,
    which: &[usize],
    ext: &Externals,
    demands: &[Vec<String>],
) -> Vec<(usize, Analysed)> {
    let mut todo = Vec::new();
    let mut done = Vec::new();
    for &i in which {
        match memo.recall(keys[i], ext, &demands[i], &modules[i]) {
            Some(r) => done.push((i, r)),
            None => todo.push(i),
        }
    }
    largest_first(files, &mut todo);
    let fresh: Vec<(usize, Analysed)> = todo
        .par_iter()
        .with_max_len(1)
        .map(|&i| {
            let f = &files[i];
            let r = python::analyze_linked(f.text, f.path, &modules[i], ext, &demands[i]);
            (i, Arc::new(r))
        })
        .collect();
    for (i, r) in &fresh {
        memo.remember(keys[*i], r.clone());
    }
    done.extend(fresh);
    done
}

/// Orders files largest first, to be handed to the cores one by one (`with_max_len(1)`): the
/// last file to finish holds the other cores up, so it had better be a small one (rayon would
/// otherwise split the list in halves, one of them all the large files). The dense tree 12%
/// faster, SQLAlchemy 2%, the Rust tree 3%.
pub(crate) fn largest_first(files: &[SourceFile], which: &mut [usize]) {
    which.sort_by_key(|&i| std::cmp::Reverse(files[i].text.len()));
}

/// Of several candidates, the one whose qualified name shares the longest leading module path
/// with `from`; `None` on a tie.
fn nearest<'c, T>(
    candidates: &'c [T],
    name: impl Fn(&'c T) -> Qualified<'c>,
    from: &str,
) -> Option<&'c T> {
    if let [one] = candidates {
        return Some(one);
    }
    let shared = |q: Qualified| {
        q.parts()
            .zip(from.split('.'))
            .take_while(|(a, b)| a == b)
            .count()
    };
    let mut best: Option<(usize, &T)> = None;
    let mut tie = false;
    for c in candidates {
        let n = shared(name(c));
        match best {
            Some((b, _)) if n < b => {}
            Some((b, _)) if n == b => tie = true,
            _ => {
                best = Some((n, c));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, c)| c)
}

/// [`nearest`] over files that [`ModuleIndex`] keeps sorted by their module paths' parts, in
/// logarithmic time instead of linear (a tree of many packages with the same module names
/// weighed hundreds of candidates per import). The files whose paths share at least `k`
/// leading parts with `from` are one run of the sorted list, and `from` sorts inside it, so
/// the longest shared path is met beside `from`'s place, and a tie, if any, within two places
/// of it: [`nearest`] weighs only those.
fn nearest_module<'c>(sorted: &'c [usize], modules: &'c [String], from: &str) -> Option<&'c usize> {
    let at = sorted.partition_point(|&f| modules[f].split('.').lt(from.split('.')));
    let near = at.saturating_sub(2)..(at + 2).min(sorted.len());
    let module = |&f: &usize| Qualified {
        module: "",
        name: modules[f].as_str(),
    };
    nearest(&sorted[near], module, from)
}

/// Every dotted suffix of each module path (`app.db`, `db` of `app.db`) -> the files that
/// have it, sorted by their module paths' parts (for [`nearest_module`]).
///
/// One sorted array, not a map of strings: the hash of each suffix beside its file, ordered
/// by hash and then by the file's module path, so that a suffix's files are one run of it. On
/// the dense tree (17,200 files) the map of strings to lists held 22 MB at the peak; the array
/// holds 16 bytes per suffix. A lookup checks its run against the module paths, so a hash
/// collision costs a copy of the run without the strangers and repeats, never a wrong answer.
pub(crate) struct ModuleIndex {
    hashes: Vec<u64>,
    files: Vec<usize>,
    modules: Arc<Vec<String>>,
}

impl ModuleIndex {
    pub(crate) fn new(modules: &Arc<Vec<String>>) -> Self {
        let mut entries: Vec<(u64, usize)> = Vec::new();
        for (i, m) in modules.iter().enumerate() {
            entries.push((word_hash(m), i));
            for (dot, _) in m.match_indices('.') {
                entries.push((word_hash(&m[dot + 1..]), i));
            }
        }
        entries.sort_unstable_by(|&(ha, a), &(hb, b)| {
            ha.cmp(&hb)
                .then_with(|| modules[a].split('.').cmp(modules[b].split('.')))
                .then(a.cmp(&b))
        });
        let (hashes, files) = entries.into_iter().unzip();
        ModuleIndex {
            hashes,
            files,
            modules: modules.clone(),
        }
    }

    /// The files whose module path is `suffix` or ends with it at a dot, in the order of their
    /// module paths' parts.
    pub(crate) fn get(&self, suffix: &str) -> Option<std::borrow::Cow<'_, [usize]>> {
        let hash = word_hash(suffix);
        let start = self.hashes.partition_point(|&h| h < hash);
        let end = start + self.hashes[start..].partition_point(|&h| h == hash);
        let run = &self.files[start..end];
        let has = |&f: &usize| {
            let m = self.modules[f].as_str();
            m == suffix || dotted_suffix(m, suffix)
        };
        // A collision can also be between two suffixes of one module, whose entries are
        // neighbours in the run.
        if run.is_empty() {
            None
        } else if run.iter().all(has) && run.windows(2).all(|w| w[0] != w[1]) {
            Some(std::borrow::Cow::Borrowed(run))
        } else {
            let mut kept: Vec<usize> = run.iter().copied().filter(has).collect();
            kept.dedup();
            (!kept.is_empty()).then_some(std::borrow::Cow::Owned(kept))
        }
    }
}

/// For each file, the names other files import from it (`from app.helpers import give_back`).
fn demanded_names(
    modules: &[String],
    by_module: &ModuleIndex,
    results: &[Analysed],
) -> Vec<Vec<String>> {
    // Which file each import names, found for all files in parallel (a module path shared by
    // many packages has many candidates to weigh).
    let named: Vec<Vec<(usize, &str)>> = modules
        .par_iter()
        .zip(results)
        .map(|(from, result)| {
            let (analysis, link) = &**result;
            // Only a file that holds connections can hand one to a closer or storer it imports,
            // and only to a function it calls with something that may be one.
            if analysis.functions.iter().all(|f| f.acquisitions.is_empty()) {
                return Vec::new();
            }
            link.handed_to
                .iter()
                .filter_map(|path| {
                    let (module, name) = path.rsplit_once('.')?;
                    let files = by_module.get(module)?;
                    nearest_module(&files, modules, from).map(|&file| (file, name))
                })
                .collect()
        })
        .collect();
    let mut demands: Vec<Vec<String>> = vec![Vec::new(); results.len()];
    for (file, name) in named.into_iter().flatten() {
        if !demands[file].iter().any(|d| d == name) {
            demands[file].push(name.to_string());
        }
    }
    for d in &mut demands {
        d.sort();
    }
    demands
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for the randomised tests: `next(n)` is below `n`.
    fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    /// The logarithmic search agrees with the linear one, ties included, on many small trees
    /// of look-alike module paths (parts that are prefixes of each other, duplicate paths).
    #[test]
    fn nearest_module_agrees_with_the_linear_search() {
        const PARTS: [&str; 4] = ["a", "ab", "b", "a-b"];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut ties = 0;
        for _ in 0..5_000 {
            let path = |next: &mut dyn FnMut(usize) -> usize| {
                let depth = 1 + next(4);
                (0..depth)
                    .map(|_| PARTS[next(PARTS.len())])
                    .collect::<Vec<_>>()
                    .join(".")
            };
            let modules: Vec<String> = (0..1 + next(8)).map(|_| path(&mut next)).collect();
            let from = path(&mut next);
            let mut sorted: Vec<usize> = (0..modules.len()).collect();
            sorted.sort_by(|&a, &b| modules[a].split('.').cmp(modules[b].split('.')));
            let linear = nearest(
                &sorted,
                |&f| Qualified {
                    module: "",
                    name: modules[f].as_str(),
                },
                &from,
            )
            .map(|&f| modules[f].as_str());
            let fast = nearest_module(&sorted, &modules, &from).map(|&f| modules[f].as_str());
            assert_eq!(fast, linear, "{modules:?} from {from}");
            ties += usize::from(linear.is_none());
        }
        assert!(ties > 100, "the trees should include ties: {ties}");
    }

    /// The module index against the map of strings it replaced, on random trees: for every
    /// dotted suffix of every module and for names no module has, the same files in the same
    /// order; and again with every hash made equal, so that each lookup meets only collisions.
    #[test]
    fn module_index_agrees_with_a_map_of_suffixes() {
        const PARTS: [&str; 4] = ["a", "ab", "b", "a-b"];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let modules: Vec<String> = (0..1 + next(12))
                .map(|_| {
                    (0..next(4))
                        .map(|_| PARTS[next(PARTS.len())])
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect();
            let mut map: FxHashMap<String, Vec<usize>> = FxHashMap::default();
            for (i, m) in modules.iter().enumerate() {
                let parts: Vec<&str> = m.split('.').collect();
                for start in 0..parts.len() {
                    map.entry(parts[start..].join(".")).or_default().push(i);
                }
            }
            for files in map.values_mut() {
                files.sort_by(|&a, &b| modules[a].split('.').cmp(modules[b].split('.')));
            }
            let modules = Arc::new(modules);
            let mut index = ModuleIndex::new(&modules);
            let asked: Vec<String> = map
                .keys()
                .cloned()
                .chain(["c", "a.c", "b.a.b.a.b", ""].map(String::from))
                .collect();
            for key in &asked {
                let got = index.get(key).map(|files| files.into_owned());
                assert_eq!(got.as_ref(), map.get(key), "{modules:?} asked {key:?}");
            }
            // Every entry's hash made the asked key's: one run of all files.
            index.files.sort_by(|&a, &b| {
                modules[a]
                    .split('.')
                    .cmp(modules[b].split('.'))
                    .then(a.cmp(&b))
            });
            for key in &asked {
                index.hashes.iter_mut().for_each(|h| *h = word_hash(key));
                let got = index.get(key).map(|files| files.into_owned());
                assert_eq!(
                    got.as_ref(),
                    map.get(key),
                    "colliding: {modules:?} asked {key:?}"
                );
            }
        }
    }

    #[test]
    fn module_paths() {
        assert_eq!(module_path("src/pkg/db.py"), "src.pkg.db");
        assert_eq!(module_path("./pkg/__init__.py"), "pkg");
        assert_eq!(module_path("tools.py"), "tools");
    }
}

#[cfg(test)]
mod project_tests {
    use expect_test::expect;

    use super::*;

    /// A module whose `stash` keeps its argument (and is analysed for `fresh`, which hands it a
    /// connection).
    const STASH: &str = "import psycopg2\n\n_kept = []\n\n\ndef stash(conn):\n    _kept.append(conn)\n\n\ndef fresh():\n    conn = psycopg2.connect(\"\")\n    stash(conn)\n";

    /// A summary that only stores its argument still reaches the callers that pass theirs on:
    /// an optimisation that stopped it at `relay2` made `run` a false CL001.
    #[test]
    fn a_connection_handed_down_a_chain_of_pass_through_functions_is_stored() {
        let files = [
            SourceFile {
                path: "app/main.py",
                text: "import psycopg2\nfrom app.r1 import relay\n\n\ndef run():\n    conn = psycopg2.connect(\"\")\n    relay(conn)\n",
            },
            SourceFile {
                path: "app/r1.py",
                text: "from app.r2 import relay2\n\n\ndef relay(conn):\n    relay2(conn)\n",
            },
            SourceFile {
                path: "app/r2.py",
                text: "from app.stash import stash\n\n\ndef relay2(conn):\n    stash(conn)\n",
            },
            SourceFile {
                path: "app/stash.py",
                text: STASH,
            },
        ];
        expect![[r#"
            == app/main.py
            run
              psycopg2.connect() line 6 [stored]
            == app/r1.py
            relay: stores params [0]
            == app/r2.py
            relay2: stores params [0]
            == app/stash.py
            stash: stores params [0]
            fresh
              psycopg2.connect() line 11 [stored]
        "#]]
        .assert_eq(&dump(&files));
    }

    /// A file holding connections demands of the files it imports from only the functions it
    /// hands something to (a name, by keyword, an attribute of `self`), so `note`, called with
    /// a string, is not analysed: it neither acquires nor releases. (Demanding every import
    /// re-analysed about 90 of SQLAlchemy's files for nothing.)
    #[test]
    fn a_file_holding_connections_demands_only_the_functions_it_hands_something_to() {
        let files = [
            SourceFile {
                path: "app/main.py",
                text: "import psycopg2\nfrom app.lib import keep, keep_kw, keep_attr, note\n\n\ndef run():\n    conn = psycopg2.connect(\"\")\n    note(\"starting\")\n    keep(conn)\n\n\ndef run_kw():\n    conn = psycopg2.connect(\"\")\n    keep_kw(into=conn)\n\n\nclass Service:\n    def __init__(self):\n        self.conn = psycopg2.connect(\"\")\n        keep_attr(self.conn)\n",
            },
            SourceFile {
                path: "app/lib.py",
                text: "_kept = []\n\n\ndef keep(conn):\n    _kept.append(conn)\n\n\ndef keep_kw(into):\n    _kept.append(into)\n\n\ndef keep_attr(conn):\n    _kept.append(conn)\n\n\ndef note(text):\n    _kept.append(text)\n",
            },
        ];
        expect![[r#"
            == app/main.py
            run
              psycopg2.connect() line 6 [stored]
                held if raised at lines [7]
            run_kw
              psycopg2.connect() line 12 [stored]
            Service.__init__
              psycopg2.connect() line 18 [stored]
            == app/lib.py
            keep: stores params [0]
            keep_kw: stores params [0]
            keep_attr: stores params [0]
        "#]]
        .assert_eq(&dump(&files));
    }

    /// What a callee does with a variable matters only if the variable may hold a connection:
    /// bound from an acquisition (directly or through other names) or a parameter; a list or a
    /// dictionary, only if a part may. `tables`, bound from a call that returns nothing
    /// tracked, never holds one, so `keep_plain` and `keep_props`, handed only `tables` and a
    /// dictionary of plain values, are not analysed (SQLAlchemy's test modules hand `map_imperatively` and
    /// `eq_` such names: demanding them re-analysed about 90 files for nothing).
    #[test]
    fn a_variable_that_never_holds_a_connection_demands_nothing() {
        let files = [
            SourceFile {
                path: "app/main.py",
                text: "import psycopg2\nfrom app.lib import keep_chain, keep_dict, keep_param, keep_plain, keep_props\n\n\ndef run(users):\n    conn = psycopg2.connect(\"\")\n    alias = conn\n    other = alias\n    keep_chain(other)\n    tables = get_tables()\n    keep_plain(tables)\n    keep_param(users)\n    keep_props(tables, properties={\"bs\": relation(tables)})\n    keep_dict({\"c\": [conn]})\n",
            },
            SourceFile {
                path: "app/lib.py",
                text: "_kept = []\n\n\ndef keep_chain(conn):\n    _kept.append(conn)\n\n\ndef keep_param(conn):\n    _kept.append(conn)\n\n\ndef keep_plain(conn):\n    _kept.append(conn)\n\n\ndef keep_props(conn, properties):\n    _kept.append(conn)\n\n\ndef keep_dict(conn):\n    _kept.append(conn)\n",
            },
        ];
        expect![[r#"
            == app/main.py
            run: stores params [0]
              psycopg2.connect() line 6 [stored]
            == app/lib.py
            keep_chain: stores params [0]
            keep_param: stores params [0]
            keep_dict: stores params [0]
        "#]]
        .assert_eq(&dump(&files));
    }

    /// A pool factory's summary points at the definition that builds the pool, not at an
    /// `@overload` stub of the same name before it (SQLAlchemy's `testing_engine`), for callers
    /// in other files and in its own.
    #[test]
    fn a_pool_factory_after_overload_stubs_is_named_at_its_definition() {
        let files = [
            SourceFile {
                path: "app/engines.py",
                text: "import typing\nfrom sqlalchemy import create_engine\n\n\n@typing.overload\ndef make_engine() -> int: ...\n\n\ndef make_engine():\n    return create_engine(\"postgresql://\", pool_size=5)\n\n\ndef local_handler():\n    engine = make_engine()\n    return engine\n",
            },
            SourceFile {
                path: "app/main.py",
                text: "from app.engines import make_engine\n\n\ndef handler():\n    engine = make_engine()\n    return engine\n",
            },
        ];
        expect![[r#"
            == app/engines.py
            pool create_engine() line 10 in make_engine: SQLAlchemy PostgreSQL, max 15 (`pool_size=5` + `max_overflow` not set: 10), Factory
            pool make_engine() via `make_engine` (app/engines.py:9) line 14 in local_handler -> engine: SQLAlchemy PostgreSQL, max unknown, Factory
            == app/main.py
            pool make_engine() via `make_engine` (app/engines.py:9) line 5 in handler -> engine: SQLAlchemy PostgreSQL, max unknown, Factory
        "#]]
        .assert_eq(&dump(&files));
    }

    /// The same through a method of an object whose class is not known where it is called
    /// (`adapter.hand_over(conn)`, resolved as the one method of that name in the project),
    /// which demands nothing of the file defining it: `hand_over` must be analysed because it
    /// calls a function whose summary keeps its argument. An optimisation tried on 2026-12-06
    /// that analysed such callers only when demanded made `run` a false CL001.
    #[test]
    fn a_connection_handed_to_a_method_that_passes_it_to_a_keeper_is_stored() {
        let files = [
            SourceFile {
                path: "app/main.py",
                text: "import psycopg2\n\n\ndef run(adapter):\n    conn = psycopg2.connect(\"\")\n    adapter.hand_over(conn)\n",
            },
            SourceFile {
                path: "app/svc.py",
                text: "from app.stash import stash\n\n\nclass Service:\n    def hand_over(self, conn):\n        stash(conn)\n",
            },
            SourceFile {
                path: "app/stash.py",
                text: STASH,
            },
        ];
        expect![[r#"
            == app/main.py
            run
              psycopg2.connect() line 5 [stored]
            == app/svc.py
            Service.hand_over: stores params [0]
            == app/stash.py
            stash: stores params [0]
            fresh
              psycopg2.connect() line 11 [stored]
        "#]]
        .assert_eq(&dump(&files));
    }

    #[test]
    fn an_export_is_indexed_under_every_path_that_can_name_it() {
        fn keys(q: &str, m: usize) -> Vec<&str> {
            lookup_keys(q, m).collect()
        }
        assert_eq!(keys("app.db.get_db", 6), ["app.db.get_db", "db.get_db"]);
        assert_eq!(
            keys("app.db.Wrapper.close", 6),
            ["app.db.Wrapper.close", "db.Wrapper.close"]
        );
        assert_eq!(keys("db.get_db", 2), ["db.get_db"]);
        for (q, m) in [("app.db.get_db", 6), ("app.db.Wrapper.close", 6)] {
            let (module, name) = q.split_at(m);
            let name = &name[1..];
            for key in keys(q, m) {
                assert!(names_export(module, name, key), "{key} names {q}");
            }
            // Every key `names_export` accepts is indexed: the suffixes with a module part.
            for drop in 0..q.matches('.').count() {
                let key = q.splitn(drop + 1, '.').last().unwrap_or(q);
                assert_eq!(
                    names_export(module, name, key),
                    keys(q, m).contains(&key),
                    "{key}"
                );
            }
        }
    }

    #[test]
    fn declared_slow_awaits_match_whole_path_segments() {
        let declared = Declarations {
            slow_await: vec![
                "svc.clients.fetch_quote".into(),
                ".call_remote".into(),
                "crate::rpc::invoke".into(),
            ],
            ..Declarations::default()
        };
        let slow = |callee: &str, resolved: Option<&str>| declared.is_slow_await(callee, resolved);
        assert!(slow("fetch_quote", Some("svc.clients.fetch_quote")));
        assert!(slow("clients.fetch_quote", None));
        assert!(slow("svc.clients.fetch_quote", None));
        assert!(!slow("refetch_quote", Some("svc.clients.refetch_quote")));
        assert!(!slow("other.svc.clients.fetch_quotes", None));
        assert!(slow("self.client.call_remote", None));
        assert!(!slow("call_remote", None));
        assert!(slow("invoke", Some("crate::rpc::invoke")));
        assert!(!slow("invoke", Some("crate::other::invoke")));
        assert!(!Declarations::default().is_slow_await("fetch_quote", None));
    }

    fn dump(files: &[SourceFile]) -> String {
        let results = analyze_project(Language::Python, files);
        files
            .iter()
            .zip(&results)
            .map(|(f, a)| format!("== {}\n{}", f.path, a.dump(f.text)))
            .collect()
    }

    const DB: &str = r#"
from psycopg2.pool import ThreadedConnectionPool


class Adapter:
    def __init__(self, dsn):
        self.pool = ThreadedConnectionPool(1, 5, dsn)

    def get_connection(self):
        return self.pool.getconn()

    def release_connection(self, conn):
        self.pool.putconn(conn)


class Wrapped:
    def __init__(self, adapter, conn):
        self.adapter = adapter
        self.conn = conn

    def close(self):
        if self.conn is not None:
            self.adapter.release_connection(self.conn)
            self.conn = None

    def __del__(self):
        self.close()


ADAPTER = Adapter("dbname=app")


def get_db():
    return Wrapped(ADAPTER, ADAPTER.get_connection())
"#;

    #[test]
    fn factories_wrappers_and_closers_across_files() {
        let tools = r#"
from .db import get_db
from app.db import ADAPTER
from app.helpers import give_back


def forgets():
    db = get_db()
    return db.conn.cursor().execute("select 1")


def closes():
    db = get_db()
    try:
        return db.conn.cursor().execute("select 1")
    finally:
        db.close()


def raw(adapter):
    conn = ADAPTER.get_connection()
    try:
        conn.cursor()
    finally:
        give_back(conn)
"#;
        let helpers = "from app.db import ADAPTER\n\n\ndef give_back(conn):\n    ADAPTER.release_connection(conn)\n";
        let files = [
            SourceFile {
                path: "app/db.py",
                text: DB,
            },
            SourceFile {
                path: "app/tools.py",
                text: tools,
            },
            SourceFile {
                path: "app/helpers.py",
                text: helpers,
            },
        ];
        expect![[r#"
            == app/db.py
            pool ThreadedConnectionPool() line 7 in Adapter.__init__ -> self.pool: psycopg2 PostgreSQL, max 5 (`maxconn=5`), Instance
            Adapter.__init__: stores params [0]
            Adapter.get_connection: returns a connection
              self.pool.getconn() line 10 [returned]
            Adapter.release_connection: releases params [0]
            Wrapped.__init__: stores params [0, 1]
            get_db: returns a connection
              ADAPTER.get_connection() line 34 via `Adapter.get_connection` (app/db.py:9) [stored]
              Wrapped() line 34 via `Wrapped` (app/db.py:17) [returned], released only by `Wrapped.__del__` (app/db.py:26)
            == app/tools.py
            forgets
              get_db() line 8 via `get_db` (app/db.py:33), released only by `Wrapped.__del__` (app/db.py:26)
                held at Return line 9
                held if raised at lines [9]
            closes
              get_db() line 13 via `get_db` (app/db.py:33), released only by `Wrapped.__del__` (app/db.py:26)
            raw
              ADAPTER.get_connection() line 21 via `Adapter.get_connection` (app/db.py:9)
            == app/helpers.py
            give_back: releases params [0]
        "#]].assert_eq(&dump(&files));
    }

    /// The incident's shape in three files, and the same files after an edit.
    fn incident_files(tools: &str) -> Vec<SourceFile<'_>> {
        vec![
            SourceFile {
                path: "app/db.py",
                text: DB,
            },
            SourceFile {
                path: "app/tools.py",
                text: tools,
            },
            SourceFile {
                path: "app/helpers.py",
                text: "from app.db import ADAPTER\n\n\ndef give_back(conn):\n    ADAPTER.release_connection(conn)\n",
            },
        ]
    }

    /// A Python project analysed with a memo and without the prefilter (every file parsed).
    fn every_file(files: &[SourceFile], memo: &mut Memo) -> Vec<FileAnalysis> {
        analyze_project_prefiltered(
            Language::Python,
            files,
            &Declarations::default(),
            memo,
            false,
        )
    }

    fn dumps(files: &[SourceFile], results: &[FileAnalysis]) -> Vec<String> {
        files
            .iter()
            .zip(results)
            .map(|(f, a)| a.dump(f.text))
            .collect()
    }

    #[test]
    fn a_memo_replays_unchanged_files_and_agrees_with_a_cold_run() {
        let tools = "from app.db import get_db\n\n\ndef forgets():\n    db = get_db()\n    return db.conn\n";
        let files = incident_files(tools);
        let mut memo = Memo::new();
        let cold = analyze_project_memo(
            Language::Python,
            &files,
            &Declarations::default(),
            &mut memo,
        );
        let first = memo.stats();
        // tools.py has no word that seeds the prefilter: it is added when db.py's summaries
        // show that it calls `get_db`, and the fixed point starts again, replaying db.py.
        // helpers.py is never parsed (nothing needs its closer). So: db.py once, tools.py
        // twice (alone, then with `get_db`'s summary).
        assert_eq!(first.analysed, 3, "{first:?}");

        // Through bytes, as the command line keeps it between runs.
        let mut memo = Memo::from_bytes(&memo.to_bytes().unwrap()).unwrap();
        let warm = analyze_project_memo(
            Language::Python,
            &files,
            &Declarations::default(),
            &mut memo,
        );
        assert_eq!(dumps(&files, &warm), dumps(&files, &cold));
        assert_eq!(memo.stats().analysed, 0, "{:?}", memo.stats());
        assert_eq!(memo.stats().reused, first.analysed + first.reused);

        // An edit: the edited file is analysed again, the others are replayed, and the result
        // is what a cold run over the edited tree says.
        let edited = tools.replace(
            "return db.conn",
            "try:\n        return db.conn\n    finally:\n        db.close()",
        );
        let files = incident_files(&edited);
        let after = analyze_project_memo(
            Language::Python,
            &files,
            &Declarations::default(),
            &mut memo,
        );
        let fresh = analyze_project(Language::Python, &files);
        assert_eq!(dumps(&files, &after), dumps(&files, &fresh));
        assert_ne!(dumps(&files, &after), dumps(&files, &cold));
        // The edited file is analysed once: it now says `close`, so the prefilter keeps it
        // from the start, and the first round analyses it after db.py, which it imports
        // (replayed), with `get_db`'s summary already made. helpers.py, all the prefilter
        // would now leave out, is under a tenth of the text: the prefilter steps aside and it
        // is analysed too, for the first time.
        assert_eq!(memo.stats().analysed, 2, "{:?}", memo.stats());
        assert_eq!(memo.stats().reused, 1, "{:?}", memo.stats());

        // Declarations are part of every file's inputs.
        let declared = Declarations {
            acquire: vec!["app.db.get_db".into()],
            release: Vec::new(),
            slow_await: Vec::new(),
        };
        analyze_project_memo(Language::Python, &files, &declared, &mut memo);
        assert_eq!(memo.stats().reused, 0, "{:?}", memo.stats());
    }

    #[test]
    fn a_changed_summary_reaches_the_files_that_looked_it_up() {
        let tools = "from app.db import get_db\n\n\ndef forgets():\n    db = get_db()\n    return db.conn\n";
        let mut files = incident_files(tools);
        let mut memo = Memo::new();
        analyze_project_memo(
            Language::Python,
            &files,
            &Declarations::default(),
            &mut memo,
        );
        // `get_db` stops returning a connection: `tools.py` did not change, but its finding must go.
        let db = DB.replace(
            "return Wrapped(ADAPTER, ADAPTER.get_connection())",
            "return None",
        );
        files[0].text = &db;
        let warm = analyze_project_memo(
            Language::Python,
            &files,
            &Declarations::default(),
            &mut memo,
        );
        let cold = analyze_project(Language::Python, &files);
        assert_eq!(dumps(&files, &warm), dumps(&files, &cold));
        assert!(
            !warm[1].dump(tools).contains("get_db() line"),
            "{}",
            warm[1].dump(tools)
        );
    }

    #[test]
    fn the_first_round_analyses_a_file_after_the_files_it_imports() {
        // Listed users first: a chain of factories across three files, each file importing the
        // next one's function. In import order, one analysis per file reaches the fixed point;
        // in the order given, each file would be analysed again when the one below it changed.
        let handlers = "from app.service import open_session\n\n\ndef handle():\n    s = open_session()\n    return s.cursor().fetchall()\n";
        let service =
            "from app.db import get_conn\n\n\ndef open_session():\n    return get_conn()\n";
        let db = "import psycopg2\n\n\ndef get_conn():\n    return psycopg2.connect('dbname=x')\n";
        let files = [
            SourceFile {
                path: "app/handlers.py",
                text: handlers,
            },
            SourceFile {
                path: "app/service.py",
                text: service,
            },
            SourceFile {
                path: "app/db.py",
                text: db,
            },
        ];
        let mut memo = Memo::new();
        let results = every_file(&files, &mut memo);
        assert_eq!(memo.stats().analysed, 3);
        // The leak two files away is found.
        let dump = results[0].dump(handlers);
        assert!(dump.contains("open_session() line 5"), "{dump}");
    }

    /// A file is not analysed again when a function it calls changes only in what it does
    /// with its arguments and the file hands it nothing that may hold a connection (SQLAlchemy:
    /// 40 test modules handing `map_imperatively` a class and a table); a file handing it a
    /// connection is, and a memo replays both.
    #[test]
    fn a_change_in_argument_facts_reaches_only_the_files_that_hand_a_connection() {
        let plain = "import psycopg2\n\n\ndef setup(registry, tables):\n    conn = psycopg2.connect(\"\")\n    conn.close()\n    users = tables.users\n    registry.map_imperatively(User, users)\n";
        let handing = "import psycopg2\n\n\ndef run(registry):\n    conn = psycopg2.connect(\"\")\n    registry.map_imperatively(None, conn)\n";
        let registry = "import psycopg2\n\n_mapped = []\n\n\nclass Registry:\n    def __init__(self):\n        self.conn = psycopg2.connect(\"\")\n\n    def map_imperatively(self, cls, table):\n        _mapped.append(table)\n";
        let files = [
            SourceFile {
                path: "app/plain.py",
                text: plain,
            },
            SourceFile {
                path: "app/handing.py",
                text: handing,
            },
            SourceFile {
                path: "app/registry.py",
                text: registry,
            },
        ];
        let mut memo = Memo::new();
        let results = every_file(&files, &mut memo);
        // Each file once, and `handing.py` again once `map_imperatively` keeps its argument.
        assert_eq!(memo.stats().analysed, 4);
        expect![[r#"
            setup
              psycopg2.connect() line 5
            run
              psycopg2.connect() line 5 [stored]
            Registry.__init__
              psycopg2.connect() line 8 [stored]
            Registry.map_imperatively: stores params [1]
        "#]]
        .assert_eq(&dumps(&files, &results).concat());
        let again = every_file(&files, &mut memo);
        assert_eq!((memo.stats().analysed, memo.stats().reused), (0, 4));
        assert_eq!(dumps(&files, &again), dumps(&files, &results));
    }

    #[test]
    fn unreadable_memo_bytes_are_an_error_not_a_panic() {
        assert!(Memo::from_bytes(b"").is_err());
        assert!(Memo::from_bytes(&[0xff; 64]).is_err());
        let mut bytes = Memo::new().to_bytes().unwrap();
        bytes[0] = 99;
        assert!(Memo::from_bytes(&bytes).is_err());
    }

    #[test]
    fn declared_functions_acquire_and_release() {
        let app = r#"
from vendor.db import borrow, give_back


def leaks():
    conn = borrow()
    conn.cursor()


def gives_back():
    conn = borrow()
    try:
        conn.cursor()
    finally:
        give_back(conn)


def by_method(client):
    conn = client.take()
    return conn.closed
"#;
        let files = [SourceFile {
            path: "app.py",
            text: app,
        }];
        let declared = Declarations {
            acquire: vec!["vendor.db.borrow".into(), ".take".into()],
            release: vec!["vendor.db.give_back".into()],
            slow_await: Vec::new(),
        };
        let results = analyze_project_with(Language::Python, &files, &declared);
        expect![[r#"
            leaks
              borrow() line 6 via `vendor.db.borrow` (declared in the configuration)
                held at FallThrough line 7
                held if raised at lines [7]
            gives_back
              borrow() line 11 via `vendor.db.borrow` (declared in the configuration)
            by_method
              client.take() line 19 via `take` (declared in the configuration)
                held at Return line 20
        "#]]
        .assert_eq(&results[0].dump(app));
    }
}
