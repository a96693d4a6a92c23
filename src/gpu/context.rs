//! Headless wgpu context: adapter choice, device with the adapter's own limits (the storage
//! binding limit optionally lowered, `MIXFARM_MAX_BINDING_MIB`), error and
//! device-loss tracking, buffer helpers (allocation under an error scope, upload, read-back).
//! Every GPU operator (`ops/<name>/gpu.rs`) and the batched executor (`gpu::render`) run on a
//! [`Gpu`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::Error;

/// Env var: substring (case-insensitive) of the adapter name to use.
pub const ENV_ADAPTER: &str = "MIXFARM_ADAPTER";
/// Env var: when `1`, GPU tests fail instead of skipping when no adapter is found.
pub const ENV_REQUIRE_GPU: &str = "MIXFARM_REQUIRE_GPU";
/// Env var: open the device with its storage binding limit lowered to this many MiB (never
/// raised past the adapter's), so a card with a smaller limit can be stood in for (and a
/// test can make a short song pass the limit): every binding is then validated against it.
pub const ENV_MAX_BINDING_MIB: &str = "MIXFARM_MAX_BINDING_MIB";

/// The binding cap `MIXFARM_MAX_BINDING_MIB` asks for, in bytes (unset or unparsable: none).
fn binding_cap_from_env() -> Option<u64> {
    let mib: u64 = std::env::var(ENV_MAX_BINDING_MIB)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(mib.max(1) << 20)
}

/// How to pick an adapter.
#[derive(Debug, Clone, Copy)]
pub struct GpuOptions {
    /// accept software rasterisers (llvmpipe, lavapipe, WARP) and other CPU adapters
    pub allow_software: bool,
}

/// What `mixfarm devices` prints for one adapter.
#[derive(Debug, Clone, Serialize)]
pub struct AdapterReport {
    /// adapter name ("NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15.0.6, 256 bits)")
    pub name: String,
    /// discrete, integrated, virtual, cpu, other
    pub device_type: String,
    /// vulkan, metal, dx12, gl
    pub backend: String,
    /// driver name
    pub driver: String,
    /// driver version string
    pub driver_info: String,
    /// true for CPU (software) adapters, which `--backend auto` does not use
    pub software: bool,
    /// largest buffer, bytes
    pub max_buffer_size: u64,
    /// largest storage binding, bytes
    pub max_storage_buffer_binding_size: u64,
    /// workgroup memory, bytes
    pub max_compute_workgroup_storage_size: u32,
    /// invocations per workgroup
    pub max_compute_invocations_per_workgroup: u32,
    /// workgroups per grid dimension
    pub max_compute_workgroups_per_dimension: u32,
    /// storage bindings per shader stage
    pub max_storage_buffers_per_shader_stage: u32,
    /// timestamp queries available (per-stage GPU timing)
    pub timestamps: bool,
}

/// An open GPU: device, queue and what we know about it.
pub struct Gpu {
    /// the device
    pub device: wgpu::Device,
    /// its queue
    pub queue: wgpu::Queue,
    /// adapter name, backend, driver
    pub info: wgpu::AdapterInfo,
    /// limits granted (the adapter's own)
    pub limits: wgpu::Limits,
    /// timestamp queries enabled
    pub timestamps: bool,
    lost: Arc<AtomicBool>,
    uncaptured: Arc<Mutex<Vec<String>>>,
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle())
}

fn is_software(info: &wgpu::AdapterInfo) -> bool {
    info.device_type == wgpu::DeviceType::Cpu
}

fn type_rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// `limits` with the storage binding limit lowered to `cap` when given (never raised).
fn cap_binding(limits: &mut wgpu::Limits, cap: Option<u64>) {
    if let Some(cap) = cap {
        limits.max_storage_buffer_binding_size = limits.max_storage_buffer_binding_size.min(cap);
    }
}

/// An adapter as mixfarm would open it (its limits, the binding cap of
/// `MIXFARM_MAX_BINDING_MIB` applied).
fn report(adapter: &wgpu::Adapter) -> AdapterReport {
    let mut limits = adapter.limits();
    cap_binding(&mut limits, binding_cap_from_env());
    report_of(
        &adapter.get_info(),
        &limits,
        adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY),
    )
}

fn report_of(info: &wgpu::AdapterInfo, l: &wgpu::Limits, timestamps: bool) -> AdapterReport {
    AdapterReport {
        name: info.name.clone(),
        device_type: format!("{:?}", info.device_type).to_lowercase(),
        backend: info.backend.to_str().to_string(),
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        software: is_software(info),
        max_buffer_size: l.max_buffer_size,
        max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
        max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
        max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
        max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
        max_storage_buffers_per_shader_stage: l.max_storage_buffers_per_shader_stage,
        timestamps,
    }
}

/// Every adapter wgpu can see, for `mixfarm devices` (with the limits mixfarm opens it with).
pub fn list_adapters() -> Vec<AdapterReport> {
    let adapters = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    adapters.iter().map(report).collect()
}

fn gpu_err(reason: impl Into<String>, retryable: bool) -> Error {
    Error::Gpu {
        reason: reason.into(),
        retryable,
    }
}

/// Maps a wgpu error caught by an error scope to ours: out-of-memory is retryable.
pub fn map_wgpu_error(what: &str, e: wgpu::Error) -> Error {
    match e {
        wgpu::Error::OutOfMemory { .. } => gpu_err(format!("{what}: out of GPU memory"), true),
        other => gpu_err(format!("{what}: {other}"), false),
    }
}

impl Gpu {
    /// Opens the best acceptable adapter: `MIXFARM_ADAPTER` (name substring) if set, else a
    /// discrete GPU before integrated, virtual, other, then (only with `allow_software`) CPU
    /// adapters. `Ok(None)` when no acceptable adapter exists.
    pub fn new(opts: GpuOptions) -> Result<Option<Gpu>, Error> {
        Self::new_with_binding_cap(opts, binding_cap_from_env())
    }

    /// [`Gpu::new`] with the device's storage binding limit lowered to `cap` bytes when given
    /// (what `MIXFARM_MAX_BINDING_MIB` does for [`Gpu::new`]).
    pub fn new_with_binding_cap(opts: GpuOptions, cap: Option<u64>) -> Result<Option<Gpu>, Error> {
        let inst = instance();
        let mut adapters = pollster::block_on(inst.enumerate_adapters(wgpu::Backends::all()));
        adapters.retain(|a| opts.allow_software || !is_software(&a.get_info()));
        if let Ok(want) = std::env::var(ENV_ADAPTER) {
            let want = want.to_lowercase();
            adapters.retain(|a| a.get_info().name.to_lowercase().contains(&want));
        }
        adapters.sort_by_key(|a| type_rank(a.get_info().device_type));
        let Some(adapter) = adapters.into_iter().next() else {
            return Ok(None);
        };
        Self::open(adapter, cap).map(Some)
    }

    /// For tests: a software-allowed GPU, or `None` (after printing why) when there is none;
    /// panics when `MIXFARM_REQUIRE_GPU=1` and no adapter is found.
    pub fn for_tests(test: &str) -> Option<Gpu> {
        Self::for_tests_with_binding_cap(test, binding_cap_from_env())
    }

    /// [`Gpu::for_tests`] with the storage binding limit lowered to `cap` bytes when given.
    pub fn for_tests_with_binding_cap(test: &str, cap: Option<u64>) -> Option<Gpu> {
        let required = std::env::var(ENV_REQUIRE_GPU).is_ok_and(|v| v == "1");
        let opts = GpuOptions {
            allow_software: true,
        };
        match Gpu::new_with_binding_cap(opts, cap) {
            Ok(Some(g)) => Some(g),
            Ok(None) if required => panic!("{test}: no GPU adapter and {ENV_REQUIRE_GPU}=1"),
            Err(e) if required => panic!("{test}: GPU failed to open: {e}"),
            Ok(None) => {
                eprintln!("{test}: skipped: no GPU adapter");
                None
            }
            Err(e) => {
                eprintln!("{test}: skipped: no usable GPU adapter ({e})");
                None
            }
        }
    }

    fn open(adapter: wgpu::Adapter, binding_cap: Option<u64>) -> Result<Gpu, Error> {
        let info = adapter.get_info();
        let mut limits = adapter.limits();
        cap_binding(&mut limits, binding_cap);
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let mut features = wgpu::Features::empty();
        if timestamps {
            features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        let desc = wgpu::DeviceDescriptor {
            label: Some("mixfarm"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| gpu_err(format!("{}: cannot open device: {e}", info.name), true))?;
        let lost = Arc::new(AtomicBool::new(false));
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        {
            let lost = lost.clone();
            device.set_device_lost_callback(move |reason, msg| {
                if reason != wgpu::DeviceLostReason::Destroyed {
                    eprintln!("mixfarm: GPU device lost: {msg}");
                }
                lost.store(true, Ordering::SeqCst);
            });
        }
        {
            let sink = uncaptured.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                if let Ok(mut v) = sink.lock() {
                    v.push(e.to_string());
                }
            }));
        }
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            timestamps,
            lost,
            uncaptured,
        })
    }

    /// Report for this adapter (name, limits).
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The open adapter as `mixfarm devices` reports it (the limits granted).
    pub fn report(&self) -> AdapterReport {
        report_of(&self.info, &self.limits, self.timestamps)
    }

    /// Fails if the device was lost or an uncaptured error happened since the last check.
    pub fn check(&self) -> Result<(), Error> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(gpu_err(format!("{}: device lost", self.info.name), true));
        }
        let errs = self
            .uncaptured
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        if let Some(e) = errs.first() {
            let oom = e.to_lowercase().contains("out of memory");
            return Err(gpu_err(format!("{}: {e}", self.info.name), oom));
        }
        Ok(())
    }

    /// Largest byte size one storage binding (and buffer) may have, aligned down to 256.
    pub fn max_binding_bytes(&self) -> u64 {
        let m = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        m & !255
    }

    /// Creates a buffer under an out-of-memory + validation error scope.
    pub fn buffer(
        &self,
        label: &str,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer, Error> {
        let size = size
            .max(16)
            .next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT.max(4));
        if size > self.limits.max_buffer_size {
            return Err(gpu_err(
                format!(
                    "{label}: {size} bytes exceed the adapter's buffer limit {}",
                    self.limits.max_buffer_size
                ),
                false,
            ));
        }
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let val = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        });
        let v = pollster::block_on(val.pop());
        let o = pollster::block_on(oom.pop());
        if let Some(e) = o.or(v) {
            return Err(map_wgpu_error(label, e));
        }
        Ok(buf)
    }

    /// A storage buffer (read/write, copy source and destination).
    pub fn storage(&self, label: &str, size: u64) -> Result<wgpu::Buffer, Error> {
        use wgpu::BufferUsages as U;
        self.buffer(label, size, U::STORAGE | U::COPY_DST | U::COPY_SRC)
    }

    /// A storage buffer holding `data`.
    pub fn upload<T: bytemuck::Pod>(&self, label: &str, data: &[T]) -> Result<wgpu::Buffer, Error> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let buf = self.storage(label, bytes.len() as u64)?;
        self.write(&buf, 0, data);
        Ok(buf)
    }

    /// A uniform buffer holding `value`.
    pub fn uniform<T: bytemuck::Pod>(&self, label: &str, value: &T) -> Result<wgpu::Buffer, Error> {
        use wgpu::BufferUsages as U;
        let bytes = bytemuck::bytes_of(value);
        let buf = self.buffer(label, bytes.len() as u64, U::UNIFORM | U::COPY_DST)?;
        self.queue.write_buffer(&buf, 0, bytes);
        Ok(buf)
    }

    /// Queues a write of `data` at byte `offset` (padded to 4 bytes).
    pub fn write<T: bytemuck::Pod>(&self, buf: &wgpu::Buffer, offset: u64, data: &[T]) {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        if bytes.is_empty() {
            return;
        }
        if bytes.len().is_multiple_of(4) {
            self.queue.write_buffer(buf, offset, bytes);
        } else {
            let mut v = bytes.to_vec();
            v.resize(bytes.len().next_multiple_of(4), 0);
            self.queue.write_buffer(buf, offset, &v);
        }
    }

    /// Waits for all submitted work.
    pub fn wait(&self) -> Result<(), Error> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| gpu_err(format!("{}: poll failed: {e}", self.info.name), true))?;
        self.check()
    }

    /// Copies `count` values of `T` starting at byte `offset` of `buf` back to the host
    /// (submits a copy and waits; [`Gpu::read_many`] with one span).
    pub fn read<T: bytemuck::Pod>(
        &self,
        buf: &wgpu::Buffer,
        offset: u64,
        count: usize,
    ) -> Result<Vec<T>, Error> {
        Ok(self
            .read_many(buf, &[(offset, count)])?
            .pop()
            .unwrap_or_default())
    }

    /// Copies several spans of `buf` back to the host in one submission: span `(offset,
    /// count)` is `count` values of `T` from byte `offset` (a multiple of 4). One staging
    /// buffer, one wait, whatever the number of spans.
    pub fn read_many<T: bytemuck::Pod>(
        &self,
        buf: &wgpu::Buffer,
        spans: &[(u64, usize)],
    ) -> Result<Vec<Vec<T>>, Error> {
        let size_of = std::mem::size_of::<T>() as u64;
        let align = wgpu::COPY_BUFFER_ALIGNMENT;
        let mut at = Vec::with_capacity(spans.len());
        let mut total = 0u64;
        for &(_, n) in spans {
            at.push(total);
            total += (n as u64 * size_of).next_multiple_of(align);
        }
        if total == 0 {
            return Ok(spans.iter().map(|_| Vec::new()).collect());
        }
        use wgpu::BufferUsages as U;
        let staging = self.buffer("readback", total, U::MAP_READ | U::COPY_DST)?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        for (&(offset, n), &to) in spans.iter().zip(&at) {
            let bytes = (n as u64 * size_of).next_multiple_of(align);
            if bytes > 0 {
                enc.copy_buffer_to_buffer(buf, offset, &staging, to, bytes);
            }
        }
        self.queue.submit([enc.finish()]);
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(gpu_err(format!("read-back failed: {e}"), true)),
            Err(_) => return Err(gpu_err("read-back never completed", true)),
        }
        let view = slice
            .get_mapped_range()
            .map_err(|e| gpu_err(format!("read-back map: {e}"), true))?;
        let out = spans
            .iter()
            .zip(&at)
            .map(|(&(_, n), &to)| {
                let from = to as usize;
                bytemuck::cast_slice(&view[from..from + n * size_of as usize]).to_vec()
            })
            .collect();
        drop(view);
        staging.unmap();
        Ok(out)
    }

    /// Compiles a WGSL compute pipeline (layout inferred from the shader) under a validation
    /// error scope.
    pub fn pipeline(
        &self,
        label: &str,
        wgsl: &str,
        entry: &str,
    ) -> Result<wgpu::ComputePipeline, Error> {
        self.pipeline_in(label, wgsl, entry, None)
    }

    /// [`Gpu::pipeline`] with an explicit layout (for kernels whose passes do not all use
    /// every binding of a shared layout).
    pub fn pipeline_in(
        &self,
        label: &str,
        wgsl: &str,
        entry: &str,
        layout: Option<&wgpu::PipelineLayout>,
    ) -> Result<wgpu::ComputePipeline, Error> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        let p = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(map_wgpu_error(label, e));
        }
        Ok(p)
    }

    /// Bind group 0 of `pipeline` with `buffers` at bindings 0, 1, 2…
    pub fn bind(
        &self,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        self.bind_in(&pipeline.get_bind_group_layout(0), buffers)
    }

    /// A bind group of `layout` with `buffers` at bindings 0, 1, 2…
    pub fn bind_in(
        &self,
        layout: &wgpu::BindGroupLayout,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout,
            entries: &entries,
        })
    }
}
