//! The Rust corpus cases, compiled against the real pool crates. The harness writes the list of
//! cases (`mod case_N` items with `#[path]` to each corpus file, one call wrapper per function,
//! and `CASES`) to the file named by `CONNLINT_HARNESS_CASES` and builds this package; `support`
//! does the runs. See harness/README.md "Rust cases".

mod support;

include!(env!("CONNLINT_HARNESS_CASES"));

fn main() -> std::process::ExitCode {
    support::main(CASES)
}
