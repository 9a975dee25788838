#!/usr/bin/env Rscript
## Independent check of `metan bias --format json` against metafor on data neither has seen
## before: random data sets (new seed each run unless given) with small-study effects of
## either sign, sample sizes, and ties in some of them; REML, DL and EE (z), plus REML and
## DL with Knapp-Hartung; every regression-test predictor, both models; the three
## trim-and-fill estimators. Needs R with metafor and jsonlite; CI does not run it.
##
## usage: Rscript scripts/check_bias_vs_metafor.R [path/to/metan] [n_datasets] [seed]
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
metan <- if (length(args) >= 1) args[1] else "target/release/metan"
n <- if (length(args) >= 2) as.integer(args[2]) else 20L
seed <- if (length(args) >= 3) as.integer(args[3]) else as.integer(Sys.time()) %% 100000L
set.seed(seed)
ctl <- list(threshold = 1e-14, tol = 1e-14, maxiter = 10000)
## metafor's Fisher scoring stops on an absolute change below `threshold`; with tau^2 ~ 10
## a change of a few ulps exceeds 1e-14, and metafor reports non-convergence. Such fits are
## redone with this looser threshold (still far below the 1e-8 reported here).
ctl_loose <- list(threshold = 1e-11, maxiter = 10000)
retried <- 0L
worst <- list(); compared <- 0L; skipped <- 0L; mismatches <- 0L
refusals <- list()
refuse <- function(what, e) {
  msg <- paste(what, conditionMessage(e))
  refusals[[msg]] <<- (if (is.null(refusals[[msg]])) 0L else refusals[[msg]]) + 1L
  NULL
}

## `abs`: an absolute bound that also passes (tau^2 on the boundary: metafor's Fisher scoring
## stops near 1e-15 where metan lands on 0)
cmp <- function(key, what, a, b, d, scale, abs = 0) {
  if (is.null(a) || length(a) == 0) a <- NA
  a <- as.numeric(a)[1]
  if (is.na(a) && (is.null(b) || is.na(b))) return(invisible())
  if (is.null(b) || is.na(a)) {
    cat(sprintf("MISMATCH data %d %s %s: metafor %s metan %s\n", d, key, what, a, toString(b)))
    mismatches <<- mismatches + 1L
    return(invisible())
  }
  e <- if (a == b) 0 else abs(a - b) / max(abs(a), abs(b))
  if (abs(a - b) < 1e-15 * scale || abs(a - b) <= abs) e <- 0
  if (is.null(worst[[key]]) || e > worst[[key]]$e) worst[[key]] <<- list(e = e, f = what, d = d)
  compared <<- compared + 1L
  if (e > 1e-8) {
    cat(sprintf("MISMATCH data %d %s %s: metafor %.17g metan %.17g\n", d, key, what, a, b))
    mismatches <<- mismatches + 1L
  }
}

run_metan <- function(f, extra) {
  out <- suppressWarnings(system2(metan, c("bias", f, "--format", "json", extra),
                                  stdout = TRUE, stderr = TRUE))
  tryCatch(fromJSON(paste(out, collapse = "\n"), simplifyVector = FALSE),
           error = function(e) { cat("metan failed:", extra, out, "\n", sep = " "); NULL })
}

for (d in seq_len(n)) {
  k <- sample(c(6:15, 20, 30, 45, 60, 100), 1)
  scale <- 10^runif(1, -1, 1)
  ni <- round(exp(runif(k, log(15), log(600))))
  vi <- scale^2 * 4 / ni * runif(k, 0.8, 1.25)
  if (runif(1) < 0.3) vi[sample(k, 2)] <- vi[1]  # ties in vi: the rank test's normal approximation
  bias <- sample(c(-1, 0, 1), 1) * runif(1, 0, 2)
  yi <- scale * (rnorm(1, 0, 0.3) + rnorm(k, 0, sqrt(vi / scale^2 + runif(1, 0, 0.1)))) + bias * sqrt(vi)
  f <- tempfile(fileext = ".csv")
  write.csv(data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi), ni = ni),
            f, row.names = FALSE, quote = FALSE)
  for (m in c("REML", "DL", "EE")) for (t in c("z", "knha")) {
    if (m == "EE" && t == "knha") next
    res <- tryCatch(rma(yi, vi, ni = ni, method = m, test = t, control = ctl),
                    error = function(e) refuse("rma", e))
    if (is.null(res)) { skipped <- skipped + 1L; next }
    key <- paste(m, t)
    # the regression test: every predictor, rma and lm
    for (p in c("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")) for (model in c("rma", "lm")) {
      r <- tryCatch(suppressWarnings(regtest(res, model = model, predictor = p)),
                    error = function(e) refuse(paste("regtest", model), e))
      if (is.null(r)) { skipped <- skipped + 1L; next }
      j <- run_metan(f, c("--method", m, "--test", t, "--predictor", p, "--model", model))
      if (is.null(j)) quit(status = 1)
      eg <- j$egger
      kk <- paste("regtest", model)
      cmp(kk, paste(p, "statistic"), r$zval, eg$statistic, d, scale)
      cmp(kk, paste(p, "p"), r$pval, eg$p_value, d, scale)
      cmp(kk, paste(p, "df"), r$ddf, eg$df, d, scale)
      if (!is.null(r$est)) {
        cmp(kk, paste(p, "limit"), r$est, eg$limit_estimate, d, scale)
        cmp(kk, paste(p, "limit lb"), r$ci.lb, eg$limit_ci_lower, d, scale)
        cmp(kk, paste(p, "limit ub"), r$ci.ub, eg$limit_ci_upper, d, scale)
      }
    }
    # trim-and-fill
    for (e in c("L0", "R0", "Q0")) {
      tf <- tryCatch(suppressWarnings(trimfill(res, estimator = e, control = ctl)), error = function(e) NULL)
      if (is.null(tf)) {
        tf <- tryCatch(suppressWarnings(trimfill(res, estimator = e, control = ctl_loose)),
                       error = function(err) refuse("trimfill", err))
        if (!is.null(tf)) retried <- retried + 1L
      }
      j <- run_metan(f, c("--method", m, "--test", t, "--estimator", e))
      if (is.null(j)) quit(status = 1)
      if (is.null(tf)) {
        if (!is.null(j$trimfill)) { cat("metafor failed, metan did not:", d, key, e, "\n"); mismatches <- mismatches + 1L }
        skipped <- skipped + 1L
        next
      }
      if (is.null(j$trimfill)) { cat("MISMATCH data", d, key, e, ": metan error", toString(j$errors$trimfill), "\n"); mismatches <- mismatches + 1L; next }
      tj <- j$trimfill
      kk <- paste("trimfill", e)
      if (tj$k0 != tf$k0 || tj$side != tf$side) {
        cat(sprintf("MISMATCH data %d %s %s: k0/side metafor %d %s metan %d %s\n", d, key, e, tf$k0, tf$side, tj$k0, tj$side))
        mismatches <- mismatches + 1L
        next
      }
      cmp(kk, "estimate", tf$beta, tj$estimate, d, scale)
      cmp(kk, "se", tf$se, tj$se, d, scale)
      cmp(kk, "ci_lower", tf$ci.lb, tj$ci_lower, d, scale)
      cmp(kk, "ci_upper", tf$ci.ub, tj$ci_upper, d, scale)
      cmp(kk, "tau2", tf$tau2, tj$tau2, d, scale, abs = 1e-12 * scale^2)
      cmp(kk, "se_k0", tf$se.k0, tj$se_k0, d, scale)
      fy <- tf$yi[tf$fill]
      for (i in seq_along(fy)) cmp(kk, "filled yi", fy[i], tj$filled[[i]]$yi, d, scale)
    }
  }
  # model-free parts (once per data set)
  j <- run_metan(f, c("--method", "REML"))
  if (is.null(j)) quit(status = 1)
  rk <- suppressWarnings(ranktest(yi, vi))
  cmp("ranktest", "tau", rk$tau, j$rank$tau, d, scale)
  # R computes an upper tail as 1 - P(T <= q - 1), losing ~1e-14 absolute to cancellation;
  # metan sums it directly (tests/fixtures/exact_kendall.py shows which one is exact)
  cmp("ranktest", "p", rk$pval, j$rank$p_value, d, scale, abs = 1e-13)
  for (ty in c("Rosenthal", "Orwin", "Rosenberg"))
    cmp("fsn", ty, fsn(yi, vi, type = ty)$fsnum, j$failsafe[[tolower(ty)]], d, scale)
  sei <- sqrt(vi)
  pet <- coef(summary(lm(yi ~ sei, weights = 1 / vi)))
  peese <- coef(summary(lm(yi ~ vi, weights = 1 / vi)))
  cmp("pet_peese", "pet b0", pet[1, 1], j$pet_peese$pet$intercept$estimate, d, scale)
  cmp("pet_peese", "pet b0 p", pet[1, 4], j$pet_peese$pet$intercept$p_value, d, scale)
  cmp("pet_peese", "pet b1 se", pet[2, 2], j$pet_peese$pet$slope$se, d, scale)
  cmp("pet_peese", "peese b0", peese[1, 1], j$pet_peese$peese$intercept$estimate, d, scale)
  cmp("pet_peese", "peese b0 se", peese[1, 2], j$pet_peese$peese$intercept$se, d, scale)
  chosen <- if (pet[1, 4] < 0.10) "PEESE" else "PET"
  if (j$pet_peese$chosen != chosen) { cat("MISMATCH data", d, "PET-PEESE choice\n"); mismatches <- mismatches + 1L }
}
cat(sprintf("seed %d: %d data sets, %d numbers compared, %d metafor refusals skipped, %d trim-and-fill runs redone with threshold 1e-11, %d mismatches\n",
            seed, n, compared, skipped, retried, mismatches))
for (msg in names(refusals)) cat(sprintf("  metafor refused %d x: %s\n", refusals[[msg]], substr(msg, 1, 110)))
for (key in sort(names(worst)))
  cat(sprintf("  %-16s worst rel. error %.2e (%s, data set %d)\n", key, worst[[key]]$e, worst[[key]]$f, worst[[key]]$d))
if (mismatches > 0) quit(status = 1)
