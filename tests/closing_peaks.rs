//! The closing reports its output's true peak exactly as the true-peak meter reads the
//! finished audio (`ops::oversample`), whether the pass measured it after the limiter or
//! took it from the limiter's own detector (when the limiter reduced nothing and no fade
//! followed, its input is its output). Checked against the meter run on the closed audio,
//! with a limiter that stays idle, one that works, and one followed by fades.

mod common;

use common::music_like;
use mixfarm::engine::{close_group, Fades, Group, Member};
use mixfarm::loudness::{self, curves};
use mixfarm::ops::limiter::Limiter;
use mixfarm::ops::oversample;

const RATE: u32 = 44_100;

fn close(
    audio: &Vec<Vec<f32>>,
    limiter: &Limiter,
    target: f64,
    fades: Fades,
) -> mixfarm::engine::Closed {
    let member = Member {
        audio,
        chain: None,
        rate: RATE,
        limiter: Some(limiter),
        offset_db: 0.0,
        fades,
        measured: None,
        curves: true,
    };
    let group = Group {
        members: vec![member],
        target_lufs: Some(target),
        ceiling_dbtp: -1.0,
    };
    let mut out = close_group(group).expect("closes");
    out.songs.remove(0)
}

#[test]
fn the_output_true_peak_is_the_meters_reading_of_the_finished_audio() {
    let frames = 3 * RATE as usize;
    let audio = vec![
        music_like(frames, RATE, 11)
            .iter()
            .map(|v| v * 0.2)
            .collect::<Vec<f32>>(),
        music_like(frames, RATE, 12)
            .iter()
            .map(|v| v * 0.2)
            .collect(),
    ];
    let limiter = Limiter::new(-1.0, 100.0, (0.005 * f64::from(RATE)) as u32, RATE);
    let l0 = loudness::integrated(&audio, RATE).unwrap().unwrap();
    let tp0 = loudness::true_peak_dbtp(&audio);
    let fades = Fades::from_seconds(0.5, 1.0, RATE);
    eprintln!("input: {l0:.2} LUFS, {tp0:.2} dBTP");
    for (what, target, fades) in [
        (
            "idle limiter",
            l0 + (-3.0 - tp0).min(0.0) - 1.0,
            Fades::default(),
        ),
        ("working limiter", l0 + 1.0 - tp0, Fades::default()),
        ("idle limiter, fades", l0 - 3.0 - tp0.max(0.0), fades),
    ] {
        let c = close(&audio, &limiter, target, fades);
        let gr = c.limiter_reduction_db.unwrap();
        let tp = loudness::true_peak_dbtp(&c.audio);
        let hop = curves::hop_frames(frames, RATE);
        let per_hop = oversample::shared().true_peak_per_hop(&c.audio, hop);
        let want: Vec<Option<f32>> = per_hop
            .iter()
            .map(|&v| curves::round_db(Some(20.0 * f64::from(v).log10())))
            .collect();
        eprintln!(
            "{what}: gain {:.3} dB, reduction {gr:.3} dB, output true peak {:.6} dBTP, meter {tp:.6} dBTP",
            c.gain_db, c.output.true_peak_dbtp
        );
        assert_eq!(c.output.true_peak_dbtp, tp, "{what}");
        assert_eq!(c.curves.unwrap().true_peak_dbtp, want, "{what}");
        assert_eq!(
            gr == 0.0,
            what.starts_with("idle"),
            "{what}: reduction {gr}"
        );
    }
}

#[test]
fn a_master_holding_a_non_finite_sample_fails_its_closing() {
    let frames = RATE as usize;
    let mut audio = vec![music_like(frames, RATE, 21), music_like(frames, RATE, 22)];
    audio[1][frames / 2] = f32::NAN;
    let limiter = Limiter::new(-1.0, 100.0, (0.005 * f64::from(RATE)) as u32, RATE);
    let member = Member {
        audio: &audio,
        chain: None,
        rate: RATE,
        limiter: Some(&limiter),
        offset_db: 0.0,
        fades: Fades::default(),
        measured: None,
        curves: false,
    };
    let group = Group {
        members: vec![member],
        target_lufs: Some(-14.0),
        ceiling_dbtp: -1.0,
    };
    let err = close_group(group).expect_err("a NaN cannot be closed");
    eprintln!("{err}");
    assert!(err.to_string().contains("non-finite sample"), "{err}");
}
