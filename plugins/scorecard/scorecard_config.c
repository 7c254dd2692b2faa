/*
 * scorecard plugin — configuration. Every key is declared once in
 * sc_option_map (the host checks types and choices before init) and read
 * here, once, in init_ex(); a bad value is refused into errstr with its key
 * and value.
 * Syntax and defaults: docs/scorecards.md ("Options").
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/calendar.h"
#include "scorecard_internal.h"

#define ENTRY_MAX 96

typedef struct cfg_ctx {
  ks_plugin_ctx *ctx;
  const ks_host_api *api;
  sc_config *cfg;
  char *errstr; /* init_ex's: the first refusal */
  size_t errstr_size;
  int set_target[SC_NCAT];
  int set_floor[SC_NCAT];
  int set_dir[SC_NCAT];
  int set_min[SC_NCAT];
} cfg_ctx;

static int bad(cfg_ctx *c, const char *key, const char *entry, const char *why) {
  const char *v = c->api->config_get(c->ctx, key);
  snprintf(c->errstr, c->errstr_size, "option '%s': '%s': %s%s%s", key, v ? v : "(default)",
           entry ? "'" : "", entry ? entry : "", why);
  return KS_EINVAL;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

static int parse_num(const char *s, double *out) {
  char *end;
  if (*s == '\0')
    return 0;
  double v = strtod(s, &end);
  if (*end != '\0' || !isfinite(v))
    return 0;
  *out = v;
  return 1;
}

/* Call fn for each comma-separated, trimmed, non-empty entry of key's value. */
typedef int (*entry_fn)(cfg_ctx *c, const char *key, char *entry);
static int each_entry(cfg_ctx *c, const char *key, const char *value, entry_fn fn) {
  const char *s = value;
  while (*s) {
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    char buf[ENTRY_MAX];
    if (n >= sizeof buf)
      return bad(c, key, NULL, "an entry is longer than 95 bytes");
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e = trim(buf);
    if (*e && fn(c, key, e) != 0)
      return KS_EINVAL;
    s += n + (comma ? 1 : 0);
  }
  return 0;
}

/* Split "name<sep>rest" at the first ':' or '='; the KPI id or an error. */
static int split_kpi(cfg_ctx *c, const char *key, char *entry, char **rest) {
  char *sep = strpbrk(entry, ":=");
  if (sep == NULL)
    return bad(c, key, entry, "' is not KPI=VALUE"), -1;
  *sep = '\0';
  *rest = trim(sep + 1);
  char *name = trim(entry);
  int id = sc_catalog_find(name);
  if (id < 0) {
    *sep = '=';
    bad(c, key, entry, "' names an unknown KPI (catalogue: docs/scorecards.md)");
    return -1;
  }
  return id;
}

/* "X" or "LO..HI" (band). */
static int parse_level(const char *s, double *lo, double *hi, int *band) {
  const char *dots = strstr(s, "..");
  if (dots == NULL) {
    *band = 0;
    return parse_num(s, lo);
  }
  char a[ENTRY_MAX];
  size_t n = (size_t)(dots - s);
  if (n >= sizeof a)
    return 0;
  memcpy(a, s, n);
  a[n] = '\0';
  *band = 1;
  return parse_num(trim(a), lo) && parse_num(dots + 2, hi);
}

/* ---- kpis: NAME:WEIGHT,... ------------------------------------------------------ */

static int kpis_entry(cfg_ctx *c, const char *key, char *entry) {
  char *rest;
  int id = split_kpi(c, key, entry, &rest);
  if (id < 0)
    return KS_EINVAL;
  double w;
  if (!parse_num(rest, &w) || !(w > 0 && w <= 100))
    return bad(c, key, sc_catalog_get(id)->name, "' needs a weight above 0 and at most 100");
  for (int i = 0; i < c->cfg->n_items; i++)
    if (c->cfg->items[i].kpi == id)
      return bad(c, key, sc_catalog_get(id)->name, "' is listed twice");
  if (c->cfg->n_items == SC_MAX_KPIS)
    return bad(c, key, NULL, "more than 16 KPIs");
  c->cfg->items[c->cfg->n_items++] = (sc_item){id, w};
  return 0;
}

/* ---- directions, targets, floors ------------------------------------------------ */

static int dir_entry(cfg_ctx *c, const char *key, char *entry) {
  char *rest;
  int id = split_kpi(c, key, entry, &rest);
  if (id < 0)
    return KS_EINVAL;
  sc_kset *s = &c->cfg->kset[id];
  if (strcmp(rest, "higher") == 0)
    s->dir = SC_HIGHER;
  else if (strcmp(rest, "lower") == 0)
    s->dir = SC_LOWER;
  else if (strcmp(rest, "band") == 0)
    s->dir = SC_BAND;
  else
    return bad(c, key, sc_catalog_get(id)->name, "': direction must be higher, lower or band");
  c->set_dir[id] = 1;
  return 0;
}

static int level_entry(cfg_ctx *c, const char *key, char *entry, int is_target) {
  char *rest;
  int id = split_kpi(c, key, entry, &rest);
  if (id < 0)
    return KS_EINVAL;
  sc_kset *s = &c->cfg->kset[id];
  double lo = 0, hi = 0;
  int band = 0;
  if (!parse_level(rest, &lo, &hi, &band))
    return bad(c, key, sc_catalog_get(id)->name, "': not a number or a LOW..HIGH band");
  if (band != (s->dir == SC_BAND))
    return bad(c, key, sc_catalog_get(id)->name,
               band ? "' is not a band KPI: give one number" : "' is a band KPI: give LOW..HIGH");
  if (is_target) {
    s->target = lo;
    s->target_hi = hi;
    c->set_target[id] = 1;
  } else {
    s->floor = lo;
    s->floor_hi = hi;
    c->set_floor[id] = 1;
  }
  return 0;
}

static int target_entry(cfg_ctx *c, const char *key, char *entry) {
  return level_entry(c, key, entry, 1);
}

static int floor_entry(cfg_ctx *c, const char *key, char *entry) {
  return level_entry(c, key, entry, 0);
}

/* ---- ramp: NAME=FROM/DAYS or NAME=FROM..FINAL/DAYS ------------------------------ */

static int ramp_entry(cfg_ctx *c, const char *key, char *entry) {
  char *rest;
  int id = split_kpi(c, key, entry, &rest);
  if (id < 0)
    return KS_EINVAL;
  const char *name = sc_catalog_get(id)->name;
  sc_kset *s = &c->cfg->kset[id];
  if (s->dir == SC_BAND)
    return bad(c, key, name, "' is a band KPI: bands do not ramp");
  char *slash = strrchr(rest, '/');
  double days;
  if (slash == NULL || (*slash = '\0', !parse_num(trim(slash + 1), &days)) || days != floor(days) ||
      days < 1 || days > 365)
    return bad(c, key, name, "': write FROM/DAYS or FROM..FINAL/DAYS, DAYS a whole 1..365");
  double from = 0, final = 0;
  int two = 0;
  if (!parse_level(trim(rest), &from, &final, &two))
    return bad(c, key, name, "': FROM (and FINAL) must be numbers");
  if (two) {
    if (c->set_target[id] && final != s->target)
      return bad(c, key, name, "': FINAL differs from the target set in 'targets'");
    s->target = final;
    c->set_target[id] = 1;
  }
  s->ramp_from = from;
  s->ramp_days = (int)days;
  c->cfg->any_ramp = 1;
  return 0;
}

/* ---- min_sample: N (every KPI) and KPI=N entries ----------------------------------- */

static int min_entry(cfg_ctx *c, const char *key, char *entry, int pass_kpi) {
  double n;
  int id = -1;
  const char *num = entry;
  if (strpbrk(entry, ":=")) {
    if (!pass_kpi)
      return 0;
    char *rest;
    if ((id = split_kpi(c, key, entry, &rest)) < 0)
      return KS_EINVAL;
    num = rest;
  } else if (pass_kpi)
    return 0;
  if (!parse_num(num, &n) || n != floor(n) || n < 1 || n > 1e9)
    return bad(c, key, id >= 0 ? sc_catalog_get(id)->name : entry,
               "': a minimum sample is a whole number 1..1e9");
  if (id >= 0) {
    c->cfg->kset[id].min_n = (int64_t)n;
    c->set_min[id] = 1;
  } else
    for (int i = 0; i < sc_catalog_count(); i++)
      if (!c->set_min[i])
        c->cfg->kset[i].min_n = (int64_t)n;
  return 0;
}

static int min_kpi_entry(cfg_ctx *c, const char *key, char *entry) {
  return min_entry(c, key, entry, 1);
}

static int min_all_entry(cfg_ctx *c, const char *key, char *entry) {
  return min_entry(c, key, entry, 0);
}

/* ---- periods: day, week, month ------------------------------------------------------ */

static int period_entry(cfg_ctx *c, const char *key, char *entry) {
  for (int i = SC_P_DAY; i < SC_NPKINDS; i++)
    if (strcmp(entry, sc_pkind_name[i]) == 0) {
      c->cfg->periods |= 1u << i;
      return 0;
    }
  return bad(c, key, entry, "' is not day, week or month");
}

/* ---- scopes ------------------------------------------------------------------------ */

static const char *const scope_names[SC_NSCOPES] = {"agent", "queue", "team", "tenant"};

static int scope_entry(cfg_ctx *c, const char *key, char *entry) {
  uint32_t *mask = strcmp(key, "scopes") == 0 ? &c->cfg->scopes : &c->cfg->alert_scopes;
  for (int i = 0; i < SC_NSCOPES; i++)
    if (strcmp(entry, scope_names[i]) == 0) {
      *mask |= 1u << i;
      return 0;
    }
  return bad(c, key, entry, "' is not agent, queue, team or tenant");
}

/* ---- alerts: NAME<X, NAME>=target, ... --------------------------------------------- */

static uint32_t fnv32(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

static int rule_entry(cfg_ctx *c, const char *key, char *entry) {
  if (c->cfg->n_rules == SC_MAX_RULES)
    return bad(c, key, NULL, "more than 8 rules");
  sc_rule *r = &c->cfg->rules[c->cfg->n_rules];
  memset(r, 0, sizeof *r);
  if (strlen(entry) >= SC_RULE_TEXT)
    return bad(c, key, entry, "' is longer than 63 bytes");
  snprintf(r->text, sizeof r->text, "%s", entry);
  char *op = strpbrk(entry, "<>");
  if (op == NULL)
    return bad(c, key, r->text, "' is not KPI<VALUE or KPI>VALUE");
  char *val = op + 1;
  r->op = *op;
  if (*val == '=') {
    r->op = *op == '<' ? 'l' : 'g';
    val++;
  }
  *op = '\0';
  r->kpi = sc_catalog_find(trim(entry));
  if (r->kpi < 0)
    return bad(c, key, r->text, "' names an unknown KPI (catalogue: docs/scorecards.md)");
  val = trim(val);
  if (strcmp(val, "target") == 0)
    r->ref = SC_REF_TARGET;
  else if (strcmp(val, "floor") == 0)
    r->ref = SC_REF_FLOOR;
  else if (!parse_num(val, &r->threshold))
    return bad(c, key, r->text, "': the threshold must be a number, target or floor");
  if (r->ref != SC_REF_NUMBER && c->cfg->kset[r->kpi].dir == SC_BAND)
    return bad(c, key, r->text, "': a band KPI takes a numeric threshold");
  /* the text with spaces removed, as it appears in the `rule` label */
  size_t k = 0;
  for (size_t i = 0; r->text[i]; i++)
    if (!isspace((unsigned char)r->text[i]))
      r->text[k++] = r->text[i];
  r->text[k] = '\0';
  r->fp = fnv32(r->text);
  c->cfg->n_rules++;
  return 0;
}

/* ---- checks ---------------------------------------------------------------------------- */

static int check_levels(cfg_ctx *c, int id) {
  const sc_kset *s = &c->cfg->kset[id];
  const char *n = sc_catalog_get(id)->name;
  char why[200];
  int ok = 1;
  double start = s->ramp_days > 0 ? s->ramp_from : s->target;
  switch (s->dir) {
  case SC_HIGHER:
    ok = s->target > s->floor && start > s->floor;
    snprintf(why, sizeof why, "KPI '%s' (higher is better): target %g%s must be above floor %g", n,
             s->target, s->ramp_days > 0 ? " and ramp start" : "", s->floor);
    break;
  case SC_LOWER:
    ok = s->target < s->floor && start < s->floor;
    snprintf(why, sizeof why, "KPI '%s' (lower is better): target %g%s must be below floor %g", n,
             s->target, s->ramp_days > 0 ? " and ramp start" : "", s->floor);
    break;
  case SC_BAND:
    ok = s->floor < s->target && s->target <= s->target_hi && s->target_hi < s->floor_hi;
    snprintf(why, sizeof why, "KPI '%s' (band): need floor %g < target %g <= target %g < floor %g",
             n, s->floor, s->target, s->target_hi, s->floor_hi);
    break;
  }
  if (!ok) {
    snprintf(c->errstr, c->errstr_size, "options 'targets'/'floors'/'ramp': %s", why);
    return KS_EINVAL;
  }
  return 0;
}

/* "first_seen", epoch milliseconds, or YYYY-MM-DD (UTC midnight). */
static int parse_ramp_start(const char *v, int64_t *out) {
  if (strcmp(v, "first_seen") == 0) {
    *out = -1;
    return 1;
  }
  if (strspn(v, "0123456789") == strlen(v) && strlen(v) >= 1 && strlen(v) <= 15) {
    *out = strtoll(v, NULL, 10);
    return 1;
  }
  int y, m, d;
  char tail;
  if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 || m < 1 ||
      m > 12 || d < 1 || d > 31)
    return 0;
  *out = ks_days_from_civil(y, m, d) * SC_DAY_MS;
  return 1;
}

static int list_opt(cfg_ctx *c, const char *key, entry_fn fn) {
  const char *v = c->api->config_get(c->ctx, key);
  return v ? each_entry(c, key, v, fn) : 0;
}

static const char *const detail_choices[] = {"full", "compact", NULL};

const ks_option sc_option_map[] = {
    {"profile", KS_OPT_STRING, "balanced", "the named set of KPIs and weights to start from", NULL},
    {"kpis", KS_OPT_STRING, NULL, "KPI:WEIGHT,... replacing the profile's (weights sum to 100)",
     NULL},
    {"targets", KS_OPT_STRING, NULL, "KPI=TARGET or KPI=LO..HI (band), comma-separated", NULL},
    {"floors", KS_OPT_STRING, NULL, "KPI=FLOOR or KPI=LO..HI (band), comma-separated", NULL},
    {"directions", KS_OPT_STRING, NULL, "KPI=higher|lower|band, comma-separated", NULL},
    {"ramp", KS_OPT_STRING, NULL, "KPI=FROM/DAYS or KPI=FROM..FINAL/DAYS, comma-separated", NULL},
    {"ramp_start", KS_OPT_STRING, "first_seen",
     "when ramps start: first_seen, YYYY-MM-DD or epoch milliseconds", NULL},
    {"scopes", KS_OPT_STRING, "agent,queue,team,tenant", "the scopes scored (comma-separated)",
     NULL},
    {"alert_scopes", KS_OPT_STRING, "queue,team,tenant",
     "the scopes alerted on (comma-separated, or none)", NULL},
    {"alerts", KS_OPT_STRING, "service_level<0.8,abandonment_rate>0.05,occupancy>0.85",
     "alert rules KPI<VALUE, KPI>=target, ... (or none)", NULL},
    {"peers", KS_OPT_BOOL, "true", "publish peer ranks", NULL},
    {"trend", KS_OPT_BOOL, "true", "publish trends (day and week ago)", NULL},
    {"history_ttl", KS_OPT_DURATION, "8d", "how long daily history is kept (at least 8d)", NULL},
    {"state_ttl", KS_OPT_DURATION, "35d", "how long an idle period's state is kept (at least 1d)",
     NULL},
    {"detail", KS_OPT_CHOICE, "full", "publish every KPI score (full) or only composites",
     detail_choices},
    {"min_sample", KS_OPT_STRING, NULL, "N for every KPI and KPI=N entries: fewest samples scored",
     NULL},
    {"periods", KS_OPT_STRING, "day,week,month", "period scorecards (comma-separated, or none)",
     NULL},
    {"moving_avg", KS_OPT_INT, "7", "periods in the moving average, 1..31 (1: off)", NULL},
    {NULL, 0, NULL, NULL, NULL}};

int sc_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, sc_config *cfg, char *errstr,
                   size_t errstr_size) {
  memset(cfg, 0, sizeof *cfg);
  cfg_ctx c = {.ctx = ctx, .api = api, .cfg = cfg, .errstr = errstr, .errstr_size = errstr_size};

  const char *pn = api->config_get(ctx, "profile");
  const sc_profile *prof = sc_profile_find(pn ? pn : "balanced");
  if (prof == NULL) {
    char names[200] = "";
    for (int i = 0; sc_profile_at(i); i++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
               sc_profile_at(i)->name);
    snprintf(errstr, errstr_size, "option 'profile': unknown profile '%s' (valid: %s)", pn, names);
    return KS_EINVAL;
  }
  snprintf(cfg->profile, sizeof cfg->profile, "%s", prof->name);
  for (int i = 0; i < sc_catalog_count(); i++) {
    const sc_kpi_def *d = sc_catalog_get(i);
    cfg->kset[i] =
        (sc_kset){d->dir, d->target, d->floor, d->target_hi, d->floor_hi, 0, 0, d->min_n};
    if (cfg->kset[i].min_n < 1)
      cfg->kset[i].min_n = 1;
  }
  for (int i = 0; i < SC_MAX_KPIS && prof->items[i].kpi; i++) {
    const sc_profile_item *it = &prof->items[i];
    int id = sc_catalog_find(it->kpi);
    if (id < 0)
      return KS_EINVAL; /* a catalogue/profile mismatch: caught by the tests */
    cfg->items[cfg->n_items++] = (sc_item){id, it->weight};
    if (it->has_tf) {
      cfg->kset[id].target = it->target;
      cfg->kset[id].floor = it->floor;
      cfg->kset[id].target_hi = it->target_hi;
      cfg->kset[id].floor_hi = it->floor_hi;
    }
  }

  const char *kv = api->config_get(ctx, "kpis");
  if (kv) {
    cfg->n_items = 0;
    if (each_entry(&c, "kpis", kv, kpis_entry) != 0)
      return KS_EINVAL;
    if (cfg->n_items == 0)
      return bad(&c, "kpis", NULL, "lists no KPI");
  }
  double sum = 0;
  for (int i = 0; i < cfg->n_items; i++)
    sum += cfg->items[i].weight;
  if (fabs(sum - 100.0) > 1e-6) {
    snprintf(errstr, errstr_size, "%s%s%s: weights sum to %g%%, they must sum to 100%%",
             kv ? "option 'kpis'" : "profile '", kv ? "" : cfg->profile, kv ? "" : "'", sum);
    return KS_EINVAL;
  }

  if (list_opt(&c, "directions", dir_entry) || list_opt(&c, "targets", target_entry) ||
      list_opt(&c, "floors", floor_entry) || list_opt(&c, "ramp", ramp_entry))
    return KS_EINVAL;
  /* KPI=N entries first, so that a plain N sets every other KPI */
  const char *mv = api->config_get(ctx, "min_sample");
  if (mv) {
    if (each_entry(&c, "min_sample", mv, min_kpi_entry) ||
        each_entry(&c, "min_sample", mv, min_all_entry))
      return KS_EINVAL;
  }
  for (int i = 0; i < sc_catalog_count(); i++)
    if (c.set_dir[i] && sc_catalog_get(i)->dir != cfg->kset[i].dir &&
        !(c.set_target[i] && c.set_floor[i])) {
      snprintf(errstr, errstr_size,
               "option 'directions': KPI '%s' changes direction: give its target in 'targets' "
               "and its floor in 'floors' too",
               sc_catalog_get(i)->name);
      return KS_EINVAL;
    }
  for (int i = 0; i < sc_catalog_count(); i++)
    if (check_levels(&c, i) != 0)
      return KS_EINVAL;

  const char *rs = api->config_get(ctx, "ramp_start");
  if (!parse_ramp_start(rs ? rs : "first_seen", &cfg->ramp_start_ms))
    return bad(&c, "ramp_start", NULL, "is not first_seen, YYYY-MM-DD or epoch milliseconds");
  if (cfg->ramp_start_ms >= 0)
    cfg->ramp_start_ms -= cfg->ramp_start_ms % SC_DAY_MS;

  const char *sv = api->config_get(ctx, "scopes");
  if (each_entry(&c, "scopes", sv ? sv : "agent,queue,team,tenant", scope_entry))
    return KS_EINVAL;
  if (cfg->scopes == 0)
    return bad(&c, "scopes", NULL, "names no scope");
  const char *av = api->config_get(ctx, "alert_scopes");
  if (!(av && strcmp(av, "none") == 0) &&
      each_entry(&c, "alert_scopes", av ? av : "queue,team,tenant", scope_entry))
    return KS_EINVAL;
  const char *al = api->config_get(ctx, "alerts");
  if (!(al && strcmp(al, "none") == 0) &&
      each_entry(&c, "alerts", al ? al : "service_level<0.8,abandonment_rate>0.05,occupancy>0.85",
                 rule_entry))
    return KS_EINVAL;

  const char *pv = api->config_get(ctx, "periods");
  if (!(pv && strcmp(pv, "none") == 0) &&
      each_entry(&c, "periods", pv ? pv : "day,week,month", period_entry))
    return KS_EINVAL;
  int64_t ma = 0;
  if (api->config_get_int(ctx, "moving_avg", 7, &ma))
    return KS_EINVAL;
  if (ma < 1 || ma > 31)
    return bad(&c, "moving_avg", NULL, "must be 1..31 (1: off)");
  cfg->moving_avg = (int)ma;
  if (api->config_get_bool(ctx, "peers", 1, &cfg->peers) ||
      api->config_get_bool(ctx, "trend", 1, &cfg->trend))
    return KS_EINVAL;
  int detail = 0;
  if (api->config_get_choice(ctx, "detail", &detail))
    return KS_EINVAL;
  cfg->full = detail == 0;
  if (api->config_get_duration_ms(ctx, "history_ttl", 8 * SC_DAY_MS, &cfg->history_ttl_ms))
    return KS_EINVAL;
  if (cfg->history_ttl_ms < 8 * SC_DAY_MS)
    return bad(&c, "history_ttl", NULL, "must be at least 8d (the week-ago comparison)");
  if (api->config_get_duration_ms(ctx, "state_ttl", 35 * SC_DAY_MS, &cfg->state_ttl_ms))
    return KS_EINVAL;
  if (cfg->state_ttl_ms < SC_DAY_MS)
    return bad(&c, "state_ttl", NULL, "must be at least 1d");
  /* the previous period and moving_avg - 1 before it, months of 31 days */
  cfg->period_ttl_ms = (int64_t)(cfg->moving_avg + 1) * 31 * SC_DAY_MS;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms <= 0 || SC_DAY_MS % cfg->interval_ms != 0) {
    snprintf(errstr, errstr_size, "host interval length %lld ms does not divide a day",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  uint32_t fp = 2166136261u;
  for (int i = 0; i < cfg->n_items; i++) {
    cfg->track |= UINT64_C(1) << cfg->items[i].kpi;
    fp = (fp ^ (uint32_t)(cfg->items[i].kpi + 1)) * 16777619u;
  }
  for (int i = 0; i < cfg->n_rules; i++)
    cfg->track |= UINT64_C(1) << cfg->rules[i].kpi;
  cfg->fp = fp;
  return 0;
}

double sc_target_at(const sc_kset *s, int64_t day) {
  if (s->ramp_days <= 0)
    return s->target;
  if (day <= 0)
    return s->ramp_from;
  if (day >= s->ramp_days)
    return s->target;
  return s->ramp_from + (s->target - s->ramp_from) * (double)day / (double)s->ramp_days;
}
