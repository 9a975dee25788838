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
//! With the defaults, 50 evaluations: 43 from high-income countries (14 Duluth, 14 CBT,
//! 4 + 2 + 3 integrated with substance-use, trauma and motivation components, 6 couples
//! therapy) and 7 provider studies from Latin America and the Caribbean with no comparison
//! group (Esquivel Santoveña & da Silva 2016). High-income designs are RCTs with probability
//! 0.30, quasi-experiments 0.55 and completer-vs-drop-out comparisons 0.15. Each study
//! measures official records, partner reports and perpetrator self-reports with the
//! probabilities of [`Assumptions`] (official records most often: "an over-reliance on
//! official reports", Karakurt et al. 2019).
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
//! normal draws; `expit(x) = 1 / (1 + e^-x)`.
//!
//! 1. **Base rate** of actual violence (what partners would report) without a programme:
//!    `a_i = logit(0.30) + sigma_b z_1 + 0.5 ln(t / 12)`, with `sigma_b = 0.9` (1.3 in Latin
//!    America); `expit(a_i)` is recorded as `true_base_rate`.
//! 2. **True effect** on actual violence: `theta_i = mu_g + tau z_2` (recorded as
//!    `true_log_or`), with `mu_Duluth = mu_CBT = ln 0.99`, `mu_integrated = ln 0.80`, and for
//!    couples therapy `mu_couples = -0.5 pi / sqrt(3)` relative to a standard programme.
//! 3. **Arms**, log odds of actual violence: programme `A_1 = a_i + s_i + theta_i +
//!    beta_QE [D = QE]`, comparison `A_0 = a_i + s_i`, where `s_i = (mu_Duluth + mu_CBT) / 2`
//!    in couples studies (whose comparison is a standard programme) and 0 otherwise, and
//!    `beta_QE = ln 0.75` is the selection bias of quasi-experiments. Completer-vs-drop-out
//!    designs have the programme arm only.
//! 4. **Sources**: the log odds that source `s` records a re-offence in arm `k` is
//!    `L_ks = A_k + delta_s + T_k b_s`, with detection offsets `delta_partner = 0`,
//!    `delta_official = delta_self = -0.5`, biases towards benefit for men in a
//!    programme `b_partner = 0`, `b_official = b_self = ln(0.79 / 0.99)`, and `T_k = 1` for an
//!    arm that receives a programme (the programme arm, and the comparison arm of couples
//!    studies).
//! 5. **Drop-out**: programme drop-out probability `d ~ U(lower_c, upper_c)` (Spain 40-90%,
//!    rest of Europe 30-75%, elsewhere 10-58%); its odds are multiplied by `1 / 1.73` in
//!    motivation-enhanced programmes; `d = 0` in a no-programme comparison arm, drawn as the
//!    programme's in the standard-programme arm of couples studies. Drop-outs
//!    `D_k ~ Binomial(n_k, d_k)`.
//! 6. **Drop-out predicts re-offending**: within an arm, drop-outs have log odds `lambda = 0.8
//!    pi / sqrt(3)` higher than completers, and the arm's average is kept:
//!    completers' log odds `x_ks` solves `(1 - d) expit(x) + d expit(x + lambda) =
//!    expit(L_ks)`.
//! 7. **Counts**: re-offending completers `e ~ Binomial(n_k - D_k, expit(x_ks))` and drop-outs
//!    `f ~ Binomial(D_k, expit(x_ks + lambda))`. A quasi-experiment reports completers only
//!    with probability 0.35 (`completer_only`): its programme drop-outs' `f` is then not
//!    recorded. Completer-only analyses and completer-vs-drop-out designs are the digest's
//!    "methodologically flawed" studies ([`SimulatedStudy::is_flawed`]).
//! 8. **Sizes**: programme arm `n_1 = round(exp(ln 100 + 0.8 z_3))` clamped to 15..=1500; RCT
//!    comparison `round(n_1 U(0.85, 1.15))`; quasi-experimental comparison drawn as `n_1`.
//!
//! What an analysis of the counts then shows, before sampling error and heterogeneity:
//!
//! | analysis | odds ratio | mirrors |
//! |---|---|---|
//! | RCT, partner reports, intention to treat | `e^mu = 0.99` | victim-report OR 0.99 (0.74-1.32), Wilson, Feder & Olaghere 2021 |
//! | RCT, official records, intention to treat | `e^(mu + b_official) = 0.79` | official-report OR 0.79 (0.49-1.28), same review |
//! | quasi-experiment | a further `x 0.75` | quasi-experiments significant where RCTs are not (Cheng et al. 2021) |
//! | completers vs drop-outs | `e^-lambda = 0.23`, whatever the programme does | "large, positive mean effect" (Feder & Wilson 2005) |
//! | completers only (available case, and completer-only studies) | below the intention-to-treat OR, the more so the higher the drop-out | drop-out inflates success (Murphy & Ting 2010) |
//! | Duluth vs CBT | equal | Babcock et al. 2004; Arias et al. 2013 |
//! | integrated | `0.80` | "some promise" (Karakurt et al. 2019) |
//! | couples therapy vs standard | `0.40` | "moderate" effect in six studies (Karakurt et al. 2016) |
//!
//! Every parameter, its default and the published number it comes from are listed in the
//! documentation of the fields of [`Assumptions`]; parameters with no printed number are
//! marked as assumptions there.
//!
//! # Reproducibility
//!
//! Draws come from `rand_chacha::ChaCha8Rng` seeded with `seed` (one stream per study, so
//! one study's draws do not depend on the others'), turned into uniform, normal (Box-Muller)
//! and binomial (sums of Bernoulli) draws with exact integer and IEEE arithmetic and the pure
//! Rust `libm` functions. The same seed and assumptions give the same records, bit for bit,
//! on every platform. `data/ipv_simulated.csv` is [`to_csv`] of the default assumptions and
//! [`DEFAULT_SEED`]; a test checks that the generator reproduces it byte for byte, and
//! `cargo run --example simulate_ipv -- data/ipv_simulated.csv` rewrites it.
//!
//! # Examples
//!
//! ```
//! use metan::datasets::ipv::{self, Assumptions, Design, Handling, Source};
//! let studies = ipv::simulate(&Assumptions::default(), ipv::DEFAULT_SEED)?;
//! assert_eq!(studies.len(), 50);
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

pub use assumptions::{
    Assumptions, Country, D_TO_LOG_OR, DROPOUT_ELSEWHERE, DROPOUT_EUROPE, DROPOUT_SPAIN,
};
pub use csv::to_csv;
pub use record::{
    Arm, ArmOutcome, Comparison, Design, Handling, IncomeGroup, Integration, ProgrammeModel,
    Region, SimulatedStudy, Source, TwoByTwo,
};

use crate::error::Result;

/// The default seed, 20191001. `data/ipv_simulated.csv` is [`simulate`] with
/// `Assumptions::default()` and this seed.
pub const DEFAULT_SEED: u64 = 20_191_001;

/// Simulates evaluations of IPV perpetrator programmes: **simulated** data, every record
/// marked `simulated = true`.
///
/// The generating model and the source of each default are documented in the
/// [module documentation](self) and on the fields of [`Assumptions`]. The result is a pure
/// function of `assumptions` and `seed`, identical on every platform. Studies come in the
/// order Duluth, CBT, integrated (substance use, trauma, motivation), couples therapy, then
/// the Latin American provider studies; `id` is the 1-based position.
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
/// assert_eq!(text.lines().count(), 51);
/// ```
pub fn shipped_csv() -> &'static str {
    include_str!("../../data/ipv_simulated.csv")
}
