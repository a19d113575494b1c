//! `connlint check`: find the files, read them, analyse them in parallel, report.
//!
//! Bad input never stops the run: a file that cannot be read, is binary, is not UTF-8, is too
//! large, or does not parse becomes a problem entry (with `--strict`, exit code 2) and the
//! other files are still analysed. Only a path that does not exist, a bad configuration, an
//! unknown rule or a bad `--baseline` stop it before it starts.
//!
//! After the analysis, [`refine`] applies what is not analysis (unused suppressions,
//! `per-file-ignores`), then `--write-baseline` records the findings or `--baseline` hides the
//! known ones, and a renderer prints what is left.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use connlint_analyzer::{Language, LineIndex, Memo, SourceFile};
use connlint_rules::{Checked, Finding, Limits, Selection, UNUSED_SUPPRESSION};
use ignore::WalkBuilder;
use rayon::prelude::*;

use super::{stdout_result, CliError, Written};
use crate::args::{CheckArgs, Format};
use crate::baseline::{self, Baseline};
use crate::cache::{self, Cache};
use crate::config::{self, absolute, Config};
use crate::render::{github, human, json, sarif};
use crate::report::{FileFindings, ProblemEntry, Report};
use crate::ExitStatus;

/// Files above this size are skipped: generated or vendored code, not worth the memory.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// A NUL byte in this many leading bytes makes a file binary.
const BINARY_PROBE: usize = 8 * 1024;
/// Analysis threads get deep stacks: the analyzer bounds its recursion, and this much lets it
/// parse a Rust file in place instead of on a thread started for it (reserved, not touched).
const STACK_BYTES: usize = connlint_analyzer::ANALYSIS_STACK_BYTES;
/// The stack of the analysis threads where [`STACK_BYTES`] should not or cannot be reserved
/// (an address-space limit, `ulimit -v`, which the reservations would eat into; strict
/// overcommit on a machine with many cores): the analyzer then starts a thread of its own for
/// each Rust file's parse, which is slower but the same analysis.
const FALLBACK_STACK_BYTES: usize = 32 * 1024 * 1024;

pub(crate) fn run(args: &CheckArgs) -> miette::Result<ExitStatus> {
    let cwd = std::env::current_dir().map_err(CliError::CurrentDir)?;
    // The configuration is looked for from the first checked path upwards, so that checking
    // `services/billing` from the repository root uses that service's configuration.
    let start = match args.paths.first() {
        Some(first) if args.stdin_filename.is_none() => {
            let first = absolute(&cwd, first);
            if first.is_dir() {
                first
            } else {
                first
                    .parent()
                    .map_or_else(|| cwd.clone(), Path::to_path_buf)
            }
        }
        _ => cwd.clone(),
    };
    let config = config::load_from(args.config.as_deref(), &start, &cwd).map_err(CliError::from)?;
    let selection = config
        .selection(args.select.as_deref(), &args.extend_select, &args.ignore)
        .map_err(CliError::Selection)?;
    // Read before the analysis, so that a bad baseline stops the run before any work.
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path, &cwd).map_err(CliError::from)?),
        None => None,
    };

    let (inputs, walk_problems) = match &args.stdin_filename {
        Some(name) => (vec![read_stdin(name)?], Vec::new()),
        None => collect(args, &config, &cwd)?,
    };
    let checked: Vec<String> = inputs.iter().map(|input| input.path.clone()).collect();
    let mut cache = (!args.no_cache && args.stdin_filename.is_none()).then(|| {
        let root = match (&args.cache_dir, &config.cache_dir) {
            (Some(dir), _) => config::absolute(&cwd, dir),
            (None, Some(dir)) => dir.clone(),
            (None, None) => config
                .root
                .as_deref()
                .unwrap_or(&cwd)
                .join(cache::DEFAULT_DIR),
        };
        Cache::open(&root)
    });
    let memo = cache.as_mut().map(|c| &mut c.memo);
    let mut report = analyse_all(
        inputs,
        walk_problems,
        &config.declared,
        &selection,
        &config.limits,
        !args.no_prefilter,
        memo,
    )?;
    if let Some(Err(message)) = cache.as_ref().map(Cache::save) {
        let _ = writeln!(
            io::stderr().lock(),
            "warning: {message} (--no-cache skips it)"
        );
    }
    refine(&mut report, args, &config, &cwd);

    if let Some(path) = &args.write_baseline {
        let count = baseline::write(path, &cwd, &report).map_err(CliError::from)?;
        let _ = human::write_baseline_written(
            &report,
            count,
            path,
            &mut io::stderr().lock(),
            args.color.enabled(&io::stderr()),
        );
        return Ok(if args.strict && !report.problems.is_empty() {
            ExitStatus::Error
        } else {
            ExitStatus::Success
        });
    }
    if let Some(baseline) = &baseline {
        report.baseline = Some(baseline.apply(&mut report, &checked, &cwd));
    }

    let status = if args.strict && !report.problems.is_empty() {
        ExitStatus::Error
    } else if report.finding_count() > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = stdout_result(match args.format {
        Format::Human => {
            human::write_findings(&report, &mut out, args.color.enabled(&io::stdout()))
        }
        Format::Json => json::write(&report, &mut out),
        Format::Sarif => sarif::write(&report, &mut out),
        Format::Github => github::write(&report, &mut out),
    })?;
    if written == Written::All {
        // Nothing more can be done about a failing stderr.
        let mut err = io::stderr().lock();
        let _ = match args.format {
            Format::Human => {
                human::write_footer(&report, &mut err, args.color.enabled(&io::stderr()))
            }
            // Machine formats keep stdout to themselves; the baseline's news goes to stderr.
            _ => match human::fixed_baseline_line(&report) {
                Some(line) => writeln!(err, "{line}"),
                None => Ok(()),
            },
        };
    }
    // `check` is the last thing the process does (`crate::run` is `main`'s body): the OS takes
    // the report's memory back at once, where freeing its texts and findings one by one took
    // 0.1 s of the dense tree's 1.4 s.
    std::mem::forget(report);
    Ok(status)
}

/// What the configuration and the flags take out of the analysis' findings, before any
/// baseline: suppression comments that silence nothing (kept only with
/// `--report-unused-suppressions`, then sorted in among the findings) and `per-file-ignores`.
/// Fingerprints are taken here, before a baseline hides anything.
fn refine(report: &mut Report, args: &CheckArgs, config: &Config, cwd: &Path) {
    for file in &mut report.files {
        if args.report_unused_suppressions {
            file.findings.sort_by_key(|f| (f.span.start, f.code));
        } else {
            file.findings.retain(|f| f.code != UNUSED_SUPPRESSION);
        }
    }
    report.files.retain(|file| !file.findings.is_empty());
    report.compute_fingerprints();
    if !config.per_file_ignores.is_empty() {
        report.retain_findings(|file, finding, _| {
            !config
                .per_file_ignores
                .ignores(&absolute(cwd, Path::new(&file.path)), finding.code)
        });
    }
}

/// One file to analyse, under the name it is reported as.
struct Input {
    path: String,
    source: Source,
}

enum Source {
    File(PathBuf),
    /// Already read (standard input), or why it could not be.
    Read(Result<Vec<u8>, String>),
}

/// What one file produced.
struct FileResult {
    path: String,
    text: String,
    findings: Vec<Finding>,
    problems: Vec<String>,
}

fn read_stdin(name: &str) -> Result<Input, CliError> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(CliError::Stdin)?;
    let bytes = if bytes.len() as u64 > MAX_FILE_BYTES {
        Err(too_large(bytes.len() as u64))
    } else {
        Ok(bytes)
    };
    Ok(Input {
        path: name.to_string(),
        source: Source::Read(bytes),
    })
}

/// The files named on the command line and the Python files under the directories named, in
/// path order, and the problems met while walking.
fn collect(
    args: &CheckArgs,
    config: &Config,
    cwd: &Path,
) -> Result<(Vec<Input>, Vec<ProblemEntry>), CliError> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    let mut dirs = Vec::new();
    for path in &paths {
        match fs::metadata(path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(CliError::MissingPath(path.display().to_string()));
            }
            // Ex) a FIFO or a device named on the command line: reading it could block forever.
            Ok(meta) if !meta.is_dir() && !meta.is_file() => problems.push(ProblemEntry {
                path: display_path(path),
                message: "not a regular file; skipped".into(),
            }),
            // Ex) `lib.rs` from the pre-commit hook (`types_or: [python, rust]`) before Rust
            // analysis exists: read as Python it would only be a syntax error.
            Ok(meta) if meta.is_file() && is_planned_language(path) => {}
            Ok(meta) if meta.is_file() => inputs.push(Input {
                path: display_path(path),
                source: Source::File(path.clone()),
            }),
            // Directories, and paths the walker will report on (permissions, symlink loops).
            _ => dirs.push(path.clone()),
        }
    }
    if let Some((first, rest)) = dirs.split_first() {
        walk(
            first,
            rest,
            !args.no_ignore,
            config,
            cwd,
            &mut inputs,
            &mut problems,
        );
    }
    // Ex) `connlint check app.py .`: each file once.
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|input| seen.insert(input.path.clone()));
    Ok((inputs, problems))
}

/// The source files under `first` and `rest`, in path order within each, honouring ignore
/// files (unless told not to), hidden names and the configuration's `exclude`.
///
/// Each folder is walked on several threads (the file system's metadata calls were 90 ms of a
/// 14,400-file tree, on one core), and its files are then sorted by their path's bytes, so
/// that every run hands the analysis the same list (the report is sorted by path anyway).
fn walk(
    first: &Path,
    rest: &[PathBuf],
    honour_ignore_files: bool,
    config: &Config,
    cwd: &Path,
    inputs: &mut Vec<Input>,
    problems: &mut Vec<ProblemEntry>,
) {
    for root in std::iter::once(first).chain(rest.iter().map(PathBuf::as_path)) {
        let mut builder = WalkBuilder::new(root);
        builder
            .hidden(true)
            .parents(honour_ignore_files)
            .ignore(honour_ignore_files)
            .git_ignore(honour_ignore_files)
            .git_global(honour_ignore_files)
            .git_exclude(honour_ignore_files)
            .require_git(false)
            .follow_links(true);
        if !config.exclude.is_empty() {
            let exclude = config.exclude.clone();
            let cwd = cwd.to_path_buf();
            builder.filter_entry(move |entry| {
                entry.depth() == 0 || !exclude.is_excluded(&absolute(&cwd, entry.path()))
            });
        }
        let found: std::sync::Mutex<(Vec<PathBuf>, Vec<ProblemEntry>)> = Default::default();
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                match entry {
                    Ok(entry) => {
                        let is_file = entry.file_type().is_some_and(|t| t.is_file());
                        if is_file && is_source(entry.path()) {
                            found.0.push(entry.into_path());
                        }
                    }
                    Err(err) => found.1.extend(walk_problem(&err)),
                }
                ignore::WalkState::Continue
            })
        });
        let (mut files, mut walk_problems) = found.into_inner().unwrap_or_else(|e| e.into_inner());
        files.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        inputs.extend(files.into_iter().map(|path| Input {
            path: display_path(&path),
            source: Source::File(path),
        }));
        walk_problems.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        problems.extend(walk_problems);
    }
}

/// The source files `connlint check` run in `root` would analyse there (the walk above, with
/// ignore files honoured), and the problems met on the way; for the language server.
pub(crate) fn source_files(root: &Path, config: &Config) -> (Vec<PathBuf>, Vec<ProblemEntry>) {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    walk(root, &[], true, config, root, &mut inputs, &mut problems);
    let files = inputs
        .into_iter()
        .filter_map(|input| match input.source {
            Source::File(path) => Some(path),
            Source::Read(_) => None,
        })
        .collect();
    (files, problems)
}

/// Whether a file is in a language connlint will read but does not yet (Rust: CL009-CL011).
/// Such files named on the command line are passed over without a word; this stops applying
/// by itself once `Language::from_path` knows the extension.
fn is_planned_language(path: &Path) -> bool {
    !is_source(path) && path.extension().is_some_and(|ext| ext == "rs")
}

/// Whether a walked file is one connlint reads.
fn is_source(path: &Path) -> bool {
    path.to_str().and_then(Language::from_path).is_some()
}

/// How a path is reported: as given or walked, without a leading `./`.
fn display_path(path: &Path) -> String {
    match path.strip_prefix(".") {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// A walker error as a problem entry; `None` for those that do not concern a source file.
fn walk_problem(err: &ignore::Error) -> Option<ProblemEntry> {
    let mut path: Option<&Path> = None;
    let mut inner = err;
    loop {
        match inner {
            ignore::Error::WithPath { path: p, err } => {
                path = path.or(Some(p));
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err
            }
            _ => break,
        }
    }
    match inner {
        ignore::Error::Loop { ancestor, child } => Some(ProblemEntry {
            path: display_path(child),
            message: format!(
                "symlink loop (leads back to {}); skipped",
                display_path(ancestor)
            ),
        }),
        ignore::Error::Io(io_err) => {
            // Ex) a dangling symlink `notes.txt`: not ours to complain about.
            if io_err.kind() == io::ErrorKind::NotFound && !path.is_some_and(is_source) {
                return None;
            }
            Some(ProblemEntry {
                path: path.map(display_path).unwrap_or_default(),
                message: format!("cannot read: {io_err}; skipped"),
            })
        }
        other => Some(ProblemEntry {
            path: path.map(display_path).unwrap_or_default(),
            message: other.to_string(),
        }),
    }
}

/// Reads every input in parallel, analyses them together (summaries cross files), and sorts
/// the results by path.
fn analyse_all(
    inputs: Vec<Input>,
    walk_problems: Vec<ProblemEntry>,
    declared: &connlint_analyzer::Declarations,
    selection: &Selection,
    limits: &Limits,
    prefilter: bool,
    memo: Option<&mut Memo>,
) -> Result<Report, CliError> {
    let deep = address_space_unlimited(limits_file().as_deref())
        .then(|| analysis_pool(STACK_BYTES).ok())
        .flatten();
    let pool = match deep {
        Some(pool) => pool,
        None => {
            analysis_pool(FALLBACK_STACK_BYTES).map_err(|e| CliError::ThreadPool(e.to_string()))?
        }
    };
    let files_checked = inputs.len();
    let mut results: Vec<FileResult> = pool.install(|| {
        let read: Vec<(String, Result<String, String>)> = inputs
            .into_par_iter()
            .map(|input| {
                let bytes = match input.source {
                    Source::File(path) => read_file(&path),
                    Source::Read(bytes) => bytes,
                };
                (input.path, bytes.and_then(decode))
            })
            .collect();
        check_texts(read, declared, selection, limits, prefilter, memo)
    });
    results.sort_by(|a, b| a.path.cmp(&b.path));

    let mut report = Report {
        files_checked,
        problems: walk_problems,
        ..Report::default()
    };
    for result in results {
        report
            .problems
            .extend(result.problems.into_iter().map(|message| ProblemEntry {
                path: result.path.clone(),
                message,
            }));
        if !result.findings.is_empty() {
            report.files.push(FileFindings {
                path: result.path,
                text: result.text,
                findings: result.findings,
            });
        }
    }
    report.problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// The analysis threads, each with `stack` bytes of stack. If one cannot be started, the ones
/// already started are ended and waited for before this returns, so that their stacks are given
/// back before a pool with smaller ones is tried.
fn analysis_pool(stack: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let started = std::sync::Mutex::new(Vec::new());
    let built = rayon::ThreadPoolBuilder::new()
        .stack_size(stack)
        .thread_name(|i| format!("connlint-{i}"))
        .spawn_handler(|thread| {
            let mut builder = std::thread::Builder::new();
            if let Some(name) = thread.name() {
                builder = builder.name(name.to_owned());
            }
            if let Some(size) = thread.stack_size() {
                builder = builder.stack_size(size);
            }
            let handle = builder.spawn(|| thread.run())?;
            if let Ok(mut started) = started.lock() {
                started.push(handle);
            }
            Ok(())
        })
        .build();
    if built.is_err() {
        // rayon ends the threads of a pool it could not finish.
        for handle in started.into_inner().unwrap_or_default() {
            let _ = handle.join();
        }
    }
    built
}

/// The process's resource limits, where the OS shows them (Linux).
fn limits_file() -> Option<String> {
    std::fs::read_to_string("/proc/self/limits").ok()
}

/// Whether no address-space limit is set (`Max address space` in `/proc/self/limits`, as
/// `ulimit -v` sets it); without the file, assumed so.
fn address_space_unlimited(limits: Option<&str>) -> bool {
    let Some(limits) = limits else {
        return true;
    };
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max address space"))
        .is_none_or(|rest| rest.split_whitespace().next() == Some("unlimited"))
}

/// Analyses the readable files as one project. The analyzer promises not to panic; if it
/// breaks that promise, each file is analysed alone so that only the culprit is lost.
fn check_texts(
    read: Vec<(String, Result<String, String>)>,
    declared: &connlint_analyzer::Declarations,
    selection: &Selection,
    limits: &Limits,
    prefilter: bool,
    memo: Option<&mut Memo>,
) -> Vec<FileResult> {
    let mut results = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new();
    for (path, text) in read {
        match text {
            Ok(text) => texts.push((path, text)),
            Err(message) => results.push(FileResult {
                path,
                text: String::new(),
                findings: Vec::new(),
                problems: vec![message],
            }),
        }
    }
    let python: Vec<usize> = (0..texts.len())
        .filter(|&i| {
            Language::from_path(&texts[i].0).unwrap_or(Language::Python) == Language::Python
        })
        .collect();
    let files: Vec<SourceFile> = python
        .iter()
        .map(|&i| SourceFile {
            path: &texts[i].0,
            text: &texts[i].1,
        })
        .collect();
    // A panic leaves the memo's earlier contents as they were: at worst the next run is cold.
    let options = connlint_rules::ProjectOptions {
        declared,
        selection,
        limits,
        prefilter,
    };
    let project = catch_unwind(AssertUnwindSafe(|| match memo {
        Some(memo) => connlint_rules::check_project_with(Language::Python, &files, options, memo),
        None => {
            let mut memo = Memo::new();
            let checked =
                connlint_rules::check_project_with(Language::Python, &files, options, &mut memo);
            // The last references to every analysis: freed beside the rest of the run (the
            // dense tree's take 0.1 s), not before it. If no thread can be made, the closure
            // is dropped unrun, freeing the memo here (`thread::spawn` would panic instead).
            let _ = std::thread::Builder::new().spawn(move || drop(memo));
            checked
        }
    }));
    drop(files);
    // The Rust files of the run are analysed together as one crate (not remembered yet).
    let rust: Vec<usize> = (0..texts.len())
        .filter(|&i| Language::from_path(&texts[i].0) == Some(Language::Rust))
        .collect();
    let rust_files: Vec<SourceFile> = rust
        .iter()
        .map(|&i| SourceFile {
            path: &texts[i].0,
            text: &texts[i].1,
        })
        .collect();
    let rust_checked = catch_unwind(AssertUnwindSafe(|| {
        connlint_rules::check_project_with(Language::Rust, &rust_files, options, &mut Memo::new())
    }));
    drop(rust_files);
    let rust_checked: Vec<Checked> = rust_checked.unwrap_or_default();
    match project {
        Ok(checked) => {
            // Each text's result by its position among the texts (the Python and Rust results
            // come in the order of `python` and `rust`, which do not overlap).
            let mut found: Vec<Option<Checked>> = (0..texts.len()).map(|_| None).collect();
            for (&k, c) in python.iter().zip(checked) {
                found[k] = Some(c);
            }
            for (&k, c) in rust.iter().zip(rust_checked) {
                found[k] = Some(c);
            }
            for ((path, text), found) in texts.into_iter().zip(found) {
                let result = match found {
                    Some(c) => file_result(path, text, c),
                    None => check_one(path, text, selection, limits),
                };
                results.push(result);
            }
        }
        Err(_) => results.extend(
            texts
                .into_par_iter()
                .map(|(path, text)| check_one(path, text, selection, limits))
                .collect::<Vec<_>>(),
        ),
    }
    results
}

/// One file analysed alone, with a crash turned into a problem.
fn check_one(path: String, text: String, selection: &Selection, limits: &Limits) -> FileResult {
    let language = Language::from_path(&path).unwrap_or(Language::Python);
    match catch_unwind(AssertUnwindSafe(|| {
        connlint_rules::check_source_with(language, &text, selection, limits)
    })) {
        Ok(checked) => file_result(path, text, checked),
        Err(_) => FileResult {
            path,
            text: String::new(),
            findings: Vec::new(),
            problems: vec![
                "internal error: the analyzer crashed on this file (please report it); skipped"
                    .into(),
            ],
        },
    }
}

/// Findings (suppression comments applied, unused ones kept for `--report-unused-suppressions`)
/// and problems of one file, with problem positions as text.
fn file_result(path: String, text: String, mut checked: Checked) -> FileResult {
    // `check` keeps unused suppressions only with --report-unused-suppressions.
    checked.findings.append(&mut checked.unused_suppressions);
    // Built only for a problem with a position: most files have none, and indexing every
    // file's lines here, one file after another, was 8% of SymPy's run.
    let mut index: Option<LineIndex> = None;
    let problems = checked
        .problems
        .iter()
        .map(|problem| match problem.span {
            Some(span) => {
                let at = index
                    .get_or_insert_with(|| LineIndex::new(&text))
                    .line_col(span.start);
                format!(
                    "line {}, column {}: {}",
                    at.line, at.column, problem.message
                )
            }
            None => problem.message.clone(),
        })
        .collect();
    FileResult {
        path,
        text,
        findings: checked.findings,
        problems,
    }
}

/// A source file's text as `check` reads it (size limit, binary, UTF-8, byte-order mark), or
/// why it cannot be read; for the language server.
pub(crate) fn read_source(path: &Path) -> Result<String, String> {
    read_file(path).and_then(decode)
}

/// A file's bytes, or why they could not be read.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot read: {e}; skipped"))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_FILE_BYTES {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // Bounded even if the file grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}; skipped"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn too_large(len: u64) -> String {
    format!(
        "file is {:.1} MiB, over the 32 MiB limit; skipped",
        len as f64 / (1024.0 * 1024.0)
    )
}

/// The text of a source file: not binary, valid UTF-8, without a byte-order mark.
fn decode(bytes: Vec<u8>) -> Result<String, String> {
    if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
        return Err("binary file; skipped".into());
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.replace_range(..'\u{feff}'.len_utf8(), "");
            }
            Ok(text)
        }
        Err(err) => Err(format!(
            "not valid UTF-8 (first bad byte at offset {}); skipped",
            err.utf8_error().valid_up_to()
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_address_space_limit_is_read_from_the_limits_file() {
        let limits = |space: &str| {
            format!(
                "Limit                     Soft Limit           Hard Limit           Units     \n\
                 Max stack size            8388608              unlimited            bytes     \n\
                 Max address space         {space}            bytes     \n\
                 Max file locks            unlimited            unlimited            locks     \n"
            )
        };
        assert!(address_space_unlimited(Some(&limits(
            "unlimited            unlimited"
        ))));
        assert!(!address_space_unlimited(Some(&limits(
            "512000000            unlimited"
        ))));
        assert!(address_space_unlimited(None));
        assert!(address_space_unlimited(Some("")));
    }

    #[test]
    fn decode_rejects_binary_and_bad_utf8_and_drops_the_bom() {
        assert_eq!(
            decode(b"a\0b".to_vec()).unwrap_err(),
            "binary file; skipped"
        );
        assert_eq!(
            decode(b"ok\n\xff".to_vec()).unwrap_err(),
            "not valid UTF-8 (first bad byte at offset 3); skipped"
        );
        assert_eq!(
            decode("\u{feff}x = 1\n".as_bytes().to_vec()).unwrap(),
            "x = 1\n"
        );
        let mut late_nul = vec![b' '; BINARY_PROBE];
        late_nul.push(0);
        assert!(decode(late_nul).is_ok());
    }

    #[test]
    fn sizes_are_reported_in_mebibytes() {
        assert_eq!(
            too_large(40 * 1024 * 1024),
            "file is 40.0 MiB, over the 32 MiB limit; skipped"
        );
    }

    #[test]
    fn display_paths_drop_a_leading_dot() {
        assert_eq!(display_path(Path::new("./a/b.py")), "a/b.py");
        assert_eq!(display_path(Path::new("a/b.py")), "a/b.py");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(display_path(Path::new("/x/y.py")), "/x/y.py");
    }
}
