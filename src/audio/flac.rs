//! FLAC output: encoding integer [`Pcm`] with libFLAC (the reference encoder, at `flac -5`'s
//! settings, its own verify mode on), and checking every file by decoding it back (symphonia)
//! and comparing samples and the STREAMINFO MD5. Host-only, no shader twin.
//!
//! Why libFLAC (issue 13 item 7): flacenc 0.5.1, used before, has no 5-bit (RICE2) Rice
//! parameters (its largest is 14), while the reference encoder uses 15–21 in about a third of
//! the partitions of loud 24-bit music; its best tuning stayed +7.6 % and +9.0 % over
//! `flac -5`. libFLAC at level 5 is `flac -5` itself (benches/RESULTS.md). It is linked from
//! the system (`libflac-dev`), not built, so no cmake is needed. [`verify_flac`] recomputes the
//! STREAMINFO MD5 from samples decoded by a second decoder (symphonia).

use md5::{Digest, Md5};

use super::libflac::{self, EncoderSettings};
use super::pcm::Pcm;

/// Fixed block size of our FLAC streams: libFLAC's at level 5 (`flac -5`).
pub const FLAC_BLOCK_FRAMES: usize = 4096;
/// libFLAC compression level (5 is `flac`'s default).
pub const FLAC_LEVEL: u32 = 5;
/// Byte offset of the STREAMINFO MD5 in a FLAC file: "fLaC" (4) + block header (4) + 18.
const MD5_OFFSET: usize = 26;

/// Encodes 16- or 24-bit integer PCM as FLAC with libFLAC at level [`FLAC_LEVEL`] (fixed
/// [`FLAC_BLOCK_FRAMES`]-frame blocks, STREAMINFO MD5 set, libFLAC's vendor comment, no tags:
/// [`super::tags::write_tags`] adds them). libFLAC checks each frame by decoding it; callers
/// still run [`verify_flac`] on the bytes.
pub fn encode_flac(pcm: &Pcm, sample_rate: u32) -> Result<Vec<u8>, String> {
    let Pcm::Int {
        bits,
        channels,
        samples,
    } = pcm
    else {
        return Err("FLAC needs integer samples (16 or 24 bits), not float".into());
    };
    if !matches!(bits, 16 | 24) {
        return Err(format!("FLAC output is 16 or 24 bits, not {bits}"));
    }
    if !(1..=8).contains(channels) {
        return Err(format!("FLAC holds 1 to 8 channels, not {channels}"));
    }
    if pcm.frames() == 0 {
        return Err("no samples to encode".into());
    }
    libflac::encode(
        samples,
        EncoderSettings {
            bits: *bits,
            channels: *channels,
            sample_rate,
            level: FLAC_LEVEL,
            block_frames: FLAC_BLOCK_FRAMES as u32,
        },
    )
}

/// The STREAMINFO MD5 stored in a FLAC file's bytes.
pub fn stored_md5(bytes: &[u8]) -> Result<[u8; 16], String> {
    if bytes.len() < MD5_OFFSET + 16 || &bytes[..4] != b"fLaC" || bytes[4] & 0x7f != 0 {
        return Err("not a FLAC stream starting with STREAMINFO".into());
    }
    let mut md5 = [0u8; 16];
    md5.copy_from_slice(&bytes[MD5_OFFSET..MD5_OFFSET + 16]);
    Ok(md5)
}

/// FLAC's MD5 of interleaved samples: each sample signed little-endian in `bits / 8` bytes
/// (rounded up).
pub fn pcm_md5(samples: &[i32], bits: u32) -> [u8; 16] {
    let width = bits.div_ceil(8) as usize;
    let mut h = Md5::new();
    let mut buf = Vec::with_capacity(width * 4096);
    for chunk in samples.chunks(4096) {
        buf.clear();
        for s in chunk {
            buf.extend_from_slice(&s.to_le_bytes()[..width]);
        }
        h.update(&buf);
    }
    h.finalize().into()
}

/// Decodes FLAC `bytes` with symphonia and checks them against `pcm`: sample rate, channel
/// count, length, every sample, and the STREAMINFO MD5 against an MD5 of the decoded samples.
pub fn verify_flac(bytes: &[u8], pcm: &Pcm, sample_rate: u32) -> Result<(), String> {
    let Pcm::Int {
        bits,
        channels,
        samples,
    } = pcm
    else {
        return Err("FLAC holds integer samples only".into());
    };
    let d = decode_flac(bytes)?;
    if d.sample_rate != sample_rate || d.channels != *channels {
        return Err(format!(
            "decoded {} Hz {} ch, expected {sample_rate} Hz {channels} ch",
            d.sample_rate, d.channels
        ));
    }
    if d.samples.len() != samples.len() {
        return Err(format!(
            "decoded {} frames, expected {}",
            d.samples.len() / channels,
            samples.len() / channels
        ));
    }
    let shift = 32 - bits;
    let decoded: Vec<i32> = d.samples.iter().map(|&s| s >> shift).collect();
    if let Some(i) = decoded.iter().zip(samples).position(|(a, b)| a != b) {
        return Err(format!(
            "decoded sample differs at frame {} channel {}: {} vs {}",
            i / channels,
            i % channels + 1,
            decoded[i],
            samples[i]
        ));
    }
    let stored = stored_md5(bytes)?;
    let computed = pcm_md5(&decoded, *bits);
    if stored != computed {
        return Err(format!(
            "STREAMINFO MD5 {} differs from the decoded samples' MD5 {}",
            hex(&stored),
            hex(&computed)
        ));
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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
            .map_err(|e| format!("decode at {} samples: {e}", out.len()))?;
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
