//! Within-cluster sampling covariances: given in full, block by block
//! ([`crate::Studies::with_covariance_blocks`]), or built from the sampling variances and
//! an assumed correlation ([`Vcalc`], metafor's `vcalc`).

use super::Studies;
use crate::error::{MetaError, Result};

/// Validated sampling covariance blocks, one per cluster in the order of
/// [`crate::data::Clusters::names`], each `n_j x n_j` row-major over the cluster's rows in
/// data order.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub(crate) struct CovarianceBlocks {
    /// The blocks, concatenated.
    pub data: Vec<f64>,
    /// `data[start[c]..start[c + 1]]` is the block of cluster `c`.
    pub start: Vec<usize>,
}

/// metafor's `vcalc(vi, cluster, obs, rho)`: the sampling covariance of two effects of the
/// same cluster is `rho_ij sqrt(v_i v_j)`, effects of different clusters are independent.
///
/// # Formula
/// Within a cluster, `r_ij = 1` for `i = j` and for two effects with the same observation
/// id ([`crate::Studies::with_observations`]; by default every row is its own
/// observation), `r_ij = rho` otherwise; with a time lag ([`Vcalc::time_lag`]) `r_ij` is
/// further multiplied by `phi^|t_i - t_j|`. `V_ij = r_ij sqrt(v_i v_j)`.
///
/// This is the working model of the correlated-and-hierarchical-effects (CHE) model of
/// Pustejovsky & Tipton (2022): `rho` is rarely known, so it is an assumption to vary
/// (see [`crate::sensitivity::rho_sweep`]).
///
/// # Examples
/// ```
/// use metan::{Studies, data::Vcalc};
/// let s = Studies::from_variances(vec![0.1, 0.3, 0.2], vec![0.04, 0.09, 0.05])?
///     .with_clusters(["a", "a", "b"])?;
/// let blocks = Vcalc::new(0.5).blocks(&s)?;
/// assert_eq!(blocks.len(), 2);
/// assert!((blocks[0][1] - 0.5 * (0.04f64 * 0.09).sqrt()).abs() < 1e-15);
/// assert_eq!(blocks[1], vec![0.05]);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// * Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance
///   estimation: Expanding the range of working models. *Prevention Science*, 23, 425-438.
/// * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
///   *Journal of Statistical Software*, 36(3), 1-48 (`vcalc` since version 3.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Vcalc {
    rho: f64,
    time: Option<(String, f64)>,
}

/// A [`Vcalc`] checked against a data set: the time values resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VcalcResolved {
    pub rho: f64,
    /// `(time of each row, phi)`.
    pub time: Option<(Vec<f64>, f64)>,
}

impl VcalcResolved {
    /// The correlation of rows `i` and `j` (same cluster), given whether they share an
    /// observation id.
    pub(crate) fn corr(&self, i: usize, j: usize, same_obs: bool) -> f64 {
        if i == j {
            return 1.0;
        }
        let r = if same_obs { 1.0 } else { self.rho };
        match &self.time {
            Some((t, phi)) if t[i] != t[j] => r * phi.powf((t[i] - t[j]).abs()),
            _ => r,
        }
    }
}

impl Vcalc {
    /// A constant within-cluster correlation `rho` (checked in `[-1, 1]` when used).
    pub fn new(rho: f64) -> Self {
        Vcalc { rho, time: None }
    }

    /// Adds metafor's time lag: the correlation is multiplied by `phi^|t_i - t_j|`, `t`
    /// the numeric moderator `column` of the studies (metafor's `time1`, `phi`).
    pub fn time_lag(mut self, column: impl Into<String>, phi: f64) -> Self {
        self.time = Some((column.into(), phi));
        self
    }

    /// The same specification with another correlation.
    pub(crate) fn with_rho(&self, rho: f64) -> Self {
        Vcalc {
            rho,
            time: self.time.clone(),
        }
    }

    /// The correlation.
    pub fn rho(&self) -> f64 {
        self.rho
    }

    /// Checks the options against `studies`.
    pub(crate) fn resolve(&self, studies: &Studies) -> Result<VcalcResolved> {
        if !(self.rho.is_finite() && (-1.0..=1.0).contains(&self.rho)) {
            return Err(MetaError::invalid_option(
                "rho",
                self.rho,
                "a correlation must lie in [-1, 1]",
            ));
        }
        let time = match &self.time {
            None => None,
            Some((col, phi)) => {
                if !(phi.is_finite() && (-1.0..=1.0).contains(phi)) {
                    return Err(MetaError::invalid_option(
                        "phi",
                        phi,
                        "the autocorrelation must lie in [-1, 1]",
                    ));
                }
                let Some(t) = studies.moderator(col) else {
                    return Err(MetaError::UnknownName {
                        kind: "time column".into(),
                        name: col.clone(),
                        expected: studies.moderator_names().collect::<Vec<_>>().join(", "),
                    });
                };
                Some((t.to_vec(), *phi))
            }
        };
        Ok(VcalcResolved {
            rho: self.rho,
            time,
        })
    }

    /// The sampling covariance blocks this correlation implies for `studies` (one per
    /// cluster, in the order of [`crate::data::Clusters::names`], row-major over the
    /// cluster's rows in data order), e.g. to pass to
    /// [`Studies::with_covariance_blocks`]. Positive definiteness is not checked here (it is
    /// when a block is used).
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for `rho` or `phi` outside `[-1, 1]` or studies without
    /// clusters; [`MetaError::UnknownName`] for an unknown time column.
    pub fn blocks(&self, studies: &Studies) -> Result<Vec<Vec<f64>>> {
        let r = self.resolve(studies)?;
        let Some(cl) = studies.clusters() else {
            return Err(no_clusters("vcalc"));
        };
        let v = studies.vi();
        let obs = studies.observations();
        Ok((0..cl.len())
            .map(|c| {
                let m = cl.members(c);
                let mut b = Vec::with_capacity(m.len() * m.len());
                for &i in m {
                    for &j in m {
                        let same = obs.is_some_and(|o| o[i] == o[j]);
                        b.push(r.corr(i, j, same) * (v[i] * v[j]).sqrt());
                    }
                }
                b
            })
            .collect())
    }
}

pub(crate) fn no_clusters(what: &str) -> MetaError {
    MetaError::invalid_option(
        what,
        "no clusters",
        "the studies need a cluster column first (Studies::with_clusters)",
    )
}

/// Validates `blocks` against the clusters and variances of `studies`.
pub(crate) fn validate_blocks(
    studies: &Studies,
    blocks: Vec<Vec<f64>>,
) -> Result<CovarianceBlocks> {
    let Some(cl) = studies.clusters() else {
        return Err(no_clusters("covariance blocks"));
    };
    if blocks.len() != cl.len() {
        return Err(MetaError::LengthMismatch {
            field: "covariance blocks".into(),
            expected: cl.len(),
            found: blocks.len(),
        });
    }
    let v = studies.vi();
    let mut data = Vec::with_capacity(blocks.iter().map(Vec::len).sum());
    let mut start = vec![0];
    for (c, b) in blocks.into_iter().enumerate() {
        let m = cl.members(c);
        let n = m.len();
        let first = m[0];
        let bad = |value: String, reason: String| {
            MetaError::invalid_value(first, studies.label(first), "V", value, reason)
        };
        if b.len() != n * n {
            return Err(bad(
                format!("{} values", b.len()),
                format!(
                    "the block of cluster {:?} must have {n} x {n} = {} values (row-major, rows in data order)",
                    cl.name(c),
                    n * n
                ),
            ));
        }
        for a in 0..n {
            for bcol in 0..n {
                let x = b[a * n + bcol];
                let y = b[bcol * n + a];
                let scale = x.abs().max(y.abs());
                if !x.is_finite() || (x - y).abs() > 1e-10 * scale {
                    return Err(bad(
                        format!("{x}"),
                        format!(
                            "the block of cluster {:?} must be finite and symmetric (entry [{}, {}])",
                            cl.name(c),
                            a + 1,
                            bcol + 1
                        ),
                    ));
                }
            }
            let i = m[a];
            let d = b[a * n + a];
            if (d - v[i]).abs() > 1e-10 * v[i] {
                return Err(MetaError::invalid_value(
                    i,
                    studies.label(i),
                    "V",
                    d,
                    format!(
                        "the diagonal of the covariance block of cluster {:?} must equal the sampling variance vi = {}",
                        cl.name(c),
                        v[i]
                    ),
                ));
            }
        }
        let mut l = b.clone();
        if crate::numeric::dense::cholesky(&mut l, n).is_none() {
            return Err(not_pd(studies, cl.name(c), first));
        }
        data.extend_from_slice(&b);
        start.push(data.len());
    }
    Ok(CovarianceBlocks { data, start })
}

/// The error for a sampling covariance block that is not positive definite: names the
/// cluster and its first row (1-based, with the study label).
pub(crate) fn not_pd(studies: &Studies, cluster: &str, first_row: usize) -> MetaError {
    MetaError::InvalidCluster {
        cluster: cluster.to_string(),
        reason: format!(
            "the sampling covariance block (first row {}, {}) is not positive definite \
             (two effects with the same observation id and rho, or |rho| too large?)",
            first_row + 1,
            studies.label(first_row)
        ),
    }
}

impl CovarianceBlocks {
    /// The blocks of the rows `indices` of the original data, whose new clusters are
    /// `new` (built by `Clusters::subset` from the same indices) and old ones `old`.
    pub(crate) fn subset(
        &self,
        old: &super::Clusters,
        new: &super::Clusters,
        indices: &[usize],
    ) -> Self {
        // position of each original row within its cluster
        let mut pos = vec![0usize; old.rows()];
        for c in 0..old.len() {
            for (a, &i) in old.members(c).iter().enumerate() {
                pos[i] = a;
            }
        }
        let mut data = Vec::new();
        let mut start = vec![0];
        for c in 0..new.len() {
            let rows: Vec<usize> = new.members(c).iter().map(|&r| indices[r]).collect();
            let oc = old.of(rows[0]);
            let n0 = old.members(oc).len();
            let base = self.start[oc];
            for &i in &rows {
                for &j in &rows {
                    data.push(self.data[base + pos[i] * n0 + pos[j]]);
                }
            }
            start.push(data.len());
        }
        CovarianceBlocks { data, start }
    }

    /// The block of cluster `c`.
    pub(crate) fn block(&self, c: usize) -> &[f64] {
        &self.data[self.start[c]..self.start[c + 1]]
    }
}
