//! Polarity (phase) invert: `{ type = "polarity", left = true, right = false }` negates the
//! chosen channels (both by default), as a console's Ø button. An elementwise operator: its
//! kernel is `shaders/polarity.wgsl`, its CPU twin [`cpu::apply`].

pub mod cpu;

use serde::Deserialize;

use super::elementwise::{ElementwiseOp, Params};

/// The registry entry.
pub const OP: ElementwiseOp = ElementwiseOp {
    name: "polarity",
    parse,
    cpu: cpu::apply,
};

/// `type = "polarity"`: which channels to invert.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolaritySpec {
    /// invert the left channel (default true)
    #[serde(default = "yes")]
    pub left: bool,
    /// invert the right channel (default true)
    #[serde(default = "yes")]
    pub right: bool,
}

fn yes() -> bool {
    true
}

/// The stage's parameters: per channel, 1 to invert it, 0 to pass it.
fn parse(table: &toml::Table) -> Result<Params, String> {
    let s: PolaritySpec = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    Ok([flag(s.left), flag(s.right), 0.0, 0.0])
}
