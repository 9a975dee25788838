//! Outlier and influence diagnostics (metafor's `influence.rma.uni`).

use std::fmt;

use super::engine::{SeriesData, Source};
use super::leave_one_out::deletion_fits;
use super::prepare;
use crate::data::Studies;
use crate::error::Result;
use crate::format::{fcf, write_table};
use crate::model::Settings;
use crate::numeric::dist::chisq_cdf;

/// Influence diagnostics of one study.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct InfluenceRow {
    /// The study.
    pub study: String,
    /// Externally standardized (studentized deleted) residual.
    pub rstudent: f64,
    /// DFFITS.
    pub dffits: f64,
    /// Cook's distance.
    pub cook_d: f64,
    /// COVRATIO.
    pub cov_r: f64,
    /// tau^2 without the study.
    pub tau2_del: f64,
    /// Cochran's Q without the study.
    pub q_del: f64,
    /// Hat value (leverage).
    pub hat: f64,
    /// Weight in percent.
    pub weight: f64,
    /// DFBETAS, one per model coefficient (serialized as a number for intercept-only
    /// models, as an array otherwise).
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser_dfbetas"))]
    pub dfbetas: Vec<f64>,
    /// Flagged as influential by metafor's rules (see [`InfluenceCutoffs`]).
    pub influential: bool,
}

#[cfg(feature = "serde")]
fn ser_dfbetas<S: serde::Serializer>(v: &[f64], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::Serialize;
    if v.len() == 1 {
        v[0].serialize(s)
    } else {
        v.serialize(s)
    }
}

/// metafor's cut-offs for flagging a study as influential, for `p` coefficients and `k`
/// studies. A study is influential when any rule holds.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct InfluenceCutoffs {
    /// `|DFFITS| > 3 sqrt(p/(k - p))`.
    pub dffits: f64,
    /// Cook's distance above the median of chi^2(p): `pchisq(cook.d, p) > 0.5`.
    pub cook_d: f64,
    /// `hat > 3 p/k`.
    pub hat: f64,
    /// Any `|DFBETAS| > 1`.
    pub dfbetas: f64,
}

impl InfluenceCutoffs {
    /// The cut-offs for `p` coefficients (1 for intercept-only models) and `k` studies.
    pub fn new(p: usize, k: usize) -> Self {
        let (pf, kf) = (p as f64, k as f64);
        InfluenceCutoffs {
            dffits: 3.0 * (pf / (kf - pf)).sqrt(),
            cook_d: crate::numeric::dist::chisq_quantile(0.5, pf),
            hat: 3.0 * pf / kf,
            dfbetas: 1.0,
        }
    }
}

/// Influence diagnostics of every study (see [`influence`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Influence {
    rows: Vec<InfluenceRow>,
    coefficients: Vec<String>,
    cutoffs: InfluenceCutoffs,
    tau2: f64,
    q: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
}

impl Influence {
    /// One row per study, in input order.
    pub fn rows(&self) -> &[InfluenceRow] {
        &self.rows
    }
    /// Names of the coefficients (the columns of DFBETAS): `["intrcpt"]` for
    /// intercept-only models.
    pub fn coefficients(&self) -> &[String] {
        &self.coefficients
    }
    /// The cut-offs used for the `influential` flags.
    pub fn cutoffs(&self) -> InfluenceCutoffs {
        self.cutoffs
    }
    /// tau^2 of the full fit.
    pub fn tau2(&self) -> f64 {
        self.tau2
    }
    /// Q of the full fit.
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Indices of the influential studies.
    pub fn influential(&self) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.rows[i].influential)
            .collect()
    }
    /// The same table printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

impl fmt::Display for Influence {
    /// metafor's `print.infl.rma.uni` layout (DFBETAS as `dfbs` when p = 1), `*` marking
    /// the influential studies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let col = |g: &dyn Fn(&InfluenceRow) -> f64| -> Vec<String> {
            self.rows.iter().map(|r| fcf(g(r), d)).collect()
        };
        let mut headers = vec![
            "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight",
        ];
        let mut cols = vec![
            col(&|r| r.rstudent),
            col(&|r| r.dffits),
            col(&|r| r.cook_d),
            col(&|r| r.cov_r),
            col(&|r| r.tau2_del),
            col(&|r| r.q_del),
            col(&|r| r.hat),
            col(&|r| r.weight),
        ];
        let names: Vec<String> = self.coefficients.clone();
        if names.len() == 1 {
            headers.push("dfbs");
        } else {
            headers.extend(names.iter().map(String::as_str));
        }
        for j in 0..self.coefficients.len() {
            cols.push(col(&|r| r.dfbetas.get(j).copied().unwrap_or(f64::NAN)));
        }
        headers.push("inf");
        cols.push(
            self.rows
                .iter()
                .map(|r| {
                    if r.influential {
                        "*".into()
                    } else {
                        String::new()
                    }
                })
                .collect(),
        );
        let rows: Vec<String> = self.rows.iter().map(|r| r.study.clone()).collect();
        writeln!(f)?;
        write_table(f, &rows, &headers, &cols)?;
        writeln!(f)
    }
}

/// Outlier and influence diagnostics for each study (metafor's `influence.rma.uni`),
/// from the refits without each study with the same estimator, test and weights.
///
/// # Formula
/// With the full fit `mu`, `vb = SE^2`, `tau2`, and for study `i` the fit without it
/// (`mu_(-i)`, `vb_(-i)`, `tau2_(-i)`, Knapp-Hartung factor `s2w_(-i)`, 1 for other tests):
///
/// * `rstudent = (y_i - mu_(-i)) / sqrt(s2w_(-i) (v_i + tau2_(-i)) + vb_(-i))`;
/// * `hat_i = w_i / sum(w)` with `w = 1/(v + tau2)` (the user weights if given);
///   `weight_i = 100 hat_i`;
/// * `DFFITS = (mu - mu_(-i)) / sqrt(s2w_(-i) hat_i (tau2_(-i) + v_i))` (with user weights
///   `a`: `hat_i (tau2_(-i) + v_i)` becomes `sum a_j^2 (tau2_(-i) + v_j) / sum(a)^2`);
/// * `DFBETAS = (mu - mu_(-i)) / sqrt(s2w_(-i) / sum_j 1/(v_j + tau2_(-i)))`, the sum over
///   all k studies (with user weights: `sum a_j^2 (v_j + tau2_(-i)) / sum(a)^2`);
/// * Cook's distance `(mu - mu_(-i))^2 / vb`; `COVRATIO = vb_(-i) / vb`;
/// * `tau2_del = tau2_(-i)`, `q_del = Q_(-i)`;
/// * influential when `|DFFITS| > 3 sqrt(p/(k-p))`, `pchisq(cook_d, p) > 0.5`,
///   `hat > 3p/k` or `|DFBETAS| > 1` (here `p = 1`).
///
/// # Errors
/// Those of [`MetaAnalysis::fit`](crate::MetaAnalysis::fit), and [`crate::MetaError::TooFewStudies`] for k < 2.
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Studies};
/// let s = Studies::from_variances(
///     vec![0.10, 0.12, 0.08, 0.11, 0.95],
///     vec![0.01, 0.01, 0.01, 0.01, 0.01],
/// )?;
/// let inf = metan::sensitivity::influence(&MetaAnalysis::new(), &s)?;
/// assert!(inf.rows()[4].rstudent > 2.0); // the outlying fifth study
/// assert_eq!(inf.influential(), vec![4]);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Viechtbauer, W., & Cheung, M. W.-L. (2010). Outlier and influence diagnostics for
/// meta-analysis. *Research Synthesis Methods*, 1, 112-125. Belsley, D. A., Kuh, E., &
/// Welsch, R. E. (1980). *Regression diagnostics*. Wiley.
pub fn influence(spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<Influence> {
    let prep = prepare(spec, studies, 2, "influence diagnostics")?;
    let weights = prep.spec.weights();
    let fits = deletion_fits(&prep, studies);
    let y = studies.yi();
    let v = studies.vi();
    let k = studies.k();
    let p = 1usize;
    let mu = prep.fit.estimate();
    let vb = prep.fit.se() * prep.fit.se();
    let tau2 = prep.fit.tau2();
    // full-data sums, for the DFBETAS denominators at every tau2_(-i)
    let centres: Vec<f64> = {
        let mut c = vec![0.0];
        if tau2 > 0.0 {
            c.push(tau2);
        }
        c
    };
    let all = SeriesData::new(y, v, weights, mu, &centres);
    let all = all.without(None);
    let plain = all.plain();
    let hat: Vec<f64> = match weights {
        None => {
            let sw: f64 = v.iter().map(|vi| 1.0 / (vi + tau2)).sum();
            v.iter().map(|vi| 1.0 / (vi + tau2) / sw).collect()
        }
        Some(a) => a.iter().map(|ai| ai / plain.sa).collect(),
    };
    let cutoffs = InfluenceCutoffs::new(p, k);
    let rows = fits
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let t = s.tau2;
            let mut h = hat[i];
            if h > 1.0 - 10.0 * f64::EPSILON {
                h = 1.0;
            }
            let weight = 100.0 * hat[i];
            let diff = mu - s.estimate;
            let (dffits_var, vb_del) = match weights {
                None => (h * (t + v[i]), 1.0 / all.at(t).sw),
                Some(_) => {
                    let x = (plain.sa2v + t * plain.sa2) / (plain.sa * plain.sa);
                    (x, x)
                }
            };
            let dffits = diff / (s.s2w * dffits_var).sqrt();
            let dfbetas = diff / (s.s2w * vb_del).sqrt();
            let cook_d = diff * diff / vb;
            let cov_r = s.vb / vb;
            let mut resid = y[i] - s.estimate;
            if resid.abs() < 100.0 * f64::EPSILON {
                resid = 0.0;
            }
            let rstudent = resid / (v[i] * s.s2w + s.vb + t * s.s2w).sqrt();
            let influential = dffits.abs() > cutoffs.dffits
                || chisq_cdf(cook_d, p as f64) > 0.5
                || h > cutoffs.hat
                || dfbetas.abs() > 1.0;
            InfluenceRow {
                study: studies.label(i).to_string(),
                rstudent,
                dffits,
                cook_d,
                cov_r,
                tau2_del: t,
                q_del: s.q,
                hat: h,
                weight,
                dfbetas: vec![dfbetas],
                influential,
            }
        })
        .collect();
    Ok(Influence {
        rows,
        coefficients: vec!["intrcpt".to_string()],
        cutoffs,
        tau2,
        q: prep.fit.heterogeneity().q(),
        digits: prep.spec.digits(),
    })
}
