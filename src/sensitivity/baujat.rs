//! Baujat plot data (metafor's `baujat`).

use super::leave_one_out::deletion_fits;
use super::prepare;
use crate::data::Studies;
use crate::error::Result;
use crate::model::Settings;

/// One study's point of a Baujat plot.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BaujatPoint {
    /// The study.
    pub study: String,
    /// Contribution to the heterogeneity (squared Pearson residual).
    pub x: f64,
    /// Influence on the pooled result.
    pub y: f64,
}

/// The points of a Baujat plot, one per study in input order.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Baujat {
    points: Vec<BaujatPoint>,
}

impl Baujat {
    /// One point per study.
    pub fn points(&self) -> &[BaujatPoint] {
        &self.points
    }
}

/// Baujat plot data: each study's contribution to the overall heterogeneity against its
/// influence on the pooled result (metafor's `baujat`, whose returned data it equals).
///
/// # Formula
/// `x_i = (y_i - mu)^2 / (tau2 + v_i)` (for equal-effects models the study's term of Q);
/// `y_i = (mu_(-i) - mu)^2 / vb_(-i)`, with `mu_(-i)` and its variance `vb_(-i)` from the fit
/// without study `i`.
///
/// # Errors
/// Those of [`MetaAnalysis::fit`](crate::MetaAnalysis::fit), and [`crate::MetaError::TooFewStudies`] for k < 2.
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Method, Studies};
/// let s = Studies::from_variances(vec![0.1, 0.5, 0.3, 0.9], vec![0.01, 0.02, 0.015, 0.03])?;
/// let ee = MetaAnalysis::new().method(Method::EE);
/// let b = metan::sensitivity::baujat(&ee, &s)?;
/// let q: f64 = b.points().iter().map(|p| p.x).sum();
/// assert!((q - ee.fit(&s)?.heterogeneity().q()).abs() < 1e-12); // the x values add up to Q
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Baujat, B., Mahé, C., Pignon, J.-P., & Hill, C. (2002). A graphical method for exploring
/// heterogeneity in meta-analyses: Application to a meta-analysis of 65 trials.
/// *Statistics in Medicine*, 21, 2641-2652.
pub fn baujat(spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<Baujat> {
    let prep = prepare(spec, studies, 2, "Baujat plot")?;
    let fits = deletion_fits(&prep, studies);
    let mu = prep.fit.estimate();
    let tau2 = prep.fit.tau2();
    let points = fits
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let e = studies.yi()[i] - mu;
            let d = s.estimate - mu;
            BaujatPoint {
                study: studies.label(i).to_string(),
                x: e * e / (tau2 + studies.vi()[i]),
                y: d * d / s.vb,
            }
        })
        .collect();
    Ok(Baujat { points })
}
