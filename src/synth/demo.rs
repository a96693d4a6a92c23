//! Writes the demo scene: FLAC stems (16-bit, through `audio::flac`, checked by decoding them
//! back with symphonia)
//! and the album and song scene files (TOML, see `scenes/README.md`).

use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;

use super::song::{demo_songs, SongSketch};
use crate::audio::encode::write_atomic;
pub use crate::audio::flac::{decode_flac, Decoded};
use crate::audio::flac::{encode_flac, verify_flac};
use crate::audio::pcm::Pcm;
use crate::error::Error;

/// Bits per sample of the demo stems.
const STEM_BITS: usize = 16;
/// Full scale of a `STEM_BITS` sample.
const FULL_SCALE: f64 = (1u32 << (STEM_BITS - 1)) as f64;

/// Album title written into `album.toml`.
pub const ALBUM_TITLE: &str = "Night Drive";
/// Artist written into the scene files.
pub const ARTIST: &str = "The Mixfarm Band";

/// Synthesises the demo album into `dir`: `dir/stems/*.flac`, `dir/album.toml` and one
/// song scene per song (`dir/01-first-light.toml` …). Deterministic: the same bytes every run.
pub fn write_demo(dir: &Path) -> Result<(), Error> {
    write_songs(dir, &demo_songs())
}

/// Like [`write_demo`] for any list of songs.
pub fn write_songs(dir: &Path, songs: &[SongSketch]) -> Result<(), Error> {
    let stems_dir = dir.join("stems");
    std::fs::create_dir_all(&stems_dir).map_err(|e| Error::io(&stems_dir, e))?;
    for song in songs {
        let stems = song.render_stems();
        stems
            .par_iter()
            .zip(&song.stems)
            .try_for_each(|(audio, s)| {
                let path = stems_dir.join(format!("{:02}-{}.flac", song.track_number, s.name));
                write_flac_16(&path, audio, song.stem_sample_rate)
            })?;
        let scene = dir.join(format!("{}.toml", song.slug));
        write_file(&scene, song_toml(song))?;
    }
    write_file(&dir.join("album.toml"), album_toml(songs))
}

fn write_file(path: &Path, text: String) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn out_err(path: &Path, reason: impl ToString) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Quantises planar audio to 16 bits (round to nearest, no dither), encodes it with
/// [`crate::audio::flac::encode_flac`], decodes the bytes back and checks every sample and the
/// MD5 before writing `path` (atomically). The file is exactly as long as the audio.
pub fn write_flac_16(path: &Path, channels: &[Vec<f32>], sample_rate: u32) -> Result<(), Error> {
    let frames = channels.iter().map(Vec::len).min().unwrap_or(0);
    let mut samples = Vec::with_capacity(channels.len() * frames);
    for i in 0..frames {
        for ch in channels {
            let x = f64::from(ch[i]);
            samples.push(
                (x * FULL_SCALE)
                    .round()
                    .clamp(-FULL_SCALE, FULL_SCALE - 1.0) as i32,
            );
        }
    }
    let pcm = Pcm::Int {
        bits: STEM_BITS as u32,
        channels: channels.len(),
        samples,
    };
    let bytes = encode_flac(&pcm, sample_rate).map_err(|r| out_err(path, r))?;
    verify_flac(&bytes, &pcm, sample_rate)
        .map_err(|r| out_err(path, format!("FLAC check: {r}")))?;
    write_atomic(path, |tmp| {
        std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))
    })
}

fn breakpoints(song: &SongSketch, points: &[(f64, f64)]) -> String {
    let items: Vec<String> = points
        .iter()
        .map(|(b, v)| format!("[{:.3}, {v:.2}]", song.beats_to_s(*b)))
        .collect();
    format!("[{}]", items.join(", "))
}

/// The scene file of one song.
pub fn song_toml(song: &SongSketch) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# \"{}\": {} bpm, {}. Stems synthesised by mixfarm::synth (see README.md).",
        song.title, song.tempo_bpm, song.key_name
    );
    if song.stem_sample_rate != song.render_sample_rate {
        let _ = writeln!(
            t,
            "# The stems are {} Hz; the song renders at {} Hz (resampled on load).",
            song.stem_sample_rate, song.render_sample_rate
        );
    }
    let _ = writeln!(t, "sample_rate = {}", song.render_sample_rate);
    let _ = writeln!(t, "tempo_bpm = {:.1}", song.tempo_bpm);
    let _ = writeln!(
        t,
        "tail_s = 2.0\nfade_in_s = 0.0\nfade_out_s = {:.1}\n",
        song.fade_out_s
    );
    let _ = writeln!(
        t,
        "[metadata]\ntitle = \"{}\"\nartist = \"{ARTIST}\"\nalbum = \"{ALBUM_TITLE}\"",
        song.title
    );
    let _ = writeln!(
        t,
        "track_number = {}\nisrc = \"QZMF526{:05}\"\n",
        song.track_number, song.track_number
    );
    let _ = writeln!(
        t,
        "[output]\nfile = \"{}.wav\"\nformat = \"wav24\"\n",
        song.slug
    );
    let _ = writeln!(
        t,
        "[master]\npreset = \"streaming\"   # EQ, multiband compressor, width, true-peak limiter\ntarget_lufs = -14.0\nceiling_dbtp = -1.0\n"
    );
    for s in &song.stems {
        let _ = writeln!(t, "[[track]]\nname = \"{}\"", s.name);
        let _ = writeln!(
            t,
            "file = \"stems/{:02}-{}.flac\"",
            song.track_number, s.name
        );
        let _ = writeln!(
            t,
            "gain_db = {:.1}\npan = {:.2}\noutput = \"master\"\nchain = {}",
            s.gain_db,
            s.pan,
            insert_chain(s.name)
        );
        let mut sends: Vec<String> = s
            .verb_send_db
            .iter()
            .map(|db| format!("{{ bus = \"verb\", level_db = {db:.1} }}"))
            .collect();
        if s.name == "lead" {
            sends.push("{ bus = \"echo\", level_db = -14.0 }".into());
        }
        let _ = writeln!(t, "sends = [{}]", sends.join(", "));
        if !s.gain_automation.is_empty() {
            let _ = writeln!(
                t,
                "automation.gain_db = {}",
                breakpoints(song, &s.gain_automation)
            );
        }
        if !s.pan_automation.is_empty() {
            let _ = writeln!(
                t,
                "automation.pan = {}",
                breakpoints(song, &s.pan_automation)
            );
        }
        t.push('\n');
    }
    t.push_str("# Reverb return: convolution with the synthesised room IR (scenes/irs/).\n");
    t.push_str(
        "[[bus]]\nname = \"verb\"\noutput = \"master\"\ngain_db = -2.0\nchain = [{ type = \"reverb\", ir = \"../irs/room.wav\", pre_delay_ms = 20, mix = 1.0 }]\n\n",
    );
    t.push_str("# Dotted-eighth ping-pong echo for the lead, darkened in the loop.\n");
    t.push_str(
        "[[bus]]\nname = \"echo\"\noutput = \"master\"\nchain = [{ type = \"delay\", time_beats = 0.75, feedback = 0.35, high_cut_hz = 5000, mix = 1.0, ping_pong = true }]\n",
    );
    t
}

/// The insert chain a mix engineer would start from for each kind of stem.
fn insert_chain(stem: &str) -> &'static str {
    match stem {
        "drums" => "[{ type = \"compressor\", threshold_db = -18, ratio = 4, knee_db = 6, attack_ms = 5, release_ms = 120, makeup_db = 2 }]",
        "bass" => concat!(
            "[{ type = \"eq\", bands = [{ kind = \"high_pass\", freq_hz = 35, slope_db_per_oct = 24 }, { kind = \"peak\", freq_hz = 100, gain_db = 1.5, q = 1.0 }] }, ",
            "{ type = \"compressor\", threshold_db = -20, ratio = 3, knee_db = 6, attack_ms = 15, release_ms = 150, makeup_db = 1, detector = \"rms\" }]"
        ),
        "lead" => "[{ type = \"eq\", bands = [{ kind = \"high_pass\", freq_hz = 200 }, { kind = \"peak\", freq_hz = 3000, gain_db = 2.0, q = 1.0 }] }]",
        "arp" => "[{ type = \"chorus\", rate_hz = 0.6, depth_ms = 2.5, delay_ms = 12, voices = 3, mix = 0.3 }]",
        _ => "[{ type = \"eq\", mode = \"linear_phase\", bands = [{ kind = \"high_pass\", freq_hz = 150 }, { kind = \"peak\", freq_hz = 2500, gain_db = -1.5, q = 1.2 }] }]",
    }
}

/// The album file listing the songs.
pub fn album_toml(songs: &[SongSketch]) -> String {
    let list: Vec<String> = songs
        .iter()
        .map(|s| format!("\"{}.toml\"", s.slug))
        .collect();
    let mut t =
        String::from("# Demo album: stems synthesised by mixfarm::synth (see README.md).\n");
    let _ = writeln!(t, "songs = [{}]\n", list.join(", "));
    let _ = writeln!(
        t,
        "[album]\ntitle = \"{ALBUM_TITLE}\"\nartist = \"{ARTIST}\"\n"
    );
    t.push_str("[defaults]\nsample_rate = 48000\nformat = \"wav24\"\ntarget_lufs = -14.0\nceiling_dbtp = -1.0\n");
    t.push_str("fade_in_s = 0.0\nfade_out_s = 0.0\n");
    t
}
