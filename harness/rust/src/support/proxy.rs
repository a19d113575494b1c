//! Fault injection for PostgreSQL: a Unix-socket proxy between the pools and the throwaway
//! server that counts the statements a call sends and makes one of them fail on the server.
//!
//! The frontend protocol after start-up is `type byte, int32 length (itself included), body`.
//! A statement is a simple `Query` ('Q', body: the SQL text) or a `Parse` ('P', body: statement
//! name, SQL text, parameter types); empty queries (bb8's health check) are not counted. While a
//! run is armed, the k-th statement has its SQL text replaced by a call of a function that does
//! not exist, so the server answers it with an error (SQLSTATE 42883), as it would any failing
//! statement; everything else is forwarded unchanged, and the server's answers are copied back
//! as they are.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

/// The SQL every injected fault sends instead of the case's statement.
pub const FAULT_SQL: &str = "SELECT connlint_harness_injected_fault()";

#[derive(Default)]
struct State {
    armed: bool,
    count: u32,
    fail_at: Option<u32>,
    injected: bool,
}

#[derive(Clone)]
pub struct Proxy {
    state: Arc<Mutex<State>>,
    /// The folder holding the proxy's `.s.PGSQL.<port>`.
    pub dir: PathBuf,
}

impl Proxy {
    /// Listens on `<dir>/.s.PGSQL.<port>` and forwards to `<server_dir>/.s.PGSQL.<port>`.
    pub fn start(dir: &Path, server_dir: &Path, port: u16) -> Result<Proxy, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let socket = dir.join(format!(".s.PGSQL.{port}"));
        let _ = std::fs::remove_file(&socket);
        let listener =
            UnixListener::bind(&socket).map_err(|e| format!("{}: {e}", socket.display()))?;
        let server = server_dir.join(format!(".s.PGSQL.{port}"));
        let proxy = Proxy {
            state: Arc::new(Mutex::new(State::default())),
            dir: dir.to_path_buf(),
        };
        let state = Arc::clone(&proxy.state);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = server.clone();
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    if let Ok(upstream) = UnixStream::connect(&server).await {
                        let _ = forward(client, upstream, state).await;
                    }
                });
            }
        });
        Ok(proxy)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts counting the statements of a run; `fail_at` (1-based) is the one to fail.
    pub fn arm(&self, fail_at: Option<u32>) {
        let mut s = self.lock();
        *s = State {
            armed: true,
            count: 0,
            fail_at,
            injected: false,
        };
    }

    /// Stops counting: (statements sent, whether the fault was injected).
    pub fn disarm(&self) -> (u32, bool) {
        let mut s = self.lock();
        s.armed = false;
        (s.count, s.injected)
    }
}

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

async fn forward(
    mut client: UnixStream,
    upstream: UnixStream,
    state: Arc<Mutex<State>>,
) -> std::io::Result<()> {
    let (mut up_read, mut up_write) = upstream.into_split();
    let (mut client_read, mut client_write) = client.split();
    let back = async {
        let _ = tokio::io::copy(&mut up_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    let forth = client_to_server(&mut client_read, &mut up_write, &state);
    let (_, r) = tokio::join!(back, forth);
    r
}

async fn client_to_server<R, W>(
    read: &mut R,
    write: &mut W,
    state: &Mutex<State>,
) -> std::io::Result<()>
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    // Start-up packets have no type byte; an SSL/GSS request is followed by another one.
    loop {
        let len = read.read_u32().await?;
        let mut body = vec![0u8; (len as usize).saturating_sub(4)];
        read.read_exact(&mut body).await?;
        write.write_u32(len).await?;
        write.write_all(&body).await?;
        let code = body
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0);
        if code != SSL_REQUEST && code != GSSENC_REQUEST {
            break;
        }
    }
    loop {
        let kind = read.read_u8().await?;
        let len = read.read_u32().await?;
        let mut body = vec![0u8; (len as usize).saturating_sub(4)];
        read.read_exact(&mut body).await?;
        let body = match kind {
            b'Q' | b'P' => rewrite(kind, body, state),
            _ => body,
        };
        write.write_u8(kind).await?;
        write.write_u32(body.len() as u32 + 4).await?;
        write.write_all(&body).await?;
    }
}

/// Counts a statement and, when it is the one to fail, replaces its SQL text.
fn rewrite(kind: u8, body: Vec<u8>, state: &Mutex<State>) -> Vec<u8> {
    // Where the SQL text starts and ends (exclusive of its NUL).
    let sql_start = if kind == b'Q' {
        0
    } else {
        match body.iter().position(|&b| b == 0) {
            Some(i) => i + 1,
            None => return body,
        }
    };
    let Some(sql_len) = body[sql_start..].iter().position(|&b| b == 0) else {
        return body;
    };
    if body[sql_start..sql_start + sql_len]
        .iter()
        .all(u8::is_ascii_whitespace)
    {
        // Ex) bb8-postgres's `simple_query("")` health check: not the case's work.
        return body;
    }
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if !s.armed {
        return body;
    }
    s.count += 1;
    if s.fail_at != Some(s.count) {
        return body;
    }
    s.injected = true;
    let mut out = Vec::with_capacity(body.len() + FAULT_SQL.len());
    out.extend_from_slice(&body[..sql_start]);
    out.extend_from_slice(FAULT_SQL.as_bytes());
    out.extend_from_slice(&body[sql_start + sql_len..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armed(fail_at: Option<u32>) -> Mutex<State> {
        Mutex::new(State {
            armed: true,
            fail_at,
            ..State::default()
        })
    }

    #[test]
    fn the_chosen_statement_is_rewritten_and_the_others_are_not() {
        let state = armed(Some(2));
        let q = b"select 1\0".to_vec();
        assert_eq!(rewrite(b'Q', q.clone(), &state), q);
        let parse = b"s1\0select $1\0\x00\x01\x00\x00\x00\x17".to_vec();
        let got = rewrite(b'P', parse, &state);
        let mut want = b"s1\0".to_vec();
        want.extend_from_slice(FAULT_SQL.as_bytes());
        want.extend_from_slice(b"\0\x00\x01\x00\x00\x00\x17");
        assert_eq!(got, want);
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!((s.count, s.injected), (2, true));
    }

    #[test]
    fn empty_queries_and_disarmed_runs_are_not_counted() {
        let state = armed(Some(1));
        assert_eq!(rewrite(b'Q', b"\0".to_vec(), &state), b"\0".to_vec());
        state.lock().unwrap_or_else(|p| p.into_inner()).armed = false;
        assert_eq!(
            rewrite(b'Q', b"select 1\0".to_vec(), &state),
            b"select 1\0".to_vec()
        );
        assert_eq!(state.lock().unwrap_or_else(|p| p.into_inner()).count, 0);
    }
}
