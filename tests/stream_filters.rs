//! Streaming forms of the filter operators (convolution engine, EQ, crossover, multiband,
//! reverb, match EQ): a song fed in equal time chunks (one and two convolution blocks,
//! 65536 frames and one chunk of the whole padded length, state carried) gives, bit for bit, the whole-song
//! result delayed by the operator's latency; each whole-song function equals a reference
//! composed from independent pieces (the engine's latency window, the section recursion
//! over the whole song, the per-op formulas). The raw engine is also checked against the
//! specification of `ops::convolve` computed block by block (its own FFT twin, the spec's
//! multiply-accumulate order), independently of the engine's layout and parallelism.

mod common;

use mixfarm::ops::compressor::{self, Detector};
use mixfarm::ops::convolve::{self, fft::RealFft, Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};
use mixfarm::ops::crossover::{self, CrossoverKind, CrossoverSpec};
use mixfarm::ops::eq::{self, BandKind, BandSpec, EqMode, EqSpec};
use mixfarm::ops::match_eq::MatchCurve;
use mixfarm::ops::multiband::{self, Multiband};
use mixfarm::ops::reverb::{self, Reverb};
use mixfarm::plan::Planar;

const RATE: u32 = 48_000;

/// Chunk lengths tried (plus one chunk of the whole padded length).
const CHUNKS: [usize; 3] = [BLOCK_FRAMES, 2 * BLOCK_FRAMES, 65536];

/// 3 s of deterministic stereo "music": tones and noise ([`common::music_like`]) plus
/// decaying clicks and bursts at irregular times, a little different per channel; an odd
/// length (not a multiple of a block).
fn song() -> Planar {
    let frames = 3 * RATE as usize + 333;
    (0..2u64)
        .map(|c| {
            let mut x = common::music_like(frames, RATE, 7 + c);
            let noise = common::noise(frames, 100 + c);
            let mut t = 1000 + 500 * c as usize;
            while t < frames {
                for i in 0..2000.min(frames - t) {
                    let env = (-(i as f64) / 300.0).exp();
                    x[t + i] += (0.6 * env * noise[t + i]) as f32;
                }
                t += 17_389 + 4_321 * (t % 3);
            }
            x
        })
        .collect()
}

/// Decaying noise IR of `len` taps (f64), seeded.
fn decaying_ir(len: usize, seed: u64, tau_frames: f64) -> Vec<f64> {
    common::noise(len, seed)
        .iter()
        .enumerate()
        .map(|(i, v)| v * (-(i as f64) / tau_frames).exp() * 0.1)
        .collect()
}

/// Feeds `x` (zero-padded to whole chunks covering `frames_out` frames) in chunks of
/// `chunk` frames to `process` and returns the concatenated outputs.
fn stream(
    x: &[Vec<f32>],
    chunk: usize,
    frames_out: usize,
    mut process: impl FnMut(&mut Planar),
) -> Planar {
    let total = frames_out.div_ceil(chunk) * chunk;
    let mut out: Planar = vec![Vec::with_capacity(total); x.len()];
    let mut buf: Planar = vec![vec![0.0; chunk]; x.len()];
    for start in (0..total).step_by(chunk) {
        for (b, ch) in buf.iter_mut().zip(x) {
            b.fill(0.0);
            let hi = (start + chunk).min(ch.len());
            if start < hi {
                b[..hi - start].copy_from_slice(&ch[start..hi]);
            }
        }
        process(&mut buf);
        for (o, b) in out.iter_mut().zip(&buf) {
            o.extend_from_slice(b);
        }
    }
    out
}

/// Every chunk length to try for a song of `frames` output frames: [`CHUNKS`] and the
/// whole length rounded up to a block.
fn chunk_lengths(frames: usize) -> Vec<usize> {
    let mut v = CHUNKS.to_vec();
    v.push(frames.div_ceil(BLOCK_FRAMES) * BLOCK_FRAMES);
    v
}

/// Asserts `streamed[c][latency ..]` equals `whole[c]` bit for bit; returns frames compared.
fn assert_bits(what: &str, streamed: &[Vec<f32>], whole: &[Vec<f32>], latency: usize) -> usize {
    assert_eq!(streamed.len(), whole.len(), "{what}: channels");
    let mut n = 0;
    for (c, (s, w)) in streamed.iter().zip(whole).enumerate() {
        assert!(
            s.len() >= latency + w.len(),
            "{what}: streamed output too short"
        );
        if let Some(i) = (0..w.len()).find(|&i| s[latency + i].to_bits() != w[i].to_bits()) {
            panic!(
                "{what}: channel {c} frame {i}: streamed {} whole {}",
                s[latency + i],
                w[i]
            );
        }
        n += w.len();
    }
    n
}

/// The engine's spec computed naively, block by block: X_k = RFFT(x[(k−1)B .. (k+1)B]),
/// Y_k = Σ_{p ascending, k−p ≥ 0} X_{k−p}·H_p in the spec's operation order, y_k =
/// IRFFT(Y_k), output its second half. Returns `blocks` blocks.
fn spec_convolution(x: &[f32], kernel: &Kernel, blocks: usize) -> Vec<f32> {
    let fft = RealFft::new(FFT_SIZE).expect("size");
    let b = BLOCK_FRAMES;
    let at = |i: isize| {
        if i >= 0 {
            x.get(i as usize).copied().unwrap_or(0.0)
        } else {
            0.0
        }
    };
    let xs: Vec<Vec<[f32; 2]>> = (0..blocks)
        .map(|k| {
            let frame: Vec<f32> = (0..FFT_SIZE as isize)
                .map(|t| at(k as isize * b as isize - b as isize + t))
                .collect();
            fft.rfft(&frame)
        })
        .collect();
    let mut y = Vec::with_capacity(blocks * b);
    for k in 0..blocks {
        let mut acc = vec![[0.0f32; 2]; BINS];
        for p in 0..kernel.partitions.min(k + 1) {
            for ((a, xv), hv) in acc.iter_mut().zip(&xs[k - p]).zip(kernel.partition(p)) {
                a[0] = (a[0] + xv[0] * hv[0]) - xv[1] * hv[1];
                a[1] = (a[1] + xv[0] * hv[1]) + xv[1] * hv[0];
            }
        }
        y.extend_from_slice(&fft.irfft(&acc)[b..]);
    }
    y
}

#[test]
fn convolution_stream_is_the_whole_song_convolution() {
    let x = song();
    let x0 = &x[..1];
    let b = BLOCK_FRAMES;
    for (i, taps) in [1usize, b - 1, b, b + 1, 3 * RATE as usize]
        .into_iter()
        .enumerate()
    {
        let kernel = Kernel::new(&decaying_ir(taps, 50 + i as u64, 0.3 * RATE as f64));
        let whole = convolve::convolve(&x0[0], &kernel);
        let spec = spec_convolution(&x0[0], &kernel, convolve::block_count(x0[0].len(), &kernel));
        let n = assert_bits(
            &format!("L {taps}: whole vs spec"),
            &[spec],
            std::slice::from_ref(&whole),
            0,
        );
        println!("convolve L = {taps}: whole song = spec, {n} frames");
        for chunk in chunk_lengths(whole.len()) {
            let mut st = convolve::cpu::Stream::new(&kernel);
            let mut out = Vec::new();
            let streamed = stream(x0, chunk, whole.len(), |buf| {
                out.resize(buf[0].len(), 0.0);
                convolve::cpu::process_chunk(&kernel, &mut st, &buf[0], &mut out);
                buf[0].copy_from_slice(&out);
            });
            let n = assert_bits(
                &format!("L {taps} chunk {chunk}"),
                &streamed,
                std::slice::from_ref(&whole),
                0,
            );
            println!("convolve L = {taps}, chunk {chunk}: {n} frames bit-identical");
        }
        // a window of the whole-song engine is the same slice of the stream
        let (offset, len) = (5000, 70_000);
        let win = convolve::convolve_window(&x0[0], &kernel, offset, len);
        let want: Vec<f32> = (offset..offset + len)
            .map(|i| whole.get(i).copied().unwrap_or(0.0))
            .collect();
        assert_bits(&format!("L {taps} window"), &[win], &[want], 0);
    }
}

/// A song longer than one chunk of the whole-song engine (`SEGMENT_BLOCKS` blocks), so that
/// its delay line moves to the front between chunks; windows starting in the second chunk.
#[test]
fn convolution_across_whole_song_chunks() {
    let frames = (convolve::cpu::SEGMENT_BLOCKS + 300) * BLOCK_FRAMES + 77;
    let x: Vec<f32> = common::noise(frames, 5).iter().map(|&v| v as f32).collect();
    for taps in [1500, 5 * BLOCK_FRAMES + 3] {
        let kernel = Kernel::new(&decaying_ir(taps, 60, 800.0));
        let whole = convolve::convolve(&x, &kernel);
        let spec = spec_convolution(&x, &kernel, convolve::block_count(x.len(), &kernel));
        let n = assert_bits(
            "long song: whole vs spec",
            &[spec],
            std::slice::from_ref(&whole),
            0,
        );
        println!("long song, L = {taps}: whole song = spec, {n} frames");
        let mut st = convolve::cpu::Stream::new(&kernel);
        let mut out = Vec::new();
        let streamed = stream(std::slice::from_ref(&x), 65536, whole.len(), |buf| {
            out.resize(buf[0].len(), 0.0);
            convolve::cpu::process_chunk(&kernel, &mut st, &buf[0], &mut out);
            buf[0].copy_from_slice(&out);
        });
        let n = assert_bits(
            "long song chunk 65536",
            &streamed,
            std::slice::from_ref(&whole),
            0,
        );
        println!("long song, L = {taps}, chunk 65536: {n} frames bit-identical");
        for offset in [1_000_000, 1_050_001] {
            let win = convolve::convolve_window(&x, &kernel, offset, 200_000);
            let want: Vec<f32> = (offset..offset + 200_000)
                .map(|i| whole.get(i).copied().unwrap_or(0.0))
                .collect();
            assert_bits(&format!("long song window at {offset}"), &[win], &[want], 0);
        }
    }
}

/// Checks a planar in-place operator: its whole-song function equals `reference` (the
/// result composed from independent pieces: the engine's window, the section recursion
/// over the whole song, the old per-op formulas), and streaming equals it delayed by
/// `latency`.
fn check_in_place<S>(
    what: &str,
    x: &Planar,
    latency: usize,
    reference: Planar,
    whole: impl Fn(&mut Planar),
    new_stream: impl Fn() -> S,
    chunk_fn: impl Fn(&mut S, &mut Planar),
) {
    let mut got = x.clone();
    whole(&mut got);
    let n = assert_bits(&format!("{what} whole song"), &got, &reference, 0);
    println!("{what}: whole song = reference, {n} frames");
    for chunk in chunk_lengths(x[0].len() + latency) {
        let mut st = new_stream();
        let got = stream(x, chunk, x[0].len() + latency, |buf| chunk_fn(&mut st, buf));
        let n = assert_bits(&format!("{what} chunk {chunk}"), &got, &reference, latency);
        println!("{what}, latency {latency}, chunk {chunk}: {n} frames bit-identical");
    }
}

/// The latency-compensated FIR of a linear-phase [`eq::Eq`] per channel, straight from the
/// engine's window.
fn fir_reference(e: &eq::Eq, x: &Planar) -> Planar {
    let eq::Eq::LinearPhase {
        kernel,
        latency_frames,
    } = e
    else {
        panic!("linear phase expected");
    };
    x.iter()
        .map(|ch| convolve::convolve_window(ch, kernel, *latency_frames, ch.len()))
        .collect()
}

fn eq_bands() -> Vec<BandSpec> {
    let band = |kind, freq_hz, gain_db, q, slope_db_per_oct| BandSpec {
        kind,
        freq_hz,
        gain_db,
        q,
        slope_db_per_oct,
    };
    vec![
        band(BandKind::HighPass, 40.0, 0.0, None, Some(24)),
        band(BandKind::Peak, 250.0, -2.0, Some(1.0), None),
        band(BandKind::Peak, 3000.0, 2.5, Some(1.2), None),
        band(BandKind::HighShelf, 10_000.0, 1.5, None, None),
    ]
}

#[test]
fn eq_streams_match_whole_song() {
    let x = song();
    for mode in [EqMode::MinimumPhase, EqMode::LinearPhase] {
        let e = EqSpec {
            mode,
            bands: eq_bands(),
        }
        .prepare(f64::from(RATE))
        .expect("valid EQ");
        let latency = eq::cpu::latency_frames(&e);
        if mode == EqMode::MinimumPhase {
            assert_eq!(latency, 0);
        } else {
            assert_eq!(
                latency,
                (eq::design::linear_phase_taps(f64::from(RATE)) - 1) / 2
            );
        }
        let reference = match &e {
            eq::Eq::MinimumPhase { sections } => x
                .iter()
                .map(|ch| {
                    let mut y = ch.clone();
                    eq::cpu::run_sections(&mut y, sections);
                    y
                })
                .collect(),
            lin => fir_reference(lin, &x),
        };
        check_in_place(
            &format!("eq {mode:?}"),
            &x,
            latency,
            reference,
            |y| eq::cpu::process(&e, y),
            || eq::cpu::Stream::new(&e, 2),
            |st, buf| eq::cpu::process_chunk(&e, st, buf),
        );
    }
}

#[test]
fn match_eq_stream_matches_apply_cpu() {
    let x = song();
    let curve = MatchCurve {
        band_hz: vec![20.0, 80.0, 400.0, 2000.0, 8000.0, 20_000.0],
        gain_db: vec![0.0, 3.0, -1.0, 0.0, -2.5, 0.0],
    };
    let e = curve.prepare(RATE);
    let latency = eq::cpu::latency_frames(&e);
    assert_eq!(
        latency,
        (mixfarm::ops::match_eq::match_eq_taps(RATE) - 1) / 2
    );
    check_in_place(
        "match EQ",
        &x,
        latency,
        fir_reference(&e, &x),
        |y| curve.apply_cpu(y, RATE),
        || eq::cpu::Stream::new(&e, 2),
        |st, buf| eq::cpu::process_chunk(&e, st, buf),
    );
}

#[test]
fn crossover_streams_match_whole_song() {
    let x = song();
    for kind in [CrossoverKind::LinkwitzRiley, CrossoverKind::LinearPhase] {
        let xo = CrossoverSpec {
            kind,
            freqs_hz: vec![120.0, 1000.0, 6000.0],
        }
        .prepare(f64::from(RATE))
        .expect("valid crossover");
        let latency = crossover::cpu::latency_frames(&xo);
        let want = crossover::cpu::split(&xo, &x);
        for chunk in chunk_lengths(x[0].len() + latency) {
            let mut st = crossover::cpu::Stream::new(&xo, 2);
            let mut bands: Vec<Planar> = vec![Vec::new(); xo.bands()];
            let mut got: Vec<Planar> = vec![vec![Vec::new(); 2]; xo.bands()];
            stream(&x, chunk, x[0].len() + latency, |buf| {
                crossover::cpu::split_chunk(&xo, &mut st, buf, &mut bands);
                for (g, b) in got.iter_mut().zip(&bands) {
                    for (gc, bc) in g.iter_mut().zip(b) {
                        gc.extend_from_slice(bc);
                    }
                }
            });
            let mut n = 0;
            for (b, (g, w)) in got.iter().zip(&want).enumerate() {
                n += assert_bits(
                    &format!("crossover {kind:?} band {b} chunk {chunk}"),
                    g,
                    w,
                    latency,
                );
            }
            println!("crossover {kind:?}, latency {latency}, chunk {chunk}: {n} band frames bit-identical");
        }
    }
}

#[test]
fn multiband_streams_match_whole_song() {
    let x = song();
    for kind in [CrossoverKind::LinkwitzRiley, CrossoverKind::LinearPhase] {
        let crossover = CrossoverSpec {
            kind,
            freqs_hz: vec![150.0, 1500.0, 7000.0],
        }
        .prepare(f64::from(RATE))
        .expect("valid crossover");
        let bands = (0..4)
            .map(|i| {
                let detector = if i % 2 == 0 {
                    Detector::Peak
                } else {
                    Detector::Rms
                };
                compressor::params(
                    -24.0 + 2.0 * i as f64,
                    3.0,
                    6.0,
                    3.0 + i as f64,
                    90.0,
                    1.0,
                    detector,
                    10.0,
                    RATE,
                )
            })
            .collect();
        let mb = Multiband { crossover, bands };
        let latency = multiband::cpu::latency_frames(&mb);
        // split (latency removed), then each band compressed from rest, then summed
        let mut split = crossover::cpu::split(&mb.crossover, &x);
        let mut reference = x.clone();
        multiband::cpu::compress_and_sum(&mb.bands, &mut split, &mut reference);
        check_in_place(
            &format!("multiband {kind:?}"),
            &x,
            latency,
            reference,
            |y| mb.process_cpu(y),
            || multiband::cpu::Stream::new(&mb, 2),
            |st, buf| multiband::cpu::process_chunk(&mb, st, buf),
        );
    }
}

#[test]
fn reverb_streams_match_whole_song() {
    let x = song();
    for (pre_delay_frames, channels_ir) in [(0, 2), (480, 1), (RATE as usize, 2)] {
        let irs: Vec<Vec<f64>> = (0..channels_ir)
            .map(|c| decaying_ir(3 * RATE as usize / 2, 70 + c, 0.25 * RATE as f64))
            .collect();
        let rv = Reverb {
            kernels: irs.iter().map(|h| Kernel::new(h)).collect(),
            ir_frames: irs[0].len(),
            pre_delay_frames,
            wet: 0.3,
            dry: 0.7,
            sample_rate: RATE,
        };
        assert_eq!(reverb::cpu::latency_frames(&rv), 0);
        // wet = the first M − d frames of the convolution placed d frames late, then mixed
        let reference = x
            .iter()
            .enumerate()
            .map(|(c, ch)| {
                let d = pre_delay_frames.min(ch.len());
                let mut wet = vec![0.0f32; ch.len()];
                convolve::convolve_window_into(ch, rv.kernel(c), 0, &mut wet[d..]);
                let mut y = ch.clone();
                reverb::cpu::mix(&mut y, &wet, rv.dry, rv.wet);
                y
            })
            .collect();
        check_in_place(
            &format!("reverb pre-delay {pre_delay_frames}, {channels_ir}-channel IR"),
            &x,
            0,
            reference,
            |y| reverb::cpu::process(&rv, y),
            || reverb::cpu::Stream::new(&rv, 2),
            |st, buf| reverb::cpu::process_chunk(&rv, st, buf),
        );
    }
}
