//! Everything else, one test binary (`cargo test --release --test integration`): the anchor
//! bugs of other meta-analysis packages (`anchor_bugs`, docs/reliability.md), the inputs
//! found by the fuzz runs (`fuzz_findings`), convergence and the fallback chain, the real
//! data sets and the IPV simulator, the digest's findings, and the plots (golden SVG
//! files). Run one module with a filter, e.g. `cargo test --release --test integration plots::`.

mod anchor_bugs;
mod convergence;
mod datasets;
mod digest_findings;
mod fuzz_findings;
mod ipv_simulator;
mod plots;
