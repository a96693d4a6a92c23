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

#[test]
fn quantising_rounds_half_away_from_zero_as_f64_round() {
    // the dither is drawn the same way; what differs is only how the sum is rounded, so
    // compare with f64::round on the same draws, across the range and at the ties
    for bits in [16u32, 24] {
        let scale = (1i64 << (bits - 1)) as f64;
        let mut a = DitherRng::new(9);
        let mut b = DitherRng::new(9);
        let mut xs: Vec<f32> = (0..20_000)
            .map(|i| ((i as f32) * 0.000_173).sin() * 1.2)
            .collect();
        xs.extend([
            0.0,
            -0.0,
            1.0,
            -1.0,
            2.0,
            -2.0,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ]);
        xs.extend((0..64).map(|k| (k as f32 - 32.0 + 0.5) / scale as f32));
        for &x in &xs {
            let want = (f64::from(x) * scale + b.tpdf())
                .round()
                .clamp(-scale, scale - 1.0) as i32;
            assert_eq!(quantize(x, bits, &mut a), want, "{x} at {bits} bits");
        }
    }
}

#[test]
fn tagged_wav_files_are_what_lofty_writes_into_the_file() {
    // mixfarm builds a tagged WAV (pad byte, bext chunk, LIST/INFO and id3 chunks) in memory
    // and writes it once: the bytes must be those of writing the plain file and then adding
    // each part to the file on disk (lofty saving into the file)
    use mixfarm::audio::{bext, encode::write_audio_with, tags};
    let t = common::tempdir();
    let tagset = tags::Tags {
        title: Some("Straße at Night".into()),
        artist: Some("The Mixfarm Band".into()),
        album: Some("Night Drive".into()),
        track_number: Some(3),
        track_total: Some(12),
        isrc: Some("QZMF52600003".into()),
        date: Some("2026".into()),
        ..tags::Tags::default()
    };
    let body = b"mixfarm bext body, odd length".to_vec();
    for (channels, frames, format) in [
        (1usize, 1001usize, OutputFormat::Wav24), // odd data chunk: a pad byte
        (2, 4097, OutputFormat::Wav16),
        (2, 500, OutputFormat::Wav32f),
    ] {
        let x = signal(channels, frames);
        let pcm = Pcm::from_planar(&x, format, 3);
        for with_bext in [false, true] {
            let ours = t.path().join("ours.wav");
            let b = with_bext.then_some(body.as_slice());
            write_audio_with(&ours, &pcm, 44_100, format, &tagset, b).expect("writes");
            let theirs = t.path().join("theirs.wav");
            write_wav(&theirs, &x, 44_100, format, 3).expect("writes");
            let mut bytes = std::fs::read(&theirs).unwrap();
            if bytes.len() % 2 == 1 {
                bytes.push(0);
                let riff = (bytes.len() as u32 - 8).to_le_bytes();
                bytes[4..8].copy_from_slice(&riff);
                std::fs::write(&theirs, &bytes).unwrap();
            }
            if let Some(b) = b {
                bext::insert_before_data(&theirs, b).unwrap();
            }
            tags::write_tags(&theirs, false, &tagset).unwrap();
            let (a, b) = (
                std::fs::read(&ours).unwrap(),
                std::fs::read(&theirs).unwrap(),
            );
            eprintln!(
                "{channels} ch, {frames} frames, {format}, bext {with_bext}: {} bytes",
                a.len()
            );
            assert!(
                a == b,
                "{channels} ch, {frames} frames, {format}, bext {with_bext}: differs"
            );
        }
    }
}
