//! Parity with R, one test binary (`cargo test --release --test parity`): every number metan
//! reports compared with metafor 3.8-1, clubSandwich 0.5.8 and robumeta 2.0, read from the
//! fixtures `tests/fixtures/*.json` written by `tests/fixtures/generate_*.R`. One module per
//! area; run one with a filter, e.g. `cargo test --release --test parity selmodel_parity::`.
//!
//! `tests/parity/fixtures` (-> `../fixtures`) is a symbolic link for `selmodel_parity`, whose
//! `include_str!` path is still that of its old place at the top of `tests/` (it was being
//! edited elsewhere when the tests moved); the other modules name `../fixtures` directly.

mod bias_parity;
mod escalc_parity;
mod genq_parity;
mod hc_parity;
mod location_scale_parity;
mod mh_peto_parity;
mod mv_parity;
mod parity_metafor;
mod regression_parity;
mod robust_parity;
mod selmodel_parity;
mod sensitivity_metafor;
