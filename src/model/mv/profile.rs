//! Profile-likelihood confidence intervals of the variance components (metafor's
//! `confint.rma.mv`).

use super::fit::{ComponentCi, MvFit, RandomPart};
use super::optim::{ll_of, maximize};
use super::params::Kind;
use crate::error::{MetaError, Result};
use crate::numeric::dist::chisq_quantile;
use crate::numeric::root::brent;

impl MvFit {
    /// Profile-likelihood confidence intervals of every estimated variance component and
    /// correlation (metafor's `confint(fit)` for `rma.mv` models).
    ///
    /// # Formula
    /// The bounds are the values `x` of one component at which
    /// `-2 (ll(x) - ll(estimate)) = chi^2_{1, level}`, `ll(x)` being the (restricted)
    /// log-likelihood maximised over the other components with this one fixed at `x`.
    /// As metafor, a variance is searched in `[0, max(10, 100 * estimate)]` and a
    /// correlation in `[-1, 1]`: when the profile stays below the cut-off up to an end of
    /// that interval, the end is reported (with `"<"`/`">"` where it is not a natural
    /// bound); an end at which the model cannot be fitted is moved a tenth of the way
    /// towards the estimate, up to ten times.
    ///
    /// # Errors
    /// [`MetaError::NotConverged`] when a bound cannot be found.
    ///
    /// # Examples
    /// ```
    /// use metan::{MvModel, Studies};
    /// let s = Studies::from_variances(
    ///     vec![0.9, 0.4, 0.3, 0.1, -0.2, 0.5, 0.6, 0.2, 0.0, 0.3, 0.8, 0.1],
    ///     vec![0.07, 0.04, 0.05, 0.03, 0.06, 0.05, 0.04, 0.05, 0.03, 0.04, 0.05, 0.06],
    /// )?
    /// .with_clusters(["a", "a", "a", "b", "b", "c", "c", "c", "d", "d", "e", "e"])?;
    /// let fit = MvModel::new().fit(&s)?;
    /// for ci in fit.profile_ci()? {
    ///     assert!(ci.ci_lower <= ci.estimate && ci.estimate <= ci.ci_upper);
    /// }
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn profile_ci(&self) -> Result<Vec<ComponentCi>> {
        let inner = &self.inner;
        let param = &inner.param;
        let nt = param.ntheta();
        let ll_max = ll_of(&self.eval_at(&inner.theta)?, inner.reml);
        let objective = chisq_quantile(1.0 - inner.alpha, 1.0);
        let names = self.component_names();
        let mut out = Vec::with_capacity(nt);
        let public = param.to_public(&inner.theta);
        for c in 0..nt {
            let vc = public[c];
            let kind = param.kind(c);
            let profile = |x: f64| -> Option<f64> {
                let mut t0 = inner.theta.clone();
                t0[c] = if kind == Kind::Sd {
                    x.max(0.0).sqrt()
                } else {
                    x
                };
                let mut fixed = vec![false; nt];
                fixed[c] = true;
                let opt = maximize(
                    &inner.pb,
                    param,
                    inner.reml,
                    &t0,
                    &fixed,
                    &inner.beta_q,
                    inner.scale,
                    inner.settings,
                )
                .ok()?;
                let v = -2.0 * (ll_of(&opt.eval, inner.reml) - ll_max) - objective;
                v.is_finite().then_some(v)
            };
            let (mut lo, mut hi) = match kind {
                Kind::Variance | Kind::Sd => {
                    let hi = if vc <= f64::EPSILON.sqrt() {
                        10.0
                    } else {
                        (100.0 * vc).max(10.0)
                    };
                    (0.0, hi)
                }
                Kind::Correlation => (-1.0, 1.0),
            };
            let natural_lo = lo;
            let natural_hi = hi;
            let root = |a: f64, b: f64| -> Option<f64> {
                brent(
                    |x| profile(x).unwrap_or(f64::NAN),
                    a,
                    b,
                    1e-12,
                    1e-14 * inner.scale.max(1.0),
                    500,
                )
                .map(|r| r.x)
            };
            // lower bound
            let mut lower = None;
            let mut lower_sign = String::new();
            let step = (lo - vc).abs() / 10.0;
            for _ in 0..10 {
                if let Some(r) = profile(lo) {
                    if r < 0.0 {
                        if lo > natural_lo {
                            lower_sign = "<".into();
                        }
                        lower = Some(lo);
                    } else {
                        lower = root(lo, vc);
                    }
                    break;
                }
                lo += step;
            }
            let mut upper = None;
            let mut upper_sign = String::new();
            let step = (hi - vc).abs() / 10.0;
            for _ in 0..10 {
                if let Some(r) = profile(hi) {
                    if r < 0.0 {
                        if kind != Kind::Correlation || hi < natural_hi {
                            upper_sign = ">".into();
                        }
                        upper = Some(hi);
                    } else {
                        upper = root(vc, hi);
                    }
                    break;
                }
                hi -= step;
            }
            let (Some(l), Some(u)) = (lower, upper) else {
                return Err(MetaError::NotConverged {
                    method: format!("profile likelihood interval of {}", names[c]),
                    iterations: 10,
                    reason: "the model could not be fitted at the ends of the search interval"
                        .into(),
                });
            };
            out.push(ComponentCi {
                name: names[c].clone(),
                estimate: vc,
                ci_lower: l,
                ci_upper: u,
                lower_sign,
                upper_sign,
            });
        }
        Ok(out)
    }

    /// metafor's row names of the components, in `theta` order.
    fn component_names(&self) -> Vec<String> {
        match &self.random {
            RandomPart::Multilevel { sigma2, .. } => {
                (1..=sigma2.len()).map(|i| format!("sigma^2.{i}")).collect()
            }
            RandomPart::Multivariate {
                tau2,
                rho,
                rho_fixed,
                ..
            } => {
                let mut v: Vec<String> = if tau2.len() == 1 {
                    vec!["tau^2".into()]
                } else {
                    (1..=tau2.len()).map(|i| format!("tau^2.{i}")).collect()
                };
                if rho.len() == 1 {
                    v.push("rho".into());
                } else {
                    v.extend(
                        (1..=rho.len())
                            .filter(|&i| !rho_fixed[i - 1])
                            .map(|i| format!("rho.{i}")),
                    );
                }
                v
            }
        }
    }

    /// Evaluates the likelihood of this model at `theta`.
    pub(crate) fn eval_at(&self, theta: &[f64]) -> Result<super::engine::Eval> {
        let inner = &self.inner;
        super::optim::eval_theta(&inner.pb, &inner.param, theta, &inner.beta_q, inner.reml).map_err(
            |_| MetaError::Numerical {
                context: "the likelihood at the estimates".into(),
            },
        )
    }
}
