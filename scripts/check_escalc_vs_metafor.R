#!/usr/bin/env Rscript
## Independent check of `metan escalc --format json` against metafor's escalc() on fresh
## random data (zero cells included), for every measure and for the continuity-correction
## options; then the measures of issue 18 (PBIT, OR2DN, OR2DL, D2ORN, D2ORL, MC, SMCC, SMCR,
## SMCRH, ROMC, PCOR, ZPCOR, SPCOR, SMD/D2ORL from a reported d, t or p) and a mixed-outcome
## table converted to d (`--measure-column`, `--convert-to d`). metafor 3.8-1 has no `pi`
## and no D2OR* from d/t: those steps are written out as metafor >= 4.0 does them. Needs R
## with metafor and jsonlite; CI does not run it.
##
## usage: Rscript scripts/check_escalc_vs_metafor.R [path/to/metan] [seed]
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
metan <- if (length(args) >= 1) args[1] else "target/release/metan"
seed <- if (length(args) >= 2) as.integer(args[2]) else as.integer(Sys.time()) %% 100000L
set.seed(seed)
k <- 40
n1 <- sample(2:300, k, TRUE); n2 <- sample(2:300, k, TRUE)
ai <- rbinom(k, n1, runif(k, 0, 0.3)); ci <- rbinom(k, n2, runif(k, 0, 0.3))
ai[1:3] <- 0; ci[2:4] <- 0                       # zero cells and a double zero
tab <- data.frame(ai = ai, bi = n1 - ai, ci = ci, di = n2 - ci, n1i = n1, n2i = n2,
                  m1i = rnorm(k, 10, 3), sd1i = runif(k, 1, 5), m2i = rnorm(k, 9, 3), sd2i = runif(k, 1, 5),
                  ri = runif(k, -0.9, 0.9), ni = sample(5:500, k, TRUE),
                  x1i = rpois(k, 10), t1i = runif(k, 50, 500), x2i = rpois(k, 12), t2i = runif(k, 50, 500))
tab$xi <- rbinom(k, tab$ni, runif(k, 0.01, 0.99)); tab$ti <- tab$t1i
tab$m1i <- abs(tab$m1i); tab$m2i <- abs(tab$m2i)
f <- tempfile(fileext = ".csv"); write.csv(tab, f, row.names = FALSE)
## R computes from what the CSV holds (write.csv keeps 15 significant digits; a difference
## of close means would otherwise differ by ~1e-11 between the two inputs)
tab <- read.csv(f)
cases <- list(
  list(m = "OR"), list(m = "OR", to = "all"), list(m = "OR", to = "if0all", add = 0.25),
  list(m = "OR", drop00 = TRUE), list(m = "RR"), list(m = "RD"), list(m = "AS"), list(m = "PETO"),
  list(m = "MD"), list(m = "SMD"), list(m = "SMDH"), list(m = "ROM"),
  list(m = "COR"), list(m = "ZCOR"), list(m = "PR"), list(m = "PLO"), list(m = "PLN"),
  list(m = "PAS"), list(m = "PFT"), list(m = "IRR"), list(m = "IR"))
worst <- 0; n <- 0
for (cs in cases) {
  a <- list(measure = cs$m, data = tab)
  if (cs$m %in% c("OR", "RR", "RD", "AS", "PETO")) a <- c(a, list(ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di))
  if (cs$m %in% c("MD", "SMD", "SMDH", "ROM")) a <- c(a, list(m1i = tab$m1i, sd1i = tab$sd1i, n1i = tab$n1i, m2i = tab$m2i, sd2i = tab$sd2i, n2i = tab$n2i))
  if (cs$m %in% c("COR", "ZCOR")) a <- c(a, list(ri = tab$ri, ni = tab$ni))
  if (cs$m %in% c("PR", "PLO", "PLN", "PAS", "PFT")) a <- c(a, list(xi = tab$xi, ni = tab$ni))
  if (cs$m == "IRR") a <- c(a, list(x1i = tab$x1i, t1i = tab$t1i, x2i = tab$x2i, t2i = tab$t2i))
  if (cs$m == "IR") a <- c(a, list(xi = tab$x1i, ti = tab$t1i))
  opt <- c()
  if (!is.null(cs$to)) { a$to <- cs$to; opt <- c(opt, "--to", cs$to) }
  if (!is.null(cs$add)) { a$add <- cs$add; opt <- c(opt, "--add", cs$add) }
  if (!is.null(cs$drop00)) { a$drop00 <- cs$drop00; opt <- c(opt, "--drop00", "true") }
  if (cs$m == "IR") opt <- c(opt, "--xi", "x1i", "--ti", "t1i")
  r <- do.call(escalc, a[names(a) != "data"])
  out <- system2(metan, c("escalc", f, "--measure", cs$m, opt, "--format", "json"), stdout = TRUE, stderr = TRUE)
  j <- fromJSON(paste(out, collapse = "\n"))
  for (col in c("yi", "vi")) {
    x <- as.numeric(r[[col]]); y <- suppressWarnings(as.numeric(j[[col]]))
    if (any(is.na(x) != is.na(y))) { cat("NA MISMATCH", cs$m, col, "\n"); quit(status = 1) }
    ok <- !is.na(x)
    e <- ifelse(x[ok] == y[ok], 0, abs(x[ok] - y[ok]) / pmax(abs(x[ok]), abs(y[ok])))
    worst <- max(worst, e); n <- n + sum(ok)
    if (max(e) > 1e-10) cat(sprintf("MISMATCH %s %s: %.2e\n", paste(cs, collapse = "/"), col, max(e)))
  }
}
cat(sprintf("seed %d: %d measure/option cases, %d numbers compared, worst relative error %.2e\n", seed, length(cases), n, worst))

## ---- issue 18: measures across outcome types -------------------------------------------
worst18 <- 0; n18 <- 0; ncase18 <- 0
check <- function(label, r, csv, opt) {
  out <- system2(metan, c("escalc", csv, opt, "--format", "json"), stdout = TRUE, stderr = TRUE)
  j <- fromJSON(paste(out, collapse = "\n"))
  if (is.null(j$yi)) { cat("FAILED", label, ":", out, "\n"); quit(status = 1) }
  ncase18 <<- ncase18 + 1
  for (col in c("yi", "vi")) {
    x <- as.numeric(r[[col]]); y <- suppressWarnings(as.numeric(j[[col]]))
    if (any(is.na(x) != is.na(y))) { cat("NA MISMATCH", label, col, "\n"); quit(status = 1) }
    ok <- !is.na(x)
    e <- ifelse(x[ok] == y[ok], 0, abs(x[ok] - y[ok]) / pmax(abs(x[ok]), abs(y[ok])))
    worst18 <<- max(worst18, e); n18 <<- n18 + sum(ok)
    if (length(e) && max(e) > 1e-10) cat(sprintf("MISMATCH %s %s: %.2e\n", label, col, max(e)))
  }
}
tt <- tab[, c("ai", "bi", "ci", "di")]
for (m in c("PBIT", "OR2DN", "OR2DL")) for (to in c("only0", "all", "none")) {
  r <- suppressWarnings(escalc(m, ai = tt$ai, bi = tt$bi, ci = tt$ci, di = tt$di, to = to))
  check(paste(m, to), r, f, c("--measure", m, "--to", to))
}
for (m in c("D2ORN", "D2ORL")) {
  r <- escalc(m, m1i = tab$m1i, sd1i = tab$sd1i, n1i = tab$n1i, m2i = tab$m2i, sd2i = tab$sd2i, n2i = tab$n2i)
  check(m, r, f, c("--measure", m))
}
## one group measured twice: m1i/sd1i post, m2i/sd2i pre, ni, ri of the main table
for (m in c("MC", "SMCC", "SMCR", "SMCRH", "ROMC")) for (vt in if (m %in% c("SMCC", "SMCR")) c("LS", "LS2") else "LS") {
  r <- suppressWarnings(escalc(m, m1i = tab$m1i, sd1i = tab$sd1i, m2i = tab$m2i, sd2i = tab$sd2i, ni = tab$ni, ri = tab$ri, vtype = vt))
  check(paste(m, vt), r, f, c("--measure", m, "--vtype", vt))
}
## a reported d, t or signed p with the group sizes (separate files: one kind each)
n1 <- sample(3:300, k, TRUE); n2 <- sample(3:300, k, TRUE)
tv <- rt(k, df = 10) * 2; tv[1] <- 0
pv <- sign(tv) * 2 * pt(abs(tv), n1 + n2 - 2, lower.tail = FALSE); pv[1] <- 0.5
reported <- list(dval = tv * sqrt(1/n1 + 1/n2), tval = tv, pval = pv)
convp2t <- function(p, df) sign(p) * qt(abs(p) / 2, df = df, lower.tail = FALSE)   # metafor >= 4.0
for (kind in names(reported)) {
  g <- tempfile(fileext = ".csv")
  d <- data.frame(n1i = n1, n2i = n2); d[[kind]] <- reported[[kind]]
  write.csv(d, g, row.names = FALSE)
  x <- read.csv(g)[[kind]]
  ti <- switch(kind, dval = NULL, tval = x, pval = convp2t(x, n1 + n2 - 2))
  di <- if (kind == "dval") x else ti * sqrt(1/n1 + 1/n2)
  for (vt in c("LS", "UB", "LS2", "AV")) {
    r <- if (kind == "dval") escalc("SMD", di = di, n1i = n1, n2i = n2, vtype = vt)
         else escalc("SMD", ti = ti, n1i = n1, n2i = n2, vtype = vt)
    check(paste("SMD from", kind, vt), r, g, c("--measure", "SMD", "--vtype", vt))
  }
  r <- escalc("D2ORL", m1i = di, m2i = 0 * di, sd1i = 0 * di + 1, sd2i = 0 * di + 1, n1i = n1, n2i = n2)
  check(paste("D2ORL from", kind), r, g, c("--measure", "D2ORL"))
}
## partial and semi-partial correlations from regression t statistics
np <- sample(20:800, k, TRUE); mp <- sample(0:12, k, TRUE)
r2 <- runif(k, 0.01, 0.8); tp <- rnorm(k, 0, 3)
g <- tempfile(fileext = ".csv"); write.csv(data.frame(tval = tp, ni = np, mi = mp, r2i = r2), g, row.names = FALSE)
pc <- read.csv(g); tp <- pc$tval; r2 <- pc$r2i
for (m in c("PCOR", "ZPCOR", "SPCOR")) for (vt in if (m == "ZPCOR") "LS" else c("LS", "AV")) {
  r <- escalc(m, ti = tp, ni = np, mi = mp, r2i = r2, vtype = vt)
  check(paste(m, vt), r, g, c("--measure", m, "--vtype", vt))
}
## mixed outcome types: each row a random measure, all converted to d (logistic) and to log OR
ms <- sample(c("OR", "SMD", "SMCR", "COR", "PBIT"), k, TRUE)
mix <- tab; mix$measure <- ms
g <- tempfile(fileext = ".csv"); write.csv(mix, g, row.names = FALSE)
es_of <- function(m) suppressWarnings(switch(m,
  OR = escalc("OR", ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di),
  PBIT = escalc("PBIT", ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di),
  SMD = escalc("SMD", m1i = tab$m1i, sd1i = tab$sd1i, n1i = tab$n1i, m2i = tab$m2i, sd2i = tab$sd2i, n2i = tab$n2i),
  SMCR = escalc("SMCR", m1i = tab$m1i, sd1i = tab$sd1i, m2i = tab$m2i, ni = tab$ni, ri = tab$ri),
  COR = escalc("COR", ri = tab$ri, ni = tab$ni)))
all <- lapply(c(OR = "OR", PBIT = "PBIT", SMD = "SMD", SMCR = "SMCR", COR = "COR"), es_of)
y <- vapply(seq_len(k), function(i) all[[ms[i]]]$yi[i], 0)
v <- vapply(seq_len(k), function(i) all[[ms[i]]]$vi[i], 0)
to_d <- suppressWarnings(ifelse(ms == "OR", sqrt(3) / pi * y, ifelse(ms == "COR", 2 * y / sqrt(1 - y^2), y)))
to_dv <- ifelse(ms == "OR", 3 / pi^2 * v, ifelse(ms == "COR", 4 * v / (1 - y^2)^3, v))
check("mixed -> d", data.frame(yi = to_d, vi = to_dv), g, c("--convert-to", "d"))
check("mixed -> logor", data.frame(yi = ifelse(ms == "OR", y, pi / sqrt(3) * to_d),
                                   vi = ifelse(ms == "OR", v, pi^2 / 3 * to_dv)),
      g, c("--convert-to", "logor"))
cat(sprintf("seed %d, issue 18: %d cases, %d numbers compared, worst relative error %.2e\n", seed, ncase18, n18, worst18))
