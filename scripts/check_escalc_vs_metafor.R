#!/usr/bin/env Rscript
## Independent check of `metan escalc --format json` against metafor's escalc() on fresh
## random data (zero cells included), for every measure and for the continuity-correction
## options. Needs R with metafor and jsonlite; CI does not run it.
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
