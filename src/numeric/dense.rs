//! Small dense symmetric linear algebra on row-major slices, without allocation: the
//! per-cluster kernels of the multilevel engine call these for blocks of a few rows, where
//! allocating a matrix per call would cost more than the arithmetic.

/// Cholesky factorisation `A = L L'` in place: on success the lower triangle of `a`
/// (row-major `n x n`) holds `L`, the strict upper triangle is zeroed, and the natural log
/// of `det(A)` is returned. `None` when `A` is not (numerically) positive definite or not
/// finite: a pivot below `1e-13` times its diagonal entry counts as 0 (an exactly singular
/// matrix leaves such rounding residue instead of 0). Only the lower triangle of `a` is
/// read.
pub(crate) fn cholesky(a: &mut [f64], n: usize) -> Option<f64> {
    let mut logdet = 0.0;
    for j in 0..n {
        let ajj = a[j * n + j];
        let mut d = ajj;
        for s in 0..j {
            d -= a[j * n + s] * a[j * n + s];
        }
        if !(d > 1e-13 * ajj && d.is_finite()) {
            return None;
        }
        let ljj = d.sqrt();
        a[j * n + j] = ljj;
        logdet += 2.0 * ljj.ln();
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for s in 0..j {
                v -= a[i * n + s] * a[j * n + s];
            }
            a[i * n + j] = v / ljj;
        }
        for i in 0..j {
            a[i * n + j] = 0.0;
        }
    }
    Some(logdet)
}

/// `A^-1` (full, symmetric) from the Cholesky factor `L` of [`cholesky`], written to `out`
/// (`n x n`); `tmp` is scratch of length `n * n`.
pub(crate) fn chol_inverse(l: &[f64], n: usize, out: &mut [f64], tmp: &mut [f64]) {
    // tmp <- L^-1 (lower triangular), column by column
    tmp[..n * n].iter_mut().for_each(|x| *x = 0.0);
    for j in 0..n {
        tmp[j * n + j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let mut s = 0.0;
            for r in j..i {
                s -= l[i * n + r] * tmp[r * n + j];
            }
            tmp[i * n + j] = s / l[i * n + i];
        }
    }
    // out <- L^-T L^-1
    for i in 0..n {
        for j in 0..=i {
            let mut s = 0.0;
            for r in i..n {
                s += tmp[r * n + i] * tmp[r * n + j];
            }
            out[i * n + j] = s;
            out[j * n + i] = s;
        }
    }
}

/// Solves `A x = b` in place for `ncol` right-hand sides stored row-major in `b`
/// (`n x ncol`), given the Cholesky factor `L` of `A`.
pub(crate) fn chol_solve(l: &[f64], n: usize, b: &mut [f64], ncol: usize) {
    forward_solve(l, n, b, ncol);
    for c in 0..ncol {
        for i in (0..n).rev() {
            let mut s = b[i * ncol + c];
            for r in i + 1..n {
                s -= l[r * n + i] * b[r * ncol + c];
            }
            b[i * ncol + c] = s / l[i * n + i];
        }
    }
}

/// `L^-1 B` in place (forward substitution) for `ncol` right-hand sides stored row-major
/// in `b` (`n x ncol`), `L` lower triangular (row-major, `n x n`).
pub(crate) fn forward_solve(l: &[f64], n: usize, b: &mut [f64], ncol: usize) {
    for c in 0..ncol {
        for i in 0..n {
            let mut s = b[i * ncol + c];
            for r in 0..i {
                s -= l[i * n + r] * b[r * ncol + c];
            }
            b[i * ncol + c] = s / l[i * n + i];
        }
    }
}

/// The inverse of a symmetric positive definite `n x n` matrix (row-major), or `None`.
pub(crate) fn spd_inverse(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = a.to_vec();
    cholesky(&mut l, n)?;
    let mut out = vec![0.0; n * n];
    let mut tmp = vec![0.0; n * n];
    chol_inverse(&l, n, &mut out, &mut tmp);
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn inverse_and_solve_agree_with_nalgebra() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let m = nalgebra::DMatrix::from_row_slice(3, 3, &a);
        let inv = m.clone().try_inverse().unwrap();
        let mine = spd_inverse(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                assert!((inv[(i, j)] - mine[i * 3 + j]).abs() < 1e-15);
            }
        }
        let mut l = a.to_vec();
        let logdet = cholesky(&mut l, 3).unwrap();
        assert!((logdet - m.determinant().ln()).abs() < 1e-14);
        let mut b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        chol_solve(&l, 3, &mut b, 2);
        let x = inv * nalgebra::DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        for i in 0..3 {
            for c in 0..2 {
                assert!((x[(i, c)] - b[i * 2 + c]).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn not_positive_definite() {
        let mut a = [1.0, 2.0, 2.0, 1.0];
        assert!(cholesky(&mut a, 2).is_none());
        // exactly singular up to rounding: r = 1 between two variances
        let (v1, v2) = (0.04f64, 0.05f64);
        let c = (v1 * v2).sqrt();
        let mut s = [v1, c, c, v2];
        assert!(cholesky(&mut s, 2).is_none());
        let mut b = [1.0, f64::NAN, f64::NAN, 1.0];
        assert!(cholesky(&mut b, 2).is_none());
    }
}
