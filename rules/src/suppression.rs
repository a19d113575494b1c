//! Suppression comments: `# connlint: ignore[CL001]` (or `// connlint: ignore[CL001]`) on the
//! finding's line or alone on the line above; `ignore` without codes silences every rule.

use connlint_analyzer::Span;

/// One suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// 1-based line the comment is on.
    pub line: u32,
    /// The lines it silences (its own, and the next when it stands alone).
    pub applies_to: (u32, u32),
    /// Empty: every code.
    pub codes: Vec<String>,
    pub span: Span,
}

impl Suppression {
    pub fn covers(&self, line: u32, code: &str) -> bool {
        (line == self.applies_to.0 || line == self.applies_to.1)
            && (self.codes.is_empty() || self.codes.iter().any(|c| c.eq_ignore_ascii_case(code)))
    }
}

const MARKER: &str = "connlint: ignore";

/// Every suppression comment in a text.
pub fn suppressions(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i as u32 + 1;
        if let Some(pos) = line.find(MARKER) {
            let before = &line[..pos];
            let is_comment = before.trim_end().ends_with('#') || before.trim_end().ends_with("//");
            if is_comment {
                let rest = &line[pos + MARKER.len()..];
                let codes =
                    if let Some(inner) = rest.strip_prefix('[').and_then(|r| r.split(']').next()) {
                        inner
                            .split(',')
                            .map(|c| c.trim().to_string())
                            .filter(|c| !c.is_empty())
                            .collect()
                    } else {
                        Vec::new()
                    };
                // Nothing but the comment marker before it: the comment stands alone.
                let alone = matches!(before.trim(), "#" | "//");
                out.push(Suppression {
                    line: line_no,
                    applies_to: (line_no, if alone { line_no + 1 } else { line_no }),
                    codes,
                    span: Span::new(offset + pos, offset + line.len()),
                });
            }
        }
        offset += line.len() + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_and_standalone_comments() {
        let text =
            "a = 1  # connlint: ignore[CL001, CL002]\n# connlint: ignore\nb = 2\nc = 3 # note\n";
        let s = suppressions(text);
        assert_eq!(s.len(), 2);
        assert!(s[0].covers(1, "CL001") && s[0].covers(1, "cl002") && !s[0].covers(1, "CL008"));
        assert!(!s[0].covers(2, "CL001"));
        assert!(s[1].covers(3, "CL008") && s[1].covers(2, "CL001"));
        assert!(!s[1].covers(4, "CL001"));
    }

    #[test]
    fn the_marker_inside_a_string_is_not_a_comment() {
        assert!(suppressions("x = 'connlint: ignore'\n").is_empty());
    }
}
