//! The GitHub Actions format: one workflow command per finding, which the runner turns into an
//! annotation on the pull request's diff, and one `::warning` per problem.
//!
//! ```text
//! ::error file=app/db.py,line=2,col=12,endLine=2,endColumn=26,title=CL001 connection-not-released::connection from `pool.getconn()` is not released on every path
//! ::warning file=broken.py::line 3, column 5: syntax error: ...
//! ```
//!
//! Positions are those of the JSON format (1-based, exclusive end column). GitHub's escaping
//! applies: `%`, `\r` and `\n` in messages, and also `:` and `,` in property values.

use std::io::{self, Write};

use connlint_analyzer::LineIndex;
use connlint_rules::Severity;

use crate::report::Report;

pub(crate) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for file in &report.files {
        let index = LineIndex::new(&file.text);
        for finding in &file.findings {
            let start = index.line_col(finding.span.start);
            let end = index.line_col(finding.span.end.max(finding.span.start));
            let command = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let title = if finding.code == finding.name {
                finding.code.to_string()
            } else {
                format!("{} {}", finding.code, finding.name)
            };
            writeln!(
                out,
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                property(&file.path),
                start.line,
                start.column,
                end.line,
                end.column,
                property(&title),
                data(&finding.message),
            )?;
        }
    }
    for problem in &report.problems {
        if problem.path.is_empty() {
            writeln!(out, "::warning::{}", data(&problem.message))?;
        } else {
            writeln!(
                out,
                "::warning file={}::{}",
                property(&problem.path),
                data(&problem.message)
            )?;
        }
    }
    out.flush()
}

/// A message, escaped as the runner's command parser expects.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=`, `title=`): a message's escaping, and `:` and `,` too.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(
            data("100% sure\r\nnext: a, b"),
            "100%25 sure%0D%0Anext: a, b"
        );
        assert_eq!(property("a,b:c%d\ne"), "a%2Cb%3Ac%25d%0Ae");
    }
}
