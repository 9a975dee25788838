//! 2x2 tables: [`TwoByTwo`] and the measures OR, RR, RD, AS, PETO, PBIT, OR2DN and OR2DL.

use super::convert::{OddsRatioMethod, log_odds_ratio_to_d_with, var_log_odds_ratio_to_d_with};
use super::measure::{Measure, VarianceType};
use super::table::EffectSizeTable;
use super::{Labels, Options, corrected, count, finish, wmean};
use crate::error::{MetaError, Result};
use crate::numeric::dist::norm_isf;

/// The measures computed from a 2x2 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TwoByTwoMeasure {
    /// Log odds ratio.
    ///
    /// # Formula
    /// `yi = ln(p1/(1-p1)) - ln(p2/(1-p2))`, `vi = 1/a + 1/b + 1/c + 1/d`.
    OR,
    /// Log risk ratio.
    ///
    /// # Formula
    /// `yi = ln p1 - ln p2`, `vi = 1/a - 1/n1 + 1/c - 1/n2`.
    RR,
    /// Risk difference.
    ///
    /// # Formula
    /// `yi = p1 - p2`; `vi = p1(1-p1)/n1 + p2(1-p2)/n2` (LS; `n - 1` for UB; the
    /// size-weighted mean proportions of all studies for AV).
    RD,
    /// Arcsine square-root transformed risk difference (Rücker et al. 2009).
    ///
    /// # Formula
    /// `yi = asin(sqrt(p1)) - asin(sqrt(p2))`, `vi = 1/(4 n1) + 1/(4 n2)`.
    AS,
    /// Peto's log odds ratio (Yusuf et al. 1985).
    ///
    /// # Formula
    /// With `E = (a+c) n1/n` and `V = (a+c)(b+d)(n1/n)(n2/n)/(n-1)`:
    /// `yi = (a - E)/V`, `vi = 1/V`.
    PETO,
    /// Probit transformed risk difference, an estimate of the standardized mean difference
    /// d of a normal latent variable dichotomized in both groups at the same threshold.
    ///
    /// # Formula
    /// With `z_j = Phi^-1(p_j)`: `yi = z1 - z2`,
    /// `vi = 2 pi p1 (1-p1) exp(z1^2)/n1 + 2 pi p2 (1-p2) exp(z2^2)/n2`.
    ///
    /// # References
    /// Sanchez-Meca, J., Marin-Martinez, F., & Chacon-Moscoso, S. (2003). Effect-size
    /// indices for dichotomized outcomes in meta-analysis. *Psychological Methods*, 8(4),
    /// 448-467.
    PBIT,
    /// The log odds ratio transformed to d assuming normal distributions in both groups
    /// (Cox's logit d).
    ///
    /// # Formula
    /// `yi = ln OR / 1.65`, `vi = (1/a + 1/b + 1/c + 1/d) / 1.65^2`.
    ///
    /// # References
    /// Cox, D. R. (1970). *Analysis of Binary Data*. Methuen. Sanchez-Meca, J., et al.
    /// (2003). *Psychological Methods*, 8(4), 448-467.
    OR2DN,
    /// The log odds ratio transformed to d assuming logistic distributions in both groups.
    ///
    /// # Formula
    /// `yi = ln OR sqrt(3)/pi`, `vi = (1/a + 1/b + 1/c + 1/d) 3/pi^2`.
    ///
    /// # References
    /// Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
    /// tests. *Psychological Bulletin*, 117(1), 167-178.
    OR2DL,
}

impl From<TwoByTwoMeasure> for Measure {
    fn from(m: TwoByTwoMeasure) -> Measure {
        match m {
            TwoByTwoMeasure::OR => Measure::OR,
            TwoByTwoMeasure::RR => Measure::RR,
            TwoByTwoMeasure::RD => Measure::RD,
            TwoByTwoMeasure::AS => Measure::AS,
            TwoByTwoMeasure::PETO => Measure::PETO,
            TwoByTwoMeasure::PBIT => Measure::PBIT,
            TwoByTwoMeasure::OR2DN => Measure::OR2DN,
            TwoByTwoMeasure::OR2DL => Measure::OR2DL,
        }
    }
}

/// One study's 2x2 table: `ai`/`bi` events/non-events in group 1 (treatment), `ci`/`di`
/// in group 2 (control), as metafor names them.
///
/// Counts need not be integers (metafor accepts any non-negative numbers); they are
/// validated when effect sizes are computed.
///
/// # Examples
/// ```
/// use metan::data::effect_size::TwoByTwo;
/// let t = TwoByTwo::from_events(10.0, 29.0, 23.0, 52.0); // ai, n1i, ci, n2i
/// assert_eq!((t.ai(), t.bi(), t.ci(), t.di()), (10.0, 19.0, 23.0, 29.0));
/// assert_eq!(t.n1i(), 29.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TwoByTwo {
    ai: f64,
    bi: f64,
    ci: f64,
    di: f64,
    /// Built from events and group sizes (so that `ai > n1i` is reported as such).
    #[cfg_attr(feature = "serde", serde(skip))]
    from_sizes: bool,
}

impl TwoByTwo {
    /// A table from its four cells: `ai` events and `bi` non-events in group 1, `ci` events
    /// and `di` non-events in group 2.
    pub fn new(ai: f64, bi: f64, ci: f64, di: f64) -> Self {
        TwoByTwo {
            ai,
            bi,
            ci,
            di,
            from_sizes: false,
        }
    }

    /// A table from events and group sizes: `bi = n1i - ai`, `di = n2i - ci`.
    pub fn from_events(ai: f64, n1i: f64, ci: f64, n2i: f64) -> Self {
        TwoByTwo {
            ai,
            bi: n1i - ai,
            ci,
            di: n2i - ci,
            from_sizes: true,
        }
    }

    /// Events in group 1.
    pub fn ai(&self) -> f64 {
        self.ai
    }
    /// Non-events in group 1.
    pub fn bi(&self) -> f64 {
        self.bi
    }
    /// Events in group 2.
    pub fn ci(&self) -> f64 {
        self.ci
    }
    /// Non-events in group 2.
    pub fn di(&self) -> f64 {
        self.di
    }
    /// Size of group 1, `ai + bi`.
    pub fn n1i(&self) -> f64 {
        self.ai + self.bi
    }
    /// Size of group 2, `ci + di`.
    pub fn n2i(&self) -> f64 {
        self.ci + self.di
    }

    /// Checks the counts of study `i`.
    pub(crate) fn validate(&self, i: usize, labels: &Labels) -> Result<()> {
        count(i, labels, "ai", self.ai)?;
        count(i, labels, "ci", self.ci)?;
        for (ev, other, nname, oname) in [
            (self.ai, self.bi, "n1i", "bi"),
            (self.ci, self.di, "n2i", "di"),
        ] {
            if self.from_sizes {
                let n = ev + other;
                count(i, labels, nname, n)?;
                if other < 0.0 {
                    return Err(MetaError::invalid_value(
                        i,
                        &labels.get(i),
                        if nname == "n1i" { "ai" } else { "ci" },
                        ev,
                        format!("events exceed the group size {nname} = {n}"),
                    ));
                }
            } else {
                count(i, labels, oname, other)?;
            }
        }
        Ok(())
    }

    fn has_zero(&self) -> bool {
        self.ai == 0.0 || self.bi == 0.0 || self.ci == 0.0 || self.di == 0.0
    }

    fn double_zero(&self) -> bool {
        (self.ai == 0.0 && self.ci == 0.0) || (self.bi == 0.0 && self.di == 0.0)
    }

    fn plus(&self, add: f64) -> TwoByTwo {
        TwoByTwo::new(self.ai + add, self.bi + add, self.ci + add, self.di + add)
    }
}

/// `(yi, vi)` of one (already corrected) table; RD with `AV` uses the mean proportions.
fn effect(m: TwoByTwoMeasure, t: &TwoByTwo, vtype: VarianceType, av: (f64, f64)) -> (f64, f64) {
    let (a, b, c, d) = (t.ai, t.bi, t.ci, t.di);
    let n1 = a + b;
    let n2 = c + d;
    let p1 = a / n1;
    let p2 = c / n2;
    let log_or = || {
        (
            (p1 / (1.0 - p1)).ln() - (p2 / (1.0 - p2)).ln(),
            1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d,
        )
    };
    let or_to_d = |method: OddsRatioMethod| {
        let (y, v) = log_or();
        (
            log_odds_ratio_to_d_with(y, method),
            var_log_odds_ratio_to_d_with(v, method),
        )
    };
    match m {
        TwoByTwoMeasure::OR => log_or(),
        TwoByTwoMeasure::OR2DN => or_to_d(OddsRatioMethod::Normal),
        TwoByTwoMeasure::OR2DL => or_to_d(OddsRatioMethod::Logistic),
        TwoByTwoMeasure::PBIT => {
            // Phi^-1(p) = -(upper quantile of p), as R's qnorm computes it (1 - p above 1/2)
            let z1 = -norm_isf(p1);
            let z2 = -norm_isf(p2);
            let tau = 2.0 * std::f64::consts::PI;
            (
                z1 - z2,
                tau * p1 * (1.0 - p1) * (z1 * z1).exp() / n1
                    + tau * p2 * (1.0 - p2) * (z2 * z2).exp() / n2,
            )
        }
        TwoByTwoMeasure::RR => (p1.ln() - p2.ln(), 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2),
        TwoByTwoMeasure::RD => {
            let v = match vtype {
                VarianceType::UB => p1 * (1.0 - p1) / (n1 - 1.0) + p2 * (1.0 - p2) / (n2 - 1.0),
                VarianceType::AV => av.0 * (1.0 - av.0) / n1 + av.1 * (1.0 - av.1) / n2,
                _ => p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2,
            };
            (p1 - p2, v)
        }
        TwoByTwoMeasure::AS => (
            p1.sqrt().asin() - p2.sqrt().asin(),
            1.0 / (4.0 * n1) + 1.0 / (4.0 * n2),
        ),
        TwoByTwoMeasure::PETO => {
            let n = n1 + n2;
            let xt = a + c;
            let yt = b + d;
            let e = xt * n1 / n;
            let v = xt * yt * (n1 / n) * (n2 / n) / (n - 1.0);
            ((a - e) / v, 1.0 / v)
        }
    }
}

/// Per-study `(yi, vi)` of 2x2 tables with metafor's corrections; also used by the
/// Mantel-Haenszel and Peto fits for their heterogeneity statistics.
pub(crate) fn two_by_two_effects(
    data: &[TwoByTwo],
    m: TwoByTwoMeasure,
    opts: &Options,
) -> Vec<(Option<f64>, Option<f64>)> {
    let dropped: Vec<bool> = data
        .iter()
        .map(|t| opts.drop00 && t.double_zero())
        .collect();
    let zero: Vec<bool> = data.iter().map(TwoByTwo::has_zero).collect();
    let fix = corrected(opts.to, &zero, &dropped);
    let tables: Vec<TwoByTwo> = data
        .iter()
        .zip(&fix)
        .map(|(t, &f)| if f { t.plus(opts.add) } else { *t })
        .collect();
    let av = if m == TwoByTwoMeasure::RD && opts.vtype == VarianceType::AV {
        let keep = |i: usize| !dropped[i];
        let p1 = (0..tables.len()).map(|i| keep(i).then(|| tables[i].ai / tables[i].n1i()));
        let p2 = (0..tables.len()).map(|i| keep(i).then(|| tables[i].ci / tables[i].n2i()));
        (
            wmean(p1, tables.iter().map(TwoByTwo::n1i)),
            wmean(p2, tables.iter().map(TwoByTwo::n2i)),
        )
    } else {
        (f64::NAN, f64::NAN)
    };
    tables
        .iter()
        .zip(&dropped)
        .map(|(t, &drop)| {
            if drop {
                (None, None)
            } else {
                let (y, v) = effect(m, t, opts.vtype, av);
                finish(y, v)
            }
        })
        .collect()
}

pub(super) fn compute(
    data: &[TwoByTwo],
    m: TwoByTwoMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    for (i, t) in data.iter().enumerate() {
        t.validate(i, &labels)?;
    }
    let (yi, vi) = two_by_two_effects(data, m, opts).into_iter().unzip();
    let ni = data.iter().map(|t| t.n1i() + t.n2i()).collect();
    Ok(EffectSizeTable::new(m.into(), yi, vi, labels, ni))
}

#[cfg(test)]
mod tests {
    use super::super::{EffectSizes, To};
    use super::*;

    #[test]
    fn odds_ratio_by_hand() {
        let t = [TwoByTwo::new(4.0, 119.0, 11.0, 128.0)];
        let es = EffectSizes::two_by_two(&t, TwoByTwoMeasure::OR)
            .compute()
            .unwrap();
        let y = (4.0f64 * 128.0 / (119.0 * 11.0)).ln();
        assert!((es.yi()[0].unwrap() - y).abs() < 1e-14);
        let v = 1.0 / 4.0 + 1.0 / 119.0 + 1.0 / 11.0 + 1.0 / 128.0;
        assert!((es.vi()[0].unwrap() - v).abs() < 1e-15);
    }

    #[test]
    fn zero_cells_and_drop00() {
        let t = [
            TwoByTwo::new(0.0, 10.0, 2.0, 8.0),
            TwoByTwo::new(0.0, 10.0, 0.0, 10.0),
        ];
        // only0 corrects both (both have a zero), drop00 then removes the double zero
        let es = EffectSizes::two_by_two(&t, TwoByTwoMeasure::OR)
            .drop00(true)
            .compute()
            .unwrap();
        let y = (0.5f64 * 8.5 / (10.5 * 2.5)).ln();
        assert!((es.yi()[0].unwrap() - y).abs() < 1e-14);
        assert_eq!(es.yi()[1], None);
        // no correction: infinite log OR -> NA, as in metafor
        let es = EffectSizes::two_by_two(&t, TwoByTwoMeasure::OR)
            .to(To::None)
            .compute()
            .unwrap();
        assert_eq!((es.yi()[0], es.vi()[0]), (None, None));
    }

    #[test]
    fn bad_counts_name_study_and_field() {
        let t = [
            TwoByTwo::new(1.0, 2.0, 3.0, 4.0),
            TwoByTwo::new(1.0, -2.0, 3.0, 4.0),
        ];
        let e = EffectSizes::two_by_two(&t, TwoByTwoMeasure::RR)
            .labels(["A", "B"])
            .compute()
            .unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(1, "B", "bi", -2.0, "a count must be >= 0")
        );
        let t = [TwoByTwo::from_events(12.0, 10.0, 3.0, 20.0)];
        let e = EffectSizes::two_by_two(&t, TwoByTwoMeasure::OR)
            .compute()
            .unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(
                0,
                "Study 1",
                "ai",
                12.0,
                "events exceed the group size n1i = 10"
            )
        );
    }
}
