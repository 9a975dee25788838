# Side-by-side timing with metafor (see scripts/compare_metafor.sh).
# Writes seeded CSVs to the output directory, times metafor in-process with proc.time loops
# and writes timings and results to metafor_results.csv: one row per operation and k, with
# the numbers that metan must reproduce (semicolon-separated, 17 significant digits).
# Data are SIMULATED: yi ~ N(0.3 + 0.2 x1 - 0.1 x2, vi + 0.1), vi ~ U(0.01, 0.21),
# x1 ~ N(0, 1), x2 ~ U(0, 1).
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "target/compare"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
suppressPackageStartupMessages(library(metafor))
ctrl <- list(threshold = 1e-14, tol = 1e-14, maxiter = 10000)
gen <- function(k) {
  set.seed(20260 + k)
  vi <- runif(k, 0.01, 0.21)
  x1 <- rnorm(k)
  x2 <- runif(k)
  yi <- rnorm(k, 0.3 + 0.2 * x1 - 0.1 * x2, sqrt(vi + 0.1))
  f <- file.path(out, sprintf("data_k%d.csv", k))
  g <- function(x) sprintf("%.17g", x)
  write.csv(data.frame(yi = g(yi), vi = g(vi), x1 = g(x1), x2 = g(x2)), f,
            row.names = FALSE, quote = FALSE)
  read.csv(f)
}
# mean seconds per call: repeats until about `budget` seconds have passed (at least once)
timeit <- function(f, budget = 2) {
  t0 <- proc.time()[["elapsed"]]
  r <- f()
  n <- 1
  while ((el <- proc.time()[["elapsed"]] - t0) < budget && n < 1000) {
    r <- f()
    n <- n + 1
  }
  list(sec = el / n, reps = n, res = r)
}
rows <- list()
add <- function(op, k, t, values, note = "", tol = 1e-9) {
  rows[[length(rows) + 1]] <<- data.frame(op = op, k = k, reps = t$reps, sec = t$sec,
    values = paste(sprintf("%.17g", values), collapse = ";"), note = note, tol = tol)
}
fitvals <- function(r) c(r$b[1], r$se, r$tau2, r$QE)

for (k in c(100, 1000)) {
  d <- gen(k)
  for (m in c("REML", "DL", "PM")) {
    t <- timeit(function() rma(yi, vi, data = d, method = m, control = ctrl))
    add(paste(m, "fit"), k, t, fitvals(t$res))
  }
  t <- timeit(function() rma(yi, vi, mods = ~ x1 + x2, data = d, method = "REML", control = ctrl))
  add("REML meta-regression (2 moderators)", k, t, c(t$res$b, t$res$se, t$res$tau2))
}

d <- read.csv(file.path(out, "data_k100.csv"))
fit <- rma(yi, vi, data = d, method = "REML", control = ctrl)
t <- timeit(function() confint(fit, control = list(tol = 1e-14)))
add("REML Q-profile CI (confint)", 100, t, t$res$random[1, 2:3])
t <- timeit(function() leave1out(fit))
add("REML leave1out", 100, t, c(t$res$estimate, t$res$tau2))
t <- timeit(function() cumul(fit))
add("REML cumul", 100, t, c(t$res$estimate, t$res$tau2))
t <- timeit(function() influence(fit))
add("REML influence", 100, t, c(t$res$inf$rstudent, t$res$inf$cook.d, t$res$inf$hat))
t <- timeit(function() trimfill(fit, control = ctrl))
add("REML trimfill (L0)", 100, t, c(t$res$k0, t$res$beta[1], t$res$se, t$res$tau2))
t <- timeit(function() regtest(fit))
add("REML regtest (sei)", 100, t, c(t$res$zval, t$res$pval, t$res$est))
t <- timeit(function() ranktest(fit))
add("ranktest", 100, t, c(t$res$tau, t$res$pval))

# selection models on the ML fit (k = 100). Timed as users call selmodel (optim and
# integrate defaults; the continuous types take seconds to tens of seconds: one call each),
# but those defaults stop short of the maximum (here up to 2.3e-3 relative in the
# estimate), so the numbers compared are those of a tightly controlled metafor refit
# started at the default fit: optim BFGS reltol 1e-12, maxit 10000, ndeps 1e-6, integrate
# rel.tol 1e-10 with 1000 subdivisions, as metafor_tight in
# tests/fixtures/generate_selmodel.R (not timed). Each row's tolerance is what that refit
# reaches (stated in its note); tests/parity/selmodel_parity.rs compares metan with the
# polished maximum at 1e-7..1e-11.
fitml <- rma(yi, vi, data = d, method = "ML", control = ctrl)
sel_tight <- function(s, call) {
  ctl <- list(reltol = 1e-12, maxit = 10000, ndeps = rep(1e-6, s$p + 1 + length(s$delta)),
              beta.init = as.numeric(s$beta), tau2.init = max(s$tau2, 1e-6),
              delta.init = s$delta, intCtrl = list(rel.tol = 1e-10, subdivisions = 1000L))
  suppressWarnings(call(control = ctl))
}
# what the refit reaches (max relative difference of estimate, tau2, ll from metan's
# maximum; at each of the six, metan's ll is the higher or equal one: by 2e-11, 2e-9, 8e-6,
# 2e-10, 0, 7e-6 on the 2026-12-06 run):
# the step function, beta and logistic types: the refit's BFGS with a numerical gradient;
# negexp: the likelihood is flat along a ridge there (ll equal to 1e-11, estimate 1.7e-5
# apart); halfnorm and power: the maximum has delta on its bound 0, which metafor's
# logit-mapped delta only approaches (the refit stops at delta = 6.2e-5 and 4.2e-6)
sel_tol <- c(stepfun = 2e-6, beta = 5e-8, halfnorm = 5e-5, negexp = 2e-5,
             logistic = 2e-8, power = 1e-5)
sel_note <- c(
  stepfun = "estimate, tau2, ll of metafor's tight refit (BFGS reltol 1e-12), which reaches 1.4e-6",
  beta = "estimate, tau2, ll of metafor's tight refit (BFGS reltol 1e-12), which reaches 3.1e-8",
  halfnorm = "estimate, tau2, ll of metafor's tight refit: delta on its bound 0, which it approaches to 6.2e-5; reaches 2.1e-5",
  negexp = "estimate, tau2, ll of metafor's tight refit: a flat ridge (ll equal to 1e-11); reaches 1.7e-5",
  logistic = "estimate, tau2, ll of metafor's tight refit (BFGS reltol 1e-12), which reaches 1.6e-8",
  power = "estimate, tau2, ll of metafor's tight refit: delta on its bound 0, which it approaches to 4.2e-6; reaches 7.7e-6")
for (ty in c("stepfun", "beta", "halfnorm", "negexp", "logistic", "power")) {
  call <- if (ty == "stepfun") function(...) selmodel(fitml, type = ty, steps = 0.025, ...)
          else function(...) selmodel(fitml, type = ty, ...)
  t <- timeit(function() suppressWarnings(call()), if (ty == "stepfun") 2 else 0)
  r <- sel_tight(t$res, call)
  add(paste0("selmodel ", ty, if (ty == "stepfun") " (3PSM)" else ""), 100, t,
      c(r$beta[1], r$tau2, r$ll), note = sel_note[[ty]], tol = sel_tol[[ty]])
}

# GOSH: all 2^14 - 1 subsets, DL; compared as sorted estimates and tau^2 (the two
# enumerate subsets in different orders)
d14 <- gen(14)
fit14 <- rma(yi, vi, data = d14, method = "DL")
t <- timeit(function() gosh(fit14, subsets = 2^14, progbar = FALSE, parallel = "no"), 0)
add("DL GOSH (all 16383 subsets)", 14, t,
    c(sort(t$res$res$estimate), sort(t$res$res$tau2)))

# permutation test: 100 iterations timed, scaled to 1000 (1000 take ~20 s); the
# permutation p-values are Monte Carlo, so the observed z and p are compared
fitm <- rma(yi, vi, mods = ~ x1 + x2, data = d, method = "REML", control = ctrl)
t0 <- proc.time()[["elapsed"]]
pt <- suppressMessages(permutest(fitm, iter = 100, progbar = FALSE, control = ctrl))
sec <- (proc.time()[["elapsed"]] - t0) * 10
add("REML permutest 1000 permutations", 100, list(sec = sec, reps = 1), c(fitm$zval),
    note = "R timed at iter = 100, scaled x10; observed z values compared")

# location-scale model (scale = ~ x1 + x2), REML, metafor's default optimiser (nlminb):
# its alpha is only as accurate as nlminb's tolerance, so the stationary numbers are
# compared (the REML log-likelihood and QE)
t <- timeit(function() rma(yi, vi, mods = ~ x1 + x2, scale = ~ x1 + x2, data = d, method = "REML"))
add("REML location-scale (mods and scale ~ x1 + x2)", 100, t,
    c(t$res$fit.stats$REML[1], t$res$QE),
    note = "logLik and QE compared: metafor's alpha is as accurate as nlminb's tolerance")

# three-level CHE working model + CR2 (Pustejovsky & Tipton 2022): 1,500 effects in 300
# clusters of 5, V = vcalc(vi, cluster, rho = 0.6), random = ~ 1 | cluster/es, REML with
# metafor's sparse path, then clubSandwich's coef_test(vcov = "CR2", Satterthwaite).
# SIMULATED: y = 0.3 + 0.1 x + u_j + w_ij + e_ij, sigma2 = (0.05, 0.03), vi ~ U(0.02, 0.12).
# nlminb leaves the components uncertain to ~sqrt(rel.tol), so the stationary REML
# log-likelihood is compared; the CR2 numbers at metafor's components are compared in
# tests/parity/mv_parity.rs (clubSandwich, 1e-10)
if (requireNamespace("clubSandwich", quietly = TRUE)) {
  set.seed(20261500)
  ncl <- 300; size <- 5; k <- ncl * size
  cl <- rep(seq_len(ncl), each = size)
  vi <- runif(k, 0.02, 0.12)
  x <- rnorm(k)
  yi <- 0.3 + 0.1 * x + rnorm(ncl, 0, sqrt(0.05))[cl] + rnorm(k, 0, sqrt(0.03)) +
    rnorm(k, 0, sqrt(vi))
  g <- function(x) sprintf("%.17g", x)
  write.csv(data.frame(yi = g(yi), vi = g(vi), x = g(x), study = sprintf("c%d", cl)),
            file.path(out, "che_k1500.csv"), row.names = FALSE, quote = FALSE)
  dche <- read.csv(file.path(out, "che_k1500.csv"))
  dche$es <- seq_len(k)
  t <- timeit(function() {
    V <- vcalc(vi, cluster = study, obs = es, rho = 0.6, data = dche)
    f <- rma.mv(yi, V, mods = ~ x, random = ~ 1 | study / es, data = dche, sparse = TRUE,
                control = list(rel.tol = 1e-12))
    ct <- clubSandwich::coef_test(f, vcov = "CR2", cluster = dche$study,
                                  test = "Satterthwaite")
    list(f = f, ct = ct)
  }, 0)
  add("three-level CHE REML + CR2 (rma.mv sparse + clubSandwich)", k, t,
      c(logLik(t$res$f)),
      note = "REML logLik compared; CR2 at metafor's components: tests/parity/mv_parity.rs")
}

res <- do.call(rbind, rows)
write.csv(res, file.path(out, "metafor_results.csv"), row.names = FALSE, quote = TRUE)
cat(sprintf("R %s, metafor %s\n", paste(R.version$major, R.version$minor, sep = "."),
            as.character(packageVersion("metafor"))))
