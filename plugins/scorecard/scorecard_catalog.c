/*
 * scorecard plugin — the KPI catalogue (name -> family, metric, direction,
 * unit, default target and floor) and the ready profiles. Both are documented
 * in docs/scorecards.md; keep the two in step. Appending entries is fine;
 * reordering them changes the state layout (bump SC_STATE_VERSION).
 */
#include <string.h>

#include "scorecard_internal.h"

#define HI(n, fam, met, cat, unit, t, f)                                                           \
  { n, fam, met, cat, unit, SC_HIGHER, t, f, 0, 0, 0, 0 }
#define LO(n, fam, met, cat, unit, t, f)                                                           \
  { n, fam, met, cat, unit, SC_LOWER, t, f, 0, 0, 0, 0 }
#define PCT(n, fam, met, cat, t, f)                                                                \
  { n, fam, met, cat, "%", SC_HIGHER, t, f, 0, 0, 1, 0 }
/* survey KPIs: not scored from fewer than SC_SURVEY_MIN answers */
#define SC_SURVEY_MIN 5
#define SURVEY(n, met, unit, t, f)                                                                 \
  { n, "experience", met, NULL, unit, SC_HIGHER, t, f, 0, 0, 0, SC_SURVEY_MIN }

static const sc_kpi_def catalog[] = {
    /* operations */
    LO("aht", "operations", "aht", NULL, "seconds", 300, 600),
    LO("asa", "operations", "asa", NULL, "seconds", 20, 90),
    HI("service_level", "operations", "service_level", NULL, "ratio", 0.8, 0.5),
    LO("abandonment_rate", "operations", "abandonment_rate", NULL, "ratio", 0.05, 0.15),
    HI("fcr", "operations", "fcr", NULL, "ratio", 0.8, 0.6),
    LO("transfer_rate", "operations", "transfer_rate", NULL, "ratio", 0.1, 0.3),
    LO("escalation_rate", "operations", "escalation_rate", NULL, "ratio", 0.05, 0.2),
    LO("first_response_time", "operations", "first_response_time", NULL, "seconds", 300, 3600),
    LO("resolution_time", "operations", "resolution_time", NULL, "seconds", 3600, 28800),
    /* experience */
    SURVEY("csat", "csat", "ratio", 0.85, 0.5),
    SURVEY("nps", "nps", "score", 40, -20),
    SURVEY("ces", "ces_mean", "score", 6, 4),
    HI("sentiment", "experience", "sentiment_avg", NULL, "score", 0.3, -0.3),
    LO("complaint_rate", "experience", "complaint_rate", NULL, "ratio", 0.01, 0.05),
    /* quality (scores on 0..100) */
    PCT("qa_score", "quality", "evaluation_score", NULL, 90, 70),
    PCT("service_attitude", "quality", "category_score", "service_attitude", 90, 70),
    PCT("communication_skill", "quality", "category_score", "communication", 90, 70),
    PCT("brand_representation", "quality", "category_score", "brand", 90, 70),
    PCT("product_knowledge", "quality", "category_score", "product_knowledge", 90, 70),
    PCT("process_compliance", "quality", "category_score", "process_compliance", 90, 70),
    HI("compliance_rate", "quality", "compliance_rate", NULL, "ratio", 0.98, 0.9),
    /* workforce */
    {"occupancy", "workforce", "occupancy", NULL, "ratio", SC_BAND, 0.75, 0.45, 0.85, 0.95, 0, 0},
    HI("utilization", "workforce", "utilization", NULL, "ratio", 0.85, 0.6),
    HI("adherence", "workforce", "adherence", NULL, "ratio", 0.9, 0.7),
    LO("shrinkage", "workforce", "shrinkage", NULL, "ratio", 0.3, 0.45),
    HI("proficiency", "workforce", "proficiency", NULL, "score", 1.1, 0.8),
    /* cost & value */
    LO("cost_per_contact", "value", "cost_per_contact", NULL, "currency", 5, 15),
    HI("conversion_rate", "value", "conversion_rate", NULL, "ratio", 0.15, 0.05),
    HI("registration_rate", "value", "registration_rate", NULL, "ratio", 0.02, 0),
    HI("nba_acceptance_rate", "value", "nba_acceptance_rate", NULL, "ratio", 0.3, 0.1),
    /* forecast */
    LO("forecast_wape", "forecast", "offered_wape", NULL, "ratio", 0.1, 0.5),
    /* issue 12: operations' resolution, per-agent and queue metrics (queue
     * and agent rows), experience's response rate */
    HI("resolution_rate", "operations", "resolution_rate", NULL, "ratio", 0.85, 0.6),
    LO("reopen_rate", "operations", "reopen_rate", NULL, "ratio", 0.05, 0.2),
    HI("one_touch_resolution_rate", "operations", "one_touch_resolution_rate", NULL, "ratio", 0.7,
       0.4),
    LO("ring_no_answer", "operations", "ring_no_answer", NULL, "count", 0, 3),
    LO("ring_no_answer_rate", "operations", "ring_no_answer_rate", NULL, "ratio", 0.02, 0.1),
    LO("avg_time_to_abandon", "operations", "avg_time_to_abandon", NULL, "seconds", 30, 120),
    LO("callbacks", "operations", "callbacks", NULL, "count", 0, 10),
    LO("callback_rate", "operations", "callback_rate", NULL, "ratio", 0.1, 0.3),
    HI("first_response_sla", "operations", "first_response_sla", NULL, "ratio", 0.8, 0.5),
    HI("survey_response_rate", "experience", "survey_response_rate", NULL, "ratio", 0.2, 0.05),
};

_Static_assert(sizeof catalog / sizeof catalog[0] <= SC_NCAT, "catalogue larger than SC_NCAT");

int sc_catalog_count(void) {
  return (int)(sizeof catalog / sizeof catalog[0]);
}

const sc_kpi_def *sc_catalog_get(int id) {
  return id >= 0 && id < sc_catalog_count() ? &catalog[id] : NULL;
}

int sc_catalog_find(const char *name) {
  for (int i = 0; i < sc_catalog_count(); i++)
    if (strcmp(catalog[i].name, name) == 0)
      return i;
  return -1;
}

int sc_catalog_match(const char *family, const char *metric, const char *category) {
  for (int i = 0; i < sc_catalog_count(); i++) {
    const sc_kpi_def *d = &catalog[i];
    if (strcmp(d->metric, metric) != 0 || strcmp(d->family, family) != 0)
      continue;
    if (d->category == NULL ? category == NULL
                            : (category != NULL && strcmp(d->category, category) == 0))
      return i;
  }
  return -1;
}

/* ---- profiles ------------------------------------------------------------------ */

#define W(k, w)                                                                                    \
  { k, w, 0, 0, 0, 0, 0 }
#define WT(k, w, t, f)                                                                             \
  { k, w, 1, t, f, 0, 0 }

static const sc_profile profiles[] = {
    /* a general contact-center scorecard: speed, resolution, satisfaction,
     * quality, discipline */
    {"balanced",
     {W("service_level", 20), W("aht", 15), W("fcr", 20), W("csat", 20), W("qa_score", 15),
      W("adherence", 10)}},
    /* business scenarios */
    {"ecommerce",
     {W("first_response_time", 25), W("resolution_time", 25), W("fcr", 25), W("csat", 15),
      W("abandonment_rate", 10)}},
    {"premium",
     {WT("csat", 30, 0.9, 0.6), WT("service_attitude", 25, 95, 75),
      WT("communication_skill", 20, 92, 72), WT("compliance_rate", 15, 1.0, 0.95), W("fcr", 10)}},
    {"tech_support",
     {W("resolution_time", 25), W("resolution_rate", 20), W("fcr", 15), W("proficiency", 15),
      W("product_knowledge", 15), W("csat", 10)}},
    /* strategies */
    {"growth",
     {W("conversion_rate", 35), W("registration_rate", 25), W("nba_acceptance_rate", 20),
      W("csat", 20)}},
    {"differentiation",
     {W("qa_score", 25), W("csat", 25), W("nps", 20), W("ces", 15), W("sentiment", 15)}},
    {"cost_leadership",
     {WT("aht", 30, 240, 480),
      W("cost_per_contact", 30),
      {"occupancy", 25, 1, 0.8, 0.5, 0.88, 0.95},
      W("transfer_rate", 15)}},
};

const sc_profile *sc_profile_find(const char *name) {
  for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
    if (strcmp(profiles[i].name, name) == 0)
      return &profiles[i];
  return NULL;
}

const sc_profile *sc_profile_at(int i) {
  return i >= 0 && (size_t)i < sizeof profiles / sizeof profiles[0] ? &profiles[i] : NULL;
}
