//! Runs a command with its output discarded and prints one line: its wall time in seconds, its
//! peak resident memory in KiB and its exit code. `bench/compare.sh` and `bench/run.sh` time
//! every tool through it:
//!
//! ```text
//! cargo build --release --example measure
//! target/release/examples/measure COMMAND [ARGS...]
//! ```
//!
//! Why not from Python: a process keeps, as its peak resident memory, the larger of its own
//! and that of the address space it was started from (the kernel carries the old peak over the
//! `exec`), and Python's `subprocess` starts children from Python's own, so every tool measured
//! from it reads at least Python's 13-14 MiB: a parse floor of 7-10 MiB read as 15. Started
//! from this launcher, a tool carries over about 2 MiB at most (`measure /bin/true` prints it).

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    use std::process::{Command, ExitCode, Stdio};
    use std::time::Instant;

    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: measure COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let child = Command::new(&program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let status = match child.and_then(|mut child| child.wait()) {
        Ok(status) => status,
        Err(err) => {
            eprintln!("measure: cannot run {}: {err}", program.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    // The one child this process has waited for: its peak, in KiB on Linux.
    let peak = match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN) {
        Ok(usage) => usage.max_rss(),
        Err(err) => {
            eprintln!("measure: getrusage: {err}");
            return ExitCode::from(2);
        }
    };
    // A signal is shown as 128 + its number, as shells do.
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    });
    println!("{seconds:.6} {peak} {code}");
    ExitCode::SUCCESS
}

#[cfg(not(unix))]
fn main() -> std::process::ExitCode {
    eprintln!("measure: peak memory is read with getrusage, on Unix only");
    std::process::ExitCode::from(2)
}
