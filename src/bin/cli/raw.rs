//! Raw-data columns and continuity corrections shared by `metan escalc`, `metan fit
//! --measure`, `metan mh` and `metan peto`.

use clap::{ArgAction, Args};
use metan::MetaError;
use metan::data::csv::Table;
use metan::data::effect_size::{
    Correlation, EffectSizeTable, EffectSizes, EventRate, IncidenceTable, Measure, Proportion, To,
    TwoByTwo, TwoGroupMeans, VarianceType,
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
}

/// metafor's `add`, `to`, `drop00` and `vtype` for effect sizes.
#[derive(Args, Debug, Clone)]
pub struct Corrections {
    /// Continuity correction added to the cells [default: 0.5; 0 for AS, PAS, PFT]
    #[arg(long)]
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
