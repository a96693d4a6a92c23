//! The delivery converter (`ops::resample`): its CPU twin against a naive f64 oracle (the
//! specification's windowed sinc evaluated in f64 at each output position, no tables, no
//! phases), for 48 → 44.1 kHz, 44.1 → 48 kHz and 96 → 44.1 kHz, ends included; and on
//! llvmpipe the kernel against its twin bit for bit (noise-like music and a sweep, with an
//! impulse, silence, full scale and +6 dBFS in them), a kept master converted on the GPU in
//! pieces (each piece's input window read across the piece edges) and read back.

mod common;

use std::f64::consts::PI;

use mixfarm::engine::Sources;
use mixfarm::gpu::render::Renderer;
use mixfarm::gpu::Kept;
use mixfarm::ops::resample::gpu::ResampleGpu;
use mixfarm::ops::resample::{cpu, output_frames, Filter, PASSBAND, STOPBAND_DB};
use mixfarm::plan::{Plan, Planar, Source, Stage};

fn i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > 1e-18 * sum {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        k += 1.0;
    }
    sum
}

/// Output frame `j`: the input weighed by the Kaiser-windowed sinc centred on the output's
/// exact position `j·from/to`, over the window of `taps` frames the specification reads,
/// normalised to unit sum, all in f64.
fn oracle(x: &[f32], from: u32, to: u32, taps: usize, j: usize) -> f64 {
    let t = j as f64 * f64::from(from) / f64::from(to);
    let low = f64::from(from.min(to));
    let fc = 0.5 * (PASSBAND * low + 0.5 * low) / f64::from(from);
    let beta = 0.1102 * (STOPBAND_DB - 8.7);
    let half = (taps / 2) as f64;
    let n = t.floor() as i64;
    let (mut acc, mut wsum) = (0.0, 0.0);
    for m in (n + 1 - taps as i64 / 2)..=(n + taps as i64 / 2) {
        let d = m as f64 - t;
        let u = d / half;
        if u.abs() >= 1.0 {
            continue;
        }
        let s = if d == 0.0 {
            1.0
        } else {
            (PI * 2.0 * fc * d).sin() / (PI * 2.0 * fc * d)
        };
        let w = 2.0 * fc * s * i0(beta * (1.0 - u * u).sqrt()) / i0(beta);
        wsum += w;
        if let Some(&v) = usize::try_from(m).ok().and_then(|m| x.get(m)) {
            acc += w * f64::from(v);
        }
    }
    acc / wsum
}

#[test]
fn twin_follows_the_f64_oracle() {
    for (from, to) in [(48_000, 44_100), (44_100, 48_000), (96_000, 44_100)] {
        let frames = from as usize / 5;
        let x = common::music_like(frames, from, 3);
        let f = Filter::new(from, to).unwrap();
        let n = output_frames(frames, from, to);
        let y = cpu::resample(&f, &x, n);
        assert_eq!(y.len(), n);
        let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        let mut worst = 0.0f64;
        // the ends (zeros outside the signal) and a stretch of the middle
        for j in (0..400).chain(n / 2..n / 2 + 400).chain(n - 400..n) {
            worst = worst.max((f64::from(y[j]) - oracle(&x, from, to, f.taps, j)).abs());
        }
        println!(
            "{from} -> {to} Hz: {} phases x {} taps; twin vs f64 oracle max |Δ| {worst:.3e} (peak {peak:.2})",
            f.up, f.taps
        );
        assert!(worst < 2e-6 * peak.max(1.0), "{from}->{to}: {worst}");
    }
}

#[test]
fn odd_ratios_are_refused_with_a_reason() {
    let e = Filter::new(44_100, 47_999).unwrap_err();
    println!("{e}");
    assert!(e.contains("phases"), "{e}");
    assert!(Filter::new(48_000, 0).is_err());
}

/// A load-only Plan of `frames` frames.
fn load(rate: u32, frames: usize) -> Plan {
    Plan {
        name: "load".into(),
        sample_rate: rate,
        frames,
        n_buffers: 1,
        sources: vec![Source {
            path: "song".into(),
        }],
        stages: vec![Stage::Load { dst: 0, source: 0 }],
        master: 0,
    }
}

#[test]
fn kernel_matches_its_twin_bit_for_bit() {
    let Some(gpu) = mixfarm::gpu::Gpu::for_tests("kernel_matches_its_twin_bit_for_bit") else {
        return;
    };
    let renderer = Renderer::new(&gpu).expect("renderer");
    let kernel = ResampleGpu::new(&gpu).expect("kernel");
    for (from, to, most) in [(48_000, 44_100, 7_001), (44_100, 48_000, usize::MAX)] {
        let frames = 90_001;
        // channel 0 noise-like music, channel 1 a logarithmic sweep 20 Hz – 20 kHz
        let sweep: Vec<f32> = (0..frames)
            .map(|i| {
                let (t, len) = (i as f64 / f64::from(from), frames as f64 / f64::from(from));
                let k = (20_000.0f64 / 20.0).ln();
                let phase = 2.0 * PI * 20.0 * len / k * ((k * t / len).exp() - 1.0);
                (0.8 * phase.sin()) as f32
            })
            .collect();
        let song: Planar = (0..2)
            .map(|c| {
                let mut x = if c == 0 {
                    common::music_like(frames, from, 10)
                } else {
                    sweep.clone()
                };
                // full scale and past it, silence, an impulse
                x[100] = 1.0;
                x[101] = -2.0;
                x[5_000..6_000].fill(0.0);
                x[7_000] = 0.5;
                x
            })
            .collect();
        // the song kept on the GPU
        let src = Sources::borrowed(std::slice::from_ref(&song));
        let p = load(from, frames);
        let kept = renderer
            .run_kept(&gpu, &[(&p, &src)], &[true])
            .expect("gpu run")
            .pop()
            .unwrap()
            .expect("kept")
            .0;
        let Kept::Gpu(kept) = kept else {
            panic!("kept on the GPU")
        };
        let f = Filter::new(from, to).unwrap();
        let n = output_frames(frames, from, to);
        let converted = kernel
            .run_in_pieces(&gpu, &f, &kept, n, most)
            .expect("resample");
        assert_eq!(converted.frames(), n);
        let back_src = Sources::resident(converted);
        let q = load(to, n);
        let got = renderer
            .run(&gpu, &[(&q, &back_src)], None)
            .expect("gpu run")
            .pop()
            .unwrap()
            .expect("read back");
        let mut differ = 0;
        for (c, x) in song.iter().enumerate() {
            let want = cpu::resample(&f, x, n);
            differ += got[c]
                .iter()
                .zip(&want)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
        }
        println!(
            "{from} -> {to} Hz, pieces of at most {most} frames: kernel vs twin, {differ} of {} samples differ",
            2 * n
        );
        assert_eq!(differ, 0);
    }
}
