//! A source read at the render rate, a chunk at a time: decoded packet by packet and
//! resampled as it goes, so a song's sources never sit whole in memory. Reading again from
//! an earlier frame reopens the file (a second pass of `verify`, a GPU retry on the CPU).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::plan::Planar;

use super::decode::Decoder;
use super::resample::{output_frames, StreamResampler};

/// A source file, read at the render rate in order.
pub struct SourceStream {
    path: PathBuf,
    rate: u32,
    channels: usize,
    frames: usize,
    open: Option<Open>,
    /// the source frame `ready` starts at
    pos: usize,
}

struct Open {
    dec: Decoder,
    rs: Option<StreamResampler>,
    /// frames decoded (and resampled) but not yet read
    ready: Planar,
    done: bool,
}

impl SourceStream {
    /// Opens `path` for reading at `rate` Hz. Its length comes from the header where the
    /// format states it exactly, else from decoding the file once.
    pub fn open(path: &Path, rate: u32) -> Result<SourceStream> {
        let dec = Decoder::open(path)?;
        let channels = dec.channels();
        let file_rate = dec.sample_rate();
        let (file_frames, dec) = match dec.exact_frames() {
            Some(n) => (n, dec),
            None => {
                let mut dec = dec;
                let mut n = 0u64;
                let mut scratch: Planar = Vec::new();
                while dec.next_into(&mut scratch)? {
                    n += scratch[0].len() as u64;
                    scratch.iter_mut().for_each(Vec::clear);
                }
                (n, Decoder::open(path)?)
            }
        };
        let mut s = SourceStream {
            path: path.to_path_buf(),
            rate,
            channels,
            frames: output_frames(file_frames, file_rate, rate) as usize,
            open: None,
            pos: 0,
        };
        s.open = Some(s.start(dec)?);
        Ok(s)
    }

    /// Channels (1 or 2).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Length in frames at the render rate.
    pub fn frames(&self) -> usize {
        self.frames
    }

    fn start(&self, dec: Decoder) -> Result<Open> {
        let rs = (dec.sample_rate() != self.rate)
            .then(|| StreamResampler::new(&self.path, self.channels, dec.sample_rate(), self.rate))
            .transpose()?;
        Ok(Open {
            dec,
            rs,
            ready: vec![Vec::new(); self.channels],
            done: false,
        })
    }

    /// Fills `out` (one `Vec` per channel of this source, all the same length) with frames
    /// `start..` of the source, zeros past its end.
    pub fn read(&mut self, start: usize, out: &mut [Vec<f32>]) -> Result<()> {
        if start < self.pos || self.open.is_none() {
            let dec = Decoder::open(&self.path)?;
            self.open = Some(self.start(dec)?);
            self.pos = 0;
        }
        let n = out.first().map_or(0, Vec::len);
        let want = self.frames.saturating_sub(start).min(n);
        let skip = start - self.pos;
        let o = self.open.as_mut().expect("opened above");
        o.fill(skip + want)?;
        for c in o.ready.iter_mut() {
            c.drain(..skip.min(c.len()));
        }
        for (dst, src) in out.iter_mut().zip(&o.ready) {
            let k = want.min(src.len());
            dst[..k].copy_from_slice(&src[..k]);
            dst[k..].fill(0.0);
        }
        for c in o.ready.iter_mut() {
            c.drain(..want.min(c.len()));
        }
        self.pos = start + want;
        Ok(())
    }

    /// The whole source.
    pub fn read_all(&mut self) -> Result<Planar> {
        let mut out = vec![vec![0.0; self.frames]; self.channels];
        self.read(0, &mut out)?;
        Ok(out)
    }
}

impl Open {
    /// Decodes until `ready` holds `n` frames or the file ends.
    fn fill(&mut self, n: usize) -> Result<()> {
        let mut packet: Planar = Vec::new();
        while !self.done && self.ready[0].len() < n {
            packet.iter_mut().for_each(Vec::clear);
            // at the file's rate the packet goes straight to `ready`
            let into = if self.rs.is_some() {
                &mut packet
            } else {
                &mut self.ready
            };
            if self.dec.next_into(into)? {
                if let Some(rs) = &mut self.rs {
                    rs.push(&packet, &mut self.ready)?;
                }
            } else {
                if let Some(rs) = &mut self.rs {
                    rs.finish(&mut self.ready)?;
                }
                self.done = true;
            }
        }
        Ok(())
    }
}
