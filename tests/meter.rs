//! The loudness meter's signal stage (`ops::meter`) against naive f64 oracles, and the
//! figures formed from it (`loudness::gating`) against the ebur128 crate (libebur128's
//! algorithm in f64), an independent meter.

mod gpu_common;

use gpu_common::noise;
use mixfarm::loudness;
use mixfarm::ops::eq::cpu::run_sections_state;
use mixfarm::ops::meter::{self, cpu::Lane};

/// BS.1770-4 table 1 and 2: the K-weighting biquads at 48 kHz (b0 b1 b2, a1 a2).
const SHELF_48K: [f64; 5] = [
    1.53512485958697,
    -2.69169618940638,
    1.19839281085285,
    -1.69065929318241,
    0.73248077421585,
];
const HIGH_PASS_48K: [f64; 5] = [1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621];

/// The K-weighting biquads at any rate from their analog prototypes (libebur128's
/// derivation, written out here independently as the bilinear transform of
/// (Vh s² + Vb s/Q + 1)/(s² + s/Q + 1), and the high-pass with numerator 1 − 2z⁻¹ + z⁻²).
fn k_biquads(rate: f64) -> [[f64; 5]; 2] {
    let (f0, g_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let vh = 10f64.powf(g_db / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ];
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let a0 = 1.0 + k / q + k * k;
    // BS.1770 keeps the high-pass numerator 1 − 2z⁻¹ + z⁻² unnormalised
    let hp = [
        1.0,
        -2.0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ];
    [shelf, hp]
}

/// The difference equation, f64, direct form I.
fn biquad(x: &[f64], c: [f64; 5]) -> Vec<f64> {
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    x.iter()
        .map(|&v| {
            let y = c[0] * v + c[1] * x1 + c[2] * x2 - c[3] * y1 - c[4] * y2;
            (x2, x1, y2, y1) = (x1, v, y1, y);
            y
        })
        .collect()
}

fn oracle_filtered(x: &[f32], rate: u32) -> Vec<f64> {
    let [s, h] = k_biquads(f64::from(rate));
    let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    biquad(&biquad(&x, s), h)
}

/// Music-like test signal: noise under a slow envelope plus a low sine.
fn programme(seed: u64, frames: usize, rate: u32, level: f32) -> Vec<f32> {
    let n = noise(seed, frames, level);
    n.iter()
        .enumerate()
        .map(|(i, &v)| {
            let t = i as f64 / f64::from(rate);
            let env = 0.55 + 0.45 * (std::f64::consts::TAU * 0.37 * t + seed as f64).sin();
            (f64::from(v) * env + 0.2 * f64::from(level) * (std::f64::consts::TAU * 55.0 * t).sin())
                as f32
        })
        .collect()
}

#[test]
fn the_derivation_gives_the_bs1770_table_at_48k() {
    let [s, h] = k_biquads(48_000.0);
    for (got, want) in s.iter().zip(SHELF_48K).chain(h.iter().zip(HIGH_PASS_48K)) {
        assert!((got - want).abs() < 1e-8, "{got} vs {want}");
    }
}

#[test]
fn k_weighting_sections_match_the_f64_filters() {
    for rate in [22_050u32, 44_100, 48_000, 96_000, 192_000] {
        let x = programme(3, rate as usize * 2, rate, 0.5);
        let want = oracle_filtered(&x, rate);
        let mut y = x.clone();
        let k = meter::k_weighting(rate);
        run_sections_state(&mut y, &k, &mut [[0.0; 2]; 2]);
        let err = y
            .iter()
            .zip(&want)
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        println!("{rate} Hz: K-weighted f32 sections vs f64 biquads: max |Δ| {err:.3e} FS");
        assert!(err < 1e-5, "{rate}: {err}");
        if rate == 48_000 {
            // and the published table's filters themselves
            let xs: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let table = biquad(&biquad(&xs, SHELF_48K), HIGH_PASS_48K);
            let e = y
                .iter()
                .zip(&table)
                .map(|(a, b)| (f64::from(*a) - b).abs())
                .fold(0.0, f64::max);
            println!("48 kHz vs the BS.1770 table: max |Δ| {e:.3e} FS");
            assert!(e < 1e-5, "{e}");
        }
    }
}

#[test]
fn sub_blocks_are_whole_divisions_of_100_ms() {
    for (rate, sub) in [
        (44_100, 42),
        (48_000, 48),
        (22_050, 21),
        (96_000, 96),
        (8_000, 8),
    ] {
        assert_eq!(meter::sub_block_frames(rate), sub, "{rate}");
        assert_eq!(meter::frames_per_100ms(rate) % sub, 0);
    }
    // a rate whose 100 ms is a prime number of frames falls back to single frames
    assert_eq!(meter::frames_per_100ms(11_025), 1103);
    assert_eq!(meter::sub_block_frames(11_025), 1);
}

#[test]
fn sub_block_energies_match_the_oracle_and_chunking_changes_no_bit() {
    for rate in [44_100u32, 48_000] {
        let x = programme(5, rate as usize * 3 + 17, rate, 0.7);
        let sub = meter::sub_block_frames(rate);
        let whole = meter::cpu::energies(&x, rate);
        assert_eq!(whole.len(), x.len() / sub);
        let y = oracle_filtered(&x, rate);
        let worst = whole
            .iter()
            .zip(y.chunks_exact(sub))
            .map(|(&e, c)| {
                let o: f64 = c.iter().map(|v| v * v).sum();
                (f64::from(e) - o).abs() / o.max(1e-12)
            })
            .fold(0.0, f64::max);
        println!("{rate} Hz: sub-block energies vs f64 oracle: max relative error {worst:.3e}");
        assert!(worst < 1e-4, "{worst}");
        // uneven chunks give the same bits
        let (k, mut lane, mut pieces) = (meter::k_weighting(rate), Lane::default(), Vec::new());
        let mut at = 0;
        for len in [1usize, 999, 4096, 7, 65_536, 12_345].iter().cycle() {
            if at >= x.len() {
                break;
            }
            let end = (at + len).min(x.len());
            meter::cpu::run(&k, sub, &mut lane, &x[at..end], &mut pieces);
            at = end;
        }
        assert_eq!(pieces, whole);
    }
}

/// The ebur128 crate's integrated loudness and range of planar audio.
fn libebur128(x: &[Vec<f32>], rate: u32) -> (f64, f64) {
    use ebur128::{Channel, EbuR128, Mode};
    let mut m = EbuR128::new(x.len() as u32, rate, Mode::I | Mode::LRA).unwrap();
    let map: &[Channel] = match x.len() {
        1 => &[Channel::DualMono],
        2 => &[Channel::Left, Channel::Right],
        _ => &[
            Channel::Left,
            Channel::Right,
            Channel::Center,
            Channel::Unused,
            Channel::LeftSurround,
            Channel::RightSurround,
        ],
    };
    m.set_channel_map(map).unwrap();
    let planes: Vec<&[f32]> = x.iter().map(Vec::as_slice).collect();
    m.add_frames_planar_f32(&planes).unwrap();
    (m.loudness_global().unwrap(), m.loudness_range().unwrap())
}

#[test]
fn integrated_loudness_and_range_agree_with_libebur128() {
    for (rate, channels, seconds) in [
        (48_000u32, 2usize, 20.0),
        (44_100, 2, 17.3),
        (22_050, 1, 12.0),
        (96_000, 6, 8.0),
        (44_100, 2, 2.5),
    ] {
        let frames = (seconds * f64::from(rate)) as usize;
        let x: Vec<Vec<f32>> = (0..channels)
            .map(|c| programme(11 + c as u64, frames, rate, 0.3 + 0.1 * c as f32))
            .collect();
        let l = loudness::measure(&x, rate).unwrap();
        let (i, lra) = libebur128(&x, rate);
        let di = (l.integrated_lufs.unwrap() - i).abs();
        println!(
            "{rate} Hz {channels} ch {seconds} s: I {:.4} vs libebur128 {i:.4} (Δ {di:.1e}); \
             LRA {:?} vs {lra:.4}",
            l.integrated_lufs.unwrap(),
            l.loudness_range_lu
        );
        assert!(di < 1e-4, "integrated off by {di} LU");
        match l.loudness_range_lu {
            Some(r) => assert!((r - lra).abs() < 0.01, "LRA {r} vs {lra}"),
            None => assert!(seconds < 3.0),
        }
    }
}

#[test]
fn album_loudness_pools_the_gating_blocks_as_libebur128_does() {
    let rate = 44_100;
    let songs: Vec<Vec<Vec<f32>>> = [(0.05f32, 9.0), (0.4, 6.0), (0.9, 3.0)]
        .iter()
        .enumerate()
        .map(|(k, &(level, s))| {
            let n = (s * f64::from(rate)) as usize;
            vec![programme(40 + k as u64, n, rate, level); 2]
        })
        .collect();
    let gating: Vec<loudness::Gating> = songs
        .iter()
        .map(|x| loudness::gating(x, rate).unwrap())
        .collect();
    let ours = loudness::Gating::integrated_multiple(&gating).unwrap();
    let meters: Vec<ebur128::EbuR128> = songs
        .iter()
        .map(|x| {
            let mut m = ebur128::EbuR128::new(2, rate, ebur128::Mode::I).unwrap();
            m.add_frames_planar_f32(&[&x[0], &x[1]]).unwrap();
            m
        })
        .collect();
    let theirs = ebur128::EbuR128::loudness_global_multiple(meters.iter()).unwrap();
    println!("album: {ours:.4} vs libebur128 {theirs:.4}");
    assert!((ours - theirs).abs() < 1e-4);
    // silence reads as undefined, alone or pooled
    let silent = loudness::gating(&vec![vec![0.0; rate as usize]; 2], rate).unwrap();
    assert_eq!(silent.integrated(), None);
}
