//! Cluster-robust (sandwich) inference for models whose marginal covariance is
//! block-diagonal by cluster: CR1 (metafor's `robust(adjust = TRUE)`), CR2 with
//! Satterthwaite degrees of freedom and HTZ Wald tests (clubSandwich).
//!
//! Every fitted model that supports robust inference describes itself as a
//! [`ClusteredModel`]: per-cluster blocks of the design, the weights the fit used, the
//! working covariance and the residuals. Nothing here knows which model produced them, so
//! univariate fits given a cluster, meta-regressions and multilevel / multivariate fits all
//! share one implementation. Cost is O(sum over clusters of n_j^3 + n_j p^2): no k x k
//! matrix is formed.

#![allow(dead_code)] // filled in by the robust-inference work (issue 14)

use nalgebra::{DMatrix, DVector};

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
