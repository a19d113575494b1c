//! connlint's rules: checks over flow summaries that produce [`Finding`]s.
//!
//! Each rule is one file whose doc comment is its user documentation (printed by
//! `connlint rule CL001`, used for SARIF help and editor hovers). Rules read
//! [`FunctionSummary`] values only, never syntax, so one rule serves every language. This crate
//! knows nothing of output formats, the terminal or LSP: findings are plain data.

mod connection_forgotten;
mod connection_held_across_await;
mod connection_leaked_on_exception;
mod connection_not_released;
mod context_manager_does_not_close;
mod nested_acquire;
mod registry;
mod release_left_to_finalizer;
mod selection;
mod suppression;

pub use connlint_analyzer as analyzer;
use connlint_analyzer::{
    Declarations, FileAnalysis, FunctionSummary, Language, LineIndex, Memo, Problem, SourceFile,
    Span,
};
use rayon::prelude::*;
pub use registry::{all_rules, find_rule};
pub use selection::{Selection, SelectionError};
pub use suppression::{suppressions, Suppression};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What a rule is, declared in its own file by [`declare_rule!`].
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub default_enabled: bool,
    /// The rule's doc comment, verbatim (each line keeps the space after `///`).
    raw_docs: &'static str,
}

impl RuleMeta {
    /// The documentation as Markdown.
    pub fn docs(&self) -> String {
        let mut out = String::new();
        for line in self.raw_docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim_end().to_string() + "\n"
    }

    /// The first paragraph under "What it does", on one line.
    pub fn summary(&self) -> String {
        let docs = self.docs();
        let body = docs.split("## What it does").nth(1).unwrap_or(&docs);
        body.trim_start()
            .split("\n\n")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A rule: its metadata and its check over one function's summary.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>);
}

/// A secondary location that explains a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem found in user code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// The primary span: the acquisition, the construction, the forgetting call.
    pub span: Span,
    /// Shown at the primary span.
    pub primary_label: String,
    pub message: String,
    pub function: String,
    pub labels: Vec<Label>,
    pub help: String,
}

impl Finding {
    fn new(
        meta: &'static RuleMeta,
        span: Span,
        function: &FunctionSummary,
        message: String,
    ) -> Self {
        Finding {
            code: meta.code,
            name: meta.name,
            severity: meta.severity,
            span,
            primary_label: String::new(),
            message,
            function: function.name.clone(),
            labels: Vec::new(),
            help: String::new(),
        }
    }

    fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        let message = message.into();
        if !self
            .labels
            .iter()
            .any(|l| l.span == span && l.message == message)
        {
            self.labels.push(Label { span, message });
        }
        self
    }
}

/// Runs the selected rules over every function of one file, sorted by position.
pub fn check(analysis: &FileAnalysis, selection: &Selection) -> Vec<Finding> {
    let mut findings = Vec::new();
    for function in &analysis.functions {
        for rule in all_rules() {
            if selection.is_enabled(rule.meta()) {
                rule.check(function, &mut findings);
            }
        }
    }
    findings.sort_by(|a, b| (a.span.start, a.code).cmp(&(b.span.start, b.code)));
    findings.dedup_by(|a, b| a.span == b.span && a.code == b.code);
    findings
}

/// Everything one file's text yields: findings (suppression comments applied), the problems
/// that kept parts of it from being analysed, and the suppression comments that silenced nothing.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    /// One [`UNUSED_SUPPRESSION`] warning per `# connlint: ignore` comment (or per comment
    /// naming codes) that silenced nothing in this run, sorted by position. They are kept apart
    /// from `findings` because reporting them is the caller's choice
    /// (`--report-unused-suppressions`). A code of a rule that did not run is not reported: the
    /// comment may be needed when it runs.
    pub unused_suppressions: Vec<Finding>,
}

/// The code (and name) of the warning about a suppression comment that silences nothing. It is
/// not a rule: it does not look at summaries, and `--select`/`--ignore` do not reach it.
pub const UNUSED_SUPPRESSION: &str = "unused-suppression";

/// Analyses one file's text and runs the selected rules: the single entry point the command
/// line, the tests (and the language server) share, so they always agree.
pub fn check_source(language: Language, text: &str, selection: &Selection) -> Checked {
    finish(connlint_analyzer::analyze(language, text), text, selection)
}

/// Analyses the files of a project together (factories, closers and wrapper classes are
/// followed across files) and runs the selected rules on each; results in the order of `files`.
pub fn check_project(
    language: Language,
    files: &[SourceFile],
    declared: &Declarations,
    selection: &Selection,
) -> Vec<Checked> {
    check_project_memo(language, files, declared, selection, &mut Memo::new())
}

/// [`check_project`], replaying from `memo` the analyses of files whose inputs did not change
/// and leaving this run's in it (the command line keeps it on disk between runs, the language
/// server in memory between edits). Same results as [`check_project`]; only the rules run again.
pub fn check_project_memo(
    language: Language,
    files: &[SourceFile],
    declared: &Declarations,
    selection: &Selection,
    memo: &mut Memo,
) -> Vec<Checked> {
    connlint_analyzer::analyze_project_memo(language, files, declared, memo)
        .into_par_iter()
        .zip(files)
        .map(|(analysis, file)| finish(analysis, file.text, selection))
        .collect()
}

/// Runs the rules over one file's analysis and applies its suppression comments.
fn finish(analysis: FileAnalysis, text: &str, selection: &Selection) -> Checked {
    let mut findings = check(&analysis, selection);
    let suppressions = suppressions(text);
    let mut unused_suppressions = Vec::new();
    if !suppressions.is_empty() {
        let index = LineIndex::new(text);
        let mut usage: Vec<suppression::Usage> =
            suppressions.iter().map(suppression::Usage::new).collect();
        findings.retain(|finding| {
            let line = index.line_col(finding.span.start).line;
            let mut silenced = false;
            // Every comment that covers the finding is used, not only the first.
            for (suppression, usage) in suppressions.iter().zip(&mut usage) {
                silenced |= usage.record(suppression, line, finding.code);
            }
            !silenced
        });
        for (suppression, usage) in suppressions.iter().zip(&usage) {
            let is_enabled = |code: &str| {
                find_rule(code)
                    .filter(|rule| rule.meta().code.eq_ignore_ascii_case(code))
                    .map(|rule| selection.is_enabled(rule.meta()))
            };
            if let Some(unused) = usage.unused(suppression, is_enabled) {
                unused_suppressions.push(Finding {
                    code: UNUSED_SUPPRESSION,
                    name: UNUSED_SUPPRESSION,
                    severity: Severity::Warning,
                    span: suppression.span,
                    primary_label: String::new(),
                    message: unused.message,
                    function: String::new(),
                    labels: Vec::new(),
                    help: unused.help,
                });
            }
        }
    }
    Checked {
        findings,
        problems: analysis.problems,
        unused_suppressions,
    }
}

/// Declares a rule's type and metadata; the doc comment becomes its documentation.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])+
        pub struct $name:ident {
            code: $code:literal,
            name: $rule_name:literal,
            severity: $severity:ident,
            default_enabled: $enabled:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])+
        pub struct $name;

        impl $name {
            pub const META: $crate::RuleMeta = $crate::RuleMeta {
                code: $code,
                name: $rule_name,
                severity: $crate::Severity::$severity,
                default_enabled: $enabled,
                raw_docs: concat!($($doc, "\n"),+),
            };
        }
    };
}

/// Quotes an API for a message: `pool.getconn()` -> "`pool.getconn()`".
fn quoted(api: &str) -> String {
    format!("`{api}`")
}

/// How the connection is named in messages: the call that produced it.
fn origin(acq: &connlint_analyzer::Acquisition) -> String {
    match (&acq.via, acq.resource.strip_suffix(" object")) {
        // Ex) `db = PooledDb(pool)`: the class itself was called.
        (Some(via), Some(class)) if via.starts_with(class) => acq.resource.clone(),
        (Some(via), Some(_)) => format!("{} returned by {via}", acq.resource),
        (Some(via), None) => format!("connection returned by {via}"),
        (None, _) => format!("connection from {}", quoted(&acq.api)),
    }
}

fn primary_label(acq: &connlint_analyzer::Acquisition) -> String {
    match &acq.binding {
        Some(name) => format!("`{name}` is acquired here ({})", acq.resource),
        None => format!("acquired here ({})", acq.resource),
    }
}
