//! `connlint server` as a process: JSON-RPC framing on stdio, malformed input, the
//! configuration and ignore files of the workspace folder, and exit codes. The protocol itself
//! is tested in-process in `lsp/tests/`.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use common::LEAK;
use serde_json::{json, Value};

struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    next_id: i64,
    dir: tempfile::TempDir,
}

impl Server {
    fn start(files: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_connlint"))
            .arg("server")
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Server {
            child,
            stdin,
            messages,
            next_id: 0,
            dir,
        }
    }

    fn uri(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        format!("file://{}", path.to_str().unwrap().trim_end_matches('/'))
    }

    fn send_raw(&mut self, body: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string();
        self.send_raw(&body);
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let body =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.send_raw(&body);
        loop {
            let message = self.receive();
            if message["id"] == id && message.get("method").is_none() {
                return message;
            }
        }
    }

    fn receive(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(120))
            .expect("no message from the server in time")
    }

    fn initialize(&mut self) -> Value {
        let root = self.uri("");
        let response = self.request(
            "initialize",
            json!({"processId": null, "rootUri": root, "capabilities": {},
                   "workspaceFolders": [{"uri": root, "name": "w"}]}),
        );
        self.notify("initialized", json!({}));
        response
    }

    fn pull(&mut self, name: &str) -> Vec<String> {
        let uri = self.uri(name);
        let response = self.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        );
        response["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Waits for the process and returns its exit code.
    fn wait(mut self) -> i32 {
        drop(self.stdin.take());
        self.child.wait().unwrap().code().unwrap()
    }
}

#[test]
fn malformed_json_is_answered_and_the_server_keeps_serving() {
    let mut server = Server::start(&[("app.py", LEAK)]);
    server.send_raw("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");
    let reply = server.receive();
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    assert_eq!(reply["id"], Value::Null);
    server.send_raw(r#"{"jsonrpc": "2.0", "id": 99, "params": 3}"#);
    let reply = server.receive();
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert_eq!(reply["id"], 99);

    let init = server.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "connlint");
    assert_eq!(server.pull("app.py"), ["CL001"]);
    let response = server.request("shutdown", Value::Null);
    assert_eq!(response["result"], Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 0);
}

#[test]
fn the_workspace_configuration_and_ignore_files_are_honoured() {
    let mut server = Server::start(&[
        (
            "connlint.toml",
            "exclude = [\"vendor\"]\n[per-file-ignores]\n\"quiet.py\" = [\"CL001\"]\n",
        ),
        (".gitignore", "generated/\n"),
        ("app.py", LEAK),
        ("quiet.py", LEAK),
        ("vendor/lib.py", LEAK),
        ("generated/out.py", LEAK),
    ]);
    server.initialize();
    assert_eq!(server.pull("app.py"), ["CL001"]);
    assert_eq!(server.pull("quiet.py"), Vec::<String>::new());
    // Not part of the workspace's index: nothing known about them until they are opened.
    assert_eq!(server.pull("vendor/lib.py"), Vec::<String>::new());
    assert_eq!(server.pull("generated/out.py"), Vec::<String>::new());
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 0);
}

#[test]
fn the_pool_size_ceiling_of_the_configuration_is_honoured() {
    const POOL: &str = "from psycopg2.pool import ThreadedConnectionPool\n\n\
                        POOL = ThreadedConnectionPool(1, 50, \"dbname=app\")\n";
    let mut server = Server::start(&[("pool.py", POOL)]);
    server.initialize();
    assert_eq!(server.pull("pool.py"), Vec::<String>::new());
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 0);

    let mut server = Server::start(&[("connlint.toml", "max-pool-size = 20\n"), ("pool.py", POOL)]);
    server.initialize();
    assert_eq!(server.pull("pool.py"), ["CL004"]);
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 0);
}

#[test]
fn a_bad_configuration_is_shown_and_the_defaults_are_used() {
    let mut server = Server::start(&[("connlint.toml", "selec = 1\n"), ("app.py", LEAK)]);
    server.initialize();
    let shown = loop {
        let message = server.receive();
        if message["method"] == "window/showMessage" {
            break message;
        }
    };
    assert_eq!(shown["params"]["type"], 1);
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `selec`"),
        "{shown}"
    );
    assert_eq!(server.pull("app.py"), ["CL001"]);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 1);
}

#[test]
fn saving_the_configuration_reloads_it() {
    let mut server = Server::start(&[("app.py", LEAK)]);
    server.initialize();
    assert_eq!(server.pull("app.py"), ["CL001"]);
    std::fs::write(
        server.dir.path().join("connlint.toml"),
        "ignore = [\"CL001\"]\n",
    )
    .unwrap();
    let uri = server.uri("connlint.toml");
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(server.pull("app.py"), Vec::<String>::new());
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 0);
}

#[test]
fn exit_codes_follow_the_specification() {
    // `exit` without `shutdown`: 1.
    let mut server = Server::start(&[]);
    server.initialize();
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 1);

    // The client closes the pipe: 1.
    let mut server = Server::start(&[]);
    server.initialize();
    assert_eq!(server.wait(), 1);

    // Before `initialize`: requests are refused, `exit` ends it with 1.
    let mut server = Server::start(&[]);
    let early = server.request("textDocument/hover", json!({}));
    assert_eq!(early["error"]["code"], -32002);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 1);
}

/// Starts `connlint server` from Neovim's built-in client, as an editor user would, and reads
/// back the diagnostics Neovim shows.
const NVIM_SCRIPT: &str = r"
local bin, dir, out = os.getenv('CONNLINT_BIN'), os.getenv('CONNLINT_DIR'), os.getenv('CONNLINT_OUT')
local id = vim.lsp.start_client({ name = 'connlint', cmd = { bin, 'server' }, root_dir = dir })
vim.lsp.buf_attach_client(0, id)
vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local lines = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or ''
  table.insert(lines, string.format('%s %s %d %d', d.source or '', code, d.lnum, d.col))
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(id)
vim.cmd('qa!')
";

/// Whether `nvim` can be run; with `CONNLINT_NETWORK_TESTS=1`, installs the OS package
/// `neovim` (as root, with apt-get) when it is missing.
fn neovim_available() -> bool {
    let runs = || {
        Command::new("nvim")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if runs() {
        return true;
    }
    if common::skip_network_tests("the Neovim end-to-end test (nvim is not installed)") {
        return false;
    }
    let install = Command::new("apt-get")
        .args(["install", "-y", "neovim"])
        .status()
        .is_ok_and(|s| s.success());
    if !install {
        common::must(Command::new("apt-get").arg("update"));
        common::must(Command::new("apt-get").args(["install", "-y", "neovim"]));
    }
    runs()
}

#[test]
fn neovim_shows_the_finding() {
    if !neovim_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), LEAK).unwrap();
    std::fs::write(dir.path().join("init.lua"), NVIM_SCRIPT).unwrap();
    let out = dir.path().join("out.txt");
    let run = common::must(
        Command::new("nvim")
            .args(["--headless", "--clean", "-c", "luafile init.lua", "app.py"])
            .current_dir(dir.path())
            .env("CONNLINT_BIN", env!("CARGO_BIN_EXE_connlint"))
            .env("CONNLINT_DIR", dir.path())
            .env("CONNLINT_OUT", &out)
            .stdin(Stdio::null()),
    );
    let shown = std::fs::read_to_string(&out).unwrap_or_else(|e| {
        panic!(
            "Neovim wrote no diagnostics ({e}):\n{}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    // Neovim's lines and columns are 0-based: the acquisition on line 2, column 12.
    assert_eq!(shown.trim(), "connlint CL001 1 11");
}
