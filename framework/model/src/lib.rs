//! seds-model: the SEDS model (pose + RGB dual-stream encoder, CGAF fusion, CLCL losses),
//! its trainer and retrieval evaluation, written on dfdx 0.13, generic over the dfdx device
//! (the CPU always; CUDA in builds with the `cuda` feature, see docs/gpu.md).
//!
//! - [`preset`]: size presets (compile-time dimension constants) and their runtime dispatch.
//! - [`params`]: the parameter store, basic layers and safetensors checkpoints.
//! - [`ops`]: masked self-attention (seds-nn's `masked_softmax`) and row normalisation.
//! - [`pose`]: the pose encoder (joint/part graph convs, temporal convs, shared-window clips).
//! - [`model`]: towers, text encoder, CGAF, the output fusion (functional `mlp_fusion`, generic
//!   over dtype for f64 checks) and the joint objective.
//! - [`optim`]: BertAdam / AdamW, schedule, clipping.
//! - [`eval`]: gallery scoring, metrics, `.npy` export.
//! - [`train`]: `train_run` with checkpoints, resume, cancellation and exports.
//! - [`bench`]: throughput / per-module timing / FLOPs report.
//! - [`device`]: `"cpu"` / `"cuda"` / `"cuda:N"` parsing, opening (the one place that opens
//!   CUDA, panic-safe) and run-time dispatch of device-generic code ([`device::with_device`]).
//! - [`check`]: the CPU-vs-device forward agreement check.
//!
//! Devices: the model types take the device as a type parameter with the CPU as default
//! (`Seds<D = Cpu>`, `Params<D = Cpu>`, tensor aliases `T2<D = Cpu, T = NoneTape>`), so CPU
//! code reads as before; `train.device` picks the device at run time ([`train_run`]). The
//! optimiser and gallery scoring work on host vectors whatever the device.
//!
//! Design note: parameters are runtime-shaped dfdx tensors held in one store (not const-shaped
//! dfdx `Module`s): the presets' dimensions are compile-time constants ([`preset::Preset`]),
//! but dfdx's const-generic modules cannot express concatenation of const dims on stable and
//! its optimisers cannot do BertAdam with per-module learning rates. Consequently the
//! optimisers, the unused-parameter check and the safetensors checkpoint format are
//! implemented here (module [`optim`], [`params`]).
//!
//! One implementation of each piece: CLCL scoring (training and gallery), dual InfoNCE, the
//! pose-RGB matching loss, masked softmax, QuickGELU, sinusoidal encodings and the
//! deformable sampling + attention core of CGAF are seds-nn's (its functions accept the
//! runtime-shaped tensors of this crate); the tokenizer, epoch plans and padded batches are
//! seds-data's. This crate keeps the projections in its parameter store and wires them.

pub mod bench;
pub mod check;
pub mod device;
pub mod eval;
pub mod model;
pub mod ops;
pub mod optim;
pub mod params;
pub mod pose;
pub mod preset;
pub mod train;

pub use bench::{bench, bench_device, bench_on, BenchReport};
pub use check::{forward_agreement, AgreementReport, CheckShape};
pub use device::{with_device, DeviceError, DeviceFn, DeviceSpec, ModelDevice};
pub use eval::{evaluate, Evaluation};
pub use model::{Ctx, LossParts, Seds};
pub use preset::{Dims, Paper, Preset, Small, Tiny, RGB_DIM};
pub use train::{build_model, train_run, TrainError, TrainOutcome, CHECKPOINT};
