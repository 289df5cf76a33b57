//! cuda-probe: smallest program that proves dfdx 0.13's `cuda` feature builds, links and runs:
//! creates a `Cuda` device, runs a matmul (cuBLAS), a softmax (precompiled PTX) and a reshape
//! (NVRTC at run time, the include-path hazard), and checks them against the CPU.
use dfdx::prelude::*;
use std::process::ExitCode;

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Formats a CudaError without cudarc's `DriverError: Debug`, which unwraps cuGetErrorString
/// and so panics when that lookup itself fails (e.g. a stub libcuda).
fn describe(e: &CudaError) -> String {
    match e {
        CudaError::Driver(d) => match d.error_string() {
            Ok(s) => format!("driver error {:?}: {}", d.0, s.to_string_lossy()),
            Err(_) => format!("driver error {:?} (no error string available)", d.0),
        },
        CudaError::Blas(b) => format!("cuBLAS error {b:?}"),
        other => format!("{other:?}"),
    }
}

/// Opens CUDA device `ordinal` without panicking: cudarc 0.9's `CudaDevice::new` unwraps
/// cuInit/cuDeviceGet, so "driver present, no GPU" is a panic, not an Err. Catch it.
fn open_cuda(ordinal: usize, seed: u64) -> Result<Cuda, String> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(|| Cuda::try_build(ordinal, seed));
    std::panic::set_hook(prev);
    match r {
        Ok(Ok(dev)) => Ok(dev),
        Ok(Err(e)) => Err(describe(&e)),
        Err(payload) => Err(payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic while initialising CUDA".into())),
    }
}

/// dfdx 0.13's reshape_fwd kernel source (src/tensor_ops/reshape_to/cuda_kernel.rs), f32.
const RESHAPE_FWD: &str = r#"
#if __WORDSIZE == 64
typedef long int intptr_t;
#else
typedef int intptr_t;
#endif
#include "cuda_utils.cuh"
extern "C" __global__ void reshape_fwd(const size_t numel, const size_t inp_num_dims,
    const size_t out_num_dims, const size_t *info, const float *inp, float *out) {
    const size_t *inp_dims = info;
    const size_t *inp_strides = info + inp_num_dims;
    const size_t *out_dims = info + 2 * inp_num_dims;
    const size_t *out_strides = info + 2 * inp_num_dims + out_num_dims;
    for (unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; i < numel; i += blockDim.x * gridDim.x) {
        unsigned int inp_i = get_strided_index(i, inp_num_dims, inp_dims, inp_strides);
        unsigned int out_i = get_strided_index(i, out_num_dims, out_dims, out_strides);
        out[out_i] = inp[inp_i];
    }
}
"#;

/// `cuda-probe --nvrtc-only INCLUDE_DIR OUT_DIR`: compile dfdx's run-time reshape kernel with
/// NVRTC exactly as dfdx does (needs libnvrtc, no driver/GPU), to check the baked include paths.
fn nvrtc_only(include_dir: String, out_dir: String) -> ExitCode {
    let opts = cudarc::nvrtc::CompileOptions {
        arch: Some("sm_90"),
        include_paths: vec![include_dir, out_dir],
        ..Default::default()
    };
    match cudarc::nvrtc::compile_ptx_with_opts(RESHAPE_FWD, opts) {
        Ok(ptx) => {
            println!(
                "cuda-probe: NVRTC compiled reshape_fwd for sm_90 ({} bytes of PTX)",
                ptx.to_src().len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cuda-probe: NVRTC compile failed: {e:?}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "--nvrtc-only" {
        return nvrtc_only(args[2].clone(), args[3].clone());
    }
    let dev = match open_cuda(0, 0) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cuda-probe: no usable CUDA device (ordinal 0): {e}");
            return ExitCode::from(2);
        }
    };
    let cpu = Cpu::default();
    let a: Vec<f32> = (0..6 * 4).map(|i| (i as f32 * 0.37).sin()).collect();
    let b: Vec<f32> = (0..4 * 5).map(|i| (i as f32 * 0.11).cos()).collect();

    let ga = dev.tensor_from_vec(a.clone(), (Const::<6>, Const::<4>));
    let gb = dev.tensor_from_vec(b.clone(), (Const::<4>, Const::<5>));
    let ca = cpu.tensor_from_vec(a, (Const::<6>, Const::<4>));
    let cb = cpu.tensor_from_vec(b, (Const::<4>, Const::<5>));

    let gm = ga.matmul(gb);
    let cm = ca.matmul(cb);
    let gs = gm.clone().softmax::<Axis<1>>();
    let cs = cm.clone().softmax::<Axis<1>>();
    // reshape of a permuted (non-contiguous) tensor -> NVRTC-compiled kernel at run time.
    let gr = gs
        .clone()
        .permute::<Rank2<5, 6>, _>()
        .reshape::<Rank1<30>>();
    let cr = cs
        .clone()
        .permute::<Rank2<5, 6>, _>()
        .reshape::<Rank1<30>>();

    let dm = max_abs_diff(&gm.as_vec(), &cm.as_vec());
    let ds = max_abs_diff(&gs.as_vec(), &cs.as_vec());
    let dr = max_abs_diff(&gr.as_vec(), &cr.as_vec());
    println!(
        "cuda-probe: matmul max|gpu-cpu| = {dm:e}, softmax = {ds:e}, permute+reshape = {dr:e}"
    );
    if dm < 1e-4 && ds < 1e-5 && dr < 1e-5 {
        println!("cuda-probe: OK");
        ExitCode::SUCCESS
    } else {
        eprintln!("cuda-probe: MISMATCH between CUDA and CPU results");
        ExitCode::FAILURE
    }
}
