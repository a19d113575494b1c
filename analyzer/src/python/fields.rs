//! Field ids of tree-sitter-python, resolved once. `child_by_field_name` compares strings on
//! every call, which showed up as a tenth of the analysis time on large trees.

use std::sync::OnceLock;

use tree_sitter::Node;

macro_rules! fields {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        #[derive(Clone, Copy)]
        pub(crate) enum F { $($variant),+ }
        const NAMES: &[&str] = &[$($name),+];
    };
}

fields! {
    Name = "name", Body = "body", Right = "right", Left = "left", Value = "value",
    Object = "object", Attribute = "attribute", Alias = "alias", Function = "function",
    Type = "type", Consequence = "consequence", Condition = "condition", Arguments = "arguments",
    Alternative = "alternative", Subject = "subject", Parameters = "parameters",
    Operator = "operator", ModuleName = "module_name", Key = "key", Guard = "guard",
    Definition = "definition", Argument = "argument", Subscript = "subscript",
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

pub(crate) trait FieldExt<'t> {
    fn field(&self, f: F) -> Option<Node<'t>>;
    /// The node's kind, as [`Node::kind`] names it, from a table.
    fn kind_of(&self) -> &'t str;
}

impl<'t> FieldExt<'t> for Node<'t> {
    fn field(&self, f: F) -> Option<Node<'t>> {
        let id = ids().get(f as usize).copied().flatten()?;
        self.child_by_field_id(id.get())
    }

    fn kind_of(&self) -> &'t str {
        match kinds().get(usize::from(self.kind_id())) {
            Some(name) if !name.is_empty() => name,
            // `ERROR` and other ids outside the table.
            _ => self.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_field_name_exists_in_the_grammar() {
        assert!(super::ids().iter().all(Option::is_some));
    }

    #[test]
    fn kinds_from_the_table_are_the_kinds_tree_sitter_names() {
        use super::FieldExt;
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(super::language()).unwrap();
        let text = "import a\nclass C(B):\n    async def f(self, *a, **k) -> int:\n        with x() as (y, z):\n            return [i async for i in y if i]\n    x = )\n";
        let tree = parser.parse(text, None).unwrap();
        let mut cursor = tree.walk();
        let mut seen = 0;
        let mut error = false;
        loop {
            let node = cursor.node();
            assert_eq!(node.kind_of(), node.kind());
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
