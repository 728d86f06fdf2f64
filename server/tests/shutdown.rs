//! SIGTERM against the real binary: with one job running (an endless loop in user code)
//! and one queued, the server stops taking jobs, gives both clients an ERROR saying it is
//! shutting down (seen here through NDIF's `ndif-callback`), and exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("..")
}

/// The 0.7.0 capture `c01_save_output` with its second line replaced (same length, so
/// the pickle stays valid) by an endless loop: the job runs until it is stopped.
fn endless_g1_body() -> Vec<u8> {
    let path = workspace().join("fixtures/captures/v0.7.0/c01_save_output/request.blob");
    let blob = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut raw = localndif_wire::zstdio::decompress(&blob, 1 << 30).unwrap();
    let line = b"logits = model.lm_head.output.save()";
    let mut endless = b"while True: pass".to_vec();
    endless.resize(line.len(), b' ');
    // 0.7 ships the block twice (the tracer function and its invoke's mediator).
    let mut patched = 0;
    while let Some(at) = raw.windows(line.len()).position(|w| w == line) {
        raw[at..at + line.len()].copy_from_slice(&endless);
        patched += 1;
    }
    assert!(patched > 0, "the capture's second line");
    localndif_wire::zstdio::compress(&raw, 3)
}

fn post_g1(port: u16, body: &[u8], callback: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let key = r#"nnsight.modeling.language.LanguageModel:{"repo_id": "openai-community/gpt2", "revision": null}"#;
    let head = format!(
        "POST /request HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/octet-stream\r\nnnsight-model-key: {key}\r\nnnsight-version: 0.7.0\r\nnnsight-compress: True\r\nndif-callback: {callback}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let json = &reply[reply.find("\r\n\r\n").expect("an HTTP reply") + 4..];
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {reply}"));
    assert_eq!(v["status"], "RECEIVED", "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// Answers every request with 200 and hands its request line (`GET /hook?status=…&id=…`) on.
fn callback_listener() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut line = String::new();
            if BufReader::new(&conn).read_line(&mut line).is_ok() {
                let _ = tx.send(line.trim().to_string());
            }
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (port, rx)
}

/// Waits for the callback `status=<status>&id=<id>`.
fn expect_callback(rx: &mpsc::Receiver<String>, status: &str, id: &str) {
    let want = format!("status={status}&id={id}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(1))
            && line.contains(&want)
        {
            return;
        }
    }
    panic!("no callback {want}");
}

#[test]
fn sigterm_ends_running_and_queued_jobs_with_an_error_and_exits_0() {
    let model = workspace().join("fixtures/models/tiny-gpt2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_localndif"))
        .args(["serve", "--port", "0", "--workers", "1", "--max-steps", "1000000000000", "--drain-timeout", "1"])
        .arg("--model")
        .arg(format!("openai-community/gpt2={}", model.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let port: u16 = first.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{first}"));
    let (hook_port, hooks) = callback_listener();
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    let body = endless_g1_body();
    let running = post_g1(port, &body, &hook);
    expect_callback(&hooks, "RUNNING", &running);
    let queued = post_g1(port, &body, &hook);
    expect_callback(&hooks, "QUEUED", &queued);

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    expect_callback(&hooks, "ERROR", &queued);
    expect_callback(&hooks, "ERROR", &running);
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{status}");
}
