//! Lowers one Python function to a flow graph with normal and exceptional edges.
//!
//! Statements are walked in order with a stack of frames: loops (where `break`/`continue` go),
//! `try` handlers (where exceptions go) and `finally` blocks (which every way out passes
//! through). A `finally` body is lowered once per way it is entered (normal, exception,
//! `return`, `break`, `continue`), so each copy continues where its entry was going. `with`
//! is a `try/finally` whose final block is the context manager's exit.

use rustc_hash::{FxHashMap, FxHashSet};
use std::borrow::Cow;

use super::syntax::Node;

use super::fields::F;
use super::{
    has_keyword, is_statement_container, span, AcqMeta, AwaitWhat, FileCtx, HoldFacts, Lowered,
    Unit, UserSummary, MAX_DEPTH,
};
use crate::flow::{
    self, AcqId, AcqSite, Cfg, EdgeKind, Effect, NodeId, Operand, ReleaseHow, TransferHow, VarId,
    EXCEPTION_EXIT, NORMAL_EXIT,
};
use crate::project::Externals;
use crate::span::Span;
use crate::tables::{self, Form, Handle, PoolSpec, ANY_RESOURCE};

pub(crate) fn lower(
    ctx: &FileCtx,
    unit: &Unit,
    summaries: &FxHashMap<String, UserSummary>,
    ext: &Externals,
) -> Lowered {
    let mut l = Lower {
        ctx,
        unit,
        summaries,
        ext,
        cfg: Cfg::new(span(unit.node)),
        cur: Some(flow::ENTRY),
        frames: Vec::new(),
        vars: FxHashMap::default(),
        acq_by_span: FxHashMap::default(),
        metas: Vec::new(),
        local_pools: FxHashMap::default(),
        globals: Vec::new(),
        depth: 0,
        too_deep: None,
        stacks: Vec::new(),
        lends: false,
        param_vars: FxHashMap::default(),
        local_types: FxHashMap::default(),
        borrowed_binds: Vec::new(),
        just_bound: None,
        returns_borrowed: false,
        own_flags: Vec::new(),
        acq_vars: Vec::new(),
        awaits: FxHashMap::default(),
        probes: FxHashMap::default(),
        acquired_into: Vec::new(),
        params_into: Vec::new(),
        handed: Vec::new(),
    };
    let body = if unit.is_module {
        Some(unit.node)
    } else {
        unit.node.field(F::Body)
    };
    let Some(body) = body else {
        return Lowered::TooDeep(unit.name_span);
    };
    l.lends = unit.context_manager
        || (!unit.is_module && generator_that_releases(ctx.text_of(Some(body))));
    l.prescan(body);
    if !unit.is_module {
        l.parameters();
        l.attributes();
    }
    l.block(body);
    if let Some(c) = l.cur {
        l.cfg.link(c, NORMAL_EXIT, EdgeKind::Normal);
    }
    l.record_handed();
    if let Some(at) = l.too_deep {
        return Lowered::TooDeep(at);
    }
    let end = last_statement_span(body);
    let outcomes = (0..l.cfg.acquisitions.len() as AcqId)
        .map(|a| {
            let meta = &l.metas[a as usize];
            if meta.stands_in() && !l.param_is_used(a) {
                flow::AcqOutcome::default()
            } else {
                flow::solve(&l.cfg, a)
            }
        })
        .collect();
    Lowered::Done {
        holds: Box::new(HoldFacts {
            awaits: l.awaits,
            probes: l.probes,
        }),
        acquired_into: l.acquired_into,
        params_into: l.params_into,
        returns_borrowed: l.returns_borrowed,
        cfg: l.cfg,
        metas: l.metas,
        outcomes,
        end,
    }
}

/// The offset of `needle` in `text` where it is not part of a longer name.
fn find_word(text: &str, needle: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    // memmem: `str::find` with a string needle was most of this (0.7% of SQLAlchemy's run).
    // One searcher for every occurrence tried, as in `self_attributes`.
    let finder = memchr::memmem::Finder::new(needle);
    while let Some(i) = finder.find(text.as_bytes().get(from..)?) {
        let at = from + i;
        let after = text[at + needle.len()..].chars().next();
        let before = text[..at].chars().next_back();
        if !after.is_some_and(is_word) && !before.is_some_and(|c| is_word(c) || c == '.') {
            return Some(at);
        }
        from = at + needle.len();
    }
    None
}

/// The attributes of `self` a text mentions (`self.conn`, not `myself.conn` or `x.self.conn`),
/// each with the offset of its first mention: where `find_word(text, "self.conn")` would be.
fn self_attributes(text: &str) -> FxHashMap<&str, usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = FxHashMap::default();
    let mut from = 0;
    let finder = memchr::memmem::Finder::new("self.");
    while let Some(i) = text.as_bytes().get(from..).and_then(|t| finder.find(t)) {
        let at = from + i;
        from = at + "self.".len();
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| is_word(c) || c == '.')
        {
            continue;
        }
        let rest = &text[from..];
        let len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        if len > 0 {
            out.entry(&rest[..len]).or_insert(at);
        }
    }
    out
}

/// The `m` of every `self.m(` in a text, `m` being made of identifier bytes and dots (any
/// non-ASCII byte counts, as in a Python identifier), as a substring (`myself.close(` counts
/// too): for such an `m`, `text.contains(&format!("self.{m}("))` holds exactly when `m` is one
/// of these.
fn self_calls(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"self.").filter_map(move |at| {
        let from = at + "self.".len();
        let end = from
            + bytes[from..]
                .iter()
                .position(|&b| !(crate::prefilter::is_word_byte(b) || b == b'.'))?;
        // The byte that stops `m` is ASCII, so both ends are character boundaries.
        (bytes[end] == b'(').then(|| text.get(from..end)).flatten()
    })
}

/// A generator body that also releases connections: it keeps ownership across its `yield`.
fn generator_that_releases(body: &str) -> bool {
    find_word(body, "yield").is_some()
        && [
            ".close(",
            ".putconn(",
            ".release(",
            ".aclose(",
            ".terminate(",
        ]
        .iter()
        .any(|call| memchr::memmem::find(body.as_bytes(), call.as_bytes()).is_some())
}

/// Where falling off the end of a body happens: its last simple statement (descending into the
/// last block of a trailing `with`/`if`/`try`/loop), so a label covers one line, not a block.
fn last_statement_span(body: Node) -> Span {
    let mut block = body;
    for _ in 0..MAX_DEPTH {
        let Some(last) = block
            .named_children()
            .filter(|n| n.kind_of() != "comment")
            .last()
        else {
            return span(block);
        };
        let inner = last
            .named_children()
            .filter(|n| n.kind_of() != "comment")
            .last();
        match inner {
            Some(n) if n.kind_of() == "block" => block = n,
            Some(n)
                if matches!(
                    n.kind_of(),
                    "else_clause" | "elif_clause" | "finally_clause" | "except_clause"
                ) =>
            {
                match n.named_children().filter(|c| c.kind_of() == "block").last() {
                    Some(b) => block = b,
                    None => return span(last),
                }
            }
            _ => return span(last),
        }
    }
    span(block)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Jump {
    Return,
    Break,
    Continue,
}

enum Frame {
    Loop {
        brk: NodeId,
        cont: NodeId,
    },
    Try {
        dispatch: NodeId,
    },
    Finally {
        exc: Option<NodeId>,
        jumps: Vec<(Jump, NodeId)>,
    },
}

/// A call that will take a connection once it is awaited or entered.
#[derive(Clone, Debug)]
struct Candidate {
    span: Span,
    form: Form,
    handle: Handle,
    api: String,
    via: Option<String>,
    /// The pool object it is taken from, as written (`pool`, `self.pool`), for CL007.
    pool: Option<String>,
    /// The timeout keyword the call leaves out, when that makes it wait forever (CL012).
    waits_forever_without: Option<&'static str>,
}

/// The abstract value of an expression, as far as connections are concerned.
#[derive(Clone, Debug)]
enum Value {
    Other,
    Var(VarId),
    Temp(AcqId),
    Pending(Candidate),
    Seq(Vec<Value>),
    /// `contextlib.closing(x)`: entering it and leaving releases `x`.
    Closing(Operand),
}

impl Value {
    fn operand(&self) -> Option<Operand> {
        match self {
            Value::Var(v) => Some(Operand::Var(*v)),
            Value::Temp(a) => Some(Operand::Temp(*a)),
            _ => None,
        }
    }
}

/// What one branch of a condition says about connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fact {
    /// The variable is falsy (or holds a closed connection).
    Falsy(VarId),
    /// The acquisition is not held (its ownership flag is false).
    NotHeld(AcqId),
}

impl Fact {
    fn effect(self) -> Effect {
        match self {
            Fact::Falsy(v) => Effect::AssumeFalsy(v),
            Fact::NotHeld(a) => Effect::AssumeNotHeld(a),
        }
    }
}

struct Lower<'a, 't> {
    ctx: &'a FileCtx<'t>,
    unit: &'a Unit<'t>,
    /// `yield` lends the connection instead of handing it over: a `@contextmanager` generator,
    /// or any generator that releases connections itself (a FastAPI-style dependency).
    lends: bool,
    summaries: &'a FxHashMap<String, UserSummary>,
    /// Other files' summaries.
    ext: &'a Externals,
    cfg: Cfg,
    /// The node control is at; `None` after a jump (the following code is unreachable).
    cur: Option<NodeId>,
    frames: Vec<Frame>,
    /// Local names, interned in order of first sight.
    vars: FxHashMap<Cow<'t, str>, usize>,
    acq_by_span: FxHashMap<Span, AcqId>,
    metas: Vec<AcqMeta>,
    /// What each `await` node waits for: slow unrelated work, or a pool (CL006).
    awaits: FxHashMap<NodeId, AwaitWhat>,
    /// Calls to functions that acquire from the pool passed to them (CL007).
    probes: FxHashMap<NodeId, (String, String)>,
    local_pools: FxHashMap<&'t str, &'static PoolSpec>,
    globals: Vec<&'t str>,
    depth: u32,
    too_deep: Option<Span>,
    /// Local names bound to instances of this file's classes (`x = Wrapped(...)`, `x: Wrapped`).
    local_types: FxHashMap<&'t str, String>,
    /// Some `return` gives back what the function was handed (`return connection.connection`,
    /// `return self._conn`): what it returns elsewhere may be fresh, but its callers cannot
    /// tell which they got, so it is not summarised as a factory.
    returns_borrowed: bool,
    /// The acquisition bound to a name by the statement just lowered, and the name's variable.
    just_bound: Option<(AcqId, VarId)>,
    /// Ownership flags (`own_conn = True` right after `conn = connect()`) and the acquisition
    /// each follows: where the flag is false, that acquisition is not held.
    own_flags: Vec<(VarId, AcqId, VarId)>,
    /// Local names bound to a connection the function does not own (`bind = op.get_bind()`
    /// in an Alembic migration): a session bound to one borrows it.
    borrowed_binds: Vec<&'t str>,
    /// Parameter variables and their 0-based index (`self`/`cls` not counted).
    param_vars: FxHashMap<VarId, usize>,
    /// Variables ever bound straight from a real acquisition.
    acq_vars: Vec<VarId>,
    /// `self.X = <acquisition>` and `self.X = <parameter i>` seen in this method.
    acquired_into: Vec<String>,
    params_into: Vec<(usize, String)>,
    /// `ExitStack`s bound to local names, with the exits registered on them so far.
    stacks: Vec<(&'t str, Vec<Effect>)>,
    /// Calls with arguments other than plain values, as [`Handed`]: what
    /// [`FileCtx::handed_to`] and [`FileCtx::handed_keys`] get once the whole function is
    /// lowered.
    handed: Vec<Handed<'t>>,
}

/// A call that hands its callee a variable or something more.
struct Handed<'t> {
    /// The callee's resolved path, the key its summary is looked up under.
    path: Option<String>,
    /// Whether the callee is named through an import (then the file demands it).
    imported: bool,
    /// The method name of `obj.method(...)`, looked up as `method:<name>` when the class of
    /// `obj` is not known.
    method: Option<&'t str>,
    /// Some argument is neither a variable nor a plain value (a temporary, an acquisition not
    /// yet entered, a `closing()` wrapper): the call counts whatever the variables hold.
    always: bool,
    /// The variables handed, as the flow's alias bits.
    vars: u64,
}

impl Handed<'_> {
    /// Notes an argument: a sequence or a dictionary counts by its parts (`properties={"bs":
    /// relationship(B)}` hands nothing that may hold a connection).
    fn add(&mut self, v: &Value) {
        match v {
            Value::Other => {}
            Value::Var(x) => self.vars |= flow::bit(*x),
            Value::Seq(items) => items.iter().for_each(|item| self.add(item)),
            Value::Temp(_) | Value::Pending(_) | Value::Closing(_) => self.always = true,
        }
    }
}

impl<'a, 't> Lower<'a, 't> {
    fn text(&self, node: Node) -> &'t str {
        self.ctx.text_of(Some(node))
    }

    // ---- graph building --------------------------------------------------------------------

    fn emit(&mut self, effect: Effect, at: Span) -> NodeId {
        let n = self.cfg.add(effect, at);
        if let Some(c) = self.cur {
            self.cfg.link(c, n, EdgeKind::Normal);
        }
        self.cur = Some(n);
        n
    }

    /// A node that may raise: its exception edge goes to the innermost handler.
    fn emit_raising(&mut self, effect: Effect, at: Span) -> NodeId {
        let n = self.emit(effect, at);
        if self.cur.is_some() {
            let target = self.exception_target();
            self.cfg.link(n, target, EdgeKind::Exception);
        }
        n
    }

    fn exception_target(&mut self) -> NodeId {
        for i in (0..self.frames.len()).rev() {
            match &self.frames[i] {
                Frame::Try { dispatch } => return *dispatch,
                Frame::Finally { exc: Some(e), .. } => return *e,
                Frame::Finally { exc: None, .. } => {
                    let e = self.cfg.add(Effect::None, Span::default());
                    if let Frame::Finally { exc, .. } = &mut self.frames[i] {
                        *exc = Some(e);
                    }
                    return e;
                }
                Frame::Loop { .. } => {}
            }
        }
        EXCEPTION_EXIT
    }

    fn jump(&mut self, kind: Jump) {
        let Some(cur) = self.cur.take() else { return };
        for i in (0..self.frames.len()).rev() {
            match &self.frames[i] {
                Frame::Loop { brk, cont } => match kind {
                    Jump::Break => return self.cfg.link(cur, *brk, EdgeKind::Normal),
                    Jump::Continue => return self.cfg.link(cur, *cont, EdgeKind::Normal),
                    Jump::Return => {}
                },
                Frame::Try { .. } => {}
                Frame::Finally { jumps, .. } => {
                    let entry = match jumps.iter().find(|(k, _)| *k == kind) {
                        Some((_, e)) => *e,
                        None => {
                            let e = self.cfg.add(Effect::None, Span::default());
                            if let Frame::Finally { jumps, .. } = &mut self.frames[i] {
                                jumps.push((kind, e));
                            }
                            e
                        }
                    };
                    return self.cfg.link(cur, entry, EdgeKind::Normal);
                }
            }
        }
        if kind == Jump::Return {
            self.cfg.link(cur, NORMAL_EXIT, EdgeKind::Normal);
        }
    }

    /// Re-raises the exception in flight (bare `raise`, end of an exceptional `finally` copy):
    /// a normal edge, so the path keeps pointing at the call that raised first.
    fn reraise(&mut self) {
        if let Some(c) = self.cur.take() {
            let target = self.exception_target();
            self.cfg.link(c, target, EdgeKind::Normal);
        }
    }

    /// Lowers `body` so that every way out of it runs `fin` first.
    fn try_finally(&mut self, body: &mut dyn FnMut(&mut Self), fin: &mut dyn FnMut(&mut Self)) {
        self.frames.push(Frame::Finally {
            exc: None,
            jumps: Vec::new(),
        });
        body(self);
        let Some(Frame::Finally { exc, jumps }) = self.frames.pop() else {
            return;
        };
        if self.cur.is_some() {
            fin(self);
        }
        let after = self.cur;
        for (kind, entry) in jumps {
            self.cur = Some(entry);
            fin(self);
            self.jump(kind);
        }
        if let Some(e) = exc {
            self.cur = Some(e);
            fin(self);
            self.reraise();
        }
        self.cur = after;
    }

    fn join(&mut self, ends: &[NodeId]) {
        if ends.is_empty() {
            self.cur = None;
            return;
        }
        let j = self.cfg.add(Effect::None, Span::default());
        for &e in ends {
            self.cfg.link(e, j, EdgeKind::Normal);
        }
        self.cur = Some(j);
    }

    fn enter(&mut self, node: Node) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            if self.too_deep.is_none() {
                self.too_deep = Some(span(node));
            }
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- names, acquisitions ---------------------------------------------------------------

    fn var(&mut self, name: &'t str) -> VarId {
        let next = self.vars.len();
        let i = *self.vars.entry(Cow::Borrowed(name)).or_insert(next);
        (i % flow::MAX_VARS) as VarId
    }

    /// Like [`Self::var`] for a name that is not a slice of the source (`self.conn` when only
    /// `self.close()` mentions it).
    fn var_owned(&mut self, name: String) -> VarId {
        let next = self.vars.len();
        let i = *self.vars.entry(Cow::Owned(name)).or_insert(next);
        (i % flow::MAX_VARS) as VarId
    }

    /// The variable of a name already seen, without interning it.
    fn known_var(&self, name: &str) -> Option<VarId> {
        self.vars.get(name).map(|&i| (i % flow::MAX_VARS) as VarId)
    }

    fn is_global(&self, name: &str) -> bool {
        self.unit.is_module || self.globals.contains(&name)
    }

    fn acquisition(&mut self, c: &Candidate) -> AcqId {
        if let Some(&a) = self.acq_by_span.get(&c.span) {
            return a;
        }
        let a = self.cfg.acquisitions.len() as AcqId;
        self.cfg.acquisitions.push(AcqSite {
            span: c.span,
            handle: c.handle.clone(),
        });
        self.metas.push(AcqMeta {
            api: c.api.clone(),
            via: c.via.clone(),
            binding: None,
            scoped: false,
            param: None,
            attr: None,
            pool: c.pool.clone(),
            waits_forever_without: c.waits_forever_without,
        });
        self.acq_by_span.insert(c.span, a);
        a
    }

    fn acquire(&mut self, c: &Candidate) -> Value {
        let a = self.acquisition(c);
        self.emit(Effect::Acquire(a), c.span);
        Value::Temp(a)
    }

    fn parameters(&mut self) {
        let Some(params) = self.unit.node.field(F::Parameters) else {
            return;
        };
        let mut index = 0usize;
        let list: Vec<Node<'t>> = params.named_children().collect();
        for (i, p) in list.into_iter().enumerate() {
            let (name_node, ty) = match p.kind_of() {
                "identifier" => (Some(p), None),
                "typed_parameter" => (
                    p.named_child(0).filter(|n| n.kind_of() == "identifier"),
                    p.field(F::Type),
                ),
                "default_parameter" => (p.field(F::Name), None),
                "typed_default_parameter" => (p.field(F::Name), p.field(F::Type)),
                _ => (None, None),
            };
            let Some(name_node) = name_node else { continue };
            let name = self.text(name_node);
            if i == 0 && self.unit.class.is_some() && matches!(name, "self" | "cls") {
                continue;
            }
            if let Some(pool) = ty.and_then(|t| self.ctx.pool_from_type(t)) {
                self.local_pools.insert(name, pool);
            }
            if let Some(class) = ty.map(|t| self.text(t).trim_matches(|c| c == '"' || c == '\'')) {
                if self.ctx.classes.iter().any(|c| c == class) {
                    self.local_types.insert(name, class.to_string());
                }
            }
            let a = self.cfg.acquisitions.len() as AcqId;
            self.cfg.acquisitions.push(AcqSite {
                span: span(name_node),
                handle: Handle::Lib(&ANY_RESOURCE),
            });
            self.metas.push(AcqMeta {
                api: name.into(),
                via: None,
                binding: Some(name.into()),
                scoped: false,
                param: Some(index),
                attr: None,
                pool: None,
                waits_forever_without: None,
            });
            self.emit(Effect::Acquire(a), span(name_node));
            let v = self.var(name);
            self.emit(
                Effect::Bind {
                    dst: v,
                    src: Some(Operand::Temp(a)),
                },
                span(name_node),
            );
            self.param_vars.insert(v, index);
            index += 1;
        }
    }

    /// In a method: a pseudo-acquisition for each attribute of `self` the class assigns and this
    /// method mentions, to learn whether the method releases it (`close()`, `__del__`).
    fn attributes(&mut self) {
        let Some(class) = self.unit.class.as_deref() else {
            return;
        };
        let Some(attrs) = self.ctx.class_attrs.get(class) else {
            return;
        };
        let body = self.ctx.text_of(Some(self.unit.node));
        let base = self.unit.node.start_byte();
        // One pass over the body, not one search per attribute (a class may assign dozens).
        let mentioned = self_attributes(body);
        // The attributes that the methods this one calls on `self` release, found when an
        // attribute is not mentioned (most of a class's attributes, in most of its methods).
        let summaries = self.summaries;
        let mut released_by_calls: Option<FxHashSet<&str>> = None;
        for attr in attrs {
            let here = match mentioned.get(attr.as_str()).copied() {
                Some(at) => Span::new(base + at, base + at + "self.".len() + attr.len()),
                None => {
                    // Ex) `__del__` that only calls `self.close()`, which releases `self.conn`.
                    let released = released_by_calls.get_or_insert_with(|| {
                        self_calls(body)
                            .filter_map(|m| summaries.get(&format!("{class}.{m}")))
                            .flat_map(|s| s.releases_attrs.iter().map(String::as_str))
                            .collect()
                    });
                    if !released.contains(attr.as_str()) {
                        continue;
                    }
                    self.unit.name_span
                }
            };
            let name = format!("self.{attr}");
            let a = self.cfg.acquisitions.len() as AcqId;
            self.cfg.acquisitions.push(AcqSite {
                span: here,
                handle: Handle::Lib(&ANY_RESOURCE),
            });
            self.metas.push(AcqMeta {
                api: name.clone(),
                via: None,
                binding: Some(name.clone()),
                scoped: false,
                param: None,
                attr: Some(attr.clone()),
                pool: None,
                waits_forever_without: None,
            });
            self.emit(Effect::Acquire(a), here);
            let v = self.var_owned(name);
            self.emit(
                Effect::Bind {
                    dst: v,
                    src: Some(Operand::Temp(a)),
                },
                here,
            );
        }
    }

    /// `self.X` in a method, as the name it is tracked under.
    fn self_attribute(&self, node: Node<'t>) -> Option<&'t str> {
        if node.kind_of() != "attribute" || self.unit.class.is_none() {
            return None;
        }
        let object = node.field(F::Object)?;
        if object.kind_of() != "identifier" || self.text(object) != "self" {
            return None;
        }
        let text = self.text(node);
        (!text.contains(char::is_whitespace)).then_some(text)
    }

    /// Hands [`FileCtx::handed_to`] the imported functions this function calls with something
    /// that may hold a connection, and [`FileCtx::handed_keys`] the lookup keys of every such
    /// callee. A variable may hold one only if some `Bind` of the graph makes it an alias of an
    /// acquisition (a parameter's included), directly or through other variables, which is the
    /// only way the flow gives a variable an alias: what a callee does with a variable that
    /// never holds one (`users = self.tables.users`) changes nothing, so its summary is not
    /// demanded for it, and a change in what it does with its arguments does not make this
    /// file stale. A function too deep to analyse keeps every call.
    fn record_handed(&mut self) {
        let mut may_hold = 0u64;
        if self.too_deep.is_none() {
            loop {
                let before = may_hold;
                for node in &self.cfg.nodes {
                    if let Effect::Bind {
                        dst,
                        src: Some(src),
                    } = node.effect
                    {
                        let holds = match src {
                            Operand::Temp(_) => true,
                            Operand::Var(x) => may_hold & flow::bit(x) != 0,
                        };
                        if holds {
                            may_hold |= flow::bit(dst);
                        }
                    }
                }
                if may_hold == before {
                    break;
                }
            }
        } else {
            may_hold = u64::MAX;
        }
        let mut handed_to = self.ctx.handed_to.borrow_mut();
        let mut handed_keys = self.ctx.handed_keys.borrow_mut();
        for h in self.handed.drain(..) {
            if h.always || h.vars & may_hold != 0 {
                if let Some(m) = h.method {
                    handed_keys.push(format!("method:{m}"));
                }
                if let Some(path) = h.path {
                    if h.imported {
                        handed_to.push(path.clone());
                    }
                    handed_keys.push(path);
                }
            }
        }
    }

    /// Whether a parameter's pseudo-acquisition meets any release or store: otherwise solving
    /// it can tell nothing.
    fn param_is_used(&self, a: AcqId) -> bool {
        let Some(name) = self.metas[a as usize].binding.as_deref() else {
            return false;
        };
        let Some(v) = self.known_var(name) else {
            return false;
        };
        self.cfg.nodes.iter().any(|n| match n.effect {
            Effect::Release {
                what: Operand::Var(x),
                ..
            }
            | Effect::Transfer {
                what: Operand::Var(x),
                ..
            } => x == v,
            _ => false,
        })
    }

    /// Pools built inside this function, and `global` declarations, before lowering.
    fn prescan(&mut self, body: Node<'t>) {
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            match n.kind_of() {
                "function_definition" | "class_definition" => continue,
                "global_statement" | "nonlocal_statement" => {
                    let names: Vec<Node<'t>> = n.named_children().collect();
                    for g in names {
                        let t = self.text(g);
                        self.globals.push(t);
                    }
                }
                "assignment" => {
                    if let (Some(left), Some(right)) = (n.field(F::Left), n.field(F::Right)) {
                        if left.kind_of() == "identifier" {
                            if let Some(pool) = self.ctx.pool_from_value(right) {
                                let t = self.text(left);
                                self.local_pools.insert(t, pool);
                            }
                            if let Some(class) = self.ctx.class_built_by(right) {
                                let t = self.text(left);
                                self.local_types.insert(t, class);
                            }
                            if self.is_lent_connection(right) {
                                let t = self.text(left);
                                self.borrowed_binds.push(t);
                            }
                        }
                    }
                }
                "with_item" => {
                    if let Some(v) = n.field(F::Value).filter(|v| v.kind_of() == "as_pattern") {
                        let target = v.field(F::Alias).and_then(|t| t.named_child(0));
                        if let (Some(value), Some(target)) = (v.named_child(0), target) {
                            if let Some(pool) = self.ctx.pool_from_value(value) {
                                let t = self.text(target);
                                self.local_pools.insert(t, pool);
                            }
                        }
                    }
                }
                _ => {}
            }
            // Only statements can hold these; expressions are most of the tree.
            let container = is_statement_container(n.kind_of());
            if container && stack.len() < 4096 {
                stack.extend(n.named_children());
            }
        }
    }

    /// The pool an expression denotes, if any: built here, annotated, built at module level or
    /// on `self`, or named like one.
    fn pool_of(&self, recv: Node) -> Option<&'static PoolSpec> {
        match recv.kind_of() {
            "identifier" => {
                let name = self.text(recv);
                if let Some(p) = self
                    .local_pools
                    .get(name)
                    .or_else(|| self.ctx.module_pools.get(name))
                {
                    return Some(*p);
                }
                pool_by_name(name)
            }
            "attribute" => {
                let object = recv.field(F::Object)?;
                let attr = self.text(recv.field(F::Attribute)?);
                if matches!(self.text(object), "self" | "cls") {
                    if let Some(class) = &self.unit.class.clone().or_else(|| {
                        self.unit
                            .scope
                            .as_ref()
                            .and_then(|s| s.split('.').next().map(str::to_string))
                    }) {
                        if let Some(p) =
                            self.ctx.class_pools.get(&(class.clone(), attr.to_string()))
                        {
                            return Some(*p);
                        }
                    }
                }
                pool_by_name(attr)
            }
            "call" => {
                let f = recv.field(F::Function)?;
                let name = match f.kind_of() {
                    "attribute" => self.text(f.field(F::Attribute)?),
                    _ => self.text(f),
                };
                pool_by_name(name)
            }
            "parenthesized_expression" | "await" => self.pool_of(recv.named_child(0)?),
            _ => None,
        }
    }

    /// A function of this file called by `callee`: its summary and its name.
    fn user_function(&self, callee: Node) -> Option<(&'a UserSummary, String)> {
        let key = match callee.kind_of() {
            "identifier" => {
                let name = self.text(callee);
                if let Some(scope) = &self.unit.scope {
                    let nested = format!("{scope}.{name}");
                    if let Some(s) = self.summaries.get(&nested) {
                        return Some((s, nested));
                    }
                }
                name.to_string()
            }
            "attribute" => {
                let object = callee.field(F::Object)?;
                let method = self.text(callee.field(F::Attribute)?);
                let class = match self.instance_class(object) {
                    Some(c) => Some(c),
                    // Ex) `self.adapter.release_connection(c)` with `adapter` untyped: a method
                    // name defined by one class only is taken to be that class's.
                    None => self.ctx.unique_method_owner(method).map(str::to_string),
                };
                match class {
                    Some(class) => format!("{class}.{method}"),
                    None => return self.external(callee, Some(method)),
                }
            }
            _ => return None,
        };
        match self.summaries.get(&key) {
            Some(s) => Some((s, key)),
            None => self.external(callee, None),
        }
    }

    /// Whether a call passes keyword `name` with a value other than `None`, or may through
    /// `**kwargs`.
    fn passes_keyword(&self, call: Node, name: &str) -> bool {
        if super::keyword_value(call, name, self.ctx.text).is_some_and(|v| self.text(v) != "None") {
            return true;
        }
        let Some(list) = call.field(F::Arguments) else {
            return false;
        };
        let splat = list
            .named_children()
            .any(|a| a.kind_of() == "dictionary_splat");
        splat
    }

    /// A call that lends a connection its caller does not own: Alembic's `op.get_bind()` and
    /// `context.get_bind()`, the migration's own connection.
    fn is_lent_connection(&self, value: Node) -> bool {
        if value.kind_of() != "call" {
            return false;
        }
        let path = value.field(F::Function).and_then(|f| self.ctx.resolve(f));
        matches!(
            path.as_deref(),
            Some("alembic.op.get_bind" | "alembic.context.get_bind")
        )
    }

    /// Whether a SQLAlchemy `Session(bind)` only borrows its bind: a session bound to a
    /// connection (rather than an engine) uses that connection and never checks one out of a
    /// pool, and closing the session leaves it open. The bind is a connection when it is one
    /// the function was lent (`op.get_bind()`), or one it acquired (`engine.connect()`), which
    /// stays its own to release.
    fn session_borrows(
        &self,
        spec: &tables::AcquireSpec,
        call: Node<'t>,
        args: &[(Option<&'t str>, Value, Span)],
    ) -> bool {
        if !std::ptr::eq(spec.handle, &tables::SA_SESSION) {
            return false;
        }
        let bind = super::keyword_value(call, "bind", self.ctx.text).or_else(|| {
            let first = call.field(F::Arguments)?.named_children().next()?;
            (first.kind_of() != "keyword_argument").then_some(first)
        });
        let Some(bind) = bind else {
            return false;
        };
        if self.is_lent_connection(bind) {
            return true;
        }
        if bind.kind_of() == "identifier" && self.borrowed_binds.contains(&self.text(bind)) {
            return true;
        }
        // A connection acquired here: the bind argument's value refers to it.
        let acquired = |a: &AcqId| {
            self.cfg
                .acquisitions
                .get(*a as usize)
                .is_some_and(|site| match &site.handle {
                    Handle::Lib(h) => std::ptr::eq(*h, &tables::SA_CONNECTION),
                    Handle::Class(_) => false,
                })
        };
        let bound_value = args.iter().find(|(k, _, _)| match k {
            Some(k) => *k == "bind",
            None => true,
        });
        match bound_value.map(|(_, v, _)| v) {
            Some(Value::Temp(a)) => acquired(a),
            Some(Value::Var(_)) if bind.kind_of() == "identifier" => {
                let name = self.text(bind);
                self.metas.iter().enumerate().any(|(a, m)| {
                    !m.stands_in() && m.binding.as_deref() == Some(name) && acquired(&(a as AcqId))
                })
            }
            _ => false,
        }
    }

    /// Whether a SQLAlchemy `Session()` is built with nothing to connect through: no bind,
    /// no binds, no arguments at all (and the name is not a local `sessionmaker`). Such a
    /// session can add and expunge objects but never checks a connection out.
    fn session_unbound(
        &self,
        spec: &tables::AcquireSpec,
        func: Node<'t>,
        args: &[(Option<&'t str>, Value, Span)],
    ) -> bool {
        let name = self.text(func);
        std::ptr::eq(spec.handle, &tables::SA_SESSION)
            && args.is_empty()
            && !self.local_pools.contains_key(name)
            && !self.ctx.module_pools.contains_key(name)
    }

    /// What slow work awaiting a call of `callee` is (CL006): the built-in list, then the
    /// configuration's `slow-await` functions.
    fn slow_await(&self, callee: Node) -> Option<&'static str> {
        let text = self.text(callee);
        super::awaits::classify(text).or_else(|| {
            let resolved = self.ctx.resolve(callee);
            self.ext
                .slow
                .is_slow_await(text, resolved.as_deref())
                .then_some("slow work (declared in the configuration)")
        })
    }

    /// The receiver of a called method as written (`session` of `session.get`,
    /// `self.session` of `self.session.get`), for CL006: `None` for a plain function.
    fn receiver_text(&self, callee: Node) -> Option<String> {
        if callee.kind_of() != "attribute" {
            return None;
        }
        Some(self.text(callee.field(F::Object)?).to_string())
    }

    /// A function or class of another file of the project: through the imports
    /// (`from .db import get_db`, `db.get_db`), or a method name only one class defines.
    fn external(&self, callee: Node, method: Option<&str>) -> Option<(&'a UserSummary, String)> {
        if let Some(path) = self.ctx.resolve(callee) {
            let found = self.ctx.lookup(self.ext, &path);
            self.ctx.saw(&path, found);
            if let Some(s) = found {
                return Some((&**s, path));
            }
        }
        let method = method?;
        let found = self.ext.lookup_method(method, self.ctx.module);
        self.ctx.saw(&format!("method:{method}"), found);
        found.map(|s| (&**s, method.to_string()))
    }

    /// The class of this file an object expression is an instance of, when known: `self`, a
    /// local or module-level name built from the class, an annotated parameter, `self.attr`.
    fn instance_class(&self, object: Node) -> Option<String> {
        match object.kind_of() {
            "identifier" => {
                let name = self.text(object);
                if matches!(name, "self" | "cls") {
                    return self.unit.class.clone();
                }
                self.local_types
                    .get(name)
                    .or_else(|| self.ctx.module_types.get(name))
                    .cloned()
            }
            "attribute" => {
                let owner = object.field(F::Object)?;
                if self.text(owner) != "self" {
                    return None;
                }
                let class = self.unit.class.clone()?;
                let attr = self.text(object.field(F::Attribute)?).to_string();
                self.ctx.attr_types.get(&(class, attr)).cloned()
            }
            _ => None,
        }
    }

    // ---- statements ------------------------------------------------------------------------

    fn block(&mut self, block: Node<'t>) {
        for s in block.named_children() {
            // `conn = connect()` then `own = True`: `own` says whether `conn` is held.
            let acquired = self.just_bound.take();
            if let Some((acq, conn)) = acquired {
                if let Some(flag) = self.ownership_flag(s) {
                    let flag = self.var(flag);
                    self.own_flags.push((flag, acq, conn));
                }
            }
            self.statement(s);
        }
    }

    /// Whether a returned expression is an attribute of `self` or of a parameter: something
    /// the function was handed rather than made.
    fn is_borrowed(&self, e: Node<'t>) -> bool {
        if e.kind_of() != "attribute" {
            return false;
        }
        let mut root = e;
        while let Some(object) = root
            .field(F::Object)
            .filter(|_| root.kind_of() == "attribute")
        {
            root = object;
        }
        if root.kind_of() != "identifier" {
            return false;
        }
        let name = self.text(root);
        matches!(name, "self" | "cls")
            || self
                .known_var(name)
                .is_some_and(|v| self.param_vars.contains_key(&v))
    }

    /// The name of an ownership flag set by statement `s` (`own_conn = True`), when the
    /// function never sets it true anywhere else, nor false or to anything else after `s`:
    /// then the flag is false only where `s` was not reached since the acquisition before it.
    fn ownership_flag(&self, s: Node<'t>) -> Option<&'t str> {
        let assignment = s
            .named_child(0)
            .filter(|a| s.kind_of() == "expression_statement" && a.kind_of() == "assignment")?;
        let left = assignment.field(F::Left)?;
        let right = assignment.field(F::Right)?;
        if left.kind_of() != "identifier" || right.kind_of() != "true" {
            return None;
        }
        let flag = self.text(left);
        let body = self.unit.node.field(F::Body)?;
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            match n.kind_of() {
                "function_definition" | "class_definition" | "lambda" => continue,
                "assignment" | "augmented_assignment" if n.id() != assignment.id() => {
                    let target = n.field(F::Left);
                    if target.is_some_and(|t| self.names_in(t).contains(&flag)) {
                        let value = n.field(F::Right).map(|r| r.kind_of());
                        let before = n.end_byte() <= assignment.start_byte();
                        if !(before && n.kind_of() == "assignment" && value == Some("false")) {
                            return None;
                        }
                    }
                }
                "named_expression" | "for_statement" | "with_item" | "global_statement"
                | "nonlocal_statement"
                    if self.names_in(n).contains(&flag) =>
                {
                    return None;
                }
                _ => {}
            }
            if stack.len() < 4096 {
                stack.extend(n.named_children());
            }
        }
        Some(flag)
    }

    /// The identifiers written in a node, for [`Self::ownership_flag`]'s checks.
    fn names_in(&self, n: Node<'t>) -> Vec<&'t str> {
        let mut names = Vec::new();
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            if n.kind_of() == "identifier" {
                names.push(self.text(n));
            } else if names.len() < 64 && stack.len() < 256 {
                stack.extend(n.named_children());
            }
        }
        names
    }

    fn statement(&mut self, s: Node<'t>) {
        if !self.enter(s) {
            return;
        }
        self.statement_inner(s);
        self.leave();
    }

    fn statement_inner(&mut self, s: Node<'t>) {
        match s.kind_of() {
            "expression_statement" => {
                for e in s.named_children() {
                    let v = self.expr(e);
                    self.drop_value(v, span(e));
                }
            }
            "return_statement" => {
                if let Some(e) = s.named_child(0) {
                    if self.is_borrowed(e) {
                        self.returns_borrowed = true;
                    }
                    let v = self.expr_returned(e);
                    self.transfer_value(&v, TransferHow::Return, span(s));
                }
                self.emit(Effect::Return, span(s));
                self.jump(Jump::Return);
            }
            "if_statement" => self.if_statement(s),
            "while_statement" => self.while_statement(s),
            "for_statement" => self.for_statement(s),
            "try_statement" => self.try_statement(s),
            "with_statement" => self.with_statement(s),
            "match_statement" => self.match_statement(s),
            "raise_statement" => {
                if s.named_child(0).is_none() {
                    self.reraise();
                } else {
                    for e in s.named_children() {
                        let v = self.expr(e);
                        self.transfer_value(&v, TransferHow::Escape, span(e));
                    }
                    if self.cur.is_some() {
                        let n = self.emit(Effect::None, span(s));
                        let target = self.exception_target();
                        self.cfg.link(n, target, EdgeKind::Exception);
                        self.cur = None;
                    }
                }
            }
            "assert_statement" => {
                for e in s.named_children() {
                    let v = self.expr(e);
                    self.drop_value(v, span(e));
                }
                self.emit_raising(Effect::None, span(s));
            }
            "break_statement" => self.jump(Jump::Break),
            "continue_statement" => self.jump(Jump::Continue),
            "delete_statement" => {
                let mut stack = vec![s];
                while let Some(n) = stack.pop() {
                    if n.kind_of() == "identifier" {
                        let v = self.var(self.text(n));
                        self.emit(Effect::Bind { dst: v, src: None }, span(n));
                    } else if matches!(n.kind_of(), "delete_statement" | "expression_list") {
                        stack.extend(n.named_children());
                    }
                }
            }
            "function_definition" | "class_definition" | "decorated_definition" => {
                self.captured_by_closure(s);
                let name = match s.kind_of() {
                    "decorated_definition" => s.field(F::Definition).and_then(|d| d.field(F::Name)),
                    _ => s.field(F::Name),
                };
                if let Some(n) = name.filter(|n| !self.is_global(self.text(*n))) {
                    let v = self.var(self.text(n));
                    self.emit(Effect::Bind { dst: v, src: None }, span(n));
                }
            }
            "block" => self.block(s),
            // Module level: the statements of `if __name__ == ...` etc. are walked like any other.
            _ => {}
        }
    }

    fn if_statement(&mut self, s: Node<'t>) {
        let mut ends = Vec::new();
        let mut cond = s.field(F::Condition);
        let mut consequence = s.field(F::Consequence);
        let alternatives: Vec<Node<'t>> = s.children_by_field(F::Alternative).collect();
        let mut alts = alternatives.into_iter();
        while let (Some(c), Some(body)) = (cond, consequence) {
            let v = self.expr(c);
            self.drop_value(v, span(c));
            let (on_true, on_false) = self.condition_facts(c);
            let branch = self.cur;
            for fact in on_true {
                self.emit(fact.effect(), span(c));
            }
            self.block(body);
            if let Some(e) = self.cur {
                ends.push(e);
            }
            self.cur = branch;
            for fact in on_false {
                self.emit(fact.effect(), span(c));
            }
            match alts.next() {
                Some(alt) if alt.kind_of() == "elif_clause" => {
                    cond = alt.field(F::Condition);
                    consequence = alt.field(F::Consequence);
                }
                Some(alt) => {
                    if let Some(body) = alt.field(F::Body) {
                        self.block(body);
                    }
                    break;
                }
                None => break,
            }
        }
        if let Some(e) = self.cur {
            ends.push(e);
        }
        self.join(&ends);
    }

    /// Variables known falsy on the true and on the false branch of a condition.
    fn condition_facts(&mut self, c: Node<'t>) -> (Vec<Fact>, Vec<Fact>) {
        // `conn.closed`, `conn.is_closed()`: where it is true, the connection is already closed,
        // so no path that still holds it goes that way (`if not conn.closed: conn.close()`).
        if let Some(v) = self.closed_test(c) {
            return (vec![Fact::Falsy(v)], vec![]);
        }
        match c.kind_of() {
            "identifier" | "attribute" => {
                // `if conn:`, `if self.conn:` (a `self.X` is tracked under its text).
                if c.kind_of() == "attribute" && self.self_attribute(c).is_none() {
                    return (vec![], vec![]);
                }
                let v = self.var(self.text(c));
                // `if own_conn:`: where the flag is false, its connection is not held here.
                let owned = self
                    .own_flags
                    .iter()
                    .filter(|(f, _, _)| *f == v)
                    .map(|(_, a, _)| Fact::NotHeld(*a));
                let on_false: Vec<Fact> = std::iter::once(Fact::Falsy(v)).chain(owned).collect();
                (vec![], on_false)
            }
            "parenthesized_expression" => match c.named_child(0) {
                Some(inner) => self.condition_facts(inner),
                None => (vec![], vec![]),
            },
            "not_operator" => match c.field(F::Argument) {
                Some(arg) => {
                    let (t, f) = self.condition_facts(arg);
                    (f, t)
                }
                None => (vec![], vec![]),
            },
            "boolean_operator" => {
                let op = c.field(F::Operator).map(|o| o.kind_of()).unwrap_or("");
                let (Some(l), Some(r)) = (c.field(F::Left), c.field(F::Right)) else {
                    return (vec![], vec![]);
                };
                let (lt, lf) = self.condition_facts(l);
                let (rt, rf) = self.condition_facts(r);
                // Where either side may be the one that decided, only what both sides say
                // holds: `conn and not conn.closed` is false when `conn` is falsy or closed,
                // and either way no live connection is in `conn`.
                // An ownership flag's fact also agrees with its connection's variable being
                // falsy (`own and conn is not None` is false: not owned, or no connection).
                let flags = &self.own_flags;
                let both = |a: &[Fact], b: &[Fact]| -> Vec<Fact> {
                    let agree = |x: &Fact, y: &Fact| {
                        x == y
                            || match (x, y) {
                                (Fact::NotHeld(acq), Fact::Falsy(v))
                                | (Fact::Falsy(v), Fact::NotHeld(acq)) => {
                                    flags.iter().any(|(_, a, conn)| a == acq && conn == v)
                                }
                                _ => false,
                            }
                    };
                    let mut out = Vec::new();
                    for x in a {
                        for y in b.iter().filter(|y| agree(x, y)) {
                            // The weaker of the two when they differ: the flag's.
                            let kept = if matches!(x, Fact::NotHeld(_)) {
                                *x
                            } else {
                                *y
                            };
                            if !out.contains(&kept) {
                                out.push(kept);
                            }
                        }
                    }
                    out
                };
                if op == "and" {
                    let on_false = both(&lf, &rf);
                    ([lt, rt].concat(), on_false)
                } else {
                    let on_true = both(&lt, &rt);
                    (on_true, [lf, rf].concat())
                }
            }
            "named_expression" => match c.field(F::Name) {
                Some(name) => self.condition_facts(name),
                None => (vec![], vec![]),
            },
            "comparison_operator" => {
                let operands: Vec<Node<'t>> = c.named_children().collect();
                let ops: Vec<&str> = c
                    .children()
                    .filter(|n| !n.is_named())
                    .map(|n| n.kind_of())
                    .collect();
                let subject = operands.first().and_then(|o| condition_subject(*o));
                let (Some(subject), true) = (
                    subject,
                    operands.len() == 2 && operands[1].kind_of() == "none",
                ) else {
                    return (vec![], vec![]);
                };
                let v = self.var(self.text(subject));
                match ops.as_slice() {
                    ["is"] | ["=="] => (vec![Fact::Falsy(v)], vec![]),
                    ["is", "not"] | ["is not"] | ["!="] => (vec![], vec![Fact::Falsy(v)]),
                    _ => (vec![], vec![]),
                }
            }
            _ => (vec![], vec![]),
        }
    }

    /// The variable of a test that is true only of a closed connection: `X.closed` (psycopg2,
    /// psycopg 3, SQLAlchemy, aiopg) or `X.is_closed()` (asyncpg), `X` a name or an attribute
    /// of `self`.
    fn closed_test(&mut self, c: Node<'t>) -> Option<VarId> {
        let attribute = match c.kind_of() {
            "attribute" => c,
            "call"
                if c.field(F::Arguments)
                    .is_none_or(|a| a.named_children().next().is_none()) =>
            {
                c.field(F::Function)
                    .filter(|f| f.kind_of() == "attribute")?
            }
            _ => return None,
        };
        let method = self.text(attribute.field(F::Attribute)?);
        let wanted = if c.kind_of() == "call" {
            "is_closed"
        } else {
            "closed"
        };
        if method != wanted {
            return None;
        }
        let object = attribute.field(F::Object)?;
        let named = object.kind_of() == "identifier"
            || (object.kind_of() == "attribute" && self.self_attribute(object).is_some());
        named.then(|| self.var(self.text(object)))
    }

    fn while_statement(&mut self, s: Node<'t>) {
        let header = self.emit(Effect::None, Span::default());
        let cond = s.field(F::Condition);
        let infinite = cond.is_some_and(|c| matches!(self.text(c), "True" | "1"));
        let (mut on_true, mut on_false) = (vec![], vec![]);
        if let Some(c) = cond {
            let v = self.expr(c);
            self.drop_value(v, span(c));
            (on_true, on_false) = self.condition_facts(c);
        }
        let after = self.cfg.add(Effect::None, Span::default());
        let test = self.cur;
        for v in on_true {
            self.emit(v.effect(), span(s));
        }
        let exhausted = if infinite { None } else { test };
        self.loop_body(s, header, after, exhausted, &on_false);
    }

    /// The body of a loop (with `break`/`continue` targets), then, from `exhausted` (where the
    /// loop ends without `break`; `None` for `while True`), the `else` block, then `after`.
    fn loop_body(
        &mut self,
        s: Node<'t>,
        header: NodeId,
        after: NodeId,
        exhausted: Option<NodeId>,
        falsy: &[Fact],
    ) {
        self.frames.push(Frame::Loop {
            brk: after,
            cont: header,
        });
        if let Some(body) = s.field(F::Body) {
            self.block(body);
        }
        self.frames.pop();
        if let Some(c) = self.cur {
            self.cfg.link(c, header, EdgeKind::Normal);
        }
        self.cur = exhausted;
        for &v in falsy {
            self.emit(v.effect(), span(s));
        }
        if let Some(body) = s.field(F::Alternative).and_then(|a| a.field(F::Body)) {
            self.block(body);
        }
        if let Some(c) = self.cur {
            self.cfg.link(c, after, EdgeKind::Normal);
        }
        self.cur = Some(after);
    }

    fn for_statement(&mut self, s: Node<'t>) {
        if let Some(right) = s.field(F::Right) {
            let v = self.expr(right);
            self.drop_value(v, span(right));
        }
        let header = self.emit(Effect::None, Span::default());
        // Each iteration can raise (the iterator's `__next__`).
        let at = s.field(F::Right).map(span).unwrap_or(span(s));
        let next = self.emit_raising(Effect::None, at);
        let after = self.cfg.add(Effect::None, Span::default());
        if let Some(left) = s.field(F::Left) {
            self.bind_target(left, Value::Other);
        }
        self.loop_body(s, header, after, Some(next), &[]);
    }

    fn match_statement(&mut self, s: Node<'t>) {
        if let Some(subject) = s.field(F::Subject) {
            let v = self.expr(subject);
            self.drop_value(v, span(subject));
        }
        let base = self.cur;
        let mut ends = Vec::new();
        let mut exhaustive = false;
        if let Some(body) = s.field(F::Body) {
            let cases: Vec<Node<'t>> = body
                .named_children()
                .filter(|c| c.kind_of() == "case_clause")
                .collect();
            for case in cases {
                self.cur = base;
                let guard = case.field(F::Guard);
                if let Some(g) = guard {
                    let v = self.expr(g);
                    self.drop_value(v, span(g));
                }
                let pattern = case
                    .named_child(0)
                    .filter(|p| p.kind_of() == "case_pattern");
                if guard.is_none()
                    && pattern.is_some_and(|p| {
                        matches!(self.text(p), "_")
                            || (p.named_child_count() == 1
                                && p.named_child(0)
                                    .is_some_and(|i| i.kind_of() == "identifier"))
                    })
                {
                    exhaustive = true;
                }
                if let Some(c) = case.field(F::Consequence) {
                    self.block(c);
                }
                if let Some(e) = self.cur {
                    ends.push(e);
                }
            }
        }
        if !exhaustive {
            if let Some(b) = base {
                ends.push(b);
            }
        }
        self.join(&ends);
    }

    fn try_statement(&mut self, s: Node<'t>) {
        let clauses: Vec<Node<'t>> = s.named_children().collect();
        let finally = clauses
            .iter()
            .find(|c| c.kind_of() == "finally_clause")
            .copied();
        match finally {
            Some(fin) => {
                let fin_block = fin.named_children().find(|c| c.kind_of() == "block");
                self.try_finally(
                    &mut |l: &mut Self| l.try_except(s, &clauses),
                    &mut |l: &mut Self| {
                        if let Some(b) = fin_block {
                            l.block(b);
                        }
                    },
                );
            }
            None => self.try_except(s, &clauses),
        }
    }

    fn try_except(&mut self, s: Node<'t>, clauses: &[Node<'t>]) {
        let handlers: Vec<Node<'t>> = clauses
            .iter()
            .filter(|c| matches!(c.kind_of(), "except_clause" | "except_group_clause"))
            .copied()
            .collect();
        let else_body = clauses
            .iter()
            .find(|c| c.kind_of() == "else_clause")
            .and_then(|c| c.field(F::Body));
        let Some(body) = s.field(F::Body) else {
            return;
        };
        if handlers.is_empty() {
            self.block(body);
            if let Some(e) = else_body {
                self.block(e);
            }
            return;
        }
        let dispatch = self.cfg.add(Effect::None, span(s));
        self.frames.push(Frame::Try { dispatch });
        self.block(body);
        self.frames.pop();
        if let Some(e) = else_body {
            self.block(e);
        }
        let mut ends: Vec<NodeId> = self.cur.into_iter().collect();
        let mut catch_all = false;
        for h in handlers {
            let entry = self.cfg.add(Effect::None, span(h));
            self.cfg.link(dispatch, entry, EdgeKind::Normal);
            self.cur = Some(entry);
            let (types, alias) = self.except_parts(h);
            if types.is_none_or(|t| self.catches_everything(t)) {
                catch_all = true;
            }
            if let Some(a) = alias {
                let v = self.var(self.text(a));
                self.emit(Effect::Bind { dst: v, src: None }, span(a));
            }
            let block = h.named_children().find(|c| c.kind_of() == "block");
            if let Some(b) = block {
                self.block(b);
            }
            if let Some(e) = self.cur {
                ends.push(e);
            }
        }
        if !catch_all {
            // Exceptions no handler names keep propagating.
            self.cur = Some(dispatch);
            self.reraise();
        }
        self.join(&ends);
    }

    /// The exception types an `except` names, and its `as` target.
    fn except_parts(&self, h: Node<'t>) -> (Option<Node<'t>>, Option<Node<'t>>) {
        if let Some(value) = h.field(F::Value) {
            // `except Exception as e`: the value is an as_pattern of the types and the name.
            if value.kind_of() == "as_pattern" {
                return (
                    value.named_child(0),
                    value.field(F::Alias).and_then(|a| a.named_child(0)),
                );
            }
            return (Some(value), h.field(F::Alias));
        }
        // Older grammar shapes: `except E as e` as an as_pattern child.
        let first = h.named_children().find(|c| c.kind_of() != "block");
        match first {
            Some(p) if p.kind_of() == "as_pattern" => (
                p.named_child(0),
                p.field(F::Alias).and_then(|a| a.named_child(0)),
            ),
            other => (other, None),
        }
    }

    fn catches_everything(&self, types: Node) -> bool {
        let text = self.text(types);
        text.trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .any(|t| {
                matches!(
                    t.trim().rsplit('.').next(),
                    Some("Exception" | "BaseException")
                )
            })
    }

    fn with_statement(&mut self, s: Node<'t>) {
        let is_async = has_keyword(s, "async");
        let mut items = Vec::new();
        for clause in s.named_children().filter(|c| c.kind_of() == "with_clause") {
            items.extend(
                clause
                    .named_children()
                    .filter(|i| i.kind_of() == "with_item"),
            );
        }
        let body = s.field(F::Body);
        self.with_items(&items, body, is_async);
    }

    fn with_items(&mut self, items: &[Node<'t>], body: Option<Node<'t>>, is_async: bool) {
        let Some((item, rest)) = items.split_first() else {
            if let Some(b) = body {
                self.block(b);
            }
            return;
        };
        let Some(value) = item.field(F::Value) else {
            return;
        };
        let (expr, target) = if value.kind_of() == "as_pattern" {
            (
                value.named_child(0),
                value.field(F::Alias).and_then(|a| a.named_child(0)),
            )
        } else {
            (Some(value), None)
        };
        let Some(expr) = expr else { return };
        let v = self.expr(expr);
        let at = span(expr);
        if is_async {
            // `async with` awaits `__aenter__`. A library's (`pool.acquire()`) can raise before
            // anything is acquired; an object already built here (a wrapper whose `__aenter__`
            // returns `self`) is not modelled as failing to enter.
            let pool = match &v {
                Value::Pending(c) => c.pool.clone(),
                Value::Temp(a) => self.metas.get(*a as usize).and_then(|m| m.pool.clone()),
                _ => None,
            };
            let n = if matches!(v, Value::Temp(_)) {
                self.emit(Effect::Await, at)
            } else {
                self.emit_raising(Effect::Await, at)
            };
            // Ex) `async with session.get(url) as resp:`: an HTTP request.
            let callee = (expr.kind_of() == "call")
                .then(|| expr.field(F::Function))
                .flatten();
            let what = AwaitWhat {
                slow: callee.and_then(|f| self.slow_await(f)),
                pool,
                receiver: callee.and_then(|f| self.receiver_text(f)),
            };
            self.awaits.insert(n, what);
        }
        // `with ExitStack() as stack:` runs, on exit, the exits of everything entered on it.
        let stack = target
            .filter(|t| t.kind_of() == "identifier" && self.is_exit_stack(expr))
            .map(|t| self.text(t));
        if let Some(name) = stack {
            self.stacks.push((name, Vec::new()));
        }
        let exit = self.enter_context(v, target, at);
        let rest = rest.to_vec();
        self.try_finally(
            &mut |l: &mut Self| l.with_items(&rest, body, is_async),
            &mut |l: &mut Self| {
                if let Some(effect) = exit {
                    l.emit(effect, at);
                }
                if let Some(name) = stack {
                    for effect in l.stack_exits(name) {
                        l.emit(effect, at);
                    }
                }
            },
        );
    }

    /// Enters the context manager `v`, binds the target, and says what leaving it does.
    fn enter_context(&mut self, v: Value, target: Option<Node<'t>>, at: Span) -> Option<Effect> {
        let (bound, exit) = self.enter_value(v, at);
        if let Some(t) = target {
            self.bind_target(t, bound);
        }
        exit
    }

    /// Enters `v` as a context manager: what `as` binds, and the effect of leaving it.
    fn enter_value(&mut self, v: Value, at: Span) -> (Value, Option<Effect>) {
        match v {
            Value::Pending(c)
                if matches!(
                    c.form,
                    Form::EnteredOnly | Form::AwaitedOrEntered | Form::Plain
                ) =>
            {
                let Value::Temp(a) = self.acquire(&c) else {
                    return (Value::Other, None);
                };
                self.metas[a as usize].scoped = true;
                (
                    Value::Temp(a),
                    Some(Effect::Release {
                        what: Operand::Temp(a),
                        how: ReleaseHow::Always,
                    }),
                )
            }
            Value::Temp(a) => {
                self.metas[a as usize].scoped =
                    self.cfg.acquisitions[a as usize].handle.cm_releases();
                self.emit(Effect::EnterContext(Operand::Temp(a)), at);
                (Value::Temp(a), Some(Effect::ExitContext(Operand::Temp(a))))
            }
            Value::Var(x) => {
                self.emit(Effect::EnterContext(Operand::Var(x)), at);
                (Value::Var(x), Some(Effect::ExitContext(Operand::Var(x))))
            }
            Value::Closing(op) => {
                let bound = match op {
                    Operand::Var(x) => Value::Var(x),
                    Operand::Temp(a) => {
                        self.metas[a as usize].scoped = true;
                        Value::Temp(a)
                    }
                };
                (
                    bound,
                    Some(Effect::Release {
                        what: op,
                        how: ReleaseHow::Always,
                    }),
                )
            }
            _ => (Value::Other, None),
        }
    }

    fn is_exit_stack(&self, expr: Node) -> bool {
        if expr.kind_of() != "call" {
            return false;
        }
        let path = expr.field(F::Function).and_then(|f| self.ctx.resolve(f));
        matches!(
            path.as_deref(),
            Some(
                "contextlib.ExitStack"
                    | "contextlib.AsyncExitStack"
                    | "ExitStack"
                    | "AsyncExitStack"
            )
        )
    }

    fn stack_exits(&self, name: &str) -> Vec<Effect> {
        self.stacks
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| e.clone())
            .unwrap_or_default()
    }

    /// The local `ExitStack` a receiver names, if any.
    fn stack_index(&self, recv: Option<Node>) -> Option<usize> {
        let recv = recv.filter(|r| r.kind_of() == "identifier")?;
        let name = self.text(recv);
        self.stacks.iter().rposition(|(n, _)| *n == name)
    }

    // ---- assignment and ownership ----------------------------------------------------------

    fn bind_target(&mut self, target: Node<'t>, v: Value) {
        match target.kind_of() {
            "identifier" => {
                let name = self.text(target);
                if self.is_global(name) {
                    self.transfer_value(&v, TransferHow::Store, span(target));
                    return;
                }
                let dst = self.var(name);
                if let Value::Temp(a) = v {
                    if self.metas[a as usize].binding.is_none() {
                        self.metas[a as usize].binding = Some(name.to_string());
                    }
                    if self.metas[a as usize].param.is_none() && !self.acq_vars.contains(&dst) {
                        self.acq_vars.push(dst);
                    }
                    if !self.metas[a as usize].stands_in() {
                        self.just_bound = Some((a, dst));
                    }
                }
                let src = v.operand();
                self.emit(Effect::Bind { dst, src }, span(target));
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "expression_list" | "tuple"
            | "list" => {
                let targets: Vec<Node<'t>> = target.named_children().collect();
                match v {
                    Value::Seq(values) if values.len() == targets.len() => {
                        for (t, v) in targets.into_iter().zip(values) {
                            self.bind_target(t, v);
                        }
                    }
                    other => {
                        self.transfer_value(&other, TransferHow::Escape, span(target));
                        for t in targets {
                            self.bind_target(t, Value::Other);
                        }
                    }
                }
            }
            "attribute" if self.self_attribute(target).is_some() => {
                let name = self.self_attribute(target).unwrap_or_default();
                let attr = name.trim_start_matches("self.").to_string();
                match &v {
                    Value::Temp(a) if !self.metas[*a as usize].stands_in() => {
                        self.acquired_into.push(attr);
                    }
                    Value::Var(x) if self.acq_vars.contains(x) => self.acquired_into.push(attr),
                    Value::Var(x) => {
                        if let Some(&i) = self.param_vars.get(x) {
                            self.params_into.push((i, attr));
                        }
                    }
                    _ => {}
                }
                // The object owns it now; within this method `self.X` still names it.
                self.transfer_value(&v, TransferHow::Store, span(target));
                let dst = self.var(name);
                self.emit(
                    Effect::Bind {
                        dst,
                        src: v.operand(),
                    },
                    span(target),
                );
            }
            "attribute" | "subscript" => {
                let parts: Vec<Node<'t>> = target.named_children().collect();
                for p in parts
                    .into_iter()
                    .filter(|p| p.kind_of() != "identifier" || target.kind_of() == "subscript")
                {
                    if p.kind_of() == "identifier" {
                        continue;
                    }
                    let pv = self.expr(p);
                    self.drop_value(pv, span(p));
                }
                self.transfer_value(&v, TransferHow::Store, span(target));
            }
            "parenthesized_expression" => {
                if let Some(inner) = target.named_child(0) {
                    self.bind_target(inner, v);
                }
            }
            _ => self.transfer_value(&v, TransferHow::Escape, span(target)),
        }
    }

    /// Ownership of `v` leaves this function (returned, stored, handed over).
    fn transfer_value(&mut self, v: &Value, how: TransferHow, at: Span) {
        match v {
            Value::Var(_) | Value::Temp(_) => {
                if let Some(what) = v.operand() {
                    self.emit(Effect::Transfer { what, how }, at);
                }
            }
            Value::Seq(items) => {
                for item in items {
                    self.transfer_value(item, how, at);
                }
            }
            Value::Closing(op) => {
                self.emit(Effect::Transfer { what: *op, how }, at);
            }
            Value::Other | Value::Pending(_) => {}
        }
    }

    /// A value computed and not kept: a temporary connection in it is lost.
    fn drop_value(&mut self, v: Value, at: Span) {
        match v {
            Value::Temp(a) => {
                self.emit(Effect::Discard(a), at);
            }
            Value::Seq(items) => {
                for item in items {
                    self.drop_value(item, at);
                }
            }
            _ => {}
        }
    }

    // ---- expressions -----------------------------------------------------------------------

    /// A returned expression: like [`Self::expr`], but a call's connection arguments go with the
    /// result (`return Wrapper(conn)`, `return wrap(conn)`).
    fn expr_returned(&mut self, e: Node<'t>) -> Value {
        if e.kind_of() == "call" {
            let v = self.call(e, true);
            return v;
        }
        self.expr(e)
    }

    fn expr(&mut self, e: Node<'t>) -> Value {
        if !self.enter(e) {
            return Value::Other;
        }
        let v = self.expr_inner(e);
        self.leave();
        v
    }

    fn expr_inner(&mut self, e: Node<'t>) -> Value {
        match e.kind_of() {
            "identifier" => {
                let name = self.text(e);
                if self.is_global(name) && self.known_var(name).is_none() {
                    return Value::Other;
                }
                Value::Var(self.var(name))
            }
            "call" => self.call(e, false),
            "assignment" => {
                let Some(right) = e.field(F::Right) else {
                    return Value::Other;
                };
                if let Some(left) = e.field(F::Left).filter(|l| l.kind_of() == "identifier") {
                    if self.is_exit_stack(right) {
                        let name = self.text(left);
                        self.stacks.push((name, Vec::new()));
                    }
                }
                let v = self.expr(right);
                let left = e.field(F::Left);
                if let Some(left) = left {
                    self.bind_target(left, v.clone());
                }
                // The value of a chained assignment (`a = b = x`) is bound again by the outer one.
                if right.kind_of() == "assignment" {
                    return v;
                }
                // The inner one of `rec["conn"] = conn = connect()`: the outer target gets the
                // same connection, through the name just bound (or as it is, when not a name).
                let chained = e.parent().is_some_and(|p| p.kind_of() == "assignment");
                if chained && v.operand().is_some() {
                    let name = left
                        .filter(|l| l.kind_of() == "identifier")
                        .and_then(|l| self.known_var(self.text(l)));
                    return name.map_or(v, Value::Var);
                }
                Value::Other
            }
            "augmented_assignment" => {
                if let Some(right) = e.field(F::Right) {
                    let v = self.expr(right);
                    self.drop_value(v, span(right));
                }
                Value::Other
            }
            "await" => {
                let inner = match e.named_child(0) {
                    Some(i) => self.expr(i),
                    None => Value::Other,
                };
                let callee = e
                    .named_child(0)
                    .filter(|i| i.kind_of() == "call")
                    .and_then(|c| c.field(F::Function));
                let what = AwaitWhat {
                    slow: callee.and_then(|f| self.slow_await(f)),
                    pool: match &inner {
                        Value::Pending(c) => c.pool.clone(),
                        _ => None,
                    },
                    receiver: callee.and_then(|f| self.receiver_text(f)),
                };
                let n = self.emit_raising(Effect::Await, span(e));
                self.awaits.insert(n, what);
                match inner {
                    Value::Pending(c)
                        if matches!(c.form, Form::Awaited | Form::AwaitedOrEntered) =>
                    {
                        self.acquire(&c)
                    }
                    other => other,
                }
            }
            "parenthesized_expression" => match e.named_child(0) {
                Some(i) => self.expr(i),
                None => Value::Other,
            },
            "conditional_expression" => {
                let parts: Vec<Node<'t>> = e.named_children().collect();
                // `a if cond else b`: evaluate the condition, then keep whichever branch is a
                // connection (both branches are walked; a branch not taken adds no acquisition).
                let mut result = Value::Other;
                if let [a, cond, b] = parts.as_slice() {
                    let c = self.expr(*cond);
                    self.drop_value(c, span(*cond));
                    let va = self.expr(*a);
                    let vb = self.expr(*b);
                    result = match (va, vb) {
                        (v @ (Value::Temp(_) | Value::Var(_)), Value::Other) => v,
                        (Value::Other, v) => v,
                        (va, vb) => {
                            self.drop_value(vb, span(*b));
                            va
                        }
                    };
                }
                result
            }
            "boolean_operator" => {
                let l = e
                    .field(F::Left)
                    .map(|l| self.expr(l))
                    .unwrap_or(Value::Other);
                let r = e
                    .field(F::Right)
                    .map(|r| self.expr(r))
                    .unwrap_or(Value::Other);
                match r {
                    Value::Temp(_) => {
                        self.drop_value(l, span(e));
                        r
                    }
                    _ => {
                        self.drop_value(r, span(e));
                        l
                    }
                }
            }
            "named_expression" => {
                let v = e
                    .field(F::Value)
                    .map(|v| self.expr(v))
                    .unwrap_or(Value::Other);
                match e.field(F::Name) {
                    Some(n) => {
                        self.bind_target(n, v);
                        Value::Var(self.var(self.text(n)))
                    }
                    None => v,
                }
            }
            "tuple" | "list" | "expression_list" | "set" => {
                Value::Seq(e.named_children().map(|p| self.expr(p)).collect())
            }
            "dictionary" => {
                let mut values = Vec::new();
                for p in e.named_children() {
                    if let Some(k) = p.field(F::Key) {
                        let kv = self.expr(k);
                        self.drop_value(kv, span(k));
                    }
                    if let Some(v) = p.field(F::Value) {
                        values.push(self.expr(v));
                    }
                }
                Value::Seq(values)
            }
            "attribute" => {
                if let Some(name) = self.self_attribute(e) {
                    return Value::Var(self.var(name));
                }
                if let Some(o) = e.field(F::Object) {
                    let v = self.expr(o);
                    self.drop_value(v, span(o));
                }
                Value::Other
            }
            "yield" => self.yield_expr(e),
            "lambda" => {
                self.captured_by_closure(e);
                Value::Other
            }
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => {
                self.children_escape(e);
                Value::Other
            }
            "string" | "integer" | "float" | "true" | "false" | "none" | "comment" | "ellipsis" => {
                Value::Other
            }
            "binary_operator" => {
                // `a + b + c + ...` nests to the left; walk the spine without recursion so long
                // generated chains do not count against the depth limit.
                let mut rights = Vec::new();
                let mut left = e;
                while left.kind_of() == "binary_operator" {
                    rights.extend(left.field(F::Right));
                    match left.field(F::Left) {
                        Some(l) => left = l,
                        None => break,
                    }
                }
                for part in std::iter::once(left).chain(rights.into_iter().rev()) {
                    if part.kind_of() == "binary_operator" {
                        continue;
                    }
                    let v = self.expr(part);
                    self.drop_value(v, span(part));
                }
                Value::Other
            }
            _ => {
                // Operators, subscripts, f-strings, ...: evaluate the parts for their calls.
                for p in e.named_children() {
                    let v = self.expr(p);
                    self.drop_value(v, span(p));
                }
                Value::Other
            }
        }
    }

    /// A nested function or lambda that mentions a local connection keeps it alive and may
    /// release it later (a cleanup callback): ownership goes with the closure.
    fn captured_by_closure(&mut self, def: Node<'t>) {
        // Ex) module level (names are globals), or a function holding no connection yet.
        if self.unit.is_module || self.metas.iter().all(|m| m.param.is_some()) {
            return;
        }
        let mut stack = vec![def];
        let mut seen: Vec<VarId> = Vec::new();
        while let Some(n) = stack.pop() {
            if n.kind_of() == "identifier" {
                let name = self.text(n);
                if let Some(v) = self.known_var(name) {
                    if !seen.contains(&v) {
                        seen.push(v);
                    }
                }
            } else if stack.len() < 4096 {
                stack.extend(n.named_children());
            }
        }
        for v in seen {
            self.emit(
                Effect::Transfer {
                    what: Operand::Var(v),
                    how: TransferHow::Store,
                },
                span(def),
            );
        }
    }

    /// Parts whose connections end up inside a new container: they are stored there.
    fn children_escape(&mut self, e: Node<'t>) {
        for p in e.named_children() {
            let v = self.expr(p);
            self.transfer_value(&v, TransferHow::Store, span(p));
        }
    }

    fn yield_expr(&mut self, e: Node<'t>) -> Value {
        let v = match e.named_child(0) {
            Some(inner) => self.expr(inner),
            None => Value::Other,
        };
        if self.lends {
            // The with-body runs here; its exception is raised at the `yield`. A temporary
            // yielded can never be released afterwards.
            if let Value::Temp(a) = v {
                self.emit(Effect::Discard(a), span(e));
            }
            self.emit_raising(Effect::None, span(e));
        } else {
            self.transfer_value(&v, TransferHow::Yield, span(e));
            self.emit(Effect::None, span(e));
        }
        Value::Other
    }

    fn call(&mut self, call: Node<'t>, returned: bool) -> Value {
        let at = span(call);
        let Some(func) = call.field(F::Function) else {
            return Value::Other;
        };
        let (receiver, method) = match func.kind_of() {
            "attribute" => (
                func.field(F::Object),
                func.field(F::Attribute).map(|m| self.text(m)),
            ),
            _ => (None, None),
        };
        let pool = receiver.and_then(|r| self.pool_of(r));
        // The receiver: a pool is not a value we track; anything else is evaluated for its calls.
        let recv_value = match (receiver, pool) {
            (Some(r), None) => self.expr(r),
            (Some(r), Some(_)) => {
                if !matches!(r.kind_of(), "identifier" | "attribute") {
                    let v = self.expr(r);
                    self.drop_value(v, span(r));
                }
                Value::Other
            }
            (None, _) => {
                if func.kind_of() != "identifier" {
                    let v = self.expr(func);
                    self.drop_value(v, span(func));
                }
                Value::Other
            }
        };
        let mut args: Vec<(Option<&'t str>, Value, Span)> = Vec::new();
        if let Some(list) = call.field(F::Arguments) {
            if list.kind_of() == "generator_expression" {
                self.children_escape(list);
            } else {
                for a in list.named_children() {
                    match a.kind_of() {
                        "keyword_argument" => {
                            let name = a.field(F::Name).map(|n| self.text(n));
                            let v = a
                                .field(F::Value)
                                .map(|v| self.expr(v))
                                .unwrap_or(Value::Other);
                            args.push((name, v, span(a)));
                        }
                        "comment" => {}
                        _ => {
                            let v = self.expr(a);
                            args.push((None, v, span(a)));
                        }
                    }
                }
            }
        }
        let path = self.ctx.resolve(func);
        // Recorded before any of the ways below of handling the call, whatever the callee's
        // summary says (which may change between rounds).
        if args.iter().any(|(_, v, _)| !matches!(v, Value::Other)) {
            let mut handed = Handed {
                path: path.clone(),
                imported: path.is_some() && self.imported_callee(func),
                method,
                always: false,
                vars: 0,
            };
            for (_, v, _) in &args {
                handed.add(v);
            }
            self.handed.push(handed);
        }
        let callee_name = method.unwrap_or_else(|| self.text(func));

        // 1. An acquisition: a pool method, a connect function, a session factory, a factory
        //    of this file.
        let mut candidate: Option<Candidate> = None;
        // A session bound to a connection it does not own: neither an acquisition nor an
        // object that takes the connection over.
        let mut borrowing_session = false;
        if let (Some(pool), Some(m)) = (pool, method) {
            if let Some(spec) = pool.acquire_method(m) {
                let waits_forever_without = tables::PER_CALL_WAITS
                    .iter()
                    .find(|(kind, method, _)| *kind == spec.handle.name && *method == m)
                    .map(|(_, _, keyword)| *keyword)
                    .filter(|keyword| !self.passes_keyword(call, keyword));
                candidate = Some(Candidate {
                    span: at,
                    form: spec.form,
                    handle: Handle::Lib(spec.handle),
                    api: api_text(self.text(func)),
                    via: None,
                    pool: receiver.map(|r| self.text(r).to_string()),
                    waits_forever_without,
                });
            }
        }
        if candidate.is_none() {
            let spec = path.as_deref().and_then(tables::connect_by_path);
            borrowing_session = spec.is_some_and(|spec| {
                self.session_borrows(spec, call, &args) || self.session_unbound(spec, func, &args)
            });
            if let Some(spec) = spec.filter(|_| !borrowing_session) {
                candidate = Some(Candidate {
                    span: at,
                    form: spec.form,
                    handle: Handle::Lib(spec.handle),
                    api: api_text(self.text(func)),
                    via: None,
                    pool: None,
                    waits_forever_without: None,
                });
            } else if let Some(spec) = (func.kind_of() == "identifier")
                .then(|| {
                    self.local_pools
                        .get(self.text(func))
                        .or_else(|| self.ctx.module_pools.get(self.text(func)))
                })
                .flatten()
                .and_then(|p| p.call)
            {
                candidate = Some(Candidate {
                    span: at,
                    form: spec.form,
                    handle: Handle::Lib(spec.handle),
                    api: api_text(self.text(func)),
                    via: None,
                    pool: None,
                    waits_forever_without: None,
                });
            }
        }
        let user = self.user_function(func);
        // A function that takes a connection from a pool passed to it (CL007).
        if let (Some((summary, key)), Some(list)) = (&user, call.field(F::Arguments)) {
            if !summary.acquires_from.is_empty() {
                let positional: Vec<Node<'t>> = list
                    .named_children()
                    .filter(|a| !matches!(a.kind_of(), "keyword_argument" | "comment"))
                    .collect();
                for &i in &summary.acquires_from {
                    let Some(arg) = positional.get(i).copied() else {
                        continue;
                    };
                    if self.pool_of(arg).is_some() {
                        let pool = self.text(arg).to_string();
                        let n = self.emit(Effect::Probe, at);
                        self.probes.insert(n, (pool, key.clone()));
                    }
                }
            }
        }
        if candidate.is_none() {
            if let Some((summary, _)) = &user {
                if let Some(handle) = summary.returns.clone() {
                    candidate = Some(Candidate {
                        span: at,
                        // `await get_conn()`: acquired when the coroutine is awaited.
                        form: if summary.awaited {
                            Form::Awaited
                        } else {
                            Form::Plain
                        },
                        handle,
                        api: api_text(self.text(func)),
                        via: Some(summary.origin.clone()),
                        pool: None,
                        waits_forever_without: None,
                    });
                }
            }
        }

        // 2. Releases happen before the call can raise: a failing `putconn` still gave it back.
        let first_arg = args
            .first()
            .and_then(|(k, v, _)| if k.is_none() { v.operand() } else { None });
        let mut consumed = vec![false; args.len()];
        if let Some(m) = method {
            if tables::is_pool_release_method(m) {
                if let Some(op) = first_arg {
                    self.emit(
                        Effect::Release {
                            what: op,
                            how: ReleaseHow::PoolMethod(static_name(m)),
                        },
                        at,
                    );
                    consumed[0] = true;
                }
            }
            if tables::is_release_method(m) {
                if let Some(op) = recv_value.operand() {
                    self.emit(
                        Effect::Release {
                            what: op,
                            how: ReleaseHow::Method(static_name(m)),
                        },
                        at,
                    );
                }
            }
        }
        if let (Some((summary, _)), Some(recv)) = (&user, receiver) {
            // `self.close()` where `close` releases `self.conn`: released here too.
            if recv.kind_of() == "identifier" && self.text(recv) == "self" {
                for attr in &summary.releases_attrs {
                    if let Some(v) = self.known_var(&format!("self.{attr}")) {
                        self.emit(
                            Effect::Release {
                                what: Operand::Var(v),
                                how: ReleaseHow::Always,
                            },
                            at,
                        );
                    }
                }
            }
        }
        if let Some((summary, _)) = &user {
            for (i, (k, v, _)) in args.iter().enumerate() {
                if k.is_some() {
                    continue;
                }
                if let Some(op) = v.operand() {
                    if summary.releases.contains(&i) {
                        self.emit(
                            Effect::Release {
                                what: op,
                                how: ReleaseHow::Always,
                            },
                            at,
                        );
                        consumed[i] = true;
                    }
                }
            }
        }
        // `stack.callback(pool.putconn, conn)`: the release is registered with the stack.
        if matches!(method, Some("callback" | "push_async_callback")) {
            if let Some(list) = call.field(F::Arguments) {
                if let Some(first) = list.named_child(0) {
                    if first.kind_of() == "attribute" {
                        let m = self.text(first.field(F::Attribute).unwrap_or(first));
                        if tables::is_pool_release_method(m) || tables::is_release_method(m) {
                            let mut releases = Vec::new();
                            for (i, (_, v, _)) in args.iter().enumerate().skip(1) {
                                if let Some(op) = v.operand() {
                                    releases.push(Effect::Release {
                                        what: op,
                                        how: ReleaseHow::Always,
                                    });
                                    consumed[i] = true;
                                }
                            }
                            if let Some(obj) = first.field(F::Object) {
                                if let Some(op) = self.var_if_known(obj) {
                                    releases.push(Effect::Release {
                                        what: op,
                                        how: ReleaseHow::Always,
                                    });
                                }
                            }
                            match self.stack_index(receiver) {
                                Some(stack) => self.stacks[stack].1.extend(releases),
                                None => {
                                    for effect in releases {
                                        self.emit(effect, at);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        // `stack.close()` on a local ExitStack runs every exit registered on it.
        if matches!(method, Some("close" | "aclose")) {
            if let Some(i) = self.stack_index(receiver) {
                for effect in self.stacks[i].1.clone() {
                    self.emit(effect, at);
                }
            }
        }
        let is_closing = matches!(path.as_deref(), Some("contextlib.closing" | "closing"));

        // 3. What the arguments become: ownership passes when the callee is entered.
        // `cls(...)` in a classmethod builds an instance of the class, as `Class(...)` does.
        let is_constructor = !borrowing_session
            && (callee_name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
                || callee_name == "cls")
            && candidate
                .as_ref()
                .is_none_or(|c| matches!(c.handle, Handle::Class(_)));
        let stores = matches!(
            method,
            Some(
                "append"
                    | "appendleft"
                    | "add"
                    | "insert"
                    | "extend"
                    | "put"
                    | "put_nowait"
                    | "setdefault"
                    | "push"
                    | "update"
                    | "register"
                    | "attach"
                    | "track"
                    | "adopt"
            )
        );
        let enters = matches!(method, Some("enter_context" | "enter_async_context"));
        let mut result = Value::Other;
        // A method of something that may hold a connection, not itself an acquisition.
        let on_a_value = candidate.is_none() && recv_value.operand().is_some();
        // `conn.is_closed()` reads a flag of the connection object and cannot fail; entering a
        // connection by hand (`engine.connect().__enter__()`) gives it back, and where entering
        // does real work (an async connection's start), a failure leaves nothing acquired.
        let entered_by_hand = on_a_value && matches!(method, Some("__enter__" | "__aenter__"));
        // SQLAlchemy's `conn.execution_options(...)` sets options on the connection and returns
        // it (2.0 `engine/base.py`: `return self`), sync or async; only options the dialect
        // rejects make it raise, which is not counted.
        let returns_receiver = on_a_value && method == Some("execution_options");
        let cannot_raise =
            (method == Some("is_closed") || entered_by_hand) && args.is_empty() || returns_receiver;
        for (i, (_, v, s)) in args.into_iter().enumerate() {
            if consumed[i] {
                continue;
            }
            if enters && i == 0 {
                // A local stack runs this exit when it exits or closes; any other stack (on
                // `self`, passed in) owns what is entered on it.
                match self.stack_index(receiver) {
                    Some(stack) => {
                        let bound = match &v {
                            Value::Pending(_)
                            | Value::Temp(_)
                            | Value::Var(_)
                            | Value::Closing(_) => v.clone(),
                            _ => Value::Other,
                        };
                        let (bound, exit) = self.enter_value(bound, s);
                        if let Some(exit) = exit {
                            self.stacks[stack].1.push(exit);
                        }
                        result = bound;
                    }
                    None => {
                        let v = match v {
                            Value::Pending(c) => self.acquire(&c),
                            v => v,
                        };
                        self.transfer_value(&v, TransferHow::Store, s);
                        result = v;
                    }
                }
                continue;
            }
            if is_closing && i == 0 {
                if let Some(op) = v.operand() {
                    result = Value::Closing(op);
                    continue;
                }
            }
            let keeps = user.as_ref().is_some_and(|(s, _)| s.stores.contains(&i));
            if is_constructor || stores || keeps || returned {
                self.transfer_value(&v, TransferHow::Store, s);
            } else {
                // A connection made right here and handed over: the callee owns it now.
                match v {
                    Value::Temp(_) | Value::Seq(_) => {
                        self.transfer_value(&v, TransferHow::Escape, s)
                    }
                    _ => {}
                }
            }
        }
        // 4. The call itself (`closing(x)` only wraps and cannot fail). Ending the process
        //    (`sys.exit(1)`) ends the path: the operating system takes back every connection,
        //    so nothing held there is a leak.
        let exits = matches!(
            path.as_deref(),
            Some("sys.exit" | "os._exit" | "os.abort" | "exit" | "quit")
        ) && self.known_var(self.text(func)).is_none();
        if exits {
            self.emit(Effect::None, at);
            self.cur = None;
            return Value::Other;
        }
        if cannot_raise {
            self.emit(Effect::None, at);
        } else if !is_closing {
            self.emit_raising(Effect::None, at);
        }
        // `engine.connect().__aenter__()` by hand: what entering gives is the connection.
        if entered_by_hand || returns_receiver {
            return recv_value;
        }
        if let Value::Temp(_) = recv_value {
            self.drop_value(recv_value, at);
        }
        if let Value::Closing(_) = result {
            return result;
        }
        match candidate {
            Some(c) if c.form == Form::Plain => self.acquire(&c),
            Some(c) => Value::Pending(c),
            None => result,
        }
    }

    /// Whether a callee is named through an import: `give_back` of `from .db import
    /// give_back`, `db.give_back` of `from app import db`.
    fn imported_callee(&self, callee: Node) -> bool {
        let mut head = callee;
        while head.kind_of() == "attribute" {
            match head.field(F::Object) {
                Some(object) => head = object,
                None => return false,
            }
        }
        head.kind_of() == "identifier" && self.ctx.imports.contains_key(self.text(head))
    }

    fn var_if_known(&self, n: Node) -> Option<Operand> {
        if n.kind_of() != "identifier" {
            return None;
        }
        self.known_var(self.text(n)).map(Operand::Var)
    }
}

/// The variable a condition operand tests: `conn`, `(conn)`, `(conn := ...)`.
fn condition_subject(n: Node) -> Option<Node> {
    match n.kind_of() {
        "identifier" => Some(n),
        "attribute"
            if n.field(F::Object)
                .is_some_and(|o| o.kind_of() == "identifier") =>
        {
            Some(n)
        }
        "parenthesized_expression" => condition_subject(n.named_child(0)?),
        "named_expression" => n.field(F::Name),
        _ => None,
    }
}

/// Pools recognised only by their variable's name: `pool`, `db_pool`, `self._pool`, `engine`.
fn pool_by_name(name: &str) -> Option<&'static PoolSpec> {
    let lower = name.trim_start_matches('_').to_ascii_lowercase();
    if lower == "engine" || lower.ends_with("_engine") {
        return Some(tables::generic_engine());
    }
    let worker = ["thread", "process", "worker", "task", "executor"]
        .iter()
        .any(|w| lower.contains(w));
    if !worker && (lower == "pool" || lower.ends_with("pool") || lower.starts_with("pool_")) {
        return Some(&tables::GENERIC_POOL);
    }
    None
}

fn api_text(func: &str) -> String {
    let compact: String = func.split_whitespace().collect();
    format!("{compact}()")
}

/// Release method names as `'static` (they come from a fixed list).
fn static_name(m: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "close",
        "terminate",
        "ensure_closed",
        "aclose",
        "putconn",
        "release",
    ];
    NAMES.iter().find(|n| **n == m).copied().unwrap_or("close")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_over_self_finds_what_a_search_per_attribute_finds() {
        let text = "def close(self):\n    myself.conn = 1\n    x.self.conn = 2\n    self.connection.close()\n    self.conn.close()\n    self.conn = None\n    self.é_pool.x\n    self.\n    self.";
        let found = self_attributes(text);
        for attr in ["conn", "connection", "é_pool", "con", "pool", "x"] {
            assert_eq!(
                found.get(attr).copied(),
                find_word(text, &format!("self.{attr}")),
                "{attr}"
            );
        }
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn find_word_by_bytes_agrees_with_a_search_by_characters() {
        // The search as it was written with `str::find`.
        fn by_chars(text: &str, needle: &str) -> Option<usize> {
            let is_word = |c: char| c.is_alphanumeric() || c == '_';
            let mut from = 0;
            while let Some(i) = text.get(from..)?.find(needle) {
                let at = from + i;
                let after = text[at + needle.len()..].chars().next();
                let before = text[..at].chars().next_back();
                if !after.is_some_and(is_word) && !before.is_some_and(|c| is_word(c) || c == '.') {
                    return Some(at);
                }
                from = at + needle.len();
            }
            None
        }
        let text = "éyield yieldé x.yield\n  yield_x (yield) ü yield";
        for needle in ["yield", "x", "é", "ü yield", "ield", "zz"] {
            assert_eq!(find_word(text, needle), by_chars(text, needle), "{needle}");
        }
        assert_eq!(
            find_word(text, "yield"),
            text.find("(yield)").map(|i| i + 1)
        );
    }

    #[test]
    fn the_calls_on_self_are_the_methods_a_search_per_method_finds() {
        let text = "def __del__(self):\n    self.close()\n    myself.reset(1)\n    self.a.b(2)\n    self.spaced ()\n    self.attr\n    self.é_x()\n    self.self.inner()\n    self.cafe\u{301}()\n    self.";
        let calls: FxHashSet<&str> = self_calls(text).collect();
        for m in [
            "close",
            "reset",
            "a.b",
            "a",
            "b",
            "spaced",
            "attr",
            "é_x",
            "self.inner",
            "inner",
            "",
            "cafe\u{301}",
            "cafe",
        ] {
            assert_eq!(
                calls.contains(m),
                text.contains(&format!("self.{m}(")),
                "{m}"
            );
        }
    }
}
