//! Audio input through symphonia: WAV, FLAC, MP3, OGG Vorbis, AIFF (and what else symphonia
//! decodes), 8/16/24/32-bit integer and 32/64-bit float, mono or stereo, to planar f32.
//!
//! Every way a file can be unusable becomes an [`Error::Input`] naming the file and the
//! reason: missing, zero-length, garbage, truncated, sample rate 0, more than two channels,
//! NaN/Inf samples, no audio at all.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::error::{Error, Result};
use crate::plan::Planar;

/// Most channels a source may have (mono or stereo).
pub const MAX_CHANNELS: usize = 2;

/// A decoded file.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// planar samples, one `Vec` per channel
    pub channels: Planar,
    /// the file's sample rate in Hz
    pub sample_rate: u32,
}

impl Decoded {
    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Decodes a whole file into planar f32, checking it is usable.
pub fn decode_file(path: &Path) -> Result<Decoded> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    if meta.is_dir() {
        return Err(Error::input(path, "is a folder, not an audio file"));
    }
    if meta.len() == 0 {
        return Err(Error::input(path, "file is empty (0 bytes)"));
    }
    let file = File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| Error::input(path, format!("not a recognised audio file ({e})")))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| Error::input(path, "contains no audio track"))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| Error::input(path, "audio track has no codec parameters"))?
        .clone();
    let declared_rate = params.sample_rate;
    if declared_rate == Some(0) {
        return Err(Error::input(path, "sample rate is 0 Hz"));
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| Error::input(path, format!("unsupported codec ({e})")))?;

    let mut channels: Planar = Vec::new();
    let mut rate = declared_rate;
    let mut tmp: Vec<Vec<f32>> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(Error::input(
                    path,
                    "truncated: the file ends in the middle of the audio data",
                ))
            }
            Err(e) => return Err(Error::input(path, format!("cannot read audio data ({e})"))),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(Error::input(
                    path,
                    "truncated: the last packet is incomplete",
                ))
            }
            Err(e) => return Err(Error::input(path, format!("corrupt audio data ({e})"))),
        };
        let n_ch = buf.spec().channels().count();
        if n_ch == 0 {
            return Err(Error::input(path, "audio has 0 channels"));
        }
        if n_ch > MAX_CHANNELS {
            return Err(Error::input(
                path,
                format!("has {n_ch} channels; mixfarm takes mono or stereo files (split multichannel stems first)"),
            ));
        }
        let r = buf.spec().rate();
        if r == 0 {
            return Err(Error::input(path, "sample rate is 0 Hz"));
        }
        rate.get_or_insert(r);
        if channels.is_empty() {
            channels = vec![Vec::new(); n_ch];
        } else if channels.len() != n_ch {
            return Err(Error::input(
                path,
                "channel count changes in the middle of the file",
            ));
        }
        buf.copy_to_vecs_planar::<f32>(&mut tmp);
        for (dst, src) in channels.iter_mut().zip(&tmp) {
            dst.extend_from_slice(src);
        }
    }
    let sample_rate = rate.ok_or_else(|| Error::input(path, "sample rate unknown"))?;
    if channels.is_empty() || channels[0].is_empty() {
        return Err(Error::input(
            path,
            "contains no audio samples (zero length)",
        ));
    }
    if let Some(n_frames) = track_frames(format.as_ref(), track_id) {
        if (channels[0].len() as u64) < n_frames {
            return Err(Error::input(
                path,
                format!(
                    "truncated: header promises {n_frames} frames, only {} decoded",
                    channels[0].len()
                ),
            ));
        }
    }
    check_finite(path, &channels)?;
    Ok(Decoded {
        channels,
        sample_rate,
    })
}

fn track_frames(
    format: &(dyn symphonia::core::formats::FormatReader + '_),
    track_id: u32,
) -> Option<u64> {
    format
        .tracks()
        .iter()
        .find(|t| t.id == track_id)
        .and_then(|t| t.num_frames)
}

/// Fails on the first NaN or infinite sample, saying where it is.
pub fn check_finite(path: &Path, channels: &[Vec<f32>]) -> Result<()> {
    for (c, ch) in channels.iter().enumerate() {
        if let Some(i) = ch.iter().position(|x| !x.is_finite()) {
            return Err(Error::input(
                path,
                format!(
                    "sample {i} of channel {} is {} (NaN/Inf samples are not audio)",
                    c + 1,
                    ch[i]
                ),
            ));
        }
    }
    Ok(())
}

/// The length of an audio file in seconds from its header, without decoding it (`None` when
/// the file cannot be opened or its header does not say): used to balance shards.
pub fn probe_seconds(path: &Path) -> Option<f64> {
    let file = File::open(path).ok()?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .ok()?;
    let track = format.default_track(TrackType::Audio)?;
    let frames = track.num_frames?;
    let rate = track.codec_params.as_ref()?.audio()?.sample_rate?;
    (rate > 0).then(|| frames as f64 / f64::from(rate))
}
