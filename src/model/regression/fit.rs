//! Fitting a meta-regression: tau^2 by the estimator core over the design, the
//! coefficients by weighted least squares, the Wald test of the moderators, R^2.

use nalgebra::{DMatrix, DVector};

use super::design::Design;
use super::{Coefficient, MetaRegression, MetaRegressionFit};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::analysis::{CheckedMetaAnalysis, fit_stats_design};
use crate::model::fit::{Attempt, Convergence};
use crate::model::heterogeneity::{Heterogeneity, i2_h2, q_profile, q_test};
use crate::model::inference::crit_and_p;
use crate::model::method::{Method, TestKind};
use crate::model::projection::{DesignProjector, InterceptOnly, Projector};
use crate::model::tau2::{self, Data, Tau2Estimate};
use crate::numeric::dist::{chisq_sf, f_sf};
use crate::numeric::wls::WlsQr;

impl MetaRegression {
    pub(super) fn finish(
        &self,
        spec: &CheckedMetaAnalysis,
        studies: &Studies,
        d: Design,
        btt: Vec<usize>,
        c: Core,
    ) -> Result<MetaRegressionFit> {
        let alpha = spec.alpha;
        let y = studies.yi();
        let v = studies.vi();
        let k = y.len();
        let p = d.names.len();
        let x = &d.x;
        let ee = c.method.is_equal_effects();
        let tau2 = c.tau2;
        let tau2_fixed = !ee && spec.control.fixed.is_some();
        let mut warnings = c.warnings;

        // heterogeneity
        let qt = if d.int_only {
            q_test(&InterceptOnly { y, v })
        } else {
            q_test(&DesignProjector::centred(y, v, x))
        };
        let (i2, h2) = i2_h2(&qt, (!ee).then_some(tau2));
        // extreme designs can cancel tr(P) to a meaningless value (found by tests/properties/fuzz.rs):
        // never report a non-finite or out-of-range I^2 / H^2 as if it were valid
        if !(i2.is_finite() && h2.is_finite() && (0.0..=100.0).contains(&i2) && qt.vt.is_finite()) {
            return Err(MetaError::Numerical {
                context: format!(
                    "residual heterogeneity (I^2 = {i2}, H^2 = {h2}): the design is numerically degenerate"
                ),
            });
        }
        let mut ci_t = None;
        if spec.confint && !ee && !tau2_fixed {
            let tau2_max = spec.tau2_max.unwrap_or_else(|| 100f64.max(10.0 * tau2));
            ci_t = if d.int_only {
                q_profile(&InterceptOnly { y, v }, alpha, tau2_max, Some(tau2))
            } else {
                q_profile(
                    &DesignProjector::new(y.to_vec(), v, x),
                    alpha,
                    tau2_max,
                    Some(tau2),
                )
            };
        }
        // fit statistics
        let logdet_xx = WlsQr::new(x, |_| 1.0).map_or(f64::NAN, |q| q.logdet());
        let fit_stats = fit_stats_design(
            v,
            p,
            tau2,
            c.rss,
            logdet_xx,
            c.qr.logdet(),
            !ee && !tau2_fixed,
            None,
        );
        let parms = p + usize::from(!ee && !tau2_fixed);

        // R^2
        let r2 = if d.int_only || !d.int_incl {
            None
        } else if ee {
            Some(adjusted_r2(x, y, v))
        } else {
            let mut spec0 = spec.clone();
            spec0.methods.retain({
                let mut reached = false;
                move |m| {
                    reached |= *m == c.method;
                    reached
                }
            });
            spec0.confint = false;
            spec0.control.fixed = None;
            match spec0.fit(studies) {
                Ok(f0) if f0.tau2() == 0.0 => Some(0.0),
                Ok(f0) => Some((100.0 * (f0.tau2() - tau2) / f0.tau2()).max(0.0)),
                Err(_) => {
                    warnings.push("R^2 not computed: the intercept-only model failed.".into());
                    None
                }
            }
        };

        // hat values, fitted values, standardized residuals
        let mut hat = Vec::with_capacity(k);
        let mut fitted = Vec::with_capacity(k);
        let mut residuals = Vec::with_capacity(k);
        let mut rstandard = Vec::with_capacity(k);
        for i in 0..k {
            let h = c.qr.leverage(i);
            let f: f64 = (0..p).map(|j| x[(i, j)] * c.beta[j]).sum();
            let mut e = y[i] - f;
            if e.abs() < 100.0 * f64::EPSILON {
                e = 0.0;
            }
            hat.push(if h > 1.0 - 10.0 * f64::EPSILON {
                1.0
            } else {
                h
            });
            fitted.push(f);
            residuals.push(e);
            rstandard.push(e / ((v[i] + tau2) * (1.0 - h)).sqrt());
        }
        let df = spec.test.uses_t().then_some((k - p) as f64);
        let coefficients = (0..p)
            .map(|j| Coefficient {
                name: d.names[j].clone(),
                estimate: c.beta[j],
                se: c.se[j],
                statistic: c.zval[j],
                df,
                p_value: c.pval[j],
                ci_lower: c.beta[j] - c.crit * c.se[j],
                ci_upper: c.beta[j] + c.crit * c.se[j],
            })
            .collect();
        let tau2_se = if ee { None } else { c.est.se };
        Ok(MetaRegressionFit {
            k,
            p,
            method: c.method,
            test: spec.test,
            level: 100.0 * (1.0 - alpha),
            int_only: d.int_only,
            int_incl: d.int_incl,
            coefficients,
            vcov: (0..p)
                .map(|i| (0..p).map(|j| c.vb[(i, j)]).collect())
                .collect(),
            btt,
            qm: c.qm,
            qm_df: c.qm_df.0,
            qm_df2: c.qm_df.1,
            qm_p_value: c.qm_p,
            heterogeneity: Heterogeneity {
                tau2,
                tau2_se,
                tau2_fixed,
                i2,
                h2,
                r2,
                q: qt,
                tau2_ci: ci_t,
                equal_effects: ee,
                residual: !d.int_only,
            },
            s2w: c.s2w,
            hat,
            fitted,
            residuals,
            rstandard,
            fit_stats,
            parms,
            converged: c.est.converged,
            convergence: Convergence {
                converged: c.est.converged,
                iterations: c.est.iterations,
                reason: c.est.reason,
                attempts: c.attempts,
            },
            warnings,
            crit: c.crit,
            yi: y.to_vec(),
            vi: v.to_vec(),
            x: d.x,
            digits: spec.digits,
        })
    }
}

/// The part of a fit that permutation tests repeat.
pub(crate) struct Core {
    pub method: Method,
    pub est: Tau2Estimate,
    pub attempts: Vec<Attempt>,
    pub tau2: f64,
    pub qr: WlsQr,
    pub beta: DVector<f64>,
    pub vb: DMatrix<f64>,
    pub se: Vec<f64>,
    pub zval: Vec<f64>,
    pub pval: Vec<f64>,
    pub crit: f64,
    pub rss: f64,
    pub s2w: f64,
    pub qm: f64,
    pub qm_df: (f64, Option<f64>),
    pub qm_p: f64,
    pub warnings: Vec<String>,
}

/// tau^2 through the fallback chain, then the WLS fit and the tests of the coefficients.
pub(crate) fn core_fit(
    spec: &CheckedMetaAnalysis,
    x: &DMatrix<f64>,
    int_only: bool,
    y: &[f64],
    v: &[f64],
    btt: &[usize],
) -> Result<Core> {
    let alpha = spec.alpha;
    let k = y.len();
    let p = x.ncols();
    let mut warnings = Vec::new();
    let vmax = v.iter().cloned().fold(f64::MIN, f64::max);
    let vmin = v.iter().cloned().fold(f64::MAX, f64::min);
    if vmax / vmin >= 1e7 {
        warnings.push("Ratio of largest to smallest sampling variance extremely large. May not be able to obtain stable results.".to_string());
    }
    let (method, est, attempts) = if int_only {
        chain(spec, &InterceptOnly { y, v })?
    } else {
        chain(spec, &DesignProjector::centred(y, v, x))?
    };
    if !est.converged {
        warnings.push(format!(
            "{method} did not converge after {} iterations; the last iterate is reported.",
            est.iterations
        ));
    }
    let ee = method.is_equal_effects();
    let tau2 = if ee { 0.0 } else { est.tau2 };
    let qr = WlsQr::new(x, |i| 1.0 / (v[i] + tau2)).ok_or_else(|| MetaError::Numerical {
        context: "weighted least squares (singular X'WX)".into(),
    })?;
    let beta = qr.coefficients(y);
    let rss: f64 = qr.weighted_residuals(y).iter().map(|r| r * r).sum();
    let mut vb = qr.cov_unscaled();
    let test = spec.test;
    let dfr = (k - p) as f64;
    let mut s2w = 1.0;
    if matches!(test, TestKind::Knha | TestKind::Adhoc) {
        s2w = if rss <= f64::EPSILON { 0.0 } else { rss / dfr };
        if test == TestKind::Adhoc && s2w < 1.0 {
            s2w = 1.0;
        }
        vb *= s2w;
    }
    let se: Vec<f64> = (0..p).map(|j| vb[(j, j)].sqrt()).collect();
    let zval: Vec<f64> = (0..p).map(|j| beta[j] / se[j]).collect();
    let (crit, _) = crit_and_p(test, 0.0, dfr, alpha);
    let pval = zval
        .iter()
        .map(|&z| crit_and_p(test, z, dfr, alpha).1)
        .collect();
    let (qm, qm_df, qm_p) = wald(&beta, &vb, btt, test, dfr);
    if !(beta.iter().all(|b| b.is_finite()) && tau2.is_finite()) {
        return Err(MetaError::Numerical {
            context: "meta-regression coefficients".into(),
        });
    }
    Ok(Core {
        method,
        est,
        attempts,
        tau2,
        qr,
        beta,
        vb,
        se,
        zval,
        pval,
        crit,
        rss,
        s2w,
        qm,
        qm_df,
        qm_p,
        warnings,
    })
}

fn chain<M: Projector>(
    spec: &CheckedMetaAnalysis,
    model: &M,
) -> Result<(Method, Tau2Estimate, Vec<Attempt>)> {
    let data = Data {
        model,
        weights: None,
    };
    let ctrl = spec.control();
    spec.run_chain(|m| tau2::estimate(m, &data, &ctrl))
}

/// The Wald test of the coefficients `btt` (1-based): `(QM, (df1, df2), p)`.
pub(crate) fn wald(
    beta: &DVector<f64>,
    vb: &DMatrix<f64>,
    btt: &[usize],
    test: TestKind,
    dfr: f64,
) -> (f64, (f64, Option<f64>), f64) {
    let m = btt.len();
    let b = DVector::from_iterator(m, btt.iter().map(|&j| beta[j - 1]));
    let s = DMatrix::from_fn(m, m, |a, c| vb[(btt[a] - 1, btt[c] - 1)]);
    let qm = match s.cholesky() {
        Some(ch) => b.dot(&ch.solve(&b)),
        None => f64::NAN,
    };
    let mf = m as f64;
    if test.uses_t() {
        let f = qm / mf;
        let p = if dfr > 0.0 {
            f_sf(f, mf, dfr)
        } else {
            f64::NAN
        };
        (f, (mf, Some(dfr)), p)
    } else {
        (qm, (mf, None), chisq_sf(qm, mf))
    }
}

/// `max(0, 100 * adjusted R^2)` of the weighted (`1/v`) least-squares fit with an intercept,
/// metafor's R^2 for equal-effects models with moderators.
fn adjusted_r2(x: &DMatrix<f64>, y: &[f64], v: &[f64]) -> f64 {
    let k = y.len() as f64;
    let mean = y.iter().sum::<f64>() / k;
    if y.iter().all(|&a| a == mean) {
        return 0.0;
    }
    let Some(qr) = WlsQr::new(x, |i| 1.0 / v[i]) else {
        return f64::NAN;
    };
    let beta = qr.coefficients(y);
    let p = x.ncols();
    let f: Vec<f64> = (0..y.len())
        .map(|i| (0..p).map(|j| x[(i, j)] * beta[j]).sum())
        .collect();
    let sw: f64 = v.iter().map(|vi| 1.0 / vi).sum();
    let m: f64 = f.iter().zip(v).map(|(fi, vi)| fi / vi).sum::<f64>() / sw;
    let mss: f64 = f
        .iter()
        .zip(v)
        .map(|(fi, vi)| (fi - m) * (fi - m) / vi)
        .sum();
    let rss: f64 = qr.weighted_residuals(y).iter().map(|r| r * r).sum();
    let r2 = mss / (mss + rss);
    let adj = 1.0 - (1.0 - r2) * (k - 1.0) / (k - p as f64);
    (100.0 * adj).max(0.0)
}
