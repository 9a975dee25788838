//! Proptest-driven fuzz targets: hostile input must give `Ok` with finite, valid numbers
//! or a typed [`MetaError`], never a panic and never a non-finite value reported as valid.
//!
//! The number of cases per target is 256 by default (fast CI) and can be raised with the
//! environment variable `METAN_FUZZ_CASES`, e.g.
//! `METAN_FUZZ_CASES=1000000 cargo test --release --test fuzz fuzz_csv_reader`.
//! See docs/fuzzing.md.

use metan::data::csv::{CsvSpec, Table, read_studies_from};
use metan::data::effect_size::scale::{D, Effect, LogOr, Z};
use metan::data::effect_size::{
    Ci, Correlation, CorrelationMeasure, Direction, EffectScale, EffectSizeTable, EffectSizes,
    EventRate, IncidenceMeasure, IncidenceTable, MeansMeasure, Measure, MixedEffectSizes,
    MixedStudy, OddsRatioMethod, PartialCorrelation, PartialMeasure, PrePost, PrePostMeasure,
    Proportion, ProportionMeasure, RateMeasure, Reported, StatisticMeasure, To, TwoByTwo,
    TwoByTwoMeasure, TwoGroupMeans, TwoGroupStatistic, VarianceType, wald_variance,
};
use metan::{MetaAnalysis, MetaError, MetaRegression, Method, Studies, TestKind};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases per target: `METAN_FUZZ_CASES` or 256.
fn config() -> Config {
    let cases = std::env::var("METAN_FUZZ_CASES")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(256);
    Config {
        cases,
        // shrinking a failure is useful; saving it to a regressions file is not wanted in CI
        failure_persistence: None,
        ..Config::default()
    }
}

const METHODS: [Method; 12] = [
    Method::EE,
    Method::DL,
    Method::HE,
    Method::HS,
    Method::HSk,
    Method::SJ,
    Method::ML,
    Method::REML,
    Method::EB,
    Method::PM,
    Method::PMM,
    Method::GENQ,
];

const TESTS: [TestKind; 4] = [TestKind::Z, TestKind::T, TestKind::Knha, TestKind::Adhoc];

/// Every variant is a typed error; this match documents that no variant is a disguised panic.
fn typed(e: &MetaError) -> bool {
    !e.to_string().is_empty()
}

// ---------------------------------------------------------------------------------------
// CSV reader
// ---------------------------------------------------------------------------------------

/// A CSV cell: numbers of every magnitude, non-numbers, quotes, empty, NA.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1e6f64..1e6).prop_map(|x| x.to_string()),
        (-320i32..320, -9.9f64..9.9).prop_map(|(e, m)| format!("{m}e{e}")),
        Just(String::new()),
        Just("NA".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-Infinity".to_string()),
        Just("0".to_string()),
        Just("-0".to_string()),
        Just("\"1,5\"".to_string()),
        Just("\"unterminated".to_string()),
        "[ -~]{0,8}",
        "\\PC{0,4}",
    ]
}

/// Structured garbage: a header that may or may not name the columns, rows of random width.
fn csv_text() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just("yi,vi".to_string()),
        Just("study,yi,vi".to_string()),
        Just("yi,vi,yi".to_string()),
        Just("yi".to_string()),
        Just(String::new()),
        "[a-z,]{0,12}",
    ];
    let row = proptest::collection::vec(cell(), 0..5).prop_map(|c| c.join(","));
    let sep = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    (header, proptest::collection::vec(row, 0..8), sep)
        .prop_map(|(h, rows, sep)| std::iter::once(h).chain(rows).collect::<Vec<_>>().join(sep))
}

fn check_csv(bytes: &[u8]) -> Result<(), TestCaseError> {
    for spec in [
        CsvSpec::new("yi").variances("vi"),
        CsvSpec::new("yi").standard_errors("vi").labels("study"),
    ] {
        match read_studies_from(bytes, "<fuzz>", &spec) {
            Ok(s) => {
                prop_assert!(s.k() > 0);
                prop_assert!(s.yi().iter().all(|y| y.is_finite()), "{:?}", s.yi());
                prop_assert!(
                    s.vi().iter().all(|v| v.is_finite() && *v > 0.0),
                    "{:?}",
                    s.vi()
                );
            }
            Err(e) => prop_assert!(typed(&e)),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_csv_reader_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_csv(&bytes)?;
    }

    #[test]
    fn fuzz_csv_reader_structured(text in csv_text()) {
        check_csv(text.as_bytes())?;
    }
}

// ---------------------------------------------------------------------------------------
// Effect sizes
// ---------------------------------------------------------------------------------------

/// Counts, means, SDs: zeros, tiny, huge and negative values (never NaN).
fn raw() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (0u32..60).prop_map(f64::from),
        1 => Just(0.0),
        1 => (-300i32..300).prop_map(|e| 10f64.powi(e)),
        1 => -1e3f64..1e3,
        1 => Just(1e15),
        1 => Just(f64::MAX),
        1 => (-5i32..0).prop_map(f64::from),
    ]
}

fn check_table(r: Result<EffectSizeTable, MetaError>) -> Result<(), TestCaseError> {
    match r {
        Ok(t) => {
            for (y, v) in t.yi().iter().zip(t.vi()) {
                if let Some(y) = y {
                    prop_assert!(y.is_finite(), "yi = {y}");
                }
                if let Some(v) = v {
                    prop_assert!(v.is_finite() && *v >= 0.0, "vi = {v}");
                }
            }
            // whatever is handed on to a fit is valid
            match t.into_studies() {
                Ok(s) => {
                    prop_assert!(s.yi().iter().all(|y| y.is_finite()));
                    prop_assert!(s.vi().iter().all(|v| v.is_finite() && *v > 0.0));
                }
                Err(e) => prop_assert!(typed(&e)),
            }
        }
        Err(e) => prop_assert!(typed(&e)),
    }
    Ok(())
}

fn to() -> impl Strategy<Value = To> {
    prop_oneof![
        Just(To::Only0),
        Just(To::All),
        Just(To::If0All),
        Just(To::None)
    ]
}

fn add() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.5), Just(0.0), Just(1e-300), Just(1e300)]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_effect_sizes_two_by_two(
        cells in proptest::collection::vec((raw(), raw(), raw(), raw(), any::<bool>()), 1..6),
        m in 0usize..8, to in to(), add in add(), drop00 in any::<bool>(),
    ) {
        let data: Vec<TwoByTwo> = cells
            .iter()
            .map(|&(a, b, c, d, sizes)| if sizes { TwoByTwo::from_events(a, b, c, d) } else { TwoByTwo::new(a, b, c, d) })
            .collect();
        let measure = [
            TwoByTwoMeasure::OR, TwoByTwoMeasure::RR, TwoByTwoMeasure::RD, TwoByTwoMeasure::AS,
            TwoByTwoMeasure::PETO, TwoByTwoMeasure::PBIT, TwoByTwoMeasure::OR2DN, TwoByTwoMeasure::OR2DL,
        ][m];
        check_table(EffectSizes::two_by_two(&data, measure).to(to).add(add).drop00(drop00).compute())?;
    }

    #[test]
    fn fuzz_effect_sizes_means(
        rows in proptest::collection::vec((raw(), raw(), raw(), raw(), raw(), raw()), 1..6),
        m in 0usize..6, neg in any::<bool>(),
    ) {
        let data: Vec<TwoGroupMeans> = rows
            .iter()
            .map(|&(m1, s1, n1, m2, s2, n2)| TwoGroupMeans::new(if neg { -m1 } else { m1 }, s1, n1, m2, s2, n2))
            .collect();
        let measure = [
            MeansMeasure::MD, MeansMeasure::SMD, MeansMeasure::SMDH, MeansMeasure::ROM,
            MeansMeasure::D2ORN, MeansMeasure::D2ORL,
        ][m];
        check_table(EffectSizes::means(&data, measure).compute())?;
    }

    #[test]
    fn fuzz_effect_sizes_correlations(
        rows in proptest::collection::vec((-1.5f64..1.5, raw()), 1..6),
        m in 0usize..2,
    ) {
        let data: Vec<Correlation> = rows.iter().map(|&(r, n)| Correlation::new(r, n)).collect();
        let measure = [CorrelationMeasure::COR, CorrelationMeasure::ZCOR][m];
        check_table(EffectSizes::correlations(&data, measure).compute())?;
    }

    #[test]
    fn fuzz_effect_sizes_proportions(
        rows in proptest::collection::vec((raw(), raw()), 1..6),
        m in 0usize..5, to in to(), add in add(),
    ) {
        let data: Vec<Proportion> = rows.iter().map(|&(x, n)| Proportion::new(x, n)).collect();
        let measure = [ProportionMeasure::PR, ProportionMeasure::PLO, ProportionMeasure::PLN, ProportionMeasure::PAS, ProportionMeasure::PFT][m];
        check_table(EffectSizes::proportions(&data, measure).to(to).add(add).compute())?;
    }

    #[test]
    fn fuzz_effect_sizes_incidence(
        rows in proptest::collection::vec((raw(), raw(), raw(), raw()), 1..6),
        to in to(), add in add(),
    ) {
        let data: Vec<IncidenceTable> = rows.iter().map(|&(a, b, c, d)| IncidenceTable::new(a, b, c, d)).collect();
        check_table(EffectSizes::incidence(&data, IncidenceMeasure::IRR).to(to).add(add).compute())?;
        let rates: Vec<EventRate> = rows.iter().map(|&(x, t, _, _)| EventRate::new(x, t)).collect();
        check_table(EffectSizes::rates(&rates, RateMeasure::IR).to(to).add(add).compute())?;
    }
}

// ---------------------------------------------------------------------------------------
// Issue 18: reported statistics, pre-post data, partial correlations, conversions, and the
// per-row (mixed outcome) reader that `metan escalc` uses
// ---------------------------------------------------------------------------------------

/// p-values and correlations around and beyond their domains.
fn unit() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -1.5f64..1.5,
        1 => Just(0.0),
        1 => Just(1.0),
        1 => Just(-1.0),
        1 => Just(1e-300),
        1 => Just(-1e-300),
        1 => Just(1.0 - 1e-16),
        1 => Just(f64::NAN),
    ]
}

fn direction() -> impl Strategy<Value = Option<Direction>> {
    prop_oneof![
        Just(None),
        Just(Some(Direction::Positive)),
        Just(Some(Direction::Negative))
    ]
}

fn check_effect<S: metan::data::effect_size::scale::Scale>(
    r: Result<Effect<S>, MetaError>,
) -> Result<(), TestCaseError> {
    match r {
        Ok(e) => prop_assert!(e.yi().is_finite() && e.vi().is_finite() && e.vi() > 0.0),
        Err(e) => prop_assert!(typed(&e)),
    }
    Ok(())
}

/// A CSV cell of a mixed table: numbers, empty, NA, text.
fn mixed_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => raw().prop_map(|x| format!("{x:?}")),
        2 => unit().prop_map(|x| format!("{x:?}")),
        3 => Just(String::new()),
        1 => Just("NA".to_string()),
        1 => "[ -~]{0,5}",
    ]
}

/// A measure name: every known one, in any case, or junk.
fn measure_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0usize..Measure::ALL.len()).prop_map(|i| Measure::ALL[i].name().to_string()),
        1 => (0usize..Measure::ALL.len()).prop_map(|i| Measure::ALL[i].name().to_lowercase()),
        1 => "[ -~]{0,6}",
    ]
}

const MIXED_COLUMNS: [&str; 20] = [
    "ai", "bi", "ci", "di", "n1i", "n2i", "m1i", "sd1i", "m2i", "sd2i", "ri", "ni", "tval", "pval",
    "dval", "mi", "r2i", "estimate", "ci_lb", "ci_ub",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_effect_sizes_statistics(
        rows in proptest::collection::vec((0usize..3, raw(), unit(), raw(), raw(), direction(), any::<bool>()), 1..6),
        m in 0usize..3, vt in 0usize..4,
    ) {
        let data: Vec<TwoGroupStatistic> = rows
            .iter()
            .map(|&(kind, x, p, n1, n2, dir, neg)| {
                let x = if neg { -x } else { x };
                let s = match kind {
                    0 => TwoGroupStatistic::d(x, n1, n2),
                    1 => TwoGroupStatistic::t(x, n1, n2),
                    _ => TwoGroupStatistic::p(p, n1, n2),
                };
                match dir { Some(d) => s.direction(d), None => s }
            })
            .collect();
        let measure = [StatisticMeasure::SMD, StatisticMeasure::D2ORN, StatisticMeasure::D2ORL][m];
        let vtype = [VarianceType::LS, VarianceType::UB, VarianceType::LS2, VarianceType::AV][vt];
        check_table(EffectSizes::statistics(&data, measure).vtype(vtype).compute())?;
    }

    #[test]
    fn fuzz_effect_sizes_pre_post(
        rows in proptest::collection::vec((raw(), raw(), raw(), proptest::option::of(raw()), raw(), unit(), any::<bool>()), 1..6),
        m in 0usize..5, ls2 in any::<bool>(),
    ) {
        let data: Vec<PrePost> = rows
            .iter()
            .map(|&(m1, s1, m2, s2, n, r, neg)| {
                let m1 = if neg { -m1 } else { m1 };
                match s2 {
                    Some(s2) => PrePost::new(m1, s1, m2, s2, n, r),
                    None => PrePost::raw_sd(m1, s1, m2, n, r),
                }
            })
            .collect();
        let measure = [PrePostMeasure::MC, PrePostMeasure::SMCC, PrePostMeasure::SMCR, PrePostMeasure::SMCRH, PrePostMeasure::ROMC][m];
        let vtype = if ls2 { VarianceType::LS2 } else { VarianceType::LS };
        check_table(EffectSizes::pre_post(&data, measure).vtype(vtype).compute())?;
    }

    #[test]
    fn fuzz_effect_sizes_partial(
        rows in proptest::collection::vec((raw(), any::<bool>(), raw(), raw(), proptest::option::of(unit())), 1..6),
        m in 0usize..3, av in any::<bool>(),
    ) {
        let data: Vec<PartialCorrelation> = rows
            .iter()
            .map(|&(t, neg, n, k, r2)| {
                let p = PartialCorrelation::new(if neg { -t } else { t }, n, k);
                match r2 { Some(r2) => p.r2(r2), None => p }
            })
            .collect();
        let measure = [PartialMeasure::PCOR, PartialMeasure::ZPCOR, PartialMeasure::SPCOR][m];
        let vtype = if av { VarianceType::AV } else { VarianceType::LS };
        check_table(EffectSizes::partial_correlations(&data, measure).vtype(vtype).compute())?;
    }

    #[test]
    fn fuzz_reported_estimates(
        est in prop_oneof![raw(), unit(), Just(f64::INFINITY)], neg in any::<bool>(),
        a in prop_oneof![raw(), unit()], b in prop_oneof![raw(), unit()],
        level in prop_oneof![Just(95.0), Just(0.9), Just(100.0), Just(0.0), Just(f64::NAN), -5.0f64..150.0],
        kind in 0usize..7,
    ) {
        let est = if neg { -est } else { est };
        let r = match kind {
            0 => Reported::Ci(Ci::new(a, b).level(level)),
            1 => Reported::P(a),
            2 => Reported::Z(a),
            3 => Reported::T(if neg { -a } else { a }),
            4 => Reported::PT { p: a, df: b },
            5 => Reported::F(a),
            _ => Reported::Se(a),
        };
        match wald_variance(est, r) {
            Ok(v) => prop_assert!(v.is_finite() && v >= 0.0, "vi = {v}"),
            Err(e) => prop_assert!(typed(&e)),
        }
        check_effect(Effect::<LogOr>::from_reported(est, r))?;
        check_effect(Effect::<D>::from_reported(est, r))?;
        check_effect(Effect::<Z>::from_reported(est, r))?;
        if let Ok(e) = Effect::<D>::new(est, a.abs()) {
            for m in [OddsRatioMethod::Logistic, OddsRatioMethod::Normal] {
                let l = e.to_log_or(m);
                prop_assert!(!l.yi().is_nan() && !l.vi().is_nan());
            }
            check_effect(e.to_r(b.abs(), a.abs()))?;
        }
    }

    #[test]
    fn fuzz_names(s in "\\PC{0,12}") {
        for r in [
            s.parse::<Measure>().map(|_| ()),
            s.parse::<EffectScale>().map(|_| ()),
            s.parse::<Direction>().map(|_| ()),
            s.parse::<OddsRatioMethod>().map(|_| ()),
        ] {
            if let Err(e) = r {
                prop_assert!(typed(&e));
            }
        }
    }

    /// The per-row reader of `metan escalc` (a CSV with a measure column): the table's
    /// optional columns, `MixedStudy::from_fields`, then `MixedEffectSizes`, with a target.
    #[test]
    fn fuzz_mixed_rows(
        cols in proptest::sample::subsequence(MIXED_COLUMNS.to_vec(), 0..=MIXED_COLUMNS.len()),
        rows in proptest::collection::vec((measure_name(), proptest::collection::vec(mixed_cell(), 20), direction()), 1..6),
        target in prop_oneof![Just(None), Just(Some(EffectScale::D)), Just(Some(EffectScale::LogOddsRatio))],
        normal in any::<bool>(),
    ) {
        let mut text = format!("measure,{}\n", cols.join(","));
        for (m, cells, _) in &rows {
            let cells: Vec<String> = cells.iter().take(cols.len()).map(|c| c.replace([',', '"', '\n', '\r'], "")).collect();
            text += &format!("{},{}\n", m.replace([',', '"', '\n', '\r'], ""), cells.join(","));
        }
        let table = match Table::from_reader(text.as_bytes(), "<fuzz>") {
            Ok(t) => t,
            Err(e) => { prop_assert!(typed(&e)); return Ok(()); }
        };
        let mut parsed = Vec::new();
        for c in &cols {
            match table.optional_numeric_column(c) {
                Ok(v) => parsed.push(v),
                Err(e) => { prop_assert!(typed(&e)); return Ok(()); }
            }
        }
        let names = match table.text_column("measure") {
            Ok(n) => n,
            Err(e) => { prop_assert!(typed(&e)); return Ok(()); }
        };
        let mut studies = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let measure = match name.parse::<Measure>() {
                Ok(m) => m,
                Err(e) => { prop_assert!(typed(&e)); return Ok(()); }
            };
            let field = |f: &str| cols.iter().position(|c| *c == f).and_then(|j| parsed[j][i]);
            match MixedStudy::from_fields(i, "row", measure, rows[i].2, field) {
                Ok(s) => studies.push(s),
                Err(e) => { prop_assert!(typed(&e)); return Ok(()); }
            }
        }
        let mut b = MixedEffectSizes::new(&studies);
        if let Some(t) = target {
            b = b.convert_to(t);
        }
        if normal {
            b = b.method(OddsRatioMethod::Normal);
        }
        match b.compute() {
            Ok(t) => {
                for r in t.rows() {
                    if let Some(y) = r.yi { prop_assert!(y.is_finite(), "yi = {y}"); }
                    if let Some(v) = r.vi { prop_assert!(v.is_finite() && v >= 0.0, "vi = {v}"); }
                    prop_assert_eq!(r.conversions.is_empty(), r.converted_from.is_none());
                }
                match t.into_studies() {
                    Ok(s) => prop_assert!(s.vi().iter().all(|v| v.is_finite() && *v > 0.0)),
                    Err(e) => prop_assert!(typed(&e)),
                }
            }
            Err(e) => prop_assert!(typed(&e)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// fit (every estimator and test) and meta-regression
// ---------------------------------------------------------------------------------------

/// A value of any magnitude 1e-300..1e300 (and sign, for effects).
fn magnitude() -> impl Strategy<Value = f64> {
    (-300i32..=300, 1.0f64..10.0).prop_map(|(e, m)| m * 10f64.powi(e))
}

/// k = 1..50 studies of hostile magnitudes (a scale per data set plus per-study spread).
fn hostile() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (1usize..=50).prop_flat_map(|k| {
        (
            proptest::collection::vec((magnitude(), any::<bool>()), k),
            proptest::collection::vec(magnitude(), k),
        )
            .prop_map(|(y, v)| {
                (
                    y.into_iter()
                        .map(|(a, neg)| if neg { -a } else { a })
                        .collect(),
                    v,
                )
            })
    })
}

fn prob_ok(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_fit((y, v) in hostile(), m in 0usize..12, t in 0usize..4, max_iter in prop_oneof![Just(100usize), Just(1), Just(3)]) {
        let k = y.len();
        let method = METHODS[m];
        let test = TESTS[t];
        let Ok(studies) = Studies::from_variances(y, v) else {
            return Err(TestCaseError::fail("valid magnitudes rejected"));
        };
        let mut ma = MetaAnalysis::new().method(method).test(test).max_iter(max_iter);
        if method == Method::GENQ {
            ma = ma.weights(vec![1.0; k]);
        }
        match ma.fit(&studies) {
            Ok(f) => {
                // nothing non-finite is reported as valid
                prop_assert!(f.estimate().is_finite(), "{method} {test:?}: estimate {}", f.estimate());
                prop_assert!(f.se().is_finite() && f.se() >= 0.0, "{method}: se {}", f.se());
                prop_assert!(f.tau2().is_finite() && f.tau2() >= 0.0, "{method}: tau2 {}", f.tau2());
                prop_assert!(f.heterogeneity().i2().is_nan() || (0.0..=100.0).contains(&f.heterogeneity().i2()), "{method}: I2 {}", f.heterogeneity().i2());
                prop_assert!(f.p_value().is_nan() || prob_ok(f.p_value()), "{method}: p {}", f.p_value());
                let (lo, hi) = f.ci();
                prop_assert!(!(lo > hi), "{method}: ci ({lo}, {hi})");
                prop_assert!(f.weights().iter().all(|w| w.is_finite() && *w >= 0.0));
            }
            Err(e) => prop_assert!(typed(&e)),
        }
    }

    #[test]
    fn fuzz_meta_regression(
        (y, v) in hostile(),
        x in proptest::collection::vec(magnitude(), 50),
        m in 0usize..11, t in 0usize..4, intercept in any::<bool>(),
    ) {
        let k = y.len();
        let method = METHODS[m];
        let studies = Studies::from_variances(y, v)
            .unwrap()
            .with_moderator("x", x[..k].to_vec())
            .unwrap();
        let r = MetaRegression::new()
            .method(method)
            .test(TESTS[t])
            .moderator("x")
            .intercept(intercept)
            .fit(&studies);
        match r {
            Ok(f) => {
                for c in f.coefficients() {
                    prop_assert!(c.estimate.is_finite(), "{method}: b {}", c.estimate);
                    prop_assert!(c.p_value.is_nan() || prob_ok(c.p_value), "{method}: p {}", c.p_value);
                    prop_assert!(!(c.ci_lower > c.ci_upper));
                }
                prop_assert!(f.tau2().is_finite() && f.tau2() >= 0.0, "{method}: tau2 {}", f.tau2());
                prop_assert!(f.heterogeneity().i2().is_nan() || (0.0..=100.0).contains(&f.heterogeneity().i2()), "{method}: I2 {}", f.heterogeneity().i2());
            }
            Err(e) => prop_assert!(typed(&e)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Scenario-spec parser (TOML and JSON) and a run on a small data set
// ---------------------------------------------------------------------------------------

/// TOML-shaped garbage built from the spec's own vocabulary.
fn spec_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("[[scenario]]"),
        Just("name = \"s\""),
        Just("name = 1"),
        Just("source = \"partner\""),
        Just("method = \"REML\""),
        Just("method = \"XYZ\""),
        Just("exclude = [\"A\"]"),
        Just("level = 1e309"),
        Just("level = -5"),
        Just("[scenario.filter]"),
        Just("op = \"eq\""),
        Just("=\""),
        Just("[[["),
    ];
    (proptest::collection::vec(key, 0..10), "[ -~\n]{0,30}")
        .prop_map(|(lines, tail)| format!("{}\n{tail}", lines.join("\n")))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_scenario_spec_parser(text in spec_text(), raw in "\\PC{0,60}") {
        use metan::sensitivity::{ScenarioData, ScenarioSpec};
        let csv = "study,source,yi,vi\nA,official,-0.5,0.04\nA,partner,-0.1,0.05\nB,official,-0.3,0.03\n";
        let data = ScenarioData::from_csv_reader(csv.as_bytes(), "toy").unwrap();
        for parsed in [ScenarioSpec::from_toml(&text), ScenarioSpec::from_json(&raw), ScenarioSpec::from_toml(&raw)] {
            match parsed {
                Ok(spec) => match spec.run(&data) {
                    Ok(_) => {}
                    Err(e) => prop_assert!(typed(&e)),
                },
                Err(e) => prop_assert!(typed(&e)),
            }
        }
    }
}
