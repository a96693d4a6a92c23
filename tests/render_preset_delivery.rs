//! `mixfarm render` delivers a scene's preset the way `master` delivers it: the preset's
//! `sample_rate_hz` and `bits` shape the file (`cd`: 44.1 kHz / 16-bit from a 48 kHz mix),
//! `bwf` adds a `bext` chunk whose LoudnessValue matches ebur128 on the written file
//! (`broadcast`), and a scene's own `[output]` settings win over the preset's.

mod common;

use std::path::Path;
use std::process::Command;

use common::{music_like, read_wav, tempdir, write_f32};
use mixfarm::audio::bext::LOUDNESS_OFFSET;

const RATE: u32 = 48_000;

/// Renders a one-track scene (a 4 s stereo stem at 48 kHz) whose `[master]` and `[output]`
/// sections are `master` and `output`; returns the output file.
fn render(dir: &Path, name: &str, master: &str, output: &str) -> std::path::PathBuf {
    let n = 4 * RATE as usize;
    let l: Vec<f32> = music_like(n, RATE, 3).iter().map(|x| x * 0.3).collect();
    let r: Vec<f32> = music_like(n, RATE, 4).iter().map(|x| x * 0.3).collect();
    write_f32(&dir.join("stem.wav"), &[l, r], RATE);
    let scene = dir.join(format!("{name}.toml"));
    let text = format!(
        "sample_rate = {RATE}\n[output]\nfile = \"{name}.wav\"\n{output}\n[master]\n{master}\n\
         [[track]]\nname = \"mix\"\nfile = \"stem.wav\"\n"
    );
    std::fs::write(&scene, text).unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args([
            "render",
            scene.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--backend", "cpu"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out.join(format!("{name}.wav"))
}

/// The body of the first RIFF chunk `id` in `bytes`.
fn chunk<'a>(bytes: &'a [u8], id: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if &bytes[at..at + 4] == id {
            return bytes.get(at + 8..at + 8 + size);
        }
        at += 8 + size + size % 2;
    }
    None
}

#[test]
fn the_cd_preset_delivers_44_1_khz_16_bit() {
    let t = tempdir();
    let wav = render(t.path(), "cd", "preset = \"cd\"", "");
    let (x, spec) = read_wav(&wav);
    assert_eq!((spec.sample_rate, spec.bits_per_sample), (44_100, 16));
    // 4 s at the delivery rate (the converter keeps the length, ±1 frame)
    assert!(
        x[0].len().abs_diff(4 * 44_100) <= 1,
        "{} frames",
        x[0].len()
    );
    assert!(chunk(&std::fs::read(&wav).unwrap(), b"bext").is_none());
}

#[test]
fn a_scenes_output_settings_win_over_the_preset() {
    let t = tempdir();
    let wav = render(
        t.path(),
        "own",
        "preset = \"cd\"",
        "format = \"wav24\"\nsample_rate_hz = 48000",
    );
    let (_, spec) = read_wav(&wav);
    assert_eq!((spec.sample_rate, spec.bits_per_sample), (48_000, 24));
}

#[test]
fn the_broadcast_preset_writes_a_bext_chunk_with_the_files_loudness() {
    let t = tempdir();
    let wav = render(t.path(), "bc", "preset = \"broadcast\"", "");
    let bytes = std::fs::read(&wav).unwrap();
    let bext = chunk(&bytes, b"bext").expect("a bext chunk");
    let lv = i16::from_le_bytes(
        bext[LOUDNESS_OFFSET..LOUDNESS_OFFSET + 2]
            .try_into()
            .unwrap(),
    );
    let (x, spec) = read_wav(&wav);
    assert_eq!((spec.sample_rate, spec.bits_per_sample), (48_000, 24));
    let mut m = ebur128::EbuR128::new(2, spec.sample_rate, ebur128::Mode::I).unwrap();
    m.add_frames_planar_f32(&[&x[0], &x[1]]).unwrap();
    let lufs = m.loudness_global().unwrap();
    println!("bext LoudnessValue {lv} (LU × 100), ebur128 {lufs:.2} LUFS");
    assert!(
        (f64::from(lv) / 100.0 - lufs).abs() <= 0.02,
        "{lv} vs {lufs}"
    );
    assert!(
        (lufs + 23.0).abs() < 0.1,
        "broadcast target −23 LUFS: {lufs}"
    );
}
