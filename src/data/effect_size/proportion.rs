//! Single proportions: [`Proportion`] and the measures PR, PLO, PLN, PAS and PFT.

use super::measure::{Measure, VarianceType};
use super::table::EffectSizeTable;
use super::{Labels, Options, corrected, count, finish, finite, wmean};
use crate::error::{MetaError, Result};

/// The measures computed from single proportions (`x` events out of `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ProportionMeasure {
    /// Raw proportion.
    ///
    /// # Formula
    /// `yi = p = x/n`; `vi = p(1-p)/n` (LS), `p(1-p)/(n-1)` (UB), or with the size-weighted
    /// mean proportion (AV).
    PR,
    /// Logit transformed proportion.
    ///
    /// # Formula
    /// `yi = ln(p/(1-p))`, `vi = 1/x + 1/(n-x)` (LS), or `1/(p̄ n) + 1/((1-p̄) n)` (AV).
    PLO,
    /// Log transformed proportion.
    ///
    /// # Formula
    /// `yi = ln p`, `vi = 1/x - 1/n` (LS), or `1/(p̄ n) - 1/n` (AV).
    PLN,
    /// Arcsine square-root transformed proportion.
    ///
    /// # Formula
    /// `yi = asin(sqrt(p))`, `vi = 1/(4n)`.
    PAS,
    /// Freeman-Tukey double arcsine transformed proportion.
    ///
    /// # Formula
    /// `yi = (asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))))/2`, `vi = 1/(4n + 2)`.
    ///
    /// # References
    /// Freeman, M. F., & Tukey, J. W. (1950). Transformations related to the angular and
    /// the square root. *Annals of Mathematical Statistics*, 21(4), 607-611.
    PFT,
}

impl From<ProportionMeasure> for Measure {
    fn from(m: ProportionMeasure) -> Measure {
        match m {
            ProportionMeasure::PR => Measure::PR,
            ProportionMeasure::PLO => Measure::PLO,
            ProportionMeasure::PLN => Measure::PLN,
            ProportionMeasure::PAS => Measure::PAS,
            ProportionMeasure::PFT => Measure::PFT,
        }
    }
}

/// One study's proportion: `xi` events among `ni` (metafor's `xi, ni`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Proportion {
    /// Events.
    pub xi: f64,
    /// Sample size.
    pub ni: f64,
}

impl Proportion {
    /// `xi` events among `ni`.
    pub fn new(xi: f64, ni: f64) -> Self {
        Proportion { xi, ni }
    }

    fn validate(&self, i: usize, labels: &Labels) -> Result<()> {
        count(i, labels, "xi", self.xi)?;
        finite(i, labels, "ni", self.ni)?;
        if !(self.ni > 0.0) {
            return Err(MetaError::invalid_value(
                i,
                &labels.get(i),
                "ni",
                self.ni,
                "a sample size must be > 0",
            ));
        }
        if self.xi > self.ni {
            return Err(MetaError::invalid_value(
                i,
                &labels.get(i),
                "xi",
                self.xi,
                format!("events exceed the sample size ni = {}", self.ni),
            ));
        }
        Ok(())
    }
}

pub(super) fn compute(
    data: &[Proportion],
    m: ProportionMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    for (i, s) in data.iter().enumerate() {
        s.validate(i, &labels)?;
    }
    let zero: Vec<bool> = data
        .iter()
        .map(|s| s.xi == 0.0 || s.ni - s.xi == 0.0)
        .collect();
    let fix = corrected(opts.to, &zero, &vec![false; data.len()]);
    // corrected events and non-events
    let xm: Vec<(f64, f64)> = data
        .iter()
        .zip(&fix)
        .map(|(s, &f)| {
            let add = if f { opts.add } else { 0.0 };
            (s.xi + add, (s.ni - s.xi) + add)
        })
        .collect();
    let p: Vec<f64> = xm.iter().map(|&(x, mm)| x / (x + mm)).collect();
    let vt = opts.vtype;
    let pbar = if vt == VarianceType::AV {
        wmean(p.iter().map(|&p| Some(p)), xm.iter().map(|&(x, mm)| x + mm))
    } else {
        f64::NAN
    };
    let (yi, vi) = xm
        .iter()
        .zip(&p)
        .map(|(&(x, mm), &p)| {
            let n = x + mm;
            let (y, v) = match m {
                ProportionMeasure::PR => (
                    p,
                    match vt {
                        VarianceType::UB => p * (1.0 - p) / (n - 1.0),
                        VarianceType::AV => pbar * (1.0 - pbar) / n,
                        _ => p * (1.0 - p) / n,
                    },
                ),
                ProportionMeasure::PLN => (
                    p.ln(),
                    if vt == VarianceType::AV {
                        1.0 / (pbar * n) - 1.0 / n
                    } else {
                        1.0 / x - 1.0 / n
                    },
                ),
                ProportionMeasure::PLO => (
                    (p / (1.0 - p)).ln(),
                    if vt == VarianceType::AV {
                        1.0 / (pbar * n) + 1.0 / ((1.0 - pbar) * n)
                    } else {
                        1.0 / x + 1.0 / mm
                    },
                ),
                ProportionMeasure::PAS => (p.sqrt().asin(), 1.0 / (4.0 * n)),
                ProportionMeasure::PFT => (
                    0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin()),
                    1.0 / (4.0 * n + 2.0),
                ),
            };
            finish(y, v)
        })
        .unzip();
    let ni = data.iter().map(|s| s.ni).collect();
    Ok(EffectSizeTable::new(m.into(), yi, vi, labels, ni))
}

#[cfg(test)]
mod tests {
    use super::super::{EffectSizes, To};
    use super::*;

    #[test]
    fn logit_with_zero_events() {
        let s = [Proportion::new(0.0, 10.0), Proportion::new(3.0, 10.0)];
        let es = EffectSizes::proportions(&s, ProportionMeasure::PLO)
            .compute()
            .unwrap();
        assert!((es.yi()[0].unwrap() - (0.5f64 / 10.5).ln()).abs() < 1e-15);
        assert!((es.yi()[1].unwrap() - (3.0f64 / 7.0).ln()).abs() < 1e-15);
        let es = EffectSizes::proportions(&s, ProportionMeasure::PLO)
            .to(To::None)
            .compute()
            .unwrap();
        assert_eq!(es.yi()[0], None);
        let bad = [Proportion::new(11.0, 10.0)];
        let e = EffectSizes::proportions(&bad, ProportionMeasure::PR)
            .compute()
            .unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(
                0,
                "Study 1",
                "xi",
                11.0,
                "events exceed the sample size ni = 10"
            )
        );
    }
}
