//! The human format: one miette graphical report per finding on stdout; problems and a
//! summary line on stderr.

use std::fmt;
use std::io::{self, Write};

use connlint_analyzer::Span;
use connlint_rules::{Finding, Severity};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use crate::report::Report;

/// Reports are wrapped at this width, on a terminal or not, so output does not depend on
/// where it is printed.
const WIDTH: usize = 100;

fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false)
        .without_syntax_highlighting()
}

/// Every finding of one file, each followed by an empty line.
pub(crate) fn render_file(path: &str, text: &str, findings: &[Finding], color: bool) -> String {
    let handler = handler(color);
    let source = FileSource::new(path, text);
    let mut out = String::new();
    for finding in findings {
        let diagnostic = FindingDiagnostic {
            finding,
            source: &source,
        };
        let mut rendered = String::new();
        if handler.render_report(&mut rendered, &diagnostic).is_err() {
            // Not expected (spans are clamped to the text); never lose the finding over it.
            let at = connlint_analyzer::LineIndex::new(text).line_col(finding.span.start);
            rendered = format!("{diagnostic}\n  at {path}:{}:{}\n", at.line, at.column);
        }
        out.push_str(&rendered);
        out.push('\n');
    }
    out
}

/// An error of the binary (bad configuration, missing path), as miette shows it.
pub(crate) fn render_error(diagnostic: &dyn Diagnostic, color: bool) -> String {
    let mut out = String::new();
    if handler(color).render_report(&mut out, diagnostic).is_err() {
        out = format!("error: {diagnostic}\n");
    }
    out
}

/// The findings, to stdout.
pub(crate) fn write_findings(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    for file in &report.files {
        out.write_all(render_file(&file.path, &file.text, &file.findings, color).as_bytes())?;
    }
    out.flush()
}

/// The problems, each a warning line.
fn write_problems(report: &Report, err: &mut dyn Write, color: bool) -> io::Result<()> {
    let warning = if color {
        "\x1b[1;33mwarning\x1b[0m"
    } else {
        "warning"
    };
    for problem in &report.problems {
        writeln!(err, "{warning}: {}: {}", problem.path, problem.message)?;
    }
    Ok(())
}

/// After `--write-baseline`: the problems and what was written, to stderr.
pub(crate) fn write_baseline_written(
    report: &Report,
    count: usize,
    path: &std::path::Path,
    err: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    write_problems(report, err, color)?;
    writeln!(
        err,
        "Wrote {} to the baseline {} ({} checked).",
        plural(count, "finding"),
        path.display(),
        plural(report.files_checked, "file"),
    )?;
    err.flush()
}

/// The problems and the summary line, to stderr.
pub(crate) fn write_footer(report: &Report, err: &mut dyn Write, color: bool) -> io::Result<()> {
    write_problems(report, err, color)?;
    let checked = plural(report.files_checked, "file");
    let problems = match report.problems.len() {
        0 => String::new(),
        n => format!(", {}", plural(n, "problem")),
    };
    let baselined = match report.baseline {
        Some(outcome) if outcome.matched > 0 => format!(", {} baselined", outcome.matched),
        _ => String::new(),
    };
    let count = report.finding_count();
    if count == 0 {
        writeln!(err, "No findings ({checked} checked{problems}{baselined}).")?;
    } else {
        let files = plural(report.files.len(), "file");
        writeln!(
            err,
            "Found {} in {files} ({checked} checked{problems}{baselined}).",
            plural(count, "finding")
        )?;
    }
    if let Some(line) = fixed_baseline_line(report) {
        writeln!(err, "{line}")?;
    }
    err.flush()
}

/// With `--baseline`, when some of its entries match nothing any more: the line that says so.
/// Every format prints it on stderr.
pub(crate) fn fixed_baseline_line(report: &Report) -> Option<String> {
    match report.baseline?.fixed {
        0 => None,
        1 => Some("1 baseline entry is fixed; rewrite the baseline to drop it".into()),
        n => Some(format!(
            "{n} baseline entries are fixed; rewrite the baseline to drop them"
        )),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One finding as a miette diagnostic.
struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    source: &'a FileSource<'a>,
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let finding = self.finding;
        // Ex) `unused-suppression`, whose code is its name.
        if finding.code == finding.name {
            return write!(f, "{}: {}", finding.code, finding.message);
        }
        write!(f, "{} {}: {}", finding.code, finding.name, finding.message)
    }
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.finding, f)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help = &self.finding.help;
        (!help.is_empty()).then(|| Box::new(help) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let finding = self.finding;
        let text = self.source.text;
        let primary = (!finding.primary_label.is_empty()).then(|| finding.primary_label.clone());
        let primary = LabeledSpan::new_primary_with_span(primary, clamp(text, finding.span));
        let secondary = finding.labels.iter().map(move |label| {
            LabeledSpan::new_with_span(Some(label.message.clone()), clamp(text, label.span))
        });
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

/// A span cut to the text and widened to character boundaries, so no label can point outside
/// the source or into the middle of a character.
fn clamp(text: &str, span: Span) -> SourceSpan {
    let len = text.len();
    let mut start = (span.start as usize).min(len);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (span.end as usize).clamp(start, len);
    while !text.is_char_boundary(end) {
        end += 1;
    }
    SourceSpan::new(start.into(), end - start)
}

/// A file's text for miette. miette's own `str` source scans from the start of the text for
/// every label, which is quadratic on a large file with many findings; this one finds the
/// lines around a label by binary search and hands miette only that window, then shifts the
/// result back, so the output is the same.
struct FileSource<'a> {
    name: &'a str,
    text: &'a str,
    /// Where each line starts, with miette's idea of a line break: `\n`, `\r\n` or `\r`.
    line_starts: Vec<usize>,
}

impl<'a> FileSource<'a> {
    fn new(name: &'a str, text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    i += 2;
                    line_starts.push(i);
                }
                b'\r' | b'\n' => {
                    i += 1;
                    line_starts.push(i);
                }
                _ => i += 1,
            }
        }
        FileSource {
            name,
            text,
            line_starts,
        }
    }

    /// The 0-based line that contains byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }
}

impl SourceCode for FileSource<'_> {
    fn read_span<'s>(
        &'s self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'s> + 's>, MietteError> {
        let start = span.offset();
        let end = start.saturating_add(span.len());
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        // One line of slack on each side: miette decides itself where the context stops.
        let first = self
            .line_of(start)
            .saturating_sub(context_lines_before.saturating_add(1));
        let last = self
            .line_of(end.saturating_sub(1).max(start))
            .saturating_add(context_lines_after)
            .saturating_add(2);
        let window_start = self.line_starts[first];
        let window_end = self
            .line_starts
            .get(last.saturating_add(1))
            .copied()
            .unwrap_or(self.text.len());
        let window: &'s [u8] = &self.text.as_bytes()[window_start..window_end];
        let inner_span = SourceSpan::new((start - window_start).into(), span.len());
        let inner = window.read_span(&inner_span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + window_start).into(),
                inner.span().len(),
            ),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The windowed source must answer exactly as miette's own `str` source does.
    #[test]
    fn windowed_source_agrees_with_miettes_str_source() {
        let texts = [
            "a\nbb\nccc\n\ndddd\neeeee\nf",
            "one\r\ntwo\r\n\r\nthree\rfour\n\nfive\n",
            "x",
            "",
            "\n\n\n\n",
            "déjà vu\nçà\n\tindent\n",
        ];
        for text in texts {
            let source = FileSource::new("f.py", text);
            for start in 0..=text.len() {
                for len in 0..=(text.len() - start).min(12) {
                    for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                        let span = SourceSpan::new(start.into(), len);
                        let ours = source.read_span(&span, before, after);
                        let theirs = text.read_span(&span, before, after);
                        match (ours, theirs) {
                            (Ok(o), Ok(t)) => {
                                let ctx = format!("{text:?} {start}+{len} ({before},{after})");
                                assert_eq!(o.data(), t.data(), "{ctx}");
                                assert_eq!(o.span(), t.span(), "{ctx}");
                                assert_eq!(o.line(), t.line(), "{ctx}");
                                assert_eq!(o.column(), t.column(), "{ctx}");
                                assert_eq!(o.line_count(), t.line_count(), "{ctx}");
                                assert_eq!(o.name(), Some("f.py"));
                            }
                            (Err(_), Err(_)) => {}
                            (o, t) => panic!(
                                "{text:?} {start}+{len}: ours {:?}, miette's {:?}",
                                o.is_ok(),
                                t.is_ok()
                            ),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn clamp_keeps_spans_inside_the_text_and_on_character_boundaries() {
        let text = "é = 1";
        assert_eq!(
            clamp(text, Span { start: 1, end: 1 }),
            SourceSpan::new(0.into(), 2)
        );
        assert_eq!(
            clamp(text, Span { start: 0, end: 1 }),
            SourceSpan::new(0.into(), 2)
        );
        assert_eq!(
            clamp(text, Span { start: 50, end: 90 }),
            SourceSpan::new(6.into(), 0)
        );
        assert_eq!(
            clamp(text, Span { start: 3, end: 1 }),
            SourceSpan::new(3.into(), 0)
        );
    }
}
