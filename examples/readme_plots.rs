//! Writes the README's plots of the BCG vaccine trials: `docs/img/bcg_forest.svg`,
//! `docs/img/bcg_funnel.svg` and their PNG renders.
//!
//! Run from the repository root: `cargo run --release --example readme_plots`.
//! With arguments, it renders SVG files instead: `... -- in.svg out.png [zoom]`.
//!
//! The SVGs are laid out without fonts; the PNGs need one that is metric-compatible with
//! Helvetica (Liberation Sans or Arial), found in /usr/share/fonts or in the directory
//! named by `METAN_FONT_DIR`.
//!
//! Data: Colditz et al. (1994), JAMA 271:698-702, as distributed in the R package metadat
//! (`dat.bcg`); log risk ratios from metafor's `escalc(measure = "RR")`
//! (tests/fixtures/bcg_rr.csv, made by tests/fixtures/plots.R).

use std::error::Error;
use std::path::Path;

use metan::data::csv::{CsvSpec, read_studies};
use metan::plot::{ForestData, ForestPlot, FunnelPlot, Transform};
use metan::{MetaAnalysis, MetaError};

/// The README's forest plot (also a golden file: tests/golden/bcg_forest.svg).
fn forest() -> Result<String, MetaError> {
    let s = read_studies(
        "tests/fixtures/bcg_rr.csv",
        &CsvSpec::new("yi").variances("vi").labels("slab"),
    )?;
    let fit = MetaAnalysis::new().fit(&s)?;
    ForestPlot::new(ForestData::from_fit(&s, &fit)?)
        .transform(Transform::Exp)
        .xlabel("Risk Ratio (log scale)")
        .title("Forest plot: BCG vaccine trials, log risk ratios, REML")
        .render()
}

/// The README's funnel plot (also a golden file: tests/golden/bcg_funnel.svg).
fn funnel() -> Result<String, MetaError> {
    let s = read_studies(
        "tests/fixtures/bcg_rr.csv",
        &CsvSpec::new("yi").variances("vi").labels("slab"),
    )?;
    let fit = MetaAnalysis::new().fit(&s)?;
    FunnelPlot::from_fit(&s, &fit)?
        .transform(Transform::Exp)
        .xlabel("Risk Ratio (log scale)")
        .title("Funnel plot: BCG vaccine trials, log risk ratios, REML")
        .render()
}

fn fontdb() -> Result<resvg::usvg::fontdb::Database, Box<dyn Error>> {
    let mut db = resvg::usvg::fontdb::Database::new();
    let dirs: Vec<String> = match std::env::var("METAN_FONT_DIR") {
        Ok(d) => vec![d],
        Err(_) => vec![
            "/usr/share/fonts/truetype/liberation2".into(),
            "/usr/share/fonts/truetype/liberation".into(),
            "/usr/share/fonts/truetype/msttcorefonts".into(),
        ],
    };
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if name.starts_with("LiberationSans-")
                || name.starts_with("Arial")
                || name.starts_with("arial")
            {
                db.load_font_data(std::fs::read(&f)?);
            }
        }
    }
    if db.is_empty() {
        return Err("no Liberation Sans or Arial font found: set METAN_FONT_DIR".into());
    }
    Ok(db)
}

fn to_png(
    svg: &str,
    out: &Path,
    zoom: f32,
    db: &resvg::usvg::fontdb::Database,
) -> Result<(), Box<dyn Error>> {
    let mut opt = resvg::usvg::Options::default();
    *opt.fontdb_mut() = db.clone();
    let tree = resvg::usvg::Tree::from_str(svg, &opt)?;
    let size = tree.size().to_int_size().scale_by(zoom).ok_or("bad size")?;
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("bad size")?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(zoom, zoom),
        &mut pixmap.as_mut(),
    );
    pixmap.save_png(out)?;
    Ok(())
}

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("readme_plots", body)
}

fn body() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = fontdb()?;
    if args.len() >= 2 {
        let zoom = run::arg::<f32>(
            args.get(2).map(String::as_str),
            "zoom",
            "a number such as 2",
        )?
        .unwrap_or(1.0);
        let svg = std::fs::read_to_string(&args[0])?;
        return to_png(&svg, Path::new(&args[1]), zoom, &db);
    }
    std::fs::create_dir_all("docs/img")?;
    for (name, svg) in [("bcg_forest", forest()?), ("bcg_funnel", funnel()?)] {
        let svg_path = format!("docs/img/{name}.svg");
        std::fs::write(&svg_path, &svg)?;
        to_png(&svg, Path::new(&format!("docs/img/{name}.png")), 2.0, &db)?;
        println!("wrote {svg_path} and docs/img/{name}.png");
    }
    Ok(())
}
