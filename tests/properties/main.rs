//! Property tests, one test binary (`cargo test --release --test properties`): invariants
//! checked on random data with proptest (scale and permutation equivariance, bounds,
//! agreement between routes), and the fuzz targets (`fuzz`: hostile input gives a typed
//! error or finite numbers, never a panic; see docs/fuzzing.md). One module per area; run
//! one with a filter, e.g. `cargo test --release --test properties bias_properties::`.
//!
//! Failing cases proptest saved are in `tests/proptest-regressions/<module>.txt` (proptest's
//! default `SourceParallel` persistence, which looks beside the directory holding this
//! `main.rs`) and are re-run first.

mod bias_properties;
mod diagnostics_properties;
mod effect_size_properties;
mod fuzz;
mod location_scale_properties;
mod mv_properties;
mod properties;
mod regression_properties;
mod robust_properties;
mod selmodel_properties;
mod sensitivity_props;
