//! The conformance CLI: `--list` needs no server; pointed at a port where nothing listens,
//! it fails fast and says so.

use std::process::Command;

fn workspace() -> std::path::PathBuf {
    std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).parent().unwrap().to_path_buf()
}

#[test]
fn list_prints_the_matching_cases() {
    let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["--list", "--filter", "10.*", "--workspace"])
        .arg(workspace())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 5 && text.lines().all(|l| l.starts_with("10.")), "{text}");
}

#[test]
fn a_server_that_is_not_there_fails_fast() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["--server", &format!("http://127.0.0.1:{port}"), "--filter", "10.1", "--workspace"])
        .arg(workspace())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // Said before any case ran (no driver, no oracle).
    assert!(err.contains("nothing listens"), "{err}");
}
