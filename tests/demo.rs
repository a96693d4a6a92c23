//! The demo album end to end on the CPU path: every song lands on its loudness target
//! (±0.1 LU, measured from the written file by `mixfarm analyze`'s code and, when ffmpeg is
//! installed, by ffmpeg's ebur128 filter), its true peak stays under the ceiling, and the
//! demo uses the toolbox (EQ, compression, reverb, delay, multiband, limiter).

mod common;

use mixfarm::render::{render_batch, Backend, RenderOptions};
use std::path::Path;
use std::process::Command;

const TARGET_LUFS: f64 = -14.0;
const CEILING_DBTP: f64 = -1.0;
/// The tolerance on the target.
const TARGET_TOLERANCE_LU: f64 = 0.1;
/// 24-bit TPDF dither may lift the true peak by a few LSBs over the float signal's.
const DITHER_PEAK_SLACK_DB: f64 = 0.001;

fn ffmpeg_integrated(path: &Path) -> Option<f64> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128", "-f", "null", "-"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = &text[text.rfind("Summary:")?..];
    summary
        .lines()
        .find(|l| l.trim_start().starts_with("I:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn demo_album_lands_on_target() {
    let album = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/demo/album.toml");
    let text = std::fs::read_to_string(album.with_file_name("01-first-light.toml")).unwrap();
    for op in [
        "\"eq\"",
        "\"compressor\"",
        "\"reverb\"",
        "\"delay\"",
        "preset = \"streaming\"",
    ] {
        assert!(text.contains(op), "the demo should use {op}");
    }
    let dir = tempfile::tempdir().unwrap();
    let r = render_batch(
        &[album],
        &RenderOptions {
            out_dir: dir.path().to_path_buf(),
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(
        r.exit_code(),
        0,
        "{:#?}",
        r.songs.iter().map(|s| &s.error).collect::<Vec<_>>()
    );
    assert_eq!(r.songs.len(), 3);
    let have_ffmpeg = Command::new("ffmpeg").arg("-version").output().is_ok();
    for s in &r.songs {
        let out = s.output.as_ref().unwrap();
        let a = mixfarm::analyze::analyze_file(out).unwrap();
        let lufs = a.integrated_lufs.unwrap();
        println!(
            "{}: {lufs:.3} LUFS, {:.3} dBTP, LRA {:?}, limiter GR {:?} dB",
            s.title,
            a.true_peak_dbtp,
            a.loudness_range_lu,
            s.normalisation.and_then(|n| n.limiter_reduction_db)
        );
        assert!(
            (lufs - TARGET_LUFS).abs() <= TARGET_TOLERANCE_LU,
            "{}: {lufs} LUFS",
            s.title
        );
        assert!(
            a.true_peak_dbtp <= CEILING_DBTP + DITHER_PEAK_SLACK_DB,
            "{}: {} dBTP",
            s.title,
            a.true_peak_dbtp
        );
        if have_ffmpeg {
            let theirs = ffmpeg_integrated(out).unwrap();
            println!("  ffmpeg ebur128: {theirs:.1} LUFS");
            // ffmpeg prints one decimal
            assert!(
                (theirs - TARGET_LUFS).abs() <= TARGET_TOLERANCE_LU + 0.05,
                "{}: ffmpeg {theirs}",
                s.title
            );
            assert!((theirs - lufs).abs() <= 0.1 + 0.05);
        }
    }
}
