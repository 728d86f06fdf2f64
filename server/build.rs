//! Link-time facts for tch: add an rpath to libtorch's lib dir so the binary starts
//! without LD_LIBRARY_PATH. libtorch_cuda is deliberately *not* linked: rustc's
//! --as-needed drops it, so a CPU server never maps the CUDA libraries (hundreds of MB);
//! `--device cuda` loads it at run time (`model::device`), from the directory recorded
//! here as LOCALNDIF_LIBTORCH_LIB when the rpath does not find it.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    println!("cargo:rustc-env=LOCALNDIF_LIBTORCH_LIB={dir}");
}
