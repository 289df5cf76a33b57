//! A word-level tokenizer built from training text, and the random-swap text augmentation.
//!
//! Words: lower-case, split on non-alphanumerics. Vocabulary: every training word (min
//! count 1) in sorted order, ids from 4 upward (PAD=0, SOT=1, EOT=2, UNK=3). `encode` adds
//! SOT/EOT and keeps at most `max_words` tokens including them: longer sentences keep
//! `max_words - 2` words chosen uniformly (`k (n - 1) / (m - 1)`), not a prefix.

use crate::types::{Split, EOT, PAD, SOT, UNK};
use seds_core::Rng;
use std::collections::BTreeMap;

/// First id of a vocabulary word.
pub const FIRST_WORD_ID: u32 = 4;

/// Word-level tokenizer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tokenizer {
    ids: BTreeMap<String, u32>,
    words: Vec<String>,
}

/// Lower-cased words of `text` (split on non-alphanumeric characters).
pub fn split_words(text: &str) -> Vec<String> {
    crate::captions::words(text)
}

/// Indices of `m` words kept out of `n` by uniform subsampling (all when `n <= m`).
pub fn subsample(n: usize, m: usize) -> Vec<usize> {
    if n <= m {
        return (0..n).collect();
    }
    match m {
        0 => vec![],
        1 => vec![0],
        _ => (0..m).map(|k| k * (n - 1) / (m - 1)).collect(),
    }
}

impl Tokenizer {
    /// Builds the vocabulary from texts.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = std::collections::BTreeSet::new();
        for t in texts {
            set.extend(split_words(t));
        }
        let words: Vec<String> = set.into_iter().collect();
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), FIRST_WORD_ID + i as u32))
            .collect();
        Tokenizer { ids, words }
    }

    /// Builds the vocabulary from a split's sentences (use the training split).
    pub fn from_split(split: &Split) -> Self {
        Self::from_texts(split.sentences.iter().map(|s| s.text.as_str()))
    }

    /// Vocabulary size including the 4 special tokens.
    pub fn vocab_size(&self) -> usize {
        self.words.len() + FIRST_WORD_ID as usize
    }

    /// Id of a word (UNK when unknown).
    pub fn id(&self, word: &str) -> u32 {
        self.ids.get(word).copied().unwrap_or(UNK)
    }

    /// Token ids of a word list: SOT, words (subsampled to `max_words - 2`), EOT.
    pub fn encode_words(&self, words: &[String], max_words: usize) -> Vec<u32> {
        let keep = subsample(words.len(), max_words.saturating_sub(2));
        let mut out = Vec::with_capacity(keep.len() + 2);
        out.push(SOT);
        out.extend(keep.iter().map(|&i| self.id(&words[i])));
        out.push(EOT);
        out
    }

    /// Token ids of a text (see [`Tokenizer::encode_words`]).
    pub fn encode(&self, text: &str, max_words: usize) -> Vec<u32> {
        self.encode_words(&split_words(text), max_words)
    }

    /// Text of token ids (special tokens shown as `<pad>`, `<sot>`, `<eot>`, `<unk>`).
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .map(|&i| match i {
                PAD => "<pad>".to_string(),
                SOT => "<sot>".to_string(),
                EOT => "<eot>".to_string(),
                UNK => "<unk>".to_string(),
                _ => self
                    .words
                    .get((i - FIRST_WORD_ID) as usize)
                    .cloned()
                    .unwrap_or_else(|| "<unk>".into()),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The vocabulary words in id order.
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// Random swap: with probability `p` (and at least 2 words), two distinct random positions
/// are swapped.
pub fn random_swap(words: &mut [String], p: f64, rng: &mut Rng) {
    if words.len() >= 2 && rng.bernoulli(p) {
        let i = rng.below(words.len());
        let mut j = rng.below(words.len() - 1);
        if j >= i {
            j += 1;
        }
        words.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_ids_and_encoding() {
        let t = Tokenizer::from_texts(["The cat, the DOG!", "a dog"]);
        assert_eq!(t.words(), &["a", "cat", "dog", "the"]);
        assert_eq!(t.vocab_size(), 8);
        assert_eq!(t.encode("the dog bites", 32), vec![SOT, 7, 6, UNK, EOT]);
        assert_eq!(
            t.decode(&[SOT, 4, UNK, EOT, PAD]),
            "<sot> a <unk> <eot> <pad>"
        );
    }

    #[test]
    fn long_sentences_are_subsampled_uniformly() {
        let words: Vec<String> = (0..10).map(|i| format!("w{i}")).collect();
        let t = Tokenizer::from_texts(words.iter().map(|s| s.as_str()));
        // keep 4 of 10: indices 0, 3, 6, 9
        let ids = t.encode_words(&words, 6);
        assert_eq!(ids.len(), 6);
        assert_eq!(t.decode(&ids), "<sot> w0 w3 w6 w9 <eot>");
        assert_eq!(subsample(3, 5), vec![0, 1, 2]);
        assert_eq!(subsample(5, 1), vec![0]);
    }

    #[test]
    fn random_swap_swaps_two_distinct_words() {
        let base: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let mut rng = Rng::new(5);
        let mut swapped = 0;
        for _ in 0..1000 {
            let mut w = base.clone();
            random_swap(&mut w, 0.5, &mut rng);
            let diff = w.iter().zip(&base).filter(|(a, b)| a != b).count();
            assert!(diff == 0 || diff == 2);
            swapped += (diff == 2) as usize;
        }
        assert!((400..600).contains(&swapped), "{swapped}");
        let mut one = vec!["x".to_string()];
        random_swap(&mut one, 1.0, &mut rng);
        assert_eq!(one, vec!["x".to_string()]);
    }
}
