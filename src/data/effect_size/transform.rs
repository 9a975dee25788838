//! Back-transformations for display: [`Transform`] and [`BackTransformed`].

use std::fmt;

/// A transformation from the scale an effect size is analysed on back to its natural
/// scale, as metafor's `transf` functions (used by `predict(res, transf = ...)`, forest
/// plots, ...). Every variant is monotone increasing, so an interval maps to an interval.
///
/// # Examples
/// ```
/// use metan::data::effect_size::Transform;
/// assert_eq!(Transform::Exp.apply(0.0), 1.0);
/// assert_eq!(Transform::ILogit.apply(0.0), 0.5);
/// assert!((Transform::Tanh.apply(0.5493061443340548) - 0.5).abs() < 1e-15);
/// assert_eq!(Transform::IArcsin.apply(std::f64::consts::FRAC_PI_2), 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Transform {
    /// No transformation.
    Identity,
    /// `exp(x)`: log ratio measures to ratios (metafor's `exp`).
    Exp,
    /// `tanh(x)`: Fisher's z to a correlation (metafor's `transf.ztor`).
    Tanh,
    /// `1/(1 + exp(-x))`: logit to proportion (metafor's `transf.ilogit`).
    ILogit,
    /// `sin(x)^2`, clamped to [0, 1]: arcsine square-root to proportion
    /// (metafor's `transf.iarcsin`).
    IArcsin,
    /// Inverse of the Freeman-Tukey double arcsine transformation, for a sample size
    /// `harmonic_n` (metafor's `transf.ipft.hm`, which uses the harmonic mean of the
    /// studies' sizes). Build it with [`Transform::ipft_hm`].
    ///
    /// # References
    /// Miller, J. J. (1978). The inverse of the Freeman-Tukey double arcsine transformation.
    /// *The American Statistician*, 32(4), 138.
    IPftHm {
        /// The sample size used by the inverse (the harmonic mean of the studies' sizes).
        harmonic_n: f64,
    },
}

impl Transform {
    /// The inverse Freeman-Tukey transformation with the harmonic mean of `ni` (missing
    /// values, NaN, are skipped as metafor's `mean(1/ni, na.rm = TRUE)` does).
    ///
    /// # Formula
    /// `n_h = 1 / mean(1/n_i)`.
    pub fn ipft_hm(ni: &[f64]) -> Transform {
        let (s, c) = ni
            .iter()
            .filter(|n| !n.is_nan())
            .fold((0.0, 0usize), |(s, c), n| (s + 1.0 / n, c + 1));
        Transform::IPftHm {
            harmonic_n: 1.0 / (s / c as f64),
        }
    }

    /// Applies the transformation. Values outside the domain give NaN (metafor's `NA`).
    ///
    /// # Formula
    /// IPftHm: `p = (1 - sign(cos 2x) sqrt(1 - (sin 2x + (sin 2x - 1/sin 2x)/n)^2))/2`,
    /// set to 0 below `pft(0, n)` and to 1 above `pft(1, n)` (Miller 1978).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::Exp => x.exp(),
            Transform::Tanh => x.tanh(),
            Transform::ILogit => 1.0 / (1.0 + (-x).exp()),
            Transform::IArcsin => {
                if x < 0.0 {
                    0.0
                } else if x > 1f64.asin() {
                    1.0
                } else {
                    let s = x.sin();
                    s * s
                }
            }
            Transform::IPftHm { harmonic_n: n } => {
                if x > pft(1.0, n) {
                    return 1.0;
                }
                if x < pft(0.0, n) {
                    return 0.0;
                }
                let s2 = (2.0 * x).sin();
                let c2 = (2.0 * x).cos();
                let inner = s2 + (s2 - 1.0 / s2) / n;
                let sign = if c2 > 0.0 {
                    1.0
                } else if c2 < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                0.5 * (1.0 - sign * (1.0 - inner * inner).sqrt())
            }
        }
    }

    /// The inverse: from the natural scale (a ratio, a correlation, a proportion) to the
    /// scale the effect size is analysed on; `None` outside the natural domain (a ratio
    /// `<= 0`, a correlation outside (-1, 1), a proportion outside [0, 1] or an infinite
    /// result), and for [`Transform::IPftHm`], which has no closed-form inverse.
    ///
    /// # Formula
    /// Exp: `ln x`; Tanh: `atanh x`; ILogit: `ln(x/(1 - x))`; IArcsin: `asin(sqrt x)`.
    ///
    /// # Examples
    /// ```
    /// use metan::data::effect_size::Transform;
    /// assert_eq!(Transform::Exp.inverse(1.0), Some(0.0));
    /// assert_eq!(Transform::Exp.inverse(0.0), None);
    /// assert_eq!(Transform::Tanh.inverse(1.0), None);
    /// ```
    pub fn inverse(self, x: f64) -> Option<f64> {
        let y = match self {
            Transform::Identity => x,
            Transform::Exp => {
                if !(x > 0.0) {
                    return None;
                }
                x.ln()
            }
            Transform::Tanh => {
                if !(x.abs() < 1.0) {
                    return None;
                }
                0.5 * ((1.0 + x) / (1.0 - x)).ln()
            }
            Transform::ILogit => {
                if !(x > 0.0 && x < 1.0) {
                    return None;
                }
                (x / (1.0 - x)).ln()
            }
            Transform::IArcsin => {
                if !((0.0..=1.0).contains(&x)) {
                    return None;
                }
                x.sqrt().asin()
            }
            Transform::IPftHm { .. } => return None,
        };
        y.is_finite().then_some(y)
    }

    /// The values [`Transform::inverse`] accepts, in words (for error messages).
    pub fn natural_domain(self) -> &'static str {
        match self {
            Transform::Identity => "a finite number",
            Transform::Exp => "a ratio > 0",
            Transform::Tanh => "a correlation in (-1, 1)",
            Transform::ILogit => "a proportion in (0, 1)",
            Transform::IArcsin => "a proportion in [0, 1]",
            Transform::IPftHm { .. } => {
                "no reported value (the Freeman-Tukey transform has no closed-form inverse)"
            }
        }
    }

    /// A short name: `identity`, `exp`, `tanh`, `ilogit`, `iarcsin` or `ipft_hm`.
    pub fn name(self) -> &'static str {
        match self {
            Transform::Identity => "identity",
            Transform::Exp => "exp",
            Transform::Tanh => "tanh",
            Transform::ILogit => "ilogit",
            Transform::IArcsin => "iarcsin",
            Transform::IPftHm { .. } => "ipft_hm",
        }
    }

    /// True for [`Transform::Identity`].
    pub fn is_identity(self) -> bool {
        self == Transform::Identity
    }
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Freeman-Tukey transform of a proportion `p` for sample size `n` (metafor's
/// `transf.pft`).
fn pft(p: f64, n: f64) -> f64 {
    let x = p * n;
    0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin())
}

/// A pooled estimate and its intervals on the natural scale (metafor's
/// `predict(res, transf = ...)`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BackTransformed {
    /// The transformation applied.
    pub transform: Transform,
    /// The transformed estimate.
    pub estimate: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Lower prediction bound (random-effects models only).
    pub pi_lower: Option<f64>,
    /// Upper prediction bound (random-effects models only).
    pub pi_upper: Option<f64>,
}

impl BackTransformed {
    /// Transforms an estimate, its confidence interval and, if any, its prediction
    /// interval.
    pub fn new(
        transform: Transform,
        estimate: f64,
        ci: (f64, f64),
        pi: Option<(f64, f64)>,
    ) -> Self {
        let t = |x: f64| transform.apply(x);
        BackTransformed {
            transform,
            estimate: t(estimate),
            ci_lower: t(ci.0),
            ci_upper: t(ci.1),
            pi_lower: pi.map(|p| t(p.0)),
            pi_upper: pi.map(|p| t(p.1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipft_inverts_pft() {
        let n = 20.0;
        let t = Transform::IPftHm { harmonic_n: n };
        for p in [0.05, 0.3, 0.5, 0.77, 0.95] {
            assert!((t.apply(pft(p, n)) - p).abs() < 1e-12, "p = {p}");
        }
        assert_eq!(t.apply(-1.0), 0.0);
        assert_eq!(t.apply(2.0), 1.0);
        assert_eq!(
            Transform::ipft_hm(&[2.0, 2.0, 4.0]),
            Transform::IPftHm {
                harmonic_n: 1.0 / ((0.5 + 0.5 + 0.25) / 3.0)
            }
        );
    }
}
