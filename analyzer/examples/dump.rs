//! Prints the summaries of a Python file: `cargo run -p connlint_analyzer --example dump FILE`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE.py");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let analysis = connlint_analyzer::analyze(connlint_analyzer::Language::Python, &text);
    let index = connlint_analyzer::LineIndex::new(&text);
    for p in &analysis.problems {
        println!(
            "problem: {} at {:?}",
            p.message,
            p.span.map(|s| index.line_col(s.start))
        );
    }
    for f in &analysis.functions {
        println!(
            "fn {} returns={} releases={:?} stores={:?}",
            f.name, f.returns_connection, f.releases_params, f.stores_params
        );
        for a in &f.acquisitions {
            let lc = index.line_col(a.span.start);
            println!(
                "  acq {} line {} ({}) scoped={} returned={} stored={}",
                a.api, lc.line, a.resource, a.scoped, a.returned, a.stored
            );
            for l in &a.leaks {
                println!(
                    "    leak {:?} at line {} lost={:?}",
                    l.kind,
                    index.line_col(l.at.start).line,
                    l.lost_at.map(|s| index.line_col(s.start).line)
                );
            }
            for l in &a.exception_leaks {
                println!(
                    "    exc-leak at line {} lost={:?}",
                    index.line_col(l.at.start).line,
                    l.lost_at.map(|s| index.line_col(s.start).line)
                );
            }
            for r in &a.reacquired {
                println!("    reacquired at line {}", index.line_col(r.start).line);
            }
            if let Some((s, note)) = a.context_misuse {
                println!(
                    "    context misuse at line {}: {note}",
                    index.line_col(s.start).line
                );
            }
        }
    }
}
