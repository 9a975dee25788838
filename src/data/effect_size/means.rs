//! Two groups' means: [`TwoGroupMeans`] and the measures MD, SMD, SMDH, ROM, D2ORN and
//! D2ORL.

use super::convert::{OddsRatioMethod, d_to_log_odds_ratio_with, var_d_to_log_odds_ratio_with};
use super::measure::{Measure, VarianceType};
use super::table::EffectSizeTable;
use super::{Labels, Options, finish, finite, hedges_c, wmean};
use crate::error::{MetaError, Result};

/// The measures computed from two groups' means, SDs and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MeansMeasure {
    /// Raw mean difference.
    ///
    /// # Formula
    /// `yi = m1 - m2`; `vi = sd1^2/n1 + sd2^2/n2` (LS, UB: heteroscedastic, the default) or
    /// `vi = sp^2 (1/n1 + 1/n2)` (HO: homoscedastic, with the pooled SD `sp`).
    MD,
    /// Standardized mean difference, Hedges' g.
    ///
    /// # Formula
    /// `d = (m1 - m2)/sp`, `yi = c(m) d` with `m = n1 + n2 - 2` and Hedges' exact
    /// correction `c(m) = Gamma(m/2)/(sqrt(m/2) Gamma((m-1)/2))` (via ln-gamma).
    /// `vi = 1/n1 + 1/n2 + yi^2/(2(n1+n2))` (LS); `1/n1 + 1/n2 + (1 - (m-2)/(m c^2)) yi^2`
    /// (UB); `c^2 (1/n1 + 1/n2 + d^2/(2(n1+n2)))` (LS2); LS with the size-weighted mean of
    /// `yi` (AV).
    ///
    /// # References
    /// Hedges, L. V. (1981). *Journal of Educational Statistics*, 6(2), 107-128.
    SMD,
    /// Standardized mean difference with heteroscedastic population variances
    /// (Bonett 2008, 2009).
    ///
    /// # Formula
    /// `yi = c(m) (m1 - m2)/sqrt((sd1^2 + sd2^2)/2)`;
    /// LS: `vi = c^2 [yi^2 (sd1^4/(n1-1) + sd2^4/(n2-1))/(2 (sd1^2+sd2^2)^2)
    /// + (sd1^2/(n1-1) + sd2^2/(n2-1))/((sd1^2+sd2^2)/2)]`.
    ///
    /// # References
    /// Bonett, D. G. (2009). Meta-analytic interval estimation for standardized and
    /// unstandardized mean differences. *Psychological Methods*, 14(3), 225-238.
    SMDH,
    /// Log ratio of means (response ratio; Hedges, Gurevitch & Curtis 1999).
    ///
    /// # Formula
    /// `yi = ln(m1/m2)`; `vi = sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2)` (LS), with the pooled
    /// SD (HO), with the size-weighted mean coefficients of variation (AV), or one pooled
    /// mean coefficient of variation (AVHO).
    ROM,
    /// The standardized mean difference transformed to a log odds ratio assuming normal
    /// distributions (Cox 1970).
    ///
    /// # Formula
    /// With `d = (m1 - m2)/sp` (no bias correction): `yi = 1.65 d`,
    /// `vi = 1.65^2 (1/n1 + 1/n2 + d^2/(2(n1+n2)))`.
    ///
    /// # References
    /// Cox, D. R. (1970). *Analysis of Binary Data*. Methuen. Sanchez-Meca, J., et al.
    /// (2003). *Psychological Methods*, 8(4), 448-467.
    D2ORN,
    /// The standardized mean difference transformed to a log odds ratio assuming logistic
    /// distributions.
    ///
    /// # Formula
    /// With `d = (m1 - m2)/sp` (no bias correction): `yi = d pi/sqrt(3)`,
    /// `vi = pi^2/3 (1/n1 + 1/n2 + d^2/(2(n1+n2)))`.
    ///
    /// # References
    /// Hasselblad, V., & Hedges, L. V. (1995). *Psychological Bulletin*, 117(1), 167-178.
    /// Borenstein, M., et al. (2009). *Introduction to Meta-Analysis*, chapter 7. Wiley.
    D2ORL,
}

impl From<MeansMeasure> for Measure {
    fn from(m: MeansMeasure) -> Measure {
        match m {
            MeansMeasure::MD => Measure::MD,
            MeansMeasure::SMD => Measure::SMD,
            MeansMeasure::SMDH => Measure::SMDH,
            MeansMeasure::ROM => Measure::ROM,
            MeansMeasure::D2ORN => Measure::D2ORN,
            MeansMeasure::D2ORL => Measure::D2ORL,
        }
    }
}

/// One study's two groups: means, standard deviations and sizes (metafor's `m1i, sd1i,
/// n1i, m2i, sd2i, n2i`).
///
/// # Examples
/// ```
/// use metan::data::effect_size::{EffectSizes, MeansMeasure, TwoGroupMeans};
/// let s = [TwoGroupMeans::new(55.0, 47.0, 155.0, 75.0, 64.0, 156.0)];
/// let es = EffectSizes::means(&s, MeansMeasure::MD).compute()?;
/// assert_eq!(es.yi()[0], Some(-20.0));
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TwoGroupMeans {
    /// Mean of group 1.
    pub m1i: f64,
    /// Standard deviation of group 1.
    pub sd1i: f64,
    /// Size of group 1.
    pub n1i: f64,
    /// Mean of group 2.
    pub m2i: f64,
    /// Standard deviation of group 2.
    pub sd2i: f64,
    /// Size of group 2.
    pub n2i: f64,
}

impl TwoGroupMeans {
    /// Group 1's mean, SD and size, then group 2's.
    pub fn new(m1i: f64, sd1i: f64, n1i: f64, m2i: f64, sd2i: f64, n2i: f64) -> Self {
        TwoGroupMeans {
            m1i,
            sd1i,
            n1i,
            m2i,
            sd2i,
            n2i,
        }
    }

    pub(crate) fn validate(&self, i: usize, labels: &Labels) -> Result<()> {
        finite(i, labels, "m1i", self.m1i)?;
        finite(i, labels, "m2i", self.m2i)?;
        for (f, sd) in [("sd1i", self.sd1i), ("sd2i", self.sd2i)] {
            finite(i, labels, f, sd)?;
            if !(sd > 0.0) {
                return Err(MetaError::invalid_value(
                    i,
                    &labels.get(i),
                    f,
                    sd,
                    "a standard deviation must be > 0",
                ));
            }
        }
        for (f, n) in [("n1i", self.n1i), ("n2i", self.n2i)] {
            finite(i, labels, f, n)?;
            if !(n >= 2.0) {
                return Err(MetaError::invalid_value(
                    i,
                    &labels.get(i),
                    f,
                    n,
                    "a group size must be >= 2",
                ));
            }
        }
        Ok(())
    }

    /// Pooled SD `sqrt(((n1-1) sd1^2 + (n2-1) sd2^2)/(n1 + n2 - 2))`.
    fn pooled_sd(&self) -> f64 {
        let m = self.n1i + self.n2i - 2.0;
        (((self.n1i - 1.0) * self.sd1i * self.sd1i + (self.n2i - 1.0) * self.sd2i * self.sd2i) / m)
            .sqrt()
    }
}

pub(super) fn compute(
    data: &[TwoGroupMeans],
    m: MeansMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    for (i, s) in data.iter().enumerate() {
        s.validate(i, &labels)?;
    }
    compute_valid(data, m, opts, labels)
}

/// `compute` for data already validated by the caller (the reported d, t or p of
/// [`super::TwoGroupStatistic`], mapped to means as metafor does).
pub(super) fn compute_valid(
    data: &[TwoGroupMeans],
    m: MeansMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    let vt = opts.vtype;
    let ni: Vec<f64> = data.iter().map(|s| s.n1i + s.n2i).collect();
    let out: Vec<(f64, f64)> = match m {
        MeansMeasure::MD => data
            .iter()
            .map(|s| {
                let v = if vt == VarianceType::HO {
                    let sp = s.pooled_sd();
                    sp * sp * (1.0 / s.n1i + 1.0 / s.n2i)
                } else {
                    s.sd1i * s.sd1i / s.n1i + s.sd2i * s.sd2i / s.n2i
                };
                (s.m1i - s.m2i, v)
            })
            .collect(),
        MeansMeasure::SMD => {
            let parts: Vec<(f64, f64, f64)> = data
                .iter()
                .map(|s| {
                    let mi = s.n1i + s.n2i - 2.0;
                    let c = hedges_c(mi);
                    let d = (s.m1i - s.m2i) / s.pooled_sd();
                    (mi, c, d)
                })
                .collect();
            let yi: Vec<f64> = parts.iter().map(|&(_, c, d)| c * d).collect();
            let mean_y = if vt == VarianceType::AV {
                wmean(yi.iter().map(|&y| Some(y)), ni.iter().copied())
            } else {
                f64::NAN
            };
            data.iter()
                .zip(&parts)
                .zip(&yi)
                .zip(&ni)
                .map(|(((s, &(mi, c, d)), &y), &n)| {
                    let inv = 1.0 / s.n1i + 1.0 / s.n2i;
                    let v = match vt {
                        VarianceType::UB => inv + (1.0 - (mi - 2.0) / (mi * c * c)) * (y * y),
                        VarianceType::AV => inv + mean_y * mean_y / (2.0 * n),
                        VarianceType::LS2 => c * c * (inv + d * d / (2.0 * n)),
                        _ => inv + y * y / (2.0 * n),
                    };
                    (y, v)
                })
                .collect()
        }
        MeansMeasure::D2ORN | MeansMeasure::D2ORL => {
            let method = if m == MeansMeasure::D2ORN {
                OddsRatioMethod::Normal
            } else {
                OddsRatioMethod::Logistic
            };
            data.iter()
                .map(|s| {
                    let d = (s.m1i - s.m2i) / s.pooled_sd();
                    let n = s.n1i + s.n2i;
                    let v = 1.0 / s.n1i + 1.0 / s.n2i + d * d / (2.0 * n);
                    (
                        d_to_log_odds_ratio_with(d, method),
                        var_d_to_log_odds_ratio_with(v, method),
                    )
                })
                .collect()
        }
        MeansMeasure::SMDH => data
            .iter()
            .map(|s| {
                let c = hedges_c(s.n1i + s.n2i - 2.0);
                let v1 = s.sd1i * s.sd1i;
                let v2 = s.sd2i * s.sd2i;
                let si = ((v1 + v2) / 2.0).sqrt();
                let y = c * (s.m1i - s.m2i) / si;
                let v = if vt == VarianceType::LS2 {
                    let s2 = v1 + v2;
                    y * y * v1 / (2.0 * s.n1i * (s2 * s2))
                        + y * y * v2 / (2.0 * s.n2i * (s2 * s2))
                        + 2.0 * v1 / (s.n1i * s2)
                        + 2.0 * v2 / (s.n2i * s2)
                } else {
                    let s2 = v1 + v2;
                    let inner = y * y * (v1 * v1 / (s.n1i - 1.0) + v2 * v2 / (s.n2i - 1.0))
                        / (2.0 * (s2 * s2))
                        + (v1 / (s.n1i - 1.0) + v2 / (s.n2i - 1.0)) / (s2 / 2.0);
                    c * c * inner
                };
                (y, v)
            })
            .collect(),
        MeansMeasure::ROM => {
            let cv1: Vec<f64> = data.iter().map(|s| s.sd1i / s.m1i).collect();
            let cv2: Vec<f64> = data.iter().map(|s| s.sd2i / s.m2i).collect();
            let (mcv1, mcv2, mcv) = match vt {
                VarianceType::AV => (
                    wmean(cv1.iter().map(|&c| Some(c)), data.iter().map(|s| s.n1i)),
                    wmean(cv2.iter().map(|&c| Some(c)), data.iter().map(|s| s.n2i)),
                    f64::NAN,
                ),
                VarianceType::AVHO => {
                    let mut num1 = 0.0;
                    let mut num2 = 0.0;
                    let mut den = 0.0;
                    for (s, (&c1, &c2)) in data.iter().zip(cv1.iter().zip(&cv2)) {
                        if !(c1.is_nan() || c2.is_nan()) {
                            num1 += s.n1i * c1;
                            num2 += s.n2i * c2;
                            den += s.n1i + s.n2i;
                        }
                    }
                    (f64::NAN, f64::NAN, (num1 + num2) / den)
                }
                _ => (f64::NAN, f64::NAN, f64::NAN),
            };
            data.iter()
                .map(|s| {
                    let y = (s.m1i / s.m2i).ln();
                    let v = match vt {
                        VarianceType::HO => {
                            let sp = s.pooled_sd();
                            let sp2 = sp * sp;
                            sp2 / (s.n1i * (s.m1i * s.m1i)) + sp2 / (s.n2i * (s.m2i * s.m2i))
                        }
                        VarianceType::AV => mcv1 * mcv1 / s.n1i + mcv2 * mcv2 / s.n2i,
                        VarianceType::AVHO => mcv * mcv * (1.0 / s.n1i + 1.0 / s.n2i),
                        _ => {
                            s.sd1i * s.sd1i / (s.n1i * (s.m1i * s.m1i))
                                + s.sd2i * s.sd2i / (s.n2i * (s.m2i * s.m2i))
                        }
                    };
                    (y, v)
                })
                .collect()
        }
    };
    let (yi, vi) = out.into_iter().map(|(y, v)| finish(y, v)).unzip();
    Ok(EffectSizeTable::new(m.into(), yi, vi, labels, ni))
}

#[cfg(test)]
mod tests {
    use super::super::EffectSizes;
    use super::*;

    #[test]
    fn smd_by_hand() {
        let s = [TwoGroupMeans::new(10.0, 2.0, 20.0, 9.0, 2.0, 20.0)];
        let es = EffectSizes::means(&s, MeansMeasure::SMD).compute().unwrap();
        // d = 0.5, c(38) ~ 1 - 3/(4*38 - 1)
        let g = es.yi()[0].unwrap();
        assert!((g - 0.5 * (1.0 - 3.0 / 151.0)).abs() < 1e-4);
        let v = 0.1 + g * g / 80.0;
        assert!((es.vi()[0].unwrap() - v).abs() < 1e-15);
    }

    #[test]
    fn bad_sd_and_n() {
        let s = [TwoGroupMeans::new(1.0, 0.0, 10.0, 1.0, 1.0, 10.0)];
        let e = EffectSizes::means(&s, MeansMeasure::MD)
            .compute()
            .unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(
                0,
                "Study 1",
                "sd1i",
                0.0,
                "a standard deviation must be > 0"
            )
        );
        let s = [TwoGroupMeans::new(1.0, 1.0, 10.0, 1.0, 1.0, 1.0)];
        let e = EffectSizes::means(&s, MeansMeasure::SMD)
            .compute()
            .unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(0, "Study 1", "n2i", 1.0, "a group size must be >= 2")
        );
        let e = EffectSizes::means(&s, MeansMeasure::SMDH)
            .vtype(VarianceType::HO)
            .compute()
            .unwrap_err();
        assert!(matches!(e, MetaError::InvalidOption { ref option, .. } if option == "vtype"));
    }
}
