//! Measures FLAC sizes of one 24-bit (or 16-bit) WAV under several flacenc configurations,
//! every file decoded back and checked (`verify_flac`). Usage:
//! `cargo run --release --example flac_size -- song.wav`. Figures go to benches/RESULTS.md.

use flacenc::config::{Encoder, OrderSel, Window};
use flacenc::error::Verify;
use mixfarm::audio::flac::verify_flac;
use mixfarm::audio::pcm::Pcm;

fn encode(pcm: &Pcm, rate: u32, cfg: Encoder) -> Result<usize, String> {
    use flacenc::component::BitRepr;
    let Pcm::Int {
        bits,
        channels,
        samples,
    } = pcm
    else {
        return Err("integer PCM only".into());
    };
    let cfg = cfg.into_verified().map_err(|(_, e)| format!("{e:?}"))?;
    let block = cfg.block_size;
    let src =
        flacenc::source::MemSource::from_samples(samples, *channels, *bits as usize, rate as usize);
    let s = flacenc::encode_with_fixed_block_size(&cfg, src, block).map_err(|e| format!("{e}"))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    s.write(&mut sink).map_err(|e| format!("{e:?}"))?;
    let bytes = sink.as_slice().to_vec();
    // the stream's min block size is the short last block: fix as encode_flac does before
    // symphonia reads it
    let mut fixed = bytes.clone();
    let bs = (block as u16).to_be_bytes();
    fixed[8..10].copy_from_slice(&bs);
    verify_flac(&fixed, pcm, rate)?;
    Ok(bytes.len())
}

fn main() {
    let path = std::env::args().nth(1).expect("a WAV file");
    let mut r = hound::WavReader::open(&path).unwrap();
    let spec = r.spec();
    let samples: Vec<i32> = r.samples::<i32>().map(Result::unwrap).collect();
    let pcm = Pcm::Int {
        bits: u32::from(spec.bits_per_sample),
        channels: usize::from(spec.channels),
        samples,
    };
    let raw = pcm.frames() * usize::from(spec.channels) * usize::from(spec.bits_per_sample) / 8;
    println!(
        "{path}: {} Hz, {} bits, {} frames, raw {raw} bytes",
        spec.sample_rate,
        spec.bits_per_sample,
        pcm.frames()
    );
    let only: Option<String> = std::env::args().nth(2);
    let mut configs: Vec<(String, Encoder)> = Vec::new();
    let base = || {
        let mut c = Encoder::default();
        c.block_size = 4096;
        c
    };
    configs.push((
        "default (block 4096, lpc 10, prec 15, tukey 0.4, bitcount? default order_sel)".into(),
        base(),
    ));
    for order in [8usize, 12, 16, 24] {
        let mut c = base();
        c.subframe_coding.qlpc.lpc_order = order;
        configs.push((format!("lpc order {order}"), c));
    }
    for prec in [12usize, 13, 14] {
        let mut c = base();
        c.subframe_coding.qlpc.lpc_order = 12;
        c.subframe_coding.qlpc.quant_precision = prec;
        configs.push((format!("lpc 12, precision {prec}"), c));
    }
    for alpha in [0.25f32, 0.5, 0.75] {
        let mut c = base();
        c.subframe_coding.qlpc.lpc_order = 12;
        c.subframe_coding.qlpc.window = Window::Tukey { alpha };
        configs.push((format!("lpc 12, tukey {alpha}"), c));
    }
    {
        let mut c = base();
        c.subframe_coding.qlpc.lpc_order = 12;
        c.subframe_coding.fixed.order_sel = OrderSel::BitCount;
        configs.push(("lpc 12, fixed order by bit count".into(), c));
    }
    for bs in [2048usize, 4608, 8192] {
        let mut c = base();
        c.block_size = bs;
        c.subframe_coding.qlpc.lpc_order = 12;
        configs.push((format!("lpc 12, block {bs}"), c));
    }
    for (bs, order) in [
        (2048usize, 8usize),
        (2048, 10),
        (1024, 8),
        (2048, 12),
        (512, 8),
        (1024, 6),
        (1152, 8),
        (1024, 4),
        (2048, 6),
        (4096, 6),
        (2048, 4),
    ] {
        let mut c = base();
        c.block_size = bs;
        c.subframe_coding.qlpc.lpc_order = order;
        c.subframe_coding.fixed.order_sel = OrderSel::BitCount;
        configs.push((
            format!("combo: block {bs}, lpc {order}, fixed order by bit count"),
            c,
        ));
    }
    for (name, cfg) in configs {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let t0 = std::time::Instant::now();
        match encode(&pcm, spec.sample_rate, cfg) {
            Ok(n) => println!(
                "{n:>10} bytes {:6.2} % of raw  {:6.1} s  {name}",
                100.0 * n as f64 / raw as f64,
                t0.elapsed().as_secs_f64()
            ),
            Err(e) => println!("failed: {name}: {e}"),
        }
    }
}
