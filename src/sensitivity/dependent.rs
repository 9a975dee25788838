//! Sensitivity analyses for dependent effects ([`MvModel`] fits): leave one cluster out
//! with the cluster-level Cook's distance, and a sweep over the assumed sampling
//! correlation `rho`.
//!
//! Every refit is independent, so they run in parallel (rayon, with the default `parallel`
//! feature); results are returned in a fixed order (clusters sorted by name, `rho` as
//! given), whatever the number of threads.

use crate::data::{Studies, Vcalc};
use crate::error::{MetaError, Result};
use crate::model::{MvFit, MvModel};

/// A model refitted without one cluster.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ClusterRefit {
    /// The cluster left out.
    pub cluster: String,
    /// Its number of effects.
    pub k_removed: usize,
    /// The refitted coefficients (`None` when the model cannot be fitted without the
    /// cluster, e.g. a moderator level that only it had).
    pub beta: Option<Vec<f64>>,
    /// Their standard errors.
    pub se: Option<Vec<f64>>,
    /// The refitted variance components: `sigma2` (three-level) or `tau2` then `rho`
    /// (multivariate).
    pub components: Option<Vec<f64>>,
    /// The refit's log-likelihood (of the fitting method).
    pub loglik: Option<f64>,
    /// Cook's distance of the cluster (metafor's `cooks.distance(fit, cluster = ...)`).
    pub cooks_distance: Option<f64>,
    /// Whether the refit converged.
    pub converged: Option<bool>,
    /// Why the refit failed, if it did.
    pub error: Option<String>,
}

/// Leave-one-cluster-out refits of a model with the cluster-level Cook's distances.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ClusterInfluence {
    rows: Vec<ClusterRefit>,
}

impl ClusterInfluence {
    /// One row per cluster, in the order of [`crate::data::Clusters::names`].
    pub fn rows(&self) -> &[ClusterRefit] {
        &self.rows
    }
}

/// The variance components of a fit in one vector (`sigma2`, or `tau2` then `rho`).
fn components(fit: &MvFit) -> Vec<f64> {
    let mut v = fit.sigma2().to_vec();
    v.extend_from_slice(fit.tau2());
    v.extend_from_slice(fit.rho());
    v
}

fn run<T: Send, F: Fn(usize) -> T + Sync + Send>(n: usize, f: F) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

/// Refits `model` without each cluster in turn and computes each cluster's Cook's
/// distance.
///
/// # Formula
/// `D_j = (b - b_(-j))' Var(b)^-1 (b - b_(-j))` over all coefficients, `b_(-j)` the
/// estimates without cluster `j` (variance components re-estimated, starting from the full
/// fit's values as metafor's `cooks.distance.rma.mv` does) and `Var(b)` that of the full
/// fit.
///
/// # Errors
/// Those of [`MvModel::fit`] for the full data; a refit that fails is reported in its row.
///
/// # Examples
/// ```
/// use metan::{MvModel, Studies};
/// use metan::sensitivity::leave_one_cluster_out;
/// let s = Studies::from_variances(
///     vec![0.9, 0.4, 0.3, 0.1, -0.2, 0.5, 0.6, 0.2, 0.0, 0.3, 0.8, 0.1],
///     vec![0.07, 0.04, 0.05, 0.03, 0.06, 0.05, 0.04, 0.05, 0.03, 0.04, 0.05, 0.06],
/// )?
/// .with_clusters(["a", "a", "a", "b", "b", "c", "c", "c", "d", "d", "e", "e"])?;
/// let inf = leave_one_cluster_out(&MvModel::new().rho(0.6), &s)?;
/// assert_eq!(inf.rows().len(), 5);
/// assert!(inf.rows().iter().all(|r| r.cooks_distance.is_some_and(|d| d >= 0.0)));
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Viechtbauer, W., & Cheung, M. W.-L. (2010). Outlier and influence diagnostics for
/// meta-analysis. *Research Synthesis Methods*, 1, 112-125.
pub fn leave_one_cluster_out(model: &MvModel, studies: &Studies) -> Result<ClusterInfluence> {
    let full = model.fit(studies)?;
    let Some(cl) = studies.clusters() else {
        return Err(MetaError::invalid_option(
            "cluster",
            "none",
            "leave-one-cluster-out needs clusters (Studies::with_clusters)",
        ));
    };
    let b = full.beta();
    let p = b.len();
    let vb: Vec<f64> = full.vcov().iter().flatten().copied().collect();
    let vinv = crate::numeric::dense::spd_inverse(&vb, p);
    let warm = model.clone().init(full.theta().to_vec());
    let rows = run(cl.len(), |c| {
        let members = cl.members(c);
        let base = ClusterRefit {
            cluster: cl.name(c).to_string(),
            k_removed: members.len(),
            beta: None,
            se: None,
            components: None,
            loglik: None,
            cooks_distance: None,
            converged: None,
            error: None,
        };
        let refit = studies.filter(|i| cl.of(i) != c).and_then(|s| warm.fit(&s));
        match refit {
            Err(e) => ClusterRefit {
                error: Some(e.to_string()),
                ..base
            },
            Ok(f) => {
                let bj = f.beta();
                let cooks = (bj.len() == p).then(|| {
                    vinv.as_ref().map(|vi| {
                        let d: Vec<f64> = b.iter().zip(&bj).map(|(x, y)| x - y).collect();
                        let mut s = 0.0;
                        for a in 0..p {
                            for bb in 0..p {
                                s += d[a] * vi[a * p + bb] * d[bb];
                            }
                        }
                        s
                    })
                });
                ClusterRefit {
                    se: Some(f.coefficients().iter().map(|c| c.se).collect()),
                    components: Some(components(&f)),
                    loglik: Some(f.loglik()),
                    cooks_distance: cooks.flatten(),
                    converged: Some(f.converged()),
                    beta: Some(bj),
                    ..base
                }
            }
        }
    });
    Ok(ClusterInfluence { rows })
}

/// One fit of a [`rho_sweep`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RhoRow {
    /// The assumed sampling correlation.
    pub rho: f64,
    /// The fit (`None` if it failed, e.g. a block not positive definite at this rho).
    pub fit: Option<MvFit>,
    /// Why the fit failed, if it did.
    pub error: Option<String>,
}

/// The same model at several assumed sampling correlations.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RhoSweep {
    rows: Vec<RhoRow>,
}

impl RhoSweep {
    /// One row per `rho`, in the order given.
    pub fn rows(&self) -> &[RhoRow] {
        &self.rows
    }
}

/// Fits `model` at each sampling correlation `rhos` (default, with `None`: 0, 0.1, ...,
/// 0.9), keeping everything else, including a time lag of the model's [`Vcalc`].
///
/// `rho` is an assumption (primary studies rarely report the correlation of their
/// outcomes), so conclusions should be checked across plausible values (Pustejovsky &
/// Tipton 2022).
///
/// # Errors
/// [`MetaError::InvalidOption`] for a `rho` outside `[-1, 1]` or studies that carry
/// explicit covariance blocks (there is no `rho` to vary); a fit that fails at one `rho`
/// is reported in its row.
///
/// # Examples
/// ```
/// use metan::{MvModel, Studies};
/// use metan::sensitivity::rho_sweep;
/// let s = Studies::from_variances(
///     vec![0.9, 0.4, 0.3, 0.1, -0.2, 0.5, 0.6, 0.2, 0.0, 0.3],
///     vec![0.07, 0.04, 0.05, 0.03, 0.06, 0.05, 0.04, 0.05, 0.03, 0.04],
/// )?
/// .with_clusters(["a", "a", "a", "b", "b", "c", "c", "c", "d", "d"])?;
/// let sweep = rho_sweep(&MvModel::new(), &s, None)?;
/// assert_eq!(sweep.rows().len(), 10);
/// assert!(sweep.rows().iter().all(|r| r.fit.is_some()));
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn rho_sweep(model: &MvModel, studies: &Studies, rhos: Option<&[f64]>) -> Result<RhoSweep> {
    let default: Vec<f64> = (0..10).map(|i| f64::from(i) / 10.0).collect();
    let rhos = rhos.unwrap_or(&default);
    if let Some(&bad) = rhos
        .iter()
        .find(|r| !(r.is_finite() && (-1.0..=1.0).contains(*r)))
    {
        return Err(MetaError::invalid_option(
            "rho",
            bad,
            "a correlation must lie in [-1, 1]",
        ));
    }
    if studies.covariance_blocks().is_some() {
        return Err(MetaError::invalid_option(
            "rho",
            "sweep",
            "the studies carry explicit covariance blocks, so there is no rho to vary",
        ));
    }
    let rows = run(rhos.len(), |i| {
        let rho = rhos[i];
        let vc = match model.spec_vcalc() {
            Some(v) => v.with_rho(rho),
            None => Vcalc::new(rho),
        };
        match model.clone().vcalc(vc).fit(studies) {
            Ok(f) => RhoRow {
                rho,
                fit: Some(f),
                error: None,
            },
            Err(e) => RhoRow {
                rho,
                fit: None,
                error: Some(e.to_string()),
            },
        }
    });
    Ok(RhoSweep { rows })
}
