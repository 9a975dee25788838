//! # metan
//!
//! Meta-analysis in Rust, numerically identical to R's
//! [metafor](https://www.metafor-project.org) (Viechtbauer 2010): equal- and
//! random-effects models with every common tau^2 estimator (DL, HE, HS, HSk, SJ, ML, REML,
//! EB, PM, PMM, GENQ), z / t / Knapp-Hartung tests, prediction intervals, heterogeneity
//! statistics and their Q-profile confidence intervals; meta-regression, subgroup analyses,
//! likelihood-ratio tests and permutation tests; cluster-robust inference (CR1, CR2) and
//! robumeta's RVE for dependent effects. Every fit is O(k) (O(k p^2) with p
//! moderator columns): no k x k matrix is ever formed.
//!
//! ## Quick start
//!
//! ```
//! use metan::{MetaAnalysis, Method, Studies, TestKind};
//!
//! // log risk ratios and their sampling variances (first six BCG trials)
//! let studies = Studies::from_variances(
//!     vec![-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861],
//!     vec![0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069],
//! )?;
//!
//! let fit = MetaAnalysis::new()          // REML, z test, 95%
//!     .fit(&studies)?;
//! println!("{fit}");                      // metafor's print.rma.uni layout
//! assert!(fit.estimate() < 0.0);
//! assert!(fit.ci().0 < fit.estimate() && fit.estimate() < fit.ci().1);
//!
//! // a DerSimonian-Laird fit with the Knapp-Hartung adjustment
//! let dl = MetaAnalysis::new().method(Method::DL).test(TestKind::Knha).fit(&studies)?;
//! assert_eq!(dl.df(), Some(5.0));
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! ## Moderators
//!
//! [`MetaRegression`] fits mixed-effects meta-regressions (metafor's `rma(yi, vi, mods = ...)`)
//! with numeric and categorical moderators and every estimator above; [`subgroup_analysis`]
//! pools each subgroup and tests their differences; [`anova`] compares nested models by a
//! likelihood-ratio test; [`PermutationTest`] gives exact or seeded random permutation
//! p-values (in parallel with the default `parallel` feature).
//!
//! ```
//! use metan::{MetaRegression, PermutationTest, Studies, TestKind};
//!
//! let studies = Studies::from_variances(
//!     vec![-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120],
//!     vec![0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040],
//! )?
//! .with_moderator("ablat", vec![44., 55., 42., 52., 13., 44., 19., 13.])?
//! .with_attribute("alloc", ["random", "random", "random", "random", "alternate",
//!                           "alternate", "random", "random"])?;
//!
//! let model = MetaRegression::new().moderators(["ablat", "alloc"]).test(TestKind::Knha);
//! let fit = model.fit(&studies)?;
//! println!("{fit}");                      // metafor's mixed-effects print layout
//! assert_eq!(fit.names(), ["intrcpt", "ablat", "allocrandom"]);
//! let perm = PermutationTest::new().iter(1000).seed(1).run(&model, &studies)?;
//! assert!(perm.qm_p_value() > 0.0);
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! ## Dependent effects
//!
//! Several effects per study: [`Studies::with_clusters`] assigns each effect its study, then
//! [`MetaFit::robust`] / [`MetaRegressionFit::robust`] give cluster-robust inference (CR2 with
//! Satterthwaite degrees of freedom and HTZ tests, as clubSandwich; CR1, as metafor's
//! `robust()`), [`Robu`] fits robumeta's correlated or hierarchical effects models, and
//! [`data::Aggregate`] reduces each cluster to one effect (metafor's `aggregate()`).
//!
//! ```
//! use metan::data::Aggregate;
//! use metan::{MetaAnalysis, MetaRegression, Robu, RobustKind, Studies};
//!
//! // two outcomes (official records, partner reports) in each of five studies
//! let s = Studies::from_variances(
//!     vec![0.20, 0.31, 0.12, 0.25, 0.35, 0.41, 0.05, 0.22, 0.28, 0.30],
//!     vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.05, 0.03, 0.02, 0.03],
//! )?
//! .with_attribute("outcome", ["official", "partner"].repeat(5))?
//! .with_clusters(["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"])?;
//!
//! let fit = MetaRegression::new().moderator("outcome").fit(&s)?;
//! let cr2 = fit.robust(&s, RobustKind::CR2)?;            // clubSandwich's CR2
//! let partner = &cr2.coefficients()[1];
//! assert_eq!(partner.name, "outcomepartner");
//! assert!(partner.df.unwrap() < 4.0);                     // five clusters: few df
//! let htz = cr2.test_zero(&["outcomepartner"])?;         // HTZ Wald test
//! assert!((htz.statistic - partner.statistic.powi(2)).abs() < 1e-9);
//!
//! let rve = Robu::new().rho(0.8).moderator("outcome").fit(&s)?;   // robumeta
//! assert!(rve.tau2() >= 0.0);
//!
//! let per_study = Aggregate::compound_symmetry(0.6).apply(&s)?;   // one effect per study
//! assert_eq!(per_study.k(), 5);
//! let pooled = MetaAnalysis::new().fit(&per_study)?;
//! assert!(pooled.se() > 0.0);
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! Standard errors cannot be passed as variances by accident:
//! [`Studies::from_standard_errors`] and [`Studies::from_variances`] are distinct.
//!
//! ## Multilevel and multivariate models
//!
//! [`MvModel`] fits metafor's `rma.mv` for several effects per study: the three-level model
//! `~ 1 | study/effect` (with [`data::Vcalc`]'s sampling correlation `rho` within studies,
//! the CHE working model of Pustejovsky & Tipton 2022) and the multivariate model with a
//! mean per outcome and correlated outcome effects ([`Structure`] CS, HCS, UN). The
//! likelihood is a sum over studies: no k x k matrix, cost O(sum of cubed study sizes).
//! [`MvFit::robust`] adds cluster-robust inference (CR2 with Satterthwaite df and HTZ
//! tests as clubSandwich, or metafor's CR1): the "CHE + CR2" workflow.
//! [`sensitivity::leave_one_cluster_out`] and [`sensitivity::rho_sweep`] check the result.
//!
//! ```
//! use metan::{MvModel, RobustKind, Structure, Studies};
//! use metan::sensitivity::rho_sweep;
//!
//! // official records and partner reports in each of six studies
//! let s = Studies::from_variances(
//!     vec![0.30, 0.10, 0.45, 0.20, 0.25, 0.05, 0.50, 0.35, 0.15, 0.02, 0.40, 0.30],
//!     vec![0.02, 0.03, 0.04, 0.05, 0.02, 0.03, 0.05, 0.04, 0.03, 0.03, 0.02, 0.04],
//! )?
//! .with_clusters(["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4", "s5", "s5", "s6", "s6"])?
//! .with_attribute("source", ["official", "partner"].repeat(6))?;
//!
//! let che = MvModel::new().rho(0.6);                     // three-level, rho = 0.6
//! let fit = che.fit(&s)?;
//! println!("{fit}");                                      // metafor's print.rma.mv layout
//! assert_eq!(fit.sigma2().len(), 2);                      // between, within studies
//! let i2 = fit.i2().expect("three-level model");
//! assert!((i2.total - i2.levels.iter().sum::<f64>()).abs() < 1e-9);
//! assert_eq!(rho_sweep(&che, &s, None)?.rows().len(), 10); // rho = 0, 0.1, ..., 0.9
//!
//! // CHE + CR2: cluster-robust SEs with Satterthwaite df (clubSandwich's coef_test)
//! let cr2 = fit.robust(RobustKind::CR2)?;
//! assert!(cr2.coefficients()[0].df.is_some());
//!
//! let mv = MvModel::new().rho(0.6).outcome("source", Structure::CS).fit(&s)?;
//! let diff = mv.contrast(&[1.0, -1.0])?;                  // official - partner
//! assert!(diff.rows()[0].estimate > 0.0);
//! let htz = mv.robust(RobustKind::CR2)?.wald_test(&[vec![1.0, -1.0]])?; // robust HTZ test
//! assert!(htz.p_value.is_some());
//! # Ok::<(), metan::MetaError>(())
//! ```

// Lints for every target (`unsafe_code`, the NaN-idiom allowances) are in the `[lints]`
// table of Cargo.toml; these apply to the library alone (tests may unwrap).
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod bias;
pub mod data;
pub mod datasets;
pub mod error;
mod format;
pub mod model;
mod numeric;
pub mod plot;
pub mod progress;
pub mod sensitivity;

pub use data::Studies;
pub use error::{MetaError, Result};
pub use model::{
    Attempt, Coefficient, CommonTau2, Convergence, FitStats, Heterogeneity, InfoCriteria,
    MetaAnalysis, MetaFit, MetaRegression, MetaRegressionFit, Method, ModelComparison, MvFit,
    MvModel, PermutationFit, PermutationTest, Prediction, QBetween, Robu, RobuFit, RobuWeights,
    RobustFit, RobustKind, StopReason, Structure, Subgroup, SubgroupFit, TestKind, WaldKind,
    WaldTest, anova, subgroup_analysis,
};
pub use model::{CheckedMetaAnalysis, Settings};
pub use model::{LocationScale, LocationScaleFit};
