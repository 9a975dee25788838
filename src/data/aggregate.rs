//! [`Aggregate`]: one effect per cluster (metafor's `aggregate.escalc`), so that any
//! univariate analysis can run on dependent effects.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::studies::Studies;
use crate::error::{MetaError, Result};

/// How the sampling errors of a cluster's effects are assumed to covary.
#[derive(Debug, Clone, PartialEq)]
enum Structure {
    /// metafor's `struct = "CS"`: correlation `rho` between every two effects of a cluster.
    CompoundSymmetry(f64),
    /// metafor's `struct = "ID"`: independent.
    Independent,
    /// A given covariance block per cluster (metafor's `V`).
    Given(Vec<Vec<Vec<f64>>>),
}

/// Aggregation of the effects of each cluster into one (metafor 3.8-1's
/// `aggregate(escalc, cluster, rho)`).
///
/// The result is a [`Studies`] with one row per cluster, in the order in which the
/// clusters first appear (as metafor), labelled by the cluster name: the inverse-variance
/// weighted mean of the cluster's effects under the assumed covariance `V_j` and its
/// variance; numeric moderators are averaged and string attributes replaced by their most
/// frequent value within the cluster (ties: the last in sorted order; empty values are
/// ignored), as metafor's defaults.
///
/// # Formula
/// `V_j = S_j R_j S_j` with `S_j = diag(sqrt(v_ij))` and `R_j` having `rho` off the
/// diagonal (compound symmetry; `R_j = I` for independence). Weighted (default):
/// `y_j = 1'V_j^-1 y / 1'V_j^-1 1`, `v_j = 1/(1'V_j^-1 1)`; unweighted:
/// `y_j = mean(y)`, `v_j = 1'V_j 1 / n_j^2`.
///
/// A cluster of one effect keeps its effect and variance (`rho` plays no part), as in
/// metafor.
///
/// # Examples
/// ```
/// use metan::data::Aggregate;
/// use metan::Studies;
/// let s = Studies::from_variances(vec![0.2, 0.4, 0.1], vec![0.04, 0.04, 0.02])?
///     .with_clusters(["a", "a", "b"])?;
/// let agg = Aggregate::compound_symmetry(0.5).apply(&s)?;
/// assert_eq!(agg.k(), 2);
/// assert_eq!(agg.labels(), ["a", "b"]);
/// // two effects with equal variances: the mean, with variance v (1 + rho) / 2
/// assert!((agg.yi()[0] - 0.3).abs() < 1e-15);
/// assert!((agg.vi()[0] - 0.04 * 1.5 / 2.0).abs() < 1e-15);
/// assert_eq!(agg.vi()[1], 0.02);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    structure: Structure,
    weighted: bool,
}

impl Aggregate {
    /// Compound symmetry: sampling errors within a cluster correlated `rho`
    /// (metafor's default `struct = "CS"`).
    pub fn compound_symmetry(rho: f64) -> Self {
        Aggregate {
            structure: Structure::CompoundSymmetry(rho),
            weighted: true,
        }
    }

    /// Independent sampling errors (`struct = "ID"`).
    pub fn independent() -> Self {
        Aggregate {
            structure: Structure::Independent,
            weighted: true,
        }
    }

    /// Given covariance blocks: one `n_j x n_j` matrix (rows) per cluster, in the order of
    /// [`crate::data::Clusters::names`] (sorted), rows and columns in the order of
    /// [`crate::data::Clusters::members`] (data order).
    pub fn covariance(blocks: Vec<Vec<Vec<f64>>>) -> Self {
        Aggregate {
            structure: Structure::Given(blocks),
            weighted: true,
        }
    }

    /// Inverse-variance weighted means (default true); false: plain means with the
    /// variance of the mean (metafor's `weighted = FALSE`).
    pub fn weighted(mut self, yes: bool) -> Self {
        self.weighted = yes;
        self
    }

    /// Aggregates `studies` by their clusters.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] without clusters, for `rho` outside [-1, 1], or for
    /// given blocks of the wrong number or shape; [`MetaError::InvalidCluster`] naming the
    /// cluster whose covariance block is not positive definite (metafor: "Cannot
    /// aggregate estimates with a non-positive-definite 'V' matrix"), e.g. a negative
    /// `rho` below `-1/(n_j - 1)`.
    pub fn apply(&self, studies: &Studies) -> Result<Studies> {
        let cl = studies.clusters().ok_or_else(|| {
            MetaError::invalid_option(
                "cluster",
                "none",
                "aggregation needs the studies' clusters (Studies::with_clusters)",
            )
        })?;
        if let Structure::CompoundSymmetry(rho) = self.structure {
            if !(-1.0..=1.0).contains(&rho) {
                return Err(MetaError::invalid_option(
                    "rho",
                    rho,
                    "a correlation must be in [-1, 1]",
                ));
            }
        }
        if let Structure::Given(b) = &self.structure {
            if b.len() != cl.len() {
                return Err(MetaError::invalid_option(
                    "covariance",
                    format!("{} blocks", b.len()),
                    format!("one block per cluster ({})", cl.len()),
                ));
            }
        }
        let y = studies.yi();
        let v = studies.vi();
        // clusters in order of first appearance
        let mut order: Vec<usize> = Vec::with_capacity(cl.len());
        let mut seen = vec![false; cl.len()];
        for i in 0..studies.k() {
            let c = cl.of(i);
            if !seen[c] {
                seen[c] = true;
                order.push(c);
            }
        }
        let mut yi = Vec::with_capacity(order.len());
        let mut vi = Vec::with_capacity(order.len());
        for &c in &order {
            let rows = cl.members(c);
            let n = rows.len();
            let name = cl.name(c);
            let vj = match &self.structure {
                Structure::CompoundSymmetry(rho) => DMatrix::from_fn(n, n, |a, b| {
                    let s = (v[rows[a]] * v[rows[b]]).sqrt();
                    if a == b { v[rows[a]] } else { rho * s }
                }),
                Structure::Independent => {
                    DMatrix::from_fn(n, n, |a, b| if a == b { v[rows[a]] } else { 0.0 })
                }
                Structure::Given(blocks) => {
                    let b = &blocks[c];
                    if b.len() != n || b.iter().any(|r| r.len() != n) {
                        return Err(MetaError::invalid_option(
                            "covariance",
                            format!("block of cluster `{name}`"),
                            format!("must be {n} x {n} (the cluster's effects)"),
                        ));
                    }
                    let m = DMatrix::from_fn(n, n, |a, bb| b[a][bb]);
                    if !(0..n).all(|a| (0..n).all(|bb| m[(a, bb)] == m[(bb, a)])) {
                        return Err(MetaError::InvalidCluster {
                            cluster: name.to_string(),
                            reason: "the covariance block is not symmetric".into(),
                        });
                    }
                    m
                }
            };
            let not_pd = || MetaError::InvalidCluster {
                cluster: name.to_string(),
                reason: "the sampling covariance block is not positive definite; cannot \
                         aggregate (check rho)"
                    .into(),
            };
            // metafor's checkpd: every eigenvalue > machine epsilon
            if n > 1 {
                let ev = SymmetricEigen::new(vj.clone()).eigenvalues;
                if !ev.iter().all(|&l| l > f64::EPSILON) {
                    return Err(not_pd());
                }
            }
            let yv = DVector::from_iterator(n, rows.iter().map(|&i| y[i]));
            if self.weighted {
                let ch = vj.cholesky().ok_or_else(not_pd)?;
                let u = ch.solve(&DVector::from_element(n, 1.0));
                let sw: f64 = u.sum();
                yi.push(u.dot(&yv) / sw);
                vi.push(1.0 / sw);
            } else {
                let nf = n as f64;
                yi.push(yv.sum() / nf);
                vi.push(vj.sum() / (nf * nf));
            }
        }
        let mut out = Studies::from_variances(yi, vi)?
            .with_labels(order.iter().map(|&c| cl.name(c).to_string()))?;
        if let Some(m) = studies.measure() {
            out = out.with_measure(m);
        }
        for name in studies.moderator_names() {
            let x = studies.moderator(name).unwrap_or_default();
            let means: Vec<f64> = order
                .iter()
                .map(|&c| {
                    let r = cl.members(c);
                    r.iter().map(|&i| x[i]).sum::<f64>() / r.len() as f64
                })
                .collect();
            out = out.with_moderator(name, means)?;
        }
        for name in studies.attribute_names() {
            let x = studies.attribute(name).unwrap_or_default();
            let modes: Vec<String> = order
                .iter()
                .map(|&c| most_frequent(cl.members(c).iter().map(|&i| x[i].as_str())))
                .collect();
            out = out.with_attribute(name, modes)?;
        }
        Ok(out)
    }
}

/// metafor's `tail(names(sort(table(x))), 1)`: the most frequent non-empty value, ties
/// going to the last in sorted order; `""` when every value is empty.
fn most_frequent<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for v in values.filter(|v| !v.trim().is_empty() && v.trim() != "NA") {
        match counts.iter_mut().find(|(k, _)| *k == v) {
            Some(e) => e.1 += 1,
            None => counts.push((v, 1)),
        }
    }
    counts.sort_by(|a, b| a.0.cmp(b.0));
    // stable sort by count: among equal counts the sorted order is kept
    counts.sort_by_key(|e| e.1);
    counts.last().map(|e| e.0.to_string()).unwrap_or_default()
}
