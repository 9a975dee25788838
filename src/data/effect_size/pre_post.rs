//! One group measured twice: [`PrePost`] and the measures MC, SMCC, SMCR, SMCRH and ROMC.

use super::measure::{Measure, VarianceType};
use super::table::EffectSizeTable;
use super::{Labels, Options, finish, finite, hedges_c};
use crate::error::{MetaError, Result};

/// The measures computed from one group measured twice (pre-post designs, or two
/// conditions in the same participants).
///
/// With `m = n - 1`, Hedges' exact correction `c(m) = Gamma(m/2)/(sqrt(m/2)
/// Gamma((m-1)/2))`, and the variance of the change scores
/// `sd_D^2 = sd1^2 + sd2^2 - 2 r sd1 sd2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PrePostMeasure {
    /// Raw mean change.
    ///
    /// # Formula
    /// `yi = m1 - m2`, `vi = sd_D^2 / n`.
    MC,
    /// Standardized mean change with change score standardization (Gibbons et al. 1993).
    ///
    /// # Formula
    /// `d = (m1 - m2)/sd_D`, `yi = c(m) d`; `vi = 1/n + yi^2/(2n)` (LS) or
    /// `c^2 (1/n + d^2/(2n))` (LS2).
    ///
    /// # References
    /// Gibbons, R. D., Hedeker, D. R., & Davis, J. M. (1993). Estimation of effect size
    /// from a series of experiments involving paired comparisons. *Journal of Educational
    /// Statistics*, 18(3), 271-279. Morris, S. B., & DeShon, R. P. (2002). Combining effect
    /// size estimates in meta-analysis with repeated measures and independent-groups
    /// designs. *Psychological Methods*, 7(1), 105-125.
    SMCC,
    /// Standardized mean change with raw score standardization (Becker 1988): the change
    /// in units of the SD `sd1` (conventionally the pre-test SD), comparable to a
    /// between-groups d.
    ///
    /// # Formula
    /// `d = (m1 - m2)/sd1`, `yi = c(m) d`; `vi = 2(1 - r)/n + yi^2/(2n)` (LS) or
    /// `c^2 (2(1 - r)/n + d^2/(2n))` (LS2). `sd2` is not used.
    ///
    /// # References
    /// Becker, B. J. (1988). Synthesizing standardized mean-change measures. *British
    /// Journal of Mathematical and Statistical Psychology*, 41(2), 257-278. Morris, S. B.
    /// (2000). Distribution of the standardized mean change effect size for meta-analysis
    /// on repeated measures. *British Journal of Mathematical and Statistical Psychology*,
    /// 53(1), 17-29. Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-
    /// control group designs. *Organizational Research Methods*, 11(2), 364-386.
    SMCR,
    /// Standardized mean change with raw score standardization and heteroscedastic
    /// variances (Bonett 2008).
    ///
    /// # Formula
    /// `yi = c(m) (m1 - m2)/sd1`,
    /// `vi = c^2 (sd_D^2/(sd1^2 (n - 1)) + yi^2/(2(n - 1)))`.
    ///
    /// # References
    /// Bonett, D. G. (2008). Confidence intervals for standardized linear contrasts of
    /// means. *Psychological Methods*, 13(2), 99-109.
    SMCRH,
    /// Log ratio of means of one group measured twice (Lajeunesse 2011).
    ///
    /// # Formula
    /// `yi = ln(m1/m2)`, `vi = sd1^2/(n m1^2) + sd2^2/(n m2^2) - 2 r sd1 sd2/(m1 m2 n)`.
    ///
    /// # References
    /// Lajeunesse, M. J. (2011). On the meta-analysis of response ratios for studies with
    /// correlated and multi-group designs. *Ecology*, 92(11), 2049-2055.
    ROMC,
}

impl From<PrePostMeasure> for Measure {
    fn from(m: PrePostMeasure) -> Measure {
        match m {
            PrePostMeasure::MC => Measure::MC,
            PrePostMeasure::SMCC => Measure::SMCC,
            PrePostMeasure::SMCR => Measure::SMCR,
            PrePostMeasure::SMCRH => Measure::SMCRH,
            PrePostMeasure::ROMC => Measure::ROMC,
        }
    }
}

/// One group measured twice: the means and SDs at the two occasions, the group size and
/// the correlation between the occasions (metafor's `m1i, sd1i, m2i, sd2i, ni, ri`).
///
/// metafor's convention: `yi` is occasion 1 minus occasion 2, so pass the post-test as
/// occasion 1 and the pre-test as occasion 2 for a change from pre to post; SMCR and
/// SMCRH standardize by `sd1i`, so pass the pre-test SD there (Becker 1988), as
/// `escalc(measure = "SMCR", m1i = m_post, m2i = m_pre, sd1i = sd_pre, ni, ri)`.
///
/// # Examples
/// ```
/// use metan::data::effect_size::{EffectSizes, PrePost, PrePostMeasure};
/// // Morris (2008), first treatment group: post 38.5, pre 30.6 (SD 15.0), n = 20, r = 0.47
/// let s = [PrePost::raw_sd(38.5, 15.0, 30.6, 20.0, 0.47)];
/// let es = EffectSizes::pre_post(&s, PrePostMeasure::SMCR).compute()?;
/// assert!((es.yi()[0].unwrap() - 0.5056).abs() < 1e-4); // metafor: 0.5056
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PrePost {
    /// Mean at occasion 1 (post).
    pub m1i: f64,
    /// SD at occasion 1 for MC, SMCC and ROMC; the standardizing SD for SMCR and SMCRH
    /// (pass the pre-test SD, as metafor's documentation does).
    pub sd1i: f64,
    /// Mean at occasion 2 (pre).
    pub m2i: f64,
    /// SD at occasion 2; not needed by SMCR.
    pub sd2i: Option<f64>,
    /// Group size.
    pub ni: f64,
    /// Correlation between the two occasions, in (-1, 1).
    pub ri: f64,
}

impl PrePost {
    /// Both occasions' means and SDs, the size and the correlation.
    pub fn new(m1i: f64, sd1i: f64, m2i: f64, sd2i: f64, ni: f64, ri: f64) -> Self {
        PrePost {
            m1i,
            sd1i,
            m2i,
            sd2i: Some(sd2i),
            ni,
            ri,
        }
    }

    /// Without the second SD: enough for SMCR only.
    pub fn raw_sd(m1i: f64, sd1i: f64, m2i: f64, ni: f64, ri: f64) -> Self {
        PrePost {
            m1i,
            sd1i,
            m2i,
            sd2i: None,
            ni,
            ri,
        }
    }

    fn validate(&self, i: usize, labels: &Labels, m: PrePostMeasure) -> Result<()> {
        let bad = |field: &str, x: f64, why: &str| {
            Err(MetaError::invalid_value(i, &labels.get(i), field, x, why))
        };
        finite(i, labels, "m1i", self.m1i)?;
        finite(i, labels, "m2i", self.m2i)?;
        finite(i, labels, "sd1i", self.sd1i)?;
        if !(self.sd1i > 0.0) {
            return bad("sd1i", self.sd1i, "a standard deviation must be > 0");
        }
        if m != PrePostMeasure::SMCR {
            match self.sd2i {
                None => {
                    return bad(
                        "sd2i",
                        f64::NAN,
                        &format!("measure {} needs the SD of occasion 2", Measure::from(m)),
                    );
                }
                Some(sd) => {
                    finite(i, labels, "sd2i", sd)?;
                    if !(sd > 0.0) {
                        return bad("sd2i", sd, "a standard deviation must be > 0");
                    }
                }
            }
        }
        finite(i, labels, "ni", self.ni)?;
        if !(self.ni >= 2.0) {
            return bad("ni", self.ni, "a group size must be >= 2");
        }
        finite(i, labels, "ri", self.ri)?;
        if !(self.ri.abs() < 1.0) {
            return bad(
                "ri",
                self.ri,
                "the correlation between the two occasions must be in (-1, 1)",
            );
        }
        Ok(())
    }

    /// The variance of the change scores, `sd1^2 + sd2^2 - 2 r sd1 sd2`.
    fn change_var(&self, sd2: f64) -> f64 {
        self.sd1i * self.sd1i + sd2 * sd2 - 2.0 * self.ri * self.sd1i * sd2
    }
}

/// `(yi, vi)` of one validated study.
fn effect(s: &PrePost, m: PrePostMeasure, vtype: VarianceType) -> (f64, f64) {
    let n = s.ni;
    let sd2 = s.sd2i.unwrap_or(f64::NAN);
    let c = hedges_c(n - 1.0);
    match m {
        PrePostMeasure::MC => (s.m1i - s.m2i, s.change_var(sd2) / n),
        PrePostMeasure::SMCC => {
            let d = (s.m1i - s.m2i) / s.change_var(sd2).sqrt();
            let y = c * d;
            let v = if vtype == VarianceType::LS2 {
                c * c * (1.0 / n + d * d / (2.0 * n))
            } else {
                1.0 / n + y * y / (2.0 * n)
            };
            (y, v)
        }
        PrePostMeasure::SMCR => {
            let d = (s.m1i - s.m2i) / s.sd1i;
            let y = c * d;
            let v = if vtype == VarianceType::LS2 {
                c * c * (2.0 * (1.0 - s.ri) / n + d * d / (2.0 * n))
            } else {
                2.0 * (1.0 - s.ri) / n + y * y / (2.0 * n)
            };
            (y, v)
        }
        PrePostMeasure::SMCRH => {
            let y = c * (s.m1i - s.m2i) / s.sd1i;
            let v = s.change_var(sd2) / (s.sd1i * s.sd1i * (n - 1.0)) + y * y / (2.0 * (n - 1.0));
            (y, c * c * v)
        }
        PrePostMeasure::ROMC => (
            (s.m1i / s.m2i).ln(),
            s.sd1i * s.sd1i / (n * (s.m1i * s.m1i)) + sd2 * sd2 / (n * (s.m2i * s.m2i))
                - 2.0 * s.ri * s.sd1i * sd2 / (s.m1i * s.m2i * n),
        ),
    }
}

pub(super) fn compute(
    data: &[PrePost],
    m: PrePostMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    for (i, s) in data.iter().enumerate() {
        s.validate(i, &labels, m)?;
    }
    let (yi, vi) = data
        .iter()
        .map(|s| {
            let (y, v) = effect(s, m, opts.vtype);
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
    fn smcr_by_hand_and_errors() {
        let s = [PrePost::new(12.0, 4.0, 10.0, 5.0, 30.0, 0.6)];
        let es = EffectSizes::pre_post(&s, PrePostMeasure::SMCR)
            .compute()
            .unwrap();
        let c = hedges_c(29.0);
        let y = c * 0.5;
        assert!((es.yi()[0].unwrap() - y).abs() < 1e-15);
        assert!((es.vi()[0].unwrap() - (2.0 * 0.4 / 30.0 + y * y / 60.0)).abs() < 1e-15);
        let es = EffectSizes::pre_post(&s, PrePostMeasure::MC)
            .compute()
            .unwrap();
        assert!((es.vi()[0].unwrap() - (16.0 + 25.0 - 2.0 * 0.6 * 20.0) / 30.0).abs() < 1e-15);

        let bad = [PrePost::new(12.0, 4.0, 10.0, 5.0, 30.0, 1.0)];
        let e = EffectSizes::pre_post(&bad, PrePostMeasure::SMCC)
            .labels(["Lee 2001"])
            .compute()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "study 1 (Lee 2001): invalid `ri` = 1: the correlation between the two occasions must be in (-1, 1)"
        );
        let no_sd2 = [PrePost::raw_sd(12.0, 4.0, 10.0, 30.0, 0.5)];
        assert!(
            EffectSizes::pre_post(&no_sd2, PrePostMeasure::SMCR)
                .compute()
                .is_ok()
        );
        let e = EffectSizes::pre_post(&no_sd2, PrePostMeasure::SMCRH)
            .compute()
            .unwrap_err();
        assert!(matches!(e, MetaError::InvalidValue { ref field, .. } if field == "sd2i"));
        let e = EffectSizes::pre_post(&s, PrePostMeasure::SMCRH)
            .vtype(VarianceType::LS2)
            .compute()
            .unwrap_err();
        assert!(matches!(e, MetaError::InvalidOption { .. }));
    }
}
