//! The serving device. A CPU server never loads libtorch's CUDA side (the binary does not
//! link libtorch_cuda, so the CUDA runtime, cuBLAS, cuDNN ... are never mapped);
//! `--device cuda[:N]` loads it at run time, which registers CUDA with the libtorch
//! already in the process, then checks that the device exists.

use anyhow::Context;
use tch::Device;

/// Parses `cpu`, `cuda` or `cuda:N`, loading CUDA support for the latter.
pub fn parse(spec: &str) -> anyhow::Result<Device> {
    let index = match spec {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => 0,
        other => other
            .strip_prefix("cuda:")
            .and_then(|i| i.parse::<usize>().ok())
            .with_context(|| format!("--device {other}: expected cpu, cuda or cuda:N"))?,
    };
    load_cuda()?;
    anyhow::ensure!(tch::Cuda::is_available(), "--device {spec}: no CUDA device is available");
    let n = tch::Cuda::device_count() as usize;
    anyhow::ensure!(index < n, "--device {spec}: there are {n} CUDA device(s)");
    Ok(Device::Cuda(index))
}

/// `dlopen`s libtorch_cuda (and so the CUDA libraries it needs) into the process.
fn load_cuda() -> anyhow::Result<()> {
    let dir = option_env!("LOCALNDIF_LIBTORCH_LIB").unwrap_or("");
    let candidates = ["libtorch_cuda.so".to_string(), format!("{dir}/libtorch_cuda.so")];
    let mut last = String::new();
    for name in candidates {
        let c = std::ffi::CString::new(name.clone())?;
        // SAFETY: dlopen with a NUL-terminated path; the handle is deliberately leaked
        // (CUDA stays loaded for the life of the process).
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if !handle.is_null() {
            return Ok(());
        }
        // SAFETY: dlerror returns a thread-local C string or null.
        let err = unsafe { libc::dlerror() };
        if !err.is_null() {
            last = unsafe { std::ffi::CStr::from_ptr(err) }.to_string_lossy().into_owned();
        }
    }
    anyhow::bail!("CUDA support could not be loaded (libtorch_cuda.so): {last}")
}
