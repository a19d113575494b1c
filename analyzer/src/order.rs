//! The order of the project step's first round: the files a file imports before the file.
//!
//! The first round analyses every chosen file once; each later round analyses again the files
//! whose lookups into other files now get another answer. A file analysed after the files it
//! imports finds their summaries already made, so the rounds have less to redo. The order is
//! read from the import lines of the text, before anything is parsed; it only decides when a
//! file is analysed, never what the analysis finds (the rounds check every lookup whatever the
//! order was), so a line this scan misreads costs time, not findings.

use rustc_hash::{FxHashMap, FxHashSet};

/// The modules a text's `import` and `from ... import` lines name, made absolute against the
/// file's module path as the front end makes them (`python::absolute_module`): for `from pkg import a, b`,
/// `pkg`, `pkg.a` and `pkg.b`, since `a` may be a module. Lines anywhere (imports inside
/// functions too, and lines inside strings, which cost only order).
pub(crate) fn imported_modules(text: &str, module: &str, is_package: bool) -> Vec<String> {
    let mut found = Vec::new();
    // Only lines that say `import ` can import: found with memmem, not by splitting every line
    // (3% of SQLAlchemy's run). `next` is the first byte not yet read as part of a line.
    let bytes = text.as_bytes();
    let line_end =
        |from: usize| memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i);
    // A line as `str::lines` gives it: without its `\n` or `\r\n`.
    let line_at = |start: usize, end: usize| {
        let line = &text[start..end];
        if end < bytes.len() {
            line.strip_suffix('\r').unwrap_or(line)
        } else {
            line
        }
    };
    let finder = memchr::memmem::Finder::new("import ");
    let mut next = 0;
    while let Some(i) = bytes.get(next..).and_then(|rest| finder.find(rest)) {
        let at = next + i;
        let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |j| j + 1);
        let end = line_end(at);
        next = end + 1;
        let more = || {
            let from = next;
            (from < bytes.len()).then(|| {
                let end = line_end(from);
                next = end + 1;
                line_at(from, end)
            })
        };
        read_import_line(line_at(start, end), more, module, is_package, &mut found);
    }
    found
}

/// What one line of a text imports, added to `found`; `more` gives the lines after it, which a
/// parenthesised `from ... import (` list may go on to (at most 200 of them are read).
fn read_import_line<'t>(
    line: &str,
    mut more: impl FnMut() -> Option<&'t str>,
    module: &str,
    is_package: bool,
    found: &mut Vec<String>,
) {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix("from ") {
        let Some((from, names)) = rest.split_once(" import ") else {
            return;
        };
        let from = from.trim();
        let dotted = from.trim_start_matches('.');
        if !dotted.is_empty() && !dotted.split('.').all(is_identifier) {
            return;
        }
        let from = crate::python::absolute_module(from, module, is_package);
        if from.is_empty() {
            return;
        }
        // A parenthesised list may go on for lines (comments dropped from each).
        let code = |l: &str| l.split('#').next().unwrap_or_default().to_string();
        let mut names = code(names);
        if names.contains('(') && !names.contains(')') {
            for _ in 0..200 {
                let Some(more) = more() else {
                    break;
                };
                let more = code(more);
                names.push(' ');
                names.push_str(&more);
                if more.contains(')') {
                    break;
                }
            }
        }
        for name in names
            .split([',', '(', ')'])
            .filter_map(|n| n.split_whitespace().next())
            .filter(|n| is_identifier(n))
        {
            found.push(format!("{from}.{name}"));
        }
        found.push(from);
    } else if let Some(rest) = line.strip_prefix("import ") {
        for part in rest.split(',') {
            if let Some(m) = part
                .split_whitespace()
                .next()
                .filter(|m| m.split('.').all(is_identifier))
            {
                found.push(m.to_string());
            }
        }
    }
}

fn is_identifier(word: &str) -> bool {
    !word.is_empty()
        && word.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !word.starts_with(|c: char| c.is_ascii_digit())
        && word != "import"
}

/// `files` in waves: a file's wave is one more than the latest wave of the files it imports
/// (outside cycles), so that no file imports one of its own wave or a later one, cycles aside.
/// A wave whose files weigh less than `at_least` in all is merged with the next.
pub(crate) fn waves(
    files: &[usize],
    imports: &FxHashMap<usize, Vec<usize>>,
    weight: impl Fn(usize) -> usize,
    at_least: usize,
) -> Vec<Vec<usize>> {
    let order = post_order(files, imports);
    let mut level: FxHashMap<usize, usize> =
        FxHashMap::with_capacity_and_hasher(order.len(), Default::default());
    let mut top = 0;
    for &f in &order {
        let deps = imports.get(&f).map_or(&[][..], Vec::as_slice);
        let l = deps
            .iter()
            .filter_map(|d| level.get(d))
            .max()
            .map_or(0, |l| l + 1);
        top = top.max(l);
        level.insert(f, l);
    }
    let mut by_level: Vec<Vec<usize>> = vec![Vec::new(); top + 1];
    for &f in &order {
        by_level[level[&f]].push(f);
    }
    let mut waves: Vec<(Vec<usize>, usize)> = Vec::new();
    for wave in by_level {
        let w: usize = wave.iter().map(|&f| weight(f)).sum();
        match waves.last_mut() {
            Some((last, lw)) if *lw < at_least => {
                last.extend(wave);
                *lw += w;
            }
            _ => waves.push((wave, w)),
        }
    }
    waves.into_iter().map(|(wave, _)| wave).collect()
}

/// `files` (indices) ordered so that, outside import cycles, a file comes after every file it
/// imports: the post-order of a depth-first walk along `imports` (`imports[f]`: the files `f`
/// imports; files not in `files` are passed over). Within a cycle the walk's order stands.
/// Iterative: a deep chain of imports cannot overflow the stack.
fn post_order(files: &[usize], imports: &FxHashMap<usize, Vec<usize>>) -> Vec<usize> {
    let mut entered: FxHashSet<usize> = FxHashSet::default();
    let mut order = Vec::with_capacity(files.len());
    let wanted: FxHashSet<usize> = files.iter().copied().collect();
    for &root in files {
        if !entered.insert(root) {
            continue;
        }
        // (file, index of the next import to follow)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let (file, next) = *top;
            let deps = imports.get(&file).map_or(&[][..], Vec::as_slice);
            if let Some(&dep) = deps.get(next) {
                top.1 += 1;
                if wanted.contains(&dep) && entered.insert(dep) {
                    stack.push((dep, 0));
                }
            } else {
                order.push(file);
                stack.pop();
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_lines_name_absolute_modules() {
        let text = "\
import os, app.db as database
from . import helpers
from ..util import (
    retry,
    give_back,  # comment
)
def f():
    from app.pool import take
from ... import too_far
";
        let found = imported_modules(text, "app.sub.tools", false);
        assert_eq!(
            found,
            [
                "os",
                "app.db",
                "app.sub.helpers",
                "app.sub",
                "app.util.retry",
                "app.util.give_back",
                "app.util",
                "app.pool.take",
                "app.pool",
            ]
        );
        // A package's relative imports start from the package itself.
        assert_eq!(
            imported_modules("from .db import x\n", "app", true),
            ["app.db.x", "app.db"]
        );
        assert!(imported_modules("from .... import x\n", "a.b", false).is_empty());
    }

    /// Every line read as an import line, as `imported_modules` read them before it searched
    /// for `import `: the reference the search must agree with.
    fn by_lines(text: &str, module: &str, is_package: bool) -> Vec<String> {
        let mut found = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            read_import_line(line, || lines.next(), module, is_package, &mut found);
        }
        found
    }

    #[test]
    fn searching_for_import_reads_what_reading_every_line_read() {
        let tricky = [
            "import a\r\nfrom b import (c,\r\n  d)\r\nimport e\r",
            "from x import (\n  import_me,\n  import y\n)\nimport z",
            "from x import (\n a,\n b",
            "from x import (a\n",
            "x = 1  # import nothing\n  import   q.r, s as t\nfrom . import (u, v)",
            "\u{3000}import wide\nfrom\u{a0}y import z\n\n\nimport last",
            "importer = 1\nfrom m import n\n",
            "",
        ];
        for text in tricky {
            for package in [false, true] {
                assert_eq!(
                    imported_modules(text, "app.sub", package),
                    by_lines(text, "app.sub", package),
                    "{text:?}"
                );
            }
        }
        let texts: Vec<String> = crate::files_under(std::path::Path::new("../corpus"), "py")
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect();
        assert!(texts.len() > 40, "{}", texts.len());
        for text in &texts {
            assert_eq!(
                imported_modules(text, "app.sub", false),
                by_lines(text, "app.sub", false)
            );
        }
    }

    #[test]
    fn dependencies_come_first_and_cycles_terminate() {
        // 0 imports 1 and 2; 1 imports 2; 2 imports 0 (a cycle); 3 stands alone; 9 is not
        // among the files ordered.
        let imports: FxHashMap<usize, Vec<usize>> =
            [(0, vec![1, 2, 9]), (1, vec![2]), (2, vec![0]), (3, vec![])]
                .into_iter()
                .collect();
        let order = post_order(&[0, 1, 2, 3], &imports);
        assert_eq!(order, [2, 1, 0, 3]);
        // A long chain does not overflow the stack.
        let n = 200_000;
        let chain: FxHashMap<usize, Vec<usize>> = (0..n).map(|i| (i, vec![i + 1])).collect();
        let files: Vec<usize> = (0..n).collect();
        let order = post_order(&files, &chain);
        assert_eq!(order.first(), Some(&(n - 1)));
        assert_eq!(order.len(), n);
    }

    #[test]
    fn no_file_shares_a_wave_with_a_file_it_imports_outside_cycles() {
        // 4 imports 2 and 3, which import 1, which imports 0; 5 imports nothing; 6 and 7
        // import each other.
        let imports: FxHashMap<usize, Vec<usize>> = [
            (1, vec![0]),
            (2, vec![1]),
            (3, vec![1]),
            (4, vec![2, 3]),
            (6, vec![7]),
            (7, vec![6]),
        ]
        .into_iter()
        .collect();
        let files: Vec<usize> = (0..8).collect();
        let waves = waves(&files, &imports, |_| 1, 1);
        assert_eq!(waves, [vec![0, 5, 7], vec![1, 6], vec![2, 3], vec![4]]);
        // Small waves merge with the next until they have enough files.
        let merged = super::waves(&files, &imports, |_| 1, 3);
        assert_eq!(merged, [vec![0, 5, 7], vec![1, 6, 2, 3], vec![4]]);
        assert_eq!(super::waves(&files, &imports, |_| 1, 100).concat().len(), 8);
        // Waves are weighed, not counted: with file 2 heavy, the light waves before it join
        // its wave, and the one after it stands alone.
        let weighed = super::waves(&files, &imports, |f| if f == 2 { 100 } else { 1 }, 50);
        assert_eq!(weighed, [vec![0, 5, 7, 1, 6, 2, 3], vec![4]]);
    }
}
