//! What the benchmarks (`examples/`) share: keep-alive HTTP/1.1 clients
//! driving a served router and measuring throughput and latency. The
//! integration tests themselves live in `tests/`.

pub mod bench;
