#!/usr/bin/env Rscript
## Independent check of `metan mv ... --format json` against metafor's rma.mv on fresh
## random (SIMULATED) data: three-level models (random = ~ 1 | cluster/obs) with V = diag(vi)
## or vcalc's constant correlation rho, REML and ML, z and t tests, with and without a
## numeric and a categorical moderator; multivariate models (mods = ~ outcome - 1,
## random = ~ outcome | cluster, struct = CS / HCS / UN) with vcalc's rho. Needs R with
## metafor and jsonlite; CI does not run it.
##
## Two comparisons per fit:
## 1. every reported number (coefficients, SEs, statistics, p-values, intervals, QE, QM,
##    log-likelihood) against metafor refitted with metan's variance components fixed
##    (sigma2 = / tau2 = / rho =), to 1e-9 relative: the formulas, free of the optimiser;
## 2. the variance components against metafor's own optimum. nlminb stops on a relative
##    change of the objective (rel.tol = 1e-12 here, or looser where it reports
##    non-convergence there), which leaves the components uncertain to about
##    sqrt(rel.tol). metan's log-likelihood must not be below metafor's; components that
##    differ by more than 1e-6 with metan's likelihood higher are metafor stopping short,
##    counted and reported separately. Components that metafor leaves below
##    1e-8 * mean(vi) where metan reports exactly 0 (the boundary, which metafor's log
##    parametrisation can only approach) compare by their absolute difference.
##
## usage: Rscript scripts/check_mv_vs_metafor.R [path/to/metan] [n_datasets] [seed]
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
metan <- if (length(args) >= 1) args[1] else "target/release/metan"
n <- if (length(args) >= 2) as.integer(args[2]) else 10L
seed <- if (length(args) >= 3) as.integer(args[3]) else as.integer(Sys.time()) %% 100000L
set.seed(seed)
invisible(Sys.setlocale("LC_COLLATE", "C"))
ctl <- list(rel.tol = 1e-12, iter.max = 1e5, eval.max = 1e5)

## rma.mv at the tightest tolerance nlminb accepts
fit_r <- function(...) {
  for (tol in c(1e-12, 1e-11, 1e-10, 1e-8)) {
    r <- tryCatch(suppressWarnings(rma.mv(..., control = modifyList(ctl, list(rel.tol = tol)))),
                  error = function(e) NULL)
    if (!is.null(r)) return(r)
  }
  NULL
}

worst_fixed <- 0; worst_vc <- 0; cmp <- 0L; fits <- 0L; short <- 0L; mismatches <- 0L
worst_short <- 0
rel <- function(a, b) ifelse(a == b, 0, abs(a - b) / pmax(abs(a), abs(b)))
## r: metafor's free fit; rf: metafor refitted with metan's variance components fixed;
## j: metan's JSON; comps_r / comps_m: the components of r and of metan
check <- function(label, r, rf, j, comps_r, comps_m) {
  theirs <- c(as.numeric(rf$beta), rf$se, rf$zval, rf$pval, rf$ci.lb, rf$ci.ub, rf$QE, rf$QEp,
              if (rf$p > 1) c(rf$QM, rf$QMp), as.numeric(logLik(rf)))
  ours <- c(j$coefficients$estimate, j$coefficients$se, j$coefficients$statistic,
            j$coefficients$p_value, j$coefficients$ci_lower, j$coefficients$ci_upper,
            j$q, j$q_p_value, if (rf$p > 1) c(j$qm, j$qm_p_value), j$loglik)
  if (length(theirs) != length(ours) || length(comps_r) != length(comps_m)) {
    cat(sprintf("MISMATCH %s: %d/%d numbers vs %d/%d\n", label, length(ours), length(comps_m),
                length(theirs), length(comps_r)))
    mismatches <<- mismatches + 1L
    return(invisible())
  }
  fits <<- fits + 1L
  ## 1. everything at metan's components, against metafor at the same components
  e <- rel(theirs, ours)
  e[abs(theirs - ours) < 1e-15] <- 0
  cmp <<- cmp + length(e)
  worst_fixed <<- max(worst_fixed, e)
  if (max(e) > 1e-9) {
    mismatches <<- mismatches + 1L
    cat(sprintf("MISMATCH %s at metan's components: %.2e\n", label, max(e)))
  }
  ## 2. the components against metafor's optimum
  floor <- 1e-8 * mean(r$vi)
  ec <- ifelse(abs(comps_r) < floor & abs(comps_m) < floor, abs(comps_r - comps_m) / floor,
               rel(comps_r, comps_m))
  ll_r <- as.numeric(logLik(r))
  cmp <<- cmp + length(ec) + 1L
  if (j$loglik < ll_r - 1e-12 * abs(ll_r)) {
    mismatches <<- mismatches + 1L
    cat(sprintf("MISMATCH %s: metan's log-likelihood %.15g below metafor's %.15g\n", label,
                j$loglik, ll_r))
  } else if (max(ec) > 1e-6) {
    short <<- short + 1L
    worst_short <<- max(worst_short, ec)
    cat(sprintf("metafor stopped short %s: components differ by %.2e (metan %s, metafor %s), ll metan %.15g >= metafor %.15g\n",
                label, max(ec), paste(signif(comps_m, 6), collapse = " "),
                paste(signif(comps_r, 6), collapse = " "), j$loglik, ll_r))
  } else {
    worst_vc <<- max(worst_vc, ec)
  }
}

run_metan <- function(f, ...) {
  out <- system2(metan, c("mv", f, "--yi", "yi", "--vi", "vi", ..., "--format", "json"),
                 stdout = TRUE, stderr = TRUE)
  tryCatch(fromJSON(paste(out, collapse = "\n")), error = function(e) {
    cat("metan failed:", out, "\n"); NULL })
}

for (d in seq_len(n)) {
  ## SIMULATED: m clusters of 1-6 effects, two outcomes, a cluster-level numeric moderator
  m <- sample(15:60, 1)
  size <- sample(1:6, m, TRUE); size[1:3] <- pmax(size[1:3], 2)
  cl <- rep(sprintf("c%03d", seq_len(m)), size)
  k <- length(cl)
  obs <- unlist(lapply(size, seq_len))
  outcome <- ifelse(obs %% 2 == 1, "official", "partner")
  x <- rep(round(runif(m, 0, 10), 2), size)
  g <- rep(sample(c("community", "prison"), m, TRUE), size)
  vi <- 10^runif(k, -2.2, -0.5)
  u <- rep(rnorm(m, 0, sqrt(runif(1, 0, 0.1))), size)
  w <- rnorm(k, 0, sqrt(runif(1, 0, 0.05)))
  yi <- 0.2 + 0.02 * x + 0.1 * (outcome == "partner") + u + w + rnorm(k, 0, sqrt(vi))
  dat <- data.frame(yi = yi, vi = vi, cluster = factor(cl), obs = as.character(obs),
                    outcome = factor(outcome), x = x, g = factor(g))
  f <- tempfile(fileext = ".csv")
  write.csv(data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi), cluster = cl,
                       obs = obs, outcome = outcome, x = x, g = g),
            f, row.names = FALSE, quote = FALSE)
  rho <- sample(c(0.5, 0.8), 1)
  V <- vcalc(vi, cluster = cluster, obs = obs, rho = rho, data = dat)
  ## three-level
  for (useV in c(FALSE, TRUE)) for (meth in c("REML", "ML")) for (tt in c("z", "t"))
    for (mods in c(FALSE, TRUE)) {
      r <- fit_r(yi, if (useV) V else vi, random = ~ 1 | cluster / obs, data = dat,
                 mods = if (mods) ~ x + g else ~ 1, method = meth, test = tt)
      if (is.null(r)) next
      a <- c("--cluster", "cluster", "--obs", "obs", "--method", meth, "--test", tt,
             if (useV) c("--rho", rho), if (mods) c("--mods", "x,g"))
      j <- run_metan(f, a)
      if (is.null(j)) { mismatches <- mismatches + 1L; next }
      rf <- rma.mv(yi, if (useV) V else vi, random = ~ 1 | cluster / obs, data = dat,
                   mods = if (mods) ~ x + g else ~ 1, method = meth, test = tt, sigma2 = j$sigma2)
      check(sprintf("data %d three-level%s %s %s%s", d, if (useV) sprintf(" rho %g", rho) else "",
                    meth, tt, if (mods) " mods" else ""), r, rf, j, r$sigma2, j$sigma2)
    }
  ## multivariate by outcome
  for (st in c("CS", "HCS", "UN")) for (meth in c("REML", "ML")) {
    r <- fit_r(yi, V, mods = ~ outcome - 1, random = ~ outcome | cluster, struct = st,
               data = dat, method = meth)
    if (is.null(r)) next
    j <- run_metan(f, c("--cluster", "cluster", "--obs", "obs", "--rho", rho,
                        "--outcome", "outcome", "--struct", st, "--method", meth))
    if (is.null(j)) { mismatches <- mismatches + 1L; next }
    rf <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | cluster, struct = st,
                 data = dat, method = meth, tau2 = j$tau2, rho = j$rho_between)
    check(sprintf("data %d multivariate %s rho %g %s", d, st, rho, meth), r, rf, j,
          c(r$tau2, r$rho), c(j$tau2, j$rho_between))
  }
}
cat(sprintf(paste("seed %d: %d data sets, %d fits, %d numbers compared.\n",
                  "At metan's components (metafor refitted with them fixed): worst relative",
                  "error %.2e.\nComponents vs metafor's optimum: worst %.2e where metafor",
                  "converged; metafor stopped short (metan's likelihood higher) in %d fits,",
                  "largest difference there %.2e.\n%d mismatches\n"),
            seed, n, fits, cmp, worst_fixed, worst_vc, short, worst_short, mismatches))
quit(status = if (mismatches > 0) 1 else 0)
