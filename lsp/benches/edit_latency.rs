//! Edit-to-diagnostics latency of the language server on a generated workspace.
//!
//! `cargo bench -p connlint_lsp --bench edit_latency` generates a Python workspace (300,000
//! lines in files of 3,000 by default; `CONNLINT_BENCH_LINES`, `CONNLINT_BENCH_FILE_LINES`,
//! `CONNLINT_BENCH_EDITS` change that), starts the server in-process over
//! `Connection::memory()`, opens one file, and then times edits to it: from sending
//! `didChange` to receiving the `publishDiagnostics` that reflects it. Each edit replaces the
//! end of the file with a new function, leaking on even edits and clean on odd ones, so that
//! every edit changes the diagnostics and every text is new (no edit can be answered from the
//! memo of an earlier text). Prints the time to the first diagnostics and the median, 90th
//! percentile and maximum edit latency. Nothing is asserted: this measures.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use common::Client;
use serde_json::json;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One generated module of about `lines` lines: a quarter of its functions use connections
/// (correctly), through the pool or through the project's factory; the rest compute.
fn module(index: usize, lines: usize) -> String {
    let mut out = String::from("import os\n\nfrom pkg.db import get_conn\n\n\n");
    let mut j = 0;
    while out.lines().count() < lines {
        match j % 4 {
            0 => write!(
                out,
                "def load_{index}_{j}(pool, key):\n    conn = pool.getconn()\n    try:\n        cur = conn.cursor()\n        cur.execute(\"select %s\", (key,))\n        row = cur.fetchone()\n        if row is None:\n            return None\n        return row[0]\n    finally:\n        pool.putconn(conn)\n\n\n"
            ),
            1 => write!(
                out,
                "def count_{index}_{j}(pool):\n    conn = get_conn(pool)\n    try:\n        return conn.cursor().fetchone()\n    finally:\n        pool.putconn(conn)\n\n\n"
            ),
            _ => write!(
                out,
                "def compute_{index}_{j}(values, scale=2):\n    total = 0\n    for value in values:\n        if value > scale:\n            total += value * scale\n        else:\n            total -= os.getpid() % (value + 1)\n    return total\n\n\n"
            ),
        }
        .unwrap();
        j += 1;
    }
    out
}

/// The function edit `k` puts at the end of the file: leaking when `k` is even.
fn tail(k: usize) -> String {
    let release = if k.is_multiple_of(2) {
        ""
    } else {
        "    pool.putconn(conn)\n"
    };
    format!("\ndef edited_{k}(pool):\n    conn = pool.getconn()\n{release}    return {k}\n")
}

fn main() {
    let total = env_number("CONNLINT_BENCH_LINES", 300_000);
    let per_file = env_number("CONNLINT_BENCH_FILE_LINES", 3_000);
    let edits = env_number("CONNLINT_BENCH_EDITS", 20);
    let count = (total / per_file).max(1);

    let db = "def get_conn(pool):\n    return pool.getconn()\n".to_string();
    let modules: Vec<(String, String)> = (0..count)
        .map(|i| (format!("pkg/mod_{i}.py"), module(i, per_file)))
        .collect();
    let mut files: Vec<(&str, &str)> = vec![("pkg/__init__.py", ""), ("pkg/db.py", &db)];
    files.extend(modules.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    println!(
        "workspace: {} files, {lines} lines; edited file: {} lines",
        files.len(),
        modules[0].1.lines().count()
    );

    let started = Instant::now();
    let mut client = Client::start(&files);
    client.initialize(json!({}));
    let name = modules[0].0.clone();
    let text = modules[0].1.clone();
    client.open(&name, &text);
    let first = client.diagnostics(&name);
    assert!(
        first.is_empty(),
        "the generated code is clean: {} findings",
        first.len()
    );
    println!(
        "initialize + index + open to first diagnostics: {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let end_line = u32::try_from(text.lines().count()).unwrap();
    let mut tail_lines = 0;
    let mut times: Vec<Duration> = Vec::new();
    for k in 0..edits {
        let version = i32::try_from(k).unwrap() + 2;
        let new_tail = tail(k);
        let began = Instant::now();
        client.change(
            &name,
            version,
            [end_line, 0, end_line + tail_lines, 0],
            &new_tail,
        );
        let diagnostics = client.diagnostics(&name);
        times.push(began.elapsed());
        assert_eq!(diagnostics.len(), usize::from(k % 2 == 0));
        tail_lines = u32::try_from(new_tail.lines().count()).unwrap();
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if let (Some(first), Some(last)) = (times.first(), times.last()) {
        println!(
            "edit -> diagnostics over {} edits: median {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms",
            times.len(),
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 9 / 10).min(times.len() - 1)]),
            ms(*first),
            ms(*last)
        );
    }
    client.shutdown_and_exit();
}
