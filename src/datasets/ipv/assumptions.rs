//! [`Assumptions`]: every parameter of the IPV simulator, with its source.

use std::f64::consts::PI;

use super::record::{IncomeGroup, Region};
use crate::error::{MetaError, Result};

/// `pi / sqrt(3)`: converts a standardised mean difference `d` to a log odds ratio,
/// `ln OR = d * pi / sqrt(3)` (Hasselblad & Hedges 1995; Chinn 2000).
pub const D_TO_LOG_OR: f64 = PI / 1.732_050_807_568_877_2;

/// A country the simulated evaluations can come from.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Country {
    /// Name.
    pub name: String,
    /// World region.
    pub region: Region,
    /// World Bank income group.
    pub income: IncomeGroup,
    /// Relative frequency among the high-income evaluations (ignored for the Latin
    /// American list, which is taken in turn).
    pub weight: f64,
    /// Range of programme drop-out probabilities, `(lower, upper)`; each study draws its
    /// rate uniformly from it.
    pub dropout_range: (f64, f64),
}

impl Country {
    fn new(
        name: &str,
        region: Region,
        income: IncomeGroup,
        weight: f64,
        dropout_range: (f64, f64),
    ) -> Self {
        Country {
            name: name.to_string(),
            region,
            income,
            weight,
            dropout_range,
        }
    }
}

/// Drop-out range in Spain: "ranging from 40% to 90%" (Ferrer-Perez & Bosch-Fiol 2018).
pub const DROPOUT_SPAIN: (f64, f64) = (0.40, 0.90);
/// Drop-out range in the rest of Europe: "up to 75%, and rarely below 30%" (Akoensi et al.
/// 2012).
pub const DROPOUT_EUROPE: (f64, f64) = (0.30, 0.75);
/// Drop-out range elsewhere: "dropout 10%-58%" across 36 studies of 2000-2013 (Cunha &
/// Gonçalves 2014).
pub const DROPOUT_ELSEWHERE: (f64, f64) = (0.10, 0.58);

/// The parameters of [`simulate`](super::simulate), all public. `Assumptions::default()` is
/// the calibration documented in the [module documentation](super); each field's
/// documentation gives its default and the published figure it comes from, or says that it
/// is an assumption where no figure was printed.
///
/// Effects are log odds ratios of re-offending, programme vs comparison: negative values
/// favour the programme.
///
/// # Examples
/// ```
/// use metan::datasets::ipv::{self, Assumptions};
/// // a world in which official records are as honest as partner reports
/// let a = Assumptions { official_bias: 0.0, ..Assumptions::default() };
/// let studies = ipv::simulate(&a, ipv::DEFAULT_SEED)?;
/// assert!(studies.iter().all(|s| s.simulated));
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Assumptions {
    // ---- how many evaluations, of which programme and comparison ----
    /// High-income evaluations of Duluth programmes against no programme. Default 10:
    /// Eckhardt et al. (2013) review 20 studies of traditional (Duluth or CBT) programmes with
    /// a comparison group and 10 of alternative formats; split evenly between Duluth and CBT
    /// (no difference between the models: Babcock et al. 2004).
    pub studies_duluth: usize,
    /// High-income evaluations of CBT programmes against no programme. Default 10 (as
    /// Duluth).
    pub studies_cbt: usize,
    /// Integrated programmes with a substance-use component, against no programme. Default
    /// 4 (Stephens-Lewis et al. 2021: 4 trials with IPV outcomes).
    pub studies_substance_use: usize,
    /// Integrated programmes with a trauma component. Default 2 (Karakurt et al. 2019 name
    /// trauma components among their 13 studies; an assumption).
    pub studies_trauma: usize,
    /// Integrated programmes with motivation enhancement. Default 4: the rest of Eckhardt et
    /// al.'s (2013) 10 alternative-format studies (motivation enhancement, substance abuse,
    /// case management); Murphy & Ting (2010) and Eckhardt et al. call motivational formats
    /// the most promising.
    pub studies_motivation: usize,
    /// Couples therapy against a standard programme. Default 6: "six studies" (Karakurt et
    /// al. 2016).
    pub studies_couples: usize,
    /// High-income evaluations that compare a programme's completers with its drop-outs (no
    /// comparison group). Default 4 (the number is an assumption: Feder & Wilson 2005 analyse
    /// such "dropout designs" separately, with a "large, positive mean effect"; the study
    /// facts read include a propensity-score comparison of completers with drop-outs, 633
    /// men, and the four-city study of court-referred men, NCJ 181487).
    pub studies_completers_vs_dropouts: usize,
    /// High-income evaluations with one group and no comparison (pre-post, or a recidivism
    /// rate). Default 8: "The remaining studies used pre-post design only", 8 of the 13
    /// studies of Karakurt et al. (2019); only one of 12 European studies had a comparison
    /// group (Akoensi et al. 2012).
    pub studies_single_group: usize,
    /// Evaluations from Latin America and the Caribbean, all from programme providers and
    /// none with a comparison group. Default 7: "seven empirical studies obtained from
    /// programme providers ... None of these studies documented the use of a comparison
    /// group" (Esquivel Santoveña & da Silva 2016).
    pub studies_latin_america: usize,
    /// Probability that an evaluation without a comparison arm (completers vs drop-outs,
    /// single group, Latin America) is of a CBT rather than a Duluth programme. Default 0.5
    /// (an assumption; no breakdown printed).
    pub uncontrolled_p_cbt: f64,

    // ---- design ----
    /// Share of RCTs among the evaluations with a comparison group. The designs are
    /// allocated exactly, `round(share * n)` in each group of evaluations (the 20
    /// traditional, the 10 alternative and the 6 couples-therapy evaluations by default), and
    /// placed at random within the group; the others are quasi-experiments. Default 1/3:
    /// "four randomized controlled trials and eight quasi-experimental" studies (Wilson,
    /// Feder & Olaghere 2021, as printed in a summary); Karakurt et al. (2019): 3 RCTs of
    /// 13 studies.
    pub rct_share: f64,
    /// Share of the programme-vs-no-programme evaluations that are methodologically flawed:
    /// quasi-experiments that analyse programme completers only (the drop-outs' outcomes
    /// unknown), allocated like [`rct_share`](Self::rct_share) (couples-therapy evaluations
    /// have none). Default 0.15: "three studies with significant methodological flaws" among
    /// 20 (Eckhardt et al. 2013), so exactly 3 of the 20 traditional evaluations. Completer
    /// analyses as the flaw: Dutton (1986) compared the 50 men who completed with untreated
    /// men; Chen et al. (1989) found reductions only in men attending 75% or more of the
    /// sessions. RCTs always report intention to treat.
    pub completer_only_share: f64,
    /// Share of the programme-vs-no-programme evaluations whose programme is tailored to the
    /// men (risk, needs, motivation) rather than delivered from a standard manual, allocated
    /// exactly across the traditional and alternative evaluations. Default 0.25 (an
    /// assumption: programmes "do not reflect this need for tailoring", Vigurs et al. 2015,
    /// so tailored programmes are a minority).
    pub tailored_share: f64,

    // ---- base rates ----
    /// Probability of actual violence (as partners report it) within 12 months without a
    /// programme, at the median study. Default 0.30: with [`follow_up_log_slope`](Self::follow_up_log_slope)
    /// it gives 40% over 30 months, the 41% partner-reported re-assault over 30 months of the
    /// four-city study of court-referred men (NCJ 181487); partner reports show more
    /// recidivism than official reports (Arias, Arce & Vilariño 2013).
    pub base_rate_12m: f64,
    /// Growth of the base rate with follow-up: its log odds rise by
    /// `follow_up_log_slope * ln(t / 12)` for a follow-up of `t` months. Default 0.5 (an
    /// assumption: re-offending concentrates early, so rates grow more slowly than a
    /// constant hazard would make them; Travers et al. 2021 find effects changing with
    /// follow-up).
    pub follow_up_log_slope: f64,
    /// Between-study SD of the base rate, logit scale. Default 0.9 (an assumption: with the
    /// follow-up lengths, 95% of untreated official rates fall between about 3% and 70%,
    /// close to the recidivism range "0%-65.9%" of Cunha & Gonçalves 2014).
    pub base_rate_sd: f64,
    /// Between-study SD of the base rate in Latin American evaluations, logit scale. Default
    /// 1.3 (an assumption: recidivism "between 0.8% and 65%", some "as high as 90%":
    /// Esquivel Santoveña & da Silva 2016).
    pub base_rate_sd_latin_america: f64,
    /// Follow-up lengths in months, drawn with equal probability. Default 6, 12, 18, 24, 30,
    /// 36 (the study facts read: 6 and 12 months in Brooklyn, 12 in Broward, 12-18 in the
    /// Bronx, 15, 18, 30 months; Travers et al. 2021 split at one and two years).
    pub follow_up_months: Vec<u32>,
    /// Range of publication years, inclusive. Default 1986-2019 (Cheng et al. 2021: studies
    /// published 1986-2016; the digest's reviews run to 2019).
    pub years: (u32, u32),

    // ---- sources: detection and bias ----
    /// Logit offset of official records relative to partner reports (official records miss
    /// violence). Default -0.5: the median untreated 12-month official rate is then 21%,
    /// between the untreated 19.4% of Gannon et al. (2019) and the 24% 12-month re-arrest of
    /// the Broward experiment (Feder & Forde 2000); "couple reports show more recidivism than
    /// official reports" (Arias, Arce & Vilariño 2013).
    pub official_offset: f64,
    /// Logit offset of perpetrator self-reports relative to partner reports. Default -0.5, as
    /// official records (an assumption: the digest says perpetrator and official reports both
    /// "underestimate the incidence of violence"; no number printed).
    pub self_report_offset: f64,
    /// Bias of official records towards benefit in men who are in a programme, added to the
    /// log odds of an official record in programme arms. Default ln(0.79 / 0.99) = -0.2257:
    /// in experimental studies the official-report OR is 0.79 (0.49-1.28) and the
    /// victim-report OR 0.99 (0.74-1.32) (Wilson, Feder & Olaghere 2021). Feder & Wilson
    /// (2005) report a larger gap, d = .26 official vs .01 partner (ln OR difference 0.45).
    pub official_bias: f64,
    /// Bias of perpetrator self-reports towards benefit in programme arms. Default
    /// ln(0.79 / 0.99), as official records (an assumption: no pooled self-report number was
    /// printed; Nesset et al. 2019 found reductions in 3 of 4 RCTs relying mostly on
    /// self-reports).
    pub self_report_bias: f64,
    /// How strongly the sources agree about the same man: for each man and source, the
    /// probability that the source's record comes from one draw shared by all his sources
    /// (otherwise from an independent draw). Each source keeps its own rate; 0 makes the
    /// sources independent given the rates, 1 makes them agree as far as their rates allow
    /// (a man recorded by the police is then also reported by his partner). Default 0.5 (an
    /// assumption: official records and partner reports describe the same men, so their
    /// effects are correlated within a study; no correlation was printed).
    pub source_coupling: f64,

    // ---- which sources a study measures ----
    /// Probability that a study uses official records. Default 0.85: "an over-reliance on
    /// official reports as the measure of success" (Karakurt et al. 2019).
    pub p_official: f64,
    /// Probability that an RCT uses partner reports. Default 0.70: in the Campbell review as
    /// many experimental studies report victim outcomes as official ones (k = 7 each;
    /// Wilson, Feder & Olaghere 2021).
    pub p_partner_rct: f64,
    /// Probability that another design uses partner reports. Default 0.30 (an assumption
    /// reflecting the "over-reliance on official reports", Karakurt et al. 2019).
    pub p_partner_other: f64,
    /// Probability that a study outside Europe uses perpetrator self-reports. Default 0.35
    /// (an assumption; Nesset et al. 2019: "most relied only on self-reports").
    pub p_self_report: f64,
    /// Probability that a European study uses perpetrator self-reports. Default 7/12:
    /// "seven of the studies relied on perpetrator self-reports" of 12 (Akoensi et al.
    /// 2012).
    pub p_self_report_europe: f64,

    // ---- true effects (on actual violence) ----
    /// Mean true log OR of Duluth programmes vs no programme. Default ln(0.99) = -0.0101:
    /// victim-report OR 0.99 (0.74-1.32) (Wilson, Feder & Olaghere 2021); Feder & Wilson
    /// (2005): mean effect for victim-reported outcomes "zero".
    pub effect_duluth: f64,
    /// Mean true log OR of CBT programmes. Default ln(0.99), as Duluth: "no differences in
    /// effect sizes in comparing Duluth model vs. CBT-type interventions" (Babcock et al.
    /// 2004); intervention type not a significant moderator (Arias, Arce & Vilariño 2013).
    pub effect_cbt: f64,
    /// Mean true log OR of programmes with a substance-use component. Default
    /// -0.2 pi / sqrt(3) = -0.363 (OR 0.70), Cohen's small d = 0.2: "some promise"
    /// (the digest); Karakurt et al. (2019) find CBT augmented with substance-use components
    /// more effective (pre-post subgroup CI -3.20 to -1.08 against -1.02 to -0.69 for all
    /// programmes); Stephens-Lewis et al. (2021) find no difference in IPV outcomes. No
    /// comparable number was printed: a small effect is an assumption.
    pub effect_substance_use: f64,
    /// Mean true log OR of programmes with a trauma component. Default -0.2 pi / sqrt(3), as
    /// substance use (Karakurt et al. 2019: trauma subgroup CI -2.63 to -0.30 in pre-post
    /// data; a small effect is an assumption).
    pub effect_trauma: f64,
    /// Mean true log OR of programmes with motivation enhancement. Default -0.2 pi / sqrt(3),
    /// as substance use (Murphy & Ting 2010: "the most promise"; Santirso et al. 2020: IPV
    /// outcomes favoured motivational strategies "although not significantly"; a small
    /// effect is an assumption).
    pub effect_motivation: f64,
    /// Mean true log OR of couples therapy **vs a standard programme**. Default
    /// -0.5 pi / sqrt(3) = -0.907 (d = 0.5): a "moderately significant positive effect" in six
    /// studies (Karakurt et al. 2016; no number printed on the page read, so Cohen's medium
    /// d = 0.5 is used).
    pub effect_couples: f64,
    /// Mean change of the true log OR when the programme is tailored to the men. Default
    /// ln(0.80) = -0.223: "psychological-psychiatric treatment tailored to the perpetrator
    /// was shown to be more effective", programmes "based on a standard manual are less
    /// effective" (Arias, Arce & Vilariño 2013, as summarised in the digest); tailoring
    /// matters more than the model (Ferrer-Perez & Bosch-Fiol 2018). Default
    /// -0.2 pi / sqrt(3) (OR 0.70, Cohen's small d = 0.2). No number was printed: the size is
    /// an assumption, that of the integrated components.
    pub effect_tailored: f64,
    /// Between-study SD of true log ORs (every model). Default 0.3: no IPV review printed
    /// tau^2 (individual trials "varied from harmful ... to positive effect", Smedslund et al.
    /// 2011), so it is taken from the closest real data set shipped with metan, the 58 CBT
    /// programmes for offenders of Landenberger & Lipsey (2005), whose log odds ratios of
    /// re-offending have REML tau^2 = 0.105 (tau = 0.32).
    pub tau: f64,

    // ---- design biases ----
    /// Selection bias of quasi-experiments, added to the programme arm's log odds (its men
    /// are selected at lower risk). Default ln(0.85) = -0.163, a small bias: "small but not
    /// statistically significant benefit" in quasi-experiments (Wilson, Feder & Olaghere
    /// 2021); quasi-experiments significant where RCTs are not (Cheng et al. 2021); weaker
    /// designs "consistently reported larger positive effects" (Vigurs et al. 2015); but
    /// quasi-experimental no-treatment comparisons showed a "small harmful effect" in Feder &
    /// Wilson (2005), so the selection is not large. The size is an assumption.
    pub quasi_experimental_bias: f64,
    /// Log odds ratio of re-offending, drop-outs vs completers of the same programme (drop-out
    /// predicts re-offending: Murphy & Ting 2010). Default 0.8 pi / sqrt(3) = 1.451 (d = 0.8):
    /// completer-vs-drop-out designs show a "large, positive mean effect" (Feder & Wilson
    /// 2005), taken as Cohen's large d = 0.8. In those designs this is exactly the effect
    /// they see, with no programme effect at all.
    pub dropout_log_or: f64,
    /// Odds ratio of dropping out in motivation-enhanced programmes relative to others.
    /// Default 1 / 1.73: with motivational strategies participants were "1.73 times less
    /// likely" to drop out (Santirso et al. 2020).
    pub motivation_dropout_odds_ratio: f64,

    // ---- a continuous partner-reported score ----
    /// Mean of the CTS-like partner-reported violence score (higher = more violence) in an
    /// arm without a programme. Default 2.0 (arbitrary units; an assumption: only the
    /// standardised difference matters when the score is converted to the log odds ratio
    /// scale). The programme arm's mean is higher by `d * sd` with
    /// `d = (A_1 - A_0) / (pi / sqrt 3)`, the study's true log odds ratio of actual violence
    /// (step 3 of the generating model) as a standardised mean difference (Hasselblad &
    /// Hedges 1995), so the score shows what partner reports show: no benefit on average
    /// (victim-report OR 0.99, Wilson, Feder & Olaghere 2021; d = .01 for partner reports,
    /// Feder & Wilson 2005).
    pub partner_score_mean: f64,
    /// Within-arm SD of the partner-reported score. Default 1.0 (arbitrary units, as the
    /// mean).
    pub partner_score_sd: f64,

    // ---- sample sizes ----
    /// Median number of men per arm. Default 120: about the median arm of the controlled
    /// studies whose sizes were read (Broward 216/188, Bronx 202/218 with and without a
    /// programme, Chen 120/101, Chesterfield 132/116, Brooklyn 376 in three arms, Journey
    /// 492 in two, Alexander 528 in two, Kraanen 27/25, Murphy 42 in two, Palmstierna 26 in
    /// two: `study-facts.csv` of the digest material).
    pub arm_size_median: f64,
    /// SD of the log arm size. Default 0.8 (an assumption; "small sample sizes", Nesset et al.
    /// 2019, Akoensi et al. 2012).
    pub arm_size_sdlog: f64,
    /// Smallest and largest arm, inclusive. Default 15 and 1500.
    pub arm_size_range: (u32, u32),

    // ---- countries ----
    /// Countries of the high-income evaluations, drawn by weight. Default: USA 0.50, Canada
    /// 0.06, UK 0.12, Spain 0.10, Norway 0.03, Sweden 0.03, Netherlands 0.03, Germany 0.03,
    /// Australia 0.07, New Zealand 0.03 ("particularly the United States and the United
    /// Kingdom - and to a lesser extent other countries in Europe - as well as Australia and
    /// New Zealand": the digest; Nesset et al. 2019: Norway, Spain, Sweden, US; weights an
    /// assumption), with drop-out ranges [`DROPOUT_SPAIN`], [`DROPOUT_EUROPE`] and
    /// [`DROPOUT_ELSEWHERE`].
    pub high_income_countries: Vec<Country>,
    /// Countries of the Latin American evaluations, taken in turn: Brazil, Chile, Costa Rica,
    /// Dominican Republic, Mexico, Nicaragua (Esquivel Santoveña & da Silva 2016), with their
    /// World Bank income group of 2016 (Chile high; Nicaragua lower-middle; the others
    /// upper-middle) and drop-out range [`DROPOUT_ELSEWHERE`].
    pub latin_america_countries: Vec<Country>,
}

impl Default for Assumptions {
    fn default() -> Self {
        use IncomeGroup::{High, LowerMiddleOrLow, UpperMiddle};
        use Region::{Europe, LatinAmericaCaribbean as Lac, NorthAmerica, Oceania};
        let bias = libm::log(0.79 / 0.99);
        Assumptions {
            studies_duluth: 10,
            studies_cbt: 10,
            studies_substance_use: 4,
            studies_trauma: 2,
            studies_motivation: 4,
            studies_couples: 6,
            studies_completers_vs_dropouts: 4,
            studies_single_group: 8,
            studies_latin_america: 7,
            uncontrolled_p_cbt: 0.5,
            rct_share: 1.0 / 3.0,
            completer_only_share: 0.15,
            tailored_share: 0.25,
            base_rate_12m: 0.30,
            follow_up_log_slope: 0.5,
            base_rate_sd: 0.9,
            base_rate_sd_latin_america: 1.3,
            follow_up_months: vec![6, 12, 18, 24, 30, 36],
            years: (1986, 2019),
            official_offset: -0.5,
            self_report_offset: -0.5,
            official_bias: bias,
            self_report_bias: bias,
            source_coupling: 0.5,
            p_official: 0.85,
            p_partner_rct: 0.70,
            p_partner_other: 0.30,
            p_self_report: 0.35,
            p_self_report_europe: 7.0 / 12.0,
            effect_duluth: libm::log(0.99),
            effect_cbt: libm::log(0.99),
            effect_substance_use: -0.2 * D_TO_LOG_OR,
            effect_trauma: -0.2 * D_TO_LOG_OR,
            effect_motivation: -0.2 * D_TO_LOG_OR,
            effect_couples: -0.5 * D_TO_LOG_OR,
            effect_tailored: -0.2 * D_TO_LOG_OR,
            tau: 0.3,
            quasi_experimental_bias: libm::log(0.85),
            dropout_log_or: 0.8 * D_TO_LOG_OR,
            motivation_dropout_odds_ratio: 1.0 / 1.73,
            partner_score_mean: 2.0,
            partner_score_sd: 1.0,
            arm_size_median: 120.0,
            arm_size_sdlog: 0.8,
            arm_size_range: (15, 1500),
            high_income_countries: vec![
                Country::new("USA", NorthAmerica, High, 0.50, DROPOUT_ELSEWHERE),
                Country::new("Canada", NorthAmerica, High, 0.06, DROPOUT_ELSEWHERE),
                Country::new("UK", Europe, High, 0.12, DROPOUT_EUROPE),
                Country::new("Spain", Europe, High, 0.10, DROPOUT_SPAIN),
                Country::new("Norway", Europe, High, 0.03, DROPOUT_EUROPE),
                Country::new("Sweden", Europe, High, 0.03, DROPOUT_EUROPE),
                Country::new("Netherlands", Europe, High, 0.03, DROPOUT_EUROPE),
                Country::new("Germany", Europe, High, 0.03, DROPOUT_EUROPE),
                Country::new("Australia", Oceania, High, 0.07, DROPOUT_ELSEWHERE),
                Country::new("New Zealand", Oceania, High, 0.03, DROPOUT_ELSEWHERE),
            ],
            latin_america_countries: vec![
                Country::new("Brazil", Lac, UpperMiddle, 1.0, DROPOUT_ELSEWHERE),
                Country::new("Chile", Lac, High, 1.0, DROPOUT_ELSEWHERE),
                Country::new("Costa Rica", Lac, UpperMiddle, 1.0, DROPOUT_ELSEWHERE),
                Country::new(
                    "Dominican Republic",
                    Lac,
                    UpperMiddle,
                    1.0,
                    DROPOUT_ELSEWHERE,
                ),
                Country::new("Mexico", Lac, UpperMiddle, 1.0, DROPOUT_ELSEWHERE),
                Country::new("Nicaragua", Lac, LowerMiddleOrLow, 1.0, DROPOUT_ELSEWHERE),
            ],
        }
    }
}

fn bad(option: &str, value: impl std::fmt::Display, reason: &str) -> MetaError {
    MetaError::InvalidOption {
        option: format!("Assumptions.{option}"),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn probability(name: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(bad(name, p, "must be a probability in [0, 1]"))
    }
}

fn finite(name: &str, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(bad(name, x, "must be finite"))
    }
}

fn countries(name: &str, list: &[Country], needed: bool) -> Result<()> {
    if needed && list.is_empty() {
        return Err(bad(name, "[]", "needs at least one country"));
    }
    for c in list {
        let (lo, hi) = c.dropout_range;
        if !(0.0 <= lo && lo <= hi && hi <= 1.0) {
            return Err(bad(
                &format!("{name}[{}].dropout_range", c.name),
                format!("({lo}, {hi})"),
                "must satisfy 0 <= lower <= upper <= 1",
            ));
        }
        if !(c.weight.is_finite() && c.weight >= 0.0) {
            return Err(bad(
                &format!("{name}[{}].weight", c.name),
                c.weight,
                "must be finite and >= 0",
            ));
        }
    }
    if needed && list.iter().map(|c| c.weight).sum::<f64>() <= 0.0 {
        return Err(bad(name, "weights", "the weights must have a positive sum"));
    }
    Ok(())
}

impl Assumptions {
    /// Total number of simulated evaluations.
    pub fn total_studies(&self) -> usize {
        self.high_income_studies() + self.studies_latin_america
    }

    /// Number of high-income evaluations (every model and comparison).
    pub fn high_income_studies(&self) -> usize {
        self.traditional_studies()
            + self.alternative_studies()
            + self.studies_couples
            + self.studies_completers_vs_dropouts
            + self.studies_single_group
    }

    /// Programme-vs-no-programme evaluations of traditional (Duluth or CBT) programmes.
    pub fn traditional_studies(&self) -> usize {
        self.studies_duluth + self.studies_cbt
    }

    /// Programme-vs-no-programme evaluations of alternative (integrated) programmes.
    pub fn alternative_studies(&self) -> usize {
        self.studies_substance_use + self.studies_trauma + self.studies_motivation
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] naming the field (`Assumptions.<field>`) for: no studies
    /// at all, a probability or share outside [0, 1], `rct_share + completer_only_share > 1`,
    /// a non-finite effect, bias, offset or score mean, a negative SD, a non-positive score
    /// SD, a base rate outside (0, 1), an
    /// empty or zero follow-up list, reversed year or size ranges, a non-positive median
    /// size, and a country list that is empty when needed, has a drop-out range outside
    /// [0, 1] or weights without a positive sum.
    ///
    /// # Examples
    /// ```
    /// use metan::datasets::ipv::Assumptions;
    /// assert!(Assumptions::default().validate().is_ok());
    /// let bad = Assumptions { p_official: 1.5, ..Assumptions::default() };
    /// assert!(bad.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.total_studies() == 0 {
            return Err(bad("studies_*", 0, "at least one study is needed"));
        }
        for (n, p) in [
            ("uncontrolled_p_cbt", self.uncontrolled_p_cbt),
            ("rct_share", self.rct_share),
            ("completer_only_share", self.completer_only_share),
            ("tailored_share", self.tailored_share),
            ("source_coupling", self.source_coupling),
            ("p_official", self.p_official),
            ("p_partner_rct", self.p_partner_rct),
            ("p_partner_other", self.p_partner_other),
            ("p_self_report", self.p_self_report),
            ("p_self_report_europe", self.p_self_report_europe),
        ] {
            probability(n, p)?;
        }
        if self.rct_share + self.completer_only_share > 1.0 {
            return Err(bad(
                "completer_only_share",
                self.completer_only_share,
                "rct_share + completer_only_share must be <= 1",
            ));
        }
        for (n, x) in [
            ("official_offset", self.official_offset),
            ("follow_up_log_slope", self.follow_up_log_slope),
            ("self_report_offset", self.self_report_offset),
            ("official_bias", self.official_bias),
            ("self_report_bias", self.self_report_bias),
            ("effect_duluth", self.effect_duluth),
            ("effect_cbt", self.effect_cbt),
            ("effect_substance_use", self.effect_substance_use),
            ("effect_trauma", self.effect_trauma),
            ("effect_motivation", self.effect_motivation),
            ("effect_couples", self.effect_couples),
            ("effect_tailored", self.effect_tailored),
            ("partner_score_mean", self.partner_score_mean),
            ("quasi_experimental_bias", self.quasi_experimental_bias),
            ("dropout_log_or", self.dropout_log_or),
        ] {
            finite(n, x)?;
        }
        for (n, s) in [
            ("tau", self.tau),
            ("base_rate_sd", self.base_rate_sd),
            (
                "base_rate_sd_latin_america",
                self.base_rate_sd_latin_america,
            ),
            ("arm_size_sdlog", self.arm_size_sdlog),
        ] {
            if !(s.is_finite() && s >= 0.0) {
                return Err(bad(n, s, "must be finite and >= 0"));
            }
        }
        if !(self.base_rate_12m > 0.0 && self.base_rate_12m < 1.0) {
            return Err(bad(
                "base_rate_12m",
                self.base_rate_12m,
                "must be in (0, 1)",
            ));
        }
        if !(self.partner_score_sd.is_finite() && self.partner_score_sd > 0.0) {
            return Err(bad(
                "partner_score_sd",
                self.partner_score_sd,
                "must be finite and > 0",
            ));
        }
        let r = self.motivation_dropout_odds_ratio;
        if !(r.is_finite() && r > 0.0) {
            return Err(bad(
                "motivation_dropout_odds_ratio",
                r,
                "must be finite and > 0",
            ));
        }
        if self.follow_up_months.is_empty() || self.follow_up_months.contains(&0) {
            return Err(bad(
                "follow_up_months",
                self.follow_up_months
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                "needs at least one length, every length >= 1 month",
            ));
        }
        if self.years.0 > self.years.1 {
            return Err(bad(
                "years",
                format!("{}-{}", self.years.0, self.years.1),
                "the first year must not exceed the last",
            ));
        }
        let (lo, hi) = self.arm_size_range;
        if lo == 0 || lo > hi {
            return Err(bad(
                "arm_size_range",
                format!("({lo}, {hi})"),
                "must satisfy 1 <= smallest <= largest",
            ));
        }
        if !(self.arm_size_median.is_finite() && self.arm_size_median > 0.0) {
            return Err(bad(
                "arm_size_median",
                self.arm_size_median,
                "must be finite and > 0",
            ));
        }
        countries(
            "high_income_countries",
            &self.high_income_countries,
            self.high_income_studies() > 0,
        )?;
        countries(
            "latin_america_countries",
            &self.latin_america_countries,
            self.studies_latin_america > 0,
        )?;
        Ok(())
    }
}
