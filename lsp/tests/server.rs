//! The language server, driven in-process over `Connection::memory()` as an editor would.
#![allow(clippy::unwrap_used)]

mod common;

use common::{codes, Client, LEAK};
use connlint_rules::analyzer::{Language, Memo, SourceFile};
use connlint_rules::{check_project_with, Checked, ProjectOptions, Selection};
use serde_json::{json, Value};

#[test]
fn initialize_offers_what_the_server_does() {
    let mut client = Client::start(&[]);
    let result = client.initialize(json!({}));
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    assert_eq!(caps["diagnosticProvider"]["interFileDependencies"], true);
    assert_eq!(result["serverInfo"]["name"], "connlint");
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn a_leak_is_reported_and_goes_away_when_fixed() {
    let mut client = Client::initialized(&[]);
    client.open("app.py", LEAK);
    let diagnostics = client.diagnostics("app.py");
    assert_eq!(codes(&diagnostics), ["CL001"]);
    let d = &diagnostics[0];
    assert_eq!(d["source"], "connlint");
    assert_eq!(d["severity"], 1);
    assert_eq!(
        d["range"],
        json!({"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 25}})
    );
    let message = d["message"].as_str().unwrap();
    assert!(
        message.starts_with("connection from `pool.getconn()`"),
        "{message}"
    );
    assert!(message.contains("\nhelp: "), "{message}");
    let related = d["relatedInformation"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["location"]["range"]["start"]["line"] == 3
                && r["message"].as_str().unwrap().contains("returns")),
        "{related:?}"
    );

    // Incremental: `return None` -> `pool.putconn(conn); return None` on line 3.
    client.change("app.py", 2, [3, 8, 3, 8], "pool.putconn(conn); ");
    assert_eq!(client.diagnostics("app.py"), Vec::<Value>::new());

    // Full: back to the leak.
    client.change_all("app.py", 3, LEAK);
    assert_eq!(codes(&client.diagnostics("app.py")), ["CL001"]);

    // Closing clears it.
    let uri = client.uri("app.py");
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(client.diagnostics("app.py"), Vec::<Value>::new());
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn an_edit_in_one_file_refreshes_the_files_that_depend_on_it() {
    let db = "def get_conn(pool):\n    return pool.getconn()\n";
    let tools =
        "from db import get_conn\n\n\ndef work(pool):\n    conn = get_conn(pool)\n    return 1\n";
    let mut client = Client::initialized(&[("db.py", db), ("tools.py", tools)]);
    client.open("tools.py", tools);
    let diagnostics = client.diagnostics("tools.py");
    assert_eq!(codes(&diagnostics), ["CL001"]);
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("`get_conn`"));

    // `db.py` is edited in the editor (not saved): its factory no longer returns a connection.
    client.open("db.py", db);
    client.change("db.py", 2, [1, 11, 1, 25], "None");
    assert_eq!(client.diagnostics("tools.py"), Vec::<Value>::new());

    // Closing `db.py` without saving: the file on disk is a factory again.
    let uri = client.uri("db.py");
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(codes(&client.diagnostics("tools.py")), ["CL001"]);
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn diagnostics_can_be_pulled() {
    let mut client = Client::initialized(&[("closed.py", LEAK)]);
    let uri = client.uri("closed.py");
    let report = client
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        )
        .result
        .unwrap();
    assert_eq!(report["kind"], "full");
    assert_eq!(codes(report["items"].as_array().unwrap()), ["CL001"]);
    let id = report["resultId"].clone();
    let again = client
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}, "previousResultId": id}),
        )
        .result
        .unwrap();
    assert_eq!(again["kind"], "unchanged");
    assert_eq!(again["resultId"], id);

    let unknown = client
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": "file:///nowhere/x.py"}}),
        )
        .result
        .unwrap();
    assert_eq!(unknown["items"], json!([]));
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn a_client_that_pulls_gets_nothing_pushed() {
    let mut client = Client::start(&[]);
    client.initialize(json!({
        "textDocument": {"diagnostic": {"dynamicRegistration": false}},
        "workspace": {"diagnostics": {"refreshSupport": true}},
    }));
    client.open("app.py", LEAK);
    let uri = client.uri("app.py");
    let report = client
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        )
        .result
        .unwrap();
    assert_eq!(codes(report["items"].as_array().unwrap()), ["CL001"]);
    assert!(!client.has_pending("textDocument/publishDiagnostics", &uri));
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn hover_shows_the_rule_documentation() {
    let mut client = Client::initialized(&[]);
    client.open("app.py", LEAK);
    client.diagnostics("app.py");
    let uri = client.uri("app.py");
    let hover = |client: &mut Client, line: u32, character: u32| {
        client
            .request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
            )
    };
    let on = hover(&mut client, 1, 15).result.unwrap();
    let text = on["contents"]["value"].as_str().unwrap();
    assert_eq!(on["contents"]["kind"], "markdown");
    assert!(
        text.starts_with("**CL001** `connection-not-released`"),
        "{text}"
    );
    assert!(text.contains("## What it does"), "{text}");
    assert!(text.contains("## Why is this bad?"), "{text}");
    assert_eq!(on["range"]["start"], json!({"line": 1, "character": 11}));

    assert_eq!(hover(&mut client, 0, 0).result, Some(Value::Null));
    // Outside the document: nothing, and no error.
    let outside = hover(&mut client, 999, 999);
    assert!(outside.error.is_none());
    assert_eq!(outside.result, Some(Value::Null));
    let past_line_end = hover(&mut client, 1, 999);
    assert!(past_line_end.error.is_none());
    assert_eq!(client.shutdown_and_exit(), 0);
}

/// Applies a `WorkspaceEdit`'s edits for one document (non-overlapping, in any order).
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| {
        let line = pos["line"].as_u64().unwrap() as usize;
        let character = pos["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        // ASCII text in these tests: one unit per byte.
        start + character
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort();
    let mut out = String::new();
    let mut at = 0;
    for (start, end, new) in edits {
        out.push_str(&text[at..start]);
        out.push_str(new);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[test]
fn code_actions_ignore_a_finding_or_fix_cl008() {
    let mut client = Client::initialized(&[]);
    client.open("app.py", LEAK);
    client.diagnostics("app.py");
    let uri = client.uri("app.py");
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
                   "context": {"diagnostics": []}}),
        )
        .result
        .unwrap();
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["title"], "Ignore CL001 on this line");
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["diagnostics"][0]["code"], "CL001");
    let edits = actions[0]["edit"]["changes"][&uri].as_array().unwrap();
    let fixed = apply(LEAK, edits);
    assert!(
        fixed.contains("    conn = pool.getconn()  # connlint: ignore[CL001]\n"),
        "{fixed}"
    );
    client.change_all("app.py", 2, &fixed);
    assert_eq!(client.diagnostics("app.py"), Vec::<Value>::new());

    // Only refactorings asked for: none offered.
    let none = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
                   "context": {"diagnostics": [], "only": ["refactor"]}}),
        )
        .result
        .unwrap();
    assert_eq!(none, json!([]));

    let with = "import sqlite3\n\n\ndef add(path):\n    with sqlite3.connect(path) as conn:\n        conn.execute(\"CREATE TABLE t (x)\")\n";
    client.open("cm.py", with);
    assert_eq!(codes(&client.diagnostics("cm.py")), ["CL008"]);
    let uri = client.uri("cm.py");
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": 4, "character": 20}, "end": {"line": 4, "character": 20}},
                   "context": {"diagnostics": []}}),
        )
        .result
        .unwrap();
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Close the connection: wrap it in `contextlib.closing(...)`",
            "Ignore CL008 on this line"
        ]
    );
    assert_eq!(actions[0]["isPreferred"], true);
    let fixed = apply(
        with,
        actions[0]["edit"]["changes"][&uri].as_array().unwrap(),
    );
    assert_eq!(
        fixed,
        "import contextlib\nimport sqlite3\n\n\ndef add(path):\n    with contextlib.closing(sqlite3.connect(path)) as conn, conn:\n        conn.execute(\"CREATE TABLE t (x)\")\n"
    );
    client.change_all("cm.py", 2, &fixed);
    assert_eq!(client.diagnostics("cm.py"), Vec::<Value>::new());
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn positions_are_utf16_in_non_ascii_text() {
    let mut client = Client::initialized(&[]);
    // 'é' is two bytes and one UTF-16 unit, '😀' four bytes and two units.
    let text = "def load(pool, key):\n    s = 'é😀'; conn = pool.getconn()\n    return s\n";
    client.open("app.py", text);
    let diagnostics = client.diagnostics("app.py");
    assert_eq!(codes(&diagnostics), ["CL001"]);
    assert_eq!(
        diagnostics[0]["range"],
        json!({"start": {"line": 1, "character": 22}, "end": {"line": 1, "character": 36}})
    );
    // An incremental edit after the emoji lands where the client means it: insert a release
    // before `return` at line 2.
    client.change("app.py", 2, [2, 4, 2, 4], "pool.putconn(conn)\n    ");
    assert_eq!(client.diagnostics("app.py"), Vec::<Value>::new());
    // A replacement of the emoji itself (2 units) keeps the text valid.
    client.change("app.py", 3, [1, 10, 1, 12], "x");
    let uri = client.uri("app.py");
    let report = client
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        )
        .result
        .unwrap();
    assert_eq!(report["items"], json!([]));
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn bad_requests_get_errors_and_the_server_goes_on() {
    let mut client = Client::start(&[]);
    let early = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///a.py"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(early.error.unwrap().code, -32002, "ServerNotInitialized");
    // A notification before `initialize` is dropped.
    client.open("early.py", LEAK);
    client.initialize(json!({}));

    let unknown = client.request("textDocument/rename", json!({}));
    assert_eq!(unknown.error.unwrap().code, -32601, "MethodNotFound");
    let bad = client.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(bad.error.unwrap().code, -32602, "InvalidParams");
    let twice = client.request("initialize", json!({"capabilities": {}}));
    assert_eq!(twice.error.unwrap().code, -32600, "InvalidRequest");
    // Notifications with bad params, or for documents never opened, are logged and dropped.
    client.notify("textDocument/didOpen", json!({"textDocument": 5}));
    client.change("never.py", 2, [0, 0, 0, 0], "x");

    // Edits far outside the document are clamped to its end.
    client.open("app.py", "def f():\n    pass\n");
    assert_eq!(client.diagnostics("app.py"), Vec::<Value>::new());
    client.change(
        "app.py",
        2,
        [999, 5, 1000, 0],
        "\ndef g(pool):\n    c = pool.getconn()\n",
    );
    assert_eq!(codes(&client.diagnostics("app.py")), ["CL001"]);

    let response = client.request("shutdown", Value::Null);
    assert_eq!(response.result, Some(Value::Null));
    let after = client.request("textDocument/hover", json!({}));
    assert_eq!(
        after.error.unwrap().code,
        -32600,
        "InvalidRequest after shutdown"
    );
    client.notify("exit", Value::Null);
    assert_eq!(client.exit_code(), 0);
}

#[test]
fn exit_without_shutdown_is_code_1() {
    let mut client = Client::initialized(&[]);
    client.notify("exit", Value::Null);
    assert_eq!(client.exit_code(), 1);

    let mut gone = Client::initialized(&[]);
    let (sender, _) = crossbeam_channel::unbounded();
    // Ex) the editor crashed: the channel closes without `exit`.
    drop(std::mem::replace(&mut gone.conn.sender, sender));
    assert_eq!(gone.exit_code(), 1);
}

/// Panics on any file that mentions `BOOM`, as a broken analyzer would.
fn exploding(
    language: Language,
    files: &[SourceFile<'_>],
    options: ProjectOptions<'_>,
    memo: &mut Memo,
) -> Vec<Checked> {
    if files.iter().any(|f| f.text.contains("BOOM")) {
        panic!("the analyzer broke");
    }
    check_project_with(language, files, options, memo)
}

#[test]
fn a_panic_in_the_analysis_loses_only_its_file() {
    let mut client = Client::start_with(&[], Some(exploding));
    client.initialize(json!({}));
    client.open("good.py", LEAK);
    assert_eq!(codes(&client.diagnostics("good.py")), ["CL001"]);
    client.open("bad.py", "BOOM = 1\n");
    let bad = client.diagnostics("bad.py");
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0]["message"]
            .as_str()
            .unwrap()
            .contains("internal error"),
        "{bad:?}"
    );
    assert!(client.notification("window/logMessage")["message"]
        .as_str()
        .unwrap()
        .contains("crashed"));
    // Still serving, and still right about the other file.
    client.change_all("good.py", 2, "def f():\n    pass\n");
    assert_eq!(client.diagnostics("good.py"), Vec::<Value>::new());
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn a_10_mb_document_is_analysed() {
    let mut client = Client::initialized(&[]);
    let filler = "x = 1  # filler line to make the document large\n";
    let mut text = filler.repeat(10 * 1024 * 1024 / filler.len() + 1);
    text.push_str(LEAK);
    assert!(text.len() > 10 * 1024 * 1024);
    let lines = text.lines().count() as u64;
    client.open("big.py", &text);
    let diagnostics = client.diagnostics("big.py");
    assert_eq!(codes(&diagnostics), ["CL001"]);
    assert_eq!(diagnostics[0]["range"]["start"]["line"], lines - 4);
    // An incremental edit at the very end of it.
    client.change(
        "big.py",
        2,
        [lines as u32 - 2, 8, lines as u32 - 2, 8],
        "pool.putconn(conn); ",
    );
    assert_eq!(client.diagnostics("big.py"), Vec::<Value>::new());
    assert_eq!(client.shutdown_and_exit(), 0);
}

#[test]
fn rust_files_are_analysed_like_the_command_line_does() {
    let text = "use r2d2::Pool;\n\npub fn f(pool: &Pool<M>) {\n    let conn = pool.get().expect(\"pool\");\n    std::mem::forget(conn);\n}\n";
    let expected: Vec<String> =
        connlint_rules::check_source(Language::Rust, text, &Selection::default())
            .findings
            .iter()
            .map(|f| f.code.to_string())
            .collect();
    assert_eq!(
        expected,
        ["CL009"],
        "the Rust front end's answer changed; update the test"
    );
    let mut client = Client::initialized(&[]);
    client.open("src/lib.rs", text);
    assert_eq!(codes(&client.diagnostics("src/lib.rs")), expected);
    assert_eq!(client.shutdown_and_exit(), 0);
}
