//! A small safe wrapper over libFLAC's stream encoder (the reference encoder, linked from the
//! system's libFLAC through `libflac-sys` without its cmake build): interleaved integer
//! samples in, a whole FLAC stream in memory out. Host-only, no shader twin.
//!
//! The encoder writes through callbacks into a growable buffer with a cursor; the seek and
//! tell callbacks let libFLAC rewrite STREAMINFO at the end (MD5, frame sizes, total
//! samples), as it does for a file. libFLAC's own verify mode is on: it decodes every frame
//! as it is written and compares it with the input, and fails the stream on any mismatch.

use std::ffi::{c_void, CStr};

use libflac_sys as sys;

/// Settings of one stream.
#[derive(Debug, Clone, Copy)]
pub struct EncoderSettings {
    /// bits per sample (4 to 32 in libFLAC 1.4; we write 16 and 24)
    pub bits: u32,
    /// channel count, 1 to 8
    pub channels: usize,
    /// sample rate in Hz
    pub sample_rate: u32,
    /// libFLAC's compression level, 0 to 8 (`flac -5` is 5)
    pub level: u32,
    /// fixed block size in frames (level 5 uses 4096)
    pub block_frames: u32,
}

/// Where libFLAC's callbacks write: the bytes and the cursor (seek moves it back to rewrite
/// STREAMINFO).
#[derive(Default)]
struct Sink {
    bytes: Vec<u8>,
    pos: usize,
}

unsafe extern "C" fn write_cb(
    _enc: *const sys::FLAC__StreamEncoder,
    buffer: *const sys::FLAC__byte,
    bytes: usize,
    _samples: u32,
    _frame: u32,
    client: *mut c_void,
) -> sys::FLAC__StreamEncoderWriteStatus {
    // SAFETY: `client` is the `Sink` that `encode` passed to init and keeps alive; libFLAC
    // hands `bytes` readable bytes at `buffer`.
    let sink = unsafe { &mut *client.cast::<Sink>() };
    let data = if bytes == 0 {
        &[][..]
    } else {
        unsafe { std::slice::from_raw_parts(buffer, bytes) }
    };
    let end = sink.pos + data.len();
    if sink.bytes.len() < end {
        sink.bytes.resize(end, 0);
    }
    sink.bytes[sink.pos..end].copy_from_slice(data);
    sink.pos = end;
    sys::FLAC__STREAM_ENCODER_WRITE_STATUS_OK
}

unsafe extern "C" fn seek_cb(
    _enc: *const sys::FLAC__StreamEncoder,
    offset: u64,
    client: *mut c_void,
) -> sys::FLAC__StreamEncoderSeekStatus {
    // SAFETY: as in `write_cb`
    let sink = unsafe { &mut *client.cast::<Sink>() };
    match usize::try_from(offset) {
        Ok(o) if o <= sink.bytes.len() => {
            sink.pos = o;
            sys::FLAC__STREAM_ENCODER_SEEK_STATUS_OK
        }
        _ => sys::FLAC__STREAM_ENCODER_SEEK_STATUS_ERROR,
    }
}

unsafe extern "C" fn tell_cb(
    _enc: *const sys::FLAC__StreamEncoder,
    offset: *mut u64,
    client: *mut c_void,
) -> sys::FLAC__StreamEncoderTellStatus {
    // SAFETY: as in `write_cb`; `offset` is libFLAC's out parameter
    let sink = unsafe { &*client.cast::<Sink>() };
    unsafe { *offset = sink.pos as u64 };
    sys::FLAC__STREAM_ENCODER_TELL_STATUS_OK
}

/// Owns a `FLAC__StreamEncoder` and deletes it when dropped.
struct Encoder(*mut sys::FLAC__StreamEncoder);

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: the pointer came from FLAC__stream_encoder_new and is deleted once
        unsafe { sys::FLAC__stream_encoder_delete(self.0) }
    }
}

impl Encoder {
    /// libFLAC's description of the encoder's state (verify mismatches included).
    fn state(&self) -> String {
        // SAFETY: a live encoder; the string is static in libFLAC
        unsafe {
            let s = sys::FLAC__stream_encoder_get_resolved_state_string(self.0);
            if s.is_null() {
                return "unknown libFLAC state".into();
            }
            CStr::from_ptr(s).to_string_lossy().into_owned()
        }
    }
}

/// Encodes interleaved right-justified `samples` (each within `bits`) as a FLAC stream:
/// STREAMINFO with MD5, libFLAC's vendor comment, the frames. libFLAC verifies every frame
/// by decoding it while encoding.
pub fn encode(samples: &[i32], s: EncoderSettings) -> Result<Vec<u8>, String> {
    let ch = s.channels;
    if !(1..=8).contains(&ch) || !samples.len().is_multiple_of(ch) {
        return Err(format!(
            "{} samples do not make {ch}-channel frames",
            samples.len()
        ));
    }
    let frames = (samples.len() / ch) as u64;
    // declared before the encoder so that it outlives it: deleting an initialised encoder
    // finishes the stream, which still writes
    let mut sink = Box::new(Sink::default());
    // SAFETY: FLAC__stream_encoder_new has no preconditions; null means out of memory
    let raw = unsafe { sys::FLAC__stream_encoder_new() };
    if raw.is_null() {
        return Err("libFLAC could not allocate an encoder".into());
    }
    let enc = Encoder(raw);
    // SAFETY: setters on a live, not yet initialised encoder; the level comes before the
    // block size because the level sets one too
    let set = unsafe {
        sys::FLAC__stream_encoder_set_verify(raw, 1) != 0
            && sys::FLAC__stream_encoder_set_channels(raw, ch as u32) != 0
            && sys::FLAC__stream_encoder_set_bits_per_sample(raw, s.bits) != 0
            && sys::FLAC__stream_encoder_set_sample_rate(raw, s.sample_rate) != 0
            && sys::FLAC__stream_encoder_set_compression_level(raw, s.level) != 0
            && sys::FLAC__stream_encoder_set_blocksize(raw, s.block_frames) != 0
            && sys::FLAC__stream_encoder_set_total_samples_estimate(raw, frames) != 0
    };
    if !set {
        return Err(format!("libFLAC settings refused: {}", enc.state()));
    }
    let client: *mut Sink = &mut *sink;
    // SAFETY: the callbacks match libFLAC's signatures; `client` outlives the encoder's use
    // of it (finish is called, or the encoder dropped, before `sink` goes)
    let init = unsafe {
        sys::FLAC__stream_encoder_init_stream(
            raw,
            Some(write_cb),
            Some(seek_cb),
            Some(tell_cb),
            None,
            client.cast(),
        )
    };
    if init != sys::FLAC__STREAM_ENCODER_INIT_STATUS_OK {
        return Err(format!(
            "libFLAC init failed ({} Hz, {} bits, {ch} ch): {}",
            s.sample_rate,
            s.bits,
            enc.state()
        ));
    }
    let chunk_frames = 1 << 16;
    for chunk in samples.chunks(chunk_frames * ch) {
        // SAFETY: `chunk` holds (len / ch) whole frames of interleaved i32
        let ok = unsafe {
            sys::FLAC__stream_encoder_process_interleaved(
                raw,
                chunk.as_ptr(),
                (chunk.len() / ch) as u32,
            )
        };
        if ok == 0 {
            return Err(format!("libFLAC: {}", enc.state()));
        }
    }
    // SAFETY: a live, initialised encoder; finish flushes, verifies and rewrites STREAMINFO
    let finished = unsafe { sys::FLAC__stream_encoder_finish(raw) } != 0;
    if !finished {
        return Err(format!("libFLAC finish: {}", enc.state()));
    }
    drop(enc);
    Ok(std::mem::take(&mut sink.bytes))
}
