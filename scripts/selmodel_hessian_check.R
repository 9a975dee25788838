#!/usr/bin/env Rscript
## scripts/selmodel_hessian_check.R -- how stable the reference standard errors are
##
## For one case of tests/fixtures/selmodel.json: the standard errors at the fixture's
## reference maximum from numDeriv::hessian of the generator's likelihood (metafor's own
## integrand and closed forms: nll_full in tests/fixtures/generate_selmodel.R) with
## several first steps d and Richardson depths r, integrated at rel.tol TOL, printed beside
## the fixture's. Mode "se": steps d x (the fixture's standard error), as the generator's
## se_cov() (parameters held on a bound left out); mode "grad" (step functions): the
## numDeriv Jacobian of the analytic gradient (ll_grad_stepfun) with those steps, as
## se_cov() for the step functions; mode "rel": numDeriv's relative steps d |x| with deltas
## below 0.01 shifted by 1 (the generator's recipe before). SELMODEL_POINT=file.json
## evaluates at another point (e.g. metan's maximum, `metan selmodel --format json`).
##
##   Rscript scripts/selmodel_hessian_check.R ID [TOL [MODE:d:r ...]]
##   Rscript scripts/selmodel_hessian_check.R "molloy/stepfun(0.025,0.5)/greater/ML" 1e-14 \
##     rel:0.1:6 se:0.05:6 se:0.1:6 se:0.2:6 grad:0.1:6 grad:0.2:6
suppressPackageStartupMessages({ library(jsonlite) })
args <- commandArgs(TRUE)
## the generator's definitions (data, likelihood, cases) without its run
ex <- parse(file.path("tests", "fixtures", "generate_selmodel.R"))
for (e in ex) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("CACHE"))) break
  eval(e, globalenv())
}
fx <- fromJSON(file.path("tests", "fixtures", "selmodel.json"), simplifyVector = FALSE)
id <- args[1]
tol <- if (length(args) >= 2) as.numeric(args[2]) else HESS_TOL
runs <- if (length(args) >= 3) args[-(1:2)] else c("rel:0.1:6", "se:0.05:6", "se:0.1:6", "se:0.2:6")
cs <- Filter(function(c) c$id == id, CASES)[[1]]
sargs <- c(case_sargs(cs), list(skiphes = TRUE, skiphet = TRUE))
s <- suppressWarnings(do.call(selmodel, sargs))
rf <- Filter(function(c) c$id == id, fx$cases)[[1]]$reference
un <- function(x) as.numeric(unlist(lapply(x, function(v) if (is.null(v)) NA else v)))
p <- s$p
free <- which(!s$delta.fix)
theta <- c(un(rf$beta), rf$tau2, un(rf$delta)[free])
held <- c(rep(FALSE, p), isTRUE(rf$tau2_held), as.logical(un(rf$delta_held))[free])
sc <- c(un(rf$se), un(rf$se_tau2), un(rf$se_delta)[free])
## SELMODEL_POINT=file.json: a JSON array of {"id", "beta", "tau2", "delta"} (e.g. metan's
## maximum); the case's entry replaces the reference point
if (nzchar(Sys.getenv("SELMODEL_POINT"))) {
  for (pt in fromJSON(Sys.getenv("SELMODEL_POINT"), simplifyVector = FALSE))
    if (pt$id == id) theta <- c(un(pt$beta), pt$tau2, un(pt$delta)[free])
}
n <- length(theta)
fr <- which(!held)
f <- function(th) {
  delta <- s$delta
  delta[free] <- th[(p + 2):n]
  nll_full(s, th[1:p], th[p + 1], delta, rel.tol = tol)
}
fmt <- function(x) paste(formatC(x, digits = 12, format = "e"), collapse = " ")
cat(id, "\n  theta", fmt(theta), "\n  held ", held, "\n")
for (run in runs) {
  a <- strsplit(run, ":")[[1]]
  d <- as.numeric(a[2]); r <- as.integer(a[3])
  t0 <- proc.time()[["elapsed"]]
  if (a[1] == "se") {
    fu <- function(u) { th <- theta; th[fr] <- theta[fr] + sc[fr] * (u - 1); f(th) }
    H <- numDeriv::hessian(fu, rep(1, length(fr)), method.args = list(r = r, d = d)) / outer(sc[fr], sc[fr])
  } else if (a[1] == "grad") {  # Jacobian of the analytic gradient (step functions)
    gu <- function(u) {
      th <- theta; th[fr] <- theta[fr] + sc[fr] * (u - 1)
      delta <- s$delta; delta[free] <- th[(p + 2):n]
      g <- ll_grad_stepfun(s, th[1:p], th[p + 1], delta)
      -c(g[1:(p + 1)], g[p + 1 + free])[fr] * sc[fr]
    }
    Hu <- numDeriv::jacobian(gu, rep(1, length(fr)), method.args = list(r = r, d = d))
    H <- (Hu + t(Hu)) / 2 / outer(sc[fr], sc[fr])
  } else {
    shift <- ifelse(seq_len(n) > p + 1 & abs(theta) < 0.01, 1, 0)
    fs <- function(x) { th <- theta; th[fr] <- x - shift[fr]; f(th) }
    H <- numDeriv::hessian(fs, theta[fr] + shift[fr], method.args = list(r = r, d = d))
  }
  se <- rep(NA_real_, n)
  se[fr] <- sqrt(diag(chol2inv(chol(H))))
  cat(sprintf("  %-10s se %s  (%.0f s)\n", run, fmt(se), proc.time()[["elapsed"]] - t0))
}
cat(sprintf("  %-10s se %s\n", "fixture", fmt(sc)))
