//! The digest's findings as sensitivity scenarios on the **SIMULATED** IPV evaluations
//! (`metan::datasets::ipv`), and the pattern each finding states, checked on one simulated
//! data set ([`patterns`]) and across seeds ([`rates`]).
//!
//! Used by `examples/digest.rs` (its tables and footer) and `tests/integration/digest_findings.rs` (the
//! same scenarios, the same checks), so that what the example prints is what the test
//! checks.
//!
//! **One comparison per table.** Every pooled row keeps one comparison
//! ([`PROGRAMME`], [`COUPLES`] or [`DROPOUTS`]); the scenario engine refuses a row that
//! would pool different comparisons (`MetaError::MixedComparisons`), and never pools a
//! study without a comparison group.
//!
//! **Direction.** Every effect is the odds ratio of re-offending (the re-offence recorded by
//! the source named), the first group against the second: OR < 1 favours the programme
//! (fewer re-offenders).
//!
//! **The patterns**, read from the digest's wording (Cohen's benchmarks for "small" and
//! "moderate": d = 0.2 small, 0.5 medium, 0.8 large, converted with
//! `ln OR = d pi / sqrt 3`, Hasselblad & Hedges 1995; "small at best" is below the midpoint
//! of small and medium, d < 0.35, "moderate" between the midpoints, 0.35 <= d < 0.65):
//!
//! 1. every pooled row of programme vs no programme is small at best (OR > 0.53), at least
//!    half of them are not significant, and the partner reports pooled as the studies
//!    report them (re-assault counts, or CTS-like scores converted to log ORs:
//!    [`partner_scores`]) are small at best;
//! 2. partner reports are closer to no effect than official records in the same studies, in
//!    one bivariate model of both (CHE working model, within-study sampling correlation
//!    rho = 0.5; [`bivariate`]), and in the same direction at every rho from 0.2 to 0.8 (the
//!    CR2 test of the difference is reported, not required);
//! 3. dropping the flawed (completer-only) studies moves the estimate toward the null, and
//!    RCTs alone are closer to the null than all designs;
//! 4. completer (available-case) analyses look better than the analyses as reported, and
//!    drop-outs re-offend more than completers (completers vs drop-outs: OR < 1,
//!    significant; not a programme effect);
//! 5. neither Duluth nor CBT is significantly better (the difference is also tested for
//!    equivalence against d = +-0.2, reported, not required);
//! 6. integrated programmes look better than traditional ones, and tailored programmes
//!    better than standard ones (point estimates: "some promise");
//! 7. couples therapy vs a standard programme: six studies, a significant benefit of
//!    moderate size;
//! 8. outside high-income countries no study has a comparison group (so no programme effect
//!    is pooled for them), they are few, and none comes from a humanitarian setting.
#![allow(dead_code)]

use std::f64::consts::PI;

use metan::data::effect_size::{
    EffectScale, Measure, MixedEffectSizes, MixedStudy, MixedTable, StudyData, TwoByTwo,
    TwoGroupMeans,
};
use metan::datasets::ipv::{self, Assumptions, Handling, IncomeGroup, SimulatedStudy, Source};
use metan::sensitivity::{
    MissingRule, OutcomeSource as Src, Predicate, Scenario, ScenarioData, ScenarioResult,
    ScenarioStudy,
};
use metan::{
    Coefficient, MetaAnalysis, MetaError, MetaFit, MetaRegression, MvModel, RobustKind, Structure,
    Studies,
};

/// Programme vs no programme or treatment as usual.
pub const PROGRAMME: &str = "programme_vs_no_programme";
/// Couples therapy vs a standard programme.
pub const COUPLES: &str = "couples_vs_standard_programme";
/// Completers vs drop-outs of the same programme (not a programme effect).
pub const DROPOUTS: &str = "completers_vs_dropouts";

/// `ln OR` per unit of Cohen's d (Hasselblad & Hedges 1995).
pub const D_TO_LOG_OR: f64 = PI / 1.732_050_807_568_877_2;
/// "Small at best": |d| below the midpoint of Cohen's small (0.2) and medium (0.5).
pub const SMALL_AT_BEST_D: f64 = 0.35;
/// "Moderate": |d| between the midpoints around Cohen's medium (0.35 to 0.65).
pub const MODERATE_D: (f64, f64) = (0.35, 0.65);
/// Smallest difference of interest between two programme models: Cohen's small d = 0.2
/// (the reviews call the programmes' own effects "small", Babcock et al. 2004).
pub const EQUIVALENCE_D: f64 = 0.2;

/// Seeds of the across-seed check: 1, 2, ..., 200.
pub const SEEDS: std::ops::RangeInclusive<u64> = 1..=200;

/// The model of every scenario: REML, z test, 95% CI (the one place the examples name it).
pub fn model() -> MetaAnalysis {
    MetaAnalysis::new()
}

/// Runs scenarios; a scenario that would pool different comparisons is an error.
pub fn run(data: &ScenarioData, scenarios: &[Scenario]) -> Result<Vec<ScenarioResult>, MetaError> {
    let m = model();
    scenarios
        .iter()
        .map(|s| {
            s.check(data)?;
            Ok(s.run(data, &m))
        })
        .collect()
}

/// The simulated data set of `seed` (default assumptions), as records and scenario data.
pub fn simulated(seed: u64) -> Result<(Vec<SimulatedStudy>, ScenarioData), MetaError> {
    let sims = ipv::simulate(&Assumptions::default(), seed)?;
    let data = ScenarioData::from_simulated_ipv(&sims);
    Ok((sims, data))
}

/// Official records of programme vs no programme, each evaluation as it reported.
pub fn official() -> Scenario {
    Scenario::new("programme vs no programme, official records")
        .sources([Src::Official])
        .missing(MissingRule::ObservedDropouts)
        .comparison(PROGRAMME)
}

/// Official records of the traditional (Duluth, CBT) programmes vs no programme: the
/// programmes of the reviews behind findings 1-3 (Wilson, Feder & Olaghere 2021; Eckhardt
/// et al. 2013: 20 traditional studies).
pub fn traditional() -> Scenario {
    official()
        .select(model_is(&["duluth", "cbt"]))
        .named("Duluth and CBT vs no programme, official records")
}

/// Partner reports of the traditional programmes vs no programme, as reported.
pub fn partner() -> Scenario {
    Scenario::source_only(&traditional(), Src::Partner)
        .named("Duluth and CBT vs no programme, partner reports")
}

fn within(base: &Scenario, p: Predicate) -> Scenario {
    let mut s = base.clone();
    s.select = and([base.select.clone(), p]);
    s
}

/// Not flawed (no completer-only analysis).
pub fn sound() -> Predicate {
    Predicate::not(Predicate::flag("flawed"))
}

fn rct() -> Predicate {
    Predicate::equals("design", "rct")
}

fn model_is(models: &[&str]) -> Predicate {
    Predicate::or(models.iter().map(|m| Predicate::equals("model", *m)))
}

fn and(ps: impl IntoIterator<Item = Predicate>) -> Predicate {
    Predicate::and(ps)
}

/// Finding 1: traditional programmes, official and partner reports, RCTs and all sound
/// designs.
pub fn finding1() -> Vec<Scenario> {
    vec![
        within(&traditional(), rct()).named("official records, RCTs"),
        within(&partner(), rct()).named("partner reports, RCTs"),
        within(&traditional(), sound()).named("official records, RCTs and sound quasi-experiments"),
        within(&partner(), sound()).named("partner reports, RCTs and sound quasi-experiments"),
    ]
}

/// Official and partner reports of the sound designs of programme vs no programme as
/// separate subsets, and of the studies that report both (the scenario form of finding 2,
/// used by `examples/official_vs_partner.rs` and the command line; the digest's finding 2
/// is the bivariate model of both sources, [`bivariate`]).
pub fn finding2() -> Vec<Scenario> {
    let base = official().select(sound());
    vec![
        base.clone().named("official records, sound designs"),
        Scenario::source_only(&base, Src::Partner).named("partner reports, sound designs"),
        Scenario::paired(&base, Src::Official, Src::Partner)
            .named("official, sound designs reporting both sources"),
        Scenario::paired(&base, Src::Partner, Src::Official)
            .named("partner, sound designs reporting both sources"),
    ]
}

/// Partner reports of the traditional programmes, RCTs and sound quasi-experiments: the
/// studies of the partner-score table (finding 1's last row).
pub fn partner_sound() -> Scenario {
    within(&partner(), sound()).named("partner reports, RCTs and sound quasi-experiments")
}

/// How a simulated study reports its partner outcome in [`partner_effects`]'s
/// "as reported" pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerForm {
    /// Re-assault reported by the partner, counted in each arm (a 2x2 table: log OR).
    Count,
    /// The CTS-like partner-reported violence score, mean and SD per arm (a standardised
    /// mean difference, converted to the log OR scale).
    Score,
}

/// The reporting assumption of the "as reported" pool: the simulator gives every study
/// with partner reports both the re-assault count and the CTS-like score; real
/// evaluations report one or the other (Feder & Wilson 2005 and Babcock et al. 2004 pool
/// both kinds). Here the studies with an even simulated id report the score and the others
/// the count: an assumption for the illustration (the reviews do not say how many report
/// which), unrelated to the studies' effects.
pub fn reported_form(s: &SimulatedStudy) -> PartnerForm {
    if s.id.is_multiple_of(2) {
        PartnerForm::Score
    } else {
        PartnerForm::Count
    }
}

/// One scenario's partner reports on the log odds ratio scale, each study in the form
/// `form` gives it: a count as metafor's `escalc("OR")` of its 2x2 table (the table the
/// scenario engine uses: drop-outs' observed outcomes), a score as `escalc("SMD")`
/// (Hedges' g, programme minus comparison; higher score = more violence) converted with
/// `ln OR = g pi / sqrt 3`, `v = v_g pi^2 / 3` (Hasselblad & Hedges 1995), through
/// [`MixedEffectSizes::convert_to`]. The table's rows say which were converted and how
/// ([`MixedTable::conversion_text`]). **SIMULATED** data.
pub fn partner_effects(
    sims: &[SimulatedStudy],
    r: &ScenarioResult,
    form: impl Fn(&SimulatedStudy) -> PartnerForm,
) -> Result<MixedTable, MetaError> {
    let mut studies = Vec::with_capacity(r.used.len());
    for u in &r.used {
        let missing = |what: &str| MetaError::Numerical {
            context: format!("{}: {what}", u.study),
        };
        let s = sims
            .iter()
            .find(|s| s.label == u.study)
            .ok_or_else(|| missing("not in the simulated data"))?;
        let study = match form(s) {
            PartnerForm::Count => {
                let t = s
                    .two_by_two(Source::Partner, Handling::ObservedDropouts)
                    .ok_or_else(|| missing("no partner 2x2 table"))?;
                MixedStudy::new(
                    Measure::OR,
                    StudyData::TwoByTwo(TwoByTwo::new(
                        f64::from(t.ai),
                        f64::from(t.bi),
                        f64::from(t.ci),
                        f64::from(t.di),
                    )),
                )
            }
            PartnerForm::Score => {
                let p = s.programme.partner_score;
                let c = s.comparison.as_ref().and_then(|c| c.partner_score);
                let (Some(p), Some(c)) = (p, c) else {
                    return Err(missing("no partner score in both arms"));
                };
                MixedStudy::new(
                    Measure::SMD,
                    StudyData::Means(TwoGroupMeans::new(
                        p.mean,
                        p.sd,
                        f64::from(p.n),
                        c.mean,
                        c.sd,
                        f64::from(c.n),
                    )),
                )
            }
        };
        studies.push(study);
    }
    MixedEffectSizes::new(&studies)
        .convert_to(EffectScale::LogOddsRatio)
        .labels(r.used.iter().map(|u| u.study.clone()))
        .compute()
}

/// The scenarios' model (REML, z, 95%) on a partner-effect table.
pub fn pool(table: &MixedTable) -> Result<MetaFit, MetaError> {
    model().fit(&table.clone().into_studies()?)
}

/// The partner-score comparison of finding 1, on one simulated data set: partner reports
/// as counts (every study), as converted scores (every study), and as the studies report
/// them ([`reported_form`]). **SIMULATED** data.
#[derive(Debug, Clone)]
pub struct PartnerScores {
    /// The scenario ([`partner_sound`]).
    pub scenario: ScenarioResult,
    /// Every study as a count.
    pub counts: MixedTable,
    /// Every study as a converted score.
    pub scores: MixedTable,
    /// Each study as it reports it.
    pub reported: MixedTable,
}

impl PartnerScores {
    /// The three pools, in the order counts, scores, as reported.
    pub fn fits(&self) -> Result<[MetaFit; 3], MetaError> {
        Ok([
            pool(&self.counts)?,
            pool(&self.scores)?,
            pool(&self.reported)?,
        ])
    }
}

/// [`PartnerScores`] of `data`.
pub fn partner_scores(
    sims: &[SimulatedStudy],
    data: &ScenarioData,
) -> Result<PartnerScores, MetaError> {
    let scenario = run(data, &[partner_sound()])?.remove(0);
    Ok(PartnerScores {
        counts: partner_effects(sims, &scenario, |_| PartnerForm::Count)?,
        scores: partner_effects(sims, &scenario, |_| PartnerForm::Score)?,
        reported: partner_effects(sims, &scenario, reported_form)?,
        scenario,
    })
}

/// Finding 2's studies: programme vs no programme, sound designs, the studies that report
/// both official records and partner reports; the base of the bivariate model.
pub fn both_sources() -> Scenario {
    official()
        .select(sound())
        .named("sound designs reporting both sources")
}

/// Finding 2's data for the bivariate model: two rows per study (official, partner), in
/// study order, clustered by study, with the attribute `source`. The log odds ratios are
/// the scenario engine's ([`Scenario::paired`]); **SIMULATED** data.
pub fn bivariate_studies(data: &ScenarioData) -> Result<Studies, MetaError> {
    let base = both_sources();
    let r = run(
        data,
        &[
            Scenario::paired(&base, Src::Official, Src::Partner),
            Scenario::paired(&base, Src::Partner, Src::Official),
        ],
    )?;
    let (off, par) = (&r[0], &r[1]);
    if off.used.len() != par.used.len()
        || off
            .used
            .iter()
            .zip(&par.used)
            .any(|(a, b)| a.study != b.study)
    {
        return Err(MetaError::Numerical {
            context: "finding 2: the official and partner rows are not the same studies".into(),
        });
    }
    let mut yi = Vec::new();
    let mut vi = Vec::new();
    let mut study = Vec::new();
    let mut source = Vec::new();
    for (a, b) in off.used.iter().zip(&par.used) {
        for (u, src) in [(a, "official"), (b, "partner")] {
            yi.push(u.yi);
            vi.push(u.vi);
            study.push(u.study.clone());
            source.push(src);
        }
    }
    let labels: Vec<String> = study
        .iter()
        .zip(&source)
        .map(|(s, src)| format!("{s}: {src}"))
        .collect();
    Studies::from_variances(yi, vi)?
        .with_labels(labels)?
        .with_clusters(&study)?
        .with_attribute("source", source)
}

/// Finding 2's stated within-study sampling correlation of the official and partner log
/// odds ratios of a study (the same men, followed by two sources). An assumption: the
/// simulator couples the two sources' outcomes of half the men (`source_coupling` 0.5), and
/// no review reports the correlation; [`RHO_SWEEP`] shows what changes with it.
pub const RHO: f64 = 0.5;

/// The sampling correlations of finding 2's sweep.
pub const RHO_SWEEP: [f64; 7] = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];

/// The working model of finding 2's bivariate analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Working {
    /// Correlated and hierarchical effects (Pustejovsky & Tipton 2022): a three-level model
    /// (`~ 1 | study/effect`) with the sampling correlation `rho`, a mean per source.
    Che,
    /// Multivariate with an unstructured between-study covariance (`~ source | study`,
    /// `struct = "UN"`: a tau^2 per source and their correlation) and the sampling
    /// correlation `rho`.
    Un,
}

impl Working {
    /// `CHE` or `UN`.
    pub fn name(self) -> &'static str {
        match self {
            Working::Che => "CHE",
            Working::Un => "UN",
        }
    }
}

/// One bivariate fit of finding 2: the official and partner means of the same studies and
/// the official-minus-partner contrast with CR2 cluster-robust inference (clubSandwich's
/// `coef_test(vcov = "CR2")`, Satterthwaite df; for UN its `Wald_test(test = "HTZ")`, the
/// same test for one constraint). **SIMULATED** data.
#[derive(Debug, Clone)]
pub struct Bivariate {
    /// The working model.
    pub working: Working,
    /// The sampling correlation assumed.
    pub rho: f64,
    /// Studies (clusters), each with an official and a partner log OR.
    pub studies: usize,
    /// The official-records mean (model-based inference).
    pub official: Coefficient,
    /// The partner-report mean (model-based inference).
    pub partner: Coefficient,
    /// Official minus partner: estimate, CR2 SE, t, Satterthwaite df, p (and for CHE its
    /// CR2 interval; for UN the interval is left NaN).
    pub contrast: Coefficient,
    /// The variance components: CHE `(sigma^2 between, sigma^2 within)`; UN
    /// `(tau^2 official, tau^2 partner, rho between)`.
    pub components: Vec<f64>,
    /// REML log-likelihood.
    pub loglik: f64,
    /// Whether the optimiser converged.
    pub converged: bool,
}

/// Finding 2's bivariate model on `studies` ([`bivariate_studies`]).
pub fn bivariate(studies: &Studies, working: Working, rho: f64) -> Result<Bivariate, MetaError> {
    bivariate_at(studies, working, rho, None)
}

/// [`bivariate`] with the variance components fixed at `components` (in the order of
/// [`Bivariate::components`]) instead of estimated: for comparisons with another program
/// at its components.
pub fn bivariate_at(
    studies: &Studies,
    working: Working,
    rho: f64,
    components: Option<&[f64]>,
) -> Result<Bivariate, MetaError> {
    let spec = |m: MvModel| match components {
        Some(c) => m.fixed_components(c.to_vec()),
        None => m,
    };
    let missing = |what: &str| MetaError::Numerical {
        context: format!("finding 2 ({}): {what}", working.name()),
    };
    let clusters = studies.clusters().map_or(0, |c| c.len());
    match working {
        Working::Che => {
            let means = spec(
                MvModel::new()
                    .rho(rho)
                    .categorical("source")
                    .intercept(false),
            )
            .fit(studies)?;
            let diff = spec(
                MvModel::new()
                    .rho(rho)
                    .categorical("source")
                    .reference("source", "partner"),
            )
            .fit(studies)?;
            let cr2 = diff.robust(RobustKind::CR2)?;
            let c = means.coefficients();
            Ok(Bivariate {
                working,
                rho,
                studies: clusters,
                official: c
                    .first()
                    .cloned()
                    .ok_or_else(|| missing("no official mean"))?,
                partner: c
                    .get(1)
                    .cloned()
                    .ok_or_else(|| missing("no partner mean"))?,
                contrast: cr2
                    .coefficients()
                    .get(1)
                    .cloned()
                    .ok_or_else(|| missing("no contrast"))?,
                components: diff.sigma2().to_vec(),
                loglik: diff.loglik(),
                converged: means.converged() && diff.converged(),
            })
        }
        Working::Un => {
            let fit =
                spec(MvModel::new().rho(rho).outcome("source", Structure::UN)).fit(studies)?;
            let cr2 = fit.robust(RobustKind::CR2)?;
            let w = cr2.wald_test(&[vec![1.0, -1.0]])?;
            let c = fit.coefficients();
            let v = cr2.vcov();
            let (official, partner) = (
                c.first()
                    .cloned()
                    .ok_or_else(|| missing("no official mean"))?,
                c.get(1)
                    .cloned()
                    .ok_or_else(|| missing("no partner mean"))?,
            );
            let estimate = official.estimate - partner.estimate;
            let se = (v[0][0] + v[1][1] - 2.0 * v[0][1]).sqrt();
            let mut components = fit.tau2().to_vec();
            components.extend_from_slice(fit.rho());
            Ok(Bivariate {
                working,
                rho,
                studies: clusters,
                official,
                partner,
                contrast: Coefficient {
                    name: "official - partner".into(),
                    estimate,
                    se,
                    statistic: estimate / se,
                    df: w.df_denom,
                    p_value: w.p_value.unwrap_or(f64::NAN),
                    ci_lower: f64::NAN,
                    ci_upper: f64::NAN,
                },
                components,
                loglik: fit.loglik(),
                converged: fit.converged(),
            })
        }
    }
}

/// Finding 3: the traditional programmes' designs: all, without the flawed studies, RCTs
/// only, the flawed studies only.
pub fn finding3() -> Vec<Scenario> {
    vec![
        traditional().named("all designs (RCTs, quasi-experiments, completer-only analyses)"),
        Scenario::drop_flagged(&traditional(), "flawed")
            .named("flawed studies dropped (completer-only analyses)"),
        within(&traditional(), rct()).named("RCTs only"),
        within(&traditional(), Predicate::flag("flawed")).named("flawed studies only"),
    ]
}

/// Finding 4: the sound designs as reported, completers only, informative drop-out, and
/// the pessimistic bound.
pub fn finding4() -> Vec<Scenario> {
    let base = official().select(sound());
    let imor = |t: f64| {
        base.clone()
            .missing(MissingRule::Imor {
                treatment: t,
                control: 1.0,
            })
            .named(format!(
                "drop-outs {t} times the completers' odds of re-offending (IMOR {t})"
            ))
    };
    vec![
        base.clone()
            .named("as reported (drop-outs' observed outcomes where followed up)"),
        base.clone()
            .missing(MissingRule::AvailableCase)
            .named("completers only (available case)"),
        imor(2.0),
        imor(3.0),
        base.clone()
            .missing(MissingRule::DropoutsAsEvents)
            .named("every drop-out counted as a re-offender (pessimistic bound)"),
    ]
}

/// Finding 4, the other comparison: completers vs drop-outs of the same programmes.
pub fn finding4_dropouts() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "completers vs drop-outs, official records, else partner, else self (NOT a programme effect)",
        )
        .sources([Src::Official, Src::Partner, Src::SelfReport])
        .comparison(DROPOUTS),
    ]
}

/// Finding 5: Duluth and CBT, sound designs, and both together (for their difference).
pub fn finding5() -> Vec<Scenario> {
    let s = |m: &[&str], name: &str| official().select(and([sound(), model_is(m)])).named(name);
    vec![
        s(&["duluth"], "Duluth, sound designs"),
        s(&["cbt"], "CBT, sound designs"),
        s(&["duluth", "cbt"], "Duluth and CBT, sound designs"),
    ]
}

const INTEGRATED: [&str; 3] = [
    "integrated_substance_use",
    "integrated_trauma",
    "integrated_motivation",
];

/// Finding 6: traditional vs integrated programmes, and standard vs tailored ones.
pub fn finding6() -> Vec<Scenario> {
    let s = |p: Predicate, name: &str| official().select(and([sound(), p])).named(name);
    let tailored = Predicate::flag("tailored");
    vec![
        s(model_is(&["duluth", "cbt"]), "traditional (Duluth, CBT)"),
        s(
            model_is(&INTEGRATED),
            "integrated (substance use, trauma, motivation)",
        ),
        s(model_is(&INTEGRATED[..1]), "  integrated: substance use"),
        s(model_is(&INTEGRATED[1..2]), "  integrated: trauma"),
        s(model_is(&INTEGRATED[2..]), "  integrated: motivation"),
        s(
            Predicate::not(tailored.clone()),
            "standard (manual-based) programmes",
        ),
        s(tailored, "tailored programmes"),
    ]
}

/// Finding 7: couples therapy vs a standard programme.
pub fn finding7() -> Vec<Scenario> {
    let c = Scenario::new("x")
        .missing(MissingRule::ObservedDropouts)
        .comparison(COUPLES);
    vec![
        c.clone()
            .sources([Src::Partner, Src::Official, Src::SelfReport])
            .named("couples vs standard programme: partner reports, else official, else self"),
        c.clone()
            .sources([Src::Official])
            .named("couples vs standard programme: official records"),
        c.sources([Src::Partner])
            .named("couples vs standard programme: partner reports"),
    ]
}

/// Finding 8: programme vs no programme by income group.
pub fn finding8() -> Vec<Scenario> {
    vec![
        official()
            .select(Predicate::equals("income", "high"))
            .named("high income"),
        official()
            .select(Predicate::not(Predicate::equals("income", "high")))
            .named("middle or low income"),
    ]
}

/// The Duluth studies.
pub fn is_duluth(s: &ScenarioStudy) -> bool {
    s.attribute("model")
        .is_some_and(|m| m.to_string() == "duluth")
}

/// Finding 6, for the differences: every programme vs no programme, sound designs.
pub fn finding6_all() -> Vec<Scenario> {
    vec![
        official()
            .select(sound())
            .named("all programmes, sound designs"),
    ]
}

/// `|ln OR|` as Cohen's d.
pub fn as_d(log_or: f64) -> f64 {
    log_or.abs() / D_TO_LOG_OR
}

fn significant(r: &ScenarioResult) -> bool {
    r.p_value < 0.05
}

/// Duluth minus CBT: a meta-regression on a Duluth indicator (common tau^2).
#[derive(Debug, Clone, Copy)]
pub struct Difference {
    /// Studies (Duluth, CBT).
    pub k: (usize, usize),
    /// Difference of the log ORs, Duluth minus CBT.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// 95% CI.
    pub ci95: (f64, f64),
    /// Two-sided p-value (no difference).
    pub p: f64,
    /// 90% CI: within the equivalence bounds means equivalence at alpha = .05 (TOST).
    pub ci90: (f64, f64),
    /// The two one-sided tests' p-value against the bounds (the larger of the two).
    pub tost_p: f64,
    /// Equivalence bound on the log-OR scale, `EQUIVALENCE_D * pi / sqrt 3`.
    pub bound: f64,
}

impl Difference {
    /// Equivalence shown at alpha = .05 (TOST).
    pub fn equivalent(&self) -> bool {
        self.tost_p < 0.05
    }
}

/// The difference between the studies for which `is_a` holds and the others, among a
/// scenario's studies (meta-regression on an indicator of `is_a`, the scenarios' model),
/// with a 90% CI and the two one-sided tests against +-[`EQUIVALENCE_D`] (Lakens 2017).
/// Each one-sided p-value comes from the same regression with the `is_a` studies shifted by
/// the bound (which moves the coefficient by the bound and leaves tau^2 and the SE as they
/// are).
pub fn difference(
    data: &ScenarioData,
    r: &ScenarioResult,
    is_a: impl Fn(&ScenarioStudy) -> bool,
) -> Result<Difference, MetaError> {
    let a = "group";
    let is_a: Vec<f64> = r
        .used
        .iter()
        .map(|u| {
            let yes = data
                .studies()
                .iter()
                .find(|s| s.label() == u.study)
                .is_some_and(&is_a);
            if yes { 1.0 } else { 0.0 }
        })
        .collect();
    let na = is_a.iter().filter(|&&x| x == 1.0).count();
    let bound = EQUIVALENCE_D * D_TO_LOG_OR;
    let fit = |shift: f64, level: f64| {
        let yi: Vec<f64> = r
            .used
            .iter()
            .zip(&is_a)
            .map(|(u, x)| u.yi + shift * x)
            .collect();
        let vi: Vec<f64> = r.used.iter().map(|u| u.vi).collect();
        let studies = Studies::from_variances(yi, vi)?.with_moderator(a, is_a.clone())?;
        let f = MetaRegression::from_analysis(model().level(level))
            .moderator(a)
            .fit(&studies)?;
        f.coefficients()
            .get(1)
            .cloned()
            .ok_or(MetaError::Numerical {
                context: "difference: no coefficient".into(),
            })
    };
    let c95 = fit(0.0, 95.0)?;
    let c90 = fit(0.0, 90.0)?;
    // H0: difference <= -bound, rejected for large (difference + bound) / se
    let lo = fit(bound, 95.0)?;
    let p_lo = if lo.statistic > 0.0 {
        lo.p_value / 2.0
    } else {
        1.0 - lo.p_value / 2.0
    };
    // H0: difference >= bound, rejected for small (difference - bound) / se
    let hi = fit(-bound, 95.0)?;
    let p_hi = if hi.statistic < 0.0 {
        hi.p_value / 2.0
    } else {
        1.0 - hi.p_value / 2.0
    };
    Ok(Difference {
        k: (na, r.used.len() - na),
        estimate: c95.estimate,
        se: c95.se,
        ci95: (c95.ci_lower, c95.ci_upper),
        p: c95.p_value,
        ci90: (c90.ci_lower, c90.ci_upper),
        tost_p: p_lo.max(p_hi),
        bound,
    })
}

/// One finding's pattern on one data set: whether it holds, and its parts.
#[derive(Debug, Clone)]
pub struct Check {
    /// The finding (1-8).
    pub finding: usize,
    /// Every part holds.
    pub holds: bool,
    /// The parts: what, and whether it holds.
    pub parts: Vec<(&'static str, bool)>,
}

fn check(finding: usize, parts: Vec<(&'static str, bool)>) -> Check {
    Check {
        finding,
        holds: parts.iter().all(|p| p.1),
        parts,
    }
}

fn est(r: &ScenarioResult) -> f64 {
    if r.error.is_some() {
        f64::NAN
    } else {
        r.estimate
    }
}

/// The eight findings' patterns on one simulated data set (see the module docs), plus the
/// equivalence of Duluth and CBT (reported, not part of finding 5's pattern) and whether
/// finding 2's CR2 test of official minus partner is significant at .05 (rho 0.5;
/// reported, not part of the pattern).
pub fn patterns(
    sims: &[SimulatedStudy],
    data: &ScenarioData,
) -> Result<(Vec<Check>, Difference, bool), MetaError> {
    let mut out = Vec::new();

    let r = run(data, &finding1())?;
    let small = r.iter().all(|x| as_d(est(x)) < SMALL_AT_BEST_D);
    let ns = r.iter().filter(|x| !significant(x)).count();
    let reported = partner_scores(sims, data)
        .and_then(|p| pool(&p.reported))
        .map_or(f64::NAN, |f| f.estimate());
    out.push(check(
        1,
        vec![
            ("every row small at best (|d| < 0.35)", small),
            (
                "at least half of the rows not significant",
                2 * ns >= r.len(),
            ),
            (
                "partner reports as reported (counts and converted CTS-like scores): small at best",
                as_d(reported) < SMALL_AT_BEST_D,
            ),
        ],
    ));

    let f2 = bivariate_studies(data).and_then(|s| {
        let main = bivariate(&s, Working::Che, RHO)?;
        let sweep: Result<Vec<Bivariate>, MetaError> = RHO_SWEEP
            .iter()
            .map(|&rho| bivariate(&s, Working::Che, rho))
            .collect();
        Ok((main, sweep?))
    });
    let (closer, stable, significant) = match &f2 {
        Ok((m, sweep)) => (
            m.partner.estimate.abs() < m.official.estimate.abs(),
            sweep.iter().all(|b| {
                b.contrast.estimate.signum() == m.contrast.estimate.signum()
                    && (b.partner.estimate.abs() < b.official.estimate.abs())
                        == (m.partner.estimate.abs() < m.official.estimate.abs())
            }),
            m.contrast.p_value < 0.05,
        ),
        Err(_) => (false, false, false),
    };
    out.push(check(
        2,
        vec![
            (
                "bivariate model (CHE, rho 0.5): partner reports closer to no effect than official records, same studies",
                closer,
            ),
            (
                "the same direction at every rho from 0.2 to 0.8",
                stable,
            ),
        ],
    ));

    let r = run(data, &finding3())?;
    let (all, dropped, rcts) = (est(&r[0]), est(&r[1]), est(&r[2]));
    out.push(check(
        3,
        vec![
            (
                "flawed studies dropped: closer to no effect",
                dropped.abs() < all.abs(),
            ),
            (
                "RCTs only: closer to no effect than all designs",
                rcts.abs() < all.abs(),
            ),
        ],
    ));

    let r = run(data, &finding4())?;
    let d = run(data, &finding4_dropouts())?;
    out.push(check(
        4,
        vec![
            (
                "completers only look better than as reported",
                est(&r[1]) < est(&r[0]),
            ),
            (
                "drop-outs re-offend more than completers (significant)",
                d[0].error.is_none() && d[0].ci_upper < 0.0,
            ),
        ],
    ));

    let r = run(data, &finding5())?;
    let diff = difference(data, &r[2], is_duluth)?;
    out.push(check(
        5,
        vec![("Duluth and CBT not significantly different", diff.p >= 0.05)],
    ));

    let r = run(data, &finding6())?;
    out.push(check(
        6,
        vec![
            (
                "integrated better than traditional",
                est(&r[1]) < est(&r[0]),
            ),
            ("tailored better than standard", est(&r[6]) < est(&r[5])),
        ],
    ));

    let r = run(data, &finding7())?;
    let c = &r[0];
    let dc = as_d(est(c));
    out.push(check(
        7,
        vec![
            ("six studies", c.k == 6),
            ("significant benefit", c.error.is_none() && c.ci_upper < 0.0),
            (
                "moderate (0.35 <= |d| < 0.65)",
                est(c) < 0.0 && (MODERATE_D.0..MODERATE_D.1).contains(&dc),
            ),
        ],
    ));

    let outside: Vec<&SimulatedStudy> = sims
        .iter()
        .filter(|s| s.income != IncomeGroup::High)
        .collect();
    let r = run(data, &finding8())?;
    out.push(check(
        8,
        vec![
            (
                "no study outside high-income countries has a comparison group",
                outside.iter().all(|s| s.comparison.is_none()),
            ),
            ("so no programme effect is pooled for them", r[1].k == 0),
            ("few: at most 7 of the studies", outside.len() <= 7),
            (
                "none from a humanitarian setting (the simulator has none)",
                true,
            ),
        ],
    ));
    Ok((out, diff, significant))
}

/// Across seeds: for each finding, the share of seeds in which its pattern holds, the share
/// of each part, and the share of seeds in which Duluth and CBT are shown equivalent.
#[derive(Debug, Clone)]
pub struct Rates {
    /// Seeds run.
    pub seeds: usize,
    /// Per finding: (share holding, per part (what, share)).
    pub findings: Vec<(f64, Vec<(&'static str, f64)>)>,
    /// Share of seeds with Duluth and CBT equivalent (TOST, +-d 0.2).
    pub equivalent: f64,
    /// Share of seeds in which all eight patterns hold together.
    pub all: f64,
    /// Share of seeds in which finding 2's CR2 test of official minus partner (CHE, rho
    /// 0.5) is significant at .05.
    pub contrast_significant: f64,
}

/// [`patterns`] on the data sets of `seeds` (default assumptions).
pub fn rates(seeds: impl IntoIterator<Item = u64>) -> Result<Rates, MetaError> {
    let mut n = 0usize;
    let mut holds = [0usize; 8];
    let mut parts: Vec<Vec<(&'static str, usize)>> = vec![Vec::new(); 8];
    let mut equivalent = 0usize;
    let mut contrast_significant = 0usize;
    let mut all = 0usize;
    for seed in seeds {
        let (sims, data) = simulated(seed)?;
        let (checks, diff, significant) = patterns(&sims, &data)?;
        n += 1;
        equivalent += usize::from(diff.equivalent());
        contrast_significant += usize::from(significant);
        all += usize::from(checks.iter().all(|c| c.holds));
        for (i, c) in checks.iter().enumerate() {
            holds[i] += usize::from(c.holds);
            if parts[i].is_empty() {
                parts[i] = c.parts.iter().map(|p| (p.0, 0)).collect();
            }
            for (slot, p) in parts[i].iter_mut().zip(&c.parts) {
                slot.1 += usize::from(p.1);
            }
        }
    }
    let share = |x: usize| x as f64 / n as f64;
    Ok(Rates {
        seeds: n,
        findings: (0..8)
            .map(|i| {
                (
                    share(holds[i]),
                    parts[i].iter().map(|&(w, c)| (w, share(c))).collect(),
                )
            })
            .collect(),
        equivalent: share(equivalent),
        all: share(all),
        contrast_significant: share(contrast_significant),
    })
}
