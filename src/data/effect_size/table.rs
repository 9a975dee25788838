//! [`EffectSizeTable`]: computed effect sizes, one row per study.

use std::borrow::Cow;

use super::measure::Measure;
use super::transform::Transform;
use super::{Labels, default_label};
use crate::data::Studies;
use crate::error::{MetaError, Result};

/// Effect sizes computed from raw data (the `yi` and `vi` columns metafor's `escalc` adds),
/// with the measure they are on.
///
/// `yi[i]`/`vi[i]` are `None` where metafor gives `NA`: a study dropped by `drop00`, an
/// infinite or undefined value (e.g. a log odds ratio with a zero cell and no continuity
/// correction), a negative variance, or no variance for a correlation with `n <= 3`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EffectSizeTable {
    measure: Measure,
    yi: Vec<Option<f64>>,
    vi: Vec<Option<f64>>,
    labels: Option<Vec<String>>,
    ni: Vec<f64>,
}

impl EffectSizeTable {
    pub(crate) fn new(
        measure: Measure,
        yi: Vec<Option<f64>>,
        vi: Vec<Option<f64>>,
        labels: Labels,
        ni: Vec<f64>,
    ) -> Self {
        EffectSizeTable {
            measure,
            yi,
            vi,
            labels: labels.0,
            ni,
        }
    }

    /// The measure.
    pub fn measure(&self) -> Measure {
        self.measure
    }
    /// Number of studies (rows), including those with `NA`.
    pub fn k(&self) -> usize {
        self.yi.len()
    }
    /// Effect sizes (`None` = metafor's `NA`).
    pub fn yi(&self) -> &[Option<f64>] {
        &self.yi
    }
    /// Sampling variances (`None` = metafor's `NA`).
    pub fn vi(&self) -> &[Option<f64>] {
        &self.vi
    }
    /// The study labels given to the builder, if any.
    pub fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }
    /// The label of study `i` (zero-based): the given one, or `"Study i+1"`. Panics if
    /// `i >= k`, like slice indexing.
    pub fn label(&self, i: usize) -> Cow<'_, str> {
        match &self.labels {
            Some(l) => Cow::Borrowed(l[i].as_str()),
            None => Cow::Owned(default_label(i)),
        }
    }
    /// Total sample size of each study, as metafor records it (`attr(yi, "ni")`): both
    /// groups' sizes, the sample size, or the total person-time; before any continuity
    /// correction.
    pub fn ni(&self) -> &[f64] {
        &self.ni
    }

    /// The zero-based indices of the studies with both `yi` and `vi` defined: those
    /// [`EffectSizeTable::into_studies`] keeps.
    pub fn complete(&self) -> Vec<usize> {
        (0..self.k())
            .filter(|&i| self.yi[i].is_some() && self.vi[i].is_some())
            .collect()
    }

    /// The indices of the studies [`EffectSizeTable::into_studies`] omits (metafor's
    /// "Studies with NAs omitted from model fitting").
    pub fn omitted(&self) -> Vec<usize> {
        (0..self.k())
            .filter(|&i| self.yi[i].is_none() || self.vi[i].is_none())
            .collect()
    }

    /// The back-transformation to the natural scale ([`Measure::back_transform`]); for PFT,
    /// the inverse Freeman-Tukey transformation with the harmonic mean of the sample sizes
    /// (metafor's `transf.ipft.hm` with `targs = list(ni = ni)`).
    pub fn back_transform(&self) -> Transform {
        self.measure
            .back_transform()
            .unwrap_or_else(|| Transform::ipft_hm(&self.ni))
    }

    /// The studies with both `yi` and `vi` defined, with their labels and the measure,
    /// ready to fit (studies with `NA` are omitted, as metafor's `rma` does).
    ///
    /// # Errors
    /// [`MetaError::Empty`] when no study is complete, and [`MetaError::InvalidValue`]
    /// naming the study for a sampling variance of 0 (e.g. a raw proportion of 0 without
    /// continuity correction), which no inverse-variance model can use.
    ///
    /// # Examples
    /// ```
    /// use metan::data::effect_size::{EffectSizes, Measure, Proportion, ProportionMeasure, To};
    /// let p = [Proportion::new(0.0, 20.0), Proportion::new(4.0, 25.0)];
    /// let es = EffectSizes::proportions(&p, ProportionMeasure::PLO).to(To::None).compute()?;
    /// assert_eq!(es.omitted(), vec![0]); // logit of 0 is -Inf: NA, as in metafor
    /// let s = es.into_studies()?;
    /// assert_eq!(s.k(), 1);
    /// assert_eq!(s.measure(), Some(Measure::PLO));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn into_studies(self) -> Result<Studies> {
        let keep = self.complete();
        if keep.is_empty() {
            return Err(MetaError::Empty);
        }
        let mut yi = Vec::with_capacity(keep.len());
        let mut vi = Vec::with_capacity(keep.len());
        for &i in &keep {
            let (Some(y), Some(v)) = (self.yi[i], self.vi[i]) else {
                continue;
            };
            if !(v > 0.0) {
                return Err(MetaError::invalid_value(
                    i,
                    &self.label(i),
                    "vi",
                    v,
                    "a sampling variance of 0 cannot be meta-analysed (a continuity correction, `add` with `to`, avoids it)",
                ));
            }
            yi.push(y);
            vi.push(v);
        }
        let mut studies = Studies::from_variances(yi, vi)?.with_measure(self.measure);
        if let Some(l) = &self.labels {
            studies = studies.with_labels(keep.iter().map(|&i| l[i].clone()))?;
        } else if keep.len() < self.k() {
            // keep the original study numbers in the labels of the remaining studies
            studies = studies.with_labels(keep.iter().map(|&i| default_label(i)))?;
        }
        Ok(studies)
    }
}
