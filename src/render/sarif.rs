//! The SARIF 2.1.0 format, for code scanning: one run whose driver lists every rule (with its
//! documentation as `help`), one result per finding, and the problems as tool execution
//! notifications.
//!
//! - Locations are 1-based with exclusive end columns, counted in Unicode code points
//!   (`columnKind: unicodeCodePoints`), the same numbers as the JSON format; the primary label
//!   is the location's message, the other labels are `relatedLocations`.
//! - URIs are the reported paths: relative ones (to the directory connlint ran in, normally the
//!   repository root, which is what code scanning expects) as relative references, absolute
//!   ones as `file://` URIs.
//! - `partialFingerprints["connlint/v1"]` is the fingerprint of [`crate::fingerprint`]: it
//!   does not change when lines are added or removed elsewhere in the file.

use std::io::{self, Write};

use connlint_analyzer::{LineIndex, Span};
use connlint_rules::{all_rules, Finding, RuleMeta, Severity, UNUSED_SUPPRESSION};
use serde_json::{json, Value};

use crate::fingerprint::SARIF_KEY;
use crate::report::Report;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where the SARIF viewer sends people to learn about connlint: the package's repository when
/// Cargo.toml names one, else the package's page on the registry it is published to.
const INFORMATION_URI: &str = if env!("CARGO_PKG_REPOSITORY").is_empty() {
    "https://crates.io/crates/connlint"
} else {
    env!("CARGO_PKG_REPOSITORY")
};

pub(crate) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let document = document(report);
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn document(report: &Report) -> Value {
    let mut rules: Vec<Value> = all_rules()
        .iter()
        .map(|rule| descriptor(rule.meta()))
        .collect();
    let rule_count = rules.len();
    let has_unused = report
        .files
        .iter()
        .any(|f| f.findings.iter().any(|x| x.code == UNUSED_SUPPRESSION));
    if has_unused {
        rules.push(unused_suppression_descriptor());
    }
    let rule_index = |code: &str| -> usize {
        if code == UNUSED_SUPPRESSION {
            return rule_count;
        }
        all_rules()
            .iter()
            .position(|rule| rule.meta().code == code)
            .unwrap_or(0)
    };

    let mut results = Vec::with_capacity(report.finding_count());
    for (i, file) in report.files.iter().enumerate() {
        let index = LineIndex::new(&file.text);
        let uri = uri(&file.path);
        let prints = report.fingerprints(i);
        for (finding, fingerprint) in file.findings.iter().zip(prints.iter()) {
            results.push(result(
                finding,
                &uri,
                &index,
                fingerprint,
                rule_index(finding.code),
            ));
        }
    }

    let notifications: Vec<Value> = report
        .problems
        .iter()
        .map(|problem| {
            let mut notification = json!({
                "level": "warning",
                "message": {"text": problem.message},
            });
            if !problem.path.is_empty() {
                notification["locations"] = json!([{
                    "physicalLocation": {"artifactLocation": {"uri": uri(&problem.path)}},
                }]);
            }
            notification
        })
        .collect();

    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "connlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                },
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A rule's `reportingDescriptor`: its summary, the "What it does" and "Why is this bad?"
/// sections as the full description, and its whole documentation as help.
fn descriptor(meta: &RuleMeta) -> Value {
    let docs = meta.docs();
    let full = [
        section(&docs, "What it does"),
        section(&docs, "Why is this bad?"),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join("\n\n");
    json!({
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary()},
        "fullDescription": {"text": if full.is_empty() { meta.summary() } else { full }},
        "help": {"text": docs, "markdown": docs},
        "defaultConfiguration": {
            "level": level(meta.severity),
            "enabled": meta.default_enabled,
        },
    })
}

fn unused_suppression_descriptor() -> Value {
    let short = "Checks for `# connlint: ignore` comments that silence nothing.";
    let why = "A suppression that silences nothing is left over from code that changed; it \
               would silently hide the next real finding on its line. Reported with \
               `--report-unused-suppressions`.";
    let markdown = format!("## What it does\n{short}\n\n## Why is this bad?\n{why}\n");
    json!({
        "id": UNUSED_SUPPRESSION,
        "name": UNUSED_SUPPRESSION,
        "shortDescription": {"text": short},
        "fullDescription": {"text": format!("{short}\n\n{why}")},
        "help": {"text": markdown, "markdown": markdown},
        "defaultConfiguration": {"level": "warning", "enabled": false},
    })
}

/// The paragraphs under `## heading`, each on one line, up to the next heading or example.
fn section(docs: &str, heading: &str) -> String {
    let marker = format!("## {heading}\n");
    let Some(start) = docs.find(&marker) else {
        return String::new();
    };
    let body = &docs[start + marker.len()..];
    let end = ["\n## ", "\nUse instead:", "\n```"]
        .iter()
        .filter_map(|stop| body.find(stop))
        .min()
        .unwrap_or(body.len());
    body[..end]
        .split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn result(
    finding: &Finding,
    uri: &str,
    index: &LineIndex,
    fingerprint: &str,
    rule_index: usize,
) -> Value {
    let mut primary = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": region(index, finding.span),
        },
    });
    if !finding.primary_label.is_empty() {
        primary["message"] = json!({"text": finding.primary_label});
    }
    if !finding.function.is_empty() {
        primary["logicalLocations"] = json!([{
            "fullyQualifiedName": finding.function,
            "kind": "function",
        }]);
    }
    let related: Vec<Value> = finding
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            json!({
                "id": i + 1,
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": region(index, label.span),
                },
                "message": {"text": label.message},
            })
        })
        .collect();
    let mut result = json!({
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": finding.message},
        "locations": [primary],
        "partialFingerprints": {SARIF_KEY: fingerprint},
    });
    if !related.is_empty() {
        result["relatedLocations"] = Value::Array(related);
    }
    result
}

fn region(index: &LineIndex, span: Span) -> Value {
    let start = index.line_col(span.start);
    let end = index.line_col(span.end.max(span.start));
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column,
    })
}

/// A reported path as a URI reference: `/`-separated and percent-encoded, `file://` for
/// absolute paths.
fn uri(path: &str) -> String {
    let slashed = path.replace('\\', "/");
    let mut out = String::with_capacity(slashed.len() + 8);
    if slashed.starts_with('/') {
        out.push_str("file://");
    }
    for byte in slashed.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_absolute_paths_are_file_uris() {
        assert_eq!(uri("app/db.py"), "app/db.py");
        assert_eq!(uri("my app/déjà.py"), "my%20app/d%C3%A9j%C3%A0.py");
        assert_eq!(uri("/srv/a#b.py"), "file:///srv/a%23b.py");
        assert_eq!(uri("a:b.py"), "a%3Ab.py");
    }

    #[test]
    fn sections_are_cut_at_the_next_heading_or_example() {
        let docs = "## What it does\nChecks for\nthings.\n\nMore.\n\n## Why is this bad?\nBad.\n\n## Example\n```python\nx\n```\n";
        assert_eq!(section(docs, "What it does"), "Checks for things.\n\nMore.");
        assert_eq!(section(docs, "Why is this bad?"), "Bad.");
        assert_eq!(section(docs, "Nope"), "");
    }
}
