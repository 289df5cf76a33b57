//! Simulated offline RGB clip features: a fixed random linear "frozen encoder" of what is
//! visible in each clip window, plus appearance nuisance and noise.
//!
//! Each articulatory component value (handshape family, thumb variant, non-dominant family,
//! location, movement, orientation, hands, repetition, non-manual) has a fixed random
//! embedding (per-dim N(0, 1)); a gloss's *signature* is their weighted sum, normalised to
//! per-dim RMS 1. The thumb variant gets a small weight (RGB blurs handshape detail); the
//! non-manual channel a full one (RGB is its only carrier). A clip feature is
//!
//! `x = gain_s * (sum_g w_g sig_g + 0.5 v) + 0.6 o_s + 0.5 e`
//!
//! where `w_g` is gloss g's share of the window's frames (transition frames count half,
//! split between the two signs; rest frames count nothing), `gain_s` and `o_s` a per-signer
//! per-dim gain (1 + 0.2 N) and offset (N), `v` a per-video background vector (N) and `e`
//! uniform noise of unit variance per clip and dim.

use crate::lexicon::{
    Lexicon, NUM_HANDSHAPES, NUM_HANDSHAPE_FAMILIES, NUM_LOCATIONS, NUM_MOVEMENTS, NUM_NONMANUALS,
    NUM_ORIENTATIONS,
};
use crate::render::{FrameLabel, NO_GLOSS};
use seds_core::Rng;
use std::collections::BTreeMap;

/// Component weights of a gloss signature, in the order of the module docs.
pub const COMPONENT_WEIGHTS: [f32; 9] = [1.0, 0.12, 0.5, 0.9, 0.9, 0.6, 0.5, 0.4, 1.0];

/// The RGB feature simulator of one dataset.
#[derive(Clone, Debug)]
pub struct RgbSimulator {
    dim: usize,
    sig: Vec<f32>,
    signer_gain: Vec<f32>,
    signer_offset: Vec<f32>,
}

fn normals(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.normal() as f32).collect()
}

impl RgbSimulator {
    /// Builds the encoder for `lex`, `n_signers` signers and `dim` features from `seed`.
    pub fn new(lex: &Lexicon, n_signers: usize, dim: usize, seed: u64) -> Self {
        let mut rng = Rng::derive(seed, "rgb-encoder");
        let sizes = [
            NUM_HANDSHAPE_FAMILIES,
            NUM_HANDSHAPES,
            NUM_HANDSHAPE_FAMILIES,
            NUM_LOCATIONS,
            NUM_MOVEMENTS,
            NUM_ORIENTATIONS,
            3,
            4,
            NUM_NONMANUALS,
        ];
        let tables: Vec<Vec<f32>> = sizes
            .iter()
            .map(|&n| normals(&mut rng, n as usize * dim))
            .collect();
        let norm = COMPONENT_WEIGHTS.iter().map(|w| w * w).sum::<f32>().sqrt();
        let mut sig = vec![0f32; lex.glosses.len() * dim];
        for (gi, g) in lex.glosses.iter().enumerate() {
            let p = &g.params;
            let vals = [
                p.handshape / 2,
                p.handshape,
                p.nondom_handshape / 2,
                p.location,
                p.movement,
                p.orientation,
                p.hands as u8,
                p.repetition,
                p.nonmanual,
            ];
            let out = &mut sig[gi * dim..(gi + 1) * dim];
            for (c, &v) in vals.iter().enumerate() {
                let row = &tables[c][v as usize * dim..(v as usize + 1) * dim];
                let w = COMPONENT_WEIGHTS[c] / norm;
                for (o, r) in out.iter_mut().zip(row) {
                    *o += w * r;
                }
            }
        }
        let mut srng = Rng::derive(seed, "rgb-signers");
        let signer_gain = (0..n_signers * dim)
            .map(|_| 1.0 + 0.2 * srng.normal() as f32)
            .collect();
        let signer_offset = normals(&mut srng, n_signers * dim);
        RgbSimulator {
            dim,
            sig,
            signer_gain,
            signer_offset,
        }
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The noiseless signature of gloss `g`.
    pub fn signature(&self, g: usize) -> &[f32] {
        &self.sig[g * self.dim..(g + 1) * self.dim]
    }

    /// Clip features `[clip_starts.len()][dim]` for one video: `labels` per source frame,
    /// `source_index` maps kept frames to source frames, windows of `window` kept frames.
    pub fn clip_features(
        &self,
        labels: &[FrameLabel],
        source_index: &[usize],
        clip_starts: &[usize],
        window: usize,
        signer: usize,
        rng: &mut Rng,
    ) -> Vec<f32> {
        let d = self.dim;
        let video = normals(rng, d);
        let gain = &self.signer_gain[signer * d..(signer + 1) * d];
        let off = &self.signer_offset[signer * d..(signer + 1) * d];
        let mut out = vec![0f32; clip_starts.len() * d];
        let mut content = vec![0f32; d];
        for (c, &start) in clip_starts.iter().enumerate() {
            let mut weights: BTreeMap<u32, f32> = BTreeMap::new();
            for k in start..start + window {
                let src = source_index
                    .get(k)
                    .or(source_index.last())
                    .copied()
                    .unwrap_or(0);
                if let Some(lab) = labels.get(src) {
                    for &(g, w) in lab {
                        if g != NO_GLOSS && w > 0.0 {
                            *weights.entry(g).or_insert(0.0) += w / window as f32;
                        }
                    }
                }
            }
            content
                .iter_mut()
                .zip(&video)
                .for_each(|(o, v)| *o = 0.5 * v);
            for (&g, &w) in &weights {
                for (o, s) in content.iter_mut().zip(self.signature(g as usize)) {
                    *o += w * s;
                }
            }
            let row = &mut out[c * d..(c + 1) * d];
            let mut i = 0;
            while i < d {
                let bits = rng.next_u64();
                for half in [bits as u32, (bits >> 32) as u32] {
                    if i < d {
                        let e = (half as f32 * (1.0 / 4_294_967_296.0) - 0.5) * 3.464_101_6;
                        row[i] = gain[i] * content[i] + 0.6 * off[i] + 0.5 * e;
                        i += 1;
                    }
                }
            }
        }
        crate::half::round_slice_f16(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::PairKind;

    fn dist(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f32>()
            .sqrt()
    }

    #[test]
    fn rgb_blurs_handshape_pairs_and_sees_nonmanual_pairs() {
        let lex = Lexicon::builtin(1000, &mut Rng::new(4));
        let sim = RgbSimulator::new(&lex, 3, 256, 4);
        let (mut hs, mut nm, mut free) = (vec![], vec![], vec![]);
        for (i, g) in lex.glosses.iter().enumerate() {
            match g.partner {
                Some((p, PairKind::Handshape)) => hs.push(dist(sim.signature(i), sim.signature(p))),
                Some((p, PairKind::NonManual)) => nm.push(dist(sim.signature(i), sim.signature(p))),
                None => free.push(dist(
                    sim.signature(i),
                    sim.signature((i + 7) % lex.glosses.len()),
                )),
            }
        }
        let mean = |v: &Vec<f32>| v.iter().sum::<f32>() / v.len() as f32;
        // sqrt(2 * 256) * 0.12 / norm ~ 1.2 vs ~ 10 for a non-manual change.
        assert!(
            mean(&hs) < 0.25 * mean(&nm),
            "hs {} nm {}",
            mean(&hs),
            mean(&nm)
        );
        assert!(mean(&nm) < mean(&free));
    }

    #[test]
    fn clip_features_follow_the_window_content() {
        let lex = Lexicon::builtin(48, &mut Rng::new(4));
        let sim = RgbSimulator::new(&lex, 2, 64, 4);
        // Glosses 0 and 4 are free signs (0-1 and 2-3 of a class are minimal pairs).
        let labels: Vec<FrameLabel> = (0..32)
            .map(|t| [(if t < 16 { 0 } else { 4 }, 1.0), (NO_GLOSS, 0.0)])
            .collect();
        let idx: Vec<usize> = (0..32).collect();
        let f = sim.clip_features(&labels, &idx, &[0, 16], 16, 0, &mut Rng::new(1));
        assert_eq!(f.len(), 2 * 64);
        // The change between the two clips points along sig(0) - sig(4).
        let dsig: Vec<f32> = sim
            .signature(0)
            .iter()
            .zip(sim.signature(4))
            .map(|(a, b)| a - b)
            .collect();
        let dfeat: Vec<f32> = f[..64].iter().zip(&f[64..]).map(|(a, b)| a - b).collect();
        let cos = dsig.iter().zip(&dfeat).map(|(a, b)| a * b).sum::<f32>()
            / (dist(&dsig, &vec![0.0; 64]) * dist(&dfeat, &vec![0.0; 64]));
        assert!(cos > 0.7, "cos {cos}");
    }
}
