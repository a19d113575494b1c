//! Builds the front end's syntax tree ([`Tree`], tree-sitter-python's shape) from ruff's Python
//! parser (`ruff_python_parser`), which parses these trees five to seven times faster than
//! tree-sitter (`analyzer/examples/parse_only.rs --ruff`).
//!
//! Named nodes come from ruff's syntax tree, each given the kind, fields and byte range that
//! tree-sitter-python gives the same syntax (a `decorated_definition` around a decorated
//! function, a `pattern_list` on the left of `a, b = ...`, a `parenthesized_expression` for
//! every pair of parentheses that is not a call's or a tuple's own, an assignment statement
//! inside an `expression_statement`, and so on). Anonymous nodes (keywords, operators,
//! punctuation) and comments come from ruff's token stream: each token goes into the innermost
//! node open where it starts, which is where tree-sitter puts it. Inside strings only the
//! interpolations are kept (tree-sitter's `string_start`, `string_content` and `string_end` are
//! left out: the front end reads a string's text, never those parts).

use ruff_python_ast::token::{Token, TokenKind};
use ruff_python_ast::{
    self as ast, Expr, ExprContext, InterpolatedStringElement, Number, Pattern, Stmt,
};
use ruff_text_size::Ranged;

use super::fields::{self, F};
use super::syntax::{Builder, Tree};

/// How deep a file's syntax may nest for ruff's tree (see [`nesting_bound`]); deeper files
/// are parsed by tree-sitter instead, which builds and frees its trees without recursion.
pub(crate) const MAX_NESTING: usize = 1000;

/// Parses `text` with ruff's parser and builds the tree, or `None` when the file nests deeper
/// than [`MAX_NESTING`] (the caller then parses it with tree-sitter). Syntax errors are
/// recovered from as ruff's parser does; each becomes an `ERROR` node at its range, with
/// ruff's message.
pub(crate) fn parse(text: &str) -> Option<Tree> {
    // Input that looks built to nest deeply goes to tree-sitter before ruff's parser spends
    // time and memory on a tree it would then throw away (the bound below decides for the rest).
    if looks_deep(text) {
        return None;
    }
    let parsed =
        ruff_python_parser::parse_unchecked_source(text, ruff_python_ast::PySourceType::Python);
    let bound = nesting_bound(parsed.tokens());
    if bound > MAX_NESTING {
        drop_deep(parsed, bound);
        return None;
    }
    Some(build(text, &parsed))
}

/// A cheap look at the bytes: brackets nested past [`MAX_NESTING`], or a line longer than any
/// written by hand. Not a bound (brackets in strings count, long lines may nest nothing); it
/// only spares ruff's parser such input.
fn looks_deep(text: &str) -> bool {
    const LONGEST_LINE: usize = 1 << 16;
    // Lines first, by memchr; then brackets, followed one by one only where a cheap bound
    // allows them to nest that deep.
    let bytes = text.as_bytes();
    let mut line_start = 0;
    for at in memchr::memchr_iter(b'\n', bytes).chain([bytes.len()]) {
        if at - line_start > LONGEST_LINE {
            return true;
        }
        line_start = at + 1;
    }
    // A bound first, from counts per 64 bytes (a loop the compiler vectorises): the depth
    // never exceeds the highest running balance of brackets minus the lowest (or 0), and
    // within a chunk the balance rises at most by its opening brackets and falls at most by
    // its closing ones.
    let (mut balance, mut high, mut low) = (0i64, 0i64, 0i64);
    for chunk in bytes.chunks(64) {
        // Byte-wide counts (at most 64 each): the compiler keeps them in byte lanes.
        let (mut open, mut close) = (0u8, 0u8);
        for &b in chunk {
            open += u8::from(b == b'(') + u8::from(b == b'[') + u8::from(b == b'{');
            close += u8::from(b == b')') + u8::from(b == b']') + u8::from(b == b'}');
        }
        high = high.max(balance + i64::from(open));
        low = low.min(balance - i64::from(close));
        balance += i64::from(open) - i64::from(close);
    }
    if high - low <= MAX_NESTING as i64 {
        return false;
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for &b in bytes {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest > MAX_NESTING
}

/// Hands `f` the ranges as a slice: on the stack when there is one (a string literal's usual
/// single part), collected only when there are more (a list per string literal was one
/// allocation each).
fn with_ranges<R>(
    mut ranges: impl Iterator<Item = (u32, u32)>,
    f: impl FnOnce(&[(u32, u32)]) -> R,
) -> R {
    let Some(first) = ranges.next() else {
        return f(&[]);
    };
    match ranges.next() {
        None => f(&[first]),
        Some(second) => {
            let mut all = vec![first, second];
            all.extend(ranges);
            f(&all)
        }
    }
}

/// An upper bound on the depth of ruff's syntax tree for these tokens: three levels per
/// indentation level (statement, body, statement) plus, for the deepest logical line, one per
/// token that can open a level of nesting (an operator, a dot, an opening bracket, a keyword
/// such as `not`, `lambda`, `await` or `if`). Names, literals, commas, colons and closing
/// brackets nest nothing; ruff keeps `and`/`or` chains, comparisons and `a = b = c` flat.
fn nesting_bound(tokens: &[Token]) -> usize {
    let (mut indent, mut deepest, mut line) = (0usize, 0usize, 0usize);
    for t in tokens {
        match t.kind() {
            TokenKind::Indent => indent += 1,
            TokenKind::Dedent => indent = indent.saturating_sub(1),
            TokenKind::Newline => line = 0,
            TokenKind::Name
            | TokenKind::Int
            | TokenKind::Float
            | TokenKind::Complex
            | TokenKind::String
            | TokenKind::FStringMiddle
            | TokenKind::FStringEnd
            | TokenKind::TStringMiddle
            | TokenKind::TStringEnd
            | TokenKind::Comma
            | TokenKind::Colon
            | TokenKind::Semi
            | TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace
            | TokenKind::Comment
            | TokenKind::NonLogicalNewline
            | TokenKind::EndOfFile
            | TokenKind::True
            | TokenKind::False
            | TokenKind::None
            // Flat in ruff's tree: `and`/`or` chains and comparison chains.
            | TokenKind::And
            | TokenKind::Or
            | TokenKind::Less
            | TokenKind::Greater
            | TokenKind::EqEqual
            | TokenKind::NotEqual
            | TokenKind::LessEqual
            | TokenKind::GreaterEqual
            | TokenKind::In
            | TokenKind::Is => {}
            _ => line += 1,
        }
        deepest = deepest.max(3 * indent + line);
    }
    deepest
}

/// Frees a syntax tree too deep for the usual recursive drop on this thread's stack: on a
/// stack grown for it (512 bytes a level, at most 64 MiB), or past that by leaking it. Only
/// input built to nest over 131,000 levels in lines short enough to pass [`looks_deep`]
/// (an operator chain of that length inside one pair of brackets) gets there, and it leaks
/// its own tree once per analysis, bounded by the file size limit.
fn drop_deep(parsed: ruff_python_parser::Parsed<ast::ModModule>, bound: usize) {
    const LEAK_PAST: usize = 1 << 17;
    if bound > LEAK_PAST {
        std::mem::forget(parsed);
    } else {
        stacker::grow(bound.saturating_mul(512).max(1 << 20), move || drop(parsed));
    }
}

fn build(text: &str, parsed: &ruff_python_parser::Parsed<ast::ModModule>) -> Tree {
    let tokens: &[Token] = parsed.tokens();
    let mut errors: Vec<(u32, u32)> = parsed
        .errors()
        .iter()
        .map(|e| (e.location.start().to_u32(), e.location.end().to_u32()))
        .collect();
    errors.sort_unstable();
    let first_error = parsed
        .errors()
        .iter()
        .min_by_key(|e| e.location.start())
        .map(|e| {
            (
                e.location.start().to_u32(),
                e.location.end().to_u32(),
                e.error.to_string(),
            )
        });
    let mut c = Conv {
        text,
        ids: Ids {
            binary_operator: fields::named_id("binary_operator"),
            boolean_operator: fields::named_id("boolean_operator"),
            unary_operator: fields::named_id("unary_operator"),
            augmented_assignment: fields::named_id("augmented_assignment"),
            comparison_operator: fields::named_id("comparison_operator"),
            comment: fields::named_id("comment"),
            line_continuation: fields::named_id("line_continuation"),
        },
        named: rustc_hash::FxHashMap::default(),
        anon: [u16::MAX; 256],
        tokens,
        continuations: continuations(text, tokens),
        next_continuation: 0,
        next: 0,
        b: Builder::new(text.len(), errors),
    };
    let module = parsed.syntax();
    let end = module_end(text, tokens);
    c.open("module", None, 0);
    for s in &module.body {
        c.stmt(s);
    }
    c.flush(end);
    c.b.errors_before(u32::MAX);
    c.close(end);
    let mut tree = c.b.finish();
    tree.first_error = first_error;
    tree
}

/// Where tree-sitter ends the module: after the last token's line (its newline included).
fn module_end(text: &str, tokens: &[Token]) -> u32 {
    let last = tokens
        .iter()
        .rev()
        .find(|t| {
            !matches!(
                t.kind(),
                TokenKind::EndOfFile
                    | TokenKind::Dedent
                    | TokenKind::Newline
                    | TokenKind::NonLogicalNewline
                    | TokenKind::Indent
            )
        })
        .map_or(0, |t| t.end().to_u32());
    let rest = &text.as_bytes()[last as usize..];
    let newline = rest.iter().position(|&b| b == b'\n');
    match newline {
        Some(n) => last + n as u32 + 1,
        None => text.len() as u32,
    }
}

/// The backslash line continuations, which tree-sitter keeps as `line_continuation` nodes and
/// ruff's lexer skips as whitespace: a `\` in the gap between two tokens.
fn continuations(text: &str, tokens: &[Token]) -> Vec<(u32, u32)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut last = 0usize;
    for t in tokens {
        let s = t.start().to_usize();
        // Before a string, tree-sitter's string scanner reads a continuation as whitespace.
        let string = matches!(
            t.kind(),
            TokenKind::String | TokenKind::FStringStart | TokenKind::TStringStart
        );
        if s > last && !string {
            for (i, &b) in bytes[last..s].iter().enumerate() {
                if b == b'\\' {
                    let at = last + i;
                    let len =
                        if bytes.get(at + 1) == Some(&b'\r') && bytes.get(at + 2) == Some(&b'\n') {
                            3
                        } else {
                            2
                        };
                    out.push((at as u32, (at + len).min(bytes.len()) as u32));
                }
            }
        }
        last = last.max(t.end().to_usize());
    }
    out
}

/// Kind ids the builder asks for on every token, resolved once.
struct Ids {
    binary_operator: u16,
    boolean_operator: u16,
    unary_operator: u16,
    augmented_assignment: u16,
    comparison_operator: u16,
    comment: u16,
    line_continuation: u16,
}

struct Conv<'a> {
    text: &'a str,
    ids: Ids,
    /// Named kinds by the address of their (static) name.
    named: rustc_hash::FxHashMap<usize, u16>,
    /// Anonymous kinds by token kind (`u16::MAX`: not looked up yet).
    anon: [u16; 256],
    tokens: &'a [Token],
    continuations: Vec<(u32, u32)>,
    next_continuation: usize,
    /// The first token not yet placed in the tree.
    next: usize,
    b: Builder,
}

fn start(r: &impl Ranged) -> u32 {
    r.start().to_u32()
}

fn end(r: &impl Ranged) -> u32 {
    r.end().to_u32()
}

impl<'a> Conv<'a> {
    // ----- tokens -----

    /// Places every token that starts before `pos` in the node open now: keywords, operators
    /// and punctuation as anonymous leaves, comments as `comment` leaves. Names, numbers and
    /// strings are the walk's (a token of theirs still unplaced here is inside a string).
    fn flush(&mut self, pos: u32) {
        self.b.errors_before(pos);
        while let Some(t) = self.tokens.get(self.next) {
            if start(t) >= pos {
                break;
            }
            self.continuations_before(start(t));
            self.next += 1;
            match t.kind() {
                TokenKind::Newline
                | TokenKind::NonLogicalNewline
                | TokenKind::Indent
                | TokenKind::Dedent
                | TokenKind::EndOfFile
                | TokenKind::Name
                | TokenKind::Int
                | TokenKind::Float
                | TokenKind::Complex
                | TokenKind::String
                | TokenKind::FStringStart
                | TokenKind::FStringMiddle
                | TokenKind::FStringEnd
                | TokenKind::TStringStart
                | TokenKind::TStringMiddle
                | TokenKind::TStringEnd
                | TokenKind::IpyEscapeCommand
                | TokenKind::Unknown => {}
                TokenKind::Comment => {
                    let e = self.comment_end(t);
                    self.b.leaf(self.ids.comment, true, None, start(t), e);
                }
                kind => {
                    let (s, e) = (start(t), end(t));
                    // `not in` and `is not` are one anonymous node in a comparison.
                    let pair = match kind {
                        TokenKind::Not => Some((TokenKind::In, "not in")),
                        TokenKind::Is => Some((TokenKind::Not, "is not")),
                        _ => None,
                    };
                    if let Some((second, name)) = pair {
                        if self.b.open_kind() == self.ids.comparison_operator {
                            if let Some(n) =
                                self.tokens.get(self.next).filter(|n| n.kind() == second)
                            {
                                let (ns, ne) = (start(n), end(n));
                                self.next += 1;
                                self.b.open_anonymous(fields::anon_id(name), s);
                                self.b.leaf(
                                    fields::anon_id(&self.text[s as usize..e as usize]),
                                    false,
                                    None,
                                    s,
                                    e,
                                );
                                self.b.leaf(
                                    fields::anon_id(&self.text[ns as usize..ne as usize]),
                                    false,
                                    None,
                                    ns,
                                    ne,
                                );
                                self.b.close(ne);
                                continue;
                            }
                        }
                    }
                    let field = if self.operator_field_open(kind) {
                        Some(F::Operator)
                    } else {
                        None
                    };
                    let id = self.anon_kind(kind, s, e);
                    self.b.leaf(id, false, field, s, e);
                }
            }
        }
        self.continuations_before(pos);
    }

    /// Where tree-sitter ends a comment: at the `\n`, a `\r` before it included.
    fn comment_end(&self, t: &Token) -> u32 {
        let e = end(t);
        if self.text.as_bytes().get(e as usize) == Some(&b'\r') {
            e + 1
        } else {
            e
        }
    }

    fn continuations_before(&mut self, pos: u32) {
        while let Some(&(s, e)) = self.continuations.get(self.next_continuation) {
            if s >= pos {
                break;
            }
            self.next_continuation += 1;
            self.b.leaf(self.ids.line_continuation, true, None, s, e);
        }
    }

    /// In a binary, boolean or unary operator or an augmented assignment, the operator token
    /// (the first anonymous child that is not a parenthesis) is the `operator` field.
    fn operator_field_open(&self, kind: TokenKind) -> bool {
        if matches!(kind, TokenKind::Lpar | TokenKind::Rpar) {
            return false;
        }
        let open = self.b.open_kind();
        (open == self.ids.binary_operator
            || open == self.ids.boolean_operator
            || open == self.ids.unary_operator
            || open == self.ids.augmented_assignment)
            && !self.b.open_has_field(F::Operator)
    }

    /// Skips the tokens inside a leaf just placed.
    fn skip_to(&mut self, pos: u32) {
        while let Some(t) = self.tokens.get(self.next) {
            if start(t) >= pos {
                break;
            }
            self.next += 1;
        }
    }

    /// The id of the named kind `kind`.
    fn named_kind(&mut self, kind: &'static str) -> u16 {
        *self
            .named
            .entry(kind.as_ptr() as usize)
            .or_insert_with(|| fields::named_id(kind))
    }

    /// The id of the anonymous node for a token (its text names it).
    fn anon_kind(&mut self, kind: TokenKind, s: u32, e: u32) -> u16 {
        let slot = kind as usize & 0xff;
        if self.anon[slot] == u16::MAX {
            self.anon[slot] = fields::anon_id(&self.text[s as usize..e as usize]);
        }
        self.anon[slot]
    }

    fn open(&mut self, kind: &'static str, field: Option<F>, at: u32) {
        self.flush(at);
        let id = self.named_kind(kind);
        self.b.open(id, field, at);
    }

    fn close(&mut self, at: u32) {
        self.flush(at);
        self.b.close(at);
    }

    fn leaf(&mut self, kind: &'static str, field: Option<F>, s: u32, e: u32) {
        self.flush(s);
        let id = self.named_kind(kind);
        self.b.leaf(id, true, field, s, e);
        self.skip_to(e);
    }

    fn ident(&mut self, id: &ast::Identifier, field: Option<F>) {
        self.leaf("identifier", field, start(id), end(id));
    }

    /// The index of the first token starting at or after `pos`.
    fn token_at(&self, pos: u32) -> usize {
        self.tokens.partition_point(|t| start(t) < pos)
    }

    /// The nearest token of `kind` that starts before `pos`.
    fn token_before(&self, pos: u32, kind: TokenKind) -> Option<&'a Token> {
        let i = self.token_at(pos);
        self.tokens[..i].iter().rev().find(|t| t.kind() == kind)
    }

    fn significant(kind: TokenKind) -> bool {
        !matches!(
            kind,
            TokenKind::Comment
                | TokenKind::NonLogicalNewline
                | TokenKind::Newline
                | TokenKind::Indent
                | TokenKind::Dedent
        )
    }

    /// How many pairs of parentheses enclose exactly `start..end`.
    fn paren_levels(&self, s: u32, e: u32) -> usize {
        // Most expressions are not parenthesized, and the bytes around them say so: the last
        // non-blank byte before an expression (line breaks and continuations count as blank)
        // ends the previous token, which is `(` only if that byte is, unless a comment sits
        // between (any `#` on that byte's line sends the question to the tokens).
        let bytes = self.text.as_bytes();
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\\');
        let Some(at) = bytes[..s as usize].iter().rposition(|b| !blank(b)) else {
            return 0;
        };
        if bytes[at] != b'(' {
            // On the expression's own line nothing can follow a comment (asked first: finding
            // where the line before starts costs a walk back over it).
            if !bytes[at..s as usize].contains(&b'\n') {
                return 0;
            }
            let line = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
            if !bytes[line..at].contains(&b'#') {
                return 0;
            }
        }
        // Likewise after it: `)` or a comment must come next.
        let next = bytes[e as usize..].iter().find(|b| !blank(b));
        if !matches!(next, Some(b')' | b'#')) {
            return 0;
        }
        let mut before = self.token_at(s);
        let mut after = self.token_at(e);
        let mut levels = 0;
        loop {
            let prev = self.tokens[..before]
                .iter()
                .rposition(|t| Self::significant(t.kind()));
            let next = self.tokens[after..]
                .iter()
                .position(|t| Self::significant(t.kind()))
                .map(|i| i + after);
            match (prev, next) {
                (Some(p), Some(n))
                    if self.tokens[p].kind() == TokenKind::Lpar
                        && self.tokens[n].kind() == TokenKind::Rpar =>
                {
                    levels += 1;
                    before = p;
                    after = n + 1;
                }
                _ => return levels,
            }
        }
    }

    // ----- statements -----

    fn block(&mut self, body: &[Stmt], field: Option<F>) {
        let (Some(first), Some(last)) = (body.first(), body.last()) else {
            return;
        };
        let s = start(first);
        self.open("block", field, s);
        for st in body {
            self.stmt(st);
        }
        // Comments after the last statement, indented at least as far as the block, are the
        // block's (tree-sitter ends the block at the dedent that follows them).
        let column = self.column(s);
        let mut e = end(last);
        let mut i = self.token_at(e);
        while let Some(t) = self.tokens.get(i) {
            match t.kind() {
                TokenKind::Newline | TokenKind::NonLogicalNewline => i += 1,
                TokenKind::Comment if self.column(start(t)) >= column => {
                    e = self.comment_end(t);
                    i += 1;
                }
                _ => break,
            }
        }
        self.close(e);
    }

    fn column(&self, pos: u32) -> usize {
        let line_start =
            memchr::memrchr(b'\n', &self.text.as_bytes()[..pos as usize]).map_or(0, |i| i + 1);
        pos as usize - line_start
    }

    fn stmt(&mut self, s: &Stmt) {
        // The nesting bound keeps the depth in hand; this keeps the frames' size in hand too.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.stmt_inner(s));
    }

    fn stmt_inner(&mut self, s: &Stmt) {
        match s {
            Stmt::FunctionDef(f) => self.function(f),
            Stmt::ClassDef(c) => self.class(c),
            Stmt::Return(r) => {
                self.open("return_statement", None, start(r));
                if let Some(v) = &r.value {
                    self.expr_or_list(v, None);
                }
                self.close(end(r));
            }
            Stmt::Delete(d) => {
                self.open("delete_statement", None, start(d));
                if let [one] = &d.targets[..] {
                    self.expr(one, None);
                } else if let (Some(f), Some(l)) = (d.targets.first(), d.targets.last()) {
                    self.open("expression_list", None, start(f));
                    for t in &d.targets {
                        self.expr(t, None);
                    }
                    self.close(end(l));
                }
                self.close(end(d));
            }
            Stmt::Assign(a) => {
                self.open("expression_statement", None, start(a));
                self.assignment(&a.targets, &a.value, end(a), None);
                self.close(end(a));
            }
            Stmt::AugAssign(a) => {
                self.open("expression_statement", None, start(a));
                self.open("augmented_assignment", None, start(a));
                self.target(&a.target, Some(F::Left));
                self.right_side(&a.value);
                self.close(end(a));
                self.close(end(a));
            }
            Stmt::AnnAssign(a) => {
                self.open("expression_statement", None, start(a));
                self.open("assignment", None, start(a));
                self.target(&a.target, Some(F::Left));
                self.type_annotation(&a.annotation, Some(F::Type));
                if let Some(v) = &a.value {
                    self.right_side(v);
                }
                self.close(end(a));
                self.close(end(a));
            }
            Stmt::TypeAlias(t) => {
                self.open("type_alias_statement", None, start(t));
                self.type_annotation(&t.name, Some(F::Left));
                self.type_annotation(&t.value, Some(F::Right));
                self.close(end(t));
            }
            Stmt::For(f) => {
                self.open("for_statement", None, start(f));
                self.target(&f.target, Some(F::Left));
                self.expr_or_list(&f.iter, Some(F::Right));
                self.block(&f.body, Some(F::Body));
                self.else_clause(&f.orelse, Some(F::Alternative));
                self.close_after_children(end(f));
            }
            Stmt::While(w) => {
                self.open("while_statement", None, start(w));
                self.expr(&w.test, Some(F::Condition));
                self.block(&w.body, Some(F::Body));
                self.else_clause(&w.orelse, Some(F::Alternative));
                self.close_after_children(end(w));
            }
            Stmt::If(i) => {
                self.open("if_statement", None, start(i));
                self.expr(&i.test, Some(F::Condition));
                self.block(&i.body, Some(F::Consequence));
                for clause in &i.elif_else_clauses {
                    match &clause.test {
                        Some(test) => {
                            self.open("elif_clause", Some(F::Alternative), start(clause));
                            self.expr(test, Some(F::Condition));
                            self.block(&clause.body, Some(F::Consequence));
                        }
                        None => {
                            self.open("else_clause", Some(F::Alternative), start(clause));
                            self.block(&clause.body, Some(F::Body));
                        }
                    }
                    self.close_after_children(end(clause));
                }
                self.close_after_children(end(i));
            }
            Stmt::With(w) => {
                self.open("with_statement", None, start(w));
                self.with_clause(w);
                self.block(&w.body, Some(F::Body));
                self.close_after_children(end(w));
            }
            Stmt::Match(m) => {
                self.open("match_statement", None, start(m));
                self.expr(&m.subject, Some(F::Subject));
                if let (Some(first), Some(last)) = (m.cases.first(), m.cases.last()) {
                    // Tree-sitter starts a `match` body right after its colon.
                    let at = self
                        .token_before(start(first), TokenKind::Colon)
                        .map_or(start(first), end);
                    self.open("block", Some(F::Body), at);
                    for case in &m.cases {
                        self.open("case_clause", Some(F::Alternative), start(case));
                        match &case.pattern {
                            // `case 1, 2:` — each element is the clause's own case pattern.
                            Pattern::MatchSequence(q)
                                if !matches!(
                                    self.text.as_bytes().get(start(q) as usize),
                                    Some(b'[' | b'(')
                                ) =>
                            {
                                for el in &q.patterns {
                                    self.case_pattern(el, None);
                                }
                            }
                            q => self.case_pattern(q, None),
                        }
                        if let Some(g) = &case.guard {
                            let at = self
                                .token_before(start(&**g), TokenKind::If)
                                .map_or(start(&**g), start);
                            self.open("if_clause", Some(F::Guard), at);
                            self.expr(g, None);
                            self.close(end(&**g));
                        }
                        self.block(&case.body, Some(F::Consequence));
                        self.close_after_children(end(case));
                    }
                    self.close_after_children(end(last));
                }
                self.close_after_children(end(m));
            }
            Stmt::Raise(r) => {
                self.open("raise_statement", None, start(r));
                if let Some(e) = &r.exc {
                    self.expr_or_list(e, None);
                }
                if let Some(c) = &r.cause {
                    self.expr(c, Some(F::Cause));
                }
                self.close(end(r));
            }
            Stmt::Try(t) => {
                self.open("try_statement", None, start(t));
                self.block(&t.body, Some(F::Body));
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    let kind = if t.is_star {
                        "except_group_clause"
                    } else {
                        "except_clause"
                    };
                    self.open(kind, None, start(h));
                    match (&h.type_, &h.name) {
                        (Some(ty), Some(name)) => {
                            self.open("as_pattern", Some(F::Value), self.outer_range(ty).0);
                            self.expr(ty, None);
                            self.open("as_pattern_target", Some(F::Alias), start(name));
                            self.ident(name, None);
                            self.close(end(name));
                            self.close(end(name));
                        }
                        (Some(ty), None) => self.expr(ty, Some(F::Value)),
                        _ => {}
                    }
                    self.block(&h.body, None);
                    self.close_after_children(end(h));
                }
                self.else_clause(&t.orelse, None);
                if let Some(first) = t.finalbody.first() {
                    let at = self
                        .token_before(start(first), TokenKind::Finally)
                        .map_or(start(first), start);
                    self.open("finally_clause", None, at);
                    self.block(&t.finalbody, None);
                    self.close_after_children(end(t));
                }
                self.close_after_children(end(t));
            }
            Stmt::Assert(a) => {
                self.open("assert_statement", None, start(a));
                self.expr(&a.test, None);
                if let Some(m) = &a.msg {
                    self.expr(m, None);
                }
                self.close(end(a));
            }
            Stmt::Import(i) => {
                self.open("import_statement", None, start(i));
                for alias in &i.names {
                    self.alias(alias);
                }
                self.close(end(i));
            }
            Stmt::ImportFrom(i) => self.import_from(i),
            Stmt::Global(g) => {
                self.open("global_statement", None, start(g));
                for n in &g.names {
                    self.ident(n, None);
                }
                self.close(end(g));
            }
            Stmt::Nonlocal(g) => {
                self.open("nonlocal_statement", None, start(g));
                for n in &g.names {
                    self.ident(n, None);
                }
                self.close(end(g));
            }
            Stmt::Expr(e) => {
                self.open("expression_statement", None, start(e));
                match &*e.value {
                    // `a, b` as a statement: the elements are the statement's own children.
                    Expr::Tuple(t) if !t.parenthesized => {
                        for el in &t.elts {
                            self.expr(el, None);
                        }
                    }
                    v => self.expr(v, None),
                }
                self.close(end(e));
            }
            Stmt::Pass(p) => {
                self.open("pass_statement", None, start(p));
                self.close(end(p));
            }
            Stmt::Break(p) => {
                self.open("break_statement", None, start(p));
                self.close(end(p));
            }
            Stmt::Continue(p) => {
                self.open("continue_statement", None, start(p));
                self.close(end(p));
            }
            Stmt::IpyEscapeCommand(_) => {}
        }
    }

    fn else_clause(&mut self, body: &[Stmt], field: Option<F>) {
        let Some(first) = body.first() else {
            return;
        };
        let at = self
            .token_before(start(first), TokenKind::Else)
            .map_or(start(first), start);
        self.open("else_clause", field, at);
        self.block(body, Some(F::Body));
        self.close_after_children(at);
    }

    fn decorators(&mut self, list: &[ast::Decorator]) {
        for d in list {
            self.open("decorator", None, start(d));
            self.expr(&d.expression, None);
            // A comment after the decorator, on its line, is inside it in tree-sitter.
            let e = match self.tokens.get(self.token_at(end(d))) {
                Some(t) if t.kind() == TokenKind::Comment => end(t),
                _ => end(d),
            };
            self.close(e);
        }
    }

    /// Where a definition's own node starts: its `def`/`class` keyword, or `async`.
    fn definition_start(&self, name_start: u32, keyword: TokenKind) -> u32 {
        let i = self.token_at(name_start);
        let Some(k) = self.tokens[..i].iter().rposition(|t| t.kind() == keyword) else {
            return name_start;
        };
        let prev = self.tokens[..k]
            .iter()
            .rposition(|t| Self::significant(t.kind()));
        match prev {
            Some(p) if self.tokens[p].kind() == TokenKind::Async => start(&self.tokens[p]),
            _ => start(&self.tokens[k]),
        }
    }

    fn function(&mut self, f: &ast::StmtFunctionDef) {
        let own = self.definition_start(start(&f.name), TokenKind::Def);
        self.definition(&f.decorator_list, start(f), end(f), |c, field| {
            c.open("function_definition", field, own);
            c.ident(&f.name, Some(F::Name));
            if let Some(tp) = &f.type_params {
                c.type_params(tp);
            }
            c.parameters(&f.parameters, "parameters", Some(F::Parameters));
            if let Some(r) = &f.returns {
                c.type_annotation(r, Some(F::ReturnType));
            }
            c.block(&f.body, Some(F::Body));
            c.close_after_children(end(f));
        });
    }

    fn class(&mut self, cl: &ast::StmtClassDef) {
        let own = self.definition_start(start(&cl.name), TokenKind::Class);
        self.definition(&cl.decorator_list, start(cl), end(cl), |c, field| {
            c.open("class_definition", field, own);
            c.ident(&cl.name, Some(F::Name));
            if let Some(tp) = &cl.type_params {
                c.type_params(tp);
            }
            if let Some(args) = &cl.arguments {
                c.arguments(args, Some(F::Superclasses));
            }
            c.block(&cl.body, Some(F::Body));
            c.close_after_children(end(cl));
        });
    }

    /// A function or class (`own` builds its node, given its field), inside a
    /// `decorated_definition` with the decorators when it has any. `start..end` is ruff's
    /// range of the whole, decorators included.
    fn definition(
        &mut self,
        decorators: &[ast::Decorator],
        start: u32,
        end: u32,
        own: impl FnOnce(&mut Self, Option<F>),
    ) {
        if decorators.is_empty() {
            return own(self, None);
        }
        self.open("decorated_definition", None, start);
        self.decorators(decorators);
        own(self, Some(F::Definition));
        self.close_after_children(end);
    }

    /// Closes a compound node where its last child ends (its last block may have taken in the
    /// comments after it), or at `fallback` when it has no children.
    fn close_after_children(&mut self, fallback: u32) {
        let e = self.b.last_child_end().unwrap_or(fallback);
        self.close(e);
    }

    fn type_params(&mut self, tp: &ast::TypeParams) {
        self.open("type_parameter", Some(F::TypeParameters), start(tp));
        for p in tp.iter() {
            self.open("type", None, start(p));
            if let ast::TypeParam::TypeVar(v) = p {
                self.ident(&v.name, None);
            }
            self.close(end(p));
        }
        self.close(end(tp));
    }

    fn parameters(&mut self, p: &ast::Parameters, kind: &'static str, field: Option<F>) {
        let lambda = kind == "lambda_parameters";
        let (s, e) = if lambda {
            match (p.iter().next(), p.iter().last()) {
                (Some(first), Some(last)) => (start(&first), end(&last)),
                _ => return,
            }
        } else {
            (start(p), end(p))
        };
        self.open(kind, field, s);
        let mut posonly_done = p.posonlyargs.is_empty();
        let mut star_done = p.vararg.is_some() || p.kwonlyargs.is_empty();
        for param in p.iter() {
            let ps = start(&param);
            if !posonly_done && !p.posonlyargs.iter().any(|a| start(a) == ps) {
                self.separator("positional_separator", TokenKind::Slash, ps);
                posonly_done = true;
            }
            if !star_done && p.kwonlyargs.iter().any(|a| start(a) == ps) {
                self.separator("keyword_separator", TokenKind::Star, ps);
                star_done = true;
            }
            match param {
                ast::AnyParameterRef::Variadic(v) => {
                    let keyword = p.kwarg.as_deref().is_some_and(|k| start(k) == start(v));
                    let splat = if keyword {
                        "dictionary_splat_pattern"
                    } else {
                        "list_splat_pattern"
                    };
                    let splat_start = self
                        .token_before(
                            start(&v.name),
                            if keyword {
                                TokenKind::DoubleStar
                            } else {
                                TokenKind::Star
                            },
                        )
                        .map_or(start(v), start);
                    match &v.annotation {
                        Some(ann) => {
                            self.open("typed_parameter", None, splat_start);
                            self.open(splat, None, splat_start);
                            self.ident(&v.name, None);
                            self.close(end(&v.name));
                            self.type_annotation(ann, Some(F::Type));
                            self.close(end(&**ann));
                        }
                        None => {
                            self.open(splat, None, splat_start);
                            self.ident(&v.name, None);
                            self.close(end(&v.name));
                        }
                    }
                }
                ast::AnyParameterRef::NonVariadic(pd) => {
                    let ann = pd.parameter.annotation.as_deref();
                    match (ann, pd.default.as_deref()) {
                        (None, None) => self.ident(&pd.parameter.name, None),
                        (Some(a), None) => {
                            self.open("typed_parameter", None, start(pd));
                            self.ident(&pd.parameter.name, None);
                            self.type_annotation(a, Some(F::Type));
                            self.close(end(pd));
                        }
                        (None, Some(d)) => {
                            self.open("default_parameter", None, start(pd));
                            self.ident(&pd.parameter.name, Some(F::Name));
                            self.expr(d, Some(F::Value));
                            self.close(end(pd));
                        }
                        (Some(a), Some(d)) => {
                            self.open("typed_default_parameter", None, start(pd));
                            self.ident(&pd.parameter.name, Some(F::Name));
                            self.type_annotation(a, Some(F::Type));
                            self.expr(d, Some(F::Value));
                            self.close(end(pd));
                        }
                    }
                }
            }
        }
        if !posonly_done {
            if let Some(t) = self.token_before(e, TokenKind::Slash) {
                let at = start(t);
                self.separator("positional_separator", TokenKind::Slash, at + 1);
            }
        }
        self.close(e);
    }

    /// A `/` or `*` separator among parameters: the nearest such token before `before`.
    fn separator(&mut self, kind: &'static str, token: TokenKind, before: u32) {
        if let Some(t) = self.token_before(before, token) {
            let (s, e) = (start(t), end(t));
            self.open(kind, None, s);
            self.close(e);
        }
    }

    fn with_clause(&mut self, w: &ast::StmtWith) {
        let (Some(first), Some(last)) = (w.items.first(), w.items.last()) else {
            return;
        };
        // `with (a as b, c):` — the parentheses are the clause's when the first item does
        // not itself start with them.
        let mut s = self.item_range(first).0;
        let mut e = self.item_range(last).1;
        let with_kw = self
            .token_before(s, TokenKind::With)
            .map(|t| self.token_at(end(t)));
        if let Some(i) = with_kw {
            let open_paren = self.tokens[i..]
                .iter()
                .find(|t| Self::significant(t.kind()))
                .filter(|t| t.kind() == TokenKind::Lpar)
                .map(start);
            if let Some(p) = open_paren {
                let several = w.items.len() > 1 || first.optional_vars.is_some();
                if several && p <= start(first) {
                    let close = self.tokens[self.token_at(end(last))..]
                        .iter()
                        .find(|t| Self::significant(t.kind()))
                        .filter(|t| t.kind() == TokenKind::Rpar || t.kind() == TokenKind::Comma);
                    if let Some(close) = close {
                        let close = if close.kind() == TokenKind::Comma {
                            self.tokens[self.token_at(end(close))..]
                                .iter()
                                .find(|t| Self::significant(t.kind()))
                                .filter(|t| t.kind() == TokenKind::Rpar)
                        } else {
                            Some(close)
                        };
                        if let Some(close) = close {
                            s = p;
                            e = end(close);
                        }
                    }
                }
            }
        }
        self.open("with_clause", None, s);
        for item in &w.items {
            let (item_start, item_end) = self.item_range(item);
            self.open("with_item", None, item_start);
            match &item.optional_vars {
                Some(v) => {
                    let ctx_range = self.outer_range(&item.context_expr);
                    self.open("as_pattern", Some(F::Value), ctx_range.0);
                    self.expr(&item.context_expr, None);
                    let (ts, te) = self.outer_range(v);
                    self.open("as_pattern_target", Some(F::Alias), ts);
                    self.expr(v, None);
                    self.close(te);
                    self.close(te);
                }
                None => self.expr(&item.context_expr, Some(F::Value)),
            }
            self.close(item_end);
        }
        self.close(e);
    }

    /// A `with` item's range, its expression's parentheses included.
    fn item_range(&self, item: &ast::WithItem) -> (u32, u32) {
        let (s, e) = self.outer_range(&item.context_expr);
        match &item.optional_vars {
            Some(v) => (s, self.outer_range(v).1),
            None => (s, e),
        }
    }

    fn import_from(&mut self, i: &ast::StmtImportFrom) {
        let future = i.level == 0
            && i.module
                .as_ref()
                .is_some_and(|m| m.as_str() == "__future__");
        let kind = if future {
            "future_import_statement"
        } else {
            "import_from_statement"
        };
        self.open(kind, None, start(i));
        if future {
            if let Some(m) = &i.module {
                self.flush(start(m));
                self.b
                    .leaf(fields::anon_id("__future__"), false, None, start(m), end(m));
                self.skip_to(end(m));
            }
        } else {
            if i.level > 0 {
                // `from ..pkg import x`: the dots are the import prefix.
                let from = self
                    .token_before(start(i) + 1, TokenKind::From)
                    .map_or(start(i), end);
                let j = self.token_at(from);
                let dots: Vec<(u32, u32)> = self.tokens[j..]
                    .iter()
                    .take_while(|t| matches!(t.kind(), TokenKind::Dot | TokenKind::Ellipsis))
                    .map(|t| (start(t), end(t)))
                    .collect();
                if let (Some(first), Some(last)) = (dots.first(), dots.last()) {
                    let rel_end = i.module.as_ref().map_or(last.1, end);
                    self.open("relative_import", Some(F::ModuleName), first.0);
                    self.open("import_prefix", None, first.0);
                    // Each `.` is its own token in tree-sitter, `...` included.
                    for &(s, e) in &dots {
                        for k in s..e {
                            self.skip_to(k + 1);
                            self.b.leaf(fields::anon_id("."), false, None, k, k + 1);
                        }
                    }
                    self.close(last.1);
                    if let Some(m) = &i.module {
                        self.dotted_name(start(m), end(m), None);
                    }
                    self.close(rel_end);
                }
            } else if let Some(m) = &i.module {
                self.dotted_name(start(m), end(m), Some(F::ModuleName));
            }
        }
        for alias in &i.names {
            if alias.name.as_str() == "*" {
                self.open("wildcard_import", None, start(alias));
                self.close(end(alias));
            } else {
                self.alias(alias);
            }
        }
        self.close(end(i));
    }

    fn alias(&mut self, a: &ast::Alias) {
        match &a.asname {
            Some(asname) => {
                self.open("aliased_import", Some(F::Name), start(a));
                self.dotted_name(start(&a.name), end(&a.name), Some(F::Name));
                self.ident(asname, Some(F::Alias));
                self.close(end(a));
            }
            None => self.dotted_name(start(&a.name), end(&a.name), Some(F::Name)),
        }
    }

    /// `a.b.c` in an import: a `dotted_name` of identifiers (the name tokens in the range).
    fn dotted_name(&mut self, s: u32, e: u32, field: Option<F>) {
        self.open("dotted_name", field, s);
        let i = self.token_at(s);
        let names: Vec<(u32, u32)> = self.tokens[i..]
            .iter()
            .take_while(|t| start(*t) < e)
            .filter(|t| t.kind() == TokenKind::Name || t.kind().is_keyword())
            .map(|t| (start(t), end(t)))
            .collect();
        for (ns, ne) in names {
            self.leaf("identifier", None, ns, ne);
        }
        self.close(e);
    }

    fn assignment(&mut self, targets: &[Expr], value: &Expr, e: u32, field: Option<F>) {
        let Some((first, rest)) = targets.split_first() else {
            self.right_side(value);
            return;
        };
        self.open("assignment", field, self.outer_range(first).0);
        self.target(first, Some(F::Left));
        if rest.is_empty() {
            self.right_side(value);
        } else {
            // `a = b = c`: the right side is the assignment `b = c`.
            self.assignment(rest, value, e, Some(F::Right));
        }
        self.close(e);
    }

    fn right_side(&mut self, value: &Expr) {
        self.expr_or_list(value, Some(F::Right));
    }

    /// An expression, or an unparenthesized tuple as an `expression_list`.
    fn expr_or_list(&mut self, e: &Expr, field: Option<F>) {
        match e {
            Expr::Tuple(t) if !t.parenthesized && !t.elts.is_empty() => {
                self.open("expression_list", field, start(t));
                for el in &t.elts {
                    self.expr(el, None);
                }
                self.close(end(t));
            }
            _ => self.expr(e, field),
        }
    }

    /// An assignment target in tree-sitter's pattern shapes.
    fn target(&mut self, e: &Expr, field: Option<F>) {
        let own = matches!(e, Expr::Tuple(t) if t.parenthesized);
        let levels = self.paren_levels(start(e), end(e));
        if levels > 0 && !own {
            // `(a) = ...`, `for (a) in ...`: each pair of parentheses is a `tuple_pattern`.
            let ranges = self.paren_ranges(e, levels);
            for (i, &(s, _)) in ranges.iter().enumerate().rev() {
                let f = if i + 1 == ranges.len() { field } else { None };
                self.open("tuple_pattern", f, s);
            }
            self.target_bare(e, None, 0);
            for &(_, en) in &ranges {
                self.close(en);
            }
            return;
        }
        self.target_bare(e, field, levels);
    }

    fn target_bare(&mut self, e: &Expr, field: Option<F>, levels: usize) {
        match e {
            Expr::Tuple(t) if !t.parenthesized && levels == 0 => {
                self.open("pattern_list", field, start(t));
                for el in &t.elts {
                    self.target(el, None);
                }
                self.close(end(t));
            }
            Expr::Tuple(t) => {
                let (s, en) = if t.parenthesized {
                    (start(t), end(t))
                } else {
                    self.outer_range(e)
                };
                self.open("tuple_pattern", field, s);
                for el in &t.elts {
                    self.target(el, None);
                }
                self.close(en);
            }
            Expr::List(l) => {
                self.open("list_pattern", field, start(l));
                for el in &l.elts {
                    self.target(el, None);
                }
                self.close(end(l));
            }
            Expr::Starred(s) => {
                self.open("list_splat_pattern", field, start(s));
                self.target(&s.value, None);
                self.close(end(s));
            }
            _ => self.bare(e, field),
        }
    }

    /// A type annotation: `type`, holding a `generic_type` for `Name[...]`, else the expression.
    fn type_annotation(&mut self, e: &Expr, field: Option<F>) {
        let (s, en) = self.outer_range(e);
        self.open("type", field, s);
        match e {
            Expr::BinOp(b)
                if b.op == ast::Operator::BitOr
                    && !self.plain_type(e)
                    && self.paren_levels(start(e), end(e)) == 0 =>
            {
                self.open("union_type", None, start(b));
                self.type_annotation(&b.left, None);
                self.type_annotation(&b.right, None);
                self.close(end(b));
            }
            Expr::Subscript(sub)
                if matches!(&*sub.value, Expr::Name(_))
                    && self.paren_levels(start(e), end(e)) == 0 =>
            {
                self.open("generic_type", None, start(sub));
                self.expr(&sub.value, None);
                self.open("type_parameter", None, end(&*sub.value));
                match &*sub.slice {
                    Expr::Tuple(t) if !t.parenthesized => {
                        for el in &t.elts {
                            self.type_annotation(el, None);
                        }
                    }
                    other => self.type_annotation(other, None),
                }
                self.close(end(sub));
                self.close(end(sub));
            }
            _ => self.expr(e, None),
        }
        self.close(en);
    }

    /// Whether tree-sitter reads the annotation `e` as a plain expression: not when it is (or
    /// a `|` union holds) `Name[...]`, which is a `generic_type`.
    fn plain_type(&self, e: &Expr) -> bool {
        if self.paren_levels(start(e), end(e)) > 0 {
            return true;
        }
        match e {
            Expr::Subscript(sub) => !matches!(&*sub.value, Expr::Name(_)),
            // `A[x] | B` is a `union_type`, `A | B[x]` a `binary_operator`: the left decides.
            Expr::BinOp(b) if b.op == ast::Operator::BitOr => self.plain_type(&b.left),
            _ => true,
        }
    }

    /// The range of `e` with the parentheses around it.
    fn outer_range(&self, e: &Expr) -> (u32, u32) {
        let levels = self.paren_levels(start(e), end(e));
        if levels == 0 {
            return (start(e), end(e));
        }
        // The outermost pair only: most calls' single argument sits in the call's own
        // parentheses, and a list of one range for each was an allocation per call.
        let mut outer = None;
        self.each_paren_range(e, levels, |range| outer = Some(range));
        outer.unwrap_or((start(e), end(e)))
    }

    /// The ranges of the `count` innermost pairs of parentheses around `e`, innermost first
    /// (`count` from [`Self::paren_levels`]).
    fn paren_ranges(&self, e: &Expr, count: usize) -> Vec<(u32, u32)> {
        let mut ranges = Vec::with_capacity(count);
        self.each_paren_range(e, count, |range| ranges.push(range));
        ranges
    }

    /// Hands `found` the ranges [`Self::paren_ranges`] lists, in its order.
    fn each_paren_range(&self, e: &Expr, count: usize, mut found: impl FnMut((u32, u32))) {
        let (mut before, mut after) = (self.token_at(start(e)), self.token_at(end(e)));
        for _ in 0..count {
            let p = self.tokens[..before]
                .iter()
                .rposition(|t| Self::significant(t.kind()));
            let n = self.tokens[after..]
                .iter()
                .position(|t| Self::significant(t.kind()));
            let (Some(p), Some(n)) = (p, n) else { break };
            found((start(&self.tokens[p]), end(&self.tokens[after + n])));
            before = p;
            after = after + n + 1;
        }
    }

    // ----- expressions -----

    /// An expression with one `parenthesized_expression` per pair of parentheses around it.
    fn expr(&mut self, e: &Expr, field: Option<F>) {
        self.expr_owned(e, field, 0);
    }

    /// As [`Self::expr`], where the innermost `owned` pairs of parentheses belong to the
    /// parent (a call's argument list around its only argument).
    fn expr_owned(&mut self, e: &Expr, field: Option<F>, owned: usize) {
        let levels = self.paren_levels(start(e), end(e)).saturating_sub(owned);
        if levels == 0 {
            return self.bare(e, field);
        }
        // Open the outermost pair first.
        let mut ranges = self.paren_ranges(e, levels + owned);
        ranges.truncate(levels);
        for (i, &(s, _)) in ranges.iter().enumerate().rev() {
            let f = if i + 1 == ranges.len() { field } else { None };
            self.open("parenthesized_expression", f, s);
        }
        self.bare(e, None);
        for &(_, en) in &ranges {
            self.close(en);
        }
    }

    fn bare(&mut self, e: &Expr, field: Option<F>) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.bare_inner(e, field));
    }

    fn bare_inner(&mut self, e: &Expr, field: Option<F>) {
        let (s, en) = (start(e), end(e));
        match e {
            Expr::BoolOp(b) => {
                // Left-nested, as tree-sitter's binary rule builds it.
                let n = b.values.len();
                for i in (1..n).rev() {
                    let f = if i == n - 1 { field } else { Some(F::Left) };
                    self.open("boolean_operator", f, s);
                }
                for (i, v) in b.values.iter().enumerate() {
                    let f = if i == 0 {
                        Some(F::Left)
                    } else {
                        Some(F::Right)
                    };
                    self.expr(v, f);
                    if i > 0 {
                        let e = self.outer_range(v).1;
                        self.close(e);
                    }
                }
            }
            Expr::Named(n) => {
                self.open("named_expression", field, s);
                self.expr(&n.target, Some(F::Name));
                self.expr(&n.value, Some(F::Value));
                self.close(en);
            }
            Expr::BinOp(b) => {
                self.open("binary_operator", field, s);
                self.expr(&b.left, Some(F::Left));
                self.expr(&b.right, Some(F::Right));
                self.close(en);
            }
            Expr::UnaryOp(u) => {
                if u.op == ast::UnaryOp::Not {
                    self.open("not_operator", field, s);
                    self.expr(&u.operand, Some(F::Argument));
                } else {
                    self.open("unary_operator", field, s);
                    self.expr(&u.operand, Some(F::Argument));
                }
                self.close(en);
            }
            Expr::Lambda(l) => {
                self.open("lambda", field, s);
                if let Some(p) = &l.parameters {
                    self.parameters(p, "lambda_parameters", Some(F::Parameters));
                }
                self.expr(&l.body, Some(F::Body));
                self.close(en);
            }
            Expr::If(i) => {
                self.open("conditional_expression", field, s);
                self.expr(&i.body, None);
                self.expr(&i.test, None);
                self.expr(&i.orelse, None);
                self.close(en);
            }
            Expr::Dict(d) => {
                self.open("dictionary", field, s);
                for item in &d.items {
                    match &item.key {
                        Some(k) => {
                            self.open("pair", None, self.outer_range(k).0);
                            self.expr(k, Some(F::Key));
                            self.expr(&item.value, Some(F::Value));
                            let e = self.outer_range(&item.value).1;
                            self.close(e);
                        }
                        None => {
                            let at = self
                                .token_before(
                                    self.outer_range(&item.value).0,
                                    TokenKind::DoubleStar,
                                )
                                .map_or(start(&item.value), start);
                            self.open("dictionary_splat", None, at);
                            self.expr(&item.value, None);
                            let e = self.outer_range(&item.value).1;
                            self.close(e);
                        }
                    }
                }
                self.close(en);
            }
            Expr::Set(x) => {
                self.open("set", field, s);
                for el in &x.elts {
                    self.expr(el, None);
                }
                self.close(en);
            }
            Expr::ListComp(c) => {
                self.open("list_comprehension", field, s);
                self.expr(&c.elt, Some(F::Body));
                self.generators(&c.generators);
                self.close(en);
            }
            Expr::SetComp(c) => {
                self.open("set_comprehension", field, s);
                self.expr(&c.elt, Some(F::Body));
                self.generators(&c.generators);
                self.close(en);
            }
            Expr::DictComp(c) => {
                self.open("dictionary_comprehension", field, s);
                match &c.key {
                    Some(key) => {
                        self.open("pair", Some(F::Body), self.outer_range(key).0);
                        self.expr(key, Some(F::Key));
                        self.expr(&c.value, Some(F::Value));
                        let e = self.outer_range(&c.value).1;
                        self.close(e);
                    }
                    None => self.expr(&c.value, Some(F::Body)),
                }
                self.generators(&c.generators);
                self.close(en);
            }
            Expr::Generator(g) => {
                self.open("generator_expression", field, s);
                self.expr(&g.elt, Some(F::Body));
                self.generators(&g.generators);
                self.close(en);
            }
            Expr::Await(a) => {
                self.open("await", field, s);
                self.expr(&a.value, None);
                self.close(en);
            }
            Expr::Yield(y) => {
                self.open("yield", field, s);
                if let Some(v) = &y.value {
                    self.expr_or_list(v, None);
                }
                self.close(en);
            }
            Expr::YieldFrom(y) => {
                self.open("yield", field, s);
                self.expr(&y.value, None);
                self.close(en);
            }
            Expr::Compare(c) => {
                self.open("comparison_operator", field, s);
                self.expr(&c.left, None);
                for v in &c.comparators {
                    self.expr(v, None);
                }
                self.close(en);
            }
            Expr::Call(c) => {
                self.open("call", field, s);
                self.expr(&c.func, Some(F::Function));
                match (&c.arguments.args[..], c.arguments.keywords.is_empty()) {
                    // `f(x for x in y)`: the call's parentheses are the generator's.
                    ([Expr::Generator(g)], true) if !g.parenthesized => {
                        self.flush(start(&c.arguments));
                        let id = self.named_kind("generator_expression");
                        self.b.open(id, Some(F::Arguments), start(&c.arguments));
                        self.expr(&g.elt, Some(F::Body));
                        self.generators(&g.generators);
                        self.close(end(&c.arguments));
                    }
                    _ => self.arguments(&c.arguments, Some(F::Arguments)),
                }
                self.close(en);
            }
            Expr::StringLiteral(v) => {
                let parts = v.value.iter().map(|p| (start(p), end(p)));
                with_ranges(parts, |parts| self.strings(field, s, en, parts, &[]));
            }
            Expr::BytesLiteral(v) => {
                let parts = v.value.iter().map(|p| (start(p), end(p)));
                with_ranges(parts, |parts| self.strings(field, s, en, parts, &[]));
            }
            Expr::FString(f) => {
                let parts: Vec<(u32, u32)> = f.value.iter().map(|p| (start(p), end(p))).collect();
                let mut inner: Vec<&ast::InterpolatedElement> = Vec::new();
                for p in f.value.iter() {
                    if let ast::FStringPart::FString(fs) = p {
                        collect_interpolations(&fs.elements, &mut inner);
                    }
                }
                self.strings(field, s, en, &parts, &inner);
            }
            Expr::TString(t) => {
                let parts = t.value.iter().map(|p| (start(p), end(p)));
                with_ranges(parts, |parts| self.strings(field, s, en, parts, &[]));
            }
            Expr::NumberLiteral(n) => {
                let kind = match n.value {
                    Number::Float(_) => "float",
                    Number::Complex { .. } => {
                        let t = &self.text[s as usize..en as usize];
                        if t.contains(['.', 'e', 'E']) && !t.starts_with("0x") {
                            "float"
                        } else {
                            "integer"
                        }
                    }
                    Number::Int(_) => "integer",
                };
                self.leaf(kind, field, s, en);
            }
            Expr::BooleanLiteral(b) => {
                self.leaf(if b.value { "true" } else { "false" }, field, s, en);
            }
            Expr::NoneLiteral(_) => self.leaf("none", field, s, en),
            Expr::EllipsisLiteral(_) => self.leaf("ellipsis", field, s, en),
            Expr::Attribute(a) => {
                self.open("attribute", field, s);
                self.expr(&a.value, Some(F::Object));
                self.ident(&a.attr, Some(F::Attribute));
                self.close(en);
            }
            Expr::Subscript(x) => {
                self.open("subscript", field, s);
                self.expr(&x.value, Some(F::Value));
                match &*x.slice {
                    Expr::Tuple(t) if !t.parenthesized && !t.elts.is_empty() => {
                        for el in &t.elts {
                            self.expr(el, Some(F::Subscript));
                        }
                    }
                    other => self.expr(other, Some(F::Subscript)),
                }
                self.close(en);
            }
            Expr::Starred(x) => {
                let kind = if x.ctx == ExprContext::Store {
                    "list_splat_pattern"
                } else {
                    "list_splat"
                };
                self.open(kind, field, s);
                self.expr(&x.value, None);
                self.close(en);
            }
            Expr::Name(n) => self.leaf("identifier", field, start(n), end(n)),
            Expr::List(l) => {
                self.open("list", field, s);
                for el in &l.elts {
                    self.expr(el, None);
                }
                self.close(en);
            }
            Expr::Tuple(t) => {
                let kind = if t.parenthesized || t.elts.is_empty() {
                    "tuple"
                } else {
                    "expression_list"
                };
                self.open(kind, field, s);
                for el in &t.elts {
                    self.expr(el, None);
                }
                self.close(en);
            }
            Expr::Slice(x) => {
                self.open("slice", field, s);
                for part in [&x.lower, &x.upper, &x.step].into_iter().flatten() {
                    self.expr(part, None);
                }
                self.close(en);
            }
            Expr::IpyEscapeCommand(_) => {}
        }
    }

    fn generators(&mut self, gens: &[ast::Comprehension]) {
        for g in gens {
            self.open("for_in_clause", None, start(g));
            self.target(&g.target, Some(F::Left));
            self.expr(&g.iter, Some(F::Right));
            let mut e = self.outer_range(&g.iter).1;
            // The `if` parts follow the clause, each its own node.
            self.close(e);
            for cond in &g.ifs {
                let at = self
                    .token_before(self.outer_range(cond).0, TokenKind::If)
                    .map_or(start(cond), start);
                self.open("if_clause", None, at);
                self.expr(cond, None);
                e = self.outer_range(cond).1;
                self.close(e);
            }
        }
    }

    fn arguments(&mut self, args: &ast::Arguments, field: Option<F>) {
        self.open("argument_list", field, start(args));
        let only = args.len() == 1;
        for a in args.iter_source_order() {
            match a {
                ast::ArgOrKeyword::Arg(e) => {
                    // The argument list's own parentheses around a lone argument are not a
                    // parenthesized expression.
                    let owned =
                        usize::from(only && self.outer_range(e) == (start(args), end(args)));
                    self.expr_owned(e, None, owned);
                }
                ast::ArgOrKeyword::Keyword(k) => match &k.arg {
                    Some(name) => {
                        self.open("keyword_argument", None, start(k));
                        self.ident(name, Some(F::Name));
                        self.expr(&k.value, Some(F::Value));
                        self.close(end(k));
                    }
                    None => {
                        self.open("dictionary_splat", None, start(k));
                        self.expr(&k.value, None);
                        self.close(end(k));
                    }
                },
            }
        }
        self.close(end(args));
    }

    /// A string literal (or several, implicitly concatenated) with its interpolations.
    fn strings(
        &mut self,
        field: Option<F>,
        s: u32,
        e: u32,
        parts: &[(u32, u32)],
        inner: &[&ast::InterpolatedElement],
    ) {
        let concatenated = parts.len() > 1;
        if concatenated {
            self.open("concatenated_string", field, s);
        }
        let mut pending = inner.iter().peekable();
        for &(ps, pe) in parts {
            self.open("string", if concatenated { None } else { field }, ps);
            while let Some(el) = pending.next_if(|el| start(*el) < pe) {
                self.interpolation(el, "interpolation");
            }
            self.skip_to(pe);
            self.b.close(pe);
        }
        if concatenated {
            self.close(e);
        }
    }

    fn interpolation(&mut self, el: &ast::InterpolatedElement, kind: &'static str) {
        self.open(kind, None, start(el));
        self.expr_or_list(&el.expression, Some(F::Expression));
        if el.conversion != ast::ConversionFlag::None {
            let i = self.token_at(self.outer_range(&el.expression).1);
            let bang = self.tokens[i..]
                .iter()
                .position(|t| t.kind() == TokenKind::Exclamation)
                .map(|k| k + i);
            if let Some(k) = bang {
                let s = start(&self.tokens[k]);
                let e = self.tokens.get(k + 1).map_or(end(&self.tokens[k]), end);
                self.leaf("type_conversion", None, s, e);
            }
        }
        if let Some(spec) = &el.format_spec {
            let at = self
                .token_before(start(&**spec), TokenKind::Colon)
                .map_or(start(&**spec), start);
            self.open("format_specifier", None, at);
            let mut nested = Vec::new();
            collect_interpolations(&spec.elements, &mut nested);
            for n in nested {
                self.interpolation(n, "format_expression");
            }
            self.close(end(&**spec));
        }
        self.close(end(el));
    }

    /// A pattern inside its `case_pattern`.
    fn case_pattern(&mut self, p: &Pattern, field: Option<F>) {
        self.open("case_pattern", field, start(p));
        self.pattern(p);
        self.close(end(p));
    }

    /// A pattern in tree-sitter's shapes, without the `case_pattern` around it.
    fn pattern(&mut self, p: &Pattern) {
        match p {
            Pattern::MatchValue(v) => self.pattern_value(&v.value),
            Pattern::MatchSingleton(v) => {
                let kind = match v.value {
                    ast::Singleton::None => "none",
                    ast::Singleton::True => "true",
                    ast::Singleton::False => "false",
                };
                self.leaf(kind, None, start(v), end(v));
            }
            Pattern::MatchSequence(v) => {
                let kind = match self.text.as_bytes().get(start(v) as usize) {
                    Some(b'[') => Some("list_pattern"),
                    Some(b'(') => Some("tuple_pattern"),
                    _ => None,
                };
                if let Some(kind) = kind {
                    self.open(kind, None, start(v));
                }
                for q in &v.patterns {
                    self.case_pattern(q, None);
                }
                if kind.is_some() {
                    self.close(end(v));
                }
            }
            Pattern::MatchMapping(v) => {
                self.open("dict_pattern", None, start(v));
                for (k, q) in v.keys.iter().zip(&v.patterns) {
                    self.pattern_value_field(k, Some(F::Key));
                    self.case_pattern(q, Some(F::Value));
                }
                if let Some(rest) = &v.rest {
                    let at = self
                        .token_before(start(rest), TokenKind::DoubleStar)
                        .map_or(start(rest), start);
                    self.open("splat_pattern", None, at);
                    self.ident(rest, None);
                    self.close(end(rest));
                }
                self.close(end(v));
            }
            Pattern::MatchClass(v) => {
                self.open("class_pattern", None, start(v));
                self.pattern_value(&v.cls);
                for q in &v.arguments.patterns {
                    self.case_pattern(q, None);
                }
                for k in &v.arguments.keywords {
                    self.open("case_pattern", None, start(k));
                    self.open("keyword_pattern", None, start(k));
                    self.ident(&k.attr, None);
                    self.pattern(&k.pattern);
                    self.close(end(k));
                    self.close(end(k));
                }
                self.close(end(v));
            }
            Pattern::MatchStar(v) => {
                self.open("splat_pattern", None, start(v));
                match &v.name {
                    Some(n) => self.ident(n, None),
                    None => {
                        let e = end(v);
                        self.flush(e - 1);
                        self.b.leaf(fields::anon_id("_"), false, None, e - 1, e);
                        self.skip_to(e);
                    }
                }
                self.close(end(v));
            }
            Pattern::MatchAs(v) => match (&v.pattern, &v.name) {
                (Some(q), Some(n)) => {
                    self.open("as_pattern", None, start(v));
                    self.case_pattern(q, None);
                    self.ident(n, None);
                    self.close(end(v));
                }
                (None, Some(n)) => {
                    self.open("dotted_name", None, start(n));
                    self.ident(n, None);
                    self.close(end(n));
                }
                (None, None) => {
                    self.flush(start(v));
                    self.b
                        .leaf(fields::anon_id("_"), false, None, start(v), end(v));
                    self.skip_to(end(v));
                }
                (Some(q), None) => self.pattern(q),
            },
            Pattern::MatchOr(v) => {
                self.open("union_pattern", None, start(v));
                for q in &v.patterns {
                    self.pattern(q);
                }
                self.close(end(v));
            }
        }
    }

    fn pattern_value(&mut self, e: &Expr) {
        self.pattern_value_field(e, None);
    }

    /// A value in a pattern: a dotted name as `dotted_name`, a negative number as its `-` and
    /// the number, anything else as the expression.
    fn pattern_value_field(&mut self, e: &Expr, field: Option<F>) {
        match e {
            Expr::Name(_) | Expr::Attribute(_) if dotted(e) => {
                self.open("dotted_name", field, start(e));
                let i = self.token_at(start(e));
                let names: Vec<(u32, u32)> = self.tokens[i..]
                    .iter()
                    .take_while(|t| start(*t) < end(e))
                    .filter(|t| t.kind() == TokenKind::Name)
                    .map(|t| (start(t), end(t)))
                    .collect();
                for (s, en) in names {
                    self.leaf("identifier", None, s, en);
                }
                self.close(end(e));
            }
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => self.expr(&u.operand, field),
            _ => self.expr(e, field),
        }
    }
}

/// Whether `e` is a name or a chain of attributes of a name (`a.b.c`).
fn dotted(e: &Expr) -> bool {
    match e {
        Expr::Name(_) => true,
        Expr::Attribute(a) => dotted(&a.value),
        _ => false,
    }
}

fn collect_interpolations<'x>(
    elements: &'x ast::InterpolatedStringElements,
    out: &mut Vec<&'x ast::InterpolatedElement>,
) {
    for el in elements.iter() {
        if let InterpolatedStringElement::Interpolation(i) = el {
            out.push(i);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::syntax::Node;

    /// The children compared: all of them, except that inside a string only interpolations
    /// count (the ruff tree leaves out the string's own parts).
    fn children<'t>(n: Node<'t>) -> Vec<Node<'t>> {
        if n.kind_of() == "string" {
            n.children()
                .filter(|c| c.kind_of() == "interpolation")
                .collect()
        } else {
            n.children().collect()
        }
    }

    fn describe(n: Node, text: &str) -> String {
        let t: String = text[n.start_byte()..n.end_byte()]
            .chars()
            .take(40)
            .collect();
        format!(
            "{}{} {}..{} field {:?} {:?}",
            if n.is_named() { "" } else { "'" },
            n.kind_of(),
            n.start_byte(),
            n.end_byte(),
            n.field_index(),
            t
        )
    }

    /// The first difference between the two trees, with the path down to it.
    pub(crate) fn first_difference(text: &str) -> Option<String> {
        let theirs = super::super::parse_tree_sitter(text).expect("tree-sitter parses any text");
        let ours = super::parse(text)?;
        let mut path = Vec::new();
        compare(theirs.root_node(), ours.root_node(), text, &mut path)
    }

    fn compare(t: Node, o: Node, text: &str, path: &mut Vec<String>) -> Option<String> {
        let same = t.kind_of() == o.kind_of()
            && t.start_byte() == o.start_byte()
            && t.end_byte() == o.end_byte()
            && t.is_named() == o.is_named()
            && t.field_index() == o.field_index()
            && t.has_error() == o.has_error();
        if !same {
            return Some(format!(
                "{}\n  tree-sitter: {}\n  ruff:        {}",
                path.join(" > "),
                describe(t, text),
                describe(o, text)
            ));
        }
        if t.is_error() {
            return None;
        }
        let (tc, oc) = (children(t), children(o));
        path.push(describe(t, text));
        for i in 0..tc.len().max(oc.len()) {
            match (tc.get(i), oc.get(i)) {
                (Some(a), Some(b)) => {
                    if let Some(d) = compare(*a, *b, text, path) {
                        return Some(d);
                    }
                }
                (a, b) => {
                    return Some(format!(
                        "{}\n  tree-sitter child {i}: {:?}\n  ruff child {i}:        {:?}",
                        path.join(" > "),
                        a.map(|n| describe(*n, text)),
                        b.map(|n| describe(*n, text))
                    ))
                }
            }
        }
        path.pop();
        None
    }

    #[test]
    fn every_construct_of_the_sample_has_tree_sitters_shape() {
        // Without its `'tail' b'bytes'`: concatenating bytes to a string is a syntax error
        // that ruff's parser reports and tree-sitter's does not.
        let text = super::super::syntax::tests::SAMPLE.replace(" b'bytes'", "");
        assert_eq!(first_difference(&text), None);
        // And a few shapes the sample does not have.
        for text in [
            "x = (a)\ny = ((b, c))\nz = f((d))\nw = f(e for e in g)\n",
            "@dec  # why\nclass C(B):\n    # lead\n    x = 1\n    # trail\n\n# out\n",
            "from .. import a\nfrom ...b.c import (d as e, f)\nfrom __future__ import annotations\n",
            "import a.b.c as d, e\nfrom m import *\n",
            "for (x) in y:\n    (a) = b = c = 1\nelse:\n    pass\n",
            "with (a as b, c):\n    pass\nwith (d):\n    pass\n",
            "x: A[B] | None = 1\ny: A | B[C] = 2\ndef f(*a: int, b, **c) -> D[E, F]: ...\n",
            "def f(a, /, b, *, c):\n    lambda x, *y: x\n",
            "x = 1 + \\\n    2\ny = 'a' \\\n    'b'\n",
            "if a: pass  # c\r\nelif b: pass\r\nelse: pass\r\n",
            "x = f'{a!r:>{w}} {b=}' 'c'\nmatch p:\n    case [1, *r] if r: pass\n    case _: pass\n",
            "try:\n    pass\nexcept (A, B) as e:\n    raise X from e\nfinally:\n    del a, b\n",
            "x = not a and b or c if d else e\ny = -a ** ~b\nz = a < b not in c is not d\n",
            "async def f():\n    async with a as b:\n        async for c in d:\n            await e\n",
            "x = {**a, 'b': [*c], 'd': {e for e in f}}\ny = {k: v for k, v in g}\n",
        ] {
            assert_eq!(first_difference(text), None, "{text}");
        }
    }

    #[test]
    fn every_corpus_file_has_tree_sitters_shape() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
        let files = crate::files_under(&root, "py");
        assert!(files.len() > 50);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            if let Some(d) = first_difference(&text) {
                panic!("{}:\n{d}", path.display());
            }
        }
    }

    #[test]
    fn syntax_errors_carry_ruffs_message_and_mark_their_function() {
        let text = "def good(pool):\n    pass\n\ndef bad(pool:\n    x = = 1\n";
        let tree = super::parse(text).unwrap();
        let root = tree.root_node();
        assert!(root.has_error());
        let (start, _, message) = tree.first_error.clone().unwrap();
        assert!(start as usize >= text.find("def bad").unwrap(), "{start}");
        assert!(!message.is_empty());
        let functions: Vec<_> = root
            .named_children()
            .filter(|n| n.kind_of() == "function_definition")
            .map(|n| n.has_error())
            .collect();
        assert_eq!(functions, [false, true]);
        // An error at the very start, before any node is open, still marks the file.
        let tree = super::parse(") = 1\n").unwrap();
        assert!(tree.root_node().has_error());
    }

    #[test]
    fn deep_nesting_is_left_to_tree_sitter() {
        // Brackets: seen in the bytes, before ruff's parser runs.
        let text = format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(super::looks_deep(&text) && super::parse(&text).is_none());
        // Closing brackets that close nothing do not hide the depth after them; many brackets
        // that never nest deep are not deep.
        let text = format!(
            "x = 1{}\ny = {}1{}\n",
            ")".repeat(3000),
            "(".repeat(1001),
            ")".repeat(1001)
        );
        assert!(super::looks_deep(&text));
        let text = "f(g(1), [2], {3: (4)})\n".repeat(2000);
        assert!(!super::looks_deep(&text));
        let text = format!("x = {}1{}\n", "(".repeat(1000), ")".repeat(1000));
        assert!(!super::looks_deep(&text));
        // An operator chain has no brackets: the bound over the tokens catches it.
        let text = format!("x = {}\n", vec!["a"; 5000].join(" + "));
        assert!(!super::looks_deep(&text) && super::parse(&text).is_none());
        let text = format!("x = {}a\n", "not ".repeat(5000));
        assert!(super::parse(&text).is_none());
        // Long but flat lines stay with ruff.
        let text = format!("x = [{}]\n", vec!["1"; 5000].join(", "));
        assert!(super::parse(&text).is_some());
        let text = format!("x = {}\n", vec!["a"; 5000].join(" and "));
        assert!(super::parse(&text).is_some());
    }

    /// `CONNLINT_TREE_DIFF=DIR cargo test -p connlint_analyzer --release tree_diff -- --ignored
    /// --nocapture`: how many files of DIR parse to a different tree, and the first few
    /// differences.
    #[test]
    #[ignore]
    fn tree_diff() {
        let dir = std::env::var("CONNLINT_TREE_DIFF").unwrap_or_else(|_| "../corpus".into());
        let files = crate::files_under(std::path::Path::new(&dir), "py");
        let show: usize = std::env::var("CONNLINT_TREE_DIFF_SHOW")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5);
        let mut differ = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if let Some(d) = first_difference(&text) {
                if differ < show {
                    println!("{}:\n{d}\n", path.display());
                }
                differ += 1;
            }
        }
        println!("{differ} of {} files differ", files.len());
    }
}
