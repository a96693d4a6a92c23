//! WAV files that symphonia's RIFF reader refuses but ffmpeg and libsndfile read: a chunk of
//! odd size before `data` (its pad byte), RIFF and `data` sizes of 0xFFFFFFFF (what ffmpeg
//! writes to a pipe: the audio runs to the end of the file), and RF64/BW64 (sizes in the
//! `ds64` chunk). [`scan`] walks the chunks to find `fmt ` and `data`; when the file needs
//! it, [`View`] shows symphonia a plain RIFF/WAVE stream (the `fmt ` chunk as written, then
//! the audio bytes in place) so the decoder itself is unchanged. CPU only; no shader mirrored.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Where the audio of a WAV file is, and whether symphonia needs a corrected view of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// the `fmt ` chunk's body, as written
    pub fmt: Vec<u8>,
    /// file offset of the first audio byte
    pub data_offset: u64,
    /// audio bytes (a whole number of frames when read to the end of the file); may reach
    /// past the end of a truncated file, which the decoder then reports
    pub data_len: u64,
    /// bytes per frame (`fmt `'s block align)
    pub block_align: u64,
    /// true when symphonia cannot read the file as it is (RF64/BW64, a size of 0xFFFFFFFF,
    /// an odd-sized chunk before `data`)
    pub needs_view: bool,
}

impl Layout {
    /// Frames of audio the file holds (by its sizes).
    pub fn frames(&self) -> u64 {
        self.data_len / self.block_align.max(1)
    }
}

/// Largest `fmt ` chunk read (WAVE_FORMAT_EXTENSIBLE is 40 bytes).
const MAX_FMT_BYTES: u32 = 4096;
/// A 32-bit size that means "unknown" (streamed) or "see `ds64`" (RF64).
const UNKNOWN: u32 = u32::MAX;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// Walks the chunks of `file` (`file_len` bytes). `Ok(None)` when it is not a WAVE file or
/// lacks a readable `fmt ` or `data` chunk: symphonia then says what is wrong with it.
pub fn scan(file: &mut File, file_len: u64) -> io::Result<Option<Layout>> {
    let mut head = [0u8; 12];
    file.seek(SeekFrom::Start(0))?;
    if file_len < 12 || file.read_exact(&mut head).is_err() {
        return Ok(None);
    }
    let rf64 = match &head[0..4] {
        b"RIFF" => false,
        b"RF64" | b"BW64" => true,
        _ => return Ok(None),
    };
    if &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut needs_view = rf64 || u32_at(&head, 4) == UNKNOWN;
    let mut ds64_data: Option<u64> = None;
    let mut fmt: Option<Vec<u8>> = None;
    let mut pos = 12u64;
    while pos + 8 <= file_len {
        let mut ch = [0u8; 8];
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut ch)?;
        let size = u32_at(&ch, 4);
        let body = pos + 8;
        match &ch[0..4] {
            b"ds64" if rf64 && size >= 16 => {
                let mut b = [0u8; 16];
                file.read_exact(&mut b)?;
                ds64_data = Some(u64_at(&b, 8));
            }
            b"fmt " if (16..=MAX_FMT_BYTES).contains(&size) => {
                let mut b = vec![0u8; size as usize];
                file.read_exact(&mut b)?;
                fmt = Some(b);
            }
            b"data" => {
                let Some(fmt) = fmt else { return Ok(None) };
                let block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]]));
                if block_align == 0 {
                    return Ok(None);
                }
                let to_end = file_len - body;
                let data_len = match (size, ds64_data) {
                    (UNKNOWN, Some(n)) if rf64 && n != u64::MAX => n,
                    (UNKNOWN, _) => {
                        needs_view = true;
                        to_end - to_end % block_align
                    }
                    (n, _) => u64::from(n),
                };
                return Ok(Some(Layout {
                    fmt,
                    data_offset: body,
                    data_len,
                    block_align,
                    needs_view,
                }));
            }
            _ => {}
        }
        if size % 2 == 1 {
            needs_view = true; // symphonia misreads the pad byte after some odd chunks
        }
        pos = body + u64::from(size) + u64::from(size % 2);
    }
    Ok(None)
}

/// A plain RIFF/WAVE stream over a file's audio: a built header (`RIFF`, the `fmt ` chunk,
/// `data`) followed by the file's audio bytes. Audio over 4 GiB does not fit the header's
/// sizes: the view then states "unknown" sizes and reads zeros past the audio, and the
/// reader stops at [`Layout::frames`].
pub struct View {
    header: Vec<u8>,
    file: File,
    layout: Layout,
    pos: u64,
    file_pos: Option<u64>,
    unbounded: bool,
    /// audio bytes the file really holds (less than `data_len` when it is truncated)
    avail: u64,
}

impl View {
    /// The view of `file` laid out as `layout`.
    pub fn new(file: File, layout: Layout) -> View {
        let fmt_len = layout.fmt.len() as u64;
        let fmt_padded = fmt_len + fmt_len % 2;
        let riff = 4 + 8 + fmt_padded + 8 + layout.data_len;
        let unbounded = riff >= u64::from(UNKNOWN);
        let size = |n: u64| if unbounded { UNKNOWN } else { n as u32 };
        let mut header = Vec::with_capacity(64);
        header.extend_from_slice(b"RIFF");
        header.extend_from_slice(&size(riff).to_le_bytes());
        header.extend_from_slice(b"WAVE");
        header.extend_from_slice(b"fmt ");
        header.extend_from_slice(&(fmt_len as u32).to_le_bytes());
        header.extend_from_slice(&layout.fmt);
        if fmt_len % 2 == 1 {
            header.push(0);
        }
        header.extend_from_slice(b"data");
        header.extend_from_slice(&size(layout.data_len).to_le_bytes());
        let file_len = file.metadata().map_or(u64::MAX, |m| m.len());
        let avail = layout
            .data_len
            .min(file_len.saturating_sub(layout.data_offset));
        View {
            avail,
            header,
            file,
            layout,
            pos: 0,
            file_pos: None,
            unbounded,
        }
    }

    /// Bytes of the view: the header and the audio the file holds (a truncated file's view
    /// ends where the file does, and the reader reports it truncated).
    fn len(&self) -> u64 {
        self.header.len() as u64 + self.avail
    }
}

impl Read for View {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let h = self.header.len() as u64;
        if self.pos < h {
            let from = self.pos as usize;
            let n = buf.len().min(self.header.len() - from);
            buf[..n].copy_from_slice(&self.header[from..from + n]);
            self.pos += n as u64;
            return Ok(n);
        }
        let off = self.pos - h;
        if off >= self.avail {
            if !self.unbounded || self.avail < self.layout.data_len {
                return Ok(0);
            }
            // past the audio of an over-4-GiB view: silence the reader never returns
            buf.fill(0);
            self.pos += buf.len() as u64;
            return Ok(buf.len());
        }
        let at = self.layout.data_offset + off;
        if self.file_pos != Some(at) {
            self.file.seek(SeekFrom::Start(at))?;
        }
        let want = buf.len().min((self.avail - off).min(1 << 30) as usize);
        let n = self.file.read(&mut buf[..want])?;
        self.file_pos = Some(at + n as u64);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for View {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let bad = || io::Error::new(io::ErrorKind::InvalidInput, "seek out of range");
        let new = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) if !self.unbounded => self.len().checked_add_signed(d),
            SeekFrom::End(_) => None,
        };
        self.pos = new.ok_or_else(bad)?;
        Ok(self.pos)
    }
}

impl symphonia::core::io::MediaSource for View {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        (!self.unbounded).then(|| self.len())
    }
}
