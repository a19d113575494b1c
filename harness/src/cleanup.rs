//! Everything that must be undone on every exit path: the throwaway PostgreSQL cluster and the
//! driver processes. Normal exits and early returns go through [`Guard`]'s `Drop`; Ctrl-C goes
//! through the handler installed by [`install`], which does the same and exits with 130.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Mutex;

use crate::pg::Cluster;

struct State {
    cluster: Option<Cluster>,
    /// Process groups of running drivers (each driver leads its own group).
    groups: BTreeSet<u32>,
}

static STATE: Mutex<State> = Mutex::new(State {
    cluster: None,
    groups: BTreeSet::new(),
});

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Installs the Ctrl-C (SIGINT/SIGTERM) handler.
pub fn install() -> Result<(), String> {
    ctrlc::set_handler(|| {
        eprintln!("\nharness: interrupted; stopping drivers and PostgreSQL");
        shutdown();
        std::process::exit(130);
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))
}

/// Takes ownership of the cluster so that every exit path stops it.
pub fn register_cluster(cluster: Cluster) {
    state().cluster = Some(cluster);
}

pub fn with_cluster<T>(f: impl FnOnce(&Cluster) -> T) -> Option<T> {
    state().cluster.as_ref().map(f)
}

pub fn register_group(pgid: u32) {
    state().groups.insert(pgid);
}

pub fn unregister_group(pgid: u32) {
    state().groups.remove(&pgid);
}

/// Kills a whole process group (the driver and anything it started).
pub fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .arg(format!("-{pgid}"))
        .status();
}

/// Stops every driver and the cluster. Idempotent.
pub fn shutdown() {
    let (groups, cluster) = {
        let mut s = state();
        (std::mem::take(&mut s.groups), s.cluster.take())
    };
    for pgid in groups {
        kill_group(pgid);
    }
    if let Some(mut cluster) = cluster {
        cluster.stop();
    }
}

/// Calls [`shutdown`] when dropped: on normal return, on `?`, and on panic.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        shutdown();
    }
}
