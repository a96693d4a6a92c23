//! The screened true-peak meter (`ops::oversample::screen`, what every host meter runs)
//! gives bit for bit the values of the twin that computes every point of the 16× grid
//! (`ops::oversample::cpu`, the kernel's twin), per hop and for the whole song, on
//! programme, limited masters, full-band noise at +6 dBFS, sines up to Nyquist, impulses,
//! silence, full-scale DC, audio shorter than a group or than the detector's reach, and
//! channels holding NaN or infinity; and that it skips most of the work on programme. The
//! limiter's twin, screened the same way, limits and reports bit for bit as with every
//! point computed.

mod common;

use common::true_peak_oracle::band_limit;
use common::{music_like, noise, to_f32};
use mixfarm::ops::limiter::{self, Limiter};
use mixfarm::ops::oversample::{self, cpu, screen};

fn signals() -> Vec<(String, Vec<Vec<f32>>)> {
    let rate = 48_000;
    let mut s: Vec<(String, Vec<Vec<f32>>)> = Vec::new();
    let n = 3 * rate as usize;
    s.push((
        "programme".into(),
        vec![music_like(n, rate, 1), music_like(n, rate, 2)],
    ));
    // a limited master: programme band-limited to 0.45·fs, driven hard and clipped, so
    // that many peaks sit at the same height
    let hot: Vec<Vec<f64>> = (0..2)
        .map(|c| {
            let x = band_limit(&noise(n, 10 + c), 0.45);
            let p = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let y: Vec<f64> = x.iter().map(|v| (4.0 * v / p).clamp(-0.9, 0.9)).collect();
            band_limit(&y, 0.45)
        })
        .collect();
    s.push(("limited".into(), to_f32(&hot)));
    let white: Vec<f32> = noise(n, 7).iter().map(|v| 2.0 * *v as f32).collect();
    s.push(("white +6 dBFS".into(), vec![white]));
    for f in [0.01, 0.25, 0.49, 0.4999] {
        let x: Vec<f32> = (0..rate as usize)
            .map(|i| (std::f64::consts::PI * 2.0 * f * i as f64 + 0.3).sin() as f32 * 0.95)
            .collect();
        s.push((format!("sine {f}·fs"), vec![x]));
    }
    let mut imp = vec![0.0f32; 20_000];
    imp[9_999] = 1.0;
    imp[10_000] = -1.0;
    s.push(("impulse pair".into(), vec![imp.clone(), vec![0.0; 20_000]]));
    s.push(("silence".into(), vec![vec![0.0; 10_000]; 2]));
    s.push(("full-scale DC".into(), vec![vec![1.0; 5_000]]));
    s.push((
        "shorter than a group".into(),
        vec![music_like(100, rate, 3)],
    ));
    s.push(("one frame".into(), vec![vec![0.7]]));
    s.push((
        "uneven channels".into(),
        vec![music_like(30_000, rate, 4), music_like(7_000, rate, 5)],
    ));
    let mut nan = music_like(40_000, rate, 6);
    nan[20_000] = f32::NAN;
    s.push(("NaN".into(), vec![nan, music_like(40_000, rate, 7)]));
    let mut inf = music_like(40_000, rate, 8);
    inf[123] = f32::INFINITY;
    s.push(("infinity".into(), vec![inf]));
    s
}

#[test]
fn screened_meter_equals_every_point() {
    let taps = &oversample::shared().taps;
    for (name, ch) in signals() {
        let frames = ch.iter().map(Vec::len).max().unwrap();
        for hop in [1, 4_800, 48_000, frames, 10 * frames] {
            let exact = cpu::true_peak_per_hop(taps, &ch, hop);
            let fast = screen::true_peak_per_hop(taps, &ch, hop);
            assert_eq!(exact.len(), fast.len(), "{name}, hop {hop}");
            let diff = exact
                .iter()
                .zip(&fast)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(diff, 0, "{name}, hop {hop}: {diff} hops differ");
        }
        let (exact, fast) = (cpu::true_peak(taps, &ch), screen::true_peak(taps, &ch));
        eprintln!("{name}: true peak {exact} (screened {fast})");
        assert_eq!(exact.to_bits(), fast.to_bits(), "{name}");
    }
}

/// Programme: noise band-limited to 0.2·fs, its level swelling and falling over seconds,
/// peaking at 0.9.
fn programme(n: usize, rate: usize) -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| {
            let x = band_limit(&noise(n, 20 + c), 0.2);
            let p = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            x.iter()
                .enumerate()
                .map(|(i, v)| {
                    let t = i as f64 / rate as f64;
                    let swell = 0.6 + 0.4 * (std::f64::consts::TAU * t / 7.0).sin();
                    (0.9 * swell * v / p) as f32
                })
                .collect()
        })
        .collect()
}

/// The screen does skip: on programme (noise band-limited to 0.2·fs, its level swelling
/// and falling over seconds) it computes a small part of the frames (a meter that computed
/// everything would pass the test above too).
#[test]
fn screened_meter_skips_most_of_programme() {
    let taps = &oversample::shared().taps;
    let rate = 48_000usize;
    let n = 20 * rate;
    let ch = programme(n, rate);
    for hop in [n, rate] {
        let (share, peaks) = screen::true_peak_per_hop_counted(taps, &ch, hop);
        eprintln!("hop {hop}: {:.2} % of the frames computed", 100.0 * share);
        assert_eq!(peaks, cpu::true_peak_per_hop(taps, &ch, hop));
        assert!(share < 0.1, "hop {hop}: {share}");
    }
}

/// A limiter's output, readings and share of frames computed.
type Limited = (Vec<Vec<f32>>, Option<Vec<Vec<f32>>>, f64);

/// Streams `x` through a limiter in chunks of `chunk` frames (then its flush), tracing per
/// hop; returns the output and the readings.
fn limit(lim: &Limiter, x: &[Vec<f32>], chunk: usize, hop: usize, every_point: bool) -> Limited {
    let frames = x[0].len();
    let mut st = limiter::cpu::Stream::new(lim, x.len());
    if every_point {
        st = st.every_point();
    }
    st.trace_per_hop(hop, frames.div_ceil(hop), 0);
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); x.len()];
    let mut start = 0;
    while start < frames {
        let n = chunk.min(frames - start);
        let mut c: Vec<Vec<f32>> = x.iter().map(|ch| ch[start..start + n].to_vec()).collect();
        limiter::cpu::process_chunk(lim, &mut st, &mut c);
        for (o, c) in out.iter_mut().zip(c) {
            o.extend(c);
        }
        start += n;
    }
    st.end_input();
    let mut tail = vec![vec![0.0f32; limiter::cpu::latency_frames(lim)]; x.len()];
    limiter::cpu::process_chunk(lim, &mut st, &mut tail);
    for (o, c) in out.iter_mut().zip(tail) {
        o.extend(c);
    }
    (out, st.readings(), st.computed_share())
}

/// The limiter's detector is screened the same way: its output and its report (lowest
/// gain, per hop, each hop's input true peak) are bit for bit those of the detector that
/// computes every point, on signals it limits hard, signals it leaves alone, and the
/// closing's true-peak meter (a limiter asking no gain), streamed in uneven chunks.
#[test]
fn screened_limiter_equals_every_point() {
    let rate = 48_000u32;
    let mut cases = signals();
    cases.retain(|(name, _)| !matches!(name.as_str(), "uneven channels"));
    cases.push((
        "swelling programme".into(),
        programme(10 * rate as usize, rate as usize),
    ));
    for (name, x) in cases {
        let x = if x.len() == 1 {
            vec![x[0].clone(), x[0].clone()]
        } else {
            x
        };
        for (what, lim) in [
            ("ceiling −1 dBTP", Limiter::new(-1.0, 100.0, 240, rate)),
            ("ceiling −12 dBTP", Limiter::new(-12.0, 50.0, 48, rate)),
            ("true-peak meter", Limiter::true_peak_meter(rate)),
        ] {
            let (a, ra, _) = limit(&lim, &x, 7_777, 4_800, true);
            let (b, rb, share) = limit(&lim, &x, 7_777, 4_800, false);
            eprintln!(
                "{name}, {what}: {:.1} % of the frames computed",
                100.0 * share
            );
            if name == "swelling programme" && what != "ceiling −12 dBTP" {
                // it peaks at 0.9: a −1 dBTP limiter works on its loudest peaks only, and
                // the hop peaks need a few groups each
                assert!(share < 0.25, "{name}, {what}: {share}");
            }
            let diff = a
                .iter()
                .flatten()
                .zip(b.iter().flatten())
                .filter(|(p, q)| p.to_bits() != q.to_bits())
                .count();
            assert_eq!(diff, 0, "{name}, {what}: {diff} samples differ");
            let bits = |r: &Option<Vec<Vec<f32>>>| {
                r.as_ref()
                    .map(|l| l.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>())
            };
            assert_eq!(bits(&ra), bits(&rb), "{name}, {what}: readings differ");
        }
    }
}
