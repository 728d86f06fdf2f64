//! Link-time facts for tch: add an rpath to libtorch's lib dir so the binary starts
//! without LD_LIBRARY_PATH. libtorch_cuda is deliberately *not* linked: rustc's
//! --as-needed drops it, so a CPU server never maps the CUDA libraries (hundreds of MB);
//! `--device cuda` loads it at run time (`model::device`), from the directory recorded
//! here as LOCALNDIF_LIBTORCH_LIB when the rpath does not find it.
//!
//! Before that absolute directory, the binary's rpath lists the torch package of the
//! Python environment a wheel installs it into,
//! `$ORIGIN/../lib/python3.X/site-packages/torch/lib` (`pip install localndif` puts the
//! binary in `<env>/bin` beside the pinned torch; docs/ci.md, "The wheel"). A build in
//! target/ has no such directory and goes on to the absolute one, which
//! python/build_wheel.py cuts off the wheel's copy.
//!
//! Also compiles `csrc/grad_hook.cpp` (tensor gradient hooks, which tch does not bind)
//! against the same libtorch headers and ABI as torch-sys.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    println!("cargo:rerun-if-changed=csrc/grad_hook.cpp");
    let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        panic!("DEP_TCH_LIBTORCH_LIB is not set: torch-sys did not report libtorch's lib directory");
    };
    // $ORIGIN is the loader's, not a shell's: it reaches the linker verbatim. One entry
    // for each Python torch 2.13 has wheels for; entries that do not exist cost the
    // loader one failed lookup each, once. They come first so that build_wheel.py can
    // cut the absolute entry off the end of the string in place.
    let wheel_rpath: Vec<String> = ["3.10", "3.11", "3.12", "3.13", "3.13t", "3.14", "3.14t"]
        .iter()
        .map(|v| format!("$ORIGIN/../lib/python{v}/site-packages/torch/lib"))
        .collect();
    println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{}", wheel_rpath.join(":"));
    println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    println!("cargo:rustc-env=LOCALNDIF_LIBTORCH_LIB={dir}");
    let root = std::path::Path::new(&dir).parent().expect("libtorch's lib dir has a parent");
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(root.join("include"))
        .include(root.join("include/torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file("csrc/grad_hook.cpp")
        .compile("localndif_grad_hook");
}
