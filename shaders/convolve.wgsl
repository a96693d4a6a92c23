// Convolution engine, frequency-domain multiply-accumulate of uniformly partitioned
// overlap-save (spec in src/ops/convolve/mod.rs; CPU twin src/ops/convolve/mac.rs): Y_k[bin] = sum over p = 0 .. terms-1, in that order,
// of X_{k-p}[bin] * H_p[bin], complex, f32, written without fused multiply-add, in the
// order re = (re + a.re*b.re) - a.im*b.im, im = (im + a.re*b.im) + a.im*b.re. The forward
// and inverse FFTs are shaders/fft.wgsl; this kernel is the middle dispatch.
// One thread per (job, bin); a job is one output block k of one channel. The input spectra
// of a channel lie in a ring of `ring` spectra from `x_base` (X_k in slot `x_slot`, X_{k-p}
// in slot (x_slot - p) mod ring): the streaming executor keeps the frequency-domain delay
// line there between time chunks; a whole signal uses a ring larger than its spectra.
const BINS: u32 = 2049u;

struct MacParams {
    n_jobs: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct MacJob {
    // first bin of Y_k in `y`
    y_offset: u32,
    // first bin of the channel's ring of spectra in `x`
    x_base: u32,
    // slot of X_k in the ring
    x_slot: u32,
    // spectra in the ring (> terms - 1)
    ring: u32,
    // first bin of H_0 in `h` (H_p sits p * BINS bins after it)
    h_offset: u32,
    // partitions summed: min(P, k + 1)
    terms: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: MacParams;
@group(0) @binding(1) var<storage, read> x: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> h: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> jobs: array<MacJob>;
@group(0) @binding(4) var<storage, read_write> y: array<vec2<f32>>;

@compute @workgroup_size(256)
fn mac(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
       @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = (wid.x + wid.y * nwg.x) * 256u + lid;
    let j = g / BINS;
    let bin = g % BINS;
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    var re = 0.0;
    var im = 0.0;
    for (var p = 0u; p < job.terms; p++) {
        let a = x[job.x_base + ((job.x_slot + job.ring - p) % job.ring) * BINS + bin];
        let b = h[job.h_offset + p * BINS + bin];
        // accumulator first, then each product (llvmpipe's compiler reassociated
        // `re + (p - q)` into this order; spelling it out leaves nothing to reassociate)
        re = (re + a.x * b.x) - a.y * b.y;
        im = (im + a.x * b.y) + a.y * b.x;
    }
    y[job.y_offset + bin] = vec2<f32>(re, im);
}
