//! The result of a `check` run as plain data: what the renderers print.

use std::borrow::Cow;

use connlint_rules::Finding;

use crate::fingerprint::fingerprints;

/// Everything one run found, sorted by path.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Files with at least one finding, with their text (for snippets and line numbers).
    pub files: Vec<FileFindings>,
    /// Files, or parts of files, that could not be analysed.
    pub problems: Vec<ProblemEntry>,
    /// How many Python files were looked at, including those that could not be analysed.
    pub files_checked: usize,
    /// With `--baseline`: how the baseline's entries met this run's findings.
    pub baseline: Option<BaselineOutcome>,
    /// Per file of `files`, each finding's fingerprint, once [`Report::compute_fingerprints`]
    /// has run.
    pub(crate) fingerprints: Vec<Vec<String>>,
}

/// What `--baseline` did: findings it hid, and entries that matched nothing any more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BaselineOutcome {
    /// Findings left out of the report because the baseline has them.
    pub matched: usize,
    /// Entries of files checked in this run (or of files that no longer exist) that no finding
    /// matched: fixed since the baseline was written.
    pub fixed: usize,
}

#[derive(Debug)]
pub(crate) struct FileFindings {
    pub path: String,
    pub text: String,
    /// Sorted by position.
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProblemEntry {
    pub path: String,
    pub message: String,
}

impl Report {
    pub fn finding_count(&self) -> usize {
        self.files.iter().map(|f| f.findings.len()).sum()
    }

    /// Fingerprints every finding. Done once, before findings are taken out: a fingerprint
    /// counts the identical findings before it in its file, and that count must not change
    /// because a baseline hid one of them.
    pub fn compute_fingerprints(&mut self) {
        self.fingerprints = self
            .files
            .iter()
            .map(|file| fingerprints(&file.text, &file.findings))
            .collect();
    }

    /// The fingerprints of the findings of `files[index]`, in order.
    pub fn fingerprints(&self, index: usize) -> Cow<'_, [String]> {
        match (self.fingerprints.get(index), self.files.get(index)) {
            (Some(prints), Some(file)) if prints.len() == file.findings.len() => {
                Cow::Borrowed(prints)
            }
            (_, Some(file)) => Cow::Owned(fingerprints(&file.text, &file.findings)),
            (_, None) => Cow::Owned(Vec::new()),
        }
    }

    /// Keeps, in each file, the findings for which `keep(file, finding, fingerprint)` is true,
    /// and only the files left with some.
    pub fn retain_findings(&mut self, mut keep: impl FnMut(&FileFindings, &Finding, &str) -> bool) {
        let mut all_prints = Vec::with_capacity(self.files.len());
        for index in 0..self.files.len() {
            let prints = self.fingerprints(index).into_owned();
            let file = &self.files[index];
            let verdicts: Vec<bool> = file
                .findings
                .iter()
                .zip(&prints)
                .map(|(finding, print)| keep(file, finding, print))
                .collect();
            let mut flags = verdicts.iter();
            let file = &mut self.files[index];
            file.findings.retain(|_| *flags.next().unwrap_or(&true));
            let mut flags = verdicts.iter();
            all_prints.push(
                prints
                    .into_iter()
                    .filter(|_| *flags.next().unwrap_or(&true))
                    .collect::<Vec<_>>(),
            );
        }
        let mut kept = all_prints.into_iter();
        let files = std::mem::take(&mut self.files);
        self.fingerprints.clear();
        for file in files {
            let prints = kept.next().unwrap_or_default();
            if !file.findings.is_empty() {
                self.files.push(file);
                self.fingerprints.push(prints);
            }
        }
    }
}
