//! Every rule, one line each, sorted by code.

use crate::acquire_call_without_timeout::AcquireCallWithoutTimeout;
use crate::acquire_without_timeout::AcquireWithoutTimeout;
use crate::connection_budget_exceeded::ConnectionBudgetExceeded;
use crate::connection_forgotten::ConnectionForgotten;
use crate::connection_held_across_await::ConnectionHeldAcrossAwait;
use crate::connection_leaked_on_exception::ConnectionLeakedOnException;
use crate::connection_not_released::ConnectionNotReleased;
use crate::context_manager_does_not_close::ContextManagerDoesNotClose;
use crate::nested_acquire::NestedAcquire;
use crate::pool_created_per_call::PoolCreatedPerCall;
use crate::release_left_to_finalizer::ReleaseLeftToFinalizer;
use crate::unbounded_pool::UnboundedPool;
use crate::Rule;

static RULES: &[&dyn Rule] = &[
    &ConnectionNotReleased,
    &ConnectionLeakedOnException,
    &ReleaseLeftToFinalizer,
    &UnboundedPool,
    &PoolCreatedPerCall,
    &ConnectionHeldAcrossAwait,
    &NestedAcquire,
    &ContextManagerDoesNotClose,
    &ConnectionForgotten,
    &AcquireWithoutTimeout,
    &ConnectionBudgetExceeded,
    &AcquireCallWithoutTimeout,
];

pub fn all_rules() -> &'static [&'static dyn Rule] {
    RULES
}

/// A rule by code (`CL001`, any case) or name (`connection-not-released`).
pub fn find_rule(key: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(key) || r.meta().name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_sorted_and_well_formed() {
        let codes: Vec<&str> = RULES.iter().map(|r| r.meta().code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            codes, sorted,
            "registry must be sorted by code, without duplicates"
        );
        let mut names: Vec<&str> = RULES.iter().map(|r| r.meta().name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        for r in RULES {
            let m = r.meta();
            assert!(m.code.len() == 5 && m.code.starts_with("CL"), "{}", m.code);
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn every_rule_is_documented_with_the_required_headings_in_order() {
        for r in RULES {
            let docs = r.meta().docs();
            let mut at = 0;
            for heading in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "Use instead:",
                "## Known limitations",
            ] {
                let pos = docs[at..].find(heading);
                assert!(
                    pos.is_some(),
                    "{}: missing or misplaced `{heading}`",
                    r.meta().code
                );
                at += pos.unwrap_or(0);
            }
            assert!(!r.meta().summary().is_empty());
        }
    }
}
