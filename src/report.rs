//! The result of a `check` run as plain data: what the renderers print.

use connlint_rules::Finding;

/// Everything one run found, sorted by path.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Files with at least one finding, with their text (for snippets and line numbers).
    pub files: Vec<FileFindings>,
    /// Files, or parts of files, that could not be analysed.
    pub problems: Vec<ProblemEntry>,
    /// How many Python files were looked at, including those that could not be analysed.
    pub files_checked: usize,
}

#[derive(Debug)]
pub(crate) struct FileFindings {
    pub path: String,
    pub text: String,
    /// Sorted by position.
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProblemEntry {
    pub path: String,
    pub message: String,
}

impl Report {
    pub fn finding_count(&self) -> usize {
        self.files.iter().map(|f| f.findings.len()).sum()
    }
}
