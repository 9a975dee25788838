//! Raw-data columns and continuity corrections shared by `metan escalc`, `metan fit
//! --measure`, `metan mh` and `metan peto`.

use std::collections::HashMap;

use clap::{ArgAction, Args};
use metan::MetaError;
use metan::data::csv::Table;
use metan::data::effect_size::{
    Correlation, Direction, EffectScale, EffectSizeTable, EffectSizes, EventRate, IncidenceTable,
    Measure, MixedEffectSizes, MixedStudy, MixedTable, OddsRatioMethod, Proportion, To, TwoByTwo,
    TwoGroupMeans, VarianceType,
};

/// Columns of 2x2 tables (metafor's argument names; each defaults to the column of the
/// same name). Either `bi`/`di` or the group sizes `n1i`/`n2i`.
#[derive(Args, Debug, Clone, Default)]
pub struct TableColumns {
    /// Column of events in group 1 (2x2 tables) [default: ai]
    #[arg(long)]
    pub ai: Option<String>,
    /// Column of non-events in group 1 [default: bi]
    #[arg(long)]
    pub bi: Option<String>,
    /// Column of events in group 2 [default: ci]
    #[arg(long)]
    pub ci: Option<String>,
    /// Column of non-events in group 2 [default: di]
    #[arg(long)]
    pub di: Option<String>,
    /// Column of group-1 sizes (2x2 tables without bi; means) [default: n1i]
    #[arg(long)]
    pub n1i: Option<String>,
    /// Column of group-2 sizes [default: n2i]
    #[arg(long)]
    pub n2i: Option<String>,
}

/// All raw-data columns.
#[derive(Args, Debug, Clone, Default)]
pub struct RawColumns {
    #[command(flatten)]
    pub tables: TableColumns,
    /// Column of group-1 means [default: m1i]
    #[arg(long)]
    pub m1i: Option<String>,
    /// Column of group-1 standard deviations [default: sd1i]
    #[arg(long)]
    pub sd1i: Option<String>,
    /// Column of group-2 means [default: m2i]
    #[arg(long)]
    pub m2i: Option<String>,
    /// Column of group-2 standard deviations [default: sd2i]
    #[arg(long)]
    pub sd2i: Option<String>,
    /// Column of correlation coefficients [default: ri]
    #[arg(long)]
    pub ri: Option<String>,
    /// Column of sample sizes (correlations, proportions) [default: ni]
    #[arg(long)]
    pub ni: Option<String>,
    /// Column of events (proportions, IR) [default: xi]
    #[arg(long)]
    pub xi: Option<String>,
    /// Column of person-times (IR) [default: ti]
    #[arg(long)]
    pub ti: Option<String>,
    /// Column of group-1 events (IRR) [default: x1i]
    #[arg(long)]
    pub x1i: Option<String>,
    /// Column of group-2 events (IRR) [default: x2i]
    #[arg(long)]
    pub x2i: Option<String>,
    /// Column of group-1 person-times (IRR) [default: t1i]
    #[arg(long)]
    pub t1i: Option<String>,
    /// Column of group-2 person-times (IRR) [default: t2i]
    #[arg(long)]
    pub t2i: Option<String>,
    /// Column of numbers of predictors in the regression (PCOR, ZPCOR, SPCOR) [default: mi]
    #[arg(long)]
    pub mi: Option<String>,
    /// Column of the regression's R^2 (SPCOR) [default: r2i]
    #[arg(long)]
    pub r2i: Option<String>,
    /// Column of reported Cohen's d of two groups (SMD, D2ORN, D2ORL; metafor's `di`)
    /// [default: dval]
    #[arg(long)]
    pub dval: Option<String>,
    /// Column of t statistics: of a two-sample t test (SMD, D2ORN, D2ORL; metafor's `ti`),
    /// of a regression coefficient (PCOR, ZPCOR, SPCOR), or estimate/SE of a reported
    /// estimate [default: tval]
    #[arg(long)]
    pub tval: Option<String>,
    /// Column of two-sided p-values: of a two-sample t test (SMD, D2ORN, D2ORL; negative for
    /// a negative difference, metafor's `pi`) or of the Wald test of a reported estimate
    /// [default: pval]
    #[arg(long)]
    pub pval: Option<String>,
    /// Column of stated directions of two-group differences (positive/negative, +/-): the
    /// sign of an unsigned p-value, checked against the sign of d and t [default: direction]
    #[arg(long)]
    pub direction: Option<String>,
}

/// metafor's `add`, `to`, `drop00` and `vtype` for effect sizes.
#[derive(Args, Debug, Clone)]
pub struct Corrections {
    /// Continuity correction added to the cells [default: 0.5; 0 for AS, PAS, PFT]
    #[arg(long, allow_negative_numbers = true)]
    pub add: Option<f64>,
    /// Studies that get `add`: only0, all, if0all or none
    #[arg(long, default_value = "only0")]
    pub to: String,
    /// Whether studies with no events (or only events) in both groups get NA: true or false
    #[arg(long, default_value_t = false, action = ArgAction::Set)]
    pub drop00: bool,
    /// Variance type: LS, LS2, UB, HO, AV or AVHO (which ones a measure allows as in metafor)
    #[arg(long, default_value = "LS")]
    pub vtype: String,
}

fn name(given: &Option<String>, default: &str) -> String {
    given.clone().unwrap_or_else(|| default.to_string())
}

fn column(t: &Table, given: &Option<String>, default: &str) -> Result<Vec<f64>, MetaError> {
    t.numeric_column(&name(given, default))
}

/// The 2x2 tables of a CSV: cells `ai, bi, ci, di`, or `ai, n1i, ci, n2i` when the table
/// has no `bi`/`di` columns (and none was named).
pub fn two_by_two(t: &Table, c: &TableColumns) -> Result<Vec<TwoByTwo>, MetaError> {
    let ai = column(t, &c.ai, "ai")?;
    let ci = column(t, &c.ci, "ci")?;
    let cells = c.bi.is_some() || c.di.is_some() || t.has_column("bi") || t.has_column("di");
    if cells {
        let bi = column(t, &c.bi, "bi")?;
        let di = column(t, &c.di, "di")?;
        Ok((0..ai.len())
            .map(|i| TwoByTwo::new(ai[i], bi[i], ci[i], di[i]))
            .collect())
    } else {
        let n1 = column(t, &c.n1i, "n1i")?;
        let n2 = column(t, &c.n2i, "n2i")?;
        Ok((0..ai.len())
            .map(|i| TwoByTwo::from_events(ai[i], n1[i], ci[i], n2[i]))
            .collect())
    }
}

/// Columns of reported estimates (metafor 4's `conv.wald`): an estimate on the natural
/// scale of the row's measure (an odds ratio for OR) with its CI, p-value, statistic or SE.
#[derive(Args, Debug, Clone, Default)]
pub struct ReportedColumns {
    /// Column of reported estimates on the natural scale of the row's measure (an odds
    /// ratio for OR, a correlation for ZCOR); a row with one is converted from its CI,
    /// p-value, statistic or SE [default: estimate]
    #[arg(long)]
    pub estimate: Option<String>,
    /// Column of lower bounds of the reported estimates' Wald CIs (natural scale)
    /// [default: ci_lb]
    #[arg(long)]
    pub ci_lb: Option<String>,
    /// Column of upper bounds [default: ci_ub]
    #[arg(long)]
    pub ci_ub: Option<String>,
    /// Column of the CIs' levels in percent, 95 where empty [default: level]
    #[arg(long)]
    pub ci_level: Option<String>,
    /// Column of degrees of freedom of t tests behind `pval` [default: df]
    #[arg(long)]
    pub df: Option<String>,
    /// Column of Wald z statistics [default: zval]
    #[arg(long)]
    pub zval: Option<String>,
    /// Column of F(1, df) statistics [default: fval]
    #[arg(long)]
    pub fval: Option<String>,
    /// Column of standard errors (on the measure's scale, e.g. of the log odds ratio)
    /// [default: sei]
    #[arg(long)]
    pub sei_col: Option<String>,
}

/// True for the measures read row by row from optional columns (pre-post data, partial
/// correlations, and SMD/D2ORN/D2ORL when the table has a reported d, t or p).
fn per_row_measure(t: &Table, measure: Measure, c: &RawColumns) -> bool {
    measure.pre_post().is_some()
        || measure.partial().is_some()
        || (measure.statistic().is_some()
            && [(&c.dval, "dval"), (&c.tval, "tval"), (&c.pval, "pval")]
                .iter()
                .any(|(g, d)| t.has_column(&name(g, d))))
}

/// Each row's measure computed from the optional columns it uses
/// ([`MixedStudy::from_fields`]), optionally converted to one scale.
#[allow(clippy::too_many_arguments)]
pub fn mixed_table(
    t: &Table,
    measures: &[Measure],
    c: &RawColumns,
    reported: Option<&ReportedColumns>,
    corr: &Corrections,
    labels: Vec<String>,
    target: Option<EffectScale>,
    method: OddsRatioMethod,
) -> Result<MixedTable, MetaError> {
    let to: To = corr.to.parse()?;
    let vtype: VarianceType = corr.vtype.parse()?;
    let tc = &c.tables;
    let mut fields: Vec<(&str, String)> = vec![
        ("ai", name(&tc.ai, "ai")),
        ("bi", name(&tc.bi, "bi")),
        ("ci", name(&tc.ci, "ci")),
        ("di", name(&tc.di, "di")),
        ("n1i", name(&tc.n1i, "n1i")),
        ("n2i", name(&tc.n2i, "n2i")),
        ("m1i", name(&c.m1i, "m1i")),
        ("sd1i", name(&c.sd1i, "sd1i")),
        ("m2i", name(&c.m2i, "m2i")),
        ("sd2i", name(&c.sd2i, "sd2i")),
        ("ri", name(&c.ri, "ri")),
        ("ni", name(&c.ni, "ni")),
        ("xi", name(&c.xi, "xi")),
        ("ti", name(&c.ti, "ti")),
        ("x1i", name(&c.x1i, "x1i")),
        ("x2i", name(&c.x2i, "x2i")),
        ("t1i", name(&c.t1i, "t1i")),
        ("t2i", name(&c.t2i, "t2i")),
        ("mi", name(&c.mi, "mi")),
        ("r2i", name(&c.r2i, "r2i")),
        ("dval", name(&c.dval, "dval")),
        ("tval", name(&c.tval, "tval")),
        ("pval", name(&c.pval, "pval")),
    ];
    if let Some(r) = reported {
        fields.extend([
            ("estimate", name(&r.estimate, "estimate")),
            ("ci_lb", name(&r.ci_lb, "ci_lb")),
            ("ci_ub", name(&r.ci_ub, "ci_ub")),
            ("level", name(&r.ci_level, "level")),
            ("df", name(&r.df, "df")),
            ("zval", name(&r.zval, "zval")),
            ("fval", name(&r.fval, "fval")),
            ("sei", name(&r.sei_col, "sei")),
        ]);
    }
    let mut cols: HashMap<&str, Vec<Option<f64>>> = HashMap::new();
    for (field, col) in &fields {
        if t.has_column(col) {
            cols.insert(field, t.optional_numeric_column(col)?);
        }
    }
    let dir_col = name(&c.direction, "direction");
    let directions: Vec<Option<Direction>> = if t.has_column(&dir_col) {
        t.text_column(&dir_col)?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let s = s.trim();
                if s.is_empty() || s == "NA" {
                    Ok(None)
                } else {
                    s.parse::<Direction>()
                        .map(Some)
                        .map_err(|_| MetaError::InvalidValue {
                            study: metan::error::StudyRef {
                                index: i,
                                label: labels[i].clone(),
                            },
                            field: dir_col.clone(),
                            value: s.to_string(),
                            reason: "a direction must be positive (+) or negative (-)".into(),
                        })
                }
            })
            .collect::<Result<_, _>>()?
    } else {
        vec![None; t.len()]
    };
    // errors name the field as the library does; show the user's column name instead
    let rename = |e: MetaError| match e {
        MetaError::InvalidValue {
            study,
            field,
            value,
            reason,
        } => {
            let field = fields
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(field, |(_, col)| col.clone());
            MetaError::InvalidValue {
                study,
                field,
                value,
                reason,
            }
        }
        other => other,
    };
    let studies: Vec<MixedStudy> = (0..t.len())
        .map(|i| {
            let field = |f: &str| cols.get(f).and_then(|v| v[i]);
            MixedStudy::from_fields(i, &labels[i], measures[i], directions[i], field)
        })
        .collect::<Result<_, _>>()
        .map_err(rename)?;
    let mut b = MixedEffectSizes::new(&studies)
        .to(to)
        .drop00(corr.drop00)
        .vtype(vtype)
        .method(method)
        .labels(labels);
    if let Some(a) = corr.add {
        b = b.add(a);
    }
    if let Some(target) = target {
        b = b.convert_to(target);
    }
    b.compute().map_err(rename)
}

/// Computes the effect sizes of `measure` from the raw columns of a CSV table.
pub fn effect_sizes(
    t: &Table,
    measure: Measure,
    c: &RawColumns,
    corr: &Corrections,
    labels: Option<Vec<String>>,
) -> Result<EffectSizeTable, MetaError> {
    let to: To = corr.to.parse()?;
    let vtype: VarianceType = corr.vtype.parse()?;
    let labels = labels.unwrap_or_else(|| (1..=t.len()).map(|i| format!("Study {i}")).collect());
    if per_row_measure(t, measure, c) {
        let measures = vec![measure; t.len()];
        return mixed_table(
            t,
            &measures,
            c,
            None,
            corr,
            labels,
            None,
            OddsRatioMethod::Logistic,
        )?
        .into_table();
    }
    let tc = &c.tables;
    if let Some(m) = measure.two_by_two() {
        let data = two_by_two(t, tc)?;
        let mut b = EffectSizes::two_by_two(&data, m)
            .to(to)
            .drop00(corr.drop00)
            .vtype(vtype)
            .labels(labels);
        if let Some(a) = corr.add {
            b = b.add(a);
        }
        return b.compute();
    }
    if let Some(m) = measure.means() {
        let cols = [
            column(t, &c.m1i, "m1i")?,
            column(t, &c.sd1i, "sd1i")?,
            column(t, &tc.n1i, "n1i")?,
            column(t, &c.m2i, "m2i")?,
            column(t, &c.sd2i, "sd2i")?,
            column(t, &tc.n2i, "n2i")?,
        ];
        let data: Vec<TwoGroupMeans> = (0..t.len())
            .map(|i| {
                TwoGroupMeans::new(
                    cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i], cols[5][i],
                )
            })
            .collect();
        return EffectSizes::means(&data, m)
            .vtype(vtype)
            .labels(labels)
            .compute();
    }
    if let Some(m) = measure.correlation() {
        let (r, n) = (column(t, &c.ri, "ri")?, column(t, &c.ni, "ni")?);
        let data: Vec<Correlation> = (0..t.len()).map(|i| Correlation::new(r[i], n[i])).collect();
        return EffectSizes::correlations(&data, m)
            .vtype(vtype)
            .labels(labels)
            .compute();
    }
    if let Some(m) = measure.proportion() {
        let (x, n) = (column(t, &c.xi, "xi")?, column(t, &c.ni, "ni")?);
        let data: Vec<Proportion> = (0..t.len()).map(|i| Proportion::new(x[i], n[i])).collect();
        let mut b = EffectSizes::proportions(&data, m)
            .to(to)
            .vtype(vtype)
            .labels(labels);
        if let Some(a) = corr.add {
            b = b.add(a);
        }
        return b.compute();
    }
    if let Some(m) = measure.incidence() {
        let cols = [
            column(t, &c.x1i, "x1i")?,
            column(t, &c.t1i, "t1i")?,
            column(t, &c.x2i, "x2i")?,
            column(t, &c.t2i, "t2i")?,
        ];
        let data: Vec<IncidenceTable> = (0..t.len())
            .map(|i| IncidenceTable::new(cols[0][i], cols[1][i], cols[2][i], cols[3][i]))
            .collect();
        let mut b = EffectSizes::incidence(&data, m)
            .to(to)
            .drop00(corr.drop00)
            .vtype(vtype)
            .labels(labels);
        if let Some(a) = corr.add {
            b = b.add(a);
        }
        return b.compute();
    }
    if let Some(m) = measure.rate() {
        let (x, ti) = (column(t, &c.xi, "xi")?, column(t, &c.ti, "ti")?);
        let data: Vec<EventRate> = (0..t.len()).map(|i| EventRate::new(x[i], ti[i])).collect();
        let mut b = EffectSizes::rates(&data, m)
            .to(to)
            .vtype(vtype)
            .labels(labels);
        if let Some(a) = corr.add {
            b = b.add(a);
        }
        return b.compute();
    }
    Err(MetaError::UnknownName {
        kind: "measure".into(),
        name: measure.to_string(),
        expected: "a measure computed from raw data".into(),
    })
}

/// `sprintf("%.17g", x)`: 17 significant digits, as R writes a double that round-trips.
pub fn g17(x: f64) -> String {
    if x.is_nan() {
        return "NA".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let sci = format!("{x:.16e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.abs())
    } else {
        let decimals = (16 - exp) as usize;
        trim(&format!("{x:.decimals$}"))
    }
}

#[cfg(test)]
mod tests {
    use super::g17;

    #[test]
    fn formats_like_r_sprintf() {
        assert_eq!(g17(0.1), "0.10000000000000001");
        assert_eq!(g17(-1.5), "-1.5");
        assert_eq!(g17(1e-5), "1.0000000000000001e-05");
        assert_eq!(g17(123456.0), "123456");
        assert_eq!(g17(1e20), "1e+20");
        assert_eq!(g17(f64::NAN), "NA");
    }
}
