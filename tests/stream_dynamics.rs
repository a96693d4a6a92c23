//! Streaming form of the dynamics and time effects (compressor, limiter, delay, chorus,
//! width): a song cut into chunks of any length (zero too), the state carried in each op's
//! `cpu::Stream`, comes out bit for bit as the whole-song `cpu::process` output — the
//! limiter's delayed by its `latency_frames`, after `end_input` and that many frames of
//! flush. The whole-song results themselves are checked against f64 oracles in each op's
//! own tests.

mod common;

use common::*;
use mixfarm::ops::{chorus, compressor, delay, limiter, width, Processor};

const FS: u32 = 48_000;
/// Length of the test songs.
const FRAMES: usize = 3 * FS as usize;

/// A stereo song-like test signal scaled to peak `peak`: tones plus a little noise
/// ([`music_like`]), decaying noise bursts every 0.5 s and sharp decaying clicks
/// (different on each channel).
fn signal(frames: usize, peak: f64, seed: u64) -> Vec<Vec<f32>> {
    (0..2u64)
        .map(|c| {
            let nz = noise(frames, seed * 7 + c + 1);
            let mut x: Vec<f64> = music_like(frames, FS, seed + c)
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            for (i, v) in x.iter_mut().enumerate() {
                let burst = i % 24_000;
                if burst < 2_400 {
                    *v += 0.8 * nz[i] * (1.0 - burst as f64 / 2_400.0);
                }
                let click = (i + 5_000 * c as usize) % 17_760;
                if click < 600 {
                    *v += 1.4 * (-(click as f64) / 90.0).exp() * nz[i].signum();
                }
            }
            let m = x.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
            x.iter().map(|&v| (v * peak / m) as f32).collect()
        })
        .collect()
}

/// The chunkings under test: chunk lengths summing to `frames`.
fn chunkings(frames: usize) -> Vec<(&'static str, Vec<usize>)> {
    let fixed = |n: usize| -> Vec<usize> {
        (0..frames)
            .step_by(n)
            .map(|start| n.min(frames - start))
            .collect()
    };
    let mut random = Vec::new();
    let (mut left, mut s) = (frames, 0x2545_F491_4F6C_DD1Du64);
    while left > 0 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // about one chunk in eight is empty, the others 1..=5000 frames
        let len = if s % 8 == 0 {
            0
        } else {
            1 + (s >> 8) as usize % 5000
        };
        random.push(len.min(left));
        left -= len.min(left);
    }
    random.insert(random.len() / 2, 0);
    random.push(0);
    vec![
        ("one chunk", vec![frames]),
        ("1024", fixed(1024)),
        ("65536", fixed(65536)),
        ("random 0..=5000", random),
    ]
}

/// Cuts `x` into chunks of `lens` frames, runs `f(chunk, first frame)` on each and returns
/// the outputs concatenated.
fn run_chunked(
    x: &[Vec<f32>],
    lens: &[usize],
    mut f: impl FnMut(&mut [Vec<f32>], usize),
) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::new(); x.len()];
    let mut start = 0;
    for &len in lens {
        let mut chunk: Vec<Vec<f32>> = x.iter().map(|c| c[start..start + len].to_vec()).collect();
        f(&mut chunk, start);
        for (o, c) in out.iter_mut().zip(&chunk) {
            o.extend_from_slice(c);
        }
        start += len;
    }
    out
}

/// Asserts bit equality; returns the number of frames compared.
fn assert_bits(got: &[Vec<f32>], want: &[Vec<f32>], what: &str) -> usize {
    assert_eq!(got.len(), want.len(), "{what}: channels");
    for (c, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: length of channel {c}");
        if let Some(i) = (0..g.len()).find(|&i| g[i].to_bits() != w[i].to_bits()) {
            panic!("{what}: channel {c} frame {i}: {} vs {}", g[i], w[i]);
        }
    }
    want.first().map_or(0, Vec::len)
}

#[test]
fn compressor_chunked_equals_whole_song() {
    let x = signal(FRAMES, 1.4, 1);
    // a key shorter than the song: past its end it reads as silence
    let key = signal(FRAMES * 2 / 3, 1.0, 3);
    let mut compared = 0;
    for spec in [
        "{ type = \"compressor\", threshold_db = -20, ratio = 4, knee_db = 6, attack_ms = 5, release_ms = 80, makeup_db = 3 }",
        "{ type = \"compressor\", threshold_db = -24, ratio = 3, attack_ms = 2, release_ms = 150, detector = \"rms\", rms_window_ms = 5 }",
    ] {
        let Processor::Compressor(comp) = prepare(spec, FS) else {
            panic!("not a compressor")
        };
        let p = &comp.params;
        assert_eq!(compressor::cpu::latency_frames(p), 0);
        for keyed in [false, true] {
            let mut whole = x.clone();
            compressor::cpu::process(p, &mut whole, keyed.then_some(key.as_slice()));
            assert_ne!(whole, x, "the compressor must act on this signal");
            for (name, lens) in chunkings(FRAMES) {
                let mut st = compressor::cpu::Stream::new(p, 2);
                let got = run_chunked(&x, &lens, |chunk, start| {
                    let end = start + chunk[0].len();
                    let k: Vec<Vec<f32>> = key
                        .iter()
                        .map(|c| c[start.min(c.len())..end.min(c.len())].to_vec())
                        .collect();
                    compressor::cpu::process_chunk(p, &mut st, chunk, keyed.then_some(&k[..]));
                });
                compared += assert_bits(&got, &whole, &format!("{spec} keyed {keyed} {name}"));
            }
        }
    }
    eprintln!("compressor: {compared} frames compared bit for bit");
}

#[test]
fn limiter_chunked_equals_whole_song_delayed() {
    let hot = signal(FRAMES, 2.0, 2); // +6 dBFS peaks
    let mut compared = 0;
    for spec in [
        "{ type = \"limiter\", ceiling_dbtp = -1, release_ms = 100, lookahead_ms = 5 }",
        "{ type = \"limiter\", ceiling_dbtp = -0.3, release_ms = 30, lookahead_ms = 0 }",
        "{ type = \"limiter\", ceiling_dbtp = -2, release_ms = 50, lookahead_ms = 50 }",
    ] {
        let Processor::Limiter(lim) = prepare(spec, FS) else {
            panic!("not a limiter")
        };
        let lat = limiter::cpu::latency_frames(&lim);
        assert_eq!(
            lat,
            lim.params.lookahead_frames as usize + mixfarm::ops::oversample::REACH
        );
        // whole songs of FRAMES, and shorter than the latency (from a loud click)
        for frames in [FRAMES, 100, 1] {
            let x: Vec<Vec<f32>> = hot.iter().map(|c| c[..frames].to_vec()).collect();
            let mut whole = x.clone();
            let report = limiter::cpu::process(&lim, &mut whole);
            assert!(
                report.max_gain_reduction_db > 3.0,
                "{frames} frames: {report:?}"
            );
            let cuts = if frames == FRAMES {
                chunkings(frames)
            } else {
                vec![("one chunk", vec![frames]), ("1", vec![1; frames])]
            };
            for (name, lens) in cuts {
                let what = format!("{spec} {frames} frames, {name}");
                let mut st = limiter::cpu::Stream::new(&lim, 2);
                let mut got = run_chunked(&x, &lens, |chunk, _| {
                    limiter::cpu::process_chunk(&lim, &mut st, chunk)
                });
                st.end_input();
                // the flush: latency frames (their content is ignored), in two chunks
                let flush = vec![vec![0.5f32; lat]; 2];
                let tail = run_chunked(&flush, &[lat / 3, 0, lat - lat / 3], |chunk, _| {
                    limiter::cpu::process_chunk(&lim, &mut st, chunk)
                });
                for (g, t) in got.iter_mut().zip(&tail) {
                    g.extend_from_slice(t);
                }
                for g in &got {
                    assert!(
                        g[..lat].iter().all(|v| v.to_bits() == 0),
                        "{what}: output before the song must be silence"
                    );
                }
                let shifted: Vec<Vec<f32>> = got.iter().map(|g| g[lat..].to_vec()).collect();
                compared += assert_bits(&shifted, &whole, &what);
                assert_eq!(
                    st.max_gain_reduction_db().to_bits(),
                    report.max_gain_reduction_db.to_bits(),
                    "{what}: gain reduction report"
                );
            }
        }
    }
    eprintln!("limiter: {compared} frames compared bit for bit (after the latency)");
}

#[test]
fn delay_chunked_equals_whole_song() {
    let x = signal(FRAMES, 0.9, 4);
    let mut compared = 0;
    for spec in [
        "{ type = \"delay\", time_ms = 375, feedback = 0.45, high_cut_hz = 6000, mix = 0.3 }",
        "{ type = \"delay\", time_ms = 120, feedback = 0.6, mix = 0.5, ping_pong = true }",
        "{ type = \"delay\", time_ms = 0.01, feedback = -0.5, mix = 1 }",
    ] {
        let Processor::Delay(d) = prepare(spec, FS) else {
            panic!("not a delay")
        };
        let p = &d.params;
        assert_eq!(delay::cpu::latency_frames(p), 0);
        for input in [x.clone(), vec![x[0].clone()]] {
            let mut whole = input.clone();
            delay::cpu::process(p, &mut whole);
            for (name, lens) in chunkings(FRAMES) {
                let mut st = delay::cpu::Stream::new(p, input.len());
                let got = run_chunked(&input, &lens, |chunk, _| {
                    delay::cpu::process_chunk(p, &mut st, chunk)
                });
                compared += assert_bits(&got, &whole, &format!("{spec} {name}"));
            }
        }
    }
    eprintln!("delay: {compared} frames compared bit for bit");
}

#[test]
fn chorus_chunked_equals_whole_song() {
    let x = signal(FRAMES, 0.9, 5);
    let mut three = x.clone();
    three.push(signal(FRAMES, 0.5, 6).swap_remove(0));
    let mut compared = 0;
    for spec in [
        "{ type = \"chorus\", rate_hz = 0.8, depth_ms = 3, delay_ms = 12, voices = 3, mix = 0.35 }",
        "{ type = \"chorus\", rate_hz = 7, depth_ms = 40, delay_ms = 60, voices = 8, mix = 1 }",
    ] {
        let Processor::Chorus(ch) = prepare(spec, FS) else {
            panic!("not a chorus")
        };
        assert_eq!(chorus::cpu::latency_frames(&ch), 0);
        for input in [&x, &three] {
            let mut whole = input.clone();
            chorus::cpu::process(&ch, &mut whole);
            for (name, lens) in chunkings(FRAMES) {
                let mut st = chorus::cpu::Stream::new(&ch, input.len());
                let got = run_chunked(input, &lens, |chunk, _| {
                    chorus::cpu::process_chunk(&ch, &mut st, chunk)
                });
                compared += assert_bits(&got, &whole, &format!("{spec} {name}"));
            }
        }
    }
    eprintln!("chorus: {compared} frames compared bit for bit");
}

#[test]
fn width_chunked_equals_whole_song() {
    let x = signal(FRAMES, 0.9, 7);
    let mut compared = 0;
    for spec in [
        "{ type = \"width\", width = 1.5, bass_mono_hz = 120 }",
        "{ type = \"width\", width = 0.5 }",
        "{ type = \"width\", bass_mono_hz = 200 }",
    ] {
        let Processor::Width(w) = prepare(spec, FS) else {
            panic!("not a width")
        };
        assert_eq!(width::cpu::latency_frames(&w), 0);
        let mut whole = x.clone();
        width::cpu::process(&w, &mut whole);
        assert_ne!(whole, x, "{spec} must change the signal");
        for (name, lens) in chunkings(FRAMES) {
            let mut st = width::cpu::Stream::new(&w, 2);
            let got = run_chunked(&x, &lens, |chunk, _| {
                width::cpu::process_chunk(&w, &mut st, chunk)
            });
            compared += assert_bits(&got, &whole, &format!("{spec} {name}"));
        }
    }
    eprintln!("width: {compared} frames compared bit for bit");
}
