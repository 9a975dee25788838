//! [`Studies`]: the validated container every analysis takes.

use super::clusters::Clusters;
use super::covariance::{CovarianceBlocks, validate_blocks};
use super::effect_size::Measure;
use crate::error::{MetaError, Result};

/// A validated set of studies: effect estimates `yi` with their sampling variances `vi`,
/// plus optional labels, numeric moderators and string attributes.
///
/// There is no way to build a `Studies` whose variances are standard errors by mistake:
/// [`Studies::from_variances`] takes variances and [`Studies::from_standard_errors`] takes
/// standard errors (and squares them). Every value is checked once, at construction:
/// estimates must be finite, variances and standard errors finite and `> 0`.
///
/// # Examples
///
/// ```
/// use metan::Studies;
/// let s = Studies::from_standard_errors(vec![0.1, 0.3], vec![0.2, 0.1])?
///     .with_labels(vec!["Smith 2001", "Jones 2004"])?;
/// assert_eq!(s.k(), 2);
/// assert!((s.vi()[0] - 0.04).abs() < 1e-15);
/// assert_eq!(s.label(1), "Jones 2004");
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Studies {
    yi: Vec<f64>,
    vi: Vec<f64>,
    labels: Vec<String>,
    moderators: Vec<(String, Vec<f64>)>,
    attributes: Vec<(String, Vec<String>)>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    measure: Option<Measure>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    clusters: Option<Clusters>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    observations: Option<Vec<String>>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    covariance: Option<CovarianceBlocks>,
    /// What every fit asks of `yi` and `vi`, found once when they are set.
    #[cfg_attr(feature = "serde", serde(skip))]
    screen: Screen,
}

/// A summary of `yi` and `vi` taken once, when the studies are built (they never change
/// afterwards), so that fits need not pass over the data for it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Screen {
    /// Every study surely in range (see [`Studies::check_range`]).
    in_range: bool,
    /// Smallest and largest `vi`.
    v_min: f64,
    v_max: f64,
}

impl Screen {
    /// One branch-free pass without divisions. It passes only studies surely in range:
    /// `|yi| <= 1e150 vi / 2` implies `|yi| / vi <= 1e150` after rounding.
    fn of(yi: &[f64], vi: &[f64]) -> Self {
        let (flagged, v_min, v_max) = yi.iter().zip(vi).fold(
            (false, f64::INFINITY, f64::NEG_INFINITY),
            |(any, lo, hi), (&y, &v)| {
                let a = y.abs();
                let out = (a > MAX_ABS_EFFECT)
                    | !(MIN_VARIANCE..=MAX_VARIANCE).contains(&v)
                    | (a > 0.5 * MAX_WEIGHTED_EFFECT * v);
                (any | out, lo.min(v), hi.max(v))
            },
        );
        Screen {
            in_range: !flagged,
            v_min,
            v_max,
        }
    }
}

/// Largest `|yi|` an analysis accepts: `tau^2` is of the order of the squared spread of the
/// effects, and the squared weights `1/(vi + tau^2)^2` of the likelihood's derivatives
/// underflow beyond it. See [`Studies::check_range`].
pub const MAX_ABS_EFFECT: f64 = 1e75;
/// Smallest sampling variance an analysis accepts: the squared weights `1/vi^2` stay below
/// 1e300. See [`Studies::check_range`].
pub const MIN_VARIANCE: f64 = 1e-150;
/// Largest sampling variance an analysis accepts: `vi^2` stays below 1e300 and `1/vi^2`
/// above 1e-300. See [`Studies::check_range`].
pub const MAX_VARIANCE: f64 = 1e150;
/// Largest `|yi| / vi` (the weighted effect `w yi` at `tau^2 = 0`) an analysis accepts:
/// `w^2 yi^2` stays below 1e300. See [`Studies::check_range`].
pub const MAX_WEIGHTED_EFFECT: f64 = 1e150;

/// The default label of the study at zero-based `index`.
pub(crate) fn default_label(index: usize) -> String {
    format!("Study {}", index + 1)
}

impl Studies {
    /// Studies from effect estimates and their sampling **variances**.
    ///
    /// # Errors
    /// [`MetaError::Empty`] for no studies, [`MetaError::LengthMismatch`] when the lengths
    /// differ, and [`MetaError::InvalidValue`] naming the study and field for a non-finite
    /// estimate or a variance that is not finite and `> 0`.
    ///
    /// # Examples
    /// ```
    /// let s = metan::Studies::from_variances(vec![0.5, 0.1], vec![0.04, 0.01])?;
    /// assert_eq!(s.sei()[0], 0.2);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn from_variances(yi: impl Into<Vec<f64>>, vi: impl Into<Vec<f64>>) -> Result<Self> {
        let yi = yi.into();
        let vi = vi.into();
        Self::check_lengths(&yi, vi.len(), "vi")?;
        for (i, (&y, &v)) in yi.iter().zip(&vi).enumerate() {
            check_estimate(i, y)?;
            if !(v.is_finite() && v > 0.0) {
                return Err(MetaError::invalid_value(
                    i,
                    &default_label(i),
                    "vi",
                    v,
                    "a sampling variance must be finite and > 0",
                ));
            }
        }
        Ok(Self::unchecked(yi, vi))
    }

    /// Studies from effect estimates and their **standard errors** (`vi = sei^2`).
    ///
    /// # Errors
    /// As [`Studies::from_variances`], with the field `sei`.
    ///
    /// # Examples
    /// ```
    /// let s = metan::Studies::from_standard_errors(vec![0.5], vec![0.2])?;
    /// assert!((s.vi()[0] - 0.04).abs() < 1e-17);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn from_standard_errors(yi: impl Into<Vec<f64>>, sei: impl Into<Vec<f64>>) -> Result<Self> {
        let yi = yi.into();
        let sei = sei.into();
        Self::check_lengths(&yi, sei.len(), "sei")?;
        let mut vi = Vec::with_capacity(sei.len());
        for (i, (&y, &s)) in yi.iter().zip(&sei).enumerate() {
            check_estimate(i, y)?;
            let v = s * s;
            if !(s.is_finite() && s > 0.0 && v.is_finite() && v > 0.0) {
                return Err(MetaError::invalid_value(
                    i,
                    &default_label(i),
                    "sei",
                    s,
                    "a standard error must be finite and > 0 (and its square representable)",
                ));
            }
            vi.push(v);
        }
        Ok(Self::unchecked(yi, vi))
    }

    fn check_lengths(yi: &[f64], n: usize, field: &str) -> Result<()> {
        if yi.is_empty() && n == 0 {
            return Err(MetaError::Empty);
        }
        if n != yi.len() {
            return Err(MetaError::LengthMismatch {
                field: field.to_string(),
                expected: yi.len(),
                found: n,
            });
        }
        Ok(())
    }

    /// Builds without checks; callers guarantee finite `yi` and finite positive `vi`.
    pub(crate) fn unchecked(yi: Vec<f64>, vi: Vec<f64>) -> Self {
        let labels = (0..yi.len()).map(default_label).collect();
        let screen = Screen::of(&yi, &vi);
        Studies {
            screen,
            yi,
            vi,
            labels,
            moderators: Vec::new(),
            attributes: Vec::new(),
            measure: None,
            clusters: None,
            observations: None,
            covariance: None,
        }
    }

    /// The smallest and largest sampling variances `(min vi, max vi)`.
    pub(crate) fn v_range(&self) -> (f64, f64) {
        (self.screen.v_min, self.screen.v_max)
    }

    /// Checks that every study lies in the range where metan's double-precision
    /// computations neither overflow nor underflow; every fit calls it when it validates its
    /// input (the Studies themselves may hold any finite values, e.g. for plotting).
    ///
    /// # Formula
    /// Study `i` is in range when `|yi| <= 1e75` ([`MAX_ABS_EFFECT`]),
    /// `1e-150 <= vi <= 1e150` ([`MIN_VARIANCE`], [`MAX_VARIANCE`]) and
    /// `|yi| / vi <= 1e150` ([`MAX_WEIGHTED_EFFECT`]). Then the squares, weights, squared
    /// weights and weighted squares that the estimators sum (`yi^2`, `tau^2 ~ (yi - yj)^2`,
    /// `1/vi^2`, `w yi^2`, `w^2 yi^2`) stay between 1e-300 and 1e300, so sums over up to
    /// 10^8 studies are finite. Rescaling the data (`yi c`, `vi c^2`) changes no test
    /// statistic, p-value or I^2, and scales the estimates by `c` and tau^2 by `c^2`.
    ///
    /// # Errors
    /// [`MetaError::InvalidValue`] naming the first study out of range, the field (`yi` or
    /// `vi`), the bound it breaks and the remedy (rescale, with a suggested factor).
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, MetaError, Studies};
    /// // effects of 1e100 with standard errors of 1e100: in the wrong units
    /// let s = Studies::from_variances(vec![1e100, 2e100, -1e100], vec![1e200, 3e200, 1e200])?;
    /// let e = MetaAnalysis::new().fit(&s).unwrap_err();
    /// assert!(matches!(e, MetaError::InvalidValue { ref field, .. } if field == "yi"));
    /// assert!(e.to_string().contains("divide every yi by c = 1e100 and every vi by c^2"));
    /// let ok = Studies::from_variances(vec![1.0, 2.0, -1.0], vec![1.0, 3.0, 1.0])?;
    /// assert!(ok.check_range().is_ok());
    /// // effects of 1e308 with variances of 0.1 lie 3e308 standard errors from zero
    /// let e = Studies::from_variances(vec![1e308, 2e307], vec![0.1, 0.2])?.check_range();
    /// assert!(e.unwrap_err().to_string().contains("no common rescaling"));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn check_range(&self) -> Result<()> {
        // Every fit passes here: the screen taken when the studies were built lets through
        // only studies surely in range; the exact test below finds the first study out of
        // range when it flagged any.
        if self.screen.in_range {
            return Ok(());
        }
        let Some((i, field, value, bound)) = self.yi.iter().zip(&self.vi).enumerate().find_map(
            |(i, (&y, &v))| {
                if y.abs() > MAX_ABS_EFFECT {
                    Some((i, "yi", y, format!("|yi| <= {MAX_ABS_EFFECT:e}: tau^2 and the squared weights of such effects overflow double precision")))
                } else if v < MIN_VARIANCE {
                    Some((i, "vi", v, format!("vi >= {MIN_VARIANCE:e}: the squared weights 1/vi^2 overflow double precision")))
                } else if v > MAX_VARIANCE {
                    Some((i, "vi", v, format!("vi <= {MAX_VARIANCE:e}: vi^2 overflows and 1/vi^2 underflows double precision")))
                } else if y.abs() / v > MAX_WEIGHTED_EFFECT {
                    Some((i, "yi", y, format!("|yi|/vi <= {MAX_WEIGHTED_EFFECT:e}, here {:.3e}: the weighted squares w*yi^2 and w^2*yi^2 overflow double precision", y.abs() / v)))
                } else {
                    None
                }
            },
        ) else {
            return Ok(());
        };
        let remedy = match self.rescaling() {
            Some(c) if c < 1.0 => format!(
                "rescale: multiply every yi by c = {:e} and every vi by c^2 (change units); \
                 test statistics, p-values and I^2 do not change",
                1.0 / c
            ),
            Some(c) => format!(
                "rescale: divide every yi by c = {c:e} and every vi by c^2 (change units); \
                 test statistics, p-values and I^2 do not change"
            ),
            None => {
                let z = self.yi[i].abs() / self.vi[i].sqrt();
                let z = if z.is_finite() {
                    format!("{z:.3e}")
                } else {
                    format!("more than {:.1e}", f64::MAX)
                };
                format!(
                    "no common rescaling (every yi divided by c, every vi by c^2) brings every \
                     study into range: this study's effect lies {z} standard errors from zero; \
                     check its yi and vi (units, or a standard error given as a variance)"
                )
            }
        };
        Err(MetaError::invalid_value(
            i,
            self.label(i),
            field,
            format!("{value:e}"),
            format!("outside the numerical range ({bound}); {remedy}"),
        ))
    }

    /// A power of ten `c` that brings every study into range as `(yi / c, vi / c^2)`: the
    /// one nearest the median standard error (so that the rescaled variances are near 1),
    /// or `None` when no power of ten near it works.
    fn rescaling(&self) -> Option<f64> {
        let mut v = self.vi.clone();
        v.sort_by(f64::total_cmp);
        let mid = v.get(v.len() / 2).copied()?;
        let e0 = (mid.log10() / 2.0).round();
        let fits = |c: f64| {
            self.yi.iter().zip(&self.vi).all(|(&y, &v)| {
                let (y, v) = (y / c, v / c / c);
                y.is_finite()
                    && y.abs() <= MAX_ABS_EFFECT
                    && (MIN_VARIANCE..=MAX_VARIANCE).contains(&v)
                    && y.abs() / v <= MAX_WEIGHTED_EFFECT
            })
        };
        // the median's power first, then outwards
        (0..=300)
            .flat_map(|d| [e0 - f64::from(d), e0 + f64::from(d)])
            .map(|e| 10f64.powf(e))
            .filter(|c| c.is_finite() && *c > 0.0)
            .find(|&c| fits(c))
    }

    /// Sets the study labels (one per study).
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] when there is not one label per study.
    pub fn with_labels<S: Into<String>>(
        mut self,
        labels: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let labels: Vec<String> = labels.into_iter().map(Into::into).collect();
        if labels.len() != self.k() {
            return Err(MetaError::LengthMismatch {
                field: "labels".into(),
                expected: self.k(),
                found: labels.len(),
            });
        }
        self.labels = labels;
        Ok(self)
    }

    /// Adds (or replaces) a named numeric moderator, one finite value per study.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`], or [`MetaError::InvalidValue`] naming the study for a
    /// non-finite value.
    pub fn with_moderator(
        mut self,
        name: impl Into<String>,
        values: impl Into<Vec<f64>>,
    ) -> Result<Self> {
        let name = name.into();
        let values = values.into();
        if values.len() != self.k() {
            return Err(MetaError::LengthMismatch {
                field: name,
                expected: self.k(),
                found: values.len(),
            });
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(MetaError::invalid_value(
                i,
                &self.labels[i],
                &name,
                values[i],
                "a moderator value must be finite",
            ));
        }
        match self.moderators.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = values,
            None => self.moderators.push((name, values)),
        }
        Ok(self)
    }

    /// Adds (or replaces) a named string attribute (design, risk-of-bias flag, ...), one
    /// value per study. An empty string means "not recorded".
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] when there is not one value per study.
    pub fn with_attribute<S: Into<String>>(
        mut self,
        name: impl Into<String>,
        values: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let name = name.into();
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        if values.len() != self.k() {
            return Err(MetaError::LengthMismatch {
                field: name,
                expected: self.k(),
                found: values.len(),
            });
        }
        match self.attributes.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = values,
            None => self.attributes.push((name, values)),
        }
        Ok(self)
    }

    /// Records the effect-size measure the estimates are on (set by
    /// [`crate::data::effect_size::EffectSizeTable::into_studies`]), so that fits can be
    /// back-transformed ([`crate::MetaFit::back_transformed`]).
    ///
    /// # Examples
    /// ```
    /// use metan::data::effect_size::Measure;
    /// let s = metan::Studies::from_variances(vec![0.1], vec![0.04])?.with_measure(Measure::OR);
    /// assert_eq!(s.measure(), Some(Measure::OR));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn with_measure(mut self, measure: Measure) -> Self {
        self.measure = Some(measure);
        self
    }

    /// Assigns each effect to a cluster (the study that reported it), for multilevel and
    /// multivariate models and cluster-robust inference.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] when there is not one identifier per effect, and
    /// [`MetaError::InvalidValue`] naming the row of an empty identifier.
    ///
    /// # Examples
    /// ```
    /// let s = metan::Studies::from_variances(vec![0.1, 0.2, 0.3], vec![0.04, 0.05, 0.06])?
    ///     .with_clusters(["A", "A", "B"])?;
    /// let c = s.clusters().expect("set above");
    /// assert_eq!(c.len(), 2);
    /// assert_eq!(c.members(0), [0, 1]);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn with_clusters<S: AsRef<str>>(
        mut self,
        ids: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let ids: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
        if ids.len() != self.k() {
            return Err(MetaError::LengthMismatch {
                field: "cluster".into(),
                expected: self.k(),
                found: ids.len(),
            });
        }
        if let Some(i) = ids.iter().position(|s| s.trim().is_empty()) {
            return Err(MetaError::invalid_value(
                i,
                &self.labels[i],
                "cluster",
                "\"\"",
                "every effect needs a cluster identifier (missing value)",
            ));
        }
        self.clusters = Some(Clusters::new(ids)?);
        // blocks given for another clustering no longer apply
        self.covariance = None;
        Ok(self)
    }

    /// Assigns each effect an observation id within its cluster (metafor's `obs` in
    /// `vcalc` and the inner level of `random = ~ 1 | cluster/obs`). Effects of one cluster
    /// with the same id share the inner-level random effect and, with
    /// [`crate::data::Vcalc`], have sampling correlation 1. Without observation ids every
    /// row is its own observation.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] when there is not one id per effect, and
    /// [`MetaError::InvalidValue`] naming the row of an empty id.
    ///
    /// # Examples
    /// ```
    /// let s = metan::Studies::from_variances(vec![0.1, 0.2, 0.3], vec![0.04, 0.05, 0.06])?
    ///     .with_clusters(["A", "A", "B"])?
    ///     .with_observations(["1", "2", "1"])?;
    /// assert_eq!(s.observations().expect("set above")[1], "2");
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn with_observations<S: AsRef<str>>(
        mut self,
        ids: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let ids: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
        if ids.len() != self.k() {
            return Err(MetaError::LengthMismatch {
                field: "obs".into(),
                expected: self.k(),
                found: ids.len(),
            });
        }
        if let Some(i) = ids.iter().position(|s| s.trim().is_empty()) {
            return Err(MetaError::invalid_value(
                i,
                &self.labels[i],
                "obs",
                "\"\"",
                "every effect needs an observation identifier (missing value)",
            ));
        }
        self.observations = Some(ids);
        Ok(self)
    }

    /// The observation ids, when given ([`Studies::with_observations`]).
    pub fn observations(&self) -> Option<&[String]> {
        self.observations.as_deref()
    }

    /// Sets the within-cluster sampling covariance matrix in full, block by block: one
    /// block per cluster, in the order of [`crate::data::Clusters::names`] (sorted), each
    /// `n_j x n_j` row-major over the cluster's rows in data order (metafor's `V` given as
    /// a block-diagonal matrix). Set the clusters first.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] without clusters; [`MetaError::LengthMismatch`] for the
    /// wrong number of blocks; [`MetaError::InvalidValue`] naming the cluster (and its
    /// first row) for a block of the wrong size, a non-finite or asymmetric block, or a
    /// diagonal that differs from the variances `vi`; [`MetaError::InvalidCluster`] for a
    /// block that is not positive definite.
    ///
    /// # Examples
    /// ```
    /// let s = metan::Studies::from_variances(vec![0.47, -0.32, 0.2], vec![0.0075, 0.0077, 0.0057])?
    ///     .with_clusters(["1", "1", "2"])?
    ///     .with_covariance_blocks(vec![vec![0.0075, 0.0030, 0.0030, 0.0077], vec![0.0057]])?;
    /// assert_eq!(s.covariance_block(0).expect("set above")[1], 0.0030);
    /// let e = metan::Studies::from_variances(vec![0.1, 0.2], vec![1.0, 1.0])?
    ///     .with_clusters(["x", "x"])?
    ///     .with_covariance_blocks(vec![vec![1.0, 2.0, 2.0, 1.0]]);
    /// assert!(e.unwrap_err().to_string().contains("not positive definite"));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn with_covariance_blocks(mut self, blocks: Vec<Vec<f64>>) -> Result<Self> {
        self.covariance = Some(validate_blocks(&self, blocks)?);
        Ok(self)
    }

    /// The sampling covariance block of cluster `c` (row-major), when blocks were given.
    pub fn covariance_block(&self, c: usize) -> Option<&[f64]> {
        self.covariance.as_ref().map(|b| b.block(c))
    }

    pub(crate) fn covariance_blocks(&self) -> Option<&CovarianceBlocks> {
        self.covariance.as_ref()
    }

    /// The cluster assignment, when one was given ([`Studies::with_clusters`]).
    pub fn clusters(&self) -> Option<&Clusters> {
        self.clusters.as_ref()
    }

    /// The effect-size measure, when known.
    pub fn measure(&self) -> Option<Measure> {
        self.measure
    }

    /// The number of studies, `k`.
    pub fn k(&self) -> usize {
        self.yi.len()
    }

    /// Effect estimates.
    pub fn yi(&self) -> &[f64] {
        &self.yi
    }

    /// Sampling variances.
    pub fn vi(&self) -> &[f64] {
        &self.vi
    }

    /// Standard errors, `sqrt(vi)`.
    pub fn sei(&self) -> Vec<f64> {
        self.vi.iter().map(|v| v.sqrt()).collect()
    }

    /// All labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The label of study `i` (zero-based). Panics if `i >= k`, like slice indexing.
    pub fn label(&self, i: usize) -> &str {
        &self.labels[i]
    }

    /// A numeric moderator by name.
    pub fn moderator(&self, name: &str) -> Option<&[f64]> {
        self.moderators
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The names of the numeric moderators, in insertion order.
    pub fn moderator_names(&self) -> impl Iterator<Item = &str> {
        self.moderators.iter().map(|(n, _)| n.as_str())
    }

    /// A string attribute by name.
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The names of the string attributes, in insertion order.
    pub fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|(n, _)| n.as_str())
    }

    /// The studies at the given zero-based indices, in that order, with their labels,
    /// moderators and attributes.
    ///
    /// # Errors
    /// [`MetaError::Empty`] for no indices, and [`MetaError::InvalidOption`] for an index
    /// out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        if indices.is_empty() {
            return Err(MetaError::Empty);
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.k()) {
            return Err(MetaError::invalid_option(
                "index",
                bad,
                format!("out of range for k = {}", self.k()),
            ));
        }
        let pick_f = |v: &[f64]| indices.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let pick_s = |v: &[String]| indices.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        let (yi, vi) = (pick_f(&self.yi), pick_f(&self.vi));
        Ok(Studies {
            screen: Screen::of(&yi, &vi),
            yi,
            vi,
            labels: pick_s(&self.labels),
            moderators: self
                .moderators
                .iter()
                .map(|(n, v)| (n.clone(), pick_f(v)))
                .collect(),
            attributes: self
                .attributes
                .iter()
                .map(|(n, v)| (n.clone(), pick_s(v)))
                .collect(),
            measure: self.measure,
            observations: self.observations.as_deref().map(pick_s),
            covariance: match (&self.covariance, &self.clusters) {
                (Some(b), Some(old)) => Some(b.subset(old, &old.subset(indices), indices)),
                _ => None,
            },
            clusters: self.clusters.as_ref().map(|c| c.subset(indices)),
        })
    }

    /// The studies for which `keep(i)` is true.
    ///
    /// # Errors
    /// [`MetaError::Empty`] when no study is kept.
    pub fn filter(&self, mut keep: impl FnMut(usize) -> bool) -> Result<Self> {
        let idx: Vec<usize> = (0..self.k()).filter(|&i| keep(i)).collect();
        self.subset(&idx)
    }
}

fn check_estimate(i: usize, y: f64) -> Result<()> {
    if y.is_finite() {
        Ok(())
    } else {
        Err(MetaError::invalid_value(
            i,
            &default_label(i),
            "yi",
            y,
            "an effect estimate must be finite",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rejects_bad_variance_naming_study_and_field() {
        let e = Studies::from_variances(vec![0.1, 0.2], vec![0.1, 0.0]).unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(
                1,
                "Study 2",
                "vi",
                0.0,
                "a sampling variance must be finite and > 0"
            )
        );
        let e = Studies::from_standard_errors(vec![0.1, f64::NAN], vec![0.1, 0.1]).unwrap_err();
        assert!(matches!(e, MetaError::InvalidValue { ref field, .. } if field == "yi"));
    }

    #[test]
    fn range_check_names_study_field_bound_and_remedy() {
        let field_of = |y: Vec<f64>, v: Vec<f64>| match Studies::from_variances(y, v)
            .unwrap()
            .with_labels(vec!["a", "b"])
            .unwrap()
            .check_range()
        {
            Err(MetaError::InvalidValue {
                study,
                field,
                value,
                reason,
            }) => (study.label, field, value, reason),
            other => panic!("expected a range error, got {other:?}"),
        };
        // |yi| beyond 1e75, rescalable: the suggested c is the power of ten of the median SE
        let (label, field, value, reason) = field_of(vec![1e100, 2e100], vec![1e200, 3e200]);
        assert_eq!(
            (label.as_str(), field.as_str(), value.as_str()),
            ("a", "yi", "1e100")
        );
        assert!(reason.contains("|yi| <= 1e75"), "{reason}");
        assert!(reason.contains("divide every yi by c = 1e100"), "{reason}");
        // vi below 1e-150: multiply
        let (label, field, _, reason) = field_of(vec![1e-80, 2e-80], vec![1e-4, 1e-160]);
        assert_eq!((label.as_str(), field.as_str()), ("b", "vi"));
        assert!(reason.contains("vi >= 1e-150"), "{reason}");
        // vi above 1e150
        let (_, field, _, reason) = field_of(vec![0.1, 0.2], vec![1e151, 1.0]);
        assert_eq!(field, "vi");
        assert!(reason.contains("vi <= 1e150"), "{reason}");
        // |yi|/vi beyond 1e150, and rescaling helps (c = 1/10)
        let (_, field, _, reason) = field_of(vec![1e70, 0.0], vec![1e-80, 1.0]);
        assert_eq!(field, "yi");
        assert!(
            reason.contains("|yi|/vi <= 1e150, here 1.000e150"),
            "{reason}"
        );
        assert!(reason.contains("multiply every yi by c = 1e1 "), "{reason}");
        // ... and no rescaling helps: z = 1e75/1e-40 = 1e115
        let (_, field, _, reason) = field_of(vec![1e75, 0.0], vec![1e-80, 1.0]);
        assert_eq!(field, "yi");
        assert!(reason.contains("no common rescaling"), "{reason}");
        assert!(reason.contains("1.000e115 standard errors"), "{reason}");
        // at the bounds: in range
        let s = Studies::from_variances(vec![1e75, -1e75], vec![1e150, 1e-75]).unwrap();
        assert!(s.check_range().is_ok());
    }

    #[test]
    fn empty_and_mismatch() {
        assert_eq!(
            Studies::from_variances(vec![], vec![]).unwrap_err(),
            MetaError::Empty
        );
        assert!(matches!(
            Studies::from_variances(vec![1.0], vec![1.0, 2.0]),
            Err(MetaError::LengthMismatch {
                expected: 1,
                found: 2,
                ..
            })
        ));
    }

    #[test]
    fn subset_keeps_columns() {
        let s = Studies::from_variances(vec![1.0, 2.0, 3.0], vec![1.0, 1.0, 1.0])
            .unwrap()
            .with_moderator("x", vec![10.0, 20.0, 30.0])
            .unwrap()
            .with_attribute("design", ["rct", "qe", "rct"])
            .unwrap();
        let t = s.subset(&[2, 0]).unwrap();
        assert_eq!(t.yi(), &[3.0, 1.0]);
        assert_eq!(t.moderator("x").unwrap(), &[30.0, 10.0]);
        assert_eq!(
            t.attribute("design").unwrap(),
            &["rct".to_string(), "rct".to_string()]
        );
        assert_eq!(t.labels(), &["Study 3".to_string(), "Study 1".to_string()]);
    }
}
