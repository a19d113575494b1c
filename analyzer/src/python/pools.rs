//! Pool constructions: where a file builds connection pools, how big they may grow, whether
//! callers can wait forever, and where they sit (hence how many of each exist).
//!
//! The constructors come from [`tables::POOL_SIZINGS`]. Argument values are computed where
//! that is simple and safe: literals, module constants, `+ - * //`, `int()`, `min()`/`max()`,
//! and `os.environ.get("X", "10")`/`os.getenv`/`os.environ["X"]` (a value from the
//! environment, with its default). Anything else is unknown, never guessed.

use rustc_hash::{FxHashMap, FxHashSet};

use super::syntax::Node;

use super::fields::F;
use super::{words, FileCtx, PoolFactory};
use crate::project::Externals;
use crate::span::Span;
use crate::summary::{Placement, PoolConstruction, PoolMax, Setting};
use crate::tables::{self, Missing, Param, PoolSizing, SizeRule, WaitRule};

/// Library roots whose import makes a file worth scanning.
const ROOTS: &[&str] = &[
    "psycopg2",
    "psycopg_pool",
    "asyncpg",
    "sqlalchemy",
    "aiopg",
    "aiomysql",
    "mysql",
    "redis",
    "dbutils",
    "DBUtils",
];

/// How deep constant folding follows names and nested expressions.
const MAX_EVAL_DEPTH: usize = 12;

/// Rounds of "a function that returns what a pool factory returns is a pool factory".
const FACTORY_ROUNDS: usize = 4;

/// Every pool construction in the file, in text order: calls to pool constructors, and calls
/// to pool factories (of this file, or imported) where the pool is built again and again.
pub(super) fn find(root: Node, ctx: &FileCtx, ext: &Externals) -> Vec<PoolConstruction> {
    let mut found = find_direct(root, ctx);
    // Factories known so far: local name -> (what it builds, where it is defined).
    let mut factories: FxHashMap<String, (PoolFactory, String)> = FxHashMap::default();
    for (local, path) in &ctx.imports {
        if let Some(summary) = ctx.lookup(ext, path) {
            if let Some(pool) = &summary.pool {
                factories.insert(local.clone(), (pool.clone(), summary.origin.clone()));
            }
        }
    }
    let mut seen_calls = Vec::new();
    for _ in 0..FACTORY_ROUNDS {
        for pool in &found {
            let Some(name) = factory_name(pool) else {
                continue;
            };
            let factory = PoolFactory {
                library: pool.library.clone(),
                database: pool.database.clone(),
            };
            let origin = match ctx.building_unit(pool) {
                Some(unit) => ctx.describe(&unit.name, unit.name_span),
                None => format!("`{}`", pool.function),
            };
            factories
                .entry(name.to_string())
                .or_insert((factory, origin));
        }
        if factories.is_empty() {
            break;
        }
        let mut added = false;
        for (at, word) in words(ctx.text) {
            let Some((factory, origin)) = factories.get(word) else {
                continue;
            };
            let Some(call) = call_named_at(root, at as usize, word.len()) else {
                continue;
            };
            // Only plain calls (`make_engine(url)`), and each call once.
            if call.field(F::Function).map(|f| f.kind_of()) != Some("identifier")
                || seen_calls.contains(&call.id())
            {
                continue;
            }
            seen_calls.push(call.id());
            let (placement, function, binding) = placement(call, ctx);
            if !placement.repeats() && placement != Placement::Factory {
                continue;
            }
            found.push(PoolConstruction {
                span: span_of(call),
                api: format!("{word}()"),
                library: factory.library.clone(),
                database: factory.database.clone(),
                max: PoolMax::Unknown,
                waits_forever: None,
                placement,
                function,
                binding,
                via: Some(origin.clone()),
            });
            added = true;
        }
        if !added {
            break;
        }
    }
    found.sort_by_key(|p| p.span.start);
    found
}

/// The function or class whose calls build `pool` again: a top-level function that returns it
/// (a factory), or a top-level class whose `__init__` keeps it on `self` (every instance has
/// its own pool).
pub(super) fn factory_name(pool: &PoolConstruction) -> Option<&str> {
    match pool.placement {
        Placement::Factory if !pool.function.contains('.') => Some(&pool.function),
        Placement::Instance => pool
            .function
            .strip_suffix(".__init__")
            .filter(|class| !class.contains('.')),
        _ => None,
    }
}

/// Calls to the constructors of the tables.
fn find_direct(root: Node, ctx: &FileCtx) -> Vec<PoolConstruction> {
    // `import psycopg2.pool` binds no new local name, so the text is asked too.
    let imports_a_library = ctx.imports.values().any(|path| {
        let head = path.split('.').next().unwrap_or(path);
        ROOTS.contains(&head)
    }) || imports_a_root(ctx.text);
    if !imports_a_library {
        return Vec::new();
    }
    // The names a constructor can be called by here: its own last component, or a local alias.
    // Asked of every word of the file: a set, not a list of some forty names.
    let mut names: FxHashSet<&str> = tables::pool_constructor_words().collect();
    for (local, path) in &ctx.imports {
        if tables::pool_sizing(path).is_some() {
            names.insert(local);
        }
    }
    let constants = module_constants(root, ctx);
    let eval = Eval {
        ctx,
        constants: &constants,
    };
    let mut found = Vec::new();
    let mut last_call = None;
    for (at, word) in words(ctx.text) {
        if !names.contains(word) {
            continue;
        }
        let Some(call) = call_named_at(root, at as usize, word.len()) else {
            continue;
        };
        if last_call == Some(call.id()) {
            continue;
        }
        last_call = Some(call.id());
        if let Some(pool) = construction(call, ctx, &eval) {
            found.push(pool);
        }
    }
    found
}

/// Whether the text holds `import {root}` for some root of [`ROOTS`]: one search for
/// `import ` (which cannot overlap itself, so every such place is found), then the roots
/// compared where it ends.
fn imports_a_root(text: &str) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), b"import ").any(|at| {
        let rest = &text.as_bytes()[at + "import ".len()..];
        ROOTS.iter().any(|root| rest.starts_with(root.as_bytes()))
    })
}

/// The call whose callee ends with the word at `at` (`create_engine(` or `redis.Redis.from_url(`).
fn call_named_at(root: Node, at: usize, len: usize) -> Option<Node> {
    let word = root.descendant_for_byte_range(at, at + len)?;
    if word.kind_of() != "identifier" {
        return None;
    }
    let mut callee = word;
    if let Some(parent) = word.parent() {
        if parent.kind_of() == "attribute"
            && parent.field(F::Attribute).map(|a| a.id()) == Some(word.id())
        {
            callee = parent;
        }
    }
    let call = callee.parent()?;
    (call.kind_of() == "call" && call.field(F::Function).map(|f| f.id()) == Some(callee.id()))
        .then_some(call)
}

fn construction(call: Node, ctx: &FileCtx, eval: &Eval) -> Option<PoolConstruction> {
    let callee = call.field(F::Function)?;
    let path = ctx.resolve(callee)?;
    let sizing = tables::pool_sizing(&path)?;
    let args = Args::of(call, ctx);
    if sizing
        .shares_with
        .is_some_and(|k| args.keywords.contains_key(k))
    {
        return None;
    }
    let call_span = span_of(call);
    let mut database = sizing.database.to_string();
    let max = match &sizing.size {
        SizeRule::Max {
            param,
            missing,
            zero_unlimited,
            none_unlimited,
            default_note,
        } => single_max(
            sizing,
            &args,
            eval,
            call_span,
            param,
            missing,
            (*zero_unlimited, *none_unlimited),
            default_note,
        ),
        SizeRule::PoolPlusOverflow => {
            if let Some(url) = args.get(&tables::Param {
                name: "url",
                position: Some(0),
            }) {
                if let Val::Str(url) = eval.eval(url, 0) {
                    database = database_of_url(&url).to_string();
                }
            }
            if args.keywords.contains_key("poolclass") {
                // NullPool, StaticPool, SingletonThreadPool: not a sized queue of connections.
                PoolMax::Unknown
            } else {
                pool_plus_overflow(&args, eval, call_span)
            }
        }
        SizeRule::MaxOrMin => max_or_min(&args, eval, call_span),
    };
    if sizing.library == "DBUtils" {
        let creator = args
            .positional
            .first()
            .map(|n| ctx.text_of(Some(*n)).to_ascii_lowercase())
            .unwrap_or_default();
        if creator.contains("mysql") {
            database = "MySQL".into();
        } else if creator.contains("sqlite") {
            database = String::new();
        }
    }
    let waits_forever = match &sizing.wait {
        WaitRule::Bounded => None,
        WaitRule::Always(note) => Some(Setting {
            span: call_span,
            note: note.to_string(),
        }),
        WaitRule::WhenNone(param, note) => args
            .get(param)
            .filter(|v| matches!(eval.eval(*v, 0), Val::None))
            .map(|v| Setting {
                span: span_of(v),
                note: note.to_string(),
            }),
        WaitRule::WhenTrue(param, note) => args
            .get(param)
            .filter(|v| matches!(eval.eval(*v, 0), Val::Bool(true)))
            .map(|v| Setting {
                span: span_of(v),
                note: note.to_string(),
            }),
    };
    let (placement, function, binding) = placement(call, ctx);
    Some(PoolConstruction {
        span: call_span,
        api: format!("{}()", ctx.text_of(Some(callee))),
        library: sizing.library.to_string(),
        database,
        max,
        waits_forever,
        placement,
        function,
        binding,
        via: None,
    })
}

#[allow(clippy::too_many_arguments)]
fn single_max(
    sizing: &PoolSizing,
    args: &Args,
    eval: &Eval,
    call_span: Span,
    param: &Param,
    missing: &Missing,
    (zero_unlimited, none_unlimited): (bool, bool),
    default_note: &str,
) -> PoolMax {
    let library = sizing.library;
    let name = param.name;
    let default = |at: Span| match missing {
        Missing::Value(v) => PoolMax::Limit {
            value: *v,
            how: format!("`{name}` not set: {default_note}"),
            at,
        },
        Missing::Unlimited => PoolMax::Unbounded(Setting {
            span: at,
            note: format!("`{name}` not set: no limit in {library}"),
        }),
        Missing::Required => PoolMax::Unknown,
    };
    let Some(value) = args.get(param) else {
        return if args.has_splat {
            PoolMax::Unknown
        } else {
            default(call_span)
        };
    };
    let at = span_of(value);
    match eval.eval(value, 0) {
        Val::Int(0) if zero_unlimited => PoolMax::Unbounded(Setting {
            span: at,
            note: format!("`{name}=0` means no limit in {library}"),
        }),
        Val::None if none_unlimited => PoolMax::Unbounded(Setting {
            span: at,
            note: format!("`{name}=None` means no limit in {library}"),
        }),
        Val::None => default(at),
        Val::Int(n) => match u64::try_from(n) {
            Ok(n) => PoolMax::Limit {
                value: n,
                how: described(name, eval.ctx.text_of(Some(value)), n),
                at,
            },
            Err(_) => PoolMax::Unknown,
        },
        Val::Env { variable, default } => PoolMax::FromEnvironment {
            variable,
            default: default.and_then(|d| u64::try_from(d).ok()),
            at,
        },
        _ => PoolMax::Unknown,
    }
}

/// "`max_size=20`", or "`max_size=POOL_MAX` (20)" when the text is not the number.
fn described(name: &str, text: &str, n: u64) -> String {
    if text.trim() == n.to_string() {
        format!("`{name}={n}`")
    } else {
        format!("`{name}={text}` ({n})")
    }
}

/// SQLAlchemy: `pool_size` (5) + `max_overflow` (10); `pool_size=0` or a negative overflow is
/// no limit.
fn pool_plus_overflow(args: &Args, eval: &Eval, call_span: Span) -> PoolMax {
    let size_param = Param {
        name: "pool_size",
        position: None,
    };
    let overflow_param = Param {
        name: "max_overflow",
        position: None,
    };
    let value_of = |param: &Param, default: i64| -> (Val, Span, String) {
        match args.get(param) {
            Some(v) => {
                let val = eval.eval(v, 0);
                let text = match &val {
                    Val::Int(n) => described(param.name, eval.ctx.text_of(Some(v)), *n as u64),
                    _ => String::new(),
                };
                (val, span_of(v), text)
            }
            None if args.has_splat => (Val::Unknown, call_span, String::new()),
            None => (
                Val::Int(default),
                call_span,
                format!("`{}` not set: {default}", param.name),
            ),
        }
    };
    let (size, size_at, size_text) = value_of(&size_param, 5);
    let (overflow, overflow_at, overflow_text) = value_of(&overflow_param, 10);
    if let Val::Int(0) = size {
        return PoolMax::Unbounded(Setting {
            span: size_at,
            note: "`pool_size=0` means no limit in SQLAlchemy".into(),
        });
    }
    if let Val::Int(n) = overflow {
        if n < 0 {
            return PoolMax::Unbounded(Setting {
                span: overflow_at,
                note: format!("`max_overflow={n}` means no overflow limit in SQLAlchemy"),
            });
        }
    }
    match (size, overflow) {
        (Val::Int(a), Val::Int(b)) if a > 0 => PoolMax::Limit {
            value: (a + b) as u64,
            how: format!("{size_text} + {overflow_text}"),
            at: if size_at == call_span {
                overflow_at
            } else {
                size_at
            },
        },
        (Val::Env { variable, default }, other) | (other, Val::Env { variable, default }) => {
            let other = match other {
                Val::Int(n) => Some(n),
                _ => None,
            };
            PoolMax::FromEnvironment {
                variable,
                default: default
                    .zip(other)
                    .and_then(|(d, o)| u64::try_from(d + o).ok()),
                at: if matches!(eval_kind(args, &size_param, eval), Some(true)) {
                    size_at
                } else {
                    overflow_at
                },
            }
        }
        _ => PoolMax::Unknown,
    }
}

/// Whether the argument evaluates to an environment value.
fn eval_kind(args: &Args, param: &Param, eval: &Eval) -> Option<bool> {
    args.get(param)
        .map(|v| matches!(eval.eval(v, 0), Val::Env { .. }))
}

/// psycopg_pool: `max_size`, which defaults to `min_size` (4).
fn max_or_min(args: &Args, eval: &Eval, call_span: Span) -> PoolMax {
    let max = Param {
        name: "max_size",
        position: None,
    };
    let min = Param {
        name: "min_size",
        position: None,
    };
    let given = args
        .get(&max)
        .filter(|v| !matches!(eval.eval(*v, 0), Val::None));
    let (param, value) = match given {
        Some(v) => (&max, v),
        None => match args.get(&min) {
            Some(v) => (&min, v),
            None if args.has_splat => return PoolMax::Unknown,
            None => {
                return PoolMax::Limit {
                    value: 4,
                    how: "`max_size` not set: `min_size`, 4 by default".into(),
                    at: call_span,
                }
            }
        },
    };
    let at = span_of(value);
    match eval.eval(value, 0) {
        Val::Int(n) if n >= 0 => PoolMax::Limit {
            value: n as u64,
            how: if param.name == "min_size" {
                format!(
                    "`max_size` not set: {}",
                    described("min_size", eval.ctx.text_of(Some(value)), n as u64)
                )
            } else {
                described("max_size", eval.ctx.text_of(Some(value)), n as u64)
            },
            at,
        },
        Val::Env { variable, default } => PoolMax::FromEnvironment {
            variable,
            default: default.and_then(|d| u64::try_from(d).ok()),
            at,
        },
        _ => PoolMax::Unknown,
    }
}

fn database_of_url(url: &str) -> &'static str {
    let scheme = url
        .split([':', '+'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => "",
        "mysql" | "mariadb" => "MySQL",
        "oracle" => "Oracle",
        "mssql" => "SQL Server",
        _ => "PostgreSQL",
    }
}

/// Where the call sits: its placement, the function it is in, and what it is stored in.
fn placement(call: Node, ctx: &FileCtx) -> (Placement, String, Option<String>) {
    // The value as a whole: `await create_pool()`, `(create_engine(...))`.
    let mut value = call;
    while let Some(p) = value.parent() {
        if matches!(p.kind_of(), "await" | "parenthesized_expression") {
            value = p;
        } else {
            break;
        }
    }
    let parent = value.parent();
    let mut binding = None;
    let mut left_kind = "";
    let mut left_object = String::new();
    let mut returned = false;
    let mut per_key = None;
    if let Some(p) = parent {
        match p.kind_of() {
            "assignment" if p.field(F::Right).map(|r| r.id()) == Some(value.id()) => {
                if let Some(left) = p.field(F::Left) {
                    binding = Some(ctx.text_of(Some(left)).to_string());
                    left_kind = left.kind_of();
                    if left.kind_of() == "subscript" {
                        let container = ctx.text_of(left.field(F::Value));
                        per_key = Some(format!("one per key of `{container}`"));
                    }
                    if left.kind_of() == "attribute" {
                        left_object = ctx.text_of(left.field(F::Object)).to_string();
                    }
                }
            }
            "return_statement" => returned = true,
            "argument_list" => {
                // `_pools.setdefault(key, create_pool())`
                if let Some(outer) = p.parent().filter(|c| c.kind_of() == "call") {
                    let callee = ctx.text_of(outer.field(F::Function));
                    if let Some(container) = callee.strip_suffix(".setdefault") {
                        per_key = Some(format!("one per key of `{container}`"));
                        binding = Some(format!("{container}[...]"));
                    }
                }
            }
            _ => {}
        }
    }
    // The enclosing function, and any loop between it and the call.
    let mut loop_at = None;
    let mut loop_node = None;
    let mut function = None;
    let mut cur = call.parent();
    while let Some(n) = cur {
        match n.kind_of() {
            "for_statement"
            | "while_statement"
            | "list_comprehension"
            | "dictionary_comprehension"
            | "set_comprehension"
            | "generator_expression"
                if loop_at.is_none() =>
            {
                let keyword = n.child(0).map(span_of).unwrap_or_else(|| span_of(n));
                loop_at = Some(keyword);
                loop_node = Some(n);
            }
            "function_definition" => {
                function = Some(n);
                break;
            }
            _ => {}
        }
        cur = n.parent();
    }
    let Some(function) = function else {
        let placement = match loop_at {
            Some(at) => Placement::Loop { at },
            None => Placement::Module,
        };
        return (placement, "<module>".into(), binding);
    };
    let name = ctx.text_of(function.field(F::Name)).to_string();
    let qualified = match super::enclosing_class(function, ctx) {
        Some(class) => format!("{class}.{name}"),
        None => name.clone(),
    };
    if let Some(at) = loop_at {
        // A retry loop (`while True: engine = create_engine(url); try: check(engine); return
        // engine`): the pool it returns from inside the loop is the one kept, as a factory's.
        let local = binding.as_deref().filter(|_| left_kind == "identifier");
        let retry = loop_node
            .and_then(|l| l.field(F::Body))
            .zip(local)
            .is_some_and(|(body, local)| {
                // `return engine` itself, not a value computed from it (`return ok(engine)`).
                ctx.text_of(Some(body))
                    .lines()
                    .any(|l| l.trim().strip_prefix("return ") == Some(local))
            });
        if retry {
            return (Placement::Factory, qualified, binding);
        }
        return (Placement::Loop { at }, qualified, binding);
    }
    let decorators = decorators(function, ctx);
    if is_startup(&name, &decorators) {
        return (Placement::Startup, qualified, binding);
    }
    if decorators.iter().any(|d| {
        let d = d.split('(').next().unwrap_or(d);
        matches!(d.rsplit('.').next(), Some("lru_cache" | "cache" | "cached"))
    }) {
        let placement = if has_parameters(function, ctx) {
            Placement::PerKey {
                why: "`@lru_cache` builds one per distinct argument".into(),
            }
        } else {
            Placement::Singleton
        };
        return (placement, qualified, binding);
    }
    if let Some(why) = per_key {
        return (Placement::PerKey { why }, qualified, binding);
    }
    if returned {
        return (Placement::Factory, qualified, binding);
    }
    let placement = match left_kind {
        "identifier" => {
            let local = binding.as_deref().unwrap_or("");
            if ctx.is_declared_global(call, local) {
                Placement::Singleton
            } else if returns_name(function, local, ctx) {
                Placement::Factory
            } else if let Some(stored) = stored_name(function, local, ctx) {
                stored
            } else {
                Placement::PerCall
            }
        }
        "attribute" if matches!(left_object.as_str(), "self") => Placement::Instance,
        // `cls._pool = ...`, `app.state.pool = ...`, `Registry.pool = ...`: kept beyond the call.
        "attribute" => Placement::Singleton,
        _ => Placement::PerCall,
    };
    (placement, qualified, binding)
}

/// The decorators of a function, as written without the `@`.
fn decorators(function: Node, ctx: &FileCtx) -> Vec<String> {
    let Some(parent) = function
        .parent()
        .filter(|p| p.kind_of() == "decorated_definition")
    else {
        return Vec::new();
    };
    let found = parent
        .named_children()
        .filter(|c| c.kind_of() == "decorator")
        .map(|d| {
            ctx.text_of(Some(d))
                .trim_start_matches('@')
                .trim()
                .to_string()
        })
        .collect();
    found
}

/// Functions that run once when a program or server starts.
fn is_startup(name: &str, decorators: &[String]) -> bool {
    if name.starts_with("__") {
        // `__init__` and other special methods run per instance, not at start-up.
        return false;
    }
    let name = name.trim_start_matches('_');
    let by_name = matches!(
        name,
        "main"
            | "cli"
            | "startup"
            | "on_startup"
            | "lifespan"
            | "setup"
            | "init"
            | "create_app"
            | "run"
    ) || [
        "init_",
        "setup_",
        "startup_",
        "on_startup_",
        "create_app",
        "lifespan",
    ]
    .iter()
    .any(|p| name.starts_with(p));
    let by_decorator = decorators.iter().any(|d| {
        d.contains("on_event(\"startup\")")
            || d.contains("on_event('startup')")
            || d.contains("before_serving")
            || d.contains("before_first_request")
            || d.contains("before_server_start")
            || d.contains("on_startup")
    });
    by_name || by_decorator
}

fn has_parameters(function: Node, ctx: &FileCtx) -> bool {
    let Some(params) = function.field(F::Parameters) else {
        return false;
    };
    let found = params
        .named_children()
        .any(|p| !matches!(ctx.text_of(Some(p)), "self" | "cls"));
    found
}

/// Whether the function has a `return NAME` (or returns a tuple containing it).
fn returns_name(function: Node, name: &str, ctx: &FileCtx) -> bool {
    if name.is_empty() {
        return false;
    }
    let body = ctx.text_of(function.field(F::Body));
    body.lines().any(|l| {
        let l = l.trim();
        l.strip_prefix("return ")
            .is_some_and(|rest| rest.split([',', '(', ')', ' ']).any(|w| w == name))
    })
}

/// Where the function keeps a pool it first bound to the local `name`, as the placements of
/// the same stores made directly: `_pools[key] = name` or `_pools.setdefault(key, name)` (one
/// per key), `self.pool = name` (one per instance), `cls.pool = name` or another object's
/// attribute (kept beyond the call). `None` when it is not stored so. Read off the lines of
/// the body, as [`returns_name`] reads returns.
fn stored_name(function: Node, name: &str, ctx: &FileCtx) -> Option<Placement> {
    if name.is_empty() {
        return None;
    }
    let body = ctx.text_of(function.field(F::Body));
    body.lines().find_map(|l| {
        let l = l.trim();
        if let Some((container, args)) = l.split_once(".setdefault(") {
            let last = args.trim_end().strip_suffix(')')?.rsplit(',').next()?;
            return (last.trim() == name && !container.contains(['(', ' '])).then(|| {
                Placement::PerKey {
                    why: format!("one per key of `{container}`"),
                }
            });
        }
        let (left, right) = plain_assignment(l)?;
        if right != name {
            return None;
        }
        if let Some((container, _)) = left.split_once('[').filter(|_| left.ends_with(']')) {
            Some(Placement::PerKey {
                why: format!("one per key of `{container}`"),
            })
        } else if let Some(attr) = left.strip_prefix("self.") {
            (!attr.contains(['.', '['])).then_some(Placement::Instance)
        } else {
            left.contains('.').then_some(Placement::Singleton)
        }
    })
}

/// The two sides of a line that is one plain assignment (`a[k] = b`), trimmed; `None` for
/// comparisons, augmented and annotated assignments, and chains.
fn plain_assignment(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    let at = memchr::memchr(b'=', bytes)?;
    let before = at.checked_sub(1).and_then(|i| bytes.get(i));
    if before.is_some_and(|b| b"=!<>+-*/%&|^@:".contains(b)) || bytes.get(at + 1) == Some(&b'=') {
        return None;
    }
    let (left, right) = (line[..at].trim(), line[at + 1..].trim());
    let word = |w: &str| !w.is_empty() && w.bytes().all(crate::prefilter::is_word_byte);
    (word(right) && !left.is_empty() && !left.contains(['(', ' ', ',', ':']))
        .then_some((left, right))
}

/// Module-level `NAME = value` assignments made exactly once.
fn module_constants<'t>(root: Node<'t>, ctx: &FileCtx<'t>) -> FxHashMap<&'t str, Node<'t>> {
    let mut seen: FxHashMap<&str, Option<Node>> = FxHashMap::default();
    for statement in root.named_children() {
        if statement.kind_of() != "expression_statement" {
            continue;
        }
        let Some(assignment) = statement
            .named_child(0)
            .filter(|a| a.kind_of() == "assignment")
        else {
            continue;
        };
        let (Some(left), Some(right)) = (assignment.field(F::Left), assignment.field(F::Right))
        else {
            continue;
        };
        if left.kind_of() == "identifier" {
            let name = ctx.text_of(Some(left));
            seen.entry(name)
                .and_modify(|v| *v = None)
                .or_insert(Some(right));
        }
    }
    seen.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// A call's arguments.
struct Args<'t> {
    positional: Vec<Node<'t>>,
    keywords: FxHashMap<&'t str, Node<'t>>,
    /// `*args` or `**kwargs`: a parameter not seen may still be passed.
    has_splat: bool,
}

impl<'t> Args<'t> {
    fn of(call: Node<'t>, ctx: &FileCtx<'t>) -> Self {
        let mut args = Args {
            positional: Vec::new(),
            keywords: FxHashMap::default(),
            has_splat: false,
        };
        let Some(list) = call.field(F::Arguments) else {
            return args;
        };
        for a in list.named_children() {
            match a.kind_of() {
                "keyword_argument" => {
                    if let Some(v) = a.field(F::Value) {
                        args.keywords.insert(ctx.text_of(a.field(F::Name)), v);
                    }
                }
                "list_splat" | "dictionary_splat" => args.has_splat = true,
                "comment" => {}
                _ => args.positional.push(a),
            }
        }
        args
    }

    fn get(&self, param: &Param) -> Option<Node<'t>> {
        self.keywords
            .get(param.name)
            .copied()
            .or_else(|| param.position.and_then(|i| self.positional.get(i).copied()))
    }
}

/// A value computed from the source.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Val {
    Int(i64),
    Str(String),
    Bool(bool),
    None,
    /// From an environment variable, with its default when it has one.
    Env {
        variable: String,
        default: Option<i64>,
    },
    Unknown,
}

struct Eval<'a, 't> {
    ctx: &'a FileCtx<'t>,
    constants: &'a FxHashMap<&'t str, Node<'t>>,
}

impl Eval<'_, '_> {
    fn eval(&self, node: Node, depth: usize) -> Val {
        if depth > MAX_EVAL_DEPTH {
            return Val::Unknown;
        }
        let text = self.ctx.text_of(Some(node));
        match node.kind_of() {
            "integer" => parse_int(text).map_or(Val::Unknown, Val::Int),
            "string" => string_value(node, self.ctx).map_or(Val::Unknown, Val::Str),
            "none" => Val::None,
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            "identifier" => match self.constants.get(text) {
                Some(value) => self.eval(*value, depth + 1),
                None => Val::Unknown,
            },
            "parenthesized_expression" => node
                .named_child(0)
                .map_or(Val::Unknown, |n| self.eval(n, depth + 1)),
            "unary_operator" => match (
                self.ctx.text_of(node.field(F::Operator)),
                node.field(F::Argument).map(|a| self.eval(a, depth + 1)),
            ) {
                ("-", Some(Val::Int(n))) => Val::Int(-n),
                ("+", Some(v)) => v,
                _ => Val::Unknown,
            },
            "binary_operator" => {
                let (Some(l), Some(r)) = (node.field(F::Left), node.field(F::Right)) else {
                    return Val::Unknown;
                };
                let op = self.ctx.text_of(node.field(F::Operator));
                arithmetic(op, self.eval(l, depth + 1), self.eval(r, depth + 1))
            }
            "subscript" => self.environ_subscript(node).unwrap_or(Val::Unknown),
            "call" => self.call(node, depth),
            _ => Val::Unknown,
        }
    }

    fn call(&self, node: Node, depth: usize) -> Val {
        let callee = self.ctx.text_of(node.field(F::Function));
        let path = node
            .field(F::Function)
            .and_then(|f| self.ctx.resolve(f))
            .unwrap_or_else(|| callee.to_string());
        let args: Vec<Node> = node
            .field(F::Arguments)
            .map(|list| {
                let args: Vec<Node> = list
                    .named_children()
                    .filter(|a| a.kind_of() != "comment")
                    .collect();
                args
            })
            .unwrap_or_default();
        match path.as_str() {
            "int" => match args.first().map(|a| self.eval(*a, depth + 1)) {
                Some(Val::Str(s)) => parse_int(s.trim()).map_or(Val::Unknown, Val::Int),
                Some(v @ (Val::Int(_) | Val::Env { .. })) => v,
                _ => Val::Unknown,
            },
            "os.environ.get" | "os.getenv" => {
                let Some(Val::Str(variable)) = args.first().map(|a| self.eval(*a, depth + 1))
                else {
                    return Val::Unknown;
                };
                let default = args.get(1).and_then(|d| match self.eval(*d, depth + 1) {
                    Val::Int(n) => Some(n),
                    Val::Str(s) => parse_int(s.trim()),
                    _ => None,
                });
                Val::Env { variable, default }
            }
            "min" | "max" => {
                let values: Vec<Val> = args.iter().map(|a| self.eval(*a, depth + 1)).collect();
                let ints: Vec<i64> = values
                    .iter()
                    .filter_map(|v| match v {
                        Val::Int(n) => Some(*n),
                        _ => None,
                    })
                    .collect();
                if path == "min" {
                    // Any literal bound caps the result, whatever the other arguments are.
                    ints.iter().min().map_or_else(
                        || {
                            values
                                .into_iter()
                                .find(|v| matches!(v, Val::Env { .. }))
                                .unwrap_or(Val::Unknown)
                        },
                        |n| Val::Int(*n),
                    )
                } else if ints.len() == values.len() {
                    ints.iter().max().map_or(Val::Unknown, |n| Val::Int(*n))
                } else {
                    values
                        .into_iter()
                        .find(|v| matches!(v, Val::Env { .. }))
                        .unwrap_or(Val::Unknown)
                }
            }
            _ => Val::Unknown,
        }
    }

    /// `os.environ["POOL_SIZE"]`.
    fn environ_subscript(&self, node: Node) -> Option<Val> {
        let object = node.field(F::Value)?;
        if self.ctx.resolve(object)? != "os.environ" {
            return None;
        }
        let key = node.field(F::Subscript)?;
        match self.eval(key, MAX_EVAL_DEPTH) {
            Val::Str(variable) => Some(Val::Env {
                variable,
                default: None,
            }),
            _ => None,
        }
    }
}

fn arithmetic(op: &str, l: Val, r: Val) -> Val {
    match (l, r) {
        (Val::Int(a), Val::Int(b)) => match op {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            "//" if b != 0 => Some(a.div_euclid(b)),
            _ => None,
        }
        .map_or(Val::Unknown, Val::Int),
        // An environment value stays one: still unbounded, with its default carried along.
        (Val::Env { variable, default }, Val::Int(n))
        | (Val::Int(n), Val::Env { variable, default })
            if matches!(op, "+" | "*") =>
        {
            Val::Env {
                variable,
                default: default.and_then(|d| {
                    if op == "+" {
                        d.checked_add(n)
                    } else {
                        d.checked_mul(n)
                    }
                }),
            }
        }
        _ => Val::Unknown,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(hex) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        return i64::from_str_radix(hex, 16).ok();
    }
    clean.parse().ok()
}

/// The value of a plain string literal (no f-string, no concatenation).
fn string_value(node: Node, ctx: &FileCtx) -> Option<String> {
    let text = ctx.text_of(Some(node));
    let body = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if text.len() - body.len() > 0
        && text[..text.len() - body.len()]
            .to_ascii_lowercase()
            .contains('f')
    {
        return None;
    }
    for quote in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(inner) = body.strip_prefix(quote).and_then(|b| b.strip_suffix(quote)) {
            return Some(inner.to_string());
        }
    }
    None
}

fn span_of(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_assignments_only() {
        assert_eq!(
            plain_assignment("_pools[key] = pool"),
            Some(("_pools[key]", "pool"))
        );
        assert_eq!(
            plain_assignment("self.pool=pool"),
            Some(("self.pool", "pool"))
        );
        for line in [
            "if pool == other:",
            "count += pool",
            "ok = a <= pool",
            "pool: Pool = pool",
            "a = b = pool",
            "x = make(pool=pool)",
            "a, b = pool",
            "assert x != pool",
        ] {
            assert_eq!(plain_assignment(line), None, "{line}");
        }
    }

    #[test]
    fn one_search_for_import_finds_what_a_search_per_root_finds() {
        for text in [
            "",
            "import psycopg2.pool\n",
            "reimport redisx",
            "import  asyncpg",
            "from x import sqlalchemy_utils",
            "import os\nimport DBUtils.PooledDB",
            "importimport mysql",
            "import ",
            "import é; import aiopg",
        ] {
            let per_root = ROOTS
                .iter()
                .any(|root| text.contains(&format!("import {root}")));
            assert_eq!(imports_a_root(text), per_root, "{text:?}");
        }
    }
}
