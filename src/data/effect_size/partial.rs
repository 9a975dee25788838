//! Partial and semi-partial correlations from regression results: [`PartialCorrelation`]
//! and the measures PCOR, ZPCOR and SPCOR.

use super::measure::{Measure, VarianceType};
use super::table::EffectSizeTable;
use super::{Labels, Options, finish, finite, wmean};
use crate::error::{MetaError, Result};

/// The measures computed from the t statistic of a regression coefficient, with
/// `df = n - m - 1` (`n` the sample size, `m` the number of predictors in the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PartialMeasure {
    /// Partial correlation coefficient.
    ///
    /// # Formula
    /// `yi = t / sqrt(t^2 + df)`; `vi = (1 - yi^2)^2 / df` (LS), or with the size-weighted
    /// mean of `yi` in place of `yi` (AV).
    ///
    /// # References
    /// Aloe, A. M., & Becker, B. J. (2012). An effect size for regression predictors in
    /// meta-analysis. *Journal of Educational and Behavioral Statistics*, 37(2), 278-297.
    /// Aloe, A. M., & Thompson, C. G. (2013). The synthesis of partial effect sizes.
    /// *Journal of the Society for Social Work and Research*, 4(4), 390-405.
    PCOR,
    /// Fisher's r-to-z transformed partial correlation coefficient.
    ///
    /// # Formula
    /// `yi = atanh(t / sqrt(t^2 + df))`, `vi = 1/df`.
    ZPCOR,
    /// Semi-partial correlation coefficient (Aloe & Becker 2012).
    ///
    /// # Formula
    /// `yi = t sqrt(1 - R^2) / sqrt(df)`;
    /// `vi = (R^4 - 2 R^2 + (R^2 - yi^2) + 1 - (R^2 - yi^2)^2) / n` (LS), or with the
    /// size-weighted mean of `yi` (AV).
    ///
    /// # References
    /// Aloe, A. M., & Becker, B. J. (2012). An effect size for regression predictors in
    /// meta-analysis. *Journal of Educational and Behavioral Statistics*, 37(2), 278-297.
    SPCOR,
}

impl From<PartialMeasure> for Measure {
    fn from(m: PartialMeasure) -> Measure {
        match m {
            PartialMeasure::PCOR => Measure::PCOR,
            PartialMeasure::ZPCOR => Measure::ZPCOR,
            PartialMeasure::SPCOR => Measure::SPCOR,
        }
    }
}

/// One study's regression result for the predictor of interest: its t statistic, the
/// sample size, the number of predictors in the model and (for SPCOR) the model's R^2
/// (metafor's `ti, ni, mi, r2i`; errors call the t statistic `tval`, as
/// [`super::MixedStudy::from_fields`] reads it).
///
/// # Examples
/// ```
/// use metan::data::effect_size::{EffectSizes, PartialCorrelation, PartialMeasure};
/// // Aloe & Becker (2012), first study: t = 4.61, n = 218, 4 predictors, R^2 = 0.24
/// let s = [PartialCorrelation::new(4.61, 218.0, 4.0).r2(0.24)];
/// let es = EffectSizes::partial_correlations(&s, PartialMeasure::SPCOR).compute()?;
/// let r = 4.61 * (1.0f64 - 0.24).sqrt() / 213.0f64.sqrt();
/// assert!((es.yi()[0].unwrap() - r).abs() < 1e-15);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PartialCorrelation {
    /// The t statistic of the predictor's coefficient.
    pub ti: f64,
    /// The sample size.
    pub ni: f64,
    /// The number of predictors in the model.
    pub mi: f64,
    /// The model's R^2 (needed by SPCOR only).
    pub r2i: Option<f64>,
}

impl PartialCorrelation {
    /// A t statistic from a regression on `mi` predictors fitted to `ni` observations.
    pub fn new(ti: f64, ni: f64, mi: f64) -> Self {
        PartialCorrelation {
            ti,
            ni,
            mi,
            r2i: None,
        }
    }

    /// The model's R^2 (for SPCOR).
    pub fn r2(mut self, r2i: f64) -> Self {
        self.r2i = Some(r2i);
        self
    }

    fn validate(&self, i: usize, labels: &Labels, m: PartialMeasure) -> Result<()> {
        let bad = |field: &str, x: f64, why: &str| {
            Err(MetaError::invalid_value(i, &labels.get(i), field, x, why))
        };
        finite(i, labels, "tval", self.ti)?;
        finite(i, labels, "ni", self.ni)?;
        if !(self.ni > 0.0) {
            return bad("ni", self.ni, "a sample size must be > 0");
        }
        finite(i, labels, "mi", self.mi)?;
        if !(self.mi >= 0.0) {
            return bad("mi", self.mi, "the number of predictors must be >= 0");
        }
        if !(self.ni - self.mi - 1.0 > 0.0) {
            return bad(
                "mi",
                self.mi,
                &format!(
                    "the residual degrees of freedom ni - mi - 1 = {} must be > 0",
                    self.ni - self.mi - 1.0
                ),
            );
        }
        if m == PartialMeasure::SPCOR {
            match self.r2i {
                None => return bad("r2i", f64::NAN, "measure SPCOR needs the model's R^2"),
                Some(r2) => {
                    finite(i, labels, "r2i", r2)?;
                    if !(0.0..=1.0).contains(&r2) {
                        return bad("r2i", r2, "an R^2 must be in [0, 1]");
                    }
                }
            }
        }
        Ok(())
    }
}

pub(super) fn compute(
    data: &[PartialCorrelation],
    m: PartialMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    for (i, s) in data.iter().enumerate() {
        s.validate(i, &labels, m)?;
    }
    let df = |s: &PartialCorrelation| s.ni - s.mi - 1.0;
    let yi: Vec<f64> = data
        .iter()
        .map(|s| match m {
            PartialMeasure::PCOR => s.ti / (s.ti * s.ti + df(s)).sqrt(),
            PartialMeasure::ZPCOR => {
                // atanh, not ln((1 + r)/(1 - r))/2: the quotient loses the relative
                // accuracy of small r (1e-9 at r = 3e-5)
                (s.ti / (s.ti * s.ti + df(s)).sqrt()).atanh()
            }
            PartialMeasure::SPCOR => s.ti * (1.0 - s.r2i.unwrap_or(f64::NAN)).sqrt() / df(s).sqrt(),
        })
        .collect();
    let mean_y = if opts.vtype == VarianceType::AV {
        wmean(yi.iter().map(|&y| Some(y)), data.iter().map(|s| s.ni))
    } else {
        f64::NAN
    };
    let (yi, vi) = data
        .iter()
        .zip(&yi)
        .map(|(s, &y)| {
            let r = if opts.vtype == VarianceType::AV {
                mean_y
            } else {
                y
            };
            let v = match m {
                PartialMeasure::PCOR => {
                    let q = 1.0 - r * r;
                    q * q / df(s)
                }
                PartialMeasure::ZPCOR => 1.0 / df(s),
                PartialMeasure::SPCOR => {
                    let r2 = s.r2i.unwrap_or(f64::NAN);
                    let e = r2 - r * r;
                    (r2 * r2 - 2.0 * r2 + e + 1.0 - e * e) / s.ni
                }
            };
            finish(y, v)
        })
        .unzip();
    let ni = data.iter().map(|s| s.ni).collect();
    Ok(EffectSizeTable::new(m.into(), yi, vi, labels, ni))
}

#[cfg(test)]
mod tests {
    use super::super::EffectSizes;
    use super::*;

    #[test]
    fn pcor_by_hand_and_errors() {
        let s = [PartialCorrelation::new(2.0, 50.0, 3.0)];
        let es = EffectSizes::partial_correlations(&s, PartialMeasure::PCOR)
            .compute()
            .unwrap();
        let r = 2.0 / (4.0f64 + 46.0).sqrt();
        assert!((es.yi()[0].unwrap() - r).abs() < 1e-15);
        assert!((es.vi()[0].unwrap() - (1.0 - r * r).powi(2) / 46.0).abs() < 1e-15);
        let e = EffectSizes::partial_correlations(&s, PartialMeasure::SPCOR)
            .compute()
            .unwrap_err();
        assert!(matches!(e, MetaError::InvalidValue { ref field, .. } if field == "r2i"));
        let s = [PartialCorrelation::new(2.0, 5.0, 4.0)];
        let e = EffectSizes::partial_correlations(&s, PartialMeasure::ZPCOR)
            .compute()
            .unwrap_err();
        assert!(matches!(e, MetaError::InvalidValue { ref field, .. } if field == "mi"));
    }
}
