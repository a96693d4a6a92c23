//! Per-stage GPU time from timestamp queries: each compute pass recorded through
//! [`crate::gpu::dispatch`] can write a begin/end timestamp pair under a stage name; the
//! totals (ns per stage name) feed `mixfarm bench`.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::gpu::Gpu;

/// Collects GPU time per stage name. Queries are resolved with [`Profiler::resolve`] before a
/// submit and read with [`Profiler::collect`] after it.
pub struct Profiler {
    queries: wgpu::QuerySet,
    resolve_buf: wgpu::Buffer,
    capacity: u32,
    labels: Vec<String>,
    period_ns: f64,
    /// summed GPU time per stage name, nanoseconds
    pub totals_ns: BTreeMap<String, u64>,
    /// passes that got no timestamp because the query set was full
    pub dropped: usize,
}

impl Profiler {
    /// A profiler for up to `max_passes` passes per submit; `None` when the device has no
    /// timestamp queries.
    pub fn new(gpu: &Gpu, max_passes: u32) -> Result<Option<Profiler>, Error> {
        if !gpu.timestamps {
            return Ok(None);
        }
        let capacity = max_passes.clamp(1, 2048) * 2;
        let queries = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("profiler"),
            ty: wgpu::QueryType::Timestamp,
            count: capacity,
        });
        use wgpu::BufferUsages as U;
        let resolve_buf = gpu.buffer(
            "profiler resolve",
            capacity as u64 * 8,
            U::QUERY_RESOLVE | U::COPY_SRC,
        )?;
        Ok(Some(Profiler {
            queries,
            resolve_buf,
            capacity,
            labels: Vec::new(),
            period_ns: gpu.queue.get_timestamp_period() as f64,
            totals_ns: BTreeMap::new(),
            dropped: 0,
        }))
    }

    /// Timestamp writes for the next pass, labelled `stage`; `None` when full.
    pub fn pass_writes(&mut self, stage: &str) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        let i = self.labels.len() as u32 * 2;
        if i + 2 > self.capacity {
            self.dropped += 1;
            return None;
        }
        self.labels.push(stage.to_string());
        Some(wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(i),
            end_of_pass_write_index: Some(i + 1),
        })
    }

    /// Records the resolve of this submit's queries into `enc` (call last before finishing).
    pub fn resolve(&self, enc: &mut wgpu::CommandEncoder) {
        let n = self.labels.len() as u32 * 2;
        if n > 0 {
            enc.resolve_query_set(&self.queries, 0..n, &self.resolve_buf, 0);
        }
    }

    /// After the submit completed: reads the timestamps and adds them to `totals_ns`.
    pub fn collect(&mut self, gpu: &Gpu) -> Result<(), Error> {
        let n = self.labels.len() * 2;
        if n == 0 {
            return Ok(());
        }
        let ts: Vec<u64> = gpu.read(&self.resolve_buf, 0, n)?;
        for (i, label) in self.labels.drain(..).enumerate() {
            let dt = ts[2 * i + 1].saturating_sub(ts[2 * i]) as f64 * self.period_ns;
            *self.totals_ns.entry(label).or_insert(0) += dt.round() as u64;
        }
        Ok(())
    }
}
