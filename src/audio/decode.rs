//! Audio input through symphonia: WAV, FLAC, MP3, OGG Vorbis, AIFF (and what else symphonia
//! decodes), 8/16/24/32-bit integer and 32/64-bit float, mono or stereo, to planar f32,
//! packet by packet ([`Decoder`]) or whole ([`decode_file`]).
//!
//! Every way a file can be unusable becomes an [`Error::Input`] naming the file and the
//! reason: missing, zero-length, garbage, truncated, sample rate 0, more than two channels,
//! NaN/Inf samples, no audio at all. A streaming reader finds the last three only when it gets
//! there: the song fails then, with the same message.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::pcm_le::PcmLe;
use crate::error::{Error, Result};
use crate::plan::Planar;

/// Audio formats mixfarm does not decode (symphonia has no decoder for them), by file
/// extension, with what to say.
pub const UNSUPPORTED: [(&str, &str); 8] = [
    ("opus", "Opus"),
    ("wv", "WavPack"),
    ("ape", "Monkey's Audio"),
    ("dsf", "DSD (DSF)"),
    ("dff", "DSD (DSDIFF)"),
    ("wma", "Windows Media Audio"),
    ("tta", "True Audio"),
    ("mpc", "Musepack"),
];

/// Why `path` is not read, when its extension names a format mixfarm does not decode.
pub fn unsupported(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_string_lossy().to_lowercase();
    let (_, name) = UNSUPPORTED.iter().find(|(e, _)| *e == ext)?;
    Some(format!(
        "{name} is not decoded by mixfarm (symphonia has no {name} decoder): convert it to FLAC or WAV first"
    ))
}

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

/// An open audio file, decoded one packet at a time. [`Decoder::open`] decodes the first
/// packet, so the channel count and rate are known (and the file is known to hold audio).
pub struct Decoder {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    header_frames: Option<u64>,
    exact_header: bool,
    layout: Layout,
    decoded: u64,
    /// frames to stop at (a WAV read through [`super::wav_chunks::View`])
    frame_limit: Option<u64>,
    first: Option<Planar>,
    tmp: Vec<Vec<f32>>,
    /// a WAV's PCM samples read straight from its packets ([`PcmLe`]), and its channels
    pcm: Option<(PcmLe, usize)>,
}

impl Decoder {
    /// Opens `path` and decodes its first packet.
    pub fn open(path: &Path) -> Result<Decoder> {
        Decoder::open_up_to(path, MAX_CHANNELS)
    }

    /// [`Decoder::open`] for files of up to `max_channels` channels (`analyze` reads 5.1).
    pub fn open_up_to(path: &Path, max_channels: usize) -> Result<Decoder> {
        if let Some(why) = unsupported(path) {
            return Err(Error::input(path, why));
        }
        let meta =
            std::fs::metadata(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
        if meta.is_dir() {
            return Err(Error::input(path, "is a folder, not an audio file"));
        }
        if meta.len() == 0 {
            return Err(Error::input(path, "file is empty (0 bytes)"));
        }
        let (format, frame_limit) = probe_wav_aware(path)?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| Error::input(path, "contains no audio track"))?;
        let track_id = track.id;
        let header_frames = track.num_frames.or(frame_limit);
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| Error::input(path, "audio track has no codec parameters"))?
            .clone();
        if params.sample_rate == Some(0) {
            return Err(Error::input(path, "sample rate is 0 Hz"));
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| Error::input(path, format!("unsupported codec ({e})")))?;
        // PCM and FLAC containers state their exact length; compressed formats may not
        // (encoder delay, padding, no index), so their length is counted by decoding.
        let short_name = format.format_info().short_name;
        let exact_header = matches!(short_name, "wave" | "aiff" | "flac");
        let pcm = (short_name == "wave").then(|| PcmLe::of(&params)).flatten();
        let mut d = Decoder {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            header_frames,
            exact_header,
            layout: Layout {
                channels: 0,
                max_channels,
                sample_rate: params.sample_rate.unwrap_or(0),
            },
            decoded: 0,
            frame_limit,
            first: None,
            tmp: Vec::new(),
            pcm,
        };
        let mut first: Planar = Vec::new();
        while first.first().is_none_or(Vec::is_empty) {
            if !d.next_into(&mut first)? {
                return Err(Error::input(
                    path,
                    "contains no audio samples (zero length)",
                ));
            }
        }
        d.first = Some(first);
        Ok(d)
    }

    /// Channels of the audio (1 or 2).
    pub fn channels(&self) -> usize {
        self.layout.channels
    }

    /// The file's sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.layout.sample_rate
    }

    /// The file's length in frames when its header states it exactly (WAV, AIFF, FLAC).
    pub fn exact_frames(&self) -> Option<u64> {
        self.header_frames.filter(|_| self.exact_header)
    }

    /// The file named in errors.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the next packet's samples to `out` (one `Vec` per channel, created when `out`
    /// is empty). `Ok(false)` at the end of the audio, after checking the header's length.
    pub fn next_into(&mut self, out: &mut Planar) -> Result<bool> {
        if let Some(first) = self.first.take() {
            append(out, &first);
            return Ok(true);
        }
        let path = self.path.as_path();
        loop {
            let packet = match self.format.next_packet() {
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
            if packet.track_id != self.track_id {
                continue;
            }
            let left = self.frames_left();
            if left == Some(0) {
                break;
            }
            if let Some((kind, n_ch)) = self.pcm {
                self.layout.check(path, n_ch, self.layout.sample_rate)?;
                let mut data = &packet.data[..];
                if let Some(left) = left {
                    data = &data[..data.len().min(left * kind.bytes() * n_ch)];
                }
                if out.is_empty() {
                    out.resize(n_ch, Vec::new());
                }
                let at = out[0].len();
                kind.append(data, out);
                let tail: Vec<&[f32]> = out.iter().map(|c| &c[at..]).collect();
                if kind.is_float() {
                    check_finite_at(path, &tail, self.decoded)?;
                }
                self.decoded += tail[0].len() as u64;
                return Ok(true);
            }
            let buf = match self.decoder.decode(&packet) {
                Ok(b) => b,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(Error::input(
                        path,
                        "truncated: the last packet is incomplete",
                    ))
                }
                Err(e) => return Err(Error::input(path, format!("corrupt audio data ({e})"))),
            };
            self.layout
                .check(path, buf.spec().channels().count(), buf.spec().rate())?;
            // integer samples are finite by construction: only float ones are checked
            let float = matches!(
                buf,
                GenericAudioBufferRef::F32(_) | GenericAudioBufferRef::F64(_)
            );
            buf.copy_to_vecs_planar::<f32>(&mut self.tmp);
            if let Some(left) = left {
                for c in &mut self.tmp {
                    c.truncate(left);
                }
            }
            if float {
                let tmp: Vec<&[f32]> = self.tmp.iter().map(Vec::as_slice).collect();
                check_finite_at(path, &tmp, self.decoded)?;
            }
            self.decoded += self.tmp.first().map_or(0, |c| c.len() as u64);
            append(out, &self.tmp);
            return Ok(true);
        }
        if let Some(n_frames) = self.header_frames {
            if self.decoded < n_frames {
                return Err(Error::input(
                    path,
                    format!(
                        "truncated: header promises {n_frames} frames, only {} decoded",
                        self.decoded
                    ),
                ));
            }
        }
        Ok(false)
    }
}

impl Decoder {
    /// Frames still to be read before the frame limit (`None`: no limit).
    fn frames_left(&self) -> Option<usize> {
        self.frame_limit
            .map(|limit| limit.saturating_sub(self.decoded) as usize)
    }
}

/// The file's channel count and rate as its packets state them (0: none read yet).
struct Layout {
    channels: usize,
    max_channels: usize,
    sample_rate: u32,
}

impl Layout {
    /// Checks a packet's channel count `n_ch` and rate `r` against the file's (taken from
    /// the first packet), at most `max_channels`.
    fn check(&mut self, path: &Path, n_ch: usize, r: u32) -> Result<()> {
        if n_ch == 0 {
            return Err(Error::input(path, "audio has 0 channels"));
        }
        if n_ch > self.max_channels {
            let what = if self.max_channels == MAX_CHANNELS {
                "mixfarm takes mono or stereo files (split multichannel stems first)".into()
            } else {
                format!("at most {} are read", self.max_channels)
            };
            return Err(Error::input(path, format!("has {n_ch} channels; {what}")));
        }
        if r == 0 {
            return Err(Error::input(path, "sample rate is 0 Hz"));
        }
        if self.sample_rate == 0 {
            self.sample_rate = r;
        }
        if self.channels == 0 {
            self.channels = n_ch;
        } else if self.channels != n_ch {
            return Err(Error::input(
                path,
                "channel count changes in the middle of the file",
            ));
        }
        Ok(())
    }
}

fn append(out: &mut Planar, x: &[Vec<f32>]) {
    if out.is_empty() {
        out.resize(x.len(), Vec::new());
    }
    for (dst, src) in out.iter_mut().zip(x) {
        dst.extend_from_slice(src);
    }
}

/// Decodes a whole file into planar f32, checking it is usable.
pub fn decode_file(path: &Path) -> Result<Decoded> {
    decode_up_to(path, MAX_CHANNELS)
}

/// [`decode_file`] for files of up to `max_channels` channels.
pub fn decode_up_to(path: &Path, max_channels: usize) -> Result<Decoded> {
    let mut d = Decoder::open_up_to(path, max_channels)?;
    let mut channels: Planar = Vec::new();
    if d.next_into(&mut channels)? {
        // the length the header gives, reserved once (a bogus one costs only address space)
        let whole = d.header_frames.map_or(0, |n| n.min(1 << 28) as usize);
        for c in &mut channels {
            c.reserve(whole.saturating_sub(c.len()));
        }
        while d.next_into(&mut channels)? {}
    }
    Ok(Decoded {
        channels,
        sample_rate: d.sample_rate(),
    })
}

/// Fails on the first NaN or infinite sample of `channels` (frame `first` of the file on),
/// saying where it is.
fn check_finite_at(path: &Path, channels: &[&[f32]], first: u64) -> Result<()> {
    for (c, ch) in channels.iter().enumerate() {
        if let Some(i) = ch.iter().position(|x| !x.is_finite()) {
            return Err(Error::input(
                path,
                format!(
                    "sample {} of channel {} is {} (NaN/Inf samples are not audio)",
                    first + i as u64,
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
    let (format, limit) = probe_wav_aware(path).ok()?;
    let track = format.default_track(TrackType::Audio)?;
    let frames = track.num_frames.or(limit)?;
    let rate = track.codec_params.as_ref()?.audio()?.sample_rate?;
    (rate > 0).then(|| frames as f64 / f64::from(rate))
}

/// Opens `path` and finds its container (by content, the extension as a hint).
pub fn probe(path: &Path) -> Result<Box<dyn FormatReader>> {
    probe_wav_aware(path).map(|(f, _)| f)
}

/// [`probe`], and the frame count of a WAV that symphonia reads through a corrected view
/// ([`super::wav_chunks`]: odd chunks, 0xFFFFFFFF sizes, RF64/BW64).
fn probe_wav_aware(path: &Path) -> Result<(Box<dyn FormatReader>, Option<u64>)> {
    let mut file = File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| Error::input(path, format!("cannot open: {e}")))?
        .len();
    let layout = super::wav_chunks::scan(&mut file, len)
        .ok()
        .flatten()
        .filter(|l| l.needs_view);
    let (source, limit): (Box<dyn symphonia::core::io::MediaSource>, _) = match layout {
        Some(l) => (
            Box::new(super::wav_chunks::View::new(file, l.clone())),
            Some(l.frames()),
        ),
        None => {
            use std::io::Seek;
            file.rewind()
                .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
            (Box::new(file), None)
        }
    };
    let mss = MediaSourceStream::new(source, Default::default());
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
        .map(|f| (f, limit))
        .map_err(|e| Error::input(path, format!("not a recognised audio file ({e})")))
}
