//! `cargo connlint`: cargo runs this binary, found on the PATH, as
//! `cargo-connlint connlint [ARGS]`; it behaves as `connlint check [ARGS]`.

use std::process::ExitCode;

fn main() -> ExitCode {
    connlint::run_cargo().into()
}
