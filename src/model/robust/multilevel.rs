//! Robust inference for multilevel and multivariate fits: [`MvFit::robust`].
//!
//! An `rma.mv` fit is, for cluster-robust inference, the [`super::ClusteredModel`] with
//! the per-cluster blocks of its marginal covariance `M_j = Z_j G Z_j' + V_j` at the
//! estimated components: weights `W_j = M_j^-1` and working covariance `Phi_j = M_j`
//! (clubSandwich's `vcovCR.rma.mv`; metafor's `robust.rma.mv`).

use std::borrow::Cow;

use nalgebra::{DMatrix, DVector};

use super::sandwich::DenseBlock;
use super::{ClusterBlock, RobustFit, RobustKind, Settings, Source, fit};
use crate::error::Result;
use crate::model::MvFit;
use crate::numeric::dense::spd_inverse;

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
        let model = MvSource::new(self, kind);
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

/// An `rma.mv` fit as cluster-robust inference reads it, one cluster at a time into reused
/// buffers (the dense path: `W_j = M_j^-1` is never formed): per cluster (sorted names),
/// `M_j` at the estimated components, the rows of the original design and the residuals
/// `y_j - X_j beta` (what clubSandwich's `vcovCR.rma.mv` uses); the bread `(X'M^-1X)^-1`.
/// The same numbers as [`MvFit::clustered_model`], without holding `sum_j n_j^2` of them.
struct MvSource<'a> {
    fit: &'a MvFit,
    names: Vec<String>,
    beta: DVector<f64>,
    bread: DMatrix<f64>,
    psi: Vec<f64>,
    /// clubSandwich reads metafor's residuals(), which are 0 below 100 eps (CR2 only).
    zero_tiny_residuals: bool,
}

impl<'a> MvSource<'a> {
    fn new(fit: &'a MvFit, kind: RobustKind) -> Self {
        let p = fit.inner.pb.p;
        MvSource {
            fit,
            names: fit.names().iter().map(|s| s.to_string()).collect(),
            beta: DVector::from_vec(fit.beta()),
            bread: DMatrix::from_fn(p, p, |a, b| fit.vcov[a][b]),
            psi: fit.inner.param.psi(&fit.inner.theta),
            zero_tiny_residuals: matches!(kind, RobustKind::CR2),
        }
    }
}

impl Source for MvSource<'_> {
    fn names(&self) -> &[String] {
        &self.names
    }
    fn beta(&self) -> &DVector<f64> {
        &self.beta
    }
    fn bread(&self) -> &DMatrix<f64> {
        &self.bread
    }
    fn len(&self) -> usize {
        self.fit.inner.pb.nclusters()
    }
    fn name(&self, j: usize) -> &str {
        &self.fit.inner.cluster_names[j]
    }
    fn size(&self, j: usize) -> usize {
        let pb = &self.fit.inner.pb;
        pb.start[j + 1] - pb.start[j]
    }
    fn block(&self, j: usize) -> Cow<'_, ClusterBlock> {
        let mut d = DenseBlock::default();
        self.dense(j, &mut d);
        let (n, p) = (d.n, self.beta.len());
        let w = spd_inverse(&d.phi, n).unwrap_or_else(|| vec![f64::NAN; n * n]);
        let pb = &self.fit.inner.pb;
        Cow::Owned(ClusterBlock {
            rows: pb.rows[pb.start[j]..pb.start[j + 1]].to_vec(),
            x: DMatrix::from_row_slice(n, p, &d.x),
            w: DMatrix::from_row_slice(n, n, &w),
            working: DMatrix::from_row_slice(n, n, &d.phi),
            e: DVector::from_vec(d.e),
        })
    }
    fn check_shapes(&self) -> Result<()> {
        Ok(())
    }
    fn dense(&self, j: usize, out: &mut DenseBlock) -> bool {
        let pb = &self.fit.inner.pb;
        let bq = &self.fit.inner.beta_q;
        let (p, s) = (pb.p, pb.start[j]);
        let n = pb.start[j + 1] - s;
        out.n = n;
        pb.m_block(j, Some(&self.psi), &mut out.phi);
        // the original design x R (R upper triangular) and y - x beta_q
        out.x.clear();
        out.e.clear();
        for i in s..s + n {
            pb.push_x_original(i, &mut out.x);
            let xi = &pb.x[i * p..i * p + p];
            let e = pb.y[i] - (0..p).map(|c| xi[c] * bq[c]).sum::<f64>();
            out.e.push(
                if self.zero_tiny_residuals && e.abs() < 100.0 * f64::EPSILON {
                    0.0
                } else {
                    e
                },
            );
        }
        true
    }
}

#[cfg(test)]
impl MvFit {
    /// The whole [`super::ClusteredModel`] of the fit (every block at once, `W_j` formed),
    /// as the generic sandwich path and the fixture checks read it; residuals as `kind`
    /// reads them (CR2: zero below 100 eps, as clubSandwich).
    pub(crate) fn clustered_model(&self, kind: RobustKind) -> super::ClusteredModel {
        let src = MvSource::new(self, kind);
        super::ClusteredModel {
            names: src.names.clone(),
            beta: src.beta.clone(),
            bread: src.bread.clone(),
            clusters: (0..src.len()).map(|j| src.block(j).into_owned()).collect(),
            cluster_names: self.inner.cluster_names.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::super::EigenFloor;
    use super::*;
    use crate::model::mv::Structure;
    use crate::{MvModel, Studies};

    /// SIMULATED clusters of 2-6 effects (40 clusters), a moderator `x`, a dummy `d` of the
    /// first cluster (leverage 1 there: CR2 drops an eigenvalue) and two outcomes.
    fn data(seed: u64) -> Studies {
        let mut s = seed;
        let mut u = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut y, mut v, mut x, mut d, mut cl, mut out) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for j in 0..40 {
            let n = 2 + (u() * 5.0) as usize;
            let uj = 0.2 * (u() - 0.5);
            for i in 0..n {
                let xi = u();
                y.push(0.3 + 0.2 * xi + uj + 0.4 * (u() - 0.5));
                v.push(0.01 + 0.05 * u());
                x.push(xi);
                d.push(f64::from(u8::from(j == 0)));
                cl.push(format!("c{j:02}"));
                out.push(if i % 2 == 0 { "a" } else { "b" });
            }
        }
        Studies::from_variances(y, v)
            .and_then(|s| s.with_moderator("x", x))
            .and_then(|s| s.with_moderator("d", d))
            .and_then(|s| s.with_clusters(cl))
            .and_then(|s| s.with_attribute("outcome", out))
            .unwrap()
    }

    /// The dense path of `MvFit::robust` (Cholesky factors, the eigen-decomposition applied
    /// to `1 + 2p` vectors) against the generic path on the whole clustered model (`W_j`
    /// formed, the eigenvectors formed), for CHE, three-level and multivariate fits, CR1 and
    /// CR2: the same numbers up to rounding.
    #[test]
    fn dense_path_equals_generic_path() {
        let mut checked = 0;
        let mut worst = 0.0f64;
        for seed in 1..=3 {
            let s = data(seed);
            let specs = [
                MvModel::new().rho(0.6).moderators(["x", "d"]),
                MvModel::new().moderator("x"),
                MvModel::new()
                    .outcome("outcome", Structure::UN)
                    .moderator("x"),
            ];
            for spec in specs {
                let fit = spec.fit(&s).unwrap();
                for kind in [RobustKind::CR1, RobustKind::CR2] {
                    let dense = fit.robust(kind).unwrap();
                    let model = fit.clustered_model(kind);
                    let mut settings = Settings::new(kind, fit.level());
                    settings.btt = Some(fit.btt().to_vec());
                    settings.w_scale = 1.0;
                    let generic =
                        fit::robust(&model, &settings, &EigenFloor::ClubSandwich(1.0)).unwrap();
                    let mut cmp = |a: f64, b: f64| {
                        let e = (a - b).abs() / a.abs().max(b.abs()).max(1e-300);
                        worst = worst.max(e);
                        checked += 1;
                        assert!(e <= 1e-11, "{kind}: {a} vs {b}");
                    };
                    let (a, b) = (dense.coefficients(), generic.coefficients());
                    assert_eq!(a.len(), b.len());
                    for (ca, cb) in a.iter().zip(b) {
                        cmp(ca.se, cb.se);
                        cmp(ca.df.unwrap(), cb.df.unwrap());
                        cmp(ca.p_value, cb.p_value);
                    }
                    let (oa, ob) = (dense.omnibus().unwrap(), generic.omnibus().unwrap());
                    cmp(oa.statistic, ob.statistic);
                    if let (Some(x), Some(y)) = (oa.df_denom, ob.df_denom) {
                        cmp(x, y);
                    }
                }
            }
        }
        assert!(checked >= 3 * 3 * 2 * 6, "compared {checked}");
        println!("dense vs generic sandwich: {checked} numbers, worst relative error {worst:.2e}");
    }
}
