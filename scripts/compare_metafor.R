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

# selection models on the ML fit (k = 100), as users call selmodel (optim and integrate
# defaults; the continuous types take seconds to tens of seconds: one call each). Compared
# at 1e-3: metafor's defaults stop that far from the maximum (tests/parity/selmodel_parity.rs
# compares metan with the polished maximum at 1e-7..1e-11).
fitml <- rma(yi, vi, data = d, method = "ML", control = ctrl)
for (ty in c("stepfun", "beta", "halfnorm", "negexp", "logistic", "power")) {
  f <- if (ty == "stepfun") function() selmodel(fitml, type = ty, steps = 0.025)
       else function() selmodel(fitml, type = ty)
  t <- timeit(function() suppressWarnings(f()), if (ty == "stepfun") 2 else 0)
  add(paste0("selmodel ", ty, if (ty == "stepfun") " (3PSM)" else ""), 100, t,
      c(t$res$beta[1], t$res$tau2, t$res$ll),
      note = "estimate, tau2, ll at metafor's optimiser tolerance", tol = 1e-3)
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
