//! Pool constructions in Rust: builder chains of sqlx, r2d2 (and diesel's re-export), bb8,
//! mobc and deadpool, with their sizes, whether `get()` can wait forever, and where they are
//! built. Facts from `shared/pool-apis.md`.
//!
//! Values are computed from integer literals, `const` items, `+ - * /`, `u32::MAX`, `.min(n)`
//! caps, and `std::env::var("X")` (a value from the environment, with the default of an
//! `unwrap_or(n)` when there is one). Code inside macros (`lazy_static!`) is not seen.

use rustc_hash::FxHashMap;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::span::Span;
use crate::summary::{Placement, PoolConstruction, PoolMax, Setting};

/// How deep expressions and constant names are followed.
const MAX_DEPTH: usize = 24;

/// Every pool built in the file, in source order.
pub(crate) fn find(file: &syn::File, text: &str) -> Vec<PoolConstruction> {
    let mut finder = Finder {
        text,
        uses: FxHashMap::default(),
        consts: FxHashMap::default(),
        locals: Vec::new(),
        built: Vec::new(),
        scopes: Vec::new(),
        found: Vec::new(),
        depth: 0,
    };
    finder.collect_items(&file.items, 0);
    finder.visit_file(file);
    finder.found.sort_by_key(|p| p.span.start);
    finder.found
}

/// The pool crates, as the last path segment of a builder's root names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Crate {
    Sqlx,
    R2d2,
    Bb8,
    Mobc,
    Deadpool,
}

impl Crate {
    fn name(self) -> &'static str {
        match self {
            Crate::Sqlx => "sqlx",
            Crate::R2d2 => "r2d2",
            Crate::Bb8 => "bb8",
            Crate::Mobc => "mobc",
            Crate::Deadpool => "deadpool",
        }
    }

    /// The builder method that sets the maximum, and its default.
    fn max(self) -> (&'static str, Option<u64>) {
        match self {
            Crate::Sqlx => ("max_connections", Some(10)),
            Crate::R2d2 | Crate::Bb8 => ("max_size", Some(10)),
            Crate::Mobc => ("max_open", Some(10)),
            // `available_parallelism() * 2`: not known here.
            Crate::Deadpool => ("max_size", None),
        }
    }
}

/// Where the code currently visited sits.
#[derive(Clone, Debug)]
enum Scope {
    Function {
        name: String,
        startup: bool,
        returns_pool: bool,
    },
    Loop(Span),
    /// The initialiser of a `static` (`Lazy::new(..)`, `OnceLock::get_or_init(..)`).
    Static(String),
    /// A `get_or_init`/`get_or_try_init` closure: runs once.
    Once,
    /// `map.entry(key).or_insert_with(..)`: runs once per key of `map`.
    PerKey(String),
}

struct Finder<'t> {
    text: &'t str,
    /// `use` aliases: last name -> full path (`Pool` -> `r2d2::Pool`).
    uses: FxHashMap<String, String>,
    consts: FxHashMap<String, syn::Expr>,
    /// The values of the current function's `let NAME = ...;` bindings seen so far, evaluated
    /// where they are bound (a shadowing `let` replaces the earlier value).
    locals: Vec<FxHashMap<String, Val>>,
    /// The current function's `let NAME = <pool construction>;`: NAME -> index in `found`.
    built: Vec<FxHashMap<String, usize>>,
    scopes: Vec<Scope>,
    found: Vec<PoolConstruction>,
    depth: usize,
}

impl Finder<'_> {
    fn collect_items(&mut self, items: &[syn::Item], depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for item in items {
            match item {
                syn::Item::Use(u) => self.collect_use(&u.tree, String::new(), 0),
                syn::Item::Const(c) => {
                    self.consts.insert(c.ident.to_string(), (*c.expr).clone());
                }
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = &m.content {
                        self.collect_items(items, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn collect_use(&mut self, tree: &syn::UseTree, prefix: String, depth: usize) {
        if depth > MAX_DEPTH {
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
            syn::UseTree::Path(p) => {
                self.collect_use(&p.tree, join(&p.ident.to_string()), depth + 1)
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                self.uses.insert(name.clone(), join(&name));
            }
            syn::UseTree::Rename(r) => {
                self.uses
                    .insert(r.rename.to_string(), join(&r.ident.to_string()));
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.collect_use(t, prefix.clone(), depth + 1);
                }
            }
            syn::UseTree::Glob(_) => {}
        }
    }

    /// A path as written, with its first segment expanded through the `use` items.
    fn full_path(&self, path: &syn::Path) -> String {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(first) = segments.first() else {
            return String::new();
        };
        let head = self
            .uses
            .get(first)
            .cloned()
            .unwrap_or_else(|| first.clone());
        std::iter::once(head)
            .chain(segments[1..].iter().cloned())
            .collect::<Vec<_>>()
            .join("::")
    }

    /// The crate a builder root belongs to: `PgPoolOptions::new()`, `r2d2::Pool::builder()`,
    /// `Pool::builder(manager)` (deadpool), `PgPool::connect(url)`.
    fn root_crate(&self, root: &syn::ExprCall) -> Option<(Crate, &'static str)> {
        let syn::Expr::Path(p) = &*root.func else {
            return None;
        };
        let path = self.full_path(&p.path);
        let last_two: Vec<&str> = path.rsplit("::").take(2).collect();
        let (func, ty) = (*last_two.first()?, *last_two.get(1).unwrap_or(&""));
        let database = |name: &str| -> &'static str {
            if name.starts_with("Pg") || name.contains("Postgres") {
                "PostgreSQL"
            } else if name.starts_with("MySql") {
                "MySQL"
            } else if name.starts_with("Sqlite") || name.starts_with("Any") {
                ""
            } else {
                self.database_of_uses()
            }
        };
        if ty.ends_with("PoolOptions") && func == "new" {
            return Some((Crate::Sqlx, database(ty)));
        }
        if ty.ends_with("Pool")
            && ty != "Pool"
            && matches!(
                func,
                "connect" | "connect_lazy" | "connect_with" | "connect_lazy_with"
            )
        {
            // `PgPool::connect(url)`: sqlx with the default options.
            return Some((Crate::Sqlx, database(ty)));
        }
        if ty == "Pool" && matches!(func, "builder" | "new") {
            let krate = if path.contains("r2d2") {
                Crate::R2d2
            } else if path.contains("bb8") {
                Crate::Bb8
            } else if path.contains("mobc") {
                Crate::Mobc
            } else if path.contains("deadpool") {
                Crate::Deadpool
            } else if path.contains("sqlx") && matches!(func, "connect" | "connect_lazy") {
                Crate::Sqlx
            } else {
                return None;
            };
            if krate == Crate::Deadpool && func == "new" {
                // `deadpool::unmanaged::Pool::new(n)`: a pool of objects added by hand.
                return None;
            }
            return Some((krate, self.database_of_uses()));
        }
        None
    }

    /// The database a pool of a generic type (`PoolOptions::new()`, `r2d2::Pool::builder()`)
    /// is for, from what the file's `use` items name: one kind only (MySQL; SQLite or Redis,
    /// which are not counted), or else PostgreSQL, as before.
    fn database_of_uses(&self) -> &'static str {
        let named = |words: &[&str]| {
            self.uses.values().any(|path| {
                let path = path.to_ascii_lowercase();
                words.iter().any(|w| path.contains(w))
            })
        };
        let postgres = named(&["postgres", "::pg"]);
        let mysql = named(&["mysql"]);
        let other = named(&["sqlite", "redis"]);
        match (postgres, mysql, other) {
            (false, true, false) => "MySQL",
            (false, false, true) => "",
            _ => "PostgreSQL",
        }
    }

    /// A pool built by this expression, if it is the end of a builder chain.
    fn construction(&mut self, expr: &syn::Expr) -> Option<PoolConstruction> {
        // The chain, outermost call first: `.connect(url)`, `.max_connections(5)`, ...
        let mut calls: Vec<&syn::ExprMethodCall> = Vec::new();
        let mut cur = expr;
        let root = loop {
            match cur {
                syn::Expr::MethodCall(m) => {
                    calls.push(m);
                    cur = &m.receiver;
                }
                syn::Expr::Call(c) => break c,
                syn::Expr::Await(a) => cur = &a.base,
                syn::Expr::Try(t) => cur = &t.expr,
                _ => return None,
            }
            if calls.len() > MAX_DEPTH {
                return None;
            }
        };
        let (krate, database) = self.root_crate(root)?;
        let root_func = match &*root.func {
            syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }
        .unwrap_or_default();
        // Only the end of a chain builds: `build`, `connect`, ... (or a direct `Pool::new(m)`,
        // `PgPool::connect(url)`).
        let ends = |name: &str| {
            matches!(
                name,
                "build"
                    | "build_unchecked"
                    | "connect"
                    | "connect_lazy"
                    | "connect_with"
                    | "connect_lazy_with"
            )
        };
        let built = match calls.first() {
            Some(last) => ends(&last.method.to_string()),
            None => root_func == "new" && krate != Crate::Sqlx || ends(&root_func),
        };
        if !built {
            return None;
        }
        let by_name = |name: &str| {
            // The outermost call is the one written last, which wins.
            calls
                .iter()
                .find(|m| m.method == name)
                .and_then(|m| m.args.first())
        };
        let (max_method, default) = krate.max();
        let call_span = span_of(expr);
        let max = match by_name(max_method) {
            Some(arg) => self.max_of(arg, krate, max_method),
            None => match default {
                Some(n) => PoolMax::Limit {
                    value: n,
                    how: format!("`{max_method}` not set: {n}, {}'s default", krate.name()),
                    at: call_span,
                },
                None => PoolMax::Unknown,
            },
        };
        let waits_forever = match krate {
            Crate::Deadpool => match by_name("wait_timeout") {
                None => Some(Setting {
                    span: call_span,
                    note: "deadpool's `get()` waits forever unless `wait_timeout` is set".into(),
                }),
                Some(arg) if is_none(arg) => Some(Setting {
                    span: span_of(arg),
                    note: "`wait_timeout(None)`: `get()` waits forever".into(),
                }),
                Some(_) => None,
            },
            Crate::Mobc => by_name("get_timeout")
                .filter(|a| is_none(a))
                .map(|arg| Setting {
                    span: span_of(arg),
                    note: "`get_timeout(None)`: `get()` waits forever".into(),
                }),
            _ => None,
        };
        let (placement, function) = self.placement();
        Some(PoolConstruction {
            span: call_span,
            api: format!("{}()", quote_path(&root.func)),
            library: krate.name().to_string(),
            database: database.to_string(),
            max,
            waits_forever,
            placement,
            function,
            binding: None,
            via: None,
        })
    }

    fn max_of(&self, arg: &syn::Expr, krate: Crate, method: &str) -> PoolMax {
        let at = span_of(arg);
        match self.eval(arg, 0) {
            Val::Int(0) if krate == Crate::Mobc => PoolMax::Unbounded(Setting {
                span: at,
                note: "`max_open(0)` means no limit in mobc".into(),
            }),
            Val::Int(n) => {
                let written = self.source(arg);
                PoolMax::Limit {
                    value: n,
                    how: if written == n.to_string() {
                        format!("`{method}({n})`")
                    } else {
                        format!("`{method}({written})` ({n})")
                    },
                    at,
                }
            }
            Val::Env { variable, default } => PoolMax::FromEnvironment {
                variable,
                default,
                at,
            },
            Val::Unknown => PoolMax::Unknown,
        }
    }

    /// The source text of a node, on one line.
    fn source(&self, node: &impl Spanned) -> String {
        let r = node.span().byte_range();
        let text = self.text.get(r).unwrap_or("..");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn eval(&self, expr: &syn::Expr, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::Unknown;
        }
        match expr {
            syn::Expr::Lit(l) => match &l.lit {
                syn::Lit::Int(i) => i.base10_parse::<u64>().map_or(Val::Unknown, Val::Int),
                _ => Val::Unknown,
            },
            syn::Expr::Paren(p) => self.eval(&p.expr, depth + 1),
            syn::Expr::Group(g) => self.eval(&g.expr, depth + 1),
            syn::Expr::Cast(c) => self.eval(&c.expr, depth + 1),
            syn::Expr::Path(p) => {
                let path = self.full_path(&p.path);
                match path.as_str() {
                    "u32::MAX" | "std::u32::MAX" | "core::u32::MAX" => {
                        Val::Int(u64::from(u32::MAX))
                    }
                    "usize::MAX" | "u64::MAX" => Val::Int(u64::MAX),
                    _ => {
                        let Some(name) = p.path.get_ident().map(|i| i.to_string()) else {
                            return Val::Unknown;
                        };
                        if let Some(local) = self.locals.last().and_then(|l| l.get(&name)) {
                            return local.clone();
                        }
                        match self.consts.get(&name) {
                            Some(value) => self.eval(value, depth + 1),
                            None => Val::Unknown,
                        }
                    }
                }
            }
            syn::Expr::Binary(b) => {
                let (l, r) = (
                    self.eval(&b.left, depth + 1),
                    self.eval(&b.right, depth + 1),
                );
                match (l, r) {
                    (Val::Int(a), Val::Int(c)) => match b.op {
                        syn::BinOp::Add(_) => a.checked_add(c),
                        syn::BinOp::Sub(_) => a.checked_sub(c),
                        syn::BinOp::Mul(_) => a.checked_mul(c),
                        syn::BinOp::Div(_) => a.checked_div(c),
                        _ => None,
                    }
                    .map_or(Val::Unknown, Val::Int),
                    (env @ Val::Env { .. }, Val::Int(_)) | (Val::Int(_), env @ Val::Env { .. }) => {
                        match b.op {
                            syn::BinOp::Add(_) | syn::BinOp::Mul(_) => env,
                            _ => Val::Unknown,
                        }
                    }
                    _ => Val::Unknown,
                }
            }
            syn::Expr::MethodCall(m) => {
                let receiver = self.eval(&m.receiver, depth + 1);
                let arg = m.args.first().map(|a| self.eval(a, depth + 1));
                match (m.method.to_string().as_str(), receiver, arg) {
                    // A cap: whatever the receiver is, it is at most `n`.
                    ("min", _, Some(Val::Int(n))) => Val::Int(n),
                    ("unwrap_or", Val::Env { variable, .. }, Some(Val::Int(n))) => Val::Env {
                        variable,
                        default: Some(n),
                    },
                    (
                        "parse" | "ok" | "unwrap" | "expect" | "unwrap_or_default" | "and_then"
                        | "map" | "into" | "try_into",
                        env @ Val::Env { .. },
                        _,
                    ) => env,
                    _ => Val::Unknown,
                }
            }
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else {
                    return Val::Unknown;
                };
                let path = self.full_path(&p.path);
                if path.ends_with("env::var") || path == "var" {
                    if let Some(syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    })) = c.args.first()
                    {
                        return Val::Env {
                            variable: s.value(),
                            default: None,
                        };
                    }
                }
                Val::Unknown
            }
            _ => Val::Unknown,
        }
    }

    /// Where the construction being looked at sits, and the function it is in.
    fn placement(&self) -> (Placement, String) {
        let function = self
            .scopes
            .iter()
            .rev()
            .find_map(|s| match s {
                Scope::Function { name, .. } => Some(name.clone()),
                Scope::Static(name) => Some(name.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "<module>".into());
        if let Some(scope) = self.scopes.last() {
            match scope {
                Scope::Loop(at) => return (Placement::Loop { at: *at }, function),
                Scope::Static(_) | Scope::Once => return (Placement::Singleton, function),
                Scope::PerKey(map) => {
                    let why = format!("one per key of `{map}`");
                    return (Placement::PerKey { why }, function);
                }
                Scope::Function {
                    startup,
                    returns_pool,
                    ..
                } => {
                    let placement = if *startup {
                        Placement::Startup
                    } else if *returns_pool {
                        Placement::Factory
                    } else {
                        Placement::PerCall
                    };
                    return (placement, function);
                }
            }
        }
        (Placement::Module, function)
    }

    fn enter_fn(&mut self, name: String, sig: &syn::Signature, attrs: &[syn::Attribute]) {
        let is_main_attr = attrs
            .iter()
            .any(|a| super::path_text(a.path()).ends_with("main"));
        let short = name.rsplit("::").next().unwrap_or(&name).to_string();
        let startup = is_main_attr
            || matches!(
                short.as_str(),
                "main" | "startup" | "init" | "setup" | "run" | "serve"
            )
            || ["init_", "setup_", "create_pool", "build_pool", "connect_"]
                .iter()
                .any(|p| short.starts_with(p));
        let returns_pool = match &sig.output {
            syn::ReturnType::Default => false,
            syn::ReturnType::Type(_, ty) => {
                let text = quote_type(ty);
                text.contains("Pool") || text.contains("Self")
            }
        };
        self.scopes.push(Scope::Function {
            name,
            startup,
            returns_pool,
        });
    }
}

#[derive(Clone, Debug)]
enum Val {
    Int(u64),
    Env {
        variable: String,
        default: Option<u64>,
    },
    Unknown,
}

fn is_none(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.path.is_ident("None"))
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.enter_fn(f.sig.ident.to_string(), &f.sig, &f.attrs);
        self.locals.push(FxHashMap::default());
        self.built.push(FxHashMap::default());
        syn::visit::visit_item_fn(self, f);
        self.built.pop();
        self.locals.pop();
        self.scopes.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.enter_fn(f.sig.ident.to_string(), &f.sig, &f.attrs);
        self.locals.push(FxHashMap::default());
        self.built.push(FxHashMap::default());
        syn::visit::visit_impl_item_fn(self, f);
        self.built.pop();
        self.locals.pop();
        self.scopes.pop();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        let before = self.found.len();
        syn::visit::visit_local(self, l);
        let name = match &l.pat {
            syn::Pat::Ident(p) => p.ident.to_string(),
            syn::Pat::Type(t) => match &*t.pat {
                syn::Pat::Ident(p) => p.ident.to_string(),
                _ => return,
            },
            _ => return,
        };
        if let Some(built) = self.built.last_mut() {
            if self.found.len() == before + 1 {
                built.insert(name.clone(), before);
            } else {
                built.remove(&name);
            }
        }
        let value = match &l.init {
            Some(init) if init.diverge.is_none() => self.eval(&init.expr, 0),
            _ => Val::Unknown,
        };
        if let Some(locals) = self.locals.last_mut() {
            match value {
                Val::Unknown => locals.remove(&name),
                known => locals.insert(name, known),
            };
        }
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        self.scopes.push(Scope::Static(s.ident.to_string()));
        syn::visit::visit_item_static(self, s);
        self.scopes.pop();
    }

    fn visit_expr_for_loop(&mut self, l: &'ast syn::ExprForLoop) {
        self.visit_expr(&l.expr);
        self.scopes.push(Scope::Loop(span_of(&l.for_token)));
        self.visit_block(&l.body);
        self.scopes.pop();
    }

    fn visit_expr_while(&mut self, l: &'ast syn::ExprWhile) {
        self.scopes.push(Scope::Loop(span_of(&l.while_token)));
        syn::visit::visit_expr_while(self, l);
        self.scopes.pop();
    }

    fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
        self.scopes.push(Scope::Loop(span_of(&l.loop_token)));
        syn::visit::visit_expr_loop(self, l);
        self.scopes.pop();
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if self.depth > MAX_DEPTH * 8 {
            return;
        }
        if let Some(pool) = self.construction(e) {
            self.found.push(pool);
            // The builder's own arguments hold no other pool worth reporting.
            return;
        }
        if let syn::Expr::MethodCall(m) = e {
            // `map.entry(key).or_insert_with(|| ...)`: one per key.
            if let (
                "or_insert_with" | "or_insert" | "or_insert_with_key" | "or_try_insert_with",
                syn::Expr::MethodCall(entry),
            ) = (m.method.to_string().as_str(), &*m.receiver)
            {
                if entry.method == "entry" {
                    self.visit_expr(&m.receiver);
                    self.scopes
                        .push(Scope::PerKey(self.source(&entry.receiver)));
                    self.depth += 1;
                    for arg in &m.args {
                        self.visit_expr(arg);
                    }
                    self.depth -= 1;
                    self.scopes.pop();
                    return;
                }
            }
            // `cache.insert(key, pool)` of a pool built in this function: one per key.
            if m.method == "insert" && m.args.len() == 2 {
                let mut value = &m.args[1];
                if let syn::Expr::MethodCall(c) = value {
                    if c.method == "clone" && c.args.is_empty() {
                        value = &c.receiver;
                    }
                }
                let index = match value {
                    syn::Expr::Path(p) => p
                        .path
                        .get_ident()
                        .and_then(|i| self.built.last()?.get(&i.to_string()).copied()),
                    _ => None,
                };
                if let Some(i) = index {
                    // `cache.lock().unwrap().insert(..)` is one per key of `cache`.
                    let mut map = &*m.receiver;
                    while let syn::Expr::MethodCall(c) = map {
                        if !matches!(
                            c.method.to_string().as_str(),
                            "lock" | "write" | "borrow_mut" | "unwrap" | "expect" | "get_mut"
                        ) {
                            break;
                        }
                        map = &c.receiver;
                    }
                    let map = self.source(map);
                    if let Some(pool) = self.found.get_mut(i) {
                        if !matches!(pool.placement, Placement::Loop { .. }) {
                            pool.placement = Placement::PerKey {
                                why: format!("one per key of `{map}`"),
                            };
                        }
                    }
                }
            }
        }
        // `ONCE.get_or_init(|| ...)`: the closure runs once.
        if let syn::Expr::MethodCall(m) = e {
            if matches!(
                m.method.to_string().as_str(),
                "get_or_init" | "get_or_try_init" | "call_once"
            ) {
                self.visit_expr(&m.receiver);
                self.scopes.push(Scope::Once);
                self.depth += 1;
                for arg in &m.args {
                    self.visit_expr(arg);
                }
                self.depth -= 1;
                self.scopes.pop();
                return;
            }
        }
        self.depth += 1;
        syn::visit::visit_expr(self, e);
        self.depth -= 1;
    }
}

fn span_of(node: &impl Spanned) -> Span {
    let r = node.span().byte_range();
    Span::new(r.start, r.end)
}

fn quote_path(expr: &syn::Expr) -> String {
    match expr {
        syn::Expr::Path(p) => super::path_text(&p.path),
        _ => "pool".into(),
    }
}

fn quote_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .iter()
            .map(|s| {
                let args = match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .map(|g| match g {
                            syn::GenericArgument::Type(t) => quote_type(t),
                            _ => String::new(),
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                    _ => String::new(),
                };
                format!("{}<{args}>", s.ident)
            })
            .collect::<Vec<_>>()
            .join("::"),
        syn::Type::Reference(r) => quote_type(&r.elem),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::{analyze, Language};

    /// Only the pool lines of the whole front end's dump.
    fn check(src: &str, expected: Expect) {
        let dump = analyze(Language::Rust, src).dump(src);
        let pools: String = dump
            .lines()
            .filter(|l| l.starts_with("pool "))
            .map(|l| format!("{l}\n"))
            .collect();
        expected.assert_eq(&pools);
    }

    #[test]
    fn builders_sizes_waits_and_placements() {
        check(
            r#"
use std::sync::OnceLock;
use diesel::r2d2::{ConnectionManager, Pool};
use deadpool_postgres::{Manager, Pool as DeadPool};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

const MAX: u32 = 20;
static POOL: OnceLock<PgPool> = OnceLock::new();

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = PgPoolOptions::new().max_connections(MAX * 2).connect("postgres://db").await?;
    let lazy = PgPool::connect_lazy("postgres://db")?;
    Ok(())
}

async fn shared() -> &'static PgPool {
    POOL.get_or_init(|| PgPoolOptions::new().max_connections(5).connect_lazy("postgres://db").unwrap())
}

async fn handler(url: &str) -> u64 {
    let pool = PgPoolOptions::new().max_connections(u32::MAX).connect(url).await.unwrap();
    0
}

fn from_env(url: &str) -> Pool<ConnectionManager<PgConnection>> {
    let size = std::env::var("POOL_SIZE").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    Pool::builder().max_size(std::env::var("POOL_SIZE").unwrap().parse().unwrap()).build(ConnectionManager::new(url)).unwrap()
}

fn capped(url: &str) -> Pool<ConnectionManager<PgConnection>> {
    Pool::builder().max_size(std::env::var("N").unwrap().parse::<u32>().unwrap().min(32)).build(ConnectionManager::new(url)).unwrap()
}

fn deadpool(manager: Manager) -> DeadPool {
    DeadPool::builder(manager).max_size(16).build().unwrap()
}

fn deadpool_bounded(manager: Manager) -> DeadPool {
    DeadPool::builder(manager).max_size(16).wait_timeout(Some(Duration::from_secs(5))).runtime(Runtime::Tokio1).build().unwrap()
}

async fn mobc_pool(manager: PgManager) {
    let pool = mobc::Pool::builder().max_open(0).get_timeout(None).build(manager);
}

async fn shards(urls: Vec<String>) {
    for url in urls {
        let pool = bb8::Pool::builder().build(PostgresConnectionManager::new_from_stringlike(url, NoTls).unwrap()).await.unwrap();
    }
}
"#,
            expect![[r#"
                pool PgPoolOptions::new() line 13 in main: sqlx PostgreSQL, max 40 (`max_connections(MAX * 2)` (40)), Startup
                pool PgPool::connect_lazy() line 14 in main: sqlx PostgreSQL, max 10 (`max_connections` not set: 10, sqlx's default), Startup
                pool PgPoolOptions::new() line 19 in shared: sqlx PostgreSQL, max 5 (`max_connections(5)`), Singleton
                pool PgPoolOptions::new() line 23 in handler: sqlx PostgreSQL, max 4294967295 (`max_connections(u32::MAX)` (4294967295)), PerCall
                pool Pool::builder() line 29 in from_env: r2d2 PostgreSQL, max from $POOL_SIZE (default None), Factory
                pool Pool::builder() line 33 in capped: r2d2 PostgreSQL, max 32 (`max_size(std::env::var("N").unwrap().parse::<u32>().unwrap().min(32))` (32)), Factory
                pool DeadPool::builder() line 37 in deadpool: deadpool PostgreSQL, max 16 (`max_size(16)`), waits forever (deadpool's `get()` waits forever unless `wait_timeout` is set), Factory
                pool DeadPool::builder() line 41 in deadpool_bounded: deadpool PostgreSQL, max 16 (`max_size(16)`), Factory
                pool mobc::Pool::builder() line 45 in mobc_pool: mobc PostgreSQL, unbounded (`max_open(0)` means no limit in mobc), waits forever (`get_timeout(None)`: `get()` waits forever), PerCall
                pool bb8::Pool::builder() line 50 in shards: bb8 PostgreSQL, max 10 (`max_size` not set: 10, bb8's default), Loop { at: Span { start: 1697, end: 1700 } }
            "#]],
        );
    }
}
