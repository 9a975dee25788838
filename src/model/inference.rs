//! Inference on the pooled estimate: weights, SE, z/t/Knapp-Hartung tests, CI and
//! prediction interval.

use super::method::TestKind;
use crate::numeric::dist::{norm_isf, norm_log_sf, norm_p2, t_isf, t_log_sf, t_p2};

/// Everything `fit` reports about the pooled estimate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inference {
    pub estimate: f64,
    pub se: f64,
    pub statistic: f64,
    pub df: Option<f64>,
    pub p_value: f64,
    pub ci: (f64, f64),
    pub pi: Option<(f64, f64)>,
    /// Weights in percent.
    pub weights: Vec<f64>,
    /// `sum w (y - mu)^2` with `w = 1/(v + tau2)` and the reported `mu` (metafor's `RSS.f`).
    pub rss: f64,
    /// `sum w` with `w = 1/(v + tau2)` (whatever the weights of the estimate).
    pub sw_iv: f64,
}

/// Critical value and two-sided p-value for a statistic under the test's distribution.
pub(crate) fn crit_and_p(test: TestKind, statistic: f64, df: f64, alpha: f64) -> (f64, f64) {
    if test.uses_t() {
        if df > 0.0 {
            (t_isf(alpha / 2.0, df), t_p2(statistic, df))
        } else {
            (f64::NAN, f64::NAN)
        }
    } else {
        (norm_isf(alpha / 2.0), norm_p2(statistic))
    }
}

/// Natural log of the two-sided p-value `2 P(|X| > |statistic|)`, accurate where the
/// p-value underflows; `df = None` for z tests.
pub(crate) fn log_p2(test: TestKind, statistic: f64, df: Option<f64>) -> f64 {
    let x = statistic.abs();
    match df {
        Some(d) if test.uses_t() => std::f64::consts::LN_2 + t_log_sf(x, d),
        _ => std::f64::consts::LN_2 + norm_log_sf(x),
    }
    .min(0.0)
}

/// Pooled estimate and its inference for a given tau^2.
///
/// * `iv`: the inverse-variance fit at `tau2` (`w = 1/(v + tau2)`): `(weighted mean,
///   sum(w), sum w (y - mean)^2)`, always needed (for `RSS.knha`, and as the estimate
///   without user weights), computed by the caller in a pass it makes anyway;
/// * `user`: metafor's `weights` argument (the estimate uses them; its variance is the
///   sandwich `sum(a^2 (v + tau2)) / sum(a)^2`);
/// * `with_pi`: whether to report a prediction interval (not for equal-effects models).
#[allow(clippy::too_many_arguments)]
pub(crate) fn infer(
    y: &[f64],
    v: &[f64],
    tau2: f64,
    (mu_w, sw, rss_w): (f64, f64, f64),
    user: Option<&[f64]>,
    test: TestKind,
    alpha: f64,
    with_pi: bool,
) -> Inference {
    let k = y.len();
    let p = 1usize;

    let (estimate, mut var, weights) = match user {
        None => (mu_w, 1.0 / sw, {
            let scale = 100.0 / sw;
            v.iter().map(|vi| scale / (vi + tau2)).collect::<Vec<_>>()
        }),
        Some(a) => {
            let sa: f64 = a.iter().sum();
            let mu_a = a.iter().zip(y).map(|(ai, yi)| ai * yi).sum::<f64>() / sa;
            let num: f64 = a.iter().zip(v).map(|(ai, vi)| ai * ai * (vi + tau2)).sum();
            (
                mu_a,
                num / (sa * sa),
                a.iter().map(|ai| 100.0 * ai / sa).collect(),
            )
        }
    };
    let rss = match user {
        None => rss_w,
        Some(_) => y
            .iter()
            .zip(v)
            .map(|(yi, vi)| (yi - estimate) * (yi - estimate) / (vi + tau2))
            .sum(),
    };
    let df_resid = (k - p) as f64;
    if matches!(test, TestKind::Knha | TestKind::Adhoc) {
        let mut s2w = if rss_w <= f64::EPSILON {
            0.0
        } else {
            rss_w / df_resid
        };
        if test == TestKind::Adhoc && s2w < 1.0 {
            s2w = 1.0;
        }
        var *= s2w;
    }
    let se = var.sqrt();
    let statistic = estimate / se;
    let df = test.uses_t().then_some(df_resid);
    let (crit, p_value) = crit_and_p(test, statistic, df_resid, alpha);
    let ci = (estimate - crit * se, estimate + crit * se);
    let pi = with_pi.then(|| {
        let s = (var + tau2).sqrt();
        (estimate - crit * s, estimate + crit * s)
    });
    Inference {
        estimate,
        se,
        statistic,
        df,
        p_value,
        ci,
        pi,
        weights,
        rss,
        sw_iv: sw,
    }
}
