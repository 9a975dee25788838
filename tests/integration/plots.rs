//! Plots: golden SVG files, rendering with resvg, metafor's Baujat coordinates, the CLI,
//! and robustness on extreme inputs.
//!
//! Golden files live in tests/golden/*.svg and are compared byte for byte; regenerate them
//! with `METAN_UPDATE_GOLDEN=1 cargo test --release --test plots` and review the diff.
//!
//! Data: the 13 BCG vaccine trials (Colditz et al. 1994, JAMA 271:698-702; metadat's
//! dat.bcg) with metafor's escalc("RR") log risk ratios, tests/fixtures/bcg_rr.csv (made
//! by tests/fixtures/plots.R).

use std::path::{Path, PathBuf};

use metan::bias::{Alternative, SelectionModel, SelectionType};
use metan::data::csv::{CsvSpec, Table, read_studies};
use metan::plot::SelectionPlot;
use metan::plot::{
    BaujatData, BaujatPlot, ForestData, ForestPlot, ForestRow, FunnelPlot, GoshPlot, PointLabels,
    StudyRow, Subgroup, SummaryKind, SummaryRow, Transform, heterogeneity_label,
};
use metan::{MetaAnalysis, MetaFit, Method, Studies, TestKind};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

const BCG: &str = "tests/fixtures/bcg_rr.csv";

fn bcg() -> Studies {
    read_studies(BCG, &CsvSpec::new("yi").variances("vi").labels("slab")).unwrap()
}

fn bcg_fit() -> (Studies, MetaFit) {
    let s = bcg();
    let f = MetaAnalysis::new().fit(&s).unwrap();
    (s, f)
}

/// Compares `svg` with tests/golden/`name`.svg, or writes it when METAN_UPDATE_GOLDEN=1.
fn golden(name: &str, svg: &str) {
    let path = PathBuf::from(format!("tests/golden/{name}.svg"));
    if std::env::var("METAN_UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all("tests/golden").unwrap();
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with METAN_UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert!(
        want == svg,
        "{} differs from the rendered plot; if the change is intended, rerun with METAN_UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

/// Parses an SVG with usvg (no fonts loaded: text is dropped, everything else must parse).
fn parse(svg: &str) -> resvg::usvg::Tree {
    resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default())
        .unwrap_or_else(|e| panic!("invalid SVG: {e}"))
}

/// Renders an SVG and returns the number of pixels that are not white (the background).
fn inked_pixels(svg: &str) -> usize {
    let tree = parse(svg);
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
        .pixels()
        .iter()
        .filter(|p| p.alpha() > 0 && (p.red() as u32 + p.green() as u32 + p.blue() as u32) < 750)
        .count()
}

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

// ---- data -----------------------------------------------------------------------------

#[test]
fn bcg_log_risk_ratios_follow_escalc_rr() {
    // escalc("RR"): yi = log(a/(a+b)) - log(c/(c+d)), vi = 1/a - 1/(a+b) + 1/c - 1/(c+d)
    let t = Table::from_path(BCG).unwrap();
    let col = |n: &str| t.numeric_column(n).unwrap();
    let (a, b, c, d) = (col("tpos"), col("tneg"), col("cpos"), col("cneg"));
    let s = bcg();
    assert_eq!(s.k(), 13);
    for i in 0..13 {
        let (l1, l2) = ((a[i] / (a[i] + b[i])).ln(), (c[i] / (c[i] + d[i])).ln());
        let yi = l1 - l2;
        let vi = 1.0 / a[i] - 1.0 / (a[i] + b[i]) + 1.0 / c[i] - 1.0 / (c[i] + d[i]);
        // a difference of two logs: its error is relative to the logs, not to the difference
        assert!(
            (yi - s.yi()[i]).abs() <= 1e-14 * l1.abs().max(l2.abs()),
            "yi[{i}]"
        );
        assert!((vi - s.vi()[i]).abs() <= 1e-14 * vi, "vi[{i}]");
    }
}

// ---- Baujat against metafor -------------------------------------------------------------

#[test]
fn baujat_matches_metafor() {
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/baujat.json").unwrap())
            .unwrap();
    let s = bcg();
    let cases = fx["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let method: Method = case["method"].as_str().unwrap().parse().unwrap();
        let test: TestKind = case["test"].as_str().unwrap().parse().unwrap();
        let mut ma = MetaAnalysis::new().method(method).test(test);
        if let Some(t) = case["tau2_fixed"].as_f64() {
            ma = ma.tau2(t);
        }
        let fit = ma.fit(&s).unwrap();
        let b = BaujatData::from_fit(&s, &fit).unwrap();
        let vec = |k: &str| -> Vec<f64> {
            case[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        for (i, (x, want)) in b.x().iter().zip(vec("x")).enumerate() {
            assert!(
                (x - want).abs() <= 1e-10 * want.abs(),
                "{name} x[{i}]: {x} vs {want}"
            );
        }
        for (i, (y, want)) in b.y().iter().zip(vec("y")).enumerate() {
            let y = y.unwrap();
            assert!(
                (y - want).abs() <= 1e-10 * want.abs(),
                "{name} y[{i}]: {y} vs {want}"
            );
        }
    }
}

// ---- golden files -----------------------------------------------------------------------

/// The README's forest plot (examples/readme_plots.rs writes the same to docs/img).
fn bcg_forest() -> String {
    let (s, fit) = bcg_fit();
    ForestPlot::new(ForestData::from_fit(&s, &fit).unwrap())
        .transform(Transform::Exp)
        .xlabel("Risk Ratio (log scale)")
        .title("Forest plot: BCG vaccine trials, log risk ratios, REML")
        .render()
        .unwrap()
}

/// The README's funnel plot.
fn bcg_funnel() -> String {
    let (s, fit) = bcg_fit();
    FunnelPlot::from_fit(&s, &fit)
        .unwrap()
        .transform(Transform::Exp)
        .xlabel("Risk Ratio (log scale)")
        .title("Funnel plot: BCG vaccine trials, log risk ratios, REML")
        .render()
        .unwrap()
}

#[test]
fn golden_bcg_forest() {
    let svg = bcg_forest();
    assert_eq!(count(&svg, "<rect class=\"study\""), 13);
    assert_eq!(count(&svg, "<polygon class=\"summary\""), 1);
    golden("bcg_forest", &svg);
}

#[test]
fn golden_bcg_funnel() {
    let svg = bcg_funnel();
    assert_eq!(count(&svg, "<circle class=\"study\""), 13);
    golden("bcg_funnel", &svg);
}

#[test]
fn docs_images_are_the_golden_files() {
    for name in ["bcg_forest", "bcg_funnel"] {
        let docs = std::fs::read_to_string(format!("docs/img/{name}.svg")).unwrap();
        let gold = std::fs::read_to_string(format!("tests/golden/{name}.svg")).unwrap();
        assert!(
            docs == gold,
            "docs/img/{name}.svg is stale: cargo run --release --example readme_plots"
        );
        assert!(Path::new(&format!("docs/img/{name}.png")).exists());
    }
}

/// The BCG trials by allocation (random / alternate / systematic), each with its own
/// REML fit, then the overall fit.
#[test]
fn golden_forest_subgroups() {
    let (s, fit) = bcg_fit();
    let alloc = Table::from_path(BCG).unwrap();
    let alloc: Vec<String> = alloc.text_column("alloc").unwrap();
    let mut groups = Vec::new();
    for g in ["random", "alternate", "systematic"] {
        let idx: Vec<usize> = (0..s.k()).filter(|&i| alloc[i] == g).collect();
        let sub = s.subset(&idx).unwrap();
        let f = MetaAnalysis::new().fit(&sub).unwrap();
        let data = ForestData::from_fit(&sub, &f).unwrap();
        let studies: Vec<StudyRow> = data
            .rows()
            .iter()
            .filter_map(|r| match r {
                ForestRow::Study(st) => Some(st.clone()),
                _ => None,
            })
            .collect();
        let mut summary = SummaryRow::from_fit(&f, SummaryKind::Subgroup);
        summary.label = format!("RE Model for {g} allocation");
        groups.push(Subgroup {
            name: format!("{}{} allocation", g[..1].to_uppercase(), &g[1..]),
            studies,
            summary,
            heterogeneity: Some(heterogeneity_label(&f)),
        });
    }
    let data = ForestData::subgroups(
        groups,
        Some(SummaryRow::from_fit(&fit, SummaryKind::Overall)),
    );
    let svg = ForestPlot::new(data)
        .transform(Transform::Exp)
        .show_weights(false)
        .xlabel("Risk Ratio (log scale)")
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<rect class=\"study\""), 13);
    assert_eq!(count(&svg, "<polygon class=\"summary\""), 4);
    assert_eq!(count(&svg, "class=\"heading\""), 3);
    assert_eq!(count(&svg, "class=\"note\""), 3);
    golden("forest_subgroups", &svg);
}

#[test]
fn golden_forest_leave_one_out() {
    let (s, fit) = bcg_fit();
    let rows: Vec<StudyRow> = (0..s.k())
        .map(|i| {
            let f = MetaAnalysis::new()
                .fit(&s.filter(|j| j != i).unwrap())
                .unwrap();
            StudyRow::new(format!("Omitting {}", s.label(i)), f.estimate(), f.ci())
        })
        .collect();
    let data =
        ForestData::leave_one_out(rows, Some(SummaryRow::from_fit(&fit, SummaryKind::Overall)));
    assert_eq!(data.label_header(), "Omitted study");
    let svg = ForestPlot::new(data)
        .transform(Transform::Exp)
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<rect class=\"study\""), 13);
    assert_eq!(count(&svg, "class=\"guide\""), 1);
    golden("forest_leave_one_out", &svg);
}

#[test]
fn golden_forest_cumulative() {
    let s = bcg();
    let years = Table::from_path(BCG)
        .unwrap()
        .numeric_column("year")
        .unwrap();
    let mut order: Vec<usize> = (0..s.k()).collect();
    order.sort_by(|&a, &b| years[a].total_cmp(&years[b]).then(a.cmp(&b)));
    let rows: Vec<StudyRow> = (1..=order.len())
        .map(|n| {
            let f = MetaAnalysis::new()
                .fit(&s.subset(&order[..n]).unwrap())
                .unwrap();
            StudyRow::new(format!("+ {}", s.label(order[n - 1])), f.estimate(), f.ci())
        })
        .collect();
    let svg = ForestPlot::new(ForestData::cumulative(rows, None))
        .transform(Transform::Exp)
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<rect class=\"study\""), 13);
    assert_eq!(count(&svg, "<polygon class=\"summary\""), 0);
    golden("forest_cumulative", &svg);
}

#[test]
fn golden_forest_single_study_identity_scale() {
    let s = Studies::from_variances(vec![0.25], vec![0.04])
        .unwrap()
        .with_labels(["A single trial with a remarkably long name, 2024"])
        .unwrap();
    let fit = MetaAnalysis::new().fit(&s).unwrap();
    let svg = ForestPlot::new(ForestData::from_fit(&s, &fit).unwrap())
        .label_width(150.0)
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<rect class=\"study\""), 1);
    assert!(svg.contains('\u{2026}'));
    golden("forest_k1", &svg);
}

#[test]
fn golden_funnel_contours_and_filled_points() {
    let (s, fit) = bcg_fit();
    // two illustrative imputed points (not a trim-and-fill result)
    let svg = FunnelPlot::from_fit(&s, &fit)
        .unwrap()
        .contours(true)
        .filled(vec![(0.2, 0.3), (0.5, 0.45)])
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<circle class=\"study\""), 13);
    assert_eq!(count(&svg, "<circle class=\"filled\""), 2);
    golden("funnel_contours", &svg);
}

#[test]
fn golden_baujat() {
    let (s, fit) = bcg_fit();
    let svg = BaujatPlot::new(BaujatData::from_fit(&s, &fit).unwrap())
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<circle class=\"study\""), 13);
    golden("bcg_baujat", &svg);
    let svg = BaujatPlot::new(BaujatData::from_fit(&s, &fit).unwrap())
        .point_labels(PointLabels::Labels)
        .render()
        .unwrap();
    assert!(svg.contains(">TPT Madras, 1980<"));
    golden("bcg_baujat_labels", &svg);
}

/// GOSH of the first eight BCG trials: every subset of at least two studies (247).
#[test]
fn golden_gosh() {
    let s = bcg();
    let (mut est, mut i2) = (Vec::new(), Vec::new());
    for mask in 1u32..(1 << 8) {
        if mask.count_ones() < 2 {
            continue;
        }
        let idx: Vec<usize> = (0..8).filter(|i| mask & (1 << i) != 0).collect();
        let f = MetaAnalysis::new()
            .method(Method::DL)
            .fit(&s.subset(&idx).unwrap())
            .unwrap();
        est.push(f.estimate());
        i2.push(f.heterogeneity().i2());
    }
    assert_eq!(est.len(), 247);
    let svg = GoshPlot::new(est, i2)
        .transform(Transform::Exp)
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<circle class=\"subset\""), 247);
    golden("bcg_gosh", &svg);
}

/// The estimated selection functions of the BCG trials (log risk ratios, p-values for
/// protective effects: alternative "less"): a step function with steps at 0.025 and 0.5,
/// and the half-normal function (metafor's `plot(selmodel(...))`).
#[test]
fn golden_selection_functions() {
    let s = bcg();
    let step = SelectionModel::new(SelectionType::StepFunction)
        .steps([0.025, 0.5])
        .alternative(Alternative::Less)
        .fit(&s)
        .unwrap();
    let svg = SelectionPlot::from_fit(&step).render().unwrap();
    assert_eq!(count(&svg, "<line class=\"rug\""), 13);
    assert_eq!(count(&svg, "<polyline class=\"selection\""), 1);
    // drawn as steps: every point after the first comes with its corner (R's type = "S");
    // 1000 grid points plus the two steps
    let pts = svg
        .lines()
        .find(|l| l.starts_with("<polyline class=\"selection\""))
        .unwrap()
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .split(' ')
        .count();
    assert_eq!(pts, 2 * 1002 - 1);
    assert!(inked_pixels(&svg) > 1000);
    golden("bcg_selection_stepfun", &svg);

    let hn = SelectionModel::new(SelectionType::HalfNormal)
        .alternative(Alternative::Less)
        .fit(&s)
        .unwrap();
    let svg = SelectionPlot::from_fit(&hn).render().unwrap();
    // y axis [0, 1] as metafor's; the curve starts at w(0) = 1, the top of the panel
    assert!(svg.contains(">1</text>") || svg.contains(">1.0</text>"));
    assert_eq!(count(&svg, "<line class=\"rug\""), 13);
    golden("bcg_selection_halfnorm", &svg);
}

#[test]
fn every_golden_and_docs_svg_renders() {
    let mut files: Vec<PathBuf> = ["tests/golden", "docs/img"]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    files.sort();
    assert!(files.len() >= 11, "{files:?}");
    for f in files {
        let svg = std::fs::read_to_string(&f).unwrap();
        assert!(
            inked_pixels(&svg) > 500,
            "{} renders (almost) blank",
            f.display()
        );
    }
}

// ---- CLI --------------------------------------------------------------------------------

fn run_cli(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "metan {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_forest_funnel_baujat_on_bcg_one_mark_per_study() {
    let dir = std::env::temp_dir().join(format!("metan-plots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let forest = dir.join("forest.svg");
    let msg = run_cli(&[
        "forest",
        BCG,
        "--slab",
        "slab",
        "--transform",
        "exp",
        "--output",
        forest.to_str().unwrap(),
    ]);
    assert!(msg.starts_with("wrote forest plot of 13 studies"));
    let svg = std::fs::read_to_string(&forest).unwrap();
    parse(&svg);
    assert_eq!(count(&svg, "<rect class=\"study\""), 13);
    assert!(svg.contains(">Aronson, 1948<"));
    // the diamond is the REML summary: 0.49 [0.34, 0.70]
    assert!(svg.contains(">0.49<") && svg.contains(">[0.34,<") && svg.contains(">0.70]<"));

    let svg = run_cli(&["funnel", BCG, "--transform", "exp", "--contours", "-o", "-"]);
    parse(&svg);
    assert_eq!(count(&svg, "<circle class=\"study\""), 13);

    let svg = run_cli(&["baujat", BCG, "--method", "DL", "-o", "-"]);
    parse(&svg);
    assert_eq!(count(&svg, "<circle class=\"study\""), 13);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(["forest", BCG, "--transform", "sqrt", "-o", "-"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown transform `sqrt`"));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- robustness -------------------------------------------------------------------------

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn forest_rows(est: &[f64], half: &[f64]) -> ForestData {
    let n = est.len();
    let rows = est
        .iter()
        .zip(half)
        .enumerate()
        .map(|(i, (&e, &h))| {
            ForestRow::Study(
                StudyRow::new(format!("Study {}", i + 1), e, (e - h, e + h))
                    .weight(100.0 / n as f64),
            )
        })
        .collect();
    ForestData::new(rows)
}

fn all_plots_parse(est: &[f64], half: &[f64]) {
    for tr in [Transform::Identity, Transform::Exp] {
        let svg = ForestPlot::new(forest_rows(est, half))
            .transform(tr)
            .render()
            .unwrap();
        parse(&svg);
        assert_eq!(count(&svg, "<rect class=\"study\""), est.len());
        let se: Vec<f64> = half.iter().map(|h| h / 1.96).collect();
        let s = Studies::from_standard_errors(est.to_vec(), se).unwrap();
        let svg = FunnelPlot::new(&s, est[0])
            .transform(tr)
            .contours(true)
            .render()
            .unwrap();
        parse(&svg);
        assert_eq!(count(&svg, "<circle class=\"study\""), est.len());
        let svg = GoshPlot::new(est.to_vec(), half.to_vec())
            .transform(tr)
            .render()
            .unwrap();
        parse(&svg);
    }
}

#[test]
fn never_panics_on_k1_k500_and_extreme_intervals() {
    // k = 1
    all_plots_parse(&[0.3], &[0.2]);
    // extreme widths and estimates
    all_plots_parse(&[1e6], &[0.5e-8]);
    all_plots_parse(&[1e6, 1e6 + 1e-9], &[0.5e-8, 0.5e-8]);
    all_plots_parse(&[0.0, 1.0], &[0.5e8, 0.5e-8]);
    all_plots_parse(&[1e6, -1e6, 0.0], &[0.5e8, 1e-8, 1.0]);
    // k = 500: the plot grows with k
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let est: Vec<f64> = (0..500).map(|_| uniform(&mut rng) * 2.0 - 1.0).collect();
    let half: Vec<f64> = (0..500).map(|_| 0.05 + uniform(&mut rng)).collect();
    all_plots_parse(&est, &half);
    let height = |svg: &str| -> f64 {
        let s = svg.split("height=\"").nth(1).unwrap();
        s[..s.find('"').unwrap()].parse().unwrap()
    };
    let big = ForestPlot::new(forest_rows(&est, &half)).render().unwrap();
    let small = ForestPlot::new(forest_rows(&est[..13], &half[..13]))
        .render()
        .unwrap();
    assert!((height(&big) - height(&small) - 487.0 * 18.0).abs() < 1.0);
    // Baujat on k = 2 and on 500 studies
    let s = Studies::from_variances(est.clone(), half.iter().map(|h| h * h).collect::<Vec<_>>())
        .unwrap();
    let fit = MetaAnalysis::new().method(Method::DL).fit(&s).unwrap();
    let svg = BaujatPlot::new(BaujatData::from_fit(&s, &fit).unwrap())
        .render()
        .unwrap();
    assert_eq!(count(&svg, "<circle class=\"study\""), 500);
    parse(&svg);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random estimates (up to 1e6 in size) and CI widths (1e-8 to 1e8) always give SVG
    /// that usvg parses, with one mark per study.
    #[test]
    fn random_data_renders_valid_svg(
        rows in prop::collection::vec((-6.0f64..6.0, -1.0f64..1.0, -8.0f64..8.0), 1..40),
    ) {
        let est: Vec<f64> = rows.iter().map(|(m, s, _)| s * 10f64.powf(*m)).collect();
        let half: Vec<f64> = rows.iter().map(|(_, _, w)| 0.5 * 10f64.powf(*w)).collect();
        all_plots_parse(&est, &half);
    }

    /// Baujat plots of random data sets parse, whatever the estimator.
    #[test]
    fn random_baujat_renders_valid_svg(
        rows in prop::collection::vec((-3.0f64..3.0, -3.0f64..1.0), 2..12),
        method in prop::sample::select(vec![Method::EE, Method::DL, Method::REML, Method::PM]),
    ) {
        let yi: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let vi: Vec<f64> = rows.iter().map(|r| 10f64.powf(r.1)).collect();
        let s = Studies::from_variances(yi, vi).unwrap();
        let fit = MetaAnalysis::new().method(method).fit(&s);
        prop_assume!(fit.is_ok());
        let fit = fit.unwrap();
        let b = BaujatData::from_fit(&s, &fit).unwrap();
        prop_assert!(b.x().iter().all(|x| x.is_finite() && *x >= 0.0));
        let svg = BaujatPlot::new(b).render().unwrap();
        parse(&svg);
    }
}
