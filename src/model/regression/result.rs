//! The fitted meta-regression: [`MetaRegressionFit`], its [`Coefficient`] rows and
//! [`Prediction`]s.

use nalgebra::DMatrix;

use crate::error::{MetaError, Result};
use crate::model::fit::{Convergence, FitStats};
use crate::model::heterogeneity::Heterogeneity;
use crate::model::method::{Method, TestKind};

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Coefficient {
    /// Column name: `intrcpt`, a numeric moderator's name, or a categorical moderator's name
    /// followed by the level (`allocrandom`).
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Degrees of freedom of the t test (`k - p`); `None` for z.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

/// A predicted value `x' beta` with its confidence and prediction intervals
/// (metafor's `predict.rma`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Prediction {
    /// `x' beta`.
    pub pred: f64,
    /// `sqrt(x' Var(beta) x)`.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Lower prediction bound (`None` for equal-effects models).
    pub pi_lower: Option<f64>,
    /// Upper prediction bound (`None` for equal-effects models).
    pub pi_upper: Option<f64>,
}

/// A fitted meta-regression.
///
/// Built by [`MetaRegression::fit`](crate::MetaRegression::fit). With the `serde` feature it serializes to the JSON
/// printed by `metan fit --mods ... --format json`: `coefficients`, `qm`, `qm_df`, `qm_p_value`,
/// `r2`, and the residual heterogeneity under the names `metan fit` uses (`q`, `q_df`,
/// `q_p_value`, `tau2`, `i2`, `h2`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetaRegressionFit {
    pub(super) k: usize,
    pub(super) p: usize,
    pub(super) method: Method,
    pub(super) test: TestKind,
    pub(super) level: f64,
    pub(super) int_only: bool,
    pub(super) int_incl: bool,
    pub(super) coefficients: Vec<Coefficient>,
    pub(super) vcov: Vec<Vec<f64>>,
    pub(super) btt: Vec<usize>,
    pub(super) qm: f64,
    pub(super) qm_df: f64,
    pub(super) qm_df2: Option<f64>,
    pub(super) qm_p_value: f64,
    pub(super) heterogeneity: Heterogeneity,
    pub(super) s2w: f64,
    pub(super) hat: Vec<f64>,
    pub(super) fitted: Vec<f64>,
    pub(super) residuals: Vec<f64>,
    pub(super) rstandard: Vec<f64>,
    pub(super) fit_stats: FitStats,
    pub(super) parms: usize,
    pub(super) converged: bool,
    pub(super) convergence: Convergence,
    pub(super) warnings: Vec<String>,
    pub(super) crit: f64,
    pub(super) yi: Vec<f64>,
    pub(super) vi: Vec<f64>,
    pub(super) x: DMatrix<f64>,
    pub(super) digits: usize,
}

#[cfg(feature = "serde")]
impl serde::Serialize for MetaRegressionFit {
    /// The JSON of `metan fit --mods ... --format json`: the residual heterogeneity flat
    /// among the other fields, in the order of the first releases (undefined values `null`).
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let h = &self.heterogeneity;
        let b = Heterogeneity::bounds;
        let (t2l, t2u) = b(h.tau2_ci());
        let (il, iu) = b(h.i2_ci());
        let (hl, hu) = b(h.h2_ci());
        let mut s = serializer.serialize_struct("MetaRegressionFit", 42)?;
        s.serialize_field("k", &self.k)?;
        s.serialize_field("p", &self.p)?;
        s.serialize_field("method", &self.method)?;
        s.serialize_field("test", &self.test)?;
        s.serialize_field("level", &self.level)?;
        s.serialize_field("int_only", &self.int_only)?;
        s.serialize_field("int_incl", &self.int_incl)?;
        s.serialize_field("coefficients", &self.coefficients)?;
        s.serialize_field("vcov", &self.vcov)?;
        s.serialize_field("btt", &self.btt)?;
        s.serialize_field("qm", &self.qm)?;
        s.serialize_field("qm_df", &self.qm_df)?;
        s.serialize_field("qm_df2", &self.qm_df2)?;
        s.serialize_field("qm_p_value", &self.qm_p_value)?;
        s.serialize_field("r2", &h.r2)?;
        h.serialize_flat(&mut s)?;
        s.serialize_field("vt", &h.vt())?;
        s.serialize_field("tau2_ci_lower", &t2l)?;
        s.serialize_field("tau2_ci_upper", &t2u)?;
        s.serialize_field("i2_ci_lower", &il)?;
        s.serialize_field("i2_ci_upper", &iu)?;
        s.serialize_field("h2_ci_lower", &hl)?;
        s.serialize_field("h2_ci_upper", &hu)?;
        s.serialize_field("s2w", &self.s2w)?;
        s.serialize_field("hat", &self.hat)?;
        s.serialize_field("fitted", &self.fitted)?;
        s.serialize_field("residuals", &self.residuals)?;
        s.serialize_field("rstandard", &self.rstandard)?;
        s.serialize_field("fit_stats", &self.fit_stats)?;
        s.serialize_field("parms", &self.parms)?;
        s.serialize_field("converged", &self.converged)?;
        s.serialize_field("convergence", &self.convergence)?;
        s.serialize_field("warnings", &self.warnings)?;
        s.end()
    }
}

impl MetaRegressionFit {
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.p
    }
    /// The estimator that produced the fit.
    pub fn method(&self) -> Method {
        self.method
    }
    /// The test of the coefficients.
    pub fn test(&self) -> TestKind {
        self.test
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// True for a model with an intercept and no moderators.
    pub fn intercept_only(&self) -> bool {
        self.int_only
    }
    /// True when the first coefficient is the intercept.
    pub fn has_intercept(&self) -> bool {
        self.int_incl
    }
    /// The coefficient table.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// The coefficient names (columns of the model matrix).
    pub fn names(&self) -> Vec<&str> {
        self.coefficients.iter().map(|c| c.name.as_str()).collect()
    }
    /// The estimates `beta`.
    pub fn beta(&self) -> Vec<f64> {
        self.coefficients.iter().map(|c| c.estimate).collect()
    }
    /// The covariance matrix of `beta` (row-major, p x p; scaled by the Knapp-Hartung factor
    /// for knha/adhoc, as metafor's `vcov`).
    pub fn vcov(&self) -> &[Vec<f64>] {
        &self.vcov
    }
    /// The coefficients of the omnibus test (1-based, as metafor's `btt`).
    pub fn btt(&self) -> &[usize] {
        &self.btt
    }
    /// The omnibus test statistic: chi^2 QM for z tests, the F statistic `QM/m` for t tests.
    pub fn qm(&self) -> f64 {
        self.qm
    }
    /// Degrees of freedom of QM: `(m, None)` for chi^2, `(m, Some(k - p))` for F.
    pub fn qm_df(&self) -> (f64, Option<f64>) {
        (self.qm_df, self.qm_df2)
    }
    /// p-value of the omnibus test.
    pub fn qm_p_value(&self) -> f64 {
        self.qm_p_value
    }
    /// Residual heterogeneity tau^2: `self.heterogeneity().tau2()`.
    pub fn tau2(&self) -> f64 {
        self.heterogeneity.tau2
    }
    /// The residual heterogeneity: tau^2 and tau, I^2 and H^2, R^2, the QE test, and the
    /// interval of tau^2 with its transformations.
    pub fn heterogeneity(&self) -> &Heterogeneity {
        &self.heterogeneity
    }
    /// The Knapp-Hartung scale factor (1 for z and t tests).
    pub fn s2w(&self) -> f64 {
        self.s2w
    }
    /// Hat values `h_i` (metafor's `hatvalues`).
    pub fn hat(&self) -> &[f64] {
        &self.hat
    }
    /// Fitted values `x_i' beta`.
    pub fn fitted(&self) -> &[f64] {
        &self.fitted
    }
    /// Residuals `y_i - x_i' beta`.
    pub fn residuals(&self) -> &[f64] {
        &self.residuals
    }
    /// Standardized residuals (metafor's `rstandard`, marginal).
    pub fn rstandard(&self) -> &[f64] {
        &self.rstandard
    }
    /// Log-likelihoods, deviances and information criteria.
    pub fn fit_stats(&self) -> &FitStats {
        &self.fit_stats
    }
    /// The number of estimated parameters: `p`, plus 1 when tau^2 is estimated.
    pub fn parms(&self) -> usize {
        self.parms
    }
    /// True when the estimator converged.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Convergence details.
    pub fn convergence(&self) -> &Convergence {
        &self.convergence
    }
    /// Warnings metafor would have given.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// The model matrix row of study `i` (zero-based).
    pub fn x_row(&self, i: usize) -> Vec<f64> {
        self.x.row(i).iter().copied().collect()
    }
    pub(crate) fn design_matrix(&self) -> &DMatrix<f64> {
        &self.x
    }
    pub(crate) fn data(&self) -> (&[f64], &[f64]) {
        (&self.yi, &self.vi)
    }
    pub(crate) fn digits(&self) -> usize {
        self.digits
    }

    /// The same fit, printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }

    /// The predicted value for new moderator values (metafor's `predict(fit, newmods)`):
    /// `newmods` has one value per coefficient other than the intercept (dummy values for
    /// categorical moderators), the intercept being added when the model has one.
    ///
    /// # Formula
    /// `pred = x'beta`, `se = sqrt(x' Var(beta) x)`, CI `pred -/+ crit se`, PI
    /// `pred -/+ crit sqrt(se^2 + tau2)` with the critical value of the model's test.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] for the wrong number of values, and
    /// [`MetaError::InvalidOption`] for a non-finite value.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaRegression, Studies};
    /// let s = Studies::from_variances(vec![0.1, 0.3, 0.2, 0.6], vec![0.01, 0.02, 0.01, 0.03])?
    ///     .with_moderator("dose", vec![1.0, 2.0, 3.0, 4.0])?;
    /// let fit = MetaRegression::new().moderator("dose").fit(&s)?;
    /// let at2 = fit.predict(&[2.0])?;
    /// assert!((at2.pred - (fit.beta()[0] + 2.0 * fit.beta()[1])).abs() < 1e-12);
    /// assert!(at2.ci_lower < at2.pred && at2.pred < at2.ci_upper);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn predict(&self, newmods: &[f64]) -> Result<Prediction> {
        let expected = self.p - usize::from(self.int_incl);
        if newmods.len() != expected {
            return Err(MetaError::LengthMismatch {
                field: "newmods".into(),
                expected,
                found: newmods.len(),
            });
        }
        if let Some(bad) = newmods.iter().find(|a| !a.is_finite()) {
            return Err(MetaError::invalid_option(
                "newmods",
                bad,
                "moderator values must be finite",
            ));
        }
        let mut xr = Vec::with_capacity(self.p);
        if self.int_incl {
            xr.push(1.0);
        }
        xr.extend_from_slice(newmods);
        let pred: f64 = xr
            .iter()
            .zip(&self.coefficients)
            .map(|(a, c)| a * c.estimate)
            .sum();
        let mut var = 0.0;
        for i in 0..self.p {
            for j in 0..self.p {
                var += xr[i] * self.vcov[i][j] * xr[j];
            }
        }
        let se = if var >= 0.0 { var.sqrt() } else { f64::NAN };
        let ee = self.method.is_equal_effects();
        let s = (var + self.heterogeneity.tau2).sqrt();
        Ok(Prediction {
            pred,
            se,
            ci_lower: pred - self.crit * se,
            ci_upper: pred + self.crit * se,
            pi_lower: (!ee).then_some(pred - self.crit * s),
            pi_upper: (!ee).then_some(pred + self.crit * s),
        })
    }
}
