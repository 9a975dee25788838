//! The records of the IPV simulator: one [`SimulatedStudy`] per simulated evaluation.

use std::fmt;

/// The integrated component of an integrated programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Integration {
    /// A perpetrator programme with a substance-use (alcohol / drugs) component.
    SubstanceUse,
    /// A perpetrator programme with a trauma-focused component.
    Trauma,
    /// A perpetrator programme with motivation enhancement (e.g. motivational interviewing).
    Motivation,
}

/// The programme model of a simulated evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ProgrammeModel {
    /// Psychoeducational / pro-feminist (Duluth) group programme.
    Duluth,
    /// Cognitive-behavioural group programme.
    Cbt,
    /// An integrated programme (Duluth or CBT plus a component).
    Integrated(Integration),
    /// Couples therapy, compared with a standard (Duluth or CBT) programme.
    CouplesTherapy,
}

impl ProgrammeModel {
    /// Every model, in the order the simulator generates them.
    pub const ALL: [ProgrammeModel; 6] = [
        ProgrammeModel::Duluth,
        ProgrammeModel::Cbt,
        ProgrammeModel::Integrated(Integration::SubstanceUse),
        ProgrammeModel::Integrated(Integration::Trauma),
        ProgrammeModel::Integrated(Integration::Motivation),
        ProgrammeModel::CouplesTherapy,
    ];

    /// The name used in the CSV file: `duluth`, `cbt`, `integrated_substance_use`,
    /// `integrated_trauma`, `integrated_motivation` or `couples_therapy`.
    pub fn name(self) -> &'static str {
        match self {
            ProgrammeModel::Duluth => "duluth",
            ProgrammeModel::Cbt => "cbt",
            ProgrammeModel::Integrated(Integration::SubstanceUse) => "integrated_substance_use",
            ProgrammeModel::Integrated(Integration::Trauma) => "integrated_trauma",
            ProgrammeModel::Integrated(Integration::Motivation) => "integrated_motivation",
            ProgrammeModel::CouplesTherapy => "couples_therapy",
        }
    }

    /// True for the two traditional models, Duluth and CBT.
    pub fn is_traditional(self) -> bool {
        matches!(self, ProgrammeModel::Duluth | ProgrammeModel::Cbt)
    }

    /// True for the integrated models.
    pub fn is_integrated(self) -> bool {
        matches!(self, ProgrammeModel::Integrated(_))
    }
}

impl fmt::Display for ProgrammeModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The design of a simulated evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Design {
    /// Randomised controlled trial.
    Rct,
    /// Quasi-experiment: a non-randomised comparison group (waiting list, non-referred men,
    /// another court, ...).
    QuasiExperimental,
    /// Programme completers compared with the programme's own drop-outs: no comparison group
    /// in the proper sense.
    CompleterVsDropout,
    /// One group, no comparison (a recidivism rate, a pre-post change): the provider studies
    /// of Latin America and the pre-post evaluations of high-income countries.
    SingleGroup,
}

impl Design {
    /// The name used in the CSV file: `rct`, `quasi_experimental`, `completer_vs_dropout`
    /// or `single_group`.
    pub fn name(self) -> &'static str {
        match self {
            Design::Rct => "rct",
            Design::QuasiExperimental => "quasi_experimental",
            Design::CompleterVsDropout => "completer_vs_dropout",
            Design::SingleGroup => "single_group",
        }
    }
}

impl fmt::Display for Design {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a simulated evaluation compares: one comparison per pooled estimate (the scenario
/// engine's `comparison` attribute, [`crate::sensitivity::ComparisonType`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Comparison {
    /// A programme against no programme or treatment as usual (probation, community service,
    /// a waiting list): `programme_vs_no_programme`.
    ProgrammeVsNoProgramme,
    /// Couples therapy against a standard (Duluth or CBT) programme:
    /// `couples_vs_standard_programme`.
    CouplesVsStandardProgramme,
    /// A programme's completers against its own drop-outs: `completers_vs_dropouts`. Not a
    /// programme effect: the contrast shows what drop-out selects.
    CompletersVsDropouts,
    /// No comparison group (a single group): `no_comparison_group`. Counted and described,
    /// never pooled as an effect.
    NoComparisonGroup,
}

impl Comparison {
    /// Every comparison, in the order above.
    pub const ALL: [Comparison; 4] = [
        Comparison::ProgrammeVsNoProgramme,
        Comparison::CouplesVsStandardProgramme,
        Comparison::CompletersVsDropouts,
        Comparison::NoComparisonGroup,
    ];

    /// The name used in the CSV files and by the scenario engine:
    /// `programme_vs_no_programme`, `couples_vs_standard_programme`,
    /// `completers_vs_dropouts` or `no_comparison_group`.
    pub fn name(self) -> &'static str {
        match self {
            Comparison::ProgrammeVsNoProgramme => "programme_vs_no_programme",
            Comparison::CouplesVsStandardProgramme => "couples_vs_standard_programme",
            Comparison::CompletersVsDropouts => "completers_vs_dropouts",
            Comparison::NoComparisonGroup => "no_comparison_group",
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// World Bank income group of the country of a simulated evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum IncomeGroup {
    /// High income.
    High,
    /// Upper-middle income.
    UpperMiddle,
    /// Lower-middle or low income.
    LowerMiddleOrLow,
}

impl IncomeGroup {
    /// The name used in the CSV file: `high`, `upper_middle` or `lower_middle_or_low`.
    pub fn name(self) -> &'static str {
        match self {
            IncomeGroup::High => "high",
            IncomeGroup::UpperMiddle => "upper_middle",
            IncomeGroup::LowerMiddleOrLow => "lower_middle_or_low",
        }
    }
}

/// World region of a simulated evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Region {
    /// United States and Canada.
    NorthAmerica,
    /// Europe.
    Europe,
    /// Australia and New Zealand.
    Oceania,
    /// Latin America and the Caribbean.
    LatinAmericaCaribbean,
}

impl Region {
    /// The name used in the CSV file: `north_america`, `europe`, `oceania` or
    /// `latin_america_caribbean`.
    pub fn name(self) -> &'static str {
        match self {
            Region::NorthAmerica => "north_america",
            Region::Europe => "europe",
            Region::Oceania => "oceania",
            Region::LatinAmericaCaribbean => "latin_america_caribbean",
        }
    }
}

/// The source of an outcome (re-offending) measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Source {
    /// Official records: police reports, arrests, charges, convictions.
    Official,
    /// Reports of the (ex-)partner, the victim.
    Partner,
    /// The perpetrator's own report.
    SelfReport,
}

impl Source {
    /// The three sources, in CSV column order.
    pub const ALL: [Source; 3] = [Source::Official, Source::Partner, Source::SelfReport];

    /// The name used in the CSV columns: `official`, `partner` or `self`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Official => "official",
            Source::Partner => "partner",
            Source::SelfReport => "self",
        }
    }
}

/// Re-offending by one source in one arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ArmOutcome {
    /// Re-offenders among the arm's completers (`n - dropouts` men).
    pub completer_events: u32,
    /// Re-offenders among the arm's drop-outs; `None` when the evaluation reported
    /// completers only ([`SimulatedStudy::completer_only`]) and the arm had drop-outs.
    pub dropout_events: Option<u32>,
}

/// A continuous outcome of one arm: a **simulated** score like the partner-reported
/// Conflict Tactics Scales (higher = more violence), summarised as reported in primary
/// studies.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ContinuousOutcome {
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`).
    pub sd: f64,
    /// Number of men scored.
    pub n: u32,
}

/// One arm of a simulated evaluation.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Arm {
    /// Men assigned (or enrolled).
    pub n: u32,
    /// The arm's drop-out probability drawn by the simulator (0 for a no-programme arm).
    pub dropout_rate: f64,
    /// Men who dropped out of the programme (did not complete it), counted separately from
    /// the completers.
    pub dropouts: u32,
    /// Official-record outcome, if the study measured it.
    pub official: Option<ArmOutcome>,
    /// Partner-report outcome, if the study measured it.
    pub partner: Option<ArmOutcome>,
    /// Perpetrator self-report outcome, if the study measured it.
    pub self_report: Option<ArmOutcome>,
    /// A CTS-like partner-reported violence score of every man in the arm (mean, SD, n), in
    /// studies with a comparison arm that measured partner reports; drawn independently of
    /// the binary counts. For the conversion of a standardised mean difference to the
    /// log odds ratio scale.
    pub partner_score: Option<ContinuousOutcome>,
}

impl Arm {
    /// Completers, `n - dropouts`.
    pub fn completers(&self) -> u32 {
        self.n - self.dropouts
    }

    /// The outcome by `source`, if measured.
    pub fn outcome(&self, source: Source) -> Option<&ArmOutcome> {
        match source {
            Source::Official => self.official.as_ref(),
            Source::Partner => self.partner.as_ref(),
            Source::SelfReport => self.self_report.as_ref(),
        }
    }
}

/// How drop-outs enter a two-by-two table (see [`SimulatedStudy::two_by_two`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Handling {
    /// Completers only, in each arm (drop-outs excluded).
    AvailableCase,
    /// Intention to treat, every drop-out counted as a re-offender (worst case).
    DropoutsAsFailures,
    /// Intention to treat with the drop-outs' own outcomes; not available for evaluations
    /// that reported completers only.
    ObservedDropouts,
    /// The analysis the evaluation itself reported: completers only for evaluations that
    /// reported completers only ([`SimulatedStudy::completer_only`]), intention to treat with
    /// the drop-outs' own outcomes otherwise.
    AsReported,
}

/// A two-by-two table in metafor's `escalc` layout: `ai`/`bi` re-offenders / non-re-offenders
/// in the programme arm, `ci`/`di` in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TwoByTwo {
    /// Re-offenders, programme arm.
    pub ai: u32,
    /// Non-re-offenders, programme arm.
    pub bi: u32,
    /// Re-offenders, comparison arm.
    pub ci: u32,
    /// Non-re-offenders, comparison arm.
    pub di: u32,
}

/// One **simulated** evaluation of an IPV perpetrator programme (see the
/// [module documentation](super) for the generating model).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SimulatedStudy {
    /// Always `true`: this record is simulated, not a real study.
    pub simulated: bool,
    /// 1-based position in the simulated data set.
    pub id: u32,
    /// A label that says it is simulated, e.g. `"Sim-IPV-017 (simulated)"`.
    pub label: String,
    /// Programme model.
    pub model: ProgrammeModel,
    /// Design.
    pub design: Design,
    /// True when the evaluation reported programme completers only: the drop-outs' outcomes
    /// are unknown (`dropout_events` is `None` in the programme arm). Only quasi-experiments
    /// do this here: among the programme-vs-no-programme evaluations these are the
    /// methodologically flawed studies (Eckhardt et al. 2013: 3 of 20).
    pub completer_only: bool,
    /// What the evaluation compares.
    pub comparison_type: Comparison,
    /// True for a programme tailored to the men's characteristics (risk, needs, motivation)
    /// rather than delivered from a standard manual (Arias, Arce & Vilariño 2013); only
    /// programme-vs-no-programme evaluations are tailored.
    pub tailored: bool,
    /// Country (the setting the simulated evaluation stands for).
    pub country: String,
    /// World region.
    pub region: Region,
    /// World Bank income group of the country.
    pub income: IncomeGroup,
    /// Publication year.
    pub year: u32,
    /// Follow-up in months.
    pub follow_up_months: u32,
    /// The programme arm (for designs without a comparison arm: everyone enrolled).
    pub programme: Arm,
    /// The comparison arm; `None` for completer-vs-drop-out and single-group designs.
    pub comparison: Option<Arm>,
    /// Simulation truth: the study's true log odds ratio of actual violence (what partners
    /// would report with complete follow-up), programme vs comparison condition (for designs
    /// without a comparison arm: programme vs no programme, which they cannot estimate).
    pub true_log_or: f64,
    /// Simulation truth: the probability of actual violence over the follow-up without a
    /// programme.
    pub true_base_rate: f64,
}

impl SimulatedStudy {
    /// True for the methodologically flawed designs of the digest ("no comparison group,
    /// completer-only analyses"): a completer-vs-drop-out or single-group design, or a
    /// completer-only analysis.
    ///
    /// # Examples
    /// ```
    /// use metan::datasets::ipv::{self, Design};
    /// let studies = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    /// assert!(studies.iter().all(|s| s.is_flawed()
    ///     == (matches!(s.design, Design::CompleterVsDropout | Design::SingleGroup) || s.completer_only)));
    /// assert!(studies.iter().filter(|s| s.design == Design::Rct).all(|s| !s.is_flawed()));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn is_flawed(&self) -> bool {
        matches!(
            self.design,
            Design::CompleterVsDropout | Design::SingleGroup
        ) || self.completer_only
    }

    /// The programme arm's observed drop-out proportion, `dropouts / n`.
    pub fn programme_dropout_proportion(&self) -> f64 {
        f64::from(self.programme.dropouts) / f64::from(self.programme.n)
    }

    /// The proportion of the programme arm recorded as re-offending by `source`: among
    /// everyone enrolled when the drop-outs were followed up, among the completers otherwise;
    /// `None` when the source was not measured. For a study without a comparison group this
    /// is all it reports (a recidivism rate, to be described, never pooled as an effect).
    ///
    /// # Examples
    /// ```
    /// use metan::datasets::ipv::{self, Comparison, Source};
    /// let studies = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    /// let single = studies.iter().find(|s| s.comparison_type == Comparison::NoComparisonGroup).unwrap();
    /// let src = Source::ALL.into_iter().find(|&x| single.measured(x)).unwrap();
    /// let r = single.programme_rate(src).unwrap();
    /// assert!((0.0..=1.0).contains(&r));
    /// assert!(single.two_by_two(src, ipv::Handling::AsReported).is_none());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn programme_rate(&self, source: Source) -> Option<f64> {
        let p = &self.programme;
        let o = p.outcome(source)?;
        Some(match o.dropout_events {
            Some(f) => f64::from(o.completer_events + f) / f64::from(p.n),
            None => f64::from(o.completer_events) / f64::from(p.completers()),
        })
    }

    /// True when the study measured re-offending by `source`.
    pub fn measured(&self, source: Source) -> bool {
        self.programme.outcome(source).is_some()
    }

    /// The study's two-by-two table for `source` under `handling`, or `None` when the source
    /// was not measured, when the study has no comparison group, or when `handling` is
    /// [`Handling::ObservedDropouts`] and the evaluation reported completers only.
    ///
    /// For a completer-vs-drop-out design the table is always completers (`ai`, `bi`) vs
    /// drop-outs (`ci`, `di`) of the programme: that is the design's comparison, and
    /// `handling` does not apply.
    ///
    /// # Formula
    /// Per arm with `n` men, `D` drop-outs, `e` re-offending completers and `f` re-offending
    /// drop-outs: available case `(e, n - D - e)`; drop-outs as failures `(e + D, n - D - e)`;
    /// observed drop-outs `(e + f, n - e - f)`; as reported: observed drop-outs when `f` is
    /// known, else available case.
    ///
    /// # Examples
    /// ```
    /// use metan::datasets::ipv::{self, Design, Handling, Source};
    /// let studies = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    /// let rct = studies.iter().find(|s| s.design == Design::Rct && s.measured(Source::Official)).unwrap();
    /// let ac = rct.two_by_two(Source::Official, Handling::AvailableCase).unwrap();
    /// let itt = rct.two_by_two(Source::Official, Handling::DropoutsAsFailures).unwrap();
    /// assert_eq!(ac.ai + ac.bi, rct.programme.completers());
    /// assert_eq!(itt.ai + itt.bi, rct.programme.n);
    /// assert_eq!(itt.ai, ac.ai + rct.programme.dropouts);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn two_by_two(&self, source: Source, handling: Handling) -> Option<TwoByTwo> {
        let p = &self.programme;
        let po = p.outcome(source)?;
        if self.comparison_type == Comparison::NoComparisonGroup {
            return None;
        }
        let Some(c) = &self.comparison else {
            let f = po.dropout_events?;
            return Some(TwoByTwo {
                ai: po.completer_events,
                bi: p.completers() - po.completer_events,
                ci: f,
                di: p.dropouts - f,
            });
        };
        let co = c.outcome(source)?;
        let (ai, bi) = arm_cells(p, po, handling)?;
        let (ci, di) = arm_cells(c, co, handling)?;
        Some(TwoByTwo { ai, bi, ci, di })
    }
}

fn arm_cells(arm: &Arm, o: &ArmOutcome, handling: Handling) -> Option<(u32, u32)> {
    let e = o.completer_events;
    let non = arm.completers() - e;
    match handling {
        Handling::AvailableCase => Some((e, non)),
        Handling::DropoutsAsFailures => Some((e + arm.dropouts, non)),
        Handling::ObservedDropouts => {
            let f = o.dropout_events?;
            Some((e + f, non + arm.dropouts - f))
        }
        Handling::AsReported => match o.dropout_events {
            Some(f) => Some((e + f, non + arm.dropouts - f)),
            None => Some((e, non)),
        },
    }
}
