//! Cluster-robust (sandwich) inference for models whose marginal covariance is
//! block-diagonal by cluster: CR1 (metafor's `robust(adjust = TRUE)`), CR2 with
//! Satterthwaite degrees of freedom and HTZ Wald tests (clubSandwich), and robumeta's
//! robust variance estimation ([`Robu`]).
//!
//! Every fitted model that supports robust inference describes itself as a
//! [`ClusteredModel`]: per-cluster blocks of the design, the weights the fit used, the
//! working covariance and the residuals. Nothing here knows which model produced them, so
//! univariate fits given a cluster, meta-regressions and multilevel / multivariate fits all
//! share one implementation. Cost is O(sum over clusters of n_j^3 + n_j p^2 + p^3): no
//! k x k matrix is formed, and no pair of clusters is visited.
//!
//! * `sandwich` — each cluster's share: the CR2 adjustment `A_j` and the p x p
//!   summaries the degrees of freedom need;
//! * `satterthwaite` — the Satterthwaite degrees of freedom and the HTZ test's, from
//!   the p x p summaries (the algebra that avoids clubSandwich's loop over pairs of
//!   clusters);
//! * `wald` — [`WaldTest`]: HTZ, naive F and chi-squared tests of constraints;
//! * `fit` — [`RobustFit`], the result, and its `Display` (`print`);
//! * `univariate` — [`crate::MetaFit::robust`] and [`crate::MetaRegressionFit::robust`];
//! * `robu` — [`Robu`] -> [`RobuFit`], robumeta's correlated and hierarchical effects
//!   models;
//! * R's `format()` of numbers (for the reference packages' print layouts) is in the
//!   crate's private `format` module.
//!
//! # Formula
//!
//! For clusters `j = 1..m` with design rows `X_j`, weights `W_j`, working covariance
//! `Phi_j` (the fit's marginal covariance `M_j`, with `W_j = Phi_j^-1`) and residuals
//! `e_j`, the bread `B = (sum_j X_j' W_j X_j)^-1` and
//!
//! ```text
//! V_CR = B (sum_j X_j' W_j A_j e_j e_j' A_j W_j X_j) B
//! ```
//!
//! with `A_j = I` for CR0, `V_CR1 = m/(m - p) V_CR0` (metafor's `adjust = TRUE`; t tests
//! on `m - p` df), and for CR2 (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018)
//!
//! ```text
//! A_j = R_j' [R_j (I - H_jj) Phi_j R_j']^{-1/2} R_j,   R_j' R_j = Phi_j,
//! H_jj = X_j B X_j' W_j,
//! ```
//!
//! the symmetric inverse square root taken over the eigenvalues above clubSandwich's
//! threshold (a generalized inverse when `I - H_jj` is singular). CR2 is exactly unbiased
//! when the working model is true. Each coefficient's t statistic `b / se` is referred
//! to a t distribution with Satterthwaite's degrees of freedom, and linear constraints
//! `C beta = 0` to the HTZ approximation (Tipton & Pustejovsky 2015); see
//! `satterthwaite` for the algebra that keeps both O(m p^3).
//!
//! # References
//! * Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
//!   regression with multi-stage samples. *Survey Methodology*, 28(2), 169-181.
//! * Hedges, L. V., Tipton, E., & Johnson, M. C. (2010). Robust variance estimation in
//!   meta-regression with dependent effect size estimates. *Research Synthesis Methods*,
//!   1(1), 39-65.
//! * Tipton, E. (2015). Small sample adjustments for robust variance estimation with
//!   meta-regression. *Psychological Methods*, 20(3), 375-393.
//! * Tipton, E., & Pustejovsky, J. E. (2015). Small-sample adjustments for tests of
//!   moderators and model fit using robust variance estimation in meta-regression.
//!   *Journal of Educational and Behavioral Statistics*, 40(6), 604-634.
//! * Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
//!   variance estimation and hypothesis testing in fixed effects models. *Journal of
//!   Business & Economic Statistics*, 36(4), 672-683.
//! * Fisher, Z., & Tipton, E. (2015). robumeta: An R-package for robust variance
//!   estimation in meta-analysis. arXiv:1503.02220.

mod fit;
mod multilevel;
mod print;
mod robu;
mod sandwich;
mod satterthwaite;
#[cfg(test)]
mod tests;
mod univariate;
mod wald;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use nalgebra::{DMatrix, DVector};

use crate::error::{MetaError, Result};

pub use fit::RobustFit;
pub use robu::{Robu, RobuFit, RobuWeights};
pub use wald::{WaldKind, WaldTest};

pub(crate) use sandwich::EigenFloor;

/// One cluster's share of a fitted model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterBlock {
    /// Rows of the data set in this cluster, in data order.
    pub rows: Vec<usize>,
    /// The cluster's rows of the design matrix, `n_j x p`.
    pub x: DMatrix<f64>,
    /// The weight block the estimator used, `n_j x n_j` (for inverse-variance weighting,
    /// `M_j^-1`, the inverse of the cluster's marginal covariance).
    pub w: DMatrix<f64>,
    /// The working model's covariance `Phi_j`, `n_j x n_j` (CR2's target: `M_j` for
    /// inverse-variance weighting).
    pub working: DMatrix<f64>,
    /// Residuals `y_j - X_j beta`.
    pub e: DVector<f64>,
}

/// A fitted model as cluster-robust inference sees it.
// built by the multilevel / multivariate fits (and by the tests from rma.mv fixtures)
#[allow(dead_code)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusteredModel {
    /// Coefficient names, metafor's spelling (`intrcpt`, ...).
    pub names: Vec<String>,
    /// The estimates, length `p`.
    pub beta: DVector<f64>,
    /// `(X' W X)^-1`, `p x p` (the model-based covariance when `W = M^-1`).
    pub bread: DMatrix<f64>,
    /// One block per cluster, in the order of `cluster_names`.
    pub clusters: Vec<ClusterBlock>,
    /// Cluster names (sorted, as [`crate::data::Clusters::names`]).
    pub cluster_names: Vec<String>,
}

/// The cluster-robust variance estimator.
///
/// Parsing (`"CR2".parse()`) is case-insensitive.
///
/// # Examples
/// ```
/// use metan::RobustKind;
/// assert_eq!("cr2".parse::<RobustKind>()?, RobustKind::CR2);
/// assert_eq!(RobustKind::CR1.to_string(), "CR1");
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RobustKind {
    /// metafor's `robust(fit, cluster, adjust = TRUE)`: the sandwich times `m/(m - p)`,
    /// t tests and F tests on `m - p` degrees of freedom (`m` clusters, `p` coefficients).
    CR1,
    /// clubSandwich's bias-reduced linearisation (Bell & McCaffrey 2002) with
    /// Satterthwaite degrees of freedom per coefficient and HTZ Wald tests.
    CR2,
}

impl fmt::Display for RobustKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RobustKind::CR1 => "CR1",
            RobustKind::CR2 => "CR2",
        })
    }
}

impl FromStr for RobustKind {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "CR1" => Ok(RobustKind::CR1),
            "CR2" => Ok(RobustKind::CR2),
            _ => Err(MetaError::UnknownName {
                kind: "robust variance estimator".into(),
                name: s.to_string(),
                expected: "CR1, CR2".into(),
            }),
        }
    }
}

/// How a model asks for robust inference: everything besides the [`ClusteredModel`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    /// The estimator.
    pub kind: RobustKind,
    /// Confidence level in percent.
    pub level: f64,
    /// Coefficients of the omnibus Wald test (1-based, as metafor's `btt`); `None`: all but
    /// the intercept; an empty list: no omnibus test.
    pub btt: Option<Vec<usize>>,
    /// clubSandwich's normalisation of the weights (their mean for `rma.uni` fits, 1 for
    /// `rma.mv` fits). It only moves the absolute thresholds below which clubSandwich
    /// treats an eigenvalue as zero, which this reproduces.
    pub w_scale: f64,
    /// A factor on the bread of CR1 only: metafor's `robust()` multiplies by the fit's
    /// `vb`, which includes the Knapp-Hartung factor `s2w` of knha/adhoc fits.
    pub cr1_bread_scale: f64,
    /// Decimals of the metafor-style print.
    pub digits: usize,
}

impl Settings {
    /// CR1 or CR2 at the given level, metafor's and clubSandwich's defaults otherwise.
    pub fn new(kind: RobustKind, level: f64) -> Self {
        Settings {
            kind,
            level,
            btt: None,
            w_scale: 1.0,
            cr1_bread_scale: 1.0,
            digits: 4,
        }
    }
}

/// What robust inference reads from a fit: a [`ClusteredModel`], or an equivalent whose
/// blocks are built per cluster on demand (univariate fits and robumeta, whose blocks are
/// diagonal: building them all at once would hold `sum_j n_j^2` numbers at the same time).
pub(crate) trait Source: Sync {
    /// Coefficient names.
    fn names(&self) -> &[String];
    /// The estimates.
    fn beta(&self) -> &DVector<f64>;
    /// `(X'WX)^-1`.
    fn bread(&self) -> &DMatrix<f64>;
    /// The number of clusters.
    fn len(&self) -> usize;
    /// The name of cluster `j`.
    fn name(&self, j: usize) -> &str;
    /// The number of effects of cluster `j`.
    fn size(&self, j: usize) -> usize;
    /// Cluster `j`'s block.
    fn block(&self, j: usize) -> Cow<'_, ClusterBlock>;
    /// Checks the shapes of the blocks.
    fn check_shapes(&self) -> Result<()>;
    /// Cluster `j` as views into the data when its blocks are diagonal (`W = diag(w)`,
    /// `Phi = diag(1/w)`): the fast path of the sandwich.
    fn diagonal(&self, _j: usize) -> Option<sandwich::DiagonalView<'_>> {
        None
    }
    /// Writes cluster `j` into `out` and returns `true` when its weights are the inverse
    /// of its working covariance (`W_j = Phi_j^-1`): the dense fast path of the sandwich,
    /// which never forms `W_j`.
    fn dense(&self, _j: usize, _out: &mut sandwich::DenseBlock) -> bool {
        false
    }
}

impl Source for ClusteredModel {
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
        self.clusters.len()
    }
    fn name(&self, j: usize) -> &str {
        &self.cluster_names[j]
    }
    fn size(&self, j: usize) -> usize {
        self.clusters[j].rows.len()
    }
    fn block(&self, j: usize) -> Cow<'_, ClusterBlock> {
        Cow::Borrowed(&self.clusters[j])
    }
    fn check_shapes(&self) -> Result<()> {
        ClusteredModel::check_shapes(self)
    }
}

/// A model with diagonal blocks: design `x` (k x p, all rows), weights `w_i`, working
/// variances `1/w_i` and residuals `e_i`, clustered by `clusters`.
pub(crate) struct DiagonalSource<'a> {
    pub names: Vec<String>,
    pub beta: DVector<f64>,
    pub bread: DMatrix<f64>,
    pub x: &'a DMatrix<f64>,
    pub w: Vec<f64>,
    pub e: Vec<f64>,
    pub clusters: &'a crate::data::Clusters,
}

impl Source for DiagonalSource<'_> {
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
        self.clusters.len()
    }
    fn name(&self, j: usize) -> &str {
        self.clusters.name(j)
    }
    fn size(&self, j: usize) -> usize {
        self.clusters.members(j).len()
    }
    fn block(&self, j: usize) -> Cow<'_, ClusterBlock> {
        let rows = self.clusters.members(j).to_vec();
        let n = rows.len();
        let p = self.x.ncols();
        let w = &self.w;
        Cow::Owned(ClusterBlock {
            x: DMatrix::from_fn(n, p, |r, c| self.x[(rows[r], c)]),
            w: DMatrix::from_fn(n, n, |r, c| if r == c { w[rows[r]] } else { 0.0 }),
            working: DMatrix::from_fn(n, n, |r, c| if r == c { 1.0 / w[rows[r]] } else { 0.0 }),
            e: DVector::from_iterator(n, rows.iter().map(|&i| self.e[i])),
            rows,
        })
    }
    fn check_shapes(&self) -> Result<()> {
        Ok(())
    }
    fn diagonal(&self, j: usize) -> Option<sandwich::DiagonalView<'_>> {
        Some(sandwich::DiagonalView {
            rows: self.clusters.members(j),
            x: self.x,
            w: &self.w,
            e: &self.e,
        })
    }
}

#[allow(dead_code)] // used by the multilevel fits
impl ClusteredModel {
    /// The number of coefficients.
    pub fn p(&self) -> usize {
        self.beta.len()
    }

    /// Cluster-robust inference for this model: the entry point every fit uses.
    ///
    /// # Errors
    /// [`MetaError::TooFewClusters`] for fewer than `p + 1` clusters;
    /// [`MetaError::InvalidCluster`] naming a cluster whose working covariance is not
    /// positive definite; [`MetaError::InvalidOption`] for a level outside (0, 100) or a
    /// bad `btt`; [`MetaError::Numerical`] for blocks of inconsistent sizes or a result
    /// that is not finite.
    pub(crate) fn robust(&self, settings: &Settings) -> Result<RobustFit> {
        fit::robust(self, settings, &EigenFloor::ClubSandwich(settings.w_scale))
    }

    /// Checks the shapes of the blocks against `p`.
    pub(crate) fn check_shapes(&self) -> Result<()> {
        let p = self.p();
        let bad = |what: String| {
            Err(MetaError::Numerical {
                context: format!("clustered model: {what}"),
            })
        };
        if self.names.len() != p || self.bread.nrows() != p || self.bread.ncols() != p {
            return bad(format!(
                "{} names and a {}x{} bread for {p} coefficients",
                self.names.len(),
                self.bread.nrows(),
                self.bread.ncols()
            ));
        }
        if self.cluster_names.len() != self.clusters.len() {
            return bad(format!(
                "{} cluster names for {} clusters",
                self.cluster_names.len(),
                self.clusters.len()
            ));
        }
        for (b, name) in self.clusters.iter().zip(&self.cluster_names) {
            let n = b.rows.len();
            if n == 0
                || b.x.nrows() != n
                || b.x.ncols() != p
                || b.w.shape() != (n, n)
                || b.working.shape() != (n, n)
                || b.e.len() != n
            {
                return bad(format!(
                    "the blocks of cluster `{name}` do not match its {n} rows"
                ));
            }
        }
        Ok(())
    }
}
