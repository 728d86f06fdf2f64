//! The server's edges, against the real binary: connections that never finish their
//! headers are closed on `--header-timeout`, connections past the per-client cap are
//! refused at once and counted, and clients from elsewhere are served throughout.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::Server;

/// A TCP connection from `source` (a loopback address of its own) to `to`.
fn connect_from(source: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(5))?;
    Ok(socket.into())
}

/// `GET path` from 127.0.0.1: the status code and body.
fn get(to: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(to).expect("a client from elsewhere connects");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("an answer");
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, text.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
}

/// Whether the server has closed `s` (a read sees end-of-stream or a reset).
fn closed_within(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return false,
            Err(_) => return true,
        }
    }
}

/// Opens `n` connections from 127.0.0.2 that send half a request's headers.
fn half_sent(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = connect_from("127.0.0.2", addr).expect("connect");
            let _ = s.write_all(b"POST /request HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n");
            s
        })
        .collect()
}

/// `localndif_connections_refused_total` from `/metrics`.
fn refused(addr: SocketAddr) -> f64 {
    let (code, metrics) = get(addr, "/metrics");
    assert_eq!(code, 200);
    metrics
        .lines()
        .find(|l| l.starts_with("localndif_connections_refused_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .expect("the refused-connections counter")
}

#[test]
fn half_sent_requests_are_closed_on_the_header_timeout_and_others_are_served_throughout() {
    // 1,500 requests that never finish their headers, from one address: all closed on the
    // 1 s header deadline, not kept for as long as the client likes; others are served
    // while they hang, and the address connects again afterwards.
    let server = Server::start(&["--header-timeout", "1", "--max-connections-per-client", "5000"]);
    let addr: SocketAddr = server.url.trim_start_matches("http://").parse().expect("host:port");
    let mut held = half_sent(addr, 1500);
    let (code, body) = get(addr, "/ping");
    assert_eq!(code, 200, "{body}");
    assert_eq!(get(addr, "/ready").0, 200);
    let deadline = Instant::now() + Duration::from_secs(15);
    let closed = held.iter_mut().map(|s| closed_within(s, deadline)).filter(|&c| c).count();
    assert_eq!(closed, held.len(), "every half-sent request is closed");
    assert_eq!(refused(addr), 0.0, "none was past a cap");
    let mut again = connect_from("127.0.0.2", addr).unwrap();
    write!(again, "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    again.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    again.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // Past the per-client cap a connection is closed at once and counted, while another
    // address is served.
    let server = Server::start(&["--header-timeout", "60", "--max-connections-per-client", "100"]);
    let addr: SocketAddr = server.url.trim_start_matches("http://").parse().expect("host:port");
    let mut held = half_sent(addr, 150);
    let deadline = Instant::now() + Duration::from_secs(15);
    let closed = held[100..].iter_mut().map(|s| closed_within(s, deadline)).filter(|&c| c).count();
    assert_eq!(closed, 50, "the 50 past the cap are closed at once");
    assert_eq!(get(addr, "/ping").0, 200);
    assert_eq!(refused(addr), 50.0);
    let held_open = held[..100].iter_mut().map(|s| closed_within(s, Instant::now() + Duration::from_millis(20))).filter(|&c| !c).count();
    assert_eq!(held_open, 100, "the first 100 are still open (their deadline is 60 s)");
}

/// A zstd frame of `n` zeros (about 32 KiB for 1 GiB), declaring its size or not, made
/// without holding the zeros.
fn bomb(n: u64, declared: bool) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    if declared {
        e.set_pledged_src_size(Some(n)).unwrap();
        e.include_contentsize(true).unwrap();
    }
    std::io::copy(&mut std::io::repeat(0).take(n), &mut e).unwrap();
    e.finish().unwrap()
}

/// POSTs `body` as one request from 127.0.0.1; the status code and body.
fn post(to: SocketAddr, content_type: &str, extra: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(to).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(s, "POST /request HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut text = Vec::new();
    let _ = s.read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text).to_string();
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, text.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
}

/// The server process's peak resident memory (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// 64 decompression bombs at once (1 GiB of zeros in ~32 KiB; half declare their size,
/// half do not; both client generations' framings): each is refused with 413 or 503 saying
/// why, `/ping` stays fast throughout and the server's memory stays bounded. (A cap of
/// 128 MiB keeps the test short: the undeclared bombs are inflated up to the cap.)
#[test]
fn concurrent_decompression_bombs_are_refused_and_the_server_stays_responsive() {
    let server = Server::start(&["--max-request-bytes", "134217728", "--decode-budget", "268435456"]);
    let addr: SocketAddr = server.url.trim_start_matches("http://").parse().expect("host:port");
    let declared = bomb(1 << 30, true);
    let undeclared = bomb(1 << 30, false);
    assert!(declared.len() < 64 << 10 && undeclared.len() < 64 << 10, "{} {}", declared.len(), undeclared.len());
    let key = r#"nnsight-model-key: nnsight.modeling.language.LanguageModel:{"repo_id": "localndif/tiny-gpt2", "revision": null}"#;
    let multipart = |blob: &[u8]| {
        let envelope = r#"{"model_key": "nnsight.modeling.transformers.TransformersModel:{\"repo_id\": \"localndif/tiny-gpt2\", \"revision\": null, \"task\": \"text-generation\"}", "session_id": "", "compress": true}"#;
        let mut body = format!("--B\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{envelope}\r\n--B\r\nContent-Disposition: form-data; name=\"blob\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
        body.extend_from_slice(blob);
        body.extend_from_slice(b"\r\n--B--\r\n");
        body
    };
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pinger = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut took = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let t = Instant::now();
                let (code, _) = get(addr, "/ping");
                assert_eq!(code, 200);
                took.push(t.elapsed());
                std::thread::sleep(Duration::from_millis(10));
            }
            took
        })
    };
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let blob = if i % 2 == 0 { &declared } else { &undeclared };
                let (g2, blob) = (i % 4 < 2, blob.clone());
                let mp = multipart(&blob);
                scope.spawn(move || {
                    if g2 {
                        post(addr, "multipart/form-data; boundary=B", "nnsight-version: 0.8.1\r\n", &mp)
                    } else {
                        post(addr, "application/octet-stream", &format!("{key}\r\nnnsight-version: 0.7.0\r\n"), &blob)
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut took = pinger.join().unwrap();
    for (code, body) in &answers {
        assert!(matches!(code, 413 | 503), "{code}: {body}");
        assert!(body.contains("--max-request-bytes") || body.contains("--decode-budget"), "{code}: {body}");
    }
    took.sort();
    let p99 = took[(took.len() * 99 / 100).min(took.len() - 1)];
    assert!(took.len() >= 5, "{} pings", took.len());
    assert!(p99 < Duration::from_millis(100), "/ping p99 {p99:?} over {} pings", took.len());
    let rss = peak_rss(server.child.id());
    assert!(rss < 3 << 29, "peak RSS {} MiB", rss >> 20);
    // And the server goes on.
    assert_eq!(get(addr, "/ready").0, 200);
}
