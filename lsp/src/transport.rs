//! The stdio transport: `Content-Length` framed JSON-RPC on standard input and output.
//!
//! `lsp_server::Connection::stdio` ends the connection at the first payload that is not valid
//! JSON. This one answers such a payload with a JSON-RPC error (`ParseError`, or
//! `InvalidRequest` for JSON that is not a message), logs it on stderr, and keeps reading.

use std::io::{self, BufRead, Read, Write};
use std::thread;

use crossbeam_channel::{unbounded, Sender};
use lsp_server::{Connection, ErrorCode, Message};
use serde_json::{json, Value};

/// Payloads above this are read and dropped: no document connlint analyses comes near it.
const MAX_PAYLOAD: usize = 256 * 1024 * 1024;

/// The reader and writer threads of [`stdio`].
pub(crate) struct Threads {
    writer: thread::JoinHandle<()>,
}

impl Threads {
    /// Waits until every message sent has been written. The reader is not waited for: it may be
    /// blocked on a standard input the client never closes.
    pub fn join(self) {
        let _ = self.writer.join();
    }
}

pub(crate) fn stdio() -> (Connection, Threads) {
    let (to_writer, from_server) = unbounded::<Message>();
    let (to_server, from_reader) = unbounded::<Message>();
    let writer = thread::spawn(move || {
        let stdout = io::stdout();
        for message in from_server {
            let mut out = stdout.lock();
            if message.write(&mut out).is_err() {
                // Ex) the client closed its end: nobody is left to write to.
                break;
            }
        }
    });
    thread::spawn(move || {
        let stdin = io::stdin();
        read_loop(&mut stdin.lock(), &to_server, &mut io::stdout());
    });
    (
        Connection {
            sender: to_writer,
            receiver: from_reader,
        },
        Threads { writer },
    )
}

/// Reads framed messages until end of input or `exit`, answering bad ones on `out` directly.
fn read_loop(input: &mut impl BufRead, to_server: &Sender<Message>, out: &mut impl Write) {
    loop {
        let payload = match read_frame(input) {
            Ok(Some(payload)) => payload,
            Ok(None) => return,
            Err(err) => {
                eprintln!("connlint server: {err}");
                if err.kind() == io::ErrorKind::InvalidData {
                    continue;
                }
                return;
            }
        };
        match parse(&payload) {
            Ok(message) => {
                let is_exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if to_server.send(message).is_err() || is_exit {
                    return;
                }
            }
            Err(reply) => {
                eprintln!("connlint server: {}", reply["error"]["message"]);
                let text = reply.to_string();
                // One `write_all`: standard output's lock is held for the whole frame, so it
                // cannot interleave with the writer thread's.
                let frame = format!("Content-Length: {}\r\n\r\n{text}", text.len());
                let _ = out.write_all(frame.as_bytes());
                let _ = out.flush();
            }
        }
    }
}

/// One payload; `None` at the end of the input. A frame with a bad header is an `InvalidData`
/// error after which reading can go on.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut length: Option<usize> = None;
    let mut bad_header = None;
    let mut seen_any = false;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return if seen_any {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "input ended inside a header",
                ))
            } else {
                Ok(None)
            };
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !seen_any {
                // Ex) a stray blank line between frames.
                continue;
            }
            break;
        }
        seen_any = true;
        let Some((name, value)) = line.split_once(':') else {
            bad_header = Some(format!("malformed header line {line:?}"));
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            match value.trim().parse::<usize>() {
                Ok(n) => length = Some(n),
                Err(_) => bad_header = Some(format!("bad Content-Length {:?}", value.trim())),
            }
        }
    }
    let Some(length) = length else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            bad_header.unwrap_or_else(|| "a frame without Content-Length; skipped".into()),
        ));
    };
    if length > MAX_PAYLOAD {
        io::copy(&mut input.take(length as u64), &mut io::sink())?;
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a payload of {length} bytes is over the limit; skipped"),
        ));
    }
    let mut payload = vec![0; length];
    input.read_exact(&mut payload)?;
    Ok(Some(payload))
}

/// The message in a payload, or the JSON-RPC error reply to send back.
fn parse(payload: &[u8]) -> Result<Message, Value> {
    let value: Value = serde_json::from_slice(payload).map_err(|err| {
        error_reply(
            Value::Null,
            ErrorCode::ParseError,
            &format!("malformed JSON: {err}"),
        )
    })?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|err| {
        error_reply(
            id,
            ErrorCode::InvalidRequest,
            &format!("not a JSON-RPC message: {err}"),
        )
    })
}

fn error_reply(id: Value, code: ErrorCode, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code as i32, "message": message}})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn bad_payloads_are_answered_and_reading_goes_on() {
        let input = [
            frame("{not json"),
            "Content-Type: x\r\n\r\n".to_string(),
            frame(r#"{"id": 7, "foo": 1}"#),
            frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#),
            frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
            frame(r#"{"jsonrpc":"2.0","method":"never-read"}"#),
        ]
        .concat();
        let (tx, rx) = unbounded();
        let mut out = Vec::new();
        read_loop(&mut input.as_bytes(), &tx, &mut out);
        let methods: Vec<String> = rx
            .try_iter()
            .map(|m| match m {
                Message::Notification(n) => n.method,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(methods, ["initialized", "exit"]);
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(r#""code":-32700"#), "{out}");
        assert!(out.contains(r#""id":null"#), "{out}");
        assert!(out.contains(r#""code":-32600"#), "{out}");
        assert!(out.contains(r#""id":7"#), "{out}");
    }
}
