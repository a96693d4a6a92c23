//! Processors in time chunks: each prepared [`Processor`] with the state it carries from one
//! chunk to the next ([`ProcStream`]), its latency, and the dispatch to each operator's
//! `cpu::process_chunk`. Concatenated chunk outputs equal the whole-song output delayed by
//! [`Processor::latency_frames`], bit for bit (tests `stream_dynamics`, `stream_filters`).

use super::{
    chorus, compressor, delay, eq, gain, limiter, meter, multiband, reverb, width, Processor,
};

/// What a processor carries between chunks (filter and envelope states, delay lines,
/// lookahead, convolution history).
#[derive(Debug, Clone)]
pub enum ProcStream {
    /// stateless (trim, elementwise operators)
    None,
    /// compressor detector and ballistics
    Compressor(compressor::cpu::Stream),
    /// limiter detector, hold, window and release, and its input delay line
    Limiter(Box<limiter::cpu::Stream>),
    /// delay lines
    Delay(delay::cpu::Stream),
    /// chorus delay lines and LFO phase
    Chorus(chorus::cpu::Stream),
    /// crossover and band compressor states
    Multiband(Box<multiband::cpu::Stream>),
    /// EQ section states or convolution history
    Eq(Box<eq::cpu::Stream>),
    /// convolution history and pre-delay line
    Reverb(Box<reverb::cpu::Stream>),
    /// bass-mono filter states
    Width(width::cpu::Stream),
    /// K-weighting states and the energies read so far
    Meter(meter::cpu::Stream),
}

impl ProcStream {
    /// What a stage read over the song for the host (`plan::Readings`): a meter's energies
    /// per channel, then its sample peak per channel (one value each), a reporting limiter's
    /// gains ([`super::limiter::Report`]); `None` for
    /// the other processors.
    pub fn readings(&self) -> Option<Vec<Vec<f32>>> {
        match self {
            ProcStream::Meter(m) => Some(
                m.energies
                    .iter()
                    .cloned()
                    .chain(m.peaks.iter().map(|&p| vec![p]))
                    .collect(),
            ),
            ProcStream::Limiter(l) => l.readings(),
            _ => None,
        }
    }
}

impl Processor {
    /// Frames by which this processor's streamed output lags its input.
    pub fn latency_frames(&self) -> usize {
        match self {
            Processor::Trim { .. } | Processor::Elementwise(_) | Processor::Meter(_) => 0,
            Processor::Compressor(c) => compressor::cpu::latency_frames(&c.params),
            Processor::Limiter(l) => limiter::cpu::latency_frames(l),
            Processor::Delay(d) => delay::cpu::latency_frames(&d.params),
            Processor::Chorus(c) => chorus::cpu::latency_frames(c),
            Processor::Multiband(m) => multiband::cpu::latency_frames(m),
            Processor::Eq(e) => eq::cpu::latency_frames(e),
            Processor::Reverb(r) => reverb::cpu::latency_frames(r),
            Processor::Width(w) => width::cpu::latency_frames(w),
        }
    }

    /// Fresh state (silence before the song) for `channels` channels whose input lags the
    /// song by `lag` frames (the chorus starts its LFO clock that much earlier, the multiband
    /// its compressors that much later; for the others silence before the song is rest).
    pub fn stream(&self, channels: usize, lag: usize) -> ProcStream {
        match self {
            Processor::Trim { .. } | Processor::Elementwise(_) => ProcStream::None,
            Processor::Compressor(c) => {
                ProcStream::Compressor(compressor::cpu::Stream::new(&c.params, channels))
            }
            Processor::Limiter(l) => {
                let mut st = limiter::cpu::Stream::new(l, channels);
                if let Some(r) = l.report {
                    st.trace_per_hop(r.hop_frames, r.hops, lag);
                }
                ProcStream::Limiter(Box::new(st))
            }
            Processor::Delay(d) => ProcStream::Delay(delay::cpu::Stream::new(&d.params, channels)),
            Processor::Chorus(c) => {
                ProcStream::Chorus(chorus::cpu::Stream::new(c, channels).lagging(lag))
            }
            Processor::Multiband(m) => ProcStream::Multiband(Box::new(
                multiband::cpu::Stream::new(m, channels).lagging(lag),
            )),
            Processor::Eq(e) => ProcStream::Eq(Box::new(eq::cpu::Stream::new(e, channels))),
            Processor::Reverb(r) => {
                ProcStream::Reverb(Box::new(reverb::cpu::Stream::new(r, channels)))
            }
            Processor::Width(w) => ProcStream::Width(width::cpu::Stream::new(w, channels)),
            Processor::Meter(_) => ProcStream::Meter(meter::cpu::Stream::new(channels, lag)),
        }
    }

    /// Processes the next chunk of `x` in place with the state `st` made by
    /// [`Processor::stream`] (chunks a multiple of the convolution block for processors that
    /// convolve). `key` is the same frames of the sidechain key, for processors that take
    /// one. `song_end`: the frame of this chunk at which the input passes the song's end,
    /// when it does in this chunk (the limiter asks no gain reduction for what follows, as
    /// over a whole song).
    pub fn process_chunk(
        &self,
        st: &mut ProcStream,
        x: &mut [Vec<f32>],
        key: Option<&[Vec<f32>]>,
        song_end: Option<usize>,
    ) {
        if let (Processor::Limiter(l), ProcStream::Limiter(s), Some(e)) = (self, &mut *st, song_end)
        {
            let mut tail: Vec<Vec<f32>> = x
                .iter_mut()
                .map(|ch| ch.split_off(e.min(ch.len())))
                .collect();
            limiter::cpu::process_chunk(l, s, x);
            s.end_input();
            limiter::cpu::process_chunk(l, s, &mut tail);
            for (ch, t) in x.iter_mut().zip(tail) {
                ch.extend(t);
            }
            return;
        }
        match (self, st) {
            (Processor::Trim { gain: g }, _) => {
                for ch in x {
                    gain::cpu::apply(ch, *g);
                }
            }
            (Processor::Elementwise(e), _) => e.process(x),
            (Processor::Compressor(c), ProcStream::Compressor(s)) => {
                compressor::cpu::process_chunk(&c.params, s, x, key)
            }
            (Processor::Limiter(l), ProcStream::Limiter(s)) => limiter::cpu::process_chunk(l, s, x),
            (Processor::Delay(d), ProcStream::Delay(s)) => {
                delay::cpu::process_chunk(&d.params, s, x)
            }
            (Processor::Chorus(c), ProcStream::Chorus(s)) => chorus::cpu::process_chunk(c, s, x),
            (Processor::Multiband(m), ProcStream::Multiband(s)) => {
                multiband::cpu::process_chunk(m, s, x)
            }
            (Processor::Eq(e), ProcStream::Eq(s)) => eq::cpu::process_chunk(e, s, x),
            (Processor::Reverb(r), ProcStream::Reverb(s)) => reverb::cpu::process_chunk(r, s, x),
            (Processor::Width(w), ProcStream::Width(s)) => width::cpu::process_chunk(w, s, x),
            (Processor::Meter(m), ProcStream::Meter(s)) => meter::cpu::process_chunk(m, s, x),
            (p, _) => panic!("{}: stream state of another processor", p.op_name()),
        }
    }
}
