//! The JSON format (DESIGN.md section 7), pretty-printed, one document per run:
//!
//! ```json
//! {"version": "0.1.0",
//!  "findings": [{"code", "name", "severity", "path", "line", "column", "end_line", "end_column",
//!                "message", "function", "labels": [{"path", "line", "column", "message"}], "help"}],
//!  "problems": [{"path", "message"}],
//!  "files": 12}
//! ```
//!
//! Lines and columns are 1-based; columns count Unicode scalar values; `end_line`/`end_column`
//! is the position just after the primary span (exclusive end).

use std::io::{self, Write};

use connlint_analyzer::LineIndex;
use serde::Serialize;

use crate::report::Report;

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    findings: Findings<'a>,
    problems: Vec<JsonProblem<'a>>,
    files: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    name: &'a str,
    severity: &'static str,
    path: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
    function: &'a str,
    labels: Vec<JsonLabel<'a>>,
    help: &'a str,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    path: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    path: &'a str,
    message: &'a str,
}

pub(crate) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        version: env!("CARGO_PKG_VERSION"),
        findings: Findings(report),
        problems: report
            .problems
            .iter()
            .map(|p| JsonProblem {
                path: &p.path,
                message: &p.message,
            })
            .collect(),
        files: report.files_checked,
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Every finding of the report, built one at a time as it is written: a dense tree's 37,000
/// findings as one list of entries took 8 MB at the run's peak.
struct Findings<'a>(&'a Report);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let report = self.0;
        let mut seq = serializer.serialize_seq(Some(report.finding_count()))?;
        for file in &report.files {
            let index = LineIndex::new(&file.text);
            for finding in &file.findings {
                let start = index.line_col(finding.span.start);
                let end = index.line_col(finding.span.end.max(finding.span.start));
                seq.serialize_element(&JsonFinding {
                    code: finding.code,
                    name: finding.name,
                    severity: finding.severity.as_str(),
                    path: &file.path,
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    message: &finding.message,
                    function: &finding.function,
                    labels: finding
                        .labels
                        .iter()
                        .map(|label| {
                            let at = index.line_col(label.span.start);
                            JsonLabel {
                                path: &file.path,
                                line: at.line,
                                column: at.column,
                                message: &label.message,
                            }
                        })
                        .collect(),
                    help: &finding.help,
                })?;
            }
        }
        seq.end()
    }
}
