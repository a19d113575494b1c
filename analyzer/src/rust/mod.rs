//! The Rust front end: `syn` syntax trees lowered to the flow graph of [`crate::flow`].
//!
//! Units are free functions, methods of `impl` blocks (trait impls included), trait default
//! methods, and closures or async blocks passed to `tokio::spawn`/`std::thread::spawn`. Pools
//! are recognised by their types (through `&`, `Arc`, `web::Data`, `State`, `Extension`) and by
//! their builders; what acquires, releases and forgets is in [`tables`]. Bindings are dropped at
//! the end of their scope, by `drop(x)`, or when moved; statement temporaries at the end of the
//! statement. A Rust connection therefore never leaks at an exit: the summaries carry what the
//! rules for holding connections too long need (nested acquisitions, awaits while held,
//! forgotten connections), and no exit leaks.

mod lower;
mod pools;
pub(crate) mod tables;
#[cfg(test)]
mod tests;

use rustc_hash::{FxHashMap, FxHashSet};

use syn::spanned::Spanned;

use crate::span::{LineIndex, Span};
use crate::summary::{FileAnalysis, Problem};
use tables::RustPool;

/// Deepest nesting of expressions, statements and types that is lowered; deeper functions are
/// reported as a problem.
pub(crate) const MAX_DEPTH: u32 = 150;
/// Brackets nested deeper than this in the text are rejected before parsing: `syn` parses
/// recursively.
const MAX_BRACKET_DEPTH: usize = 256;
/// Tokens between two separators (`;` `,` `{` `}`): a longer run may nest (`!!!!x`, `a = b =
/// c`) past what the parser's recursion can take.
const MAX_SEGMENT_TOKENS: usize = 8_000;
/// The stack the parser and the lowering may need, under the pre-checks above. A thread with
/// this much left analyses a file in place; any other starts a thread of this size for it.
pub(crate) const STACK_SIZE: usize = 256 * 1024 * 1024;
/// Rounds of the in-file fixed point over "acquires from its pool parameter/field" facts.
const MAX_ROUNDS: usize = 4;

/// What one file's functions tell other files of the crate: facts by crate path (`db::load`,
/// `Repo::find`).
pub(crate) type Exports = FxHashMap<String, lower::Facts>;

/// The keys of other files' exports a file's analysis looked up (found or not): the only way
/// it depends on them.
pub(crate) type Lookups = FxHashSet<String>;

/// One file's analysis in the crate: findings, what it exports, what it looked up.
type InCrate = (FileAnalysis, Exports, Lookups);

/// Analyses one Rust file alone. Never panics on user input.
pub(crate) fn analyze(text: &str) -> FileAnalysis {
    analyze_in_crate(
        text,
        "",
        &Exports::default(),
        &crate::Declarations::default(),
    )
    .0
}

/// Analyses the files of one crate together: a function that acquires from the pool it is
/// given is known where another file calls it (`crate::db::load(&pool)`, or imported by `use`).
/// Paths are relative to the crate (`src/db.rs` is module `db`).
/// `declared` carries the configuration's `slow-await` functions (CL006).
///
/// With `prefilter`, a file is parsed only when its text names a pool crate or type
/// ([`crate::prefilter::Seeds::rust`]), or when it mentions a function or method whose facts
/// another analysed file exports (found in one pass, repeated until nothing more is needed):
/// the front end finds pools only through those names, so a file without them has no
/// findings and exports nothing. The others get an empty analysis.
pub(crate) fn analyze_crate(
    files: &[crate::SourceFile],
    declared: &crate::Declarations,
    prefilter: bool,
) -> Vec<FileAnalysis> {
    use rayon::prelude::*;
    let modules: Vec<String> = files.iter().map(|f| module_of(f.path)).collect();
    let mut state = Crate {
        round: vec![Default::default(); files.len()],
        ext: Exports::default(),
    };
    let mut chosen = if prefilter {
        let seeds = crate::prefilter::Seeds::rust();
        files.par_iter().map(|f| seeds.may_matter(f.text)).collect()
    } else {
        vec![true; files.len()]
    };
    let mut fresh: Vec<usize> = (0..files.len()).filter(|&i| chosen[i]).collect();
    loop {
        // Facts only grow as files are added (each is "acquires from its pool ..."), so the
        // fixed point goes on from where the last one ended.
        fixed_point(files, &modules, declared, &chosen, &fresh, &mut state);
        let names: Vec<&str> = state
            .ext
            .keys()
            .map(|k| k.rsplit("::").next().unwrap_or(k))
            .collect();
        fresh = crate::prefilter::mentioning(files, &names, &chosen);
        if fresh.is_empty() {
            return state.round.into_iter().map(|(a, _, _)| a).collect();
        }
        for &i in &fresh {
            chosen[i] = true;
        }
    }
}

/// Where the crate's fixed point stands: each file's analysis and exports (empty for the files
/// not analysed), and the exports every file sees.
struct Crate {
    round: Vec<InCrate>,
    ext: Exports,
}

/// Analyses the `fresh` files against the current exports, then re-analyses the chosen files
/// that name a changed export until the exports settle.
fn fixed_point(
    files: &[crate::SourceFile],
    modules: &[String],
    declared: &crate::Declarations,
    chosen: &[bool],
    fresh: &[usize],
    Crate { round, ext }: &mut Crate,
) {
    use rayon::prelude::*;
    let analyse = |round: &mut Vec<InCrate>, which: &[usize], ext: &Exports| {
        let mut which = which.to_vec();
        crate::project::largest_first(files, &mut which);
        let done: Vec<(usize, InCrate)> = which
            .par_iter()
            .with_max_len(1)
            .map(|&i| {
                (
                    i,
                    analyze_in_crate(files[i].text, &modules[i], ext, declared),
                )
            })
            .collect();
        for (i, r) in done {
            round[i] = r;
        }
    };
    analyse(round, fresh, ext);
    for _ in 1..MAX_ROUNDS {
        let next = merge_exports(round);
        if next == *ext {
            break;
        }
        // Only a file that looked up a changed export can see the change: the others would
        // come out the same.
        let changed: Lookups = next
            .iter()
            .filter(|(k, v)| ext.get(*k) != Some(*v))
            .map(|(k, _)| k)
            .chain(ext.keys().filter(|k| !next.contains_key(*k)))
            .cloned()
            .collect();
        *ext = next;
        let todo: Vec<usize> = (0..files.len())
            .filter(|&i| chosen[i] && !round[i].2.is_disjoint(&changed))
            .collect();
        if todo.is_empty() {
            break;
        }
        analyse(round, &todo, ext);
    }
}

/// The exports of every file of a crate; a path two files both export (two types named `Repo`
/// in different modules) is left out, since which one a call means is unknown.
fn merge_exports(round: &[InCrate]) -> Exports {
    let mut next = Exports::default();
    let mut clashing = Vec::new();
    for (_, exports, _) in round {
        for (key, facts) in exports {
            if next.insert(key.clone(), facts.clone()).is_some() {
                clashing.push(key.clone());
            }
        }
    }
    for key in clashing {
        next.remove(&key);
    }
    next
}

/// The module path of a file of a crate: `src/db.rs` and `src/db/mod.rs` -> `db`, `src/lib.rs`
/// and `src/main.rs` -> the root.
fn module_of(path: &str) -> String {
    let path = path.replace('\\', "/");
    let rel = match path.rfind("src/") {
        Some(i) => &path[i + 4..],
        None => path.as_str(),
    };
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    if matches!(parts.last(), Some(&"mod") | Some(&"lib") | Some(&"main")) {
        parts.pop();
    }
    parts.join("::")
}

fn analyze_in_crate(
    text: &str,
    module: &str,
    ext: &Exports,
    declared: &crate::Declarations,
) -> InCrate {
    if let Some(problem) = too_nested(text) {
        let analysis = FileAnalysis {
            problems: vec![problem],
            ..FileAnalysis::default()
        };
        return (analysis, Exports::default(), Lookups::default());
    }
    // A thread started with `crate::ANALYSIS_STACK_BYTES` (the command line's workers) has the
    // stack in place: a thread started per file made the Rust crates of bench/compare.sh about
    // a fifth slower (paired runs) and cost 1 MiB of peak memory.
    let worker = if analyses_in_place() {
        Ok(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || analyze_here(text, module, ext, declared),
        )))
    } else {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("connlint-rust".into())
                .stack_size(STACK_SIZE)
                .spawn_scoped(scope, || analyze_here(text, module, ext, declared))
                .map(|handle| handle.join())
        })
    };
    match worker {
        Ok(Ok(done)) => done,
        Ok(Err(_)) => {
            // The span table of a parse the panic cut short (a thread that ends drops its own).
            proc_macro2::extra::invalidate_current_thread_spans();
            let analysis = FileAnalysis {
                problems: vec![Problem {
                    span: None,
                    message: "internal error: the Rust front end crashed on this file".into(),
                }],
                ..FileAnalysis::default()
            };
            (analysis, Exports::default(), Lookups::default())
        }
        // Ex) no thread can be started: analyse on this thread, with the same depth limits.
        Err(_) => analyze_here(text, module, ext, declared),
    }
}

/// Whether this thread has the stack to parse and lower a file in place.
fn analyses_in_place() -> bool {
    stacker::remaining_stack().is_some_and(|left| left >= STACK_SIZE)
}

fn analyze_here(
    text: &str,
    module: &str,
    ext: &Exports,
    declared: &crate::Declarations,
) -> InCrate {
    let mut result = FileAnalysis::default();
    let file = match syn::parse_file(text) {
        Ok(file) => file,
        Err(err) => {
            // The error's line and column, as a byte offset into the text.
            let start = err.span().start();
            let index = LineIndex::new(text);
            let span = index.line_span(start.line as u32).map(|line| {
                let on_line = text
                    .get(line.start as usize..line.end as usize)
                    .unwrap_or("");
                let col: usize = on_line.chars().take(start.column).map(char::len_utf8).sum();
                let at = line.start as usize + col;
                Span::new(at, at)
            });
            result.problems.push(Problem {
                span,
                message: format!(
                    "syntax error: {}; the file is not analysed",
                    // proc-macro2's lexer error says nothing of the cause.
                    match err.to_string().as_str() {
                        "cannot parse string into token stream" => {
                            "unbalanced brackets or an unterminated literal".to_string()
                        }
                        other => other.to_string(),
                    }
                ),
            });
            proc_macro2::extra::invalidate_current_thread_spans();
            return (result, Exports::default(), Lookups::default());
        }
    };
    result.pools = pools::find(&file, text);
    let index = LineIndex::new(text);
    let mut ctx = FileCtx {
        module: module.to_string(),
        ext: ext.clone(),
        slow: crate::Declarations {
            slow_await: declared.slow_await.clone(),
            ..crate::Declarations::default()
        },
        ..FileCtx::default()
    };
    ctx.collect(&file.items, "", 0);
    let mut units = Vec::new();
    collect_units(&ctx, &file.items, "", &mut units, 0);
    for (i, u) in units.iter().enumerate() {
        match &u.self_type {
            Some(t) => ctx
                .methods
                .entry(format!("{t}::{}", u.short))
                .or_default()
                .push(i),
            None => ctx.functions.entry(u.short.clone()).or_default().push(i),
        }
        ctx.method_names.entry(u.short.clone()).or_default().push(i);
    }

    let mut facts: FxHashMap<String, lower::Facts> = FxHashMap::default();
    let mut lowered = Vec::new();
    for _ in 0..MAX_ROUNDS {
        lowered = lower_all(&ctx, &units, &facts, &index);
        let next: FxHashMap<String, lower::Facts> = lowered
            .iter()
            .filter(|l| !l.facts.is_empty())
            .map(|l| (l.name.clone(), l.facts.clone()))
            .collect();
        if next == facts {
            break;
        }
        facts = next;
    }
    let mut exports = Exports::default();
    for unit in &units {
        let Some(f) = facts.get(&unit.name) else {
            continue;
        };
        let key = match &unit.self_type {
            Some(t) => format!("{t}::{}", unit.short),
            None if module.is_empty() => unit.name.clone(),
            None => format!("{module}::{}", unit.name),
        };
        exports.insert(key, f.clone());
    }
    for l in lowered {
        if let Some(span) = l.too_deep {
            result.problems.push(Problem {
                span: Some(span),
                message: format!(
                    "`{}` is nested too deeply to analyse (limit {MAX_DEPTH} levels)",
                    l.name
                ),
            });
            continue;
        }
        result.functions.push(l.summary);
    }
    result.shrink();
    proc_macro2::extra::invalidate_current_thread_spans();
    (result, exports, ctx.looked_up.take())
}

/// Lowers every unit, and the spawned closures found in them, in order.
fn lower_all<'f>(
    ctx: &FileCtx,
    units: &[Unit<'f>],
    facts: &FxHashMap<String, lower::Facts>,
    index: &LineIndex,
) -> Vec<lower::Lowered> {
    let mut out = Vec::new();
    let mut queue: Vec<Unit<'f>> = units.to_vec();
    queue.reverse();
    let mut budget = 10_000usize;
    while let Some(unit) = queue.pop() {
        if budget == 0 {
            break;
        }
        budget -= 1;
        let (l, spawned) = lower::lower(ctx, &unit, facts, index);
        out.push(l);
        for s in spawned.into_iter().rev() {
            queue.push(s);
        }
    }
    out
}

/// What the rest of the file tells about names: imports, pool type aliases, pool fields, and
/// where each function is.
#[derive(Default)]
pub(crate) struct FileCtx {
    /// Local name -> full path, from `use` items (`Pool` -> `bb8::Pool`).
    pub imports: FxHashMap<String, String>,
    /// `type DbPool = r2d2::Pool<..>;`
    pub pool_aliases: FxHashMap<String, &'static RustPool>,
    /// Field name -> pool, from every struct of the file.
    pub pool_fields: FxHashMap<String, &'static RustPool>,
    /// Statics holding a pool: the pool, and whether the static is a cell to `get()` it from.
    pub pool_statics: FxHashMap<String, (&'static RustPool, bool)>,
    /// The pool crate the file imports, for a bare `Pool<..>`.
    pub crate_hint: Option<&'static RustPool>,
    /// Free function name -> units.
    pub functions: FxHashMap<String, Vec<usize>>,
    /// `Type::method` -> units.
    pub methods: FxHashMap<String, Vec<usize>>,
    /// Method or function name -> units, for calls on receivers of unknown type.
    pub method_names: FxHashMap<String, Vec<usize>>,
    /// This file's module in its crate (`db`, `api::users`; empty for the root or alone).
    pub module: String,
    /// Other files' facts by crate path.
    pub ext: Exports,
    /// The keys of `ext` looked up so far (found or not).
    pub looked_up: std::cell::RefCell<Lookups>,
    /// The configuration's `slow-await` functions (CL006).
    pub slow: crate::Declarations,
}

impl FileCtx {
    fn collect(&mut self, items: &[syn::Item], _module: &str, depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        for item in items {
            match item {
                syn::Item::Use(u) => self.add_use(&u.tree, String::new(), 0),
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = &m.content {
                        self.collect(items, &m.ident.to_string(), depth + 1);
                    }
                }
                _ => {}
            }
        }
        // Aliases and fields after all imports are known.
        for item in items {
            match item {
                syn::Item::Type(t) => {
                    if let Some(pool) = self.pool_of_type(&t.ty, 0) {
                        self.pool_aliases.insert(t.ident.to_string(), pool);
                    }
                }
                syn::Item::Static(st) => self.note_static(&st.ident, &st.ty),
                syn::Item::Const(c) => self.note_static(&c.ident, &c.ty),
                syn::Item::Struct(s) => {
                    for field in &s.fields {
                        if let (Some(name), Some(pool)) =
                            (&field.ident, self.pool_of_type(&field.ty, 0))
                        {
                            self.pool_fields.insert(name.to_string(), pool);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// `static POOL: OnceLock<PgPool>` (a cell: `POOL.get()` is the pool) or
    /// `static POOL: LazyLock<PgPool>` (the static derefs to the pool).
    fn note_static(&mut self, name: &syn::Ident, ty: &syn::Type) {
        let syn::Type::Path(p) = ty else {
            return;
        };
        let Some(last) = p.path.segments.last() else {
            return;
        };
        let kind = last.ident.to_string();
        let cell = match kind.as_str() {
            "OnceLock" | "OnceCell" => true,
            "Lazy" | "LazyLock" | "LazyCell" => false,
            _ => return,
        };
        let inner = match &last.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            }),
            _ => None,
        };
        if let Some(pool) = inner.and_then(|t| self.pool_of_type(t, 0)) {
            self.pool_statics.insert(name.to_string(), (pool, cell));
        }
    }

    fn add_use(&mut self, tree: &syn::UseTree, prefix: String, depth: u32) {
        if depth > 32 {
            return;
        }
        let join = |name: &str| {
            if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}::{name}")
            }
        };
        match tree {
            syn::UseTree::Path(p) => self.add_use(&p.tree, join(&p.ident.to_string()), depth + 1),
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                self.note_crate(&prefix);
                self.imports.insert(name.clone(), join(&name));
            }
            syn::UseTree::Rename(r) => {
                self.note_crate(&prefix);
                self.imports
                    .insert(r.rename.to_string(), join(&r.ident.to_string()));
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.add_use(t, prefix.clone(), depth + 1);
                }
            }
            syn::UseTree::Glob(_) => self.note_crate(&prefix),
        }
    }

    fn note_crate(&mut self, path: &str) {
        let root = path.split("::").next().unwrap_or("");
        let pool = match root {
            "sqlx" => &tables::SQLX,
            "r2d2" | "r2d2_postgres" | "r2d2_sqlite" | "diesel" => &tables::R2D2,
            "deadpool" | "deadpool_postgres" | "deadpool_redis" | "deadpool_sqlite" => {
                &tables::DEADPOOL
            }
            "bb8" | "bb8_postgres" | "bb8_redis" => &tables::BB8,
            "mobc" | "mobc_postgres" | "mobc_redis" => &tables::MOBC,
            _ => return,
        };
        if self.crate_hint.is_none() {
            self.crate_hint = Some(pool);
        }
    }

    /// A path as written, its first segment resolved through the imports.
    pub fn resolve(&self, path: &syn::Path) -> String {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(first) = segs.first() else {
            return String::new();
        };
        let rest = &segs[1..];
        let head = self
            .imports
            .get(first)
            .cloned()
            .unwrap_or_else(|| first.clone());
        let head = head
            .strip_prefix("crate::")
            .map(str::to_string)
            .unwrap_or(head);
        if rest.is_empty() {
            head
        } else {
            format!("{head}::{}", rest.join("::"))
        }
    }

    /// The pool a type names, through references and wrappers.
    pub fn pool_of_type(&self, ty: &syn::Type, depth: u32) -> Option<&'static RustPool> {
        if depth > 16 {
            return None;
        }
        match ty {
            syn::Type::Reference(r) => self.pool_of_type(&r.elem, depth + 1),
            syn::Type::Paren(p) => self.pool_of_type(&p.elem, depth + 1),
            syn::Type::Group(g) => self.pool_of_type(&g.elem, depth + 1),
            syn::Type::Path(p) => {
                let last = p.path.segments.last()?;
                let name = last.ident.to_string();
                let first_arg = || match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    }),
                    _ => None,
                };
                if tables::TYPE_WRAPPERS.contains(&name.as_str()) {
                    return first_arg().and_then(|t| self.pool_of_type(t, depth + 1));
                }
                if let Some(pool) = self.pool_aliases.get(&name) {
                    return Some(pool);
                }
                let full = self.resolve(&p.path);
                if let Some(pool) = pool_by_path(&full) {
                    return Some(pool);
                }
                if name != "Pool" || full.contains("::") && !full.ends_with("Pool") {
                    return None;
                }
                // Ex) a bare `Pool<Postgres>` (sqlx) or `Pool<ConnectionManager<..>>` (diesel).
                let arg = first_arg()
                    .and_then(|t| match t {
                        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default();
                match arg.as_str() {
                    "Postgres" | "Sqlite" | "MySql" | "Any" => Some(&tables::SQLX),
                    _ if full == "Pool" => self.crate_hint,
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The pool an expression builds, when it is a builder chain (`PgPoolOptions::new()
    /// .connect(url).await?`, `r2d2::Pool::builder().build(m)?`, `cfg.create_pool(..)`).
    pub fn pool_of_builder(&self, expr: &syn::Expr) -> Option<&'static RustPool> {
        let mut e = expr;
        for _ in 0..64 {
            match e {
                syn::Expr::Try(t) => e = &t.expr,
                syn::Expr::Await(a) => e = &a.base,
                syn::Expr::Paren(p) => e = &p.expr,
                syn::Expr::MethodCall(m) => {
                    if m.method == tables::DEADPOOL_CREATE_METHOD {
                        return Some(&tables::DEADPOOL);
                    }
                    e = &m.receiver;
                }
                syn::Expr::Call(c) => return self.builder_call(c),
                _ => return None,
            }
        }
        None
    }

    /// The pool a call at the root of a builder chain starts to build.
    pub fn builder_call(&self, c: &syn::ExprCall) -> Option<&'static RustPool> {
        let syn::Expr::Path(p) = &*c.func else {
            return None;
        };
        let full = self.resolve(&p.path);
        for pool in tables::POOLS {
            if pool.builders.iter().any(|b| ends_with_path(&full, b)) {
                return Some(pool);
            }
        }
        // Ex) `Pool::builder()` after `use bb8::Pool;` resolves above; a bare one takes the
        // crate the file imports.
        if full == "Pool::builder" || full == "Pool::new" {
            return self.crate_hint;
        }
        None
    }
}

/// The pool crate of a type path (`sqlx::PgPool`, `deadpool_postgres::Pool`).
fn pool_by_path(full: &str) -> Option<&'static RustPool> {
    tables::POOLS.iter().copied().find(|pool| {
        pool.types.iter().any(|t| {
            if t.contains("::") {
                full == *t
            } else {
                full.rsplit("::").next() == Some(*t)
            }
        })
    })
}

/// Whether `full` is `suffix` or ends with `::suffix`.
pub(crate) fn ends_with_path(full: &str, suffix: &str) -> bool {
    full == suffix
        || full
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with("::"))
}

/// A pool as the lowering knows it: what it was written as, and which crate's.
#[derive(Clone, Debug)]
pub(crate) struct PoolRef {
    pub key: String,
    pub pool: Option<&'static RustPool>,
}

/// What a unit's body is.
#[derive(Clone, Copy)]
pub(crate) enum Body<'f> {
    Block(&'f syn::Block),
    Expr(&'f syn::Expr),
}

/// One function (or spawned closure) to lower.
#[derive(Clone)]
pub(crate) struct Unit<'f> {
    /// `load`, `Repo::find`, `main::{spawn@12}`.
    pub name: String,
    /// The name callers use: `find`.
    pub short: String,
    pub name_span: Span,
    pub span: Span,
    pub is_async: bool,
    pub self_type: Option<String>,
    /// Parameters, `self` not counted: their names (empty for patterns) and pools.
    pub params: Vec<(String, Option<PoolRef>)>,
    pub body: Body<'f>,
    /// Pools captured from the enclosing function (spawned closures).
    pub env: Vec<(String, PoolRef)>,
}

pub(crate) fn span_of(node: &impl Spanned) -> Span {
    let r = node.span().byte_range();
    Span::new(r.start, r.end)
}

fn collect_units<'f>(
    ctx: &FileCtx,
    items: &'f [syn::Item],
    module: &str,
    out: &mut Vec<Unit<'f>>,
    depth: u32,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let qualify = |name: &str| {
        if module.is_empty() {
            name.to_string()
        } else {
            format!("{module}::{name}")
        }
    };
    for item in items {
        match item {
            syn::Item::Fn(f) => out.push(unit_of(
                ctx,
                &f.sig,
                &f.block,
                qualify(&f.sig.ident.to_string()),
                None,
                span_of(f),
            )),
            syn::Item::Impl(imp) => {
                let self_type = match &*imp.self_ty {
                    syn::Type::Path(p) => p
                        .path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default(),
                    _ => "_".to_string(),
                };
                for it in &imp.items {
                    if let syn::ImplItem::Fn(m) = it {
                        out.push(unit_of(
                            ctx,
                            &m.sig,
                            &m.block,
                            qualify(&format!("{self_type}::{}", m.sig.ident)),
                            Some(self_type.clone()),
                            span_of(m),
                        ));
                    }
                }
            }
            syn::Item::Trait(t) => {
                let trait_name = t.ident.to_string();
                for it in &t.items {
                    if let syn::TraitItem::Fn(m) = it {
                        if let Some(block) = &m.default {
                            out.push(unit_of(
                                ctx,
                                &m.sig,
                                block,
                                qualify(&format!("{trait_name}::{}", m.sig.ident)),
                                Some(trait_name.clone()),
                                span_of(m),
                            ));
                        }
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_units(ctx, items, &qualify(&m.ident.to_string()), out, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn unit_of<'f>(
    ctx: &FileCtx,
    sig: &'f syn::Signature,
    block: &'f syn::Block,
    name: String,
    self_type: Option<String>,
    span: Span,
) -> Unit<'f> {
    let mut params = Vec::new();
    for input in &sig.inputs {
        let syn::FnArg::Typed(pt) = input else {
            continue;
        };
        let name = pattern_name(&pt.pat).unwrap_or_default();
        let pool = ctx.pool_of_type(&pt.ty, 0).map(|pool| PoolRef {
            key: name.clone(),
            pool: Some(pool),
        });
        params.push((name, pool.filter(|p| !p.key.is_empty())));
    }
    Unit {
        name,
        short: sig.ident.to_string(),
        name_span: span_of(&sig.ident),
        span,
        is_async: sig.asyncness.is_some(),
        self_type,
        params,
        body: Body::Block(block),
        env: Vec::new(),
    }
}

/// A path as written, segments joined by `::` (`http::fetch`), generics left out.
pub(crate) fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The one name a parameter pattern binds: `pool`, `mut pool`, `State(pool)`, `Data(pool)`.
pub(crate) fn pattern_name(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::TupleStruct(t) if t.elems.len() == 1 => t.elems.first().and_then(pattern_name),
        syn::Pat::Type(t) => pattern_name(&t.pat),
        syn::Pat::Reference(r) => pattern_name(&r.pat),
        syn::Pat::Paren(p) => pattern_name(&p.pat),
        _ => None,
    }
}

/// The index of the closing quote of the string literal opening at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() && bytes[i] != b'"' {
        if bytes[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// Past a block comment (nested ones included) that opens at `i`.
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The last byte of a character literal opening at `i` (`'x'`, `'\n'`, `'é'`), or `i` itself
/// for a lifetime or label (`'a`).
fn skip_char_literal(bytes: &[u8], i: usize) -> usize {
    if bytes.get(i + 1) == Some(&b'\\') {
        let mut j = i + 3;
        while j < bytes.len() && j < i + 12 && bytes[j] != b'\'' {
            j += 1;
        }
        return j.min(bytes.len().saturating_sub(1));
    }
    // One character (its UTF-8 length from the first byte) then a closing quote.
    let len = match bytes.get(i + 1) {
        Some(&b) if b < 0x80 => 1,
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(_) => 2,
        None => return i,
    };
    if bytes.get(i + 1 + len) == Some(&b'\'') && bytes.get(i + 1) != Some(&b'\'') {
        return i + 1 + len;
    }
    i
}

/// The number of `#`s of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) opening at `i`.
fn raw_string_hashes(bytes: &[u8], i: usize) -> Option<usize> {
    // Ex) `for` or `tr"`: the `r` must start a token.
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if bytes[j] == b'b' {
        j += 1;
    }
    if bytes.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while bytes.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    (bytes.get(j) == Some(&b'"')).then_some(hashes)
}

/// Past a raw string literal opening at `i`.
fn skip_raw_string(bytes: &[u8], i: usize) -> usize {
    let hashes = raw_string_hashes(bytes, i).unwrap_or(0);
    let mut j = i;
    while j < bytes.len() && bytes[j] != b'"' {
        j += 1;
    }
    j += 1;
    while j < bytes.len() {
        if bytes[j] == b'"'
            && bytes[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&b| b == b'#')
                .count()
                == hashes
        {
            return j + 1 + hashes;
        }
        j += 1;
    }
    bytes.len()
}

/// Rejects texts whose nesting the recursive parser could not take.
fn too_nested(text: &str) -> Option<Problem> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut tokens = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'"' => i = skip_string(bytes, i),
            b'\'' => i = skip_char_literal(bytes, i),
            b'r' | b'b' if raw_string_hashes(bytes, i).is_some() => {
                i = skip_raw_string(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if c == b'{' {
                    tokens = 0;
                }
                if depth > MAX_BRACKET_DEPTH {
                    return Some(Problem {
                        span: Some(Span::new(i, i + 1)),
                        message: format!(
                            "brackets nested more than {MAX_BRACKET_DEPTH} deep; the file is not analysed"
                        ),
                    });
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if c == b'}' {
                    tokens = 0;
                }
            }
            b';' | b',' => tokens = 0,
            c if c.is_ascii_whitespace() => {}
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                while i + 1 < bytes.len()
                    && (bytes[i + 1].is_ascii_alphanumeric() || bytes[i + 1] == b'_')
                {
                    i += 1;
                }
                tokens += 1;
            }
            _ => tokens += 1,
        }
        if tokens > MAX_SEGMENT_TOKENS {
            return Some(Problem {
                span: Some(Span::new(i, i + 1)),
                message: format!(
                    "an expression of more than {MAX_SEGMENT_TOKENS} tokens; the file is not analysed"
                ),
            });
        }
        i += 1;
    }
    None
}
