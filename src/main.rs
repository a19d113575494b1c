//! The `connlint` binary: everything lives in the library so that tests can reach it.

use std::process::ExitCode;

fn main() -> ExitCode {
    connlint::run().into()
}
