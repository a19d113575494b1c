//! The speed floor for `bench/run.sh` and `bench/compare.sh`: read every `.py` file under the
//! given folders and parse it with tree-sitter-python, and every `.rs` file with syn (with span
//! locations, as the analyzer does), in parallel (largest first, one file at a time per core),
//! doing nothing else. Prints files, lines and bytes.
//!
//! With `--ruff` first, `.py` files are parsed with ruff's parser (`ruff_python_parser`, which
//! the analyzer uses) instead: a second floor for `bench/compare.sh`, not one of issue 9's.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect(&path, out),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "py" || e == "rs") => {
                out.push(path)
            }
            _ => {}
        }
    }
}

fn main() {
    let mut files = Vec::new();
    let mut ruff = false;
    for arg in std::env::args().skip(1) {
        if arg == "--ruff" {
            ruff = true;
        } else {
            collect(Path::new(&arg), &mut files);
        }
    }
    let lines = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    // Largest first and one by one, as connlint schedules its analyses, so that the floor is
    // not held up by a large file parsed last either.
    let mut sized: Vec<(u64, PathBuf)> = files
        .into_iter()
        .map(|p| (std::fs::metadata(&p).map_or(0, |m| m.len()), p))
        .collect();
    sized.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
    let files: Vec<PathBuf> = sized.into_iter().map(|(_, p)| p).collect();
    files.par_iter().with_max_len(1).for_each_init(
        || {
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&tree_sitter_python::LANGUAGE.into())
                .map(|()| parser)
                .ok()
        },
        |parser, path| {
            let (Some(parser), Ok(text)) = (parser.as_mut(), std::fs::read_to_string(path)) else {
                return;
            };
            if path.extension().is_some_and(|e| e == "rs") {
                if let Ok(file) = syn::parse_file(&text) {
                    std::hint::black_box(file.items.len());
                }
                proc_macro2::extra::invalidate_current_thread_spans();
            } else if ruff {
                // The recovering entry point, as the analyzer calls it.
                let parsed = ruff_python_parser::parse_unchecked_source(
                    &text,
                    ruff_python_ast::PySourceType::Python,
                );
                std::hint::black_box(parsed.syntax().body.len());
            } else if let Some(tree) = parser.parse(&text, None) {
                std::hint::black_box(tree.root_node().child_count());
            }
            lines.fetch_add(text.lines().count(), Ordering::Relaxed);
            bytes.fetch_add(text.len(), Ordering::Relaxed);
        },
    );
    println!(
        "{} files, {} lines, {} bytes",
        files.len(),
        lines.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed)
    );
}
