//! Link-time facts for tch: add an rpath to libtorch's lib dir so the binary starts
//! without LD_LIBRARY_PATH. libtorch_cuda is deliberately *not* linked: rustc's
//! --as-needed drops it, so a CPU server never maps the CUDA libraries (hundreds of MB);
//! `--device cuda` loads it at run time (`model::device`), from the directory recorded
//! here as LOCALNDIF_LIBTORCH_LIB when the rpath does not find it.
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
