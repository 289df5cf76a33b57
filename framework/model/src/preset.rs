//! Size presets. Each preset is a zero-sized type whose dimensions are compile-time constants
//! (derived dims such as the frame width `3 * PART` are their own constants, checked once in
//! [`Dims::check`]); `model.size` picks one at run time through [`with_preset`], which
//! instantiates the generic code for that preset.
//!
//! Tensors themselves are runtime-shaped (dfdx `usize` dims) and built from these constants;
//! see the crate docs for why.

use seds_config::ModelSize;

/// RGB clip feature width expected by every preset (I3D).
pub const RGB_DIM: usize = 1024;

/// Compile-time dimensions of a size preset.
pub trait Preset: Send + Sync + 'static {
    /// Preset name.
    const NAME: &'static str;
    /// Interaction-transformer width d_w.
    const W: usize;
    /// Interaction-transformer layers.
    const LAYERS: usize;
    /// Interaction-transformer heads.
    const HEADS: usize;
    /// Interaction-transformer MLP width.
    const MLP: usize;
    /// Joint embedding dim d.
    const D: usize;
    /// Text transformer width.
    const TW: usize;
    /// Text layers.
    const TLAYERS: usize;
    /// Text heads.
    const THEADS: usize;
    /// Text MLP width.
    const TMLP: usize;
    /// Spatial graph-conv channels (3 blocks).
    const GCN: [usize; 3];
    /// Part graph-conv channels.
    const PART: usize;
    /// Frame feature width = 3 * PART (derived, own constant).
    const FRAME: usize;
    /// CGAF heads.
    const CGAF_HEADS: usize;
    /// CGAF FFN width (4 d).
    const CGAF_FFN: usize;
    /// Fusion MLP hidden widths: 2d and 4d (derived, own constants).
    const D2: usize;
    /// 4 d.
    const D4: usize;
    /// Vocabulary cap (ids >= cap become UNK).
    const VOCAB: usize;
    /// Max text positions.
    const MAX_WORDS: usize;
    /// Max clip tokens (clips + CLS).
    const MAX_TOKENS: usize;
}

/// Tests and CI: an epoch of ~120 items in seconds on 2 cores.
pub struct Tiny;
/// CPU experiments.
pub struct Small;
/// The release's dimensions.
pub struct Paper;

impl Preset for Tiny {
    const NAME: &'static str = "tiny";
    const W: usize = 64;
    const LAYERS: usize = 2;
    const HEADS: usize = 4;
    const MLP: usize = 256;
    const D: usize = 64;
    const TW: usize = 64;
    const TLAYERS: usize = 2;
    const THEADS: usize = 4;
    const TMLP: usize = 256;
    const GCN: [usize; 3] = [16, 16, 32];
    const PART: usize = 64;
    const FRAME: usize = 192;
    const CGAF_HEADS: usize = 4;
    const CGAF_FFN: usize = 256;
    const D2: usize = 128;
    const D4: usize = 256;
    const VOCAB: usize = 4096;
    const MAX_WORDS: usize = 64;
    const MAX_TOKENS: usize = 65;
}

impl Preset for Small {
    const NAME: &'static str = "small";
    const W: usize = 192;
    const LAYERS: usize = 3;
    const HEADS: usize = 6;
    const MLP: usize = 768;
    const D: usize = 192;
    const TW: usize = 192;
    const TLAYERS: usize = 3;
    const THEADS: usize = 6;
    const TMLP: usize = 768;
    const GCN: [usize; 3] = [32, 32, 64];
    const PART: usize = 128;
    const FRAME: usize = 384;
    const CGAF_HEADS: usize = 6;
    const CGAF_FFN: usize = 768;
    const D2: usize = 384;
    const D4: usize = 768;
    const VOCAB: usize = 8192;
    const MAX_WORDS: usize = 64;
    const MAX_TOKENS: usize = 65;
}

impl Preset for Paper {
    const NAME: &'static str = "paper";
    const W: usize = 768;
    const LAYERS: usize = 12;
    const HEADS: usize = 12;
    const MLP: usize = 3072;
    const D: usize = 512;
    const TW: usize = 512;
    const TLAYERS: usize = 12;
    const THEADS: usize = 8;
    const TMLP: usize = 2048;
    const GCN: [usize; 3] = [128, 128, 256];
    const PART: usize = 512;
    const FRAME: usize = 1536;
    const CGAF_HEADS: usize = 8;
    const CGAF_FFN: usize = 2048;
    const D2: usize = 1024;
    const D4: usize = 2048;
    const VOCAB: usize = 49408;
    const MAX_WORDS: usize = 64;
    const MAX_TOKENS: usize = 65;
}

/// The constants of a preset as a value (what the model constructors take).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Preset name.
    pub name: &'static str,
    /// d_w.
    pub w: usize,
    /// Tower layers.
    pub layers: usize,
    /// Tower heads.
    pub heads: usize,
    /// Tower MLP.
    pub mlp: usize,
    /// d.
    pub d: usize,
    /// Text width.
    pub tw: usize,
    /// Text layers.
    pub tlayers: usize,
    /// Text heads.
    pub theads: usize,
    /// Text MLP.
    pub tmlp: usize,
    /// Spatial channels.
    pub gcn: [usize; 3],
    /// Part channels.
    pub part: usize,
    /// Frame width.
    pub frame: usize,
    /// CGAF heads.
    pub cgaf_heads: usize,
    /// CGAF FFN.
    pub cgaf_ffn: usize,
    /// 2 d.
    pub d2: usize,
    /// 4 d.
    pub d4: usize,
    /// Vocabulary cap.
    pub vocab: usize,
    /// Text positions.
    pub max_words: usize,
    /// Clip tokens incl. CLS.
    pub max_tokens: usize,
}

impl Dims {
    /// The dims of preset `P`.
    pub fn of<P: Preset>() -> Self {
        Dims {
            name: P::NAME,
            w: P::W,
            layers: P::LAYERS,
            heads: P::HEADS,
            mlp: P::MLP,
            d: P::D,
            tw: P::TW,
            tlayers: P::TLAYERS,
            theads: P::THEADS,
            tmlp: P::TMLP,
            gcn: P::GCN,
            part: P::PART,
            frame: P::FRAME,
            cgaf_heads: P::CGAF_HEADS,
            cgaf_ffn: P::CGAF_FFN,
            d2: P::D2,
            d4: P::D4,
            vocab: P::VOCAB,
            max_words: P::MAX_WORDS,
            max_tokens: P::MAX_TOKENS,
        }
    }

    /// Checks the relations between derived constants; an error names the broken one.
    pub fn check(&self) -> Result<(), String> {
        let rel = [
            (self.frame == 3 * self.part, "FRAME == 3 * PART"),
            (self.d2 == 2 * self.d, "D2 == 2 * D"),
            (self.d4 == 4 * self.d, "D4 == 4 * D"),
            (self.w % self.heads == 0, "W % HEADS == 0"),
            (self.tw % self.theads == 0, "TW % THEADS == 0"),
            (self.d % self.cgaf_heads == 0, "D % CGAF_HEADS == 0"),
        ];
        match rel.iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(format!("preset {}: {what} does not hold", self.name)),
            None => Ok(()),
        }
    }
}

/// Something generic over a preset, run by [`with_preset`].
pub trait PresetFn {
    /// Result type.
    type Out;
    /// Runs with preset `P`.
    fn run<P: Preset>(self) -> Self::Out;
}

/// Instantiates `f` for the preset named by `size`.
pub fn with_preset<F: PresetFn>(size: ModelSize, f: F) -> F::Out {
    match size {
        ModelSize::Tiny => f.run::<Tiny>(),
        ModelSize::Small => f.run::<Small>(),
        ModelSize::Paper => f.run::<Paper>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_constants_hold_for_every_preset() {
        for d in [Dims::of::<Tiny>(), Dims::of::<Small>(), Dims::of::<Paper>()] {
            d.check().unwrap();
        }
        let mut bad = Dims::of::<Tiny>();
        bad.frame = 100;
        assert!(bad.check().unwrap_err().contains("FRAME"));
    }
}
