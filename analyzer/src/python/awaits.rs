//! What a Python `await` waits for, for CL006: the default list of slow, unrelated work.

/// Awaited calls by their dotted path's last segments.
const SLOW_FUNCTIONS: &[(&str, &str)] = &[
    ("asyncio.sleep", "a sleep"),
    ("trio.sleep", "a sleep"),
    ("anyio.sleep", "a sleep"),
    ("sleep", "a sleep"),
    ("asyncio.create_subprocess_exec", "a subprocess"),
    ("asyncio.create_subprocess_shell", "a subprocess"),
    ("httpx.get", "an HTTP request"),
    ("httpx.post", "an HTTP request"),
    ("asyncio.open_connection", "a network connection"),
];

/// Methods whose result is slow when awaited, whatever the receiver.
const SLOW_METHODS: &[(&str, &str)] = &[
    ("communicate", "a subprocess"),
    ("recv", "a channel receive"),
    ("receive", "a channel receive"),
];

/// HTTP client methods (aiohttp `ClientSession`, httpx `AsyncClient`), recognised when the
/// receiver's name says it is a session or client.
const HTTP_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "request", "send", "stream",
];
const HTTP_RECEIVERS: &[&str] = &["session", "client", "http"];

/// Queue receives (`asyncio.Queue.get`), recognised by the receiver's name.
const QUEUE_RECEIVERS: &[&str] = &["queue", "inbox", "channel"];

/// Describes the slow work that `await <call>` waits for, from the called function's text
/// (`asyncio.sleep`, `session.get`), or `None` for anything else.
pub(crate) fn classify(func: &str) -> Option<&'static str> {
    let func = func.trim();
    if let Some((_, what)) = SLOW_FUNCTIONS
        .iter()
        .find(|(f, _)| func == *f || func.ends_with(&format!(".{f}")))
    {
        return Some(what);
    }
    let (receiver, method) = func.rsplit_once('.')?;
    if let Some((_, what)) = SLOW_METHODS.iter().find(|(m, _)| *m == method) {
        return Some(what);
    }
    let last = receiver
        .rsplit('.')
        .next()
        .unwrap_or(receiver)
        .to_ascii_lowercase();
    if method == "wait" && (last.contains("proc") || last.contains("child")) {
        return Some("a subprocess");
    }
    if HTTP_METHODS.contains(&method) && HTTP_RECEIVERS.iter().any(|r| last.contains(r)) {
        return Some("an HTTP request");
    }
    if method == "get" && QUEUE_RECEIVERS.iter().any(|r| last.contains(r)) {
        return Some("a queue receive");
    }
    None
}
