//! FLAC output and tags: bit-exact round trips checked by two decoders (symphonia and claxon),
//! the STREAMINFO MD5 against an MD5 computed here, corruption caught by `verify_flac`, tags
//! read back by an independent reader (lofty), untagged WAV bytes unchanged, ISRC checks.

mod common;

use std::path::Path;

use common::*;
use lofty::prelude::*;
use lofty::tag::TagType;
use md5::{Digest, Md5};
use mixfarm::audio::encode::{quantize, write_audio, write_wav, DitherRng};
use mixfarm::audio::flac::{decode_flac, encode_flac, verify_flac, FLAC_BLOCK_FRAMES};
use mixfarm::audio::pcm::Pcm;
use mixfarm::audio::tags::{validate_isrc, Tags};
use mixfarm::plan::OutputFormat;
use mixfarm::render::{render_batch, Backend, RenderOptions};

const RATE: u32 = 44_100;

/// Planar test audio: music-like channels plus a burst of full-scale noise and both
/// full-scale extremes (the hardest case for a FLAC encoder: verbatim subframes, clamps).
fn signal(frames: usize, channels: usize, seed: u64) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            let mut x = music_like(frames, RATE, seed + c as u64);
            let mut s = seed ^ 0x5eed ^ c as u64;
            for (i, v) in x.iter_mut().enumerate() {
                if (5000..5600).contains(&i) {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                    *v = ((s >> 33) as f64 / (1u64 << 31) as f64 * 2.0 - 1.0) as f32;
                } else if i == 6000 {
                    *v = 1.5;
                } else if i == 6001 {
                    *v = -1.5;
                }
            }
            x
        })
        .collect()
}

/// FLAC's MD5, computed independently: signed little-endian samples, `bits / 8` bytes each.
fn md5_oracle(samples: &[i32], bits: u32) -> [u8; 16] {
    let bytes: Vec<u8> = samples
        .iter()
        .flat_map(|s| s.to_le_bytes()[..(bits / 8) as usize].to_vec())
        .collect();
    Md5::digest(&bytes).into()
}

fn ints(pcm: &Pcm) -> (u32, usize, &[i32]) {
    match pcm {
        Pcm::Int {
            bits,
            channels,
            samples,
        } => (*bits, *channels, samples),
        Pcm::Float { .. } => panic!("expected integers"),
    }
}

/// Encodes `pcm`, verifies it, decodes it with symphonia and claxon and checks every sample,
/// the length, the STREAMINFO fields and its MD5 against [`md5_oracle`]. Returns the bytes.
fn check_round_trip(pcm: &Pcm) -> Vec<u8> {
    let (bits, channels, src) = ints(pcm);
    let frames = pcm.frames();
    let bytes = encode_flac(pcm, RATE).unwrap();
    verify_flac(&bytes, pcm, RATE).unwrap();

    // symphonia
    let d = decode_flac(&bytes).unwrap();
    let shift = 32 - bits;
    assert_eq!(d.samples.len(), src.len(), "symphonia length");
    assert!(d.samples.iter().zip(src).all(|(a, b)| a >> shift == *b));

    // claxon, an independent decoder
    let mut r = claxon::FlacReader::new(std::io::Cursor::new(&bytes)).unwrap();
    let info = r.streaminfo();
    assert_eq!(info.bits_per_sample, bits);
    assert_eq!(info.channels as usize, channels);
    assert_eq!(info.sample_rate, RATE);
    assert_eq!(info.samples, Some(frames as u64));
    assert_eq!(info.min_block_size, info.max_block_size);
    assert_eq!(info.max_block_size as usize, FLAC_BLOCK_FRAMES);
    assert_eq!(info.md5sum, md5_oracle(src, bits), "STREAMINFO MD5");
    let c: Vec<i32> = r.samples().map(|s| s.unwrap()).collect();
    assert_eq!(c.len(), src.len(), "claxon length");
    assert!(c == src, "claxon samples differ");
    bytes
}

/// Bytes FLAC may add over the raw samples: "fLaC" + STREAMINFO (42), libFLAC's vendor
/// comment block (4-byte header, 4-byte length, a vendor string of well under 64 bytes,
/// 4-byte count), and per frame at most a 16-byte header, one subframe header byte per
/// channel and the 2-byte CRC.
fn flac_overhead_bytes(frames: usize, channels: usize) -> usize {
    42 + (4 + 4 + 64 + 4) + frames.div_ceil(FLAC_BLOCK_FRAMES) * (16 + channels + 2)
}

#[test]
fn flac_round_trips_bit_exactly_with_two_decoders() {
    let lengths = [
        4096 * 3 + 77,
        1,
        FLAC_BLOCK_FRAMES - 1,
        FLAC_BLOCK_FRAMES,
        6003,
    ];
    for format in [OutputFormat::Flac16, OutputFormat::Flac24] {
        for channels in [2, 1] {
            for &frames in &lengths {
                let pcm = Pcm::from_planar(&signal(frames, channels, 7), format, 99);
                assert_eq!(pcm.frames(), frames);
                let bytes = check_round_trip(&pcm);
                let raw = frames * channels * (format.bits() as usize / 8);
                assert!(bytes.len() <= raw + flac_overhead_bytes(frames, channels));
                println!(
                    "{format} {channels} ch {frames} frames: {} bytes, raw {raw}, ratio {:.3}",
                    bytes.len(),
                    bytes.len() as f64 / raw as f64
                );
            }
        }
    }
}

/// Loud wideband 24-bit blocks (flacenc 0.5.1, used before libFLAC, made frames up to 2700×
/// larger than the samples here): no frame may be larger than its verbatim coding.
#[test]
fn loud_24_bit_noise_is_never_larger_than_raw() {
    let frames = 4096 * 4 + 5;
    for channels in [2, 1] {
        let mut s = 77u64;
        let x: Vec<Vec<f32>> = (0..channels)
            .map(|_| {
                (0..frames)
                    .map(|i| {
                        // block k: noise at ±2^(16 + 2k) of 2^23 (1/128 of full scale … full)
                        let amp = 2f64.powi(16 + 2 * (i / 4096).min(3) as i32 - 23);
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                        (((s >> 33) as f64 / (1u64 << 31) as f64 * 2.0 - 1.0) * amp) as f32
                    })
                    .collect()
            })
            .collect();
        let pcm = Pcm::from_planar(&x, OutputFormat::Flac24, 5);
        let bytes = check_round_trip(&pcm);
        let raw = frames * channels * 3;
        println!(
            "24-bit noise {channels} ch {frames} frames: {} bytes, raw {raw}, ratio {:.4}",
            bytes.len(),
            bytes.len() as f64 / raw as f64
        );
        assert!(bytes.len() <= raw + flac_overhead_bytes(frames, channels));
    }
}

#[test]
fn corruption_is_caught_by_verify_flac() {
    let pcm = Pcm::from_planar(&signal(4096 * 2 + 500, 2, 3), OutputFormat::Flac24, 1);
    let bytes = encode_flac(&pcm, RATE).unwrap();
    verify_flac(&bytes, &pcm, RATE).unwrap();
    // a byte in the middle of the audio frames
    let mut bad = bytes.clone();
    let at = bytes.len() / 2;
    bad[at] ^= 0x10;
    let e = verify_flac(&bad, &pcm, RATE).unwrap_err();
    println!("frame byte {at} flipped: {e}");
    // the stored MD5 alone
    let mut bad = bytes.clone();
    bad[26] ^= 0x01;
    let e = verify_flac(&bad, &pcm, RATE).unwrap_err();
    println!("MD5 byte flipped: {e}");
    assert!(e.contains("MD5"), "{e}");
    // other samples than the ones encoded
    let other = Pcm::from_planar(&signal(4096 * 2 + 500, 2, 3), OutputFormat::Flac24, 2);
    assert!(verify_flac(&bytes, &other, RATE).is_err());
    // float samples are refused
    let float = Pcm::from_planar(&signal(100, 2, 3), OutputFormat::Wav32f, 0);
    assert!(encode_flac(&float, RATE).is_err());
}

fn full_tags() -> Tags {
    Tags {
        title: Some("Straße at Night".into()),
        artist: Some("The Mixfarm Band".into()),
        album: Some("Night Drive".into()),
        album_artist: Some("Various".into()),
        track_number: Some(3),
        track_total: Some(12),
        isrc: Some("QZMF52600003".into()),
        date: Some("2026".into()),
        ..Tags::default()
    }
}

#[test]
fn flac_tags_read_back_with_lofty_and_claxon() {
    let dir = tempdir();
    let path = dir.path().join("t.flac");
    let pcm = Pcm::from_planar(&signal(10_000, 2, 5), OutputFormat::Flac16, 4);
    let tags = full_tags();
    write_audio(&path, &pcm, RATE, OutputFormat::Flac16, &tags).unwrap();
    let file = lofty::read_from_path(&path).unwrap();
    let t = file.tag(TagType::VorbisComments).expect("Vorbis comments");
    assert_eq!(t.title().as_deref(), Some("Straße at Night"));
    assert_eq!(t.artist().as_deref(), Some("The Mixfarm Band"));
    assert_eq!(t.album().as_deref(), Some("Night Drive"));
    assert_eq!(t.track(), Some(3));
    assert_eq!(t.track_total(), Some(12));
    assert_eq!(t.get_string(ItemKey::Isrc), Some("QZMF52600003"));
    assert_eq!(t.get_string(ItemKey::AlbumArtist), Some("Various"));
    assert_eq!(t.get_string(ItemKey::RecordingDate), Some("2026"));
    let r = claxon::FlacReader::open(&path).unwrap();
    assert_eq!(r.get_tag("ISRC").next(), Some("QZMF52600003"));
    // the vendor string names the library that encoded the frames (libFLAC, kept by lofty);
    // the ENCODER comment names mixfarm
    assert!(
        r.vendor().is_some_and(|v| v.contains("libFLAC")),
        "{:?}",
        r.vendor()
    );
    assert!(r
        .get_tag("ENCODER")
        .next()
        .is_some_and(|v| v.starts_with("mixfarm ")));
    let bytes = std::fs::read(&path).unwrap();
    verify_flac(&bytes, &pcm, RATE).unwrap();
    println!("tagged FLAC: {} bytes", bytes.len());
}

/// Walks the RIFF chunks: sizes consistent, every chunk at an even offset. Returns the ids.
fn riff_chunks(b: &[u8]) -> Vec<String> {
    assert_eq!(&b[..4], b"RIFF");
    let riff = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff + 8, b.len(), "RIFF size");
    assert_eq!(b.len() % 2, 0, "RIFF length must be even");
    let mut ids = Vec::new();
    let mut at = 12;
    while at < b.len() {
        let size = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        ids.push(String::from_utf8_lossy(&b[at..at + 4]).into_owned());
        at += 8 + size + size % 2;
    }
    assert_eq!(at, b.len(), "chunks must end at the end of the file");
    ids
}

fn check_wav_tags(path: &Path, tags: &Tags) {
    let file = lofty::read_from_path(path).unwrap();
    let info = file.tag(TagType::RiffInfo).expect("RIFF INFO");
    assert_eq!(info.title().as_deref(), tags.title.as_deref());
    assert_eq!(info.artist().as_deref(), tags.artist.as_deref());
    assert_eq!(info.album().as_deref(), tags.album.as_deref());
    assert_eq!(info.track(), tags.track_number);
    let id3 = file.tag(TagType::Id3v2).expect("ID3v2");
    assert_eq!(id3.title().as_deref(), tags.title.as_deref());
    assert_eq!(id3.artist().as_deref(), tags.artist.as_deref());
    assert_eq!(id3.album().as_deref(), tags.album.as_deref());
    assert_eq!(id3.track(), tags.track_number);
    assert_eq!(id3.track_total(), tags.track_total);
    assert_eq!(id3.get_string(ItemKey::Isrc), tags.isrc.as_deref());
    assert_eq!(
        id3.get_string(ItemKey::AlbumArtist),
        tags.album_artist.as_deref()
    );
    assert_eq!(id3.get_string(ItemKey::RecordingDate), tags.date.as_deref());
}

#[test]
fn wav_tags_read_back_with_lofty_and_samples_stay() {
    let dir = tempdir();
    // 24-bit mono with an odd frame count: the data chunk has an odd size (pad byte needed)
    for (format, channels, frames) in [
        (OutputFormat::Wav24, 2, 3000),
        (OutputFormat::Wav24, 1, 3001),
        (OutputFormat::Wav16, 2, 3001),
        (OutputFormat::Wav32f, 2, 1000),
    ] {
        let x = signal(frames, channels, 8);
        let (plain, tagged) = (dir.path().join("plain.wav"), dir.path().join("tagged.wav"));
        write_wav(&plain, &x, RATE, format, 42).unwrap();
        let pcm = Pcm::from_planar(&x, format, 42);
        let tags = full_tags();
        write_audio(&tagged, &pcm, RATE, format, &tags).unwrap();
        let (pb, tb) = (
            std::fs::read(&plain).unwrap(),
            std::fs::read(&tagged).unwrap(),
        );
        let ids = riff_chunks(&tb);
        // lofty writes the ID3 chunk as `ID3 ` (readers take either case)
        let tail: Vec<String> = ids[ids.len() - 2..]
            .iter()
            .map(|i| i.to_lowercase())
            .collect();
        assert_eq!(tail, ["list", "id3 "], "{ids:?}");
        check_wav_tags(&tagged, &tags);
        let (a, sa) = read_wav(&plain);
        let (b, sb) = read_wav(&tagged);
        assert_eq!(sa, sb);
        assert!(a == b, "hound reads different samples from the tagged file");
        // and our own reader (symphonia) reads the tagged file too
        let d = mixfarm::audio::decode::decode_file(&tagged).unwrap();
        assert_eq!(d.channels.len(), channels);
        assert!(d.channels[0].len() == frames, "symphonia length");
        assert_eq!(a[0].len(), frames);
        println!(
            "{format} {channels} ch {frames} frames: plain {} bytes, tagged {} bytes, chunks {ids:?}",
            pb.len(),
            tb.len()
        );
    }
}

/// The bytes `write_wav` produced before this change, rebuilt from hound and `quantize`.
fn old_write_wav(channels: &[Vec<f32>], format: OutputFormat, seed: u64) -> Vec<u8> {
    let (bits, float) = match format {
        OutputFormat::Wav16 => (16, false),
        OutputFormat::Wav24 => (24, false),
        _ => (32, true),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: RATE,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut cur = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
    let mut rng = DitherRng::new(seed);
    for f in 0..channels[0].len() {
        for ch in channels {
            if float {
                w.write_sample(ch[f]).unwrap();
            } else {
                w.write_sample(quantize(ch[f], u32::from(bits), &mut rng))
                    .unwrap();
            }
        }
    }
    w.finalize().unwrap();
    cur.into_inner()
}

#[test]
fn untagged_wav_is_byte_identical_to_plain_hound_output() {
    let dir = tempdir();
    for format in [
        OutputFormat::Wav16,
        OutputFormat::Wav24,
        OutputFormat::Wav32f,
    ] {
        let x = signal(2001, 2, 9);
        let p = dir.path().join(format!("{format}.wav"));
        write_wav(&p, &x, RATE, format, 1234).unwrap();
        let got = std::fs::read(&p).unwrap();
        assert!(
            got == old_write_wav(&x, format, 1234),
            "{format} bytes changed"
        );
        let q = dir.path().join(format!("{format}-b.wav"));
        let pcm = Pcm::from_planar(&x, format, 1234);
        write_audio(&q, &pcm, RATE, format, &Tags::default()).unwrap();
        assert!(std::fs::read(&q).unwrap() == got);
        println!("{format}: {} bytes, identical", got.len());
    }
}

#[test]
fn isrc_validation() {
    let ok = [
        ("GBAYE2600001", "GBAYE2600001"),
        ("GB-AYE-26-00001", "GBAYE2600001"),
        ("us-s1z-99-00001", "USS1Z9900001"),
        (" QZMF52600003 ", "QZMF52600003"),
    ];
    for (input, want) in ok {
        assert_eq!(validate_isrc(input).as_deref(), Ok(want), "{input}");
    }
    for bad in [
        "GBAYE260000",   // 11 characters
        "GBAYE26000012", // 13
        "G1AYE2600001",  // country not letters
        "12AYE2600001",  // country digits
        "GBA_E2600001",  // registrant punctuation
        "GBAYEX600001",  // year not digits
        "GBAYE260000A",  // designation not digits
        "GBÄYE2600001",  // non-ASCII
        "",
    ] {
        let e = validate_isrc(bad).unwrap_err();
        println!("{bad:?}: {e}");
    }
}

#[test]
fn output_format_names_and_pcm_helpers() {
    for (s, f) in [
        ("wav16", OutputFormat::Wav16),
        ("wav24", OutputFormat::Wav24),
        ("wav32f", OutputFormat::Wav32f),
        ("flac16", OutputFormat::Flac16),
        ("flac24", OutputFormat::Flac24),
        ("flac", OutputFormat::Flac24),
        ("wav", OutputFormat::Wav24),
        ("FLAC16", OutputFormat::Flac16),
    ] {
        assert_eq!(s.parse::<OutputFormat>(), Ok(f));
    }
    let e = "mp3".parse::<OutputFormat>().unwrap_err();
    assert!(e.contains("flac24") && e.contains("wav32f"), "{e}");
    assert_eq!(OutputFormat::Flac16.extension(), "flac");
    assert_eq!(OutputFormat::Wav32f.extension(), "wav");
    assert_eq!(OutputFormat::Flac24.bits(), 24);
    assert!(OutputFormat::Wav32f.is_float() && !OutputFormat::Flac16.is_float());
    #[derive(serde::Deserialize)]
    struct F {
        format: OutputFormat,
    }
    let f: F = toml::from_str("format = \"flac16\"").unwrap();
    assert_eq!(f.format, OutputFormat::Flac16);

    let mut a = Pcm::from_planar(&signal(10, 2, 1), OutputFormat::Wav24, 0);
    let gap = a.silence_like(5);
    assert_eq!((gap.frames(), gap.channels(), gap.bits()), (5, 2, 24));
    a.append(&gap).unwrap();
    assert_eq!(a.frames(), 15);
    assert!(ints(&a).2[20..].iter().all(|&s| s == 0));
    let b16 = Pcm::from_planar(&signal(10, 2, 1), OutputFormat::Wav16, 0);
    assert!(a.append(&b16).is_err());
    let mono = Pcm::from_planar(&signal(10, 1, 1), OutputFormat::Wav24, 0);
    assert!(a.append(&mono).is_err());
    let float = Pcm::from_planar(&signal(10, 2, 1), OutputFormat::Wav32f, 0);
    assert!(a.append(&float).is_err());
    // a Pcm that does not match the format is refused
    let dir = tempdir();
    let p = dir.path().join("x.wav");
    assert!(write_audio(&p, &b16, RATE, OutputFormat::Wav24, &Tags::default()).is_err());
    assert!(!p.exists());
}

#[test]
fn scene_renders_flac_with_its_metadata_as_tags() {
    let dir = tempdir();
    let d = dir.path();
    write_f32(&d.join("x.wav"), &[music_like(4800, 48_000, 3)], 48_000);
    let scene = write_text(
        d,
        "s.toml",
        "sample_rate = 48000\n[metadata]\ntitle = \"One\"\nartist = \"A\"\nalbum = \"B\"\n\
         track_number = 2\nisrc = \"qz-mf5-26-00002\"\n[output]\nformat = \"flac24\"\n\
         [[track]]\nname = \"x\"\nfile = \"x.wav\"\n",
    );
    let out = d.join("out");
    let r = render_batch(
        &[scene],
        &RenderOptions {
            out_dir: out.clone(),
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(r.ok(), 1, "{:#?}", r.songs);
    let path = out.join("One.flac");
    let file = lofty::read_from_path(&path).unwrap();
    let t = file.tag(TagType::VorbisComments).expect("tags");
    assert_eq!(t.title().as_deref(), Some("One"));
    assert_eq!(t.track(), Some(2));
    assert_eq!(t.get_string(ItemKey::Isrc), Some("QZMF52600002"));
    let c = claxon::FlacReader::open(&path).unwrap();
    assert_eq!(c.streaminfo().bits_per_sample, 24);
    // a bad ISRC is a scene error naming the field
    let bad = write_text(
        d,
        "bad.toml",
        "sample_rate = 48000\n[metadata]\nisrc = \"GB-AYE-26\"\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n",
    );
    let r = render_batch(
        &[bad],
        &RenderOptions {
            out_dir: out,
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    let e = format!("{:?}", r.songs[0].error);
    println!("{e}");
    assert!(e.contains("isrc"), "{e}");
}
