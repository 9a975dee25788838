#!/usr/bin/env Rscript
## Independent check of `metan fit --mods ... --format json` against metafor's rma(mods=)
## on fresh random data: a numeric and a categorical moderator, several estimators, z and
## knha. Needs R with metafor and jsonlite; CI does not run it.
## usage: Rscript scripts/check_mods_vs_metafor.R [path/to/metan] [n_datasets] [seed]
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
metan <- if (length(args) >= 1) args[1] else "target/release/metan"
n <- if (length(args) >= 2) as.integer(args[2]) else 10L
seed <- if (length(args) >= 3) as.integer(args[3]) else as.integer(Sys.time()) %% 100000L
set.seed(seed)
ctl <- list(threshold = 1e-12, tol = 1e-14, maxiter = 10000)
worst <- 0; cmp <- 0L
for (d in seq_len(n)) {
  k <- sample(8:60, 1)
  x <- round(runif(k, 0, 50), 1); g <- sample(c("a", "b", "c"), k, TRUE); g[1:3] <- c("a", "b", "c")
  vi <- 10^runif(k, -2, 0); yi <- 0.2 + 0.01 * x + (g == "b") * 0.3 + rnorm(k, 0, sqrt(vi + 0.05))
  f <- tempfile(fileext = ".csv")
  write.csv(data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi), x = x, g = g), f, row.names = FALSE, quote = FALSE)
  for (m in c("EE", "DL", "HE", "SJ", "ML", "REML", "EB", "PM")) for (t in c("z", "knha")) {
    r <- tryCatch(rma(yi, vi, mods = ~ x + g, method = m, test = t, control = ctl), error = function(e) NULL)
    if (is.null(r)) next
    out <- system2(metan, c("fit", f, "--mods", "x,g", "--method", m, "--test", t, "--format", "json"), stdout = TRUE)
    j <- fromJSON(paste(out, collapse = "\n"))
    theirs <- c(as.numeric(r$beta), r$se, r$pval, r$ci.lb, r$ci.ub, r$tau2, r$QE, r$QM, r$QMp)
    ours <- c(j$coefficients$estimate, j$coefficients$se, j$coefficients$p_value, j$coefficients$ci_lower,
              j$coefficients$ci_upper, j$tau2, j$q, j$qm, j$qm_p_value)
    e <- ifelse(theirs == ours, 0, abs(theirs - ours) / pmax(abs(theirs), abs(ours)))
    e[abs(theirs - ours) < 1e-13] <- 0
    ## boundary: metafor's Fisher scoring stops at tau^2 ~ 1e-13 where metan reports 0
    if (r$tau2 < 1e-10 && j$tau2 == 0) e[length(r$beta) * 5 + 1] <- 0
    if (max(e) > 1e-6) cat(sprintf("MISMATCH data %d %s %s: %.2e\n", d, m, t, max(e)))
    worst <- max(worst, e); cmp <- cmp + length(e)
  }
}
cat(sprintf("seed %d: %d data sets, %d numbers compared, worst relative error %.2e\n", seed, n, cmp, worst))
