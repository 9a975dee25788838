# Side-by-side timing with metafor (see scripts/compare_metafor.sh).
# Writes seeded CSVs (yi, vi) to the output directory, times metafor in-process with
# proc.time loops and writes timings + results to metafor_results.csv.
# Data are SIMULATED: yi ~ N(0.3, vi + 0.1), vi ~ U(0.01, 0.21).
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "target/compare"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
suppressPackageStartupMessages(library(metafor))
ctrl <- list(threshold = 1e-14, tol = 1e-14, maxiter = 10000)
gen <- function(k) {
  set.seed(20260 + k)
  vi <- runif(k, 0.01, 0.21)
  yi <- rnorm(k, 0.3, sqrt(vi + 0.1))
  f <- file.path(out, sprintf("data_k%d.csv", k))
  write.csv(data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi)), f,
            row.names = FALSE, quote = FALSE)
  read.csv(f)
}
timeit <- function(expr_fun, reps) {
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(reps)) r <- expr_fun()
  list(sec = (proc.time()[["elapsed"]] - t0) / reps, res = r)
}
rows <- list()
add <- function(op, k, reps, tm, est = NA, tau2 = NA, se = NA, note = "") {
  rows[[length(rows) + 1]] <<- data.frame(op = op, k = k, reps = reps, sec = tm,
    estimate = sprintf("%.17g", est), tau2 = sprintf("%.17g", tau2), se = sprintf("%.17g", se),
    note = note)
}
for (k in c(100, 1000)) {
  d <- gen(k)
  reps <- if (k >= 1000) 2 else 50
  for (m in c("REML", "DL")) {
    t <- timeit(function() rma(yi, vi, data = d, method = m, control = ctrl), reps)
    add(paste0(m, " fit"), k, reps, t$sec, t$res$b[1], t$res$tau2, t$res$se)
  }
}
# permutation test: 100 iterations timed, scaled to 1000 (metafor takes ~18 s for 1000)
d <- read.csv(file.path(out, "data_k100.csv"))
fit <- rma(yi, vi, data = d, method = "REML", control = ctrl)
t0 <- proc.time()[["elapsed"]]
invisible(suppressMessages(permutest(fit, iter = 100, progbar = FALSE)))
sec <- (proc.time()[["elapsed"]] - t0) * 10
add("permutest 1000 (REML)", 100, 1, sec, note = "R timed at iter=100 then scaled x10")
res <- do.call(rbind, rows)
write.csv(res, file.path(out, "metafor_results.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("R %s, metafor %s\n", paste(R.version$major, R.version$minor, sep = "."),
            as.character(packageVersion("metafor"))))
