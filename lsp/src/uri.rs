//! `file:` URIs to paths and back (RFC 8089, percent-encoding per RFC 3986).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::Uri;

/// The local path a `file:` URI names; `None` for other schemes and remote hosts.
pub(crate) fn to_path(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let (scheme, rest) = text.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let slash = after.find('/').unwrap_or(after.len());
            let host = &after[..slash];
            // Ex) `file://server/share/x.py`: not a local file.
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return None;
            }
            &after[slash..]
        }
        None => rest,
    };
    let decoded = percent_decode(path)?;
    let decoded = if cfg!(windows) {
        // Ex) `/C:/work/x.py`.
        let bytes = decoded.as_bytes();
        if bytes.len() >= 3 && bytes[0] == b'/' && bytes[2] == b':' {
            decoded[1..].to_string()
        } else {
            decoded
        }
    } else {
        decoded
    };
    if decoded.is_empty() {
        return None;
    }
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path.
pub(crate) fn from_path(path: &Path) -> Option<Uri> {
    let text = path.to_str()?;
    let text = text.replace('\\', "/");
    let mut out = String::from("file://");
    if !text.starts_with('/') {
        out.push('/');
    }
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte);
        // A Windows drive's colon stays as it is, as VS Code writes it percent-encoded anyway.
        if keep || (byte == b':' && cfg!(windows)) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Uri::from_str(&out).ok()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(unix)]
    #[test]
    fn paths_round_trip_through_uris() {
        let path = Path::new("/work/my app/ça va#1.py");
        let uri = from_path(path).unwrap();
        assert_eq!(uri.as_str(), "file:///work/my%20app/%C3%A7a%20va%231.py");
        assert_eq!(to_path(&uri).unwrap(), path);
        let other: Uri = "file://localhost/tmp/a.py".parse().unwrap();
        assert_eq!(to_path(&other).unwrap(), Path::new("/tmp/a.py"));
        let remote: Uri = "file://server/share/a.py".parse().unwrap();
        assert_eq!(to_path(&remote), None);
        let untitled: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(to_path(&untitled), None);
    }
}
