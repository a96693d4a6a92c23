//! `render --skip-existing`: a song whose output is on disk with a sidecar recording the same
//! scene, stems and version is skipped; a changed stem or scene renders again.

mod common;

use common::{music_like, tempdir, write_f32, write_text};
use mixfarm::render::{render_batch, Backend, RenderOptions};

fn run(
    scenes: &[std::path::PathBuf],
    out: &std::path::Path,
    skip_existing: bool,
) -> Vec<(String, bool)> {
    let r = render_batch(
        scenes,
        &RenderOptions {
            out_dir: out.to_path_buf(),
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(
        r.exit_code(),
        0,
        "{:?}",
        r.songs.iter().map(|s| &s.error).collect::<Vec<_>>()
    );
    let mut v: Vec<(String, bool)> = r
        .songs
        .iter()
        .map(|s| (s.title.clone(), s.skipped))
        .collect();
    v.sort();
    v
}

#[test]
fn skip_existing_skips_only_what_is_up_to_date() {
    let dir = tempdir();
    let d = dir.path();
    write_f32(&d.join("a.wav"), &[music_like(24_000, 48_000, 1)], 48_000);
    write_f32(&d.join("b.wav"), &[music_like(24_000, 48_000, 2)], 48_000);
    let scene = |name: &str, stem: &str| {
        write_text(
            d,
            &format!("{name}.toml"),
            &format!("sample_rate = 48000\n[metadata]\ntitle = \"{name}\"\n[output]\nfile = \"{name}.wav\"\n[[track]]\nname = \"t\"\nfile = \"{stem}\"\n"),
        )
    };
    let scenes = vec![scene("one", "a.wav"), scene("two", "b.wav")];
    let out = d.join("out");
    assert_eq!(
        run(&scenes, &out, true),
        vec![("one".into(), false), ("two".into(), false)]
    );
    assert!(
        out.join("one.wav.json").is_file(),
        "a sidecar beside the output"
    );
    let written = std::fs::metadata(out.join("one.wav"))
        .unwrap()
        .modified()
        .unwrap();
    // nothing changed: both skipped, the files untouched
    assert_eq!(
        run(&scenes, &out, true),
        vec![("one".into(), true), ("two".into(), true)]
    );
    assert_eq!(
        std::fs::metadata(out.join("one.wav"))
            .unwrap()
            .modified()
            .unwrap(),
        written
    );
    // a changed stem renders its song again; without the flag everything renders
    write_f32(&d.join("b.wav"), &[music_like(24_000, 48_000, 3)], 48_000);
    assert_eq!(
        run(&scenes, &out, true),
        vec![("one".into(), true), ("two".into(), false)]
    );
    assert_eq!(
        run(&scenes, &out, false),
        vec![("one".into(), false), ("two".into(), false)]
    );
    // a lost output is rendered again even with its sidecar there
    std::fs::remove_file(out.join("one.wav")).unwrap();
    assert_eq!(
        run(&scenes, &out, true),
        vec![("one".into(), false), ("two".into(), true)]
    );
}
