//! connlint's rules: checks over flow summaries that produce [`Finding`]s.
//!
//! Each rule is one file whose doc comment is its user documentation (printed by
//! `connlint rule CL001`, used for SARIF help and editor hovers). Rules read
//! [`FunctionSummary`] values only, never syntax, so one rule serves every language. This crate
//! knows nothing of output formats, the terminal or LSP: findings are plain data.

mod connection_leaked_on_exception;
mod connection_not_released;
mod context_manager_does_not_close;
mod registry;
mod selection;
mod suppression;

pub use connlint_analyzer as analyzer;
use connlint_analyzer::{FileAnalysis, FunctionSummary, Language, LineIndex, Problem, Span};
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

/// Everything one file's text yields: findings (suppression comments applied) and the problems
/// that kept parts of it from being analysed.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
}

/// Analyses one file's text and runs the selected rules: the single entry point the command
/// line, the tests (and the language server) share, so they always agree.
pub fn check_source(language: Language, text: &str, selection: &Selection) -> Checked {
    let analysis = connlint_analyzer::analyze(language, text);
    let mut findings = check(&analysis, selection);
    let suppressions = suppressions(text);
    if !suppressions.is_empty() {
        let index = LineIndex::new(text);
        findings.retain(|finding| {
            let line = index.line_col(finding.span.start).line;
            !suppressions.iter().any(|s| s.covers(line, finding.code))
        });
    }
    Checked {
        findings,
        problems: analysis.problems,
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
    match &acq.via {
        Some(factory) => format!("connection returned by {}", quoted(&format!("{factory}()"))),
        None => format!("connection from {}", quoted(&acq.api)),
    }
}

fn primary_label(acq: &connlint_analyzer::Acquisition) -> String {
    match &acq.binding {
        Some(name) => format!("`{name}` is acquired here ({})", acq.resource),
        None => format!("acquired here ({})", acq.resource),
    }
}
