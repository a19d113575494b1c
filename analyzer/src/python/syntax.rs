//! The Python front end's own syntax tree: tree-sitter-python's shape (its node kinds, field
//! names, named and anonymous nodes, byte ranges, error and missing nodes), held in one flat
//! array per file instead of behind tree-sitter's C API.
//!
//! The lowering reads nodes through the same few calls it made on tree-sitter's nodes (`field`,
//! `named_children`, `parent`, ...), so it does not depend on which parser built the tree. That
//! is the point: a parser several times faster than tree-sitter's (see the README's Speed
//! section) can feed the same lowering by building this tree, and a test can hold the two trees
//! side by side. It is also cheaper to read than tree-sitter's nodes: a parent, a field and a
//! kind are array lookups here, where tree-sitter walks down from the root for a parent and
//! through a field map for a field.

use super::fields::{self, F};

/// No node: the end of a sibling chain, a leaf's children, the root's parent.
const NONE: u32 = u32::MAX;
/// No field: the node is not under a field of its parent.
const NO_FIELD: u8 = u8::MAX;

const NAMED: u8 = 1;
const ERROR: u8 = 2;
const MISSING: u8 = 4;
/// The node is an error or missing node or holds one (as tree-sitter's `has_error` says).
const HAS_ERROR: u8 = 8;

/// One node, 24 bytes.
#[derive(Clone, Copy, Debug)]
struct Raw {
    kind: u16,
    flags: u8,
    field: u8,
    start: u32,
    end: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
}

/// A parsed file. Nodes are stored in preorder, so a node's descendants follow it.
pub(crate) struct Tree {
    nodes: Vec<Raw>,
    /// The parser's own account of the first syntax error (start, end, message), when it
    /// gives one (ruff's parser does; tree-sitter's error nodes say nothing).
    pub(crate) first_error: Option<(u32, u32, String)>,
}

impl Tree {
    /// Copies a tree-sitter-python tree. Node kinds keep tree-sitter's kind ids (their names
    /// come from the grammar's table) and fields
    /// become [`F`] values.
    pub(crate) fn from_tree_sitter(tree: &tree_sitter::Tree) -> Tree {
        let field_of = fields::field_of_id();
        let mut b = Builder::new(tree.root_node().end_byte(), Vec::new());
        let mut cursor = tree.walk();
        loop {
            let node = cursor.node();
            let field = cursor
                .field_id()
                .and_then(|id| field_of.get(usize::from(id.get())).copied().flatten());
            let mut flags = 0;
            if node.is_named() {
                flags |= NAMED;
            }
            if node.is_error() {
                flags |= ERROR;
            }
            if node.is_missing() {
                flags |= MISSING;
            }
            // Tree-sitter's own answer (its error cost), not derived from the flags above: a
            // stray control character is an `ERROR` leaf that costs nothing.
            if node.has_error() {
                flags |= HAS_ERROR;
            }
            let at = b.push(
                node.kind_id(),
                flags,
                field,
                node.start_byte() as u32,
                node.end_byte() as u32,
            );
            if cursor.goto_first_child() {
                b.open.push((at, NONE));
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return b.finish();
                }
                b.open.pop();
            }
        }
    }

    pub(crate) fn root_node(&self) -> Node<'_> {
        Node { tree: self, at: 0 }
    }
}

/// Builds a [`Tree`] in preorder: a node is opened, its children added, then it is closed
/// with its end (used by the ruff front end, [`super::ruff_tree`]).
pub(crate) struct Builder {
    nodes: Vec<Raw>,
    /// For each open node: its index and the index of its last child so far.
    open: Vec<(u32, u32)>,
    /// Syntax errors not yet placed, sorted by start.
    errors: Vec<(u32, u32)>,
    next_error: usize,
}

impl Builder {
    pub(crate) fn new(text_len: usize, errors: Vec<(u32, u32)>) -> Builder {
        // The last tree's array, if this thread has one: a fresh one for every file made the
        // kernel clear its pages again each time (a tenth of SQLAlchemy's profile).
        let mut nodes = SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()));
        nodes.clear();
        nodes.reserve(text_len / 4 + 16);
        Builder {
            nodes,
            open: Vec::new(),
            errors,
            next_error: 0,
        }
    }

    fn push(&mut self, kind: u16, flags: u8, field: Option<F>, start: u32, end: u32) -> u32 {
        let at = self.nodes.len() as u32;
        let parent = match self.open.last_mut() {
            Some((parent, last)) => {
                let parent = *parent;
                if *last == NONE {
                    self.nodes[parent as usize].first_child = at;
                } else {
                    self.nodes[*last as usize].next_sibling = at;
                }
                *last = at;
                parent
            }
            None => NONE,
        };
        self.nodes.push(Raw {
            kind,
            flags,
            field: field.map_or(NO_FIELD, |f| f as u8),
            start,
            end,
            parent,
            first_child: NONE,
            next_sibling: NONE,
        });
        at
    }

    pub(crate) fn open(&mut self, kind: u16, field: Option<F>, start: u32) {
        let at = self.push(kind, NAMED, field, start, start);
        self.open.push((at, NONE));
    }

    /// A node opened for an anonymous token pair (`not in`).
    pub(crate) fn open_anonymous(&mut self, kind: u16, start: u32) {
        let at = self.push(kind, 0, None, start, start);
        self.open.push((at, NONE));
    }

    pub(crate) fn close(&mut self, end: u32) {
        if let Some((at, _)) = self.open.pop() {
            let raw = &mut self.nodes[at as usize];
            raw.end = end.max(raw.start);
        }
    }

    pub(crate) fn leaf(&mut self, kind: u16, named: bool, field: Option<F>, start: u32, end: u32) {
        self.push(kind, if named { NAMED } else { 0 }, field, start, end);
    }

    /// Places the syntax errors that start before `pos` as `ERROR` leaves of the open node,
    /// and marks it and its ancestors as holding an error.
    /// With no node open (before the root), they wait for one.
    pub(crate) fn errors_before(&mut self, pos: u32) {
        if self.open.is_empty() {
            return;
        }
        while let Some(&(start, end)) = self.errors.get(self.next_error) {
            if start >= pos {
                break;
            }
            self.next_error += 1;
            self.push(
                u16::MAX,
                NAMED | ERROR | HAS_ERROR,
                None,
                start,
                end.max(start),
            );
            for &(at, _) in &self.open {
                self.nodes[at as usize].flags |= HAS_ERROR;
            }
        }
    }

    /// The kind of the innermost open node.
    pub(crate) fn open_kind(&self) -> u16 {
        self.open
            .last()
            .map_or(0, |&(at, _)| self.nodes[at as usize].kind)
    }

    /// Whether a child of the innermost open node is under field `f`.
    pub(crate) fn open_has_field(&self, f: F) -> bool {
        let Some(&(at, _)) = self.open.last() else {
            return false;
        };
        let mut child = self.nodes[at as usize].first_child;
        while child != NONE {
            let raw = &self.nodes[child as usize];
            if raw.field == f as u8 {
                return true;
            }
            child = raw.next_sibling;
        }
        false
    }

    /// The end of the innermost open node's last child.
    pub(crate) fn last_child_end(&self) -> Option<u32> {
        let &(_, last) = self.open.last()?;
        (last != NONE).then(|| self.nodes[last as usize].end)
    }

    pub(crate) fn finish(mut self) -> Tree {
        self.errors_before(u32::MAX);
        while !self.open.is_empty() {
            let end = self.last_child_end().unwrap_or(0);
            self.close(end);
        }
        Tree {
            nodes: self.nodes,
            first_error: None,
        }
    }
}

thread_local! {
    /// The array of this thread's last dropped tree, reused by the next [`Builder`].
    static SPARE: std::cell::RefCell<Vec<Raw>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Tree {
    fn drop(&mut self) {
        let nodes = std::mem::take(&mut self.nodes);
        // Kept only up to a few megabytes, so one huge file does not pin its array.
        if nodes.capacity() <= (1 << 18) {
            let _ = SPARE.try_with(|spare| {
                let mut spare = spare.borrow_mut();
                if nodes.capacity() > spare.capacity() {
                    *spare = nodes;
                }
            });
        }
    }
}

/// A node of a [`Tree`]: a reference to the tree and an index, as cheap to copy as
/// tree-sitter's.
#[derive(Clone, Copy)]
pub(crate) struct Node<'t> {
    tree: &'t Tree,
    at: u32,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && std::ptr::eq(self.tree, other.tree)
    }
}

impl Eq for Node<'_> {}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}..{}",
            self.kind_of(),
            self.start_byte(),
            self.end_byte()
        )
    }
}

impl<'t> Node<'t> {
    fn raw(&self) -> &'t Raw {
        &self.tree.nodes[self.at as usize]
    }

    fn at(&self, at: u32) -> Option<Node<'t>> {
        (at != NONE).then_some(Node {
            tree: self.tree,
            at,
        })
    }

    /// The node's kind, as tree-sitter-python names it (`ERROR` for an error node).
    pub(crate) fn kind_of(&self) -> &'static str {
        let raw = self.raw();
        if raw.flags & ERROR != 0 {
            return "ERROR";
        }
        fields::kind_name(raw.kind)
    }

    /// The first child under field `f`.
    pub(crate) fn field(&self, f: F) -> Option<Node<'t>> {
        self.children_by_field(f).next()
    }

    /// Every child under field `f`, in order.
    pub(crate) fn children_by_field(&self, f: F) -> impl Iterator<Item = Node<'t>> + 't {
        let f = f as u8;
        self.children_all().filter(move |c| c.raw().field == f)
    }

    fn children_all(&self) -> Children<'t> {
        Children {
            tree: self.tree,
            next: self.raw().first_child,
        }
    }

    /// Every child, named or anonymous (punctuation, keywords, operators).
    pub(crate) fn children(&self) -> impl Iterator<Item = Node<'t>> + 't {
        self.children_all()
    }

    /// The named children (comments included, as in tree-sitter).
    pub(crate) fn named_children(&self) -> impl Iterator<Item = Node<'t>> + 't {
        self.children_all().filter(|c| c.is_named())
    }

    pub(crate) fn named_child(&self, i: usize) -> Option<Node<'t>> {
        self.named_children().nth(i)
    }

    pub(crate) fn named_child_count(&self) -> usize {
        self.named_children().count()
    }

    pub(crate) fn child(&self, i: usize) -> Option<Node<'t>> {
        self.children_all().nth(i)
    }

    pub(crate) fn parent(&self) -> Option<Node<'t>> {
        self.at(self.raw().parent)
    }

    pub(crate) fn start_byte(&self) -> usize {
        self.raw().start as usize
    }

    pub(crate) fn end_byte(&self) -> usize {
        self.raw().end as usize
    }

    /// The field this node is under in its parent, as an [`F`] index.
    #[cfg(test)]
    pub(crate) fn field_index(&self) -> Option<u8> {
        let f = self.raw().field;
        (f != NO_FIELD).then_some(f)
    }

    /// Unique within the tree.
    pub(crate) fn id(&self) -> usize {
        self.at as usize
    }

    pub(crate) fn is_named(&self) -> bool {
        self.raw().flags & NAMED != 0
    }

    pub(crate) fn is_error(&self) -> bool {
        self.raw().flags & ERROR != 0
    }

    pub(crate) fn is_missing(&self) -> bool {
        self.raw().flags & MISSING != 0
    }

    /// The node is an error or missing node, or holds one.
    pub(crate) fn has_error(&self) -> bool {
        self.raw().flags & HAS_ERROR != 0
    }

    /// The smallest node, anonymous ones included, that spans `start..end`, by tree-sitter's
    /// rule: descend into the first child that reaches the range's end and passes its start
    /// (an empty child may touch it), while that child starts no later than the range.
    pub(crate) fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'t>> {
        let (start, end) = (start as u32, end as u32);
        let mut node = *self;
        'down: loop {
            for child in node.children_all() {
                let c = child.raw();
                if c.end < end {
                    continue;
                }
                let empty = c.start == c.end;
                if (empty && c.end < start) || (!empty && c.end <= start) {
                    continue;
                }
                if start < c.start {
                    break;
                }
                node = child;
                continue 'down;
            }
            return Some(node);
        }
    }

    /// Preorder walk of this node and its descendants.
    pub(crate) fn walk(&self) -> Cursor<'t> {
        Cursor {
            node: *self,
            top: self.at,
        }
    }
}

struct Children<'t> {
    tree: &'t Tree,
    next: u32,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        let node = Node {
            tree: self.tree,
            at: self.next,
        };
        let raw = self.tree.nodes.get(self.next as usize)?;
        self.next = raw.next_sibling;
        Some(node)
    }
}

/// A cursor over a node's subtree, as tree-sitter's: it never leaves the node it started at.
pub(crate) struct Cursor<'t> {
    node: Node<'t>,
    top: u32,
}

impl<'t> Cursor<'t> {
    pub(crate) fn node(&self) -> Node<'t> {
        self.node
    }

    pub(crate) fn goto_first_child(&mut self) -> bool {
        match self.node.at(self.node.raw().first_child) {
            Some(child) => {
                self.node = child;
                true
            }
            None => false,
        }
    }

    pub(crate) fn goto_next_sibling(&mut self) -> bool {
        if self.node.at == self.top {
            return false;
        }
        match self.node.at(self.node.raw().next_sibling) {
            Some(next) => {
                self.node = next;
                true
            }
            None => false,
        }
    }

    pub(crate) fn goto_parent(&mut self) -> bool {
        if self.node.at == self.top {
            return false;
        }
        match self.node.parent() {
            Some(parent) => {
                self.node = parent;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::fields::{self, F};
    use super::{Node, Tree};

    fn ts_parse(text: &str) -> tree_sitter::Tree {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&tree_sitter_python::LANGUAGE.into())
            .unwrap();
        parser.parse(text, None).unwrap()
    }

    /// Holds every node of the copy against tree-sitter's: kind, range, flags, parent, children
    /// and each field the front end reads. Returns how many nodes it compared.
    fn same(ts: tree_sitter::Node, ours: Node, fields_ids: &[(F, u16)]) -> usize {
        let what = format!("{ours:?} against {ts:?}");
        assert_eq!(ours.start_byte(), ts.start_byte(), "{what}");
        assert_eq!(ours.end_byte(), ts.end_byte(), "{what}");
        assert_eq!(ours.kind_of(), ts.kind(), "{what}");
        assert_eq!(ours.is_named(), ts.is_named(), "{what}");
        assert_eq!(ours.is_error(), ts.is_error(), "{what}");
        assert_eq!(ours.is_missing(), ts.is_missing(), "{what}");
        assert_eq!(ours.has_error(), ts.has_error(), "{what}");
        assert_eq!(ours.named_child_count(), ts.named_child_count(), "{what}");
        let range = |n: Option<tree_sitter::Node>| n.map(|n| (n.start_byte(), n.end_byte()));
        let ours_range = |n: Option<Node>| n.map(|n| (n.start_byte(), n.end_byte()));
        for &(f, id) in fields_ids {
            let theirs: Vec<_> = {
                let mut c = ts.walk();
                ts.children_by_field_id(std::num::NonZeroU16::new(id).unwrap(), &mut c)
                    .map(|n| (n.start_byte(), n.end_byte()))
                    .collect()
            };
            let mine: Vec<_> = ours
                .children_by_field(f)
                .map(|n| (n.start_byte(), n.end_byte()))
                .collect();
            assert_eq!(mine, theirs, "field {f:?} of {what}");
        }
        let mut seen = 1;
        let mut c = ts.walk();
        let theirs: Vec<_> = ts.children(&mut c).collect();
        let mine: Vec<_> = ours.children().collect();
        assert_eq!(mine.len(), theirs.len(), "children of {what}");
        for (m, t) in mine.into_iter().zip(theirs) {
            assert_eq!(
                ours_range(m.parent()),
                range(t.parent()),
                "parent in {what}"
            );
            seen += same(t, m, fields_ids);
        }
        seen
    }

    fn check(text: &str) -> usize {
        let ts = ts_parse(text);
        let ours = Tree::from_tree_sitter(&ts);
        let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        let ids: Vec<(F, u16)> = fields::field_of_id()
            .iter()
            .enumerate()
            .filter_map(|(id, f)| f.map(|f| (f, id as u16)))
            .collect();
        assert!(ids.len() >= 20 && language.field_count() > 20);
        same(ts.root_node(), ours.root_node(), &ids)
    }

    pub(crate) const SAMPLE: &str = "import a.b as c\nfrom . import d\n@dec(1)\nclass C(B, metaclass=M):\n    x: int = 1\n    async def f(self, p, /, q=2, *a, r: int = 3, **k) -> int:\n        async with x() as (y, z), w:\n            return [i async for i in y if i not in z]\n        try:\n            pass\n        except (E, F) as e:\n            raise\n        else:\n            del y\n        finally:\n            y = await g(*a, **k)\n        match q:\n            case [1, *rest] if rest: pass\n            case {'k': v, **kw}: pass\n            case P(a=1) | None: pass\n        while not q and p or r is not None:\n            q += 1; break\n        for i, j in enumerate(z): continue\n        lambda s=1: s\n        x = f'{y!r:>{w}}' 'tail' b'bytes'\n        global gg\n        return (yield from q) if p else {**k, 1: 2}[1:2:3]\n";

    #[test]
    fn the_copy_is_tree_sitters_tree_node_for_node() {
        let nodes = check(SAMPLE);
        assert!(nodes > 300, "{nodes}");
    }

    #[test]
    fn the_copy_keeps_error_and_missing_nodes() {
        for text in [
            "def f(:\n    return x\n",
            "x = (1,\nclass C:\n    def g(self): pass\n",
            "if x\n    y = 1\n",
            "def f():\n    conn = pool.getconn(\n",
            "\u{0}\u{1}binary\u{ff}",
            "",
        ] {
            let ts = ts_parse(text);
            let ours = Tree::from_tree_sitter(&ts);
            assert_eq!(ours.root_node().has_error(), ts.root_node().has_error());
            check(text);
        }
    }

    #[test]
    fn the_copy_matches_on_every_python_file_of_the_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
        let (mut files, mut nodes) = (0, 0);
        for path in crate::files_under(&root, "py") {
            let text = std::fs::read_to_string(&path).unwrap();
            nodes += check(&text);
            files += 1;
        }
        assert!(files > 50 && nodes > 10_000, "{files} files, {nodes} nodes");
    }

    #[test]
    fn the_smallest_node_at_a_range_is_tree_sitters() {
        let ts = ts_parse(SAMPLE);
        let ours = Tree::from_tree_sitter(&ts);
        for start in 0..SAMPLE.len() {
            for len in [0, 1, 3, 8] {
                let end = (start + len).min(SAMPLE.len());
                let theirs = ts
                    .root_node()
                    .descendant_for_byte_range(start, end)
                    .map(|n| (n.kind(), n.start_byte(), n.end_byte()));
                let mine = ours
                    .root_node()
                    .descendant_for_byte_range(start, end)
                    .map(|n| (n.kind_of(), n.start_byte(), n.end_byte()));
                assert_eq!(mine, theirs, "{start}..{end}");
            }
        }
    }

    #[test]
    fn a_cursor_stays_inside_the_node_it_started_at() {
        let ts = ts_parse("def f():\n    x = 1\ndef g():\n    pass\n");
        let ours = Tree::from_tree_sitter(&ts);
        let f = ours.root_node().named_child(0).unwrap();
        let mut cursor = f.walk();
        let mut kinds = vec![cursor.node().kind_of()];
        loop {
            if cursor.goto_first_child() || cursor.goto_next_sibling() {
                kinds.push(cursor.node().kind_of());
                continue;
            }
            while cursor.goto_parent() && !cursor.goto_next_sibling() {}
            if cursor.node() == f {
                break;
            }
            kinds.push(cursor.node().kind_of());
        }
        assert!(
            kinds.contains(&"assignment") && !kinds.contains(&"pass_statement"),
            "{kinds:?}"
        );
    }
}
