//! `metan mv`: multilevel and multivariate models for dependent effects (metafor's
//! `rma.mv`).

use clap::Args;
use metan::data::Vcalc;
use metan::data::csv::Table;
use metan::model::{ComponentCi, I2Levels, LinearHypotheses};
use metan::{
    Coefficient, MetaError, Method, MvFit, MvModel, RobustFit, RobustKind, Structure, TestKind,
    WaldTest,
};
use serde::Serialize;

use crate::common::{
    Format, Input, ModelArgs, load_studies, parse_btt, parse_reference, split_list, to_json,
};

/// Arguments of `metan mv`.
#[derive(Args, Debug)]
pub struct MvArgs {
    #[command(flatten)]
    pub input: Input,
    /// The cluster column (the study that reported each effect).
    #[arg(long)]
    pub cluster: String,
    /// The observation column within clusters (default: every row is its own
    /// observation): the inner level of `~ 1 | cluster/obs`, and effects with the same id
    /// have sampling correlation 1 under --rho.
    #[arg(long)]
    pub obs: Option<String>,
    /// A constant sampling correlation between effects of one cluster (metafor's
    /// `vcalc(vi, cluster, obs, rho)`); without it V = diag(vi).
    #[arg(long, allow_negative_numbers = true)]
    pub rho: Option<f64>,
    /// Numeric time column for a time-lag correlation rho * phi^|t_i - t_j| (needs --rho
    /// and --phi).
    #[arg(long, requires = "phi")]
    pub time: Option<String>,
    /// The autocorrelation of --time.
    #[arg(long, allow_negative_numbers = true, requires = "time")]
    pub phi: Option<f64>,
    /// (--method: REML or ML; --test: z or t, t on k - p df.)
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Moderator columns (comma-separated or repeated). A column that is not numeric is
    /// categorical (dummy-coded against its first level).
    #[arg(long, value_name = "COL[,COL...]")]
    pub mods: Vec<String>,
    /// Reference level of a categorical moderator, e.g. design=rct (repeatable).
    #[arg(long, value_name = "COL=LEVEL")]
    pub reference: Vec<String>,
    /// Coefficients of the omnibus test QM, 1-based (default: all but the intercept).
    #[arg(long, value_name = "J[,J...]")]
    pub btt: Option<String>,
    /// Multivariate model: a mean per level of this column and correlated outcome-level
    /// random effects within clusters (needs --struct).
    #[arg(long, requires = "structure")]
    pub outcome: Option<String>,
    /// Structure of the outcome-level random effects: UN, CS or HCS.
    #[arg(long = "struct", requires = "outcome")]
    pub structure: Option<String>,
    /// A linear combination of the coefficients to test, e.g. 1,-1 for the difference of
    /// two outcomes (metafor's anova(fit, X = ...)); repeat for several (also tested jointly).
    #[arg(long, value_name = "C[,C...]", allow_hyphen_values = true)]
    pub contrast: Vec<String>,
    /// Also report profile-likelihood confidence intervals of the variance components.
    #[arg(long)]
    pub confint: bool,
    /// Cluster-robust inference clustered by --cluster: CR2 (clubSandwich's coef_test with
    /// Satterthwaite df, HTZ Wald tests, e.g. the CHE + CR2 recipe) or CR1 (metafor's
    /// robust(fit, cluster, adjust = TRUE)). With --contrast, the contrasts are also tested
    /// with the robust covariance (HTZ for CR2).
    #[arg(long, value_name = "CR2|CR1")]
    pub robust: Option<String>,
    /// Decimals in the text output.
    #[arg(long, default_value_t = 4)]
    pub digits: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The JSON document of `metan mv --format json` (with --robust, a `robust` object:
/// `type`, `coefficients` with Satterthwaite df for CR2 or clusters - p for CR1, `vcov`,
/// `omnibus`; with --contrast too, `robust_contrast`, their robust Wald test).
#[derive(Serialize)]
struct MvJson<'a> {
    k: usize,
    clusters: usize,
    method: String,
    test: String,
    level: f64,
    /// Three-level model: cluster, then observation within cluster; null with --outcome.
    sigma2: Option<&'a [f64]>,
    /// Multivariate model: one per outcome level (sorted) or one (CS); null otherwise.
    tau2: Option<&'a [f64]>,
    /// Multivariate model: the between-outcome correlation(s), metafor's `rho`.
    rho_between: Option<&'a [f64]>,
    structure: Option<String>,
    outcome_levels: Option<Vec<String>>,
    loglik: f64,
    deviance: f64,
    aic: f64,
    bic: f64,
    aicc: f64,
    q: f64,
    q_df: f64,
    q_p_value: f64,
    qm: Option<f64>,
    qm_df: Option<f64>,
    qm_df2: Option<f64>,
    qm_p_value: Option<f64>,
    i2: Option<&'a I2Levels>,
    coefficients: &'a [Coefficient],
    converged: bool,
    iterations: usize,
    stop_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    contrasts: Option<&'a LinearHypotheses>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confint: Option<&'a [ComponentCi]>,
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    robust: Option<&'a RobustFit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    robust_contrast: Option<&'a WaldTest>,
}

fn parse_contrast(s: &str) -> Result<Vec<f64>, MetaError> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| MetaError::InvalidOption {
                    option: "contrast".into(),
                    value: s.to_string(),
                    reason: "expected comma-separated numbers such as 1,-1".into(),
                })
        })
        .collect()
}

/// Builds the specification and fits.
pub fn fit(a: &MvArgs) -> Result<MvFit, MetaError> {
    let method: Method = a.model_args.method.parse()?;
    let test: TestKind = a.model_args.test()?;
    let level = a.model_args.level()?;
    let mods = split_list(&a.mods);
    let mut groups = Vec::new();
    if let Some(o) = &a.outcome {
        groups.push(o.clone());
    }
    let mut studies = load_studies(&a.input, &mods, &groups)?;
    let table = Table::from_path(&a.input.csv)?;
    let missing = |s: &str| {
        let t = s.trim();
        if t == "NA" {
            String::new()
        } else {
            t.to_string()
        }
    };
    let ids: Vec<String> = table
        .text_column(&a.cluster)?
        .iter()
        .map(|s| missing(s))
        .collect();
    studies = studies.with_clusters(ids)?;
    if let Some(o) = &a.obs {
        let ids: Vec<String> = table.text_column(o)?.iter().map(|s| missing(s)).collect();
        studies = studies.with_observations(ids)?;
    }
    if let Some(t) = &a.time {
        studies = studies.with_moderator(t.clone(), table.numeric_column(t)?)?;
    }
    let mut spec = MvModel::new()
        .method(method)
        .test(test)
        .level(level)
        .digits(a.digits)
        .moderators(mods)
        .factor_names(
            a.cluster.clone(),
            a.obs.clone().unwrap_or_else(|| "obs".into()),
        );
    for r in &a.reference {
        let (c, l) = parse_reference(r)?;
        spec = spec.reference(c, l);
    }
    if let Some(b) = &a.btt {
        spec = spec.btt(parse_btt(b)?);
    }
    match (a.rho, &a.time, a.phi) {
        (Some(r), Some(t), Some(phi)) => spec = spec.vcalc(Vcalc::new(r).time_lag(t, phi)),
        (Some(r), None, _) => spec = spec.rho(r),
        (None, Some(t), _) => {
            return Err(MetaError::InvalidOption {
                option: "time".into(),
                value: t.clone(),
                reason: "a time lag needs --rho".into(),
            });
        }
        _ => {}
    }
    if let (Some(o), Some(s)) = (&a.outcome, &a.structure) {
        let st: Structure = s.parse()?;
        spec = spec.outcome(o.clone(), st);
    }
    spec.fit(&studies)
}

/// Runs `metan mv` and returns what to print.
pub fn run(a: &MvArgs) -> Result<String, MetaError> {
    let fit = fit(a)?;
    let contrasts = if a.contrast.is_empty() {
        None
    } else {
        let rows = a
            .contrast
            .iter()
            .map(|c| parse_contrast(c))
            .collect::<Result<Vec<_>, _>>()?;
        Some(fit.hypotheses(&rows)?)
    };
    let confint = if a.confint {
        Some(fit.profile_ci()?)
    } else {
        None
    };
    let robust = match &a.robust {
        Some(kind) => Some(fit.robust(kind.parse::<RobustKind>()?)?),
        None => None,
    };
    // the joint robust test of the contrasts, when they have full row rank (metafor's
    // anova on a robust fit reports no omnibus test otherwise)
    let robust_contrast = match (&robust, &contrasts) {
        (Some(r), Some(h)) if h.qm().is_some() => {
            let rows = a
                .contrast
                .iter()
                .map(|c| parse_contrast(c))
                .collect::<Result<Vec<_>, _>>()?;
            Some(r.wald_test(&rows)?)
        }
        _ => None,
    };
    match a.format {
        Format::Text => {
            let mut out = fit.to_string();
            if let Some(h) = &contrasts {
                out.push_str(&h.to_string());
            }
            if let Some(ci) = &confint {
                out.push('\n');
                for c in ci {
                    out.push_str(&format!(
                        "{:<10} estimate {:.4}  {}% CI [{}{:.4}, {}{:.4}]\n",
                        c.name,
                        c.estimate,
                        fit.level(),
                        c.lower_sign,
                        c.ci_lower,
                        c.upper_sign,
                        c.ci_upper
                    ));
                }
            }
            if let Some(r) = &robust {
                out.push_str(&format!(
                    "\nCluster-robust inference ({}), clustered by {}:\n\n{r}",
                    r.kind(),
                    a.cluster
                ));
                if let Some(w) = &robust_contrast {
                    let den = w.df_denom.map_or("Inf".to_string(), |d| format!("{d:.2}"));
                    let pv = w.p_value.map_or("NA".to_string(), |p| format!("{p:.4e}"));
                    out.push_str(&format!(
                        "\nRobust test of the contrast(s) ({}):\n  F = {:.4}, df_num = {}, df_denom = {den}, p-val = {pv}\n",
                        w.test, w.statistic, w.df_num
                    ));
                }
            }
            Ok(out)
        }
        Format::Json => {
            let (structure, levels) = match fit.random() {
                metan::model::RandomPart::Multivariate {
                    structure, levels, ..
                } => (Some(structure.to_string()), Some(levels.clone())),
                _ => (None, None),
            };
            let mv = structure.is_some();
            let j = MvJson {
                k: fit.k(),
                clusters: fit.n_clusters(),
                method: fit.method().to_string(),
                test: fit.test().to_string(),
                level: fit.level(),
                sigma2: (!mv).then(|| fit.sigma2()),
                tau2: mv.then(|| fit.tau2()),
                rho_between: mv.then(|| fit.rho()),
                structure,
                outcome_levels: levels,
                loglik: fit.loglik(),
                deviance: fit.deviance(),
                aic: fit.aic(),
                bic: fit.bic(),
                aicc: fit.aicc(),
                q: fit.q(),
                q_df: fit.q_df(),
                q_p_value: fit.q_p_value(),
                qm: fit.qm(),
                qm_df: fit.qm().map(|_| fit.qm_df().0),
                qm_df2: fit.qm().and(fit.qm_df().1),
                qm_p_value: fit.qm_p_value(),
                i2: fit.i2(),
                coefficients: fit.coefficients(),
                converged: fit.converged(),
                iterations: fit.iterations(),
                stop_reason: format!("{:?}", fit.convergence().reason),
                contrasts: contrasts.as_ref(),
                confint: confint.as_deref(),
                warnings: fit.warnings(),
                robust: robust.as_ref(),
                robust_contrast: robust_contrast.as_ref(),
            };
            to_json(&j)
        }
    }
}
