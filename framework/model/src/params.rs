//! The parameter store: every learnable tensor of a model, by name, with its optimiser group,
//! plus the small layers built on it (linear, layer norm, embeddings) and safetensors I/O.
//!
//! Parameters are runtime-shaped `(rows, cols)` dfdx tensors (biases and vectors are `(1, n)`).
//! Modules keep [`Pid`] handles; a forward pass re-tapes each parameter it uses, so one
//! `backward()` yields a gradient per parameter. Keeping the parameters in one list is what
//! lets the crate implement BertAdam, per-module learning rates, global clipping, the
//! unused-parameter check and checkpoints in a few lines each.

use dfdx::prelude::*;
use seds_core::Rng;
use std::collections::BTreeMap;
use std::path::Path;

/// 2-D f32 tensor alias used throughout the crate, on device `D` (default the CPU).
pub type T2<D = Cpu, T = NoneTape> = Tensor<(usize, usize), f32, D, T>;
/// 3-D f32 tensor alias used throughout the crate, on device `D` (default the CPU).
pub type T3<D = Cpu, T = NoneTape> = Tensor<(usize, usize, usize), f32, D, T>;

/// Handle of one parameter in a [`Params`] store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pid(pub usize);

/// Learning-rate group of a parameter (the release's per-module learning rates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Pose encoder, CGAF and output fusion: `train.lr`.
    Fast,
    /// Interaction transformers, RGB projection, text encoder, logit scale: `train.lr_towers`.
    Towers,
}

/// How a parameter is initialised.
#[derive(Clone, Copy, Debug)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Uniform in [-b, b].
    Uniform(f32),
    /// Normal with this standard deviation.
    Normal(f32),
    /// A constant.
    Const(f32),
}

/// One learnable tensor (on device `D`).
#[derive(Clone, Debug)]
pub struct Param<D: Device<f32> = Cpu> {
    /// Dotted name (e.g. `pose.tconv1.w5`), unique in the store.
    pub name: String,
    /// The values, `(rows, cols)`.
    pub tensor: T2<D>,
    /// Whether decoupled weight decay applies (not for biases, norms, embeddings of position/CLS).
    pub decay: bool,
    /// Learning-rate group.
    pub group: Group,
}

/// All parameters of a model, on device `D` (default the CPU).
#[derive(Clone, Debug)]
pub struct Params<D: Device<f32> = Cpu> {
    /// The parameters, in creation order.
    pub list: Vec<Param<D>>,
    /// The device.
    pub dev: D,
    rng: Rng,
    group: Group,
}

/// Errors of checkpoint I/O.
#[derive(Debug, thiserror::Error)]
pub enum ParamIoError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid checkpoint.
    #[error("{path}: malformed safetensors checkpoint: {msg}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
}

impl<D: Device<f32>> Params<D> {
    /// An empty store on `dev` whose initial values are drawn (on the host) from `seed`: the
    /// values do not depend on the device.
    pub fn new(dev: D, seed: u64) -> Self {
        Params {
            list: Vec::new(),
            dev,
            rng: Rng::derive(seed, "init"),
            group: Group::Towers,
        }
    }

    /// Sets the group of parameters added from now on.
    pub fn set_group(&mut self, g: Group) {
        self.group = g;
    }

    /// Adds a parameter.
    pub fn add(&mut self, name: &str, rows: usize, cols: usize, init: Init, decay: bool) -> Pid {
        let n = rows * cols;
        let data: Vec<f32> = match init {
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
            Init::Const(c) => vec![c; n],
            Init::Uniform(b) => (0..n)
                .map(|_| self.rng.range_f64(-b as f64, b as f64) as f32)
                .collect(),
            Init::Normal(s) => (0..n)
                .map(|_| (self.rng.normal() * s as f64) as f32)
                .collect(),
        };
        let tensor = self.dev.tensor_from_vec(data, (rows, cols));
        self.list.push(Param {
            name: name.to_string(),
            tensor,
            decay,
            group: self.group,
        });
        Pid(self.list.len() - 1)
    }

    /// The parameter as a tensor carrying a fresh tape of type `T`.
    pub fn get<T: Tape<f32, D>>(&self, id: Pid) -> T2<D, T> {
        self.list[id.0].tensor.retaped::<T>()
    }

    /// The parameter reshaped to a vector `(n,)`.
    pub fn vec<T: Tape<f32, D>>(&self, id: Pid) -> Tensor<(usize,), f32, D, T> {
        let t = &self.list[id.0].tensor;
        let n = t.shape().0 * t.shape().1;
        t.retaped::<T>().reshape_like(&(n,))
    }

    /// Total number of scalars.
    pub fn num_scalars(&self) -> usize {
        self.list
            .iter()
            .map(|p| p.tensor.shape().0 * p.tensor.shape().1)
            .sum()
    }

    /// Copies the values of every parameter from `src` (a store of the same model, possibly on
    /// another device) through host vectors; names and shapes must match, in order.
    pub fn copy_values_from<S: Device<f32>>(&mut self, src: &Params<S>) -> Result<(), String> {
        if self.list.len() != src.list.len() {
            return Err(format!(
                "{} parameters here, {} in the source",
                self.list.len(),
                src.list.len()
            ));
        }
        for (dst, s) in self.list.iter_mut().zip(&src.list) {
            if dst.name != s.name || dst.tensor.shape() != s.tensor.shape() {
                return Err(format!(
                    "parameter {} {:?} does not match source {} {:?}",
                    dst.name,
                    dst.tensor.shape(),
                    s.name,
                    s.tensor.shape()
                ));
            }
            dst.tensor.copy_from(&s.tensor.as_vec());
        }
        Ok(())
    }

    /// Writes a safetensors file (`extra` tensors, e.g. optimiser state, are appended with their
    /// names; `meta` goes into `__metadata__`). Written to a temporary file, then renamed.
    pub fn save(
        &self,
        path: &Path,
        extra: &[(String, Vec<usize>, Vec<f32>)],
        meta: &BTreeMap<String, String>,
    ) -> Result<(), ParamIoError> {
        let mut items: Vec<(String, Vec<usize>, Vec<f32>)> = self
            .list
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    vec![p.tensor.shape().0, p.tensor.shape().1],
                    p.tensor.as_vec(),
                )
            })
            .collect();
        items.extend(extra.iter().cloned());
        write_safetensors(path, &items, meta)
    }

    /// Loads the values of every parameter from a checkpoint (shapes must match); returns all
    /// tensors of the file by name and its metadata.
    pub fn load(
        &mut self,
        path: &Path,
    ) -> Result<
        (
            BTreeMap<String, (Vec<usize>, Vec<f32>)>,
            BTreeMap<String, String>,
        ),
        ParamIoError,
    > {
        let (tensors, meta) = read_safetensors(path)?;
        for p in self.list.iter_mut() {
            let (shape, data) = tensors.get(&p.name).ok_or_else(|| ParamIoError::Format {
                path: path.display().to_string(),
                msg: format!("missing tensor {}", p.name),
            })?;
            let want = [p.tensor.shape().0, p.tensor.shape().1];
            if shape.as_slice() != want {
                return Err(ParamIoError::Format {
                    path: path.display().to_string(),
                    msg: format!(
                        "tensor {} has shape {:?}, model expects {:?}",
                        p.name, shape, want
                    ),
                });
            }
            p.tensor.copy_from(data);
        }
        Ok((tensors, meta))
    }
}

/// Writes tensors (F32) in the safetensors format: u64 header length, JSON header, raw data.
pub fn write_safetensors(
    path: &Path,
    items: &[(String, Vec<usize>, Vec<f32>)],
    meta: &BTreeMap<String, String>,
) -> Result<(), ParamIoError> {
    let mut header = serde_json::Map::new();
    if !meta.is_empty() {
        header.insert(
            "__metadata__".into(),
            serde_json::to_value(meta).unwrap_or_default(),
        );
    }
    let mut offset = 0usize;
    for (name, shape, data) in items {
        let end = offset + data.len() * 4;
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut h = serde_json::to_vec(&serde_json::Value::Object(header)).unwrap_or_default();
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    let mut buf = Vec::with_capacity(8 + h.len() + offset);
    buf.extend_from_slice(&(h.len() as u64).to_le_bytes());
    buf.extend_from_slice(&h);
    for (_, _, data) in items {
        for v in data {
            buf.extend_from_slice(&v.to_le_bytes());
        }
    }
    let tmp = path.with_extension("tmp");
    let io = |source| ParamIoError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::write(&tmp, &buf).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Tensors by name with their shapes, plus metadata.
pub type SafeTensors = (
    BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    BTreeMap<String, String>,
);

/// Reads an F32 safetensors file.
pub fn read_safetensors(path: &Path) -> Result<SafeTensors, ParamIoError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ParamIoError::Io {
        path: p.clone(),
        source,
    })?;
    let bad = |msg: String| ParamIoError::Format {
        path: p.clone(),
        msg,
    };
    if bytes.len() < 8 {
        return Err(bad("shorter than the 8-byte header length".into()));
    }
    let hl = u64::from_le_bytes(bytes[0..8].try_into().unwrap_or([0; 8])) as usize;
    if 8 + hl > bytes.len() {
        return Err(bad(format!(
            "header length {hl} exceeds file size {}",
            bytes.len()
        )));
    }
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + hl]).map_err(|e| bad(format!("header JSON: {e}")))?;
    let obj = header
        .as_object()
        .ok_or_else(|| bad("header is not an object".into()))?;
    let data = &bytes[8 + hl..];
    let mut tensors = BTreeMap::new();
    let mut meta = BTreeMap::new();
    for (name, v) in obj {
        if name == "__metadata__" {
            if let Some(m) = v.as_object() {
                for (k, s) in m {
                    meta.insert(k.clone(), s.as_str().unwrap_or_default().to_string());
                }
            }
            continue;
        }
        if v.get("dtype").and_then(|d| d.as_str()) != Some("F32") {
            return Err(bad(format!("tensor {name}: only F32 is supported")));
        }
        let shape: Vec<usize> = v
            .get("shape")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_u64().map(|x| x as usize))
                    .collect()
            })
            .ok_or_else(|| bad(format!("tensor {name}: no shape")))?;
        let offs: Vec<usize> = v
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_u64().map(|x| x as usize))
                    .collect()
            })
            .ok_or_else(|| bad(format!("tensor {name}: no data_offsets")))?;
        if offs.len() != 2
            || offs[0] > offs[1]
            || offs[1] > data.len()
            || (offs[1] - offs[0]) != 4 * shape.iter().product::<usize>()
        {
            return Err(bad(format!("tensor {name}: bad data_offsets {offs:?}")));
        }
        let vals = data[offs[0]..offs[1]]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        tensors.insert(name.clone(), (shape, vals));
    }
    Ok((tensors, meta))
}

/// `x W + b` for rows `x: (n, i)`, `w: (i, o)`, `b: (o,)`, any dtype/device (the functional
/// form behind [`Lin`], used by the f64 gradient checks).
pub fn linear<E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<(usize, usize), E, D, T>,
    w: Tensor<(usize, usize), E, D, T>,
    b: Tensor<(usize,), E, D, T>,
) -> Tensor<(usize, usize), E, D, T> {
    let n = x.shape().0;
    let o = w.shape().1;
    x.matmul(w) + b.broadcast_like::<_, Axis<0>>(&(n, o))
}

/// Weight `(i, o)` and bias `(o,)` of one dense layer as tensors.
pub struct LinW<E: Dtype, D: Device<E>, T: Tape<E, D>> {
    /// Weight `(i, o)`.
    pub w: Tensor<(usize, usize), E, D, T>,
    /// Bias `(o,)`.
    pub b: Tensor<(usize,), E, D, T>,
}

impl<E: Dtype, D: Device<E>, T: Tape<E, D>> LinW<E, D, T> {
    /// Applies the layer.
    pub fn apply(self, x: Tensor<(usize, usize), E, D, T>) -> Tensor<(usize, usize), E, D, T> {
        linear(x, self.w, self.b)
    }
}

/// A dense layer `y = x W + b` with `W: (i, o)`.
#[derive(Clone, Copy, Debug)]
pub struct Lin {
    w: Pid,
    b: Pid,
    /// Input features.
    pub i: usize,
    /// Output features.
    pub o: usize,
}

impl Lin {
    /// A new layer with PyTorch-style uniform init.
    pub fn new<D: Device<f32>>(p: &mut Params<D>, name: &str, i: usize, o: usize) -> Self {
        let bound = 1.0 / (i as f32).sqrt();
        let w = p.add(&format!("{name}.w"), i, o, Init::Uniform(bound), true);
        let b = p.add(&format!("{name}.b"), 1, o, Init::Zeros, false);
        Lin { w, b, i, o }
    }

    /// A new layer with Kaiming-uniform init (bound `sqrt(6 / i)`), for layers followed by ReLU.
    pub fn new_relu<D: Device<f32>>(p: &mut Params<D>, name: &str, i: usize, o: usize) -> Self {
        let bound = (6.0 / i as f32).sqrt();
        let w = p.add(&format!("{name}.w"), i, o, Init::Uniform(bound), true);
        let b = p.add(&format!("{name}.b"), 1, o, Init::Zeros, false);
        Lin { w, b, i, o }
    }

    /// Applies the layer to `(n, i)` rows.
    pub fn fwd<D: Device<f32>, T: Tape<f32, D>>(&self, p: &Params<D>, x: T2<D, T>) -> T2<D, T> {
        linear(x, p.get::<T>(self.w), p.vec::<T>(self.b))
    }

    /// The layer's weight `(i, o)` and bias `(o,)` with tape `T` (for the functional forms).
    pub fn tensors<D: Device<f32>, T: Tape<f32, D>>(&self, p: &Params<D>) -> LinW<f32, D, T> {
        LinW {
            w: p.get::<T>(self.w),
            b: p.vec::<T>(self.b),
        }
    }
}

/// Layer normalisation over the last axis with learned gain and bias.
#[derive(Clone, Copy, Debug)]
pub struct Ln {
    g: Pid,
    b: Pid,
}

impl Ln {
    /// A new layer norm of width `n`.
    pub fn new<D: Device<f32>>(p: &mut Params<D>, name: &str, n: usize) -> Self {
        let g = p.add(&format!("{name}.g"), 1, n, Init::Ones, false);
        let b = p.add(&format!("{name}.b"), 1, n, Init::Zeros, false);
        Ln { g, b }
    }

    /// Normalises `(rows, n)`.
    pub fn fwd<D: Device<f32>, T: Tape<f32, D>>(&self, p: &Params<D>, x: T2<D, T>) -> T2<D, T> {
        self.tensors::<D, T>(p).apply(x)
    }

    /// The gain and bias `(n,)` with tape `T` (for the functional forms).
    pub fn tensors<D: Device<f32>, T: Tape<f32, D>>(&self, p: &Params<D>) -> LnW<f32, D, T> {
        LnW {
            g: p.vec::<T>(self.g),
            b: p.vec::<T>(self.b),
        }
    }
}

/// Gain and bias `(n,)` of one layer norm as tensors (the functional form behind [`Ln`]).
pub struct LnW<E: Dtype, D: Device<E>, T: Tape<E, D>> {
    /// Gain `(n,)`.
    pub g: Tensor<(usize,), E, D, T>,
    /// Bias `(n,)`.
    pub b: Tensor<(usize,), E, D, T>,
}

impl<E: Dtype, D: Device<E>, T: Tape<E, D>> LnW<E, D, T> {
    /// Normalises the rows of `x: (rows, n)` (eps 1e-5), then `* g + b`.
    pub fn apply(self, x: Tensor<(usize, usize), E, D, T>) -> Tensor<(usize, usize), E, D, T> {
        let s = *x.shape();
        x.normalize::<Axis<1>>(1e-5) * self.g.broadcast_like::<_, Axis<0>>(&s)
            + self.b.broadcast_like::<_, Axis<0>>(&s)
    }
}

/// QuickGELU: `x * sigmoid(1.702 x)` (seds-nn's).
pub use seds_nn::quick_gelu;

/// Rows of `table` at `idx` (an embedding lookup / gather along axis 0).
pub fn rows<D: Device<f32>, T: Tape<f32, D>>(dev: &D, table: T2<D, T>, idx: &[usize]) -> T2<D, T> {
    let i = dev.tensor_from_vec(idx.to_vec(), (idx.len(),));
    table.gather(i)
}

/// A tensor `(r, c)` on `dev` from host values (row-major).
pub fn host2<D: Device<f32>>(dev: &D, data: Vec<f32>, r: usize, c: usize) -> T2<D> {
    dev.tensor_from_vec(data, (r, c))
}
