//! Robust inference for multilevel and multivariate fits: [`MvFit::robust`].
//!
//! An `rma.mv` fit is, for cluster-robust inference, the [`super::ClusteredModel`] with
//! the per-cluster blocks of its marginal covariance `M_j = Z_j G Z_j' + V_j` at the
//! estimated components: weights `W_j = M_j^-1` and working covariance `Phi_j = M_j`
//! (clubSandwich's `vcovCR.rma.mv`; metafor's `robust.rma.mv`).

use super::{RobustFit, RobustKind, Settings, fit};
use crate::error::Result;
use crate::model::MvFit;

impl MvFit {
    /// Cluster-robust inference on the coefficients, clustered by the fit's clusters (the
    /// outer level of the random part):
    ///
    /// * CR2 ([`RobustKind::CR2`]): clubSandwich's
    ///   `coef_test(fit, vcov = "CR2", test = "Satterthwaite")`, `conf_int` and, for the
    ///   omnibus test of the fit's `btt` and for [`RobustFit::wald_test`],
    ///   `Wald_test(test = "HTZ")` — the "CHE + CR2" recipe when the fit is a three-level
    ///   model with a sampling correlation `rho` (Pustejovsky & Tipton 2022);
    /// * CR1 ([`RobustKind::CR1`]): metafor's `robust(fit, cluster, adjust = TRUE)`, t tests
    ///   on `clusters - p` degrees of freedom.
    ///
    /// # Formula
    /// With the bread `B = (X'M^-1X)^-1` and residuals `e_j = y_j - X_j beta`,
    /// `V_CR = B (sum_j X_j' M_j^-1 A_j e_j e_j' A_j M_j^-1 X_j) B`, `A_j = I` (times
    /// `m/(m - p)`) for CR1 and `A_j = R_j' [R_j (I - H_jj) M_j R_j']^{-1/2} R_j` with
    /// `R_j'R_j = M_j`, `H_jj = X_j B X_j' M_j^-1` for CR2. Cost `O(sum_j n_j^3)`.
    ///
    /// # Errors
    /// [`crate::MetaError::TooFewClusters`] for fewer than `p + 1` clusters;
    /// [`crate::MetaError::InvalidCluster`] naming a cluster whose marginal covariance is
    /// not positive definite; [`crate::MetaError::Numerical`] for a result that is not
    /// finite.
    ///
    /// # Examples
    /// ```
    /// use metan::{MvModel, RobustKind, Studies};
    /// let s = Studies::from_variances(
    ///     vec![0.30, 0.10, 0.45, 0.20, 0.25, 0.05, 0.50, 0.35, 0.15, 0.02, 0.40, 0.30],
    ///     vec![0.02, 0.03, 0.04, 0.05, 0.02, 0.03, 0.05, 0.04, 0.03, 0.03, 0.02, 0.04],
    /// )?
    /// .with_clusters(["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4", "s5", "s5", "s6", "s6"])?;
    /// let fit = MvModel::new().rho(0.6).fit(&s)?;          // CHE working model
    /// let cr2 = fit.robust(RobustKind::CR2)?;               // + CR2
    /// let c = &cr2.coefficients()[0];
    /// assert!(c.df.is_some_and(|df| df > 0.0 && df <= 5.0)); // Satterthwaite df
    /// println!("{cr2}");                                     // clubSandwich's tables
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// # References
    /// Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance estimation:
    /// expanding the range of working models. *Prevention Science*, 23, 425-438.
    pub fn robust(&self, kind: RobustKind) -> Result<RobustFit> {
        let mut model = self.clustered_model();
        if matches!(kind, RobustKind::CR2) {
            // clubSandwich reads metafor's residuals(), which are 0 below 100 eps
            for b in &mut model.clusters {
                for e in b.e.iter_mut() {
                    if e.abs() < 100.0 * f64::EPSILON {
                        *e = 0.0;
                    }
                }
            }
        }
        let mut settings = Settings::new(kind, self.level());
        settings.btt = Some(self.btt().to_vec());
        // clubSandwich does not rescale rma.mv weights
        settings.w_scale = 1.0;
        settings.digits = self.digits();
        fit::robust(
            &model,
            &settings,
            &super::EigenFloor::ClubSandwich(settings.w_scale),
        )
    }
}
