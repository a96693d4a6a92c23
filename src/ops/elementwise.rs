//! Elementwise operators: stateless, one sample in, one sample out, latency 0. Each is one
//! [`ElementwiseOp`] in the registry (`gpu::kernels::ELEMENTWISE`, one line) with its folder
//! `ops/<name>/` (spec parsing, CPU twin) and its kernel `shaders/<name>.wgsl`. Scenes name it
//! by `type = "<name>"` ([`Spec`]), the Plan holds it as `Processor::Elementwise`
//! ([`Elementwise`]) and it lowers to the elementwise stage kind; every executor runs it
//! through the registry, so adding one touches no enum.

use serde::{Serialize, Serializer};

/// Number of `f32` parameters an elementwise stage carries (the kernel's `vec4<f32>`).
pub const N_PARAMS: usize = 4;

/// An elementwise stage's parameters, as its CPU twin and its kernel read them.
pub type Params = [f32; N_PARAMS];

/// One registered elementwise operator.
#[derive(Debug)]
pub struct ElementwiseOp {
    /// its one name: the insert's `type`, `ops/<name>/`, `shaders/<name>.wgsl`, stage name
    pub name: &'static str,
    /// the insert's table (without `type`) → the stage's parameters, or why not
    pub parse: fn(&toml::Table) -> Result<Params, String>,
    /// the CPU twin of the kernel: `(params, channel, samples)` in place, the kernel's
    /// bindings in the same order
    pub cpu: fn(&Params, usize, &mut [f32]),
}

/// The registered operator named `name`.
pub fn find(name: &str) -> Option<&'static ElementwiseOp> {
    crate::gpu::kernels::ELEMENTWISE
        .iter()
        .copied()
        .find(|op| op.name == name)
}

/// The registered operators' names.
pub fn names() -> impl Iterator<Item = &'static str> {
    crate::gpu::kernels::ELEMENTWISE.iter().map(|op| op.name)
}

/// An elementwise insert as written in a scene: the operator and its table (with `type`),
/// checked when read.
#[derive(Debug, Clone)]
pub struct Spec {
    /// the operator
    pub op: &'static ElementwiseOp,
    /// the insert's table as written
    pub table: toml::Table,
    params: Params,
}

impl Spec {
    /// Reads an insert table whose `type` names `op`.
    pub fn new(op: &'static ElementwiseOp, table: toml::Table) -> Result<Spec, String> {
        let mut rest = table.clone();
        rest.remove("type");
        let params = (op.parse)(&rest).map_err(|e| format!("{} insert: {e}", op.name))?;
        Ok(Spec { op, table, params })
    }

    /// The prepared stage.
    pub fn prepare(&self) -> Elementwise {
        Elementwise {
            op: self.op,
            params: self.params,
        }
    }
}

impl PartialEq for Spec {
    fn eq(&self, other: &Spec) -> bool {
        self.op.name == other.op.name && self.table == other.table
    }
}

impl Serialize for Spec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.table.serialize(s)
    }
}

/// A prepared elementwise stage.
#[derive(Debug, Clone, Copy)]
pub struct Elementwise {
    /// the operator
    pub op: &'static ElementwiseOp,
    /// its parameters
    pub params: Params,
}

impl Elementwise {
    /// Runs the CPU twin on every channel of `x` in place.
    pub fn process(&self, x: &mut [Vec<f32>]) {
        for (c, ch) in x.iter_mut().enumerate() {
            (self.op.cpu)(&self.params, c, ch);
        }
    }
}
