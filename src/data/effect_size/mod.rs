//! Effect sizes from raw study data: metafor's `escalc`.
//!
//! Raw data come in a handful of shapes, each with its own input type and its own measure
//! enum, so that an invalid measure/input pair cannot be written down:
//!
//! | input | measures | metafor arguments |
//! |---|---|---|
//! | [`TwoByTwo`] | [`TwoByTwoMeasure`]: OR, RR, RD, AS, PETO, PBIT, OR2DN, OR2DL | `ai, bi, ci, di` (or `ai, n1i, ci, n2i`) |
//! | [`TwoGroupMeans`] | [`MeansMeasure`]: MD, SMD, SMDH, ROM, D2ORN, D2ORL | `m1i, sd1i, n1i, m2i, sd2i, n2i` |
//! | [`TwoGroupStatistic`] | [`StatisticMeasure`]: SMD, D2ORN, D2ORL | `di` or `ti` or `pi`, with `n1i, n2i` |
//! | [`PrePost`] | [`PrePostMeasure`]: MC, SMCC, SMCR, SMCRH, ROMC | `m1i, sd1i, m2i, sd2i, ni, ri` |
//! | [`Correlation`] | [`CorrelationMeasure`]: COR, ZCOR | `ri, ni` |
//! | [`PartialCorrelation`] | [`PartialMeasure`]: PCOR, ZPCOR, SPCOR | `ti, ni, mi` (and `r2i`) |
//! | [`Proportion`] | [`ProportionMeasure`]: PR, PLO, PLN, PAS, PFT | `xi, ni` |
//! | [`IncidenceTable`] | [`IncidenceMeasure`]: IRR | `x1i, t1i, x2i, t2i` |
//! | [`EventRate`] | [`RateMeasure`]: IR | `xi, ti` |
//!
//! [`EffectSizes`] is the builder (metafor's arguments `add`, `to`, `drop00`, `vtype` as
//! chained setters, offered only where metafor uses them); [`EffectSizes::compute`] returns an
//! [`EffectSizeTable`] with one `yi`/`vi` pair per study (`None` where metafor gives `NA`),
//! and [`EffectSizeTable::into_studies`] turns it into [`Studies`](crate::Studies) ready to fit, remembering
//! the [`Measure`] so that results can be back-transformed ([`Transform`]).
//!
//! # Examples
//!
//! ```
//! use metan::data::effect_size::{EffectSizes, To, TwoByTwo, TwoByTwoMeasure};
//! use metan::MetaAnalysis;
//!
//! // first three BCG trials: TB cases / non-cases, vaccinated vs control
//! let tables = [
//!     TwoByTwo::new(4.0, 119.0, 11.0, 128.0),
//!     TwoByTwo::new(6.0, 300.0, 29.0, 274.0),
//!     TwoByTwo::from_events(3.0, 231.0, 11.0, 220.0), // events and group sizes
//! ];
//! let es = EffectSizes::two_by_two(&tables, TwoByTwoMeasure::RR)
//!     .add(0.5)
//!     .to(To::Only0)
//!     .compute()?;
//! let rr0 = (4.0_f64 / 123.0).ln() - (11.0_f64 / 139.0).ln();
//! assert!((es.yi()[0].unwrap() - rr0).abs() < 1e-15);
//!
//! let fit = MetaAnalysis::new().fit(&es.into_studies()?)?;
//! let rr = fit.back_transformed().unwrap(); // exp: the pooled risk ratio
//! assert!(rr.estimate < 1.0);
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! # Across outcome types
//!
//! Reviews that pool recidivism (a 2x2 table) with partner reports on a continuous scale
//! (means and SDs, or a pre-post change in one group) need one scale:
//!
//! - [`scale::Effect<S>`](scale::Effect) is an estimate and its variance on the scale `S`
//!   (d, log OR, log RR, r, Fisher's z); conversions are its methods (`to_log_or`, `to_d`,
//!   `to_r`, `to_z`), each with its formula and reference, and only those that make sense
//!   exist. [`OddsRatioMethod`] chooses the logistic (pi/sqrt(3), Hasselblad & Hedges 1995)
//!   or normal (1.65, Cox 1970) relation between d and ln OR.
//! - [`wald_variance`] and [`scale::Effect::from_reported`] turn a reported estimate and its
//!   CI, p-value, z, t or F(1, df) statistic into `yi` and `vi` (metafor 4's `conv.wald`).
//! - [`MixedEffectSizes`] computes each study with its own measure ([`MixedStudy`],
//!   [`StudyData`]; [`MixedStudy::from_fields`] reads a row of named columns) and converts
//!   them to one [`EffectScale`], recording per row what was converted and how; `metan
//!   escalc --convert-to d|logor` is its command line.
//!
//! ```
//! use metan::data::effect_size::{
//!     EffectScale, Measure, MixedEffectSizes, MixedStudy, PrePost, StudyData, TwoByTwo,
//!     TwoGroupMeans,
//! };
//! use metan::MetaAnalysis;
//! let studies = [
//!     // reoffended / did not, programme vs control
//!     MixedStudy::new(Measure::OR, StudyData::TwoByTwo(TwoByTwo::new(14.0, 86.0, 22.0, 78.0))),
//!     // a continuous scale, programme vs control (lower is better)
//!     MixedStudy::new(Measure::SMD, StudyData::Means(TwoGroupMeans::new(9.0, 6.0, 45.0, 11.5, 6.5, 47.0))),
//!     // one group before and after: post first, then the pre-test mean and SD, n, r
//!     MixedStudy::new(Measure::SMCR, StudyData::PrePost(PrePost::raw_sd(8.0, 5.5, 10.0, 38.0, 0.55))),
//! ];
//! let table = MixedEffectSizes::new(&studies).convert_to(EffectScale::D).compute()?;
//! assert_eq!(table.rows()[0].converted_from, Some(EffectScale::LogOddsRatio));
//! let fit = MetaAnalysis::new().fit(&table.into_studies()?)?;
//! assert!(fit.estimate() < 0.0);
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! # References
//! Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//! *Journal of Statistical Software*, 36(3), 1-48. Borenstein, M., Hedges, L. V., Higgins,
//! J. P. T., & Rothstein, H. R. (2009). *Introduction to Meta-Analysis*. Wiley.

mod convert;
mod correlation;
mod incidence;
mod means;
mod measure;
mod mixed;
mod partial;
mod pre_post;
mod proportion;
pub mod scale;
mod statistic;
mod table;
mod transform;
mod two_by_two;

pub use convert::{
    Ci, OddsRatioMethod, Reported, d_to_log_odds_ratio, d_to_log_odds_ratio_with, d_to_r,
    delta_method, log_odds_ratio_to_d, log_odds_ratio_to_d_with, r_to_d, r_to_z, se_from_ci,
    se_from_p, se_from_p_t, se_from_t, var_d_to_log_odds_ratio, var_d_to_log_odds_ratio_with,
    var_log_odds_ratio_to_d, var_log_odds_ratio_to_d_with, wald_variance, z_to_r,
};
pub use correlation::{Correlation, CorrelationMeasure};
pub use incidence::{EventRate, IncidenceMeasure, IncidenceTable, RateMeasure};
pub use means::{MeansMeasure, TwoGroupMeans};
pub use measure::{Measure, To, VarianceType};
pub use mixed::{MixedEffectSizes, MixedRow, MixedStudy, MixedTable, StudyData};
pub use partial::{PartialCorrelation, PartialMeasure};
pub use pre_post::{PrePost, PrePostMeasure};
pub use proportion::{Proportion, ProportionMeasure};
pub use scale::{Conversion, EffectScale};
pub use statistic::{Direction, GroupContrast, StatisticMeasure, TwoGroupStatistic};
pub use table::EffectSizeTable;
pub use transform::{BackTransformed, Transform};
pub use two_by_two::{TwoByTwo, TwoByTwoMeasure};

pub(crate) use two_by_two::two_by_two_effects;

pub(crate) use crate::data::studies::default_label;
use crate::error::{MetaError, Result};

mod sealed {
    pub trait Sealed {}
}

/// An input type of [`EffectSizes`]: one study's raw data. Sealed: implemented by
/// [`TwoByTwo`], [`TwoGroupMeans`], [`TwoGroupStatistic`], [`PrePost`], [`Correlation`],
/// [`PartialCorrelation`], [`Proportion`], [`IncidenceTable`] and [`EventRate`] only.
pub trait EffectSizeInput: sealed::Sealed + Copy {
    /// The measures that can be computed from this input.
    type Measure: Copy + Into<Measure> + std::fmt::Debug + PartialEq;
}

/// Builder of effect sizes (metafor's `escalc`), typed by the input: see the
/// [module documentation](self).
///
/// Setters are infallible and chain; every value and option is validated once, in
/// `compute`. `add`, `to` and `drop00` are only offered for the inputs metafor applies
/// them to.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectSizes<'a, T: EffectSizeInput> {
    data: &'a [T],
    measure: T::Measure,
    pub(crate) add: Option<f64>,
    pub(crate) to: To,
    pub(crate) drop00: bool,
    pub(crate) vtype: VarianceType,
    labels: Option<Vec<String>>,
}

/// Study labels: the given ones, or metafor-style defaults made only when needed (an
/// error message), so that no string is allocated per study on the hot path.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Labels(pub Option<Vec<String>>);

impl Labels {
    /// The label of study `i`.
    pub fn get(&self, i: usize) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Some(l) => std::borrow::Cow::Borrowed(l[i].as_str()),
            None => std::borrow::Cow::Owned(default_label(i)),
        }
    }
}

/// Options resolved for a computation (crate-internal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Options {
    pub add: f64,
    pub to: To,
    pub drop00: bool,
    pub vtype: VarianceType,
}

impl<'a, T: EffectSizeInput> EffectSizes<'a, T> {
    fn with(data: &'a [T], measure: T::Measure) -> Self {
        EffectSizes {
            data,
            measure,
            add: None,
            to: To::Only0,
            drop00: false,
            vtype: VarianceType::LS,
            labels: None,
        }
    }

    /// The variance type (metafor's `vtype`; default [`VarianceType::LS`]). Which types a
    /// measure accepts is checked by `compute`, as metafor does.
    pub fn vtype(mut self, vtype: VarianceType) -> Self {
        self.vtype = vtype;
        self
    }

    /// Study labels, one per study (used in error messages and kept in the result).
    pub fn labels<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.labels = Some(labels.into_iter().map(Into::into).collect());
        self
    }

    /// The measure.
    pub fn measure(&self) -> T::Measure {
        self.measure
    }

    fn resolved_labels(&self) -> Result<Labels> {
        match &self.labels {
            None => Ok(Labels(None)),
            Some(l) if l.len() == self.data.len() => Ok(Labels(Some(l.clone()))),
            Some(l) => Err(MetaError::LengthMismatch {
                field: "labels".into(),
                expected: self.data.len(),
                found: l.len(),
            }),
        }
    }

    fn options(&self, default_add: f64) -> Result<Options> {
        let add = self.add.unwrap_or(default_add);
        if !(add.is_finite() && add >= 0.0) {
            return Err(MetaError::invalid_option(
                "add",
                add,
                "the continuity correction must be finite and >= 0 (metafor: a non-negative number)",
            ));
        }
        Ok(Options {
            add,
            to: self.to,
            drop00: self.drop00,
            vtype: self.vtype,
        })
    }

    fn check_vtype(&self, allowed: &[VarianceType]) -> Result<()> {
        if allowed.contains(&self.vtype) {
            Ok(())
        } else {
            let m: Measure = self.measure.into();
            Err(MetaError::invalid_option(
                "vtype",
                self.vtype,
                format!(
                    "measure {m} allows {}",
                    allowed
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }

    fn prepare(&self) -> Result<Labels> {
        if self.data.is_empty() {
            return Err(MetaError::Empty);
        }
        let m: Measure = self.measure.into();
        self.check_vtype(m.variance_types())?;
        self.resolved_labels()
    }
}

/// Setters of the inputs whose counts get a continuity correction.
pub trait ContinuityCorrected: EffectSizeInput {}
/// Setters of the inputs with two groups, where a study with no events (or only events)
/// in both can be dropped.
pub trait DoubleZero: EffectSizeInput {}

impl<T: ContinuityCorrected> EffectSizes<'_, T> {
    /// The value added to the cells (metafor's `add`). Default: 1/2, except 0 for AS, PAS
    /// and PFT, as in metafor.
    #[allow(clippy::should_implement_trait)] // metafor's argument name
    pub fn add(mut self, add: f64) -> Self {
        self.add = Some(add);
        self
    }

    /// To which studies `add` is applied (metafor's `to`; default [`To::Only0`]).
    pub fn to(mut self, to: To) -> Self {
        self.to = to;
        self
    }
}

impl<T: DoubleZero> EffectSizes<'_, T> {
    /// Whether studies with zero events (or only events) in both groups get `NA`
    /// (metafor's `drop00`; default false).
    pub fn drop00(mut self, drop00: bool) -> Self {
        self.drop00 = drop00;
        self
    }
}

macro_rules! family {
    ($input:ty, $measure:ty, $ctor:ident, $module:ident, $doc:literal) => {
        impl sealed::Sealed for $input {}
        impl EffectSizeInput for $input {
            type Measure = $measure;
        }
        impl<'a> EffectSizes<'a, $input> {
            #[doc = $doc]
            pub fn $ctor(data: &'a [$input], measure: $measure) -> Self {
                Self::with(data, measure)
            }

            /// Computes `yi` and `vi` for every study, with metafor's formulas; `None` where
            /// metafor gives `NA` (a study dropped by `drop00`, an infinite or undefined
            /// value, or a negative variance).
            ///
            /// # Errors
            /// [`MetaError::Empty`] for no studies, [`MetaError::LengthMismatch`] for labels
            /// of the wrong length, [`MetaError::InvalidOption`] for a non-finite `add` or a
            /// variance type the measure does not allow, and [`MetaError::InvalidValue`]
            /// naming the study and field for invalid raw data.
            pub fn compute(&self) -> Result<EffectSizeTable> {
                let labels = self.prepare()?;
                let m: Measure = self.measure.into();
                let opts = self.options(m.default_add())?;
                $module::compute(self.data, self.measure, &opts, labels)
            }

            /// `compute`, then [`EffectSizeTable::into_studies`]: the studies with both
            /// `yi` and `vi` defined, ready to fit.
            ///
            /// # Errors
            /// As `compute` and `into_studies`.
            pub fn studies(&self) -> Result<crate::data::Studies> {
                self.compute()?.into_studies()
            }
        }
    };
}

family!(
    TwoByTwo,
    TwoByTwoMeasure,
    two_by_two,
    two_by_two,
    "Effect sizes from 2x2 tables (OR, RR, RD, AS, PETO)."
);
family!(
    TwoGroupMeans,
    MeansMeasure,
    means,
    means,
    "Effect sizes from two groups' means, SDs and sizes (MD, SMD, SMDH, ROM)."
);
family!(
    TwoGroupStatistic,
    StatisticMeasure,
    statistics,
    statistic,
    "Effect sizes from a reported d, t statistic or p-value with the group sizes (SMD, D2ORN, D2ORL)."
);
family!(
    PrePost,
    PrePostMeasure,
    pre_post,
    pre_post,
    "Effect sizes from one group measured twice (MC, SMCC, SMCR, SMCRH, ROMC)."
);
family!(
    PartialCorrelation,
    PartialMeasure,
    partial_correlations,
    partial,
    "Effect sizes from regression t statistics (PCOR, ZPCOR, SPCOR)."
);
family!(
    Correlation,
    CorrelationMeasure,
    correlations,
    correlation,
    "Effect sizes from correlation coefficients (COR, ZCOR)."
);
family!(
    Proportion,
    ProportionMeasure,
    proportions,
    proportion,
    "Effect sizes from single proportions (PR, PLO, PLN, PAS, PFT)."
);
family!(
    IncidenceTable,
    IncidenceMeasure,
    incidence,
    incidence,
    "Effect sizes from two groups' events and person-times (IRR)."
);
family!(
    EventRate,
    RateMeasure,
    rates,
    incidence,
    "Effect sizes from one group's events and person-time (IR)."
);

impl ContinuityCorrected for TwoByTwo {}
impl ContinuityCorrected for Proportion {}
impl ContinuityCorrected for IncidenceTable {}
impl ContinuityCorrected for EventRate {}
impl DoubleZero for TwoByTwo {}
impl DoubleZero for IncidenceTable {}

/// Which studies receive the continuity correction.
///
/// `zero[i]` says whether study `i` has a zero cell; `dropped[i]` whether it was set to
/// `NA` by `drop00` (such studies never count as having a zero cell, as in metafor).
pub(crate) fn corrected(to: To, zero: &[bool], dropped: &[bool]) -> Vec<bool> {
    let z = |i: usize| zero[i] && !dropped[i];
    match to {
        To::All => vec![true; zero.len()],
        To::Only0 => (0..zero.len()).map(z).collect(),
        To::If0All => {
            let any = (0..zero.len()).any(z);
            vec![any; zero.len()]
        }
        To::None => vec![false; zero.len()],
    }
}

/// metafor's `.wmean(x, w, na.rm = TRUE)`: `sum(x w)/sum(w)` over the pairs where
/// neither is missing (`None` or NaN).
pub(crate) fn wmean(x: impl Iterator<Item = Option<f64>>, w: impl Iterator<Item = f64>) -> f64 {
    let mut sxw = 0.0;
    let mut sw = 0.0;
    for (x, w) in x.zip(w) {
        if let Some(x) = x {
            if !x.is_nan() && !w.is_nan() {
                sxw += x * w;
                sw += w;
            }
        }
    }
    sxw / sw
}

/// Checks that a raw value is finite.
pub(crate) fn finite(i: usize, labels: &Labels, field: &str, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(MetaError::invalid_value(
            i,
            &labels.get(i),
            field,
            x,
            "must be a finite number",
        ))
    }
}

/// Checks that a count is finite and `>= 0` (non-integer counts are accepted, as in
/// metafor).
pub(crate) fn count(i: usize, labels: &Labels, field: &str, x: f64) -> Result<()> {
    finite(i, labels, field, x)?;
    if x < 0.0 {
        return Err(MetaError::invalid_value(
            i,
            &labels.get(i),
            field,
            x,
            "a count must be >= 0",
        ));
    }
    Ok(())
}

/// metafor's post-processing of `yi`/`vi`: an infinite or NaN value in either makes both
/// `NA`; a negative variance makes `vi` alone `NA`.
pub(crate) fn finish(yi: f64, vi: f64) -> (Option<f64>, Option<f64>) {
    if !yi.is_finite() || !vi.is_finite() {
        return (None, None);
    }
    (Some(yi), (vi >= 0.0).then_some(vi))
}

/// `(x - 0.5) ln x - x + ln sqrt(2 pi) + Stirling series`: ln Gamma(x), evaluated as R's
/// `lgammafn` does above 10, so that the bias correction of the SMD matches metafor to the
/// last bits even for very large groups (where the difference of two ln-gammas loses
/// digits). Below 10, `libm::lgamma`.
///
/// # Formula
/// `ln Gamma(x) = ln sqrt(2 pi) + (x - 1/2) ln x - x + sum_k B_2k / (2k (2k - 1) x^(2k-1))`.
///
/// # References
/// Abramowitz, M., & Stegun, I. A. (1964). *Handbook of Mathematical Functions*, 6.1.40.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
    if x <= 10.0 {
        return libm::lgamma(x);
    }
    let base = LN_SQRT_2PI + (x - 0.5) * x.ln() - x;
    if x > 4_934_720.0 {
        return base;
    }
    let r = 1.0 / x;
    let r2 = r * r;
    // B2/(1*2), B4/(3*4), ... up to B14/(13*14)
    let series = r
        * (1.0 / 12.0
            + r2 * (-1.0 / 360.0
                + r2 * (1.0 / 1260.0
                    + r2 * (-1.0 / 1680.0
                        + r2 * (1.0 / 1188.0 + r2 * (-691.0 / 360_360.0 + r2 * (1.0 / 156.0)))))));
    base + series
}

/// Hedges' exact small-sample correction `c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))`,
/// via ln-gamma (never factorials); `NaN` for `m <= 1`.
///
/// # References
/// Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
/// related estimators. *Journal of Educational Statistics*, 6(2), 107-128.
pub(crate) fn hedges_c(m: f64) -> f64 {
    if !(m > 1.0) {
        return f64::NAN;
    }
    (ln_gamma(m / 2.0) - (m / 2.0).sqrt().ln() - ln_gamma((m - 1.0) / 2.0)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedges_c_matches_known_values() {
        // c(m) ~ 1 - 3/(4m - 1); exact for m = 2: Gamma(1)/(1 * Gamma(1/2)) = 1/sqrt(pi)
        assert!((hedges_c(2.0) - 1.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
        let m = 1e4;
        assert!((hedges_c(m) - (1.0 - 3.0 / (4.0 * m - 1.0))).abs() < 1e-9);
        assert!(hedges_c(1.0).is_nan());
        // continuity of ln_gamma at the switch point 10
        assert!((ln_gamma(10.0 + 1e-9) - libm::lgamma(10.0 + 1e-9)).abs() < 1e-13);
        assert!((ln_gamma(50.5) - libm::lgamma(50.5)).abs() < 1e-12);
    }

    #[test]
    fn correction_targets() {
        let zero = [true, false, false];
        let dropped = [false, false, false];
        assert_eq!(corrected(To::Only0, &zero, &dropped), [true, false, false]);
        assert_eq!(corrected(To::If0All, &zero, &dropped), [true, true, true]);
        assert_eq!(corrected(To::None, &zero, &dropped), [false; 3]);
        assert_eq!(corrected(To::All, &zero, &dropped), [true; 3]);
        // a dropped study does not trigger if0all
        assert_eq!(
            corrected(To::If0All, &zero, &[true, false, false]),
            [false; 3]
        );
    }
}
