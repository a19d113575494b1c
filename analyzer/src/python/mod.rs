//! Python front end: tree-sitter-python source to flow summaries.
//!
//! One pass collects what the file knows (imports, pools built at module level or on `self`,
//! the functions), then every function that mentions a connection API is lowered to a flow
//! graph ([`lower`]) and solved. Functions that return connections (factories), release their
//! parameters (closers) or store them are summarised; summaries are iterated until they stop
//! changing, so a factory defined in the file is an acquisition at its call sites.

mod awaits;
mod fields;
mod lower;
mod pools;
pub(crate) mod ruff_tree;
pub(crate) mod syntax;

use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::rc::Rc;

use syntax::{Node, Tree};
use tree_sitter::Parser;

use fields::F;

use crate::flow::{self, AcqOutcome, Cfg};
use crate::project::{last_segment, Externals, Linking};
use crate::span::Span;
use crate::summary::{
    Acquisition, ExitKind, FileAnalysis, FunctionSummary, HeldAwait, Leak, Lost, NestedAcquire,
    Problem,
};
use crate::tables::{self, ClassHandle, Handle, PoolSpec};
use std::sync::Arc;

/// Deeper syntax than this is not lowered (the function is reported as a problem instead), so
/// no input can overflow the stack.
pub(crate) const MAX_DEPTH: u32 = 200;

/// Summary rounds are cheap (only functions mentioning a changed summary are redone), and a
/// chain such as release helper -> `close` -> `__exit__` -> class -> factory -> factory needs one
/// round per link; this bounds the work on adversarial input.
pub(crate) const MAX_ROUNDS: usize = 12;

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `text` into the front end's own tree: with ruff's parser, or with tree-sitter for a
/// file that nests too deeply for ruff's recursive tree (see `ruff_tree::MAX_NESTING`).
fn parse(text: &str) -> Option<Tree> {
    ruff_tree::parse(text).or_else(|| parse_tree_sitter(text))
}

/// Parses `text` into the front end's own tree with tree-sitter (tree-sitter's own tree is
/// dropped once copied).
fn parse_tree_sitter(text: &str) -> Option<Tree> {
    let tree = PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_python::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(text, None)
    })?;
    Some(Tree::from_tree_sitter(&tree))
}

/// Analyses one file, seeing other files' summaries through `ext`, and says what it exports
/// and what it looked up (for the project-wide fixed point).
pub(crate) fn analyze_linked(
    text: &str,
    path: &str,
    module: &str,
    ext: &Externals,
    demanded: &[String],
) -> (FileAnalysis, Linking) {
    let mut link = Linking {
        demanded: demanded.to_vec(),
        ..Linking::default()
    };
    let mut result = analyze_inner(text, path, module, ext, &mut link);
    result.shrink();
    link.shrink();
    (result, link)
}

#[cfg(test)]
thread_local! {
    /// How many times functions were lowered on this thread (the summary rounds' cost).
    pub(crate) static LOWERINGS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn analyze_inner(
    text: &str,
    path: &str,
    module: &str,
    ext: &Externals,
    link: &mut Linking,
) -> FileAnalysis {
    let mut result = FileAnalysis::default();
    let Some(tree) = parse(text) else {
        result.problems.push(Problem {
            span: None,
            message: "the Python parser gave up on this file".into(),
        });
        return result;
    };
    let root = tree.root_node();
    if root.has_error() {
        let (span, what) = match &tree.first_error {
            Some((start, end, message)) => {
                // Within the text, at least one byte wide where the text allows.
                let end = (*end as usize).max(*start as usize + 1).min(text.len());
                (Span::new((*start as usize).min(end), end), message.clone())
            }
            None => first_error(root),
        };
        result.problems.push(Problem {
            span: Some(span),
            message: format!("syntax error: {what}; functions containing it are not analysed"),
        });
    }
    let mut ctx = FileCtx::collect(root, text, path, module, ext);
    result.pools = pools::find(root, &ctx, ext);
    let (mut wanted, mentions) = ctx.units_to_lower(&link.demanded);
    // Each function is summarised as soon as it is solved, so its flow graph is freed at once.
    let lower_unit = |unit: &Unit, summaries: &FxHashMap<String, UserSummary>| match lower::lower(
        &ctx, unit, summaries, ext,
    ) {
        Lowered::TooDeep(span) => Outcome::TooDeep(span),
        done => {
            let user = done.user_summary(unit);
            Outcome::Done(Box::new((done.into_summary(unit, &user), user)))
        }
    };
    // Callees before their callers: most functions are lowered once, already seeing the
    // summaries of the functions of this file they call. Summaries only add facts (a factory
    // found makes its callers' results visible); whenever a summary changes, the functions
    // that mention its name are lowered (again), with the helpers they then pull in, until
    // nothing changes: a few times at most for any realistic call depth inside one file.
    let mentioned: Vec<Vec<&str>> = ctx.units.iter().map(|u| mentions.names_in(u)).collect();
    let order = ctx.callees_first(&mentioned, &mentions);
    let mut rank = vec![0u32; ctx.units.len()];
    for (k, &i) in order.iter().enumerate() {
        rank[i] = k as u32;
    }
    let mut mentioned_by: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, names) in mentioned.iter().enumerate() {
        for name in names {
            mentioned_by.entry(name).or_default().push(i);
        }
    }
    // Names whose summary is settled only once no function is left to lower, from every
    // unit: a class's (it needs all its methods) and one that several units share
    // (`@overload` stubs, a redefinition: the last unit with a summary gives it).
    let mut shared: FxHashSet<&str> = FxHashSet::default();
    let mut unit_names: FxHashSet<&str> = FxHashSet::default();
    for u in &ctx.units {
        shared.extend(u.class.as_deref());
        if !unit_names.insert(u.name.as_str()) {
            shared.insert(u.name.as_str());
        }
    }
    let origins: Vec<std::cell::OnceCell<String>> = ctx
        .units
        .iter()
        .map(|_| std::cell::OnceCell::new())
        .collect();
    // What a unit's outcome tells its callers, under its name.
    let published = |i: usize, outcome: &Outcome| match outcome {
        Outcome::Done(done) if !done.1.is_trivial() => {
            let unit = &ctx.units[i];
            let mut user = done.1.clone();
            user.origin = origins[i]
                .get_or_init(|| ctx.describe(&unit.name, unit.name_span))
                .clone();
            Some(user)
        }
        _ => None,
    };
    let mut summaries: FxHashMap<String, UserSummary> = FxHashMap::default();
    let mut results: Vec<Option<Outcome>> = ctx.units.iter().map(|_| None).collect();
    let mut times = vec![0usize; ctx.units.len()];
    let mut queue = Passes::new(
        (0..ctx.units.len()).filter(|&i| wanted[i] && !ctx.units[i].has_error),
        &rank,
    );
    // A changed name queues the functions that mention it; those not wanted before pull in the
    // helpers they call.
    let changed = |name: &str, queue: &mut Passes, wanted: &mut Vec<bool>, times: &[usize]| {
        let Some(units) = mentioned_by.get(name) else {
            return;
        };
        let may_lower = |j: usize| !ctx.units[j].has_error && times[j] <= MAX_ROUNDS;
        let mut newly = Vec::new();
        for &j in units {
            if may_lower(j) {
                queue.add(j, &rank);
                if !wanted[j] {
                    newly.push(j);
                }
            }
        }
        for j in ctx.expand_callees(wanted, &mentions, newly) {
            if may_lower(j) {
                queue.add(j, &rank);
            }
        }
    };
    loop {
        while let Some(i) = queue.pop() {
            let unit = &ctx.units[i];
            let outcome = lower_unit(unit, &summaries);
            times[i] += 1;
            #[cfg(test)]
            LOWERINGS.with(|n| n.set(n.get() + 1));
            if !shared.contains(unit.name.as_str()) {
                let user = published(i, &outcome);
                if summaries.get(&unit.name) != user.as_ref() {
                    match user {
                        Some(user) => summaries.insert(unit.name.clone(), user),
                        None => summaries.remove(&unit.name),
                    };
                    changed(last_segment(&unit.name), &mut queue, &mut wanted, &times);
                }
            }
            results[i] = Some(outcome);
        }
        queue.end_pass();
        // Every summary again, the shared names' with them.
        let mut next = FxHashMap::default();
        for (i, (unit, result)) in ctx.units.iter().zip(&results).enumerate() {
            if let Some(user) = result.as_ref().and_then(|r| published(i, r)) {
                next.insert(unit.name.clone(), user);
            }
        }
        for (class, handle, at) in class_handles(&ctx, &results) {
            let user = UserSummary {
                returns: Some(Handle::Class(Arc::new(handle))),
                origin: ctx.describe(&class, at),
                ..UserSummary::default()
            };
            next.insert(class, user);
        }
        let mut names: Vec<&str> = next
            .iter()
            .filter(|(k, v)| summaries.get(*k) != Some(*v))
            .map(|(k, _)| last_segment(k))
            .chain(
                summaries
                    .keys()
                    .filter(|k| !next.contains_key(*k))
                    .map(|k| last_segment(k)),
            )
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            changed(name, &mut queue, &mut wanted, &times);
        }
        summaries = next;
        if !queue.next_pass(&rank) {
            break;
        }
    }
    let finalizer_only: Vec<String> = class_handles(&ctx, &results)
        .into_iter()
        .filter(|(_, h, _)| h.release_methods.is_empty() && !h.cm_releases && h.finalizer.is_some())
        .map(|(class, _, _)| format!("{class}.__del__"))
        .collect();
    for (unit, outcome) in ctx.units.iter().zip(results) {
        match outcome {
            Some(Outcome::TooDeep(span)) => result.problems.push(Problem {
                span: Some(span),
                message: format!(
                    "`{}` is nested too deeply to analyse (limit {MAX_DEPTH} levels)",
                    unit.name
                ),
            }),
            Some(Outcome::Done(done)) => {
                let mut summary = done.0;
                summary.finalizer_only = finalizer_only.contains(&unit.name);
                // Most lowered functions (helpers, callers of names that turned out to mean
                // nothing) have nothing for the rules: not kept, which saves memory on large trees.
                if !summary.says_nothing() {
                    result.functions.push(summary);
                }
            }
            None => {}
        }
    }
    // Pool factories: functions of this file that build a pool and return it, classes whose
    // instances each build one.
    for pool in &result.pools {
        let Some(name) = pools::factory_name(pool) else {
            continue;
        };
        let Some(unit) = ctx.building_unit(pool) else {
            continue;
        };
        let entry = summaries.entry(name.to_string()).or_default();
        if entry.origin.is_empty() {
            entry.origin = ctx.describe(&unit.name, unit.name_span);
        }
        entry.pool = Some(PoolFactory {
            library: pool.library.clone(),
            database: pool.database.clone(),
        });
    }
    link.exports = summaries
        .into_iter()
        .map(|(name, summary)| (name, Arc::new(summary)))
        .collect();
    // In name order, so that two analyses of a file export in the same order.
    link.exports.sort_by(|a, b| a.0.cmp(&b.0));
    link.imports = std::mem::take(&mut ctx.imports).into_iter().collect();
    // Every import counts as seen with what it named at this time, used or not (a re-export in
    // `__init__.py` must not make the file look stale forever): after the lookups made, in
    // import order, each path once.
    let seen = ctx.seen.take();
    let mut added: FxHashSet<&str> = FxHashSet::default();
    let mut imported = Vec::new();
    for (_, path) in &link.imports {
        if !seen.contains_key(path.as_str()) && added.insert(path.as_str()) {
            imported.push((path.clone(), ctx.lookup(ext, path).cloned()));
        }
    }
    link.seen = seen.into_iter().collect();
    link.seen.extend(imported);
    let mut handed_to = ctx.handed_to.take();
    handed_to.sort();
    handed_to.dedup();
    link.handed_to = handed_to;
    let mut handed_keys = ctx.handed_keys.take();
    handed_keys.sort_unstable();
    link.handed_seen = (0..link.seen.len() as u32)
        .filter(|&i| handed_keys.binary_search(&link.seen[i as usize].0).is_ok())
        .collect();
    link.methods = ctx
        .units
        .iter()
        .filter(|u| u.class.is_some() && u.scope.is_none())
        .map(|u| u.name.clone())
        .collect();
    link.lowered = ctx
        .units
        .iter()
        .zip(&wanted)
        .filter(|(_, w)| **w)
        .flat_map(|(u, _)| [u.name.clone()].into_iter().chain(u.class.clone()))
        .collect();
    result
}

/// The units of a file left to lower, in passes over them in rank order (callees first). A
/// unit that a change reaches after its turn in this pass waits for the next: lowering it
/// again at once would go back and forth between the functions of a cycle, or between the
/// thousands of methods of generated classes that share a name, once per change.
struct Passes {
    now: std::collections::BTreeSet<(u32, usize)>,
    later: Vec<usize>,
    /// Whether a unit is in `now` or `later`.
    queued: Vec<bool>,
    /// The rank of the unit lowered last in this pass (`u32::MAX` once it is over).
    at: u32,
}

impl Passes {
    fn new(first: impl Iterator<Item = usize>, rank: &[u32]) -> Self {
        let mut passes = Passes {
            now: std::collections::BTreeSet::new(),
            later: Vec::new(),
            queued: vec![false; rank.len()],
            at: 0,
        };
        for i in first {
            passes.queued[i] = true;
            passes.now.insert((rank[i], i));
        }
        passes
    }

    fn add(&mut self, i: usize, rank: &[u32]) {
        if self.queued[i] {
            return;
        }
        self.queued[i] = true;
        if rank[i] > self.at {
            self.now.insert((rank[i], i));
        } else {
            self.later.push(i);
        }
    }

    fn pop(&mut self) -> Option<usize> {
        let (at, i) = self.now.pop_first()?;
        self.queued[i] = false;
        self.at = at;
        Some(i)
    }

    /// From here on, whatever is added waits for the next pass.
    fn end_pass(&mut self) {
        self.at = u32::MAX;
    }

    /// Starts the next pass; false when nothing is left to lower.
    fn next_pass(&mut self, rank: &[u32]) -> bool {
        self.now = self.later.drain(..).map(|i| (rank[i], i)).collect();
        self.at = 0;
        !self.now.is_empty()
    }
}

fn first_error(root: Node) -> (Span, String) {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            let what = if node.is_missing() {
                format!("missing `{}`", node.kind_of())
            } else {
                "unexpected input".to_string()
            };
            return (
                Span::new(
                    node.start_byte(),
                    node.end_byte().max(node.start_byte() + 1),
                ),
                what,
            );
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return (Span::new(0, 0), "unexpected input".into());
            }
        }
    }
}

/// Classes of this file whose instances own a connection: an attribute of `self` acquired in
/// the class (or taken from `__init__`'s parameter with a connection-like name) that some method
/// releases, or that only `__del__`/`weakref.finalize` releases.
fn class_handles(ctx: &FileCtx, results: &[Option<Outcome>]) -> Vec<(String, ClassHandle, Span)> {
    let mut classes: Vec<&str> = ctx
        .units
        .iter()
        .filter_map(|u| u.class.as_deref())
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let mut out = Vec::new();
    for class in classes {
        let methods: Vec<(&Unit, &UserSummary)> = ctx
            .units
            .iter()
            .zip(results)
            .filter(|(u, _)| u.class.as_deref() == Some(class))
            .filter_map(|(u, r)| match r {
                Some(Outcome::Done(done)) => Some((u, &done.1)),
                _ => None,
            })
            .collect();
        let mut attrs: Vec<&str> = Vec::new();
        for (unit, user) in &methods {
            attrs.extend(user.acquired_into.iter().map(String::as_str));
            if last_segment(&unit.name) == "__init__" {
                attrs.extend(
                    user.params_into
                        .iter()
                        .map(|(_, a)| a.as_str())
                        .filter(|a| connection_like(a)),
                );
            }
        }
        if attrs.is_empty() {
            continue;
        }
        let releases = |user: &UserSummary| {
            user.releases_attrs
                .iter()
                .any(|a| attrs.contains(&a.as_str()))
        };
        let mut release_methods = Vec::new();
        let mut cm_releases = false;
        let mut finalizer = None;
        for (unit, user) in &methods {
            let name = last_segment(&unit.name);
            let text = ctx.text_of(Some(unit.node));
            if name == "__init__"
                && text.contains("finalize(")
                && attrs.iter().any(|a| text.contains(&format!("self.{a}")))
            {
                finalizer = Some(ctx.describe(
                    &format!("weakref.finalize` in `{class}.__init__"),
                    unit.name_span,
                ));
            }
            if !releases(user) {
                continue;
            }
            match name {
                "__del__" => finalizer = Some(ctx.describe(&unit.name, unit.name_span)),
                "__exit__" | "__aexit__" => cm_releases = true,
                _ => release_methods.push(name.to_string()),
            }
        }
        if release_methods.is_empty() && !cm_releases && finalizer.is_none() {
            continue;
        }
        let at = methods
            .first()
            .map(|(u, _)| u.name_span)
            .unwrap_or_default();
        out.push((
            class.to_string(),
            ClassHandle {
                class: class.to_string(),
                release_methods,
                cm_releases,
                finalizer,
            },
            at,
        ));
    }
    out
}

/// Attribute names that hold a connection when a constructor is handed one.
fn connection_like(attr: &str) -> bool {
    // ASCII case folded as it compares (the parts and words are lower-case ASCII), rather
    // than a lower-cased copy of every attribute name.
    let a = attr.trim_start_matches('_').as_bytes();
    CONN_PARTS.iter().any(|p| {
        a.windows(p.len())
            .any(|w| w.eq_ignore_ascii_case(p.as_bytes()))
    }) || CONN_WORDS
        .iter()
        .any(|w| a.eq_ignore_ascii_case(w.as_bytes()))
}

/// What makes an attribute name connection-like (also the prefilter's seeds for it): a part
/// it contains, or the whole name, in any case after leading underscores.
pub(crate) const CONN_PARTS: &[&str] = &["conn", "session"];
pub(crate) const CONN_WORDS: &[&str] = &["db", "cnx", "con", "client"];

/// `from .db import x` in `pkg/tools.py` imports from `pkg.db`: relative module names made
/// absolute against the importing file's module path (a package, `pkg/__init__.py`, is its own
/// package). Also how the project step orders its first round (`order.rs`).
pub(crate) fn absolute_module(m: &str, module: &str, is_package: bool) -> String {
    let dots = m.chars().take_while(|&c| c == '.').count();
    if dots == 0 {
        return m.to_string();
    }
    let mut package: Vec<&str> = module.split('.').filter(|p| !p.is_empty()).collect();
    if !is_package {
        package.pop();
    }
    for _ in 1..dots {
        package.pop();
    }
    let rest = &m[dots..];
    if !rest.is_empty() {
        package.push(rest);
    }
    package.join(".")
}

/// A lowered function, summarised.
enum Outcome {
    Done(Box<(FunctionSummary, UserSummary)>),
    TooDeep(Span),
}

/// What a call to a function of this file does, for its callers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct UserSummary {
    /// Calling it yields this resource: a function that returns a connection, or a class whose
    /// instances own one.
    pub returns: Option<Handle>,
    /// It is an `async def` that returns that resource: a call gives a coroutine, and the
    /// resource is had only once the call is awaited (a raise in the `await` leaks nothing).
    pub awaited: bool,
    pub releases: Vec<usize>,
    pub stores: Vec<usize>,
    /// Methods: attributes of `self` released on every normal path.
    pub releases_attrs: Vec<String>,
    /// Methods: attributes of `self` assigned a connection acquired here, or parameter i.
    pub acquired_into: Vec<String>,
    pub params_into: Vec<(usize, String)>,
    /// Where it is defined, for messages: "`get_db` (tools.py:49)".
    pub origin: String,
    /// Parameters (0-based) that are pools it takes a connection from, itself or through a
    /// callee (CL007: calling it while holding one from the same pool).
    pub acquires_from: Vec<usize>,
    /// Calling it builds a connection pool and returns it (a pool factory).
    pub pool: Option<PoolFactory>,
}

/// What a pool factory builds, for the CL005 check at its callers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PoolFactory {
    pub library: String,
    pub database: String,
}

impl UserSummary {
    pub(crate) fn is_trivial(&self) -> bool {
        self.returns.is_none()
            && self.releases.is_empty()
            && self.stores.is_empty()
            && self.releases_attrs.is_empty()
            && self.acquired_into.is_empty()
            && self.params_into.is_empty()
            && self.acquires_from.is_empty()
            && self.pool.is_none()
    }
}

/// A function (or the module's top level) to lower on its own.
pub(crate) struct Unit<'t> {
    pub name: String,
    pub node: Node<'t>,
    /// The `def` name, or the module.
    pub name_span: Span,
    pub class: Option<String>,
    pub is_async: bool,
    pub is_module: bool,
    pub context_manager: bool,
    pub has_error: bool,
    /// The scope to resolve bare calls in first (`outer` for functions nested in `outer`).
    pub scope: Option<String>,
}

/// What the whole file knows, collected once.
pub(crate) struct FileCtx<'t> {
    pub text: &'t str,
    /// Local name -> qualified path (`pg` -> `psycopg2`, `connect` -> `psycopg2.connect`).
    pub imports: FxHashMap<String, String>,
    pub module_pools: FxHashMap<String, &'static PoolSpec>,
    /// (class, attribute) -> pool, from `self.attr = Pool(...)`.
    pub class_pools: FxHashMap<(String, String), &'static PoolSpec>,
    pub units: Vec<Unit<'t>>,
    /// Class -> the attributes its methods assign on `self`.
    pub class_attrs: FxHashMap<String, Vec<String>>,
    /// Instances of this file's classes: module-level names and `self` attributes -> class.
    pub module_types: FxHashMap<String, String>,
    pub attr_types: FxHashMap<(String, String), String>,
    /// Classes defined in this file.
    pub classes: Vec<String>,
    /// Shown in descriptions of other places (`db.py:88`); empty when unknown.
    pub path: &'t str,
    /// This file's module path (`pkg.db`), for relative imports.
    pub module: &'t str,
    /// Lookups into other files' summaries, and what they returned.
    pub seen: std::cell::RefCell<FxHashMap<String, Option<Arc<UserSummary>>>>,
    /// Extra names that make a function worth lowering (aliases of connect functions, ...).
    extra_names: FxHashSet<String>,
    /// What each imported path names in the other files, looked up once (the pools, the
    /// choice of functions, the calls and the record of what was seen all ask).
    imported: FxHashMap<String, Option<Arc<UserSummary>>>,
    /// Imported functions that lowered functions call with a value that may be a connection.
    pub handed_to: std::cell::RefCell<Vec<String>>,
    /// The lookup keys of every callee handed something that may hold a connection.
    pub handed_keys: std::cell::RefCell<Vec<String>>,
    /// Where each line starts, built on first use by [`FileCtx::describe`].
    line_starts: std::cell::OnceCell<Vec<usize>>,
    /// Method name -> the one class of this file defining it (`None`: several do), built on
    /// first use by [`FileCtx::unique_method_owner`].
    method_owners: std::cell::OnceCell<FxHashMap<String, Option<String>>>,
}

impl<'t> FileCtx<'t> {
    fn collect(
        root: Node<'t>,
        text: &'t str,
        path: &'t str,
        module: &'t str,
        ext: &Externals,
    ) -> Self {
        let mut ctx = FileCtx {
            text,
            imports: FxHashMap::default(),
            module_pools: FxHashMap::default(),
            class_pools: FxHashMap::default(),
            units: Vec::new(),
            class_attrs: FxHashMap::default(),
            module_types: FxHashMap::default(),
            attr_types: FxHashMap::default(),
            classes: Vec::new(),
            path,
            module,
            seen: std::cell::RefCell::new(FxHashMap::default()),
            extra_names: FxHashSet::default(),
            imported: FxHashMap::default(),
            line_starts: std::cell::OnceCell::new(),
            method_owners: std::cell::OnceCell::new(),
            handed_to: std::cell::RefCell::default(),
            handed_keys: std::cell::RefCell::default(),
        };
        ctx.units.push(Unit {
            name: "<module>".into(),
            node: root,
            name_span: Span::new(0, 0),
            class: None,
            is_async: false,
            is_module: true,
            context_manager: false,
            has_error: false,
            scope: None,
        });
        // Iterative walk: (node, enclosing class body, enclosing function, depth, class of the
        // enclosing method). The names are shared, not copied: every statement of a body
        // carries them (three string copies per statement were a fifth of SQLAlchemy's
        // allocations).
        type Name = Option<Rc<str>>;
        type Item<'t> = (Node<'t>, Name, Name, u32, Name);
        let mut stack: Vec<Item<'t>> = vec![(root, None, None, 0, None)];
        let mut assignments: Vec<(Node<'t>, bool, Name)> = Vec::new();
        while let Some((node, class, func, depth, method_of)) = stack.pop() {
            match node.kind_of() {
                "import_statement" | "import_from_statement" => ctx.add_import(node),
                "function_definition" if depth < MAX_DEPTH * 4 => {
                    let name = ctx.text_of(node.field(F::Name));
                    let qualified = match (&func, &class) {
                        (Some(f), _) => format!("{f}.{name}"),
                        (None, Some(c)) => format!("{c}.{name}"),
                        (None, None) => name.to_string(),
                    };
                    let decorators = node
                        .parent()
                        .filter(|p| p.kind_of() == "decorated_definition")
                        .map(|p| ctx.decorator_names(p))
                        .unwrap_or_default();
                    let name_span = node.field(F::Name).map(span).unwrap_or(span(node));
                    let owner = if func.is_none() {
                        class.clone()
                    } else {
                        method_of
                    };
                    let qualified: Rc<str> = qualified.into();
                    ctx.units.push(Unit {
                        name: qualified.to_string(),
                        node,
                        name_span,
                        class: if func.is_none() {
                            class.as_deref().map(str::to_string)
                        } else {
                            None
                        },
                        is_async: has_keyword(node, "async"),
                        is_module: false,
                        context_manager: decorators
                            .iter()
                            .any(|d| d == "contextmanager" || d == "asynccontextmanager"),
                        has_error: node.has_error(),
                        scope: func.as_deref().map(str::to_string),
                    });
                    if let Some(body) = node.field(F::Body) {
                        stack.push((body, None, Some(qualified), depth + 1, owner));
                    }
                    continue;
                }
                "class_definition" => {
                    let name = ctx.text_of(node.field(F::Name)).to_string();
                    let shared: Rc<str> = name.as_str().into();
                    ctx.classes.push(name);
                    if let Some(body) = node.field(F::Body) {
                        stack.push((body, Some(shared), func, depth + 1, None));
                    }
                    continue;
                }
                "expression_statement" => {
                    if let Some(a) = node.named_child(0).filter(|a| a.kind_of() == "assignment") {
                        ctx.note_pool_assignment(a, class.as_deref(), func.is_some());
                        if let Some(owner) = &method_of {
                            ctx.note_self_attribute(a, owner);
                        }
                        assignments.push((a, func.is_some(), method_of));
                    }
                    continue;
                }
                // Imports, definitions and assignments are statements: expressions need not be
                // walked (most of the tree's nodes).
                kind if is_statement_container(kind) => {}
                _ => continue,
            }
            if depth > MAX_DEPTH * 4 {
                continue;
            }
            // The children in reverse, so that they are taken in order.
            let first = stack.len();
            for child in node.named_children() {
                stack.push((
                    child,
                    class.clone(),
                    func.clone(),
                    depth + 1,
                    method_of.clone(),
                ));
            }
            stack[first..].reverse();
        }
        // Instances of the file's classes, now that every class is known.
        for (a, in_function, method_of) in assignments {
            let (Some(left), Some(right)) = (a.field(F::Left), a.field(F::Right)) else {
                continue;
            };
            let Some(class) = ctx.class_built_by(right) else {
                continue;
            };
            match (left.kind_of(), &method_of) {
                ("identifier", _) if !in_function => {
                    ctx.module_types
                        .insert(ctx.text_of(Some(left)).to_string(), class);
                }
                ("attribute", Some(owner)) if ctx.text_of(left.field(F::Object)) == "self" => {
                    let attr = ctx.text_of(left.field(F::Attribute)).to_string();
                    ctx.attr_types.insert((owner.to_string(), attr), class);
                }
                _ => {}
            }
        }
        // Bare names bound to connect functions or session factories also mark a function as
        // worth lowering.
        for (local, path) in &ctx.imports {
            if tables::connect_by_path(path).is_some()
                || tables::pool_by_constructor(path).is_some()
            {
                ctx.extra_names.insert(local.clone());
            }
        }
        for (name, pool) in &ctx.module_pools {
            if pool.call.is_some() {
                ctx.extra_names.insert(name.clone());
            }
        }
        ctx.extra_names.extend(ext.declared_words.iter().cloned());
        // Names imported from other files of the project whose summaries say they acquire,
        // release or own connections.
        for (local, path) in &ctx.imports {
            let found = ctx
                .imported
                .entry(path.clone())
                .or_insert_with(|| ext.lookup(path, module).cloned());
            if found.is_some() {
                ctx.extra_names.insert(local.clone());
            }
        }
        ctx
    }

    /// The summary a dotted path names in another file: [`Externals::lookup`], answered from
    /// the imports' lookups when it is an imported path.
    pub fn lookup<'s>(&'s self, ext: &'s Externals, path: &str) -> Option<&'s Arc<UserSummary>> {
        match self.imported.get(path) {
            Some(found) => found.as_ref(),
            None => ext.lookup(path, self.module),
        }
    }

    pub fn text_of(&self, node: Option<Node>) -> &'t str {
        node.and_then(|n| self.text.get(n.start_byte()..n.end_byte()))
            .unwrap_or("")
    }

    fn decorator_names(&self, decorated: Node) -> Vec<String> {
        decorated
            .named_children()
            .filter(|c| c.kind_of() == "decorator")
            .filter_map(|d| {
                let text = self.text_of(Some(d)).trim_start_matches('@');
                let head = text.split('(').next().unwrap_or("");
                head.rsplit('.').next().map(|s| s.trim().to_string())
            })
            .collect()
    }

    fn add_import(&mut self, node: Node) {
        // `from m import ...`: the module made absolute once for all its names.
        let module = (node.kind_of() == "import_from_statement")
            .then(|| self.absolute_module(self.text_of(node.field(F::ModuleName))));
        for name in node.children_by_field(F::Name) {
            let (path, alias) = match name.kind_of() {
                "aliased_import" => (
                    self.text_of(name.field(F::Name)),
                    Some(self.text_of(name.field(F::Alias))),
                ),
                _ => (self.text_of(Some(name)), None),
            };
            match (&module, alias) {
                (Some(m), alias) => {
                    let local = alias.unwrap_or(path).to_string();
                    let full = if m.is_empty() {
                        path.to_string()
                    } else {
                        format!("{m}.{path}")
                    };
                    self.imports.insert(local, full);
                }
                (None, Some(alias)) => {
                    self.imports.insert(alias.to_string(), path.to_string());
                }
                // `import a.b.c` binds `a`, which resolves to itself.
                (None, None) => {}
            }
        }
    }

    fn absolute_module(&self, m: &str) -> String {
        absolute_module(m, self.module, self.path.ends_with("__init__.py"))
    }

    /// Resolves a dotted expression (`pg.pool.ThreadedConnectionPool`) through the imports.
    pub fn resolve(&self, node: Node) -> Option<String> {
        // The parts last first, on the stack: one allocation, the path's (resolving is done
        // for most calls and attributes of every function lowered).
        const MOST: usize = 17;
        let mut parts = [""; MOST];
        let mut n = 0;
        let mut cur = node;
        loop {
            if n == MOST {
                return None;
            }
            match cur.kind_of() {
                "identifier" => {
                    parts[n] = self.text_of(Some(cur));
                    n += 1;
                    break;
                }
                "attribute" => {
                    parts[n] = self.text_of(cur.field(F::Attribute));
                    n += 1;
                    cur = cur.field(F::Object)?;
                }
                _ => return None,
            }
        }
        let parts = &parts[..n];
        let head = parts[n - 1];
        let head = self.imports.get(head).map_or(head, String::as_str);
        let len = head.len() + parts[..n - 1].iter().map(|p| p.len() + 1).sum::<usize>();
        let mut path = String::with_capacity(len);
        path.push_str(head);
        for p in parts[..n - 1].iter().rev() {
            path.push('.');
            path.push_str(p);
        }
        Some(path)
    }

    /// A pool built by this expression (`ThreadedConnectionPool(...)`, `await create_pool()`).
    pub fn pool_from_value(&self, value: Node) -> Option<&'static PoolSpec> {
        let mut v = value;
        while matches!(v.kind_of(), "await" | "parenthesized_expression") {
            v = v.named_child(0)?;
        }
        if v.kind_of() != "call" {
            return None;
        }
        let path = self.resolve(v.field(F::Function)?)?;
        let pool = tables::pool_by_constructor(&path)?;
        if pool.library == "psycopg_pool" && self.keyword_is_true(v, "close_returns") {
            return Some(&tables::PSYCOPG_POOL_CLOSE_RETURNS);
        }
        Some(pool)
    }

    fn keyword_is_true(&self, call: Node, keyword: &str) -> bool {
        self.text_of(keyword_value(call, keyword, self.text)) == "True"
    }

    /// A pool named by a type annotation (`asyncpg.Pool`, `Optional[Engine]`).
    pub fn pool_from_type(&self, ty: Node) -> Option<&'static PoolSpec> {
        let mut stack = vec![ty];
        while let Some(n) = stack.pop() {
            if matches!(n.kind_of(), "identifier" | "attribute") {
                if let Some(pool) = self.resolve(n).and_then(|p| tables::pool_by_type(&p)) {
                    return Some(pool);
                }
            }
            if stack.len() < 64 {
                stack.extend(n.named_children());
            }
        }
        None
    }

    fn note_pool_assignment(&mut self, node: Node, class: Option<&str>, in_function: bool) {
        let (Some(left), right) = (node.field(F::Left), node.field(F::Right)) else {
            return;
        };
        let pool = right
            .and_then(|r| self.pool_from_value(r))
            .or_else(|| node.field(F::Type).and_then(|t| self.pool_from_type(t)));
        let Some(pool) = pool else { return };
        match left.kind_of() {
            "identifier"
                if !in_function || self.is_declared_global(node, self.text_of(Some(left))) =>
            {
                self.module_pools
                    .insert(self.text_of(Some(left)).to_string(), pool);
            }
            "attribute" => {
                let object = self.text_of(left.field(F::Object));
                let attr = self.text_of(left.field(F::Attribute)).to_string();
                if matches!(object, "self" | "cls") {
                    // In a method the class is the enclosing function's class; find it by walking up.
                    if let Some(c) = class
                        .map(str::to_string)
                        .or_else(|| enclosing_class(node, self))
                    {
                        self.class_pools.insert((c, attr), pool);
                    }
                }
            }
            _ => {}
        }
    }

    /// Records a lookup into other files' summaries (once per key) for the fixed point.
    pub fn saw(&self, key: &str, found: Option<&Arc<UserSummary>>) {
        let mut seen = self.seen.borrow_mut();
        if !seen.contains_key(key) {
            seen.insert(key.to_string(), found.cloned());
        }
    }

    /// The class of this file an expression builds: `Wrapped(...)`.
    pub fn class_built_by(&self, value: Node) -> Option<String> {
        let mut v = value;
        while matches!(v.kind_of(), "await" | "parenthesized_expression") {
            v = v.named_child(0)?;
        }
        if v.kind_of() != "call" {
            return None;
        }
        let f = v.field(F::Function)?;
        let name = self.text_of(Some(f));
        self.classes.iter().find(|c| c.as_str() == name).cloned()
    }

    /// The function of this file that builds `pool`: the definition whose text holds it, not an
    /// `@overload` stub of the same name before it.
    pub fn building_unit(&self, pool: &crate::summary::PoolConstruction) -> Option<&Unit<'t>> {
        let at = pool.span.start as usize;
        self.units.iter().find(|u| {
            u.name == pool.function && (u.node.start_byte()..u.node.end_byte()).contains(&at)
        })
    }

    /// The one class of this file that defines `method`, if exactly one does.
    pub fn unique_method_owner(&self, method: &str) -> Option<&str> {
        // A table, not a scan of the units per call: a test module with hundreds of methods
        // makes hundreds of such calls (1.6% of SQLAlchemy's run).
        let owners = self.method_owners.get_or_init(|| {
            let mut owners: FxHashMap<String, Option<String>> = FxHashMap::default();
            for u in &self.units {
                let Some(class) = &u.class else { continue };
                owners
                    .entry(last_segment(&u.name).to_string())
                    .and_modify(|owner| {
                        if owner.as_deref() != Some(class.as_str()) {
                            *owner = None;
                        }
                    })
                    .or_insert_with(|| Some(class.clone()));
            }
            owners
        });
        owners.get(method)?.as_deref()
    }

    fn note_self_attribute(&mut self, assignment: Node, class: &str) {
        let Some(left) = assignment
            .field(F::Left)
            .filter(|l| l.kind_of() == "attribute")
        else {
            return;
        };
        if self.text_of(left.field(F::Object)) != "self" {
            return;
        }
        // Copies made only for what is new (most assignments repeat a known attribute).
        let attr = self.text_of(left.field(F::Attribute));
        let attrs = match self.class_attrs.get_mut(class) {
            Some(attrs) => attrs,
            None => self.class_attrs.entry(class.to_string()).or_default(),
        };
        if !attrs.iter().any(|a| a == attr) {
            attrs.push(attr.to_string());
        }
    }

    /// "`name` (path:line)" for messages that point at another place.
    pub fn describe(&self, name: &str, at: Span) -> String {
        // Asked for every summary of every round of the file: counting the newlines before
        // `at` each time was quadratic in a large file.
        let starts = self
            .line_starts
            .get_or_init(|| crate::span::line_starts(self.text));
        let line = crate::span::line_at(starts, at.start);
        if self.path.is_empty() {
            format!("`{name}` (line {line})")
        } else {
            format!("`{name}` ({}:{line})", self.path)
        }
    }

    /// Whether `name` is declared `global` in the function enclosing `node`.
    fn is_declared_global(&self, node: Node, name: &str) -> bool {
        let mut cur = node.parent();
        while let Some(n) = cur {
            if n.kind_of() == "function_definition" {
                let body = self.text_of(n.field(F::Body));
                return body.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with("global ") && l[7..].split(',').any(|g| g.trim() == name)
                });
            }
            cur = n.parent();
        }
        false
    }

    /// Which units to lower: those that mention a connection API, and (transitively) the
    /// functions of this file they call, whose summaries they may need. Everything else cannot
    /// change a finding and is skipped, which is most of the code in most files. Also returns
    /// where each unit's short name is mentioned, for the summary rounds.
    fn units_to_lower(&self, demanded: &[String]) -> (Vec<bool>, Mentions<'t>) {
        let mut mentions = Mentions::default();
        for (i, u) in self.units.iter().enumerate() {
            if !u.is_module {
                mentions
                    .by_short
                    .entry(last_segment(&u.name).to_string())
                    .or_default()
                    .push(i);
            }
            // Building an instance calls the class's methods (`__init__`, and `close`/`__exit__`
            // through `with`): a class name stands for all of them.
            if let Some(class) = &u.class {
                mentions.by_short.entry(class.clone()).or_default().push(i);
            }
        }
        // One lookup per word of the file: whether it is an extra name (`EXTRA`, interesting
        // when called) and whether it is some unit's short name (`UNIT`).
        const EXTRA: u8 = 1;
        const UNIT: u8 = 2;
        let mut kinds: FxHashMap<&str, u8> = FxHashMap::default();
        for name in &self.extra_names {
            *kinds.entry(name.as_str()).or_default() |= EXTRA;
        }
        for name in mentions.by_short.keys() {
            *kinds.entry(name.as_str()).or_default() |= UNIT;
        }
        let mut interesting: Vec<u32> = Vec::new();
        for (at, word) in words(self.text) {
            let kind = kinds.get(word).copied().unwrap_or(0);
            let called = || {
                let rest = self.text.get(at as usize + word.len()..).unwrap_or("");
                rest.trim_start().starts_with('(')
            };
            if (kind & EXTRA != 0 || tables::is_acquiring_name(word)) && called() {
                interesting.push(at);
            }
            if kind & UNIT != 0 {
                mentions.all.push((at, word));
            }
        }
        let mut wanted: Vec<bool> = self
            .units
            .iter()
            .map(|u| {
                !in_range(&interesting, u.node.start_byte(), u.node.end_byte()).is_empty()
                    || self.may_own_connection(u)
                    || demanded
                        .iter()
                        .any(|d| *d == u.name || u.class.as_deref() == Some(d.as_str()))
            })
            .collect();
        // Follow calls from functions (module-level code does not hand connections to helpers
        // in practice, and its range spans every function of the file).
        let start: Vec<usize> = (0..self.units.len()).filter(|&i| wanted[i]).collect();
        self.expand_callees(&mut wanted, &mentions, start);
        (wanted, mentions)
    }

    /// A method that may make its class a connection owner: `__init__` of a class keeping a
    /// connection-like attribute, or a method releasing something of `self` (`close`,
    /// `__exit__`, `__del__`, ...), which is never selected by its callers when it is a
    /// finalizer.
    fn may_own_connection(&self, unit: &Unit) -> bool {
        let Some(attrs) = unit.class.as_deref().and_then(|c| self.class_attrs.get(c)) else {
            return false;
        };
        if !attrs.iter().any(|a| connection_like(a))
            && !attrs.iter().any(|a| self.module_pools.contains_key(a))
        {
            // Attributes acquired into are found when the acquiring method is lowered.
            let text = self.text_of(Some(unit.node));
            return [
                ".close(",
                "putconn(",
                ".release(",
                ".terminate(",
                "finalize(",
            ]
            .iter()
            .any(|c| memchr::memmem::find(text.as_bytes(), c.as_bytes()).is_some())
                && memchr::memmem::find(text.as_bytes(), b"self.").is_some();
        }
        // A class keeping a connection-like attribute: all its methods can matter.
        true
    }

    /// Every unit, each after the functions and classes of this file it mentions (callees
    /// first) where recursion allows; otherwise in file order.
    fn callees_first(&self, mentioned: &[Vec<&str>], mentions: &Mentions) -> Vec<usize> {
        // The order only saves lowerings (the change tracking makes the result right in any
        // order), so a name that many units share (`close` in each of thousands of generated
        // classes) orders nothing rather than cost a square of their number.
        const SHARED_BY_MORE: usize = 64;
        let callees = |i: usize| -> Vec<usize> {
            let mut out: Vec<usize> = mentioned[i]
                .iter()
                .filter_map(|name| mentions.by_short.get(*name))
                .filter(|units| units.len() <= SHARED_BY_MORE)
                .flatten()
                .copied()
                .filter(|&j| j != i)
                .collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        // 0: not yet visited, 1: on the stack, 2: placed.
        let mut state = vec![0u8; self.units.len()];
        let mut order = Vec::with_capacity(self.units.len());
        let mut stack: Vec<(usize, Vec<usize>, usize)> = Vec::new();
        for root in 0..self.units.len() {
            if state[root] != 0 {
                continue;
            }
            state[root] = 1;
            stack.push((root, callees(root), 0));
            while let Some((i, next, k)) = stack.last_mut() {
                if let Some(&j) = next.get(*k) {
                    *k += 1;
                    if state[j] == 0 {
                        state[j] = 1;
                        stack.push((j, callees(j), 0));
                    }
                } else {
                    state[*i] = 2;
                    order.push(*i);
                    stack.pop();
                }
            }
        }
        order
    }

    /// Marks the functions of this file called (transitively) from `start` as wanted; returns
    /// the ones newly marked.
    fn expand_callees(
        &self,
        wanted: &mut [bool],
        mentions: &Mentions,
        start: Vec<usize>,
    ) -> Vec<usize> {
        let mut added = Vec::new();
        let mut frontier: Vec<usize> = start
            .into_iter()
            .filter(|&i| !self.units[i].is_module)
            .collect();
        while let Some(i) = frontier.pop() {
            for &(_, name) in mentions.in_unit(&self.units[i]) {
                for &j in mentions
                    .by_short
                    .get(name)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    if !wanted[j] {
                        wanted[j] = true;
                        added.push(j);
                        frontier.push(j);
                    }
                }
            }
        }
        added
    }
}

/// The entries of a list sorted by offset that fall in `[start, end)`.
fn in_range<T: Offset>(sorted: &[T], start: usize, end: usize) -> &[T] {
    let lo = sorted.partition_point(|t| (t.offset() as usize) < start);
    let hi = sorted.partition_point(|t| (t.offset() as usize) < end);
    &sorted[lo..hi.max(lo)]
}

trait Offset {
    fn offset(&self) -> u32;
}

impl Offset for u32 {
    fn offset(&self) -> u32 {
        *self
    }
}

impl Offset for (u32, &str) {
    fn offset(&self) -> u32 {
        self.0
    }
}

/// Where names of this file's functions occur, by byte offset.
#[derive(Default)]
struct Mentions<'t> {
    /// Every occurrence of a word that is some function's short name, by offset.
    all: Vec<(u32, &'t str)>,
    /// Short name -> the units that have it.
    by_short: FxHashMap<String, Vec<usize>>,
}

impl<'t> Mentions<'t> {
    fn in_unit(&self, unit: &Unit) -> &[(u32, &'t str)] {
        in_range(&self.all, unit.node.start_byte(), unit.node.end_byte())
    }

    /// The names a unit mentions, each once, but for its own `def` name.
    fn names_in(&self, unit: &Unit) -> Vec<&'t str> {
        let own = last_segment(&unit.name);
        let mut names: Vec<&'t str> = self
            .in_unit(unit)
            .iter()
            .filter(|&&(at, name)| !(at == unit.name_span.start && name == own))
            .map(|&(_, name)| name)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Identifier-like words of a text with their byte offsets (non-ASCII counts as a word byte).
///
/// Read 64 bytes at a time: a mask of the block's word bytes, from which the bytes that begin
/// a word and the bytes that follow one come out by shifts, without a branch per byte (the
/// byte-by-byte loop was 3.5% of SQLAlchemy's run: every word of every file analysed).
pub(crate) fn words(text: &str) -> impl Iterator<Item = (u32, &str)> {
    let bytes = text.as_bytes();
    // The block starting at `base`: its word starts and word ends still to give out, and
    // whether its last byte is a word byte (for the next block).
    let (mut base, mut begins, mut ends, mut last_is_word) = (0usize, 0u64, 0u64, 0u64);
    let mut next = 0usize;
    let mut open: Option<usize> = None;
    std::iter::from_fn(move || loop {
        match open {
            Some(start) if ends != 0 => {
                let end = base + ends.trailing_zeros() as usize;
                ends &= ends - 1;
                open = None;
                return text.get(start..end).map(|w| (start as u32, w));
            }
            None if begins != 0 => {
                open = Some(base + begins.trailing_zeros() as usize);
                begins &= begins - 1;
                continue;
            }
            _ => {}
        }
        if next >= bytes.len() {
            // A word running to the end of the text.
            let start = open.take()?;
            return text.get(start..).map(|w| (start as u32, w));
        }
        base = next;
        let block = &bytes[base..bytes.len().min(base + 64)];
        next = base + block.len();
        let mut mask = 0u64;
        for (k, &b) in block.iter().enumerate() {
            mask |= u64::from(crate::prefilter::is_word_byte(b)) << k;
        }
        let before = (mask << 1) | last_is_word;
        begins = mask & !before;
        // A byte that follows a word byte but is not one; past the text's end no byte is
        // in the mask, so a word ending a short last block ends there too (and no bit past
        // that one can be set: `before` holds none).
        ends = !mask & before;
        last_is_word = mask >> 63;
    })
}

fn enclosing_class(node: Node, ctx: &FileCtx) -> Option<String> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        if n.kind_of() == "class_definition" {
            return Some(ctx.text_of(n.field(F::Name)).to_string());
        }
        cur = n.parent();
    }
    None
}

/// Node kinds whose children include statements: the only ones a statement-level walk enters.
pub(crate) fn is_statement_container(kind: &str) -> bool {
    matches!(
        kind,
        "module"
            | "block"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "for_statement"
            | "while_statement"
            | "try_statement"
            | "except_clause"
            | "except_group_clause"
            | "finally_clause"
            | "with_statement"
            | "with_clause"
            | "match_statement"
            | "case_clause"
            | "decorated_definition"
            | "expression_statement"
    )
}

pub(crate) fn span(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// The value of keyword argument `name` of a call (`timeout` in `acquire(timeout=5)`).
pub(crate) fn keyword_value<'t>(call: Node<'t>, name: &str, text: &str) -> Option<Node<'t>> {
    let args = call.field(F::Arguments)?;
    let found = args.named_children().find(|a| {
        a.kind_of() == "keyword_argument"
            && a.field(F::Name)
                .and_then(|n| text.get(n.start_byte()..n.end_byte()))
                == Some(name)
    });
    found.and_then(|a| a.field(F::Value))
}

pub(crate) fn has_keyword(node: Node, keyword: &str) -> bool {
    let found = node
        .children()
        .any(|c| !c.is_named() && c.kind_of() == keyword);
    found
}

/// Per-acquisition facts the lowering keeps beside the graph.
#[derive(Clone, Debug)]
pub(crate) struct AcqMeta {
    pub api: String,
    pub via: Option<String>,
    pub binding: Option<String>,
    pub scoped: bool,
    /// A pseudo-acquisition standing for parameter i, to learn whether the function releases it.
    pub param: Option<usize>,
    /// A pseudo-acquisition standing for `self.<attr>`, likewise.
    pub attr: Option<String>,
    /// The pool object it is taken from, as written, when it is a pool's method.
    pub pool: Option<String>,
    /// The timeout keyword the acquiring call leaves out (CL012).
    pub waits_forever_without: Option<&'static str>,
}

impl AcqMeta {
    /// A stand-in for a parameter or an attribute of `self` (to learn whether the function
    /// releases what it is handed), not a connection acquired here.
    pub fn stands_in(&self) -> bool {
        self.param.is_some() || self.attr.is_some()
    }
}

/// What an `await` waits for (CL006): slow unrelated work, or a connection of a pool.
#[derive(Clone, Debug, Default)]
pub(crate) struct AwaitWhat {
    pub slow: Option<&'static str>,
    pub pool: Option<String>,
    /// The receiver of the awaited method as written (`session` of `session.get(...)`): when
    /// it is a connection acquired in the function, the await uses that connection, whatever
    /// the method's name says (an ORM session's `get` is a query, not an HTTP request).
    pub receiver: Option<String>,
}

/// What the rules about holding connections (CL006, CL007) need beside the graph.
#[derive(Default)]
pub(crate) struct HoldFacts {
    /// What each `await` node waits for.
    pub awaits: FxHashMap<flow::NodeId, AwaitWhat>,
    /// Calls to functions that acquire from a pool passed to them: the pool as written, and the
    /// callee.
    pub probes: FxHashMap<flow::NodeId, (String, String)>,
}

pub(crate) enum Lowered {
    Done {
        holds: Box<HoldFacts>,
        acquired_into: Vec<String>,
        params_into: Vec<(usize, String)>,
        /// Some `return` gives back what the function was handed (see `Lower`).
        returns_borrowed: bool,
        cfg: Cfg,
        metas: Vec<AcqMeta>,
        outcomes: Vec<AcqOutcome>,
        end: Span,
    },
    TooDeep(Span),
}

impl Lowered {
    fn user_summary(&self, unit: &Unit) -> UserSummary {
        let Lowered::Done {
            cfg,
            metas,
            outcomes,
            acquired_into,
            params_into,
            holds,
            returns_borrowed,
            ..
        } = self
        else {
            return UserSummary::default();
        };
        let mut s = UserSummary {
            acquired_into: acquired_into.clone(),
            params_into: params_into.clone(),
            ..UserSummary::default()
        };
        // Pools named by a parameter that this function acquires from, or hands to a callee
        // that does.
        let param_of = |pool: &str| {
            metas
                .iter()
                .find(|m| m.param.is_some() && m.binding.as_deref() == Some(pool))
                .and_then(|m| m.param)
        };
        let from = metas
            .iter()
            .filter(|m| !m.stands_in())
            .filter_map(|m| m.pool.as_deref())
            .chain(holds.probes.values().map(|(pool, _)| pool.as_str()));
        for pool in from {
            if let Some(i) = param_of(pool) {
                if !s.acquires_from.contains(&i) {
                    s.acquires_from.push(i);
                }
            }
        }
        s.acquires_from.sort_unstable();
        for ((meta, out), site) in metas.iter().zip(outcomes).zip(&cfg.acquisitions) {
            let released_always =
                out.released_somewhere && out.normal_leaks.is_empty() && !out.returned;
            match (&meta.param, &meta.attr) {
                (Some(i), _) => {
                    if released_always {
                        s.releases.push(*i);
                    } else if out.stored && out.normal_leaks.is_empty() {
                        s.stores.push(*i);
                    }
                }
                (None, Some(attr)) => {
                    if released_always {
                        s.releases_attrs.push(attr.clone());
                    }
                }
                (None, None) => {
                    if out.returned && s.returns.is_none() && !returns_borrowed {
                        s.returns = Some(site.handle.clone());
                        s.awaited = unit.is_async && !unit.context_manager;
                    }
                }
            }
        }
        s
    }

    fn into_summary(self, unit: &Unit, us: &UserSummary) -> FunctionSummary {
        let Lowered::Done {
            cfg,
            metas,
            outcomes,
            end,
            holds,
            ..
        } = self
        else {
            return FunctionSummary::default();
        };
        let HoldFacts { awaits, probes } = *holds;
        let pools: Vec<Option<String>> = metas.iter().map(|m| m.pool.clone()).collect();
        let apis: Vec<String> = metas.iter().map(|m| m.api.clone()).collect();
        // At each await, the variables of the connections acquired here that are held there
        // (not the stand-ins for parameters and attributes, which may hold anything).
        let mut held_bindings: FxHashMap<flow::NodeId, Vec<String>> = FxHashMap::default();
        for (meta, out) in metas.iter().zip(&outcomes) {
            let Some(binding) = meta.binding.as_ref().filter(|_| !meta.stands_in()) else {
                continue;
            };
            for id in out.held_at.iter().filter(|id| awaits.contains_key(id)) {
                held_bindings.entry(*id).or_default().push(binding.clone());
            }
        }
        let mut nested_acquires = Vec::new();
        let node_span =
            |id: flow::NodeId| cfg.nodes.get(id as usize).map(|n| n.span).unwrap_or(end);
        let mut acquisitions = Vec::new();
        for ((meta, out), site) in metas.into_iter().zip(outcomes).zip(&cfg.acquisitions) {
            if meta.stands_in() {
                continue;
            }
            let leak = |(origin, lost): (Option<flow::NodeId>, Option<flow::NodeId>),
                        raise: bool| Leak {
                kind: match (raise, origin) {
                    (true, _) => ExitKind::Raise,
                    (false, Some(_)) => ExitKind::Return,
                    (false, None) => ExitKind::FallThrough,
                },
                at: origin.map(node_span).unwrap_or(end),
                lost: lost.map(|id| match cfg.nodes.get(id as usize).map(|n| n.effect) {
                    Some(flow::Effect::Discard(_)) => Lost::Dropped(node_span(id)),
                    _ => Lost::Overwritten(node_span(id)),
                }),
            };
            let context_misuse = out
                .context_misuse
                .map(|id| (node_span(id), site.handle.cm_note().to_string()));
            // CL006/CL007: what is awaited or acquired while this one is held.
            let mut held_across = Vec::new();
            for &id in &out.held_at {
                let Some(node) = cfg.nodes.get(id as usize) else {
                    continue;
                };
                match node.effect {
                    flow::Effect::Await => {
                        let Some(what) = awaits.get(&id) else {
                            continue;
                        };
                        // Ex) `await session.get(User, 1)` on an ORM session acquired here and
                        // held: a query on a connection, not the HTTP request its name says.
                        let on_a_connection = what
                            .receiver
                            .as_deref()
                            .zip(held_bindings.get(&id))
                            .is_some_and(|(r, held)| held.iter().any(|b| b == r));
                        if let Some(slow) = what.slow.filter(|_| !on_a_connection) {
                            held_across.push(HeldAwait {
                                at: node.span,
                                what: slow.to_string(),
                            });
                        } else if let (Some(other), Some(mine)) = (&what.pool, &meta.pool) {
                            if other != mine {
                                held_across.push(HeldAwait {
                                    at: node.span,
                                    what: format!("a connection from another pool (`{other}`)"),
                                });
                            }
                        }
                    }
                    // Ex) the held one is lost or leaked anyway: CL001 reports it.
                    flow::Effect::Probe if out.normal_leaks.is_empty() => {
                        if let Some((pool, callee)) = probes.get(&id) {
                            if meta.pool.as_deref() == Some(pool.as_str()) {
                                nested_acquires.push(NestedAcquire {
                                    at: node.span,
                                    api: format!("{callee}()"),
                                    pool: pool.clone(),
                                    held: site.span,
                                    held_binding: meta.binding.clone(),
                                    chain: vec![callee.clone()],
                                });
                            }
                        }
                    }
                    flow::Effect::Acquire(b) if out.normal_leaks.is_empty() => {
                        let same = meta.pool.is_some()
                            && pools.get(b as usize).is_some_and(|p| *p == meta.pool);
                        if same {
                            nested_acquires.push(NestedAcquire {
                                at: cfg.acquisitions[b as usize].span,
                                api: apis.get(b as usize).cloned().unwrap_or_default(),
                                pool: meta.pool.clone().unwrap_or_default(),
                                held: site.span,
                                held_binding: meta.binding.clone(),
                                chain: Vec::new(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            held_across.sort_by_key(|h| h.at);
            held_across.dedup();
            acquisitions.push(Acquisition {
                span: site.span,
                api: meta.api,
                resource: site.handle.name(),
                finalizer: site.handle.finalizer().map(str::to_string),
                via: meta.via,
                binding: meta.binding,
                scoped: meta.scoped,
                leaks: out.normal_leaks.iter().map(|l| leak(*l, false)).collect(),
                exception_leaks: out.exception_leaks.iter().map(|l| leak(*l, true)).collect(),
                reacquired: out
                    .reacquired_while_held
                    .iter()
                    .map(|id| node_span(*id))
                    .collect(),
                context_misuse,
                returned: out.returned,
                stored: out.stored,
                pool: meta.pool,
                held_across,
                waits_forever_without: meta.waits_forever_without.map(str::to_string),
            });
        }
        FunctionSummary {
            name: unit.name.clone(),
            span: unit.name_span,
            is_async: unit.is_async,
            acquisitions,
            returns_connection: us.returns.is_some(),
            releases_params: us.releases.clone(),
            stores_params: us.stores.clone(),
            finalizer_only: false,
            nested_acquires,
            ..FunctionSummary::default()
        }
    }
}

#[cfg(test)]
mod tests;
