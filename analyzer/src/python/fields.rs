//! The fields and node kinds of tree-sitter-python that the front end reads, resolved once
//! (comparing names on every call was a tenth of the analysis time on large trees). The front
//! end's own tree ([`super::syntax`]) stores fields as [`F`] and kinds as the grammar's ids.

use std::sync::OnceLock;

macro_rules! fields {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum F { $($variant),+ }
        const NAMES: &[&str] = &[$($name),+];
        const ALL: &[F] = &[$(F::$variant),+];
    };
}

fields! {
    Name = "name", Body = "body", Right = "right", Left = "left", Value = "value",
    Object = "object", Attribute = "attribute", Alias = "alias", Function = "function",
    Type = "type", Consequence = "consequence", Condition = "condition", Arguments = "arguments",
    Alternative = "alternative", Subject = "subject", Parameters = "parameters",
    Operator = "operator", ModuleName = "module_name", Key = "key", Guard = "guard",
    Definition = "definition", Argument = "argument", Subscript = "subscript",
    Cause = "cause", ReturnType = "return_type", Superclasses = "superclasses",
    TypeParameters = "type_parameters", Expression = "expression",
}

fn language() -> &'static tree_sitter::Language {
    static LANGUAGE: OnceLock<tree_sitter::Language> = OnceLock::new();
    LANGUAGE.get_or_init(|| tree_sitter_python::LANGUAGE.into())
}

/// Node kind names by kind id. `Node::kind` measures the C string and checks its UTF-8 on every
/// call (about 3% of the analysis of a large tree); the names are read once here instead.
fn kinds() -> &'static [&'static str] {
    static KINDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let language = language();
        (0..language.node_kind_count())
            .map(|id| {
                u16::try_from(id)
                    .ok()
                    .and_then(|id| language.node_kind_for_id(id))
                    .unwrap_or("")
            })
            .collect()
    })
}

fn ids() -> &'static [Option<std::num::NonZeroU16>] {
    static IDS: OnceLock<Vec<Option<std::num::NonZeroU16>>> = OnceLock::new();
    IDS.get_or_init(|| {
        let language = language();
        NAMES
            .iter()
            .map(|n| language.field_id_for_name(n))
            .collect()
    })
}

/// The [`F`] for each tree-sitter field id (`None` for fields the front end does not read).
pub(crate) fn field_of_id() -> &'static [Option<F>] {
    static TABLE: OnceLock<Vec<Option<F>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let count = language().field_count();
        let mut table = vec![None; count + 1];
        for (f, id) in ALL.iter().zip(ids()) {
            if let Some(slot) = id.and_then(|id| table.get_mut(usize::from(id.get()))) {
                *slot = Some(*f);
            }
        }
        table
    })
}

/// The id tree-sitter-python gives the named node kind `name` (0 if it has none).
pub(crate) fn named_id(name: &str) -> u16 {
    id_of(name, true)
}

/// The id tree-sitter-python gives the anonymous node (token) `text` (0 if it has none).
pub(crate) fn anon_id(text: &str) -> u16 {
    id_of(text, false)
}

fn id_of(name: &str, named: bool) -> u16 {
    type Ids = rustc_hash::FxHashMap<(&'static str, bool), u16>;
    static IDS: OnceLock<Ids> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        let language = language();
        let mut ids = Ids::default();
        for id in 0..language.node_kind_count() {
            let Ok(id) = u16::try_from(id) else { continue };
            if !language.node_kind_is_visible(id) {
                continue;
            }
            if let Some(kind) = language.node_kind_for_id(id) {
                ids.entry((kind, language.node_kind_is_named(id)))
                    .or_insert(id);
            }
        }
        ids
    });
    ids.get(&(name, named)).copied().unwrap_or(0)
}

/// The name of tree-sitter-python's node kind `id` (empty for an id outside the grammar).
pub(crate) fn kind_name(id: u16) -> &'static str {
    kinds().get(usize::from(id)).copied().unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_field_name_exists_in_the_grammar() {
        assert!(super::ids().iter().all(Option::is_some));
    }

    #[test]
    fn kinds_from_the_table_are_the_kinds_tree_sitter_names() {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(super::language()).unwrap();
        let text = "import a\nclass C(B):\n    async def f(self, *a, **k) -> int:\n        with x() as (y, z):\n            return [i async for i in y if i]\n    x = )\n";
        let tree = parser.parse(text, None).unwrap();
        let mut cursor = tree.walk();
        let mut seen = 0;
        let mut error = false;
        loop {
            let node = cursor.node();
            if !node.is_error() {
                assert_eq!(super::kind_name(node.kind_id()), node.kind());
            }
            error |= node.kind() == "ERROR";
            seen += 1;
            if cursor.goto_first_child() || cursor.goto_next_sibling() {
                continue;
            }
            while cursor.goto_parent() && !cursor.goto_next_sibling() {}
            if cursor.node() == tree.root_node() {
                break;
            }
        }
        assert!(seen > 50 && error, "{seen} {error}");
    }
}
