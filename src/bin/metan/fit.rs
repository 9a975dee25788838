//! `metan fit`.

use clap::Args;
use metan::data::csv::Table;
use metan::data::effect_size::Measure;
use metan::{
    LocationScale, MetaAnalysis, MetaError, MetaRegression, Method, RobustFit, RobustKind, TestKind,
};

use crate::common::{
    Format, Input, ModelArgs, load_studies, parse_btt, parse_reference, split_list, to_json,
};
use crate::raw::{Corrections, RawColumns, effect_sizes};
use crate::robu::with_clusters;

/// Arguments of `metan fit`.
#[derive(Args, Debug)]
pub struct FitArgs {
    #[command(flatten)]
    pub input: Input,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Fix tau^2 at this value instead of estimating it.
    #[arg(long, allow_negative_numbers = true)]
    pub tau2: Option<f64>,
    /// Column of weights (required by GENQ).
    #[arg(long)]
    pub weights: Option<String>,
    /// Decimals in the text output.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub digits: usize,
    /// Moderator columns (comma-separated or repeated): a mixed-effects meta-regression.
    /// A column that is not numeric is categorical (dummy-coded against its first level).
    #[arg(long, value_name = "COL[,COL...]")]
    pub mods: Vec<String>,
    /// Reference level of a categorical moderator, e.g. design=rct (repeatable).
    #[arg(long, value_name = "COL=LEVEL")]
    pub reference: Vec<String>,
    /// Coefficients of the omnibus test QM, 1-based as in metafor (default: all but the
    /// intercept), e.g. 2,3.
    #[arg(long, value_name = "J[,J...]")]
    pub btt: Option<String>,
    /// Fit the meta-regression without an intercept.
    #[arg(long)]
    pub no_intercept: bool,
    /// Scale moderator columns (comma-separated or repeated): a location-scale model,
    /// ln tau^2_i = alpha_0 + z_i' alpha (metafor's `scale = ~ ...`; ML or REML). A column
    /// that is not numeric is categorical.
    #[arg(long, value_name = "COL[,COL...]")]
    pub scale: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Compute the effect sizes from raw columns with this measure (as `metan escalc`)
    /// instead of reading `yi`/`vi`; the fit then reports the back-transformed estimate
    #[arg(long)]
    pub measure: Option<String>,
    /// Cluster column (the study each effect comes from), for --robust.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Cluster-robust inference: CR2 (clubSandwich, Satterthwaite df) or CR1 (metafor's
    /// robust()); needs --cluster.
    #[arg(long, value_name = "CR2|CR1")]
    pub robust: Option<String>,
    #[command(flatten)]
    pub columns: RawColumns,
    #[command(flatten)]
    pub corrections: Corrections,
}

/// The robust estimator and cluster column, when asked for (both or neither).
fn robust_request(a: &FitArgs) -> Result<Option<(RobustKind, &str)>, MetaError> {
    match (&a.robust, &a.cluster) {
        (Some(k), Some(c)) => Ok(Some((k.parse()?, c.as_str()))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(MetaError::InvalidOption {
            option: "robust".into(),
            value: "given".into(),
            reason: "cluster-robust inference needs --cluster COL".into(),
        }),
        (None, Some(_)) => Err(MetaError::InvalidOption {
            option: "cluster".into(),
            value: "given".into(),
            reason: "--cluster is used with --robust CR2|CR1".into(),
        }),
    }
}

/// The fit's text or JSON, followed by (text) or with a `robust` member (JSON) of the
/// cluster-robust results.
fn output<T: serde::Serialize + std::fmt::Display>(
    format: Format,
    fit: &T,
    robust: Option<&RobustFit>,
    extra: Option<(&str, serde_json::Value)>,
) -> Result<String, MetaError> {
    match format {
        Format::Text => Ok(match robust {
            Some(r) => format!("{fit}Cluster-robust inference ({}):\n\n{r}", r.kind()),
            None => fit.to_string(),
        }),
        Format::Json => {
            let err = |e: serde_json::Error| MetaError::Numerical {
                context: format!("JSON serialization: {e}"),
            };
            let mut v = serde_json::to_value(fit).map_err(err)?;
            if let serde_json::Value::Object(m) = &mut v {
                if let Some((k, x)) = extra {
                    m.insert(k.into(), x);
                }
                if let Some(r) = robust {
                    m.insert("robust".into(), serde_json::to_value(r).map_err(err)?);
                }
            }
            to_json(&v)
        }
    }
}

/// Runs `metan fit` and returns what to print.
pub fn run(a: &FitArgs) -> Result<String, MetaError> {
    let methods = a.model_args.methods()?;
    let robust = robust_request(a)?;
    let test: TestKind = a.model_args.test()?;
    let level = a.model_args.level()?;
    let mods = split_list(&a.mods);
    let scale = split_list(&a.scale);
    if !scale.is_empty() {
        if robust.is_some() {
            return Err(MetaError::InvalidOption {
                option: "robust".into(),
                value: "given".into(),
                reason:
                    "cluster-robust inference is not available for location-scale models (--scale)"
                        .into(),
            });
        }
        return run_location_scale(a, test, &mods, &scale);
    }
    if !mods.is_empty() || a.no_intercept {
        if a.measure.is_some() {
            return Err(MetaError::InvalidOption {
                option: "measure".into(),
                value: "given".into(),
                reason: "compute the effect sizes with `metan escalc` first, then fit with --mods"
                    .into(),
            });
        }
        return run_regression(a, methods, test, &mods, robust);
    }
    if !a.reference.is_empty() || a.btt.is_some() {
        return Err(MetaError::InvalidOption {
            option: "reference/btt".into(),
            value: "given".into(),
            reason: "only meaningful with --mods".into(),
        });
    }
    // with --measure: effect sizes from raw columns; studies with NA yi/vi are omitted
    let mut kept: Option<Vec<usize>> = None;
    let studies = match &a.measure {
        Some(m) => {
            let measure: Measure = m.parse()?;
            let table = Table::from_path(&a.input.csv)?;
            let labels = a
                .input
                .slab
                .as_deref()
                .map(|s| table.text_column(s))
                .transpose()?;
            let es = effect_sizes(&table, measure, &a.columns, &a.corrections, labels)?;
            let omitted = es.omitted().len();
            if omitted > 0 {
                eprintln!("metan: warning: {omitted} studies with NAs omitted from model fitting.");
            }
            kept = Some(es.complete());
            es.into_studies()?
        }
        None => a.input.read()?,
    };
    let mut ma = MetaAnalysis::new()
        .methods(methods)
        .test(test)
        .level(level)
        .digits(a.digits);
    if let Some(t) = a.tau2 {
        ma = ma.tau2(t);
    }
    if let Some(w) = &a.weights {
        let table = Table::from_path(&a.input.csv)?;
        let all = table.numeric_column(w)?;
        ma = ma.weights(match &kept {
            Some(idx) => idx.iter().map(|&i| all[i]).collect(),
            None => all,
        });
    }
    let fit = ma.fit(&studies)?;
    for w in fit.warnings() {
        eprintln!("metan: warning: {w}");
    }
    let rf = match robust {
        Some((kind, col)) => {
            let s = with_clusters(&a.input, studies, col, kept.as_deref())?;
            Some(fit.robust(&s, kind)?)
        }
        None => None,
    };
    // with a measure: the fit plus its back-transformed estimate and intervals
    let bt = match fit.back_transformed() {
        Some(bt) => Some((
            "back_transformed",
            serde_json::to_value(bt).map_err(|e| MetaError::Numerical {
                context: format!("JSON serialization: {e}"),
            })?,
        )),
        None => None,
    };
    output(a.format, &fit, rf.as_ref(), bt)
}

/// `metan fit --mods ...`: a mixed-effects meta-regression.
fn run_regression(
    a: &FitArgs,
    methods: Vec<Method>,
    test: TestKind,
    mods: &[String],
    robust: Option<(RobustKind, &str)>,
) -> Result<String, MetaError> {
    if a.weights.is_some() {
        return Err(MetaError::InvalidOption {
            option: "weights".into(),
            value: "given".into(),
            reason: "user weights are not supported for meta-regression".into(),
        });
    }
    let studies = load_studies(&a.input, mods, &[])?;
    let mut mr = MetaRegression::new()
        .methods(methods)
        .test(test)
        .level(a.model_args.level()?)
        .digits(a.digits)
        .moderators(mods.iter().cloned())
        .intercept(!a.no_intercept);
    for r in &a.reference {
        let (c, l) = parse_reference(r)?;
        mr = mr.reference(c, l);
    }
    if let Some(b) = &a.btt {
        mr = mr.btt(parse_btt(b)?);
    }
    if let Some(t) = a.tau2 {
        mr = mr.tau2(t);
    }
    let fit = mr.fit(&studies)?;
    for w in fit.warnings() {
        eprintln!("metan: warning: {w}");
    }
    let rf = match robust {
        Some((kind, col)) => {
            let s = with_clusters(&a.input, studies, col, None)?;
            Some(fit.robust(&s, kind)?)
        }
        None => None,
    };
    output(a.format, &fit, rf.as_ref(), None)
}

/// `metan fit --scale ...`: a location-scale model.
fn run_location_scale(
    a: &FitArgs,
    test: TestKind,
    mods: &[String],
    scale: &[String],
) -> Result<String, MetaError> {
    let unsupported = |option: &str, reason: &str| MetaError::InvalidOption {
        option: option.into(),
        value: "given".into(),
        reason: reason.into(),
    };
    if a.measure.is_some() {
        return Err(unsupported(
            "measure",
            "compute the effect sizes with `metan escalc` first, then fit with --scale",
        ));
    }
    if a.weights.is_some() {
        return Err(unsupported(
            "weights",
            "user weights are not supported for location-scale models",
        ));
    }
    if a.tau2.is_some() {
        return Err(unsupported(
            "tau2",
            "tau^2 is modelled by --scale in a location-scale model",
        ));
    }
    if a.btt.is_some() {
        return Err(unsupported(
            "btt",
            "location-scale models test all location (and all scale) moderators",
        ));
    }
    let method: Method = a.model_args.method.parse()?;
    let mut cols: Vec<String> = mods.to_vec();
    cols.extend(scale.iter().filter(|c| !mods.contains(c)).cloned());
    let studies = load_studies(&a.input, &cols, &[])?;
    let mut ls = LocationScale::new()
        .method(method)
        .test(test)
        .level(a.model_args.level()?)
        .digits(a.digits)
        .location(mods.iter().cloned())
        .scale(scale.iter().cloned())
        .intercept(!a.no_intercept);
    for r in &a.reference {
        let (c, l) = parse_reference(r)?;
        if !mods.contains(&c) && !scale.contains(&c) {
            return Err(MetaError::InvalidOption {
                option: "reference".into(),
                value: r.clone(),
                reason: "only a categorical moderator of --mods or --scale has a reference level"
                    .into(),
            });
        }
        if mods.contains(&c) {
            ls = ls.location_reference(c.clone(), l.clone());
        }
        if scale.contains(&c) {
            ls = ls.scale_reference(c, l);
        }
    }
    let fit = ls.fit(&studies)?;
    for w in fit.warnings() {
        eprintln!("metan: warning: {w}");
    }
    match a.format {
        Format::Text => Ok(fit.to_string()),
        Format::Json => to_json(&fit),
    }
}
