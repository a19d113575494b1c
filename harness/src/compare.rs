//! Static findings against runtime verdicts, per function and per kind of leak.
//!
//! A function's runtime verdict is a set of leak classes: `normal` (a connection was still
//! checked out or open when the function returned: CL001, CL008), `exception` (only when it
//! raised: CL002), `finalizer` (given back only by a `__del__`/weakref.finalize: CL003) and
//! `per_call_pool` (every one of several calls in one process built a pool it did not hand over
//! and opened server connections through it, more in all than that pool's maximum: CL005). Each
//! class is compared on its own: static and runtime agree (confirmed), the
//! static finding has no runtime leak (refuted), or the runtime leak has no static finding
//! (missed). A disagreement is accepted only when the corpus records it (`expect-spurious` on
//! the finding's line, `expect-missing` inside the function) or when
//! harness/known-runtime-limits.toml lists it; anything else fails the run.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::corpus::{AnnKind, Annotation, Finding, Limit};
use crate::driver::{FnInfo, FnResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Normal,
    Exception,
    Finalizer,
    Deadlock,
    Starvation,
    PerCallPool,
}

pub const CLASSES: [Class; 6] = [
    Class::Normal,
    Class::Exception,
    Class::Finalizer,
    Class::Deadlock,
    Class::Starvation,
    Class::PerCallPool,
];

impl Class {
    fn describe(self) -> &'static str {
        match self {
            Class::Normal => "leak at a normal exit",
            Class::Exception => "leak on exception",
            Class::Finalizer => "release by a finalizer",
            Class::Deadlock => "deadlock on a pool of one (nested acquire)",
            Class::Starvation => "starvation (connection held across an await)",
            Class::PerCallPool => {
                "pool built per call (more server connections than the pool's maximum)"
            }
        }
    }
    fn codes(self) -> &'static [&'static str] {
        match self {
            Class::Normal => &["CL001", "CL008", "CL009"],
            Class::Exception => &["CL002"],
            Class::Finalizer => &["CL003"],
            Class::Deadlock => &["CL007"],
            Class::Starvation => &["CL006"],
            Class::PerCallPool => &["CL005"],
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Class::Normal => "normal",
            Class::Exception => "exception",
            Class::Finalizer => "finalizer",
            Class::Deadlock => "deadlock",
            Class::Starvation => "starvation",
            Class::PerCallPool => "per_call_pool",
        }
    }
    fn from_name(name: &str) -> Option<Class> {
        CLASSES.into_iter().find(|c| c.name() == name)
    }
}

/// What the harness can say about a rule's findings.
pub enum CodeKind {
    Leak(Class),
    /// Pool configuration: nothing to observe in one call.
    Config,
    Unknown,
}

pub fn code_kind(code: &str) -> CodeKind {
    match code {
        "CL001" | "CL008" => CodeKind::Leak(Class::Normal),
        "CL002" => CodeKind::Leak(Class::Exception),
        "CL003" => CodeKind::Leak(Class::Finalizer),
        // A forgotten connection (mem::forget, leak()) is never given back: a leak at a normal
        // exit, seen as a connection still checked out after the call.
        "CL009" => CodeKind::Leak(Class::Normal),
        "CL007" => CodeKind::Leak(Class::Deadlock),
        "CL006" => CodeKind::Leak(Class::Starvation),
        // A pool built on every call: several calls in one process each build one and open
        // server connections through it.
        "CL005" => CodeKind::Leak(Class::PerCallPool),
        "CL004" | "CL010" | "CL011" => CodeKind::Config,
        _ => CodeKind::Unknown,
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub confirmed: u32,
    pub refuted: u32,
    pub missed: u32,
    pub errors: u32,
    pub agreed_clean: u32,
    pub accepted: u32,
    pub unaccepted: u32,
    pub skipped_functions: u32,
    pub skipped_files: u32,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.confirmed += o.confirmed;
        self.refuted += o.refuted;
        self.missed += o.missed;
        self.errors += o.errors;
        self.agreed_clean += o.agreed_clean;
        self.accepted += o.accepted;
        self.unaccepted += o.unaccepted;
        self.skipped_functions += o.skipped_functions;
        self.skipped_files += o.skipped_files;
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub file: String,
    pub function: String,
    pub line: Option<u32>,
    /// e.g. "CL001:13"
    pub static_codes: Vec<String>,
    pub runtime: String,
    pub outcome: String,
    /// True when this row fails the run.
    pub failing: bool,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<FnResult>,
    #[serde(skip)]
    pub counts: Counts,
}

impl Row {
    pub fn new(file: &str, function: &str) -> Row {
        Row {
            file: file.to_string(),
            function: function.to_string(),
            line: None,
            static_codes: vec![],
            runtime: String::new(),
            outcome: String::new(),
            failing: false,
            notes: vec![],
            result: None,
            counts: Counts::default(),
        }
    }

    pub fn error(file: &str, function: &str, message: String) -> Row {
        let mut row = Row::new(file, function);
        row.runtime = "error".into();
        row.outcome = format!("error: {message}");
        row.failing = true;
        row.counts.errors = 1;
        row
    }
}

fn codes_of(findings: &[&Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{}:{}", f.code, f.line))
        .collect()
}

pub fn runtime_label(result: &FnResult) -> String {
    match result.verdict.as_str() {
        "error" => "error".into(),
        _ if result.classes.is_empty() => "clean".into(),
        _ => result
            .classes
            .iter()
            .map(|c| match c.as_str() {
                "normal" => "leak: normal exit",
                "exception" => "leak: on exception",
                "finalizer" => "finalizer-only release",
                "deadlock" => "deadlock on a pool of one",
                "starvation" => "starvation",
                "per_call_pool" => "pool built per call",
                other => other,
            })
            .collect::<Vec<_>>()
            .join(" + "),
    }
}

/// Short human notes from the runs: callee leaks, hand-overs, what raised.
fn run_notes(result: &FnResult) -> Vec<String> {
    let mut notes = BTreeSet::new();
    for run in &result.runs {
        let label = match run.get("fault_at").and_then(|v| v.as_u64()) {
            Some(i) => format!("fault at statement {i}"),
            None => "normal run".to_string(),
        };
        let exit = run.get("exit").and_then(|v| v.as_str()).unwrap_or("?");
        let exc = run.get("exception").and_then(|v| v.as_str()).unwrap_or("");
        let leaks = run
            .get("leaks")
            .and_then(|v| v.as_array())
            .map(Vec::len)
            .unwrap_or(0);
        if leaks > 0 {
            let lines: BTreeSet<String> = run["leaks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    l.get("line")
                        .and_then(|v| v.as_u64())
                        .map(|n| n.to_string())
                        .unwrap_or("?".into())
                })
                .collect();
            let how = if exit == "return" {
                "returned".to_string()
            } else {
                format!("raised {exc}")
            };
            notes.insert(format!(
                "{label}: {how}; {leaks} connection(s) left checked out/open (acquired at line {})",
                lines.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        let fin = run
            .get("released_by_finalizer")
            .and_then(|v| v.as_array())
            .map(Vec::len)
            .unwrap_or(0);
        if fin > 0 {
            let how = if exit == "return" {
                "returned".to_string()
            } else {
                format!("raised {exc}")
            };
            notes.insert(format!("{label}: {how}; {fin} connection(s) given back only by a finalizer (__del__/weakref.finalize)"));
        }
        for callee in run
            .get("leaks_in_callees")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let owner = callee.get("owner").and_then(|v| v.as_str()).unwrap_or("?");
            notes.insert(format!(
                "{label}: a leak owned by `{owner}` (its own verdict covers it)"
            ));
        }
        // The Rust runner describes each run itself.
        if let (Some(kind), Some(note)) = (
            run.get("kind").and_then(|v| v.as_str()),
            run.get("note").and_then(|v| v.as_str()),
        ) {
            let what = run.get("exception").and_then(|v| v.as_str()).unwrap_or("");
            let at = match run.get("fault_at").and_then(|v| v.as_u64()) {
                Some(i) => format!(" (fault at statement {i})"),
                None => String::new(),
            };
            let text = [note, what]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            if !text.is_empty() {
                notes.insert(format!("{kind} run{at}: {text}"));
            }
        }
        if run.get("transferred").and_then(|v| v.as_u64()).unwrap_or(0) > 0
            && run.get("fault_at").is_none_or(|v| v.is_null())
        {
            notes.insert("normal run: checked-out connection(s) handed to the caller (returned, yielded, or stored)".into());
        }
    }
    notes.into_iter().collect()
}

fn in_range(a: &Annotation, info: &FnInfo) -> bool {
    a.line >= info.line && a.line <= info.end_line
}

/// Compares one function that the driver ran.
pub fn compare_function(
    file: &str,
    info: &FnInfo,
    result: Option<&FnResult>,
    findings: &[&Finding],
    annotations: &[Annotation],
    limits: &[Limit],
    used_limits: &mut BTreeSet<usize>,
) -> Row {
    let mut row = Row::new(file, &info.name);
    row.line = Some(info.line);
    row.static_codes = codes_of(findings);
    if info.status != "run" {
        row.runtime = "not run".into();
        let why = info.reason.clone().unwrap_or_else(|| info.status.clone());
        row.outcome = format!("skipped: {why}");
        row.counts.skipped_functions = 1;
        return row;
    }
    let Some(result) = result else {
        return Row {
            line: Some(info.line),
            static_codes: codes_of(findings),
            ..Row::error(file, &info.name, "no result from the driver".into())
        };
    };
    row.result = Some(result.clone());
    row.runtime = runtime_label(result);
    row.notes = run_notes(result);
    if result.verdict == "error" {
        row.outcome = format!("error: {}", result.error.clone().unwrap_or_default());
        row.failing = true;
        row.counts.errors = 1;
        return row;
    }
    let measured: BTreeSet<Class> = result
        .measured
        .iter()
        .filter_map(|c| Class::from_name(c))
        .collect();
    let mut by_class: BTreeMap<Class, Vec<&Finding>> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in findings {
        match code_kind(&f.code) {
            CodeKind::Leak(c) if measured.contains(&c) => by_class.entry(c).or_default().push(f),
            CodeKind::Leak(c) => problems.push(format!(
                "{} (line {}) needs the runtime verdict `{}`, which this runtime does not produce",
                f.code,
                f.line,
                c.describe()
            )),
            CodeKind::Config => row.notes.push(format!(
                "{} is a configuration rule: not confirmable in a call",
                f.code
            )),
            CodeKind::Unknown => problems.push(format!(
                "{} (line {}) is not a code the harness knows",
                f.code, f.line
            )),
        }
    }
    let runtime: BTreeSet<Class> = result
        .classes
        .iter()
        .filter_map(|c| Class::from_name(c))
        .collect();
    let mut parts = Vec::new();
    for class in CLASSES.into_iter().filter(|c| measured.contains(c)) {
        let s = by_class.get(&class);
        let r = runtime.contains(&class);
        match (s, r) {
            (Some(fs), true) => {
                row.counts.confirmed += 1;
                parts.push("confirmed".to_string());
                for f in fs {
                    if annotations.iter().any(|a| {
                        a.kind == AnnKind::Spurious && a.line == f.line && a.code == f.code
                    }) {
                        row.notes.push(format!(
                            "{} at line {} is annotated expect-spurious, but the runtime confirms the leak: the annotation looks wrong",
                            f.code, f.line
                        ));
                    }
                }
            }
            (Some(fs), false) => {
                row.counts.refuted += 1;
                let annotated = fs.iter().all(|f| {
                    annotations.iter().any(|a| {
                        a.kind == AnnKind::Spurious && a.line == f.line && a.code == f.code
                    })
                });
                let limit = limits.iter().position(|l| {
                    l.file == file && l.function == info.name && fs.iter().any(|f| f.code == l.code)
                });
                let codes: Vec<&str> = fs.iter().map(|f| f.code.as_str()).collect();
                let what = format!(
                    "refuted {} (runtime: no {})",
                    codes.join(","),
                    class.describe()
                );
                if annotated {
                    row.counts.accepted += 1;
                    parts.push(format!("{what}, accepted: expect-spurious"));
                } else if let Some(i) = limit {
                    used_limits.insert(i);
                    row.counts.accepted += 1;
                    parts.push(format!("{what}, accepted: known runtime limit"));
                    row.notes
                        .push(format!("known runtime limit: {}", limits[i].reason.trim()));
                } else {
                    row.counts.unaccepted += 1;
                    row.failing = true;
                    parts.push(format!("{what} — NOT ACCEPTED"));
                }
            }
            (None, true) => {
                row.counts.missed += 1;
                let class_codes = class.codes();
                let annotated = annotations.iter().any(|a| {
                    a.kind == AnnKind::Missing
                        && in_range(a, info)
                        && class_codes.contains(&a.code.as_str())
                });
                let limit = limits.iter().position(|l| {
                    l.file == file
                        && l.function == info.name
                        && class_codes.contains(&l.code.as_str())
                });
                let what = format!("missed ({}, no static finding)", class.describe());
                if annotated {
                    row.counts.accepted += 1;
                    parts.push(format!("{what}, accepted: expect-missing"));
                } else if let Some(i) = limit {
                    used_limits.insert(i);
                    row.counts.accepted += 1;
                    parts.push(format!("{what}, accepted: known runtime limit"));
                    row.notes
                        .push(format!("known runtime limit: {}", limits[i].reason.trim()));
                } else {
                    row.counts.unaccepted += 1;
                    row.failing = true;
                    parts.push(format!("{what} — NOT ACCEPTED"));
                }
            }
            (None, false) => {
                let class_codes = class.codes();
                if let Some(a) = annotations.iter().find(|a| {
                    a.kind == AnnKind::Missing
                        && in_range(a, info)
                        && class_codes.contains(&a.code.as_str())
                }) {
                    row.notes.push(format!(
                        "line {} is annotated expect-missing: {}, but the runtime saw no {}",
                        a.line,
                        a.code,
                        class.describe()
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        row.counts.errors += problems.len() as u32;
        row.failing = true;
        parts.extend(problems.into_iter().map(|p| format!("error: {p}")));
    }
    if parts.is_empty() {
        row.counts.agreed_clean = 1;
        parts.push("agreed clean".into());
    }
    row.outcome = parts.join("; ");
    row
}

/// Findings in a file that belong to no function the driver listed (nested functions, lambdas,
/// module level): reported, not compared.
pub fn unmatched_findings(file: &str, findings: &[&Finding], functions: &[FnInfo]) -> Vec<Row> {
    let names: BTreeSet<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    let mut by_fn: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        let name = f.function.clone().unwrap_or_else(|| "<module>".into());
        if !names.contains(name.as_str()) {
            by_fn.entry(name).or_default().push(f);
        }
    }
    by_fn
        .into_iter()
        .map(|(name, fs)| {
            let mut row = Row::new(file, &name);
            row.line = fs.first().map(|f| f.line);
            row.static_codes = codes_of(&fs);
            row.runtime = "not run".into();
            row.outcome =
                "skipped: not a top-level function or a method of a top-level class".into();
            row.counts.skipped_functions = 1;
            row
        })
        .collect()
}
