//! `metan selmodel`: selection models for publication bias (metafor's `selmodel`).

use std::path::PathBuf;

use clap::Args;
use metan::bias::{Alternative, SelectionModel, SelectionType};
use metan::plot::SelectionPlot;
use metan::{MetaError, MetaRegression, Method};

use crate::common::{Format, Input, LevelArg, load_studies, parse_reference, split_list, to_json};

/// Arguments of `metan selmodel`.
#[derive(Args, Debug)]
pub struct SelmodelArgs {
    #[command(flatten)]
    pub input: Input,
    /// Method of the unadjusted model: ML (default) or REML (refitted by ML, as metafor).
    #[arg(long, default_value = "ML")]
    pub method: String,
    /// Moderator columns (comma-separated or repeated). A column that is not numeric is
    /// categorical (dummy-coded against its first level).
    #[arg(long, value_name = "COL[,COL...]")]
    pub mods: Vec<String>,
    /// Reference level of a categorical moderator, e.g. design=rct (repeatable).
    #[arg(long, value_name = "COL=LEVEL")]
    pub reference: Vec<String>,
    /// Selection function: stepfun, beta, halfnorm, negexp, logistic or power.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: String,
    /// Steps of the selection function: the upper ends of the p-value intervals of
    /// stepfun (e.g. 0.025 for the 3PSM, or 0.025,0.5), or the single step of a continuous
    /// type.
    #[arg(
        long,
        value_name = "P[,P...]",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub steps: Option<Vec<f64>>,
    /// Direction of the p-values: greater, less or two.sided.
    #[arg(long, default_value = "greater")]
    pub alternative: String,
    #[command(flatten)]
    pub level: LevelArg,
    /// Decimals in the text output.
    #[arg(long, default_value_t = 4)]
    pub digits: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also draw the estimated selection function to this SVG file.
    #[arg(long, value_name = "out.svg")]
    pub plot: Option<PathBuf>,
}

/// Runs `metan selmodel` and returns what to print.
pub fn run(a: &SelmodelArgs) -> Result<String, MetaError> {
    let plot_err = |path: &std::path::Path, reason: String| MetaError::InvalidOption {
        option: "plot".into(),
        value: path.display().to_string(),
        reason,
    };
    // the plot's file is opened before the work: a path that cannot be written is said
    // at once, and a failed fit leaves no empty file behind
    let plot = match &a.plot {
        Some(path) if path.as_os_str() == "-" => {
            return Err(plot_err(
                path,
                "stdout holds the results; name the SVG file to write".into(),
            ));
        }
        Some(path) if path.is_dir() => {
            return Err(plot_err(
                path,
                "cannot write the file: it is a directory".into(),
            ));
        }
        Some(path) => {
            let existed = path.exists();
            let file = std::fs::File::create(path)
                .map_err(|e| plot_err(path, format!("cannot write the file: {e}")))?;
            Some((path, file, existed))
        }
        None => None,
    };
    let out = fit_and_print(a, plot.as_ref().map(|(p, f, _)| (p.as_path(), f)));
    if out.is_err() {
        if let Some((path, _, false)) = &plot {
            let _ = std::fs::remove_file(path);
        }
    }
    out
}

fn fit_and_print(
    a: &SelmodelArgs,
    plot: Option<(&std::path::Path, &std::fs::File)>,
) -> Result<String, MetaError> {
    let kind: SelectionType = a.kind.parse()?;
    let alternative: Alternative = a.alternative.parse()?;
    let method: Method = a.method.parse()?;
    let level = a.level.get()?;
    let mods = split_list(&a.mods);
    let studies = load_studies(&a.input, &mods, &[])?;
    let mut base = MetaRegression::new()
        .method(method)
        .level(level)
        .digits(a.digits)
        .moderators(mods.iter().cloned());
    for r in &a.reference {
        let (c, l) = parse_reference(r)?;
        base = base.reference(c, l);
    }
    let mut model = SelectionModel::new(kind)
        .alternative(alternative)
        .base(base);
    if let Some(s) = &a.steps {
        model = model.steps(s.clone());
    }
    let fit = model.fit(&studies)?;
    if let Some((path, mut file)) = plot {
        use std::io::Write;
        let svg = SelectionPlot::from_fit(&fit).render()?;
        file.write_all(svg.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| MetaError::InvalidOption {
                option: "plot".into(),
                value: path.display().to_string(),
                reason: format!("cannot write the file: {e}"),
            })?;
    }
    let out = match a.format {
        Format::Text => fit.to_string(),
        Format::Json => to_json(&fit)?,
    };
    // warnings once the command has succeeded: an error is one line
    for w in fit.warnings() {
        eprintln!("metan: warning: {w}");
    }
    Ok(out)
}
