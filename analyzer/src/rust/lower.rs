//! Lowers one Rust function (or spawned closure) to a [`Cfg`], solves it, and builds its
//! [`FunctionSummary`].
//!
//! Drops: a binding holding a connection is released at the end of its block (in reverse
//! order), by `drop(x)`, by assigning over it, or when it is moved (into a call, a struct, a
//! `move` closure, a return). Shadowing does not drop. An acquisition that is never bound is a
//! statement temporary, released at the end of its statement. `?` and `return` go straight to
//! the exit: Rust drops everything there, so no exit is a leak.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::tables::{self, RustPool};
use super::{
    ends_with_path, path_text, pattern_name, span_of, Body, FileCtx, PoolRef, Unit, MAX_DEPTH,
};
use crate::flow::{
    self, AcqId, AcqSite, Cfg, EdgeKind, Effect, NodeId, Operand, ReleaseHow, TransferHow, VarId,
    MAX_VARS, NORMAL_EXIT,
};
use crate::span::{LineIndex, Span};
use crate::summary::{Acquisition, Forget, FunctionSummary, HeldAwait, NestedAcquire};
use crate::tables::{Handle, HandleSpec};

/// What a function does with the pools it is given or holds, for its callers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Parameter index -> the chain of callees through which it acquires (empty: itself).
    pub params: BTreeMap<usize, Vec<String>>,
    /// `self.<field>` -> chain.
    pub fields: BTreeMap<String, Vec<String>>,
    /// Parameters whose pool the returned connection comes from (a factory).
    pub returns_params: Vec<usize>,
    /// `self.<field>` pools the returned connection comes from.
    pub returns_fields: Vec<String>,
}

impl Facts {
    pub fn is_empty(&self) -> bool {
        self.params.is_empty() && self.fields.is_empty()
    }
}

pub(crate) struct Lowered {
    pub name: String,
    pub facts: Facts,
    pub summary: FunctionSummary,
    pub too_deep: Option<Span>,
}

/// The value an expression evaluates to, as far as connections go.
#[derive(Clone, Debug)]
enum Val {
    None,
    Conn(Operand),
    Pool(PoolRef),
    /// An acquisition that has not happened yet: an acquiring call whose future is awaited
    /// next, or a synchronous one that is materialised when its value is used.
    Pending(Box<Pending>),
    /// A query run with a pool as executor: awaiting it waits on that pool.
    PoolWork(PoolRef),
    /// A `OnceLock`/`OnceCell` static holding a pool: `get()` gives the pool.
    PoolCell(PoolRef),
    JoinHandle,
}

#[derive(Clone, Debug)]
struct Pending {
    api: String,
    pool: PoolRef,
    handle: &'static HandleSpec,
    span: Span,
}

#[derive(Clone, Debug)]
enum Binding {
    Conn(VarId),
    Pool(PoolRef),
    Join,
    Other,
}

struct AcqMeta {
    api: String,
    binding: Option<String>,
    pool: Option<PoolRef>,
}

/// What an `.await` waits for.
#[derive(Clone, Debug, Default)]
struct AwaitInfo {
    slow: Option<&'static str>,
    /// Waiting on this pool: an acquisition from it or a query run with it as executor.
    pool: Option<String>,
}

struct ProbeInfo {
    pool: String,
    api: String,
    chain: Vec<String>,
}

struct LoopCtx {
    label: Option<String>,
    head: NodeId,
    breaks: Vec<NodeId>,
    scope_depth: usize,
}

struct Lower<'a, 'f> {
    ctx: &'a FileCtx,
    facts: &'a FxHashMap<String, Facts>,
    /// Other files' facts (a reference into `ctx`, kept apart so it outlives `&mut self`).
    ext: &'a super::Exports,
    unit: &'a Unit<'f>,
    index: &'a LineIndex<'a>,
    cfg: Cfg,
    cur: Option<NodeId>,
    scopes: Vec<Vec<(String, Binding)>>,
    loops: Vec<LoopCtx>,
    metas: Vec<AcqMeta>,
    awaits: FxHashMap<NodeId, AwaitInfo>,
    probes: FxHashMap<NodeId, ProbeInfo>,
    forgets: FxHashMap<NodeId, String>,
    /// Statement temporaries still to drop, one list per statement being lowered.
    temps: Vec<Vec<AcqId>>,
    next_var: usize,
    depth: u32,
    too_deep: Option<Span>,
    spawned: Vec<Unit<'f>>,
}

pub(crate) fn lower<'f>(
    ctx: &FileCtx,
    unit: &Unit<'f>,
    facts: &FxHashMap<String, Facts>,
    index: &LineIndex,
) -> (Lowered, Vec<Unit<'f>>) {
    let mut l = Lower {
        ctx,
        facts,
        ext: &ctx.ext,
        unit,
        index,
        cfg: Cfg::new(unit.span),
        cur: Some(flow::ENTRY),
        scopes: vec![Vec::new()],
        loops: Vec::new(),
        metas: Vec::new(),
        awaits: FxHashMap::default(),
        probes: FxHashMap::default(),
        forgets: FxHashMap::default(),
        temps: vec![Vec::new()],
        next_var: 0,
        depth: 0,
        too_deep: None,
        spawned: Vec::new(),
    };
    for (name, pool) in &unit.env {
        l.scopes[0].push((name.clone(), Binding::Pool(pool.clone())));
    }
    for (name, pool) in &unit.params {
        let b = match pool {
            Some(p) => Binding::Pool(p.clone()),
            None => Binding::Other,
        };
        l.scopes[0].push((name.clone(), b));
    }
    let value = match unit.body {
        Body::Block(b) => l.block(b),
        Body::Expr(e) => l.expr(e),
    };
    l.transfer(&value, TransferHow::Return, unit.span);
    l.end_statement(unit.span);
    if let Some(c) = l.cur {
        l.cfg.link(c, NORMAL_EXIT, EdgeKind::Normal);
    }
    let spawned = std::mem::take(&mut l.spawned);
    (l.finish(), spawned)
}

impl<'a, 'f> Lower<'a, 'f> {
    // ---- graph building ---------------------------------------------------------------------

    fn emit(&mut self, effect: Effect, span: Span) -> NodeId {
        let n = self.cfg.add(effect, span);
        if let Some(c) = self.cur {
            self.cfg.link(c, n, EdgeKind::Normal);
        }
        self.cur = Some(n);
        n
    }

    fn new_var(&mut self) -> VarId {
        let v = self.next_var % MAX_VARS;
        self.next_var += 1;
        v as VarId
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
    }

    fn declare(&mut self, name: String, b: Binding) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name, b));
        }
    }

    /// Drops the connections bound in scopes deeper than `depth`, innermost first, without
    /// popping them (for `break`/`continue`); `keep` is a value moved out of them.
    fn drop_scopes_above(&mut self, depth: usize, span: Span, keep: Option<VarId>) {
        let vars: Vec<VarId> = self.scopes[depth.min(self.scopes.len())..]
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .filter_map(|(_, b)| match b {
                Binding::Conn(v) if Some(*v) != keep => Some(*v),
                _ => None,
            })
            .collect();
        for v in vars {
            self.emit(
                Effect::Release {
                    what: Operand::Var(v),
                    how: ReleaseHow::Always,
                },
                span,
            );
        }
    }

    fn pop_scope(&mut self, span: Span, keep: Option<VarId>) {
        let depth = self.scopes.len() - 1;
        if self.cur.is_some() {
            self.drop_scopes_above(depth, span, keep);
        }
        self.scopes.pop();
    }

    fn end_statement(&mut self, span: Span) {
        let temps = self
            .temps
            .last_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        if self.cur.is_none() {
            return;
        }
        for a in temps.into_iter().rev() {
            self.emit(
                Effect::Release {
                    what: Operand::Temp(a),
                    how: ReleaseHow::Always,
                },
                span,
            );
        }
    }

    fn forget_temp(&mut self, op: Operand) {
        if let Operand::Temp(a) = op {
            for list in &mut self.temps {
                list.retain(|t| *t != a);
            }
        }
    }

    fn new_site(&mut self, span: Span, handle: &'static HandleSpec, meta: AcqMeta) -> AcqId {
        self.cfg.acquisitions.push(AcqSite {
            span,
            handle: Handle::Lib(handle),
        });
        self.metas.push(meta);
        (self.cfg.acquisitions.len() - 1) as AcqId
    }

    /// Takes the connection of a pending acquisition now.
    fn materialize(&mut self, v: Val) -> Val {
        let Val::Pending(p) = v else {
            return v;
        };
        let a = self.new_site(
            p.span,
            p.handle,
            AcqMeta {
                api: p.api.clone(),
                binding: None,
                pool: Some(p.pool.clone()),
            },
        );
        self.emit(Effect::Acquire(a), p.span);
        if let Some(list) = self.temps.last_mut() {
            list.push(a);
        }
        Val::Conn(Operand::Temp(a))
    }

    /// The connection leaves this function's hands: returned, stored, moved into a callee.
    fn transfer(&mut self, v: &Val, how: TransferHow, span: Span) {
        let v = self.materialize(v.clone());
        if let Val::Conn(op) = v {
            self.emit(Effect::Transfer { what: op, how }, span);
            self.forget_temp(op);
        }
    }

    fn release(&mut self, v: Val, how: ReleaseHow, span: Span) {
        let v = self.materialize(v);
        if let Val::Conn(op) = v {
            self.emit(Effect::Release { what: op, how }, span);
        }
    }

    /// Binds `name` to a value: a connection gets a variable (moved out of where it was).
    fn bind(&mut self, name: String, v: Val, span: Span) {
        let v = self.materialize(v);
        let b = match v {
            Val::Conn(op) => {
                let var = self.new_var();
                self.emit(
                    Effect::Bind {
                        dst: var,
                        src: Some(op),
                    },
                    span,
                );
                match op {
                    Operand::Var(old) => {
                        self.emit(
                            Effect::Bind {
                                dst: old,
                                src: None,
                            },
                            span,
                        );
                    }
                    Operand::Temp(a) => {
                        self.forget_temp(op);
                        let meta = &mut self.metas[a as usize];
                        if meta.binding.is_none() {
                            meta.binding = Some(name.clone());
                        }
                    }
                }
                Binding::Conn(var)
            }
            Val::Pool(p) => Binding::Pool(if p.key.is_empty() {
                PoolRef {
                    key: name.clone(),
                    pool: p.pool,
                }
            } else {
                p
            }),
            Val::JoinHandle => Binding::Join,
            _ => Binding::Other,
        };
        self.declare(name, b);
    }

    /// Binds every name of a pattern: the value goes to the one name of `x`, `Ok(x)`,
    /// `Some(x)`; the names of other patterns hold something else.
    fn bind_pattern(&mut self, pat: &syn::Pat, v: Val, span: Span) {
        if let Some(name) = pattern_name(pat) {
            self.bind(name, v, span);
            return;
        }
        if let syn::Pat::Wild(_) = pat {
            return;
        }
        let mut names = Vec::new();
        pattern_names(pat, &mut names, 0);
        for n in names {
            self.declare(n, Binding::Other);
        }
    }

    fn too_deep(&mut self, span: Span) -> bool {
        if self.depth > MAX_DEPTH {
            if self.too_deep.is_none() {
                self.too_deep = Some(span);
            }
            return true;
        }
        false
    }

    // ---- statements and blocks --------------------------------------------------------------

    fn block(&mut self, b: &'f syn::Block) -> Val {
        let close = span_of(&b.brace_token.span.close());
        self.scopes.push(Vec::new());
        let mut value = Val::None;
        let n = b.stmts.len();
        for (i, stmt) in b.stmts.iter().enumerate() {
            let tail = i + 1 == n;
            match stmt {
                syn::Stmt::Expr(e, None) if tail => {
                    // The tail expression's temporaries live to the end of the enclosing
                    // statement: they stay in the caller's list.
                    value = self.expr(e);
                }
                _ => self.stmt(stmt),
            }
        }
        // A connection the block evaluates to is moved out of it, not dropped.
        let keep = match value {
            Val::Conn(Operand::Var(v)) => Some(v),
            _ => None,
        };
        self.pop_scope(close, keep);
        value
    }

    fn stmt(&mut self, stmt: &'f syn::Stmt) {
        let span = span_of(stmt);
        self.temps.push(Vec::new());
        match stmt {
            syn::Stmt::Local(local) => self.local(local),
            // An expression statement's value goes nowhere: it is dropped with the statement's
            // temporaries (`conn;`, `{ let c = pool.get()?; c };`).
            syn::Stmt::Expr(e, _) => {
                if let Val::Conn(op) = self.expr(e) {
                    self.emit(
                        Effect::Release {
                            what: op,
                            how: ReleaseHow::Always,
                        },
                        span,
                    );
                }
            }
            syn::Stmt::Item(_) | syn::Stmt::Macro(_) => {}
        }
        self.end_statement(span);
        self.temps.pop();
    }

    fn local(&mut self, local: &'f syn::Local) {
        let span = span_of(local);
        let (pat, ty) = match &local.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let Some(init) = &local.init else {
            let mut names = Vec::new();
            pattern_names(pat, &mut names, 0);
            for n in names {
                self.declare(n, Binding::Other);
            }
            return;
        };
        let mut v = self.expr(&init.expr);
        if let Some(pool) = ty.and_then(|t| self.ctx.pool_of_type(t, 0)) {
            if !matches!(v, Val::Pool(_)) {
                v = Val::Pool(PoolRef {
                    key: String::new(),
                    pool: Some(pool),
                });
            }
        }
        if matches!(v, Val::None) {
            if let Some(pool) = self.ctx.pool_of_builder(&init.expr) {
                v = Val::Pool(PoolRef {
                    key: String::new(),
                    pool: Some(pool),
                });
            }
        }
        if let Some((_, diverge)) = &init.diverge {
            // `let Ok(x) = e else { return };`: the else branch leaves.
            let before = self.cur;
            self.scopes.push(Vec::new());
            self.expr(diverge);
            self.pop_scope(span, None);
            self.cur = before;
        }
        self.bind_pattern(pat, v, span);
    }

    // ---- expressions ------------------------------------------------------------------------

    fn expr(&mut self, e: &'f syn::Expr) -> Val {
        self.depth += 1;
        let v = if self.too_deep(span_of(e)) {
            Val::None
        } else {
            self.expr_inner(e)
        };
        self.depth -= 1;
        v
    }

    fn expr_inner(&mut self, e: &'f syn::Expr) -> Val {
        use syn::Expr as E;
        match e {
            E::Path(p) => {
                if p.qself.is_none() && p.path.segments.len() == 1 {
                    let name = p.path.segments[0].ident.to_string();
                    return match self.lookup(&name) {
                        Some(Binding::Conn(v)) => Val::Conn(Operand::Var(*v)),
                        Some(Binding::Pool(p)) => Val::Pool(p.clone()),
                        Some(Binding::Join) => Val::JoinHandle,
                        Some(_) => Val::None,
                        None => match self.ctx.pool_statics.get(&name) {
                            Some(&(pool, cell)) => {
                                let p = PoolRef {
                                    key: name,
                                    pool: Some(pool),
                                };
                                if cell {
                                    Val::PoolCell(p)
                                } else {
                                    Val::Pool(p)
                                }
                            }
                            None => Val::None,
                        },
                    };
                }
                Val::None
            }
            E::Reference(r) => match self.expr(&r.expr) {
                // Ex) `&mut *conn`, `&conn`: a borrow moves nothing.
                Val::Conn(_) => Val::None,
                other => other,
            },
            E::Unary(u) => {
                let v = self.expr(&u.expr);
                match (u.op, v) {
                    (syn::UnOp::Deref(_), Val::Pool(p)) => Val::Pool(p),
                    _ => Val::None,
                }
            }
            E::Paren(p) => self.expr(&p.expr),
            E::Group(g) => self.expr(&g.expr),
            E::Field(f) => self.field(f),
            E::MethodCall(m) => self.method_call(m),
            E::Call(c) => self.call(c),
            E::Await(a) => self.await_expr(a),
            E::Try(t) => {
                let v = self.expr(&t.expr);
                let v = self.materialize(v);
                let q = span_of(&t.question_token);
                let at = self.emit(Effect::None, q);
                // The error path returns: Rust drops everything on the way out.
                let ret = self.cfg.add(Effect::Return, q);
                self.cfg.link(at, ret, EdgeKind::Normal);
                self.cfg.link(ret, NORMAL_EXIT, EdgeKind::Normal);
                v
            }
            E::Return(r) => {
                if let Some(inner) = &r.expr {
                    let v = self.expr(inner);
                    self.transfer(&v, TransferHow::Return, span_of(r));
                }
                let n = self.emit(Effect::Return, span_of(r));
                self.cfg.link(n, NORMAL_EXIT, EdgeKind::Normal);
                self.cur = None;
                Val::None
            }
            E::Break(b) => {
                if let Some(inner) = &b.expr {
                    let v = self.expr(inner);
                    self.transfer(&v, TransferHow::Store, span_of(b));
                }
                let label = b.label.as_ref().map(|l| l.ident.to_string());
                self.jump(label, true, span_of(b));
                Val::None
            }
            E::Continue(c) => {
                let label = c.label.as_ref().map(|l| l.ident.to_string());
                self.jump(label, false, span_of(c));
                Val::None
            }
            E::If(i) => self.if_expr(i),
            E::Match(m) => self.match_expr(m),
            E::Block(b) => self.block(&b.block),
            E::Unsafe(u) => self.block(&u.block),
            E::Loop(l) => {
                let label = l.label.as_ref().map(|l| l.name.ident.to_string());
                self.loop_body(label, None, &l.body, span_of(l));
                Val::None
            }
            E::While(w) => {
                let label = w.label.as_ref().map(|l| l.name.ident.to_string());
                self.loop_body(label, Some(&w.cond), &w.body, span_of(w));
                Val::None
            }
            E::ForLoop(f) => {
                self.expr(&f.expr);
                let label = f.label.as_ref().map(|l| l.name.ident.to_string());
                self.for_loop(label, &f.pat, &f.body, span_of(f));
                Val::None
            }
            E::Assign(a) => {
                let v = self.expr(&a.right);
                self.assign(&a.left, v, span_of(a));
                Val::None
            }
            E::Struct(s) => {
                let mut carried = Val::None;
                for field in &s.fields {
                    let v = self.expr(&field.expr);
                    carried = self.carry(carried, v, span_of(field));
                }
                if let Some(rest) = &s.rest {
                    self.expr(rest);
                }
                carried
            }
            E::Tuple(t) => {
                let mut carried = Val::None;
                for el in &t.elems {
                    let v = self.expr(el);
                    carried = self.carry(carried, v, span_of(el));
                }
                carried
            }
            E::Array(a) => {
                let mut carried = Val::None;
                for el in &a.elems {
                    let v = self.expr(el);
                    carried = self.carry(carried, v, span_of(el));
                }
                carried
            }
            E::Closure(c) => {
                if c.capture.is_some() {
                    self.move_captures(&c.body, span_of(c));
                }
                Val::None
            }
            E::Async(a) => {
                if a.capture.is_some() {
                    self.move_captures_block(&a.block, span_of(a));
                }
                Val::None
            }
            E::Let(l) => {
                // Only reached outside `if`/`while` conditions (`matches!`-like uses).
                self.expr(&l.expr);
                Val::None
            }
            E::Binary(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
                Val::None
            }
            E::Cast(c) => {
                self.expr(&c.expr);
                Val::None
            }
            E::Index(i) => {
                self.expr(&i.expr);
                self.expr(&i.index);
                Val::None
            }
            E::Range(r) => {
                for side in [&r.start, &r.end].into_iter().flatten() {
                    self.expr(side);
                }
                Val::None
            }
            E::Repeat(r) => {
                self.expr(&r.expr);
                Val::None
            }
            // Ex) `println!(..)`, `sqlx::query!(..)`, `tokio::select! {..}`: macro bodies are
            // opaque.
            _ => Val::None,
        }
    }

    /// Builds an aggregate: the first connection in it is what the aggregate holds; any other
    /// is stored in it for good.
    fn carry(&mut self, carried: Val, v: Val, span: Span) -> Val {
        let v = self.materialize(v);
        match (&carried, &v) {
            (Val::Conn(_), Val::Conn(_)) => {
                self.transfer(&v, TransferHow::Store, span);
                carried
            }
            (_, Val::Conn(op)) => {
                self.forget_temp(*op);
                v
            }
            _ => carried,
        }
    }

    fn field(&mut self, f: &'f syn::ExprField) -> Val {
        let syn::Member::Named(name) = &f.member else {
            self.expr(&f.base);
            return Val::None;
        };
        let name = name.to_string();
        if let Some(pool) = self.ctx.pool_fields.get(&name).copied() {
            if let Some(base) = place_key(&f.base, 0) {
                return Val::Pool(PoolRef {
                    key: format!("{base}.{name}"),
                    pool: Some(pool),
                });
            }
        }
        self.expr(&f.base);
        Val::None
    }

    fn jump(&mut self, label: Option<String>, is_break: bool, span: Span) {
        let Some(i) = self
            .loops
            .iter()
            .rposition(|l| label.is_none() || l.label == label)
        else {
            self.cur = None;
            return;
        };
        let depth = self.loops[i].scope_depth;
        self.drop_scopes_above(depth, span, None);
        if let Some(c) = self.cur {
            if is_break {
                self.loops[i].breaks.push(c);
            } else {
                let head = self.loops[i].head;
                self.cfg.link(c, head, EdgeKind::Normal);
            }
        }
        self.cur = None;
    }

    fn loop_body(
        &mut self,
        label: Option<String>,
        cond: Option<&'f syn::Expr>,
        body: &'f syn::Block,
        span: Span,
    ) {
        let head = self.emit(Effect::None, span);
        self.loops.push(LoopCtx {
            label,
            head,
            breaks: Vec::new(),
            scope_depth: self.scopes.len(),
        });
        self.scopes.push(Vec::new());
        let mut exit_from_cond = None;
        if let Some(cond) = cond {
            self.temps.push(Vec::new());
            let taken = self.condition(cond);
            let end = span_of(cond);
            // The condition's temporaries live for the iteration; good enough to drop them
            // before the body.
            self.end_statement(end);
            self.temps.pop();
            exit_from_cond = taken;
        }
        self.block(body);
        self.pop_scope(span, None);
        if let Some(c) = self.cur {
            self.cfg.link(c, head, EdgeKind::Normal);
        }
        let ctx = self.loops.pop();
        let after = self.cfg.add(Effect::None, span);
        if let Some(n) = exit_from_cond {
            self.cfg.link(n, after, EdgeKind::Normal);
        }
        for b in ctx.map(|c| c.breaks).unwrap_or_default() {
            self.cfg.link(b, after, EdgeKind::Normal);
        }
        self.cur = Some(after);
    }

    fn for_loop(
        &mut self,
        label: Option<String>,
        pat: &'f syn::Pat,
        body: &'f syn::Block,
        span: Span,
    ) {
        let head = self.emit(Effect::None, span);
        self.loops.push(LoopCtx {
            label,
            head,
            breaks: Vec::new(),
            scope_depth: self.scopes.len(),
        });
        self.scopes.push(Vec::new());
        self.bind_pattern(pat, Val::None, span);
        self.block(body);
        self.pop_scope(span, None);
        if let Some(c) = self.cur {
            self.cfg.link(c, head, EdgeKind::Normal);
        }
        let ctx = self.loops.pop();
        let after = self.cfg.add(Effect::None, span);
        self.cfg.link(head, after, EdgeKind::Normal);
        for b in ctx.map(|c| c.breaks).unwrap_or_default() {
            self.cfg.link(b, after, EdgeKind::Normal);
        }
        self.cur = Some(after);
    }

    /// Lowers a condition (with `let` patterns binding into the current scope); returns the
    /// node the false branch leaves from.
    fn condition(&mut self, cond: &'f syn::Expr) -> Option<NodeId> {
        match cond {
            syn::Expr::Let(l) => {
                let v = self.expr(&l.expr);
                let v = self.materialize(v);
                let fork = self.emit(Effect::None, span_of(l));
                // On the branch where the pattern does not match, nothing of it is kept.
                let else_from = match v {
                    Val::Conn(op) => {
                        let rel = self.cfg.add(
                            Effect::Release {
                                what: op,
                                how: ReleaseHow::Always,
                            },
                            span_of(l),
                        );
                        self.cfg.link(fork, rel, EdgeKind::Normal);
                        rel
                    }
                    _ => fork,
                };
                self.bind_pattern(&l.pat, v, span_of(l));
                Some(else_from)
            }
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                let first = self.condition(&b.left);
                let second = self.condition(&b.right);
                let join = self.cfg.add(Effect::None, span_of(b));
                for n in [first, second].into_iter().flatten() {
                    self.cfg.link(n, join, EdgeKind::Normal);
                }
                Some(join)
            }
            other => {
                self.expr(other);
                self.cur
            }
        }
    }

    fn if_expr(&mut self, i: &'f syn::ExprIf) -> Val {
        self.scopes.push(Vec::new());
        let else_from = self.condition(&i.cond);
        let then_v = self.block(&i.then_branch);
        let then_v = self.materialize(then_v);
        self.pop_scope(
            span_of(&i.then_branch.brace_token.span.close()),
            conn_var(&then_v),
        );
        let then_end = self.cur;
        self.cur = else_from;
        let else_v = match &i.else_branch {
            Some((_, e)) => {
                let v = self.expr(e);
                self.materialize(v)
            }
            None => Val::None,
        };
        let else_end = self.cur;
        self.join(vec![(then_end, then_v), (else_end, else_v)], span_of(i))
    }

    fn match_expr(&mut self, m: &'f syn::ExprMatch) -> Val {
        let scrutinee = self.expr(&m.expr);
        let scrutinee = self.materialize(scrutinee);
        let fork = self.cur;
        let mut ends = Vec::new();
        let mut taken = false;
        for arm in &m.arms {
            self.cur = fork;
            self.scopes.push(Vec::new());
            let v = if binds_value(&arm.pat) && !taken {
                taken = true;
                scrutinee.clone()
            } else {
                // Ex) `Err(e) => return`: this arm keeps nothing of the scrutinee.
                if let Val::Conn(op) = scrutinee {
                    self.emit(
                        Effect::Release {
                            what: op,
                            how: ReleaseHow::Always,
                        },
                        span_of(&arm.pat),
                    );
                }
                Val::None
            };
            self.bind_pattern(&arm.pat, v, span_of(&arm.pat));
            if let Some((_, guard)) = &arm.guard {
                self.expr(guard);
            }
            let v = self.expr(&arm.body);
            let v = self.materialize(v);
            self.pop_scope(span_of(&arm.body), conn_var(&v));
            ends.push((self.cur, v));
        }
        if m.arms.is_empty() {
            self.cur = None;
        }
        self.join(ends, span_of(m))
    }

    /// Joins branches; when a connection comes out of some of them, one variable holds it.
    fn join(&mut self, ends: Vec<(Option<NodeId>, Val)>, span: Span) -> Val {
        let after = self.cfg.add(Effect::None, span);
        let any_conn = ends
            .iter()
            .any(|(n, v)| n.is_some() && matches!(v, Val::Conn(_)));
        let mut result = Val::None;
        let var = if any_conn { Some(self.new_var()) } else { None };
        for (end, v) in ends {
            let Some(end) = end else { continue };
            self.cur = Some(end);
            match (var, &v) {
                (Some(var), Val::Conn(op)) => {
                    self.emit(
                        Effect::Bind {
                            dst: var,
                            src: Some(*op),
                        },
                        span,
                    );
                    if let Operand::Var(old) = op {
                        self.emit(
                            Effect::Bind {
                                dst: *old,
                                src: None,
                            },
                            span,
                        );
                    }
                    result = Val::Conn(Operand::Var(var));
                }
                (None, Val::Pool(_) | Val::JoinHandle) => result = v.clone(),
                _ => {}
            }
            if let Some(c) = self.cur {
                self.cfg.link(c, after, EdgeKind::Normal);
            }
        }
        self.cur = Some(after);
        if let (Some(var), Val::Conn(_)) = (var, &result) {
            // The joined value belongs to the enclosing block; drop it there.
            self.declare(String::new(), Binding::Conn(var));
        }
        result
    }

    fn assign(&mut self, left: &'f syn::Expr, v: Val, span: Span) {
        if let syn::Expr::Path(p) = left {
            if p.path.segments.len() == 1 {
                let name = p.path.segments[0].ident.to_string();
                let v = self.materialize(v);
                let existing = self.lookup(&name).cloned();
                match existing {
                    Some(Binding::Conn(x)) => {
                        // The old value is dropped when the new one is assigned.
                        self.emit(
                            Effect::Release {
                                what: Operand::Var(x),
                                how: ReleaseHow::Always,
                            },
                            span,
                        );
                        let src = match v {
                            Val::Conn(op) => Some(op),
                            _ => None,
                        };
                        self.emit(Effect::Bind { dst: x, src }, span);
                        if let Some(op) = src {
                            self.moved_from(op);
                        }
                    }
                    Some(_) => {
                        if let Val::Conn(op) = v {
                            let var = self.new_var();
                            self.emit(
                                Effect::Bind {
                                    dst: var,
                                    src: Some(op),
                                },
                                span,
                            );
                            self.moved_from(op);
                            self.rebind(&name, Binding::Conn(var));
                        } else if let Val::Pool(pool) = v {
                            self.rebind(&name, Binding::Pool(pool));
                        }
                    }
                    None => self.transfer(&v, TransferHow::Store, span),
                }
                return;
            }
        }
        // Ex) `self.conn = conn`, `slot[0] = conn`, `*out = conn`: stored for good.
        self.expr(left);
        self.transfer(&v, TransferHow::Store, span);
    }

    fn moved_from(&mut self, op: Operand) {
        match op {
            Operand::Var(old) => {
                self.emit(
                    Effect::Bind {
                        dst: old,
                        src: None,
                    },
                    Span::default(),
                );
            }
            Operand::Temp(_) => self.forget_temp(op),
        }
    }

    /// Changes what an existing binding holds (`x = pool.get()?` after `let mut x = None`).
    fn rebind(&mut self, name: &str, b: Binding) {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = b;
                return;
            }
        }
    }

    fn await_expr(&mut self, a: &'f syn::ExprAwait) -> Val {
        let v = self.expr(&a.base);
        let span = span_of(a);
        let mut info = AwaitInfo::default();
        match &v {
            Val::Pending(p) => info.pool = Some(p.pool.key.clone()),
            Val::PoolWork(p) => info.pool = Some(p.key.clone()),
            Val::JoinHandle => info.slow = Some("a spawned task"),
            _ => info.slow = self.classify_await(&a.base, 0),
        }
        let n = self.emit(Effect::Await, span);
        self.awaits.insert(n, info);
        match v {
            Val::Pending(_) => self.materialize(v),
            Val::PoolWork(_) | Val::JoinHandle => Val::None,
            other => other,
        }
    }

    /// Whether a call is one of the configuration's `slow-await` functions.
    fn declared_slow(&self, callee: &str, resolved: Option<&str>) -> Option<&'static str> {
        self.ctx
            .slow
            .is_slow_await(callee, resolved)
            .then_some("slow work (declared in the configuration)")
    }

    /// What slow work an awaited future is, from its syntax (the default list in [`tables`]).
    fn classify_await(&self, e: &syn::Expr, depth: u32) -> Option<&'static str> {
        if depth > 8 {
            return None;
        }
        match e {
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else {
                    return None;
                };
                let full = self.ctx.resolve(&p.path);
                if ends_with_path(&full, "timeout") {
                    return c
                        .args
                        .last()
                        .and_then(|f| self.classify_await(f, depth + 1));
                }
                tables::SLOW_AWAIT_FUNCTIONS
                    .iter()
                    .find(|(f, _)| ends_with_path(&full, f))
                    .map(|(_, what)| *what)
                    .or_else(|| self.declared_slow(&path_text(&p.path), Some(&full)))
            }
            syn::Expr::MethodCall(m) => {
                let name = m.method.to_string();
                if tables::HTTP_AWAIT_METHODS.contains(&name.as_str()) && is_http_chain(&m.receiver)
                {
                    return Some("an HTTP request");
                }
                tables::SLOW_AWAIT_METHODS
                    .iter()
                    .find(|(f, _)| *f == name)
                    .map(|(_, what)| *what)
                    .or_else(|| self.declared_slow(&format!("_.{name}"), None))
            }
            syn::Expr::Paren(p) => self.classify_await(&p.expr, depth + 1),
            _ => None,
        }
    }

    fn method_call(&mut self, m: &'f syn::ExprMethodCall) -> Val {
        let close = span_of(&m.paren_token.span.close());
        let span = Span {
            start: span_of(&m.receiver).start,
            end: close.end,
        };
        // A query's own span: from the method name, not from the start of its builder chain.
        let call_span = Span {
            start: span_of(&m.method).start,
            end: close.end,
        };
        let name = m.method.to_string();
        let recv = self.expr(&m.receiver);
        let recv_is_self = matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident("self"));
        let mut args = Vec::with_capacity(m.args.len());
        for a in &m.args {
            let v = self.expr(a);
            args.push(v);
        }
        // Ex) `query.fetch_one(&pool)`: the pool is the executor.
        let mut result = Val::None;
        for v in &args {
            if let Val::Pool(p) = v {
                if is_executor_method(p, &name) {
                    self.executor_use(p, &name, call_span);
                    result = Val::PoolWork(p.clone());
                }
            }
        }
        let recv = match recv {
            Val::Pending(p) => {
                if PASSTHROUGH_METHODS.contains(&name.as_str()) {
                    self.consume_args(args, span);
                    return self.materialize(Val::Pending(p));
                }
                self.materialize(Val::Pending(p))
            }
            other => other,
        };
        match recv {
            Val::PoolCell(p) if CELL_GETTERS.contains(&name.as_str()) => {
                self.consume_args(args, span);
                return Val::Pool(p);
            }
            Val::Pool(p) => {
                if let Some(acq) = acquire_of(&p, &name) {
                    self.consume_args(args, span);
                    return Val::Pending(Box::new(Pending {
                        api: format!("{}.{name}()", p.key),
                        pool: p,
                        handle: acq,
                        span,
                    }));
                }
                if POOL_PASSTHROUGH.contains(&name.as_str()) {
                    return Val::Pool(p);
                }
                if is_executor_method(&p, &name) {
                    self.executor_use(&p, &name, span);
                    self.consume_args(args, span);
                    return Val::PoolWork(p);
                }
            }
            Val::Conn(op) => {
                if tables::CONSUMING_RELEASES.contains(&name.as_str()) {
                    self.consume_args(args, span);
                    let how: &'static str = match name.as_str() {
                        "commit" => "commit",
                        "rollback" => "rollback",
                        _ => "close",
                    };
                    self.emit(
                        Effect::Release {
                            what: op,
                            how: ReleaseHow::Method(how),
                        },
                        span,
                    );
                    return Val::None;
                }
                if tables::FORGET_METHODS.contains(&name.as_str()) {
                    self.consume_args(args, span);
                    let n = self.emit(
                        Effect::Transfer {
                            what: op,
                            how: TransferHow::Forget,
                        },
                        span,
                    );
                    self.forget_temp(op);
                    self.forgets.insert(n, format!("`{name}()`"));
                    return Val::None;
                }
                if tables::DETACH_METHODS.contains(&name.as_str()) {
                    self.consume_args(args, span);
                    self.emit(
                        Effect::Transfer {
                            what: op,
                            how: TransferHow::Escape,
                        },
                        span,
                    );
                    self.forget_temp(op);
                    return Val::None;
                }
                if PASSTHROUGH_METHODS.contains(&name.as_str()) {
                    self.consume_args(args, span);
                    return Val::Conn(op);
                }
            }
            _ => {}
        }
        // A method of this file: it may acquire from the pools it is given or holds.
        let callee = if recv_is_self {
            self.unit
                .self_type
                .as_ref()
                .and_then(|t| self.unique(&self.ctx.methods, &format!("{t}::{name}")))
        } else {
            self.unique(&self.ctx.method_names, &name)
        };
        let pending = callee.and_then(|callee| {
            self.probe_callee(&callee, &args, recv_is_self, span, &format!(".{name}()"))
        });
        self.consume_args(args, span);
        match pending {
            Some(p) => Val::Pending(Box::new(p)),
            None => result,
        }
    }

    fn unique(&self, map: &FxHashMap<String, Vec<usize>>, key: &str) -> Option<String> {
        let ids = map.get(key)?;
        // Ex) two `impl`s both define `find`: which one is called is unknown.
        (ids.len() == 1).then(|| key.to_string())
    }

    /// Facts of a callee by the key it was found under (`load`, `Repo::find`, or a bare
    /// method name).
    fn facts_of(&self, key: &str) -> Option<(String, &'a Facts)> {
        let ids = self
            .ctx
            .methods
            .get(key)
            .or_else(|| self.ctx.functions.get(key))
            .or_else(|| self.ctx.method_names.get(key))?;
        if ids.len() != 1 {
            return None;
        }
        let facts: &'a FxHashMap<String, Facts> = self.facts;
        // Units are keyed by their qualified name; find the one with this short key.
        facts
            .iter()
            .find(|(name, _)| {
                *name == key || name.ends_with(&format!("::{key}")) || {
                    let short = name.rsplit("::").next().unwrap_or(name);
                    short == key && !key.contains("::")
                }
            })
            .map(|(n, f)| (n.clone(), f))
    }

    /// Marks a call to a function of this file that acquires from a pool it is given (or from
    /// its `self` field); a factory's call is the pending acquisition of what it returns.
    fn probe_callee(
        &mut self,
        key: &str,
        args: &[Val],
        on_self: bool,
        span: Span,
        shown: &str,
    ) -> Option<Pending> {
        let (callee, facts) = self.facts_of(key)?;
        self.probe_with(callee, facts, args, on_self, span, shown)
    }

    /// The facts of a function of another file of the crate, by the path a call names.
    fn crate_key(&self, full: &str) -> Option<(String, &'a Facts)> {
        let module = &self.ctx.module;
        let join = |m: &str, rest: &str| {
            if m.is_empty() {
                rest.to_string()
            } else {
                format!("{m}::{rest}")
            }
        };
        let key = if let Some(rest) = full.strip_prefix("self::") {
            join(module, rest)
        } else if let Some(rest) = full.strip_prefix("super::") {
            let parent = module.rsplit_once("::").map(|(p, _)| p).unwrap_or("");
            join(parent, rest)
        } else {
            full.to_string()
        };
        let ext: &'a super::Exports = self.ext;
        let mut looked_up = self.ctx.looked_up.borrow_mut();
        looked_up.insert(key.clone());
        if let Some((k, f)) = ext.get_key_value(&key) {
            return Some((k.clone(), f));
        }
        // Ex) `models::Repo::find`: methods are known by `Type::method`.
        let segs: Vec<&str> = key.split("::").collect();
        if segs.len() > 2 {
            let short = segs[segs.len() - 2..].join("::");
            let found = ext.get_key_value(&short).map(|(k, f)| (k.clone(), f));
            looked_up.insert(short);
            return found;
        }
        None
    }

    fn probe_with(
        &mut self,
        callee: String,
        facts: &'a Facts,
        args: &[Val],
        on_self: bool,
        span: Span,
        shown: &str,
    ) -> Option<Pending> {
        let mut returned = None;
        for i in &facts.returns_params {
            if let Some(Val::Pool(p)) = args.get(*i) {
                returned = Some(p.clone());
            }
        }
        if on_self {
            if let Some(field) = facts.returns_fields.first() {
                returned = Some(PoolRef {
                    key: format!("self.{field}"),
                    pool: None,
                });
            }
        }
        let mut hits: Vec<(String, Vec<String>)> = Vec::new();
        for (i, chain) in &facts.params {
            if let Some(Val::Pool(p)) = args.get(*i) {
                hits.push((p.key.clone(), chain.clone()));
            }
        }
        if on_self {
            for (field, chain) in &facts.fields {
                hits.push((format!("self.{field}"), chain.clone()));
            }
        }
        let short = callee.rsplit("::").next().unwrap_or(&callee).to_string();
        for (pool, chain) in hits {
            let n = self.emit(Effect::Probe, span);
            let mut full = vec![callee.clone()];
            full.extend(chain);
            self.probes.insert(
                n,
                ProbeInfo {
                    pool,
                    api: if shown.starts_with('.') {
                        format!("{}{shown}", if on_self { "self" } else { "" })
                    } else {
                        format!("{short}()")
                    },
                    chain: full,
                },
            );
        }
        let api = if shown.starts_with('.') {
            format!("{}{shown}", if on_self { "self" } else { "" })
        } else {
            format!("{short}()")
        };
        returned.map(|pool| Pending {
            api,
            pool,
            handle: &RETURNED_CONNECTION,
            span,
        })
    }

    /// Arguments passed by value are moved into the callee.
    fn consume_args(&mut self, args: Vec<Val>, span: Span) {
        for v in args {
            if matches!(v, Val::Conn(_) | Val::Pending(_)) {
                self.transfer(&v, TransferHow::Escape, span);
            }
        }
    }

    /// A query run with the pool itself as executor: a connection for that statement only.
    fn executor_use(&mut self, p: &PoolRef, method: &str, span: Span) {
        let a = self.new_site(
            span,
            &SQLX_EXECUTOR,
            AcqMeta {
                api: format!("{method}(&{})", p.key),
                binding: None,
                pool: Some(p.clone()),
            },
        );
        self.emit(Effect::Acquire(a), span);
        self.emit(
            Effect::Release {
                what: Operand::Temp(a),
                how: ReleaseHow::Always,
            },
            span,
        );
    }

    fn call(&mut self, c: &'f syn::ExprCall) -> Val {
        let span = span_of(c);
        let path = match &*c.func {
            syn::Expr::Path(p) if p.qself.is_none() => Some(&p.path),
            _ => None,
        };
        let full = path.map(|p| self.ctx.resolve(p)).unwrap_or_default();
        if tables::SPAWN_FUNCTIONS
            .iter()
            .any(|f| ends_with_path(&full, f))
        {
            if let Some(arg) = c.args.first() {
                self.spawn(arg);
            }
            for a in c.args.iter().skip(1) {
                self.expr(a);
            }
            return Val::JoinHandle;
        }
        let mut args = Vec::with_capacity(c.args.len());
        for a in &c.args {
            let v = self.expr(a);
            args.push(v);
        }
        if full.is_empty() {
            self.consume_args(args, span);
            return Val::None;
        }
        if ends_with_path(&full, "drop") || ends_with_path(&full, "mem::drop") {
            for v in args {
                self.release(v, ReleaseHow::Always, span);
            }
            return Val::None;
        }
        if let Some((_, how)) = tables::FORGET_FUNCTIONS
            .iter()
            .find(|(f, _)| f.contains("::") && ends_with_path(&full, f))
        {
            for v in args {
                let v = self.materialize(v);
                if let Val::Conn(op) = v {
                    let n = self.emit(
                        Effect::Transfer {
                            what: op,
                            how: TransferHow::Forget,
                        },
                        span,
                    );
                    self.forget_temp(op);
                    self.forgets.insert(n, how.to_string());
                }
            }
            return Val::None;
        }
        if tables::DETACH_FUNCTIONS
            .iter()
            .any(|f| ends_with_path(&full, f))
        {
            for v in args {
                self.transfer(&v, TransferHow::Escape, span);
            }
            return Val::None;
        }
        if let Some(pool) = self.ctx.builder_call(c) {
            self.consume_args(args, span);
            return Val::Pool(PoolRef {
                key: String::new(),
                pool: Some(pool),
            });
        }
        let last = full.rsplit("::").next().unwrap_or(&full).to_string();
        let wrapping = tables::WRAPPING_CALLS
            .iter()
            .any(|w| ends_with_path(&full, w))
            || last.chars().next().is_some_and(char::is_uppercase);
        // A function of this file: it may acquire from the pools passed to it.
        let key = if let Some(t) = full.strip_prefix("Self::") {
            self.unit.self_type.as_ref().map(|s| format!("{s}::{t}"))
        } else if full.contains("::") {
            let segs: Vec<&str> = full.split("::").collect();
            let n = segs.len();
            if n >= 2 && segs[n - 2].chars().next().is_some_and(char::is_uppercase) {
                Some(format!("{}::{}", segs[n - 2], segs[n - 1]))
            } else {
                Some(last.clone())
            }
        } else {
            Some(full.clone())
        };
        if let Some(key) = key {
            let found = self
                .unique(&self.ctx.methods, &key)
                .or_else(|| self.unique(&self.ctx.functions, &key));
            let pending = match found {
                Some(k) => self.probe_callee(&k, &args, false, span, ""),
                // Another file of the crate: `db::load(&pool)`, `use crate::db::load`.
                None => self
                    .crate_key(&full)
                    .and_then(|(k, facts)| self.probe_with(k, facts, &args, false, span, "")),
            };
            if let Some(p) = pending {
                self.consume_args(args, span);
                return Val::Pending(Box::new(p));
            }
        }
        if wrapping {
            let mut carried = Val::None;
            for v in args {
                match v {
                    Val::Pool(p) if matches!(carried, Val::None) => carried = Val::Pool(p),
                    v => carried = self.carry(carried, v, span),
                }
            }
            return carried;
        }
        self.consume_args(args, span);
        Val::None
    }

    /// A closure or async block given to a spawn function: a unit of its own. In this
    /// function, what it captures by `move` is moved into it.
    fn spawn(&mut self, arg: &'f syn::Expr) {
        let span = span_of(arg);
        let body = match arg {
            syn::Expr::Closure(c) => {
                if c.capture.is_some() {
                    self.move_captures(&c.body, span);
                }
                match &*c.body {
                    syn::Expr::Async(a) => {
                        if a.capture.is_some() {
                            self.move_captures_block(&a.block, span);
                        }
                        Body::Block(&a.block)
                    }
                    other => Body::Expr(other),
                }
            }
            syn::Expr::Async(a) => {
                if a.capture.is_some() {
                    self.move_captures_block(&a.block, span);
                }
                Body::Block(&a.block)
            }
            other => {
                let v = self.expr(other);
                self.transfer(&v, TransferHow::Escape, span);
                return;
            }
        };
        let line = self.index.line_col(span.start).line;
        let env: Vec<(String, PoolRef)> = self
            .scopes
            .iter()
            .flat_map(|s| s.iter())
            .filter_map(|(n, b)| match b {
                Binding::Pool(p) => Some((n.clone(), p.clone())),
                _ => None,
            })
            .collect();
        self.spawned.push(Unit {
            name: format!("{}::{{spawn@{line}}}", self.unit.name),
            short: String::new(),
            name_span: span,
            span,
            is_async: matches!(arg, syn::Expr::Async(_))
                || matches!(arg, syn::Expr::Closure(c) if matches!(&*c.body, syn::Expr::Async(_))),
            self_type: self.unit.self_type.clone(),
            params: Vec::new(),
            body,
            env,
        });
    }

    fn move_captures(&mut self, body: &syn::Expr, span: Span) {
        let mut names = Vec::new();
        mentioned_names(body, &mut names);
        self.move_names(names, span);
    }

    fn move_captures_block(&mut self, block: &syn::Block, span: Span) {
        let mut names = Vec::new();
        let mut v = NameCollector {
            names: &mut names,
            depth: 0,
        };
        syn::visit::Visit::visit_block(&mut v, block);
        self.move_names(names, span);
    }

    fn move_names(&mut self, names: Vec<String>, span: Span) {
        for n in names {
            if let Some(Binding::Conn(v)) = self.lookup(&n).cloned() {
                self.emit(
                    Effect::Transfer {
                        what: Operand::Var(v),
                        how: TransferHow::Escape,
                    },
                    span,
                );
            }
        }
    }

    // ---- summary ----------------------------------------------------------------------------

    fn finish(self) -> Lowered {
        let unit = self.unit;
        let node_span = |id: NodeId| {
            self.cfg
                .nodes
                .get(id as usize)
                .map(|n| n.span)
                .unwrap_or(unit.span)
        };
        let mut acquisitions = Vec::new();
        let mut nested = Vec::new();
        let mut forgets = Vec::new();
        let mut facts = Facts::default();
        let param_index = |key: &str| unit.params.iter().position(|(n, _)| n == key);
        let note_fact = |facts: &mut Facts, key: &str, chain: Vec<String>| {
            if let Some(i) = param_index(key) {
                facts.params.entry(i).or_insert(chain);
            } else if let Some(field) = key.strip_prefix("self.") {
                if !field.contains('.') {
                    facts.fields.entry(field.to_string()).or_insert(chain);
                }
            }
        };
        for p in self.probes.values() {
            note_fact(&mut facts, &p.pool, p.chain.clone());
        }
        if self.too_deep.is_some() {
            return Lowered {
                name: unit.name.clone(),
                facts,
                summary: FunctionSummary::default(),
                too_deep: self.too_deep,
            };
        }
        for (i, (meta, site)) in self.metas.iter().zip(&self.cfg.acquisitions).enumerate() {
            let out = flow::solve(&self.cfg, i as AcqId);
            let pool_key = meta.pool.as_ref().map(|p| p.key.clone());
            if let Some(k) = &pool_key {
                note_fact(&mut facts, k, Vec::new());
                if out.returned {
                    if let Some(i) = param_index(k) {
                        if !facts.returns_params.contains(&i) {
                            facts.returns_params.push(i);
                        }
                    } else if let Some(field) = k.strip_prefix("self.") {
                        if !facts.returns_fields.iter().any(|f| f == field) {
                            facts.returns_fields.push(field.to_string());
                        }
                    }
                }
            }
            let mut held_across = Vec::new();
            for &id in &out.held_at {
                let Some(node) = self.cfg.nodes.get(id as usize) else {
                    continue;
                };
                match node.effect {
                    Effect::Await => {
                        let Some(info) = self.awaits.get(&id) else {
                            continue;
                        };
                        if let Some(what) = info.slow {
                            held_across.push(HeldAwait {
                                at: node.span,
                                what: what.to_string(),
                            });
                        } else if let (Some(other), Some(mine)) = (&info.pool, &pool_key) {
                            if other != mine {
                                held_across.push(HeldAwait {
                                    at: node.span,
                                    what: format!("a connection from another pool (`{other}`)"),
                                });
                            }
                        }
                    }
                    Effect::Acquire(b) => {
                        let other = &self.metas[b as usize];
                        let same =
                            matches!((&other.pool, &pool_key), (Some(p), Some(k)) if &p.key == k);
                        if same {
                            nested.push(NestedAcquire {
                                at: self.cfg.acquisitions[b as usize].span,
                                api: other.api.clone(),
                                pool: pool_key.clone().unwrap_or_default(),
                                held: site.span,
                                held_binding: meta.binding.clone(),
                                chain: Vec::new(),
                            });
                        }
                    }
                    Effect::Probe => {
                        let Some(p) = self.probes.get(&id) else {
                            continue;
                        };
                        if pool_key.as_deref() == Some(p.pool.as_str()) {
                            nested.push(NestedAcquire {
                                at: node.span,
                                api: p.api.clone(),
                                pool: p.pool.clone(),
                                held: site.span,
                                held_binding: meta.binding.clone(),
                                chain: p.chain.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            // Ex) `conn = pool.acquire().await?` in a loop: the old value is dropped only after
            // the new one is taken.
            if !out.reacquired_while_held.is_empty() {
                nested.push(NestedAcquire {
                    at: site.span,
                    api: meta.api.clone(),
                    pool: pool_key.clone().unwrap_or_default(),
                    held: site.span,
                    held_binding: meta.binding.clone(),
                    chain: Vec::new(),
                });
            }
            for &id in &out.forgotten_at {
                forgets.push(Forget {
                    at: node_span(id),
                    how: self.forgets.get(&id).cloned().unwrap_or_default(),
                    acquired: site.span,
                    api: meta.api.clone(),
                    resource: site.handle.name(),
                });
            }
            held_across.sort_by_key(|h| h.at);
            // Ex) `client.get(u).send().await?.text().await?`: one label per line and kind.
            let line = |s: Span| self.index.line_col(s.start).line;
            held_across.dedup_by(|a, b| a.what == b.what && line(a.at) == line(b.at));
            acquisitions.push(Acquisition {
                span: site.span,
                api: meta.api.clone(),
                resource: site.handle.name(),
                binding: meta.binding.clone(),
                returned: out.returned,
                stored: out.stored,
                pool: pool_key,
                held_across,
                ..Acquisition::default()
            });
        }
        nested.sort_by_key(|n| (n.at, n.held));
        nested.dedup_by(|a, b| a.at == b.at && a.held == b.held);
        forgets.sort_by_key(|f| f.at);
        forgets.dedup();
        let summary = FunctionSummary {
            name: unit.name.clone(),
            span: unit.name_span,
            is_async: unit.is_async,
            acquisitions,
            nested_acquires: nested,
            forgets,
            acquires_from_params: facts.params.keys().copied().collect(),
            acquires_from_fields: facts.fields.keys().cloned().collect(),
            ..FunctionSummary::default()
        };
        Lowered {
            name: unit.name.clone(),
            facts,
            summary,
            too_deep: None,
        }
    }
}

/// A connection returned by a function of this file that acquires it from the pool it is
/// given: given back when dropped, like the pools' own.
static RETURNED_CONNECTION: HandleSpec = HandleSpec {
    name: "pooled connection",
    release_methods: &["close", "commit", "rollback"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};

/// sqlx's executor checkout, shown as its own kind.
static SQLX_EXECUTOR: HandleSpec = HandleSpec {
    name: "sqlx pooled connection (for one statement)",
    release_methods: &[],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};

/// Methods that keep the value they are called on (`Result`/`Option` plumbing).
const PASSTHROUGH_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "map_err",
    "context",
    "with_context",
    "ok",
    "ok_or",
    "ok_or_else",
    "unwrap_or_else",
];

/// Methods of `OnceLock`/`OnceCell` that give the value inside.
const CELL_GETTERS: &[&str] = &["get", "get_or_init", "get_or_try_init", "wait"];

/// Methods on a pool that give the same pool back.
const POOL_PASSTHROUGH: &[&str] = &[
    "clone",
    "as_ref",
    "get_ref",
    "deref",
    "borrow",
    "into_inner",
    "unwrap",
    "expect",
];

fn acquire_of(p: &PoolRef, method: &str) -> Option<&'static HandleSpec> {
    let pools: Vec<&'static RustPool> = match p.pool {
        Some(pool) => vec![pool],
        None => tables::POOLS.to_vec(),
    };
    pools
        .iter()
        .flat_map(|pool| pool.acquire.iter())
        .find(|a| a.method == method)
        .map(|a| a.handle)
}

fn is_executor_method(p: &PoolRef, method: &str) -> bool {
    p.pool
        .is_none_or(|pool| pool.executor_methods.contains(&method))
        && tables::SQLX.executor_methods.contains(&method)
}

/// The variable a branch's value is, so that the branch's scope does not drop it.
fn conn_var(v: &Val) -> Option<VarId> {
    match v {
        Val::Conn(Operand::Var(x)) => Some(*x),
        _ => None,
    }
}

/// Whether an arm's pattern binds the scrutinee's success value (`Ok(c)`, `Some(c)`, `c`).
fn binds_value(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Ident(_) => true,
        syn::Pat::TupleStruct(t) => {
            let name = t
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            (name == "Ok" || name == "Some") && t.elems.len() == 1
        }
        _ => false,
    }
}

/// `self`, `state`, `self.inner`, `app.state`: the text of a place, for pool keys.
fn place_key(e: &syn::Expr, depth: u32) -> Option<String> {
    if depth > 8 {
        return None;
    }
    match e {
        syn::Expr::Path(p) if p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.to_string())
        }
        syn::Expr::Field(f) => {
            let base = place_key(&f.base, depth + 1)?;
            match &f.member {
                syn::Member::Named(n) => Some(format!("{base}.{n}")),
                syn::Member::Unnamed(i) => Some(format!("{base}.{}", i.index)),
            }
        }
        syn::Expr::Reference(r) => place_key(&r.expr, depth + 1),
        syn::Expr::Paren(p) => place_key(&p.expr, depth + 1),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => place_key(&u.expr, depth + 1),
        _ => None,
    }
}

/// Whether a method chain is an HTTP client request (`client.get(url).send()`,
/// `reqwest::get(url)`).
fn is_http_chain(e: &syn::Expr) -> bool {
    let mut e = e;
    for _ in 0..32 {
        match e {
            syn::Expr::MethodCall(m) => {
                if tables::HTTP_BUILDER_METHODS.contains(&m.method.to_string().as_str()) {
                    return true;
                }
                e = &m.receiver;
            }
            syn::Expr::Await(a) => e = &a.base,
            syn::Expr::Try(t) => e = &t.expr,
            syn::Expr::Call(c) => {
                return matches!(&*c.func, syn::Expr::Path(p)
                    if p.path.segments.iter().any(|s| s.ident == "reqwest"));
            }
            _ => return false,
        }
    }
    false
}

fn pattern_names(pat: &syn::Pat, out: &mut Vec<String>, depth: u32) {
    if depth > 32 {
        return;
    }
    match pat {
        syn::Pat::Ident(i) => {
            out.push(i.ident.to_string());
            if let Some((_, sub)) = &i.subpat {
                pattern_names(sub, out, depth + 1);
            }
        }
        syn::Pat::Tuple(t) => t
            .elems
            .iter()
            .for_each(|p| pattern_names(p, out, depth + 1)),
        syn::Pat::TupleStruct(t) => t
            .elems
            .iter()
            .for_each(|p| pattern_names(p, out, depth + 1)),
        syn::Pat::Struct(s) => s
            .fields
            .iter()
            .for_each(|f| pattern_names(&f.pat, out, depth + 1)),
        syn::Pat::Slice(s) => s
            .elems
            .iter()
            .for_each(|p| pattern_names(p, out, depth + 1)),
        syn::Pat::Or(o) => o
            .cases
            .iter()
            .for_each(|p| pattern_names(p, out, depth + 1)),
        syn::Pat::Reference(r) => pattern_names(&r.pat, out, depth + 1),
        syn::Pat::Type(t) => pattern_names(&t.pat, out, depth + 1),
        syn::Pat::Paren(p) => pattern_names(&p.pat, out, depth + 1),
        _ => {}
    }
}

/// Single-segment paths mentioned in an expression (what a closure may capture), with the
/// visit bounded in depth.
fn mentioned_names(e: &syn::Expr, out: &mut Vec<String>) {
    let mut v = NameCollector {
        names: out,
        depth: 0,
    };
    syn::visit::Visit::visit_expr(&mut v, e);
}

struct NameCollector<'o> {
    names: &'o mut Vec<String>,
    depth: u32,
}

impl<'ast> syn::visit::Visit<'ast> for NameCollector<'_> {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        syn::visit::visit_expr(self, e);
        self.depth -= 1;
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.path.segments.len() == 1 {
            let name = p.path.segments[0].ident.to_string();
            if !self.names.contains(&name) {
                self.names.push(name);
            }
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Macro bodies are opaque, but a name written in one is still captured.
        for t in m.tokens.clone() {
            if let proc_macro2::TokenTree::Ident(i) = t {
                let name = i.to_string();
                if !self.names.contains(&name) {
                    self.names.push(name);
                }
            }
        }
    }
}
