//! The variance-component parameters `theta` the optimiser works on, and their map to the
//! linear covariance parameters `psi` the likelihood engine works with.
//!
//! Every random part of this module's models is `Z_j G_j Z_j'` with `G_j` linear in
//! `psi`: for the multilevel model `psi = (sigma2_1, sigma2_2)`; for the multivariate
//! model `psi = (t_1, ..., t_m, c_21, c_31, ..., c_m(m-1))`, the variances and covariances
//! of the outcome-level random effects (covariances in the order of R's
//! `G[lower.tri(G)]`). The structures map their parameters to `psi`:
//!
//! * CS: `theta = (s, rho)`, `t_a = s^2`, `c_ab = rho s^2`;
//! * HCS: `theta = (s_1..s_m, rho)`, `t_a = s_a^2`, `c_ab = rho s_a s_b`;
//! * UN: `theta = (s_1..s_m, rho_ab...)`, `t_a = s_a^2`, `c_ab = rho_ab s_a s_b`
//!   (correlations of pairs of levels that never occur together in a cluster are fixed at
//!   0, as metafor does).
//!
//! The multivariate structures work on standard deviations `s_a >= 0`: `psi` is then a
//! polynomial in `theta`, smooth also where a variance reaches 0 (with variances,
//! `sqrt(t_a t_b)` has an infinite derivative there and the optimiser could stall).

use std::fmt;
use std::str::FromStr;

use crate::error::MetaError;

/// The variance structure of the outcome-level random effects of a multivariate model
/// (metafor's `struct` for `random = ~ outcome | cluster`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Structure {
    /// Compound symmetry: one variance `tau^2` for every outcome and one correlation `rho`.
    CS,
    /// Heteroscedastic compound symmetry: a variance per outcome and one correlation.
    HCS,
    /// Unstructured: a variance per outcome and a correlation per pair of outcomes.
    UN,
}

impl Structure {
    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Structure::CS => "CS",
            Structure::HCS => "HCS",
            Structure::UN => "UN",
        }
    }
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Structure {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Structure::CS, Structure::HCS, Structure::UN]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "structure".into(),
                name: s.to_string(),
                expected: "CS, HCS, UN".into(),
            })
    }
}

/// What a `theta` coordinate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A variance, in `[0, inf)`.
    Variance,
    /// A standard deviation, in `[0, inf)` (reported squared).
    Sd,
    /// A correlation, in `[-1, 1]`.
    Correlation,
}

/// The parametrisation of a model's random part.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// `theta = psi = (sigma2_1, sigma2_2)`.
    Multilevel,
    /// Outcome-level random effects with `m` levels.
    Multivariate {
        structure: Structure,
        m: usize,
        /// For UN: whether each pair's correlation is estimated (pairs in `psi` order).
        rho_free: Vec<bool>,
    },
}

/// The pairs `(a, b)`, `a > b`, in the order of R's `G[lower.tri(G)]` (column-major).
pub(crate) fn lower_pairs(m: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for b in 0..m {
        for a in b + 1..m {
            out.push((a, b));
        }
    }
    out
}

/// The derivatives of `psi` with respect to `theta`.
pub(crate) struct Jacobian {
    /// `d psi_q / d theta_i`, row-major `Q x T`.
    pub j: Vec<f64>,
    /// Non-zero second derivatives `d^2 psi_q / d theta_i d theta_l` as `(q, i, l, value)`,
    /// each unordered pair `(i, l)` listed once with `i <= l`.
    pub second: Vec<(usize, usize, usize, f64)>,
}

impl Param {
    /// The number of linear covariance parameters `psi`.
    pub(crate) fn npsi(&self) -> usize {
        match self {
            Param::Multilevel => 2,
            Param::Multivariate { m, .. } => m + m * (m - 1) / 2,
        }
    }

    /// The number of parameters `theta`.
    pub(crate) fn ntheta(&self) -> usize {
        match self {
            Param::Multilevel => 2,
            Param::Multivariate {
                structure,
                m,
                rho_free,
            } => match structure {
                Structure::CS => 2,
                Structure::HCS => m + 1,
                Structure::UN => m + rho_free.iter().filter(|&&f| f).count(),
            },
        }
    }

    pub(crate) fn kind(&self, i: usize) -> Kind {
        match self {
            Param::Multilevel => Kind::Variance,
            Param::Multivariate { structure, m, .. } => {
                let nvar = if *structure == Structure::CS { 1 } else { *m };
                if i < nvar {
                    Kind::Sd
                } else {
                    Kind::Correlation
                }
            }
        }
    }

    /// Full correlation vector (one per pair, fixed ones 0) from `theta`.
    pub(crate) fn rhos(&self, theta: &[f64]) -> Vec<f64> {
        match self {
            Param::Multilevel => Vec::new(),
            Param::Multivariate {
                structure,
                m,
                rho_free,
            } => {
                let np = m * (m - 1) / 2;
                match structure {
                    Structure::CS => vec![theta[1]; np.max(1)],
                    Structure::HCS => vec![theta[*m]; np.max(1)],
                    Structure::UN => {
                        let mut it = theta[*m..].iter();
                        rho_free
                            .iter()
                            .map(|&f| if f { *it.next().unwrap_or(&0.0) } else { 0.0 })
                            .collect()
                    }
                }
            }
        }
    }

    /// Per-level variances from `theta` (multivariate), or the sigma2 (multilevel).
    pub(crate) fn variances(&self, theta: &[f64]) -> Vec<f64> {
        match self {
            Param::Multilevel => theta.to_vec(),
            Param::Multivariate { structure, m, .. } => match structure {
                Structure::CS => vec![theta[0] * theta[0]],
                Structure::HCS | Structure::UN => theta[..*m].iter().map(|s| s * s).collect(),
            },
        }
    }

    /// `theta` from the reported components (variances, then correlations).
    #[allow(clippy::wrong_self_convention)] // converts values into this parametrisation
    pub(crate) fn from_public(&self, values: &[f64]) -> Vec<f64> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| match self.kind(i) {
                Kind::Sd => v.max(0.0).sqrt(),
                Kind::Variance | Kind::Correlation => v,
            })
            .collect()
    }

    /// The reported components (variances, then correlations) from `theta`.
    pub(crate) fn to_public(&self, theta: &[f64]) -> Vec<f64> {
        theta
            .iter()
            .enumerate()
            .map(|(i, &v)| match self.kind(i) {
                Kind::Sd => v * v,
                Kind::Variance | Kind::Correlation => v,
            })
            .collect()
    }

    /// `psi(theta)`.
    pub(crate) fn psi(&self, theta: &[f64]) -> Vec<f64> {
        match self {
            Param::Multilevel => theta.to_vec(),
            Param::Multivariate { structure, m, .. } => {
                let m = *m;
                let rho = self.rhos(theta);
                let sd: Vec<f64> = match structure {
                    Structure::CS => vec![theta[0]; m],
                    _ => theta[..m].to_vec(),
                };
                let mut psi: Vec<f64> = sd.iter().map(|s| s * s).collect();
                for (pi, &(a, b)) in lower_pairs(m).iter().enumerate() {
                    psi.push(rho[pi] * sd[a] * sd[b]);
                }
                psi
            }
        }
    }

    /// The local covariance matrix `G` (`m x m`, row-major) of the outcome-level random
    /// effects (multivariate only).
    pub(crate) fn g_matrix(&self, theta: &[f64]) -> Vec<f64> {
        match self {
            Param::Multilevel => Vec::new(),
            Param::Multivariate { m, .. } => {
                let m = *m;
                let psi = self.psi(theta);
                let mut g = vec![0.0; m * m];
                for a in 0..m {
                    g[a * m + a] = psi[a];
                }
                for (pi, &(a, b)) in lower_pairs(m).iter().enumerate() {
                    g[a * m + b] = psi[m + pi];
                    g[b * m + a] = psi[m + pi];
                }
                g
            }
        }
    }

    /// `d psi / d theta` and the second derivatives.
    pub(crate) fn jacobian(&self, theta: &[f64]) -> Jacobian {
        let q = self.npsi();
        let nt = self.ntheta();
        let mut j = vec![0.0; q * nt];
        let mut second = Vec::new();
        match self {
            Param::Multilevel => {
                j[0] = 1.0;
                j[nt + 1] = 1.0;
            }
            Param::Multivariate {
                structure,
                m,
                rho_free,
            } => {
                let m = *m;
                let pairs = lower_pairs(m);
                match structure {
                    Structure::CS => {
                        // t_a = s^2, c_ab = rho s^2
                        let (sd, rho) = (theta[0], theta[1]);
                        for a in 0..m {
                            j[a * nt] = 2.0 * sd;
                            second.push((a, 0, 0, 2.0));
                        }
                        for pi in 0..pairs.len() {
                            let qq = m + pi;
                            j[qq * nt] = 2.0 * rho * sd;
                            j[qq * nt + 1] = sd * sd;
                            second.push((qq, 0, 0, 2.0 * rho));
                            second.push((qq, 0, 1, 2.0 * sd));
                        }
                    }
                    Structure::HCS | Structure::UN => {
                        // t_a = s_a^2, c_ab = rho s_a s_b
                        for a in 0..m {
                            j[a * nt + a] = 2.0 * theta[a];
                            second.push((a, a, a, 2.0));
                        }
                        // index of each pair's rho in theta (None: fixed at 0)
                        let mut next = m;
                        let rho_index: Vec<Option<usize>> = (0..pairs.len())
                            .map(|pi| match structure {
                                Structure::HCS => Some(m),
                                _ => {
                                    if rho_free[pi] {
                                        next += 1;
                                        Some(next - 1)
                                    } else {
                                        None
                                    }
                                }
                            })
                            .collect();
                        for (pi, &(a, b)) in pairs.iter().enumerate() {
                            let Some(ri) = rho_index[pi] else { continue };
                            let qq = m + pi;
                            let (sa, sb, rho) = (theta[a], theta[b], theta[ri]);
                            j[qq * nt + ri] += sa * sb;
                            j[qq * nt + a] += rho * sb;
                            j[qq * nt + b] += rho * sa;
                            second.push((qq, a.min(ri), a.max(ri), sb));
                            second.push((qq, b.min(ri), b.max(ri), sa));
                            second.push((qq, a.min(b), a.max(b), rho));
                        }
                    }
                }
            }
        }
        Jacobian { j, second }
    }

    /// Whether `theta` gives a positive semi-definite `G` (multivariate UN with three or
    /// more levels; the bounds already guarantee it otherwise).
    pub(crate) fn feasible(&self, theta: &[f64]) -> bool {
        match self {
            Param::Multivariate {
                structure: Structure::UN,
                m,
                ..
            } if *m >= 3 => {
                let g = nalgebra::DMatrix::from_row_slice(*m, *m, &self.g_matrix(theta));
                let scale = (0..*m).map(|a| g[(a, a)]).fold(0.0, f64::max);
                let ev = g.symmetric_eigenvalues();
                ev.iter()
                    .all(|&e| e >= -1e-12 * scale.max(f64::MIN_POSITIVE))
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The analytic Jacobian and second derivatives against central differences.
    #[test]
    fn derivatives_match_finite_differences() {
        let cases = [
            (
                Param::Multivariate {
                    structure: Structure::UN,
                    m: 3,
                    rho_free: vec![true, false, true],
                },
                vec![0.3, 0.2, 0.5, 0.4, -0.3],
            ),
            (
                Param::Multivariate {
                    structure: Structure::UN,
                    m: 2,
                    rho_free: vec![true],
                },
                vec![0.0, 0.2, -0.7],
            ),
            (
                Param::Multivariate {
                    structure: Structure::HCS,
                    m: 3,
                    rho_free: vec![true; 3],
                },
                vec![0.3, 0.2, 0.5, 0.4],
            ),
            (
                Param::Multivariate {
                    structure: Structure::CS,
                    m: 2,
                    rho_free: vec![true],
                },
                vec![0.3, 0.6],
            ),
        ];
        for (param, theta) in cases {
            let jac = param.jacobian(&theta);
            let nt = param.ntheta();
            let q = param.npsi();
            let h = 1e-6;
            for i in 0..nt {
                let mut tp = theta.clone();
                let mut tm = theta.clone();
                tp[i] += h;
                tm[i] -= h;
                let (pp, pm) = (param.psi(&tp), param.psi(&tm));
                for qq in 0..q {
                    let fd = (pp[qq] - pm[qq]) / (2.0 * h);
                    assert!(
                        (fd - jac.j[qq * nt + i]).abs() < 1e-8,
                        "{param:?} q{qq} i{i}"
                    );
                }
                for l in i..nt {
                    let mut tpp = theta.clone();
                    tpp[l] += h;
                    let mut tmp = theta.clone();
                    tmp[l] -= h;
                    let dp = param.jacobian(&tpp);
                    let dm = param.jacobian(&tmp);
                    for qq in 0..q {
                        let fd = (dp.j[qq * nt + i] - dm.j[qq * nt + i]) / (2.0 * h);
                        let an: f64 = jac
                            .second
                            .iter()
                            .filter(|(a, b, c, _)| *a == qq && *b == i && *c == l)
                            .map(|t| t.3)
                            .sum();
                        assert!(
                            (fd - an).abs() < 1e-6,
                            "{param:?} q{qq} ({i},{l}) {fd} {an}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lower_pairs_in_r_order() {
        assert_eq!(lower_pairs(3), [(1, 0), (2, 0), (2, 1)]);
        assert_eq!("un".parse::<Structure>().unwrap(), Structure::UN);
        assert!("AR".parse::<Structure>().is_err());
    }
}
