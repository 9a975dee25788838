#!/usr/bin/env Rscript
## Independent check of `metan fit --format json` against metafor on data neither has
## seen before: random data sets (new seed each run unless given), every estimator, z and
## knha. Needs R with metafor and jsonlite; CI does not run it.
##
## usage: Rscript scripts/check_fit_vs_metafor.R [path/to/metan] [n_datasets] [seed]
suppressMessages({ library(metafor); library(jsonlite) })
source(file.path("tests", "fixtures", "imhof.R"))  # reference GENQ interval (genq_ci_tight)
args <- commandArgs(trailingOnly = TRUE)
metan <- if (length(args) >= 1) args[1] else "target/release/metan"
n <- if (length(args) >= 2) as.integer(args[2]) else 20L
seed <- if (length(args) >= 3) as.integer(args[3]) else as.integer(Sys.time()) %% 100000L
set.seed(seed)
ctl <- list(threshold = 1e-12, tol = 1e-14, maxiter = 10000)
methods <- c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM", "GENQ")
fields <- c(estimate = "beta", se = "se", statistic = "zval", p_value = "pval",
            ci_lower = "ci.lb", ci_upper = "ci.ub", tau2 = "tau2", i2 = "I2", h2 = "H2",
            q = "QE", q_p_value = "QEp")
worst <- list(); compared <- 0L; skipped <- 0L; notes <- list(); genq_omitted <- integer()
for (d in seq_len(n)) {
  k <- sample(c(2:10, 15, 30, 80), 1)
  scale <- 10^runif(1, -3, 3)
  vi <- scale^2 * 10^runif(k, -2, 0.5)
  yi <- scale * (rnorm(1) + rnorm(k, 0, sqrt(vi + scale^2 * runif(1, 0, 0.5))))
  wi <- runif(k, 0.5, 2)
  f <- tempfile(fileext = ".csv")
  write.csv(data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi), w = sprintf("%.17g", wi)),
            f, row.names = FALSE, quote = FALSE)
  for (m in methods) for (t in c("z", "knha")) {
    r <- tryCatch(if (m == "GENQ") rma(yi, vi, weights = wi, method = m, test = t, control = ctl)
                  else rma(yi, vi, method = m, test = t, control = ctl), error = function(e) NULL)
    if (is.null(r)) { skipped <- skipped + 1L; next }
    cmd <- c("fit", f, "--method", m, "--test", t, "--format", "json",
             if (m == "GENQ") c("--weights", "w"))
    errf <- tempfile()
    out <- suppressWarnings(system2(metan, cmd, stdout = TRUE, stderr = errf))
    for (w in readLines(errf)) notes[[w]] <- (if (is.null(notes[[w]])) 0L else notes[[w]]) + 1L
    j <- tryCatch(fromJSON(paste(out, collapse = "\n")), error = function(e) NULL)
    if (is.null(j)) { cat("metan failed:", m, t, out, readLines(errf), "\n"); quit(status = 1) }
    pr <- predict(r)
    theirs <- c(sapply(fields, function(x) as.numeric(r[[x]])[1]),
                tau2_se = if (is.na(r$se.tau2)) NA else r$se.tau2,
                pi_lower = if (m == "EE") NA else pr$pi.lb, pi_upper = if (m == "EE") NA else pr$pi.ub)
    if (!m %in% c("EE", "GENQ")) {
      ci <- tryCatch(confint(r, control = list(tol = 1e-14))$random, error = function(e) NULL)
      if (!is.null(ci)) theirs <- c(theirs, tau2_ci_lower = ci[1, 2], tau2_ci_upper = ci[1, 3],
                                    i2_ci_lower = ci[3, 2], i2_ci_upper = ci[3, 3])
    }
    if (m == "GENQ") {
      ## metafor needs CompQuadForm for this interval: its algorithm with the reference
      ## distribution function of tests/fixtures/imhof.R and uniroot(tol = 1e-15)
      if (is.null(j$tau2_ci_lower)) genq_omitted <- union(genq_omitted, d)
      g <- genq_ci_tight(yi, vi, wi, r$tau2)
      theirs <- c(theirs, tau2_ci_lower = g$lower, tau2_ci_upper = g$upper)
    }
    for (nm in names(theirs)) {
      a <- theirs[[nm]]; b <- j[[nm]]
      if (is.na(a) && is.null(b)) next
      if (is.null(b) || is.na(a)) { cat(sprintf("MISMATCH %s %s %s: metafor %s metan %s\n", m, t, nm, a, toString(b))); next }
      e <- if (a == b) 0 else abs(a - b) / max(abs(a), abs(b))
      if (abs(a - b) < 1e-12 * scale) e <- 0
      key <- paste(m, t)
      if (is.null(worst[[key]]) || e > worst[[key]]$e) worst[[key]] <- list(e = e, f = nm, d = d)
      compared <- compared + 1L
      if (e > 1e-6) cat(sprintf("MISMATCH data %d (k=%d) %s %s %s: metafor %.17g metan %.17g\n", d, k, m, t, nm, a, b))
    }
  }
}
cat(sprintf("seed %d: %d data sets, %d numbers compared, %d fits metafor refused\n", seed, n, compared, skipped))
for (key in names(worst)) cat(sprintf("  %-10s worst rel. error %.2e (%s, data set %d)\n", key, worst[[key]]$e, worst[[key]]$f, worst[[key]]$d))
cat(sprintf("  GENQ interval omitted by metan in %d of %d data sets\n", length(genq_omitted), n))
for (w in names(notes)) cat(sprintf("  metan warned %d x: %s\n", notes[[w]], w))
