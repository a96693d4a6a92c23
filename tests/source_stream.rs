//! Sources read chunk by chunk (`audio::stream::SourceStream`, what a render streams from
//! disk) equal the whole file decoded and resampled in one go: rubato's own `process_all` on
//! the whole clip is the reference for resampling.

mod common;

use common::{music_like, tempdir, write_f32, write_int};
use mixfarm::audio::decode::decode_file;
use mixfarm::audio::stream::SourceStream;
use rubato::audioadapter::Adapter;
use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

/// Reads the whole stream in chunks of `chunk` frames.
fn read_chunked(s: &mut SourceStream, chunk: usize) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::new(); s.channels()];
    let mut start = 0;
    while start < s.frames() {
        let mut c = vec![vec![7.0f32; chunk]; s.channels()];
        s.read(start, &mut c).expect("read");
        for (o, c) in out.iter_mut().zip(&c) {
            o.extend_from_slice(&c[..chunk.min(s.frames() - start)]);
        }
        start += chunk;
    }
    out
}

/// rubato's whole-clip conversion, cut to round(n · to / from) frames.
fn rubato_whole(x: &[Vec<f32>], from: u32, to: u32) -> Vec<Vec<f32>> {
    let input: Vec<Vec<f64>> = x
        .iter()
        .map(|c| c.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let n_in = input[0].len();
    let mut r = Fft::<f64>::new(
        from as usize,
        to as usize,
        1024,
        input.len(),
        FixedSync::Input,
    )
    .unwrap();
    let a = SequentialSliceOfVecs::new(&input, input.len(), n_in).unwrap();
    let out = r.process_all(&a, n_in, None).unwrap();
    let n = ((n_in as u64 * u64::from(to) + u64::from(from) / 2) / u64::from(from)) as usize;
    (0..out.channels())
        .map(|c| {
            (0..n)
                .map(|f| out.read_sample(c, f).unwrap_or(0.0) as f32)
                .collect()
        })
        .collect()
}

#[test]
fn resampled_stream_equals_the_whole_clip_through_rubato() {
    let dir = tempdir();
    for (from, frames, channels) in [
        (44_100u32, 150_001usize, 2usize),
        (96_000, 100_000, 1),
        (22_050, 1000, 2),
    ] {
        let x: Vec<Vec<f32>> = (0..channels)
            .map(|c| music_like(frames, from, 10 + c as u64))
            .collect();
        let p = dir.path().join(format!("s{from}.wav"));
        write_f32(&p, &x, from);
        let want = rubato_whole(&x, from, 48_000);
        for chunk in [65_536, 7_777, 1_024] {
            let mut s = SourceStream::open(&p, 48_000).unwrap();
            assert_eq!(s.frames(), want[0].len(), "{from} Hz: length");
            assert_eq!(s.channels(), channels);
            let got = read_chunked(&mut s, chunk);
            assert!(
                got == want,
                "{from} Hz, chunks of {chunk}: not the whole-clip result"
            );
            // reading from the start again reopens the file
            let mut again = vec![vec![0.0f32; 500]; channels];
            s.read(0, &mut again).unwrap();
            for (a, w) in again.iter().zip(&want) {
                assert_eq!(a[..], w[..500.min(w.len())], "re-read after reopening");
            }
        }
        println!(
            "{from} Hz, {frames} frames, {channels} ch: stream == rubato process_all, bit for bit"
        );
    }
}

#[test]
fn same_rate_and_compressed_streams_equal_the_decoded_file() {
    let dir = tempdir();
    let p = dir.path().join("int24.wav");
    let x = vec![music_like(70_000, 48_000, 3), music_like(70_000, 48_000, 4)];
    write_int(&p, &x, 48_000, 24);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for path in [
        p,
        fixtures.join("tone.mp3"),
        fixtures.join("tone.ogg"),
        fixtures.join("tone24.flac"),
        fixtures.join("tone.aiff"),
    ] {
        let d = decode_file(&path).unwrap();
        let mut s = SourceStream::open(&path, d.sample_rate).unwrap();
        assert_eq!(s.frames(), d.frames(), "{}: length", path.display());
        let got = read_chunked(&mut s, 4_096);
        assert!(
            got == d.channels,
            "{}: stream differs from the decoded file",
            path.display()
        );
    }
}

#[test]
fn a_truncated_file_fails_when_the_stream_gets_there() {
    let dir = tempdir();
    let p = dir.path().join("cut.wav");
    write_int(&p, &[music_like(100_000, 48_000, 5)], 48_000, 16);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let mut s = SourceStream::open(&p, 48_000).unwrap();
    let mut c = vec![vec![0.0f32; 65_536]];
    s.read(0, &mut c).expect("the first chunk is there");
    let err = s.read(65_536, &mut c).unwrap_err().to_string();
    assert!(
        err.contains("cut.wav") && err.contains("truncated"),
        "{err}"
    );
}
