//! An in-process client for the server over `Connection::memory()`, and a host that walks a
//! temporary folder (every `.py` file, no configuration).
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use connlint_lsp::{Connection, Host, ProjectCheck, Workspace};
use lsp_server::{Message, Notification, Request, RequestId, Response, ResponseError};
use serde_json::{json, Value};

/// How long any single answer may take before a test fails (the 10 MB case in a debug build).
const PATIENCE: Duration = Duration::from_secs(120);

/// A response, as its result or its error.
#[derive(Debug)]
pub struct Reply {
    pub result: Option<Value>,
    pub error: Option<ResponseError>,
}

pub struct TestHost;

impl Host for TestHost {
    fn load(&self, root: &Path, walk: bool) -> Workspace {
        let mut workspace = Workspace::empty();
        if walk {
            let mut stack = vec![root.to_path_buf()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "py") {
                        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
                        workspace.files.push((path, text));
                    }
                }
            }
        }
        workspace
    }

    fn read(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

pub struct Client {
    pub conn: Connection,
    server: Option<JoinHandle<i32>>,
    next_id: i32,
    /// Notifications received while waiting for something else.
    pending: VecDeque<Notification>,
    pub dir: tempfile::TempDir,
}

impl Client {
    /// A server over a temporary folder holding `files`, not yet initialized.
    pub fn start(files: &[(&str, &str)]) -> Client {
        Client::start_with(files, None)
    }

    pub fn start_with(files: &[(&str, &str)], check: Option<ProjectCheck>) -> Client {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (server_side, client_side) = Connection::memory();
        let host = Arc::new(TestHost);
        let server = std::thread::spawn(move || match check {
            Some(check) => connlint_lsp::serve_with(server_side, &*host, check),
            None => connlint_lsp::serve(server_side, &*host),
        });
        Client {
            conn: client_side,
            server: Some(server),
            next_id: 0,
            pending: VecDeque::new(),
            dir,
        }
    }

    /// Started and initialized with the temporary folder as the workspace folder.
    pub fn initialized(files: &[(&str, &str)]) -> Client {
        let mut client = Client::start(files);
        client.initialize(json!({}));
        client
    }

    pub fn initialize(&mut self, capabilities: Value) -> Value {
        let root = self.uri("");
        let response = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "capabilities": capabilities,
                "workspaceFolders": [{"uri": root, "name": "test"}],
            }),
        );
        let result = response.result.unwrap();
        self.notify("initialized", json!({}));
        result
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn uri(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        let path = path.to_str().unwrap().trim_end_matches('/');
        format!("file://{}", path.replace(' ', "%20"))
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .unwrap();
    }

    pub fn send_request(&mut self, method: &str, params: Value) -> RequestId {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.to_string(),
                params,
            )))
            .unwrap();
        id
    }

    /// Sends a request and waits for its response, keeping notifications for later.
    pub fn request(&mut self, method: &str, params: Value) -> Reply {
        let id = self.send_request(method, params);
        loop {
            match self.receive() {
                Message::Response(response) if response.id == id => {
                    return match response.response_result {
                        Ok(result) => Reply {
                            result: Some(result),
                            error: None,
                        },
                        Err(error) => Reply {
                            result: None,
                            error: Some(error),
                        },
                    }
                }
                Message::Response(other) => panic!("unexpected response {other:?}"),
                Message::Notification(n) => self.pending.push_back(n),
                // Ex) `workspace/diagnostic/refresh`: answered, as a client would.
                Message::Request(request) => self
                    .conn
                    .sender
                    .send(Message::Response(Response::new_ok(request.id, Value::Null)))
                    .unwrap(),
            }
        }
    }

    fn receive(&mut self) -> Message {
        self.conn
            .receiver
            .recv_timeout(PATIENCE)
            .expect("the server did not answer in time")
    }

    /// The next notification with this method.
    pub fn notification(&mut self, method: &str) -> Value {
        if let Some(at) = self.pending.iter().position(|n| n.method == method) {
            return self.pending.remove(at).unwrap().params;
        }
        loop {
            match self.receive() {
                Message::Notification(n) if n.method == method => return n.params,
                Message::Notification(n) => self.pending.push_back(n),
                other => panic!("unexpected {other:?} while waiting for {method}"),
            }
        }
    }

    /// The next diagnostics pushed for `name`.
    pub fn diagnostics(&mut self, name: &str) -> Vec<Value> {
        let uri = self.uri(name);
        loop {
            let params = self.notification("textDocument/publishDiagnostics");
            if params["uri"] == uri {
                return params["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    /// Whether any notification with this method is waiting (after the server has answered
    /// everything sent before, which a request round trip guarantees).
    pub fn has_pending(&mut self, method: &str, uri: &str) -> bool {
        self.request(
            "textDocument/hover",
            json!({
                "textDocument": {"uri": "file:///nowhere.py"},
                "position": {"line": 0, "character": 0},
            }),
        );
        self.pending
            .iter()
            .any(|n| n.method == method && n.params["uri"] == uri)
    }

    pub fn open(&mut self, name: &str, text: &str) {
        let uri = self.uri(name);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
    }

    pub fn change_all(&mut self, name: &str, version: i32, text: &str) {
        let uri = self.uri(name);
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"text": text}]}),
        );
    }

    /// An incremental change: `range` is `[start_line, start_char, end_line, end_char]`.
    pub fn change(&mut self, name: &str, version: i32, range: [u32; 4], text: &str) {
        let uri = self.uri(name);
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {
                       "start": {"line": range[0], "character": range[1]},
                       "end": {"line": range[2], "character": range[3]}},
                       "text": text}]}),
        );
    }

    /// The server thread's exit code, once it has stopped.
    pub fn exit_code(&mut self) -> i32 {
        self.server.take().unwrap().join().unwrap()
    }

    pub fn shutdown_and_exit(mut self) -> i32 {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response.result, Some(Value::Null));
        self.notify("exit", Value::Null);
        self.exit_code()
    }
}

/// The codes of some diagnostics.
pub fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// CL001 at line 2 (0-based 1): the early return keeps the connection.
pub const LEAK: &str = "\
def load(pool, key):
    conn = pool.getconn()
    if key is None:
        return None
    pool.putconn(conn)
";
