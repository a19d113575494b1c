//! Output formats. Only this module knows how findings look on the outside.
//!
//! - [`human`]: miette's graphical reports (title `CL001 connection-not-released: message`,
//!   the snippet with the primary and secondary labels, `help:`), then problems and a summary
//!   line on stderr.
//! - [`json`]: one pretty-printed document on stdout, the shape of DESIGN.md section 7.
//! - [`sarif`]: SARIF 2.1.0 on stdout, for code scanning.
//! - [`github`]: GitHub Actions workflow commands on stdout, one annotation per finding.

pub(crate) mod github;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod sarif;

use connlint_rules::Finding;

/// All findings of one file rendered as the human format shows them, without colour or
/// hyperlinks, with the unicode theme at a fixed width of 100 columns: deterministic, for
/// snapshot tests. Each finding is followed by an empty line.
pub fn render_human_plain(path: &str, text: &str, findings: &[Finding]) -> String {
    human::render_file(path, text, findings, false)
}
