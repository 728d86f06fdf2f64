//! The pip-installable wheel (issue 22), as someone without Rust meets it.
//!
//! python/build_wheel.py builds the wheel from the debug build the other tests run
//! (maturin's cargo finds target/debug up to date; the wheel's binary is that one with
//! the build machine's libtorch directory cut off its rpath). A fresh virtual
//! environment, whose PATH is its bin/, /usr/bin and /bin (no cargo, no rustc) and whose
//! HOME is empty, gets the wheel by docs/ci.md's own `pip install` line, then runs:
//! docs/ci.md's pytest command on its test file (the `localndif_server` fixture; a remote
//! trace of localndif/tiny-gpt2 equal to the local one); a pytest-xdist run (a server per
//! worker; `--localndif-model` and `--localndif-arg` reach the server); and README.md's
//! `localndif.serve()` example.
//!
//! torch, nnsight and the rest of python/requirements.txt are not downloaded again (torch
//! with its CUDA wheels is gigabytes): the fresh site-packages gets a symlink to each
//! package `make venv` installed into .venv from that file, dist-info included — the
//! layout `pip install -r python/requirements.txt` leaves. So pip resolves the wheel's
//! `torch==2.13.0` (and the CI page's pins) against them, and the installed binary's rpath
//! has to find libtorch at <fresh venv>/lib/python3.X/site-packages/torch/lib — the test
//! checks with the loader's own trace that it did. pip is asked for a dry-run report
//! first, and the test stops if pip would replace a linked package (that would delete
//! files in .venv). pytest and pytest-xdist are installed from build_wheel.py's
//! wheelhouse (python/requirements-wheel.txt, downloaded once), with `--no-index`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;
use common::workspace;

/// What pip may install into the fresh environment: the wheel and the test tools.
const NEW_PACKAGES: &[&str] = &["localndif", "pytest", "pluggy", "iniconfig", "pytest-xdist", "execnet"];

#[test]
fn the_wheel_installs_and_serves_without_rust() {
    let ws = workspace();
    let t0 = Instant::now();
    let scratch = ws.join("target/wheel-test").join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("home")).unwrap();
    let python = ws.join(".venv/bin/python");

    // The wheel, from the debug build.
    let built = run(
        Command::new(&python)
            .arg(ws.join("python/build_wheel.py"))
            .args(["--profile", "dev", "--out"])
            .arg(scratch.join("wheels"))
            .current_dir(&ws),
        "python/build_wheel.py --profile dev",
    );
    let line = |key: &str| -> PathBuf {
        built
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("build_wheel.py printed no {key:?} line:\n{built}"))
    };
    let (wheel, wheelhouse) = (line("wheel: "), line("wheelhouse: "));
    let name = wheel.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("localndif-") && name.ends_with("_x86_64.whl"), "{name}");
    eprintln!("wheel test: {name} built in {:.0?}", t0.elapsed());

    // A fresh environment with python/requirements.txt's packages linked in (see above).
    let venv = scratch.join("venv");
    run(Command::new(&python).args(["-m", "venv", "--without-pip"]).arg(&venv), "python -m venv");
    let shared = site_packages(&ws.join(".venv"));
    let site = site_packages(&venv);
    let pyver = site.parent().unwrap().file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(shared.parent().unwrap().file_name().unwrap().to_str(), Some(pyver.as_str()), "one Python version");
    let mut linked = BTreeSet::new();
    for entry in std::fs::read_dir(&shared).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().to_string_lossy().to_string();
        if file == "__pycache__" || site.join(&file).exists() {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), site.join(&file)).unwrap();
        if let Some(dist) = file.strip_suffix(".dist-info") {
            linked.insert(normalize(dist.split('-').next().unwrap()));
        }
    }
    assert!(linked.contains("torch") && linked.contains("nnsight") && !linked.contains("localndif"), "{linked:?}");
    let bin = venv.join("bin");
    for dir in [bin.as_path(), Path::new("/usr/bin"), Path::new("/bin")] {
        for tool in ["cargo", "rustc"] {
            assert!(!dir.join(tool).exists(), "{} is on the fresh environment's PATH", dir.join(tool).display());
        }
    }
    let user = |program: &Path| -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", scratch.join("home"))
            .env("LANG", "C.UTF-8")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .current_dir(scratch.join("project"));
        c
    };
    std::fs::create_dir_all(scratch.join("project")).unwrap();

    // docs/ci.md, as written: its install line (the wheel for `localndif`, the
    // wheelhouse for the index), its test file and its pytest command.
    let ci = std::fs::read_to_string(ws.join("docs/ci.md")).unwrap();
    let workflow = fenced(&ci, "yaml");
    let steps: Vec<&str> = workflow.lines().filter_map(|l| l.trim().strip_prefix("- run: ")).collect();
    let install = steps.iter().find_map(|s| s.strip_prefix("pip install ")).expect("a `pip install` step");
    let pytest_cmd = *steps.iter().find(|s| s.starts_with("pytest")).expect("a `pytest` step");
    let mut packages: Vec<String> = install.split_whitespace().map(str::to_string).collect();
    let at = packages.iter().position(|p| p == "localndif").expect("the install step names localndif");
    packages[at] = wheel.display().to_string();
    // Each install asks pip for a dry-run report first (see above).
    let pip_install = |what: &str, packages: &[String]| {
        let pip = |extra: &[&str]| -> Command {
            let mut c = user(&bin.join("python"));
            c.args(["-m", "pip", "install", "--no-index", "--find-links"])
                .arg(&wheelhouse)
                .args(extra)
                .args(packages)
                .current_dir(&scratch);
            c
        };
        let report = scratch.join("pip-report.json");
        run(&mut pip(&["--dry-run", "--quiet", "--report", report.to_str().unwrap()]), &format!("{what} --dry-run"));
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let planned: BTreeSet<String> = report["install"]
            .as_array()
            .expect("pip's report lists what it installs")
            .iter()
            .map(|i| normalize(i["metadata"]["name"].as_str().unwrap()))
            .collect();
        for p in &planned {
            assert!(
                NEW_PACKAGES.contains(&p.as_str()) && !linked.contains(p),
                "{what} would install {p} (planned: {planned:?}): a pin in docs/ci.md or python/requirements-wheel.txt disagrees with .venv"
            );
        }
        run(&mut pip(&["--quiet"]), what);
        planned
    };
    let planned = pip_install("docs/ci.md's pip install step", &packages);
    assert!(planned.contains("localndif"), "{planned:?}");
    pip_install("pip install pytest-xdist", &["pytest-xdist".to_string()]);
    eprintln!("wheel test: installed at {:.0?}", t0.elapsed());

    // The installed binary: a file of its own whose rpath is relative only, and the loader
    // finds libtorch in the fresh environment's torch.
    let exe = bin.join("localndif");
    assert!(exe.is_file() && !exe.is_symlink(), "{} was not installed", exe.display());
    let dynamic = run(Command::new("readelf").arg("-d").arg(&exe), "readelf -d");
    let runpath = dynamic
        .lines()
        .find(|l| l.contains("(RUNPATH)") || l.contains("(RPATH)"))
        .and_then(|l| l.split('[').nth(1))
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or_else(|| panic!("no rpath:\n{dynamic}"));
    assert!(
        runpath.split(':').all(|e| e.starts_with("$ORIGIN/../lib/python3.")),
        "the installed binary's rpath is not relative only: {runpath}"
    );
    // $ORIGIN is the directory of the executable's real path.
    let origin = std::fs::canonicalize(&bin).unwrap();
    let expected = format!("{}/../lib/{pyver}/site-packages/torch/lib/libtorch_cpu.so", origin.display());
    let out = user(&exe).arg("--version").env("LD_DEBUG", "libs").output().unwrap();
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{} --version failed:\n{trace}", exe.display());
    assert!(
        trace.lines().any(|l| l.contains("calling init:") && l.trim_end().ends_with(&expected)),
        "the loader did not take libtorch_cpu.so from {expected}:\n{}",
        trace.lines().filter(|l| l.contains("libtorch_cpu")).collect::<Vec<_>>().join("\n")
    );

    // docs/ci.md's test file and pytest command.
    let test_file = fenced(&ci, "python");
    let path = test_file
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .expect("the CI test file's first line names it (# tests/NAME.py)");
    let target = scratch.join("project").join(path);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, test_file).unwrap();
    let tests = test_file.matches("\ndef test_").count();
    let out = run(user(Path::new("sh")).args(["-c", pytest_cmd]), &format!("docs/ci.md's `{pytest_cmd}`"));
    let installed = std::fs::canonicalize(&exe).unwrap();
    assert!(out.contains(&format!("localndif: {}", installed.display())), "the plugin's header names the installed binary:\n{out}");
    assert!(out.contains(&format!("{tests} passed")) && !out.contains("skipped"), "{out}");
    eprintln!("wheel test: docs/ci.md's pytest run passed at {:.0?}", t0.elapsed());

    // pytest-xdist: two workers, a server each; the model and flag options reach it.
    let records = scratch.join("records");
    std::fs::create_dir_all(&records).unwrap();
    std::fs::write(scratch.join("project/test_workers.py"), WORKERS_TEST).unwrap();
    let model = format!("acme/tiny={}", ws.join("fixtures/models/tiny-gpt2").display());
    let out = run(
        user(&bin.join("pytest"))
            .args(["-p", "xdist", "-n", "2", "test_workers.py", "--localndif-model", &model, "--localndif-arg=--intra-op-threads 2"])
            .env("RECORD_DIR", &records),
        "pytest -n 2",
    );
    assert!(out.contains("2 passed"), "{out}");
    let seen: Vec<serde_json::Value> = std::fs::read_dir(&records)
        .unwrap()
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_ne!(seen[0]["worker"], seen[1]["worker"], "{seen:?}");
    assert_ne!(seen[0]["url"], seen[1]["url"], "one server per worker: {seen:?}");
    for s in &seen {
        assert_eq!(s["models"], serde_json::json!(["acme/tiny"]), "{s}");
        assert_eq!(s["threads"], serde_json::json!([2]), "{s}");
    }
    eprintln!("wheel test: pytest-xdist run passed at {:.0?}", t0.elapsed());

    // README.md's example of the Python API.
    let readme = std::fs::read_to_string(ws.join("README.md")).unwrap();
    let section = readme.split("## From Python").nth(1).expect("README.md has a From Python section");
    let example = fenced(section, "python");
    assert!(example.contains("localndif.serve(") && example.contains("remote=True"), "{example}");
    let out = run(user(&bin.join("python")).args(["-c", example]), "README.md's localndif.serve() example");
    assert!(out.contains("http://127.0.0.1:") && out.contains("torch.Size(["), "{out}");
    eprintln!("wheel test: README example ran at {:.0?}", t0.elapsed());

    // Every server these started has stopped.
    let venv = std::fs::canonicalize(&venv).unwrap();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path().join("exe")).ok())
        .filter(|p| p.starts_with(&venv))
        .map(|p| p.display().to_string())
        .collect();
    assert!(left.is_empty(), "servers still running: {left:?}");
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// A test file for the xdist run: each test records what its worker's server says.
const WORKERS_TEST: &str = r#"import json, os, urllib.request


def record(url):
    ready = json.load(urllib.request.urlopen(url + "/ready"))
    status = json.load(urllib.request.urlopen(url + "/status"))
    threads = sorted({d["intra_op_threads"] for d in status["deployments"].values()})
    worker = os.environ.get("PYTEST_XDIST_WORKER", "none")
    assert os.environ["NDIF_HOST"] == url == os.environ["HF_ENDPOINT"]
    with open(os.path.join(os.environ["RECORD_DIR"], worker), "w") as f:
        json.dump({"worker": worker, "url": url, "models": ready["models"], "threads": threads}, f)


def test_one(localndif_url):
    record(localndif_url)


def test_two(localndif_url):
    record(localndif_url)
"#;

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{text}", out.status);
    text
}

/// `VENV/lib/python3.X/site-packages`.
fn site_packages(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    let found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e}", lib.display()))
        .filter_map(|e| Some(e.ok()?.path().join("site-packages")))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(found.len(), 1, "one site-packages under {}: {found:?}", lib.display());
    found.into_iter().next().unwrap()
}

/// A distribution name as pip compares them (PEP 503).
fn normalize(name: &str) -> String {
    name.to_lowercase().replace(['_', '.'], "-")
}

/// The first fenced block of `lang` in `text`.
fn fenced<'a>(text: &'a str, lang: &str) -> &'a str {
    text.split(&format!("```{lang}\n"))
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("no ```{lang} block"))
}
