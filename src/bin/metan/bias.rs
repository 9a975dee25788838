//! `metan bias`: publication bias and small-study effects (metafor's `regtest`, `ranktest`,
//! `trimfill`, `fsn`, `hc`, and PET-PEESE) in one report.

use clap::{ArgAction, Args};
use metan::bias::{
    Estimator, FailSafeN, HenmiCopas, PetPeese, Predictor, RankTest, RegModel, RegTest, Side,
    TrimFill, WeightedLm,
};
use metan::data::csv::Table;
use metan::data::effect_size::Measure;
use metan::{Coefficient, MetaAnalysis, MetaError, Studies, TestKind};
use serde_json::{Map, Value, json};

use crate::common::{Format, Input, ModelArgs, to_json};
use crate::raw::{Corrections, RawColumns, effect_sizes};

/// Arguments of `metan bias`.
#[derive(Args, Debug)]
pub struct BiasArgs {
    #[command(flatten)]
    pub input: Input,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Fix tau^2 of the model at this value (the regression test uses it).
    #[arg(long, allow_negative_numbers = true)]
    pub tau2: Option<f64>,
    /// Predictor of the regression test: sei, vi, ni, ninv, sqrtni or sqrtninv (the sample
    /// sizes come from --measure, or from the column named by --ni).
    #[arg(long, default_value = "sei")]
    pub predictor: String,
    /// Model of the regression test: rma (the meta-analytic model) or lm (weighted
    /// regression with multiplicative dispersion).
    #[arg(long, default_value = "rma")]
    pub model: String,
    /// Trim-and-fill estimator: L0, R0 or Q0.
    #[arg(long, default_value = "L0")]
    pub estimator: String,
    /// Side of the missing studies for trim-and-fill: left or right [default: estimated]
    #[arg(long)]
    pub side: Option<String>,
    /// Whether the rank test's p-value is exact when there are no ties.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub exact: bool,
    /// Target significance level of Rosenthal's and Rosenberg's fail-safe N.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Orwin's target effect [default: half the average effect]
    #[arg(long, allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// Two-sided level of PET's test of the intercept that selects PEESE.
    #[arg(long, default_value_t = 0.10, allow_negative_numbers = true)]
    pub pet_alpha: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Compute the effect sizes from raw columns with this measure (as `metan escalc`); the
    /// sample sizes of the predictors ni, ... are then metafor's.
    #[arg(long)]
    pub measure: Option<String>,
    #[command(flatten)]
    pub columns: RawColumns,
    #[command(flatten)]
    pub corrections: Corrections,
}

/// Serializes to a JSON value.
fn value<T: serde::Serialize>(x: &T) -> Result<Value, MetaError> {
    serde_json::to_value(x).map_err(|e| MetaError::Numerical {
        context: format!("JSON serialization: {e}"),
    })
}

fn coefficient(c: &Coefficient) -> Value {
    json!({
        "estimate": c.estimate, "se": c.se, "statistic": c.statistic, "df": c.df,
        "p_value": c.p_value, "ci_lower": c.ci_lower, "ci_upper": c.ci_upper,
    })
}

fn lm(fit: &WeightedLm) -> Value {
    json!({
        "intercept": coefficient(fit.intercept()),
        "slope": coefficient(fit.slope()),
        "sigma": fit.sigma(),
        "df": fit.df(),
    })
}

/// The studies (and their sample sizes, when known).
fn read(a: &BiasArgs) -> Result<(Studies, Option<Vec<f64>>), MetaError> {
    let ni_col = a.columns.ni.clone().unwrap_or_else(|| "ni".into());
    match &a.measure {
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
                eprintln!("metan: warning: {omitted} studies with NAs omitted from the tests.");
            }
            let ni: Vec<f64> = es.complete().iter().map(|&i| es.ni()[i]).collect();
            Ok((es.into_studies()?, Some(ni)))
        }
        None => {
            let studies = a.input.read()?;
            let table = Table::from_path(&a.input.csv)?;
            let ni = if table.has_column(&ni_col) {
                Some(table.numeric_column(&ni_col)?)
            } else {
                None
            };
            Ok((studies, ni))
        }
    }
}

/// Runs `metan bias` and returns what to print. A test that cannot be computed (too few
/// studies, a predictor without sample sizes, ...) is reported as `null` with its error in
/// `errors` (text: in place of its block); the command fails only when the data or the
/// options cannot be read, or when no test at all could be computed.
pub fn run(a: &BiasArgs) -> Result<String, MetaError> {
    let methods = a.model_args.methods()?;
    let test: TestKind = a.model_args.test()?;
    let level = a.model_args.level()?;
    let predictor: Predictor = a.predictor.parse()?;
    let model: RegModel = a.model.parse()?;
    let estimator: Estimator = a.estimator.parse()?;
    let side: Option<Side> = a.side.as_deref().map(str::parse).transpose()?;
    let (studies, ni) = read(a)?;
    let mut spec = MetaAnalysis::new().methods(methods).test(test).level(level);
    if let Some(t) = a.tau2 {
        spec = spec.tau2(t);
    }
    // check the model options once, and fit the model once, so that a model that cannot be
    // fitted fails the command, not each test
    spec.clone().confint(false).fit(&studies)?;
    let spec = spec.check()?;

    let mut reg = RegTest::new().model(model).predictor(predictor);
    if let Some(n) = ni {
        reg = reg.sample_sizes(n);
    }
    let egger = reg.run(&spec, &studies);
    let rank = RankTest::new().exact(a.exact).run(&studies);
    let mut tf = TrimFill::new().estimator(estimator);
    if let Some(s) = side {
        tf = tf.side(s);
    }
    let trimfill = tf.run(&spec, &studies);
    let mut fsn = FailSafeN::new().alpha(a.alpha);
    if let Some(t) = a.target {
        fsn = fsn.target(t);
    }
    let failsafe = fsn.run(&studies);
    let pet_peese = PetPeese::new()
        .alpha(a.pet_alpha)
        .level(level)
        .run(&studies);
    let hc = HenmiCopas::new().run(&spec, &studies);
    // an option out of range fails the command (naming the command-line option); only
    // what the data cannot support leaves a test "not computed"
    if let Some(e) = option_error(&failsafe, &[("alpha", "alpha"), ("target", "target")])
        .or_else(|| option_error(&pet_peese, &[("alpha", "pet-alpha")]))
    {
        return Err(e);
    }

    let ok = [
        egger.is_ok(),
        rank.is_ok(),
        trimfill.is_ok(),
        failsafe.is_ok(),
        pet_peese.is_ok(),
        hc.is_ok(),
    ];
    if !ok.contains(&true) {
        // nothing could be computed: the first error is the answer
        return Err(match (egger, rank, trimfill, failsafe, pet_peese, hc) {
            (Err(e), ..) => e,
            (_, Err(e), ..) => e,
            (_, _, Err(e), ..) => e,
            (_, _, _, Err(e), ..) => e,
            (_, _, _, _, Err(e), _) => e,
            (_, _, _, _, _, Err(e)) => e,
            _ => unreachable_error(),
        });
    }

    match a.format {
        Format::Text => {
            let mut out = String::new();
            let mut block = |name: &str, r: Result<String, &MetaError>| match r {
                Ok(s) => out.push_str(&s),
                Err(e) => out.push_str(&format!("\n{name}: not computed: {e}\n\n")),
            };
            block(
                "Regression Test for Funnel Plot Asymmetry",
                egger.as_ref().map(ToString::to_string),
            );
            block(
                "Rank Correlation Test for Funnel Plot Asymmetry",
                rank.as_ref().map(ToString::to_string),
            );
            block(
                "Trim-and-Fill",
                trimfill
                    .as_ref()
                    .map(|t| format!("{}\n", t.to_string().trim_end())),
            );
            block("Fail-safe N", failsafe.as_ref().map(ToString::to_string));
            block("PET-PEESE", pet_peese.as_ref().map(ToString::to_string));
            block(
                "Henmi-Copas",
                hc.as_ref().map(|h| {
                    format!(
                        "\nHenmi-Copas estimate and {}% interval (robust to publication bias):\n{h}",
                        h.level()
                    )
                }),
            );
            Ok(out)
        }
        Format::Json => {
            let mut errors = Map::new();
            let mut part = |name: &str, r: Result<Value, MetaError>| match r {
                Ok(v) => v,
                Err(e) => {
                    errors.insert(name.into(), Value::String(e.to_string()));
                    Value::Null
                }
            };
            let egger_v = part("egger", egger.and_then(|f| value(&f)));
            let rank_v = part(
                "rank",
                rank.map(|r| {
                    json!({"tau": r.tau(), "p_value": r.p_value(), "exact": r.exact(),
                           "statistic": r.statistic()})
                }),
            );
            let tf_v = part(
                "trimfill",
                trimfill.map(|t| {
                    let fit = t.fit();
                    let (lo, hi) = fit.ci();
                    let filled: Vec<Value> = t
                        .filled()
                        .iter()
                        .map(|f| json!({"yi": f.yi, "vi": f.vi, "label": f.label}))
                        .collect();
                    json!({
                        "k0": t.k0(), "side": t.side().to_string(), "estimate": fit.estimate(),
                        "se": fit.se(), "ci_lower": lo, "ci_upper": hi, "tau2": fit.tau2(),
                        "filled": filled, "se_k0": t.se_k0(), "p_k0": t.p_k0(),
                        "estimator": t.estimator().to_string(), "k": fit.k(),
                        "statistic": fit.statistic(), "p_value": fit.p_value(),
                        "method": fit.method().to_string(),
                    })
                }),
            );
            let fsn_v = part(
                "failsafe",
                failsafe.map(|f| {
                    json!({
                        "rosenthal": f.rosenthal().fsn, "orwin": f.orwin().fsn,
                        "rosenberg": f.rosenberg().fsn,
                        "rosenthal_p_value": f.rosenthal().p_value,
                        "orwin_mean": f.orwin().mean, "orwin_target": f.orwin().target,
                        "rosenberg_p_value": f.rosenberg().p_value,
                        "alpha": f.rosenthal().alpha,
                    })
                }),
            );
            let pp_v = part(
                "pet_peese",
                pet_peese.map(|p| {
                    let (lo, hi) = p.ci();
                    json!({
                        "pet": lm(p.pet()), "peese": lm(p.peese()), "estimate": p.estimate(),
                        "ci_lower": lo, "ci_upper": hi, "chosen": p.chosen().to_string(),
                        "alpha": p.alpha(),
                    })
                }),
            );
            let hc_v = part(
                "hc",
                hc.map(|h| {
                    let (lo, hi) = h.ci();
                    json!({
                        "estimate": h.estimate(), "se": h.se(), "ci_lower": lo, "ci_upper": hi,
                        "tau2": h.tau2(), "t0": h.t0(), "converged": h.converged(),
                    })
                }),
            );
            let mut obj = json!({
                "k": studies.k(),
                "egger": egger_v,
                "rank": rank_v,
                "trimfill": tf_v,
                "failsafe": fsn_v,
                "pet_peese": pp_v,
                "hc": hc_v,
            });
            if !errors.is_empty() {
                if let Value::Object(m) = &mut obj {
                    m.insert("errors".into(), Value::Object(errors));
                }
            }
            to_json(&obj)
        }
    }
}

/// The error of a test that refused one of the options `names` (library option, command-line
/// option), renamed to the command-line option.
fn option_error<T>(r: &Result<T, MetaError>, names: &[(&str, &str)]) -> Option<MetaError> {
    let Err(MetaError::InvalidOption {
        option,
        value,
        reason,
    }) = r
    else {
        return None;
    };
    names
        .iter()
        .find(|(lib, _)| lib == option)
        .map(|(_, cli)| MetaError::InvalidOption {
            option: (*cli).to_string(),
            value: value.clone(),
            reason: reason.clone(),
        })
}

fn unreachable_error() -> MetaError {
    MetaError::Numerical {
        context: "metan bias: no test result and no error".into(),
    }
}
