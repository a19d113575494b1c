//! Which rules run: defaults, `--select`, `--ignore`.

use crate::registry::{all_rules, find_rule};
use crate::RuleMeta;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectionError {
    #[error("unknown rule `{0}` (see `connlint rule --all`)")]
    UnknownRule(String),
}

/// The set of enabled rules, by code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    enabled: Vec<&'static str>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            enabled: all_rules()
                .iter()
                .filter(|r| r.meta().default_enabled)
                .map(|r| r.meta().code)
                .collect(),
        }
    }
}

impl Selection {
    /// Every rule, including those off by default.
    pub fn all() -> Self {
        Selection {
            enabled: all_rules().iter().map(|r| r.meta().code).collect(),
        }
    }

    pub fn only(codes: &[&'static str]) -> Self {
        Selection {
            enabled: codes.to_vec(),
        }
    }

    /// `select` replaces the set (when given), then `ignore` removes from it. Each entry is a
    /// code, a rule name, a code prefix (`CL00`), or `ALL`.
    pub fn from_lists<S: AsRef<str>>(
        select: Option<&[S]>,
        ignore: &[S],
    ) -> Result<Self, SelectionError> {
        let mut sel = match select {
            Some(list) => {
                let mut s = Selection {
                    enabled: Vec::new(),
                };
                for key in list {
                    for code in expand(key.as_ref())? {
                        if !s.enabled.contains(&code) {
                            s.enabled.push(code);
                        }
                    }
                }
                s
            }
            None => Selection::default(),
        };
        for key in ignore {
            let drop = expand(key.as_ref())?;
            sel.enabled.retain(|c| !drop.contains(c));
        }
        Ok(sel)
    }

    /// Adds rules (codes, names, prefixes, `ALL`) to the set: `extend-select`.
    pub fn extend<S: AsRef<str>>(mut self, list: &[S]) -> Result<Self, SelectionError> {
        for key in list {
            for code in expand(key.as_ref())? {
                if !self.enabled.contains(&code) {
                    self.enabled.push(code);
                }
            }
        }
        Ok(self)
    }

    pub fn is_enabled(&self, meta: &RuleMeta) -> bool {
        self.enabled.contains(&meta.code)
    }

    pub fn codes(&self) -> &[&'static str] {
        &self.enabled
    }
}

fn expand(key: &str) -> Result<Vec<&'static str>, SelectionError> {
    let key = key.trim();
    if key.eq_ignore_ascii_case("ALL") {
        return Ok(all_rules().iter().map(|r| r.meta().code).collect());
    }
    if let Some(rule) = find_rule(key) {
        return Ok(vec![rule.meta().code]);
    }
    let upper = key.to_ascii_uppercase();
    if upper.starts_with("CL") && upper.len() < 5 {
        let matched: Vec<&'static str> = all_rules()
            .iter()
            .map(|r| r.meta().code)
            .filter(|c| c.starts_with(&upper))
            .collect();
        if !matched.is_empty() {
            return Ok(matched);
        }
    }
    Err(SelectionError::UnknownRule(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_ignore_accept_codes_names_prefixes_and_all() {
        let s = Selection::from_lists(Some(&["connection-not-released", "cl002"]), &[]).unwrap();
        assert_eq!(s.codes(), &["CL001", "CL002"]);
        let s = Selection::from_lists(Some(&["ALL"]), &["CL0"]).unwrap();
        assert!(s.codes().is_empty());
        let s = Selection::from_lists(Some(&["ALL"]), &["CL00"]).unwrap();
        assert!(
            s.codes().iter().all(|c| c.starts_with("CL01")),
            "{:?}",
            s.codes()
        );
        let err = Selection::from_lists(Some(&["CL999"]), &[]).unwrap_err();
        assert_eq!(err, SelectionError::UnknownRule("CL999".into()));
        assert!(Selection::from_lists::<&str>(None, &["nope"]).is_err());
    }
}
