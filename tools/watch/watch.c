/*
 * kpistream watch — a terminal view of the KPI result topics.
 *
 * Consumes kpistream.v1.MetricResult messages, groups them by (interval,
 * tenant) and prints one table per group once it is complete. A group is
 * complete when every assigned partition is past its interval (has delivered
 * a result of a later interval, any tenant) or at its end (nothing more
 * there now), and then either
 *   - a result of a later interval of the same tenant has arrived, or
 *   - the group has had no new result for WATCH_QUIET_MS (the usual case
 *     live: results of one interval arrive in one burst);
 * or, whatever the partitions say, after WATCH_QUIET_MAX_MS without a new
 * result (a partition that is stuck, or whose broker is down).
 * Checked after each drain of the consumer queue and on a timer.
 * Why the partitions: results are keyed by metric+dimensions, so one interval
 * is spread over all partitions, and partitions do not progress together —
 * when catching up (--from-beginning) librdkafka 2.0.2 sometimes starts a
 * partition ~500 ms after the others ("no current leader": offset query
 * timer). Going by arrival alone printed the first intervals in pieces.
 * Results for an (interval, tenant) already printed are shown as a separate
 * "late results" table.
 *
 * Rollups (results longer than an interval: per day, week, month) form
 * groups of their own, keyed the same way; they arrive with the interval
 * that closes their period (or a settle time later), so their group waits
 * for partitions past its period's end (at their end, live) instead of its
 * start. They do not count as intervals and are never "late" (value's costs
 * an hour after forecast's day results are a second table, once).
 * Alerts (kpi.alerts, or metric "alert") join the group of their interval
 * and are printed one line each right after its tables (live: as they
 * arrive, within WATCH_QUIET_MS; catching up: beside the interval they are
 * about, not all at once before the first table). A group with alerts only
 * is not counted as an interval shown.
 * Rendering lives in watch_family.c (a table per KPI family) and
 * watch_table.c; the command line in watch_args.c. On a terminal (--mode,
 * default auto: stdout a tty) closed groups go into a screen model instead
 * (watch_screen.c), redrawn in place; see "Terminal" below.
 *
 * Consumption: no consumer group membership and no commits. The viewer
 * assigns itself every partition of each topic (from metadata, fetched on a
 * libuv worker thread and retried every second until the topic exists) at
 * the end — or the beginning with --from-beginning — so any number of
 * viewers each see everything and start at once (no ~3 s group join). A
 * unique group.id is set only because librdkafka's consumer queue and assign
 * API need one (an empty group.id leaves no consumer queue); it never joins
 * or commits. Partitions added to a topic later are not picked up.
 *
 * librdkafka inside libuv, without busy polling: rd_kafka_poll_set_consumer()
 * routes everything to the consumer queue; rd_kafka_queue_io_event_enable()
 * writes 8 bytes to an eventfd when that queue goes from empty to non-empty;
 * a uv_poll_t on the eventfd wakes us and we reset it, then drain the queue
 * fully with rd_kafka_consume_batch_queue(queue, 0, ...). A 1 s uv_timer
 * drains too, as a safety net (librdkafka only signals on empty -> non-empty,
 * and a consumer must be served regularly).
 *
 * Ownership: everything lives in one struct watch_app owned by
 * ks_cmd_watch(); there is no global mutable state. Signals come through
 * uv_signal_t.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "cli.h"
#include "kpistream/v1/result.pb-c.h"
#include "log.h"
#include "watch.h"
#include "watch_args.h"
#include "watch_family.h"
#include "watch_screen.h"

/* Timings in ms. Quiet: a group with no new result for QUIET is complete
 * once no partition is behind it; for QUIET_MAX, whatever the partitions. */
#define WATCH_LOG                 "watch"
#define WATCH_QUIET_MS            KS_WATCH_QUIET_MS
#define WATCH_QUIET_MAX_MS        3000
#define WATCH_TICK_MS             1000 /* safety-net drain, metadata retries */
#define WATCH_FILE_POLL_MS        100  /* --bootstrap-file polling */
#define WATCH_CLOSE_TICK_MS       50   /* while closing the consumer */
#define WATCH_CLOSE_DEADLINE_MS   5000
#define WATCH_METADATA_TIMEOUT_MS 2000
#define WATCH_ERR_REPEAT_MS       10000 /* same client error again within this: not logged */
#define WATCH_REDRAW_MS           100   /* screen mode: at most one frame per this */
#define WATCH_BATCH               512
#define WATCH_MAX_OPEN_GROUPS     256 /* beyond this the oldest group is printed as is */
#define WATCH_BAD_LOG_FIRST       10  /* undecodable: log the first ones, then 1 in 1000 */

typedef Kpistream__V1__MetricResult metric_result;

/* ---- state ---------------------------------------------------------------- */

/* Progress of one assigned partition. */
typedef struct watch_part {
  int64_t max_start; /* latest interval start delivered; INT64_MIN before any */
  int at_eof;        /* delivered everything it had (enable.partition.eof) */
} watch_part;

typedef struct watch_topic {
  const char *name; /* borrowed from opts */
  int assigned;
  int warned_missing;
  watch_part *parts; /* owned; indexed by partition id, n_parts of them once assigned */
  int32_t n_parts;
} watch_topic;

/* One (interval, tenant) being collected. */
typedef struct watch_group {
  char *tenant; /* owned */
  int64_t start_ms, end_ms;
  metric_result **results; /* owned, each freed with kpistream__v1__metric_result__free_unpacked */
  size_t n, cap;
  metric_result **alerts; /* owned, likewise; printed after the tables */
  size_t n_alerts, cap_alerts;
  uint64_t last_ms; /* loop time of the latest result */
  int late;         /* this (interval, tenant) had already been printed */
  int rollup;       /* a day/week/month group (ks_watch_is_rollup) */
  int64_t gate_ms;  /* complete once every partition is past this interval start */
} watch_group;

typedef struct watch_tenant {
  char *tenant;            /* owned */
  int64_t newest_start;    /* latest interval start seen */
  int64_t printed_through; /* latest interval start printed */
  int has_printed;
} watch_tenant;

typedef struct watch_app {
  watch_opts opts;
  watch_topic *topics; /* owned, one per opts.topics */

  uv_loop_t loop; /* owned; every handle below belongs to it */
  uv_signal_t sig_int, sig_term;
  uv_timer_t file_timer;  /* --bootstrap-file wait */
  uv_timer_t tick;        /* safety-net drain + metadata retry */
  uv_timer_t quiet_timer; /* next group to go quiet */
  uv_timer_t exit_timer;  /* --exit-after */
  uv_timer_t close_timer; /* serving the queue while the consumer closes */
  uv_poll_t poll;         /* on efd */
  int poll_started;
  uv_signal_t sig_winch;   /* screen mode: the terminal was resized */
  uv_timer_t redraw_timer; /* screen mode: the next frame */

  /* Screen mode (see "Terminal" below): scr holds what the frame shows. */
  int screen;         /* redraw a frame in place instead of printing lines */
  int screen_entered; /* the alternate screen is on: leave it before exiting */
  ks_watch_screen scr;
  int width, height; /* the terminal's, re-read on SIGWINCH */
  int handles_closed;

  char *bootstrap;        /* owned: from -b or the file */
  uint64_t file_deadline; /* loop time */
  int file_waiting_logged;
  rd_kafka_conf_t *conf;   /* owned until rd_kafka_new() takes it */
  rd_kafka_t *rk;          /* owned; destroyed after the loop ends */
  rd_kafka_queue_t *queue; /* owned: the consumer queue */
  int efd;                 /* owned eventfd, -1 when none */
  uint64_t close_deadline;

  uv_work_t md_work; /* metadata request on a worker thread */
  int md_inflight;
  const struct rd_kafka_metadata *md; /* owned by the work until its after-callback */
  rd_kafka_resp_err_t md_err;
  rd_kafka_resp_err_t md_last_logged;

  watch_group **groups; /* owned */
  size_t n_groups, cap_groups;
  watch_tenant *tenants; /* owned */
  size_t n_tenants, cap_tenants;

  uint64_t intervals_printed; /* tables of new intervals (late tables not counted) */
  uint64_t n_results, n_bad;
  struct {
    int err; /* 0: free slot */
    uint64_t logged_ms;
    uint64_t suppressed;
  } client_errs[8]; /* error_cb de-duplication, per error code */
  int stopping;
  int exit_status;
} watch_app;

static void shutdown_app(watch_app *app, int status);

/*
 * librdkafka's errors and logs, both served on the loop thread from inside
 * rd_kafka_consume_batch_queue() (log.queue=true, rd_kafka_set_log_queue()):
 * one line each through ks_log, instead of librdkafka printing every
 * connection failure twice (a FAIL log line and an unhandled-error line).
 */
static void on_client_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  watch_app *app = opaque;
  (void)rk;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(app->rk, fatal, sizeof fatal);
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "fatal Kafka client error: %s", fatal);
    shutdown_app(app, 1);
    return;
  }
  uint64_t now = uv_now(&app->loop);
  size_t n = sizeof app->client_errs / sizeof app->client_errs[0], slot = 0;
  for (size_t i = 0; i < n; i++) { /* this code's slot, else the oldest */
    if (app->client_errs[i].err == err) {
      slot = i;
      break;
    }
    if (app->client_errs[i].logged_ms < app->client_errs[slot].logged_ms)
      slot = i;
  }
  if (app->client_errs[slot].err == err && app->client_errs[slot].logged_ms != 0 &&
      now < app->client_errs[slot].logged_ms + WATCH_ERR_REPEAT_MS) {
    app->client_errs[slot].suppressed++;
    return;
  }
  if (app->client_errs[slot].err == err && app->client_errs[slot].suppressed)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "Kafka: %s (and %llu like it not shown)", reason,
           (unsigned long long)app->client_errs[slot].suppressed);
  else
    ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "Kafka: %s", reason);
  app->client_errs[slot].err = err;
  app->client_errs[slot].logged_ms = now ? now : 1;
  app->client_errs[slot].suppressed = 0;
}

static void on_client_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  (void)rk;
  if (strcmp(fac, "FAIL") == 0) /* connection failures: reported by on_client_error */
    return;
  int lvl = level <= 3   ? KS_LOG_ERROR
            : level == 4 ? KS_LOG_WARN
            : level <= 6 ? KS_LOG_INFO
                         : KS_LOG_DEBUG;
  ks_log(KS_LOG_DEBUG, lvl, WATCH_LOG, "librdkafka %s: %s", fac, buf);
}

/* librdkafka configuration, built before the loop so a bad -X fails at once. */
static int build_conf(watch_app *app) {
  char errstr[512];
  char group[64];
  /* Unique, never joined: librdkafka's assign API needs a group.id. */
  snprintf(group, sizeof group, "kpistream-watch-%ld-%llx", (long)getpid(),
           (unsigned long long)uv_hrtime());
  const char *defaults[][2] = {
      {"client.id", "kpistream-watch"},
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"}, /* to know when a partition is caught up */
      {"fetch.wait.max.ms", "100"},     /* the mock waits this long on an empty partition */
      {"auto.offset.reset", app->opts.from_beginning ? "earliest" : "latest"},
      {"log.queue", "true"}, /* log_cb on our thread, see on_client_log */
      {"log.connection.close", "false"},
  };
  app->conf = rd_kafka_conf_new();
  rd_kafka_conf_set_opaque(app->conf, app);
  rd_kafka_conf_set_error_cb(app->conf, on_client_error);
  rd_kafka_conf_set_log_cb(app->conf, on_client_log);
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    if (rd_kafka_conf_set(app->conf, defaults[i][0], defaults[i][1], errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      fprintf(stderr, "kpistream watch: librdkafka %s: %s\n", defaults[i][0], errstr);
      return 1;
    }
  for (size_t i = 0; i < app->opts.n_props; i++) {
    const char *kv = app->opts.props[i];
    const char *eq = strchr(kv, '=');
    char key[256];
    size_t klen = (size_t)(eq - kv);
    if (klen >= sizeof key) {
      fprintf(stderr, "kpistream watch: -X %s: key too long\n", kv);
      return KS_EXIT_USAGE;
    }
    memcpy(key, kv, klen);
    key[klen] = '\0';
    if (rd_kafka_conf_set(app->conf, key, eq + 1, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "kpistream watch: -X %s: %s\n", kv, errstr);
      return KS_EXIT_USAGE;
    }
  }
  return 0;
}

/* ---- groups ---------------------------------------------------------------- */

static watch_tenant *tenant_get(watch_app *app, const char *name) {
  for (size_t i = 0; i < app->n_tenants; i++)
    if (strcmp(app->tenants[i].tenant, name) == 0)
      return &app->tenants[i];
  if (app->n_tenants == app->cap_tenants) {
    size_t cap = app->cap_tenants ? app->cap_tenants * 2 : 8;
    watch_tenant *grown = realloc(app->tenants, cap * sizeof *grown);
    if (!grown)
      return NULL;
    app->tenants = grown;
    app->cap_tenants = cap;
  }
  watch_tenant *t = &app->tenants[app->n_tenants];
  memset(t, 0, sizeof *t);
  t->tenant = strdup(name);
  if (!t->tenant)
    return NULL;
  t->newest_start = INT64_MIN;
  app->n_tenants++;
  return t;
}

static void group_free(watch_group *g) {
  for (size_t i = 0; i < g->n; i++)
    kpistream__v1__metric_result__free_unpacked(g->results[i], NULL);
  for (size_t i = 0; i < g->n_alerts; i++)
    kpistream__v1__metric_result__free_unpacked(g->alerts[i], NULL);
  free(g->results);
  free(g->alerts);
  free(g->tenant);
  free(g);
}

/* Oldest first: by end, an interval before the rollup that ends with it. */
static int group_cmp(const void *pa, const void *pb) {
  const watch_group *a = *(watch_group *const *)pa, *b = *(watch_group *const *)pb;
  if (a->end_ms != b->end_ms)
    return a->end_ms < b->end_ms ? -1 : 1;
  if (a->rollup != b->rollup)
    return a->rollup - b->rollup;
  if (a->start_ms != b->start_ms)
    return a->start_ms < b->start_ms ? -1 : 1;
  return strcmp(a->tenant, b->tenant);
}

/* ---- terminal ---------------------------------------------------------------- */

/*
 * Screen mode (--mode=screen, or auto with stdout a terminal): closed groups
 * go into app->scr instead of being printed, and a frame (watch_screen.h) is
 * drawn over the previous one at most every WATCH_REDRAW_MS: cursor home,
 * the lines, erase to the end of each and below the last; no full clear, so
 * no flicker. The frame is one line shorter than the terminal, leaving a
 * line for a log message on stderr (the next frame overwrites it). The
 * alternate screen buffer is entered at start and left (cursor shown again)
 * when stopping (SIGINT, SIGTERM, --exit-after*, errors), after which the
 * last frame is printed once on the normal screen. The size comes from
 * ioctl(TIOCGWINSZ) on stdout, re-read on SIGWINCH (a uv_signal_t); not
 * uv_tty_t, which puts the descriptor it is given in non-blocking mode when
 * it cannot reopen the terminal, and stdio writes to stdout would then fail
 * with EAGAIN. The size is also re-read every WATCH_TICK_MS: SIGWINCH only
 * reaches the terminal's foreground process group, and scripts/demo.sh runs
 * watch in a session of its own. Without a size (not a terminal): $COLUMNS,
 * else 80 columns, and no height limit.
 */
static void screen_size(watch_app *app) {
  struct winsize ws;
  int cols = 0, rows = 0;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    cols = ws.ws_col;
    rows = ws.ws_row;
  }
  app->width = ks_watch_screen_width(cols, getenv("COLUMNS"));
  app->height = rows > 1 ? rows - 1 : 0;
}

/* Draws the frame now (final: plain, for the normal screen). */
static void screen_draw(watch_app *app, int final) {
  char *frame = NULL, *paint = NULL;
  size_t len = 0, plen = 0;
  if (ks_watch_screen_frame(&app->scr, app->width, final ? 0 : app->height, &frame, &len) != 0 ||
      (!final && ks_watch_screen_paint(frame, len, app->width, &paint, &plen) != 0)) {
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "out of memory drawing the screen");
  } else if (final) {
    fwrite(frame, 1, len, stdout);
  } else {
    fwrite(paint, 1, plen, stdout);
  }
  fflush(stdout);
  free(paint);
  free(frame);
}

static void on_redraw_timer(uv_timer_t *t) {
  watch_app *app = t->data;
  if (app->screen_entered)
    screen_draw(app, 0);
}

static void on_winch(uv_signal_t *h, int signum) {
  watch_app *app = h->data;
  (void)signum;
  screen_size(app);
  if (app->screen_entered)
    screen_draw(app, 0);
}

static void screen_enter(watch_app *app) {
  screen_size(app);
  fputs(KS_WATCH_SCREEN_ENTER, stdout);
  app->screen_entered = 1;
  screen_draw(app, 0);
  uv_signal_start(&app->sig_winch, on_winch, SIGWINCH);
}

/* Back to the normal screen, where the last frame is printed once. */
static void screen_leave(watch_app *app) {
  if (!app->screen_entered)
    return;
  app->screen_entered = 0;
  if (!app->handles_closed) {
    uv_timer_stop(&app->redraw_timer);
    uv_signal_stop(&app->sig_winch);
  }
  fputs(KS_WATCH_SCREEN_LEAVE, stdout);
  screen_draw(app, 1);
}

/* A closed group into the screen model (its results move there). */
static void screen_take(watch_app *app, watch_group *g) {
  int failed = 0;
  for (size_t i = 0; i < g->n; i++)
    failed |= ks_watch_screen_add(&app->scr, g->results[i]) != 0;
  g->n = 0; /* owned by the screen now, or freed */
  for (size_t i = 0; i < g->n_alerts; i++)
    failed |= ks_watch_screen_alert(&app->scr, g->alerts[i]) != 0;
  if (failed)
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "out of memory keeping results for the screen");
  if (app->screen_entered && !uv_is_active((uv_handle_t *)&app->redraw_timer))
    uv_timer_start(&app->redraw_timer, on_redraw_timer, WATCH_REDRAW_MS, 0);
}

static void print_group(watch_app *app, watch_group *g) {
  ks_watch_group_opts gopts = {
      .metrics = (const char *const *)app->opts.metrics,
      .n_metrics = app->opts.n_metrics,
      .all_metrics = app->opts.all_metrics,
      .show_agents = app->opts.agents,
      .note = g->late ? "late results for an interval already shown" : NULL,
      .family_titles = app->opts.n_topics > 1,
  };
  const int interval_shown = !g->rollup && g->n > 0;
  if (app->screen) {
    screen_take(app, g);
  } else {
    if (g->n > 0 &&
        ks_watch_group_render(stdout, (const metric_result *const *)g->results, g->n, &gopts) < 0)
      ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "out of memory rendering a table");
    for (size_t i = 0; i < g->n_alerts; i++)
      ks_watch_alert_print(stdout, g->alerts[i]);
    if (g->n_alerts > 0)
      fputc('\n', stdout);
    fflush(stdout);
  }
  if (!interval_shown)
    return; /* not an interval shown: neither printed_through nor counted */
  watch_tenant *t = tenant_get(app, g->tenant);
  if (t && (!t->has_printed || g->start_ms > t->printed_through)) {
    t->printed_through = g->start_ms;
    t->has_printed = 1;
  }
  if (!g->late)
    app->intervals_printed++;
  if (app->opts.exit_after_intervals > 0 &&
      app->intervals_printed >= (uint64_t)app->opts.exit_after_intervals)
    shutdown_app(app, 0);
}

/* Prints (and frees) the open groups that pass `ready`, oldest first. */
static void flush_groups(watch_app *app, int (*ready)(const watch_app *, const watch_group *)) {
  if (app->n_groups == 0)
    return;
  qsort(app->groups, app->n_groups, sizeof *app->groups, group_cmp);
  size_t kept = 0;
  for (size_t i = 0; i < app->n_groups; i++) {
    watch_group *g = app->groups[i];
    if (!app->stopping && ready(app, g)) {
      print_group(app, g);
      group_free(g);
    } else {
      app->groups[kept++] = g;
    }
  }
  app->n_groups = kept;
}

/* Every assigned partition is past the interval starting at start_ms, or at its end. */
static int partitions_past(const watch_app *app, int64_t start_ms) {
  for (size_t i = 0; i < app->opts.n_topics; i++) {
    const watch_topic *wt = &app->topics[i];
    for (int32_t p = 0; p < wt->n_parts; p++)
      if (!wt->parts[p].at_eof && wt->parts[p].max_start <= start_ms)
        return 0;
  }
  return 1;
}

static int superseded(const watch_app *app, const watch_group *g) {
  for (size_t i = 0; i < app->n_tenants; i++)
    if (strcmp(app->tenants[i].tenant, g->tenant) == 0)
      return app->tenants[i].newest_start > g->gate_ms;
  return 0;
}

/* When the group goes quiet enough to be printed, as things stand. */
static uint64_t group_due(const watch_app *app, const watch_group *g) {
  return g->last_ms + (partitions_past(app, g->gate_ms) ? WATCH_QUIET_MS : WATCH_QUIET_MAX_MS);
}

/* The rule in the file comment. */
static int group_ready(const watch_app *app, const watch_group *g) {
  uint64_t now = uv_now(&app->loop);
  if (now >= g->last_ms + WATCH_QUIET_MAX_MS)
    return 1;
  if (!partitions_past(app, g->gate_ms))
    return 0;
  return superseded(app, g) || now >= g->last_ms + WATCH_QUIET_MS;
}

static int ready_always(const watch_app *app, const watch_group *g) {
  (void)app;
  (void)g;
  return 1;
}

static void on_quiet_timer(uv_timer_t *t);

static void schedule_quiet(watch_app *app) {
  if (app->stopping || app->n_groups == 0) {
    uv_timer_stop(&app->quiet_timer);
    return;
  }
  uint64_t due = UINT64_MAX;
  for (size_t i = 0; i < app->n_groups; i++) {
    uint64_t d = group_due(app, app->groups[i]);
    if (d < due)
      due = d;
  }
  uint64_t now = uv_now(&app->loop);
  uv_timer_start(&app->quiet_timer, on_quiet_timer, due > now ? due - now : 0, 0);
}

static void on_quiet_timer(uv_timer_t *t) {
  watch_app *app = t->data;
  flush_groups(app, group_ready);
  schedule_quiet(app);
}

static int push_result(metric_result ***arr, size_t *n, size_t *cap, metric_result *r) {
  if (*n == *cap) {
    size_t grown_cap = *cap ? *cap * 2 : 64;
    metric_result **grown = realloc(*arr, grown_cap * sizeof *grown);
    if (!grown)
      return -1;
    *arr = grown;
    *cap = grown_cap;
  }
  (*arr)[(*n)++] = r;
  return 0;
}

/* Takes ownership of r (an alert: printed after the group's tables).
 * part_start: the latest interval start its partition has delivered. */
static int add_result(watch_app *app, metric_result *r, int alert, int64_t part_start) {
  watch_tenant *t = tenant_get(app, r->tenant);
  if (!t)
    return -1;
  watch_group *g = NULL;
  for (size_t i = 0; i < app->n_groups; i++) {
    watch_group *c = app->groups[i];
    if (c->start_ms == r->interval_start_ms && c->end_ms == r->interval_end_ms &&
        strcmp(c->tenant, r->tenant) == 0) {
      g = c;
      break;
    }
  }
  if (!g) {
    if (app->n_groups == WATCH_MAX_OPEN_GROUPS) { /* print the oldest as it is */
      qsort(app->groups, app->n_groups, sizeof *app->groups, group_cmp);
      watch_group *oldest = app->groups[0];
      memmove(app->groups, app->groups + 1, (app->n_groups - 1) * sizeof *app->groups);
      app->n_groups--;
      print_group(app, oldest);
      group_free(oldest);
      t = tenant_get(app, r->tenant); /* tenants may have moved */
      if (!t)
        return -1;
    }
    if (app->n_groups == app->cap_groups) {
      size_t cap = app->cap_groups ? app->cap_groups * 2 : 16;
      watch_group **grown = realloc(app->groups, cap * sizeof *grown);
      if (!grown)
        return -1;
      app->groups = grown;
      app->cap_groups = cap;
    }
    g = calloc(1, sizeof *g);
    if (!g || !(g->tenant = strdup(r->tenant))) {
      free(g);
      return -1;
    }
    g->start_ms = r->interval_start_ms;
    g->end_ms = r->interval_end_ms;
    g->rollup = ks_watch_is_rollup(r);
    g->gate_ms = g->rollup ? g->end_ms - 1 : g->start_ms;
    g->late = !g->rollup && t->has_printed && r->interval_start_ms <= t->printed_through;
    app->groups[app->n_groups++] = g;
  }
  /* A rollup comes with the close of an interval whose results precede it in
   * its partition: wait for every partition to be past that one too. */
  if (g->rollup && part_start > g->gate_ms)
    g->gate_ms = part_start;
  if (alert ? push_result(&g->alerts, &g->n_alerts, &g->cap_alerts, r)
            : push_result(&g->results, &g->n, &g->cap, r))
    return -1;
  g->last_ms = uv_now(&app->loop);
  if (!g->rollup && r->interval_start_ms > t->newest_start)
    t->newest_start = r->interval_start_ms;
  app->n_results++;
  return 0;
}

/* ---- consuming ------------------------------------------------------------- */

static void report_bad(watch_app *app, const rd_kafka_message_t *m, const char *why) {
  app->n_bad++;
  if (app->n_bad <= WATCH_BAD_LOG_FIRST || app->n_bad % 1000 == 0)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG,
           "%s [%d] offset %lld: %s (%zu bytes), skipped; %llu so far%s",
           m->rkt ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition, (long long)m->offset, why,
           m->len, (unsigned long long)app->n_bad,
           app->n_bad == WATCH_BAD_LOG_FIRST ? " (now logging 1 in 1000)" : "");
}

static watch_part *part_of(watch_app *app, const rd_kafka_message_t *m) {
  if (!m->rkt)
    return NULL;
  const char *name = rd_kafka_topic_name(m->rkt);
  for (size_t i = 0; i < app->opts.n_topics; i++) {
    watch_topic *wt = &app->topics[i];
    if (strcmp(wt->name, name) == 0)
      return m->partition >= 0 && m->partition < wt->n_parts ? &wt->parts[m->partition] : NULL;
  }
  return NULL;
}

static void handle_message(watch_app *app, const rd_kafka_message_t *m) {
  watch_part *part = part_of(app, m);
  if (m->err) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (part)
        part->at_eof = 1;
      return;
    }
    if (m->rkt)
      ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "%s [%d]: %s", rd_kafka_topic_name(m->rkt),
             (int)m->partition, rd_kafka_message_errstr(m));
    else
      on_client_error(app->rk, m->err, rd_kafka_message_errstr(m), app);
    return;
  }
  if (part)
    part->at_eof = 0;
  if (!m->payload || m->len == 0) {
    report_bad(app, m, "empty message");
    return;
  }
  metric_result *r = kpistream__v1__metric_result__unpack(NULL, m->len, m->payload);
  if (!r) {
    report_bad(app, m, "not a kpistream.v1.MetricResult");
    return;
  }
  if (r->metric[0] == '\0' || r->interval_end_ms <= r->interval_start_ms) {
    kpistream__v1__metric_result__free_unpacked(r, NULL);
    report_bad(app, m, "MetricResult without a metric or a valid interval");
    return;
  }
  if (part && r->interval_start_ms > part->max_start)
    part->max_start = r->interval_start_ms;
  int alert = ks_watch_is_alert(m->rkt ? rd_kafka_topic_name(m->rkt) : NULL, r);
  if (!alert && app->opts.no_rollups && ks_watch_is_rollup(r)) {
    kpistream__v1__metric_result__free_unpacked(r, NULL);
    return;
  }
  if (add_result(app, r, alert, part ? part->max_start : INT64_MIN) != 0) {
    kpistream__v1__metric_result__free_unpacked(r, NULL);
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "out of memory");
    shutdown_app(app, 1);
  }
}

/* Drains the consumer queue completely (librdkafka signals the eventfd only
 * when the queue goes from empty to non-empty). While closing, messages are
 * discarded. */
static void drain(watch_app *app) {
  if (!app->queue)
    return;
  uint64_t v;
  while (read(app->efd, &v, sizeof v) < 0 && errno == EINTR) /* reset before draining */
    ;
  rd_kafka_message_t *msgs[WATCH_BATCH];
  for (;;) {
    ssize_t n = rd_kafka_consume_batch_queue(app->queue, 0, msgs, WATCH_BATCH);
    if (n < 0) {
      ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "consume: %s",
             rd_kafka_err2str(rd_kafka_last_error()));
      break;
    }
    for (ssize_t i = 0; i < n; i++) {
      if (!app->stopping)
        handle_message(app, msgs[i]);
      rd_kafka_message_destroy(msgs[i]);
    }
    if (n < WATCH_BATCH)
      break;
  }
  if (!app->stopping) {
    flush_groups(app, group_ready);
    schedule_quiet(app);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  drain(h->data);
}

/* ---- metadata and assignment ----------------------------------------------- */

static void md_work(uv_work_t *w) {
  watch_app *app = w->data;
  /* Blocking, but on a worker thread; librdkafka handles are thread-safe. */
  app->md_err = rd_kafka_metadata(app->rk, 1, NULL, &app->md, WATCH_METADATA_TIMEOUT_MS);
}

static void md_done(uv_work_t *w, int status) {
  watch_app *app = w->data;
  app->md_inflight = 0;
  const struct rd_kafka_metadata *md = app->md;
  app->md = NULL;
  if (status != 0 || app->stopping) {
    if (md)
      rd_kafka_metadata_destroy(md);
    return;
  }
  if (app->md_err) {
    if (app->md_err != app->md_last_logged)
      ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "metadata from %s: %s (retrying every %d s)",
             app->bootstrap, rd_kafka_err2str(app->md_err), WATCH_TICK_MS / 1000);
    app->md_last_logged = app->md_err;
    return;
  }
  app->md_last_logged = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (size_t i = 0; i < app->opts.n_topics; i++) {
    watch_topic *wt = &app->topics[i];
    if (wt->assigned)
      continue;
    const rd_kafka_metadata_topic_t *mt = NULL;
    for (int k = 0; k < md->topic_cnt; k++)
      if (strcmp(md->topics[k].topic, wt->name) == 0)
        mt = &md->topics[k];
    if (!mt || mt->err || mt->partition_cnt <= 0) {
      if (!wt->warned_missing)
        ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "topic %s: %s; waiting for it", wt->name,
               mt && mt->err ? rd_kafka_err2str(mt->err) : "not found");
      wt->warned_missing = 1;
      continue;
    }
    int32_t max_id = -1;
    for (int p = 0; p < mt->partition_cnt; p++)
      if (mt->partitions[p].id > max_id)
        max_id = mt->partitions[p].id;
    wt->parts = calloc((size_t)max_id + 1, sizeof *wt->parts);
    if (!wt->parts) {
      ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "out of memory");
      shutdown_app(app, 1);
      break;
    }
    wt->n_parts = max_id + 1;
    for (int32_t p = 0; p < wt->n_parts; p++) {
      wt->parts[p].max_start = INT64_MIN;
      wt->parts[p].at_eof = 1; /* ids missing from metadata never block */
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(mt->partition_cnt);
    for (int p = 0; p < mt->partition_cnt; p++) {
      rd_kafka_topic_partition_list_add(parts, wt->name, mt->partitions[p].id)->offset =
          app->opts.from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
      wt->parts[mt->partitions[p].id].at_eof = 0;
    }
    /* Incremental: topics found later join without resetting the others. */
    rd_kafka_error_t *err = rd_kafka_incremental_assign(app->rk, parts);
    if (err) {
      ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "topic %s: cannot assign: %s", wt->name,
             rd_kafka_error_string(err));
      rd_kafka_error_destroy(err);
      free(wt->parts);
      wt->parts = NULL;
      wt->n_parts = 0;
    } else {
      wt->assigned = 1;
      ks_log(KS_LOG_INFO, KS_LOG_INFO, WATCH_LOG, "watching %s (%d partition%s, from the %s) at %s",
             wt->name, mt->partition_cnt, mt->partition_cnt == 1 ? "" : "s",
             app->opts.from_beginning ? "beginning" : "end", app->bootstrap);
    }
    rd_kafka_topic_partition_list_destroy(parts);
  }
  rd_kafka_metadata_destroy(md);
}

static void request_metadata(watch_app *app) {
  if (app->md_inflight || app->stopping || !app->rk)
    return;
  int missing = 0;
  for (size_t i = 0; i < app->opts.n_topics; i++)
    missing |= !app->topics[i].assigned;
  if (!missing)
    return;
  app->md_work.data = app;
  if (uv_queue_work(&app->loop, &app->md_work, md_work, md_done) == 0)
    app->md_inflight = 1;
}

static void on_tick(uv_timer_t *t) {
  watch_app *app = t->data;
  drain(app);                /* safety net: see the file comment */
  if (app->screen_entered) { /* resized without a SIGWINCH (another session: demo.sh) */
    int w = app->width, h = app->height;
    screen_size(app);
    if (w != app->width || h != app->height)
      screen_draw(app, 0);
  }
  request_metadata(app);
}

static int start_consumer(watch_app *app) {
  char errstr[512];
  if (rd_kafka_conf_set(app->conf, "bootstrap.servers", app->bootstrap, errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "bootstrap servers '%s': %s", app->bootstrap,
           errstr);
    return -1;
  }
  app->rk = rd_kafka_new(RD_KAFKA_CONSUMER, app->conf, errstr, sizeof errstr);
  if (!app->rk) {
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "cannot create the consumer: %s", errstr);
    return -1; /* conf still ours */
  }
  app->conf = NULL; /* now owned by rk */
  rd_kafka_poll_set_consumer(app->rk);
  rd_kafka_set_log_queue(app->rk, NULL); /* logs to the main queue, forwarded to ours */
  app->queue = rd_kafka_queue_get_consumer(app->rk);
  app->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!app->queue || app->efd < 0) {
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG, "cannot set up the consumer queue: %s",
           app->efd < 0 ? strerror(errno) : "no consumer queue (is -X group.id empty?)");
    return -1;
  }
  uint64_t one = 1; /* eventfd payload: exactly 8 bytes; librdkafka keeps a copy */
  rd_kafka_queue_io_event_enable(app->queue, app->efd, &one, sizeof one);
  if (uv_poll_init(&app->loop, &app->poll, app->efd) != 0)
    return -1;
  app->poll.data = app;
  app->poll_started = 1;
  uv_poll_start(&app->poll, UV_READABLE, on_poll);
  uv_timer_start(&app->tick, on_tick, WATCH_TICK_MS, WATCH_TICK_MS);
  request_metadata(app);
  return 0;
}

/* ---- bootstrap file -------------------------------------------------------- */

/* The first line of the file, if it has one; the broker writes it atomically. */
static char *read_bootstrap_file(const char *path) {
  char buf[4096];
  return ks_cli_read_bootstrap(path, buf, sizeof buf) == 0 ? strdup(buf) : NULL;
}

static void on_file_timer(uv_timer_t *t) {
  watch_app *app = t->data;
  char *bs = read_bootstrap_file(app->opts.bootstrap_file);
  if (bs) {
    uv_timer_stop(t);
    app->bootstrap = bs;
    if (start_consumer(app) != 0)
      shutdown_app(app, 1);
    return;
  }
  if (uv_now(&app->loop) >= app->file_deadline) {
    uv_timer_stop(t);
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG,
           "--bootstrap-file %s: no bootstrap address after %.1f s (is `kpistream broker "
           "--bootstrap-file %s` running?)",
           app->opts.bootstrap_file, (double)app->opts.file_timeout_ms / 1000.0,
           app->opts.bootstrap_file);
    shutdown_app(app, 1);
    return;
  }
  if (!app->file_waiting_logged) {
    ks_log(KS_LOG_INFO, KS_LOG_INFO, WATCH_LOG, "waiting for %s (up to %.1f s)",
           app->opts.bootstrap_file, (double)app->opts.file_timeout_ms / 1000.0);
    app->file_waiting_logged = 1;
  }
}

/* ---- stopping -------------------------------------------------------------- */

static void on_close_noop(uv_handle_t *h) {
  (void)h;
}

static void close_handles(watch_app *app) {
  if (app->handles_closed)
    return;
  app->handles_closed = 1;
  uv_handle_t *hs[] = {
      (uv_handle_t *)&app->sig_int,      (uv_handle_t *)&app->sig_term,
      (uv_handle_t *)&app->file_timer,   (uv_handle_t *)&app->tick,
      (uv_handle_t *)&app->quiet_timer,  (uv_handle_t *)&app->exit_timer,
      (uv_handle_t *)&app->close_timer,  (uv_handle_t *)&app->sig_winch,
      (uv_handle_t *)&app->redraw_timer,
  };
  for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
    uv_close(hs[i], on_close_noop);
  if (app->poll_started)
    uv_close((uv_handle_t *)&app->poll, on_close_noop);
  /* A metadata request still on a worker keeps the loop alive until it is done. */
}

static void on_close_timer(uv_timer_t *t) {
  watch_app *app = t->data;
  drain(app); /* serve the queue while the consumer closes */
  if (rd_kafka_consumer_closed(app->rk) || uv_now(&app->loop) >= app->close_deadline) {
    if (!rd_kafka_consumer_closed(app->rk))
      ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "consumer did not close within %d ms",
             WATCH_CLOSE_DEADLINE_MS);
    uv_timer_stop(t);
    close_handles(app);
  }
}

static void shutdown_app(watch_app *app, int status) {
  if (app->stopping)
    return;
  app->stopping = 1;
  app->exit_status = status;
  screen_leave(app); /* the terminal back to the user at once */
  uv_timer_stop(&app->file_timer);
  uv_timer_stop(&app->tick);
  uv_timer_stop(&app->quiet_timer);
  uv_timer_stop(&app->exit_timer);
  if (app->rk && app->queue) {
    rd_kafka_error_t *err = rd_kafka_consumer_close_queue(app->rk, app->queue);
    if (err) {
      ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "closing the consumer: %s",
             rd_kafka_error_string(err));
      rd_kafka_error_destroy(err);
      close_handles(app);
      return;
    }
    app->close_deadline = uv_now(&app->loop) + WATCH_CLOSE_DEADLINE_MS;
    uv_timer_start(&app->close_timer, on_close_timer, 0, WATCH_CLOSE_TICK_MS);
  } else {
    close_handles(app);
  }
}

static void on_signal(uv_signal_t *h, int signum) {
  watch_app *app = h->data;
  (void)signum;
  if (app->stopping) { /* a second Ctrl-C: do not wait for the consumer */
    close_handles(app);
    return;
  }
  flush_groups(app, ready_always); /* show what has arrived */
  shutdown_app(app, 0);
}

static void on_exit_timer(uv_timer_t *t) {
  watch_app *app = t->data;
  int status = 0;
  if (app->opts.exit_after_intervals > 0) {
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, WATCH_LOG,
           "--exit-after: %llu of %lld intervals shown after %.1f s",
           (unsigned long long)app->intervals_printed, (long long)app->opts.exit_after_intervals,
           (double)app->opts.exit_after_ms / 1000.0);
    status = 1;
  }
  shutdown_app(app, status);
}

/* ---- entry point ----------------------------------------------------------- */

int ks_cmd_watch(int argc, char **argv) {
  watch_app app;
  memset(&app, 0, sizeof app);
  app.efd = -1;
  int status = ks_watch_parse_args(&app.opts, argc, argv);
  if (status >= 0) {
    ks_watch_free_opts(&app.opts);
    return status;
  }
  app.topics = calloc(app.opts.n_topics, sizeof *app.topics);
  if (!app.topics) {
    fprintf(stderr, "kpistream watch: out of memory\n");
    ks_watch_free_opts(&app.opts);
    return 1;
  }
  for (size_t i = 0; i < app.opts.n_topics; i++)
    app.topics[i].name = app.opts.topics[i];
  status = build_conf(&app);
  if (status != 0 || uv_loop_init(&app.loop) != 0) {
    if (app.conf)
      rd_kafka_conf_destroy(app.conf);
    free(app.topics);
    ks_watch_free_opts(&app.opts);
    return status ? status : 1;
  }

  uv_signal_init(&app.loop, &app.sig_int);
  uv_signal_init(&app.loop, &app.sig_term);
  uv_timer_init(&app.loop, &app.file_timer);
  uv_timer_init(&app.loop, &app.tick);
  uv_timer_init(&app.loop, &app.quiet_timer);
  uv_timer_init(&app.loop, &app.exit_timer);
  uv_timer_init(&app.loop, &app.close_timer);
  uv_signal_init(&app.loop, &app.sig_winch);
  uv_timer_init(&app.loop, &app.redraw_timer);
  app.sig_winch.data = app.redraw_timer.data = &app;
  app.sig_int.data = app.sig_term.data = &app;
  app.file_timer.data = app.tick.data = app.quiet_timer.data = &app;
  app.exit_timer.data = app.close_timer.data = &app;
  uv_signal_start(&app.sig_int, on_signal, SIGINT);
  uv_signal_start(&app.sig_term, on_signal, SIGTERM);
  app.screen = app.opts.mode == KS_WATCH_MODE_SCREEN ||
               (app.opts.mode == KS_WATCH_MODE_AUTO && isatty(STDOUT_FILENO));
  if (app.screen) {
    ks_watch_group_opts sopts = {
        .metrics = (const char *const *)app.opts.metrics,
        .n_metrics = app.opts.n_metrics,
        .all_metrics = app.opts.all_metrics,
        .show_agents = app.opts.agents,
    };
    ks_watch_screen_init(&app.scr, &sopts);
    screen_enter(&app);
  }
  if (app.opts.exit_after_ms > 0)
    uv_timer_start(&app.exit_timer, on_exit_timer, (uint64_t)app.opts.exit_after_ms, 0);

  if (app.opts.bootstrap_file) {
    app.file_deadline = uv_now(&app.loop) + (uint64_t)app.opts.file_timeout_ms;
    uv_timer_start(&app.file_timer, on_file_timer, 0, WATCH_FILE_POLL_MS);
  } else {
    app.bootstrap = strdup(app.opts.bootstrap);
    if (!app.bootstrap || start_consumer(&app) != 0)
      shutdown_app(&app, 1);
  }

  uv_run(&app.loop, UV_RUN_DEFAULT);
  screen_leave(&app); /* when the loop ended without shutdown_app */

  /* The loop is over: no callback can run any more. */
  if (app.queue) {
    rd_kafka_queue_io_event_enable(app.queue, -1, NULL, 0);
    rd_kafka_queue_destroy(app.queue);
  }
  if (app.rk) {
    if (rd_kafka_consumer_closed(app.rk))
      rd_kafka_destroy(app.rk);
    else
      rd_kafka_destroy_flags(app.rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
  if (app.conf)
    rd_kafka_conf_destroy(app.conf);
  if (app.efd >= 0)
    close(app.efd);
  if (uv_loop_close(&app.loop) != 0)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "event loop closed with handles still open");
  for (size_t i = 0; i < app.n_groups; i++)
    group_free(app.groups[i]);
  free(app.groups);
  if (app.screen)
    ks_watch_screen_free(&app.scr);
  for (size_t i = 0; i < app.n_tenants; i++)
    free(app.tenants[i].tenant);
  free(app.tenants);
  if (app.n_bad)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, WATCH_LOG, "%llu undecodable message%s skipped",
           (unsigned long long)app.n_bad, app.n_bad == 1 ? "" : "s");
  free(app.bootstrap);
  for (size_t i = 0; i < app.opts.n_topics; i++)
    free(app.topics[i].parts);
  free(app.topics);
  ks_watch_free_opts(&app.opts);
  return app.exit_status;
}
