//! SynthSign signers: body proportions, position and scale in the frame, signing speed,
//! dominant hand, individual jitter and detection quality.

use seds_core::Rng;
use serde::{Deserialize, Serialize};

/// One synthetic signer. Lengths are in body units (shoulder half-width = 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signer {
    /// Signer id.
    pub id: u32,
    /// Pixels per body unit, as a fraction of the frame height.
    pub scale: f32,
    /// Mid-shoulder point, as fractions of the frame width and height.
    pub center: [f32; 2],
    /// Upper-arm length.
    pub upper_arm: f32,
    /// Forearm length.
    pub forearm: f32,
    /// Hand size (wrist to middle fingertip).
    pub hand: f32,
    /// Height of the nose above the shoulders.
    pub neck: f32,
    /// Sign duration multiplier (> 1 is slower).
    pub speed: f32,
    /// True when the left hand is dominant.
    pub left_handed: bool,
    /// Positional jitter of the keypoint detector, in body units.
    pub jitter: f32,
    /// Per-frame probability that a hand drop-out run starts.
    pub dropout: f32,
    /// Probability that a hand joint has low confidence.
    pub low_conf: f32,
}

impl Signer {
    /// Draws a signer.
    pub fn random(id: u32, rng: &mut Rng) -> Signer {
        let r = |rng: &mut Rng, lo: f64, hi: f64| rng.range_f64(lo, hi) as f32;
        let prop = r(rng, 0.92, 1.08);
        Signer {
            id,
            scale: r(rng, 0.105, 0.135),
            center: [r(rng, 0.42, 0.58), r(rng, 0.36, 0.46)],
            upper_arm: 1.45 * prop * r(rng, 0.96, 1.04),
            forearm: 1.3 * prop * r(rng, 0.96, 1.04),
            hand: 0.9 * r(rng, 0.9, 1.1),
            neck: 1.3 * r(rng, 0.92, 1.08),
            speed: r(rng, 0.8, 1.25),
            left_handed: rng.bernoulli(0.2),
            jitter: r(rng, 0.008, 0.025),
            dropout: r(rng, 0.005, 0.03),
            low_conf: r(rng, 0.02, 0.08),
        }
    }
}

/// `n` signers drawn from `seed` (signer i is the same whatever `n` is).
pub fn make_signers(n: usize, seed: u64) -> Vec<Signer> {
    (0..n)
        .map(|i| Signer::random(i as u32, &mut Rng::derive(seed, &format!("signer-{i}"))))
        .collect()
}
