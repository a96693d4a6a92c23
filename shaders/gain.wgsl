// Constant gain, batched: channel[i] *= gain for every job (one channel of one song).
// Twin of src/ops/gain/cpu.rs. Workgroup w handles frames (w % groups_per_job) * 1024 ..
// of job w / groups_per_job.
struct Params {
    n_jobs: u32,
    groups_per_job: u32,
    _pad0: u32,
    _pad1: u32,
}

struct GainJob {
    offset: u32,
    frames: u32,
    gain: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jobs: array<GainJob>;
@group(0) @binding(2) var<storage, read_write> audio: array<f32>;

@compute @workgroup_size(256)
fn gain(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    let j = w / params.groups_per_job;
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let base = (w % params.groups_per_job) * 1024u;
    for (var r = 0u; r < 4u; r++) {
        let i = base + r * 256u + lid;
        if i < job.frames {
            audio[job.offset + i] *= job.gain;
        }
    }
}
