//! Study data: the validated [`Studies`] container, the CSV reader and effect sizes from
//! raw data ([`effect_size`]).

mod clusters;
mod covariance;
pub mod csv;
pub mod effect_size;
mod studies;

pub use clusters::Clusters;
pub use covariance::Vcalc;
pub(crate) use covariance::not_pd;
pub use studies::Studies;
