//! Every shader in `shaders/` parses and validates with naga (no adapter needed), and every
//! Rust `#[repr(C)]` struct shared with a kernel has the WGSL struct's size and member
//! offsets (read with naga's layouter), so the two cannot drift apart.

use std::mem::{offset_of, size_of};

use mixfarm::gpu::elementwise::Params;
use mixfarm::gpu::elementwise_ops::ElementwiseJob;
use mixfarm::gpu::fft::{self, FftParams, FrameJob};
use mixfarm::gpu::kernels::ELEMENTWISE;
use mixfarm::gpu::load::LoadJob;
use mixfarm::gpu::recursive::{RecJob, RecParams};
use mixfarm::ops::convolve::gpu::{MacJob, MacParams};
use mixfarm::ops::envelope::gpu::EnvelopeJob;
use mixfarm::ops::envelope::Segment;
use mixfarm::ops::gain::gpu::GainJob;
use mixfarm::ops::mix::gpu::MixJob;
use mixfarm::ops::reverb::gpu::ReverbMixJob;

fn validate(name: &str, src: &str) -> naga::Module {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    let mut v = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    );
    if let Err(e) = v.validate(&module) {
        panic!("{name}: {}", e.emit_to_string(src));
    }
    module
}

#[test]
fn every_shader_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("shaders/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            let text = std::fs::read_to_string(&path).expect("read shader");
            // the recursive kernels and their helpers validate as the modules they are
            // built into (recursion.wgsl, includes, kernel)
            let stem = path.file_stem().unwrap().to_string_lossy();
            let src = mixfarm::gpu::recursive::standalone(&stem).unwrap_or(text);
            validate(&path.display().to_string(), &src);
            eprintln!("{}: valid", path.display());
            n += 1;
        }
    }
    assert!(
        n >= 6,
        "expected the fft, convolve, gain, envelope, mix and load shaders, found {n}"
    );
    for size in [1024, 2048, 4096, 8192] {
        validate(
            &format!("fft.wgsl n={size}"),
            &fft::shader_source(size).expect("size"),
        );
    }
    assert!(fft::shader_source(512).is_err() && fft::shader_source(3000).is_err());
}

/// Asserts that WGSL struct `name` in `src` has `size` bytes and the `fields` offsets.
fn same_layout(file: &str, name: &str, size: usize, fields: &[(&str, usize)]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("shaders")
        .join(file);
    let src = std::fs::read_to_string(path).expect("read shader");
    let module = validate(file, &src);
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).expect("layout");
    let (handle, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("{file}: no struct {name}"));
    let naga::TypeInner::Struct { members, .. } = &ty.inner else {
        panic!("{file}: {name} is not a struct")
    };
    assert_eq!(
        layouter[handle].size as usize, size,
        "{file}: size of {name}"
    );
    for (field, offset) in fields {
        let m = members
            .iter()
            .find(|m| m.name.as_deref() == Some(field))
            .unwrap_or_else(|| panic!("{file}: {name} has no member {field}"));
        assert_eq!(
            m.offset as usize, *offset,
            "{file}: offset of {name}.{field}"
        );
    }
    eprintln!(
        "{file}: {name} ({size} bytes, {} members checked) matches Rust",
        fields.len()
    );
}

macro_rules! layout {
    ($file:expr, $wgsl:expr, $ty:ty, [$($f:ident),*]) => {
        same_layout($file, $wgsl, size_of::<$ty>(), &[$((stringify!($f), offset_of!($ty, $f))),*])
    };
}

#[test]
fn rust_structs_match_wgsl_layouts() {
    layout!(
        "fft.wgsl",
        "FftParams",
        FftParams,
        [n_transforms, keep_from, keep_len]
    );
    layout!(
        "fft.wgsl",
        "FrameJob",
        FrameJob,
        [signal_offset, signal_len, frame_start, spectrum_offset]
    );
    layout!("convolve.wgsl", "MacParams", MacParams, [n_jobs]);
    layout!(
        "convolve.wgsl",
        "MacJob",
        MacJob,
        [y_offset, x_base, x_slot, ring, h_offset, terms]
    );
    for file in [
        "gain.wgsl",
        "mix.wgsl",
        "envelope.wgsl",
        "load.wgsl",
        "reverb_mix.wgsl",
    ] {
        layout!(file, "Params", Params, [n_jobs, groups_per_job]);
    }
    layout!("gain.wgsl", "GainJob", GainJob, [offset, frames, gain]);
    layout!(
        "recursion.wgsl",
        "RecParams",
        RecParams,
        [n_jobs, frames, first, count]
    );
    layout!(
        "recursion.wgsl",
        "RecJob",
        RecJob,
        [ch0, ch1, key0, key1, frames, coef, state, lane]
    );
    layout!(
        "mix.wgsl",
        "MixJob",
        MixJob,
        [dst_offset, src_offset, frames, gain]
    );
    layout!(
        "envelope.wgsl",
        "EnvelopeJob",
        EnvelopeJob,
        [offset, frames, seg_first, seg_count]
    );
    layout!(
        "envelope.wgsl",
        "Segment",
        Segment,
        [start_frame, end_frame, gain0, slope]
    );
    layout!(
        "reverb_mix.wgsl",
        "ReverbMixJob",
        ReverbMixJob,
        [audio_offset, wet_offset, frames, dry, wet]
    );
    layout!(
        "load.wgsl",
        "LoadJob",
        LoadJob,
        [dst_offset, src_offset, src_frames, dst_frames]
    );
    // every elementwise operator's kernel shares one binding layout
    for op in ELEMENTWISE {
        let file = format!("{}.wgsl", op.name);
        layout!(&file, "Params", Params, [n_jobs, groups_per_job]);
        layout!(
            &file,
            "ElementwiseJob",
            ElementwiseJob,
            [offset, frames, channel, params]
        );
    }
}

/// Value of a `const NAME: u32 = …u;` in a shader.
fn wgsl_u32_const(file: &str, name: &str) -> u32 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("shaders")
        .join(file);
    let src = std::fs::read_to_string(path).expect("read shader");
    let module = validate(file, &src);
    let (_, c) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("{file}: no const {name}"));
    match module.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => v,
        ref e => panic!("{file}: {name} is {e:?}"),
    }
}

#[test]
fn shader_constants_match_rust() {
    assert_eq!(
        wgsl_u32_const("convolve.wgsl", "BINS") as usize,
        mixfarm::ops::convolve::BINS
    );
    assert_eq!(
        wgsl_u32_const("fft.wgsl", "FFT_N") as usize,
        fft::DEFAULT_SIZE
    );
    assert_eq!(fft::DEFAULT_SIZE, mixfarm::ops::convolve::FFT_SIZE);
    assert_eq!(wgsl_u32_const("fft.wgsl", "WG"), 256);
    assert_eq!(
        wgsl_u32_const("recursion.wgsl", "REC_THREADS"),
        mixfarm::gpu::recursive::THREADS
    );
}

/// The recursive kernels read their parameter structs word by word: the words they name
/// must be those fields.
#[test]
fn recursive_kernels_read_the_parameter_words_of_their_structs() {
    use mixfarm::ops::compressor::CompressorParams as Cp;
    use mixfarm::ops::delay::DelayParams as Dp;
    let words = |o: usize| o / 4;
    assert_eq!(
        [
            words(offset_of!(Cp, threshold_l2)),
            words(offset_of!(Cp, half_knee_l2)),
            words(offset_of!(Cp, slope)),
            words(offset_of!(Cp, knee_coef)),
            words(offset_of!(Cp, attack_step)),
            words(offset_of!(Cp, release_step)),
            words(offset_of!(Cp, rms_step)),
            words(offset_of!(Cp, makeup_l2)),
            words(offset_of!(Cp, detector)),
        ],
        [0, 1, 2, 3, 4, 5, 6, 7, 8],
        "compressor.wgsl's parameter words"
    );
    assert_eq!(
        [
            words(offset_of!(Dp, delay_frames)),
            words(offset_of!(Dp, feedback)),
            words(offset_of!(Dp, lowpass_coef)),
            words(offset_of!(Dp, filter)),
            words(offset_of!(Dp, wet)),
            words(offset_of!(Dp, dry)),
            words(offset_of!(Dp, ping_pong)),
        ],
        [0, 1, 2, 3, 4, 5, 6],
        "delay.wgsl's parameter words"
    );
}
