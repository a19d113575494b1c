//! A second parse floor for `bench/compare.sh`: read every `.py` file under the given folders
//! and parse it with ruff's parser (`ruff_python_parser`), in parallel, largest first and one
//! file at a time per core, exactly as `analyzer/examples/parse_only.rs` does with
//! tree-sitter-python, and nothing else. It weighs the parser this project uses against the one
//! inside ruff, whose whole run `bench/compare.sh` also times. Prints files, lines, bytes and
//! how many files had syntax errors (ruff's parser recovers from them, as tree-sitter does).

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
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "py") => out.push(path),
            _ => {}
        }
    }
}

fn main() {
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        collect(Path::new(&arg), &mut files);
    }
    let mut sized: Vec<(u64, PathBuf)> = files
        .into_iter()
        .map(|p| (std::fs::metadata(&p).map_or(0, |m| m.len()), p))
        .collect();
    sized.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
    let files: Vec<PathBuf> = sized.into_iter().map(|(_, p)| p).collect();
    let (lines, bytes, with_errors) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    files.par_iter().with_max_len(1).for_each(|path| {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        // The recovering entry point, as an analyzer of files being edited needs.
        let parsed = ruff_python_parser::parse_unchecked(
            &text,
            ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
        );
        if !parsed.errors().is_empty() {
            with_errors.fetch_add(1, Ordering::Relaxed);
        }
        std::hint::black_box(parsed.syntax());
        lines.fetch_add(text.lines().count(), Ordering::Relaxed);
        bytes.fetch_add(text.len(), Ordering::Relaxed);
    });
    println!(
        "{} files, {} lines, {} bytes, {} with syntax errors",
        files.len(),
        lines.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed),
        with_errors.load(Ordering::Relaxed)
    );
}
