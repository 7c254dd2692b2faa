/*
 * quality plugin — scoring one QA evaluation (a pure function of the
 * evaluation and the configuration; no state).
 *
 *   item:     not_applicable items are left out entirely (0 of 0, Genesys).
 *             The host already refuses negative or non-finite values and
 *             points above possible; defensively, such items are left out
 *             and points clamped to [0, possible] here too.
 *   section:  P = Σ points, M = Σ possible of its applicable items.
 *   weights:  a negative or non-finite weight counts as 0; a form where no
 *             section has a positive weight is scored unweighted (every
 *             section weight 1).
 *   score:    weighting points:        Σ(w × P) / Σ(w × M)
 *             weighting section_share: Σ(w × P/M) / Σ w over sections with M > 0
 *             no value when the denominator is 0 (nothing applicable).
 *   category: Σ P / Σ M over the evaluation's sections of that category
 *             (weights rank sections against each other; inside a category
 *             they cancel out for the usual one-section-per-category form).
 *   auto-fail: an applicable critical item with failed = true fails the
 *             evaluation and the category of its section; per
 *             auto_fail_scoring the score becomes 0 (zero), stays (score) or
 *             is left out of the means (exclude).
 *   compliance: an applicable compliance item with failed = true makes the
 *             evaluation non-compliant.
 */
#include <math.h>
#include <string.h>

#include "quality_internal.h"

void qa_category_name(const char *in, char *out) {
  const char *s = in ? in : "";
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (n == 0) {
    strcpy(out, "uncategorized");
    return;
  }
  if (n > QA_NAME_MAX - 1)
    n = QA_NAME_MAX - 1;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    else if (c == ' ' || c == '-' || c == '\t')
      c = '_';
    out[i] = c;
  }
  out[n] = '\0';
}

/* The evaluation's entry for a category, added when new; -1 when the
 * evaluation already has QA_MAX_CATS other categories. */
static int cat_index(qa_eval *e, const char *category) {
  char name[QA_NAME_MAX];
  qa_category_name(category, name);
  for (int i = 0; i < e->n_cats; i++)
    if (strcmp(e->cats[i].name, name) == 0)
      return i;
  if (e->n_cats == QA_MAX_CATS) {
    e->cats_dropped++;
    return -1;
  }
  qa_cat *c = &e->cats[e->n_cats];
  memcpy(c->name, name, sizeof name);
  return e->n_cats++;
}

static double weight_of(const Kpistream__V1__QaSection *s) {
  double w = s->weight;
  return isfinite(w) && w > 0 ? w : 0.0;
}

/* The scored flag and value of a measurement after the auto-fail rule. */
static void apply_auto_fail(const qa_config *cfg, int failed, int raw_scored, double raw,
                            int *scored, double *score) {
  *scored = raw_scored;
  *score = raw_scored ? raw : 0.0;
  if (!failed)
    return;
  switch (cfg->auto_fail) {
  case QA_AF_ZERO:
    *scored = 1;
    *score = 0.0;
    break;
  case QA_AF_SCORE:
    break;
  case QA_AF_EXCLUDE:
    *scored = 0;
    *score = 0.0;
    break;
  }
}

static double to_scale(const qa_config *cfg, double num, double den, int *ok) {
  *ok = 0;
  if (!(den > 0) || !isfinite(num) || !isfinite(den))
    return 0.0;
  double v = num / den * cfg->scale;
  if (!isfinite(v))
    return 0.0;
  *ok = 1;
  return v < 0 ? 0.0 : (v > cfg->scale ? cfg->scale : v);
}

void qa_score(const qa_config *cfg, const Kpistream__V1__QaEvaluation *qa, qa_eval *out) {
  memset(out, 0, sizeof *out);
  if (qa == NULL)
    return;
  int any_weight = 0;
  for (size_t i = 0; i < qa->n_sections; i++)
    if (qa->sections[i] && weight_of(qa->sections[i]) > 0)
      any_weight = 1;

  double num = 0, den = 0; /* points weighting, or section_share sums */
  for (size_t i = 0; i < qa->n_sections; i++) {
    const Kpistream__V1__QaSection *s = qa->sections[i];
    if (s == NULL)
      continue;
    const double w = any_weight ? weight_of(s) : 1.0;
    const int ci = cat_index(out, s->category);
    double P = 0, M = 0;
    int sec_failed = 0;
    for (size_t k = 0; k < s->n_items; k++) {
      const Kpistream__V1__QaItem *it = s->items[k];
      if (it == NULL || it->not_applicable)
        continue;
      if (it->critical && it->failed)
        sec_failed = 1;
      if (it->compliance) {
        out->has_compliance = 1;
        if (it->failed)
          out->compliance_failed = 1;
      }
      if (!isfinite(it->points) || !isfinite(it->possible) || it->possible < 0)
        continue;
      double pts = it->points < 0 ? 0.0 : (it->points > it->possible ? it->possible : it->points);
      P += pts;
      M += it->possible;
    }
    if (sec_failed)
      out->auto_failed = 1;
    if (ci >= 0) {
      out->cats[ci].points += P;
      out->cats[ci].possible += M;
      out->cats[ci].auto_failed |= sec_failed;
    }
    if (cfg->weighting == QA_W_POINTS) {
      num += w * P;
      den += w * M;
    } else if (M > 0) {
      num += w * (P / M);
      den += w;
    }
  }

  int raw_ok;
  double raw = to_scale(cfg, num, den, &raw_ok);
  apply_auto_fail(cfg, out->auto_failed, raw_ok, raw, &out->scored, &out->score);
  for (int i = 0; i < out->n_cats; i++) {
    qa_cat *c = &out->cats[i];
    double cs = to_scale(cfg, c->points, c->possible, &raw_ok);
    apply_auto_fail(cfg, c->auto_failed, raw_ok, cs, &c->scored, &c->score);
  }
}
