//! Mixed outcome types: each study with its own measure and kind of data, optionally
//! converted to one common scale ([`MixedEffectSizes`]).

use super::convert::{Ci, OddsRatioMethod, Reported};
use super::scale::{Conversion, EffectScale, reported_on};
use super::statistic::Direction;
use super::table::EffectSizeTable;
use super::{
    Correlation, EffectSizes, EventRate, IncidenceTable, Labels, Measure, PartialCorrelation,
    PrePost, Proportion, To, TwoByTwo, TwoGroupMeans, TwoGroupStatistic, VarianceType,
    default_label, finish,
};
use crate::data::Studies;
use crate::error::{MetaError, Result, StudyRef};

/// One study's data, of whichever kind.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum StudyData {
    /// A 2x2 table (OR, RR, RD, AS, PETO, PBIT, OR2DN, OR2DL).
    TwoByTwo(TwoByTwo),
    /// Two groups' means, SDs and sizes (MD, SMD, SMDH, ROM, D2ORN, D2ORL).
    Means(TwoGroupMeans),
    /// A reported d, t or p with the group sizes (SMD, D2ORN, D2ORL).
    Statistic(TwoGroupStatistic),
    /// One group measured twice (MC, SMCC, SMCR, SMCRH, ROMC).
    PrePost(PrePost),
    /// A correlation and sample size (COR, ZCOR).
    Correlation(Correlation),
    /// A regression t statistic (PCOR, ZPCOR, SPCOR).
    Partial(PartialCorrelation),
    /// Events and sample size (PR, PLO, PLN, PAS, PFT).
    Proportion(Proportion),
    /// Two groups' events and person-times (IRR).
    Incidence(IncidenceTable),
    /// One group's events and person-time (IR).
    Rate(EventRate),
    /// An estimate as reported, on the natural scale of the study's measure (an odds ratio
    /// for OR, a correlation for ZCOR, ...), with what the report gives about its
    /// precision: metafor 4's `conv.wald` (see [`super::wald_variance`]).
    Reported {
        /// The estimate on the natural scale of the measure.
        estimate: f64,
        /// Its CI, p-value, test statistic or standard error.
        reported: Reported,
    },
}

impl StudyData {
    fn kind(&self) -> &'static str {
        match self {
            StudyData::TwoByTwo(_) => "a 2x2 table",
            StudyData::Means(_) => "two groups' means",
            StudyData::Statistic(_) => "a reported d, t or p",
            StudyData::PrePost(_) => "pre-post data",
            StudyData::Correlation(_) => "a correlation",
            StudyData::Partial(_) => "a regression t statistic",
            StudyData::Proportion(_) => "a proportion",
            StudyData::Incidence(_) => "two incidence rates",
            StudyData::Rate(_) => "an incidence rate",
            StudyData::Reported { .. } => "a reported estimate",
        }
    }
}

/// One study: its measure and its data.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixedStudy {
    /// The measure to compute.
    pub measure: Measure,
    /// The study's data.
    pub data: StudyData,
}

impl MixedStudy {
    /// A study: `measure` computed from `data`.
    pub fn new(measure: Measure, data: StudyData) -> Self {
        MixedStudy { measure, data }
    }

    /// A study from named fields, as a row of a table gives them: `field(name)` is the
    /// row's value in the column `name`, `None` when the column is missing or the cell is
    /// empty or `NA`. `index` and `label` name the row in errors.
    ///
    /// Field names are metafor's argument names (`ai, bi, ci, di, n1i, n2i, m1i, sd1i,
    /// m2i, sd2i, ri, ni, xi, mi, r2i, x1i, t1i, x2i, t2i`, and `ti` for a person-time),
    /// except for reported statistics, whose metafor names clash with those (`di` is also
    /// a 2x2 cell, `ti` a person-time):
    ///
    /// - `estimate` (on the natural scale of the measure: an odds ratio for OR) with
    ///   `ci_lb` and `ci_ub` (and `level`, default 95), or `pval` (and `df` for a t
    ///   test), `zval`, `tval`, `fval` or `sei`: a reported estimate
    ///   ([`StudyData::Reported`]; metafor 4's `conv.wald`). A row with an `estimate` is
    ///   always read this way.
    /// - for SMD, D2ORN and D2ORL: `dval`, else `tval`, else `pval` (two-sided, negative
    ///   for a negative difference; metafor's `di`, `ti`, `pi`) with `n1i` and `n2i`
    ///   ([`StudyData::Statistic`], with `direction` if given); without them, the means.
    /// - for PCOR, ZPCOR and SPCOR: `tval` (metafor's `ti`), `ni`, `mi` (and `r2i`).
    /// - 2x2 tables: `ai, bi, ci, di`, or `ai, n1i, ci, n2i` when `bi` or `di` is missing.
    /// - pre-post data: `m1i, sd1i, m2i, ni, ri` and, except for SMCR, `sd2i`.
    ///
    /// # Errors
    /// [`MetaError::InvalidValue`] naming the row and the first missing field the measure
    /// needs.
    ///
    /// # Examples
    /// ```
    /// use metan::data::effect_size::{Measure, MixedStudy, StudyData};
    /// let row = |name: &str| match name {
    ///     "tval" => Some(-2.2),
    ///     "n1i" => Some(25.0),
    ///     "n2i" => Some(27.0),
    ///     _ => None,
    /// };
    /// let s = MixedStudy::from_fields(0, "Study 1", Measure::SMD, None, row)?;
    /// assert!(matches!(s.data, StudyData::Statistic(_)));
    /// assert!(MixedStudy::from_fields(0, "Study 1", Measure::OR, None, row).is_err());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn from_fields(
        index: usize,
        label: &str,
        measure: Measure,
        direction: Option<Direction>,
        field: impl Fn(&str) -> Option<f64>,
    ) -> Result<Self> {
        let need = |name: &str| {
            field(name).ok_or_else(|| {
                MetaError::invalid_value(
                    index,
                    label,
                    name,
                    "NA",
                    format!("measure {measure} needs `{name}` in this row"),
                )
            })
        };
        if let Some(estimate) = field("estimate") {
            let reported = if field("ci_lb").is_some() || field("ci_ub").is_some() {
                let ci = Ci::new(need("ci_lb")?, need("ci_ub")?);
                Reported::Ci(match field("level") {
                    Some(l) => ci.level(l),
                    None => ci,
                })
            } else if let Some(p) = field("pval") {
                match field("df") {
                    Some(df) => Reported::PT { p, df },
                    None => Reported::P(p),
                }
            } else if let Some(z) = field("zval") {
                Reported::Z(z)
            } else if let Some(t) = field("tval") {
                Reported::T(t)
            } else if let Some(f) = field("fval") {
                Reported::F(f)
            } else if let Some(se) = field("sei") {
                Reported::Se(se)
            } else {
                return Err(MetaError::invalid_value(
                    index,
                    label,
                    "estimate",
                    estimate,
                    "a reported estimate needs ci_lb and ci_ub, pval, zval, tval, fval or sei",
                ));
            };
            return Ok(MixedStudy::new(
                measure,
                StudyData::Reported { estimate, reported },
            ));
        }
        let data = if measure.two_by_two().is_some() {
            let (ai, ci) = (need("ai")?, need("ci")?);
            match (field("bi"), field("di")) {
                (Some(bi), Some(di)) => StudyData::TwoByTwo(TwoByTwo::new(ai, bi, ci, di)),
                _ => StudyData::TwoByTwo(TwoByTwo::from_events(ai, need("n1i")?, ci, need("n2i")?)),
            }
        } else if measure.statistic().is_some()
            && (field("dval").is_some() || field("tval").is_some() || field("pval").is_some())
        {
            let (n1, n2) = (need("n1i")?, need("n2i")?);
            let s = if let Some(d) = field("dval") {
                TwoGroupStatistic::d(d, n1, n2)
            } else if let Some(t) = field("tval") {
                TwoGroupStatistic::t(t, n1, n2)
            } else {
                TwoGroupStatistic::p(need("pval")?, n1, n2)
            };
            StudyData::Statistic(match direction {
                Some(d) => s.direction(d),
                None => s,
            })
        } else if measure.means().is_some() {
            StudyData::Means(TwoGroupMeans::new(
                need("m1i")?,
                need("sd1i")?,
                need("n1i")?,
                need("m2i")?,
                need("sd2i")?,
                need("n2i")?,
            ))
        } else if let Some(m) = measure.pre_post() {
            let (m1, sd1, m2) = (need("m1i")?, need("sd1i")?, need("m2i")?);
            let sd2 = if m == super::PrePostMeasure::SMCR {
                field("sd2i")
            } else {
                Some(need("sd2i")?)
            };
            let (n, r) = (need("ni")?, need("ri")?);
            StudyData::PrePost(match sd2 {
                Some(sd2) => PrePost::new(m1, sd1, m2, sd2, n, r),
                None => PrePost::raw_sd(m1, sd1, m2, n, r),
            })
        } else if measure.correlation().is_some() {
            StudyData::Correlation(Correlation::new(need("ri")?, need("ni")?))
        } else if measure.partial().is_some() {
            let p = PartialCorrelation::new(need("tval")?, need("ni")?, need("mi")?);
            StudyData::Partial(match field("r2i") {
                Some(r2) => p.r2(r2),
                None => p,
            })
        } else if measure.proportion().is_some() {
            StudyData::Proportion(Proportion::new(need("xi")?, need("ni")?))
        } else if measure.incidence().is_some() {
            StudyData::Incidence(IncidenceTable::new(
                need("x1i")?,
                need("t1i")?,
                need("x2i")?,
                need("t2i")?,
            ))
        } else if measure.rate().is_some() {
            StudyData::Rate(EventRate::new(need("xi")?, need("ti")?))
        } else {
            return Err(MetaError::invalid_value(
                index,
                label,
                "measure",
                measure,
                "no raw-data input computes this measure",
            ));
        };
        Ok(MixedStudy::new(measure, data))
    }
}

/// Effect sizes of studies with different outcome types, each computed with its own
/// measure (metafor's `escalc` called once per measure, on the rows of that measure) and,
/// optionally, converted to one common scale.
///
/// The rows of one measure are computed together, so that `to = "if0all"` and
/// `vtype = "AV"` act on them as metafor's `escalc` would on that subset; SMD, D2ORN and
/// D2ORL rows from means and from a reported d, t or p are computed together (metafor's
/// `replmiss` of `m1i` by `di`). `add`, `to` and `drop00` apply to the measures that use
/// them; `vtype` must be allowed by every measure present.
///
/// With [`MixedEffectSizes::convert_to`], every row is then converted to the target scale
/// along [`EffectScale::path_to`] (d to log OR with the chosen [`OddsRatioMethod`], r to d,
/// ...), and [`MixedRow`] records where it came from and how.
///
/// # Examples
/// ```
/// use metan::data::effect_size::{
///     EffectScale, Measure, MixedEffectSizes, MixedStudy, StudyData, TwoByTwo, TwoGroupMeans,
///     PrePost, Reported, Ci,
/// };
/// let studies = [
///     // recidivism: events / non-events, programme vs control
///     MixedStudy::new(Measure::OR, StudyData::TwoByTwo(TwoByTwo::new(12.0, 88.0, 20.0, 80.0))),
///     // partner reports on a continuous scale, programme vs control
///     MixedStudy::new(Measure::SMD, StudyData::Means(TwoGroupMeans::new(8.1, 5.0, 60.0, 10.2, 5.5, 58.0))),
///     // one group before and after (post first, pre-test SD, n, pre-post r)
///     MixedStudy::new(Measure::SMCR, StudyData::PrePost(PrePost::raw_sd(7.0, 6.0, 9.5, 40.0, 0.6))),
///     // only an odds ratio and its 95% CI reported
///     MixedStudy::new(Measure::OR, StudyData::Reported {
///         estimate: 0.7,
///         reported: Reported::Ci(Ci::new(0.45, 1.09)),
///     }),
/// ];
/// let table = MixedEffectSizes::new(&studies)
///     .convert_to(EffectScale::D)
///     .labels(["A", "B", "C", "D"])
///     .compute()?;
/// let rows = table.rows();
/// assert_eq!(rows[0].converted_from, Some(EffectScale::LogOddsRatio)); // OR -> d
/// assert!(rows[1].conversions.is_empty()); // already d
/// assert_eq!(table.conversion_text(0), "d = logOR*sqrt(3)/pi (Hasselblad & Hedges 1995)");
/// let studies = table.into_studies()?; // ready to fit, measure SMD
/// assert_eq!(studies.k(), 4);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MixedEffectSizes<'a> {
    studies: &'a [MixedStudy],
    target: Option<EffectScale>,
    method: OddsRatioMethod,
    add: Option<f64>,
    to: To,
    drop00: bool,
    vtype: VarianceType,
    labels: Option<Vec<String>>,
}

/// One row of a [`MixedTable`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixedRow {
    /// The study's own measure.
    pub measure: Measure,
    /// The effect size, on the target scale if one was set (`None` = metafor's `NA`).
    pub yi: Option<f64>,
    /// Its sampling variance.
    pub vi: Option<f64>,
    /// The scale `yi` is on (`None` for a measure with no [`EffectScale`] and no target).
    pub scale: Option<EffectScale>,
    /// The scale the row was converted from, if it was converted.
    pub converted_from: Option<EffectScale>,
    /// The conversions applied, in order (empty if none).
    pub conversions: Vec<Conversion>,
    /// The study's total sample size as metafor records it (`attr(yi, "ni")`); `None` for a
    /// reported estimate.
    pub ni: Option<f64>,
}

/// The result of [`MixedEffectSizes::compute`]: one [`MixedRow`] per study.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixedTable {
    rows: Vec<MixedRow>,
    target: Option<EffectScale>,
    labels: Option<Vec<String>>,
}

impl<'a> MixedEffectSizes<'a> {
    /// The studies, unconverted, with metafor's default options.
    pub fn new(studies: &'a [MixedStudy]) -> Self {
        MixedEffectSizes {
            studies,
            target: None,
            method: OddsRatioMethod::Logistic,
            add: None,
            to: To::Only0,
            drop00: false,
            vtype: VarianceType::LS,
            labels: None,
        }
    }
    /// Convert every row to this scale (in practice [`EffectScale::D`] or
    /// [`EffectScale::LogOddsRatio`]).
    pub fn convert_to(mut self, target: EffectScale) -> Self {
        self.target = Some(target);
        self
    }
    /// How d and log odds ratios are related (default [`OddsRatioMethod::Logistic`]).
    pub fn method(mut self, method: OddsRatioMethod) -> Self {
        self.method = method;
        self
    }
    /// metafor's `add` for the measures with a continuity correction (default: each
    /// measure's own).
    #[allow(clippy::should_implement_trait)] // metafor's argument name
    pub fn add(mut self, add: f64) -> Self {
        self.add = Some(add);
        self
    }
    /// metafor's `to` (default [`To::Only0`]).
    pub fn to(mut self, to: To) -> Self {
        self.to = to;
        self
    }
    /// metafor's `drop00` (default false).
    pub fn drop00(mut self, drop00: bool) -> Self {
        self.drop00 = drop00;
        self
    }
    /// metafor's `vtype` (default LS); every measure present must allow it.
    pub fn vtype(mut self, vtype: VarianceType) -> Self {
        self.vtype = vtype;
        self
    }
    /// Study labels, one per study.
    pub fn labels<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.labels = Some(labels.into_iter().map(Into::into).collect());
        self
    }

    /// Computes every row, then converts it if a target scale was set.
    ///
    /// # Errors
    /// [`MetaError::Empty`]; [`MetaError::LengthMismatch`] for labels of the wrong length;
    /// [`MetaError::InvalidValue`] naming the study and field for invalid data (as each
    /// family's `compute`), for a measure that cannot be computed from the study's kind of
    /// data (field `measure`), for a reported estimate outside its natural domain, a CI
    /// that does not contain it, a p-value of 0 or 1 (fields `estimate`, `ci_lb`, `pval`,
    /// ...), and, with a target scale, for a measure with no conversion to it (field
    /// `measure`: e.g. a log risk ratio to d); [`MetaError::InvalidOption`] for a `vtype`
    /// a measure present does not allow or a non-finite `add`.
    pub fn compute(&self) -> Result<MixedTable> {
        let k = self.studies.len();
        if k == 0 {
            return Err(MetaError::Empty);
        }
        let labels = match &self.labels {
            Some(l) if l.len() != k => {
                return Err(MetaError::LengthMismatch {
                    field: "labels".into(),
                    expected: k,
                    found: l.len(),
                });
            }
            Some(l) => l.clone(),
            None => (0..k).map(default_label).collect(),
        };
        let mut yi: Vec<Option<f64>> = vec![None; k];
        let mut vi: Vec<Option<f64>> = vec![None; k];
        let mut ni: Vec<Option<f64>> = vec![None; k];

        // groups of rows computed together: (measure, family), in order of appearance
        let mut groups: Vec<(Measure, Family, Vec<usize>)> = Vec::new();
        for (i, s) in self.studies.iter().enumerate() {
            let fam = family_of(s, i, &labels[i])?;
            match groups
                .iter_mut()
                .find(|(m, f, _)| *m == s.measure && *f == fam)
            {
                Some(g) => g.2.push(i),
                None => groups.push((s.measure, fam, vec![i])),
            }
        }
        for (measure, fam, rows) in &groups {
            let sub_labels: Vec<String> = rows.iter().map(|&i| labels[i].clone()).collect();
            let out = self
                .group(*measure, *fam, rows, &sub_labels)
                .map_err(|e| remap(e, rows))?;
            for (j, &i) in rows.iter().enumerate() {
                yi[i] = out.0[j];
                vi[i] = out.1[j];
                ni[i] = out.2.get(j).copied();
            }
        }

        let mut out = Vec::with_capacity(k);
        for (i, s) in self.studies.iter().enumerate() {
            let own = s.measure.scale();
            let (mut y, mut v) = (yi[i], vi[i]);
            let (scale, from, conversions) = match self.target {
                None => (own, None, Vec::new()),
                Some(t) => {
                    let path = own
                        .and_then(|sc| sc.path_to(t, self.method))
                        .ok_or_else(|| {
                            let why = match own {
                                Some(sc) => {
                                    format!("no conversion from {} ({sc}) to {t}", s.measure)
                                }
                                None => format!(
                                    "{} is on no scale metan converts from (d, log OR, r, z); \
                                     it cannot be put on the {t} scale",
                                    s.measure
                                ),
                            };
                            MetaError::invalid_value(i, &labels[i], "measure", s.measure, why)
                        })?;
                    for c in &path {
                        if let (Some(a), Some(b)) = (y, v) {
                            let (a, b) = c.apply(a, b);
                            (y, v) = finish(a, b);
                        }
                    }
                    let from = (!path.is_empty()).then_some(own).flatten();
                    (Some(t), from, path)
                }
            };
            out.push(MixedRow {
                measure: s.measure,
                yi: y,
                vi: v,
                scale,
                converted_from: from,
                conversions,
                ni: ni[i],
            });
        }
        Ok(MixedTable {
            rows: out,
            target: self.target,
            labels: self.labels.clone(),
        })
    }

    /// `(yi, vi)` of one group of rows, with group-local indices in errors.
    fn group(
        &self,
        measure: Measure,
        fam: Family,
        rows: &[usize],
        labels: &[String],
    ) -> Result<Columns> {
        let data = |i: usize| self.studies[i].data;
        macro_rules! corrected {
            ($b:expr) => {{
                let mut b = $b.to(self.to).vtype(self.vtype).labels(labels.to_vec());
                if let Some(a) = self.add {
                    b = b.add(a);
                }
                b
            }};
        }
        let table: EffectSizeTable = match fam {
            Family::TwoByTwo => {
                let d: Vec<TwoByTwo> = rows
                    .iter()
                    .filter_map(|&i| match data(i) {
                        StudyData::TwoByTwo(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                let m = measure.two_by_two().ok_or_else(|| mismatch(measure))?;
                corrected!(EffectSizes::two_by_two(&d, m))
                    .drop00(self.drop00)
                    .compute()?
            }
            Family::Means => {
                // means and reported d/t/p together, as metafor's escalc does
                let mut d = Vec::with_capacity(rows.len());
                let l = Labels(Some(labels.to_vec()));
                for (j, &i) in rows.iter().enumerate() {
                    match data(i) {
                        StudyData::Means(x) => {
                            x.validate(j, &l)?;
                            d.push(x);
                        }
                        StudyData::Statistic(s) => {
                            let dv = s.d_value(j, &l)?;
                            d.push(TwoGroupMeans::new(dv, 1.0, s.n1i, 0.0, 1.0, s.n2i));
                        }
                        _ => {}
                    }
                }
                let m = measure.means().ok_or_else(|| mismatch(measure))?;
                EffectSizes::means(&d, m)
                    .vtype(self.vtype)
                    .labels(labels.to_vec())
                    .compute()?
            }
            Family::PrePost => {
                let d: Vec<PrePost> = rows
                    .iter()
                    .filter_map(|&i| match data(i) {
                        StudyData::PrePost(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                let m = measure.pre_post().ok_or_else(|| mismatch(measure))?;
                EffectSizes::pre_post(&d, m)
                    .vtype(self.vtype)
                    .labels(labels.to_vec())
                    .compute()?
            }
            Family::Correlation => {
                let d: Vec<Correlation> = rows
                    .iter()
                    .filter_map(|&i| match data(i) {
                        StudyData::Correlation(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                let m = measure.correlation().ok_or_else(|| mismatch(measure))?;
                EffectSizes::correlations(&d, m)
                    .vtype(self.vtype)
                    .labels(labels.to_vec())
                    .compute()?
            }
            Family::Partial => {
                let d: Vec<PartialCorrelation> = rows
                    .iter()
                    .filter_map(|&i| match data(i) {
                        StudyData::Partial(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                let m = measure.partial().ok_or_else(|| mismatch(measure))?;
                EffectSizes::partial_correlations(&d, m)
                    .vtype(self.vtype)
                    .labels(labels.to_vec())
                    .compute()?
            }
            Family::Proportion => {
                let d: Vec<Proportion> = rows
                    .iter()
                    .filter_map(|&i| match data(i) {
                        StudyData::Proportion(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                let m = measure.proportion().ok_or_else(|| mismatch(measure))?;
                corrected!(EffectSizes::proportions(&d, m)).compute()?
            }
            Family::Incidence => {
                let d: Vec<IncidenceTable> = rows
                    .iter()
                    .filter_map(|&i| match data(i) {
                        StudyData::Incidence(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                let m = measure.incidence().ok_or_else(|| mismatch(measure))?;
                corrected!(EffectSizes::incidence(&d, m))
                    .drop00(self.drop00)
                    .compute()?
            }
            Family::Rate => {
                let d: Vec<EventRate> = rows
                    .iter()
                    .filter_map(|&i| match data(i) {
                        StudyData::Rate(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                let m = measure.rate().ok_or_else(|| mismatch(measure))?;
                corrected!(EffectSizes::rates(&d, m)).compute()?
            }
            Family::Reported => {
                let natural = measure.back_transform().ok_or_else(|| {
                    MetaError::invalid_value(
                        0,
                        &labels[0],
                        "measure",
                        measure,
                        "a reported estimate needs a measure with a closed-form back-transformation",
                    )
                })?;
                let mut yi = Vec::with_capacity(rows.len());
                let mut vi = Vec::with_capacity(rows.len());
                for (j, &i) in rows.iter().enumerate() {
                    if let StudyData::Reported { estimate, reported } = data(i) {
                        let (y, v) =
                            reported_on(natural, natural.natural_domain(), estimate, reported)
                                .map_err(|(f, x, why)| {
                                    MetaError::invalid_value(j, &labels[j], f, x, why)
                                })?;
                        yi.push(Some(y));
                        vi.push(Some(v));
                    }
                }
                return Ok((yi, vi, Vec::new()));
            }
        };
        Ok((
            table.yi().to_vec(),
            table.vi().to_vec(),
            table.ni().to_vec(),
        ))
    }
}

/// `yi`, `vi` and `ni` of a group of rows (no `ni` for reported estimates).
type Columns = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<f64>);

/// The kind of computation a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    TwoByTwo,
    Means,
    PrePost,
    Correlation,
    Partial,
    Proportion,
    Incidence,
    Rate,
    Reported,
}

/// The family of study `i`, checking that its measure can be computed from its data.
fn family_of(s: &MixedStudy, i: usize, label: &str) -> Result<Family> {
    let m = s.measure;
    let (fam, ok) = match s.data {
        StudyData::TwoByTwo(_) => (Family::TwoByTwo, m.two_by_two().is_some()),
        StudyData::Means(_) => (Family::Means, m.means().is_some()),
        StudyData::Statistic(_) => (Family::Means, m.statistic().is_some()),
        StudyData::PrePost(_) => (Family::PrePost, m.pre_post().is_some()),
        StudyData::Correlation(_) => (Family::Correlation, m.correlation().is_some()),
        StudyData::Partial(_) => (Family::Partial, m.partial().is_some()),
        StudyData::Proportion(_) => (Family::Proportion, m.proportion().is_some()),
        StudyData::Incidence(_) => (Family::Incidence, m.incidence().is_some()),
        StudyData::Rate(_) => (Family::Rate, m.rate().is_some()),
        StudyData::Reported { .. } => (Family::Reported, true),
    };
    if ok {
        Ok(fam)
    } else {
        Err(MetaError::invalid_value(
            i,
            label,
            "measure",
            m,
            format!("{m} cannot be computed from {}", s.data.kind()),
        ))
    }
}

/// Unreachable after [`family_of`]; kept as an error rather than a panic.
fn mismatch(m: Measure) -> MetaError {
    MetaError::invalid_option("measure", m, "does not match the kind of data")
}

/// An error of a group computation, with the study index mapped back to the whole table.
fn remap(e: MetaError, rows: &[usize]) -> MetaError {
    match e {
        MetaError::InvalidValue {
            study,
            field,
            value,
            reason,
        } => MetaError::InvalidValue {
            study: StudyRef {
                index: rows.get(study.index).copied().unwrap_or(study.index),
                label: study.label,
            },
            field,
            value,
            reason,
        },
        other => other,
    }
}

impl MixedTable {
    /// The rows, one per study.
    pub fn rows(&self) -> &[MixedRow] {
        &self.rows
    }
    /// The target scale, if one was set.
    pub fn target(&self) -> Option<EffectScale> {
        self.target
    }
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.rows.len()
    }
    /// The label of study `i` (the given one or `"Study i+1"`). Panics if `i >= k`.
    pub fn label(&self, i: usize) -> String {
        match &self.labels {
            Some(l) => l[i].clone(),
            None => default_label(i),
        }
    }
    /// The effect sizes (`None` = `NA`).
    pub fn yi(&self) -> Vec<Option<f64>> {
        self.rows.iter().map(|r| r.yi).collect()
    }
    /// The sampling variances (`None` = `NA`).
    pub fn vi(&self) -> Vec<Option<f64>> {
        self.rows.iter().map(|r| r.vi).collect()
    }
    /// The conversions of row `i` as text, joined by `; ` (empty if none). Panics if
    /// `i >= k`.
    pub fn conversion_text(&self, i: usize) -> String {
        self.rows[i]
            .conversions
            .iter()
            .map(|c| c.formula())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// As an [`EffectSizeTable`] of one measure: the target's ([`EffectScale::measure`])
    /// if one was set, otherwise the measure all rows share. `ni` is NaN for reported
    /// estimates.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] (option `measure`) when no target was set and the
    /// rows have different measures.
    pub fn into_table(self) -> Result<EffectSizeTable> {
        let measure = match self.target {
            Some(t) => t.measure(),
            None => {
                let m0 = self.rows[0].measure;
                if let Some(r) = self.rows.iter().find(|r| r.measure != m0) {
                    return Err(MetaError::invalid_option(
                        "measure",
                        r.measure,
                        format!(
                            "rows have different measures ({m0}, {}): convert them to one scale",
                            r.measure
                        ),
                    ));
                }
                m0
            }
        };
        let yi = self.yi();
        let vi = self.vi();
        let ni = self.rows.iter().map(|r| r.ni.unwrap_or(f64::NAN)).collect();
        Ok(EffectSizeTable::new(
            measure,
            yi,
            vi,
            Labels(self.labels),
            ni,
        ))
    }

    /// The studies with both `yi` and `vi` defined, ready to fit: labelled, with the
    /// measure of the target scale ([`EffectScale::measure`]; or the common measure when
    /// no target was set and all rows share one) and an attribute `measure` with each
    /// study's own measure (for a subgroup analysis or moderator by outcome type).
    ///
    /// # Errors
    /// [`MetaError::Empty`] when no row is complete; [`MetaError::InvalidValue`] for a
    /// variance of 0.
    pub fn into_studies(self) -> Result<Studies> {
        let keep: Vec<usize> = (0..self.k())
            .filter(|&i| self.rows[i].yi.is_some() && self.rows[i].vi.is_some())
            .collect();
        if keep.is_empty() {
            return Err(MetaError::Empty);
        }
        let mut yi = Vec::with_capacity(keep.len());
        let mut vi = Vec::with_capacity(keep.len());
        for &i in &keep {
            let (Some(y), Some(v)) = (self.rows[i].yi, self.rows[i].vi) else {
                continue;
            };
            if !(v > 0.0) {
                return Err(MetaError::invalid_value(
                    i,
                    &self.label(i),
                    "vi",
                    v,
                    "a sampling variance of 0 cannot be meta-analysed",
                ));
            }
            yi.push(y);
            vi.push(v);
        }
        let mut s = Studies::from_variances(yi, vi)?
            .with_labels(keep.iter().map(|&i| self.label(i)))?
            .with_attribute(
                "measure",
                keep.iter()
                    .map(|&i| self.rows[i].measure.name().to_string()),
            )?;
        let common = match self.target {
            Some(t) => Some(t.measure()),
            None => {
                let m0 = self.rows[0].measure;
                self.rows.iter().all(|r| r.measure == m0).then_some(m0)
            }
        };
        if let Some(m) = common {
            s = s.with_measure(m);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::effect_size::{Ci, Direction, OddsRatioMethod};

    #[test]
    fn conversions_match_the_direct_measures() {
        let t = TwoByTwo::new(12.0, 88.0, 20.0, 80.0);
        let m = TwoGroupMeans::new(8.1, 5.0, 60.0, 10.2, 5.5, 58.0);
        let studies = [
            MixedStudy::new(Measure::OR, StudyData::TwoByTwo(t)),
            MixedStudy::new(Measure::SMD, StudyData::Means(m)),
            MixedStudy::new(Measure::D2ORN, StudyData::Means(m)),
        ];
        let direct = |meas| {
            EffectSizes::two_by_two(&[t], meas)
                .compute()
                .unwrap()
                .yi()
                .to_vec()
        };
        let to_d = MixedEffectSizes::new(&studies)
            .convert_to(EffectScale::D)
            .method(OddsRatioMethod::Normal)
            .compute()
            .unwrap();
        // OR converted to d (normal) is metafor's OR2DN
        assert_eq!(
            to_d.rows()[0].yi,
            direct(crate::data::effect_size::TwoByTwoMeasure::OR2DN)[0]
        );
        assert_eq!(
            to_d.rows()[0].converted_from,
            Some(EffectScale::LogOddsRatio)
        );
        assert_eq!(to_d.rows()[1].converted_from, None);
        assert_eq!(
            to_d.rows()[2].converted_from,
            Some(EffectScale::LogOddsRatio)
        );
        let s = to_d.clone().into_studies().unwrap();
        assert_eq!(s.measure(), Some(Measure::SMD));
        assert_eq!(s.attribute("measure").unwrap()[2], "D2ORN");
    }

    #[test]
    fn errors_name_the_row() {
        let studies = [
            MixedStudy::new(
                Measure::SMD,
                StudyData::Statistic(TwoGroupStatistic::t(2.0, 20.0, 20.0)),
            ),
            MixedStudy::new(
                Measure::SMD,
                StudyData::Statistic(
                    TwoGroupStatistic::t(-2.0, 20.0, 20.0).direction(Direction::Positive),
                ),
            ),
        ];
        let e = MixedEffectSizes::new(&studies)
            .labels(["a", "b"])
            .compute()
            .unwrap_err();
        assert!(
            matches!(e, MetaError::InvalidValue { ref study, ref field, .. } if study.index == 1 && study.label == "b" && field == "tval"),
            "{e}"
        );
        let rr = [
            MixedStudy::new(
                Measure::OR,
                StudyData::TwoByTwo(TwoByTwo::new(1.0, 2.0, 3.0, 4.0)),
            ),
            MixedStudy::new(
                Measure::RR,
                StudyData::TwoByTwo(TwoByTwo::new(1.0, 2.0, 3.0, 4.0)),
            ),
        ];
        let e = MixedEffectSizes::new(&rr)
            .convert_to(EffectScale::D)
            .compute()
            .unwrap_err();
        assert!(
            matches!(e, MetaError::InvalidValue { ref study, ref field, .. } if study.index == 1 && field == "measure"),
            "{e}"
        );
        let bad = [MixedStudy::new(
            Measure::SMD,
            StudyData::TwoByTwo(TwoByTwo::new(1.0, 2.0, 3.0, 4.0)),
        )];
        assert!(MixedEffectSizes::new(&bad).compute().is_err());
        let ci = [
            MixedStudy::new(
                Measure::OR,
                StudyData::TwoByTwo(TwoByTwo::new(1.0, 2.0, 3.0, 4.0)),
            ),
            MixedStudy::new(
                Measure::OR,
                StudyData::Reported {
                    estimate: 2.0,
                    reported: Reported::Ci(Ci::new(0.5, 1.5)),
                },
            ),
        ];
        let e = MixedEffectSizes::new(&ci).compute().unwrap_err();
        assert!(
            matches!(e, MetaError::InvalidValue { ref study, ref field, .. } if study.index == 1 && field == "estimate"),
            "{e}"
        );
    }
}
