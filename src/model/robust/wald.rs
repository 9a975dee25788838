//! [`WaldTest`]: robust Wald tests of linear constraints `C beta = 0`.

use std::fmt;

use nalgebra::{DMatrix, DVector};

use super::sandwich::Piece;
use super::satterthwaite::htz_nu;
use crate::error::{MetaError, Result};
use crate::numeric::dist::{chisq_sf, f_sf};

/// Which reference distribution a robust Wald test uses (clubSandwich's `Wald_test(test = )`
/// names; metafor's CR1 F test is [`WaldKind::NaiveFp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum WaldKind {
    /// Hotelling's T^2 with the degrees of freedom of Tipton & Pustejovsky's (2015)
    /// "HTZ" approximation (CR2 fits only): `F = (nu - q + 1)/(nu q) Q` on `q` and
    /// `nu - q + 1` df.
    #[cfg_attr(feature = "serde", serde(rename = "HTZ"))]
    Htz,
    /// `F = Q/q` on `q` and `m - 1` df (clubSandwich's "Naive-F").
    #[cfg_attr(feature = "serde", serde(rename = "Naive-F"))]
    NaiveF,
    /// `F = Q/q` on `q` and `m - p` df (clubSandwich's "Naive-Fp"; metafor's F test of a
    /// CR1 fit).
    #[cfg_attr(feature = "serde", serde(rename = "Naive-Fp"))]
    NaiveFp,
    /// `Q` referred to chi^2(q) (clubSandwich's "chi-sq").
    #[cfg_attr(feature = "serde", serde(rename = "chi-sq"))]
    ChiSquare,
}

impl fmt::Display for WaldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaldKind::Htz => "HTZ",
            WaldKind::NaiveF => "Naive-F",
            WaldKind::NaiveFp => "Naive-Fp",
            WaldKind::ChiSquare => "chi-sq",
        })
    }
}

/// A robust Wald test of `q` linear constraints `C beta = 0`.
///
/// `Q = (C b)' (C V C')^-1 (C b)` with the fit's robust covariance `V`. The fields follow
/// clubSandwich's `Wald_test` output (`Fstat`, `delta`, `df_num`, `df_denom`, `p_val`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct WaldTest {
    /// The reference distribution.
    pub test: WaldKind,
    /// The number of constraints `q`.
    pub q: usize,
    /// The Wald statistic `Q` (chi-square form).
    pub q_statistic: f64,
    /// The F statistic `delta Q / q` (`Q / q` for the chi-square test, as clubSandwich).
    pub statistic: f64,
    /// HTZ's multiplier `max(0, (nu - q + 1)/nu)`; 1 for the other tests.
    pub delta: f64,
    /// Numerator degrees of freedom `q`.
    pub df_num: f64,
    /// Denominator degrees of freedom; `None` for the chi-square test (infinite).
    pub df_denom: Option<f64>,
    /// The p-value; `None` when HTZ's denominator degrees of freedom are not positive
    /// (clubSandwich reports NA).
    pub p_value: Option<f64>,
}

/// What a Wald test needs from a fit.
pub(crate) struct WaldInput<'a> {
    pub beta: &'a DVector<f64>,
    pub vcov: &'a DMatrix<f64>,
    /// Number of clusters.
    pub m: usize,
    /// CR2's per-cluster summaries (None for CR1).
    pub pieces: Option<&'a [Piece]>,
    /// Eigenvalue threshold of `Omega^{-1/2}` (clubSandwich's, in this scale).
    pub omega_floor: f64,
}

/// The test of kind `kind` of the constraints `c` (q x p).
pub(crate) fn wald(input: &WaldInput<'_>, c: &DMatrix<f64>, kind: WaldKind) -> Result<WaldTest> {
    let q = c.nrows();
    let p = input.beta.len();
    if q == 0 || c.ncols() != p || !c.iter().all(|x| x.is_finite()) {
        return Err(MetaError::invalid_option(
            "constraints",
            format!("{}x{}", q, c.ncols()),
            format!("a Wald test needs a q x {p} matrix of finite numbers with q >= 1"),
        ));
    }
    let cb = c * input.beta;
    let cvc = c * input.vcov * c.transpose();
    let qstat = match cvc.cholesky() {
        Some(ch) => cb.dot(&ch.solve(&cb)),
        None => {
            return Err(MetaError::invalid_option(
                "constraints",
                format!("{q} rows"),
                "C V C' is not positive definite: the constraints are linearly dependent",
            ));
        }
    };
    let qf = q as f64;
    let m = input.m as f64;
    let test = |df2: Option<f64>, delta: f64| {
        let f = delta * qstat / qf;
        let p_value = match df2 {
            None => Some(chisq_sf(qstat, qf)),
            Some(d) if d > 0.0 => Some(f_sf(f, qf, d)),
            Some(_) => None,
        };
        WaldTest {
            test: kind,
            q,
            q_statistic: qstat,
            statistic: f,
            delta,
            df_num: qf,
            df_denom: df2,
            p_value,
        }
    };
    Ok(match kind {
        WaldKind::ChiSquare => test(None, 1.0),
        WaldKind::NaiveF => test(Some(m - 1.0), 1.0),
        WaldKind::NaiveFp => test(Some(m - p as f64), 1.0),
        WaldKind::Htz => {
            let pieces = input.pieces.ok_or_else(|| {
                MetaError::invalid_option(
                    "test",
                    "HTZ",
                    "the HTZ test needs a CR2 fit (this one is CR1)",
                )
            })?;
            let nu = htz_nu(pieces, c, input.omega_floor);
            if !nu.is_finite() {
                return Err(MetaError::Numerical {
                    context: "HTZ degrees of freedom".into(),
                });
            }
            test(Some(nu - qf + 1.0), ((nu - qf + 1.0) / nu).max(0.0))
        }
    })
}
