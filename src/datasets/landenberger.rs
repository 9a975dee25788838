//! Landenberger & Lipsey (2005): 58 studies of cognitive-behavioural programmes for
//! offenders (real data).

use super::Embedded;
use crate::error::Result;

const FILE: &str = "data/landenberger2005.csv";
const TEXT: &str = include_str!("../../data/landenberger2005.csv");

const HEADER: [&str; 32] = [
    "study",
    "pubtype",
    "country",
    "design",
    "program",
    "setting",
    "designprob",
    "n.ctrl.rec",
    "n.ctrl.non",
    "n.cbt.rec",
    "n.cbt.non",
    "interval",
    "group",
    "age",
    "male",
    "minority",
    "length",
    "sessions",
    "hrs_week",
    "hrs_total",
    "cbt.cogskills",
    "cbt.cogrestruct",
    "cbt.intpprbsolv",
    "cbt.socskills",
    "cbt.angerctrl",
    "cbt.victimimpact",
    "cbt.subabuse",
    "cbt.behavmod",
    "cbt.relapseprev",
    "cbt.moralrsng",
    "cbt.roletaking",
    "cbt.other",
];

/// The programme components coded by Landenberger & Lipsey (2005): `true` when the
/// programme included the component (the `cbt.*` columns, `yes`/`no`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CbtComponents {
    /// Cognitive skills (`cbt.cogskills`).
    pub cognitive_skills: bool,
    /// Cognitive restructuring (`cbt.cogrestruct`).
    pub cognitive_restructuring: bool,
    /// Interpersonal problem solving (`cbt.intpprbsolv`).
    pub interpersonal_problem_solving: bool,
    /// Social skills (`cbt.socskills`).
    pub social_skills: bool,
    /// Anger control (`cbt.angerctrl`).
    pub anger_control: bool,
    /// Victim impact (`cbt.victimimpact`).
    pub victim_impact: bool,
    /// Substance abuse (`cbt.subabuse`).
    pub substance_abuse: bool,
    /// Behaviour modification (`cbt.behavmod`).
    pub behaviour_modification: bool,
    /// Relapse prevention (`cbt.relapseprev`).
    pub relapse_prevention: bool,
    /// Moral reasoning (`cbt.moralrsng`).
    pub moral_reasoning: bool,
    /// Role taking (`cbt.roletaking`).
    pub role_taking: bool,
    /// Other components (`cbt.other`).
    pub other: bool,
}

/// One study of Landenberger & Lipsey (2005), with every column of metadat's
/// `dat.landenberger2005` (column names in parentheses). Text columns keep metadat's codes.
/// `None` marks a value the study did not report (`NA`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LandenbergerStudy {
    /// First author and year (`study`), e.g. `"Guerra (1990)"`. Not unique: some authors
    /// have several studies in one year.
    pub study: String,
    /// Publication type (`pubtype`): `chapter`, `journal`, `report` or `thesis`.
    pub pubtype: String,
    /// Country (`country`): `CAN`, `NZ`, `UK` or `USA`.
    pub country: String,
    /// Design (`design`): `rct` (randomised), `match` (matched groups) or `nonequiv`
    /// (non-equivalent groups).
    pub design: String,
    /// Why the programme was set up (`program`): `demo`, `practice` or `research`.
    pub program: String,
    /// Setting (`setting`): `community` or `prison`.
    pub setting: String,
    /// Design problems (`designprob`): `no`, `favors_trt` or `favors_ctrl`.
    pub designprob: String,
    /// Recidivists in the control group (`n.ctrl.rec`).
    pub n_ctrl_rec: u32,
    /// Non-recidivists in the control group (`n.ctrl.non`).
    pub n_ctrl_non: u32,
    /// Recidivists in the CBT group (`n.cbt.rec`).
    pub n_cbt_rec: u32,
    /// Non-recidivists in the CBT group (`n.cbt.non`).
    pub n_cbt_non: u32,
    /// Recidivism interval in months (`interval`).
    pub interval: u32,
    /// Offender group (`group`): `adults` or `juveniles`.
    pub group: String,
    /// Mean age of the study group (`age`).
    pub age: Option<u32>,
    /// Percentage of males (`male`).
    pub male: Option<u32>,
    /// Percentage of minorities (`minority`).
    pub minority: Option<u32>,
    /// Treatment length in weeks (`length`).
    pub length: f64,
    /// CBT sessions per week (`sessions`).
    pub sessions: f64,
    /// Treatment hours per week (`hrs_week`).
    pub hrs_week: f64,
    /// Total hours of treatment (`hrs_total`).
    pub hrs_total: f64,
    /// Programme components (`cbt.*`).
    pub components: CbtComponents,
}

impl LandenbergerStudy {
    /// Size of the CBT group, `n.cbt.rec + n.cbt.non`.
    pub fn n_cbt(&self) -> u32 {
        self.n_cbt_rec + self.n_cbt_non
    }

    /// Size of the control group, `n.ctrl.rec + n.ctrl.non`.
    pub fn n_ctrl(&self) -> u32 {
        self.n_ctrl_rec + self.n_ctrl_non
    }
}

/// The 58 studies of cognitive-behavioural programmes for offenders meta-analysed by
/// Landenberger & Lipsey (2005): recidivists and non-recidivists in each arm, design,
/// design problems, setting, offender group, programme intensity and components.
///
/// These are **real** data (the studies' published results, as coded by the review's
/// authors), in the order of metadat's `dat.landenberger2005`. The file is embedded from the
/// repository's `data/landenberger2005.csv` (see `data/SOURCES.md`).
///
/// metafor's example analyses these as log odds ratios of *non*-recidivism, CBT vs control
/// (`ai = n.cbt.non, bi = n.cbt.rec, ci = n.ctrl.non, di = n.ctrl.rec`); this function
/// returns the counts only.
///
/// # Errors
/// [`MetaError::Csv`](crate::MetaError::Csv) naming the line and column if the embedded file
/// were malformed (a bug: the shipped file is checked by the tests).
///
/// # Examples
/// ```
/// let studies = metan::datasets::landenberger2005()?;
/// assert_eq!(studies.len(), 58);
/// let first = &studies[0];
/// assert_eq!(first.study, "Guerra (1990)");
/// assert_eq!((first.n_cbt_rec, first.n_cbt_non), (10, 19));
/// assert_eq!((first.n_ctrl_rec, first.n_ctrl_non), (23, 29));
/// assert!(first.components.cognitive_skills);
/// // randomised trials without design problems
/// let clean = studies.iter().filter(|s| s.design == "rct" && s.designprob == "no").count();
/// assert!(clean > 0);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Landenberger, N. A., & Lipsey, M. W. (2005). The positive effects of cognitive-behavioral
/// programs for offenders: A meta-analysis of factors associated with effective treatment.
/// *Journal of Experimental Criminology*, 1, 451-476. doi:10.1007/s11292-005-3541-7 (as
/// distributed in the metadat R package, `dat.landenberger2005`).
pub fn landenberger2005() -> Result<Vec<LandenbergerStudy>> {
    let t = Embedded::parse(TEXT, FILE, &HEADER)?;
    (0..t.len())
        .map(|r| {
            let yn = |c: usize| t.yes_no(r, c);
            Ok(LandenbergerStudy {
                study: t.string(r, 0)?,
                pubtype: t.string(r, 1)?,
                country: t.string(r, 2)?,
                design: t.string(r, 3)?,
                program: t.string(r, 4)?,
                setting: t.string(r, 5)?,
                designprob: t.string(r, 6)?,
                n_ctrl_rec: t.count(r, 7)?,
                n_ctrl_non: t.count(r, 8)?,
                n_cbt_rec: t.count(r, 9)?,
                n_cbt_non: t.count(r, 10)?,
                interval: t.count(r, 11)?,
                group: t.string(r, 12)?,
                age: t.opt_count(r, 13)?,
                male: t.opt_count(r, 14)?,
                minority: t.opt_count(r, 15)?,
                length: t.number(r, 16)?,
                sessions: t.number(r, 17)?,
                hrs_week: t.number(r, 18)?,
                hrs_total: t.number(r, 19)?,
                components: CbtComponents {
                    cognitive_skills: yn(20)?,
                    cognitive_restructuring: yn(21)?,
                    interpersonal_problem_solving: yn(22)?,
                    social_skills: yn(23)?,
                    anger_control: yn(24)?,
                    victim_impact: yn(25)?,
                    substance_abuse: yn(26)?,
                    behaviour_modification: yn(27)?,
                    relapse_prevention: yn(28)?,
                    moral_reasoning: yn(29)?,
                    role_taking: yn(30)?,
                    other: yn(31)?,
                },
            })
        })
        .collect()
}
