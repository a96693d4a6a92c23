//! Measures our FLAC writer (`encode_flac`: libFLAC at level 5) on one 16- or 24-bit WAV
//! against the `flac` program at `-5 --no-padding`, our file decoded back and checked
//! (`verify_flac`). Usage: `cargo run --release --example flac_size -- song.wav...`.
//! Figures go to benches/RESULTS.md.

use std::process::Command;

use mixfarm::audio::flac::{encode_flac, verify_flac};
use mixfarm::audio::pcm::Pcm;

/// Size of `flac -5 --no-padding` on `path`, if the program runs.
fn reference(path: &str) -> Option<u64> {
    let out = std::env::temp_dir().join(format!("flac_size_{}.flac", std::process::id()));
    let st = Command::new("flac")
        .args(["-5", "--no-padding", "-s", "-f", "-o"])
        .arg(&out)
        .arg(path)
        .status()
        .ok()?;
    let n = st
        .success()
        .then(|| std::fs::metadata(&out).ok().map(|m| m.len()));
    let _ = std::fs::remove_file(&out);
    n.flatten()
}

fn main() {
    for path in std::env::args().skip(1) {
        let mut r = hound::WavReader::open(&path).unwrap();
        let spec = r.spec();
        let samples: Vec<i32> = r.samples::<i32>().map(Result::unwrap).collect();
        let pcm = Pcm::Int {
            bits: u32::from(spec.bits_per_sample),
            channels: usize::from(spec.channels),
            samples,
        };
        let raw = pcm.frames() * usize::from(spec.channels) * usize::from(spec.bits_per_sample) / 8;
        let t0 = std::time::Instant::now();
        let bytes = encode_flac(&pcm, spec.sample_rate).unwrap();
        let enc_s = t0.elapsed().as_secs_f64();
        verify_flac(&bytes, &pcm, spec.sample_rate).unwrap();
        let ours = bytes.len() as u64;
        print!(
            "{path}: {} Hz {} bits {} frames, raw {raw} B; ours {ours} B ({:.2} % of raw, \
             {enc_s:.2} s with libFLAC's verify)",
            spec.sample_rate,
            spec.bits_per_sample,
            pcm.frames(),
            100.0 * ours as f64 / raw as f64
        );
        match reference(&path) {
            Some(f) => println!(
                "; flac -5 {f} B; ours {:+.3} %",
                100.0 * (ours as f64 / f as f64 - 1.0)
            ),
            None => println!("; `flac` program not found"),
        }
    }
}
