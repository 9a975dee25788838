//! Correlations: [`Correlation`] and the measures COR and ZCOR.

use super::measure::{Measure, VarianceType};
use super::table::EffectSizeTable;
use super::{Labels, Options, finish, finite, wmean};
use crate::error::{MetaError, Result};

/// The measures computed from correlation coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CorrelationMeasure {
    /// Raw correlation coefficient.
    ///
    /// # Formula
    /// `yi = r`, `vi = (1 - r^2)^2/(n - 1)` (LS), or with the size-weighted mean
    /// correlation in place of `r` (AV). No variance (`None`) for `n <= 3`, as in metafor.
    COR,
    /// Fisher's r-to-z transformed correlation coefficient.
    ///
    /// # Formula
    /// `yi = atanh(r) = ln((1 + r)/(1 - r))/2`, `vi = 1/(n - 3)`; no variance for `n <= 3`.
    ///
    /// # References
    /// Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
    /// from a small sample. *Metron*, 1, 3-32.
    ZCOR,
}

impl From<CorrelationMeasure> for Measure {
    fn from(m: CorrelationMeasure) -> Measure {
        match m {
            CorrelationMeasure::COR => Measure::COR,
            CorrelationMeasure::ZCOR => Measure::ZCOR,
        }
    }
}

/// One study's correlation coefficient `ri` and sample size `ni`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Correlation {
    /// The correlation coefficient, in (-1, 1).
    pub ri: f64,
    /// The sample size.
    pub ni: f64,
}

impl Correlation {
    /// A correlation `ri` observed in `ni` participants.
    pub fn new(ri: f64, ni: f64) -> Self {
        Correlation { ri, ni }
    }

    fn validate(&self, i: usize, labels: &Labels) -> Result<()> {
        finite(i, labels, "ri", self.ri)?;
        if !(self.ri.abs() < 1.0) {
            return Err(MetaError::invalid_value(
                i,
                &labels.get(i),
                "ri",
                self.ri,
                "a correlation must be in (-1, 1)",
            ));
        }
        finite(i, labels, "ni", self.ni)?;
        if !(self.ni >= 2.0) {
            return Err(MetaError::invalid_value(
                i,
                &labels.get(i),
                "ni",
                self.ni,
                "a sample size must be >= 2",
            ));
        }
        Ok(())
    }
}

pub(super) fn compute(
    data: &[Correlation],
    m: CorrelationMeasure,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    for (i, s) in data.iter().enumerate() {
        s.validate(i, &labels)?;
    }
    let mean_r = if opts.vtype == VarianceType::AV {
        wmean(data.iter().map(|s| Some(s.ri)), data.iter().map(|s| s.ni))
    } else {
        f64::NAN
    };
    let (yi, vi) = data
        .iter()
        .map(|s| {
            let (y, v) = match m {
                CorrelationMeasure::COR => {
                    let r = if opts.vtype == VarianceType::AV {
                        mean_r
                    } else {
                        s.ri
                    };
                    let q = 1.0 - r * r;
                    (s.ri, q * q / (s.ni - 1.0))
                }
                CorrelationMeasure::ZCOR => {
                    (0.5 * ((1.0 + s.ri) / (1.0 - s.ri)).ln(), 1.0 / (s.ni - 3.0))
                }
            };
            if s.ni <= 3.0 {
                // metafor sets such variances to NA before its Inf/NaN clean-up
                (y.is_finite().then_some(y), None)
            } else {
                finish(y, v)
            }
        })
        .unzip();
    let ni = data.iter().map(|s| s.ni).collect();
    Ok(EffectSizeTable::new(m.into(), yi, vi, labels, ni))
}

#[cfg(test)]
mod tests {
    use super::super::EffectSizes;
    use super::*;

    #[test]
    fn fisher_z_and_errors() {
        let s = [Correlation::new(0.5, 28.0), Correlation::new(0.2, 3.0)];
        let es = EffectSizes::correlations(&s, CorrelationMeasure::ZCOR)
            .compute()
            .unwrap();
        assert!((es.yi()[0].unwrap() - 0.5f64.atanh()).abs() < 1e-15);
        assert_eq!(es.vi()[0], Some(1.0 / 25.0));
        assert_eq!(es.vi()[1], None);
        let s = [Correlation::new(1.0, 28.0)];
        let e = EffectSizes::correlations(&s, CorrelationMeasure::COR)
            .compute()
            .unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(0, "Study 1", "ri", 1.0, "a correlation must be in (-1, 1)")
        );
    }
}
