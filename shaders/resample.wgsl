// Delivery sample-rate conversion: the polyphase windowed-sinc FIR specified in
// src/ops/resample/mod.rs. Twin of src/ops/resample/cpu.rs. One invocation per output
// frame of one channel of a piece: the piece's input window is in `input` (channel c at
// c * in_len, input frame in_first at 0, zeros where the signal has none), its output goes
// to `output` (channel c at c * frames). Workgroup w serves channel w / groups.
struct Params {
    up: u32,
    down: u32,
    taps: u32,
    first: u32,
    frames: u32,
    in_len: u32,
    in_first: i32,
    groups: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> coef: array<f32>;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(256)
fn resample(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    let c = w / params.groups;
    let i = (w % params.groups) * 256u + lid;
    if c >= 2u || i >= params.frames {
        return;
    }
    // output frame j = q·up + r sits at input frame n, phase phi
    let j = params.first + i;
    let q = j / params.up;
    let r = j % params.up;
    let n = q * params.down + r * params.down / params.up;
    let phi = r * params.down % params.up;
    let x0 = c * params.in_len + u32(i32(n) + 1 - i32(params.taps / 2u) - params.in_first);
    let c0 = phi * params.taps;
    var s0 = 0.0;
    var s1 = 0.0;
    var s2 = 0.0;
    var s3 = 0.0;
    var s4 = 0.0;
    var s5 = 0.0;
    var s6 = 0.0;
    var s7 = 0.0;
    for (var k = 0u; k < params.taps; k += 8u) {
        let a = c0 + k;
        let b = x0 + k;
        s0 = coef[a] * input[b] + s0;
        s1 = coef[a + 1u] * input[b + 1u] + s1;
        s2 = coef[a + 2u] * input[b + 2u] + s2;
        s3 = coef[a + 3u] * input[b + 3u] + s3;
        s4 = coef[a + 4u] * input[b + 4u] + s4;
        s5 = coef[a + 5u] * input[b + 5u] + s5;
        s6 = coef[a + 6u] * input[b + 6u] + s6;
        s7 = coef[a + 7u] * input[b + 7u] + s7;
    }
    output[c * params.frames + i] = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
}
