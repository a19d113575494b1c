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

fn ids() -> &'static [Option<std::num::NonZeroU16>] {
    static IDS: OnceLock<Vec<Option<std::num::NonZeroU16>>> = OnceLock::new();
    IDS.get_or_init(|| {
        let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        NAMES
            .iter()
            .map(|n| language.field_id_for_name(n))
            .collect()
    })
}

pub(crate) trait FieldExt<'t> {
    fn field(&self, f: F) -> Option<Node<'t>>;
}

impl<'t> FieldExt<'t> for Node<'t> {
    fn field(&self, f: F) -> Option<Node<'t>> {
        let id = ids().get(f as usize).copied().flatten()?;
        self.child_by_field_id(id.get())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_field_name_exists_in_the_grammar() {
        assert!(super::ids().iter().all(Option::is_some));
    }
}
