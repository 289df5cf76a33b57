//! The SynthSign lexicon and grammar: articulatory sign parameters, the handshape inventory,
//! the built-in English vocabulary in semantic classes, sentence templates (English text and
//! gloss order produced together), minimal pairs, and sentence generation.
//!
//! Everything here is pure and deterministic given a [`seds_core::Rng`].

use seds_core::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Handshape families (what RGB resolves); each has two variants differing in the thumb.
pub const NUM_HANDSHAPE_FAMILIES: u8 = 16;
/// Handshapes = family * 2 + thumb variant.
pub const NUM_HANDSHAPES: u8 = 32;
/// Locations of the dominant hand relative to the body.
pub const NUM_LOCATIONS: u8 = 8;
/// Movement types.
pub const NUM_MOVEMENTS: u8 = 10;
/// Palm orientations: 8 in-plane angles x palm facing the camera or not.
pub const NUM_ORIENTATIONS: u8 = 16;
/// Non-manual values (0 = neutral; others: brow raise, furrow, mouthing "pa", mouthing "oo", puffed cheeks).
pub const NUM_NONMANUALS: u8 = 6;

/// Finger flexion [thumb, index, middle, ring, pinky] (0 straight .. 1 fully bent) and spread
/// of the 16 handshape families (A, B, 1, V, W, 5, Y, I, L, C, O, claw, horns, 3, X, bent-B).
pub const FAMILIES: [([f32; 5], f32); 16] = [
    ([0.2, 1.0, 1.0, 1.0, 1.0], 0.0),
    ([0.8, 0.0, 0.0, 0.0, 0.0], 0.0),
    ([0.8, 0.0, 1.0, 1.0, 1.0], 0.0),
    ([0.8, 0.0, 0.0, 1.0, 1.0], 1.0),
    ([0.8, 0.0, 0.0, 0.0, 1.0], 1.0),
    ([0.0, 0.0, 0.0, 0.0, 0.0], 1.0),
    ([0.0, 1.0, 1.0, 1.0, 0.0], 0.0),
    ([0.8, 1.0, 1.0, 1.0, 0.0], 0.0),
    ([0.0, 0.0, 1.0, 1.0, 1.0], 0.0),
    ([0.3, 0.5, 0.5, 0.5, 0.5], 0.0),
    ([0.6, 0.7, 0.7, 0.7, 0.7], 0.0),
    ([0.2, 0.8, 0.8, 0.8, 0.8], 1.0),
    ([0.8, 0.0, 1.0, 1.0, 0.0], 0.5),
    ([0.0, 0.0, 0.0, 1.0, 1.0], 0.5),
    ([0.8, 0.6, 1.0, 1.0, 1.0], 0.0),
    ([0.8, 0.45, 0.45, 0.45, 0.45], 0.0),
];

/// Finger flexion and spread of a handshape id: variant 1 toggles the thumb
/// (bent thumbs become straight and vice versa), the handshape detail RGB blurs.
pub fn handshape_flex(handshape: u8) -> ([f32; 5], f32) {
    let (mut flex, spread) = FAMILIES[(handshape / 2) as usize % FAMILIES.len()];
    if handshape % 2 == 1 {
        flex[0] = if flex[0] < 0.5 { 0.95 } else { 0.0 };
    }
    (flex, spread)
}

/// How many hands a sign uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Hands {
    /// Dominant hand only; the other rests.
    One,
    /// Both hands, mirrored.
    Symmetric,
    /// The dominant hand acts on a static non-dominant base hand.
    Base,
}

/// The articulatory parameters of one sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SignParams {
    /// Dominant handshape (0..32).
    pub handshape: u8,
    /// Non-dominant handshape (used by `Hands::Base`; `Symmetric` copies the dominant one).
    pub nondom_handshape: u8,
    /// Location (0..8).
    pub location: u8,
    /// Movement (0..10).
    pub movement: u8,
    /// Orientation (0..16): angle index * 2 + facing.
    pub orientation: u8,
    /// One or two hands.
    pub hands: Hands,
    /// Repetitions of the movement (1..=3).
    pub repetition: u8,
    /// Non-manual channel (0..6): invisible in the 49 keypoints, visible in RGB.
    pub nonmanual: u8,
}

impl SignParams {
    /// Everything the pose stream can see (all manual parameters).
    pub fn pose_view(&self) -> [u8; 7] {
        [
            self.handshape,
            self.nondom_handshape,
            self.location,
            self.movement,
            self.orientation,
            self.hands as u8,
            self.repetition,
        ]
    }
    /// Everything the RGB stream resolves: manual parameters with handshapes blurred to their
    /// family, plus the non-manual channel.
    pub fn rgb_view(&self) -> [u8; 8] {
        [
            self.handshape / 2,
            self.nondom_handshape / 2,
            self.location,
            self.movement,
            self.orientation,
            self.hands as u8,
            self.repetition,
            self.nonmanual,
        ]
    }
    /// Draws random parameters.
    pub fn random(rng: &mut Rng) -> Self {
        let hands = match rng.below(10) {
            0..=5 => Hands::One,
            6..=7 => Hands::Symmetric,
            _ => Hands::Base,
        };
        let handshape = rng.below(NUM_HANDSHAPES as usize) as u8;
        SignParams {
            handshape,
            nondom_handshape: if hands == Hands::Symmetric {
                handshape
            } else {
                rng.below(NUM_HANDSHAPES as usize) as u8
            },
            location: rng.below(NUM_LOCATIONS as usize) as u8,
            movement: rng.below(NUM_MOVEMENTS as usize) as u8,
            orientation: rng.below(NUM_ORIENTATIONS as usize) as u8,
            hands,
            repetition: 1 + rng.below(3) as u8,
            nonmanual: if rng.bernoulli(0.5) {
                0
            } else {
                1 + rng.below(NUM_NONMANUALS as usize - 1) as u8
            },
        }
    }
}

/// Which single parameter distinguishes a gloss from its minimal-pair partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairKind {
    /// Only the thumb variant of the handshape differs (pose sees it, RGB barely).
    Handshape,
    /// Only the non-manual channel differs (RGB sees it, pose cannot).
    NonManual,
}

/// Semantic classes of the built-in vocabulary (and `Caption` for real-caption glosses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Class {
    /// Time expressions.
    Time,
    /// Weather phenomena.
    Weather,
    /// Places.
    Place,
    /// People.
    Person,
    /// Actions (verbs taking an object).
    Action,
    /// Objects.
    Object,
    /// Weather intensities.
    Intensity,
    /// Object attributes.
    Attribute,
    /// Numbers.
    Number,
    /// Fixed grammatical signs used by templates (WANT, NOT, WHERE, ...).
    Fixed,
    /// A gloss derived from a real caption.
    Caption,
}

/// One lexicon entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gloss {
    /// Gloss name, e.g. `RAIN` or `NEXT-WEEK`.
    pub name: String,
    /// Semantic class.
    pub class: Class,
    /// English surface forms (synonyms/paraphrases); the first is the main one.
    pub forms: Vec<String>,
    /// Articulatory parameters.
    pub params: SignParams,
    /// Minimal-pair partner (gloss index) and what distinguishes them.
    pub partner: Option<(usize, PairKind)>,
}

/// The built-in vocabulary: (class, `main|synonym|...` forms).
pub const VOCABULARY: &[(Class, &[&str])] = &[
    (
        Class::Time,
        &[
            "today",
            "tomorrow|the next day",
            "yesterday|the day before",
            "tonight|this night",
            "in the morning|early in the day",
            "in the evening",
            "in the afternoon",
            "on monday",
            "on tuesday",
            "on wednesday",
            "on thursday",
            "on friday",
            "on saturday",
            "on sunday",
            "at the weekend|over the weekend",
            "next week|in the coming week",
            "last week",
            "in spring",
            "in summer",
            "in autumn|in the fall",
            "in winter",
            "at noon|at midday",
        ],
    ),
    (
        Class::Weather,
        &[
            "rain|rainfall",
            "snow|snowfall",
            "sunshine|sun",
            "wind",
            "storm|gale",
            "fog|mist",
            "clouds",
            "thunder",
            "frost",
            "heat",
            "hail",
            "drizzle",
            "ice",
            "lightning",
            "showers",
            "breeze",
        ],
    ),
    (
        Class::Place,
        &[
            "north",
            "south",
            "east",
            "west",
            "coast|seaside",
            "mountains|alps",
            "city|town",
            "village",
            "school",
            "home|house",
            "park",
            "market",
            "station",
            "lake",
            "river",
            "forest|woods",
            "island",
            "valley",
            "airport",
            "hospital|clinic",
            "library",
            "harbor|port",
            "garden",
            "beach",
        ],
    ),
    (
        Class::Person,
        &[
            "my mother|mom",
            "my father|dad",
            "my friend|my buddy",
            "the teacher",
            "the doctor",
            "the child|the kid",
            "my brother",
            "my sister",
            "the neighbor",
            "grandmother|grandma",
            "grandfather|grandpa",
            "the boss",
            "the student",
            "the nurse",
            "the farmer",
            "the baker",
            "the pilot",
            "the driver",
            "my cousin",
            "my uncle",
        ],
    ),
    (
        Class::Action,
        &[
            "buy|purchase",
            "sell",
            "read",
            "write",
            "eat",
            "drink",
            "cook|prepare",
            "clean",
            "carry",
            "find",
            "lose",
            "repair|fix",
            "paint",
            "wash",
            "build",
            "open",
            "close|shut",
            "bring",
            "send",
            "borrow",
            "visit",
            "watch",
            "draw",
            "order",
        ],
    ),
    (
        Class::Object,
        &[
            "book",
            "car|automobile",
            "bread",
            "water",
            "coffee",
            "apple",
            "letter",
            "ticket",
            "house",
            "phone|telephone",
            "bicycle|bike",
            "table",
            "chair",
            "cake",
            "soup",
            "shirt",
            "key",
            "bag",
            "newspaper|paper",
            "computer",
            "picture|photo",
            "door",
            "window",
            "boat",
        ],
    ),
    (
        Class::Intensity,
        &[
            "strong|heavy",
            "weak|light",
            "mild",
            "severe",
            "cold|chilly",
            "warm",
            "extreme",
            "moderate",
        ],
    ),
    (
        Class::Attribute,
        &[
            "big|large",
            "small|little",
            "new",
            "old",
            "cheap",
            "expensive|costly",
            "red",
            "blue",
        ],
    ),
    (
        Class::Number,
        &[
            "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        ],
    ),
    (
        Class::Fixed,
        &[
            "want", "not", "where", "hour", "wait", "like", "need", "who", "must", "can",
        ],
    ),
];

/// A sentence template: English pattern with `{i}` placeholders for slots, the slots
/// (`T W L P A O I Q N` class letters or `=NAME` for a fixed sign), and the gloss order.
pub const TEMPLATES: &[(&str, &[&str], &[usize])] = &[
    (
        "{0}, there will be {1} {2} in the {3}",
        &["T", "I", "W", "L"],
        &[0, 3, 2, 1],
    ),
    (
        "in the {0} the {1} will be {2} {3}",
        &["L", "W", "I", "T"],
        &[3, 0, 1, 2],
    ),
    (
        "{0} is expected {1} in the {2}",
        &["W", "T", "L"],
        &[1, 2, 0],
    ),
    (
        "{0} will {1} the {2} {3}",
        &["P", "A", "O", "T"],
        &[3, 0, 2, 1],
    ),
    (
        "{0} {1} wants to {2} a {3} {4}",
        &["T", "P", "A", "Q", "O", "=WANT"],
        &[0, 1, 4, 3, 2, 5],
    ),
    (
        "{0} did not {1} the {2}",
        &["P", "A", "O", "=NOT"],
        &[0, 2, 1, 3],
    ),
    (
        "where did {0} {1} the {2}?",
        &["P", "A", "O", "=WHERE"],
        &[0, 2, 1, 3],
    ),
    (
        "{0} has to wait {1} hours at the {2}",
        &["P", "N", "L", "=HOUR", "=WAIT"],
        &[2, 0, 3, 1, 4],
    ),
    ("the {0} is {1}", &["O", "Q"], &[0, 1]),
    ("{0} likes the {1}", &["P", "L", "=LIKE"], &[0, 1, 2]),
    (
        "{0} and {1} {2} the {3} at the {4}",
        &["P", "P", "A", "O", "L"],
        &[4, 0, 1, 3, 2],
    ),
    ("{0} in the {1} {2}", &["W", "L", "T"], &[2, 1, 0]),
    (
        "{0} needs a {1} {2}",
        &["P", "O", "T", "=NEED"],
        &[2, 0, 1, 3],
    ),
    ("who will {0} the {1}?", &["A", "O", "=WHO"], &[1, 0, 2]),
    ("{0} the {1} will be {2}", &["T", "W", "I"], &[0, 1, 2]),
    (
        "{0} must {1} the {2} before {3}",
        &["P", "A", "O", "T", "=MUST"],
        &[3, 0, 2, 1, 4],
    ),
    (
        "{0} can {1} the {2} in the {3}",
        &["P", "A", "O", "L", "=CAN"],
        &[3, 0, 2, 1, 4],
    ),
    ("the {0} and the {1} are {2}", &["O", "O", "Q"], &[0, 1, 2]),
];

fn class_of_letter(l: &str) -> Option<Class> {
    Some(match l {
        "T" => Class::Time,
        "W" => Class::Weather,
        "L" => Class::Place,
        "P" => Class::Person,
        "A" => Class::Action,
        "O" => Class::Object,
        "I" => Class::Intensity,
        "Q" => Class::Attribute,
        "N" => Class::Number,
        _ => return None,
    })
}

/// Gloss name of an English form: the words upper-cased and joined with `-`, without a
/// leading article/preposition (`in the morning` -> `MORNING`, `my mother` -> `MOTHER`).
pub fn gloss_name(form: &str) -> String {
    const DROP: &[&str] = &["the", "my", "in", "on", "at", "over", "this", "a"];
    let words: Vec<&str> = form.split_whitespace().collect();
    let mut start = 0;
    while start + 1 < words.len() && DROP.contains(&words[start]) {
        start += 1;
    }
    words[start..].join("-").to_uppercase()
}

/// A set of glosses with parameters and minimal pairs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lexicon {
    /// Entries; a gloss is referred to by its index.
    pub glosses: Vec<Gloss>,
}

impl Lexicon {
    /// Index of a gloss by name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.glosses.iter().position(|g| g.name == name)
    }

    /// Builds a lexicon from (name, class, forms) entries in the given order, assigning
    /// parameters: in each class, positions 0-1 of every 6 form a handshape minimal pair,
    /// 2-3 a non-manual minimal pair, 4-5 are free. Free signs are unique in both the pose
    /// view and the RGB view; partners share everything but the one parameter.
    pub fn assign(entries: Vec<(String, Class, Vec<String>)>, rng: &mut Rng) -> Lexicon {
        let mut pose_seen: BTreeSet<[u8; 7]> = BTreeSet::new();
        let mut rgb_seen: BTreeSet<[u8; 8]> = BTreeSet::new();
        let mut family_seen: BTreeSet<[u8; 8]> = BTreeSet::new();
        let mut glosses: Vec<Gloss> = Vec::with_capacity(entries.len());
        let mut pos_in_class: std::collections::BTreeMap<Class, usize> = Default::default();
        for (name, class, forms) in entries {
            let pos = {
                let c = pos_in_class.entry(class).or_insert(0);
                *c += 1;
                *c - 1
            };
            let prev = glosses.len().checked_sub(1);
            let partner_of = match (pos % 6, prev) {
                (1, Some(p)) if glosses[p].class == class => Some((p, PairKind::Handshape)),
                (3, Some(p)) if glosses[p].class == class => Some((p, PairKind::NonManual)),
                _ => None,
            };
            let mut params = None;
            if let Some((p, kind)) = partner_of {
                let mut q = glosses[p].params;
                match kind {
                    PairKind::Handshape => {
                        q.handshape ^= 1;
                        if q.hands == Hands::Symmetric {
                            q.nondom_handshape = q.handshape;
                        }
                    }
                    PairKind::NonManual => {
                        q.nonmanual =
                            (q.nonmanual + 1 + rng.below(NUM_NONMANUALS as usize - 1) as u8)
                                % NUM_NONMANUALS
                    }
                }
                if !pose_seen.contains(&q.pose_view()) || kind == PairKind::NonManual {
                    if !rgb_seen.contains(&q.rgb_view()) || kind == PairKind::Handshape {
                        params = Some(q);
                    }
                }
            }
            let partner = if params.is_some() { partner_of } else { None };
            let params = match params {
                Some(q) => q,
                None => loop {
                    let q = SignParams::random(rng);
                    let family_view = {
                        let mut v = q.rgb_view();
                        v[7] = 0;
                        v
                    };
                    if !family_seen.contains(&family_view) && !pose_seen.contains(&q.pose_view()) {
                        break q;
                    }
                },
            };
            let mut fv = params.rgb_view();
            fv[7] = 0;
            family_seen.insert(fv);
            pose_seen.insert(params.pose_view());
            rgb_seen.insert(params.rgb_view());
            let idx = glosses.len();
            if let Some((p, kind)) = partner {
                glosses[p].partner = Some((idx, kind));
            }
            glosses.push(Gloss {
                name,
                class,
                forms,
                params,
                partner,
            });
        }
        Lexicon { glosses }
    }

    /// The built-in lexicon restricted to about `size` glosses (fixed signs always kept,
    /// every other class proportionally, at least 2 each), in a seed-dependent choice.
    pub fn builtin(size: usize, rng: &mut Rng) -> Lexicon {
        let total_open: usize = VOCABULARY
            .iter()
            .filter(|(c, _)| *c != Class::Fixed)
            .map(|(_, w)| w.len())
            .sum();
        let fixed = VOCABULARY
            .iter()
            .filter(|(c, _)| *c == Class::Fixed)
            .map(|(_, w)| w.len())
            .sum::<usize>();
        let budget = size.saturating_sub(fixed);
        let mut entries = Vec::new();
        for (class, words) in VOCABULARY {
            let mut order: Vec<usize> = (0..words.len()).collect();
            let take = if *class == Class::Fixed {
                words.len()
            } else {
                rng.shuffle(&mut order);
                ((budget * words.len() + total_open / 2) / total_open).clamp(2, words.len())
            };
            for &i in order.iter().take(take) {
                let forms: Vec<String> = words[i].split('|').map(str::to_string).collect();
                entries.push((gloss_name(&forms[0]), *class, forms));
            }
        }
        Lexicon::assign(entries, rng)
    }
}

/// A generated sentence: English text and gloss indices in signing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentenceSpec {
    /// English text.
    pub text: String,
    /// Gloss indices into the lexicon, in signing order.
    pub glosses: Vec<usize>,
}

/// One template instantiation: slot gloss indices and chosen surface-form index per slot.
fn instantiate(lex: &Lexicon, t: usize, rng: &mut Rng) -> Option<(Vec<usize>, Vec<usize>)> {
    let (_, slots, _) = TEMPLATES[t];
    let mut chosen: Vec<usize> = Vec::with_capacity(slots.len());
    let mut forms = Vec::with_capacity(slots.len());
    for s in slots.iter() {
        let g = if let Some(fixed) = s.strip_prefix('=') {
            lex.find(fixed)?
        } else {
            let class = class_of_letter(s)?;
            let cands: Vec<usize> = (0..lex.glosses.len())
                .filter(|&i| lex.glosses[i].class == class && !chosen.contains(&i))
                .collect();
            *rng.choose(&cands)?
        };
        forms.push(rng.below(lex.glosses[g].forms.len()));
        chosen.push(g);
    }
    Some((chosen, forms))
}

fn realise(lex: &Lexicon, t: usize, slots: &[usize], forms: &[usize]) -> SentenceSpec {
    let (pattern, _, order) = TEMPLATES[t];
    let mut text = pattern.to_string();
    for (i, (&g, &f)) in slots.iter().zip(forms).enumerate() {
        let gl = &lex.glosses[g];
        let form = gl.forms.get(f).unwrap_or(&gl.forms[0]);
        text = text.replace(&format!("{{{i}}}"), form);
    }
    SentenceSpec {
        text,
        glosses: order.iter().map(|&i| slots[i]).collect(),
    }
}

/// Generates `counts[k]` unique sentences for each split k from the built-in templates with
/// 2..=`max_len` glosses. Sentences are unique in text and in gloss sequence across all
/// splits. With probability `twin_prob` a sentence comes with a *minimal-pair twin* in the
/// same split: one gloss replaced by its partner (differing only in handshape or only in
/// the non-manual channel). Stops early (fewer sentences) if the grammar is exhausted.
pub fn generate_sentences(
    lex: &Lexicon,
    counts: [usize; 3],
    max_len: usize,
    twin_prob: f64,
    rng: &mut Rng,
) -> [Vec<SentenceSpec>; 3] {
    let usable: Vec<usize> = (0..TEMPLATES.len())
        .filter(|&t| TEMPLATES[t].2.len() <= max_len.max(2))
        .collect();
    let mut seen_text: BTreeSet<String> = BTreeSet::new();
    let mut seen_seq: BTreeSet<Vec<usize>> = BTreeSet::new();
    let mut out: [Vec<SentenceSpec>; 3] = Default::default();
    for (k, &want) in counts.iter().enumerate() {
        let mut failures = 0usize;
        while out[k].len() < want && failures < 20_000 {
            let Some(&t) = rng.choose(&usable) else { break };
            let Some((slots, forms)) = instantiate(lex, t, rng) else {
                failures += 1;
                continue;
            };
            let s = realise(lex, t, &slots, &forms);
            if seen_text.contains(&s.text) || seen_seq.contains(&s.glosses) {
                failures += 1;
                continue;
            }
            seen_text.insert(s.text.clone());
            seen_seq.insert(s.glosses.clone());
            out[k].push(s);
            if out[k].len() < want && rng.bernoulli(twin_prob) {
                let pairable: Vec<usize> = (0..slots.len())
                    .filter(|&i| {
                        lex.glosses[slots[i]].partner.is_some()
                            && lex.glosses[slots[i]].class != Class::Fixed
                    })
                    .collect();
                if let Some(&i) = rng.choose(&pairable) {
                    let mut slots2 = slots.clone();
                    let partner = lex.glosses[slots[i]]
                        .partner
                        .map(|p| p.0)
                        .unwrap_or(slots[i]);
                    if !slots2.contains(&partner) {
                        slots2[i] = partner;
                        let mut forms2 = forms.clone();
                        forms2[i] = 0;
                        let s2 = realise(lex, t, &slots2, &forms2);
                        if !seen_text.contains(&s2.text) && !seen_seq.contains(&s2.glosses) {
                            seen_text.insert(s2.text.clone());
                            seen_seq.insert(s2.glosses.clone());
                            out[k].push(s2);
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gloss_names() {
        assert_eq!(gloss_name("in the morning"), "MORNING");
        assert_eq!(gloss_name("my mother"), "MOTHER");
        assert_eq!(gloss_name("next week"), "NEXT-WEEK");
        assert_eq!(gloss_name("the"), "THE");
    }

    #[test]
    fn handshape_variants_differ_only_in_thumb() {
        for h in (0..NUM_HANDSHAPES).step_by(2) {
            let (a, sa) = handshape_flex(h);
            let (b, sb) = handshape_flex(h + 1);
            assert_eq!(sa, sb);
            assert_eq!(a[1..], b[1..]);
            assert!((a[0] - b[0]).abs() > 0.5);
        }
    }

    #[test]
    fn builtin_lexicon_pairs_and_uniqueness() {
        let lex = Lexicon::builtin(1000, &mut Rng::new(1));
        let n_vocab: usize = VOCABULARY.iter().map(|(_, w)| w.len()).sum();
        assert_eq!(lex.glosses.len(), n_vocab);
        let names: BTreeSet<&str> = lex.glosses.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names.len(), n_vocab, "gloss names must be unique");
        let mut hs = 0;
        let mut nm = 0;
        for (i, g) in lex.glosses.iter().enumerate() {
            if let Some((p, kind)) = g.partner {
                let o = &lex.glosses[p];
                assert_eq!(o.partner.map(|x| x.0), Some(i));
                match kind {
                    PairKind::Handshape => {
                        hs += 1;
                        assert_ne!(g.params.pose_view(), o.params.pose_view());
                        assert_eq!(g.params.rgb_view(), o.params.rgb_view());
                    }
                    PairKind::NonManual => {
                        nm += 1;
                        assert_eq!(g.params.pose_view(), o.params.pose_view());
                        assert_ne!(g.params.rgb_view(), o.params.rgb_view());
                    }
                }
            }
        }
        assert!(hs >= 20 && nm >= 20, "hs {hs} nm {nm}");
        let tiny = Lexicon::builtin(48, &mut Rng::new(1));
        assert!(
            (40..=60).contains(&tiny.glosses.len()),
            "{}",
            tiny.glosses.len()
        );
    }

    #[test]
    fn sentences_are_unique_and_text_differs_from_glosses() {
        let lex = Lexicon::builtin(48, &mut Rng::new(2));
        let s = generate_sentences(&lex, [120, 40, 40], 4, 0.35, &mut Rng::new(3));
        assert_eq!(s[0].len(), 120);
        assert_eq!(s[2].len(), 40);
        let all: Vec<&SentenceSpec> = s.iter().flatten().collect();
        let texts: BTreeSet<&str> = all.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(texts.len(), all.len());
        assert!(all.iter().all(|x| (2..=4).contains(&x.glosses.len())));
    }
}
