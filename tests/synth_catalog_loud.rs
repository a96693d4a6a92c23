//! `mixfarm synth-catalog --loud` (the peers comparison's catalog, issue 15): every song is
//! dense and loud like a finished master — integrated loudness above −12 LUFS, sample peak
//! under 0 dBFS — where the default catalog leaves songs at their own, quieter levels.

use std::process::Command;

fn synth(dir: &std::path::Path, loud: bool) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mixfarm"));
    c.args(["synth-catalog"]).arg(dir).args([
        "--albums",
        "1",
        "--songs-per-album",
        "3",
        "--seconds",
        "6",
    ]);
    if loud {
        c.arg("--loud");
    }
    let out = c.output().expect("runs mixfarm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Integrated loudness (ebur128, the library the project checks its meters against) and
/// sample peak of a 24-bit WAV.
fn measure(path: &std::path::Path) -> (f64, f64) {
    let mut r = hound::WavReader::open(path).expect("wav");
    let x: Vec<f32> = r
        .samples::<i32>()
        .map(|s| s.unwrap() as f32 / 8_388_608.0)
        .collect();
    let mut m = ebur128::EbuR128::new(2, 44_100, ebur128::Mode::I).unwrap();
    m.add_frames_f32(&x).unwrap();
    let peak = x.iter().fold(0.0f32, |p, v| p.max(v.abs()));
    (m.loudness_global().unwrap(), 20.0 * f64::from(peak).log10())
}

#[test]
fn loud_catalog_songs_are_dense_and_loud() {
    let t = tempfile::tempdir().unwrap();
    let (quiet, loud) = (t.path().join("quiet"), t.path().join("loud"));
    synth(&quiet, false);
    synth(&loud, true);
    for k in 1..=3 {
        let file = format!("Harbour Lights/0{k} Song {k}.wav");
        let (iq, _) = measure(&quiet.join(&file));
        let (il, pl) = measure(&loud.join(&file));
        println!("song {k}: default {iq:.2} LUFS; --loud {il:.2} LUFS, peak {pl:.2} dBFS");
        assert!(il > -12.0, "song {k}: {il} LUFS is not loud");
        assert!(pl < 0.0, "song {k}: peak {pl} dBFS");
        assert!(
            il > iq + 3.0,
            "song {k}: --loud is not louder than the default"
        );
    }
}
