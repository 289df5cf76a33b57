//! Batching for training and evaluation: sentence-level epoch sampling (one item per unique
//! sentence, a random take, shuffled; the last partial batch kept if it has >= 2 items),
//! padded video and text batches, and the random-swap augmented text for the T2V half.
//! All randomness comes from `Rng::derive(seed, "batches/{split}/{epoch}")`.

use crate::tokenizer::{random_swap, split_words, Tokenizer};
use crate::types::{Split, TextBatch, TrainBatch, VideoBatch, COORDS, NUM_JOINTS, PAD};
use seds_config::DataConfig;
use seds_core::Rng;

/// The epoch's batches as (sentence index, video index) pairs.
pub fn epoch_plan(
    split: &Split,
    batch_size: usize,
    epoch: usize,
    seed: u64,
) -> Vec<Vec<(usize, usize)>> {
    let mut rng = Rng::derive(seed, &format!("batches/{}/{}", split.name, epoch));
    let mut takes: Vec<Vec<usize>> = vec![Vec::new(); split.sentences.len()];
    for (vi, v) in split.videos.iter().enumerate() {
        if let Some(t) = takes.get_mut(v.sentence) {
            t.push(vi);
        }
    }
    let mut items: Vec<(usize, usize)> = Vec::new();
    for (si, t) in takes.iter().enumerate() {
        if let Some(&v) = rng.choose(t) {
            items.push((si, v));
        }
    }
    rng.shuffle(&mut items);
    let bs = batch_size.max(1);
    items
        .chunks(bs)
        .filter(|c| c.len() == bs || c.len() >= 2)
        .map(|c| c.to_vec())
        .collect()
}

/// Padded batch of the given videos of a split.
pub fn video_batch(split: &Split, indices: &[usize]) -> VideoBatch {
    let vids: Vec<_> = indices
        .iter()
        .filter_map(|&i| split.videos.get(i))
        .collect();
    let rgb_dim = vids
        .iter()
        .find(|v| !v.clip_starts.is_empty())
        .map(|v| v.rgb.len() / v.clip_starts.len())
        .unwrap_or(0);
    let max_frames = vids.iter().map(|v| v.frames).max().unwrap_or(0);
    let max_clips = vids.iter().map(|v| v.clip_starts.len()).max().unwrap_or(0);
    let fj = NUM_JOINTS * COORDS;
    let b = vids.len();
    let mut pose = vec![0f32; b * max_frames * fj];
    let mut clip_starts = vec![0usize; b * max_clips];
    let mut rgb = vec![0f32; b * max_clips * rgb_dim];
    for (i, v) in vids.iter().enumerate() {
        let n = v.pose.len().min(max_frames * fj);
        pose[i * max_frames * fj..i * max_frames * fj + n].copy_from_slice(&v.pose[..n]);
        clip_starts[i * max_clips..i * max_clips + v.clip_starts.len()]
            .copy_from_slice(&v.clip_starts);
        let r = v.rgb.len().min(max_clips * rgb_dim);
        rgb[i * max_clips * rgb_dim..i * max_clips * rgb_dim + r].copy_from_slice(&v.rgb[..r]);
    }
    VideoBatch {
        video_index: indices
            .iter()
            .copied()
            .filter(|&i| i < split.videos.len())
            .collect(),
        max_frames,
        pose,
        frame_len: vids.iter().map(|v| v.frames).collect(),
        max_clips,
        clip_starts,
        clip_len: vids.iter().map(|v| v.clip_starts.len()).collect(),
        rgb,
        rgb_dim,
    }
}

fn pad_texts(sentence_index: Vec<usize>, seqs: Vec<Vec<u32>>) -> TextBatch {
    let max_tokens = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut tokens = vec![PAD; seqs.len() * max_tokens];
    for (i, s) in seqs.iter().enumerate() {
        tokens[i * max_tokens..i * max_tokens + s.len()].copy_from_slice(s);
    }
    TextBatch {
        sentence_index,
        max_tokens,
        token_len: seqs.iter().map(|s| s.len()).collect(),
        tokens,
    }
}

/// Padded batch of the given sentences of a split.
pub fn text_batch(
    split: &Split,
    tok: &Tokenizer,
    indices: &[usize],
    max_words: usize,
) -> TextBatch {
    let idx: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|&i| i < split.sentences.len())
        .collect();
    let seqs = idx
        .iter()
        .map(|&i| tok.encode(&split.sentences[i].text, max_words))
        .collect();
    pad_texts(idx, seqs)
}

/// One training batch from (sentence, video) items; `rng` drives augmentation.
pub fn train_batch(
    split: &Split,
    tok: &Tokenizer,
    cfg: &DataConfig,
    items: &[(usize, usize)],
    rng: &mut Rng,
) -> TrainBatch {
    let sents: Vec<usize> = items.iter().map(|x| x.0).collect();
    let vids: Vec<usize> = items.iter().map(|x| x.1).collect();
    let text = text_batch(split, tok, &sents, cfg.max_words);
    let text_aug = cfg.text_augment.then(|| {
        let seqs = sents
            .iter()
            .map(|&i| {
                let mut w = split_words(&split.sentences[i].text);
                random_swap(&mut w, cfg.swap_prob, rng);
                tok.encode_words(&w, cfg.max_words)
            })
            .collect();
        pad_texts(sents.clone(), seqs)
    });
    TrainBatch {
        video: video_batch(split, &vids),
        text,
        text_aug,
    }
}

/// All training batches of one epoch (see the module docs); deterministic from (seed, epoch).
pub fn train_batches(
    split: &Split,
    tok: &Tokenizer,
    cfg: &DataConfig,
    batch_size: usize,
    epoch: usize,
    seed: u64,
) -> Vec<TrainBatch> {
    let mut rng = Rng::derive(seed, &format!("augment/{}/{}", split.name, epoch));
    epoch_plan(split, batch_size, epoch, seed)
        .iter()
        .map(|items| train_batch(split, tok, cfg, items, &mut rng))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Sentence, Video};

    fn toy() -> Split {
        let sentences = (0..5)
            .map(|i| Sentence {
                id: format!("s{i}"),
                text: format!("word{i} common text"),
                glosses: vec![],
            })
            .collect();
        let videos = (0..10)
            .map(|i| Video {
                id: format!("v{i}"),
                sentence: i / 2,
                signer: 0,
                frames: 16 + i,
                pose: vec![i as f32; (16 + i) * NUM_JOINTS * COORDS],
                clip_starts: (0..(1 + i)).collect(),
                rgb: vec![1.0; (1 + i) * 3],
            })
            .collect();
        Split {
            name: "train".into(),
            sentences,
            videos,
        }
    }

    #[test]
    fn epoch_sampling_one_take_per_sentence() {
        let s = toy();
        let plan = epoch_plan(&s, 2, 0, 7);
        // 5 sentences, batch 2 -> 2, 2, and the last single item is dropped.
        assert_eq!(plan.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![2, 2]);
        let plan3 = epoch_plan(&s, 3, 0, 7);
        assert_eq!(
            plan3.iter().map(|b| b.len()).collect::<Vec<_>>(),
            vec![3, 2]
        );
        let mut seen: Vec<usize> = plan3.iter().flatten().map(|x| x.0).collect();
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
        assert!(plan3
            .iter()
            .flatten()
            .all(|&(si, vi)| s.videos[vi].sentence == si));
        assert_eq!(plan3, epoch_plan(&s, 3, 0, 7));
        let other: Vec<_> = (1..6).map(|e| epoch_plan(&s, 3, e, 7)).collect();
        assert!(other.iter().any(|p| *p != plan3));
    }

    #[test]
    fn padding_layout() {
        let s = toy();
        let vb = video_batch(&s, &[0, 3]);
        assert_eq!((vb.max_frames, vb.max_clips, vb.rgb_dim), (19, 4, 3));
        assert_eq!(vb.frame_len, vec![16, 19]);
        assert_eq!(vb.clip_len, vec![1, 4]);
        let fj = NUM_JOINTS * COORDS;
        assert_eq!(vb.pose[16 * fj], 0.0); // padding of video 0
        assert_eq!(vb.pose[19 * fj], 3.0); // video 1 starts
        assert_eq!(&vb.clip_starts, &[0, 0, 0, 0, 0, 1, 2, 3]);
        assert_eq!(vb.rgb[3], 0.0);
        let tok = Tokenizer::from_split(&s);
        let tb = text_batch(&s, &tok, &[0, 1], 32);
        assert_eq!(tb.max_tokens, 5);
        assert_eq!(tb.token_len, vec![5, 5]);
        let cfg = DataConfig {
            swap_prob: 1.0,
            ..DataConfig::default()
        };
        let b = train_batches(&s, &tok, &cfg, 5, 0, 1);
        assert_eq!(b.len(), 1);
        let aug = b[0].text_aug.as_ref().unwrap();
        assert_ne!(aug.tokens, b[0].text.tokens);
        let mut a: Vec<u32> = aug.tokens.clone();
        let mut o: Vec<u32> = b[0].text.tokens.clone();
        a.sort();
        o.sort();
        assert_eq!(a, o);
        let off = DataConfig {
            text_augment: false,
            ..DataConfig::default()
        };
        assert!(train_batches(&s, &tok, &off, 5, 0, 1)[0].text_aug.is_none());
    }
}
