//! The native driver's HTTP/1.1 and WebSocket plumbing, over plain sockets so that cases
//! can send what no well-behaved client would (truncated bodies, wrong lengths, stalls).
//! Every read has a deadline: a server that never answers fails the case, never hangs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long one exchange may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("HTTP {}: the body is not JSON ({e}): {:?}", self.status, String::from_utf8_lossy(&self.body[..self.body.len().min(200)])))
    }

    /// The `detail` text of a refusal (`{"detail": "..."}`, FastAPI's and NDIF's shape).
    pub fn detail(&self) -> Result<String, String> {
        let v = self.json()?;
        v["detail"].as_str().map(str::to_string).ok_or_else(|| format!("HTTP {}: no string `detail` in {v}", self.status))
    }
}

/// `host:port` of an `http://` URL.
pub fn authority(url: &str) -> Result<&str, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// servers can be driven natively"))?;
    Ok(rest.split('/').next().unwrap_or(rest))
}

pub fn connect(url: &str) -> Result<TcpStream, String> {
    let host = authority(url)?;
    let s = TcpStream::connect(host).map_err(|e| format!("connecting to {host}: {e}"))?;
    s.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    Ok(s)
}

/// One request (`Connection: close`, `Content-Length` of `body`) and its response.
pub fn request(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Response, String> {
    let mut s = connect(url)?;
    let host = authority(url)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).map_err(|e| format!("sending {method} {path}: {e}"))?;
    // A server may answer (and close) before the whole body is sent.
    let _ = s.write_all(body);
    read_response(&mut s).map_err(|e| format!("{method} {path}: {e}"))
}

pub fn get(url: &str, path: &str) -> Result<Response, String> {
    request(url, "GET", path, &[], &[])
}

/// Reads a whole response from `s` (until the server closes it).
pub fn read_response(s: &mut TcpStream) -> Result<Response, String> {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => format!("no complete response within {}s", IO_TIMEOUT.as_secs()),
        _ => format!("reading the response: {e}"),
    })?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<Response, String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("the connection closed without a response")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {head:?}"))?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Response { status, headers, body })
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").ok_or("a truncated chunked body")?;
        let size = std::str::from_utf8(&b[..eol]).map_err(|e| e.to_string())?;
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).map_err(|e| format!("a chunk size {size:?}: {e}"))?;
        if n == 0 {
            return Ok(out);
        }
        let data = b.get(eol + 2..eol + 2 + n).ok_or("a truncated chunk")?;
        out.extend_from_slice(data);
        b = b.get(eol + 4 + n..).ok_or("a truncated chunk")?;
    }
}

/// A multipart/form-data body of `(name, filename, bytes)` fields; the body and its
/// content type.
pub fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (Vec<u8>, String) {
    let boundary = "conformance-native-boundary-7f3a";
    let mut body = Vec::new();
    for (name, filename, bytes) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(f) = filename {
            body.extend_from_slice(format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// A WebSocket to `path` of the server at `url` (handshake with `headers`), reads
/// bounded by `timeout`.
pub fn websocket(url: &str, path: &str, headers: &[(&str, String)], timeout: Duration) -> Result<tungstenite::WebSocket<TcpStream>, String> {
    use tungstenite::client::IntoClientRequest;
    let stream = connect(url)?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let ws_url = format!("ws://{}{path}", authority(url)?);
    let mut req = ws_url.as_str().into_client_request().map_err(|e| e.to_string())?;
    for (k, v) in headers {
        let name = tungstenite::http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?;
        req.headers_mut().insert(name, v.parse().map_err(|e| format!("header {k}: {e}"))?);
    }
    let (ws, _) = tungstenite::client(req, stream).map_err(|e| format!("opening the WebSocket {path}: {e}"))?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse_with_lengths_and_chunks() {
        let r = parse(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{\"detail\": \"no\"}").unwrap();
        assert_eq!((r.status, r.detail().unwrap().as_str()), (404, "no"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let r = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(r.body, b"abcde");
        assert!(parse(b"").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }
}
