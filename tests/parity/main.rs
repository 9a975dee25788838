//! Parity with R, one test binary (`cargo test --release --test parity`): every number metan
//! reports compared with metafor 3.8-1, clubSandwich 0.5.8 and robumeta 2.0, read from the
//! fixtures `tests/fixtures/*.json` written by `tests/fixtures/generate_*.R`. One module per
//! area; run one with a filter, e.g. `cargo test --release --test parity selmodel_parity::`.

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
