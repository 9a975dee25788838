//! robumeta's robust variance estimation: [`Robu`] (the specification) ->
//! [`Robu::fit`] -> [`RobuFit`] (robumeta 2.0's `robu()`).
//!
//! # Formula
//!
//! For clusters `j` of `n_j` effects with mean sampling variance `vbar_j`:
//!
//! * **Correlated effects** (`CORR`, Hedges, Tipton & Johnson 2010): first-step weights
//!   `w_ij = 1/(n_j vbar_j)`; with the first-step residuals `e`, `Q_E = sum w e^2`,
//!   `V = (X'WX)^-1`,
//!   `tau^2 = max(0, [Q_E - m + tr(V sum_j (w_j/n_j) X_j'X_j)
//!   + rho tr(V sum_j (w_j/n_j)(X_j'J X_j - X_j'X_j))] / [sum w - tr(V sum_j w_j^2 X_j'J X_j)])`
//!   (`J` all ones, `rho` the assumed within-cluster correlation), `I^2` from `Q_E` and
//!   its expectation; final weights `r_ij = 1/(n_j (vbar_j + tau^2))`.
//! * **Hierarchical effects** (`HIER`): first-step weights `1/v_ij`; `omega^2` (within
//!   clusters) and `tau^2` (between) by the method of moments of Hedges, Tipton &
//!   Johnson (2010) from `Q_E = sum e^2/v` and `Q_A = sum_j (sum_i e_ij)^2`, both
//!   truncated at 0; final weights `r_ij = 1/(v_ij + tau^2 + omega^2)`.
//!
//! `b = (X'RX)^-1 X'Ry`. Without the small-sample correction (`small = false`) its
//! covariance is the CR1-type sandwich `m/(m - p) B (sum_j X_j'R_j e_j e_j'R_j X_j) B`
//! with t tests on `m - p` df. With it (the default) it is CR2 under the working model
//! `Phi_j = R_j^-1` (Tipton 2015), with Satterthwaite degrees of freedom per coefficient
//! — the computation of [`crate::RobustFit`], with robumeta's eigenvalue threshold.
//! Confidence intervals are 95% (robumeta's only level).
//!
//! # References
//! * Hedges, L. V., Tipton, E., & Johnson, M. C. (2010). Robust variance estimation in
//!   meta-regression with dependent effect size estimates. *Research Synthesis Methods*,
//!   1(1), 39-65.
//! * Tipton, E. (2015). Small sample adjustments for robust variance estimation with
//!   meta-regression. *Psychological Methods*, 20(3), 375-393.
//! * Fisher, Z., & Tipton, E. (2015). robumeta: An R-package for robust variance
//!   estimation in meta-analysis. arXiv:1503.02220.

use std::fmt;
use std::str::FromStr;

use nalgebra::{DMatrix, DVector};

use super::sandwich::EigenFloor;
use super::{DiagonalSource, RobustKind, Settings};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::format::{format_column, format_num, print_columns};
use crate::model::Coefficient;
use crate::model::regression::design::{ModSpec, build};

/// robumeta's `modelweights`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RobuWeights {
    /// Correlated effects (`"CORR"`): effects within a cluster share a correlation `rho`.
    #[cfg_attr(feature = "serde", serde(rename = "CORR"))]
    Corr,
    /// Hierarchical effects (`"HIER"`): independent effects nested in clusters.
    #[cfg_attr(feature = "serde", serde(rename = "HIER"))]
    Hier,
}

impl fmt::Display for RobuWeights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RobuWeights::Corr => "CORR",
            RobuWeights::Hier => "HIER",
        })
    }
}

impl FromStr for RobuWeights {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "CORR" => Ok(RobuWeights::Corr),
            "HIER" => Ok(RobuWeights::Hier),
            _ => Err(MetaError::UnknownName {
                kind: "robu weights".into(),
                name: s.to_string(),
                expected: "corr, hier".into(),
            }),
        }
    }
}

/// Specification of a robust variance estimation meta-regression (robumeta's `robu`).
///
/// Defaults as robumeta: correlated-effects weights, `rho = 0.8`, the small-sample
/// correction, an intercept and no moderators. Moderators are those of
/// [`crate::MetaRegression`] (numeric, or categorical dummy-coded against the first level).
/// The clusters are the studies' ([`Studies::with_clusters`]).
///
/// # Examples
///
/// ```
/// use metan::{Robu, RobuWeights, Studies};
/// let s = Studies::from_variances(
///     vec![0.30, 0.42, 0.10, 0.15, 0.55, 0.48, 0.20, 0.35],
///     vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.05, 0.03],
/// )?
/// .with_clusters(["A", "A", "B", "B", "C", "C", "D", "E"])?;
/// let fit = Robu::new().rho(0.8).fit(&s)?;          // correlated effects, small = TRUE
/// assert_eq!(fit.clusters(), 5);
/// assert!(fit.tau2() >= 0.0);
/// let c = &fit.coefficients()[0];
/// assert!(c.ci_lower < c.estimate && c.estimate < c.ci_upper);
/// let hier = Robu::new().weights(RobuWeights::Hier).fit(&s)?;
/// assert!(hier.omega2().unwrap() >= 0.0);
/// println!("{fit}");                                  // robumeta's print layout
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Robu {
    weights: RobuWeights,
    rho: f64,
    small: bool,
    mods: Vec<ModSpec>,
    references: Vec<(String, String)>,
    intercept: bool,
}

impl Default for Robu {
    fn default() -> Self {
        Self::new()
    }
}

impl Robu {
    /// Correlated effects, `rho = 0.8`, small-sample corrections, intercept only.
    pub fn new() -> Self {
        Robu {
            weights: RobuWeights::Corr,
            rho: 0.8,
            small: true,
            mods: Vec::new(),
            references: Vec::new(),
            intercept: true,
        }
    }
    /// The weights: correlated or hierarchical effects.
    pub fn weights(mut self, weights: RobuWeights) -> Self {
        self.weights = weights;
        self
    }
    /// The assumed correlation of effects within a cluster (correlated-effects weights;
    /// in [0, 1]).
    pub fn rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }
    /// Whether to apply Tipton's (2015) small-sample corrections (default true).
    pub fn small(mut self, yes: bool) -> Self {
        self.small = yes;
        self
    }
    /// Adds a moderator (numeric, or else the attribute of this name as a categorical one).
    pub fn moderator(mut self, name: impl Into<String>) -> Self {
        self.mods.push(ModSpec::Auto(name.into()));
        self
    }
    /// Adds several moderators.
    pub fn moderators<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.mods
            .extend(names.into_iter().map(|n| ModSpec::Auto(n.into())));
        self
    }
    /// Adds a categorical moderator, also when the studies hold it as numbers.
    pub fn categorical(mut self, name: impl Into<String>) -> Self {
        self.mods.push(ModSpec::Categorical(name.into()));
        self
    }
    /// The reference level of a categorical moderator (default: the first, sorted).
    pub fn reference(mut self, moderator: impl Into<String>, level: impl Into<String>) -> Self {
        let m = moderator.into();
        self.references.retain(|(n, _)| *n != m);
        self.references.push((m, level.into()));
        self
    }
    /// Whether the model has an intercept (default true).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// Fits the model (see the module's `# Formula`).
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] without clusters or for `rho` outside [0, 1];
    /// [`MetaError::InvalidCluster`] / [`MetaError::InvalidOption`] for hierarchical
    /// weights when every cluster has one effect (omega^2 and tau^2 are then not
    /// identifiable; robumeta fails with a singular system); [`MetaError::TooFewClusters`]
    /// for fewer than `p + 1` clusters; the errors of the model matrix; and
    /// [`MetaError::Numerical`] for a degenerate design.
    pub fn fit(&self, studies: &Studies) -> Result<RobuFit> {
        if !(0.0..=1.0).contains(&self.rho) {
            return Err(MetaError::invalid_option(
                "rho",
                self.rho,
                "the within-cluster correlation must be in [0, 1] (robumeta)",
            ));
        }
        let cl = studies.clusters().ok_or_else(|| {
            MetaError::invalid_option(
                "cluster",
                "none",
                "robu needs the studies' clusters (Studies::with_clusters)",
            )
        })?;
        let d = build(studies, &self.mods, &self.references, self.intercept)?;
        let x = &d.x;
        let y = studies.yi();
        let v = studies.vi();
        let k = y.len();
        let p = x.ncols();
        let m = cl.len();
        if m < p + 1 {
            return Err(MetaError::TooFewClusters {
                analysis: format!("robu with {p} coefficient{}", if p == 1 { "" } else { "s" }),
                needed: p + 1,
                found: m,
            });
        }
        if self.weights == RobuWeights::Hier && cl.max_size() < 2 {
            return Err(MetaError::invalid_option(
                "weights",
                "HIER",
                "hierarchical weights need a cluster with at least two effects (every cluster \
                 has one: omega^2 and tau^2 are not identifiable)",
            ));
        }
        let sizes: Vec<usize> = cl.sizes().collect();
        let vbar: Vec<f64> = (0..m)
            .map(|c| cl.members(c).iter().map(|&i| v[i]).sum::<f64>() / sizes[c] as f64)
            .collect();
        let nj = |i: usize| sizes[cl.of(i)] as f64;
        // first-step weights and fit
        let w: Vec<f64> = match self.weights {
            RobuWeights::Corr => (0..k).map(|i| 1.0 / (nj(i) * vbar[cl.of(i)])).collect(),
            RobuWeights::Hier => v.iter().map(|vi| 1.0 / vi).collect(),
        };
        let (vi_, b0) = wls(x, y, &w)?;
        let e: Vec<f64> = (0..k).map(|i| y[i] - row_dot(x, i, &b0)).collect();
        let qe: f64 = (0..k).map(|i| w[i] * e[i] * e[i]).sum();
        let sum_w: f64 = w.iter().sum();
        let tr = |a: &DMatrix<f64>| (&vi_ * a).trace();
        // per-cluster sums: s_j = X_j'1, a_j = X_j'w_j
        let mut s = Vec::with_capacity(m);
        let mut a = Vec::with_capacity(m);
        let mut xx = Vec::with_capacity(m);
        let mut xwwx = DMatrix::<f64>::zeros(p, p);
        for c in 0..m {
            let mut sj = DVector::<f64>::zeros(p);
            let mut aj = DVector::<f64>::zeros(p);
            let mut xxj = DMatrix::<f64>::zeros(p, p);
            for &i in cl.members(c) {
                let xi = x.row(i).transpose();
                sj += &xi;
                aj += &xi * w[i];
                xxj += &xi * xi.transpose();
                xwwx += &xi * xi.transpose() * (w[i] * w[i]);
            }
            s.push(sj);
            a.push(aj);
            xx.push(xxj);
        }
        let outer = |u: &DVector<f64>, t: &DVector<f64>| u * t.transpose();
        let sum_over = |f: &dyn Fn(usize) -> DMatrix<f64>| {
            (0..m).fold(DMatrix::<f64>::zeros(p, p), |acc, c| acc + f(c))
        };
        let xwjwx = sum_over(&|c| outer(&a[c], &a[c]));
        let (tau2, omega2, i2) = match self.weights {
            RobuWeights::Corr => {
                let wk = |c: usize| w[cl.members(c)[0]] / sizes[c] as f64;
                let denom = sum_w - tr(&xwjwx);
                let term_a = tr(&sum_over(&|c| &xx[c] * wk(c)));
                let term_b = tr(&sum_over(&|c| (outer(&s[c], &s[c]) - &xx[c]) * wk(c)));
                let mf = m as f64;
                let tau2 = ((qe - mf + term_a) / denom + self.rho * term_b / denom).max(0.0);
                let df = mf - term_a - self.rho * term_b;
                let i2 = ((qe - df) / qe * 100.0).max(0.0);
                (tau2, None, Some(i2))
            }
            RobuWeights::Hier => {
                let kf = k as f64;
                let sum_v: f64 = v.iter().sum();
                let qa: f64 = (0..m)
                    .map(|c| cl.members(c).iter().map(|&i| e[i]).sum::<f64>().powi(2))
                    .sum();
                let tr_jj: f64 = sizes.iter().map(|&n| (n * n) as f64).sum();
                let xjx = sum_over(&|c| outer(&s[c], &s[c]));
                let xwjjx = sum_over(&|c| outer(&a[c], &s[c]) * sizes[c] as f64);
                let xjjwx = sum_over(&|c| outer(&s[c], &a[c]) * sizes[c] as f64);
                let xjwx = sum_over(&|c| outer(&s[c], &a[c]));
                let xwjx = sum_over(&|c| outer(&a[c], &s[c]));
                let vxjxv = &vi_ * &xjx * &vi_;
                let a1 = tr_jj - tr(&xjjwx) - tr(&xwjjx) + (&vxjxv * &xwjwx).trace();
                let b1 = kf - tr(&xwjx) - tr(&xjwx) + (&vxjxv * &xwwx).trace();
                let c1 = sum_v - tr(&xjx);
                let a2 = sum_w - tr(&xwjwx);
                let b2 = sum_w - tr(&xwwx);
                let c2 = kf - p as f64;
                let den = b1 * a2 - b2 * a1;
                let omega1 = ((qa - c1) * a2 - (qe - c2) * a1) / den;
                if !(omega1.is_finite() && den != 0.0 && a2 != 0.0) {
                    return Err(MetaError::Numerical {
                        context: "robu HIER moment estimators of omega^2 and tau^2 (degenerate \
                                  design)"
                            .into(),
                    });
                }
                let omega2 = omega1.max(0.0);
                let tau2 = ((qe - c2) / a2 - omega2 * (b2 / a2)).max(0.0);
                (tau2, Some(omega2), None)
            }
        };
        // final weights and fit
        let r: Vec<f64> = match self.weights {
            RobuWeights::Corr => (0..k)
                .map(|i| 1.0 / (nj(i) * (vbar[cl.of(i)] + tau2)))
                .collect(),
            RobuWeights::Hier => v
                .iter()
                .map(|vi| 1.0 / (vi + tau2 + omega2.unwrap_or(0.0)))
                .collect(),
        };
        let (bread, b) = wls(x, y, &r)?;
        let er: Vec<f64> = (0..k).map(|i| y[i] - row_dot(x, i, &b)).collect();
        let names: Vec<String> = d
            .names
            .iter()
            .enumerate()
            .map(|(j, n)| {
                if j == 0 && d.int_incl {
                    "X.Intercept.".to_string()
                } else {
                    make_names(n)
                }
            })
            .collect();
        let model = DiagonalSource {
            names,
            beta: b,
            bread,
            x,
            w: r.clone(),
            e: er,
            clusters: cl,
        };
        let kind = if self.small {
            RobustKind::CR2
        } else {
            RobustKind::CR1
        };
        let mut settings = Settings::new(kind, 95.0);
        settings.btt = Some(Vec::new());
        // robumeta decomposes I - H_jj for CORR (G_j r_j^2) and its G_j for HIER
        let scale: Vec<f64> = (0..m)
            .map(|c| match self.weights {
                RobuWeights::Corr => r[cl.members(c)[0]].powi(2),
                RobuWeights::Hier => 1.0,
            })
            .collect();
        let rf = super::fit::robust(&model, &settings, &EigenFloor::Robumeta(scale))?;
        Ok(RobuFit {
            weights: self.weights,
            rho: self.rho,
            small: self.small,
            k,
            clusters: m,
            tau2,
            omega2,
            i2,
            coefficients: rf.coefficients,
            vcov: rf.vcov,
            formula: formula(&self.mods, self.intercept),
            sizes,
        })
    }
}

/// `(X'WX)^-1` and the weighted least-squares coefficients.
fn wls(x: &DMatrix<f64>, y: &[f64], w: &[f64]) -> Result<(DMatrix<f64>, DVector<f64>)> {
    let p = x.ncols();
    let mut xwx = DMatrix::<f64>::zeros(p, p);
    let mut xwy = DVector::<f64>::zeros(p);
    for (i, (&wi, &yi)) in w.iter().zip(y).enumerate() {
        for a in 0..p {
            xwy[a] += wi * x[(i, a)] * yi;
            for b in 0..p {
                xwx[(a, b)] += wi * x[(i, a)] * x[(i, b)];
            }
        }
    }
    let ch = xwx.cholesky().ok_or_else(|| MetaError::Numerical {
        context: "robu: X'WX is singular (collinear moderators?)".into(),
    })?;
    let b = ch.solve(&xwy);
    Ok((ch.inverse(), b))
}

fn row_dot(x: &DMatrix<f64>, i: usize, b: &DVector<f64>) -> f64 {
    (0..x.ncols()).map(|j| x[(i, j)] * b[j]).sum()
}

/// R's `make.names` (as `data.frame()` applies it to robumeta's column names).
fn make_names(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '.'
            }
        })
        .collect();
    let mut chars = out.chars();
    let first = chars.next();
    let second = chars.next();
    let ok = match first {
        Some(c) if c.is_alphabetic() => true,
        Some('.') => !second.is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    if !ok {
        out.insert(0, 'X');
    }
    const RESERVED: [&str; 15] = [
        "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE",
        "NULL", "Inf", "NaN", "NA", "in",
    ];
    if RESERVED.contains(&out.as_str()) {
        out.push('.');
    }
    out
}

/// The right-hand side of the model formula as R prints it.
fn formula(mods: &[ModSpec], intercept: bool) -> String {
    let mut rhs = if mods.is_empty() {
        "1".to_string()
    } else {
        mods.iter()
            .map(|m| match m {
                ModSpec::Auto(n) => n.clone(),
                ModSpec::Categorical(n) => format!("factor({n})"),
            })
            .collect::<Vec<_>>()
            .join(" + ")
    };
    if !intercept {
        rhs.push_str(" - 1");
    }
    rhs
}

/// A fitted robumeta model.
///
/// Built by [`Robu::fit`]. `Display` prints robumeta's `print.robu` layout. With the
/// `serde` feature it serializes to the JSON of `metan robu --format json`: `k`,
/// `clusters`, `tau2`, `omega2` (hierarchical weights only, else null), `coefficients`
/// (`df` the small-sample degrees of freedom), and `weights`, `rho`, `small`, `i2`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RobuFit {
    weights: RobuWeights,
    rho: f64,
    small: bool,
    k: usize,
    clusters: usize,
    tau2: f64,
    omega2: Option<f64>,
    i2: Option<f64>,
    coefficients: Vec<Coefficient>,
    vcov: Vec<Vec<f64>>,
    #[cfg_attr(feature = "serde", serde(skip))]
    formula: String,
    #[cfg_attr(feature = "serde", serde(skip))]
    sizes: Vec<usize>,
}

impl RobuFit {
    /// The weights used.
    pub fn weights(&self) -> RobuWeights {
        self.weights
    }
    /// The assumed within-cluster correlation (used by correlated-effects weights).
    pub fn rho(&self) -> f64 {
        self.rho
    }
    /// Whether the small-sample corrections were applied.
    pub fn small(&self) -> bool {
        self.small
    }
    /// The number of effects.
    pub fn k(&self) -> usize {
        self.k
    }
    /// The number of clusters.
    pub fn clusters(&self) -> usize {
        self.clusters
    }
    /// tau^2: between-cluster variance (hierarchical) or the variance of the true effects
    /// (correlated).
    pub fn tau2(&self) -> f64 {
        self.tau2
    }
    /// omega^2, the within-cluster variance (hierarchical weights only).
    pub fn omega2(&self) -> Option<f64> {
        self.omega2
    }
    /// robumeta's I^2 in percent (correlated-effects weights only).
    pub fn i2(&self) -> Option<f64> {
        self.i2
    }
    /// The coefficients (robumeta's labels, e.g. `X.Intercept.`), robust SEs, t tests on
    /// the small-sample degrees of freedom and 95% confidence intervals.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// The robust covariance matrix of the coefficients (row-major).
    pub fn vcov(&self) -> &[Vec<f64>] {
        &self.vcov
    }
}

impl fmt::Display for RobuFit {
    /// robumeta's `print.robu`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.weights {
            RobuWeights::Corr => "RVE: Correlated Effects Model",
            RobuWeights::Hier => "RVE: Hierarchical Effects Model",
        };
        let small = if self.small {
            "with Small-Sample Corrections"
        } else {
            ""
        };
        writeln!(f, "{label} {small} ")?;
        writeln!(f)?;
        writeln!(f, "Model: yi ~ {} ", self.formula)?;
        writeln!(f)?;
        let unit = match self.weights {
            RobuWeights::Corr => "studies",
            RobuWeights::Hier => "clusters",
        };
        writeln!(f, "Number of {unit} = {} ", self.clusters)?;
        let n = self.sizes.len();
        let mut s = self.sizes.clone();
        s.sort_unstable();
        let median = if n % 2 == 1 {
            s[n / 2] as f64
        } else {
            0.5 * (s[n / 2 - 1] + s[n / 2]) as f64
        };
        let mean = self.k as f64 / n as f64;
        writeln!(
            f,
            "Number of outcomes = {} (min = {} , mean = {} , median = {} , max = {} )",
            self.k,
            s[0],
            format_num(mean, 3),
            format_num(median, 7),
            s[n - 1]
        )?;
        match self.weights {
            RobuWeights::Corr => {
                writeln!(f, "Rho = {} ", format_num(self.rho, 7))?;
                writeln!(f, "I.sq = {} ", format_num(self.i2.unwrap_or(f64::NAN), 7))?;
            }
            RobuWeights::Hier => {
                writeln!(
                    f,
                    "Omega.sq = {} ",
                    format_num(self.omega2.unwrap_or(f64::NAN), 7)
                )?;
            }
        }
        writeln!(f, "Tau.sq = {} ", format_num(self.tau2, 7))?;
        writeln!(f)?;
        // print(format(reg_table, trim = TRUE, digits = 3, scientific = FALSE)) with row names
        let c = &self.coefficients;
        let col = |g: &dyn Fn(&Coefficient) -> f64| -> Vec<String> {
            format_column(&c.iter().map(g).collect::<Vec<_>>(), 3, false)
        };
        let sig = |p: f64| {
            if p < 0.01 {
                "***"
            } else if p > 0.01 && p < 0.05 {
                "**"
            } else if p > 0.05 && p < 0.1 {
                "*"
            } else {
                ""
            }
        };
        let rownames: Vec<String> = (1..=c.len()).map(|i| i.to_string()).collect();
        let table = print_columns(
            Some(&rownames),
            &[
                "", "Estimate", "StdErr", "t-value", "dfs", "P(|t|>)", "95% CI.L", "95% CI.U",
                "Sig",
            ],
            &[
                c.iter().map(|c| c.name.clone()).collect(),
                col(&|c| c.estimate),
                col(&|c| c.se),
                col(&|c| c.statistic),
                col(&|c| c.df.unwrap_or(f64::NAN)),
                col(&|c| c.p_value),
                col(&|c| c.ci_lower),
                col(&|c| c.ci_upper),
                c.iter().map(|c| sig(c.p_value).to_string()).collect(),
            ],
        );
        write!(f, "{table}")?;
        writeln!(f, "---")?;
        writeln!(f, "Signif. codes: < .01 *** < .05 ** < .10 *")?;
        writeln!(f, "---")?;
        if self.small {
            writeln!(f, "Note: If df < 4, do not trust the results")?;
        }
        Ok(())
    }
}
