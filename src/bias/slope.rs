//! The meta-regression on one predictor, `y_i = b0 + b1 x_i + u_i + e_i` (metafor's
//! `rma(yi, vi, mods = x)`), in O(k) per evaluation: the design `[1, x]` has closed-form
//! projector summaries once `x` is centred at its weighted mean, so neither a QR
//! decomposition nor any allocation is needed inside the tau^2 iterations. The regression
//! test and trim-and-fill's estimate of the side use it; it agrees with
//! [`crate::MetaRegression`] (same estimators, same definitions) to rounding.
//!
//! # Formula
//! With weights `w_i`, `sw = sum w`, `c_i = x_i - sum(w x)/sw`, `Sxx = sum w c^2`, the
//! columns `sqrt(w)/sqrt(sw)` and `sqrt(w) c/sqrt(Sxx)` are an orthonormal basis of
//! `sqrt(W) X`, so the leverages are `h_i = w_i (1/sw + c_i^2/Sxx)`, the residuals
//! `e_i = y_i - ybar_w - b1 c_i` with `b1 = sum(w c y)/Sxx`, and the p x p matrices of
//! [`crate::model`]'s general design (`M = Q'WQ`, `N = Q'WVQ`) are 2 x 2 sums:
//! `M_11 = sum w^2/sw`, `M_12 = sum w^2 c/sqrt(sw Sxx)`, `M_22 = sum w^2 c^2/Sxx` (and `N`
//! with an extra factor `v_i`). `ln det(X'WX) = ln sw + ln Sxx`. The coefficients are
//! `b0 = ybar_w - b1 xbar_w`, with `Var(b1) = 1/Sxx`, `Var(b0) = 1/sw + xbar_w^2/Sxx`,
//! `Cov = -xbar_w/Sxx`.

use crate::error::{MetaError, Result};
use crate::model::tau2::{self, Data};
use crate::model::{CheckedMetaAnalysis, PSums, Projector, TestKind, crit_and_p};

/// The projector of the design `[1, x]`.
#[derive(Debug, Clone)]
pub(crate) struct Slope<'a> {
    /// `y` centred at its (unweighted) mean, as metafor's `Ymc` (the quadratic forms in `P`
    /// are unchanged, since `P` annihilates constants).
    y: Vec<f64>,
    v: &'a [f64],
    x: &'a [f64],
}

/// Weighted centring of `x` (and `y`) for weights `w`.
struct Centre {
    sw: f64,
    xbar: f64,
    ybar: f64,
    sxx: f64,
    b1: f64,
}

impl<'a> Slope<'a> {
    pub(crate) fn new(y: &[f64], v: &'a [f64], x: &'a [f64]) -> Self {
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        Slope {
            y: y.iter().map(|a| a - mean).collect(),
            v,
            x,
        }
    }

    fn centre(&self, w: &impl Fn(usize) -> f64) -> Centre {
        centre(&self.y, self.x, w)
    }
}

fn centre(y: &[f64], x: &[f64], w: &impl Fn(usize) -> f64) -> Centre {
    let (mut sw, mut swx, mut swy) = (0.0, 0.0, 0.0);
    for i in 0..y.len() {
        let wi = w(i);
        sw += wi;
        swx += wi * x[i];
        swy += wi * y[i];
    }
    let xbar = swx / sw;
    let ybar = swy / sw;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for i in 0..y.len() {
        let wi = w(i);
        let c = x[i] - xbar;
        sxx += wi * c * c;
        sxy += wi * c * (y[i] - ybar);
    }
    Centre {
        sw,
        xbar,
        ybar,
        sxx,
        b1: sxy / sxx,
    }
}

impl Projector for Slope<'_> {
    fn q_slope(&self, w: impl Fn(usize) -> f64) -> (f64, f64, f64) {
        let s = self.psums(false, w);
        (s.sw, s.q, s.ypp)
    }
    fn k(&self) -> usize {
        self.y.len()
    }
    fn p(&self) -> usize {
        2
    }
    fn y(&self) -> &[f64] {
        &self.y
    }
    fn v(&self) -> &[f64] {
        self.v
    }

    fn psums(&self, with_v: bool, w: impl Fn(usize) -> f64) -> PSums {
        // the weights once (one division per study instead of three)
        let wv: Vec<f64> = (0..self.y.len()).map(&w).collect();
        let w = |i: usize| wv[i];
        let c = self.centre(&w);
        let mut out = PSums {
            sw: c.sw,
            ..PSums::default()
        };
        let (mut m11, mut m12, mut m22) = (0.0, 0.0, 0.0);
        let (mut n11, mut n12, mut n22) = (0.0, 0.0, 0.0);
        let (mut diag_pp, mut diag_pvp, mut diag_pvpv) = (0.0, 0.0, 0.0);
        for i in 0..self.y.len() {
            let wi = w(i);
            let wi2 = wi * wi;
            let ci = self.x[i] - c.xbar;
            let h = wi * (1.0 / c.sw + ci * ci / c.sxx);
            let one_h = 1.0 - h;
            let e = self.y[i] - c.ybar - c.b1 * ci;
            out.s2 += wi2;
            out.q += wi * e * e;
            out.ypp += wi2 * e * e;
            out.trp += wi * one_h;
            out.trpp += wi2 * one_h * one_h;
            diag_pp += wi2 * h * h;
            m11 += wi2;
            m12 += wi2 * ci;
            m22 += wi2 * ci * ci;
            if with_v {
                let vi = self.v[i];
                out.trpv += wi * one_h * vi;
                out.pvp += wi2 * one_h * one_h * vi;
                out.trpvpv += wi2 * one_h * one_h * vi * vi;
                diag_pvp += wi2 * vi * h * h;
                diag_pvpv += wi2 * vi * vi * h * h;
                n11 += wi2 * vi;
                n12 += wi2 * vi * ci;
                n22 += wi2 * vi * ci * ci;
            }
        }
        let (m11, m12, m22) = (m11 / c.sw, m12 / (c.sw * c.sxx).sqrt(), m22 / c.sxx);
        let mm = m11 * m11 + 2.0 * m12 * m12 + m22 * m22;
        out.trpp += (mm - diag_pp).max(0.0);
        if with_v {
            let (n11, n12, n22) = (n11 / c.sw, n12 / (c.sw * c.sxx).sqrt(), n22 / c.sxx);
            let mn = m11 * n11 + 2.0 * m12 * n12 + m22 * n22;
            let nn = n11 * n11 + 2.0 * n12 * n12 + n22 * n22;
            out.pvp += (mn - diag_pvp).max(0.0);
            out.trpvpv += (nn - diag_pvpv).max(0.0);
        }
        out
    }

    fn weighted_q(&self, w: impl Fn(usize) -> f64) -> (f64, f64) {
        let c = self.centre(&w);
        (c.sw, self.rss(&c, &w))
    }

    fn q_logdet(&self, w: impl Fn(usize) -> f64) -> (f64, f64) {
        let c = self.centre(&w);
        (self.rss(&c, &w), c.sw.ln() + c.sxx.ln())
    }
}

impl Slope<'_> {
    fn rss(&self, c: &Centre, w: &impl Fn(usize) -> f64) -> f64 {
        (0..self.y.len())
            .map(|i| {
                let e = self.y[i] - c.ybar - c.b1 * (self.x[i] - c.xbar);
                w(i) * e * e
            })
            .sum()
    }
}

/// One coefficient of the fit: estimate, SE, z/t, p.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coef {
    pub estimate: f64,
    pub se: f64,
    pub statistic: f64,
    pub p_value: f64,
}

/// The fitted one-predictor model.
#[derive(Debug, Clone)]
pub(crate) struct SlopeFit {
    pub tau2: f64,
    pub converged: bool,
    pub iterations: usize,
    pub coef: [Coef; 2],
    /// Critical value of the intervals.
    pub crit: f64,
    pub warnings: Vec<String>,
}

/// Fits `y = b0 + b1 x` with `spec`'s estimator chain, fixed tau^2, control and test, as
/// `MetaRegression::from_analysis(spec)` with the one moderator `x` does.
///
/// # Errors
/// [`MetaError::RankDeficient`] (named `name`) when `x` is constant; the errors of the
/// estimator chain; [`MetaError::Numerical`] for non-finite coefficients.
pub(crate) fn fit_slope(
    spec: &CheckedMetaAnalysis,
    y: &[f64],
    v: &[f64],
    x: &[f64],
    name: &str,
) -> Result<SlopeFit> {
    let alpha = spec.alpha();
    let k = y.len();
    let rank_deficient = || MetaError::RankDeficient {
        columns: vec![name.to_string()],
    };
    if x.iter().all(|a| *a == x[0]) {
        return Err(rank_deficient());
    }
    let mut warnings = Vec::new();
    let vmax = v.iter().cloned().fold(f64::MIN, f64::max);
    let vmin = v.iter().cloned().fold(f64::MAX, f64::min);
    if vmax / vmin >= 1e7 {
        warnings.push("Ratio of largest to smallest sampling variance extremely large. May not be able to obtain stable results.".to_string());
    }
    let model = Slope::new(y, v, x);
    let data = Data {
        model: &model,
        weights: None,
    };
    let ctrl = spec.control();
    let (method, est, _) = spec.run_chain(|m| tau2::estimate(m, &data, &ctrl))?;
    if !est.converged {
        warnings.push(format!(
            "{method} did not converge after {} iterations; the last iterate is reported.",
            est.iterations
        ));
    }
    let tau2 = if method.is_equal_effects() {
        0.0
    } else {
        est.tau2
    };
    let w = |i: usize| 1.0 / (v[i] + tau2);
    let c = centre(y, x, &w);
    if !(c.sxx > 0.0 && c.sxx.is_finite()) {
        return Err(rank_deficient());
    }
    let b1 = c.b1;
    let b0 = c.ybar - b1 * c.xbar;
    let mut var1 = 1.0 / c.sxx;
    let mut var0 = 1.0 / c.sw + c.xbar * c.xbar / c.sxx;
    let test = spec.test();
    let dfr = (k - 2) as f64;
    if matches!(test, TestKind::Knha | TestKind::Adhoc) {
        let rss: f64 = (0..k)
            .map(|i| {
                let e = y[i] - c.ybar - b1 * (x[i] - c.xbar);
                w(i) * e * e
            })
            .sum();
        let mut s2w = if rss <= f64::EPSILON { 0.0 } else { rss / dfr };
        if test == TestKind::Adhoc && s2w < 1.0 {
            s2w = 1.0;
        }
        var0 *= s2w;
        var1 *= s2w;
    }
    let (crit, _) = crit_and_p(test, 0.0, dfr, alpha);
    let coef = |b: f64, var: f64| {
        let se = var.sqrt();
        let z = b / se;
        Coef {
            estimate: b,
            se,
            statistic: z,
            p_value: crit_and_p(test, z, dfr, alpha).1,
        }
    };
    if !(b0.is_finite() && b1.is_finite() && tau2.is_finite()) {
        return Err(MetaError::Numerical {
            context: format!("meta-regression on {name}"),
        });
    }
    Ok(SlopeFit {
        tau2,
        converged: est.converged,
        iterations: est.iterations,
        coef: [coef(b0, var0), coef(b1, var1)],
        crit,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::{MetaAnalysis, MetaRegression, Method, Studies};

    #[test]
    fn equals_the_general_design() {
        let y = [0.3, -0.1, 0.8, 0.25, 0.6, 0.1, -0.3];
        let v = [0.02, 0.1, 0.05, 0.3, 0.04, 0.07, 0.2];
        let x = [1.0, 3.0, 2.5, 10.0, 4.0, 0.5, 7.0];
        let s = Studies::from_variances(y.to_vec(), v.to_vec())
            .unwrap()
            .with_moderator("x", x.to_vec())
            .unwrap();
        for m in [
            Method::REML,
            Method::ML,
            Method::DL,
            Method::HE,
            Method::SJ,
            Method::PM,
        ] {
            for t in [TestKind::Z, TestKind::Knha] {
                let spec = MetaAnalysis::new().method(m).test(t);
                let general = MetaRegression::from_analysis(spec.clone())
                    .moderator("x")
                    .fit(&s)
                    .unwrap();
                let fast = fit_slope(&spec.check().unwrap(), &y, &v, &x, "x").unwrap();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * a.abs().max(1e-3);
                assert!(close(general.tau2(), fast.tau2), "{m} {t} tau2");
                for j in 0..2 {
                    let g = &general.coefficients()[j];
                    let f = &fast.coef[j];
                    assert!(close(g.estimate, f.estimate), "{m} {t} b{j}");
                    assert!(close(g.se, f.se), "{m} {t} se{j}");
                    assert!(close(g.p_value, f.p_value), "{m} {t} p{j}");
                }
            }
        }
    }
}
