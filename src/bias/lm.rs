//! Weighted least squares with a multiplicative dispersion parameter: R's
//! `lm(y ~ x, weights = w)`, as used by metafor's `regtest(model = "lm")` and PET-PEESE.

use nalgebra::DMatrix;

use crate::error::{MetaError, Result};
use crate::model::Coefficient;
use crate::numeric::dist::{t_isf, t_p2};
use crate::numeric::wls::WlsQr;

/// A weighted linear regression `y = b0 + b1 x` fitted by weighted least squares, with
/// standard errors scaled by the residual variance (R's `summary(lm(y ~ x, weights = w))`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct WeightedLm {
    coefficients: Vec<Coefficient>,
    sigma: f64,
    df: f64,
}

impl WeightedLm {
    /// Fits `y = b0 + b1 x` with weights `w`; t tests and `100 (1 - alpha)`% intervals on
    /// `k - 2` degrees of freedom. `names` are the coefficient names.
    ///
    /// # Formula
    /// `b = (X'WX)^-1 X'Wy`, `sigma^2 = sum w (y - Xb)^2 / (k - 2)`,
    /// `Var(b) = sigma^2 (X'WX)^-1`, `t = b / SE`, CI `b -/+ t_{k-2, alpha/2} SE`.
    pub(crate) fn fit(
        x: &[f64],
        y: &[f64],
        w: &[f64],
        alpha: f64,
        names: [&str; 2],
    ) -> Result<Self> {
        let k = y.len();
        let design = DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { x[i] });
        let qr = WlsQr::new(&design, |i| w[i]).ok_or_else(|| MetaError::RankDeficient {
            columns: vec![names[1].to_string()],
        })?;
        let beta = qr.coefficients(y);
        let rss: f64 = qr.weighted_residuals(y).iter().map(|r| r * r).sum();
        let df = (k - 2) as f64;
        let sigma2 = rss / df;
        let vb = qr.cov_unscaled();
        let crit = t_isf(alpha / 2.0, df);
        let coefficients: Vec<Coefficient> = (0..2)
            .map(|j| {
                let se = (sigma2 * vb[(j, j)]).sqrt();
                let t = beta[j] / se;
                Coefficient {
                    name: names[j].to_string(),
                    estimate: beta[j],
                    se,
                    statistic: t,
                    df: Some(df),
                    p_value: t_p2(t, df),
                    ci_lower: beta[j] - crit * se,
                    ci_upper: beta[j] + crit * se,
                }
            })
            .collect();
        if coefficients
            .iter()
            .any(|c| !(c.se > 0.0 && c.statistic.is_finite() && c.p_value.is_finite()))
        {
            return Err(MetaError::Numerical {
                context: format!(
                    "weighted regression on {}: the fit is perfect (zero residual variance)",
                    names[1]
                ),
            });
        }
        Ok(WeightedLm {
            coefficients,
            sigma: sigma2.sqrt(),
            df,
        })
    }

    /// The intercept and the slope.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// The intercept.
    pub fn intercept(&self) -> &Coefficient {
        &self.coefficients[0]
    }
    /// The slope.
    pub fn slope(&self) -> &Coefficient {
        &self.coefficients[1]
    }
    /// The residual standard error `sigma` (R's `summary(lm)$sigma`).
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
    /// Residual degrees of freedom `k - 2`.
    pub fn df(&self) -> f64 {
        self.df
    }
}
