//! The generating model of the IPV simulator (documented in the module docs of
//! [`super`]).

use super::assumptions::{Assumptions, Country};
use super::record::{
    Arm, ArmOutcome, Comparison, Design, Integration, ProgrammeModel, Region, SimulatedStudy,
    Source,
};
use super::rng::{Draws, expit, logit};
use crate::error::{MetaError, Result};

/// Which evaluation the `index`-th record is: its model and whether it is one of the Latin
/// American provider studies.
fn plan(a: &Assumptions) -> Vec<(Option<ProgrammeModel>, bool)> {
    let mut plan = Vec::with_capacity(a.total_studies());
    let groups = [
        (ProgrammeModel::Duluth, a.studies_duluth),
        (ProgrammeModel::Cbt, a.studies_cbt),
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
        (ProgrammeModel::CouplesTherapy, a.studies_couples),
    ];
    for (model, count) in groups {
        plan.extend(std::iter::repeat_n((Some(model), false), count));
    }
    // the Latin American studies draw Duluth or CBT
    plan.extend(std::iter::repeat_n((None, true), a.studies_latin_america));
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
    dropouts: u32,
    /// log odds of actual violence, before source offsets
    lp: f64,
    /// receives a programme (so the source biases apply)
    treated: bool,
}

/// Simulates the evaluations.
pub(crate) fn simulate(a: &Assumptions, seed: u64) -> Result<Vec<SimulatedStudy>> {
    a.validate()?;
    let plan = plan(a);
    let mut out = Vec::with_capacity(plan.len());
    let mut lac_seen = 0usize;
    for (index, &(model, lac)) in plan.iter().enumerate() {
        let mut d = Draws::for_study(seed, index);
        let (y0, y1) = a.years;
        let year = y0 + d.index((y1 - y0) as usize + 1) as u32;

        // country and design
        let country: &Country = if lac {
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
        let u_design = d.uniform();
        let design = if lac {
            Design::CompleterVsDropout
        } else if u_design < a.p_rct {
            Design::Rct
        } else if u_design < a.p_rct + a.p_quasi_experimental {
            Design::QuasiExperimental
        } else {
            Design::CompleterVsDropout
        };
        let u_model = d.uniform();
        let model = model.unwrap_or(if u_model < a.latin_america_p_cbt {
            ProgrammeModel::Cbt
        } else {
            ProgrammeModel::Duluth
        });
        let follow_up = a.follow_up_months[d.index(a.follow_up_months.len())];

        // base rate of actual violence without a programme, over the follow-up
        let sd = if lac {
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
        };
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
        let u_completer_only = d.uniform();
        let completer_only =
            design == Design::QuasiExperimental && u_completer_only < a.p_completer_only;
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
        let prog = ArmPlan {
            n: n_p,
            dropout_rate: dp,
            dropouts: d.binomial(n_p, dp),
            lp: base + standard + theta + qe_bias,
            treated: true,
        };
        let comp = {
            let n = match design {
                Design::Rct => clamp_size((f64::from(n_p) * (0.85 + 0.3 * u_ratio)).round(), a),
                Design::QuasiExperimental | Design::CompleterVsDropout => arm_size(a, z_nc),
            };
            let dc = if couples { lo + (hi - lo) * u_dc } else { 0.0 };
            ArmPlan {
                n,
                dropout_rate: dc,
                dropouts: d.binomial(n, dc),
                lp: base + standard,
                treated: couples,
            }
        };

        // outcomes by source; every count is drawn, measured or not, so that the draws of
        // one part of the model do not shift when another part changes
        let mut outcomes: [[Option<ArmOutcome>; 3]; 2] = [[None; 3]; 2];
        for (s, source) in Source::ALL.into_iter().enumerate() {
            let (offset, bias) = match source {
                Source::Official => (a.official_offset, a.official_bias),
                Source::Partner => (0.0, 0.0),
                Source::SelfReport => (a.self_report_offset, a.self_report_bias),
            };
            for (k, arm) in [&prog, &comp].into_iter().enumerate() {
                let lambda = arm.lp + offset + if arm.treated { bias } else { 0.0 };
                let x = completer_logit(lambda, arm.dropout_rate, a.dropout_log_or);
                let completers = arm.n - arm.dropouts;
                let e = d.binomial(completers, expit(x));
                let f = d.binomial(arm.dropouts, expit(x + a.dropout_log_or));
                let reaches_dropouts = !completer_only || arm.dropouts == 0;
                if measured[s] {
                    outcomes[k][s] = Some(ArmOutcome {
                        completer_events: e,
                        dropout_events: reaches_dropouts.then_some(f),
                    });
                }
            }
        }
        let make_arm = |arm: &ArmPlan, o: [Option<ArmOutcome>; 3]| Arm {
            n: arm.n,
            dropout_rate: arm.dropout_rate,
            dropouts: arm.dropouts,
            official: o[0],
            partner: o[1],
            self_report: o[2],
        };
        let id = index as u32 + 1;
        let (comparison, comparison_condition) = match design {
            Design::CompleterVsDropout => (None, Comparison::ProgrammeDropouts),
            Design::Rct | Design::QuasiExperimental if couples => (
                Some(make_arm(&comp, outcomes[1])),
                Comparison::StandardProgramme,
            ),
            Design::Rct | Design::QuasiExperimental => {
                (Some(make_arm(&comp, outcomes[1])), Comparison::NoProgramme)
            }
        };
        out.push(SimulatedStudy {
            simulated: true,
            id,
            label: format!("Sim-IPV-{id:03} (simulated)"),
            model,
            design,
            completer_only,
            comparison_condition,
            country: country.name.clone(),
            region: country.region,
            income: country.income,
            year,
            follow_up_months: follow_up,
            programme: make_arm(&prog, outcomes[0]),
            comparison,
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
}
