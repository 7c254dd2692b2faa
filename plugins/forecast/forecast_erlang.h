/*
 * forecast_erlang — Erlang B / Erlang C queueing formulas and the staffing
 * search, header-only and pure (no state), so the unit test checks them
 * directly against published table values.
 *
 *   A  offered traffic in Erlangs = arrivals x AHT / period
 *   N  agents
 *   B(A, 0) = 1,  B(A, n) = A B(A, n-1) / (n + A B(A, n-1))   (Erlang B)
 *   C(A, N) = B / (1 - rho (1 - B)),  rho = A / N               (Erlang C,
 *             probability that a contact waits; 1 when N <= A)
 *   SL(t)   = 1 - C e^{-(N - A) t / AHT}
 *   ASA     = C AHT / (N - A)
 *
 * The recursion never forms A^N or N!, so it stays finite and accurate for
 * thousands of Erlangs, where the textbook power series overflows.
 */
#ifndef KS_FORECAST_ERLANG_H
#define KS_FORECAST_ERLANG_H

#include <math.h>

/* Erlang B blocking probability for traffic a and n servers (n >= 0). */
static inline double fc_erlang_b(double a, int n) {
  double b = 1.0;
  for (int k = 1; k <= n; k++)
    b = a * b / ((double)k + a * b);
  return b;
}

/* Erlang C from Erlang B of the same (a, n). */
static inline double fc_erlang_c_from_b(double a, int n, double b) {
  if (n <= 0 || a >= (double)n)
    return 1.0;
  const double rho = a / (double)n;
  return b / (1.0 - rho * (1.0 - b));
}

/* Probability of waiting, P(wait) = C(a, n); 0 without traffic, 1 when
 * the queue is unstable (n <= a). */
static inline double fc_erlang_c(double a, int n) {
  if (!(a > 0.0))
    return 0.0;
  if (n <= 0 || a >= (double)n)
    return 1.0;
  return fc_erlang_c_from_b(a, n, fc_erlang_b(a, n));
}

/* Share of contacts answered within t_s seconds. */
static inline double fc_erlang_sl(double a, int n, double aht_s, double t_s) {
  if (!(a > 0.0))
    return 1.0;
  if (a >= (double)n || !(aht_s > 0.0))
    return 0.0;
  return 1.0 - fc_erlang_c(a, n) * exp(-((double)n - a) * t_s / aht_s);
}

/* Average speed of answer in seconds (HUGE_VAL when n <= a). */
static inline double fc_erlang_asa(double a, int n, double aht_s) {
  if (!(a > 0.0))
    return 0.0;
  if (a >= (double)n)
    return HUGE_VAL;
  return fc_erlang_c(a, n) * aht_s / ((double)n - a);
}

/*
 * The fewest agents N (> a) with SL(t_s) >= target, and ASA <= max_asa_s
 * when max_asa_s > 0, and occupancy a / N <= max_occ. 0 without traffic;
 * -1 when no N <= max_n meets them or the inputs are unusable.
 */
static inline int fc_erlang_required(double a, double aht_s, double target, double t_s,
                                     double max_asa_s, double max_occ, int max_n) {
  if (a == 0.0)
    return 0;
  if (!(a > 0.0) || !(aht_s > 0.0) || !(target < 1.0) || !(max_occ > 0.0) || !isfinite(a) ||
      a >= (double)max_n)
    return -1;
  double lo = floor(a) + 1.0; /* stability: N > A */
  if (max_occ < 1.0 && ceil(a / max_occ) > lo)
    lo = ceil(a / max_occ);
  double b = 1.0;
  for (int n = 1; n <= max_n; n++) {
    b = a * b / ((double)n + a * b);
    if ((double)n < lo)
      continue;
    const double c = fc_erlang_c_from_b(a, n, b);
    const double sl = 1.0 - c * exp(-((double)n - a) * t_s / aht_s);
    const double asa = c * aht_s / ((double)n - a);
    if (sl >= target && (max_asa_s <= 0.0 || asa <= max_asa_s) && a / (double)n <= max_occ)
      return n;
  }
  return -1;
}

#endif
