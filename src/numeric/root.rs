//! Brent's root finder (Brent 1973, ch. 4) with a relative tolerance.

/// Outcome of a root search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Root {
    /// The root found (or the best point when not converged).
    pub x: f64,
    /// Function evaluations used.
    pub evaluations: usize,
    /// Whether the bracket shrank below the tolerance (or an exact zero was hit).
    pub converged: bool,
}

/// Finds a root of `f` in `[a, b]`, where `f(a)` and `f(b)` have opposite signs (or one
/// is zero). Stops when the bracket is narrower than `2 * (rtol * |x| + atol)`.
///
/// Returns `None` when the end points do not bracket a root or `f` is not finite there.
pub(crate) fn brent(
    mut f: impl FnMut(f64) -> f64,
    a: f64,
    b: f64,
    rtol: f64,
    atol: f64,
    max_eval: usize,
) -> Option<Root> {
    let (mut a, mut b) = (a, b);
    let mut fa = f(a);
    let mut fb = f(b);
    let mut evaluations = 2;
    if !(fa.is_finite() && fb.is_finite()) {
        return None;
    }
    if fa == 0.0 {
        return Some(Root {
            x: a,
            evaluations,
            converged: true,
        });
    }
    if fb == 0.0 {
        return Some(Root {
            x: b,
            evaluations,
            converged: true,
        });
    }
    if fa.signum() == fb.signum() {
        return None;
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    loop {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + rtol * b.abs() + atol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Some(Root {
                x: b,
                evaluations,
                converged: true,
            });
        }
        if evaluations >= max_eval {
            return Some(Root {
                x: b,
                evaluations,
                converged: false,
            });
        }
        if e.abs() < tol || fa.abs() <= fb.abs() {
            d = m;
            e = m;
        } else {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qa = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b);
        evaluations += 1;
        if !fb.is_finite() {
            return Some(Root {
                x: a,
                evaluations,
                converged: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn finds_roots_to_relative_precision() {
        let r = brent(|x| x * x - 2.0, 0.0, 2.0, 1e-15, 0.0, 200).unwrap();
        assert!(r.converged);
        assert!((r.x - std::f64::consts::SQRT_2).abs() <= 4e-15);
        // a root at a large scale: relative tolerance still gives full precision
        let r = brent(
            |x| x - 1e9 * std::f64::consts::PI,
            0.0,
            1e10,
            1e-15,
            0.0,
            500,
        )
        .unwrap();
        assert!(((r.x - 1e9 * std::f64::consts::PI) / r.x).abs() < 1e-14);
        // and a tiny one
        let r = brent(|x: f64| x.ln() + 50.0, 1e-30, 1.0, 1e-15, 0.0, 500).unwrap();
        assert!(((r.x - (-50.0f64).exp()) / r.x).abs() < 1e-13);
    }

    #[test]
    fn rejects_non_bracket() {
        assert!(brent(|x| x * x + 1.0, -1.0, 1.0, 1e-12, 0.0, 100).is_none());
    }
}
