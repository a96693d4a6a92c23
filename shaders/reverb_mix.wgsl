// Reverb wet/dry sum, batched: audio[i] = dry * audio[i] + wet * wet_buf[i] for every job
// (one channel of one song; the wet signal, already pre-delayed, lies in a scratch buffer).
// Twin of src/ops/reverb/cpu.rs `mix`: two f32 products, then their sum, in this order.
struct Params {
    n_jobs: u32,
    groups_per_job: u32,
    _pad0: u32,
    _pad1: u32,
}

struct ReverbMixJob {
    audio_offset: u32,
    wet_offset: u32,
    frames: u32,
    dry: f32,
    wet: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jobs: array<ReverbMixJob>;
@group(0) @binding(2) var<storage, read> wet_buf: array<f32>;
@group(0) @binding(3) var<storage, read_write> audio: array<f32>;

@compute @workgroup_size(256)
fn reverb_mix(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
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
            let d = job.dry * audio[job.audio_offset + i];
            let x = job.wet * wet_buf[job.wet_offset + i];
            audio[job.audio_offset + i] = d + x;
        }
    }
}
