//! Issue 13 item 2: every source's tags travel into every output. Sources are tagged here
//! with lofty (Vorbis comments in FLAC, ID3v2 and RIFF INFO in WAV); the outputs are read
//! back with lofty and compared with the values written into the inputs. A manifest
//! overrides per field; output names are `NN - Title` in folder mode too. ReplayGain 2.0
//! tags and the broadcast delivery's BWF `bext` loudness fields are checked against ebur128
//! and the f64 true-peak oracle measuring the written files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use lofty::config::WriteOptions;
use lofty::id3::v2::Id3v2Tag;
use lofty::iff::wav::RiffInfoList;
use lofty::ogg::tag::VorbisComments;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::*;
use lofty::tag::{Tag, TagType};
use mixfarm::audio::encode::write_wav;
use mixfarm::plan::OutputFormat;

/// A 1×1 PNG image.
const PNG: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

fn master(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .args(args)
        .args(["--backend", "cpu"])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), err)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn audio(path: &Path, format: OutputFormat, seed: u64) {
    let rate = 44_100;
    let x = [
        common::music_like(3 * rate as usize, rate, seed),
        common::music_like(3 * rate as usize, rate, seed + 1),
    ];
    write_wav(path, &x, rate, format, seed).unwrap();
}

/// What a source carries (and its outputs must carry).
struct Source {
    title: &'static str,
    track: u32,
    isrc: &'static str,
}

const COMMON: [(ItemKey, &str); 7] = [
    (ItemKey::TrackArtist, "The Mixfarm Band"),
    (ItemKey::AlbumTitle, "Night Drive"),
    (ItemKey::AlbumArtist, "Various Artists"),
    (ItemKey::RecordingDate, "1999-04-01"),
    (ItemKey::Genre, "Jazz"),
    (ItemKey::TrackTotal, "12"),
    (ItemKey::DiscTotal, "2"),
];

fn fill(tag: &mut Tag, src: &Source) {
    for (k, v) in COMMON {
        tag.insert_text(k, v.into());
    }
    tag.insert_text(ItemKey::TrackTitle, src.title.into());
    tag.insert_text(ItemKey::TrackNumber, src.track.to_string());
    tag.insert_text(ItemKey::DiscNumber, "1".into());
    tag.insert_text(ItemKey::Isrc, src.isrc.into());
    tag.push_picture(
        Picture::unchecked(PNG.to_vec())
            .pic_type(PictureType::CoverFront)
            .mime_type(MimeType::Png)
            .build(),
    );
}

/// A FLAC tagged with Vorbis comments and a cover.
fn tagged_flac(dir: &Path, name: &str, src: &Source) -> PathBuf {
    let p = dir.join(name);
    audio(&p, OutputFormat::Flac24, u64::from(src.track));
    let mut tag = Tag::new(TagType::VorbisComments);
    fill(&mut tag, src);
    VorbisComments::from(tag)
        .save_to_path(&p, WriteOptions::default())
        .unwrap();
    p
}

/// A WAV tagged with ID3v2 only.
fn id3_wav(dir: &Path, name: &str, src: &Source) -> PathBuf {
    let p = dir.join(name);
    audio(&p, OutputFormat::Wav24, u64::from(src.track));
    let mut tag = Tag::new(TagType::Id3v2);
    fill(&mut tag, src);
    Id3v2Tag::from(tag)
        .save_to_path(&p, WriteOptions::default())
        .unwrap();
    p
}

/// A WAV with a RIFF INFO title and track number only.
fn info_wav(dir: &Path, name: &str, title: &str, track: u32) -> PathBuf {
    let p = dir.join(name);
    audio(&p, OutputFormat::Wav16, u64::from(track));
    let mut tag = Tag::new(TagType::RiffInfo);
    tag.insert_text(ItemKey::TrackTitle, title.into());
    tag.insert_text(ItemKey::TrackNumber, track.to_string());
    RiffInfoList::from(tag)
        .save_to_path(&p, WriteOptions::default())
        .unwrap();
    p
}

fn check_full(tag: &Tag, src: &Source, what: &str) {
    assert_eq!(tag.title().as_deref(), Some(src.title), "{what}");
    assert_eq!(tag.track(), Some(src.track), "{what}");
    assert_eq!(tag.track_total(), Some(12), "{what}");
    assert_eq!(tag.disk(), Some(1), "{what}");
    assert_eq!(tag.disk_total(), Some(2), "{what}");
    assert_eq!(tag.get_string(ItemKey::Isrc), Some(src.isrc), "{what}");
    for (k, v) in COMMON.iter().take(5) {
        assert_eq!(tag.get_string(*k), Some(*v), "{what}: {k:?}");
    }
    let pic = tag
        .pictures()
        .first()
        .unwrap_or_else(|| panic!("{what}: no cover"));
    assert_eq!(pic.data(), &PNG[..], "{what}: cover bytes");
    assert_eq!(pic.pic_type(), PictureType::CoverFront, "{what}");
}

const SEVEN: Source = Source {
    title: "Night Train",
    track: 7,
    isrc: "QZMF52600007",
};
const EIGHT: Source = Source {
    title: "Day Bus",
    track: 8,
    isrc: "QZMF52600008",
};

#[test]
fn folder_mode_carries_every_source_tag_into_flac_and_wav() {
    let t = common::tempdir();
    let album = t.path().join("box");
    std::fs::create_dir(&album).unwrap();
    // file names in the opposite order of the track numbers: the tags order the album
    tagged_flac(&album, "a.flac", &EIGHT);
    id3_wav(&album, "b.wav", &SEVEN);
    let out = t.path().join("out");
    let (code, err) = master(&[s(&album), "--out", s(&out), "--format", "flac,wav"]);
    assert_eq!(code, 0, "{err}");
    let dir = out.join("streaming").join("box");
    for src in [&SEVEN, &EIGHT] {
        let stem = format!("{:02} - {}", src.track, src.title);
        let f = lofty::read_from_path(dir.join(format!("{stem}.flac"))).unwrap();
        check_full(f.tag(TagType::VorbisComments).unwrap(), src, &stem);
        let w = lofty::read_from_path(dir.join(format!("{stem}.wav"))).unwrap();
        check_full(w.tag(TagType::Id3v2).unwrap(), src, &format!("{stem}.wav"));
        let info = w.tag(TagType::RiffInfo).expect("RIFF INFO");
        assert_eq!(info.title().as_deref(), Some(src.title));
        assert_eq!(info.track(), Some(src.track));
    }
    // the album file's sidecar order follows the tags: 7 before 8
    let side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("07 - Night Train.json")).unwrap())
            .unwrap();
    assert_eq!(side["track_number"], 7);
    assert_eq!(side["isrc"], "QZMF52600007");
}

#[test]
fn riff_info_source_and_manifest_override_per_field() {
    let t = common::tempdir();
    let src = t.path().join("src");
    std::fs::create_dir(&src).unwrap();
    tagged_flac(&src, "seven.flac", &SEVEN);
    info_wav(&src, "dusk.wav", "Dusk", 10);
    // the manifest gives a title and an album for seven.flac, and nothing but the file for
    // dusk.wav: every other field comes from the sources
    let manifest = common::write_text(
        t.path(),
        "m.csv",
        "file,title,album,isrc\nsrc/seven.flac,Manifest Title,Manifest Album,\nsrc/dusk.wav,,Manifest Album,\n",
    );
    let out = t.path().join("out");
    let (code, err) = master(&[
        "--manifest",
        s(&manifest),
        "--out",
        s(&out),
        "--format",
        "flac",
    ]);
    assert_eq!(code, 0, "{err}");
    let dir = out.join("streaming").join("Manifest Album");
    let f = lofty::read_from_path(dir.join("07 - Manifest Title.flac")).unwrap();
    let tag = f.tag(TagType::VorbisComments).unwrap();
    assert_eq!(tag.title().as_deref(), Some("Manifest Title"));
    assert_eq!(tag.album().as_deref(), Some("Manifest Album"));
    assert_eq!(tag.get_string(ItemKey::Isrc), Some("QZMF52600007"));
    assert_eq!(tag.artist().as_deref(), Some("The Mixfarm Band"));
    assert_eq!(tag.get_string(ItemKey::Genre), Some("Jazz"));
    assert_eq!(tag.pictures().len(), 1);
    let d = lofty::read_from_path(dir.join("10 - Dusk.flac")).unwrap();
    let tag = d.tag(TagType::VorbisComments).unwrap();
    assert_eq!(tag.title().as_deref(), Some("Dusk"));
    assert_eq!(tag.track(), Some(10));
}

/// A RIFF chunk's body by id, and the ids in order.
fn chunks(b: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= b.len() {
        let size = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        let id = String::from_utf8_lossy(&b[at..at + 4]).into_owned();
        out.push((id, b[at + 8..(at + 8 + size).min(b.len())].to_vec()));
        at += 8 + size + size % 2;
    }
    out
}

fn measure(x: &[Vec<f32>], rate: u32) -> (f64, f64, f64) {
    let mode = ebur128::Mode::I | ebur128::Mode::LRA;
    let mut m = ebur128::EbuR128::new(x.len() as u32, rate, mode).unwrap();
    let refs: Vec<&[f32]> = x.iter().map(Vec::as_slice).collect();
    m.add_frames_planar_f32(&refs).unwrap();
    (
        m.loudness_global().unwrap(),
        m.loudness_range().unwrap(),
        common::true_peak_oracle::true_peak_dbtp(x),
    )
}

#[test]
fn broadcast_bext_loudness_and_replaygain_match_the_written_audio() {
    let t = common::tempdir();
    let src = t.path().join("Programme.wav");
    let rate = 44_100;
    let frames = 12 * rate as usize;
    common::write_f32(
        &src,
        &[
            common::music_like(frames, rate, 21),
            common::music_like(frames, rate, 22),
        ],
        rate,
    );
    let out = t.path().join("out");
    let (code, err) = master(&[
        s(&src),
        "--out",
        s(&out),
        "--deliver",
        "broadcast",
        "--format",
        "wav,flac",
        "--replaygain",
    ]);
    assert_eq!(code, 0, "{err}");
    let dir = out.join("broadcast").join("Singles");
    let wav = dir.join("Programme.wav");
    let bytes = std::fs::read(&wav).unwrap();
    let ch = chunks(&bytes);
    let ids: Vec<&str> = ch.iter().map(|(i, _)| i.as_str()).collect();
    let (b, d) = (
        ids.iter().position(|&i| i == "bext").expect("a bext chunk"),
        ids.iter().position(|&i| i == "data").unwrap(),
    );
    assert!(b < d, "bext before data: {ids:?}");
    let bext = &ch[b].1;
    assert!(bext.len() >= 602);
    let i16_at = |o: usize| f64::from(i16::from_le_bytes([bext[o], bext[o + 1]])) / 100.0;
    assert_eq!(
        u16::from_le_bytes([bext[346], bext[347]]),
        2,
        "bext version"
    );
    let (x, spec) = common::read_wav(&wav);
    assert_eq!(spec.sample_rate, 48_000, "broadcast delivers 48 kHz");
    let (lufs, lra, tp) = measure(&x, spec.sample_rate);
    println!(
        "bext: I {} LRA {} TP {} M {} S {}; measured I {lufs:.2} LRA {lra:.2} TP {tp:.2}",
        i16_at(412),
        i16_at(414),
        i16_at(416),
        i16_at(418),
        i16_at(420)
    );
    assert!((i16_at(412) - lufs).abs() <= 0.02, "LoudnessValue");
    assert!((i16_at(414) - lra).abs() <= 0.1, "LoudnessRange");
    assert!((i16_at(416) - tp).abs() <= 0.1, "MaxTruePeakLevel");
    let (m, st) = (i16_at(418), i16_at(420));
    assert!(
        m >= lufs && st <= m + 0.01 && st > lufs - 10.0,
        "M {m} S {st}"
    );
    // ReplayGain 2.0: −18 LUFS reference, in the WAV's ID3 and the FLAC's Vorbis comments
    let parse = |v: Option<&str>| -> f64 {
        v.expect("ReplayGain tag")
            .trim_end_matches(" dB")
            .trim()
            .parse()
            .unwrap()
    };
    let w = lofty::read_from_path(&wav).unwrap();
    let f = lofty::read_from_path(dir.join("Programme.flac")).unwrap();
    for tag in [
        w.tag(TagType::Id3v2).unwrap(),
        f.tag(TagType::VorbisComments).unwrap(),
    ] {
        let gain = parse(tag.get_string(ItemKey::ReplayGainTrackGain));
        assert!(
            (gain - (-18.0 - lufs)).abs() <= 0.02,
            "gain {gain}, measured {lufs}"
        );
        let peak = parse(tag.get_string(ItemKey::ReplayGainTrackPeak));
        let want = 10f64.powf(tp / 20.0);
        assert!((peak / want - 1.0).abs() < 0.012, "peak {peak} vs {want}");
    }
}

#[test]
fn album_mode_replaygain_album_gain_and_peak_match_the_album() {
    let t = common::tempdir();
    let album = t.path().join("Pair");
    std::fs::create_dir(&album).unwrap();
    let rate = 44_100;
    for (name, level, seed) in [("1 loud.wav", 1.0f32, 31), ("2 soft.wav", 0.25, 33)] {
        let frames = 6 * rate as usize;
        let ch = |s| -> Vec<f32> {
            common::music_like(frames, rate, s)
                .iter()
                .map(|x| x * level)
                .collect()
        };
        common::write_f32(&album.join(name), &[ch(seed), ch(seed + 1)], rate);
    }
    let out = t.path().join("out");
    let (code, err) = master(&[
        s(&album),
        "--out",
        s(&out),
        "--album-mode",
        "album",
        "--replaygain",
        "--format",
        "wav",
    ]);
    assert_eq!(code, 0, "{err}");
    let dir = out.join("streaming").join("Pair");
    let files = [dir.join("01 - loud.wav"), dir.join("02 - soft.wav")];
    let audio: Vec<Vec<Vec<f32>>> = files.iter().map(|f| common::read_wav(f).0).collect();
    // the album's loudness by ebur128 over both files, its peak by the oracle
    let states: Vec<ebur128::EbuR128> = audio
        .iter()
        .map(|x| {
            let mut m = ebur128::EbuR128::new(2, rate, ebur128::Mode::I).unwrap();
            let refs: Vec<&[f32]> = x.iter().map(Vec::as_slice).collect();
            m.add_frames_planar_f32(&refs).unwrap();
            m
        })
        .collect();
    let album_lufs = ebur128::EbuR128::loudness_global_multiple(states.iter()).unwrap();
    let album_tp = audio
        .iter()
        .map(|x| common::true_peak_oracle::true_peak_dbtp(x))
        .fold(f64::NEG_INFINITY, f64::max);
    let num = |v: Option<&str>| -> f64 {
        v.expect("ReplayGain tag")
            .trim_end_matches(" dB")
            .trim()
            .parse()
            .unwrap()
    };
    let mut track_gains = Vec::new();
    for f in &files {
        let file = lofty::read_from_path(f).unwrap();
        let tag = file.tag(TagType::Id3v2).unwrap();
        let gain = num(tag.get_string(ItemKey::ReplayGainAlbumGain));
        assert!(
            (gain - (-18.0 - album_lufs)).abs() <= 0.03,
            "album gain {gain} vs {album_lufs}"
        );
        let peak = num(tag.get_string(ItemKey::ReplayGainAlbumPeak));
        let want = 10f64.powf(album_tp / 20.0);
        assert!(
            (peak / want - 1.0).abs() < 0.012,
            "album peak {peak} vs {want}"
        );
        track_gains.push(num(tag.get_string(ItemKey::ReplayGainTrackGain)));
    }
    println!("album {album_lufs:.2} LUFS, TP {album_tp:.2} dBTP; track gains {track_gains:?}");
    // album mode keeps the songs' difference: their track gains differ by several dB
    assert!(
        (track_gains[0] - track_gains[1]).abs() > 3.0,
        "{track_gains:?}"
    );
}
