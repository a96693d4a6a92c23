//! WAV files that ffmpeg and libsndfile read and symphonia's reader alone refuses: an odd-sized
//! chunk before `data` with its pad byte, RIFF/data sizes of 0xFFFFFFFF (ffmpeg writing to a
//! pipe), WAVE_FORMAT_EXTENSIBLE, RF64 and BW64. Every file is built here byte by byte from
//! the RIFF and EBU Tech 3306 (RF64) layouts, and the expected samples are the integers
//! written, divided by 2^15.

use mixfarm::audio::decode::decode_file;
use std::path::Path;

const RATE: u32 = 44_100;
const FRAMES: usize = 1000;

/// Known 16-bit stereo frames: left i·37, right −i·29 (wrapping), as integers.
fn samples() -> Vec<[i16; 2]> {
    (0..FRAMES as i32)
        .map(|i| [(i * 37 % 30000) as i16, (-(i * 29) % 30000) as i16])
        .collect()
}

fn data_bytes() -> Vec<u8> {
    samples()
        .iter()
        .flat_map(|[l, r]| [l.to_le_bytes(), r.to_le_bytes()].concat())
        .collect()
}

/// A plain 16-bit PCM `fmt ` body (WAVE_FORMAT_PCM, 2 channels).
fn fmt_pcm16() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&RATE.to_le_bytes());
    f.extend_from_slice(&(RATE * 4).to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&16u16.to_le_bytes());
    f
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0); // the pad byte, not counted in the size
    }
    c
}

fn riff(form: &[u8; 4], size: u32, chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut b = form.to_vec();
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(b"WAVE");
    for c in chunks {
        b.extend_from_slice(c);
    }
    b
}

fn riff_size(chunks: &[Vec<u8>]) -> u32 {
    4 + chunks.iter().map(|c| c.len() as u32).sum::<u32>()
}

fn assert_reads_samples(path: &Path) {
    let d = decode_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(d.sample_rate, RATE);
    assert_eq!(d.channels.len(), 2);
    assert_eq!(d.frames(), FRAMES, "{}", path.display());
    for (i, [l, r]) in samples().iter().enumerate() {
        assert_eq!(d.channels[0][i], f32::from(*l) / 32768.0, "left {i}");
        assert_eq!(d.channels[1][i], f32::from(*r) / 32768.0, "right {i}");
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn an_odd_sized_list_chunk_and_its_pad_byte_before_data() {
    let dir = tempfile::tempdir().unwrap();
    // LIST/INFO with an odd INAM ("abc" + NUL would be even: "ab" + NUL is 3 bytes)
    let inam = chunk(b"INAM", b"ab\0");
    let mut list = b"INFO".to_vec();
    list.extend_from_slice(&inam[..inam.len() - 1]); // the list's size counts no inner pad
    assert_eq!(list.len() % 2, 1);
    let chunks = vec![
        chunk(b"fmt ", &fmt_pcm16()),
        chunk(b"LIST", &list),
        chunk(b"data", &data_bytes()),
    ];
    let p = write(
        dir.path(),
        "odd-list.wav",
        &riff(b"RIFF", riff_size(&chunks), &chunks),
    );
    assert_reads_samples(&p);
    // an odd chunk of an unknown kind as well
    let chunks = vec![
        chunk(b"fmt ", &fmt_pcm16()),
        chunk(b"junk", b"xyz"),
        chunk(b"data", &data_bytes()),
    ];
    let p = write(
        dir.path(),
        "odd-junk.wav",
        &riff(b"RIFF", riff_size(&chunks), &chunks),
    );
    assert_reads_samples(&p);
}

#[test]
fn riff_and_data_sizes_of_0xffffffff_read_to_the_end_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"data".to_vec();
    data.extend_from_slice(&u32::MAX.to_le_bytes());
    data.extend_from_slice(&data_bytes());
    let chunks = vec![chunk(b"fmt ", &fmt_pcm16()), data.clone()];
    let p = write(dir.path(), "pipe.wav", &riff(b"RIFF", u32::MAX, &chunks));
    assert_reads_samples(&p);
    // a partial frame at the end (a pipe cut mid-frame) is dropped, not an error
    let mut bytes = riff(b"RIFF", u32::MAX, &chunks);
    bytes.extend_from_slice(&[1, 2]);
    let p = write(dir.path(), "pipe-partial.wav", &bytes);
    assert_reads_samples(&p);
}

#[test]
fn wave_format_extensible_pcm() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fmt_pcm16();
    f[0..2].copy_from_slice(&0xFFFEu16.to_le_bytes());
    f.extend_from_slice(&22u16.to_le_bytes()); // cbSize
    f.extend_from_slice(&16u16.to_le_bytes()); // valid bits
    f.extend_from_slice(&3u32.to_le_bytes()); // front left | front right
                                              // KSDATAFORMAT_SUBTYPE_PCM 00000001-0000-0010-8000-00aa00389b71
    f.extend_from_slice(&[
        0x01, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
    ]);
    let chunks = vec![chunk(b"fmt ", &f), chunk(b"data", &data_bytes())];
    let p = write(
        dir.path(),
        "ext.wav",
        &riff(b"RIFF", riff_size(&chunks), &chunks),
    );
    assert_reads_samples(&p);
}

/// An RF64 (or BW64) file: `ds64` holds the RIFF and data sizes, the 32-bit ones are −1.
fn rf64(form: &[u8; 4], extra_chunk: bool) -> Vec<u8> {
    let data = data_bytes();
    let fmt = chunk(b"fmt ", &fmt_pcm16());
    let odd = chunk(b"bext", b"x");
    let mut data_chunk = b"data".to_vec();
    data_chunk.extend_from_slice(&u32::MAX.to_le_bytes());
    data_chunk.extend_from_slice(&data);
    let mut ds = Vec::new();
    let riff_len = 4 + 36 + fmt.len() + if extra_chunk { odd.len() } else { 0 } + data_chunk.len();
    ds.extend_from_slice(&(riff_len as u64).to_le_bytes());
    ds.extend_from_slice(&(data.len() as u64).to_le_bytes());
    ds.extend_from_slice(&(FRAMES as u64).to_le_bytes());
    ds.extend_from_slice(&0u32.to_le_bytes()); // table length
    let mut chunks = vec![chunk(b"ds64", &ds), fmt];
    if extra_chunk {
        chunks.push(odd);
    }
    chunks.push(data_chunk);
    let mut bytes = riff(form, u32::MAX, &chunks);
    bytes.extend_from_slice(&chunk(b"LIST", b"INFOjunk")); // a chunk after the audio
    bytes
}

#[test]
fn rf64_and_bw64_read_their_sizes_from_ds64() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.wav", &rf64(b"RF64", false));
    assert_reads_samples(&p);
    let p = write(dir.path(), "b.wav", &rf64(b"BW64", true));
    assert_reads_samples(&p);
}

#[test]
fn a_truncated_wav_is_still_reported_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let chunks = vec![chunk(b"fmt ", &fmt_pcm16()), chunk(b"data", &data_bytes())];
    let full = riff(b"RIFF", riff_size(&chunks), &chunks);
    let p = write(dir.path(), "cut.wav", &full[..full.len() - 400]);
    let e = decode_file(&p).unwrap_err().to_string();
    assert!(e.contains("cut.wav") && e.contains("truncated"), "{e}");
    // the same cut in an RF64 file (ds64 promises more than the file holds)
    let full = rf64(b"RF64", true);
    let cut = &full[..full.len() - 400 - 16];
    let p = write(dir.path(), "cut64.wav", cut);
    let e = decode_file(&p).unwrap_err().to_string();
    assert!(e.contains("cut64.wav") && e.contains("truncated"), "{e}");
}

#[test]
fn audio_over_4_gib_is_shown_with_unknown_sizes() {
    use mixfarm::audio::wav_chunks::{Layout, View};
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sparse.raw");
    let f = std::fs::File::create(&p).unwrap();
    let data_len = (5u64 << 30) + 4; // 5 GiB + one frame: a sparse file, no disk used
    f.set_len(64 + data_len).unwrap();
    let layout = Layout {
        fmt: fmt_pcm16(),
        data_offset: 64,
        data_len,
        block_align: 4,
        needs_view: true,
    };
    assert_eq!(layout.frames(), (5u64 << 28) + 1);
    let mut v = View::new(std::fs::File::open(&p).unwrap(), layout);
    let mut head = [0u8; 44];
    v.read_exact(&mut head).unwrap();
    assert_eq!(&head[0..4], b"RIFF");
    assert_eq!(&head[4..8], &u32::MAX.to_le_bytes());
    assert_eq!(&head[12..16], b"fmt ");
    assert_eq!(&head[36..40], b"data");
    assert_eq!(&head[40..44], &u32::MAX.to_le_bytes());
    assert_eq!(symphonia::core::io::MediaSource::byte_len(&v), None);
}

#[test]
fn masters_past_the_riff_limit_are_written_as_rf64() {
    use mixfarm::audio::encode::write_wav_atomic;
    use mixfarm::audio::pcm::Pcm;
    use mixfarm::audio::tags::Tags;
    let dir = tempfile::tempdir().unwrap();
    let ints: Vec<i32> = samples()
        .iter()
        .flat_map(|[l, r]| [i32::from(*l), i32::from(*r)])
        .collect();
    let pcm = Pcm::Int {
        bits: 16,
        channels: 2,
        samples: ints,
    };
    let tags = Tags {
        title: Some("Long".into()),
        ..Tags::default()
    };
    // the real limit: a plain RIFF file
    let small = dir.path().join("riff.wav");
    write_wav_atomic(&small, &pcm, RATE, &tags, None, u32::MAX as u64).unwrap();
    assert_eq!(&std::fs::read(&small).unwrap()[0..4], b"RIFF");
    // a threshold under this file's audio forces RF64; its header per EBU Tech 3306
    let big = dir.path().join("rf64.wav");
    write_wav_atomic(&big, &pcm, RATE, &tags, None, 100).unwrap();
    let b = std::fs::read(&big).unwrap();
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
    assert_eq!(&b[0..4], b"RF64");
    assert_eq!(u32_at(4), u32::MAX);
    assert_eq!(&b[8..12], b"WAVE");
    assert_eq!(&b[12..16], b"ds64");
    assert_eq!(u64_at(20), b.len() as u64 - 8, "ds64 RIFF size");
    assert_eq!(u64_at(28), (FRAMES * 4) as u64, "ds64 data size");
    assert_eq!(u64_at(36), FRAMES as u64, "ds64 sample count");
    let fmt = 12 + 8 + u32_at(16) as usize;
    assert_eq!(&b[fmt..fmt + 4], b"fmt ");
    let data = fmt + 8 + u32_at(fmt + 4) as usize;
    assert_eq!(&b[data..data + 4], b"data");
    assert_eq!(u32_at(data + 4), u32::MAX);
    assert_eq!(&b[data + 8..data + 8 + FRAMES * 4], &data_bytes()[..]);
    // the tags follow the audio, and the file reads back
    assert!(b[data + 8 + FRAMES * 4..].windows(4).any(|w| w == b"LIST"));
    assert_reads_samples(&big);
}
