//! Private numerics: accurate distribution tails and quantiles, and a root finder.

mod beta;
pub(crate) mod dense;
#[allow(dead_code)] // the F distribution serves meta-regression (omnibus tests)
pub(crate) mod dist;
pub(crate) mod integrate;
pub(crate) mod logsum;
pub(crate) mod optim;
pub(crate) mod quadform;
pub(crate) mod root;
pub(crate) mod symeig;
pub(crate) mod wls;
