//! Robustness properties: truncated and bit-flipped inputs of every format return Ok or Err
//! and never panic. The fast variants run in CI; `fuzz_long` is ignored and takes its
//! iteration count from `SEDS_FUZZ_ITERS` (default 100 000).

use std::path::PathBuf;

use seds_core::Rng;
use seds_formats::annotations::{
    parse_caption_tsv, parse_csl_split, parse_how2sign_tsv, parse_phoenix_corpus,
};
use seds_formats::layout::pose_to_seds;
use seds_formats::npy::{encode_npy_f32, parse_npy, parse_npz};
use seds_formats::openpose::parse_openpose_frame;
use seds_formats::PoseFile;

const FIXTURES: [&str; 4] = [
    "openpose_v0_0.pose",
    "openpose137_v0_1.pose",
    "mediapipe_v0_1.pose",
    "hand_v0_2.pose",
];

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pose-fixtures");
    if !d.is_dir() {
        eprintln!("SKIP: pose fixtures not found at {}", d.display());
        return Vec::new();
    }
    FIXTURES
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(d.join(f)).expect("fixture readable"),
            )
        })
        .collect()
}

/// Small valid inputs of the other formats (name, bytes, parser id).
fn other_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let npy = encode_npy_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.]).expect("npy");
    let npz = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, method) in [
            ("a.npy", zip::CompressionMethod::Stored),
            ("b.npy", zip::CompressionMethod::Deflated),
        ] {
            let opt = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(name, opt).expect("start");
            w.write_all(&npy).expect("write");
        }
        w.finish().expect("finish").into_inner()
    };
    let json = format!(
        r#"{{"version":1.3,"people":[{{"person_id":[-1],"pose_keypoints_2d":[{}],"face_keypoints_2d":[],"hand_left_keypoints_2d":[],"hand_right_keypoints_2d":[]}}]}}"#,
        vec!["1.5"; 75].join(",")
    )
    .into_bytes();
    vec![
        ("npy", npy),
        ("npz", npz),
        ("json", json),
        ("how2sign", b"VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n-a\t-a-1-rgb_front\t-a_0\t-a_0-1-rgb_front\t0.5\t1\tHi, \"you\"\n".to_vec()),
        ("phoenix", b"name|video|start|end|speaker|orth|translation\nn|n/1/*.png|-1|-1|Signer01|A B|a b\n".to_vec()),
        ("csl", b"name|split\nS000001_P0001_T00|dev\n".to_vec()),
        ("caption", b"sentence_id\tvideo_name\tnum_frames\ttext_en\ttext_orig\ns\tv\t3\thi\thallo\n".to_vec()),
    ]
}

/// Runs the parser of `kind` on `bytes`; only panics can fail the test.
fn parse_any(kind: &str, bytes: &[u8]) -> bool {
    match kind {
        "npy" => parse_npy(bytes, "f").is_ok(),
        "npz" => parse_npz(bytes, "f").is_ok(),
        _ => {
            let text = String::from_utf8_lossy(bytes);
            match kind {
                "json" => parse_openpose_frame(&text, "f").is_ok(),
                "how2sign" => parse_how2sign_tsv(&text, "f").is_ok(),
                "phoenix" => parse_phoenix_corpus(&text, "f").is_ok(),
                "csl" => parse_csl_split(&text, "f").is_ok(),
                "caption" => parse_caption_tsv(&text, "f").is_ok(),
                _ => parse_pose(bytes),
            }
        }
    }
}

fn parse_pose(bytes: &[u8]) -> bool {
    match PoseFile::from_bytes(bytes, "f.pose") {
        Ok(p) => {
            // Whatever decodes must also map (or refuse) without panicking.
            let _ = pose_to_seds(&p, 0, "f.pose");
            true
        }
        Err(e) => {
            // Every error names the file.
            assert!(e.to_string().starts_with("f.pose"), "{e}");
            false
        }
    }
}

fn flip(rng: &mut Rng, bytes: &[u8], header_bias: usize) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let flips = 1 + rng.below(4);
    for _ in 0..flips {
        // Half the flips land in the header region where counts live.
        let limit = if rng.bernoulli(0.5) {
            header_bias.min(v.len())
        } else {
            v.len()
        };
        if limit == 0 {
            break;
        }
        let i = rng.below(limit);
        v[i] ^= 1 << rng.below(8);
    }
    v
}

#[test]
fn truncated_pose_fixtures_never_panic() {
    let mut rng = Rng::new(7);
    for (name, bytes) in fixtures() {
        let full = PoseFile::from_bytes(&bytes, "f.pose").expect("fixture decodes");
        // Every offset in the first 2 KiB (all of most headers) plus 300 random offsets.
        let mut cuts: Vec<usize> = (0..bytes.len().min(2048)).collect();
        cuts.extend((0..300).map(|_| rng.below(bytes.len())));
        for cut in cuts {
            let ok = parse_pose(&bytes[..cut]);
            assert!(!ok, "{name}: prefix of {cut} bytes must not decode");
        }
        assert!(parse_pose(&bytes), "{name}: full file decodes");
        assert!(full.frames() > 0);
    }
}

#[test]
fn flipped_pose_fixtures_never_panic() {
    let mut rng = Rng::new(11);
    for (_, bytes) in fixtures() {
        for _ in 0..150 {
            let v = flip(&mut rng, &bytes, 3000);
            parse_pose(&v);
        }
    }
}

#[test]
fn truncated_and_flipped_small_formats_never_panic() {
    let mut rng = Rng::new(13);
    for (kind, bytes) in other_inputs() {
        assert!(parse_any(kind, &bytes), "{kind}: valid input decodes");
        for cut in 0..bytes.len() {
            let ok = parse_any(kind, &bytes[..cut]);
            if matches!(kind, "npy" | "npz") {
                assert!(!ok, "{kind}: prefix of {cut} bytes must not decode");
            }
        }
        for _ in 0..300 {
            let v = flip(&mut rng, &bytes, 128);
            parse_any(kind, &v);
        }
    }
}

#[test]
#[ignore = "long fuzz run; set SEDS_FUZZ_ITERS"]
fn fuzz_long() {
    let iters: usize = std::env::var("SEDS_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seed: u64 = std::env::var("SEDS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut rng = Rng::new(seed);
    let mut inputs: Vec<(String, Vec<u8>)> = fixtures();
    for (k, b) in other_inputs() {
        inputs.push((k.to_string(), b));
    }
    let mut decoded = 0usize;
    for i in 0..iters {
        let (kind, bytes) = &inputs[rng.below(inputs.len())];
        let kind = if kind.ends_with(".pose") {
            "pose"
        } else {
            kind.as_str()
        };
        let mut v = flip(&mut rng, bytes, 3000);
        if rng.bernoulli(0.3) {
            let cut = rng.below(v.len() + 1);
            v.truncate(cut);
        }
        if parse_any(kind, &v) {
            decoded += 1;
        }
        if i % 10_000 == 0 {
            eprintln!("fuzz: {i}/{iters} iterations, {decoded} mutated inputs still decoded");
        }
    }
    eprintln!("fuzz done: {iters} iterations, {decoded} decoded, no panic");
}
