//! Study data: the validated [`Studies`] container and the CSV reader.

pub mod csv;
mod studies;

pub use studies::Studies;
