//! The language-agnostic flow graph of one function, and the dataflow that follows each
//! acquisition along it.
//!
//! Front ends lower source into nodes that each carry at most one resource [`Effect`], with
//! normal and exceptional edges. [`solve`] then runs one forward analysis per acquisition over a
//! powerset of small abstract states (status, which local variables alias it, where the path
//! came from), and reports how it stands at every exit.

use smallvec::SmallVec;

use crate::span::Span;
use crate::tables::Handle;

pub type NodeId = u32;
pub type AcqId = u32;
/// A local variable; front ends intern at most [`MAX_VARS`] of them per function.
pub type VarId = u8;
pub const MAX_VARS: usize = 64;

/// What a connection operand is: a local variable, or the value of an acquisition that was never
/// bound to a name (a temporary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    Var(VarId),
    Temp(AcqId),
}

/// How a release call reaches the connection: the handle decides whether it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseHow {
    /// `conn.close()`.
    Method(&'static str),
    /// `pool.putconn(conn)`.
    PoolMethod(&'static str),
    /// A context manager that always releases (`contextlib.closing`, a pool's own CM), or a
    /// helper whose summary says it releases its argument.
    Always,
}

/// Where ownership goes when a function stops being responsible for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferHow {
    Return,
    Yield,
    /// Into an attribute, a global, a container or an object under construction.
    Store,
    /// A temporary handed straight to a call: the callee owns it now.
    Escape,
    /// Leaked on purpose or by mistake (Rust `mem::forget`, `Box::leak`, sqlx `leak()`): it
    /// will never be given back.
    Forget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// A new connection from acquisition `acq`, not yet bound (see [`Effect::Bind`]).
    Acquire(AcqId),
    /// `dst = src`; `src: None` means `dst` now holds something unrelated.
    Bind {
        dst: VarId,
        src: Option<Operand>,
    },
    Release {
        what: Operand,
        how: ReleaseHow,
    },
    Transfer {
        what: Operand,
        how: TransferHow,
    },
    /// `with conn:` is entered; exiting releases it only if its handle says so.
    EnterContext(Operand),
    ExitContext(Operand),
    /// A temporary that is used and dropped (`pool.getconn().cursor()`).
    Discard(AcqId),
    /// The branch on which `var` is falsy (`None`): it cannot hold a live connection there.
    AssumeFalsy(VarId),
    /// The branch on which acquisition `acq` is known not to be held (its ownership flag is
    /// false): no path that still holds it goes this way.
    AssumeNotHeld(AcqId),
    /// A `return` statement: recorded so leaks can point at it.
    Return,
    /// An `await` (kept for the rules about holding connections across awaits).
    Await,
    /// A point where the rules want to know what is held, e.g. a call to a function that
    /// acquires from a pool it is given.
    Probe,
    /// The function's exits.
    NormalExit,
    ExceptionExit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    Normal,
    /// Taken when the source node raises; the source becomes the path's origin.
    Exception,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub effect: Effect,
    pub span: Span,
    pub succ: Vec<(NodeId, EdgeKind)>,
}

/// What the dataflow needs to know about one acquisition site.
#[derive(Clone, Debug)]
pub struct AcqSite {
    pub span: Span,
    pub handle: Handle,
}

#[derive(Clone, Debug, Default)]
pub struct Cfg {
    pub nodes: Vec<Node>,
    pub acquisitions: Vec<AcqSite>,
}

pub const ENTRY: NodeId = 0;
pub const NORMAL_EXIT: NodeId = 1;
pub const EXCEPTION_EXIT: NodeId = 2;

impl Cfg {
    pub fn new(span: Span) -> Self {
        let mut cfg = Cfg::default();
        cfg.add(Effect::None, span);
        cfg.add(
            Effect::NormalExit,
            Span::new(span.end as usize, span.end as usize),
        );
        cfg.add(Effect::ExceptionExit, span);
        cfg
    }

    pub fn add(&mut self, effect: Effect, span: Span) -> NodeId {
        self.nodes.push(Node {
            effect,
            span,
            succ: Vec::new(),
        });
        (self.nodes.len() - 1) as NodeId
    }

    pub fn link(&mut self, from: NodeId, to: NodeId, kind: EdgeKind) {
        let succ = &mut self.nodes[from as usize].succ;
        if !succ.contains(&(to, kind)) {
            succ.push((to, kind));
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Status {
    NotYet,
    Held,
    Released,
    Transferred(TransferRank),
    /// Unreachable while held: the last name for it was overwritten, or a temporary was dropped.
    Lost(NodeId),
}

/// [`TransferHow`] made orderable for state sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum TransferRank {
    Return,
    Yield,
    Store,
    Escape,
    Forget,
}

impl From<TransferHow> for TransferRank {
    fn from(how: TransferHow) -> Self {
        match how {
            TransferHow::Return => TransferRank::Return,
            TransferHow::Yield => TransferRank::Yield,
            TransferHow::Store => TransferRank::Store,
            TransferHow::Escape => TransferRank::Escape,
            TransferHow::Forget => TransferRank::Forget,
        }
    }
}

const NO_ORIGIN: NodeId = NodeId::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct State {
    status: Status,
    aliases: u64,
    /// The last `return` or raising node on this path.
    origin: NodeId,
}

/// A state set is kept small; past this many states, origins are forgotten to merge them.
const MAX_STATES: usize = 48;

/// How one acquisition stands at the exits of its function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcqOutcome {
    /// Normal exits where it is still held: the `return` node (None: falling off the end) and,
    /// when it had become unreachable, where that happened.
    pub normal_leaks: Vec<(Option<NodeId>, Option<NodeId>)>,
    /// Exceptional exits where it is still held: the node that raised, and where it was lost.
    pub exception_leaks: Vec<(Option<NodeId>, Option<NodeId>)>,
    /// Where it was acquired again while the previous one was still held and not aliased.
    pub reacquired_while_held: Vec<NodeId>,
    /// A `with` on it that does not release it (`with psycopg2.connect() as conn`).
    pub context_misuse: Option<NodeId>,
    pub returned: bool,
    pub stored: bool,
    pub released_somewhere: bool,
    /// Whether any exit is reachable with it acquired at all.
    pub reaches_exit_acquired: bool,
    /// `Await`, `Probe` and other sites' `Acquire` nodes reached while it is held, sorted.
    pub held_at: Vec<NodeId>,
    /// Where it was forgotten ([`TransferHow::Forget`]), sorted.
    pub forgotten_at: Vec<NodeId>,
}

/// Runs the dataflow for acquisition `acq`. Work is bounded: every node's state set only grows,
/// and is capped at [`MAX_STATES`].
pub fn solve(cfg: &Cfg, acq: AcqId) -> AcqOutcome {
    let n = cfg.nodes.len();
    let handle = &cfg.acquisitions[acq as usize].handle;
    // Most nodes see one or two states: kept inline, so a solve allocates little.
    let mut input: Vec<SmallVec<[State; 2]>> = vec![SmallVec::new(); n];
    let mut queued = vec![false; n];
    let mut work = vec![ENTRY];
    input[ENTRY as usize].push(State {
        status: Status::NotYet,
        aliases: 0,
        origin: NO_ORIGIN,
    });
    queued[ENTRY as usize] = true;
    let mut out = AcqOutcome::default();
    // Guards against pathological graphs: the lattice is finite, but keep a hard ceiling.
    let mut budget: usize = n.saturating_mul(64).max(10_000);
    let mut states: Vec<State> = Vec::new();
    let mut after: Vec<State> = Vec::new();

    while let Some(id) = work.pop() {
        queued[id as usize] = false;
        if budget == 0 {
            break;
        }
        budget -= 1;
        let node = &cfg.nodes[id as usize];
        states.clear();
        states.extend_from_slice(&input[id as usize]);
        after.clear();
        for &st in &states {
            if let Some(next) = apply(cfg, id, acq, handle, st, &mut out) {
                after.push(next);
            }
        }
        match node.effect {
            Effect::NormalExit | Effect::ExceptionExit => continue,
            _ => {}
        }
        for &(to, kind) in &node.succ {
            let target = &mut input[to as usize];
            let mut changed = false;
            for st in &after {
                let st = match kind {
                    EdgeKind::Exception => State { origin: id, ..*st },
                    EdgeKind::Normal => *st,
                };
                if !target.contains(&st) {
                    target.push(st);
                    changed = true;
                }
            }
            if target.len() > MAX_STATES {
                for st in target.iter_mut() {
                    st.origin = NO_ORIGIN;
                }
                target.sort_unstable();
                target.dedup();
            }
            if changed && !queued[to as usize] {
                queued[to as usize] = true;
                work.push(to);
            }
        }
    }

    for (exit, leaks) in [(NORMAL_EXIT, 0), (EXCEPTION_EXIT, 1)] {
        let mut states = input[exit as usize].to_vec();
        states.sort_unstable();
        for st in states {
            let lost = match st.status {
                Status::Held => None,
                Status::Lost(at) => Some(at),
                Status::NotYet => continue,
                _ => {
                    out.reaches_exit_acquired = true;
                    continue;
                }
            };
            out.reaches_exit_acquired = true;
            let origin = (st.origin != NO_ORIGIN).then_some(st.origin);
            let list = if leaks == 0 {
                &mut out.normal_leaks
            } else {
                &mut out.exception_leaks
            };
            let origin = if leaks == 0 {
                // Only a `return` is a meaningful origin for a normal exit.
                origin.filter(|o| cfg.nodes[*o as usize].effect == Effect::Return)
            } else {
                origin
            };
            if !list.contains(&(origin, lost)) {
                list.push((origin, lost));
            }
        }
    }
    out.reacquired_while_held.sort_unstable();
    out.reacquired_while_held.dedup();
    out.held_at.sort_unstable();
    out.held_at.dedup();
    out.forgotten_at.sort_unstable();
    out.forgotten_at.dedup();
    out
}

/// A variable's bit in an alias set (variables past [`MAX_VARS`] share bits).
pub(crate) fn bit(v: VarId) -> u64 {
    1u64 << (v as usize % MAX_VARS)
}

fn refers(what: Operand, acq: AcqId, st: &State) -> bool {
    match what {
        Operand::Var(v) => st.aliases & bit(v) != 0,
        Operand::Temp(a) => a == acq,
    }
}

/// The variable an acquisition is bound to by the node right after it, as a bit mask.
fn rebound_var(cfg: &Cfg, node: &Node, acq: AcqId) -> u64 {
    node.succ
        .iter()
        .find_map(|&(to, _)| match cfg.nodes[to as usize].effect {
            Effect::Bind {
                dst,
                src: Some(Operand::Temp(a)),
            } if a == acq => Some(bit(dst)),
            _ => None,
        })
        .unwrap_or(0)
}

fn live(st: &State) -> bool {
    matches!(st.status, Status::Held)
}

/// The state after `node` for one incoming state; `None` drops the path (a refuted branch).
fn apply(
    cfg: &Cfg,
    id: NodeId,
    acq: AcqId,
    handle: &Handle,
    mut st: State,
    out: &mut AcqOutcome,
) -> Option<State> {
    let node = &cfg.nodes[id as usize];
    if live(&st) {
        match node.effect {
            Effect::Await | Effect::Probe => out.held_at.push(id),
            Effect::Acquire(a) if a != acq => out.held_at.push(id),
            _ => {}
        }
    }
    match node.effect {
        Effect::Acquire(a) if a == acq => {
            // The previous connection from this site is still held: it is lost unless some name
            // other than the one about to be rebound still refers to it.
            if live(&st) && st.aliases & !rebound_var(cfg, node, acq) == 0 {
                out.reacquired_while_held.push(id);
            }
            st.status = Status::Held;
            st.aliases = 0;
        }
        Effect::Bind { dst, src } => {
            let keeps = match src {
                Some(what) => refers(what, acq, &st),
                None => false,
            };
            let had = st.aliases & bit(dst) != 0;
            st.aliases &= !bit(dst);
            if keeps {
                st.aliases |= bit(dst);
            } else if had && st.aliases == 0 && live(&st) {
                st.status = Status::Lost(id);
            }
        }
        Effect::Release { what, how } if refers(what, acq, &st) && live(&st) => {
            let counts = match how {
                ReleaseHow::Method(m) => handle.releases_by_method(m),
                ReleaseHow::PoolMethod(m) => handle.releases_by_pool_method(m),
                ReleaseHow::Always => true,
            };
            if counts {
                st.status = Status::Released;
                out.released_somewhere = true;
            }
        }
        Effect::Transfer { what, how } if refers(what, acq, &st) && live(&st) => {
            match how {
                TransferHow::Return => out.returned = true,
                TransferHow::Store => out.stored = true,
                TransferHow::Forget => out.forgotten_at.push(id),
                _ => {}
            }
            st.status = Status::Transferred(how.into());
        }
        Effect::EnterContext(what)
            if refers(what, acq, &st)
                && live(&st)
                && !handle.cm_releases()
                && out.context_misuse.is_none() =>
        {
            out.context_misuse = Some(id);
        }
        Effect::ExitContext(what)
            if refers(what, acq, &st) && live(&st) && handle.cm_releases() =>
        {
            st.status = Status::Released;
            out.released_somewhere = true;
        }
        Effect::Discard(a) if a == acq && live(&st) && st.aliases == 0 => {
            st.status = Status::Lost(id);
        }
        Effect::AssumeFalsy(v) if st.aliases & bit(v) != 0 => return None,
        Effect::AssumeNotHeld(a) if a == acq && live(&st) => return None,
        Effect::Return => st.origin = id,
        _ => {}
    }
    Some(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{Handle, ANY_RESOURCE};

    /// An empty graph with `n` acquisition sites of any resource.
    fn with_acquisitions(n: usize) -> Cfg {
        let mut cfg = Cfg::new(Span::default());
        for _ in 0..n {
            cfg.acquisitions.push(AcqSite {
                span: Span::default(),
                handle: Handle::Lib(&ANY_RESOURCE),
            });
        }
        cfg
    }

    fn chain(cfg: &mut Cfg, effects: &[Effect]) -> NodeId {
        let mut prev = ENTRY;
        for e in effects {
            let n = cfg.add(*e, Span::default());
            cfg.link(prev, n, EdgeKind::Normal);
            prev = n;
        }
        prev
    }

    #[test]
    fn overwriting_the_only_name_loses_the_connection() {
        let mut cfg = with_acquisitions(1);
        let last = chain(
            &mut cfg,
            &[
                Effect::Acquire(0),
                Effect::Bind {
                    dst: 0,
                    src: Some(Operand::Temp(0)),
                },
                Effect::Bind { dst: 0, src: None },
            ],
        );
        cfg.link(last, NORMAL_EXIT, EdgeKind::Normal);
        let out = solve(&cfg, 0);
        // Nodes 0-2 are entry and exits; the kill is the third node of the chain.
        assert_eq!(out.normal_leaks, vec![(None, Some(5))]);
    }

    #[test]
    fn falsy_branch_refutes_the_held_state() {
        let mut cfg = with_acquisitions(1);
        let bound = chain(
            &mut cfg,
            &[
                Effect::Acquire(0),
                Effect::Bind {
                    dst: 1,
                    src: Some(Operand::Temp(0)),
                },
            ],
        );
        let release = cfg.add(
            Effect::Release {
                what: Operand::Var(1),
                how: ReleaseHow::PoolMethod("putconn"),
            },
            Span::default(),
        );
        let falsy = cfg.add(Effect::AssumeFalsy(1), Span::default());
        cfg.link(bound, release, EdgeKind::Normal);
        cfg.link(bound, falsy, EdgeKind::Normal);
        cfg.link(release, NORMAL_EXIT, EdgeKind::Normal);
        cfg.link(falsy, NORMAL_EXIT, EdgeKind::Normal);
        let out = solve(&cfg, 0);
        assert!(out.normal_leaks.is_empty(), "{out:?}");
        assert!(out.released_somewhere);
    }

    #[test]
    fn a_false_ownership_flag_refutes_only_its_own_acquisition() {
        let mut cfg = with_acquisitions(2);
        // Both acquisitions are held; the only way out says the first is not.
        let end = chain(
            &mut cfg,
            &[
                Effect::Acquire(0),
                Effect::Bind {
                    dst: 1,
                    src: Some(Operand::Temp(0)),
                },
                Effect::Acquire(1),
                Effect::Bind {
                    dst: 2,
                    src: Some(Operand::Temp(1)),
                },
                Effect::AssumeNotHeld(0),
            ],
        );
        cfg.link(end, NORMAL_EXIT, EdgeKind::Normal);
        assert!(solve(&cfg, 0).normal_leaks.is_empty());
        assert_eq!(solve(&cfg, 1).normal_leaks.len(), 1);
    }
}
