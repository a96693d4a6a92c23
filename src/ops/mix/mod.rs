//! Sends and bus sums: `dst += gain · src`. Mirrors `shaders/mix.wgsl`.
//!
//! A bus's input is the sum of everything routed to it, added in Plan order (a fixed
//! order, the same on both backends).

pub mod cpu;
pub mod gpu;
