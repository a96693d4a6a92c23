// Sends and bus sums, batched: dst[i] += gain * src[i] for every job (one channel of one
// song; src and dst are regions of the same audio buffer). Twin of src/ops/mix/cpu.rs.
struct Params {
    n_jobs: u32,
    groups_per_job: u32,
    _pad0: u32,
    _pad1: u32,
}

struct MixJob {
    dst_offset: u32,
    src_offset: u32,
    frames: u32,
    gain: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jobs: array<MixJob>;
@group(0) @binding(2) var<storage, read_write> audio: array<f32>;

@compute @workgroup_size(256)
fn mix(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
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
            audio[job.dst_offset + i] = audio[job.dst_offset + i] + job.gain * audio[job.src_offset + i];
        }
    }
}
