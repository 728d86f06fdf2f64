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

#[test]
fn half_sent_requests_are_closed_on_the_header_timeout_and_others_are_served_throughout() {
    let server = Server::start(&["--header-timeout", "2", "--max-connections-per-client", "1000"]);
    let addr: SocketAddr = server.url.trim_start_matches("http://").parse().expect("host:port");
    // 1,500 requests from one address that never finish their headers.
    let mut held = Vec::new();
    for _ in 0..1500 {
        let mut s = connect_from("127.0.0.2", addr).expect("connect");
        let _ = s.write_all(b"POST /request HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n");
        held.push(s);
    }
    // Others are served while they hang.
    let (code, body) = get(addr, "/ping");
    assert_eq!(code, 200, "{body}");
    let (code, _) = get(addr, "/ready");
    assert_eq!(code, 200);
    // Past the per-client cap, connections were closed at once; the rest are closed when
    // their headers are late (2 s), not kept for as long as the client likes.
    let deadline = Instant::now() + Duration::from_secs(15);
    let closed = held.iter_mut().map(|s| closed_within(s, deadline)).filter(|&c| c).count();
    assert_eq!(closed, held.len(), "every half-sent request is closed");
    let (code, metrics) = get(addr, "/metrics");
    assert_eq!(code, 200);
    let refused: f64 = metrics
        .lines()
        .find(|l| l.starts_with("localndif_connections_refused_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .expect("the refused-connections counter");
    assert!(refused >= 500.0, "{refused} connections counted as refused");
    // And the address can connect again once its connections are gone.
    let mut again = connect_from("127.0.0.2", addr).unwrap();
    write!(again, "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    again.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    again.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}
