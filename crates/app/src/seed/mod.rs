//! Synthetic data: the demo network (`tsunagu demo`) and the large histories
//! behind `tsunagu demo --patients N --entries M` and the benchmark.

mod demo;
mod desk;
pub use demo::{DemoAccount, DemoSummary};
pub mod scale;
