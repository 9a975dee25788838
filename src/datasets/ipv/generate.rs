//! The generating model of the IPV simulator (documented in the module docs of
//! [`super`]).

use super::assumptions::{Assumptions, Country, D_TO_LOG_OR};
use super::record::{
    Arm, ArmOutcome, Comparison, ContinuousOutcome, Design, Integration, ProgrammeModel, Region,
    SimulatedStudy, Source,
};
use super::rng::{Draws, expit, logit};
use crate::error::{MetaError, Result};

/// One planned evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Planned {
    /// The programme model; `None`: Duluth or CBT, drawn with the study.
    model: Option<ProgrammeModel>,
    comparison: Comparison,
    design: Design,
    completer_only: bool,
    tailored: bool,
    latin_america: bool,
}

/// `round(share * n)`, at most `n`.
fn allocate(n: usize, share: f64) -> usize {
    ((share * n as f64).round() as usize).min(n)
}

/// The designs of one group of `n` evaluations with a comparison group: exactly
/// `round(rct * n)` RCTs and `round(flawed * n)` (at most the rest) completer-only
/// quasi-experiments, the others quasi-experiments, in random order.
fn designs(d: &mut Draws, n: usize, rct: f64, flawed: f64) -> Vec<(Design, bool)> {
    let r = allocate(n, rct);
    let f = allocate(n, flawed).min(n - r);
    let mut v: Vec<(Design, bool)> = std::iter::repeat_n((Design::Rct, false), r)
        .chain(std::iter::repeat_n((Design::QuasiExperimental, true), f))
        .chain(std::iter::repeat_n(
            (Design::QuasiExperimental, false),
            n - r - f,
        ))
        .collect();
    d.shuffle(&mut v);
    v
}

/// The evaluations, in order: Duluth, CBT, integrated (substance use, trauma, motivation)
/// against no programme; couples therapy against a standard programme; completers against
/// drop-outs; single groups; the Latin American provider studies. Designs, completer-only
/// analyses and tailoring are allocated exactly (see [`Assumptions::rct_share`]) and placed
/// at random with the plan's own stream.
fn plan(a: &Assumptions, seed: u64) -> Vec<Planned> {
    let mut d = Draws::for_plan(seed);
    let traditional = [
        (ProgrammeModel::Duluth, a.studies_duluth),
        (ProgrammeModel::Cbt, a.studies_cbt),
    ];
    let alternative = [
        (
            ProgrammeModel::Integrated(Integration::SubstanceUse),
            a.studies_substance_use,
        ),
        (
            ProgrammeModel::Integrated(Integration::Trauma),
            a.studies_trauma,
        ),
        (
            ProgrammeModel::Integrated(Integration::Motivation),
            a.studies_motivation,
        ),
    ];
    let models = |groups: &[(ProgrammeModel, usize)]| -> Vec<ProgrammeModel> {
        groups
            .iter()
            .flat_map(|&(m, n)| std::iter::repeat_n(m, n))
            .collect()
    };
    let trad = models(&traditional);
    let alt = models(&alternative);
    let trad_designs = designs(&mut d, trad.len(), a.rct_share, a.completer_only_share);
    let alt_designs = designs(&mut d, alt.len(), a.rct_share, a.completer_only_share);
    let couples_designs = designs(&mut d, a.studies_couples, a.rct_share, 0.0);
    let controlled = trad.len() + alt.len();
    let n_tailored = allocate(controlled, a.tailored_share);
    let mut tailored: Vec<bool> = std::iter::repeat_n(true, n_tailored)
        .chain(std::iter::repeat_n(false, controlled - n_tailored))
        .collect();
    d.shuffle(&mut tailored);

    let mut plan = Vec::with_capacity(a.total_studies());
    let programme_designs = trad_designs.into_iter().chain(alt_designs);
    for ((model, (design, completer_only)), tailored) in trad
        .into_iter()
        .chain(alt)
        .zip(programme_designs)
        .zip(tailored)
    {
        plan.push(Planned {
            model: Some(model),
            comparison: Comparison::ProgrammeVsNoProgramme,
            design,
            completer_only,
            tailored,
            latin_america: false,
        });
    }
    for (design, _) in couples_designs {
        plan.push(Planned {
            model: Some(ProgrammeModel::CouplesTherapy),
            comparison: Comparison::CouplesVsStandardProgramme,
            design,
            completer_only: false,
            tailored: false,
            latin_america: false,
        });
    }
    let uncontrolled = |comparison, design, latin_america| Planned {
        model: None,
        comparison,
        design,
        completer_only: false,
        tailored: false,
        latin_america,
    };
    plan.extend(std::iter::repeat_n(
        uncontrolled(
            Comparison::CompletersVsDropouts,
            Design::CompleterVsDropout,
            false,
        ),
        a.studies_completers_vs_dropouts,
    ));
    plan.extend(std::iter::repeat_n(
        uncontrolled(Comparison::NoComparisonGroup, Design::SingleGroup, false),
        a.studies_single_group,
    ));
    plan.extend(std::iter::repeat_n(
        uncontrolled(Comparison::NoComparisonGroup, Design::SingleGroup, true),
        a.studies_latin_america,
    ));
    plan
}

/// The completers' log odds `x` such that an arm with drop-out probability `d` and drop-outs
/// at log odds `x + l` re-offends at `expit(lambda)` on average:
/// `(1 - d) expit(x) + d expit(x + l) = expit(lambda)`, by bisection with a fixed number of
/// steps (deterministic).
fn completer_logit(lambda: f64, d: f64, l: f64) -> f64 {
    if d <= 0.0 || l == 0.0 {
        return lambda;
    }
    let target = expit(lambda);
    let (mut lo, mut hi) = if l > 0.0 {
        (lambda - l, lambda)
    } else {
        (lambda, lambda - l)
    };
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        let g = (1.0 - d) * expit(mid) + d * expit(mid + l);
        if g < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn arm_size(a: &Assumptions, z: f64) -> u32 {
    let x = libm::exp(libm::log(a.arm_size_median) + a.arm_size_sdlog * z).round();
    clamp_size(x, a)
}

fn clamp_size(x: f64, a: &Assumptions) -> u32 {
    let (lo, hi) = a.arm_size_range;
    if x.is_nan() || x < f64::from(lo) {
        lo
    } else if x > f64::from(hi) {
        hi
    } else {
        x as u32
    }
}

struct ArmPlan {
    n: u32,
    dropout_rate: f64,
    /// log odds of actual violence, before source offsets
    lp: f64,
    /// receives a programme (so the source biases apply)
    treated: bool,
    /// mean of the partner-reported score
    score_mean: f64,
}

/// What one arm's men did: drop-outs, and per source the re-offending completers and
/// drop-outs; and the partner-reported score.
struct ArmDraw {
    dropouts: u32,
    completer_events: [u32; 3],
    dropout_events: [u32; 3],
    score: ContinuousOutcome,
}

/// Draws every man of an arm: drop-out, one uniform shared by his sources and, per source,
/// a coupling draw and an own uniform (the record uses the shared one with probability
/// `source_coupling`), then his partner-reported score. Every draw is made whatever is
/// measured, so that one part of the model does not shift the draws of another.
fn draw_arm(d: &mut Draws, a: &Assumptions, arm: &ArmPlan) -> ArmDraw {
    let mut p = [[0.0; 3]; 2];
    for (s, source) in Source::ALL.into_iter().enumerate() {
        let (offset, bias) = match source {
            Source::Official => (a.official_offset, a.official_bias),
            Source::Partner => (0.0, 0.0),
            Source::SelfReport => (a.self_report_offset, a.self_report_bias),
        };
        let lambda = arm.lp + offset + if arm.treated { bias } else { 0.0 };
        let x = completer_logit(lambda, arm.dropout_rate, a.dropout_log_or);
        p[0][s] = expit(x);
        p[1][s] = expit(x + a.dropout_log_or);
    }
    let mut out = ArmDraw {
        dropouts: 0,
        completer_events: [0; 3],
        dropout_events: [0; 3],
        score: ContinuousOutcome {
            mean: f64::NAN,
            sd: f64::NAN,
            n: arm.n,
        },
    };
    let mut scores = Vec::with_capacity(arm.n as usize);
    for _ in 0..arm.n {
        let dropout = d.bernoulli(arm.dropout_rate);
        out.dropouts += u32::from(dropout);
        let shared = d.uniform();
        let events = if dropout {
            &mut out.dropout_events
        } else {
            &mut out.completer_events
        };
        for (count, &prob) in events.iter_mut().zip(&p[usize::from(dropout)]) {
            let coupled = d.uniform() < a.source_coupling;
            let own = d.uniform();
            let u = if coupled { shared } else { own };
            *count += u32::from(u < prob);
        }
        scores.push(arm.score_mean + a.partner_score_sd * d.normal());
    }
    let n = f64::from(arm.n);
    let mean = scores.iter().sum::<f64>() / n;
    let ss: f64 = scores.iter().map(|x| (x - mean) * (x - mean)).sum();
    out.score.mean = mean;
    out.score.sd = if arm.n > 1 {
        (ss / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    out
}

/// Simulates the evaluations.
pub(crate) fn simulate(a: &Assumptions, seed: u64) -> Result<Vec<SimulatedStudy>> {
    a.validate()?;
    let plan = plan(a, seed);
    let mut out = Vec::with_capacity(plan.len());
    let mut lac_seen = 0usize;
    for (index, p) in plan.iter().enumerate() {
        let mut d = Draws::for_study(seed, index);
        let (y0, y1) = a.years;
        let year = y0 + d.index((y1 - y0) as usize + 1) as u32;

        // country
        let country: &Country = if p.latin_america {
            let list = &a.latin_america_countries;
            let c = list.get(lac_seen % list.len().max(1));
            lac_seen += 1;
            c
        } else {
            let w: Vec<f64> = a.high_income_countries.iter().map(|c| c.weight).collect();
            a.high_income_countries.get(d.weighted(&w))
        }
        .ok_or_else(|| MetaError::Numerical {
            context: "IPV simulator: empty country list".into(),
        })?;
        let u_model = d.uniform();
        let model = p.model.unwrap_or(if u_model < a.uncontrolled_p_cbt {
            ProgrammeModel::Cbt
        } else {
            ProgrammeModel::Duluth
        });
        let design = p.design;
        let follow_up = a.follow_up_months[d.index(a.follow_up_months.len())];

        // base rate of actual violence without a programme, over the follow-up
        let sd = if p.latin_america {
            a.base_rate_sd_latin_america
        } else {
            a.base_rate_sd
        };
        let base = logit(a.base_rate_12m)
            + sd * d.normal()
            + a.follow_up_log_slope * libm::log(f64::from(follow_up) / 12.0);
        let p_t = expit(base);

        // true effect
        let mu = match model {
            ProgrammeModel::Duluth => a.effect_duluth,
            ProgrammeModel::Cbt => a.effect_cbt,
            ProgrammeModel::Integrated(Integration::SubstanceUse) => a.effect_substance_use,
            ProgrammeModel::Integrated(Integration::Trauma) => a.effect_trauma,
            ProgrammeModel::Integrated(Integration::Motivation) => a.effect_motivation,
            ProgrammeModel::CouplesTherapy => a.effect_couples,
        } + if p.tailored { a.effect_tailored } else { 0.0 };
        let theta = mu + a.tau * d.normal();

        // which sources the study measures
        let u_off = d.uniform();
        let u_par = d.uniform();
        let u_self = d.uniform();
        let p_partner = if design == Design::Rct {
            a.p_partner_rct
        } else {
            a.p_partner_other
        };
        let p_self = if country.region == Region::Europe {
            a.p_self_report_europe
        } else {
            a.p_self_report
        };
        let mut measured = [u_off < a.p_official, u_par < p_partner, u_self < p_self];
        if !measured.iter().any(|&m| m) {
            measured[0] = true;
        }

        // arms
        let couples = model == ProgrammeModel::CouplesTherapy;
        let standard = if couples {
            0.5 * (a.effect_duluth + a.effect_cbt)
        } else {
            0.0
        };
        let (lo, hi) = country.dropout_range;
        let z_np = d.normal();
        let u_dp = d.uniform();
        let z_nc = d.normal();
        let u_ratio = d.uniform();
        let u_dc = d.uniform();
        let n_p = arm_size(a, z_np);
        let mut dp = lo + (hi - lo) * u_dp;
        if model == ProgrammeModel::Integrated(Integration::Motivation) && dp < 1.0 {
            let odds = dp / (1.0 - dp) * a.motivation_dropout_odds_ratio;
            dp = odds / (1.0 + odds);
        }
        let qe_bias = if design == Design::QuasiExperimental {
            a.quasi_experimental_bias
        } else {
            0.0
        };
        // the programme arm's difference in actual violence from the comparison, as a
        // standardised mean difference of the partner-reported score
        let smd = (theta + qe_bias) / D_TO_LOG_OR;
        let prog = ArmPlan {
            n: n_p,
            dropout_rate: dp,
            lp: base + standard + theta + qe_bias,
            treated: true,
            score_mean: a.partner_score_mean + smd * a.partner_score_sd,
        };
        let comp = ArmPlan {
            n: match design {
                Design::Rct => clamp_size((f64::from(n_p) * (0.85 + 0.3 * u_ratio)).round(), a),
                _ => arm_size(a, z_nc),
            },
            dropout_rate: if couples { lo + (hi - lo) * u_dc } else { 0.0 },
            lp: base + standard,
            treated: couples,
            score_mean: a.partner_score_mean,
        };
        let has_comparison = matches!(design, Design::Rct | Design::QuasiExperimental);
        let completer_only = p.completer_only;
        let make_arm = |d: &mut Draws, arm: &ArmPlan| {
            let draw = draw_arm(d, a, arm);
            let reaches_dropouts = !completer_only || draw.dropouts == 0;
            let outcome = |s: usize| {
                measured[s].then_some(ArmOutcome {
                    completer_events: draw.completer_events[s],
                    dropout_events: reaches_dropouts.then_some(draw.dropout_events[s]),
                })
            };
            Arm {
                n: arm.n,
                dropout_rate: arm.dropout_rate,
                dropouts: draw.dropouts,
                official: outcome(0),
                partner: outcome(1),
                self_report: outcome(2),
                partner_score: (measured[1] && has_comparison).then_some(draw.score),
            }
        };
        let programme = make_arm(&mut d, &prog);
        let comparison = make_arm(&mut d, &comp);
        let id = index as u32 + 1;
        out.push(SimulatedStudy {
            simulated: true,
            id,
            label: format!("Sim-IPV-{id:03} (simulated)"),
            model,
            design,
            completer_only,
            comparison_type: p.comparison,
            tailored: p.tailored,
            country: country.name.clone(),
            region: country.region,
            income: country.income,
            year,
            follow_up_months: follow_up,
            programme,
            comparison: has_comparison.then_some(comparison),
            true_log_or: theta,
            true_base_rate: p_t,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split keeps the arm's mean rate and puts the drop-outs at `l` higher log odds.
    #[test]
    fn completer_split_preserves_the_arm_rate() {
        for &(lambda, d, l) in &[(-1.0, 0.4, 1.45), (0.5, 0.9, 1.45), (-2.0, 0.1, -0.7)] {
            let x = completer_logit(lambda, d, l);
            let mean = (1.0 - d) * expit(x) + d * expit(x + l);
            assert!((mean - expit(lambda)).abs() < 1e-15, "{lambda} {d} {l}");
        }
        assert_eq!(completer_logit(-1.0, 0.0, 1.45), -1.0);
    }

    /// Designs are allocated exactly: 20 evaluations with shares 1/3 and 0.15 give 7 RCTs,
    /// 3 completer-only and 10 other quasi-experiments, in an order that depends on the seed.
    #[test]
    fn designs_are_allocated_exactly() {
        let count = |v: &[(Design, bool)], x: (Design, bool)| v.iter().filter(|&&y| y == x).count();
        let one = designs(&mut Draws::for_plan(1), 20, 1.0 / 3.0, 0.15);
        let two = designs(&mut Draws::for_plan(2), 20, 1.0 / 3.0, 0.15);
        for v in [&one, &two] {
            assert_eq!(count(v, (Design::Rct, false)), 7);
            assert_eq!(count(v, (Design::QuasiExperimental, true)), 3);
            assert_eq!(count(v, (Design::QuasiExperimental, false)), 10);
        }
        assert_ne!(one, two);
        assert_eq!(allocate(10, 0.15), 2); // 1.5 rounds away from zero
        assert_eq!(designs(&mut Draws::for_plan(1), 3, 0.9, 0.9).len(), 3);
    }
}
