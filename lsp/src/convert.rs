//! Between the analyzer's byte offsets and LSP positions (a line and a UTF-16 code unit column),
//! and from findings to LSP diagnostics.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as the specification says. A position past the end
//! of its line means the end of that line, one past the last line the end of the text; an
//! offset inside a character (or a position inside a surrogate pair) moves back to the
//! character's start. Nothing here can fail on what a client sends.

use connlint_rules::analyzer::{Problem, Span};
use connlint_rules::{find_rule, Finding, Severity, UNUSED_SUPPRESSION};
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Position, Range, Uri,
};

pub(crate) const SOURCE: &str = "connlint";

/// Where the lines of one text start.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of each line's first character.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { text, starts }
    }

    /// The text of line `line` (0-based) without its line break, and where it starts.
    fn line(&self, line: usize) -> (usize, &'a str) {
        let start = self.starts[line];
        let end = match self.starts.get(line + 1) {
            Some(&next) => {
                let brk = &self.text.as_bytes()[..next];
                if brk.ends_with(b"\r\n") {
                    next - 2
                } else {
                    next - 1
                }
            }
            None => self.text.len(),
        };
        (start, &self.text[start..end])
    }

    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let (start, content) = self.line(line);
        // Ex) an offset on the `\n` of `\r\n`: the end of the line.
        let within = (offset - start).min(content.len());
        let character: usize = content[..within].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// The byte offset of a position, clamped to the text.
    pub fn offset(&self, position: Position) -> usize {
        let line = position.line as usize;
        if line >= self.starts.len() {
            return self.text.len();
        }
        let (start, content) = self.line(line);
        let mut units = 0usize;
        for (i, c) in content.char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
            // Ex) a position between the two halves of a surrogate pair: the character's start.
            if units > position.character as usize {
                return start + i;
            }
        }
        start + content.len()
    }

    /// The byte range of a range, each end clamped, start before end.
    pub fn span(&self, range: Range) -> (usize, usize) {
        let start = self.offset(range.start);
        let end = self.offset(range.end);
        (start.min(end), start.max(end))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The diagnostics of one file: its findings, the suppression comments that silenced nothing
/// (as faded hints), and what kept parts of it from being analysed.
pub(crate) fn diagnostics(
    index: &LineIndex,
    uri: &Uri,
    findings: &[Finding],
    unused_suppressions: &[Finding],
    problems: &[Problem],
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = findings
        .iter()
        .chain(unused_suppressions)
        .map(|finding| diagnostic(index, uri, finding))
        .collect();
    for problem in problems {
        let range = match problem.span {
            Some(span) => index.range(span),
            None => Range::default(),
        };
        out.push(Diagnostic {
            range,
            severity: Some(DiagnosticSeverity::INFORMATION),
            source: Some(SOURCE.into()),
            message: format!("{} (connlint could not analyse this part)", problem.message),
            ..Diagnostic::default()
        });
    }
    out
}

pub(crate) fn diagnostic(index: &LineIndex, uri: &Uri, finding: &Finding) -> Diagnostic {
    let range = index.range(finding.span);
    let mut related = Vec::new();
    if !finding.primary_label.is_empty() {
        related.push(DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), range),
            message: finding.primary_label.clone(),
        });
    }
    for label in &finding.labels {
        related.push(DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), index.range(label.span)),
            message: label.message.clone(),
        });
    }
    let unused = finding.code == UNUSED_SUPPRESSION;
    let severity = if unused {
        DiagnosticSeverity::HINT
    } else {
        match finding.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }
    };
    let message = if finding.help.is_empty() {
        finding.message.clone()
    } else {
        format!("{}\nhelp: {}", finding.message, finding.help)
    };
    Diagnostic {
        range,
        severity: Some(severity),
        code: Some(NumberOrString::String(finding.code.to_string())),
        source: Some(SOURCE.into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: unused.then(|| vec![DiagnosticTag::UNNECESSARY]),
        ..Diagnostic::default()
    }
}

/// The Markdown shown when hovering over findings: each one's message, then its rule's docs.
pub(crate) fn hover_text(findings: &[&Finding]) -> String {
    let mut parts = Vec::new();
    for finding in findings {
        let mut text = format!(
            "**{}** `{}`: {}",
            finding.code, finding.name, finding.message
        );
        if !finding.help.is_empty() {
            text.push_str(&format!("\n\nhelp: {}", finding.help));
        }
        if let Some(rule) = find_rule(finding.code) {
            text.push_str("\n\n---\n\n");
            text.push_str(&rule.meta().docs());
        }
        parts.push(text);
    }
    parts.join("\n\n---\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_every_line_break() {
        // 'é' is 2 bytes and 1 unit; '😀' is 4 bytes and 2 units.
        let text = "aé😀b\r\nx\ry\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), Position::new(0, 0));
        assert_eq!(index.position(3), Position::new(0, 2));
        assert_eq!(index.position(7), Position::new(0, 4));
        // Inside the emoji: back to its start.
        assert_eq!(index.position(5), Position::new(0, 2));
        // The `\n` of `\r\n` is still the end of line 0.
        assert_eq!(index.position(9), Position::new(0, 5));
        assert_eq!(index.position(10), Position::new(1, 0));
        assert_eq!(index.position(12), Position::new(2, 0));
        assert_eq!(index.position(999), Position::new(3, 0));

        assert_eq!(index.offset(Position::new(0, 4)), 7);
        assert_eq!(index.offset(Position::new(0, 3)), 3);
        assert_eq!(index.offset(Position::new(0, 99)), 8);
        assert_eq!(index.offset(Position::new(1, 1)), 11);
        assert_eq!(index.offset(Position::new(99, 0)), text.len());
        for offset in [0, 1, 3, 7, 8, 10, 12, 14] {
            assert_eq!(index.offset(index.position(offset)), offset, "{offset}");
        }
    }
}
