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
    /// From the comment's `#` (or `//`) to the end of the line, trailing blanks aside.
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
    // One search of the whole text instead of one per line: most files have no comment at all,
    // and the language server runs this over every file of a folder on each edit.
    // (memchr's search: the standard library's took 1% of SQLAlchemy's run.)
    if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
        return out;
    }
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
                let trimmed = before.trim_end();
                let start = if trimmed.ends_with("//") {
                    trimmed.len() - 2
                } else {
                    trimmed.len() - 1
                };
                out.push(Suppression {
                    line: line_no,
                    applies_to: (line_no, if alone { line_no + 1 } else { line_no }),
                    codes,
                    span: Span::new(offset + start, offset + line.trim_end().len()),
                });
            }
        }
        offset += line.len() + 1;
    }
    out
}

/// Which parts of one suppression comment silenced a finding in this run.
#[derive(Clone, Debug)]
pub(crate) struct Usage {
    /// `ignore` without codes silenced something.
    any: bool,
    /// Per code of the comment, in order.
    codes: Vec<bool>,
}

/// Why a suppression comment is unused, worded for a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unused {
    pub message: String,
    pub help: String,
}

impl Usage {
    pub fn new(suppression: &Suppression) -> Self {
        Usage {
            any: false,
            codes: vec![false; suppression.codes.len()],
        }
    }

    /// Records a finding of `code` on `line`; true if this comment silences it.
    pub fn record(&mut self, suppression: &Suppression, line: u32, code: &str) -> bool {
        if !suppression.covers(line, code) {
            return false;
        }
        self.any = true;
        for (used, c) in self.codes.iter_mut().zip(&suppression.codes) {
            if c.eq_ignore_ascii_case(code) {
                *used = true;
            }
        }
        true
    }

    /// What to report about the comment, if anything. `is_enabled(code)` says whether the rule
    /// with that code ran (`None`: no rule has that code). Codes of rules that did not run are
    /// never reported: nobody can tell whether they would silence something.
    pub fn unused(
        &self,
        suppression: &Suppression,
        is_enabled: impl Fn(&str) -> Option<bool>,
    ) -> Option<Unused> {
        if suppression.codes.is_empty() {
            // Ex) `# connlint: ignore` above a line that has a finding.
            if self.any {
                return None;
            }
            return Some(Unused {
                message: "suppression comment silences nothing".into(),
                help: "remove the comment".into(),
            });
        }
        let mut silent = Vec::new();
        let mut unknown = Vec::new();
        let mut kept = 0;
        for (code, &used) in suppression.codes.iter().zip(&self.codes) {
            match is_enabled(code) {
                None => unknown.push(format!("`{code}`")),
                Some(true) if !used => silent.push(format!("`{code}`")),
                // Ex) a code that silenced a finding, or one of a rule that did not run.
                Some(_) => kept += 1,
            }
        }
        if silent.is_empty() && unknown.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        if !silent.is_empty() {
            parts.push(format!(
                "suppression of {} silences nothing",
                silent.join(", ")
            ));
        }
        if !unknown.is_empty() {
            let verb = if unknown.len() == 1 { "is" } else { "are" };
            let at = if silent.is_empty() {
                " in the suppression comment"
            } else {
                ""
            };
            parts.push(format!("{}{at} {verb} not a rule code", unknown.join(", ")));
        }
        let help = if kept == 0 {
            "remove the comment".to_string()
        } else {
            let mut dropped = silent;
            dropped.extend(unknown);
            format!("remove {} from the comment", dropped.join(", "))
        };
        Some(Unused {
            message: parts.join("; "),
            help,
        })
    }
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
        assert_eq!(
            &text[s[0].span.start as usize..s[0].span.end as usize],
            "# connlint: ignore[CL001, CL002]"
        );
        assert_eq!(
            &text[s[1].span.start as usize..s[1].span.end as usize],
            "# connlint: ignore"
        );
        let slashes = suppressions("let x = 1; // connlint: ignore[CL009]  \r\n");
        assert_eq!(slashes[0].span, Span::new(11, 37));
    }

    #[test]
    fn the_marker_inside_a_string_is_not_a_comment() {
        assert!(suppressions("x = 'connlint: ignore'\n").is_empty());
    }

    fn usage_after(text: &str, findings: &[(u32, &str)]) -> Vec<Option<Unused>> {
        let enabled = |code: &str| match code.to_ascii_uppercase().as_str() {
            "CL001" | "CL002" => Some(true),
            "CL008" => Some(false),
            _ => None,
        };
        suppressions(text)
            .iter()
            .map(|s| {
                let mut usage = Usage::new(s);
                for &(line, code) in findings {
                    usage.record(s, line, code);
                }
                usage.unused(s, enabled)
            })
            .collect()
    }

    #[test]
    fn a_comment_is_unused_when_it_silences_nothing() {
        let text = "a  # connlint: ignore\nb  # connlint: ignore[CL001]\n";
        assert_eq!(
            usage_after(text, &[(1, "CL001"), (2, "CL001")]),
            [None, None]
        );
        let unused = usage_after(text, &[]);
        assert_eq!(
            unused[0].as_ref().unwrap().message,
            "suppression comment silences nothing"
        );
        assert_eq!(
            unused[1],
            Some(Unused {
                message: "suppression of `CL001` silences nothing".into(),
                help: "remove the comment".into(),
            })
        );
    }

    #[test]
    fn unused_and_unknown_codes_are_named_and_disabled_rules_are_left_alone() {
        let text = "a  # connlint: ignore[CL001, cl002, CL099, CL008]\n";
        assert_eq!(
            usage_after(text, &[(1, "CL001")]),
            [Some(Unused {
                message: "suppression of `cl002` silences nothing; `CL099` is not a rule code"
                    .into(),
                help: "remove `cl002`, `CL099` from the comment".into(),
            })]
        );
        // Only a code of a rule that did not run: nothing to say.
        assert_eq!(usage_after("a  # connlint: ignore[CL008]\n", &[]), [None]);
        assert_eq!(
            usage_after("a  # connlint: ignore[CL1]\n", &[])[0]
                .as_ref()
                .unwrap()
                .message,
            "`CL1` in the suppression comment is not a rule code"
        );
        assert_eq!(
            usage_after("a  # connlint: ignore[CL001, CL002]\n", &[])[0]
                .as_ref()
                .unwrap()
                .message,
            "suppression of `CL001`, `CL002` silences nothing"
        );
    }
}
