//! The Mantel-Haenszel method for 2x2 tables (metafor's `rma.mh`): [`MantelHaenszel`] ->
//! [`MhFit`].

use std::fmt;

use super::tables::{
    TableOptions, heterogeneity, prepare, sum, table_option_setters, write_heterogeneity,
};
use crate::data::effect_size::{
    BackTransformed, Measure, To, Transform, TwoByTwo, TwoByTwoMeasure,
};
use crate::error::Result;
use crate::format::{fcf, pval_add0, pval_str};
use crate::numeric::dist::{chisq_sf, norm_isf, norm_p2};

/// The measures the Mantel-Haenszel method pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MhMeasure {
    /// Odds ratio (pooled on the log scale).
    OR,
    /// Risk ratio (pooled on the log scale).
    RR,
    /// Risk difference.
    RD,
}

impl MhMeasure {
    fn two_by_two(self) -> TwoByTwoMeasure {
        match self {
            MhMeasure::OR => TwoByTwoMeasure::OR,
            MhMeasure::RR => TwoByTwoMeasure::RR,
            MhMeasure::RD => TwoByTwoMeasure::RD,
        }
    }
}

impl From<MhMeasure> for Measure {
    fn from(m: MhMeasure) -> Measure {
        m.two_by_two().into()
    }
}

impl fmt::Display for MhMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Measure::from(*self).fmt(f)
    }
}

impl std::str::FromStr for MhMeasure {
    type Err = crate::MetaError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "OR" => Ok(MhMeasure::OR),
            "RR" => Ok(MhMeasure::RR),
            "RD" => Ok(MhMeasure::RD),
            _ => Err(crate::MetaError::UnknownName {
                kind: "Mantel-Haenszel measure".into(),
                name: s.to_string(),
                expected: "OR, RR, RD".into(),
            }),
        }
    }
}

/// Specification of a Mantel-Haenszel analysis of 2x2 tables (metafor's `rma.mh`).
///
/// The pooled estimate is computed from the tables as given (no continuity correction by
/// default: `table_add = 0`, `table_to = none`); Q and I^2 use the per-study outcomes with
/// metafor's defaults `add = 1/2`, `to = only0`, `drop00 = true`.
///
/// # Examples
/// ```
/// use metan::data::effect_size::TwoByTwo;
/// use metan::model::{MantelHaenszel, MhMeasure};
/// // BCG trials 1-4: TB cases / non-cases, vaccinated vs control
/// let t = [
///     TwoByTwo::new(4.0, 119.0, 11.0, 128.0),
///     TwoByTwo::new(6.0, 300.0, 29.0, 274.0),
///     TwoByTwo::new(3.0, 228.0, 11.0, 209.0),
///     TwoByTwo::new(62.0, 13536.0, 248.0, 12619.0),
/// ];
/// let fit = MantelHaenszel::new(MhMeasure::OR).fit(&t)?;
/// let or = fit.back_transformed().unwrap();
/// assert!(or.estimate < 1.0 && or.ci_upper < 1.0);
/// assert!(fit.cmh().unwrap() > 3.84); // significant at 5%
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Mantel, N., & Haenszel, W. (1959). Statistical aspects of the analysis of data from
/// retrospective studies of disease. *Journal of the National Cancer Institute*, 22,
/// 719-748. Robins, J., Breslow, N., & Greenland, S. (1986). Estimators of the
/// Mantel-Haenszel variance consistent in both sparse data and large-strata limiting
/// models. *Biometrics*, 42, 311-323. Greenland, S., & Robins, J. M. (1985). Estimation of a
/// common effect parameter from sparse follow-up data. *Biometrics*, 41, 55-68. Sato, T.,
/// Greenland, S., & Robins, J. M. (1989). On the variance estimator for the Mantel-Haenszel
/// risk difference. *Biometrics*, 45, 1323-1324. Tarone, R. E. (1985). On heterogeneity
/// tests based on efficient scores. *Biometrika*, 72, 91-95.
#[derive(Debug, Clone, PartialEq)]
pub struct MantelHaenszel {
    measure: MhMeasure,
    opts: TableOptions,
    correct: bool,
}

impl MantelHaenszel {
    /// A Mantel-Haenszel analysis of `measure` with metafor's defaults.
    pub fn new(measure: MhMeasure) -> Self {
        MantelHaenszel {
            measure,
            opts: TableOptions::default(),
            correct: true,
        }
    }

    table_option_setters!();

    /// Whether the CMH test uses the continuity correction of 1/2 (metafor's `correct`;
    /// default true).
    pub fn correct(mut self, correct: bool) -> Self {
        self.correct = correct;
        self
    }

    /// Pools the tables.
    ///
    /// # Formula
    /// With `n = a + b + c + d`:
    /// * OR: `R = sum(a d/n)`, `S = sum(b c/n)`, `OR = R/S`; Robins-Breslow-Greenland
    ///   `Var(ln OR) = sum(P R_i)/(2R^2) + sum(P S_i + Q R_i)/(2RS) + sum(Q S_i)/(2S^2)`
    ///   with `P = (a + d)/n`, `Q = (b + c)/n`;
    /// * RR: `RR = sum(a n2/n)/sum(c n1/n)`; Greenland-Robins
    ///   `Var(ln RR) = sum(n1 n2 (a + c)/n^2 - a c/n)/(R S)`;
    /// * RD: `RD = sum(a n2/n - c n1/n)/sum(n1 n2/n)` with the Sato-Greenland-Robins
    ///   variance.
    ///
    /// For OR also the CMH test `(|sum(a - n1 m1/n)| - 1/2)^2 / sum(n1 n2 m1 m2/(n^2 (n-1)))`
    /// (and Cochran's version with `n` for `n - 1`), and the Breslow-Day and Tarone tests of
    /// homogeneity on `k_pos - 1` df.
    ///
    /// # Errors
    /// [`crate::MetaError::Empty`] for no tables, [`crate::MetaError::InvalidOption`] for a
    /// bad level or correction, [`crate::MetaError::InvalidValue`] naming the study for a bad
    /// count, and [`crate::MetaError::TooFewStudies`] when every table is dropped.
    ///
    /// When the estimate cannot be computed (OR: `R = 0` or `S = 0`; RR: no events in one
    /// group of every table) it is NaN, as metafor's `NA`; see [`MhFit::is_estimable`].
    pub fn fit(&self, tables: &[TwoByTwo]) -> Result<MhFit> {
        let p = prepare(
            tables,
            self.measure.two_by_two(),
            &self.opts,
            "the Mantel-Haenszel method",
        )?;
        let k = p.k();
        let n1: Vec<f64> = (0..k).map(|i| p.a[i] + p.b[i]).collect();
        let n2: Vec<f64> = (0..k).map(|i| p.c[i] + p.d[i]).collect();
        let nn: Vec<f64> = (0..k).map(|i| n1[i] + n2[i]).collect();
        let (a, b, c, d) = (&p.a, &p.b, &p.c, &p.d);
        let mut out = Tests::default();
        let (beta, se) = match self.measure {
            MhMeasure::OR => {
                let pi: Vec<f64> = (0..k).map(|i| a[i] / nn[i] + d[i] / nn[i]).collect();
                let qi: Vec<f64> = (0..k).map(|i| b[i] / nn[i] + c[i] / nn[i]).collect();
                let ri: Vec<f64> = (0..k).map(|i| (a[i] / nn[i]) * d[i]).collect();
                let si: Vec<f64> = (0..k).map(|i| (b[i] / nn[i]) * c[i]).collect();
                let r = sum(ri.iter().copied());
                let s = sum(si.iter().copied());
                let (beta, se, psi) = if r == 0.0 || s == 0.0 {
                    (f64::NAN, f64::NAN, f64::NAN)
                } else {
                    let psi = r / s;
                    let v = 0.5
                        * (sum((0..k).map(|i| pi[i] * ri[i])) / (r * r)
                            + sum((0..k).map(|i| pi[i] * si[i] + qi[i] * ri[i])) / (r * s)
                            + sum((0..k).map(|i| qi[i] * si[i])) / (s * s));
                    (psi.ln(), v.sqrt(), psi)
                };
                out = self.or_tests(a, b, c, d, &n1, &n2, &nn, psi);
                (beta, se)
            }
            MhMeasure::RR => {
                let r = sum((0..k).map(|i| a[i] * (n2[i] / nn[i])));
                let s = sum((0..k).map(|i| c[i] * (n1[i] / nn[i])));
                if sum(a.iter().copied()) == 0.0 || sum(c.iter().copied()) == 0.0 {
                    (f64::NAN, f64::NAN)
                } else {
                    let psi = r / s;
                    let num = sum((0..k).map(|i| {
                        (n1[i] / nn[i]) * (n2[i] / nn[i]) * (a[i] + c[i]) - (a[i] / nn[i]) * c[i]
                    }));
                    (psi.ln(), (num / (r * s)).sqrt())
                }
            }
            MhMeasure::RD => {
                let den = sum((0..k).map(|i| n1[i] * (n2[i] / nn[i])));
                let beta =
                    sum((0..k).map(|i| a[i] * (n2[i] / nn[i]) - c[i] * (n1[i] / nn[i]))) / den;
                let s1 = sum((0..k).map(|i| {
                    let f1 = n1[i] / nn[i];
                    let f2 = n2[i] / nn[i];
                    c[i] * (f1 * f1) - a[i] * (f2 * f2) + f1 * f2 * (n2[i] - n1[i]) / 2.0
                }));
                let s2 =
                    sum((0..k)
                        .map(|i| a[i] * (n2[i] - c[i]) / nn[i] + c[i] * (n1[i] - a[i]) / nn[i]));
                let v = (beta * s1 + s2 / 2.0) / (den * den);
                (beta, v.sqrt())
            }
        };
        let zval = beta / se;
        let crit = norm_isf(p.alpha / 2.0);
        let (q, q_df, q_p_value, i2, h2) = heterogeneity(&p.yi, &p.vi, beta);
        let measure: Measure = self.measure.into();
        let back = (self.measure != MhMeasure::RD).then(|| {
            BackTransformed::new(
                Transform::Exp,
                beta,
                (beta - crit * se, beta + crit * se),
                None,
            )
        });
        Ok(MhFit {
            measure: self.measure,
            k,
            k_yi: p.k_yi(),
            k_pos: out.k_pos,
            level: 100.0 * (1.0 - p.alpha),
            estimate: beta,
            se,
            statistic: zval,
            p_value: norm_p2(zval),
            ci_lower: beta - crit * se,
            ci_upper: beta + crit * se,
            q,
            q_df,
            q_p_value,
            i2,
            h2,
            cochran: out.cochran,
            cochran_p_value: out.cochran.map(|x| chisq_sf(x, 1.0)),
            cmh: out.cmh,
            cmh_p_value: out.cmh.map(|x| chisq_sf(x, 1.0)),
            breslow_day: out.breslow_day,
            breslow_day_p_value: out.breslow_day_p,
            tarone: out.tarone,
            tarone_p_value: out.tarone_p,
            back_transformed: back,
            warnings: p.warnings,
            digits: self.opts.digits,
            scale: measure.natural_scale(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn or_tests(
        &self,
        a: &[f64],
        b: &[f64],
        c: &[f64],
        d: &[f64],
        n1: &[f64],
        n2: &[f64],
        nn: &[f64],
        psi: f64,
    ) -> Tests {
        let k = a.len();
        let xt: Vec<f64> = (0..k).map(|i| a[i] + c[i]).collect();
        let yt: Vec<f64> = (0..k).map(|i| b[i] + d[i]).collect();
        let mut t = Tests {
            k_pos: Some(0),
            ..Tests::default()
        };
        if sum(xt.iter().copied()) != 0.0 && sum(yt.iter().copied()) != 0.0 {
            let dev = sum((0..k).map(|i| a[i] - (n1[i] / nn[i]) * xt[i])).abs()
                - if self.correct { 0.5 } else { 0.0 };
            let num = dev * dev;
            let v_co =
                sum((0..k).map(|i| (n1[i] / nn[i]) * (n2[i] / nn[i]) * (xt[i] * (yt[i] / nn[i]))));
            let v_mh = sum((0..k)
                .map(|i| (n1[i] / nn[i]) * (n2[i] / nn[i]) * (xt[i] * (yt[i] / (nn[i] - 1.0)))));
            t.cochran = Some(num / v_co);
            t.cmh = Some(num / v_mh);
        }
        if psi.is_nan() {
            return t;
        }
        // Breslow-Day / Tarone: expected a under the common OR
        let mut dev = Vec::with_capacity(k);
        let mut w = Vec::with_capacity(k);
        for i in 0..k {
            let n11 = if psi == 1.0 {
                (n1[i] / nn[i]) * xt[i]
            } else {
                let aa = psi * (n1[i] + xt[i]) + (n2[i] - xt[i]);
                let bb = (aa * aa - 4.0 * n1[i] * xt[i] * psi * (psi - 1.0)).sqrt();
                (aa - bb) / (2.0 * (psi - 1.0))
            };
            if n11 > 0.0 && xt[i] > 0.0 && yt[i] > 0.0 {
                let n12 = n1[i] - n11;
                let n21 = xt[i] - n11;
                let n22 = n11 - n1[i] - xt[i] + nn[i];
                dev.push(a[i] - n11);
                w.push(1.0 / (1.0 / n11 + 1.0 / n12 + 1.0 / n21 + 1.0 / n22));
            }
        }
        let k_pos = dev.len();
        let bd = sum(dev.iter().zip(&w).map(|(e, w)| e * e / w)).max(0.0);
        let se = sum(dev.iter().copied());
        let ta = (bd - se * se / sum(w.iter().copied())).max(0.0);
        t.k_pos = Some(k_pos);
        t.breslow_day = Some(bd);
        t.tarone = Some(ta);
        if k_pos > 1 {
            let df = (k_pos - 1) as f64;
            t.breslow_day_p = Some(chisq_sf(bd, df));
            t.tarone_p = Some(chisq_sf(ta, df));
        }
        t
    }
}

#[derive(Debug, Default)]
struct Tests {
    k_pos: Option<usize>,
    cochran: Option<f64>,
    cmh: Option<f64>,
    breslow_day: Option<f64>,
    breslow_day_p: Option<f64>,
    tarone: Option<f64>,
    tarone_p: Option<f64>,
}

/// A Mantel-Haenszel fit. Field names match [`crate::MetaFit`]'s where they apply; with
/// the `serde` feature it serializes to the JSON of `metan mh --format json` (NaN and
/// missing values become `null`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MhFit {
    measure: MhMeasure,
    k: usize,
    k_yi: usize,
    k_pos: Option<usize>,
    level: f64,
    estimate: f64,
    se: f64,
    statistic: f64,
    p_value: f64,
    ci_lower: f64,
    ci_upper: f64,
    q: f64,
    q_df: f64,
    q_p_value: f64,
    i2: f64,
    h2: f64,
    cochran: Option<f64>,
    cochran_p_value: Option<f64>,
    cmh: Option<f64>,
    cmh_p_value: Option<f64>,
    breslow_day: Option<f64>,
    breslow_day_p_value: Option<f64>,
    tarone: Option<f64>,
    tarone_p_value: Option<f64>,
    back_transformed: Option<BackTransformed>,
    warnings: Vec<String>,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
    #[cfg_attr(feature = "serde", serde(skip))]
    scale: &'static str,
}

impl MhFit {
    /// The measure.
    pub fn measure(&self) -> MhMeasure {
        self.measure
    }
    /// Number of tables used for the pooled estimate.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Number of per-study outcomes behind Q (metafor's `k.yi`).
    pub fn k_yi(&self) -> usize {
        self.k_yi
    }
    /// Number of tables informative for Tarone's test (metafor's `k.pos`; OR only).
    pub fn k_pos(&self) -> Option<usize> {
        self.k_pos
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// True when the pooled estimate could be computed (it is NaN otherwise).
    pub fn is_estimable(&self) -> bool {
        self.estimate.is_finite()
    }
    /// Pooled estimate (log OR, log RR or RD).
    pub fn estimate(&self) -> f64 {
        self.estimate
    }
    /// Its standard error.
    pub fn se(&self) -> f64 {
        self.se
    }
    /// z statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// Two-sided p-value.
    pub fn p_value(&self) -> f64 {
        self.p_value
    }
    /// Confidence interval.
    pub fn ci(&self) -> (f64, f64) {
        (self.ci_lower, self.ci_upper)
    }
    /// Cochran's Q of the per-study outcomes around the MH estimate.
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Degrees of freedom of Q (`k_yi - 1`).
    pub fn q_df(&self) -> f64 {
        self.q_df
    }
    /// p-value of Q.
    pub fn q_p_value(&self) -> f64 {
        self.q_p_value
    }
    /// I^2 in percent.
    pub fn i2(&self) -> f64 {
        self.i2
    }
    /// H^2.
    pub fn h2(&self) -> f64 {
        self.h2
    }
    /// Cochran's test statistic (OR; `None` when not computable).
    pub fn cochran(&self) -> Option<f64> {
        self.cochran
    }
    /// Its p-value.
    pub fn cochran_p_value(&self) -> Option<f64> {
        self.cochran_p_value
    }
    /// The Cochran-Mantel-Haenszel test statistic (OR; `None` when not computable).
    pub fn cmh(&self) -> Option<f64> {
        self.cmh
    }
    /// Its p-value (chi^2 on 1 df).
    pub fn cmh_p_value(&self) -> Option<f64> {
        self.cmh_p_value
    }
    /// The Breslow-Day test statistic (OR).
    pub fn breslow_day(&self) -> Option<f64> {
        self.breslow_day
    }
    /// Its p-value (chi^2 on `k_pos - 1` df).
    pub fn breslow_day_p_value(&self) -> Option<f64> {
        self.breslow_day_p_value
    }
    /// Tarone's test statistic for heterogeneity (OR).
    pub fn tarone(&self) -> Option<f64> {
        self.tarone
    }
    /// Its p-value (chi^2 on `k_pos - 1` df).
    pub fn tarone_p_value(&self) -> Option<f64> {
        self.tarone_p_value
    }
    /// The estimate and CI on the ratio scale (`exp`; OR and RR only).
    pub fn back_transformed(&self) -> Option<BackTransformed> {
        self.back_transformed
    }
    /// Warnings metafor would have given (NA outcomes, omitted tables).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// The same fit, printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

/// The model-results block of `print.rma.mh` / `print.rma.peto`.
pub(crate) fn write_results(
    f: &mut fmt::Formatter<'_>,
    est: (f64, f64, f64, f64, f64, f64),
    back: Option<(&str, &BackTransformed)>,
    d: usize,
) -> fmt::Result {
    use crate::format::print_vector;
    let (estimate, se, z, p, lb, ub) = est;
    let cells = [
        ("estimate", fcf(estimate, d)),
        ("se", fcf(se, d)),
        ("zval", fcf(z, d)),
        ("pval", pval_str(p, d, false, "")),
        ("ci.lb", fcf(lb, d)),
        ("ci.ub", fcf(ub, d)),
    ];
    match back {
        Some((scale, bt)) => {
            writeln!(f, "Model Results (log scale):")?;
            writeln!(f)?;
            print_vector(f, &cells)?;
            writeln!(f)?;
            writeln!(f, "Model Results ({scale} scale):")?;
            writeln!(f)?;
            print_vector(
                f,
                &[
                    ("estimate", fcf(bt.estimate, d)),
                    ("ci.lb", fcf(bt.ci_lower, d)),
                    ("ci.ub", fcf(bt.ci_upper, d)),
                ],
            )
        }
        None => {
            writeln!(f, "Model Results:")?;
            writeln!(f)?;
            print_vector(f, &cells)
        }
    }
}

impl fmt::Display for MhFit {
    /// The layout of metafor's `print.rma.mh`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        write_heterogeneity(
            f,
            self.k,
            self.i2,
            self.h2,
            self.q,
            self.k_yi as i64 - 1,
            self.q_p_value,
            d,
        )?;
        write_results(
            f,
            (
                self.estimate,
                self.se,
                self.statistic,
                self.p_value,
                self.ci_lower,
                self.ci_upper,
            ),
            self.back_transformed.as_ref().map(|b| (self.scale, b)),
            d,
        )?;
        if self.measure == MhMeasure::OR {
            writeln!(f)?;
            let cmh = self.cmh.map(|x| fcf(x, d));
            let ta = self.tarone.map(|x| fcf(x, d));
            let len = |s: &Option<String>| s.as_ref().map_or(2, |s| s.chars().count());
            let width = if cmh.is_none() && ta.is_none() {
                1
            } else {
                len(&cmh).max(len(&ta))
            };
            let k_pos = self.k_pos.unwrap_or(0);
            write!(f, "Cochran-Mantel-Haenszel Test:    ")?;
            match (&cmh, self.cmh_p_value) {
                (Some(x), Some(p)) => writeln!(
                    f,
                    "CMH = {x:>width$}, df = 1,{} p-val {}",
                    " ".repeat(k_pos.to_string().len().saturating_sub(1)),
                    pval_add0(p, d)
                )?,
                _ => writeln!(f, "test value not computable for these data")?,
            }
            write!(f, "Tarone's Test for Heterogeneity: ")?;
            match &ta {
                Some(x) => writeln!(
                    f,
                    "X^2 = {x:>width$}, df = {}, p-val {}",
                    k_pos as i64 - 1,
                    pval_add0(self.tarone_p_value.unwrap_or(f64::NAN), d)
                )?,
                None => writeln!(f, "test value not computable for these data")?,
            }
        }
        writeln!(f)
    }
}
