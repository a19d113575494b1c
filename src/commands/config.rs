//! `connlint config`: the configuration in force, as TOML, each value marked with where it
//! comes from (the configuration file, or connlint's default).

use std::io::{self, Write};

use connlint_rules::{all_rules, Limits};

use super::{stdout_result, CliError};
use crate::args::ConfigArgs;
use crate::cache;
use crate::config::{self, Config};
use crate::ExitStatus;

pub(crate) fn run(args: &ConfigArgs) -> miette::Result<ExitStatus> {
    let cwd = std::env::current_dir().map_err(CliError::CurrentDir)?;
    let config = config::load(args.config.as_deref(), &cwd).map_err(CliError::from)?;
    let rules = config
        .selection(None, &[], &[])
        .map_err(CliError::Selection)?
        .codes()
        .to_vec();
    let text = render(&config, &rules);
    let mut out = io::stdout().lock();
    stdout_result(out.write_all(text.as_bytes()).and_then(|()| out.flush()))?;
    Ok(ExitStatus::Success)
}

/// The effective configuration: every key, the file's value or the default, and a comment
/// saying which.
fn render(config: &Config, rules: &[&str]) -> String {
    let source = config.source.as_deref().unwrap_or("");
    let mut out = match &config.source {
        Some(path) => format!("# configuration file: {path}\n"),
        None => "# no configuration file found (connlint.toml, [tool.connlint] in pyproject.toml, \
                 [package.metadata.connlint] in Cargo.toml); every value is a default\n"
            .to_string(),
    };
    let defaults = Limits::default();
    let default_rules: Vec<&str> = all_rules()
        .iter()
        .map(|r| r.meta())
        .filter(|m| m.default_enabled)
        .map(|m| m.code)
        .collect();
    let list = |items: &[&str]| {
        toml::Value::Array(
            items
                .iter()
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        )
        .to_string()
    };
    line(
        &mut out,
        config,
        "select",
        list(&default_rules),
        "default: the rules on by default".into(),
    );
    line(
        &mut out,
        config,
        "extend-select",
        "[]".into(),
        "default".into(),
    );
    line(&mut out, config, "ignore", "[]".into(), "default".into());
    line(&mut out, config, "exclude", "[]".into(), "default".into());
    line(
        &mut out,
        config,
        "cache-dir",
        toml::Value::String(cache::DEFAULT_DIR.into()).to_string(),
        "default, beside the configuration file or in the current directory".into(),
    );
    line(
        &mut out,
        config,
        "max-pool-size",
        defaults.max_pool_size.to_string(),
        "default".into(),
    );
    out.push_str(&format!(
        "# rules that run: {}\n",
        if rules.is_empty() {
            "none".to_string()
        } else {
            rules.join(", ")
        }
    ));
    out.push_str("\n[budget]\n");
    line(
        &mut out,
        config,
        "budget.max-connections",
        defaults.max_connections.to_string(),
        "default: PostgreSQL's max_connections".into(),
    );
    line(
        &mut out,
        config,
        "budget.processes",
        defaults.processes.to_string(),
        "default".into(),
    );
    let sections = [
        ("budget.multiplicity.", "\n[budget.multiplicity]\n"),
        ("per-file-ignores.", "\n[per-file-ignores]\n"),
    ];
    for (prefix, header) in sections {
        out.push_str(header);
        let mut any = false;
        for (key, value) in config.from_file.range(prefix.to_string()..) {
            let Some(name) = key.strip_prefix(prefix) else {
                break;
            };
            out.push_str(&format!("{name} = {value}  # {source}\n"));
            any = true;
        }
        if !any {
            out.push_str("# none\n");
        }
    }
    out.push_str("\n[functions]\n");
    line(
        &mut out,
        config,
        "functions.acquire",
        "[]".into(),
        "default".into(),
    );
    line(
        &mut out,
        config,
        "functions.release",
        "[]".into(),
        "default".into(),
    );
    line(
        &mut out,
        config,
        "functions.slow-await",
        "[]".into(),
        "default".into(),
    );
    out
}

/// One `key = value  # origin` line: the file's value when it sets the key, else the default.
fn line(out: &mut String, config: &Config, key: &str, value: String, default: String) {
    let (value, from) = match config.from_file.get(key) {
        Some(v) => (v.clone(), config.source.clone().unwrap_or_default()),
        None => (value, default),
    };
    let key = key.rsplit('.').next().unwrap_or(key);
    out.push_str(&format!("{key} = {value}  # {from}\n"));
}
