//! Prints the flow summaries of a Python file:
//! `cargo run -p connlint_analyzer --example dump FILE.py`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE.py");
        std::process::exit(2);
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => print!(
            "{}",
            connlint_analyzer::analyze(connlint_analyzer::Language::Python, &text).dump(&text)
        ),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    }
}
