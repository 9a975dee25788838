//! **Simulated** evaluations of perpetrator programmes for intimate partner violence (IPV).
//!
//! # What is real and what is simulated
//!
//! *Real:* the findings of the evidence digest *Perpetrator Intervention Programmes in
//! Emergencies* (GBV AoR Helpdesk), which summarises 13 systematic reviews and meta-analyses,
//! and the review-level pooled results in [`published_results()`](super::published_results)
//! (each with its source page). The real study-level data set shipped with metan,
//! [`landenberger2005()`](super::landenberger2005), is about CBT for offenders in general,
//! not IPV.
//!
//! *Simulated:* every study-level IPV record. No complete per-study IPV data set, with counts
//! in both arms for official *and* partner reports, could be read, so [`simulate`] draws
//! evaluations from the generating model below, whose parameters come from the digest and the
//! published results. Every record has [`simulated`](SimulatedStudy::simulated) `= true` and a
//! label such as `"Sim-IPV-017 (simulated)"`; the shipped file `data/ipv_simulated.csv` says
//! so on every row, and every table built on these data must say "simulated". The simulated
//! studies are not the reviews' studies, and their pooled results are not the reviews'
//! results: they show what the digest's mechanisms (biased official records, weak designs,
//! informative drop-out) do to a meta-analysis.
//!
//! # Structure
//!
//! With the defaults, 55 evaluations, each with an explicit comparison ([`Comparison`]; a
//! pooled estimate pools one comparison, and the scenario engine enforces it):
//!
//! | comparison | evaluations | source |
//! |---|---|---|
//! | programme vs no programme / treatment as usual | 10 Duluth, 10 CBT; 4 + 2 + 4 integrated (substance use, trauma, motivation) | Eckhardt et al. 2013: 20 traditional and 10 alternative-format studies with a comparison group |
//! | couples therapy vs a standard programme | 6 | Karakurt et al. 2016: six studies |
//! | completers vs drop-outs (not a programme effect) | 4 | Feder & Wilson 2005: "dropout designs" (number an assumption) |
//! | no comparison group (single group) | 8 high-income, 7 Latin American | Karakurt et al. 2019: 8 of 13 pre-post; Esquivel Santoveña & da Silva 2016: 7 provider studies, none with a comparison group |
//!
//! Designs are allocated exactly, not drawn: a third of the evaluations with a comparison
//! group are RCTs (Wilson, Feder & Olaghere 2021: four RCTs and eight quasi-experiments),
//! the others quasi-experiments; 15% of the programme-vs-no-programme evaluations are
//! methodologically flawed, quasi-experiments that analyse completers only (Eckhardt et al.
//! 2013: 3 of 20), so 3 of the 20 traditional and 2 of the 10 alternative evaluations; a
//! quarter of the programme-vs-no-programme evaluations are of tailored programmes (an
//! assumption). Which evaluation gets which design, flaw and tailoring is drawn with the
//! seed. Each study measures official records, partner reports and perpetrator self-reports
//! with the probabilities of [`Assumptions`] (official records most often: "an
//! over-reliance on official reports", Karakurt et al. 2019), and those with a comparison
//! arm and partner reports also a CTS-like partner-reported score (means, SDs and group
//! sizes per arm), for a conversion of the standardised mean difference to the log odds
//! ratio scale.
//!
//! [`SimulatedStudy::two_by_two`] gives each study's counts as a two-by-two table under a
//! chosen handling of drop-outs: [`Handling::AsReported`] (the evaluation's own analysis),
//! [`Handling::AvailableCase`], [`Handling::ObservedDropouts`] (intention to treat) or
//! [`Handling::DropoutsAsFailures`]. Effect sizes are left to the caller.
//!
//! # Generating model
//!
//! For study `i` with programme model `g`, design `D`, country `c` and follow-up `t` months
//! (drawn uniformly from [`Assumptions::follow_up_months`]); `z` are independent standard
//! normal draws; `expit(x) = 1 / (1 + e^-x)`; `d` converts to log odds ratios as
//! `ln OR = d pi / sqrt(3)` (Hasselblad & Hedges 1995).
//!
//! 1. **Base rate** of actual violence (what partners would report) without a programme:
//!    `a_i = logit(0.30) + sigma_b z_1 + 0.5 ln(t / 12)`, with `sigma_b = 0.9` (1.3 in Latin
//!    America); `expit(a_i)` is recorded as `true_base_rate`.
//! 2. **True effect** on actual violence: `theta_i = mu_g + mu_T [tailored] + tau z_2`
//!    (recorded as `true_log_or`), with `mu_Duluth = mu_CBT = ln 0.99`, `mu_integrated` and
//!    the tailoring effect `mu_T` both `-0.2 pi / sqrt(3)` (d = 0.2, OR 0.70), for couples
//!    therapy `mu_couples = -0.5 pi / sqrt(3)` (d = 0.5) relative to a standard programme,
//!    and `tau = 0.3`.
//! 3. **Arms**, log odds of actual violence: programme `A_1 = a_i + s_i + theta_i +
//!    beta_QE [D = QE]`, comparison `A_0 = a_i + s_i`, where `s_i = (mu_Duluth + mu_CBT) / 2`
//!    in couples studies (whose comparison is a standard programme) and 0 otherwise, and
//!    `beta_QE = ln 0.85` is the selection bias of quasi-experiments. Completer-vs-drop-out
//!    and single-group designs have the programme arm only.
//! 4. **Sources**: the log odds that source `s` records a re-offence in arm `k` is
//!    `L_ks = A_k + delta_s + T_k b_s`, with detection offsets `delta_partner = 0`,
//!    `delta_official = delta_self = -0.5`, biases towards benefit for men in a
//!    programme `b_partner = 0`, `b_official = b_self = ln(0.79 / 0.99)`, and `T_k = 1` for an
//!    arm that receives a programme (the programme arm, and the comparison arm of couples
//!    studies).
//! 5. **Drop-out**: programme drop-out probability `d ~ U(lower_c, upper_c)` (Spain 40-90%,
//!    rest of Europe 30-75%, elsewhere 10-58%); its odds are multiplied by `1 / 1.73` in
//!    motivation-enhanced programmes; `d = 0` in a no-programme comparison arm, drawn as the
//!    programme's in the standard-programme arm of couples studies.
//! 6. **Drop-out predicts re-offending**: within an arm, drop-outs have log odds `lambda = 0.8
//!    pi / sqrt(3)` higher than completers, and the arm's average is kept:
//!    completers' log odds `x_ks` solves `(1 - d) expit(x) + d expit(x + lambda) =
//!    expit(L_ks)`.
//! 7. **Men**: each of the `n_k` men of an arm drops out with probability `d`; each source
//!    records him as re-offending with probability `expit(x_ks)` (completer) or
//!    `expit(x_ks + lambda)` (drop-out), from a uniform draw shared by his sources with
//!    probability 0.5 ([`Assumptions::source_coupling`]) and his own otherwise, so a man's
//!    official record and his partner's report agree more often than chance. The counts are
//!    the re-offending completers `e` and drop-outs `f` per source. A flawed
//!    (completer-only) quasi-experiment does not record its programme drop-outs' `f`.
//!    Completer-only analyses and designs without a comparison group are the digest's
//!    "methodologically flawed" studies ([`SimulatedStudy::is_flawed`]).
//! 8. **Partner-reported score**: each man's score is normal with SD 1 around 2.0 in the
//!    comparison arm and `2.0 + (A_1 - A_0) / (pi / sqrt 3)` in the programme arm (the
//!    study's true log OR of actual violence as a standardised mean difference); the arm's
//!    sample mean, SD and size are recorded in studies with a comparison arm that measured
//!    partner reports. Drawn independently of the counts.
//! 9. **Sizes**: programme arm `n_1 = round(exp(ln 120 + 0.8 z_3))` clamped to 15..=1500; RCT
//!    comparison `round(n_1 U(0.85, 1.15))`; quasi-experimental comparison drawn as `n_1`.
//!
//! What an analysis of the counts then shows, before sampling error and heterogeneity:
//!
//! | analysis | odds ratio | mirrors |
//! |---|---|---|
//! | RCT, partner reports, intention to treat | `e^mu = 0.99` (standard Duluth / CBT) | victim-report OR 0.99 (0.74-1.32), Wilson, Feder & Olaghere 2021 |
//! | RCT, official records, intention to treat | `e^(mu + b_official) = 0.79` | official-report OR 0.79 (0.49-1.28), same review |
//! | quasi-experiment | a further `x 0.85` | quasi-experiments significant where RCTs are not (Cheng et al. 2021) |
//! | completers only (available case, and completer-only studies) | below the intention-to-treat OR, the more so the higher the drop-out | drop-out inflates success (Murphy & Ting 2010) |
//! | completers vs drop-outs | `e^-lambda = 0.23`, whatever the programme does | "large, positive mean effect" (Feder & Wilson 2005) |
//! | Duluth vs CBT | equal | Babcock et al. 2004; Arias et al. 2013 |
//! | integrated, tailored | a further `x 0.70` each | "some promise" (Karakurt et al. 2019); "tailored treatment" more effective (Arias, Arce & Vilariño 2013) |
//! | couples therapy vs standard | `0.40` | "moderate" effect in six studies (Karakurt et al. 2016) |
//!
//! Every parameter, its default and the published number it comes from are listed in the
//! documentation of the fields of [`Assumptions`]; parameters with no printed number are
//! marked as assumptions there. With the defaults, the digest's findings show in the
//! simulated data at [`DEFAULT_SEED`] and in most seeds: `tests/integration/digest_findings.rs` checks
//! each finding's pattern on seeds 1 to 200 and prints how often it holds.
//!
//! # Reproducibility
//!
//! Draws come from `rand_chacha::ChaCha8Rng` seeded with `seed` (stream 0 plans the designs,
//! stream `i + 1` draws study `i`, so one study's draws do not depend on the others'),
//! turned into uniform, normal (Box-Muller) and Bernoulli draws with exact integer and IEEE
//! arithmetic and the pure Rust `libm` functions. The same seed and assumptions give the
//! same records, bit for bit, on every platform. `data/ipv_simulated.csv` is [`to_csv`] and
//! `data/ipv_simulated_long.csv` is [`to_long_csv`] of the default assumptions and
//! [`DEFAULT_SEED`]; a test checks that the generator reproduces both byte for byte, and
//! `cargo run --example simulate_ipv -- data/ipv_simulated.csv data/ipv_simulated_long.csv`
//! rewrites them.
//!
//! # Examples
//!
//! ```
//! use metan::datasets::ipv::{self, Assumptions, Design, Handling, Source};
//! let studies = ipv::simulate(&Assumptions::default(), ipv::DEFAULT_SEED)?;
//! assert_eq!(studies.len(), 55);
//! assert!(studies.iter().all(|s| s.simulated && s.label.ends_with("(simulated)")));
//! // partner-report tables of the simulated RCTs, intention to treat
//! let tables: Vec<_> = studies
//!     .iter()
//!     .filter(|s| s.design == Design::Rct)
//!     .filter_map(|s| s.two_by_two(Source::Partner, Handling::AsReported))
//!     .collect();
//! assert!(!tables.is_empty());
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! # References
//! - Akoensi, T. D., et al. (2012). Domestic violence perpetrator programs in Europe, Part II.
//! - Arias, E., Arce, R., & Vilariño, M. (2013). Batterer intervention programmes: A
//!   meta-analytic review of effectiveness. *Psychosocial Intervention*, 22, 153-160.
//! - Babcock, J. C., Green, C. E., & Robie, C. (2004). Does batterers' treatment work?
//!   *Clinical Psychology Review*, 23, 1023-1053.
//! - Cheng, S.-Y., Davis, M., Jonson-Reid, M., & Yaeger, L. (2021). *Trauma, Violence, &
//!   Abuse*, 22(3), 496-511.
//! - Cunha, O., & Gonçalves, R. A. (2014). *Revista de Psiquiatria Clínica*, 41(2), 40-48.
//! - Eckhardt, C. I., et al. (2013). *Partner Abuse*, 4(2), 196-231.
//! - Esquivel Santoveña, E. E., & da Silva, T. (2016). Domestic violence intervention
//!   programs for perpetrators in Latin America and the Caribbean.
//! - Feder, L., & Wilson, D. B. (2005). *Journal of Experimental Criminology*, 1, 239-262.
//! - Ferrer-Perez, V. A., & Bosch-Fiol, E. (2018). Batterer intervention programs in Spain.
//! - Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
//!   tests. *Psychological Bulletin*, 117, 167-178.
//! - Landenberger, N. A., & Lipsey, M. W. (2005). The positive effects of
//!   cognitive-behavioral programs for offenders. *Journal of Experimental Criminology*, 1,
//!   451-476.
//! - Gannon, T. A., Olver, M. E., Mallion, J. S., & James, M. (2019). *Clinical Psychology
//!   Review*, 73, 101752.
//! - Karakurt, G., Whiting, K., Van Esch, C., Bolen, S. D., & Calabrese, J. R. (2016).
//!   Couples therapy for intimate partner violence. *Journal of Marital and Family Therapy*,
//!   42(4), 567-583.
//! - Karakurt, G., et al. (2019). *Neuroscience & Biobehavioral Reviews*, 105, 220-230.
//! - Murphy, C. M., & Ting, L. A. (2010). Interventions for perpetrators of intimate partner
//!   violence: A review of efficacy research and recent trends.
//! - Nesset, M. B., et al. (2019). *BMC Psychiatry*, 19, 11.
//! - Santirso, F. A., Gilchrist, G., Lila, M., & Gracia, E. (2020). *Psychosocial
//!   Intervention*, 29(3), 175-190.
//! - Smedslund, G., et al. (2011). Cognitive behavioural therapy for men who physically abuse
//!   their female partner. *Campbell Systematic Reviews*, 2011:1.
//! - Stephens-Lewis, D., et al. (2021). *Trauma, Violence, & Abuse*, 22(5), 1262-1278.
//! - Travers, Á., et al. (2021). *Clinical Psychology Review*, 84, 101974.
//! - Vigurs, C., et al. (2015). The impact of domestic violence perpetrator programmes on
//!   victim and criminal justice outcomes: A systematic review of reviews.
//! - Wilson, D. B., Feder, L., & Olaghere, A. (2021). Court-mandated interventions for
//!   individuals convicted of domestic violence. *Campbell Systematic Reviews*, 17, e1151.

mod assumptions;
mod csv;
mod generate;
mod record;
mod rng;
mod scenario_data;

pub use assumptions::{
    Assumptions, Country, D_TO_LOG_OR, DROPOUT_ELSEWHERE, DROPOUT_EUROPE, DROPOUT_SPAIN,
};
pub(crate) use csv::{LongArm, long_arms};
pub use csv::{to_csv, to_long_csv};
pub use record::{
    Arm, ArmOutcome, Comparison, ContinuousOutcome, Design, Handling, IncomeGroup, Integration,
    ProgrammeModel, Region, SimulatedStudy, Source, TwoByTwo,
};

use crate::error::Result;

/// The default seed, 20191003. `data/ipv_simulated.csv` is [`simulate`] with
/// `Assumptions::default()` and this seed.
///
/// It is the first seed from 20191001 up at which the patterns of all eight findings show
/// together (20191001 and 20191002 miss one or two); each pattern alone holds in most seeds
/// (`tests/integration/digest_findings.rs` reports the rates over seeds 1 to 200), all eight together in
/// fewer than half.
pub const DEFAULT_SEED: u64 = 20_191_003;

/// Simulates evaluations of IPV perpetrator programmes: **simulated** data, every record
/// marked `simulated = true`.
///
/// The generating model and the source of each default are documented in the
/// [module documentation](self) and on the fields of [`Assumptions`]. The result is a pure
/// function of `assumptions` and `seed`, identical on every platform. Studies come in the
/// order Duluth, CBT, integrated (substance use, trauma, motivation), couples therapy,
/// completers vs drop-outs, single groups, then the Latin American provider studies; `id` is
/// the 1-based position.
///
/// # Errors
/// [`MetaError::InvalidOption`](crate::MetaError::InvalidOption) naming the field for invalid
/// assumptions (see [`Assumptions::validate`]).
///
/// # Examples
/// ```
/// use metan::datasets::ipv::{self, Assumptions, Source};
/// let a = Assumptions::default();
/// let one = ipv::simulate(&a, ipv::DEFAULT_SEED)?;
/// let again = ipv::simulate(&a, ipv::DEFAULT_SEED)?;
/// assert_eq!(one, again);
/// let other = ipv::simulate(&a, 1)?;
/// assert_ne!(one, other);
/// // a bigger official-record bias changes the official counts
/// let biased = Assumptions { official_bias: -1.0, ..Assumptions::default() };
/// let b = ipv::simulate(&biased, ipv::DEFAULT_SEED)?;
/// assert_ne!(one, b);
/// assert!(one.iter().zip(&b).all(|(x, y)| x.measured(Source::Official) == y.measured(Source::Official)));
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn simulate(assumptions: &Assumptions, seed: u64) -> Result<Vec<SimulatedStudy>> {
    generate::simulate(assumptions, seed)
}

/// The shipped file `data/ipv_simulated.csv` (**simulated** data), as embedded in the
/// library: [`to_csv`] of [`simulate`] with `Assumptions::default()` and [`DEFAULT_SEED`].
///
/// # Examples
/// ```
/// let text = metan::datasets::ipv::shipped_csv();
/// assert!(text.starts_with("simulated,label,"));
/// assert_eq!(text.lines().count(), 56);
/// ```
pub fn shipped_csv() -> &'static str {
    include_str!("../../data/ipv_simulated.csv")
}

/// The shipped file `data/ipv_simulated_long.csv` (**simulated** data), as embedded in the
/// library: [`to_long_csv`] of [`simulate`] with `Assumptions::default()` and
/// [`DEFAULT_SEED`], the input of `metan scenarios` (with `data/digest_scenarios.toml`).
///
/// # Examples
/// ```
/// let text = metan::datasets::ipv::shipped_long_csv();
/// assert!(text.starts_with("simulated,study,source,comparison,"));
/// assert!(text.lines().skip(1).all(|l| l.starts_with("true,Sim-IPV-")));
/// ```
pub fn shipped_long_csv() -> &'static str {
    include_str!("../../data/ipv_simulated_long.csv")
}
