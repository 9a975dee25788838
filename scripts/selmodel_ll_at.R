#!/usr/bin/env Rscript
## scripts/selmodel_ll_at.R -- metafor's selection-model log-likelihood at given points
##
## Used to settle disagreements between metan and the polished R reference of
## tests/fixtures/selmodel.json: for each case of an input JSON array
## [{"id": ..., "beta": [...], "tau2": x, "delta": [...]}] (e.g. metan's optimum, from
## `metan selmodel --format json`), evaluates the generator's likelihood (metafor's own
## integrand and closed forms, integrated piece by piece at rel.tol 1e-12: nll_full in
## tests/fixtures/generate_selmodel.R) at that point and its numerical gradient, and prints
## them beside the fixture's reference log-likelihood.
##
##   Rscript scripts/selmodel_ll_at.R points.json
suppressPackageStartupMessages({ library(jsonlite) })
args <- commandArgs(TRUE)
## the generator's definitions (data, likelihood, cases) without its run
ex <- parse(file.path("tests", "fixtures", "generate_selmodel.R"))
for (e in ex) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("CACHE"))) break
  eval(e, globalenv())
}
fx <- fromJSON(file.path("tests", "fixtures", "selmodel.json"), simplifyVector = FALSE)
pts <- fromJSON(args[1], simplifyVector = FALSE)
for (pt in pts) {
  cs <- Filter(function(c) c$id == pt$id, CASES)[[1]]
  ds <- DATA[[cs$dataset]]
  dat <- data.frame(yi = ds$yi, vi = ds$vi)
  for (m in names(ds$mods)) dat[[m]] <- ds$mods[[m]]
  rargs <- list(yi = quote(yi), vi = quote(vi), data = dat, method = cs$method, control = CTL)
  if (length(cs$mods)) rargs$mods <- as.formula(paste("~", paste(cs$mods, collapse = " + ")))
  res <- do.call(rma.uni, rargs)
  sargs <- list(res, type = cs$type, alternative = cs$alternative, skiphes = TRUE, skiphet = TRUE)
  if (!is.null(cs$steps)) sargs$steps <- cs$steps
  s <- suppressWarnings(do.call(selmodel, sargs))
  beta <- unlist(pt$beta); tau2 <- pt$tau2; delta <- unlist(pt$delta)
  ll <- -nll_full(s, beta, tau2, delta)
  free <- which(!s$delta.fix)
  th <- c(beta, tau2, delta[free])
  use <- seq_along(th)
  if (tau2 <= 0) use <- setdiff(use, s$p + 1)
  held <- (s$p + 1 + seq_along(free))[delta[free] <= s$delta.min[free] | delta[free] >= s$delta.max[free]]
  use <- setdiff(use, held)
  g <- numDeriv::grad(function(x) { t <- th; t[use] <- x; d <- delta; d[free] <- t[(s$p + 2):length(t)]
                                    -nll_full(s, t[1:s$p], t[s$p + 1], d) }, th[use])
  ref <- Filter(function(c) c$id == pt$id, fx$cases)
  rll <- if (length(ref)) ref[[1]]$reference$ll else NA
  cat(sprintf("%-50s ll(at point) %.12g  reference ll %.12g  diff %.3e  max|grad| %.2e\n",
              pt$id, ll, rll, ll - rll, max(abs(g))))
}
