//! Scene files: errors name the file, the line and the field; routing is validated; album
//! files apply defaults; a scene error exits with code 2 while the other songs render.

mod common;

use common::*;
use mixfarm::render::{render_batch, Backend, RenderOptions};
use mixfarm::scene::load::load_file;

const RATE: u32 = 48_000;

fn stem(d: &std::path::Path) {
    write_f32(&d.join("x.wav"), &[music_like(4800, RATE, 3)], RATE);
}

fn first_error(path: &std::path::Path) -> String {
    let songs = match load_file(path) {
        Err(e) => return e.to_string(),
        Ok(s) => s,
    };
    match songs.into_iter().next().unwrap() {
        Err(e) => e.to_string(),
        Ok(s) => mixfarm::scene::compile::validate(&s)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn unknown_field_names_file_line_and_field() {
    let dir = tempdir();
    let p = write_text(
        dir.path(),
        "s.toml",
        "sample_rate = 48000\n\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\ngain = 3\n",
    );
    let e = first_error(&p);
    println!("{e}");
    assert!(e.contains("s.toml:6"), "{e}");
    assert!(e.contains("unknown field `gain`"), "{e}");
    assert!(e.contains("gain_db"), "should list what was expected: {e}");
}

#[test]
fn wrong_type_names_the_line() {
    let dir = tempdir();
    let p = write_text(
        dir.path(),
        "s.toml",
        "sample_rate = 48000\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\npan = \"left\"\n",
    );
    let e = first_error(&p);
    println!("{e}");
    assert!(e.contains("s.toml:5"), "{e}");
}

#[test]
fn routing_errors_are_caught() {
    let dir = tempdir();
    let d = dir.path();
    let cases = [
        ("[[track]]\nname = \"x\"\nfile = \"x.wav\"\noutput = \"nowhere\"\n", "no bus named 'nowhere'", ":5"),
        (
            "[[track]]\nname = \"x\"\nfile = \"x.wav\"\noutput = \"a\"\n[[bus]]\nname = \"a\"\noutput = \"b\"\n[[bus]]\nname = \"b\"\noutput = \"a\"\n",
            "routing cycle",
            "",
        ),
        ("[[track]]\nname = \"x\"\nfile = \"x.wav\"\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n", "used twice", ":6"),
        ("[[track]]\nname = \"x\"\nfile = \"x.wav\"\nsends = [ { bus = \"x\" } ]\n", "is a track", ":5"),
        ("[[track]]\nname = \"x\"\nfile = \"x.wav\"\npan = 1.5\n", "outside", ""),
        ("[[bus]]\nname = \"b\"\n", "at least one [[track]]", ""),
    ];
    for (i, (body, words, line)) in cases.iter().enumerate() {
        let p = write_text(
            d,
            &format!("r{i}.toml"),
            &format!("sample_rate = 48000\n{body}"),
        );
        let e = first_error(&p);
        println!("{e}");
        assert!(e.contains(words), "case {i}: {e}");
        assert!(
            e.contains(&format!("r{i}.toml{line}")),
            "case {i} should name file{line}: {e}"
        );
    }
}

#[test]
fn album_defaults_apply_and_scene_errors_exit_2() {
    let dir = tempdir();
    let d = dir.path();
    stem(d);
    write_text(
        d,
        "one.toml",
        "[metadata]\ntitle = \"One\"\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n",
    );
    write_text(
        d,
        "broken.toml",
        "sample_rate = 48000\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\nvolume = 1\n",
    );
    let album = write_text(
        d,
        "album.toml",
        "songs = [\"one.toml\", \"broken.toml\", \"missing.toml\"]\n[album]\ntitle = \"Alb\"\nartist = \"Art\"\n[defaults]\nsample_rate = 44100\nformat = \"wav16\"\n\n[[song]]\n[song.metadata]\ntitle = \"Inline\"\n[song.output]\nfile = \"inline.wav\"\n[[song.track]]\nname = \"x\"\nfile = \"x.wav\"\n",
    );
    let songs = load_file(&album).unwrap();
    assert_eq!(songs.len(), 4);
    let one = songs[0].as_ref().unwrap();
    assert_eq!(one.song.sample_rate, Some(44_100));
    assert_eq!(one.song.metadata.album.as_deref(), Some("Alb"));
    assert_eq!(one.song.metadata.artist.as_deref(), Some("Art"));
    let missing = songs[2].as_ref().unwrap_err().to_string();
    assert!(
        missing.contains("album.toml:1") && missing.contains("not found"),
        "{missing}"
    );
    let out = d.join("out");
    let r = render_batch(
        &[album],
        &RenderOptions {
            out_dir: out.clone(),
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(r.ok(), 2, "{:#?}", r.songs);
    assert_eq!(r.exit_code(), 2);
    let (_, spec) = read_wav(&out.join("One.wav"));
    assert_eq!((spec.sample_rate, spec.bits_per_sample), (44_100, 16));
    assert!(out.join("inline.wav").is_file());
}

#[test]
fn two_songs_writing_one_file_is_an_error() {
    let dir = tempdir();
    let d = dir.path();
    stem(d);
    let a = write_text(d, "a.toml", "sample_rate = 48000\n[output]\nfile = \"same.wav\"\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n");
    let b = write_text(d, "b.toml", "sample_rate = 48000\n[output]\nfile = \"same.wav\"\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n");
    let r = render_batch(
        &[a, b],
        &RenderOptions {
            out_dir: d.join("out"),
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(r.ok(), 1);
    assert!(r.songs[1]
        .error
        .as_ref()
        .unwrap()
        .contains("already written"));
}

#[test]
fn presets_fill_the_master_and_take_overrides() {
    let dir = tempdir();
    let d = dir.path();
    stem(d);
    let p = write_text(
        d,
        "p.toml",
        "sample_rate = 48000\n[master]\npreset = \"broadcast\"\nceiling_dbtp = -2.0\n[master.overrides.limiter]\nrelease_ms = 42.0\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n",
    );
    let s = load_file(&p).unwrap().into_iter().next().unwrap().unwrap();
    let m = &s.song.master;
    assert_eq!(
        m.target_lufs,
        Some(-23.0),
        "EBU R128 target from the preset"
    );
    assert_eq!(m.ceiling_dbtp, Some(-2.0), "the song's own field wins");
    let chain = m.chain.as_ref().unwrap();
    let lim = chain.iter().find_map(|i| match i {
        mixfarm::ops::InsertSpec::Limiter(l) => Some(l),
        _ => None,
    });
    assert_eq!(
        lim.unwrap().release_ms,
        42.0,
        "override reached the preset's limiter"
    );
    for (name, target) in [("streaming", -14.0), ("apple", -16.0), ("cd", -9.0)] {
        let p = write_text(d, &format!("{name}.toml"), &format!("sample_rate = 48000\n[master]\npreset = \"{name}\"\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n"));
        let s = load_file(&p).unwrap().into_iter().next().unwrap().unwrap();
        assert_eq!(s.song.master.target_lufs, Some(target), "{name}");
    }
    let bad = write_text(d, "bad.toml", "sample_rate = 48000\n[master]\npreset = \"radio\"\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n");
    let e = first_error(&bad);
    assert!(e.contains("bad.toml:3") && e.contains("radio"), "{e}");
    let bad_ov = write_text(d, "bad_ov.toml", "sample_rate = 48000\n[master]\npreset = \"streaming\"\n[master.overrides.reverb]\nmix = 1\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\n");
    let e = first_error(&bad_ov);
    assert!(e.contains("no 'reverb' insert"), "{e}");
}
