//! Audio output: WAV through hound (16/24-bit PCM with seeded TPDF dither, same inputs ⇒
//! same bytes; 32-bit float without dither) or verified FLAC (`flac.rs`), then the tags
//! (`tags.rs`, through lofty) and, for broadcast WAV, a BWF `bext` chunk (`bext.rs`).
//! Files are written to a temporary name in the destination folder and renamed into place,
//! so an interrupted render never leaves a truncated file under the final name.

use std::path::{Path, PathBuf};

use super::flac::{encode_flac, verify_flac};
use super::pcm::Pcm;
use super::tags::{write_tags, Tags};
use crate::error::{Error, Result};
use crate::plan::OutputFormat;

/// The dither's noise source: [`SplitMix64`](crate::core::SplitMix64) from a seed.
#[derive(Debug, Clone)]
pub struct DitherRng(crate::core::SplitMix64);

impl DitherRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        DitherRng(crate::core::SplitMix64::new(seed))
    }

    /// The generator of `seed` as it stands after `samples` samples were dithered (two
    /// draws each), so a song can be quantised in pieces side by side.
    pub fn after_samples(seed: u64, samples: u64) -> Self {
        DitherRng(crate::core::SplitMix64::after(seed, 2 * samples))
    }

    /// Next uniform value in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.0.next_f64()
    }

    /// Triangular (TPDF) noise of ±1 LSB peak: the sum of two uniform ±½ LSB values,
    /// `next_f64() − next_f64()` (computed as [`tpdf_of`] the two draws).
    pub fn tpdf(&mut self) -> f64 {
        let a = self.0.next_u64();
        let b = self.0.next_u64();
        tpdf_of(a, b)
    }

    /// The [`tpdf`](Self::tpdf) value for sample `k` (from 0) of the stream from `seed`,
    /// without stepping a generator: `DitherRng::after_samples(seed, k).tpdf()`.
    #[inline(always)]
    pub fn tpdf_at(seed: u64, k: u64) -> f64 {
        let first = 2 * k + 1;
        tpdf_of(
            crate::core::SplitMix64::draw(seed, first),
            crate::core::SplitMix64::draw(seed, first + 1),
        )
    }
}

/// `u(a) − u(b)` for the uniform values `u(d) = (d >> 11) / 2^53` of two raw draws, exactly:
/// both are multiples of 2^-53 below 1, so their difference is one integer below 2^53 in
/// magnitude times 2^-53 — one exact conversion instead of two (and no unsigned one).
#[inline(always)]
fn tpdf_of(a: u64, b: u64) -> f64 {
    ((a >> 11) as i64 - (b >> 11) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Quantises `x` (full scale ±1) to a `bits`-bit integer (16 or 24) with TPDF dither.
pub fn quantize(x: f32, bits: u32, rng: &mut DitherRng) -> i32 {
    quantize_with(x, bits, rng.tpdf())
}

/// [`quantize`] with the dither value given (`noise`, in LSBs), for 16- and 24-bit
/// integers. Inlined and free of branches, so that a loop of it vectorises (and works out the
/// bit depth's constants once).
#[inline(always)]
pub fn quantize_with(x: f32, bits: u32, noise: f64) -> i32 {
    debug_assert!((2..=24).contains(&bits));
    let scale = (1i32 << (bits - 1)) as f64;
    let v = f64::from(x) * scale + noise;
    // `v.round()` (half away from zero) clamped to the bit depth, without branches on the
    // (random) fraction and without the libm call `round` is on baseline x86-64: clamped
    // first (the same integer after the final clamp, and within i32), truncated, stepped by
    // the fraction. NaN: `as` makes it 0, every comparison is false, so 0.
    let c = v.clamp(-scale - 1.0, scale);
    let t = c as i32;
    let f = c - f64::from(t);
    let r = t + i32::from(f >= 0.5) - i32::from(f <= -0.5);
    r.clamp(-(scale as i32), scale as i32 - 1)
}

/// [`quantize_with`] over `x`, the interleaved samples `s0, s0 + 1, …` of a song dithered
/// from `seed` ([`DitherRng::tpdf_at`]), into `out`.
pub fn quantize_run(x: &[f32], s0: u64, seed: u64, bits: u32, out: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { super::quantize_avx2::quantize_run(x, s0, seed, bits, out) };
    }
    quantize_run_scalar(x, s0, seed, bits, out);
}

/// [`quantize_run`] one sample at a time.
pub(crate) fn quantize_run_scalar(x: &[f32], s0: u64, seed: u64, bits: u32, out: &mut [i32]) {
    for (i, (o, &v)) in out.iter_mut().zip(x).enumerate() {
        *o = quantize_with(v, bits, DitherRng::tpdf_at(seed, s0 + i as u64));
    }
}

/// A temporary path beside `dest` (same folder, so the final rename is atomic).
pub fn temp_path_for(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.part-{}", std::process::id()))
}

/// Writes `bytes_writer`'s output to `dest` atomically: temp file, flush + sync, rename.
pub fn write_atomic(dest: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    write_pending(dest, write)?.commit()
}

/// A file written in full beside its destination, not yet in place ([`write_pending`]):
/// [`Pending::commit`] syncs it to disk and renames it over the destination; dropped
/// uncommitted, it is removed.
#[derive(Debug)]
pub struct Pending {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Pending {
    /// Syncs the written file and renames it to its destination (the atomic step); on an
    /// error the temporary file is removed.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        let (tmp, dest) = (&self.tmp, &self.dest);
        let result = std::fs::File::open(tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(tmp, e))
            .and_then(|()| std::fs::rename(tmp, dest).map_err(|e| Error::io(dest, e)));
        if result.is_err() {
            let _ = std::fs::remove_file(tmp);
        }
        result
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The first half of [`write_atomic`]: `write` fills a temporary file beside `dest` (same
/// folder, so the rename is atomic); nothing is at `dest` until [`Pending::commit`]. The
/// disk starts writing it back meanwhile (Linux: `sync_file_range`), so the commit's sync
/// has less to wait for. A failed write leaves nothing behind.
pub fn write_pending(dest: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<Pending> {
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let pending = Pending {
        tmp: temp_path_for(dest),
        dest: dest.to_path_buf(),
        done: false,
    };
    write(&pending.tmp)?;
    start_writeback(&pending.tmp);
    Ok(pending)
}

/// Asks the kernel to start writing `path`'s dirty pages to disk without waiting (a hint:
/// the commit's `fsync` is what makes them durable).
fn start_writeback(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(f) = std::fs::File::open(path) {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only starts writeback
        unsafe {
            libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// Writes planar audio as a WAV (or FLAC) file in `format`, atomically, without tags.
/// `dither_seed` seeds the TPDF dither of the integer formats.
pub fn write_wav(
    dest: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    format: OutputFormat,
    dither_seed: u64,
) -> Result<()> {
    let pcm = Pcm::from_planar(channels, format, dither_seed);
    write_audio(dest, &pcm, sample_rate, format, &Tags::default())
}

/// Writes quantised audio to `dest` in `format` with `tags`, atomically.
///
/// WAV: hound writes the samples, then lofty adds the `LIST`/`INFO` and `id3 ` chunks (no
/// tags ⇒ exactly hound's bytes). FLAC: encoded, decoded back and compared sample by sample
/// and by MD5 before anything is written, then tagged. `pcm` must match the format (float
/// for wav32f, integers of the format's bit depth otherwise).
pub fn write_audio(
    dest: &Path,
    pcm: &Pcm,
    sample_rate: u32,
    format: OutputFormat,
    tags: &Tags,
) -> Result<()> {
    write_audio_with(dest, pcm, sample_rate, format, tags, None)
}

/// [`write_audio`], plus a BWF `bext` chunk (its body, [`super::bext`]) before the `data`
/// chunk of a WAV when `bext` is given (ignored for FLAC).
pub fn write_audio_with(
    dest: &Path,
    pcm: &Pcm,
    sample_rate: u32,
    format: OutputFormat,
    tags: &Tags,
    bext: Option<&[u8]>,
) -> Result<()> {
    write_audio_pending(dest, pcm, sample_rate, format, tags, bext)?.commit()
}

/// [`write_audio_with`] up to its commit ([`write_pending`]): the file written beside
/// `dest`, put in place by [`Pending::commit`].
pub fn write_audio_pending(
    dest: &Path,
    pcm: &Pcm,
    sample_rate: u32,
    format: OutputFormat,
    tags: &Tags,
    bext: Option<&[u8]>,
) -> Result<Pending> {
    let out_err = |reason: String| Error::Output {
        path: dest.to_path_buf(),
        reason,
    };
    if pcm.channels() == 0 {
        return Err(out_err("no channels to write".into()));
    }
    if pcm.bits() != format.bits() || matches!(pcm, Pcm::Float { .. }) != format.is_float() {
        return Err(out_err(format!(
            "{} samples cannot be written as {format}",
            pcm.describe()
        )));
    }
    if format.is_flac() {
        let bytes = encode_flac(pcm, sample_rate).map_err(&out_err)?;
        verify_flac(&bytes, pcm, sample_rate)
            .map_err(|r| out_err(format!("FLAC check failed: {r}")))?;
        return write_pending(dest, |tmp| {
            std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))?;
            write_tags(tmp, true, tags).map_err(&out_err)
        });
    }
    write_wav_pending(
        dest,
        pcm,
        sample_rate,
        tags,
        bext,
        super::rf64::RIFF_MAX_DATA_BYTES,
    )
}

/// Writes `pcm` as a WAV file with `tags` and the `bext` body, atomically: RIFF/WAVE through
/// hound, tagged by lofty; or RF64 ([`super::rf64`]) when the audio takes more than
/// `rf64_above_bytes`, with the `bext` chunk and the text tags in `LIST`/`INFO`
/// ([`super::rf64::info_chunk`]: lofty does not write RF64).
pub fn write_wav_atomic(
    dest: &Path,
    pcm: &Pcm,
    sample_rate: u32,
    tags: &Tags,
    bext: Option<&[u8]>,
    rf64_above_bytes: u64,
) -> Result<()> {
    write_wav_pending(dest, pcm, sample_rate, tags, bext, rf64_above_bytes)?.commit()
}

/// [`write_wav_atomic`] up to its commit ([`write_pending`]).
fn write_wav_pending(
    dest: &Path,
    pcm: &Pcm,
    sample_rate: u32,
    tags: &Tags,
    bext: Option<&[u8]>,
    rf64_above_bytes: u64,
) -> Result<Pending> {
    let out_err = |reason: String| Error::Output {
        path: dest.to_path_buf(),
        reason,
    };
    write_pending(dest, |tmp| {
        if super::rf64::data_bytes(pcm) > rf64_above_bytes {
            let mut chunks = super::rf64::info_chunk(tags);
            if let Some(b) = bext {
                chunks.extend_from_slice(b"bext");
                chunks.extend_from_slice(&(b.len() as u32).to_le_bytes());
                chunks.extend_from_slice(b);
                if b.len() % 2 == 1 {
                    chunks.push(0);
                }
            }
            return super::rf64::write_rf64(tmp, pcm, sample_rate, &chunks)
                .map_err(|e| out_err(e.to_string()));
        }
        // an odd `data` chunk gets its pad byte when chunks may follow it
        let pad = !tags.is_empty() || bext.is_some();
        let (mut head, data_len) =
            wav_head(pcm, sample_rate).map_err(|e| out_err(e.to_string()))?;
        if let Some(b) = bext {
            super::bext::insert_before_data_in(&mut head, b).map_err(&out_err)?;
        }
        match super::tags::wav_tag_chunks(&head, tags) {
            Some(tail) => write_wav_parts(tmp, pcm, &head, data_len, pad, &tail)
                .map_err(|e| out_err(e.to_string())),
            // lofty would change more than the end of the file: tagged on the whole file
            None => {
                let mut bytes = wav_bytes(pcm, sample_rate).map_err(|e| out_err(e.to_string()))?;
                pad_data_chunk(&mut bytes).map_err(&out_err)?;
                if let Some(b) = bext {
                    super::bext::insert_before_data_in(&mut bytes, b).map_err(&out_err)?;
                }
                super::tags::write_wav_tags_in(&mut bytes, tags).map_err(&out_err)?;
                std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))
            }
        }
    })
}

/// Writes the WAV file whose chunks up to the `data` chunk's header are `head`: then the
/// samples of `pcm` (`data_len` bytes), a pad byte when that is odd and `pad`, then `tail`
/// (the chunks after `data`); the RIFF size set for all of it. The samples are encoded a
/// block at a time into one buffer (in parallel pieces) and written from there: the file
/// is never whole in memory.
fn write_wav_parts(
    path: &Path,
    pcm: &Pcm,
    head: &[u8],
    data_len: usize,
    pad: bool,
    tail: &[u8],
) -> std::io::Result<()> {
    use std::io::Write;
    let pad = usize::from(pad && data_len % 2 == 1);
    let riff = u32::try_from(head.len() + data_len + pad + tail.len() - 8)
        .map_err(|_| std::io::Error::other("the WAV file passes 4 GiB"))?;
    if !fits_bits(pcm) {
        return Err(std::io::Error::other(hound::Error::TooWide.to_string()));
    }
    let mut f = std::fs::File::create(path)?;
    let mut first = head.to_vec();
    first[4..8].copy_from_slice(&riff.to_le_bytes());
    f.write_all(&first)?;
    const BLOCK: usize = 1 << 19; // samples encoded and written at a time
    let bytes = pcm_bytes(pcm);
    let samples = data_len / bytes;
    let mut buf = vec![0u8; BLOCK.min(samples) * bytes];
    for start in (0..samples).step_by(BLOCK) {
        let d = &mut buf[..BLOCK.min(samples - start) * bytes];
        wav_data(pcm, bytes, start, d);
        f.write_all(d)?;
    }
    f.write_all(&[0u8][..pad])?;
    f.write_all(tail)
}

/// Bytes per sample of `pcm` in a WAV file.
fn pcm_bytes(pcm: &Pcm) -> usize {
    match pcm {
        Pcm::Int { bits, .. } => (*bits as usize).div_ceil(8),
        Pcm::Float { .. } => 4,
    }
}

/// The RIFF/WAVE header hound writes for `pcm` (`fmt ` and the `data` chunk's header, its
/// sizes set for the samples: hound's header for no samples, then its sizes set) and the
/// samples' length in bytes.
fn wav_head(pcm: &Pcm, sample_rate: u32) -> hound::Result<(Vec<u8>, usize)> {
    let spec = hound::WavSpec {
        channels: pcm.channels() as u16,
        sample_rate,
        bits_per_sample: pcm.bits() as u16,
        sample_format: match pcm {
            Pcm::Float { .. } => hound::SampleFormat::Float,
            Pcm::Int { .. } => hound::SampleFormat::Int,
        },
    };
    let mut header = std::io::Cursor::new(Vec::new());
    hound::WavWriter::new(&mut header, spec)?.finalize()?;
    let mut file = header.into_inner();
    let n = file.len();
    let samples = match pcm {
        Pcm::Int { samples, .. } => samples.len(),
        Pcm::Float { samples, .. } => samples.len(),
    };
    let too_big = || hound::Error::TooWide;
    let data_len = samples.checked_mul(pcm_bytes(pcm)).ok_or_else(too_big)?;
    let data32 = u32::try_from(data_len).map_err(|_| too_big())?;
    let riff_len = u32::try_from(n - 8 + data_len).map_err(|_| too_big())?;
    file[4..8].copy_from_slice(&riff_len.to_le_bytes());
    file[n - 4..].copy_from_slice(&data32.to_le_bytes());
    Ok((file, data_len))
}

/// `pcm` as a plain RIFF/WAVE file (`fmt ` and `data` only), the bytes hound writes:
/// [`wav_head`], then the samples little-endian (16- and 24-bit integers, 32-bit float),
/// packed side by side.
fn wav_bytes(pcm: &Pcm, sample_rate: u32) -> hound::Result<Vec<u8>> {
    let (mut file, data_len) = wav_head(pcm, sample_rate)?;
    if !fits_bits(pcm) {
        return Err(hound::Error::TooWide);
    }
    let n = file.len();
    file.resize(n + data_len, 0);
    wav_data(pcm, pcm_bytes(pcm), 0, &mut file[n..]);
    Ok(file)
}

/// Every integer sample of `pcm` within its bit depth (hound refuses the others).
fn fits_bits(pcm: &Pcm) -> bool {
    use rayon::prelude::*;
    match pcm {
        Pcm::Float { .. } => true,
        Pcm::Int { bits, samples, .. } => {
            let (lo, hi) = (-(1i32 << (bits - 1)), (1i32 << (bits - 1)) - 1);
            // every sample of a piece checked (no early exit inside: it vectorises)
            let wide = |c: &[i32]| c.iter().fold(false, |w, &v| w | (v < lo) | (v > hi));
            !samples.par_chunks(1 << 16).any(wide)
        }
    }
}

/// Writes samples `first..` of `pcm` into `data` as a `data` chunk holds them (as many as
/// `data` takes): each sample little-endian in its `bytes` bytes (a 24-bit one in three),
/// in parallel pieces. Integers outside their bit depth are for [`fits_bits`] to refuse.
fn wav_data(pcm: &Pcm, bytes: usize, first: usize, data: &mut [u8]) {
    use rayon::prelude::*;
    const PIECE: usize = 1 << 16;
    let n = data.len() / bytes;
    match pcm {
        Pcm::Float { samples, .. } => data
            .par_chunks_mut(PIECE * 4)
            .zip(samples[first..first + n].par_chunks(PIECE))
            .for_each(|(d, s)| {
                for (d, v) in d.chunks_exact_mut(4).zip(s) {
                    d.copy_from_slice(&v.to_le_bytes());
                }
            }),
        Pcm::Int { samples, .. } => {
            let samples = &samples[first..first + n];
            data.par_chunks_mut(PIECE * bytes)
                .zip(samples.par_chunks(PIECE))
                .for_each(|(d, s)| match bytes {
                    3 => {
                        // four samples (12 bytes) as three little-endian words, then the rest
                        let mut d4 = d.chunks_exact_mut(12);
                        let mut s4 = s.chunks_exact(4);
                        for (d, v) in (&mut d4).zip(&mut s4) {
                            let [a, b, c, e] = [v[0] as u32, v[1] as u32, v[2] as u32, v[3] as u32];
                            d[0..4].copy_from_slice(&((a & 0xFF_FFFF) | (b << 24)).to_le_bytes());
                            d[4..8]
                                .copy_from_slice(&(((b >> 8) & 0xFFFF) | (c << 16)).to_le_bytes());
                            d[8..12]
                                .copy_from_slice(&(((c >> 16) & 0xFF) | (e << 8)).to_le_bytes());
                        }
                        for (d, &v) in d4.into_remainder().chunks_exact_mut(3).zip(s4.remainder()) {
                            d[0] = v as u8;
                            d[1] = (v >> 8) as u8;
                            d[2] = (v >> 16) as u8;
                        }
                    }
                    2 => {
                        for (d, &v) in d.chunks_exact_mut(2).zip(s) {
                            d.copy_from_slice(&(v as i16).to_le_bytes());
                        }
                    }
                    _ => {
                        for (d, v) in d.chunks_exact_mut(bytes).zip(s) {
                            d.copy_from_slice(&v.to_le_bytes()[..bytes]);
                        }
                    }
                });
        }
    }
}

/// Gives an odd-sized `data` chunk (hound writes the last chunk unpadded) its RIFF pad byte
/// and fixes the RIFF size, so chunks added after it start at an even offset.
fn pad_data_chunk(bytes: &mut Vec<u8>) -> std::result::Result<(), String> {
    if bytes.len().is_multiple_of(2) {
        return Ok(());
    }
    bytes.push(0);
    let riff_size =
        u32::try_from(bytes.len() - 8).map_err(|_| "WAV file over 4 GiB".to_string())?;
    bytes[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok(())
}

/// A stable 64-bit hash (FNV-1a) used to derive dither seeds from song identities.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pending file is invisible at its destination until committed, replaces what was
    /// there when committed, and leaves nothing behind when dropped or when its write fails.
    #[test]
    fn pending_files_appear_only_when_committed() {
        let dir = std::env::temp_dir().join(format!("mixfarm-pending-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dest = dir.join("song.wav");
        let listing = || {
            let mut v: Vec<String> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.map(|e| e.unwrap().file_name().to_string_lossy().into())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        let write = |bytes: &'static [u8]| {
            move |tmp: &Path| std::fs::write(tmp, bytes).map_err(|e| Error::io(tmp, e))
        };
        // committed: in place, no temporary left
        write_pending(&dest, write(b"first"))
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        assert_eq!(listing(), ["song.wav"]);
        // pending: the old file still there; dropped: nothing changed, nothing left
        let p = write_pending(&dest, write(b"second")).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        assert_eq!(listing().len(), 2, "the temporary file beside it");
        drop(p);
        assert_eq!(listing(), ["song.wav"]);
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        // a failed write: the error, nothing left
        let failed = write_pending(&dest, |tmp| {
            std::fs::write(tmp, b"partial").map_err(|e| Error::io(tmp, e))?;
            Err(Error::io(tmp, std::io::Error::other("disk full")))
        });
        assert!(failed.is_err());
        assert_eq!(listing(), ["song.wav"]);
        // committed over the old one
        write_pending(&dest, write(b"third"))
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"third");
        assert_eq!(listing(), ["song.wav"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The AVX2 quantiser gives the scalar loop's integers: 16 and 24 bits, samples around
    /// every rounding boundary, past full scale, infinite and NaN, runs of every length
    /// around its four-sample step, from several seeds and stream offsets.
    #[test]
    fn avx2_quantiser_gives_the_scalar_integers() {
        if !(cfg!(target_arch = "x86_64") && std::is_x86_feature_detected!("avx2")) {
            eprintln!("no AVX2: nothing to compare");
            return;
        }
        let mut rng = crate::core::SplitMix64::new(9);
        let mut x: Vec<f32> = (0..4099)
            .map(|i| match i % 7 {
                0 => (rng.next_f64() * 2.0 - 1.0) as f32,
                1 => ((rng.next_f64() * 64.0).round() - 32.0 + 0.5) as f32 / 8_388_608.0,
                2 => ((rng.next_f64() * 64.0).round() - 32.0 + 0.5) as f32 / 32_768.0,
                3 => (rng.next_f64() * 4.0 - 2.0) as f32,
                4 => (rng.next_f64() * 1e-6) as f32,
                _ => (rng.next_f64() * 0.1) as f32 - 0.05,
            })
            .collect();
        x[10] = f32::NAN;
        x[11] = f32::INFINITY;
        x[12] = f32::NEG_INFINITY;
        x[13] = 1.0;
        x[14] = -1.0;
        x[15] = -0.0;
        for bits in [16, 24] {
            for (seed, s0) in [(0u64, 0u64), (7, 3), (u64::MAX, 1 << 40), (12345, 999_999)] {
                for len in (0..9).chain([4099]) {
                    let (mut a, mut b) = (vec![0i32; len], vec![0i32; len]);
                    quantize_run(&x[..len], s0, seed, bits, &mut a);
                    quantize_run_scalar(&x[..len], s0, seed, bits, &mut b);
                    assert_eq!(a, b, "{bits} bits, seed {seed}, from {s0}, {len} samples");
                }
            }
        }
    }

    /// 24-bit samples packed four at a time give each sample's three little-endian bytes,
    /// for every count of samples around the groups of four and a piece's end; a sample
    /// outside 24 bits is refused.
    #[test]
    fn packs_24_bit_samples_byte_for_byte() {
        for n in (0..13).chain([(1 << 16) - 1, 1 << 16, (1 << 16) + 5]) {
            let samples: Vec<i32> = (0..n as i32)
                .map(|i| {
                    (i.wrapping_mul(2_654_435_761_u32 as i32) >> 8).clamp(-(1 << 23), (1 << 23) - 1)
                })
                .collect();
            let want: Vec<u8> = samples
                .iter()
                .flat_map(|v| v.to_le_bytes()[..3].to_vec())
                .collect();
            let pcm = Pcm::Int {
                bits: 24,
                channels: 1,
                samples,
            };
            let mut got = vec![0u8; n * 3];
            wav_data(&pcm, 3, 0, &mut got);
            assert_eq!(got, want, "{n} samples");
        }
        let pcm = Pcm::Int {
            bits: 24,
            channels: 1,
            samples: vec![0, 1 << 23, 0],
        };
        assert!(!fits_bits(&pcm), "a sample past 24 bits");
    }
}
