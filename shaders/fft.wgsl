// Batched real FFT of FFT_N points, one workgroup per transform: a half-size (FFT_N/2)
// complex radix-2 Stockham FFT in workgroup memory, packed even/odd samples, plus the
// real-signal split. Twiddles come from a host f64 table (no sin/cos here):
// twiddles[j] = exp(-2πi j / FFT_N), j < FFT_N/2.
// The host may rewrite the FFT_N line (power of two, 1024..8192); see src/gpu/fft.rs.
// Each job frames a window of a signal: sample j of the frame is
// signal[signal_offset + frame_start + j] when 0 <= frame_start + j < signal_len, else 0.
// Forward: frame -> FFT_N/2+1 bins at spectra[spectrum_offset..].
// Inverse (unnormalised, like realfft): bins -> frame samples keep_from..keep_from+keep_len,
// written to signal[signal_offset + frame_start + (j - keep_from)] inside 0..signal_len.
const FFT_N: u32 = 4096u;
const HALF: u32 = FFT_N / 2u;
const WG: u32 = 256u;
const BPT: u32 = HALF / 2u / WG; // butterflies per thread per stage

struct FftParams {
    n_transforms: u32,
    keep_from: u32,
    keep_len: u32,
    _pad: u32,
}

struct FrameJob {
    signal_offset: u32,
    signal_len: u32,
    frame_start: i32,
    spectrum_offset: u32,
}

@group(0) @binding(0) var<uniform> params: FftParams;
@group(0) @binding(1) var<storage, read> twiddles: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> jobs: array<FrameJob>;
// signal is read by `forward` and written by `inverse`; spectra the other way round.
@group(0) @binding(3) var<storage, read_write> signal: array<f32>;
@group(0) @binding(4) var<storage, read_write> spectra: array<vec2<f32>>;

var<workgroup> z: array<vec2<f32>, HALF>;

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn conj(a: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x, -a.y);
}

// In-place Stockham over z (HALF points); `inverse` conjugates the twiddles.
fn stockham(lid: u32, inverse: bool) {
    var n = HALF;
    var s = 1u;
    var lo: array<vec2<f32>, BPT>;
    var hi: array<vec2<f32>, BPT>;
    loop {
        if n <= 1u {
            break;
        }
        let m = n / 2u;
        for (var r = 0u; r < BPT; r++) {
            let b = lid + r * WG;
            let p = b / s;
            let q = b % s;
            let a = z[q + s * p];
            let c = z[q + s * (p + m)];
            var w = twiddles[2u * p * s];
            if inverse {
                w = conj(w);
            }
            lo[r] = a + c;
            hi[r] = cmul(a - c, w);
        }
        workgroupBarrier();
        for (var r = 0u; r < BPT; r++) {
            let b = lid + r * WG;
            let p = b / s;
            let q = b % s;
            z[q + s * 2u * p] = lo[r];
            z[q + s * (2u * p + 1u)] = hi[r];
        }
        workgroupBarrier();
        n = m;
        s = s * 2u;
    }
}

fn sample(job: FrameJob, j: u32) -> f32 {
    let idx = job.frame_start + i32(j);
    if idx < 0 || idx >= i32(job.signal_len) {
        return 0.0;
    }
    return signal[job.signal_offset + u32(idx)];
}

fn transform_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

@compute @workgroup_size(256)
fn forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = transform_index(wid, nwg);
    if t >= params.n_transforms {
        return;
    }
    let job = jobs[t];
    for (var i = lid; i < HALF; i += WG) {
        z[i] = vec2<f32>(sample(job, 2u * i), sample(job, 2u * i + 1u));
    }
    workgroupBarrier();
    stockham(lid, false);
    for (var k = lid; k <= HALF; k += WG) {
        var x: vec2<f32>;
        if k == 0u || k == HALF {
            let z0 = z[0];
            if k == 0u {
                x = vec2<f32>(z0.x + z0.y, 0.0);
            } else {
                x = vec2<f32>(z0.x - z0.y, 0.0);
            }
        } else {
            let a = z[k];
            let b = conj(z[HALF - k]);
            let e = (a + b) * 0.5;
            let d = (a - b) * 0.5;
            let o = vec2<f32>(d.y, -d.x); // d / i
            x = e + cmul(twiddles[k], o);
        }
        spectra[job.spectrum_offset + k] = x;
    }
}

@compute @workgroup_size(256)
fn inverse(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = transform_index(wid, nwg);
    if t >= params.n_transforms {
        return;
    }
    let job = jobs[t];
    for (var k = lid; k < HALF; k += WG) {
        var a = spectra[job.spectrum_offset + k];
        var b = conj(spectra[job.spectrum_offset + HALF - k]);
        if k == 0u {
            a.y = 0.0;
            b.y = 0.0;
        }
        // z = (a + b) + i·cmul(a − b, conj(w)), spelled out in one fixed order: llvmpipe's
        // compiler reassociated `s.y + (x.x·w.x − x.y·w.y)` into this form, so writing it
        // this way leaves nothing to reassociate (the CPU twin uses the same expressions).
        let s = a + b;
        let x = a - b;
        let w = conj(twiddles[k]);
        z[k] = vec2<f32>(s.x + -(x.x * w.y + x.y * w.x), (s.y + x.x * w.x) - x.y * w.y);
    }
    workgroupBarrier();
    stockham(lid, true);
    let keep_end = params.keep_from + params.keep_len;
    for (var i = lid; i < HALF; i += WG) {
        let v = z[i];
        for (var h = 0u; h < 2u; h++) {
            let j = 2u * i + h;
            if j >= params.keep_from && j < keep_end {
                let idx = job.frame_start + i32(j - params.keep_from);
                if idx >= 0 && idx < i32(job.signal_len) {
                    signal[job.signal_offset + u32(idx)] = select(v.x, v.y, h == 1u);
                }
            }
        }
    }
}
