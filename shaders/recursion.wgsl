// The binding layout of every recursive kernel (kind `recursive`; src/gpu/recursive.rs):
// 0 the dispatch parameters, 1 the jobs, 2 the stages' parameter words, 3 the carried
// state (raw 32-bit words), 4 the audio. One thread per job: one lane of one stage of one song (a channel, or
// both channels when the processor links them), serial in time through the chunk, its
// state read from and left in `state` for the next chunk. Each recursive kernel is this
// file, its includes and its own file, in that order (`gpu::recursive::source`).
struct RecParams {
    n_jobs: u32,
    // frames of every job (the chunk)
    frames: u32,
    // a serial pass runs the chunk's frames first .. first + count, its state carried to
    // the next dispatch (llvmpipe ends an invocation's loops after 65 535 iterations in
    // all, so there the chunk is cut into several dispatches)
    first: u32,
    count: u32,
}

struct RecJob {
    // element offsets of the stage buffer's channels 0 and 1 in `audio`
    ch0: u32,
    ch1: u32,
    // element offsets of the key (sidechain) channels; the buffer's own without a key
    key0: u32,
    key1: u32,
    // frames to run
    frames: u32,
    // first parameter word of the stage in `coefs`
    coef: u32,
    // first state word of the stage (lane 0) in `state`
    state: u32,
    // the lane (channel) this thread runs
    lane: u32,
}

@group(0) @binding(0) var<uniform> params: RecParams;
@group(0) @binding(1) var<storage, read> jobs: array<RecJob>;
@group(0) @binding(2) var<storage, read> coefs: array<u32>;
@group(0) @binding(3) var<storage, read_write> state: array<u32>;
@group(0) @binding(4) var<storage, read_write> audio: array<f32>;

// Threads per workgroup of the recursive kernels.
const REC_THREADS: u32 = 64u;

// This thread's index in the dispatch (a 2-D grid of workgroups, see src/gpu/mod.rs
// `grid`): the job of a serial pass, job × frames + frame of a per-frame pass.
fn job_index(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return (wid.x + wid.y * nwg.x) * REC_THREADS + lid;
}

// Parameter word `i` as an f32.
fn coef_f32(i: u32) -> f32 {
    return bitcast<f32>(coefs[i]);
}

// State word `i` as an f32 (the state is kept as raw bits: integer words pass unchanged).
fn state_f32(i: u32) -> f32 {
    return bitcast<f32>(state[i]);
}

// Sets state word `i` to the bits of `v`.
fn set_state_f32(i: u32, v: f32) {
    state[i] = bitcast<u32>(v);
}
