//! The Henmi-Copas confidence interval (Henmi & Copas 2010), metafor's `hc.rma.uni`: the
//! equal-effects (inverse-variance) estimate, whose bias under publication selection is
//! smaller than the random-effects estimate's, with a confidence interval that accounts for
//! the heterogeneity (DerSimonian-Laird tau^2) through the exact conditional distribution
//! of its standardized error given Cochran's Q.

use std::fmt;

use super::too_few;
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::format::fcf;
use crate::model::{Method, Settings};
use crate::numeric::dist::{chisq_cdf, norm_pdf};
use crate::numeric::integrate::adaptive;
use crate::numeric::root::brent;

/// Specification of the Henmi-Copas interval.
///
/// # Examples
///
/// ```
/// use metan::{MetaAnalysis, Studies};
/// use metan::bias::HenmiCopas;
/// // the 13 BCG trials (log risk ratios)
/// let s = Studies::from_variances(
///     vec![-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120,
///          -0.4694, -1.3713, -0.3394, 0.4459, -0.0173],
///     vec![0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040,
///          0.0564, 0.0730, 0.0124, 0.5325, 0.0714],
/// )?;
/// let hc = HenmiCopas::new().run(&MetaAnalysis::new(), &s)?;
/// // the equal-effects (inverse-variance) estimate ...
/// let w: Vec<f64> = s.vi().iter().map(|v| 1.0 / v).collect();
/// let fe = w.iter().zip(s.yi()).map(|(w, y)| w * y).sum::<f64>() / w.iter().sum::<f64>();
/// assert!((hc.estimate() - fe).abs() < 1e-12);
/// // ... with an interval wider than the random-effects one
/// let (lo, hi) = hc.ci();
/// assert!(hi - lo > hc.rma_ci().1 - hc.rma_ci().0);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HenmiCopas {
    _private: (),
}

impl HenmiCopas {
    /// The interval at the confidence level of the model it is run with.
    pub fn new() -> Self {
        HenmiCopas { _private: () }
    }

    /// Computes the interval for `studies`; `spec` is the model printed beside it (its
    /// confidence level is the interval's, as metafor's `hc(fit)` takes `fit$level`).
    ///
    /// # Formula
    /// With `w_i = 1/v_i`, `W_1 = sum w_i`, `W_r = sum w_i^r / W_1` (r = 2, 3, 4): the
    /// estimate `beta = sum w_i y_i / W_1`, `Q = sum w_i (y_i - beta)^2`, DerSimonian-Laird
    /// `tau2 = max(0, (Q - (k-1))/(W_1 - W_2))`, `se = sqrt((tau2 W_2 + 1)/W_1)`,
    /// `V_R = 1 + tau2 W_2`. Given `R = (beta - mu)/se * sqrt(V_R) = r`, Q is approximated by a
    /// gamma distribution with the conditional mean and variance (shape `E^2/V`, scale
    /// `V/E`)
    ///
    /// ```text
    /// E(r) = (k-1) + tau2 (W_1 - W_2) + tau2^2 (r^2/V_R^2 - 1/V_R)(W_3 - W_2^2)
    /// V(r) = 2(k-1) + 4 tau2 (W_1 - W_2) + 2 tau2^2 (W_1 W_2 - 2 W_3 + W_2^2)
    ///        + 4 tau2^2 (r^2/V_R^2 - 1/V_R)(W_3 - W_2^2)
    ///        + 4 tau2^3 (r^2/V_R^2 - 1/V_R)(W_4 - 2 W_2 W_3 + W_2^3)
    ///        + 2 tau2^4 (1/V_R^2 - 2 r^2/V_R^3)(W_3 - W_2^2)^2
    /// ```
    ///
    /// The quantile `t0` solves
    /// `int_t0^inf G(f(r/t0) | sqrt(V_R) r) phi(r) dr = alpha/2`,
    /// `f(x) = (W_1/W_2 - 1)(x^2 - 1) + (k - 1)`, `G` the gamma distribution function; the
    /// interval is `beta -/+ sqrt(V_R) t0 se`.
    ///
    /// Numerics: the integral by adaptive Gauss-Kronrod quadrature to 1e-13 relative (the
    /// normal density vanishes in double precision beyond `r = 39`, where the range ends),
    /// `t0` by Brent's method to 1e-14 relative in `[0, 2]` (metafor: `integrate()` at its
    /// default `rel.tol = 1.2e-4` and `uniroot(tol = 1.2e-4)`).
    ///
    /// # Errors
    /// Those of [`crate::MetaAnalysis::fit`]; [`MetaError::TooFewStudies`] for `k < 2`;
    /// [`MetaError::Numerical`] when the gamma approximation is undefined (non-positive
    /// conditional mean or variance) or `t0` is not in `[0, 2]` (metafor's `uniroot` fails
    /// there too).
    ///
    /// # References
    /// Henmi, M., & Copas, J. B. (2010). Confidence intervals for random effects
    /// meta-analysis and robustness to publication bias. *Statistics in Medicine*, 29,
    /// 2969-2983.
    pub fn run(&self, spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<HenmiCopasFit> {
        let mut checked = spec.checked()?.into_owned();
        checked.confint = false;
        let rma = checked.fit(studies)?;
        let k = studies.k();
        if k < 2 {
            return Err(too_few("the Henmi-Copas interval", 2, k));
        }
        let alpha = 1.0 - rma.level() / 100.0;
        let y = studies.yi();
        let v = studies.vi();
        let w: Vec<f64> = v.iter().map(|x| 1.0 / x).collect();
        let w1: f64 = w.iter().sum();
        let wr = |r: i32| w.iter().map(|x| x.powi(r)).sum::<f64>() / w1;
        let (w2, w3, w4) = (wr(2), wr(3), wr(4));
        let beta = w.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / w1;
        let q: f64 = w.iter().zip(y).map(|(a, b)| a * (b - beta).powi(2)).sum();
        let km1 = (k - 1) as f64;
        let tau2 = ((q - km1) / (w1 - w2)).max(0.0);
        let se = ((tau2 * w2 + 1.0) / w1).sqrt();
        let vr = 1.0 + tau2 * w2;
        let sdr = vr.sqrt();
        let d32 = w3 - w2 * w2;
        let eq =
            |r: f64| km1 + tau2 * (w1 - w2) + tau2 * tau2 * (r * r / (vr * vr) - 1.0 / vr) * d32;
        let vq = |r: f64| {
            let c = r * r / (vr * vr) - 1.0 / vr;
            2.0 * km1
                + 4.0 * tau2 * (w1 - w2)
                + 2.0 * tau2 * tau2 * (w1 * w2 - 2.0 * w3 + w2 * w2)
                + 4.0 * tau2 * tau2 * c * d32
                + 4.0 * tau2.powi(3) * c * (w4 - 2.0 * w2 * w3 + w2.powi(3))
                + 2.0 * tau2.powi(4) * (1.0 / (vr * vr) - 2.0 * r * r / vr.powi(3)) * d32 * d32
        };
        let finv = |f: f64| (w1 / w2 - 1.0) * (f * f - 1.0) + km1;
        let mut bad_gamma = false;
        // P(Q <= finv(r/x) | sqrt(V_R) r) phi(r)
        let mut integrand = |x: f64, r: f64| -> f64 {
            let (e, var) = (eq(sdr * r), vq(sdr * r));
            if !(e > 0.0 && var > 0.0) {
                bad_gamma = true;
                return 0.0;
            }
            let (shape, scale) = (e * e / var, var / e);
            chisq_cdf(2.0 * finv(r / x) / scale, 2.0 * shape) * norm_pdf(r)
        };
        let mut evaluations = 0usize;
        let mut quad_ok = true;
        let mut eqn = |x: f64| -> f64 {
            if x <= 0.0 {
                // r/x -> inf: the gamma distribution function is 1
                return 0.5 - alpha / 2.0;
            }
            let upper = x.max(0.0) + 40.0;
            let r = adaptive(|r| integrand(x, r), x, upper, 1e-17, 1e-13, 2000);
            evaluations += r.evaluations;
            quad_ok &= r.converged;
            r.value - alpha / 2.0
        };
        let root = brent(&mut eqn, 0.0, 2.0, 1e-14, 0.0, 200);
        if bad_gamma {
            return Err(MetaError::Numerical {
                context: "Henmi-Copas interval: the gamma approximation of Q has a \
                          non-positive mean or variance"
                    .into(),
            });
        }
        let Some(root) = root else {
            return Err(MetaError::Numerical {
                context: "Henmi-Copas interval: the quantile t0 is not in [0, 2] \
                          (metafor's uniroot() fails here too)"
                    .into(),
            });
        };
        let u0 = sdr * root.x;
        let (lo, hi) = (beta - u0 * se, beta + u0 * se);
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(MetaError::Numerical {
                context: "Henmi-Copas interval: not finite".into(),
            });
        }
        Ok(HenmiCopasFit {
            k,
            level: rma.level(),
            estimate: beta,
            se,
            ci_lower: lo,
            ci_upper: hi,
            tau2,
            t0: root.x,
            converged: root.converged && quad_ok,
            evaluations,
            rma_method: rma.method(),
            rma_tau2: rma.tau2(),
            rma_estimate: rma.estimate(),
            rma_se: rma.se(),
            rma_ci_lower: rma.ci().0,
            rma_ci_upper: rma.ci().1,
            digits: 4,
        })
    }
}

/// The result of [`HenmiCopas::run`]: the Henmi-Copas estimate and interval, beside the
/// model it was run with (metafor's `hc` object). With the `serde` feature it serializes to
/// the `hc` object of `metan bias --format json`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HenmiCopasFit {
    k: usize,
    level: f64,
    estimate: f64,
    se: f64,
    ci_lower: f64,
    ci_upper: f64,
    tau2: f64,
    t0: f64,
    converged: bool,
    evaluations: usize,
    rma_method: Method,
    rma_tau2: f64,
    rma_estimate: f64,
    rma_se: f64,
    rma_ci_lower: f64,
    rma_ci_upper: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
}

impl HenmiCopasFit {
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// The equal-effects (inverse-variance) estimate.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }
    /// Its standard error under the random-effects model, `sqrt((tau2 W_2 + 1)/W_1)`.
    pub fn se(&self) -> f64 {
        self.se
    }
    /// The Henmi-Copas confidence interval.
    pub fn ci(&self) -> (f64, f64) {
        (self.ci_lower, self.ci_upper)
    }
    /// The DerSimonian-Laird tau^2 used.
    pub fn tau2(&self) -> f64 {
        self.tau2
    }
    /// The quantile `t0` (the interval is `estimate -/+ sqrt(V_R) t0 se`).
    pub fn t0(&self) -> f64 {
        self.t0
    }
    /// Whether the root search and every integral met their tolerances.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Integrand evaluations used.
    pub fn evaluations(&self) -> usize {
        self.evaluations
    }
    /// The estimator of the model printed beside the interval.
    pub fn rma_method(&self) -> Method {
        self.rma_method
    }
    /// That model's tau^2.
    pub fn rma_tau2(&self) -> f64 {
        self.rma_tau2
    }
    /// That model's estimate.
    pub fn rma_estimate(&self) -> f64 {
        self.rma_estimate
    }
    /// That model's standard error.
    pub fn rma_se(&self) -> f64 {
        self.rma_se
    }
    /// That model's confidence interval.
    pub fn rma_ci(&self) -> (f64, f64) {
        (self.rma_ci_lower, self.rma_ci_upper)
    }
    /// The same result, printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

impl fmt::Display for HenmiCopasFit {
    /// metafor's `print.hc.rma.uni`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let cells: [[String; 6]; 2] = [
            [
                self.rma_method.to_string(),
                fcf(self.rma_tau2, d),
                fcf(self.rma_estimate, d),
                fcf(self.rma_se, d),
                fcf(self.rma_ci_lower, d),
                fcf(self.rma_ci_upper, d),
            ],
            [
                "DL".to_string(),
                fcf(self.tau2, d),
                fcf(self.estimate, d),
                fcf(self.se, d),
                fcf(self.ci_lower, d),
                fcf(self.ci_upper, d),
            ],
        ];
        let headers = ["method", "tau2", "estimate", "se", "ci.lb", "ci.ub"];
        let widths: Vec<usize> = (0..6)
            .map(|j| {
                headers[j]
                    .len()
                    .max(cells[0][j].len())
                    .max(cells[1][j].len())
            })
            .collect();
        writeln!(f)?;
        // (metafor's .print.table ends each line with a space)
        let mut line = "   ".to_string();
        for (h, w) in headers.iter().zip(&widths) {
            line.push_str(&format!(" {h:>w$}"));
        }
        writeln!(f, "{line} ")?;
        for (name, row) in ["rma", "hc "].iter().zip(&cells) {
            let mut line = (*name).to_string();
            for (c, w) in row.iter().zip(&widths) {
                line.push_str(&format!(" {c:>w$}"));
            }
            writeln!(f, "{line} ")?;
        }
        writeln!(f)
    }
}
