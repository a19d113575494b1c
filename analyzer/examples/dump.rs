//! Prints the flow summaries of a Python or Rust file:
//! `cargo run -p connlint_analyzer --example dump FILE.py`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE.py|FILE.rs");
        std::process::exit(2);
    };
    let language = connlint_analyzer::Language::from_path(&path)
        .unwrap_or(connlint_analyzer::Language::Python);
    match std::fs::read_to_string(&path) {
        Ok(text) => print!(
            "{}",
            connlint_analyzer::analyze(language, &text).dump(&text)
        ),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    }
}
