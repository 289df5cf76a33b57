//! End-to-end: reports from a database filled by real tiny runs, the `data` commands on
//! SynthSign, and training through `seds-lab run` on a How2Sign-layout directory.

mod common;
use common::*;
use std::path::Path;

/// Every `src="..."` / `href="..."` target in the HTML.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(j) = rest.find('"') {
                out.push(rest[..j].to_string());
                rest = &rest[j..];
            }
        }
    }
    out
}

fn assert_png_nontrivial(path: &Path) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(
        info.width > 100 && info.height > 100,
        "{} is {}x{}",
        path.display(),
        info.width,
        info.height
    );
    let px = &buf[..info.buffer_size()];
    let distinct: std::collections::BTreeSet<&[u8]> =
        px.chunks(info.color_type.samples()).take(200_000).collect();
    assert!(
        distinct.len() >= 4,
        "{} has only {} colours",
        path.display(),
        distinct.len()
    );
}

#[test]
fn report_from_real_runs_has_every_file_and_the_database_numbers() {
    let dir = scratch("report");
    write_experiment(
        &dir,
        r#"
name = "report-test"
seeds = [1, 2]
reference = "dual"
[train]
epochs = 1
[[variant]]
name = "dual"
[[variant]]
name = "rgb-only"
"model.streams" = "rgb"
"model.fusion" = "none"
"#,
    );
    seds_expect(&dir, &["run", "exp.toml", "--report"], 0);
    let out = dir.join("reports/report-test");
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html written");
    // Well-formed enough: balanced main tags, and every link resolves to a file.
    for tag in ["html", "body", "table"] {
        assert_eq!(
            html.matches(&format!("<{tag}")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}> balance"
        );
    }
    let targets = links(&html);
    assert!(
        targets.iter().filter(|t| t.ends_with(".png")).count() >= 5,
        "{targets:?}"
    );
    for t in &targets {
        assert!(!t.starts_with("http"), "external link {t}");
        if t.starts_with('#') {
            continue;
        }
        let p = if Path::new(t).is_absolute() {
            Path::new(t).to_path_buf()
        } else {
            out.join(t)
        };
        assert!(p.exists(), "link target {t} missing");
    }
    for name in [
        "overview_r1",
        "similarity",
        "cgaf_sampling",
        "example_1",
        "curves_dual",
    ] {
        assert_png_nontrivial(&out.join(format!("{name}.png")));
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<text"), "{name}.svg");
    }
    // The results table shows mean ± sample std over seeds of what the database holds.
    for cell in ["dual", "rgb-only"] {
        let rows = query(
            &dir,
            &format!(
                "SELECT f.value FROM metric_finals f JOIN runs r ON r.id = f.run_id WHERE r.cell = '{cell}' AND f.split = 'test' AND f.name = 't2v_r1'"
            ),
        );
        let v: Vec<f64> = rows.iter().map(|r| r["value"].as_f64().unwrap()).collect();
        assert_eq!(v.len(), 2, "{rows:?}");
        let mean = (v[0] + v[1]) / 2.0;
        let std = ((v[0] - mean).powi(2) + (v[1] - mean).powi(2)).sqrt();
        let expected = format!("{mean:.1} ± {std:.1}");
        assert!(
            html.contains(&expected),
            "table lacks {expected} for {cell}"
        );
    }
    // "What fusion adds": only the dual cell, with the mean over seeds of its pose stream's
    // test R@1 as recorded in the database.
    let pose = query(
        &dir,
        "SELECT AVG(f.value) AS v FROM metric_finals f JOIN runs r ON r.id = f.run_id WHERE r.cell = 'dual' AND f.split = 'test_pose' AND f.name = 't2v_r1'",
    );
    let pose = pose[0]["v"]
        .as_f64()
        .expect("dual runs record test_pose metrics");
    let streams = html
        .split("<table class=\"streams\">")
        .nth(1)
        .expect("streams table present")
        .split("</table>")
        .next()
        .unwrap();
    assert!(
        streams.contains(">dual<") && !streams.contains("rgb-only"),
        "{streams}"
    );
    assert!(
        streams.contains(&format!("<td>{pose:.1}</td>")),
        "{streams}"
    );
    // tables.md carries the same numbers as Markdown.
    let md = std::fs::read_to_string(out.join("tables.md")).expect("tables.md written");
    let dual_row = md
        .lines()
        .find(|l| l.starts_with("| dual | 2/2 | "))
        .unwrap_or_else(|| panic!("no results row for dual in\n{md}"));
    assert!(dual_row.contains(" ± "), "{dual_row}");
    assert!(
        md.lines()
            .any(|l| l.starts_with("| dual | 2 | ") && l.contains(&format!(" | {pose:.1} | "))),
        "streams row with the pose stream's R@1 {pose:.1}:\n{md}"
    );
    assert!(md.contains("### Uncertainty"), "{md}");
}

#[test]
fn data_synth_stats_and_show_draw_a_signer() {
    let dir = scratch("data");
    seds_expect(
        &dir,
        &[
            "data", "synth", "--preset", "tiny", "--seed", "3", "--out", "cache",
        ],
        0,
    );
    let ds_dir = std::fs::read_dir(dir.join("cache"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let o = seds_expect(
        &dir,
        &[
            "data",
            "stats",
            ds_dir.to_str().unwrap(),
            "--format",
            "json",
        ],
        0,
    );
    let stats: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(stats.to_string().contains("vocab"), "{stats}");
    // SynthSign names videos `<split>-<sentence>-t<take>`.
    seds_expect(
        &dir,
        &[
            "data",
            "show",
            ds_dir.to_str().unwrap(),
            "test-00000-t0",
            "--out",
            "strip.png",
            "--frames",
            "6",
        ],
        0,
    );
    assert_png_nontrivial(&dir.join("strip.png"));
    // An unknown video is a data error, not a panic.
    seds_expect(
        &dir,
        &[
            "data",
            "show",
            ds_dir.to_str().unwrap(),
            "nope",
            "--out",
            "x.png",
        ],
        7,
    );
}

#[test]
fn how2sign_layout_dataset_trains_one_epoch_through_run_and_passes_check() {
    let dir = scratch("how2sign");
    let root = dir.join("h2s");
    seds_data::write_how2sign_fixture(&root, 12, 2, 40).expect("fixture written");
    seds_expect(
        &dir,
        &[
            "data",
            "check",
            root.to_str().unwrap(),
            "--source",
            "how2sign",
        ],
        0,
    );
    std::fs::write(
        dir.join("h2s.toml"),
        format!(
            r#"
name = "how2sign-fixture"
seeds = [1]
[data]
source = "how2sign"
root = "{}"
cache_dir = "cache"
[model]
size = "tiny"
[train]
epochs = 1
batch_size = 8
"#,
            root.display()
        ),
    )
    .unwrap();
    seds_expect(&dir, &["run", "h2s.toml"], 0);
    let rows = query(
        &dir,
        "SELECT COUNT(*) AS n FROM metrics WHERE split = 'test' AND name = 't2v_r1'",
    );
    assert_eq!(rows[0]["n"], 1);
    // `data show` draws the raw OpenPose frames of a real video.
    let video = std::fs::read_dir(root.join("openpose"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    seds_expect(
        &dir,
        &[
            "data",
            "show",
            root.to_str().unwrap(),
            video.to_str().unwrap(),
            "--source",
            "how2sign",
            "--out",
            "real.png",
        ],
        0,
    );
    assert_png_nontrivial(&dir.join("real.png"));
    // A broken copy: one feature file removed is reported per video with exit code 7.
    let feats = root.join("features");
    let victim = std::fs::read_dir(&feats)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&victim).unwrap();
    let o = seds_expect(
        &dir,
        &[
            "data",
            "check",
            root.to_str().unwrap(),
            "--source",
            "how2sign",
            "--format",
            "json",
        ],
        7,
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report.to_string().contains("missing-features"), "{report}");
}
