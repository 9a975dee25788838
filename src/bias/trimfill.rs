//! The trim-and-fill method (Duval & Tweedie 2000a, 2000b), metafor's `trimfill.rma.uni`.

use std::fmt;
use std::str::FromStr;

use nalgebra::DMatrix;

use super::slope::fit_slope;
use super::{resolve_method, too_few};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::format::{fcf, pval_str};
use crate::model::tau2::{self, Data};
use crate::model::{CheckedMetaAnalysis, InterceptOnly, MetaFit, Method, Settings, TestKind};
use crate::numeric::wls::WlsQr;

/// The estimator of the number of missing studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Estimator {
    /// `L0 = (4 S_r - k(k+1)) / (2k - 1)`, from the Wilcoxon statistic `S_r` (the default).
    #[default]
    L0,
    /// `R0 = gamma* - 1`, from the length `gamma*` of the rightmost run of positive ranks.
    R0,
    /// `Q0 = k - 1/2 - sqrt(2k^2 - 4 S_r + 1/4)`.
    Q0,
}

impl FromStr for Estimator {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "L0" => Ok(Estimator::L0),
            "R0" => Ok(Estimator::R0),
            "Q0" => Ok(Estimator::Q0),
            _ => Err(MetaError::UnknownName {
                kind: "trim-and-fill estimator".into(),
                name: s.to_string(),
                expected: "L0, R0, Q0".into(),
            }),
        }
    }
}

impl fmt::Display for Estimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Estimator::L0 => "L0",
            Estimator::R0 => "R0",
            Estimator::Q0 => "Q0",
        })
    }
}

/// The side of the funnel plot on which studies are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Side {
    /// Studies missing below the pooled estimate (the usual case for beneficial effects
    /// coded positive).
    Left,
    /// Studies missing above the pooled estimate.
    Right,
}

impl FromStr for Side {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "left" => Ok(Side::Left),
            "right" => Ok(Side::Right),
            _ => Err(MetaError::UnknownName {
                kind: "side".into(),
                name: s.to_string(),
                expected: "left, right".into(),
            }),
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

/// A study imputed by trim-and-fill: the mirror image `2 theta - y_i` of one of the `k0`
/// most extreme studies about the trimmed estimate `theta`, with that study's variance.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FilledStudy {
    /// The imputed estimate.
    pub yi: f64,
    /// Its sampling variance (that of the mirrored study).
    pub vi: f64,
    /// `"Filled j"`, as metafor labels it.
    pub label: String,
}

/// Specification of trim-and-fill (metafor's `trimfill`).
///
/// # Examples
///
/// ```
/// use metan::{MetaAnalysis, Studies};
/// use metan::bias::{Side, TrimFill};
/// // small studies with large effects, none with small effects
/// let s = Studies::from_variances(
///     vec![0.10, 0.12, 0.15, 0.30, 0.42, 0.55, 0.70, 0.20],
///     vec![0.005, 0.008, 0.01, 0.03, 0.05, 0.08, 0.12, 0.02],
/// )?;
/// let tf = TrimFill::new().run(&MetaAnalysis::new(), &s)?;
/// assert_eq!(tf.side(), Side::Left);
/// assert_eq!(tf.filled().len(), tf.k0());
/// assert_eq!(tf.fit().k(), 8 + tf.k0());
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrimFill {
    estimator: Estimator,
    side: Option<Side>,
    max_iter: usize,
}

impl Default for TrimFill {
    fn default() -> Self {
        Self::new()
    }
}

impl TrimFill {
    /// L0, side estimated, at most 100 iterations (metafor's defaults).
    pub fn new() -> Self {
        TrimFill {
            estimator: Estimator::L0,
            side: None,
            max_iter: 100,
        }
    }

    /// The estimator of the number of missing studies (default [`Estimator::L0`]).
    pub fn estimator(mut self, estimator: Estimator) -> Self {
        self.estimator = estimator;
        self
    }

    /// The side on which studies are missing (default: estimated, see [`TrimFill::run`]).
    pub fn side(mut self, side: Side) -> Self {
        self.side = Some(side);
        self
    }

    /// Maximum number of trim iterations (default 100).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Runs trim-and-fill for the model specified by `spec`.
    ///
    /// # Formula
    /// * **Side.** Unless given, the side is estimated as metafor does: the model with the
    ///   standard errors as moderator is fitted (same estimator); a negative slope puts the
    ///   missing studies on the right, otherwise on the left.
    /// * **Trimming.** (Estimates mirrored for the right side.) With the studies sorted by
    ///   estimate and `k0 = 0`: fit the model to the `k - k0` smallest estimates, giving
    ///   `theta`; rank `|y_i - theta|` over all `k` studies (ties by order) and sign the ranks
    ///   by `y_i - theta`; `S_r` = the sum of the positive ranks;
    ///   `L0 = (4 S_r - k(k+1))/(2k - 1)`, `R0 = k - r* - 1` with `r*` the largest rank of a
    ///   negative deviation, `Q0 = k - 1/2 - sqrt(2k^2 - 4 S_r + 1/4)`; `k0 = max(0,
    ///   round(.))`; repeat until `k0` no longer changes.
    /// * **SE of k0.** At the unrounded estimate,
    ///   `Var(S_r) = (k(k+1)(2k+1) + 10 k0^3 + 27 k0^2 + 17 k0 - 18 k k0^2 - 18 k k0 +
    ///   6 k^2 k0)/24`; `SE(L0) = 4 sqrt(Var S_r)/(2k - 1)`,
    ///   `SE(Q0) = 2 sqrt(Var S_r)/sqrt((k - 1/2)^2 - k0(2k - k0 - 1))`,
    ///   `SE(R0) = sqrt(2 max(0, k0) + 2)`; for R0 the p-value of `H0: no missing studies`
    ///   is `0.5^(k0 + 1)`.
    /// * **Filling.** The `k0` largest estimates are mirrored about the last `theta`
    ///   (`2 theta - y_i`, same variance) and the model is refitted to the `k + k0` studies.
    ///
    /// Like metafor 3.8-1, the trimming fits and the refit use the model's estimator (the
    /// one that fitted the data, for a fallback chain) and its control settings, but
    /// re-estimate tau^2 even when it was fixed, and the refit uses a z test and a 95%
    /// level; when no study is filled, the fit is the model itself (with its own test and
    /// level). Like metafor's `rma` object, the fit carries no Q-profile interval for tau^2
    /// (fit [`TrimFillFit::studies`] with [`MetaAnalysis::fit`](crate::MetaAnalysis::fit) for one).
    ///
    /// # Errors
    /// [`MetaError::TooFewStudies`] for `k < 2` (`k < 3` when the side is estimated, which
    /// needs a meta-regression); [`MetaError::NotConverged`] when `k0` does not settle
    /// within `max_iter` iterations or a trimming fit does not converge;
    /// [`MetaError::Numerical`] when the estimator is undefined (R0 with no study below the
    /// trimmed estimate; Q0 with a negative square root); the errors of
    /// [`MetaAnalysis::fit`](crate::MetaAnalysis::fit).
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, Method, Studies};
    /// use metan::bias::{Estimator, Side, TrimFill};
    /// let s = Studies::from_variances(
    ///     vec![-0.10, -0.12, -0.15, -0.30, -0.42, -0.55, -0.70, -0.20],
    ///     vec![0.005, 0.008, 0.01, 0.03, 0.05, 0.08, 0.12, 0.02],
    /// )?;
    /// let tf = TrimFill::new()
    ///     .estimator(Estimator::R0)
    ///     .side(Side::Right)
    ///     .run(&MetaAnalysis::new().method(Method::EE), &s)?;
    /// assert!(tf.p_k0().is_some());                 // R0 has a test of k0 = 0
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// # References
    /// Duval, S. J., & Tweedie, R. L. (2000a). Trim and fill: A simple funnel-plot-based
    /// method of testing and adjusting for publication bias in meta-analysis.
    /// *Biometrics*, 56, 455-463. Duval, S. J., & Tweedie, R. L. (2000b). A nonparametric
    /// "trim and fill" method of accounting for publication bias in meta-analysis. *JASA*,
    /// 95, 89-98. Duval, S. J. (2005). The trim and fill method. In H. R. Rothstein,
    /// A. J. Sutton, & M. Borenstein (Eds.), *Publication bias in meta-analysis*
    /// (pp. 127-144). Wiley.
    pub fn run(&self, spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<TrimFillFit> {
        let spec = &*spec.checked()?;
        spec.check_data(studies)?;
        let k = studies.k();
        let needed = if self.side.is_none() { 3 } else { 2 };
        if k < needed {
            return Err(too_few("trim-and-fill", needed, k));
        }
        if self.max_iter == 0 {
            return Err(MetaError::invalid_option(
                "max_iter",
                0,
                "must be at least 1",
            ));
        }
        let method = resolve_method(spec, studies)?;
        let y = studies.yi();
        let v = studies.vi();
        let user = spec.weights();
        let side = match self.side {
            Some(s) => s,
            None => estimate_side(spec, method, y, v, user)?,
        };

        // estimates (negated for the right side) sorted ascending, stably
        let flip = side == Side::Right;
        let ys0: Vec<f64> = y.iter().map(|&a| if flip { -a } else { a }).collect();
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&i, &j| {
            ys0[i]
                .partial_cmp(&ys0[j])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let ys: Vec<f64> = order.iter().map(|&i| ys0[i]).collect();
        let vs: Vec<f64> = order.iter().map(|&i| v[i]).collect();
        let ws: Option<Vec<f64>> = user.map(|a| order.iter().map(|&i| a[i]).collect());

        let kf = k as f64;
        let mut k0: usize = 0;
        let mut k0_prev: Option<usize> = None;
        let mut iterations = 0;
        let mut se_k0 = f64::NAN;
        let mut theta = f64::NAN;
        let mut yc = vec![0.0; k];
        // the trimming fits: metafor's defaults (no user control of the start); the
        // iterations start from the previous trimming fit's tau^2
        let mut inner = spec.clone();
        inner.control.tau2_init = None;
        let mut prev_tau2: Option<f64> = None;
        while k0_prev != Some(k0) {
            k0_prev = Some(k0);
            iterations += 1;
            if iterations > self.max_iter {
                return Err(MetaError::NotConverged {
                    method: format!("trim-and-fill ({})", self.estimator),
                    iterations: self.max_iter,
                    reason: "the number of missing studies did not settle".into(),
                });
            }
            let kt = k - k0;
            let (th, tau2) = trimmed_estimate(
                &inner,
                method,
                &ys[..kt],
                &vs[..kt],
                ws.as_deref().map(|w| &w[..kt]),
                prev_tau2,
            )?;
            theta = th;
            prev_tau2 = Some(tau2);
            for (c, &a) in yc.iter_mut().zip(&ys) {
                *c = a - theta;
            }
            let (sr, max_neg) = signed_rank_sums(&yc);
            let var_sr = |k0: f64| {
                (kf * (kf + 1.0) * (2.0 * kf + 1.0)
                    + 10.0 * k0.powi(3)
                    + 27.0 * k0 * k0
                    + 17.0 * k0
                    - 18.0 * kf * k0 * k0
                    - 18.0 * kf * k0
                    + 6.0 * kf * kf * k0)
                    / 24.0
            };
            let k0_raw = match self.estimator {
                Estimator::L0 => {
                    let k0 = (4.0 * sr - kf * (kf + 1.0)) / (2.0 * kf - 1.0);
                    se_k0 = 4.0 * var_sr(k0).sqrt() / (2.0 * kf - 1.0);
                    k0
                }
                Estimator::Q0 => {
                    let k0 = kf - 0.5 - (2.0 * kf * kf - 4.0 * sr + 0.25).sqrt();
                    se_k0 = 2.0 * var_sr(k0).sqrt()
                        / ((kf - 0.5) * (kf - 0.5) - k0 * (2.0 * kf - k0 - 1.0)).sqrt();
                    k0
                }
                Estimator::R0 => {
                    let Some(r) = max_neg else {
                        return Err(MetaError::Numerical {
                            context: "trim-and-fill R0: no study lies below the trimmed estimate"
                                .into(),
                        });
                    };
                    let k0 = kf - r as f64 - 1.0;
                    se_k0 = (2.0 * k0.max(0.0) + 2.0).sqrt();
                    k0
                }
            };
            if !k0_raw.is_finite() {
                return Err(MetaError::Numerical {
                    context: format!(
                        "trim-and-fill {}: the estimate of the number of missing studies is undefined",
                        self.estimator
                    ),
                });
            }
            let r = k0_raw.round_ties_even().max(0.0);
            if r >= kf {
                return Err(MetaError::Numerical {
                    context: format!(
                        "trim-and-fill {}: estimated {r} missing studies out of k = {k}",
                        self.estimator
                    ),
                });
            }
            k0 = r as usize;
        }
        let se_k0 = if se_k0.is_nan() {
            None
        } else {
            Some(se_k0.max(0.0))
        };

        let (filled, fit, augmented) = if k0 > 0 {
            let mut filled = Vec::with_capacity(k0);
            for (j, i) in (k - k0..k).enumerate() {
                let d = (ys[i] - theta) - theta;
                filled.push(FilledStudy {
                    yi: if flip { d } else { -d },
                    vi: vs[i],
                    label: format!("Filled {}", j + 1),
                });
            }
            let mut yi = y.to_vec();
            let mut vi = v.to_vec();
            let mut labels = studies.labels().to_vec();
            for f in &filled {
                yi.push(f.yi);
                vi.push(f.vi);
                labels.push(f.label.clone());
            }
            let mut aug = Studies::from_variances(yi, vi)?.with_labels(labels)?;
            if let Some(m) = studies.measure() {
                aug = aug.with_measure(m);
            }
            let mut refit = spec.with_method(method);
            refit.test = TestKind::Z;
            refit.alpha = 0.05;
            refit.level = 95.0;
            refit.confint = false;
            refit.control.fixed = None;
            if let (Some(a), Some(w)) = (user, ws.as_deref()) {
                let mut all = a.to_vec();
                all.extend_from_slice(&w[k - k0..]);
                refit.weights = Some(all);
            }
            let fit = refit.fit(&aug)?;
            (filled, fit, aug)
        } else {
            (
                Vec::new(),
                {
                    let mut s = spec.clone();
                    s.confint = false;
                    s.fit(studies)?
                },
                studies.clone(),
            )
        };
        let p_k0 = (self.estimator == Estimator::R0).then(|| 0.5f64.powi(k0 as i32 + 1));
        Ok(TrimFillFit {
            k0,
            se_k0,
            side,
            estimator: self.estimator,
            p_k0,
            iterations,
            filled,
            fit,
            studies: augmented,
        })
    }
}

/// The side of the missing studies: the sign of the slope on `sqrt(v)` in the model with
/// the standard errors as moderator (negative: right, else left).
fn estimate_side(
    spec: &CheckedMetaAnalysis,
    method: Method,
    y: &[f64],
    v: &[f64],
    user: Option<&[f64]>,
) -> Result<Side> {
    let sei: Vec<f64> = v.iter().map(|a| a.sqrt()).collect();
    let slope = match user {
        // with user weights the coefficients do not depend on tau^2
        Some(a) => {
            let k = y.len();
            let x = DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { sei[i] });
            let qr = WlsQr::new(&x, |i| a[i]).ok_or_else(|| MetaError::RankDeficient {
                columns: vec!["sei".into()],
            })?;
            qr.coefficients(y)[1]
        }
        None => {
            let mut s = spec.with_method(method);
            s.control.fixed = None;
            fit_slope(&s, y, v, &sei, "sei")?.coef[1].estimate
        }
    };
    Ok(if slope < 0.0 { Side::Right } else { Side::Left })
}

/// The pooled estimate of the trimmed studies (tau^2 re-estimated with `method`), and
/// tau^2.
fn trimmed_estimate(
    spec: &CheckedMetaAnalysis,
    method: Method,
    y: &[f64],
    v: &[f64],
    user: Option<&[f64]>,
    warm: Option<f64>,
) -> Result<(f64, f64)> {
    if let Some(a) = user {
        // with user weights the estimate does not depend on tau^2
        let sa: f64 = a.iter().sum();
        return Ok((
            a.iter().zip(y).map(|(ai, yi)| ai * yi).sum::<f64>() / sa,
            0.0,
        ));
    }
    let tau2 = if method.is_equal_effects() || y.len() == 1 {
        0.0
    } else {
        let model = InterceptOnly { y, v };
        let data = Data {
            model: &model,
            weights: None,
        };
        let mut ctrl = spec.control();
        ctrl.fixed = None;
        ctrl.se = false;
        // ML/REML/EB from the previous trimming fit (a few studies fewer or more): a start
        // at most a step or two from the root (the unit test below checks that it finds
        // metafor's root); PM/PMM's root is unique
        ctrl.warm = warm;
        ctrl.scoring_warm = true;
        let est = tau2::estimate(method, &data, &ctrl);
        if !est.converged || !est.tau2.is_finite() {
            return Err(MetaError::NotConverged {
                method: method.to_string(),
                iterations: est.iterations,
                reason: "tau^2 of a trim-and-fill trimming fit".into(),
            });
        }
        est.tau2
    };
    let mut sw = 0.0;
    let mut swy = 0.0;
    for (yi, vi) in y.iter().zip(v) {
        let w = 1.0 / (vi + tau2);
        sw += w;
        swy += w * yi;
    }
    Ok((swy / sw, tau2))
}

/// `(S_r, r*)` of the signed ranks of `yc` (ascending): the sum of the ranks of the
/// positive values and the largest rank of a negative one, ranks of `|yc|` with ties in
/// order of position (R's `rank(ties.method = "first")`). Since `yc` is sorted, `|yc|` is
/// ordered by merging the negative part (walked down) with the rest (walked up): O(k).
fn signed_rank_sums(yc: &[f64]) -> (f64, Option<usize>) {
    let k = yc.len();
    let split = yc.partition_point(|&a| a < 0.0);
    let (mut l, mut r) = (split, split);
    let mut rank = 0usize;
    let mut sr = 0usize;
    let mut max_neg = None;
    while l > 0 || r < k {
        let left = l > 0 && (r == k || -yc[l - 1] <= yc[r]);
        if left {
            // a run of equal negative values takes its ranks in order of position
            let val = yc[l - 1];
            let mut a = l - 1;
            while a > 0 && yc[a - 1] == val {
                a -= 1;
            }
            rank += l - a;
            max_neg = Some(rank);
            l = a;
        } else {
            rank += 1;
            if yc[r] > 0.0 {
                sr += rank;
            }
            r += 1;
        }
    }
    (sr as f64, max_neg)
}

/// The result of [`TrimFill::run`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TrimFillFit {
    k0: usize,
    se_k0: Option<f64>,
    side: Side,
    estimator: Estimator,
    p_k0: Option<f64>,
    iterations: usize,
    filled: Vec<FilledStudy>,
    fit: MetaFit,
    #[cfg_attr(feature = "serde", serde(skip))]
    studies: Studies,
}

impl TrimFillFit {
    /// The estimated number of missing studies.
    pub fn k0(&self) -> usize {
        self.k0
    }
    /// Its standard error (`None` where the variance formula is negative).
    pub fn se_k0(&self) -> Option<f64> {
        self.se_k0
    }
    /// The side on which studies were filled.
    pub fn side(&self) -> Side {
        self.side
    }
    /// The estimator used.
    pub fn estimator(&self) -> Estimator {
        self.estimator
    }
    /// For R0, the p-value of `H0: no missing studies` (`0.5^(k0 + 1)`).
    pub fn p_k0(&self) -> Option<f64> {
        self.p_k0
    }
    /// Number of trim iterations.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// The imputed studies, in metafor's order.
    pub fn filled(&self) -> &[FilledStudy] {
        &self.filled
    }
    /// The filled studies as `(yi, vi)` points, for [`crate::plot::FunnelPlot::filled`].
    pub fn filled_points(&self) -> Vec<(f64, f64)> {
        self.filled.iter().map(|f| (f.yi, f.vi)).collect()
    }
    /// The model fitted to the observed and the filled studies (the model itself when
    /// `k0 = 0`).
    pub fn fit(&self) -> &MetaFit {
        &self.fit
    }
    /// The observed studies followed by the filled ones (labelled `"Filled j"`).
    pub fn studies(&self) -> &Studies {
        &self.studies
    }
}

impl fmt::Display for TrimFillFit {
    /// The layout of metafor's `print.rma.uni` for a trim-and-fill fit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        let se = self.se_k0.map(|s| fcf(s, 4)).unwrap_or_else(|| "NA".into());
        writeln!(
            f,
            "Estimated number of missing studies on the {} side: {} (SE = {se})",
            self.side, self.k0
        )?;
        if let Some(p) = self.p_k0 {
            let pad = " ".repeat(self.k0.to_string().len());
            writeln!(
                f,
                "Test of H0: no missing studies on the {} side:     {pad}p-val {}",
                self.side,
                pval_str(p, 4, true, " ")
            )?;
        }
        write!(f, "{}", self.fit)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// R's `sign(yc) * rank(abs(yc), ties.method = "first")`, by sorting.
    fn by_sorting(yc: &[f64]) -> (f64, Option<usize>) {
        let mut idx: Vec<usize> = (0..yc.len()).collect();
        idx.sort_by(|&i, &j| yc[i].abs().partial_cmp(&yc[j].abs()).unwrap());
        let mut rank = vec![0; yc.len()];
        for (r, &i) in idx.iter().enumerate() {
            rank[i] = r + 1;
        }
        let sr = (0..yc.len())
            .filter(|&i| yc[i] > 0.0)
            .map(|i| rank[i])
            .sum::<usize>();
        let max_neg = (0..yc.len())
            .filter(|&i| yc[i] < 0.0)
            .map(|i| rank[i])
            .max();
        (sr as f64, max_neg)
    }

    /// Fisher scoring from a warm start (as the trimming fits run it) finds the root it
    /// finds from metafor's start, the Hedges estimate, boundary cases included.
    #[test]
    fn warm_trimming_fit_equals_the_estimator() {
        let intercept_only = |y: &[f64], v: &[f64], m: Method, ctrl: &tau2::Control| {
            let model = InterceptOnly { y, v };
            let data = Data {
                model: &model,
                weights: None,
            };
            tau2::estimate(m, &data, ctrl)
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut u = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut boundary = 0;
        for case in 0..400 {
            let k = 2 + (u() * 60.0) as usize;
            let het = if case % 3 == 0 { 0.0 } else { u() * 0.5 };
            let v: Vec<f64> = (0..k).map(|_| 0.005 + 0.3 * u()).collect();
            let y: Vec<f64> = v
                .iter()
                .map(|vi| {
                    let z =
                        (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos();
                    0.3 + z * (vi + het).sqrt()
                })
                .collect();
            let spec = crate::MetaAnalysis::new().tol(1e-15).check().unwrap();
            for m in [Method::ML, Method::REML, Method::EB] {
                let cold = intercept_only(&y, &v, m, &spec.control());
                let mut ctrl = spec.control();
                ctrl.warm = Some(0.1);
                ctrl.scoring_warm = true;
                let warm = intercept_only(&y, &v, m, &ctrl);
                if cold.tau2 == 0.0 {
                    boundary += 1;
                }
                assert!(
                    (warm.tau2 - cold.tau2).abs() <= 1e-11 * cold.tau2.max(1e-3),
                    "case {case} {m}: {} vs {}",
                    warm.tau2,
                    cold.tau2
                );
            }
        }
        assert!(boundary > 20, "boundary cases: {boundary}");
    }

    #[test]
    fn merged_ranks_equal_sorted_ranks_with_ties() {
        let cases: [&[f64]; 6] = [
            &[-3.0, -2.0, -2.0, -1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0],
            &[-1.0, -1.0, -1.0, 1.0, 1.0],
            &[0.5, 1.0, 2.0],
            &[-2.0, -1.0],
            &[-0.3, -0.2, 0.1, 0.2, 0.2, 0.3, 0.5],
            &[-5.0, -0.5, -0.5, 0.0, 0.5, 4.0, 5.0, 5.0],
        ];
        for c in cases {
            assert_eq!(signed_rank_sums(c), by_sorting(c), "{c:?}");
        }
    }
}
