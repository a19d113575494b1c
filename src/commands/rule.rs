//! `connlint rule CODE` (a rule's documentation) and `connlint rule --all` (the list).

use std::io::{self, Write};

use connlint_rules::{all_rules, find_rule, RuleMeta, SelectionError};

use super::{stdout_result, CliError};
use crate::args::RuleArgs;
use crate::ExitStatus;

pub(crate) fn run(args: &RuleArgs) -> miette::Result<ExitStatus> {
    let text = match &args.code {
        Some(code) if !args.all => {
            let rule = find_rule(code.trim())
                .ok_or_else(|| CliError::Selection(SelectionError::UnknownRule(code.clone())))?;
            docs(rule.meta())
        }
        _ => list(),
    };
    let mut out = io::stdout().lock();
    stdout_result(out.write_all(text.as_bytes()).and_then(|()| out.flush()))?;
    Ok(ExitStatus::Success)
}

/// The rule's documentation as Markdown, under a title with its code, name and defaults.
fn docs(meta: &RuleMeta) -> String {
    format!(
        "# {} {}\n\nSeverity: {}. {} by default.\n\n{}",
        meta.code,
        meta.name,
        meta.severity.as_str(),
        if meta.default_enabled { "On" } else { "Off" },
        meta.docs()
    )
}

/// One line per rule: code, name, severity, on/off by default, summary.
fn list() -> String {
    let metas: Vec<&RuleMeta> = all_rules().iter().map(|r| r.meta()).collect();
    let width = metas.iter().map(|m| m.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for meta in metas {
        out.push_str(&format!(
            "{}  {:<width$}  {:<7}  {:<3}  {}\n",
            meta.code,
            meta.name,
            meta.severity.as_str(),
            if meta.default_enabled { "on" } else { "off" },
            meta.summary(),
        ));
    }
    out
}
