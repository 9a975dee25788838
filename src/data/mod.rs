//! Study data: the validated [`Studies`] container, the CSV reader and effect sizes from
//! raw data ([`effect_size`]).

mod aggregate;
mod clusters;
mod covariance;
pub mod csv;
pub mod effect_size;
mod studies;

pub use aggregate::Aggregate;
pub use clusters::Clusters;
pub use covariance::Vcalc;
pub(crate) use covariance::not_pd;
pub use studies::{MAX_ABS_EFFECT, MAX_VARIANCE, MAX_WEIGHTED_EFFECT, MIN_VARIANCE, Studies};
