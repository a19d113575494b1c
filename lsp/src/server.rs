//! The main loop: one thread takes messages in order, keeps the documents and the workspace
//! folders, and analyses when it has caught up with the client.
//!
//! Notifications only change texts and mark their folder dirty. Before the loop blocks for the
//! next message, and before it answers a request that reads findings, each dirty folder is
//! analysed again as a whole (`check_project_with` with the folder's configuration and memo, so only files whose
//! inputs changed are analysed again), and every open document whose diagnostics changed gets
//! them pushed. Edits that arrive together are analysed once. An edit to a factory in `db.py`
//! therefore refreshes `tools.py` without any dependency bookkeeping here.
//!
//! Anything that panics, in analysis or in a handler, is caught: the culprit file gets a problem
//! (or the request an `InternalError`), the panic is logged, and the server goes on.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use connlint_rules::analyzer::{Language, Memo, Problem, SourceFile};
use connlint_rules::{check_project_with, Checked, Finding, ProjectOptions};
use crossbeam_channel::{Sender, TryRecvError};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, Diagnostic, DiagnosticOptions, DiagnosticServerCapabilities,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams, DidChangeWorkspaceFoldersParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    DocumentDiagnosticParams, DocumentDiagnosticReport, DocumentDiagnosticReportResult,
    FileChangeType, FullDocumentDiagnosticReport, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, LogMessageParams, MarkupContent,
    MarkupKind, MessageType, OneOf, PositionEncodingKind, PublishDiagnosticsParams,
    RelatedFullDocumentDiagnosticReport, RelatedUnchangedDocumentDiagnosticReport, SaveOptions,
    ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit,
    UnchangedDocumentDiagnosticReport, Uri, WorkspaceEdit, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};
use serde_json::Value;

use crate::convert::{self, LineIndex};
use crate::fixes;
use crate::uri;
use crate::{Host, Workspace};

/// Documents above this size are not analysed (the command line's limit for files).
const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;

/// The configuration files whose saving reloads a folder.
const CONFIG_FILES: [&str; 3] = ["connlint.toml", "pyproject.toml", "Cargo.toml"];

/// How a folder's files are checked: `check_project_with`, or a stand-in in tests.
pub type ProjectCheck =
    fn(Language, &[SourceFile<'_>], ProjectOptions<'_>, &mut Memo) -> Vec<Checked>;

/// Serves `connection` until `exit`; returns the exit code (0 after `shutdown`, 1 otherwise).
pub fn serve(connection: Connection, host: &dyn Host) -> i32 {
    serve_with(connection, host, check_project_with)
}

/// [`serve`] with another project check (the tests make it panic).
#[doc(hidden)]
pub fn serve_with(connection: Connection, host: &dyn Host, check: ProjectCheck) -> i32 {
    let mut server = Server {
        sender: connection.sender.clone(),
        host,
        check,
        phase: Phase::Uninitialized,
        pull: false,
        refresh_support: false,
        folders: Vec::new(),
        loose: HashMap::new(),
        open: HashMap::new(),
        published: HashMap::new(),
        next_request: 0,
        new_roots: Vec::new(),
    };
    loop {
        let message = if server.is_dirty() {
            match connection.receiver.try_recv() {
                Ok(message) => message,
                Err(TryRecvError::Empty) => {
                    if catch_unwind(AssertUnwindSafe(|| server.refresh())).is_err() {
                        server.log("refreshing the diagnostics crashed; the server goes on");
                        server.clean();
                    }
                    continue;
                }
                Err(TryRecvError::Disconnected) => return 1,
            }
        } else {
            match connection.receiver.recv() {
                Ok(message) => message,
                // Ex) the client went away without `exit`.
                Err(_) => return 1,
            }
        };
        match message {
            Message::Request(request) => server.on_request(request),
            Message::Notification(notification) if notification.method == "exit" => {
                return if server.phase == Phase::ShutDown {
                    0
                } else {
                    1
                };
            }
            Message::Notification(notification) => server.on_notification(notification),
            // Ex) the answer to `workspace/diagnostic/refresh`: nothing to do with it.
            Message::Response(_) => {}
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Uninitialized,
    Running,
    ShutDown,
}

struct Document {
    uri: Uri,
    version: i32,
    text: String,
}

/// A workspace folder (or, for a file outside every folder, that file alone) with its
/// configuration, the texts of its files on disk and its last results.
struct Folder {
    root: PathBuf,
    workspace: Workspace,
    /// Absolute path -> the text on disk, or why there is none.
    disk: BTreeMap<PathBuf, Result<String, String>>,
    results: HashMap<PathBuf, Checked>,
    memos: Vec<(Language, Memo)>,
    dirty: bool,
}

impl Folder {
    fn new(root: PathBuf, workspace: Workspace) -> Folder {
        let mut folder = Folder {
            root,
            workspace,
            disk: BTreeMap::new(),
            results: HashMap::new(),
            memos: Vec::new(),
            dirty: true,
        };
        folder.disk = std::mem::take(&mut folder.workspace.files)
            .into_iter()
            .collect();
        folder
    }

    /// Whether an open document in this folder is analysed with it.
    fn includes(&self, path: &Path) -> bool {
        self.disk.contains_key(path)
            || (Language::from_path(&path.to_string_lossy()).is_some()
                && !(self.workspace.excluded)(path))
    }

    /// How a file is named to the analyzer: relative to the folder, as `connlint check` run
    /// there names it (module paths come from it).
    fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    }

    /// Analyses every file of the folder, open documents as they are in the editor. Returns
    /// what went wrong, for the log.
    fn analyse(&mut self, open: &HashMap<PathBuf, Document>, check: ProjectCheck) -> Vec<String> {
        self.dirty = false;
        let mut log = Vec::new();
        let mut texts: BTreeMap<&Path, &str> = BTreeMap::new();
        let mut results: HashMap<PathBuf, Checked> = HashMap::new();
        for (path, text) in &self.disk {
            match (open.get(path), text) {
                (Some(doc), _) => {
                    texts.insert(path, &doc.text);
                }
                (None, Ok(text)) => {
                    texts.insert(path, text);
                }
                (None, Err(_)) => {}
            }
        }
        for (path, doc) in open {
            if path.starts_with(&self.root) && self.includes(path) {
                texts.insert(path, &doc.text);
            }
        }
        texts.retain(|path, text| {
            if text.len() <= MAX_DOCUMENT_BYTES {
                return true;
            }
            results.insert(
                path.to_path_buf(),
                problem_only(format!(
                    "the document is {:.1} MiB, over the 32 MiB limit; not analysed",
                    text.len() as f64 / (1024.0 * 1024.0)
                )),
            );
            false
        });
        let names: Vec<(PathBuf, String)> = texts
            .keys()
            .map(|p| (p.to_path_buf(), self.relative(p)))
            .collect();
        let mut languages: Vec<(Language, Vec<usize>)> = Vec::new();
        for (i, (_, name)) in names.iter().enumerate() {
            let Some(language) = Language::from_path(name) else {
                continue;
            };
            match languages.iter_mut().find(|(l, _)| *l == language) {
                Some((_, members)) => members.push(i),
                None => languages.push((language, vec![i])),
            }
        }
        let text_list: Vec<&str> = texts.values().copied().collect();
        let Workspace {
            selection,
            declared,
            limits,
            ..
        } = &self.workspace;
        // The same options as `connlint check`, prefilter included: the findings are the same.
        let options = ProjectOptions {
            declared,
            selection,
            limits,
            prefilter: true,
        };
        for (language, members) in languages {
            let files: Vec<SourceFile> = members
                .iter()
                .map(|&i| SourceFile {
                    path: &names[i].1,
                    text: text_list[i],
                })
                .collect();
            let memo = match self.memos.iter().position(|(l, _)| *l == language) {
                Some(at) => &mut self.memos[at].1,
                None => {
                    self.memos.push((language, Memo::new()));
                    let last = self.memos.len() - 1;
                    &mut self.memos[last].1
                }
            };
            let checked = catch_unwind(AssertUnwindSafe(|| check(language, &files, options, memo)));
            let checked = match checked {
                Ok(checked) if checked.len() == files.len() => checked,
                _ => {
                    log.push(format!(
                        "the analysis of {} crashed; analysing its files one by one",
                        self.root.display()
                    ));
                    // What a crashed run left in the memo is not to be trusted.
                    *memo = Memo::new();
                    files
                        .iter()
                        .map(|file| {
                            let alone = catch_unwind(AssertUnwindSafe(|| {
                                check(language, &[*file], options, &mut Memo::new())
                            }));
                            match alone {
                                Ok(mut one) if one.len() == 1 => one.remove(0),
                                _ => {
                                    log.push(format!("the analyzer crashed on {}", file.path));
                                    problem_only(
                                        "internal error: the analyzer crashed on this file \
                                         (please report it); not analysed"
                                            .into(),
                                    )
                                }
                            }
                        })
                        .collect()
                }
            };
            for (&i, mut checked) in members.iter().zip(checked) {
                let path = &names[i].0;
                checked
                    .findings
                    .retain(|f| !(self.workspace.ignores)(path, f.code));
                results.insert(path.clone(), checked);
            }
        }
        self.results = results;
        log
    }
}

fn problem_only(message: String) -> Checked {
    Checked {
        problems: vec![Problem {
            span: None,
            message,
        }],
        ..Checked::default()
    }
}

struct Server<'h> {
    sender: Sender<Message>,
    host: &'h dyn Host,
    check: ProjectCheck,
    phase: Phase,
    /// The client pulls diagnostics (`textDocument/diagnostic`): nothing is pushed.
    pull: bool,
    /// The client takes `workspace/diagnostic/refresh`.
    refresh_support: bool,
    /// Sorted by root, longest first, so the innermost folder of a file is found first.
    folders: Vec<Folder>,
    /// Files outside every folder, each analysed alone, by path.
    loose: HashMap<PathBuf, Folder>,
    open: HashMap<PathBuf, Document>,
    /// What was last pushed (or would have been) for each open document.
    published: HashMap<PathBuf, Vec<Diagnostic>>,
    next_request: u64,
    /// Workspace folders from `initialize`, indexed after its answer.
    new_roots: Vec<PathBuf>,
}

/// Why a request could not be answered with a result.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn params(err: serde_json::Error) -> Failure {
        Failure {
            code: ErrorCode::InvalidParams,
            message: format!("invalid params: {err}"),
        }
    }
}

impl Server<'_> {
    fn send(&self, message: impl Into<Message>) {
        // A closed channel means the client is gone; the loop ends at the next receive.
        let _ = self.sender.send(message.into());
    }

    fn notify(&self, method: &str, params: impl serde::Serialize) {
        self.send(Notification::new(method.to_string(), params));
    }

    fn log(&self, message: &str) {
        eprintln!("connlint server: {message}");
        if self.phase != Phase::Uninitialized {
            self.notify(
                "window/logMessage",
                LogMessageParams {
                    typ: MessageType::LOG,
                    message: message.to_string(),
                },
            );
        }
    }

    /// Forgets that anything needs analysing (after a crash, so as not to crash again at once).
    fn clean(&mut self) {
        for folder in self.folders.iter_mut().chain(self.loose.values_mut()) {
            folder.dirty = false;
        }
    }

    fn is_dirty(&self) -> bool {
        self.folders.iter().any(|f| f.dirty) || self.loose.values().any(|f| f.dirty)
    }

    fn on_request(&mut self, request: Request) {
        let id = request.id.clone();
        let reply = match self.phase {
            Phase::Uninitialized if request.method == "initialize" => {
                self.initialize(request.params)
            }
            Phase::Uninitialized => Err(Failure {
                code: ErrorCode::ServerNotInitialized,
                message: format!("`{}` before `initialize`", request.method),
            }),
            Phase::ShutDown => Err(Failure {
                code: ErrorCode::InvalidRequest,
                message: format!("`{}` after `shutdown`", request.method),
            }),
            Phase::Running => {
                let method = request.method.clone();
                match catch_unwind(AssertUnwindSafe(|| self.dispatch(request))) {
                    Ok(reply) => reply,
                    Err(_) => {
                        self.log(&format!("`{method}` crashed; the server goes on"));
                        Err(Failure {
                            code: ErrorCode::InternalError,
                            message: format!("connlint crashed while answering `{method}`"),
                        })
                    }
                }
            }
        };
        let response = match reply {
            Ok(value) => Response::new_ok(id, value),
            Err(failure) => Response::new_err(id, failure.code as i32, failure.message),
        };
        self.send(response);
        for root in std::mem::take(&mut self.new_roots) {
            self.add_folder(root);
        }
    }

    fn dispatch(&mut self, request: Request) -> Result<Value, Failure> {
        let params = request.params;
        match request.method.as_str() {
            "initialize" => Err(Failure {
                code: ErrorCode::InvalidRequest,
                message: "`initialize` was already received".into(),
            }),
            "shutdown" => {
                self.phase = Phase::ShutDown;
                Ok(Value::Null)
            }
            "textDocument/diagnostic" => {
                let params: DocumentDiagnosticParams =
                    serde_json::from_value(params).map_err(Failure::params)?;
                Ok(to_value(self.pull_diagnostics(&params)))
            }
            "textDocument/hover" => {
                let params: HoverParams =
                    serde_json::from_value(params).map_err(Failure::params)?;
                Ok(to_value(self.hover(&params)))
            }
            "textDocument/codeAction" => {
                let params: CodeActionParams =
                    serde_json::from_value(params).map_err(Failure::params)?;
                Ok(to_value(self.code_actions(&params)))
            }
            method => Err(Failure {
                code: ErrorCode::MethodNotFound,
                message: format!("unknown method `{method}`"),
            }),
        }
    }

    fn on_notification(&mut self, notification: Notification) {
        if self.phase == Phase::Uninitialized {
            // Ex) `textDocument/didOpen` before `initialize`: the specification drops it.
            return;
        }
        let method = notification.method.clone();
        let result = catch_unwind(AssertUnwindSafe(|| self.notification(notification)));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(err)) => self.log(&format!("`{method}`: invalid params: {err}")),
            Err(_) => self.log(&format!("`{method}` crashed; the server goes on")),
        }
    }

    fn notification(&mut self, notification: Notification) -> Result<(), serde_json::Error> {
        let params = notification.params;
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let params: DidOpenTextDocumentParams = serde_json::from_value(params)?;
                let doc = params.text_document;
                self.open_document(doc.uri, doc.version, doc.text);
            }
            "textDocument/didChange" => {
                let params: DidChangeTextDocumentParams = serde_json::from_value(params)?;
                self.change_document(params);
            }
            "textDocument/didSave" => {
                let params: DidSaveTextDocumentParams = serde_json::from_value(params)?;
                if let Some(path) = uri::to_path(&params.text_document.uri) {
                    self.saved(&path);
                }
            }
            "textDocument/didClose" => {
                let params: DidCloseTextDocumentParams = serde_json::from_value(params)?;
                if let Some(path) = uri::to_path(&params.text_document.uri) {
                    self.close_document(&path);
                }
            }
            "workspace/didChangeWatchedFiles" => {
                let params: DidChangeWatchedFilesParams = serde_json::from_value(params)?;
                for change in params.changes {
                    if let Some(path) = uri::to_path(&change.uri) {
                        self.changed_on_disk(&path, change.typ == FileChangeType::DELETED);
                    }
                }
            }
            "workspace/didChangeWorkspaceFolders" => {
                let params: DidChangeWorkspaceFoldersParams = serde_json::from_value(params)?;
                for removed in params.event.removed {
                    if let Some(root) = uri::to_path(&removed.uri) {
                        self.folders.retain(|f| f.root != root);
                    }
                }
                for added in params.event.added {
                    if let Some(root) = uri::to_path(&added.uri) {
                        self.add_folder(root);
                    }
                }
                self.rehome_loose();
            }
            // Ex) `initialized`, `$/cancelRequest` (answers are never late), `$/setTrace`.
            _ => {}
        }
        Ok(())
    }

    fn initialize(&mut self, params: Value) -> Result<Value, Failure> {
        let params: InitializeParams = serde_json::from_value(params).map_err(Failure::params)?;
        let capabilities = &params.capabilities;
        self.pull = capabilities
            .text_document
            .as_ref()
            .is_some_and(|t| t.diagnostic.is_some());
        self.refresh_support = capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.diagnostic.as_ref())
            .and_then(|d| d.refresh_support)
            .unwrap_or(false);
        #[allow(deprecated)]
        let roots: Vec<PathBuf> = match (&params.workspace_folders, &params.root_uri) {
            (Some(folders), _) if !folders.is_empty() => folders
                .iter()
                .filter_map(|f| uri::to_path(&f.uri))
                .collect(),
            (_, Some(root)) => uri::to_path(root).into_iter().collect(),
            _ => params.root_path.iter().map(PathBuf::from).collect(),
        };
        self.phase = Phase::Running;
        // Indexed once the answer is out: what the index has to say comes after it.
        self.new_roots = roots;
        let result = InitializeResult {
            capabilities: capabilities_offered(),
            server_info: Some(ServerInfo {
                name: "connlint".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        };
        Ok(to_value(result))
    }

    fn add_folder(&mut self, root: PathBuf) {
        if self.folders.iter().any(|f| f.root == root) {
            return;
        }
        let workspace = self.host.load(&root, true);
        if let Some(error) = &workspace.config_error {
            let message = format!("connlint: {error} (using the default configuration)");
            self.log(&message);
            self.notify(
                "window/showMessage",
                ShowMessageParams {
                    typ: MessageType::ERROR,
                    message,
                },
            );
        }
        for (path, text) in &workspace.files {
            if let Err(why) = text {
                self.log(&format!("{}: {why}", path.display()));
            }
        }
        self.folders.push(Folder::new(root, workspace));
        self.folders
            .sort_by_key(|f| std::cmp::Reverse(f.root.as_os_str().len()));
    }

    /// Loose files that a new folder now holds are analysed with it.
    fn rehome_loose(&mut self) {
        let paths: Vec<PathBuf> = self.loose.keys().cloned().collect();
        for path in paths {
            if let Some(i) = self.folder_index(&path) {
                self.loose.remove(&path);
                self.folders[i].dirty = true;
            }
        }
        for folder in &mut self.folders {
            folder.dirty = true;
        }
    }

    fn folder_index(&self, path: &Path) -> Option<usize> {
        self.folders.iter().position(|f| path.starts_with(&f.root))
    }

    fn folder_of(&mut self, path: &Path) -> Option<&mut Folder> {
        match self.folder_index(path) {
            Some(i) => Some(&mut self.folders[i]),
            None => self.loose.get_mut(path),
        }
    }

    fn folder_of_ref(&self, path: &Path) -> Option<&Folder> {
        match self.folder_index(path) {
            Some(i) => Some(&self.folders[i]),
            None => self.loose.get(path),
        }
    }

    fn open_document(&mut self, uri: Uri, version: i32, text: String) {
        let Some(path) = uri::to_path(&uri) else {
            self.log(&format!("{}: not a file; not analysed", uri.as_str()));
            return;
        };
        self.open
            .insert(path.clone(), Document { uri, version, text });
        if self.folder_index(&path).is_none() && !self.loose.contains_key(&path) {
            let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
            let mut workspace = self.host.load(&dir, false);
            workspace.files = vec![(path.clone(), Err("open in the editor".into()))];
            self.loose.insert(path.clone(), Folder::new(dir, workspace));
        }
        if let Some(folder) = self.folder_of(&path) {
            folder.dirty = true;
        }
    }

    fn change_document(&mut self, params: DidChangeTextDocumentParams) {
        let Some(path) = uri::to_path(&params.text_document.uri) else {
            return;
        };
        let Some(doc) = self.open.get_mut(&path) else {
            self.log(&format!("{}: changed but never opened", path.display()));
            return;
        };
        doc.version = params.text_document.version;
        for change in params.content_changes {
            match change.range {
                Some(range) => {
                    let (start, end) = LineIndex::new(&doc.text).span(range);
                    doc.text.replace_range(start..end, &change.text);
                }
                None => doc.text = change.text,
            }
        }
        if let Some(folder) = self.folder_of(&path) {
            folder.dirty = true;
        }
    }

    fn saved(&mut self, path: &Path) {
        let is_config = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| CONFIG_FILES.contains(&n));
        if !is_config {
            if let Some(doc) = self.open.get(path) {
                let text = doc.text.clone();
                if let Some(folder) = self.folder_of(path) {
                    if folder.disk.contains_key(path) {
                        folder.disk.insert(path.to_path_buf(), Ok(text));
                    }
                }
            }
            return;
        }
        // A configuration file: every folder it may configure loads its configuration again.
        let Some(dir) = path.parent() else {
            return;
        };
        let roots: Vec<PathBuf> = self
            .folders
            .iter()
            .filter(|f| f.root.starts_with(dir) || dir.starts_with(&f.root))
            .map(|f| f.root.clone())
            .collect();
        for root in roots {
            self.folders.retain(|f| f.root != root);
            self.add_folder(root);
        }
    }

    fn close_document(&mut self, path: &Path) {
        let Some(doc) = self.open.remove(path) else {
            return;
        };
        if self.loose.remove(path).is_none() {
            // The editor's text is gone; the file is what is on disk again.
            let text = self.host.read(path);
            if let Some(folder) = self.folder_of(path) {
                if folder.disk.contains_key(path) {
                    folder.disk.insert(path.to_path_buf(), text);
                }
                folder.dirty = true;
            }
        }
        if self.published.remove(path).is_some_and(|d| !d.is_empty()) && !self.pull {
            self.notify(
                "textDocument/publishDiagnostics",
                PublishDiagnosticsParams::new(doc.uri, Vec::new(), None),
            );
        }
    }

    fn changed_on_disk(&mut self, path: &Path, deleted: bool) {
        let Some(i) = self.folder_index(path) else {
            return;
        };
        let is_source = Language::from_path(&path.to_string_lossy()).is_some();
        if !is_source || (self.folders[i].workspace.excluded)(path) {
            return;
        }
        let text = (!deleted).then(|| self.host.read(path));
        let folder = &mut self.folders[i];
        match text {
            Some(text) => {
                folder.disk.insert(path.to_path_buf(), text);
            }
            None => {
                folder.disk.remove(path);
            }
        }
        folder.dirty = true;
    }

    /// Analyses the dirty folders and pushes the diagnostics that changed.
    fn refresh(&mut self) {
        if !self.is_dirty() {
            return;
        }
        let mut log = Vec::new();
        let check = self.check;
        for folder in self.folders.iter_mut().chain(self.loose.values_mut()) {
            if folder.dirty {
                log.extend(folder.analyse(&self.open, check));
            }
        }
        for line in log {
            self.log(&line);
        }
        let mut changed = false;
        let paths: Vec<PathBuf> = self.open.keys().cloned().collect();
        for path in paths {
            let Some(diagnostics) = self.diagnostics_of(&path) else {
                continue;
            };
            if self.published.get(&path) == Some(&diagnostics) {
                continue;
            }
            changed = true;
            if !self.pull {
                if let Some(doc) = self.open.get(&path) {
                    self.notify(
                        "textDocument/publishDiagnostics",
                        PublishDiagnosticsParams::new(
                            doc.uri.clone(),
                            diagnostics.clone(),
                            Some(doc.version),
                        ),
                    );
                }
            }
            self.published.insert(path, diagnostics);
        }
        if changed && self.pull && self.refresh_support {
            self.next_request += 1;
            let id = RequestId::from(format!("connlint-refresh-{}", self.next_request));
            self.send(Request::new(
                id,
                "workspace/diagnostic/refresh".into(),
                Value::Null,
            ));
        }
    }

    /// The text of a file as the analysis saw it: the editor's, else the one on disk.
    fn text_of(&self, path: &Path) -> Option<&str> {
        match self.open.get(path) {
            Some(doc) => Some(&doc.text),
            None => self.folder_of_ref(path)?.disk.get(path)?.as_deref().ok(),
        }
    }

    fn checked_of(&self, path: &Path) -> Option<&Checked> {
        self.folder_of_ref(path)?.results.get(path)
    }

    fn diagnostics_of(&self, path: &Path) -> Option<Vec<Diagnostic>> {
        let checked = self.checked_of(path)?;
        let text = self.text_of(path)?;
        let uri = match self.open.get(path) {
            Some(doc) => doc.uri.clone(),
            None => uri::from_path(path)?,
        };
        let index = LineIndex::new(text);
        Some(convert::diagnostics(
            &index,
            &uri,
            &checked.findings,
            &checked.unused_suppressions,
            &checked.problems,
        ))
    }

    fn pull_diagnostics(
        &mut self,
        params: &DocumentDiagnosticParams,
    ) -> DocumentDiagnosticReportResult {
        self.refresh();
        let items = uri::to_path(&params.text_document.uri)
            .and_then(|path| self.diagnostics_of(&path))
            .unwrap_or_default();
        let mut hasher = DefaultHasher::new();
        serde_json::to_string(&items)
            .unwrap_or_default()
            .hash(&mut hasher);
        let result_id = format!("{:016x}", hasher.finish());
        let report = if params.previous_result_id.as_deref() == Some(result_id.as_str()) {
            DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                related_documents: None,
                unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                    result_id,
                },
            })
        } else {
            DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: Some(result_id),
                    items,
                },
            })
        };
        DocumentDiagnosticReportResult::Report(report)
    }

    fn hover(&mut self, params: &HoverParams) -> Option<Hover> {
        self.refresh();
        let position = &params.text_document_position_params;
        let path = uri::to_path(&position.text_document.uri)?;
        let text = self.text_of(&path)?;
        let index = LineIndex::new(text);
        // Ex) a position below the last line: nothing is there.
        if index.position(text.len()).line < position.position.line {
            return None;
        }
        let offset = index.offset(position.position);
        let checked = self.checked_of(&path)?;
        let found: Vec<&Finding> = checked
            .findings
            .iter()
            .filter(|f| (f.span.start as usize) <= offset && offset <= f.span.end as usize)
            .collect();
        let first = found.first()?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: convert::hover_text(&found),
            }),
            range: Some(index.range(first.span)),
        })
    }

    // `Uri` caches parts of itself in cells; its hash and equality are of the text only.
    #[allow(clippy::mutable_key_type)]
    fn code_actions(&mut self, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        if let Some(only) = &params.context.only {
            let quickfix = CodeActionKind::QUICKFIX;
            if !only
                .iter()
                .any(|k| quickfix.as_str().starts_with(k.as_str()))
            {
                return Vec::new();
            }
        }
        self.refresh();
        let Some(path) = uri::to_path(&params.text_document.uri) else {
            return Vec::new();
        };
        let (Some(text), Some(checked)) = (self.text_of(&path), self.checked_of(&path)) else {
            return Vec::new();
        };
        let index = LineIndex::new(text);
        let (start, end) = index.span(params.range);
        let lines = params.range.start.line..=params.range.end.line;
        let rust = path.extension().is_some_and(|e| e == "rs");
        let mut actions = Vec::new();
        for finding in &checked.findings {
            let span = finding.span;
            let touches = (span.start as usize) <= end && start <= span.end as usize;
            let on_line = lines.contains(&index.position(span.start as usize).line);
            if !(touches || on_line) {
                continue;
            }
            let diagnostic = convert::diagnostic(&index, &params.text_document.uri, finding);
            for fix in fixes::fixes(text, finding, rust) {
                let edits: Vec<TextEdit> = fix
                    .edits
                    .iter()
                    .map(|e| TextEdit {
                        range: index.range(connlint_rules::analyzer::Span::new(e.start, e.end)),
                        new_text: e.text.clone(),
                    })
                    .collect();
                let changes = HashMap::from([(params.text_document.uri.clone(), edits)]);
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(WorkspaceEdit::new(changes)),
                    is_preferred: fix.preferred.then_some(true),
                    ..CodeAction::default()
                }));
            }
        }
        actions
    }
}

fn capabilities_offered() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        diagnostic_provider: Some(DiagnosticServerCapabilities::Options(DiagnosticOptions {
            identifier: Some("connlint".into()),
            inter_file_dependencies: true,
            workspace_diagnostics: false,
            ..DiagnosticOptions::default()
        })),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
