//! The `metan` binary, one test binary (`cargo test --release --test cli`): each subcommand's
//! output against metafor's prints and fixtures, the bad-request batteries (`cli_battery`,
//! `cli_hostile`) and the property tests of the argument parser (`cli_parser`). One module
//! per subcommand or concern; run one with a filter, e.g.
//! `cargo test --release --test cli cli_fit::`.
// the binary's modules are loaded twice: at the root (below) and by its `main.rs`
#![allow(clippy::duplicate_mod)]

mod cli_battery;
mod cli_bias;
mod cli_digest;
mod cli_escalc;
mod cli_escalc_mixed;
mod cli_fit;
mod cli_hostile;
mod cli_location_scale;
mod cli_model_args;
mod cli_mv;
mod cli_parser;
mod cli_regression;
mod cli_robust;
mod cli_selmodel;
mod cli_sensitivity;

// For `cli_parser`: the binary's modules at the crate root, where its `crate::common` etc.
// resolve; the binary's `Cli` comes from `main.rs` itself (its own copies of the modules
// are unused). A new subcommand module needs a line here only if another module names it
// by `crate::...`.
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/bias.rs"]
mod bias;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/common.rs"]
mod common;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/diagnostics.rs"]
mod diagnostics;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/escalc.rs"]
mod escalc;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/fit.rs"]
mod fit;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/gosh.rs"]
mod gosh;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/main.rs"]
mod metan_bin;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/permutest.rs"]
mod permutest;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/plot.rs"]
mod plot;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/pool.rs"]
mod pool;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/raw.rs"]
mod raw;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/robu.rs"]
mod robu;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/scenarios.rs"]
mod scenarios;
#[cfg(feature = "cli")]
#[allow(dead_code)]
#[path = "../../src/bin/metan/subgroup.rs"]
mod subgroup;
