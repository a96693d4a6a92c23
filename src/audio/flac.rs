//! FLAC output: encoding integer [`Pcm`] with flacenc, and checking every file by decoding it
//! back (symphonia) and comparing samples and the STREAMINFO MD5. Host-only, no shader twin.
//!
//! flacenc computes the STREAMINFO MD5 itself (over the little-endian samples at the
//! stream's byte width, as the FLAC spec defines it); [`verify_flac`] recomputes it from the
//! decoded samples. flacenc records the short last block's size as the stream's minimum
//! block size; the spec excludes the last block from that field (and symphonia 0.6 refuses
//! such a file), so [`encode_flac`] sets min = max = the fixed block size.
//!
//! Size: flacenc 0.5.1 has no 5-bit (RICE2) Rice parameters, its largest is 14, while the
//! reference encoder uses 15–21 in about a third of the partitions of loud 24-bit music; so
//! its files stay larger than `flac -5`'s (+7.6 % and +9.0 % on two synthetic songs with
//! the settings here, +16.3 % and +12.1 % with its defaults: benches/RESULTS.md).

use md5::{Digest, Md5};

use super::pcm::Pcm;

/// Fixed block size of our FLAC streams. 2048 rather than flacenc's and the reference
/// encoder's 4096: with flacenc's Rice coder it gives smaller files (benches/RESULTS.md).
pub const FLAC_BLOCK_FRAMES: usize = 2048;
/// Largest QLPC order flacenc tries (its default 10 made larger files here, see RESULTS.md).
pub const FLAC_LPC_ORDER: usize = 6;
/// Byte offset of the STREAMINFO MD5 in a FLAC file: "fLaC" (4) + block header (4) + 18.
const MD5_OFFSET: usize = 26;

/// Encodes 16- or 24-bit integer PCM as FLAC (fixed [`FLAC_BLOCK_FRAMES`]-frame blocks, STREAMINFO MD5 set,
/// no tags: [`super::tags::write_tags`] adds them). Does not verify: see [`verify_flac`].
pub fn encode_flac(pcm: &Pcm, sample_rate: u32) -> Result<Vec<u8>, String> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
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
    let mut config = flacenc::config::Encoder::default();
    config.block_size = FLAC_BLOCK_FRAMES;
    config.subframe_coding.qlpc.lpc_order = FLAC_LPC_ORDER;
    // choose the fixed predictor's order by counting the bits of each, not by estimate
    config.subframe_coding.fixed.order_sel = flacenc::config::OrderSel::BitCount;
    let config = config.into_verified().map_err(|(_, e)| format!("{e:?}"))?;
    let source = flacenc::source::MemSource::from_samples(
        samples,
        *channels,
        *bits as usize,
        sample_rate as usize,
    );
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, FLAC_BLOCK_FRAMES)
        .map_err(|e| format!("flacenc: {e}"))?;
    cap_frames_at_verbatim(&mut stream, samples, *channels, *bits, sample_rate)?;
    // STREAMINFO's minimum block size excludes the last block (FLAC spec, RFC 9639 §8.2)
    stream
        .stream_info_mut()
        .set_block_sizes(FLAC_BLOCK_FRAMES, FLAC_BLOCK_FRAMES)
        .map_err(|e| format!("{e:?}"))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).map_err(|e| format!("{e:?}"))?;
    Ok(sink.as_slice().to_vec())
}

/// Replaces every frame that flacenc made larger than its verbatim (uncompressed) coding by
/// that verbatim coding.
///
/// flacenc 0.5.1 has no 5-bit Rice parameters (its largest is 14) and estimates sizes in
/// `u32` tables that overflow for large residuals: on loud wideband 24-bit audio it picks
/// fixed-LPC frames far larger than the samples (measured: 4096 frames of 24-bit noise at
/// ±2^19 gave a 33 MB frame, ±2^22 gave 137 kB against 12 kB raw). The frame is still
/// lossless, only absurdly large; this caps every frame at its verbatim size.
fn cap_frames_at_verbatim(
    stream: &mut flacenc::component::Stream,
    samples: &[i32],
    channels: usize,
    bits: u32,
    sample_rate: u32,
) -> Result<usize, String> {
    use flacenc::component::{
        BitRepr, ChannelAssignment, Frame, FrameHeader, FrameOffset, Stream, SubFrame, Verbatim,
    };
    let e = |e: flacenc::error::VerifyError| format!("verbatim frame: {e}");
    let bits = bits as usize;
    let n = stream.frame_count();
    let oversized = |f: &Frame| f.count_bits() > f.block_size() * channels * bits;
    if !(0..n).any(|i| stream.frame(i).is_some_and(oversized)) {
        return Ok(0);
    }
    let mut out = Stream::new(sample_rate as usize, channels, bits).map_err(e)?;
    let mut replaced = 0;
    for i in 0..n {
        let f = stream.frame(i).ok_or("missing frame")?;
        let block = f.block_size();
        let start = i * FLAC_BLOCK_FRAMES * channels;
        let frame_samples = samples
            .get(start..start + block * channels)
            .ok_or("frame beyond the samples")?;
        let verbatim = if oversized(f) {
            let header = FrameHeader::new(
                block,
                ChannelAssignment::Independent(channels as u8),
                bits,
                sample_rate as usize,
                FrameOffset::Frame(i as u32),
            )
            .map_err(e)?;
            let subframes = (0..channels)
                .map(|c| {
                    let ch: Vec<i32> = frame_samples
                        .iter()
                        .skip(c)
                        .step_by(channels)
                        .copied()
                        .collect();
                    Verbatim::new(&ch, bits).map(SubFrame::from)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(e)?;
            Some(Frame::new(header, subframes.into_iter()).map_err(e)?)
        } else {
            None
        };
        match verbatim {
            Some(v) if v.count_bits() < f.count_bits() => {
                out.add_frame(v);
                replaced += 1;
            }
            _ => out.add_frame(f.clone()),
        }
    }
    let info = stream.stream_info();
    let (md5, total) = (*info.md5_digest(), info.total_samples());
    out.stream_info_mut().set_md5_digest(&md5);
    out.stream_info_mut().set_total_samples(total);
    *stream = out;
    Ok(replaced)
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
