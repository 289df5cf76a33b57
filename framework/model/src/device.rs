//! Run-time device selection: the `train.device` / `--device` strings (`"cpu"`, `"cuda"`,
//! `"cuda:N"`), opening the device, and dispatching device-generic code on it
//! ([`with_device`], the device counterpart of [`crate::preset::with_preset`]).
//!
//! This module is the one place that opens devices; the trainer, the benchmark and the
//! CPU-vs-device agreement check all go through it. A build without the `cuda` feature refuses
//! `"cuda..."` with [`DeviceError::NoCudaSupport`]. With the feature, [`open_cuda`] opens the
//! GPU inside `catch_unwind` (cudarc 0.9's `CudaDevice::new` unwraps `cuInit` and
//! `cuDeviceGet`, so "driver present, no GPU" is a panic, not an `Err`) and never
//! `Debug`-formats a cudarc `DriverError` (its `Debug` unwraps the error-string lookup).

use dfdx::prelude::*;
use std::fmt;

/// What device-generic code of this crate needs of a device: dfdx's f32 kernels, and a way to
/// wait for queued work (timings on asynchronous devices). Implemented for every such device
/// (`Cpu`, and `Cuda` in `cuda` builds).
pub trait ModelDevice: Device<f32> + Synchronize {}

impl<D: Device<f32> + Synchronize> ModelDevice for D {}

/// A parsed device string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The CPU (`"cpu"`).
    Cpu,
    /// CUDA device with this ordinal (`"cuda"` is ordinal 0, `"cuda:N"` ordinal N).
    Cuda(usize),
}

impl DeviceSpec {
    /// Parses `"cpu"`, `"cuda"` or `"cuda:N"` (the forms `seds_config::valid_device` accepts).
    pub fn parse(s: &str) -> Result<Self, DeviceError> {
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| DeviceError::Parse(s.to_string())),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Why a device cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// The string is not a device name.
    #[error("device \"{0}\": expected \"cpu\", \"cuda\" or \"cuda:N\" (N = GPU ordinal)")]
    Parse(String),
    /// CUDA was asked for, but this binary was built without the `cuda` feature.
    #[error(
        "device \"{0}\": this seds-lab was built without CUDA support; \
         rebuild with --features cuda (docs/gpu.md)"
    )]
    NoCudaSupport(String),
    /// Opening the CUDA device failed (no driver, no GPU with that ordinal, ...).
    #[error("no usable CUDA device (ordinal {ordinal}): {msg}")]
    CudaUnavailable {
        /// The GPU ordinal asked for.
        ordinal: usize,
        /// What went wrong (driver error name and message, or the panic message).
        msg: String,
    },
}

/// Whether this build can run on CUDA (the `cuda` feature).
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

/// Parses `device` and refuses what this build cannot run (CUDA without the `cuda` feature),
/// without opening anything.
pub fn check_device(device: &str) -> Result<DeviceSpec, DeviceError> {
    let spec = DeviceSpec::parse(device)?;
    if matches!(spec, DeviceSpec::Cuda(_)) && !CUDA_BUILT {
        return Err(DeviceError::NoCudaSupport(device.to_string()));
    }
    Ok(spec)
}

/// Something generic over the device, run by [`with_device`].
pub trait DeviceFn {
    /// Result type.
    type Out;
    /// Runs on `dev`.
    fn run<D: ModelDevice>(self, dev: D) -> Self::Out;
}

/// Opens the device named by `device` (seeded with `seed`: `Cpu::seed_from_u64(seed)`, or the
/// CUDA device of that ordinal) and runs `f` on it.
pub fn with_device<F: DeviceFn>(device: &str, seed: u64, f: F) -> Result<F::Out, DeviceError> {
    match check_device(device)? {
        DeviceSpec::Cpu => Ok(f.run(Cpu::seed_from_u64(seed))),
        DeviceSpec::Cuda(ordinal) => run_cuda(device, ordinal, seed, f),
    }
}

#[cfg(feature = "cuda")]
fn run_cuda<F: DeviceFn>(
    _device: &str,
    ordinal: usize,
    seed: u64,
    f: F,
) -> Result<F::Out, DeviceError> {
    Ok(f.run(open_cuda(ordinal, seed)?))
}

#[cfg(not(feature = "cuda"))]
fn run_cuda<F: DeviceFn>(
    device: &str,
    _ordinal: usize,
    _seed: u64,
    _f: F,
) -> Result<F::Out, DeviceError> {
    Err(DeviceError::NoCudaSupport(device.to_string()))
}

/// Opens CUDA device `ordinal` (dfdx's `Cuda::try_build`) without panicking: cudarc 0.9
/// unwraps `cuInit`/`cuDeviceGet`, so the attempt runs inside `catch_unwind` with a silent
/// panic hook, and both an `Err` and a panic become [`DeviceError::CudaUnavailable`].
#[cfg(feature = "cuda")]
pub fn open_cuda(ordinal: usize, seed: u64) -> Result<Cuda, DeviceError> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(|| Cuda::try_build(ordinal, seed));
    std::panic::set_hook(prev);
    let msg = match r {
        Ok(Ok(dev)) => return Ok(dev),
        Ok(Err(e)) => describe_cuda_error(&e),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic while initialising CUDA".into()),
    };
    Err(DeviceError::CudaUnavailable { ordinal, msg })
}

/// Formats a dfdx `CudaError` without cudarc's `DriverError: Debug`, which unwraps
/// `cuGetErrorString` and so panics when that lookup itself fails (e.g. a stub libcuda).
#[cfg(feature = "cuda")]
pub fn describe_cuda_error(e: &CudaError) -> String {
    match e {
        CudaError::Driver(d) => match d.error_string() {
            Ok(s) => format!("driver error {:?}: {}", d.0, s.to_string_lossy()),
            Err(_) => format!("driver error {:?} (no error string available)", d.0),
        },
        CudaError::Blas(b) => format!("cuBLAS error {b:?}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_strings() {
        assert_eq!(DeviceSpec::parse("cpu"), Ok(DeviceSpec::Cpu));
        assert_eq!(DeviceSpec::parse("cuda"), Ok(DeviceSpec::Cuda(0)));
        assert_eq!(DeviceSpec::parse("cuda:3"), Ok(DeviceSpec::Cuda(3)));
        for bad in ["gpu", "cuda:", "cuda:x", "CPU", "cuda0", "cuda:-1"] {
            assert_eq!(
                DeviceSpec::parse(bad),
                Err(DeviceError::Parse(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
    }

    #[test]
    fn cpu_dispatch_runs_and_cuda_needs_the_feature() {
        struct Sum;
        impl DeviceFn for Sum {
            type Out = f32;
            fn run<D: ModelDevice>(self, dev: D) -> f32 {
                let t: Tensor<(usize,), f32, D> = dev.tensor_from_vec(vec![1.0, 2.0], (2,));
                t.sum::<(), _>().as_vec()[0]
            }
        }
        assert_eq!(with_device("cpu", 0, Sum), Ok(3.0));
        if !CUDA_BUILT {
            let e = with_device("cuda:1", 0, Sum).unwrap_err();
            assert_eq!(e, DeviceError::NoCudaSupport("cuda:1".into()));
            assert!(e
                .to_string()
                .contains("built without CUDA support; rebuild with --features cuda"));
        }
    }
}
