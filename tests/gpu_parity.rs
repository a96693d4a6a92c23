//! GPU ⇄ CPU ⇄ f64-oracle parity for every GPU kernel, run on whatever adapter wgpu finds
//! (llvmpipe on CI). Without an adapter the tests print "skipped" unless
//! `MIXFARM_REQUIRE_GPU=1`, which makes them fail.

use mixfarm::gpu::{list_adapters, Gpu};

#[test]
fn context_opens_and_lists_adapters() {
    let adapters = list_adapters();
    eprintln!(
        "adapters: {}",
        serde_json::to_string_pretty(&adapters).unwrap_or_default()
    );
    let Some(gpu) = Gpu::for_tests("context") else {
        return;
    };
    eprintln!(
        "opened {} ({:?}), timestamps: {}, max binding {} bytes",
        gpu.name(),
        gpu.info.backend,
        gpu.timestamps,
        gpu.max_binding_bytes()
    );
    assert!(adapters.iter().any(|a| a.name == gpu.name()));
    let data: Vec<f32> = (0..1000).map(|i| i as f32 * 0.5).collect();
    let buf = gpu.upload("t", &data).expect("upload");
    let back: Vec<f32> = gpu.read(&buf, 0, data.len()).expect("read");
    assert_eq!(back, data);
}
