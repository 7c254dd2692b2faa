/*
 * sim_util — the simulator's PRNG (xoshiro256**, seeded through splitmix64;
 * one generator per tenant, no global state), the distributions drawn from
 * it, and the UTC calendar: day boundaries, yyyymmdd, ISO-8601 parsing and
 * formatting.
 */
#include "sim_internal.h"

#include "kpistream/calendar.h"

#include <math.h>
#include <stdio.h>

/* ---- PRNG: xoshiro256** seeded by splitmix64 -------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void ks_sim_rng_seed(ks_sim_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t ks_sim_rng_next(ks_sim_rng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double ks_sim_unif(ks_sim_rng *r) {
  return (double)(ks_sim_rng_next(r) >> 11) * 0x1.0p-53;
}

uint32_t ks_sim_below(ks_sim_rng *r, uint32_t n) {
  return (uint32_t)(((ks_sim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

int ks_sim_chance(ks_sim_rng *r, double p) {
  return ks_sim_unif(r) < p;
}

double ks_sim_exp(ks_sim_rng *r, double mean) {
  return -mean * log(1.0 - ks_sim_unif(r));
}

double ks_sim_normal(ks_sim_rng *r) {
  /* Box-Muller, one value per call (no cached second value: less state). */
  double u1 = 1.0 - ks_sim_unif(r), u2 = ks_sim_unif(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double ks_sim_lognormal(ks_sim_rng *r, double mean, double cv) {
  double s2 = log(1.0 + cv * cv);
  return mean * exp(sqrt(s2) * ks_sim_normal(r) - 0.5 * s2);
}

int ks_sim_pick(ks_sim_rng *r, const double *w, int n) {
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += w[i];
  double u = ks_sim_unif(r) * sum;
  for (int i = 0; i < n; i++) {
    if (u < w[i])
      return i;
    u -= w[i];
  }
  return n - 1;
}

int64_t ks_sim_ms(double seconds) {
  return (int64_t)llround(seconds * 1000.0);
}

/* ---- calendar (kpistream/calendar.h does the civil-date arithmetic) ---------- */

int64_t ks_sim_day_start(int64_t t_ms) {
  return ks_interval_floor(t_ms, SIM_DAY);
}

uint32_t ks_sim_yyyymmdd(int64_t t_ms) {
  int64_t y;
  int m, d;
  ks_civil_date(ks_floor_div(t_ms, SIM_DAY), &y, &m, &d);
  return (uint32_t)y * 10000u + (uint32_t)m * 100u + (uint32_t)d;
}

char *ks_sim_format_time(int64_t ms, char *buf, size_t cap) {
  int64_t y;
  int m, d;
  int64_t day = ks_floor_div(ms, SIM_DAY);
  int64_t sod = (ms - day * SIM_DAY) / 1000;
  ks_civil_date(day, &y, &m, &d);
  snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d, (int)(sod / 3600),
           (int)(sod / 60 % 60), (int)(sod % 60));
  return buf;
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

int ks_sim_parse_time(const char *s, int64_t *out_ms) {
  if (s == NULL)
    return KS_EINVAL;
  const char *p = s;
  int y, mo, d, h = 0, mi = 0, se = 0, ms = 0;
  if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
    return KS_EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > 31)
    return KS_EINVAL;
  int64_t off_ms = 0;
  if (*p == 'T' || *p == 't' || *p == ' ') {
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
      return KS_EINVAL;
    if (*p == ':') {
      p++;
      if (digits(&p, 2, &se))
        return KS_EINVAL;
      if (*p == '.' || *p == ',') {
        p++;
        int n = 0, scale = 100;
        while (*p >= '0' && *p <= '9') {
          if (n++ < 3) {
            ms += (*p - '0') * scale;
            scale /= 10;
          }
          p++;
        }
        if (n == 0)
          return KS_EINVAL;
      }
    }
    if (h > 23 || mi > 59 || se > 60)
      return KS_EINVAL;
    if (*p == 'Z' || *p == 'z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      int sign = *p++ == '-' ? -1 : 1, oh, om;
      if (digits(&p, 2, &oh))
        return KS_EINVAL;
      if (*p == ':')
        p++;
      if (digits(&p, 2, &om) || oh > 23 || om > 59)
        return KS_EINVAL;
      off_ms = sign * ((int64_t)oh * SIM_HOUR + (int64_t)om * SIM_MIN);
    }
  }
  if (*p != '\0')
    return KS_EINVAL;
  /* reject 2026-02-31 and the like */
  int64_t days = ks_days_from_civil(y, mo, d);
  int64_t cy;
  int cm, cd;
  ks_civil_date(days, &cy, &cm, &cd);
  if (cy != y || cm != mo || cd != d)
    return KS_EINVAL;
  *out_ms = days * SIM_DAY + (int64_t)h * SIM_HOUR + (int64_t)mi * SIM_MIN + (int64_t)se * 1000 +
            ms - off_ms;
  return 0;
}
