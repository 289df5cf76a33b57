//! Runs the Python converter's tests (framework/formats/tests/convert_test.py) and reads the
//! converted sample back with the Rust readers. Skipped with a message when python3 or numpy
//! is missing.

use std::path::PathBuf;
use std::process::Command;

use seds_formats::npy::{read_i3d_features, read_wholebody_keypoints};
use seds_formats::read_caption_tsv;

fn python_with_numpy() -> bool {
    match Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
    {
        Ok(o) if o.status.success() => true,
        Ok(_) => {
            eprintln!("SKIP: numpy is not installed for python3 (pip install numpy)");
            false
        }
        Err(e) => {
            eprintln!("SKIP: python3 not runnable: {e}");
            false
        }
    }
}

#[test]
fn python_converter_tests_and_rust_readback() {
    if !python_with_numpy() {
        return;
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let keep = std::env::temp_dir().join(format!("seds-formats-{}-convert", std::process::id()));
    let _ = std::fs::remove_dir_all(&keep);
    let out = Command::new("python3")
        .arg(manifest.join("tests/convert_test.py"))
        .arg("--keep")
        .arg(&keep)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "convert_test.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for t in [
        "test_converts_all_protocols",
        "test_refuses_malicious_pickles",
    ] {
        assert!(
            stdout.contains(&format!("ok {t}")),
            "{t} did not run:\n{stdout}"
        );
    }
    let kp = read_wholebody_keypoints(keep.join("out/pose/sub/clip-1.npy")).expect("keypoints");
    assert_eq!(kp.shape, vec![2, 133, 3]);
    for (i, v) in kp.data.iter().enumerate() {
        let (t, p, k) = (i / 399, (i / 3) % 133, i % 3);
        assert_eq!(*v, (1000 * t + 3 * p + k) as f32, "keypoint {t},{p},{k}");
    }
    let ft = read_i3d_features(keep.join("out/rgb/clip-1.npy")).expect("features");
    assert_eq!(ft.shape, vec![3, 1024]);
    assert_eq!(ft.data[2 * 1024 + 512], 2.5);
    let caps = read_caption_tsv(keep.join("out/captions/test.tsv")).expect("captions");
    assert_eq!(caps.len(), 3);
    assert_eq!(caps[0].video_name, "-h2s_0-1-rgb_front");
    assert_eq!(caps[0].text_en, "Hi, \"you\"");
    assert_eq!(caps[2].num_frames, 4);
    let _ = std::fs::remove_dir_all(&keep);
}
