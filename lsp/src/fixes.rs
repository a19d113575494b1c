//! Code actions, as byte-range edits of the document's text.
//!
//! Every finding can be silenced on its line. The only rewrite offered is CL008's
//! `contextlib.closing(...)`, and only in the shape where it is certainly right; the others
//! (CL002's move into `try/finally`, say) need the statements around the release, which a
//! text edit cannot see, so they are not offered rather than done wrong.

use connlint_rules::{suppressions, Finding};

/// One replacement: the byte range `[start, end)` becomes `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    /// The fix for the problem, not a way to silence it.
    pub preferred: bool,
}

/// The code actions for one finding.
pub(crate) fn fixes(text: &str, finding: &Finding, rust: bool) -> Vec<Fix> {
    let mut out = Vec::new();
    if let Some(fix) = closing(text, finding) {
        out.push(fix);
    }
    if finding.code.starts_with("CL") {
        out.push(ignore(text, finding, rust));
    }
    out
}

/// The byte range of the line holding `offset`, without its line break, and its 1-based number
/// counted the way suppression comments count (by `\n`).
fn line_at(text: &str, offset: usize) -> (usize, usize, u32) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let end = if text[..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    let number = text[..start].matches('\n').count() + 1;
    (start, end, u32::try_from(number).unwrap_or(u32::MAX))
}

/// "Ignore CL00N on this line": adds the code to a suppression comment that already covers the
/// line, or puts a new comment at the end of the line (or alone above it, when the line ends in
/// a backslash continuation or inside a string).
fn ignore(text: &str, finding: &Finding, rust: bool) -> Fix {
    let code = finding.code;
    let title = format!("Ignore {code} on this line");
    let (start, end, number) = line_at(text, finding.span.start as usize);
    let existing = suppressions(text)
        .into_iter()
        .find(|s| !s.codes.is_empty() && (s.applies_to.0 == number || s.applies_to.1 == number));
    if let Some(existing) = existing {
        let comment = &text[existing.span.start as usize..existing.span.end as usize];
        if let Some(close) = comment.find(']') {
            let at = existing.span.start as usize + close;
            return Fix {
                title,
                edits: vec![Edit {
                    start: at,
                    end: at,
                    text: format!(", {code}"),
                }],
                preferred: false,
            };
        }
    }
    let marker = if rust { "//" } else { "#" };
    let line = &text[start..end];
    let trimmed = line.trim_end();
    let continues = if rust {
        trimmed.matches('"').count() % 2 == 1
    } else {
        trimmed.ends_with('\\')
            || line.matches("\"\"\"").count() % 2 == 1
            || line.matches("'''").count() % 2 == 1
    };
    let edit = if continues {
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        let newline = if text[end..].starts_with("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        Edit {
            start,
            end: start,
            text: format!("{indent}{marker} connlint: ignore[{code}]{newline}"),
        }
    } else {
        let at = start + trimmed.len();
        Edit {
            start: at,
            end,
            text: format!("  {marker} connlint: ignore[{code}]"),
        }
    };
    Fix {
        title,
        edits: vec![edit],
        preferred: false,
    }
}

/// CL008 on `with connect(...) as conn:` becomes `with contextlib.closing(connect(...)) as conn,
/// conn:`: the connection is closed at the end of the block and the transaction still ends as
/// before. Offered only for direct connections (closing a pooled one would not return it), a
/// plain `with` (not `async with`) whose first item is the call and that names the connection,
/// and a file where `contextlib` is imported or an import can go beside the others.
fn closing(text: &str, finding: &Finding) -> Option<Fix> {
    if finding.code != "CL008" || !finding.help.starts_with("wrap it in `contextlib.closing") {
        return None;
    }
    let (span_start, span_end) = (finding.span.start as usize, finding.span.end as usize);
    let (line_start, _, _) = line_at(text, span_start);
    let before = text.get(line_start..span_start)?;
    let keyword = before
        .trim_start()
        .strip_suffix(|c: char| c.is_whitespace())?;
    // Ex) `async with`, `conn = sqlite3.connect(p)`, a second `with` item: not this shape.
    if keyword.trim_end() != "with" {
        return None;
    }
    let after = text.get(span_end..)?;
    let rest = after.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix("as")?;
    let name_rest = rest.trim_start_matches([' ', '\t']);
    if name_rest.len() == rest.len() {
        return None;
    }
    let name_len = name_rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(name_rest.len());
    let name = &name_rest[..name_len];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let tail = name_rest[name_len..].trim_start_matches([' ', '\t']);
    if !(tail.starts_with(':') || tail.starts_with(',')) {
        return None;
    }
    let name_end = span_end + (after.len() - name_rest.len()) + name_len;

    let (wrapper, import) = match contextlib_import(text) {
        Imported::Module => ("contextlib.closing", None),
        Imported::Closing => ("closing", None),
        Imported::No(at) => ("contextlib.closing", Some(at?)),
    };
    let mut edits = Vec::new();
    if let Some(at) = import {
        edits.push(Edit {
            start: at,
            end: at,
            text: "import contextlib\n".into(),
        });
    }
    edits.push(Edit {
        start: span_start,
        end: span_start,
        text: format!("{wrapper}("),
    });
    edits.push(Edit {
        start: span_end,
        end: span_end,
        text: ")".into(),
    });
    edits.push(Edit {
        start: name_end,
        end: name_end,
        text: format!(", {name}"),
    });
    Some(Fix {
        title: format!("Close the connection: wrap it in `{wrapper}(...)`"),
        edits,
        preferred: true,
    })
}

enum Imported {
    /// `import contextlib`.
    Module,
    /// `from contextlib import closing`.
    Closing,
    /// Neither; where `import contextlib` can go (before the first top-level import after any
    /// `from __future__` imports), if the file has imports at all.
    No(Option<usize>),
}

fn contextlib_import(text: &str) -> Imported {
    let mut first_import = None;
    let mut after_future = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or("").trim_end();
        if let Some(names) = code.strip_prefix("import ") {
            if names.split(',').any(|n| n.trim() == "contextlib") {
                return Imported::Module;
            }
            first_import.get_or_insert(offset);
        } else if let Some(rest) = code.strip_prefix("from ") {
            let (module, names) = rest.split_once(" import ").unwrap_or((rest, ""));
            match module.trim() {
                "__future__" => after_future = Some(offset + line.len()),
                "contextlib" if names.split(',').any(|n| n.trim() == "closing") => {
                    return Imported::Closing;
                }
                _ => {
                    first_import.get_or_insert(offset);
                }
            }
        }
        offset += line.len();
    }
    Imported::No(after_future.or(first_import))
}

/// The text after applying non-overlapping edits (what a client does with them).
#[cfg(test)]
pub(crate) fn apply(text: &str, edits: &[Edit]) -> String {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = String::new();
    let mut at = 0;
    for edit in edits {
        out.push_str(&text[at..edit.start]);
        out.push_str(&edit.text);
        at = edit.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use connlint_rules::analyzer::{Language, SourceFile};
    use connlint_rules::{check_project, Selection};

    fn findings(text: &str) -> Vec<Finding> {
        let files = [SourceFile {
            path: "app.py",
            text,
        }];
        let checked = check_project(
            Language::Python,
            &files,
            &Default::default(),
            &Selection::default(),
        );
        checked.into_iter().next().unwrap().findings
    }

    fn fixed(text: &str, title_start: &str) -> String {
        let found = findings(text);
        assert_eq!(found.len(), 1, "{found:?}");
        let fixes = fixes(text, &found[0], false);
        let fix = fixes
            .iter()
            .find(|f| f.title.starts_with(title_start))
            .unwrap_or_else(|| panic!("no {title_start:?} in {fixes:?}"));
        apply(text, &fix.edits)
    }

    const LEAK: &str = "def load(pool):\n    conn = pool.getconn()\n    return 1\n";

    #[test]
    fn ignoring_appends_a_comment_that_silences_the_finding() {
        let text = fixed(LEAK, "Ignore CL001");
        assert_eq!(
            text,
            "def load(pool):\n    conn = pool.getconn()  # connlint: ignore[CL001]\n    return 1\n"
        );
        assert!(findings(&text).is_empty());
    }

    #[test]
    fn ignoring_extends_an_existing_comment() {
        let text = "def load(pool):\n    # connlint: ignore[CL002]\n    conn = pool.getconn()\n    return 1\n";
        let text2 = fixed(text, "Ignore CL001");
        assert!(
            text2.contains("# connlint: ignore[CL002, CL001]\n"),
            "{text2}"
        );
        assert!(findings(&text2).is_empty());
    }

    #[test]
    fn ignoring_a_line_that_continues_goes_above_it() {
        let text = "def load(pool):\n    conn = pool.getconn(); x = \\\n        1\n    return 1\n";
        let text2 = fixed(text, "Ignore CL001");
        assert!(
            text2.contains("\n    # connlint: ignore[CL001]\n    conn = pool.getconn()"),
            "{text2}"
        );
        assert!(findings(&text2).is_empty());
    }

    #[test]
    fn ignoring_in_rust_uses_a_line_comment() {
        let text = "fn f(pool: &Pool) {\n    let conn = pool.get().unwrap();\n    std::mem::forget(conn);\n}\n";
        let start = text.find("std::mem").unwrap();
        let finding = Finding {
            code: "CL009",
            name: "connection-forgotten",
            severity: connlint_rules::Severity::Error,
            span: connlint_rules::analyzer::Span::new(start, start + 22),
            primary_label: String::new(),
            message: String::new(),
            function: "f".into(),
            labels: Vec::new(),
            help: "".into(),
        };
        let fixes = fixes(text, &finding, true);
        assert_eq!(fixes.len(), 1);
        assert_eq!(
            apply(text, &fixes[0].edits),
            text.replace("forget(conn);", "forget(conn);  // connlint: ignore[CL009]")
        );
    }

    const WITH: &str = "\
\"\"\"Notes.\"\"\"
import psycopg2


def save(dsn, row):
    with psycopg2.connect(dsn) as conn:
        conn.cursor().execute(\"insert into t values (%s)\", (row,))
";

    #[test]
    fn closing_wraps_the_connection_and_keeps_the_transaction() {
        let text = fixed(WITH, "Close the connection");
        assert!(
            text.contains("import contextlib\nimport psycopg2\n"),
            "{text}"
        );
        assert!(
            text.contains("    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn:\n"),
            "{text}"
        );
        assert!(findings(&text).is_empty(), "{:?}", findings(&text));

        let imported = WITH.replace(
            "import psycopg2",
            "from contextlib import closing\nimport psycopg2",
        );
        let text = fixed(&imported, "Close the connection");
        assert!(
            text.contains("with closing(psycopg2.connect(dsn)) as conn, conn:"),
            "{text}"
        );
        assert!(findings(&text).is_empty());
    }

    #[test]
    fn closing_is_not_offered_where_it_could_be_wrong() {
        for text in [
            // A pooled connection: closing it would not give it back.
            "def f(pool):\n    with pool.getconn() as conn:\n        conn.execute('x')\n",
            // No name to keep the transaction with.
            "import sqlite3\n\ndef f(p):\n    with sqlite3.connect(p):\n        pass\n",
            // Not a `with` item.
            "import sqlite3\n\ndef f(p):\n    conn = sqlite3.connect(p)\n    with conn:\n        conn.execute('x')\n",
            // No import to put `import contextlib` beside.
            "def f(p):\n    with __import__('sqlite3').connect(p) as conn:\n        conn.execute('x')\n",
        ] {
            for finding in findings(text) {
                let titles: Vec<String> =
                    fixes(text, &finding, false).into_iter().map(|f| f.title).collect();
                assert!(
                    titles.iter().all(|t| t.starts_with("Ignore")),
                    "{text}: {titles:?}"
                );
            }
        }
    }
}
