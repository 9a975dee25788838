//! [`RobustFit`]: cluster-robust coefficients, covariance and Wald tests of a fitted model.

use nalgebra::{DMatrix, DVector};

use super::sandwich::{
    EigenFloor, Piece, Scratch, cr0_piece, cr0_piece_dense, cr0_piece_diagonal, cr2_piece,
    cr2_piece_dense, cr2_piece_diagonal,
};
use super::satterthwaite::coefficient_df;
use super::wald::{WaldInput, WaldKind, WaldTest, wald};
use super::{RobustKind, Settings, Source};
use crate::error::{MetaError, Result};
use crate::model::Coefficient;
use crate::numeric::dist::{t_isf, t_p2};

/// Cluster-robust inference on the coefficients of a fitted model.
///
/// Built by [`crate::MetaFit::robust`], [`crate::MetaRegressionFit::robust`] (and by the
/// multilevel fits): the CR1 or CR2 covariance of the estimates, a t test and confidence
/// interval per coefficient, and an omnibus Wald test of the moderators. With CR2 the
/// degrees of freedom are Satterthwaite's, as clubSandwich's
/// `coef_test(vcov = "CR2", test = "Satterthwaite")` and `conf_int()`, and the omnibus
/// test is HTZ (`Wald_test(test = "HTZ")`); with CR1 they are `m - p`, as metafor's
/// `robust(fit, cluster, adjust = TRUE)`. Further tests of any linear constraints:
/// [`RobustFit::wald_test`].
///
/// `Display` prints clubSandwich's `coef_test` and `conf_int` tables (and the HTZ test)
/// for CR2, and the cluster-robust part of metafor's `print.robust.rma` for CR1. With the
/// `serde` feature it serializes to `{type, k, clusters, level, coefficients, vcov,
/// omnibus}`.
///
/// # Formula
///
/// For clusters `j = 1..m` with design rows `X_j`, weights `W_j = Phi_j^-1` (`Phi_j` the
/// fit's marginal covariance: `diag(v_i + tau^2)` for a univariate fit), residuals `e_j` and
/// `B = (X'WX)^-1`:
///
/// ```text
/// V = B (sum_j X_j' W_j A_j e_j e_j' A_j W_j X_j) B
/// CR1: A_j = I, V multiplied by m/(m - p); t tests on m - p df
/// CR2: A_j = R_j' [R_j (I - X_j B X_j' W_j) Phi_j R_j']^{-1/2} R_j,  R_j' R_j = Phi_j
/// ```
///
/// (Bell & McCaffrey 2002). For a contrast `c`, `c'Vc = sum_j (g_j' eps)^2` is a quadratic
/// form in the errors, and Satterthwaite's degrees of freedom under the working model are
/// `nu = (tr P)^2 / sum_jk P_jk^2` with the m x m matrix `P_jk = g_j' Phi g_k`. clubSandwich
/// forms `P` (O(m^2)); here, because `(I - H) Phi (I - H)' = Phi - X B X'` when
/// `W = Phi^-1`, `P = diag(d) - Y Y'` with `d_j = c'Delta_j c` and the rows
/// `y_j = c' B K_j' L_B` (`K_j = X_j' A_j W_j X_j`, `L_B L_B' = B`), so that
///
/// ```text
/// tr P          = sum_j (d_j - |y_j|^2)
/// sum_jk P_jk^2 = sum_j (d_j - |y_j|^2)^2 + 2 sum_j y_j' (sum_{k<j} y_k y_k') y_j
/// ```
///
/// — one pass over the clusters with p x p accumulators, O(sum_j n_j^3 + m p^3) in all
/// (Pustejovsky & Tipton 2018 give the same quantities per cluster). The HTZ test of
/// `q` constraints `C beta = 0` (Tipton & Pustejovsky 2015) uses the same decomposition
/// with q x q blocks `B_jk = Omega^{-1/2} P_jk Omega^{-1/2}`:
/// `nu = q(q + 1) / sum_jk [tr(B_jk^2) + tr(B_jk)^2]`, `F = (nu - q + 1)/(nu q) Q` on
/// `(q, nu - q + 1)` df. Clusters are processed in parallel (rayon), the sums in cluster
/// order (deterministic).
///
/// # References
/// * Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
///   regression with multi-stage samples. *Survey Methodology*, 28(2), 169-181.
/// * Tipton, E., & Pustejovsky, J. E. (2015). Small-sample adjustments for tests of
///   moderators and model fit using robust variance estimation in meta-regression.
///   *Journal of Educational and Behavioral Statistics*, 40(6), 604-634.
/// * Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
///   variance estimation and hypothesis testing in fixed effects models. *Journal of
///   Business & Economic Statistics*, 36(4), 672-683.
/// * Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance
///   estimation: Expanding the range of working models. *Prevention Science*, 23, 425-438.
///
/// # Examples
///
/// ```
/// use metan::{MetaAnalysis, RobustKind, Studies};
/// // six effects from three studies
/// let s = Studies::from_variances(
///     vec![0.30, 0.42, 0.10, 0.15, 0.55, 0.48],
///     vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02],
/// )?
/// .with_clusters(["A", "A", "B", "B", "C", "C"])?;
/// let fit = MetaAnalysis::new().fit(&s)?;
/// let cr2 = fit.robust(&s, RobustKind::CR2)?;
/// let c = &cr2.coefficients()[0];
/// assert_eq!(c.estimate, fit.estimate());
/// assert!(c.df.unwrap() > 0.0 && c.df.unwrap() < 3.0);  // at most clusters - 1
/// assert!(c.ci_lower < c.estimate && c.estimate < c.ci_upper);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RobustFit {
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub(crate) kind: RobustKind,
    pub(crate) k: usize,
    pub(crate) clusters: usize,
    pub(crate) level: f64,
    pub(crate) coefficients: Vec<Coefficient>,
    pub(crate) vcov: Vec<Vec<f64>>,
    pub(crate) btt: Vec<usize>,
    pub(crate) omnibus: Option<WaldTest>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) sizes: Vec<usize>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) beta: DVector<f64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) vcov_m: DMatrix<f64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) pieces: Option<Vec<Piece>>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) w_scale: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) digits: usize,
}

/// The pieces of every cluster, in cluster order (in parallel with the `parallel`
/// feature; the order of the result does not depend on it).
fn pieces<S: Source + ?Sized>(
    model: &S,
    kind: RobustKind,
    bread_l: &DMatrix<f64>,
    floor: &EigenFloor,
) -> Result<Vec<Piece>> {
    let one = |sc: &mut Scratch, j: usize| -> Result<Piece> {
        if model.dense(j, &mut sc.dense) {
            let p = model.beta().len();
            return match kind {
                RobustKind::CR1 => cr0_piece_dense(model.name(j), p, sc),
                RobustKind::CR2 => {
                    cr2_piece_dense(j, model.name(j), model.bread(), bread_l, floor, sc)
                }
            };
        }
        if let Some(v) = model.diagonal(j) {
            return match kind {
                RobustKind::CR1 => Ok(cr0_piece_diagonal(&v)),
                RobustKind::CR2 => {
                    cr2_piece_diagonal(&v, j, model.name(j), model.bread(), bread_l, floor, sc)
                }
            };
        }
        let b = model.block(j);
        match kind {
            RobustKind::CR1 => Ok(cr0_piece(&b)),
            RobustKind::CR2 => cr2_piece(&b, j, model.name(j), model.bread(), bread_l, floor),
        }
    };
    let m = model.len();
    // in the thread pool only when it has more than one thread: handing the work to a
    // one-thread pool and waiting costs time and gains none (the pieces are the same)
    #[cfg(feature = "parallel")]
    if rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        return (0..m)
            .into_par_iter()
            .with_min_len(64)
            .map_init(Scratch::default, one)
            .collect();
    }
    let mut sc = Scratch::default();
    (0..m).map(|j| one(&mut sc, j)).collect()
}

/// The 1-based coefficients of the omnibus test.
fn btt_of<S: Source + ?Sized>(model: &S, btt: Option<&[usize]>) -> Result<Vec<usize>> {
    let p = model.beta().len();
    match btt {
        None => {
            let int_incl = model.names().first().is_some_and(|n| n == "intrcpt");
            Ok(if int_incl {
                (2..=p).collect()
            } else {
                (1..=p).collect()
            })
        }
        Some(b) => {
            let mut b = b.to_vec();
            b.sort_unstable();
            b.dedup();
            if b.iter().any(|&j| j == 0 || j > p) {
                return Err(MetaError::invalid_option(
                    "btt",
                    crate::format::list(&b),
                    format!("coefficients are numbered 1..={p} (1-based, as in metafor)"),
                ));
            }
            Ok(b)
        }
    }
}

/// Robust inference of `kind` for `model` with eigenvalue rule `floor` for CR2.
pub(crate) fn robust<S: Source + ?Sized>(
    model: &S,
    s: &Settings,
    floor: &EigenFloor,
) -> Result<RobustFit> {
    model.check_shapes()?;
    if !(s.level > 0.0 && s.level < 100.0) {
        return Err(MetaError::invalid_option(
            "level",
            s.level,
            "the confidence level is a percentage in (0, 100)",
        ));
    }
    let p = model.beta().len();
    let m = model.len();
    if m < p + 1 {
        return Err(MetaError::TooFewClusters {
            analysis: format!(
                "cluster-robust inference ({}) with {p} coefficient{}",
                s.kind,
                if p == 1 { "" } else { "s" }
            ),
            needed: p + 1,
            found: m,
        });
    }
    let btt = btt_of(model, s.btt.as_deref())?;
    let bread_l = model
        .bread()
        .clone()
        .cholesky()
        .ok_or_else(|| MetaError::Numerical {
            context: "cluster-robust inference: the bread (X'WX)^-1 is not positive definite"
                .into(),
        })?
        .l();
    let pcs = pieces(model, s.kind, &bread_l, floor)?;
    let mut meat = DMatrix::<f64>::zeros(p, p);
    for pc in &pcs {
        meat += &pc.t * pc.t.transpose();
    }
    let b = model.bread();
    let mut vcov = b * meat * b;
    let (df, pieces) = match s.kind {
        RobustKind::CR1 => {
            let f = s.cr1_bread_scale * s.cr1_bread_scale * m as f64 / (m - p) as f64;
            vcov *= f;
            (vec![(m - p) as f64; p], None)
        }
        RobustKind::CR2 => (coefficient_df(&pcs, p), Some(pcs)),
    };
    for r in 0..p {
        for c in 0..r {
            let a = 0.5 * (vcov[(r, c)] + vcov[(c, r)]);
            vcov[(r, c)] = a;
            vcov[(c, r)] = a;
        }
    }
    let alpha = 1.0 - s.level / 100.0;
    let mut coefficients = Vec::with_capacity(p);
    for i in 0..p {
        let se = vcov[(i, i)].sqrt();
        let name = &model.names()[i];
        if !(se > 0.0 && se.is_finite() && df[i] > 0.0 && df[i].is_finite()) {
            return Err(MetaError::Numerical {
                context: format!(
                    "{} standard error of `{name}` ({se}) or its degrees of freedom ({})",
                    s.kind, df[i]
                ),
            });
        }
        let est = model.beta()[i];
        let t = est / se;
        let crit = t_isf(alpha / 2.0, df[i]);
        coefficients.push(Coefficient {
            name: name.clone(),
            estimate: est,
            se,
            statistic: t,
            df: Some(df[i]),
            p_value: t_p2(t, df[i]),
            ci_lower: est - crit * se,
            ci_upper: est + crit * se,
        });
    }
    let mut fit = RobustFit {
        kind: s.kind,
        k: (0..m).map(|j| model.size(j)).sum(),
        clusters: m,
        level: s.level,
        coefficients,
        vcov: (0..p)
            .map(|i| (0..p).map(|j| vcov[(i, j)]).collect())
            .collect(),
        btt: btt.clone(),
        omnibus: None,
        sizes: (0..m).map(|j| model.size(j)).collect(),
        beta: model.beta().clone(),
        vcov_m: vcov,
        pieces,
        w_scale: s.w_scale,
        digits: s.digits,
    };
    if !btt.is_empty() {
        let c = DMatrix::from_fn(btt.len(), p, |r, col| {
            f64::from(u8::from(col + 1 == btt[r]))
        });
        let kind = match s.kind {
            RobustKind::CR1 => WaldKind::NaiveFp,
            RobustKind::CR2 => WaldKind::Htz,
        };
        // metafor reports NA for a QM it cannot compute; so does this (no omnibus test)
        fit.omnibus = fit.wald_matrix(&c, kind).ok();
    }
    Ok(fit)
}

impl RobustFit {
    /// The estimator: CR1 or CR2.
    pub fn kind(&self) -> RobustKind {
        self.kind
    }
    /// The number of effects.
    pub fn k(&self) -> usize {
        self.k
    }
    /// The number of clusters.
    pub fn clusters(&self) -> usize {
        self.clusters
    }
    /// The confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// One row per coefficient: estimate, robust SE, t statistic, degrees of freedom
    /// (Satterthwaite's for CR2, `m - p` for CR1), p-value and confidence interval.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// The coefficient names.
    pub fn names(&self) -> Vec<&str> {
        self.coefficients.iter().map(|c| c.name.as_str()).collect()
    }
    /// The robust covariance matrix of the estimates (row-major, p x p): clubSandwich's
    /// `vcovCR(type = "CR2")`, or metafor's `robust()$vb` for CR1.
    pub fn vcov(&self) -> &[Vec<f64>] {
        &self.vcov
    }
    /// The coefficients of the omnibus test (1-based, as metafor's `btt`): all but the
    /// intercept.
    pub fn btt(&self) -> &[usize] {
        &self.btt
    }
    /// The omnibus test of the coefficients [`RobustFit::btt`]: HTZ for CR2
    /// (metafor's `robust(clubSandwich = TRUE)`), metafor's `F(m_btt, m - p)` for CR1.
    /// `None` for an intercept-only model.
    pub fn omnibus(&self) -> Option<&WaldTest> {
        self.omnibus.as_ref()
    }
    /// The number of effects in each cluster.
    pub fn cluster_sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The fit's own Wald test of `C beta = 0` for the constraint matrix `constraints`
    /// (q rows of p numbers): HTZ for CR2, metafor's F on `q` and `m - p` df for CR1.
    ///
    /// # Formula
    /// `Q = (C b)'(C V C')^-1 (C b)`; HTZ: `F = (nu - q + 1)/(nu q) Q` on `(q, nu - q + 1)`
    /// df with `nu` from module `satterthwaite`; CR1: `F = Q/q` on `(q, m - p)`.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for a matrix that is not q x p (q >= 1) or whose rows
    /// are linearly dependent.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaRegression, RobustKind, Studies, WaldKind};
    /// let s = Studies::from_variances(
    ///     vec![0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.2, 0.3, 0.7, 0.5],
    ///     vec![0.02; 10],
    /// )?
    /// .with_moderator("dose", vec![1., 2., 1., 3., 2., 3., 1., 2., 4., 3.])?
    /// .with_clusters(["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"])?;
    /// let fit = MetaRegression::new().moderator("dose").fit(&s)?.robust(&s, RobustKind::CR2)?;
    /// let t = fit.wald_test(&[vec![0.0, 1.0]])?;     // dose = 0
    /// assert_eq!(t.test, WaldKind::Htz);
    /// // one constraint: HTZ is the square of the coefficient's Satterthwaite t test
    /// let c = &fit.coefficients()[1];
    /// assert!((t.statistic - c.statistic.powi(2)).abs() < 1e-9 * t.statistic);
    /// assert!((t.df_denom.unwrap() - c.df.unwrap()).abs() < 1e-9);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn wald_test(&self, constraints: &[Vec<f64>]) -> Result<WaldTest> {
        let kind = match self.kind {
            RobustKind::CR1 => WaldKind::NaiveFp,
            RobustKind::CR2 => WaldKind::Htz,
        };
        self.wald_test_as(constraints, kind)
    }

    /// A Wald test of `C beta = 0` with any reference distribution (HTZ only for CR2
    /// fits).
    ///
    /// # Errors
    /// As [`RobustFit::wald_test`]; [`MetaError::InvalidOption`] for HTZ on a CR1 fit.
    pub fn wald_test_as(&self, constraints: &[Vec<f64>], kind: WaldKind) -> Result<WaldTest> {
        let p = self.beta.len();
        if constraints.is_empty() || constraints.iter().any(|r| r.len() != p) {
            return Err(MetaError::invalid_option(
                "constraints",
                format!("{} rows", constraints.len()),
                format!("each constraint is a row of {p} numbers (one per coefficient)"),
            ));
        }
        let c = DMatrix::from_fn(constraints.len(), p, |r, col| constraints[r][col]);
        self.wald_matrix(&c, kind)
    }

    /// The test that the named coefficients are all zero (clubSandwich's
    /// `constrain_zero`), with the fit's own test.
    ///
    /// # Errors
    /// [`MetaError::UnknownName`] for a name that is not a coefficient, and those of
    /// [`RobustFit::wald_test`].
    pub fn test_zero(&self, names: &[&str]) -> Result<WaldTest> {
        let p = self.beta.len();
        let rows = names
            .iter()
            .map(|n| {
                let i = self
                    .coefficients
                    .iter()
                    .position(|c| c.name == *n)
                    .ok_or_else(|| MetaError::UnknownName {
                        kind: "coefficient".into(),
                        name: n.to_string(),
                        expected: self.names().join(", "),
                    })?;
                Ok((0..p).map(|j| f64::from(u8::from(j == i))).collect())
            })
            .collect::<Result<Vec<Vec<f64>>>>()?;
        self.wald_test(&rows)
    }

    pub(crate) fn wald_matrix(&self, c: &DMatrix<f64>, kind: WaldKind) -> Result<WaldTest> {
        wald(
            &WaldInput {
                beta: &self.beta,
                vcov: &self.vcov_m,
                m: self.clusters,
                pieces: self.pieces.as_deref(),
                omega_floor: 1e-12 * self.w_scale,
            },
            c,
            kind,
        )
    }
}
