//! connlint's rules: checks over flow summaries that produce [`Finding`]s.
//!
//! Each rule is one file whose doc comment is its user documentation (printed by
//! `connlint rule CL001`, used for SARIF help and editor hovers). Rules read
//! [`FunctionSummary`] values only, never syntax, so one rule serves every language. This crate
//! knows nothing of output formats, the terminal or LSP: findings are plain data.

mod acquire_call_without_timeout;
mod acquire_without_timeout;
mod connection_budget_exceeded;
mod connection_forgotten;
mod connection_held_across_await;
mod connection_leaked_on_exception;
mod connection_not_released;
mod context_manager_does_not_close;
mod limits;
mod nested_acquire;
mod pool_created_per_call;
mod registry;
mod release_left_to_finalizer;
mod selection;
mod suppression;
mod unbounded_pool;

pub use connlint_analyzer as analyzer;
use connlint_analyzer::{
    Declarations, FileAnalysis, FunctionSummary, Language, LineIndex, Memo, Problem, SourceFile,
    Span,
};
pub use limits::Limits;
use rayon::prelude::*;
pub use registry::{all_rules, find_rule};
pub use selection::{Selection, SelectionError};
use std::sync::Arc;
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

/// A rule: its metadata and its checks. Most rules look at one function's summary at a time;
/// configuration rules look at a file's pool constructions, and the budget at the whole project.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Findings in one function.
    fn check(&self, _function: &FunctionSummary, _findings: &mut Vec<Finding>) {}

    /// Findings about a file as a whole (its pool constructions).
    fn check_file(&self, _analysis: &FileAnalysis, _limits: &Limits, _findings: &mut Vec<Finding>) {
    }

    /// Findings that need every file of the run; `findings[i]` belongs to `files[i]`.
    fn check_project(
        &self,
        _files: &[ProjectFile],
        _limits: &Limits,
        _findings: &mut [Vec<Finding>],
    ) {
    }
}

/// One analysed file, as project-wide rules see it.
#[derive(Clone, Copy, Debug)]
pub struct ProjectFile<'a> {
    pub path: &'a str,
    pub analysis: &'a FileAnalysis,
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
    /// Shared: a project-wide rule gives thousands of findings the same help (CL011's sum).
    pub help: Arc<str>,
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
            help: Arc::from(""),
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
    check_with(analysis, selection, &Limits::default(), Vec::new())
}

/// [`check`] with the configured limits, adding `extra` (project-wide findings for this file).
pub fn check_with(
    analysis: &FileAnalysis,
    selection: &Selection,
    limits: &Limits,
    extra: Vec<Finding>,
) -> Vec<Finding> {
    let mut findings = extra;
    for rule in all_rules() {
        if selection.is_enabled(rule.meta()) {
            rule.check_file(analysis, limits, &mut findings);
        }
    }
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
    check_source_with(language, text, selection, &Limits::default())
}

/// [`check_source`] with the configured limits; the text is a project of one file.
pub fn check_source_with(
    language: Language,
    text: &str,
    selection: &Selection,
    limits: &Limits,
) -> Checked {
    let analysis = connlint_analyzer::analyze(language, text);
    let files = [ProjectFile {
        path: "",
        analysis: &analysis,
    }];
    let mut extra = project_findings(&files, selection, limits);
    let extra = extra.pop().unwrap_or_default();
    finish(&analysis, text, selection, limits, extra)
}

/// The findings of the project-wide rules, per file.
fn project_findings(
    files: &[ProjectFile],
    selection: &Selection,
    limits: &Limits,
) -> Vec<Vec<Finding>> {
    let mut findings = vec![Vec::new(); files.len()];
    for rule in all_rules() {
        if selection.is_enabled(rule.meta()) {
            rule.check_project(files, limits, &mut findings);
        }
    }
    findings
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

/// Everything a project check is configured with, beyond the files themselves.
#[derive(Clone, Copy, Debug)]
pub struct ProjectOptions<'a> {
    pub declared: &'a Declarations,
    pub selection: &'a Selection,
    pub limits: &'a Limits,
    /// Parse only the files that can matter (same findings; see the analyzer's prefilter).
    pub prefilter: bool,
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
    let options = ProjectOptions {
        declared,
        selection,
        limits: &Limits::default(),
        prefilter: true,
    };
    check_project_with(language, files, options, memo)
}

/// The project check with every option: the one the command line and the language server use.
pub fn check_project_with(
    language: Language,
    files: &[SourceFile],
    options: ProjectOptions,
    memo: &mut Memo,
) -> Vec<Checked> {
    let analyses = connlint_analyzer::analyze_project_shared(
        language,
        files,
        options.declared,
        memo,
        options.prefilter,
    );
    let views: Vec<ProjectFile> = files
        .iter()
        .zip(&analyses)
        .map(|(f, analysis)| ProjectFile {
            path: f.path,
            analysis,
        })
        .collect();
    let extra = project_findings(&views, options.selection, options.limits);
    drop(views);
    analyses
        .into_par_iter()
        .zip(files)
        .zip(extra)
        .map(|((analysis, file), extra)| {
            finish(
                &analysis,
                file.text,
                options.selection,
                options.limits,
                extra,
            )
        })
        .collect()
}

/// Runs the rules over one file's analysis and applies its suppression comments.
fn finish(
    analysis: &FileAnalysis,
    text: &str,
    selection: &Selection,
    limits: &Limits,
    extra: Vec<Finding>,
) -> Checked {
    let mut findings = check_with(analysis, selection, limits, extra);
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
                    help: unused.help.into(),
                });
            }
        }
    }
    Checked {
        findings,
        problems: analysis.problems.clone(),
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

/// A finding about a pool construction.
fn pool_finding(
    meta: &'static RuleMeta,
    pool: &connlint_analyzer::PoolConstruction,
    span: Span,
    message: String,
    primary_label: String,
    help: Arc<str>,
) -> Finding {
    let mut finding = Finding {
        code: meta.code,
        name: meta.name,
        severity: meta.severity,
        span,
        primary_label,
        message,
        function: pool.function.clone(),
        labels: Vec::new(),
        help,
    };
    if span != pool.span {
        finding.labels.push(Label {
            span: pool.span,
            message: format!("{} built here", pool.api),
        });
    }
    finding
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
