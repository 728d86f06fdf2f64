//! End to end: starts the real `localndif` binary and runs every conformance case with the
//! real nnsight 0.8.1, 0.7.0 and 0.5.x clients against it, the oracle being the same client
//! run locally on the same weights. Needs the binary (`make test` builds it; or set LOCALNDIF_BIN) and the
//! project's `.venv` (`make venv`).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{SPECIAL, Server, Suite, binary, check, run_together, workspace};
use localndif_conformance::Verdict;

/// The differential cases on the embedded fixtures — GPT-2 for every area, Llama for its
/// own — with the nnsight 0.8.1, 0.7.0 and 0.5.15 clients at once against one server.
#[test]
fn every_case_passes_on_the_embedded_default_models_with_every_client() {
    let server = Server::start(&[]);
    let llama = |label, client| Suite {
        model_dir: "fixtures/models/tiny-llama",
        client,
        ..Suite::new("localndif/tiny-llama", "35.*", label)
    };
    // The cases written for every architecture (the GPT-2 paths of the rest are SKIP
    // on Llama).
    let llama_any = |label, client| Suite { filter: ANY_ARCH, ..llama(label, client) };
    let all = |label, client| Suite { except: SPECIAL, client, ..Suite::new("localndif/tiny-gpt2", "*", label) };
    std::thread::scope(|scope| {
        let g1 = scope.spawn(|| {
            let mut bad = all("default-0.7", "0.7").failures(&server);
            bad.extend(llama("llama-0.7", "0.7").failures(&server));
            bad.extend(llama_any("llama-any-0.7", "0.7").failures(&server));
            bad
        });
        let g05 = scope.spawn(|| {
            let mut bad = all("default-0.5", "0.5").failures(&server);
            bad.extend(llama("llama-0.5", "0.5").failures(&server));
            bad.extend(llama_any("llama-any-0.5", "0.5").failures(&server));
            bad
        });
        let mut bad = all("default", "0.8").failures(&server);
        bad.extend(llama("llama", "0.8").failures(&server));
        bad.extend(llama_any("llama-any", "0.8").failures(&server));
        bad.extend(g1.join().expect("the 0.7 suite panicked"));
        bad.extend(g05.join().expect("the 0.5 suite panicked"));
        check(bad);
    });
}

/// What a user of any nnsight 0.5.x does first, with 0.5.0, 0.5.10, 0.5.13 and 0.5.15 at
/// once against one server (0.5.15 also runs the whole catalogue above): a blocking trace
/// of an edited copy, a session passing a value between traces, a 3-token generation and
/// a helper function of the script (48.*), a non-blocking job polled to completion (4.1)
/// and one whose `ndif-callback` URL, a listener in the case, sees every update (4.2).
#[test]
fn every_nnsight_05_release_runs_the_first_steps() {
    let server = Server::start(&[]);
    let smoke = |client, label| Suite { client, ..Suite::new("localndif/tiny-gpt2", SMOKE_05, label) };
    run_together(
        &server,
        &[smoke("0.5.0", "smoke-0.5.0"), smoke("0.5.10", "smoke-0.5.10"), smoke("0.5.13", "smoke-0.5.13"), smoke("0.5.15", "smoke-0.5.15")],
    );
}

/// The first steps of a 0.5.x user (`every_nnsight_05_release_runs_the_first_steps`).
const SMOKE_05: &str = "48.*,4.1,4.2";

/// The cases written for every architecture: envoys bound through the driver's
/// per-architecture paths (10.8–10.10), the augmented-assignment corpus (45), the eager
/// attention bound (34.15).
const ANY_ARCH: &str = "10.*,45.*,34.15";

/// Deeper and wider models of both families than the embedded ones
/// (`fixtures/models/deep-*`, 5 layers, width 48, 6 heads; Llama with 3 KV heads), served
/// by `--model`: every numerics case with both clients, floats bit-identical to the
/// oracle run at the intra-op threads the server advertises (`Suite::exact`; no case but
/// 34.15, against eager attention, has a tolerance) — traces,
/// batched invokes with padding, generation with `tracer.iter`, `tracer.cache()`,
/// gradients, edits, and every augmented assignment.
#[test]
fn deeper_fixtures_of_both_families_are_bit_identical_to_local_nnsight() {
    let ws = workspace();
    let server = Server::start(&[
        "--model",
        &format!("localndif/deep-gpt2={}", ws.join("fixtures/models/deep-gpt2").display()),
        "--model",
        &format!("localndif/deep-llama={}", ws.join("fixtures/models/deep-llama").display()),
    ]);
    let gpt2 = |label, client| Suite {
        model_dir: "fixtures/models/deep-gpt2",
        except: SPECIAL,
        client,
        ..Suite::new("localndif/deep-gpt2", "*", label)
    };
    let llama = |label, client, filter| Suite {
        model_dir: "fixtures/models/deep-llama",
        client,
        ..Suite::new("localndif/deep-llama", filter, label)
    };
    std::thread::scope(|scope| {
        let g1 = scope.spawn(|| {
            let mut bad = gpt2("deep-gpt2-0.7", "0.7").failures(&server);
            bad.extend(llama("deep-llama-0.7", "0.7", "35.*").failures(&server));
            bad.extend(llama("deep-llama-any-0.7", "0.7", ANY_ARCH).failures(&server));
            bad
        });
        let mut bad = gpt2("deep-gpt2", "0.8").failures(&server);
        bad.extend(llama("deep-llama", "0.8", "35.*").failures(&server));
        bad.extend(llama("deep-llama-any", "0.8", ANY_ARCH).failures(&server));
        bad.extend(g1.join().expect("the 0.7 suite panicked"));
        check(bad);
    });
}

/// The further families' fixtures (`fixtures/models/tiny-<family>`, one per family,
/// exercising what sets it apart: GPT-NeoX's partial rotary and parallel residual, Qwen 3's
/// q/k norms, Gemma 2's sliding window shorter than the prompts, soft-capping and eager
/// attention), served by `--model`: the cases written for every architecture with both
/// clients — and the Llama area on the families with Llama's module paths — floats
/// bit-identical to local nnsight.
#[test]
fn every_family_fixture_is_bit_identical_to_local_nnsight() {
    // (fixture, the cases run on it: ANY_ARCH, plus the Llama area where the paths fit,
    // less the Llama-area cases that name operations the family's forwards lack)
    const LLAMA_PATHS: &str = "10.*,45.*,34.15,35.*";
    const FAMILIES: &[(&str, &str, &[&str])] = &[
        ("tiny-neox", ANY_ARCH, &[]),
        ("tiny-qwen3", LLAMA_PATHS, &[]),
        ("tiny-gemma2", LLAMA_PATHS, &[]),
        // OLMo-2's layers have no input_layernorm, which 35.1 reads.
        ("tiny-olmo2", LLAMA_PATHS, &["35.1"]),
        ("tiny-gemma", LLAMA_PATHS, &[]),
        // Phi-3's fused qkv_proj and gate_up_proj: no q_proj for 35.1, no q_proj /
        // self_act_fn_0 for 35.11's .source.
        ("tiny-phi3", LLAMA_PATHS, &["35.1", "35.11"]),
        // Gemma 3 calls rotary_emb once per layer type in `set(layer_types)` order, which
        // Python's per-process string hashing decides: 35.1's `rotary_emb.output` (the
        // first call) is either type's tables in the oracle itself.
        ("tiny-gemma3", LLAMA_PATHS, &["35.1"]),
        ("tiny-gptj", ANY_ARCH, &[]),
        ("tiny-mistral", LLAMA_PATHS, &[]),
        ("tiny-qwen2", LLAMA_PATHS, &[]),
    ];
    let ws = workspace();
    let dirs: Vec<String> = FAMILIES.iter().map(|(f, _, _)| format!("fixtures/models/{f}")).collect();
    let repos: Vec<String> = FAMILIES.iter().map(|(f, _, _)| format!("localndif/{f}")).collect();
    let mut args = Vec::new();
    for (repo, dir) in repos.iter().zip(&dirs) {
        args.push("--model".to_string());
        args.push(format!("{repo}={}", ws.join(dir).display()));
    }
    let server = Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let labels: Vec<(String, String)> = FAMILIES.iter().map(|(f, _, _)| (f.to_string(), format!("{f}-0.7"))).collect();
    let suites = |client: &'static str| -> Vec<Suite<'_>> {
        FAMILIES
            .iter()
            .enumerate()
            .map(|(i, &(_, filter, except))| {
                let label = if client == "0.7" { labels[i].1.as_str() } else { labels[i].0.as_str() };
                Suite { model_dir: dirs[i].as_str(), client, except, ..Suite::new(repos[i].as_str(), filter, label) }
            })
            .collect()
    };
    let (new, old) = (suites("0.8"), suites("0.7"));
    std::thread::scope(|scope| {
        let g1 = scope.spawn(|| old.iter().flat_map(|s| s.failures(&server)).collect::<Vec<_>>());
        let mut bad: Vec<String> = new.iter().flat_map(|s| s.failures(&server)).collect();
        bad.extend(g1.join().expect("the 0.7 suite panicked"));
        check(bad);
    });
}

/// A `--model` directory is served (and is the Hub) under the repo id clients name; the
/// clients' other way to the model — a local directory, no Hub — works too.
#[test]
fn a_model_directory_is_served_under_the_repo_id_clients_name() {
    let dir = workspace().join("fixtures/models/tiny-gpt2");
    let server = Server::start(&[
        "--model",
        &format!("openai-community/gpt2={}", dir.display()),
    ]);
    Suite::new("openai-community/gpt2", "10.*", "model-flag").run(&server);
    Suite { via: "dir", ..Suite::new("openai-community/gpt2", "10.1", "model-flag-dir") }.run(&server);
}

/// Hostile code ends its own job with an error naming the limit, and the same server
/// process (same pid) then runs a normal trace.
#[test]
fn hostile_jobs_end_with_clear_errors_and_the_server_goes_on() {
    let mut server = Server::start(&[
        "--timeout",
        "10",
        "--max-steps",
        "5000000",
        "--tensor-budget",
        "300000000",
    ]);
    let pid = server.child.id();
    run_together(
        &server,
        &[
            Suite::new("localndif/tiny-gpt2", "40.*", "hostile"),
            Suite { client: "0.7", ..Suite::new("localndif/tiny-gpt2", "40.*", "hostile-0.7") },
        ],
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server process exited"
    );
    assert_eq!(server.child.id(), pid);
    Suite::new("localndif/tiny-gpt2", "10.1", "after-hostile").run(&server);
}

/// `--stream-local`: a 0.7 `session.local()` block runs on the client and its values come
/// back; a released client that crashes on the STREAM frees its job at once.
#[test]
fn session_local_blocks_stream_to_the_07_client() {
    let server = Server::start(&["--stream-local"]);
    Suite { client: "0.7", ..Suite::new("localndif/tiny-gpt2", "42.*", "stream-0.7") }.run(&server);
}

/// The concurrency case runs 160 jobs solo, then 160 from sixteen clients at once.
const SLOW: std::time::Duration = std::time::Duration::from_secs(900);

/// Eight nnsight 0.8.1 clients and eight 0.7.0 clients at once against four workers,
/// valid and failing jobs mixed: each gets only its own statuses and results.
#[test]
fn concurrent_clients_get_their_own_results() {
    let server = Server::start(&["--workers", "4", "--max-steps", "2000000", "--timeout", "60"]);
    run_together(
        &server,
        &[
            Suite { case_timeout: SLOW, ..Suite::new("localndif/tiny-gpt2", "41.*", "concurrency") },
            Suite { client: "0.7", case_timeout: SLOW, ..Suite::new("localndif/tiny-gpt2", "41.*", "concurrency-0.7") },
        ],
    );
}

/// README.md's quick start, verbatim: with only NDIF_HOST and HF_ENDPOINT pointing at the
/// server, the block runs remote; the same block with `remote=False` loads the weights
/// from the server's Hub endpoint and runs locally; the saved values are equal.
#[test]
fn the_readme_quick_start_works_verbatim() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let section = readme
        .split("## Quick start")
        .nth(1)
        .expect("README.md has a Quick start section");
    let block = section
        .split("```python\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the quick start has a python block");
    assert!(block.contains("remote=True"), "{block}");
    let server = Server::start(&[]);
    let dir = tempfile_dir("quickstart");
    let run = |name: &str, code: &str| {
        let script = dir.join(format!("{name}.py"));
        let out = dir.join(format!("{name}.pt"));
        std::fs::write(
            &script,
            format!("{code}\nimport torch\ntorch.save(hidden.detach().cpu(), {out:?})\n"),
        )
        .unwrap();
        let status = Command::new(workspace().join(".venv/bin/python"))
            .arg(&script)
            .current_dir(&dir)
            .env("NDIF_HOST", &server.url)
            .env("HF_ENDPOINT", &server.url)
            .env("HF_HOME", dir.join("hf-home"))
            .env("NNSIGHT_CONFIG", "/dev/null")
            .env_remove("NDIF_API_KEY")
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("TRANSFORMERS_OFFLINE")
            .status()
            .unwrap();
        assert!(status.success(), "{name} failed");
        out
    };
    let remote = run("remote", block);
    let local = run("local", &block.replace("remote=True", "remote=False"));
    let check = format!(
        "import torch\na, b = torch.load({remote:?}), torch.load({local:?})\nassert a.shape == b.shape and torch.equal(a, b), (a.shape, b.shape)\n"
    );
    let status = Command::new(workspace().join(".venv/bin/python"))
        .args(["-c", &check])
        .status()
        .unwrap();
    assert!(status.success(), "remote and local values differ");
}

/// README.md's blocks for the older clients, verbatim but for the server's port: the
/// bare host with `SSL = False` runs with nnsight 0.5.0 and 0.5.13 (with `NDIF_HOST` the
/// bare host too, as the README says), the URL with 0.5.15.
#[test]
fn the_readme_05_blocks_work_verbatim() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let section = readme.split("### nnsight 0.5–0.7 clients").nth(1).expect("README.md has the 0.5–0.7 section");
    let blocks: Vec<&str> = section.split("```python\n").skip(1).filter_map(|b| b.split("```").next()).take(2).collect();
    let [url, bare] = blocks[..] else { panic!("the 0.5–0.7 section has two python blocks") };
    assert!(url.contains("\"http://127.0.0.1:8001\"") && bare.contains("CONFIG.API.SSL = False"), "{url}\n{bare}");
    let server = Server::start(&[]);
    let host = server.url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let dir = tempfile_dir("quickstart-05");
    let runs = [("0.5.0", bare, host.clone()), ("0.5.13", bare, host.clone()), ("0.5.15", url, server.url.clone())];
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(version, block, ndif_host)| {
                let (dir, host, hub) = (&dir, &host, &server.url);
                scope.spawn(move || {
                    let code = block.replace("127.0.0.1:8001", host);
                    let out = dir.join(format!("{version}.pt"));
                    let script = dir.join(format!("readme-{version}.py"));
                    std::fs::write(&script, format!("{code}\nimport torch\ntorch.save(hidden.detach().cpu(), {out:?})\n")).unwrap();
                    let ws = workspace();
                    let path = std::env::join_paths([ws.join(format!(".nnsight-{version}")), ws.join(".nnsight-0.5-deps")]).unwrap();
                    let status = Command::new(ws.join(".venv/bin/python"))
                        .arg(&script)
                        .current_dir(dir)
                        .env("PYTHONPATH", path)
                        .env("NDIF_HOST", ndif_host)
                        .env("HF_ENDPOINT", hub)
                        .env("HF_HOME", dir.join(format!("hf-home-{version}")))
                        .env("NNSIGHT_CONFIG", "/dev/null")
                        .env("TQDM_DISABLE", "1")
                        .env_remove("NDIF_API_KEY")
                        .env_remove("HF_HUB_OFFLINE")
                        .env_remove("TRANSFORMERS_OFFLINE")
                        .status()
                        .unwrap();
                    assert!(status.success(), "README's block with nnsight {version} failed");
                    assert!(out.exists(), "nnsight {version} saved nothing");
                })
            })
            .collect();
        for h in handles {
            h.join().expect("a README run failed");
        }
    });
}

/// A fresh scratch directory under target/conformance/NAME.
fn tempfile_dir(name: &str) -> PathBuf {
    let d = workspace()
        .join("target/conformance")
        .join(name)
        .join(format!("{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Checkpoint variants written by python/make_variants.py: a tied-head Llama and a
/// sharded bfloat16 one (memory-mapped shards, model.safetensors.index.json) pass the
/// Llama cases against local transformers loading the same files.
#[test]
fn checkpoint_variants_load_and_match() {
    let out = workspace().join("target/conformance/variants-models");
    let status = Command::new(workspace().join(".venv/bin/python"))
        .arg(workspace().join("python/make_variants.py"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "make_variants.py failed");
    let tied = out.join("tiny-llama-tied");
    let bf16 = out.join("tiny-llama-bf16-sharded");
    let server = Server::start(&[
        "--model",
        &format!("localndif/tiny-llama-tied={}", tied.display()),
        "--model",
        &format!("localndif/tiny-llama-bf16={}", bf16.display()),
    ]);
    let (tied, bf16) = (tied.to_str().unwrap(), bf16.to_str().unwrap());
    Suite { model_dir: tied, ..Suite::new("localndif/tiny-llama-tied", "35.*", "llama-tied") }.run(&server);
    Suite { model_dir: bf16, ..Suite::new("localndif/tiny-llama-bf16", "35.*", "llama-bf16") }.run(&server);
}

/// A replica of meta-llama/Llama-3.1-70B (its real config: 80 layers, 128,256-token
/// vocabulary, grouped-query attention, llama3 RoPE) served from config and tokenizer
/// alone; the oracle is local nnsight on the same replica, exported by the binary.
#[test]
fn a_replica_of_a_70b_llama_serves_the_real_module_tree() {
    const REPO: &str = "meta-llama/Llama-3.1-70B";
    let real = workspace().join("fixtures/replicas/llama-3.1-70b");
    let oracle = "target/conformance/replica-oracle";
    let exported = Command::new(binary())
        .args(["replica", "--from"])
        .arg(&real)
        .args(["--repo-id", REPO, "--out"])
        .arg(workspace().join(oracle))
        .status()
        .unwrap();
    assert!(exported.success(), "exporting the replica");
    let server = Server::start(&["--model", &format!("{REPO}=replica:{}", real.display())]);
    Suite { model_dir: oracle, ..Suite::new(REPO, "44.*", "replica") }.run(&server);
}

/// Mutation test of the suite: against a server with each injected fault
/// (`localndif serve --fault NAME`), the cases that check what the fault breaks report at
/// least one FAIL or WRONG — every mutant is killed. (Without a fault the same cases pass
/// in the tests above.)
#[test]
fn every_injected_fault_is_caught_by_the_suite() {
    // (fault, the cases that check what it breaks, extra server flags)
    let faults: &[(&str, &str, &[&str])] = &[
        ("offset", "10.1", &[]),
        ("dtype", "10.1", &[]),
        ("drop-save", "10.1", &[]),
        ("swap-saves", "10.1", &[]),
        ("drop-log", "2.1", &[]),
        ("drop-meta", "3.2", &[]),
        ("error-text", "7.1", &[]),
        ("truncate-result", "10.1", &[]),
        ("submit-503", "10.1", &[]),
        ("wrong-result", "10.*", &[]),
        ("drop-socket", "10.1", &[]),
        ("error-as-completed", "7.1", &[]),
        ("status-order", "native:2.20", &[]),
        ("leak-updates", "native:11.21", &[]),
        // An interpreter bug's TypeError ("unsupported operand") is a failure, not a
        // missing feature.
        ("unsupported-operand", "10.1", &[]),
    ];
    let mut survivors = Vec::new();
    for (fault, filter, extra) in faults {
        let mut args = vec!["--allow-faults", "--fault", fault];
        args.extend_from_slice(extra);
        let server = Server::start(&args);
        let label = format!("fault-{fault}");
        let killed = match filter.strip_prefix("native:") {
            Some(ids) => {
                let options = localndif_conformance::native::Options { url: server.url.clone(), repo_id: "localndif/tiny-gpt2".into(), api_key: None };
                localndif_conformance::native::run(&options, ids).iter().any(|o| matches!(o.verdict, Verdict::Fail | Verdict::Wrong))
            }
            None => {
                let suite = Suite { case_timeout: std::time::Duration::from_secs(60), ..Suite::new("localndif/tiny-gpt2", filter, &label) };
                // Killed means FAIL or WRONG: a MISSING would flatter the faulty server.
                suite.outcomes_at(&server.url).iter().any(|o| matches!(o.verdict, Verdict::Fail | Verdict::Wrong))
            }
        };
        if !killed {
            survivors.push(*fault);
        }
    }
    assert!(survivors.is_empty(), "faults no case noticed: {survivors:?}");
    // A server that refuses in nnsight's form for an absent feature is MISSING, with every
    // client — never SKIP (a server's gap is not a version's behaviour) and never a pass.
    let server = Server::start(&["--allow-faults", "--fault", "not-implemented"]);
    for client in ["0.8", "0.7"] {
        let label = format!("fault-not-implemented-{client}");
        let suite = Suite { client, case_timeout: std::time::Duration::from_secs(60), ..Suite::new("localndif/tiny-gpt2", "10.1,40.1", &label) };
        let outcomes = suite.outcomes_at(&server.url);
        assert!(!outcomes.is_empty() && outcomes.iter().all(|o| o.verdict == Verdict::Missing), "{client}: {outcomes:#?}");
    }
    drop(server);
    // Without a fault, the same native cases pass (the python ones pass in the tests above).
    let server = Server::start(&[]);
    let options = localndif_conformance::native::Options { url: server.url.clone(), repo_id: "localndif/tiny-gpt2".into(), api_key: None };
    for ids in ["2.20", "11.21"] {
        assert!(localndif_conformance::native::run(&options, ids).iter().all(|o| o.verdict == Verdict::Pass), "{ids} fails without a fault");
    }
}

/// A case that needs a server setting this server does not have (40.9: a job time limit
/// short enough to wait for; 42.1: `--stream-local`) is INFO with the reason, never a
/// FAIL for the server's configuration, and a case not for the client stays SKIP.
#[test]
fn a_case_the_servers_settings_leave_nothing_to_judge_is_info() {
    let server = Server::start(&[]);
    for client in ["0.7", "0.8"] {
        let label = format!("settings-{client}");
        let outcomes = Suite { client, ..Suite::new("localndif/tiny-gpt2", "40.9,42.1", &label) }.outcomes_at(&server.url);
        let verdict = |id: &str| outcomes.iter().find(|o| o.id == id).map(|o| (o.verdict, o.message.clone())).unwrap();
        let (v, why) = verdict("40.9");
        assert!(v == Verdict::Info && why.contains("limits.timeout_s") && why.contains("600"), "{client} 40.9: {v:?} {why}");
        let (v, why) = verdict("42.1");
        let want = if client == "0.8" { Verdict::Skip } else { Verdict::Info };
        assert_eq!(v, want, "{client} 42.1: {why}");
    }
}
