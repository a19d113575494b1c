//! connlint's analyzer: source text in, per-function connection flow summaries out.
//!
//! It owns the front ends (Python through tree-sitter-python), the language-agnostic flow graph
//! and dataflow ([`flow`]), and the library tables ([`tables`]). It does no I/O and knows nothing
//! of rules, rendering or editors: the CLI and the language server call the same pure
//! [`analyze`] on in-memory text, so they always agree.

pub mod flow;
pub mod memo;
mod order;
mod prefilter;
pub mod project;
mod python;
mod rust;
pub mod span;
pub mod summary;
pub mod tables;

pub use memo::{Memo, MemoError, MemoStats};
pub use project::{
    analyze_project, analyze_project_memo, analyze_project_prefiltered, analyze_project_shared,
    analyze_project_with, Declarations, SharedAnalysis, SourceFile,
};
pub use span::{LineCol, LineIndex, Span};
pub use summary::{
    Acquisition, ExitKind, FileAnalysis, Forget, FunctionSummary, HeldAwait, Language, Leak, Lost,
    NestedAcquire, Placement, PoolConstruction, PoolMax, Problem, Setting,
};

/// The stack a thread needs to analyse any file in place. A caller that runs many analyses
/// should give its threads this much (the command line does): a Rust file analysed on a thread
/// with less gets a thread of its own for its parse, started and ended per file. The memory is
/// only reserved; a thread touches what the file's nesting needs.
pub const ANALYSIS_STACK_BYTES: usize = rust::STACK_SIZE + 16 * 1024 * 1024;

/// Test support: every file under `root` whose extension is `ext`, sorted by path (folders
/// that cannot be read are passed over).
#[cfg(test)]
pub(crate) fn files_under(root: &std::path::Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

impl Language {
    /// The language of a file by its extension, if connlint reads it.
    pub fn from_path(path: &str) -> Option<Language> {
        let ext = path.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "py" | "pyi" => Some(Language::Python),
            "rs" => Some(Language::Rust),
            _ => None,
        }
    }
}

/// Analyses one file's text. Never panics on user input and never fails: what could not be
/// analysed is reported in [`FileAnalysis::problems`].
pub fn analyze(language: Language, text: &str) -> FileAnalysis {
    match language {
        Language::Python => {
            python::analyze_linked(text, "", "", &project::Externals::default(), &[]).0
        }
        Language::Rust => rust::analyze(text),
    }
}
