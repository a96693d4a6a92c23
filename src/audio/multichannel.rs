//! A whole-file reader for surround files (3 to 6 channels: 3.0, 4.0, 5.0, 5.1), used only
//! by `mixfarm analyze`; renders and masters take mono and stereo through
//! [`super::decode`]. Channels come in the file's order, which BS.1770 measurement takes as
//! L R C (LFE) Ls Rs ([`crate::loudness::channel_map`]).

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::decode::Decoded;
use crate::error::{Error, Result};

/// Most channels this reader takes (5.1).
pub const MAX_CHANNELS: usize = 6;

fn open(path: &Path) -> Result<Box<dyn FormatReader>> {
    let file = File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| Error::input(path, format!("not a recognised audio file ({e})")))
}

/// The channel count the file declares, if it can be read.
pub fn declared_channels(path: &Path) -> Option<usize> {
    let format = open(path).ok()?;
    let track = format.default_track(TrackType::Audio)?;
    let params = track.codec_params.as_ref()?.audio()?;
    params.channels.as_ref().map(|c| c.count())
}

/// Decodes a file of up to [`MAX_CHANNELS`] channels into planar f32, refusing a sample
/// rate of 0, no audio, a truncated packet and NaN/Inf samples.
pub fn decode_file(path: &Path) -> Result<Decoded> {
    let mut format = open(path)?;
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
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| Error::input(path, format!("unsupported codec ({e})")))?;
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut rate = params.sample_rate;
    let mut tmp: Vec<Vec<f32>> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err(Error::input(path, format!("cannot read audio data ({e})"))),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder
            .decode(&packet)
            .map_err(|e| Error::input(path, format!("corrupt audio data ({e})")))?;
        let n_ch = buf.spec().channels().count();
        if n_ch == 0 || n_ch > MAX_CHANNELS {
            return Err(Error::input(
                path,
                format!("has {n_ch} channels; analyze measures 1 to {MAX_CHANNELS} (up to 5.1)"),
            ));
        }
        rate.get_or_insert(buf.spec().rate());
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
    let sample_rate = rate
        .filter(|&r| r > 0)
        .ok_or_else(|| Error::input(path, "sample rate is 0 Hz or unknown"))?;
    if channels.first().is_none_or(Vec::is_empty) {
        return Err(Error::input(
            path,
            "contains no audio samples (zero length)",
        ));
    }
    super::decode::check_finite(path, &channels)?;
    Ok(Decoded {
        channels,
        sample_rate,
    })
}
