//! Writes the demo scene: FLAC stems (16-bit, checked by decoding them back with symphonia)
//! and the album and song scene files (TOML, see `notes/scene-format.md`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::song::{demo_songs, SongSketch};
use crate::error::Error;

/// Bits per sample of the demo stems.
const STEM_BITS: usize = 16;
/// Full scale of a `STEM_BITS` sample.
const FULL_SCALE: f64 = (1u32 << (STEM_BITS - 1)) as f64;

/// FLAC block size (flacenc's default). Stems are zero-padded to a whole number of blocks:
/// flacenc writes the short last block's size as the stream's minimum block size, and
/// symphonia 0.6 then fails to open the file ("unexpected end of file") although ffmpeg
/// decodes it; with equal blocks both read it.
const FLAC_BLOCK_FRAMES: usize = 4096;

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

/// Quantises planar audio to 16 bits (round to nearest, no dither; zero-padded to whole
/// FLAC blocks), encodes it with flacenc,
/// decodes the bytes back with symphonia and checks every sample before writing `path`.
pub fn write_flac_16(path: &Path, channels: &[Vec<f32>], sample_rate: u32) -> Result<(), Error> {
    let n_ch = channels.len();
    let frames = channels
        .first()
        .map_or(0, Vec::len)
        .div_ceil(FLAC_BLOCK_FRAMES)
        * FLAC_BLOCK_FRAMES;
    let mut ints = Vec::with_capacity(n_ch * frames);
    for i in 0..frames {
        for ch in channels {
            let x = ch.get(i).copied().unwrap_or(0.0) as f64;
            ints.push(
                (x * FULL_SCALE)
                    .round()
                    .clamp(-FULL_SCALE, FULL_SCALE - 1.0) as i32,
            );
        }
    }
    let bytes = encode_flac(&ints, n_ch, sample_rate).map_err(|r| out_err(path, r))?;
    let decoded = decode_flac(&bytes).map_err(|r| out_err(path, format!("FLAC check: {r}")))?;
    let shift = 32 - STEM_BITS;
    let same = decoded.channels == n_ch
        && decoded.sample_rate == sample_rate
        && decoded.samples.len() == ints.len()
        && decoded
            .samples
            .iter()
            .zip(&ints)
            .all(|(d, q)| *d == q << shift);
    if !same {
        return Err(out_err(
            path,
            "FLAC check: decoded samples differ from the encoded ones",
        ));
    }
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn encode_flac(interleaved: &[i32], channels: usize, sample_rate: u32) -> Result<Vec<u8>, String> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let mut config = flacenc::config::Encoder::default();
    config.block_size = FLAC_BLOCK_FRAMES;
    let config = config.into_verified().map_err(|(_, e)| format!("{e:?}"))?;
    let source = flacenc::source::MemSource::from_samples(
        interleaved,
        channels,
        STEM_BITS,
        sample_rate as usize,
    );
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| e.to_string())?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).map_err(|e| format!("{e:?}"))?;
    Ok(sink.as_slice().to_vec())
}

/// A decoded audio file.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// sample rate from the stream header
    pub sample_rate: u32,
    /// channel count
    pub channels: usize,
    /// interleaved samples, left-justified to 32 bits (a 16-bit sample `s` reads `s << 16`)
    pub samples: Vec<i32>,
}

/// Decodes a FLAC (or any symphonia-readable) file held in memory.
pub fn decode_flac(bytes: &[u8]) -> Result<Decoded, String> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let cursor = Box::new(std::io::Cursor::new(bytes.to_vec()));
    let mss = MediaSourceStream::new(cursor, Default::default());
    let mut hint = Hint::new();
    hint.with_extension("flac");
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| format!("probe: {e}"))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or("no audio track")?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or("no audio codec parameters")?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| format!("decoder: {e}"))?;
    let track_id = track.id;
    let sample_rate = params.sample_rate.ok_or("no sample rate")?;
    let channels = params
        .channels
        .as_ref()
        .map(|c| c.count())
        .ok_or("no channel count")?;
    let mut out = Vec::new();
    let mut buf: Vec<i32> = Vec::new();
    loop {
        // the sample count is compared afterwards, so an end of file is just the end
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(symphonia::core::errors::Error::IoError(e))
                if e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(e) => return Err(e.to_string()),
        };
        if packet.track_id != track_id {
            continue;
        }
        let audio = decoder
            .decode(&packet)
            .map_err(|e| format!("decode at {} frames: {e}", out.len()))?;
        buf.resize(audio.samples_interleaved(), 0);
        audio.copy_to_slice_interleaved(&mut buf);
        out.extend_from_slice(&buf);
    }
    Ok(Decoded {
        sample_rate,
        channels,
        samples: out,
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
