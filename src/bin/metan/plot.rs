//! `metan forest`, `metan funnel` and `metan baujat`: plots as SVG files.

use std::path::PathBuf;

use clap::Args;
use metan::plot::{
    BaujatData, BaujatPlot, ForestData, ForestPlot, FunnelPlot, PointLabels, Transform,
};
use metan::{MetaAnalysis, MetaError, MetaFit, Studies, TestKind};

use crate::common::{Input, ModelArgs};

/// Data and model options shared by the plot subcommands (the columns as in `metan fit`).
#[derive(Args, Debug)]
pub struct PlotDataArgs {
    #[command(flatten)]
    pub input: Input,
    /// SVG file to write (`-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Fix tau^2 at this value instead of estimating it.
    #[arg(long, allow_negative_numbers = true)]
    pub tau2: Option<f64>,
    /// Title of the x axis.
    #[arg(long)]
    pub xlabel: Option<String>,
    /// Width of the plot in pixels.
    #[arg(long, allow_negative_numbers = true)]
    pub width: Option<f64>,
}

/// Arguments of `metan forest`.
#[derive(Args, Debug)]
pub struct ForestArgs {
    #[command(flatten)]
    pub data: PlotDataArgs,
    /// How values are shown: `none`, or `exp` for log ratios (axis ticks at round ratios).
    #[arg(long, default_value = "none")]
    pub transform: String,
    /// Decimals of the estimate column.
    #[arg(long, default_value_t = 2, allow_negative_numbers = true)]
    pub digits: usize,
    /// Maximum width of the label column in pixels (longer labels end in an ellipsis).
    #[arg(long, allow_negative_numbers = true)]
    pub label_width: Option<f64>,
    /// Hide the weight column.
    #[arg(long)]
    pub no_weights: bool,
    /// Hide the estimate [CI] column.
    #[arg(long)]
    pub no_annotate: bool,
    /// Hide the prediction-interval bar.
    #[arg(long)]
    pub no_pi: bool,
}

/// Arguments of `metan funnel`.
#[derive(Args, Debug)]
pub struct FunnelArgs {
    #[command(flatten)]
    pub data: PlotDataArgs,
    /// How values are shown: `none`, or `exp` for log ratios.
    #[arg(long, default_value = "none")]
    pub transform: String,
    /// Shade the contour-enhanced regions (p = .10, .05, .01 around 0).
    #[arg(long)]
    pub contours: bool,
    /// Height of the plot in pixels.
    #[arg(long, allow_negative_numbers = true)]
    pub height: Option<f64>,
}

/// Arguments of `metan baujat`.
#[derive(Args, Debug)]
pub struct BaujatArgs {
    #[command(flatten)]
    pub data: PlotDataArgs,
    /// Mark points with the study labels instead of their numbers.
    #[arg(long)]
    pub labels: bool,
    /// Height of the plot in pixels.
    #[arg(long, allow_negative_numbers = true)]
    pub height: Option<f64>,
}

/// Reads the studies and fits the model.
fn load(a: &PlotDataArgs) -> Result<(Studies, MetaFit), MetaError> {
    let methods = a.model_args.methods()?;
    let test: TestKind = a.model_args.test()?;
    let level = a.model_args.level()?;
    let studies = a.input.read()?;
    let mut ma = MetaAnalysis::new().methods(methods).test(test).level(level);
    if let Some(t) = a.tau2 {
        ma = ma.tau2(t);
    }
    let fit = ma.fit(&studies)?;
    Ok((studies, fit))
}

/// Writes the SVG (or returns it for `-`) and returns what to print.
fn emit(svg: String, a: &PlotDataArgs, what: &str, k: usize) -> Result<String, MetaError> {
    if a.output.as_os_str() == "-" {
        return Ok(svg);
    }
    std::fs::write(&a.output, svg).map_err(|e| MetaError::InvalidOption {
        option: "--output".into(),
        value: a.output.display().to_string(),
        reason: format!("cannot write the file: {e}"),
    })?;
    Ok(format!(
        "wrote {what} of {k} studies to {}\n",
        a.output.display()
    ))
}

/// Runs `metan forest`.
pub fn run_forest(a: &ForestArgs) -> Result<String, MetaError> {
    let transform: Transform = a.transform.parse()?;
    let (studies, fit) = load(&a.data)?;
    let mut plot = ForestPlot::new(ForestData::from_fit(&studies, &fit)?)
        .transform(transform)
        .digits(a.digits)
        .show_weights(!a.no_weights)
        .annotate(!a.no_annotate)
        .prediction_interval(!a.no_pi);
    if let Some(x) = &a.data.xlabel {
        plot = plot.xlabel(x.clone());
    }
    if let Some(w) = a.data.width {
        plot = plot.width(w);
    }
    if let Some(w) = a.label_width {
        plot = plot.label_width(w);
    }
    emit(plot.render()?, &a.data, "forest plot", studies.k())
}

/// Runs `metan funnel`.
pub fn run_funnel(a: &FunnelArgs) -> Result<String, MetaError> {
    let transform: Transform = a.transform.parse()?;
    let (studies, fit) = load(&a.data)?;
    let mut plot = FunnelPlot::from_fit(&studies, &fit)?
        .transform(transform)
        .contours(a.contours);
    if let Some(x) = &a.data.xlabel {
        plot = plot.xlabel(x.clone());
    }
    if let Some(w) = a.data.width {
        plot = plot.width(w);
    }
    if let Some(h) = a.height {
        plot = plot.height(h);
    }
    emit(plot.render()?, &a.data, "funnel plot", studies.k())
}

/// Runs `metan baujat`.
pub fn run_baujat(a: &BaujatArgs) -> Result<String, MetaError> {
    let (studies, fit) = load(&a.data)?;
    let mut plot =
        BaujatPlot::new(BaujatData::from_fit(&studies, &fit)?).point_labels(if a.labels {
            PointLabels::Labels
        } else {
            PointLabels::Ids
        });
    if let Some(x) = &a.data.xlabel {
        plot = plot.xlabel(x.clone());
    }
    if let Some(w) = a.data.width {
        plot = plot.width(w);
    }
    if let Some(h) = a.height {
        plot = plot.height(h);
    }
    emit(plot.render()?, &a.data, "Baujat plot", studies.k())
}
