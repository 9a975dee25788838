//! Globally adaptive Gauss-Kronrod quadrature on a finite interval.
//!
//! Each panel is integrated by the 21-point Kronrod rule and the 10-point Gauss rule it
//! extends (Kronrod 1965; Piessens et al. 1983, the constants of QUADPACK's `qk21`). The
//! error of a panel is estimated by `|K21 - G10|`: this is the error of the *Gauss* rule,
//! so for an integrand analytic on the panel it over-estimates the error of the Kronrod
//! value that is returned by many orders of magnitude (K21 is exact for polynomials of
//! degree 31, G10 for degree 19) -- deliberately: no rescaling heuristic that could
//! under-estimate. A rounding term `50 eps int |f|` is added per panel. The panel with the
//! largest estimate is bisected until the summed estimate meets the tolerance (the strategy
//! of QUADPACK's QAG, without extrapolation).
//!
//! # References
//! * Kronrod, A. S. (1965). *Nodes and weights of quadrature formulas*. Consultants Bureau.
//! * Piessens, R., de Doncker-Kapenga, E., Ueberhuber, C. W., & Kahaner, D. K. (1983).
//!   *QUADPACK: A subroutine package for automatic integration*. Springer.

/// Abscissae of the 21-point Kronrod rule on [-1, 1] (non-negative half, descending); the
/// odd positions (1, 3, ..., 9) are the nodes of the 10-point Gauss rule.
#[allow(clippy::excessive_precision)] // as published (Piessens et al. 1983)
const XGK: [f64; 11] = [
    0.995_657_163_025_808_080_735_527_280_689_003,
    0.973_906_528_517_171_720_077_964_012_084_452,
    0.930_157_491_355_708_226_001_207_180_059_508,
    0.865_063_366_688_984_510_732_096_688_423_493,
    0.780_817_726_586_416_897_063_717_578_345_042,
    0.679_409_568_299_024_406_234_327_365_114_874,
    0.562_757_134_668_604_683_339_000_099_272_694,
    0.433_395_394_129_247_190_799_265_943_165_784,
    0.294_392_862_701_460_198_131_126_603_103_866,
    0.148_874_338_981_631_210_884_826_001_129_720,
    0.0,
];

/// Weights of the 21-point Kronrod rule, matching [`XGK`].
#[allow(clippy::excessive_precision)] // as published (Piessens et al. 1983)
const WGK: [f64; 11] = [
    0.011_694_638_867_371_874_278_064_396_062_192,
    0.032_558_162_307_964_727_478_818_972_459_390,
    0.054_755_896_574_351_996_031_381_300_244_580,
    0.075_039_674_810_919_952_767_043_140_916_190,
    0.093_125_454_583_697_605_535_065_465_083_366,
    0.109_387_158_802_297_641_899_210_590_325_805,
    0.123_491_976_262_065_851_077_958_109_831_074,
    0.134_709_217_311_473_325_928_054_001_771_707,
    0.142_775_938_577_060_080_797_094_273_138_717,
    0.147_739_104_901_338_491_374_841_515_972_068,
    0.149_445_554_002_916_905_664_936_468_389_821,
];

/// Weights of the 10-point Gauss rule at `XGK[1], XGK[3], ..., XGK[9]`.
#[allow(clippy::excessive_precision)] // as published (Piessens et al. 1983)
const WG: [f64; 5] = [
    0.066_671_344_308_688_137_593_568_809_893_332,
    0.149_451_349_150_580_593_145_776_339_657_697,
    0.219_086_362_515_982_043_995_534_934_228_163,
    0.269_266_719_309_996_355_091_226_921_569_469,
    0.295_524_224_714_752_870_173_892_994_651_338,
];

/// One panel: the Kronrod value, its error estimate and `int |f|`.
#[derive(Debug, Clone, Copy)]
struct Panel {
    a: f64,
    b: f64,
    value: f64,
    error: f64,
}

/// The 21-point Gauss-Kronrod rule on `[a, b]`: `(K21, |K21 - G10| + 50 eps int|f|)`.
fn gk21(f: &mut impl FnMut(f64) -> f64, a: f64, b: f64) -> Panel {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = f(c);
    let mut k = WGK[10] * fc;
    let mut g = 0.0;
    let mut abs = WGK[10] * fc.abs();
    for j in 0..10 {
        let dx = h * XGK[j];
        let f1 = f(c - dx);
        let f2 = f(c + dx);
        k += WGK[j] * (f1 + f2);
        abs += WGK[j] * (f1.abs() + f2.abs());
        if j % 2 == 1 {
            g += WG[j / 2] * (f1 + f2);
        }
    }
    let h = h.abs();
    Panel {
        a,
        b,
        value: k * h,
        error: ((k - g) * h).abs() + 50.0 * f64::EPSILON * abs * h,
    }
}

/// The result of [`adaptive`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Integral {
    /// The integral (sum of the Kronrod values of the panels).
    pub value: f64,
    /// The summed error estimate of the panels (see the module docs).
    pub error: f64,
    /// Integrand evaluations.
    pub evaluations: usize,
    /// Whether the error estimate met the tolerance within the panel budget.
    pub converged: bool,
}

/// `int_a^b f` to `error <= max(abs_tol, rel_tol |value|)`, bisecting the worst panel at
/// most `max_panels` times. A non-finite integrand value makes the result non-finite
/// (and not converged).
pub(crate) fn adaptive(
    mut f: impl FnMut(f64) -> f64,
    a: f64,
    b: f64,
    abs_tol: f64,
    rel_tol: f64,
    max_panels: usize,
) -> Integral {
    let mut panels = vec![gk21(&mut f, a, b)];
    let mut evaluations = 21;
    loop {
        let value: f64 = panels.iter().map(|p| p.value).sum();
        let error: f64 = panels.iter().map(|p| p.error).sum();
        if !(value.is_finite() && error.is_finite()) {
            return Integral {
                value: f64::NAN,
                error: f64::INFINITY,
                evaluations,
                converged: false,
            };
        }
        if error <= abs_tol.max(rel_tol * value.abs()) {
            return Integral {
                value,
                error,
                evaluations,
                converged: true,
            };
        }
        if panels.len() >= max_panels {
            return Integral {
                value,
                error,
                evaluations,
                converged: false,
            };
        }
        // bisect the panel with the largest error estimate
        let (worst, _) =
            panels
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |(bi, be), (i, p)| {
                    if p.error > be { (i, p.error) } else { (bi, be) }
                });
        let p = panels.swap_remove(worst);
        let m = 0.5 * (p.a + p.b);
        if !(m > p.a.min(p.b) && m < p.a.max(p.b)) {
            // the panel cannot be split further in floating point
            panels.push(p);
            let value: f64 = panels.iter().map(|p| p.value).sum();
            let error: f64 = panels.iter().map(|p| p.error).sum();
            return Integral {
                value,
                error,
                evaluations,
                converged: false,
            };
        }
        panels.push(gk21(&mut f, p.a, m));
        panels.push(gk21(&mut f, m, p.b));
        evaluations += 42;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_exact_for_polynomials_of_their_degree() {
        // K21 integrates x^31, G10 x^19 exactly on [-1, 1]; the stored nodes and weights
        // are checked through these moments
        for d in 0..=31u32 {
            let want = if d % 2 == 1 {
                0.0
            } else {
                2.0 / f64::from(d + 1)
            };
            let mut f = |x: f64| x.powi(d as i32);
            let p = gk21(&mut f, -1.0, 1.0);
            assert!((p.value - want).abs() < 4e-16, "K21 x^{d}: {}", p.value);
            if d <= 19 {
                // K21 == G10 for these, so the estimate is the rounding term only
                assert!(
                    p.error < 120.0 * f64::EPSILON,
                    "G10 x^{d}: error {}",
                    p.error
                );
            }
        }
        assert!(gk21(&mut |x: f64| x.powi(20), -1.0, 1.0).error > 1e-8);
        let sw: f64 = WGK[10] + 2.0 * WGK[..10].iter().sum::<f64>();
        assert!((sw - 2.0).abs() < 1e-15);
    }

    #[test]
    fn adaptive_handles_peaks_and_meets_tolerance() {
        // int_0^1 1/(1e-4 + (x - 0.3)^2) = 100 (atan(70) + atan(30))
        let f = |x: f64| 1.0 / (1e-4 + (x - 0.3) * (x - 0.3));
        let want = 100.0 * (70f64.atan() + 30f64.atan());
        let r = adaptive(f, 0.0, 1.0, 0.0, 1e-13, 1000);
        assert!(r.converged);
        assert!(
            (r.value - want).abs() <= 1e-13 * want,
            "{} vs {want}",
            r.value
        );
        assert!(r.error <= 1e-13 * want);
        // a non-finite integrand is reported, not hidden
        let r = adaptive(|x: f64| 1.0 / x, 0.0, 1.0, 0.0, 1e-10, 50);
        assert!(!r.converged);
    }
}
