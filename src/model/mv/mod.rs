//! Multilevel and multivariate models for dependent effect sizes: [`MvModel`] (the
//! specification) -> [`MvModel::fit`] -> [`MvFit`] (metafor's `rma.mv`).
//!
//! Effects that share participants (several outcomes, follow-ups or arms of one study)
//! are correlated. Given a cluster per effect ([`crate::Studies::with_clusters`]), the
//! model is
//!
//! `y = X beta + Z u + e`, `e ~ N(0, V)`, `u ~ N(0, G)`,
//!
//! with `V` the sampling covariance (block-diagonal by cluster: the variances `v_i`,
//! [`crate::data::Vcalc`]'s constant correlation, or blocks given in full) and one of two
//! random parts:
//!
//! * **three-level** (default; metafor's `random = ~ 1 | cluster/obs`): a random effect per
//!   cluster (variance `sigma^2_1`) and one per observation within a cluster (`sigma^2_2`),
//!   `M_j = V_j + sigma^2_1 J + sigma^2_2 B_j` (`J` all ones, `B_j` the same-observation
//!   indicator; every row is its own observation unless
//!   [`crate::Studies::with_observations`] says otherwise). With a constant sampling
//!   correlation `rho` ([`MvModel::rho`]) this is the correlated-and-hierarchical-effects
//!   (CHE) working model of Pustejovsky & Tipton (2022);
//! * **multivariate** ([`MvModel::outcome`]; metafor's `mods = ~ outcome - 1,
//!   random = ~ outcome | cluster, struct = ...`): a mean per outcome level and correlated
//!   outcome-level random effects within each cluster with a [`Structure`] (CS, HCS, UN),
//!   `M_j[i, l] = V_j[i, l] + G[o_i, o_l]`.
//!
//! The marginal covariance `M = V + Z G Z'` is block-diagonal by cluster, so the
//! likelihood, its gradient and the observed and expected information are sums over
//! clusters, each costing `O(n_j^3)` (its own Cholesky factorisation): the cost of a fit
//! grows with the sum of cubed cluster sizes, never with `k^3`, and no `k x k` matrix is
//! formed. The variance components are found by Newton's method on the analytic
//! derivatives (REML or ML), to a relative change of `1e-10` by default.
//!
//! # References
//! * Konstantopoulos, S. (2011). Fixed effects and variance components estimation in
//!   three-level meta-analysis. *Research Synthesis Methods*, 2, 61-76.
//! * Van den Noortgate, W., Lopez-Lopez, J. A., Marin-Martinez, F., & Sanchez-Meca, J.
//!   (2013). Three-level meta-analysis of dependent effect sizes. *Behavior Research
//!   Methods*, 45, 576-594.
//! * Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance
//!   estimation: Expanding the range of working models. *Prevention Science*, 23, 425-438.
//! * Berkey, C. S., Hoaglin, D. C., Antczak-Bouckoms, A., Mosteller, F., & Colditz, G. A.
//!   (1998). Meta-analysis of multiple outcomes by regression with random effects.
//!   *Statistics in Medicine*, 17, 2537-2550.
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *Journal of Statistical Software*, 36(3), 1-48.

mod engine;
mod fit;
mod optim;
mod params;
mod print;
mod profile;

use std::sync::Arc;

pub use fit::{ComponentCi, Hypothesis, I2Levels, LinearHypotheses, MvFit, RandomPart};
pub use params::Structure;

use self::engine::{Problem, Re, VSource, evaluate};
use self::optim::{OptError, Settings, maximize};
use self::params::{Param, lower_pairs};
use super::fit::FitStats;
use super::method::{Method, TestKind};
use super::regression::design::{Design, ModSpec, build};
use crate::data::{Studies, Vcalc, not_pd};
use crate::error::{MetaError, Result};

/// Specification of a multilevel or multivariate model (metafor's `rma.mv`).
///
/// Defaults: REML, z tests, 95% intervals, an intercept, three-level random part
/// (`~ 1 | cluster/obs`), `V = diag(v)`. Setters are infallible and chain; everything is
/// validated in [`MvModel::fit`].
///
/// # Examples
///
/// A three-level model with a sampling correlation of 0.6 within studies (the CHE working
/// model) and a moderator:
///
/// ```
/// use metan::{MvModel, Studies, TestKind};
/// let s = Studies::from_variances(
///     vec![0.9, 0.4, 0.3, 0.1, -0.2, 0.5, 0.6, 0.2, 0.0, 0.3],
///     vec![0.07, 0.04, 0.05, 0.03, 0.06, 0.05, 0.04, 0.05, 0.03, 0.04],
/// )?
/// .with_clusters(["a", "a", "a", "b", "b", "c", "c", "c", "d", "d"])?
/// .with_moderator("year", vec![4.5, 4.5, 4.5, 2.0, 2.0, 7.0, 7.0, 7.0, 1.0, 1.0])?;
/// let fit = MvModel::new().rho(0.6).moderator("year").test(TestKind::T).fit(&s)?;
/// assert_eq!(fit.sigma2().len(), 2);                  // cluster, then effect within cluster
/// assert!(fit.sigma2().iter().all(|&s2| s2 >= 0.0));
/// assert_eq!(fit.coefficients()[1].df, Some(8.0));    // t tests on k - p df
/// println!("{fit}");                                  // metafor's print.rma.mv layout
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// A multivariate model: official and partner reports within studies, their correlation
/// and the test of their difference (metafor's `anova(fit, X = c(1, -1))`):
///
/// ```
/// use metan::{MvModel, Structure, Studies};
/// let s = Studies::from_variances(
///     vec![0.30, 0.10, 0.45, 0.20, 0.25, 0.05, 0.50, 0.35, 0.15, 0.02, 0.40, 0.30],
///     vec![0.02, 0.03, 0.04, 0.05, 0.02, 0.03, 0.05, 0.04, 0.03, 0.03, 0.02, 0.04],
/// )?
/// .with_clusters(["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4", "s5", "s5", "s6", "s6"])?
/// .with_attribute("source", ["official", "partner", "official", "partner", "official",
///     "partner", "official", "partner", "official", "partner", "official", "partner"])?;
/// let fit = MvModel::new().rho(0.5).outcome("source", Structure::CS).fit(&s)?;
/// assert_eq!(fit.names(), ["sourceofficial", "sourcepartner"]);
/// let diff = fit.contrast(&[1.0, -1.0])?;
/// assert!(diff.rows()[0].estimate > 0.0);             // official reports show larger effects
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MvModel {
    method: Method,
    test: TestKind,
    level: f64,
    mods: Vec<ModSpec>,
    references: Vec<(String, String)>,
    intercept: bool,
    btt: Option<Vec<usize>>,
    vcalc: Option<Vcalc>,
    outcome: Option<(String, Structure)>,
    factor_names: Option<(String, String)>,
    tol: f64,
    max_iter: usize,
    digits: usize,
    init: Option<Vec<f64>>,
    fixed: Option<Vec<f64>>,
}

impl Default for MvModel {
    fn default() -> Self {
        Self::new()
    }
}

impl MvModel {
    /// REML, z tests, 95%, an intercept, the three-level random part, `V = diag(v)`.
    pub fn new() -> Self {
        MvModel {
            method: Method::REML,
            test: TestKind::Z,
            level: 95.0,
            mods: Vec::new(),
            references: Vec::new(),
            intercept: true,
            btt: None,
            vcalc: None,
            outcome: None,
            factor_names: None,
            tol: 1e-10,
            max_iter: 1000,
            digits: 4,
            init: None,
            fixed: None,
        }
    }

    /// [`Method::REML`] (default) or [`Method::ML`]; other methods are rejected by
    /// [`MvModel::fit`].
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// [`TestKind::Z`] (default) or [`TestKind::T`] (t tests on `k - p` df, F test for QM).
    pub fn test(mut self, test: TestKind) -> Self {
        self.test = test;
        self
    }

    /// Confidence level in percent.
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Adds a moderator: the numeric moderator of this name, or else the string attribute
    /// of this name (categorical; the same coding as [`crate::MetaRegression`]).
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

    /// The reference level of a categorical moderator.
    pub fn reference(mut self, moderator: impl Into<String>, level: impl Into<String>) -> Self {
        let m = moderator.into();
        self.references.retain(|(n, _)| *n != m);
        self.references.push((m, level.into()));
        self
    }

    /// Whether the model has an intercept (default true; the multivariate model never has
    /// one: it estimates a mean per outcome).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// The coefficients of the omnibus test QM, 1-based (default: all but the intercept).
    pub fn btt(mut self, coefficients: impl IntoIterator<Item = usize>) -> Self {
        self.btt = Some(coefficients.into_iter().collect());
        self
    }

    /// A constant sampling correlation `rho` between effects of the same cluster
    /// (metafor's `vcalc(vi, cluster, obs, rho)`); shorthand for `.vcalc(Vcalc::new(rho))`.
    pub fn rho(self, rho: f64) -> Self {
        self.vcalc(Vcalc::new(rho))
    }

    /// The sampling covariance built by [`Vcalc`] (instead of `V = diag(v)`).
    pub fn vcalc(mut self, vcalc: Vcalc) -> Self {
        self.vcalc = Some(vcalc);
        self
    }

    /// The multivariate model: a mean per level of the categorical column `outcome` and
    /// outcome-level random effects with the given structure (metafor's
    /// `mods = ~ outcome - 1, random = ~ outcome | cluster, struct = ...`). Further
    /// moderators are added after the outcome means.
    pub fn outcome(mut self, column: impl Into<String>, structure: Structure) -> Self {
        self.outcome = Some((column.into(), structure));
        self
    }

    /// Names of the cluster and observation factors for printing (default `cluster`,
    /// `obs`; metafor prints the variable names of the `random` formula).
    pub fn factor_names(mut self, cluster: impl Into<String>, obs: impl Into<String>) -> Self {
        self.factor_names = Some((cluster.into(), obs.into()));
        self
    }

    /// Relative change of the variance components at which the iteration stops (default
    /// `1e-10`).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Maximum Newton iterations (default 1000).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Decimals used by `Display`.
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }

    /// Fixes every variance component instead of estimating it (metafor's `sigma2 = `,
    /// `tau2 = `, `rho = `): `(sigma2_1, sigma2_2)` for the three-level model; `(tau2, rho)`
    /// (CS), `(tau2_1, ..., tau2_m, rho)` (HCS) or `(tau2_1, ..., tau2_m, rho_21, rho_31,
    /// ...)` (UN, the correlations of pairs never observed together left out) for the
    /// multivariate model. The fit then reports the coefficients, tests and likelihood at
    /// these values, with `parms = p`.
    pub fn fixed_components(mut self, values: impl Into<Vec<f64>>) -> Self {
        self.fixed = Some(values.into());
        self
    }

    /// Starting values of the variance components (sensitivity refits start at the full
    /// fit's solution, as metafor's `cooks.distance.rma.mv` does).
    pub(crate) fn init(mut self, theta: Vec<f64>) -> Self {
        self.init = Some(theta);
        self
    }

    pub(crate) fn spec_vcalc(&self) -> Option<&Vcalc> {
        self.vcalc.as_ref()
    }

    fn alpha(&self) -> Result<f64> {
        if !matches!(self.method, Method::REML | Method::ML) {
            return Err(MetaError::invalid_option(
                "method",
                self.method,
                "multilevel and multivariate models are fitted by REML or ML",
            ));
        }
        if !matches!(self.test, TestKind::Z | TestKind::T) {
            return Err(MetaError::invalid_option(
                "test",
                self.test,
                "multilevel and multivariate models use z or t tests",
            ));
        }
        if !(self.level > 0.0 && self.level < 100.0) {
            return Err(MetaError::invalid_option(
                "level",
                self.level,
                "the confidence level must lie in (0, 100)",
            ));
        }
        crate::model::analysis::check_digits(self.digits)?;
        if !(self.tol > 0.0 && self.tol.is_finite()) || self.max_iter == 0 {
            return Err(MetaError::invalid_option(
                "tol/max_iter",
                format!("{}/{}", self.tol, self.max_iter),
                "the tolerance must be > 0 and the iteration limit >= 1",
            ));
        }
        Ok(1.0 - self.level / 100.0)
    }

    /// The model matrix.
    fn design(&self, studies: &Studies) -> Result<Design> {
        match &self.outcome {
            None => build(studies, &self.mods, &self.references, self.intercept),
            Some((col, _)) => {
                let mut mods = vec![ModSpec::Categorical(col.clone())];
                mods.extend(self.mods.iter().cloned());
                // the outcome column enters as the first moderator: its errors name it
                build(studies, &mods, &self.references, false).map_err(|e| match e {
                    MetaError::InvalidOption {
                        option,
                        value,
                        reason,
                    } if option == "moderators" && value == *col => MetaError::InvalidOption {
                        option: "outcome".into(),
                        value,
                        reason: reason.replace("categorical moderator", "outcome column"),
                    },
                    e => e,
                })
            }
        }
    }

    fn btt_for(&self, d: &Design) -> Result<Vec<usize>> {
        let p = d.names.len();
        match &self.btt {
            None if p == 1 => Ok(vec![1]),
            None if d.int_incl => Ok((2..=p).collect()),
            None => Ok((1..=p).collect()),
            Some(b) => {
                let mut b = b.clone();
                b.sort_unstable();
                b.dedup();
                if b.is_empty() || b.iter().any(|&j| j == 0 || j > p) {
                    return Err(MetaError::invalid_option(
                        "btt",
                        crate::format::list(self.btt.as_deref().unwrap_or(&[])),
                        format!("coefficients are numbered 1..={p} (1-based, as in metafor)"),
                    ));
                }
                Ok(b)
            }
        }
    }

    /// Fits the model.
    ///
    /// # Formula
    /// `beta = (X'M^-1X)^-1 X'M^-1 y`, `Var(beta) = (X'M^-1X)^-1` at the (RE)ML estimates
    /// of the variance components; z or t (`k - p` df) tests and intervals;
    /// `QM = b'Var(b)^-1 b` over the tested coefficients (chi^2(m), or `QM/m` against
    /// F(m, k - p)); `QE = y'(V^-1 - V^-1X(X'V^-1X)^-1X'V^-1)y` on `k - p` df; fit
    /// statistics as metafor's `fit.stats` (`ll`, deviance `-2(ll_ML - ll_sat)` with
    /// `ll_sat = -k/2 ln 2pi - 1/2 ln|V|` under ML and `-2 ll_REML` under REML, AIC, BIC,
    /// AICc with `parms = p +` the number of estimated components).
    ///
    /// # Errors
    /// * [`MetaError::InvalidOption`] for a method other than REML/ML, a test other than
    ///   z/t, a level outside (0, 100), `digits` above [`MAX_DIGITS`](crate::model::MAX_DIGITS), studies without clusters, `rho` or `phi` outside
    ///   `[-1, 1]`, `rho` given together with covariance blocks, `rho` when every cluster
    ///   has a single effect, a multivariate outcome that never varies within a cluster
    ///   (its correlation cannot be estimated), option `outcome` for an outcome column with
    ///   a single level, option `observations` for a three-level model in which no cluster
    ///   has two observations (the two components are not identified);
    /// * [`MetaError::TooFewClusters`] for fewer than 2 clusters;
    /// * [`MetaError::TooFewStudies`] for `k <= p`;
    /// * [`MetaError::InvalidCluster`] naming the cluster (and its first row) for a
    ///   sampling covariance block that is not positive definite; the errors of the model matrix
    ///   (unknown or missing moderator, collinear columns: [`MetaError::RankDeficient`]);
    /// * [`MetaError::Numerical`] when the optimisation produces no finite result.
    pub fn fit(&self, studies: &Studies) -> Result<MvFit> {
        let alpha = self.alpha()?;
        let Some(cl) = studies.clusters() else {
            return Err(MetaError::invalid_option(
                "cluster",
                "none",
                "a multilevel or multivariate model needs a cluster per effect \
                 (Studies::with_clusters)",
            ));
        };
        let k = studies.k();
        let ncl = cl.len();
        if ncl < 2 {
            return Err(MetaError::TooFewClusters {
                analysis: "a multilevel or multivariate model".into(),
                needed: 2,
                found: ncl,
            });
        }
        if self.vcalc.is_some() && studies.covariance_blocks().is_some() {
            return Err(MetaError::invalid_option(
                "rho",
                self.vcalc.as_ref().map_or(f64::NAN, Vcalc::rho),
                "the studies already carry sampling covariance blocks; give one or the other",
            ));
        }
        let vres = match &self.vcalc {
            Some(vc) => {
                let r = vc.resolve(studies)?;
                if cl.max_size() < 2 {
                    return Err(MetaError::invalid_option(
                        "rho",
                        vc.rho(),
                        format!(
                            "every cluster has a single effect (e.g. cluster {:?}), so a \
                             within-cluster correlation has no effect; check the cluster column",
                            cl.name(0)
                        ),
                    ));
                }
                Some(r)
            }
            None => None,
        };
        let d = self.design(studies)?;
        let btt = self.btt_for(&d)?;
        let p = d.names.len();
        if k <= p {
            return Err(MetaError::TooFewStudies {
                analysis: format!("a model with {p} coefficients"),
                needed: p + 1,
                found: k,
            });
        }

        // cluster order, inner groups
        let obs = studies.observations();
        let mut rows = Vec::with_capacity(k);
        let mut start = vec![0];
        let mut group = Vec::with_capacity(k);
        let mut ngroups = Vec::with_capacity(ncl);
        for c in 0..ncl {
            let m = cl.members(c);
            let mut seen: Vec<&str> = Vec::new();
            for (a, &i) in m.iter().enumerate() {
                rows.push(i);
                let g = match obs {
                    Some(o) => match seen.iter().position(|s| *s == o[i]) {
                        Some(g) => g,
                        None => {
                            seen.push(&o[i]);
                            seen.len() - 1
                        }
                    },
                    None => a,
                };
                group.push(g as u32);
            }
            ngroups.push(if obs.is_some() { seen.len() } else { m.len() } as u32);
            start.push(rows.len());
        }
        let y: Vec<f64> = rows.iter().map(|&i| studies.yi()[i]).collect();
        let vi: Vec<f64> = rows.iter().map(|&i| studies.vi()[i]).collect();
        // The engine works on the orthonormal factor Q of X = QR (cluster order): the
        // likelihood is invariant under X -> X R^-1 (with ln|X'X| in the REML likelihood),
        // and Q keeps X'M^-1X well conditioned when a moderator is far from 0 (a year,
        // say); beta and Var(beta) are mapped back through R at the end.
        let xc = nalgebra::DMatrix::from_fn(k, p, |a, j| d.x[(rows[a], j)]);
        let qr = xc.qr();
        let (qm, rm) = (qr.q(), qr.r());
        let rmax = (0..p).map(|j| rm[(j, j)].abs()).fold(0.0, f64::max);
        if (0..p).any(|j| !(rm[(j, j)].abs() > 1e-12 * rmax)) {
            return Err(MetaError::RankDeficient {
                columns: d.names.clone(),
            });
        }
        let mut x = Vec::with_capacity(k * p);
        for a in 0..k {
            for j in 0..p {
                x.push(qm[(a, j)]);
            }
        }
        let r_factor: Vec<f64> = (0..p * p).map(|a| rm[(a / p, a % p)]).collect();
        let v = match (&vres, studies.covariance_blocks()) {
            (Some(r), _) => VSource::Vcalc {
                rho: r.rho,
                time: r
                    .time
                    .as_ref()
                    .map(|(t, phi)| (rows.iter().map(|&i| t[i]).collect(), *phi)),
            },
            (None, Some(b)) => VSource::Blocks {
                data: b.data.clone(),
                start: b.start.clone(),
            },
            (None, None) => VSource::Diagonal,
        };
        let logdet_xx = 0.0; // ln|Q'Q|

        let mut warnings = Vec::new();
        let (re, param, random_info) = match &self.outcome {
            None => {
                if ngroups.iter().all(|&g| g < 2) {
                    return Err(MetaError::invalid_option(
                        "observations",
                        "one per cluster",
                        "a three-level model needs a cluster with at least 2 observations \
                         (otherwise the cluster and observation components are not identified)",
                    ));
                }
                (Re::Multilevel, Param::Multilevel, None)
            }
            Some((col, structure)) => {
                let levels = d.factors[0].1.clone();
                let m = levels.len();
                let level: Vec<u32> = rows
                    .iter()
                    .map(|&i| (0..m).position(|j| d.x[(i, j)] == 1.0).unwrap_or(0) as u32)
                    .collect();
                // how often each pair of levels occurs together in a cluster
                let pairs = lower_pairs(m);
                let mut together = vec![0usize; pairs.len()];
                for c in 0..ncl {
                    let mut present = vec![false; m];
                    for pos in start[c]..start[c + 1] {
                        present[level[pos] as usize] = true;
                    }
                    for (pi, &(a, b)) in pairs.iter().enumerate() {
                        if present[a] && present[b] {
                            together[pi] += 1;
                        }
                    }
                }
                if together.iter().all(|&t| t == 0) {
                    return Err(MetaError::invalid_option(
                        "outcome",
                        col,
                        "the outcome is constant within every cluster, so the between-outcome \
                         correlation cannot be estimated",
                    ));
                }
                let rho_free: Vec<bool> = match structure {
                    Structure::UN => together.iter().map(|&t| t > 0).collect(),
                    _ => vec![true; pairs.len()],
                };
                if rho_free.iter().any(|f| !f) {
                    warnings.push(
                        "Some combinations of the levels of the inner factor never occurred. \
                         Corresponding rho value(s) fixed to 0."
                            .to_string(),
                    );
                }
                let k_per_level: Vec<usize> = (0..m)
                    .map(|a| level.iter().filter(|&&l| l as usize == a).count())
                    .collect();
                (
                    Re::Multivariate { m, level },
                    Param::Multivariate {
                        structure: *structure,
                        m,
                        rho_free,
                    },
                    Some((col.clone(), *structure, levels, k_per_level, together)),
                )
            }
        };
        let pb = Problem {
            k,
            p,
            start,
            rows,
            y,
            x,
            vi,
            group,
            ngroups,
            v,
            re,
            logdet_xx,
            r_factor,
        };
        let reml = self.method == Method::REML;

        // the fixed-effects pass: QE, starting values, positive definiteness of V
        let fe = evaluate(&pb, None, &vec![0.0; p], 0, reml).map_err(|e| match e {
            Some(c) => not_pd(studies, cl.name(c), cl.members(c)[0]),
            None => MetaError::Numerical {
                context: "the fixed-effects fit (singular X'V^-1X)".into(),
            },
        })?;
        let qe = fe.rss;
        let ll_sat = -0.5 * k as f64 * (2.0 * std::f64::consts::PI).ln() - 0.5 * fe.logdet;
        let scale = pb.vi.iter().sum::<f64>() / k as f64;
        let theta0 = match &self.init {
            Some(t) if t.len() == param.ntheta() => t.clone(),
            _ => start_values(&pb, &param, &fe.beta),
        };
        let nt = param.ntheta();
        if let Some(fx) = &self.fixed {
            check_fixed(&param, fx)?;
        }
        let to_err = |e: OptError| match e {
            OptError::NotPd(c) => not_pd(studies, cl.name(c), cl.members(c)[0]),
            OptError::Numerical => MetaError::Numerical {
                context: "the multilevel likelihood at the starting values".into(),
            },
        };
        let opt = if let Some(fx) = &self.fixed {
            let th = param.from_public(fx);
            let eval = optim::eval_theta(&pb, &param, &th, &fe.beta, reml).map_err(to_err)?;
            optim::Optimum {
                theta: th,
                eval,
                iterations: 0,
                converged: true,
                reason: crate::model::StopReason::Fixed,
            }
        } else {
            maximize(
                &pb,
                &param,
                reml,
                &theta0,
                &vec![false; nt],
                &fe.beta,
                scale,
                Settings {
                    tol: self.tol,
                    max_iter: self.max_iter,
                },
            )
            .map_err(to_err)?
        };
        if !opt.converged {
            warnings.push(format!(
                "The optimisation did not converge after {} iterations; the last iterate is reported.",
                opt.iterations
            ));
        }
        fit::assemble(fit::Parts {
            spec: self,
            studies,
            design: d,
            btt,
            pb: Arc::new(pb),
            param,
            opt,
            reml,
            alpha,
            qe,
            ll_sat,
            scale,
            random_info,
            warnings,
            estimated: self.fixed.is_none(),
        })
    }
}

/// Checks fixed components: their number and range.
fn check_fixed(param: &Param, fx: &[f64]) -> Result<()> {
    if fx.len() != param.ntheta() {
        return Err(MetaError::LengthMismatch {
            field: "fixed components".into(),
            expected: param.ntheta(),
            found: fx.len(),
        });
    }
    for (i, &v) in fx.iter().enumerate() {
        let ok = match param.kind(i) {
            params::Kind::Variance | params::Kind::Sd => v.is_finite() && v >= 0.0,
            params::Kind::Correlation => v.is_finite() && (-1.0..=1.0).contains(&v),
        };
        if !ok {
            return Err(MetaError::invalid_option(
                "fixed components",
                v,
                "variances must be finite and >= 0, correlations in [-1, 1]",
            ));
        }
    }
    if !param.feasible(&param.from_public(fx)) {
        return Err(MetaError::invalid_option(
            "fixed components",
            crate::format::list_num(fx),
            "the outcome-level covariance matrix is not positive semi-definite",
        ));
    }
    Ok(())
}

/// metafor's starting values: `total = max(0.001 n, var(y - X b_FE) - 1/mean(1/v))` split
/// evenly over metafor's `sigma2s + tau2s + gamma2s` slots; correlations 0.5.
fn start_values(pb: &Problem, param: &Param, b_fe: &[f64]) -> Vec<f64> {
    let k = pb.k;
    let p = pb.p;
    let res: Vec<f64> = (0..k)
        .map(|i| {
            pb.y[i]
                - pb.x[i * p..(i + 1) * p]
                    .iter()
                    .zip(b_fe)
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
        })
        .collect();
    let mean = res.iter().sum::<f64>() / k as f64;
    let var = res.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (k as f64 - 1.0);
    let hmean = k as f64 / pb.vi.iter().map(|v| 1.0 / v).sum::<f64>();
    let (slots, nvar) = match param {
        Param::Multilevel => (4.0, 2),
        Param::Multivariate { structure, m, .. } => match structure {
            Structure::CS => (3.0, 1),
            _ => (*m as f64 + 2.0, *m),
        },
    };
    let total = (0.001 * slots).max(var - hmean);
    let mut public = vec![total / slots; nvar];
    public.resize(param.ntheta(), 0.5);
    param.from_public(&public)
}

/// metafor's `fit.stats`.
pub(crate) fn fit_stats(
    ll_ml: f64,
    ll_reml: f64,
    ll_sat: f64,
    parms: usize,
    k: usize,
    p: usize,
) -> FitStats {
    let pa = parms as f64;
    let kf = k as f64;
    let kp = (k - p) as f64;
    let aicc = |ll: f64, n: f64| {
        let nn = n.max(pa + 2.0);
        -2.0 * ll + 2.0 * pa * nn / (nn - pa - 1.0)
    };
    FitStats {
        ll_ml,
        dev_ml: -2.0 * (ll_ml - ll_sat),
        aic_ml: -2.0 * ll_ml + 2.0 * pa,
        bic_ml: -2.0 * ll_ml + pa * kf.ln(),
        aicc_ml: aicc(ll_ml, kf),
        ll_reml,
        dev_reml: -2.0 * ll_reml,
        aic_reml: -2.0 * ll_reml + 2.0 * pa,
        bic_reml: -2.0 * ll_reml + pa * kp.ln(),
        aicc_reml: aicc(ll_reml, kp),
    }
}
