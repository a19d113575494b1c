//! Fingerprints: the identity of a finding that survives unrelated edits. SARIF's
//! `partialFingerprints` and the baseline both use them.
//!
//! A fingerprint is `HASH:N`: `HASH` is 16 hex digits of FNV-1a (64 bits) over the rule code,
//! the enclosing function's qualified name and the text of the primary span's first line with
//! its whitespace collapsed (so re-indenting does not change it); `N` counts the earlier
//! findings of the same file with the same hash, in position order, so that two identical
//! acquisitions in one function stay apart. Line and column numbers are not part of it: code
//! added or removed above a finding does not change its fingerprint, while editing the line
//! itself, renaming the function or moving the finding to another function does. The path is
//! not hashed either; whoever matches fingerprints matches paths beside them (the baseline does,
//! and code scanning keeps SARIF results per file), so that where a baseline file lives does
//! not change what is in it.
//!
//! The scheme is part of the baseline format: changing it invalidates every baseline, so it
//! carries a version: [`SARIF_KEY`] and the baseline's `version`.

use std::collections::HashMap;

use connlint_analyzer::Span;
use connlint_rules::Finding;

/// The SARIF `partialFingerprints` key; bump the suffix when the scheme changes.
pub(crate) const SARIF_KEY: &str = "connlint/v1";

/// The fingerprints of one file's findings, in the findings' order.
pub(crate) fn fingerprints(text: &str, findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    // Counted in position order, whatever order the findings come in.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (findings[i].span.start, i));
    let mut out = vec![String::new(); findings.len()];
    for i in order {
        let finding = &findings[i];
        let hash = hash_key(
            finding.code,
            &finding.function,
            line_text(text, finding.span),
        );
        let count = seen.entry(hash).or_insert(0);
        let occurrence = *count;
        *count += 1;
        out[i] = format!("{hash:016x}:{occurrence}");
    }
    out
}

/// The line that holds the start of `span`, without its line break.
fn line_text(text: &str, span: Span) -> &str {
    let mut start = (span.start as usize).min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    &text[line_start..line_end]
}

fn hash_key(code: &str, function: &str, line: &str) -> u64 {
    let mut hash = Fnv::new();
    hash.write(code.as_bytes());
    hash.write(&[0]);
    hash.write(function.as_bytes());
    hash.write(&[0]);
    let mut first = true;
    for word in line.split_whitespace() {
        if !first {
            hash.write(b" ");
        }
        first = false;
        hash.write(word.as_bytes());
    }
    hash.0
}

/// FNV-1a, 64 bits: tiny, and its output is fixed forever, unlike `std`'s hashers, whose
/// algorithm may change between Rust releases.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use connlint_rules::Severity;

    fn finding(code: &'static str, function: &str, start: u32) -> Finding {
        Finding {
            code,
            name: "n",
            severity: Severity::Error,
            span: Span {
                start,
                end: start + 1,
            },
            primary_label: String::new(),
            message: String::new(),
            function: function.into(),
            labels: Vec::new(),
            help: "".into(),
        }
    }

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        let mut h = Fnv::new();
        h.write(b"");
        assert_eq!(h.0, 0xcbf2_9ce4_8422_2325);
        let mut h = Fnv::new();
        h.write(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
        let mut h = Fnv::new();
        h.write(b"foobar");
        assert_eq!(h.0, 0x8594_4171_f739_67e8);
    }

    #[test]
    fn moving_lines_and_reindenting_keep_the_fingerprint() {
        let before = "def f(pool):\n    conn = pool.getconn()\n";
        let after = "import os\n\n\ndef f(pool):\n        conn  =  pool.getconn()\n";
        let a = fingerprints(before, &[finding("CL001", "f", 24)]);
        let b = fingerprints(after, &[finding("CL001", "f", 44)]);
        assert_eq!(a, b);
        assert!(a[0].ends_with(":0"), "{a:?}");
        assert_eq!(a[0].len(), 18);
    }

    #[test]
    fn code_function_and_line_text_change_it() {
        let text = "def f(pool):\n    conn = pool.getconn()\n    other = pool.getconn()\n";
        let base = &fingerprints(text, &[finding("CL001", "f", 24)])[0];
        assert_ne!(base, &fingerprints(text, &[finding("CL002", "f", 24)])[0]);
        assert_ne!(base, &fingerprints(text, &[finding("CL001", "g", 24)])[0]);
        assert_ne!(base, &fingerprints(text, &[finding("CL001", "f", 50)])[0]);
    }

    #[test]
    fn identical_findings_are_numbered_in_position_order() {
        let text = "conn = pool.getconn()\nconn = pool.getconn()\nx = 1\n";
        let prints = fingerprints(
            text,
            &[
                finding("CL001", "f", 22),
                finding("CL001", "f", 0),
                finding("CL001", "f", 44),
            ],
        );
        let (hash, _) = prints[0].split_once(':').unwrap();
        assert_eq!(prints[0], format!("{hash}:1"));
        assert_eq!(prints[1], format!("{hash}:0"));
        assert!(!prints[2].starts_with(hash));
        assert!(prints[2].ends_with(":0"));
    }

    #[test]
    fn spans_past_the_end_or_inside_a_character_do_not_panic() {
        let text = "é = pool.getconn()";
        assert_eq!(line_text(text, Span { start: 1, end: 1 }), text);
        assert_eq!(line_text(text, Span { start: 99, end: 99 }), text);
        assert_eq!(line_text("", Span { start: 3, end: 3 }), "");
    }
}
