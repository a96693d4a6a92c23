//! Issue 13 item 2, MP4 sources: an `.m4a` (ALAC, decoded by symphonia) tagged by ffmpeg
//! with MP4 `ilst` atoms (title, artist, album, album artist, track and total, disc and
//! total, date, genre, a PNG cover) is mastered in folder mode; its FLAC and WAV outputs
//! carry every field, read back with lofty and compared with the values given to ffmpeg, and
//! are named `NN - Title`. (ffmpeg's MP4 muxer writes no ISRC atom, so the ISRC is not part
//! of this test; tests/delivery_tags.rs covers it for the other containers.) Needs ffmpeg:
//! skipped with a message when it is absent, unless `MIXFARM_REQUIRE_FFMPEG=1` (CI sets it).

mod common;

use std::path::Path;
use std::process::Command;

use common::tempdir;
use lofty::picture::MimeType;
use lofty::prelude::*;
use lofty::tag::TagType;

/// Runs ffmpeg with `args` (quiet); `None` when ffmpeg is absent (panics if it must be
/// there).
fn ffmpeg(args: &[&str]) -> Option<()> {
    let Ok(o) = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
    else {
        assert!(
            std::env::var("MIXFARM_REQUIRE_FFMPEG").as_deref() != Ok("1"),
            "MIXFARM_REQUIRE_FFMPEG=1 but ffmpeg is missing (apt-get install ffmpeg)"
        );
        eprintln!("SKIPPED: ffmpeg is missing (apt-get install ffmpeg)");
        return None;
    };
    assert!(
        o.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn mp4_source_tags_travel_into_flac_and_wav_outputs() {
    let t = tempdir();
    let dir = t.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let png = t.path().join("cover.png");
    let m4a = dir.join("take3.m4a");
    if ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=8x8:d=1",
        "-frames:v",
        "1",
        s(&png),
    ])
    .is_none()
    {
        return;
    }
    let tone = "aevalsrc=0.3*sin(2*PI*220*t)+0.1*sin(2*PI*1330*t)|0.3*sin(2*PI*330*t):s=44100:d=3";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        tone,
        "-i",
        s(&png),
        "-map",
        "0:a",
        "-map",
        "1:v",
        "-c:a",
        "alac",
        "-c:v",
        "copy",
        "-disposition:v",
        "attached_pic",
        "-metadata",
        "title=Harbour Song",
        "-metadata",
        "artist=The Testers",
        "-metadata",
        "album=Sea Album",
        "-metadata",
        "album_artist=Various Sailors",
        "-metadata",
        "track=7/12",
        "-metadata",
        "disc=2/3",
        "-metadata",
        "date=2024",
        "-metadata",
        "genre=Folk",
        s(&m4a),
    ])
    .unwrap();
    // the input really holds MP4 atoms (what this test is about)
    let src = lofty::read_from_path(&m4a).unwrap();
    assert!(
        src.tag(TagType::Mp4Ilst).is_some(),
        "ffmpeg wrote no ilst atoms"
    );

    let out = t.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args(["master", s(&dir), "--out", s(&out), "--backend", "cpu"])
        .args(["--format", "flac,wav"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "master failed: {err}");

    // folder mode: the album folder is named after the input folder
    let album = out.join("streaming").join("in");
    for (ext, kind) in [("flac", TagType::VorbisComments), ("wav", TagType::Id3v2)] {
        let path = album.join(format!("07 - Harbour Song.{ext}"));
        assert!(path.is_file(), "{} missing; {err}", path.display());
        let f = lofty::read_from_path(&path).unwrap();
        let tag = f
            .tag(kind)
            .unwrap_or_else(|| panic!("{ext}: no {kind:?} tag"));
        let text = |k: ItemKey| tag.get_string(k).map(str::to_string);
        assert_eq!(tag.title().as_deref(), Some("Harbour Song"), "{ext}");
        assert_eq!(tag.artist().as_deref(), Some("The Testers"), "{ext}");
        assert_eq!(tag.album().as_deref(), Some("Sea Album"), "{ext}");
        assert_eq!(
            text(ItemKey::AlbumArtist).as_deref(),
            Some("Various Sailors"),
            "{ext}"
        );
        assert_eq!(
            (tag.track(), tag.track_total()),
            (Some(7), Some(12)),
            "{ext}"
        );
        assert_eq!((tag.disk(), tag.disk_total()), (Some(2), Some(3)), "{ext}");
        assert_eq!(tag.genre().as_deref(), Some("Folk"), "{ext}");
        let date = text(ItemKey::RecordingDate).or_else(|| text(ItemKey::Year));
        assert_eq!(date.as_deref(), Some("2024"), "{ext}");
        let pic = tag
            .pictures()
            .first()
            .unwrap_or_else(|| panic!("{ext}: no cover"));
        assert_eq!(pic.mime_type(), Some(&MimeType::Png), "{ext}");
        assert_eq!(
            pic.data(),
            std::fs::read(&png).unwrap().as_slice(),
            "{ext}: cover bytes"
        );
    }
}
