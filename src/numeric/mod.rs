//! Private numerics: accurate distribution tails and quantiles, and a root finder.

pub(crate) mod dist;
pub(crate) mod root;
