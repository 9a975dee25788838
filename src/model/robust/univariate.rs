//! Robust inference for univariate fits given a cluster: [`MetaFit::robust`] and
//! [`MetaRegressionFit::robust`].
//!
//! A random-effects (or equal-effects) fit with `w_i = 1/(v_i + tau^2)` is, for
//! cluster-robust inference, the [`ClusteredModel`] with diagonal blocks
//! `W_j = diag(w_i)` and working covariance `Phi_j = diag(v_i + tau^2)` (clubSandwich's
//! `vcovCR.rma.uni`; metafor's `robust.rma.uni`).

use nalgebra::{DMatrix, DVector};

use super::{DiagonalSource, RobustFit, RobustKind, Settings, Source, fit};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{MetaFit, MetaRegressionFit, TestKind};

/// `|e| < 100 eps` is 0 in metafor's `residuals()`, which clubSandwich uses (metafor's
/// own `robust()` does not round).
fn residual(e: f64, kind: RobustKind) -> f64 {
    match kind {
        RobustKind::CR2 if e.abs() < 100.0 * f64::EPSILON => 0.0,
        RobustKind::CR1 | RobustKind::CR2 => e,
    }
}

/// The clusters of `studies`, checked against a fit of `k` studies.
fn clusters_of(studies: &Studies, k: usize) -> Result<&crate::data::Clusters> {
    if studies.k() != k {
        return Err(MetaError::LengthMismatch {
            field: "studies".into(),
            expected: k,
            found: studies.k(),
        });
    }
    studies.clusters().ok_or_else(|| {
        MetaError::invalid_option(
            "cluster",
            "none",
            "cluster-robust inference needs the studies' clusters (Studies::with_clusters)",
        )
    })
}

/// `(X'WX)^-1` of design `x` (k x p) and weights `w`.
pub(crate) fn bread_of(x: &DMatrix<f64>, w: &[f64]) -> Result<DMatrix<f64>> {
    let p = x.ncols();
    let mut xwx = DMatrix::<f64>::zeros(p, p);
    for (i, &wi) in w.iter().enumerate() {
        for a in 0..p {
            let xa = wi * x[(i, a)];
            for b in 0..p {
                xwx[(a, b)] += xa * x[(i, b)];
            }
        }
    }
    Ok(xwx
        .cholesky()
        .ok_or_else(|| MetaError::Numerical {
            context: "cluster-robust inference: X'WX is not positive definite".into(),
        })?
        .inverse())
}

/// The clustered model of a univariate fit: design `x` (k x p), weights `w`, residuals `e`
/// (clubSandwich's `vcovCR.rma.uni`: `W_j = diag(w)`, `Phi_j = diag(1/w)`).
fn univariate_model<'a>(
    studies: &'a Studies,
    names: Vec<String>,
    x: &'a DMatrix<f64>,
    beta: DVector<f64>,
    w: Vec<f64>,
    e: Vec<f64>,
) -> Result<DiagonalSource<'a>> {
    let clusters = clusters_of(studies, w.len())?;
    let bread = bread_of(x, &w)?;
    Ok(DiagonalSource {
        names,
        beta,
        bread,
        x,
        w,
        e,
        clusters,
    })
}

/// clubSandwich's rule for the eigenvalues, at the fit's weight scale.
fn robust_of(model: &impl Source, settings: &Settings) -> Result<RobustFit> {
    fit::robust(
        model,
        settings,
        &super::EigenFloor::ClubSandwich(settings.w_scale),
    )
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

impl MetaFit {
    /// Cluster-robust inference on the pooled estimate, the clusters being those of
    /// `studies` ([`Studies::with_clusters`]), which must be the studies of this fit.
    ///
    /// * CR2 ([`RobustKind::CR2`]): clubSandwich's
    ///   `coef_test(fit, vcov = "CR2", cluster = , test = "Satterthwaite")` and `conf_int`;
    /// * CR1 ([`RobustKind::CR1`]): metafor's `robust(fit, cluster = , adjust = TRUE)`.
    ///
    /// # Formula
    /// With `w_i = 1/(v_i + tau^2)`, `e_i = y_i - mu`: CR1
    /// `Var(mu) = m/(m - 1) sum_j (sum_{i in j} w_i e_i)^2 / (sum_i w_i)^2` on `m - 1` df;
    /// CR2 as in [`crate::model`]'s robust module (`W_j = diag(w_i)`,
    /// `Phi_j = diag(v_i + tau^2)`). For knha/adhoc fits metafor's `robust()` multiplies
    /// its bread by the fit's `vb`, which carries the Knapp-Hartung factor `s2w`, so CR1
    /// variances are `s2w^2` times the above (reproduced here); CR2 (clubSandwich) ignores
    /// the test.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] without clusters (option `cluster`), or (option
    /// `studies`) for a fit with user weights or `studies` that are not the fit's;
    /// [`MetaError::LengthMismatch`] for a different number of studies; [`MetaError::TooFewClusters`] for fewer than 2 clusters.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, RobustKind, Studies};
    /// let s = Studies::from_variances(
    ///     vec![0.30, 0.42, 0.10, 0.15, 0.55, 0.48, 0.2],
    ///     vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.05],
    /// )?
    /// .with_clusters(["A", "A", "B", "B", "C", "C", "D"])?;
    /// let fit = MetaAnalysis::new().fit(&s)?;
    /// let cr1 = fit.robust(&s, RobustKind::CR1)?;
    /// assert_eq!(cr1.coefficients()[0].df, Some(3.0));      // clusters - 1
    /// println!("{cr1}");                                       // metafor's robust() layout
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn robust(&self, studies: &Studies, kind: RobustKind) -> Result<RobustFit> {
        clusters_of(studies, self.k)?;
        let y = studies.yi();
        let v = studies.vi();
        let w: Vec<f64> = v
            .iter()
            .map(|vi| 1.0 / (vi + self.heterogeneity.tau2))
            .collect();
        let sw: f64 = w.iter().sum();
        // the fit's weights (percent) are these unless the fit used user weights
        let user = w
            .iter()
            .zip(&self.weights)
            .any(|(wi, pct)| (100.0 * wi / sw - pct).abs() > 1e-8 * pct.abs().max(1e-300));
        if user {
            return Err(MetaError::invalid_option(
                "studies",
                "given",
                "the fit's weights are not 1/(vi + tau^2) of these studies: either they are not \
                 the studies the fit was made from, or the fit used user weights (cluster-robust \
                 inference needs an inverse-variance weighted fit)",
            ));
        }
        let mu = w.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / sw;
        let scale = y.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        if (mu - self.estimate).abs() > 1e-8 * scale.max(f64::MIN_POSITIVE) {
            return Err(MetaError::invalid_option(
                "studies",
                "given",
                "these are not the studies the fit was made from",
            ));
        }
        let e: Vec<f64> = y
            .iter()
            .map(|yi| residual(yi - self.estimate, kind))
            .collect();
        let x = DMatrix::from_element(y.len(), 1, 1.0);
        let w_scale = mean(&w);
        let model = univariate_model(
            studies,
            vec!["intrcpt".into()],
            &x,
            DVector::from_element(1, self.estimate),
            w,
            e,
        )?;
        let s2w = if matches!(self.test, TestKind::Knha | TestKind::Adhoc) {
            self.se * self.se * sw
        } else {
            1.0
        };
        let mut settings = Settings::new(kind, self.level);
        settings.w_scale = w_scale;
        settings.cr1_bread_scale = s2w;
        settings.digits = self.digits;
        robust_of(&model, &settings)
    }
}

impl MetaRegressionFit {
    /// Cluster-robust inference on the coefficients, the clusters being those of
    /// `studies` ([`Studies::with_clusters`]), which must be the studies of this fit: CR2
    /// as clubSandwich's `coef_test` / `conf_int` / `Wald_test(test = "HTZ")`, CR1 as
    /// metafor's `robust(fit, cluster, adjust = TRUE)` (see [`MetaFit::robust`]). The
    /// omnibus test covers the fit's `btt`.
    ///
    /// # Errors
    /// As [`MetaFit::robust`]; [`MetaError::TooFewClusters`] for fewer than `p + 1`
    /// clusters.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaRegression, RobustKind, Studies};
    /// let s = Studies::from_variances(
    ///     vec![0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.2, 0.3, 0.7, 0.5],
    ///     vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.05, 0.02, 0.03, 0.04],
    /// )?
    /// .with_moderator("dose", vec![1., 2., 1., 3., 2., 3., 1., 2., 4., 3.])?
    /// .with_clusters(["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"])?;
    /// let fit = MetaRegression::new().moderator("dose").fit(&s)?;
    /// let cr2 = fit.robust(&s, RobustKind::CR2)?;
    /// assert_eq!(cr2.names(), ["intrcpt", "dose"]);
    /// assert!(cr2.omnibus().is_some());                     // HTZ test of dose
    /// println!("{cr2}");                                      // clubSandwich's tables
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn robust(&self, studies: &Studies, kind: RobustKind) -> Result<RobustFit> {
        clusters_of(studies, self.k())?;
        let (y, v) = self.data();
        if studies.yi() != y || studies.vi() != v {
            return Err(MetaError::invalid_option(
                "studies",
                "given",
                "these are not the studies the fit was made from",
            ));
        }
        let x = self.design_matrix();
        let beta = DVector::from_vec(self.beta());
        let tau2 = self.tau2();
        let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
        let fitted = x * &beta;
        let e: Vec<f64> = y
            .iter()
            .zip(fitted.iter())
            .map(|(yi, f)| residual(yi - f, kind))
            .collect();
        let names = self.names().into_iter().map(String::from).collect();
        let w_scale = mean(&w);
        let model = univariate_model(studies, names, x, beta, w, e)?;
        let mut settings = Settings::new(kind, self.level());
        settings.btt = Some(self.btt().to_vec());
        settings.w_scale = w_scale;
        settings.cr1_bread_scale = self.s2w();
        settings.digits = self.digits();
        robust_of(&model, &settings)
    }
}
