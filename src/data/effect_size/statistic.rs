//! A reported two-group contrast: [`TwoGroupStatistic`] (a d, a t statistic or a p-value
//! with the group sizes) and the measures SMD, D2ORN and D2ORL computed from it.

use std::fmt;
use std::str::FromStr;

use super::means::{self, MeansMeasure, TwoGroupMeans};
use super::measure::Measure;
use super::table::EffectSizeTable;
use super::{Labels, Options, finite};
use crate::error::{MetaError, Result};
use crate::numeric::dist::t_isf;

/// The measures computed from a reported d, t statistic or p-value of two groups.
///
/// metafor's `escalc(measure, di = , ti = , n1i = , n2i = )` (and `pi =` from metafor
/// 4.0): the reported value is turned into `d` (see [`TwoGroupStatistic`]) and the measure
/// is then computed as from means `d` and 0 with SDs of 1, exactly as metafor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum StatisticMeasure {
    /// Hedges' g: `yi = c(m) d` with `m = n1 + n2 - 2`; the variance types of
    /// [`MeansMeasure::SMD`].
    SMD,
    /// `yi = 1.65 d` ([`MeansMeasure::D2ORN`]).
    D2ORN,
    /// `yi = d pi/sqrt(3)` ([`MeansMeasure::D2ORL`]).
    D2ORL,
}

impl From<StatisticMeasure> for Measure {
    fn from(m: StatisticMeasure) -> Measure {
        match m {
            StatisticMeasure::SMD => Measure::SMD,
            StatisticMeasure::D2ORN => Measure::D2ORN,
            StatisticMeasure::D2ORL => Measure::D2ORL,
        }
    }
}

impl From<StatisticMeasure> for MeansMeasure {
    fn from(m: StatisticMeasure) -> MeansMeasure {
        match m {
            StatisticMeasure::SMD => MeansMeasure::SMD,
            StatisticMeasure::D2ORN => MeansMeasure::D2ORN,
            StatisticMeasure::D2ORL => MeansMeasure::D2ORL,
        }
    }
}

/// The direction of a two-group difference: the sign of group 1 minus group 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Direction {
    /// Group 1 above group 2.
    Positive,
    /// Group 1 below group 2.
    Negative,
}

impl Direction {
    /// `+1` or `-1`.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Positive => 1.0,
            Direction::Negative => -1.0,
        }
    }
    /// `positive` or `negative`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Positive => "positive",
            Direction::Negative => "negative",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Direction {
    type Err = MetaError;
    /// `positive`, `pos`, `+`, `1` or `negative`, `neg`, `-`, `-1` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "positive" | "pos" | "+" | "1" | "+1" => Ok(Direction::Positive),
            "negative" | "neg" | "-" | "-1" => Ok(Direction::Negative),
            _ => Err(MetaError::UnknownName {
                kind: "direction".into(),
                name: s.to_string(),
                expected: "positive (+), negative (-)".into(),
            }),
        }
    }
}

/// What a study reports of its two-group contrast.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum GroupContrast {
    /// Cohen's d, `(m1 - m2)/sp`, not bias-corrected (metafor's `di`).
    D(f64),
    /// The t statistic of the two-sample (pooled-variance) t test (metafor's `ti`).
    T(f64),
    /// The two-sided p-value of that t test, signed as in metafor 4: a negative p-value
    /// means a negative t (metafor's `pi`).
    P(f64),
}

/// One study's reported two-group contrast and group sizes: a d, a t statistic or a
/// two-sided p-value (metafor's `di`, `ti`, `pi` with `n1i`, `n2i`), optionally with the
/// direction the report states.
///
/// # Formula
/// `t = sign(p) F_t^-1(1 - |p|/2; n1 + n2 - 2)` (metafor 4's `.convp2t`),
/// `d = t sqrt(1/n1 + 1/n2)`; the measure is then computed from means `d` and 0 with SDs
/// of 1 (so `sp = 1`), as metafor does.
///
/// A stated [`Direction`] must agree with the sign of `d` or `t` and of a negative p-value;
/// it gives its sign to an unsigned (positive) p-value.
///
/// Errors name the fields `dval`, `tval` and `pval` (metafor's `di`, `ti`, `pi`, renamed
/// in metan because `di` is also a 2x2 cell and `ti` a person-time; see
/// [`super::MixedStudy::from_fields`]).
///
/// # Examples
/// ```
/// use metan::data::effect_size::{Direction, EffectSizes, StatisticMeasure, TwoGroupStatistic};
/// let s = [
///     TwoGroupStatistic::t(2.5, 30.0, 32.0),
///     TwoGroupStatistic::p(0.03, 20.0, 20.0).direction(Direction::Negative),
/// ];
/// let es = EffectSizes::statistics(&s, StatisticMeasure::SMD).compute()?;
/// let d = 2.5 * (1.0f64 / 30.0 + 1.0 / 32.0).sqrt();
/// assert!((es.yi()[0].unwrap() / d - (1.0 - 3.0 / (4.0 * 60.0 - 1.0))).abs() < 1e-4);
/// assert!(es.yi()[1].unwrap() < 0.0);
/// // a negative t contradicts a stated positive direction
/// let bad = [TwoGroupStatistic::t(-2.5, 30.0, 32.0).direction(Direction::Positive)];
/// assert!(EffectSizes::statistics(&bad, StatisticMeasure::SMD).compute().is_err());
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Borenstein, M., et al. (2009). *Introduction to Meta-Analysis*, chapter 7. Wiley.
/// Viechtbauer, W. (2010). *Journal of Statistical Software*, 36(3), 1-48.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TwoGroupStatistic {
    /// What is reported.
    pub contrast: GroupContrast,
    /// Size of group 1.
    pub n1i: f64,
    /// Size of group 2.
    pub n2i: f64,
    /// The direction the report states, if any.
    pub direction: Option<Direction>,
}

impl TwoGroupStatistic {
    /// A reported Cohen's d (metafor's `di`).
    pub fn d(di: f64, n1i: f64, n2i: f64) -> Self {
        Self::with(GroupContrast::D(di), n1i, n2i)
    }
    /// A reported t statistic (metafor's `ti`).
    pub fn t(ti: f64, n1i: f64, n2i: f64) -> Self {
        Self::with(GroupContrast::T(ti), n1i, n2i)
    }
    /// A reported two-sided p-value, negative for a negative difference (metafor's `pi`).
    pub fn p(pi: f64, n1i: f64, n2i: f64) -> Self {
        Self::with(GroupContrast::P(pi), n1i, n2i)
    }
    fn with(contrast: GroupContrast, n1i: f64, n2i: f64) -> Self {
        TwoGroupStatistic {
            contrast,
            n1i,
            n2i,
            direction: None,
        }
    }
    /// The direction the report states (checked against the sign of d, t or p).
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }

    /// Validates study `i` and returns its d.
    pub(crate) fn d_value(&self, i: usize, labels: &Labels) -> Result<f64> {
        for (f, n) in [("n1i", self.n1i), ("n2i", self.n2i)] {
            finite(i, labels, f, n)?;
            if !(n >= 2.0) {
                return Err(MetaError::invalid_value(
                    i,
                    &labels.get(i),
                    f,
                    n,
                    "a group size must be >= 2",
                ));
            }
        }
        let contradiction = |field: &str, x: f64, d: Direction| {
            MetaError::invalid_value(
                i,
                &labels.get(i),
                field,
                x,
                format!("its sign contradicts the stated direction ({d})"),
            )
        };
        let check_sign = |field: &str, x: f64| match self.direction {
            Some(d) if x != 0.0 && x.signum() != d.sign() => Err(contradiction(field, x, d)),
            _ => Ok(()),
        };
        match self.contrast {
            GroupContrast::D(d) => {
                finite(i, labels, "dval", d)?;
                check_sign("dval", d)?;
                Ok(d)
            }
            GroupContrast::T(t) => {
                finite(i, labels, "tval", t)?;
                check_sign("tval", t)?;
                Ok(t * (1.0 / self.n1i + 1.0 / self.n2i).sqrt())
            }
            GroupContrast::P(p) => {
                finite(i, labels, "pval", p)?;
                if !(p != 0.0 && p.abs() < 1.0) {
                    return Err(MetaError::invalid_value(
                        i,
                        &labels.get(i),
                        "pval",
                        p,
                        "a two-sided p-value must be in (0, 1) (negative for a negative \
                         difference): 0 and 1 give no finite t",
                    ));
                }
                let signed = match self.direction {
                    Some(d) if p > 0.0 => d.sign() * p,
                    Some(d) if d == Direction::Positive => {
                        return Err(contradiction("pval", p, d));
                    }
                    _ => p,
                };
                let t = signed.signum() * t_isf(signed.abs() / 2.0, self.n1i + self.n2i - 2.0);
                Ok(t * (1.0 / self.n1i + 1.0 / self.n2i).sqrt())
            }
        }
    }
}

pub(super) fn compute(
    data: &[TwoGroupStatistic],
    m: StatisticMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    let means: Vec<TwoGroupMeans> = data
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.d_value(i, &labels)
                .map(|d| TwoGroupMeans::new(d, 1.0, s.n1i, 0.0, 1.0, s.n2i))
        })
        .collect::<Result<_>>()?;
    means::compute_valid(&means, m.into(), opts, labels)
}

#[cfg(test)]
mod tests {
    use super::super::EffectSizes;
    use super::*;

    #[test]
    fn t_p_and_d_agree() {
        let n1 = 25.0;
        let n2 = 30.0;
        let t = 2.0;
        let p = 2.0 * crate::numeric::dist::t_sf(t, n1 + n2 - 2.0);
        let d = t * (1.0 / n1 + 1.0 / n2).sqrt();
        let s = [
            TwoGroupStatistic::t(t, n1, n2),
            TwoGroupStatistic::p(p, n1, n2),
            TwoGroupStatistic::d(d, n1, n2),
            TwoGroupStatistic::p(p, n1, n2).direction(Direction::Negative),
            TwoGroupStatistic::p(-p, n1, n2),
        ];
        let es = EffectSizes::statistics(&s, StatisticMeasure::SMD)
            .compute()
            .unwrap();
        let y: Vec<f64> = es.yi().iter().map(|y| y.unwrap()).collect();
        assert!((y[0] - y[1]).abs() < 1e-13 && y[0] == y[2]);
        assert!((y[3] + y[0]).abs() < 1e-13 && y[3] == y[4]);
    }

    #[test]
    fn bad_p_and_direction() {
        for p in [0.0, 1.0, -1.0, 1.5] {
            let e = EffectSizes::statistics(
                &[TwoGroupStatistic::p(p, 10.0, 10.0)],
                StatisticMeasure::SMD,
            )
            .compute()
            .unwrap_err();
            assert!(
                matches!(e, MetaError::InvalidValue { ref field, .. } if field == "pval"),
                "{e}"
            );
        }
        let e = EffectSizes::statistics(
            &[
                TwoGroupStatistic::t(1.0, 10.0, 10.0),
                TwoGroupStatistic::t(-2.0, 10.0, 10.0).direction(Direction::Positive),
            ],
            StatisticMeasure::D2ORL,
        )
        .labels(["A", "B"])
        .compute()
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "study 2 (B): invalid `tval` = -2: its sign contradicts the stated direction (positive)"
        );
        let e = EffectSizes::statistics(
            &[TwoGroupStatistic::p(-0.2, 10.0, 10.0).direction(Direction::Positive)],
            StatisticMeasure::SMD,
        )
        .compute()
        .unwrap_err();
        assert!(matches!(e, MetaError::InvalidValue { ref field, .. } if field == "pval"));
        assert_eq!("-".parse::<Direction>().unwrap(), Direction::Negative);
        assert!("up".parse::<Direction>().is_err());
    }
}
