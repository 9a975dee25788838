//! Fail-safe N (metafor's `fsn`): how many null studies would overturn a result, by the
//! approaches of Rosenthal, Orwin and Rosenberg.

use std::fmt;

use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::numeric::dist::{norm_isf, norm_sf};

/// Specification of the fail-safe N calculations. Defaults are metafor's: `alpha = 0.05`,
/// Orwin's target = half the average effect, unweighted average for Orwin.
///
/// # Examples
///
/// ```
/// use metan::Studies;
/// use metan::bias::FailSafeN;
/// let s = Studies::from_variances(vec![0.5, 0.3, 0.4, 0.6], vec![0.04, 0.02, 0.03, 0.05])?;
/// let fsn = FailSafeN::new().run(&s)?;
/// assert_eq!(fsn.orwin().fsn, 4.0);              // target = mean/2: k more null studies
/// assert!(fsn.rosenthal().fsn > 10.0);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FailSafeN {
    alpha: f64,
    target: Option<f64>,
    weighted: bool,
}

impl Default for FailSafeN {
    fn default() -> Self {
        Self::new()
    }
}

/// Rosenthal's fail-safe N.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Rosenthal {
    /// The fail-safe N.
    pub fsn: f64,
    /// One-sided p-value of Stouffer's combined z (the observed significance level).
    pub p_value: f64,
    /// The target (one-sided) significance level.
    pub alpha: f64,
}

/// Orwin's fail-safe N.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Orwin {
    /// The fail-safe N (`+inf` for a target of exactly 0).
    pub fsn: f64,
    /// The average effect (unweighted, or inverse-variance weighted).
    pub mean: f64,
    /// The target effect.
    pub target: f64,
}

/// Rosenberg's fail-safe N.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Rosenberg {
    /// The fail-safe N.
    pub fsn: f64,
    /// The inverse-variance weighted average effect.
    pub mean: f64,
    /// Two-sided p-value of the equal-effects z test (the observed significance level).
    pub p_value: f64,
    /// The target (two-sided) significance level.
    pub alpha: f64,
}

/// The result of [`FailSafeN::run`]: all three fail-safe numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FailSafeFit {
    rosenthal: Rosenthal,
    orwin: Orwin,
    rosenberg: Rosenberg,
}

impl FailSafeFit {
    /// Rosenthal's approach.
    pub fn rosenthal(&self) -> &Rosenthal {
        &self.rosenthal
    }
    /// Orwin's approach.
    pub fn orwin(&self) -> &Orwin {
        &self.orwin
    }
    /// Rosenberg's approach.
    pub fn rosenberg(&self) -> &Rosenberg {
        &self.rosenberg
    }
}

/// metafor's rounding of a fail-safe number: up to the next integer, unless within
/// `sqrt(eps)` of one.
fn round_up(x: f64) -> f64 {
    if x.is_infinite() {
        x
    } else if (x - x.round()).abs() >= f64::EPSILON.sqrt() {
        x.ceil()
    } else {
        x.round_ties_even()
    }
}

impl FailSafeN {
    /// `alpha = 0.05`, Orwin's target = half the unweighted average effect.
    pub fn new() -> Self {
        FailSafeN {
            alpha: 0.05,
            target: None,
            weighted: false,
        }
    }

    /// The target significance level of Rosenthal's (one-sided) and Rosenberg's
    /// (two-sided) approaches (default 0.05).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Orwin's target effect (default: half the average effect). Its sign is taken to be
    /// that of the average effect.
    pub fn target(mut self, target: f64) -> Self {
        self.target = Some(target);
        self
    }

    /// Whether Orwin's average is weighted by `1/v_i` (default false, as metafor).
    pub fn weighted(mut self, yes: bool) -> Self {
        self.weighted = yes;
        self
    }

    /// Computes the three fail-safe numbers.
    ///
    /// # Formula
    /// Every number is rounded up to an integer (metafor: unless it is within `sqrt(eps)`
    /// of one).
    /// * **Rosenthal** (Stouffer's method): `z = |sum(y_i/sqrt(v_i))| / sqrt(k)`,
    ///   `N = max(0, k (z / z_alpha)^2 - k)` with `z_alpha` the upper `alpha` quantile;
    ///   observed level `P(Z > z)`.
    /// * **Orwin**: `N = max(0, k (mean - target)/target)` with the (weighted) average
    ///   effect `mean` and `target` of the same sign (default `mean/2`, giving `N = k`).
    /// * **Rosenberg**: with `w_i = 1/v_i`,
    ///   `N = max(0, k ((sum w y / z_{alpha/2})^2 - sum w) / sum w)`; observed level: the
    ///   two-sided p-value of the equal-effects estimate.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for `alpha` outside (0, 1) or a non-finite target.
    ///
    /// # References
    /// Rosenthal, R. (1979). The "file drawer problem" and tolerance for null results.
    /// *Psychological Bulletin*, 86, 638-641. Orwin, R. G. (1983). A fail-safe N for effect
    /// size in meta-analysis. *Journal of Educational Statistics*, 8, 157-159. Rosenberg,
    /// M. S. (2005). The file-drawer problem revisited: A general weighted method for
    /// calculating fail-safe numbers in meta-analysis. *Evolution*, 59, 464-468.
    pub fn run(&self, studies: &Studies) -> Result<FailSafeFit> {
        studies.check_range()?;
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(MetaError::invalid_option(
                "alpha",
                self.alpha,
                "must be in (0, 1)",
            ));
        }
        if let Some(t) = self.target {
            if !t.is_finite() {
                return Err(MetaError::invalid_option("target", t, "must be finite"));
            }
        }
        let y = studies.yi();
        let v = studies.vi();
        let k = y.len() as f64;

        // Rosenthal
        let zsum: f64 = y.iter().zip(v).map(|(yi, vi)| yi / vi.sqrt()).sum();
        let z_avg = (zsum / k.sqrt()).abs();
        let za = norm_isf(self.alpha);
        let rosenthal = Rosenthal {
            fsn: round_up((k * (z_avg / za).powi(2) - k).max(0.0)),
            p_value: norm_sf(z_avg),
            alpha: self.alpha,
        };

        // Orwin
        let mean = if self.weighted {
            let (sw, swy) = y
                .iter()
                .zip(v)
                .fold((0.0, 0.0), |(a, b), (yi, vi)| (a + 1.0 / vi, b + yi / vi));
            swy / sw
        } else {
            mean_r(y)
        };
        let mut target = self.target.unwrap_or(mean / 2.0);
        let fsn = if target == 0.0 {
            f64::INFINITY
        } else {
            if sign(target) != sign(mean) {
                target = -target;
            }
            round_up((k * (mean - target) / target).max(0.0))
        };
        let orwin = Orwin { fsn, mean, target };

        // Rosenberg
        let (sw, swy) = y.iter().zip(v).fold((0.0, 0.0), |(a, b), (yi, vi)| {
            (a + 1.0 / vi, b + (1.0 / vi) * yi)
        });
        let mean_w = swy / sw;
        let z = mean_w / (1.0 / sw).sqrt();
        let wp = (swy / norm_isf(self.alpha / 2.0)).powi(2) - sw;
        let rosenberg = Rosenberg {
            fsn: round_up((k * wp / sw).max(0.0)),
            mean: mean_w,
            p_value: 2.0 * norm_sf(z.abs()),
            alpha: self.alpha,
        };
        Ok(FailSafeFit {
            rosenthal,
            orwin,
            rosenberg,
        })
    }
}

/// R's `sign`: -1, 0 or 1.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// R's `mean`: the sum divided by `n`, refined by the mean of the residuals.
fn mean_r(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    m + x.iter().map(|a| a - m).sum::<f64>() / n
}

impl fmt::Display for FailSafeFit {
    /// The three blocks of metafor's `print.fsn`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::format::{fcf, pval_str};
        let p = |x: f64| pval_str(x, 4, false, "");
        let n = |x: f64| {
            if x.is_infinite() {
                "Inf".to_string()
            } else {
                format!("{x:.0}")
            }
        };
        writeln!(f)?;
        writeln!(f, "Fail-safe N Calculation Using the Rosenthal Approach")?;
        writeln!(f)?;
        writeln!(
            f,
            "Observed Significance Level: {}",
            p(self.rosenthal.p_value)
        )?;
        writeln!(f, "Target Significance Level:   {}", self.rosenthal.alpha)?;
        writeln!(f)?;
        writeln!(f, "Fail-safe N: {}", n(self.rosenthal.fsn))?;
        writeln!(f)?;
        writeln!(f, "Fail-safe N Calculation Using the Orwin Approach")?;
        writeln!(f)?;
        writeln!(f, "Average Effect Size: {}", fcf(self.orwin.mean, 4))?;
        writeln!(f, "Target Effect Size:  {}", fcf(self.orwin.target, 4))?;
        writeln!(f)?;
        writeln!(f, "Fail-safe N: {}", n(self.orwin.fsn))?;
        writeln!(f)?;
        writeln!(f, "Fail-safe N Calculation Using the Rosenberg Approach")?;
        writeln!(f)?;
        writeln!(
            f,
            "Average Effect Size:         {}",
            fcf(self.rosenberg.mean, 4)
        )?;
        writeln!(
            f,
            "Observed Significance Level: {}",
            p(self.rosenberg.p_value)
        )?;
        writeln!(f, "Target Significance Level:   {}", self.rosenberg.alpha)?;
        writeln!(f)?;
        writeln!(f, "Fail-safe N: {}", n(self.rosenberg.fsn))?;
        writeln!(f)
    }
}
