//! mixfarm writes WAV files itself (hound's header, the samples packed side by side) and
//! quantises in pieces side by side: both must give exactly what hound writing sample by
//! sample, and one dither generator drawn in interleaved order, give.

mod common;

use mixfarm::audio::encode::{quantize, write_wav, DitherRng};
use mixfarm::audio::pcm::Pcm;
use mixfarm::plan::OutputFormat;

/// What the sequential definition gives: the dither drawn in interleaved order.
fn quantised_in_order(x: &[Vec<f32>], bits: u32, seed: u64) -> Vec<i32> {
    let mut rng = DitherRng::new(seed);
    let frames = x[0].len();
    (0..frames)
        .flat_map(|f| x.iter().map(move |ch| ch[f]))
        .map(|v| quantize(v, bits, &mut rng))
        .collect()
}

fn signal(channels: usize, frames: usize) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            (0..frames)
                .map(|i| {
                    (0.9 * ((i * (c + 3)) as f32 * 0.0137).sin())
                        + if i % 977 == 0 { 0.5 } else { 0.0 }
                })
                .collect()
        })
        .collect()
}

#[test]
fn quantising_in_pieces_gives_the_sequential_integers() {
    for (channels, frames) in [(1usize, 0usize), (2, 1), (2, 100_003), (3, 70_001)] {
        let x = signal(channels, frames);
        for (format, bits) in [(OutputFormat::Wav16, 16), (OutputFormat::Wav24, 24)] {
            let Pcm::Int { samples, .. } = Pcm::from_planar(&x, format, 42) else {
                panic!("an integer format quantises to integers");
            };
            assert_eq!(
                samples,
                quantised_in_order(&x, bits, 42),
                "{channels} ch, {frames} frames, {bits} bits"
            );
        }
    }
}

#[test]
fn wav_files_are_the_bytes_hound_writes() {
    let t = common::tempdir();
    for (channels, frames) in [(1usize, 0usize), (1, 1001), (2, 4097), (3, 333)] {
        let x = signal(channels, frames);
        for format in [
            OutputFormat::Wav16,
            OutputFormat::Wav24,
            OutputFormat::Wav32f,
        ] {
            let ours = t.path().join("ours.wav");
            write_wav(&ours, &x, 44_100, format, 7).expect("writes");
            let pcm = Pcm::from_planar(&x, format, 7);
            let theirs = t.path().join("theirs.wav");
            let spec = hound::WavSpec {
                channels: channels as u16,
                sample_rate: 44_100,
                bits_per_sample: format.bits() as u16,
                sample_format: if format.is_float() {
                    hound::SampleFormat::Float
                } else {
                    hound::SampleFormat::Int
                },
            };
            let mut w = hound::WavWriter::create(&theirs, spec).unwrap();
            match &pcm {
                Pcm::Int { samples, .. } => {
                    samples.iter().for_each(|&v| w.write_sample(v).unwrap())
                }
                Pcm::Float { samples, .. } => {
                    samples.iter().for_each(|&v| w.write_sample(v).unwrap())
                }
            }
            w.finalize().unwrap();
            let (a, b) = (
                std::fs::read(&ours).unwrap(),
                std::fs::read(&theirs).unwrap(),
            );
            eprintln!(
                "{channels} ch, {frames} frames, {format}: {} bytes",
                a.len()
            );
            assert!(
                a == b,
                "{channels} ch, {frames} frames, {format}: differs from hound's file"
            );
        }
    }
}
