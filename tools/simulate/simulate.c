/*
 * kpistream simulate — publishes a simulated contact center's events
 * (sim_model) to Kafka, paced against the wall clock.
 *
 * A uv_timer_t ticks every 20 ms and produces every event whose simulated
 * time is due by then (simulated start + wall time elapsed x --speed); with
 * --speed max it produces as fast as the producer accepts, in batches, so
 * signals and delivery reports are still served between ticks. Messages are
 * keyed by tenant (the partitioning contract, docs/partitioning.md) and go
 * to events.voice / events.email / events.chat / events.agent /
 * events.feedback / events.business through the idempotent producer of
 * kafka_producer.c. SIGINT/SIGTERM, the end of --duration or --max-events
 * stop it: outstanding messages are flushed with a deadline and a summary
 * (events per topic) is printed on stdout. One progress line per simulated
 * hour goes to stderr.
 *
 * Everything lives in one struct sim_app owned by ks_cmd_simulate(): no
 * global mutable state.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "duration.h"
#include "kafka_producer.h"
#include "log.h"
#include "sim_model.h"
#include "simulate.h"

#define SIM_LOG         "simulate"
#define TICK_MS         20
#define MAX_BATCH       20000 /* events per tick with --speed max */
#define MAX_PROPS       64
#define FLUSH_MS_DONE   30000 /* flush deadline at the end of --duration */
#define FLUSH_MS_SIGNAL 10000 /* flush deadline after SIGINT/SIGTERM */
#define HOUR_MS         INT64_C(3600000)

typedef struct sim_app {
  /* options */
  ks_sim_options mo;
  double speed;        /* simulated seconds per wall second; 0: as fast as possible */
  uint64_t max_events; /* 0: no limit */
  int log_level;
  ks_kv props[MAX_PROPS + 1];
  size_t n_props;
  char bootstrap[512];

  /* running */
  uv_loop_t loop;
  uv_timer_t tick;
  uv_signal_t sig_int, sig_term;
  ks_sim *sim;
  ks_producer *prod;
  uint64_t wall_start;
  int64_t next_progress; /* simulated time of the next progress line */
  uint64_t produced, delivered, failed, last_progress_events;
  uint64_t per_topic[KS_SIM_NTOPICS];
  uint8_t *buf;
  size_t cap;
  const char *stop_reason;
  int exit_code;
} sim_app;

static void applog(sim_app *a, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void applog(sim_app *a, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ks_logv(a->log_level, level, SIM_LOG, fmt, ap);
  va_end(ap);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: kpistream simulate (-b SERVERS | --bootstrap-file FILE) [options]\n"
          "\n"
          "Publish a simulated contact center's events to Kafka: Poisson arrivals per\n"
          "queue and channel over a daily curve, agents on schedules, queueing with\n"
          "patience (abandons), offers that ring out, call-backs, talk/hold/wrap-up,\n"
          "transfers, escalations, reopens, repeat contacts, surveys, QA, sentiment,\n"
          "orders, costs, forecasts, HR. The same options give the same events, byte\n"
          "for byte.\n"
          "\n"
          "Topics: events.voice events.email events.chat events.agent events.feedback\n"
          "        events.business (message key: the tenant)\n"
          "\n"
          "options:\n"
          "  -b, --bootstrap-servers LIST  Kafka bootstrap servers\n"
          "      --bootstrap-file FILE     read them from the first line of FILE (as\n"
          "                                written by kpistream broker --bootstrap-file)\n"
          "  -X, --property KEY=VALUE      any librdkafka producer property (repeatable)\n"
          "      --seed N                  random seed (default 1)\n"
          "      --start TIME              simulated start, ISO-8601 UTC\n"
          "                                (default 2026-11-23T08:00:00Z)\n"
          "      --duration D              simulated time to run, e.g. 8h, 90m, 2d\n"
          "                                (default: until stopped)\n"
          "      --speed N|max             simulated seconds per wall second (default 60);\n"
          "                                max: as fast as possible\n"
          "      --rate-scale X            multiply every arrival rate and the staffing\n"
          "                                (default 1, at most 100)\n"
          "      --tenants N               tenants, 1..%d (default 2)\n"
          "      --max-events N            stop after N events\n"
          "      --log-level LEVEL         error, warn, info, debug (default info)\n"
          "  -h, --help                    this help\n"
          "  -V, --version                 print the version\n"
          "\n"
          "Behaviour rates (shares in [0, 1]; the defaults make each KPI show in a demo):\n"
          "      --reopen-rate X           share of resolved e-mail and chat contacts the\n"
          "                                customer reopens (e-mail 1-24 h, chat 5 min-4 h\n"
          "                                later; re-queued and handled again) (default 0.08)\n"
          "      --callback-wait D         offer a voice caller a call-back when the\n"
          "                                estimated wait exceeds D, at most 1d (default 30s)\n"
          "      --callback-accept X       share of those callers who take it (queued with\n"
          "                                callback=true, answered when their turn comes)\n"
          "                                (default 0.5)\n"
          "      --ring-no-answer X        share of voice and chat offers the agent lets ring\n"
          "                                out (15 s, 20 s; accepted=false, the contact is\n"
          "                                offered again) (default 0.03)\n"
          "      --survey-rate X           share of handled contacts whose customer answers\n"
          "                                the survey; the others never reply and no event\n"
          "                                marks a survey sent, so the response rate is\n"
          "                                responses / handled contacts (default 0.18)\n"
          "\n"
          "Stops on SIGINT/SIGTERM, at the end of --duration or after --max-events,\n"
          "flushing what was produced (with a deadline) and printing events per topic.\n"
          "Exit status: 0 on a clean stop, 1 when messages were not delivered, 2 on a\n"
          "usage error.\n",
          KS_SIM_MAX_TENANTS);
}

static int bad_option(const char *opt, const char *value, const char *what) {
  fprintf(stderr, "kpistream simulate: %s: '%s' is not %s\n", opt, value, what);
  return KS_EXIT_USAGE;
}

/* Parse argv into a; returns -1 to go on, else an exit status. */
static int parse_args(sim_app *a, int argc, char **argv) {
  enum {
    O_BFILE = 256,
    O_SEED,
    O_START,
    O_DURATION,
    O_SPEED,
    O_RATE,
    O_TENANTS,
    O_MAXEV,
    O_LOG,
    O_REOPEN,
    O_CB_WAIT,
    O_CB_ACCEPT,
    O_RONA,
    O_SURVEY
  };
  static const struct option longopts[] = {
      {"bootstrap-servers", required_argument, NULL, 'b'},
      {"bootstrap-file", required_argument, NULL, O_BFILE},
      {"property", required_argument, NULL, 'X'},
      {"seed", required_argument, NULL, O_SEED},
      {"start", required_argument, NULL, O_START},
      {"duration", required_argument, NULL, O_DURATION},
      {"speed", required_argument, NULL, O_SPEED},
      {"rate-scale", required_argument, NULL, O_RATE},
      {"tenants", required_argument, NULL, O_TENANTS},
      {"max-events", required_argument, NULL, O_MAXEV},
      {"log-level", required_argument, NULL, O_LOG},
      {"reopen-rate", required_argument, NULL, O_REOPEN},
      {"callback-wait", required_argument, NULL, O_CB_WAIT},
      {"callback-accept", required_argument, NULL, O_CB_ACCEPT},
      {"ring-no-answer", required_argument, NULL, O_RONA},
      {"survey-rate", required_argument, NULL, O_SURVEY},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  const char *bootstrap = NULL, *bootstrap_file = NULL, *unexpected = NULL;
  int64_t iv;
  double dv;
  ks_cli cli;
  ks_cli_init(&cli, "simulate", argc, argv, "b:X:hV", longopts);
  const char *arg;
  int c;
  while ((c = ks_cli_next(&cli, &arg)) != KS_CLI_END) {
    switch (c) {
    case 'b':
      bootstrap = arg;
      break;
    case O_BFILE:
      bootstrap_file = arg;
      break;
    case 'X': {
      char *eq = strchr(arg, '=');
      if (eq == NULL || eq == arg)
        return bad_option("-X", arg, "KEY=VALUE");
      if (a->n_props == MAX_PROPS) {
        fprintf(stderr, "kpistream simulate: -X: at most %d properties\n", MAX_PROPS);
        return KS_EXIT_USAGE;
      }
      *eq = '\0'; /* argv is ours to edit (arg points into it) */
      a->props[a->n_props].key = arg;
      a->props[a->n_props++].value = eq + 1;
      break;
    }
    case O_SEED:
      if (ks_parse_int(arg, &iv) != 0 || iv < 0)
        return bad_option("--seed", arg, "a non-negative integer");
      a->mo.seed = (uint64_t)iv;
      break;
    case O_START:
      if (ks_sim_parse_time(arg, &a->mo.start_ms) != 0 || a->mo.start_ms < 0)
        return bad_option("--start", arg,
                          "an ISO-8601 UTC time after 1970 (e.g. 2026-11-23T08:00:00Z)");
      break;
    case O_DURATION:
      if (ks_parse_duration_ms(arg, &a->mo.duration_ms) != 0 || a->mo.duration_ms <= 0)
        return bad_option("--duration", arg, "a positive duration (e.g. 8h, 90m, 2d, 3600)");
      break;
    case O_SPEED:
      if (strcmp(arg, "max") == 0) {
        a->speed = 0;
        break;
      }
      if (ks_parse_double(arg, &dv) != 0 || dv <= 0 || dv > 1e9)
        return bad_option("--speed", arg,
                          "a positive number of simulated seconds per second or 'max'");
      a->speed = dv;
      break;
    case O_RATE:
      if (ks_parse_double(arg, &dv) != 0 || dv <= 0 || dv > 100)
        return bad_option("--rate-scale", arg, "a number in (0, 100]");
      a->mo.rate_scale = dv;
      break;
    case O_TENANTS:
      if (ks_parse_int(arg, &iv) != 0 || iv < 1 || iv > KS_SIM_MAX_TENANTS) {
        char what[64];
        snprintf(what, sizeof what, "a number of tenants in 1..%d", KS_SIM_MAX_TENANTS);
        return bad_option("--tenants", arg, what);
      }
      a->mo.tenants = (int)iv;
      break;
    case O_MAXEV:
      if (ks_parse_int(arg, &iv) != 0 || iv < 1)
        return bad_option("--max-events", arg, "a positive integer");
      a->max_events = (uint64_t)iv;
      break;
    case O_REOPEN:
    case O_CB_ACCEPT:
    case O_RONA:
    case O_SURVEY: {
      double *share = c == O_REOPEN      ? &a->mo.reopen_rate
                      : c == O_CB_ACCEPT ? &a->mo.callback_accept
                      : c == O_RONA      ? &a->mo.ring_no_answer
                                         : &a->mo.survey_rate;
      const char *name = c == O_REOPEN      ? "--reopen-rate"
                         : c == O_CB_ACCEPT ? "--callback-accept"
                         : c == O_RONA      ? "--ring-no-answer"
                                            : "--survey-rate";
      if (ks_parse_double(arg, &dv) != 0 || dv < 0 || dv > 1)
        return bad_option(name, arg, "a share in [0, 1]");
      *share = dv;
      break;
    }
    case O_CB_WAIT:
      if (ks_parse_duration_ms(arg, &iv) != 0 || iv > 86400000)
        return bad_option("--callback-wait", arg, "a duration of at most 1d (e.g. 30s, 2m)");
      a->mo.callback_wait_s = (double)iv / 1000.0;
      break;
    case O_LOG:
      if ((a->log_level = ks_log_level_parse(arg)) < 0)
        return bad_option("--log-level", arg, "one of error, warn, info, debug");
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      return ks_cli_version();
    case KS_CLI_ARG:
      if (unexpected == NULL)
        unexpected = arg;
      break;
    default:
      usage(stderr);
      return KS_EXIT_USAGE;
    }
  }
  if (unexpected) {
    fprintf(stderr, "kpistream simulate: unexpected argument '%s'\n", unexpected);
    return KS_EXIT_USAGE;
  }
  if (bootstrap_file) {
    if (ks_cli_read_bootstrap(bootstrap_file, a->bootstrap, sizeof a->bootstrap) != 0) {
      fprintf(stderr, "kpistream simulate: --bootstrap-file %s: cannot read a bootstrap address\n",
              bootstrap_file);
      return KS_EXIT_USAGE;
    }
  } else if (bootstrap) {
    if (bootstrap[0] == '\0' || strlen(bootstrap) >= sizeof a->bootstrap)
      return bad_option("--bootstrap-servers", bootstrap, "a bootstrap server list");
    snprintf(a->bootstrap, sizeof a->bootstrap, "%s", bootstrap);
  } else {
    fprintf(stderr, "kpistream simulate: -b/--bootstrap-servers or --bootstrap-file is required\n");
    usage(stderr);
    return KS_EXIT_USAGE;
  }
  return -1;
}

/* ---- running ---------------------------------------------------------------- */

static void stop(sim_app *a, const char *why) {
  if (a->stop_reason == NULL)
    a->stop_reason = why;
  uv_stop(&a->loop);
}

static void on_delivery(void *ud, void *opaque, rd_kafka_resp_err_t err,
                        const rd_kafka_message_t *m) {
  (void)opaque;
  sim_app *a = ud;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    a->delivered++;
    return;
  }
  a->failed++;
  if (a->failed <= 10 || (a->failed & (a->failed - 1)) == 0)
    applog(a, KS_LOG_ERROR, "delivery to %s failed: %s (%" PRIu64 " failed so far)",
           m->rkt ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(err), a->failed);
  a->exit_code = 1;
  if (err == RD_KAFKA_RESP_ERR__FATAL)
    stop(a, "fatal producer error");
}

static void progress(sim_app *a, int64_t hour_end) {
  ks_sim_stats st;
  ks_sim_get_stats(a->sim, &st);
  char when[32];
  uint32_t waiting = 0;
  for (int q = 0; q < KS_SIM_NQUEUES; q++)
    waiting += st.waiting[q];
  double wall = (double)(uv_now(&a->loop) - a->wall_start) / 1000.0;
  applog(a, KS_LOG_INFO,
         "%s: %" PRIu64 " events (+%" PRIu64 " this hour: voice %" PRIu64 ", email %" PRIu64
         ", chat %" PRIu64 ", agent %" PRIu64 ", feedback %" PRIu64 ", business %" PRIu64
         "), arrivals %" PRIu64 ", abandoned %" PRIu64 ", waiting %u, agents logged in %u/%u, "
         "in flight %d, %.1f s wall",
         ks_sim_format_time(hour_end, when, sizeof when), a->produced,
         a->produced - a->last_progress_events, a->per_topic[0], a->per_topic[1], a->per_topic[2],
         a->per_topic[3], a->per_topic[4], a->per_topic[5], st.arrivals, st.abandoned, waiting,
         st.agents_logged_in, st.agents_total, ks_producer_outq_len(a->prod), wall);
  a->last_progress_events = a->produced;
  memset(a->per_topic, 0, sizeof a->per_topic);
}

/* Produce one event. 0, or -1 when the run must stop. */
static int produce_one(sim_app *a) {
  Kpistream__V1__Event *ev;
  const char *topic;
  int rc = ks_sim_next(a->sim, &ev, &topic);
  if (rc == 0) {
    stop(a, "end of --duration");
    return -1;
  }
  if (rc < 0) {
    applog(a, KS_LOG_ERROR, "simulator: out of memory");
    a->exit_code = 1;
    stop(a, "error");
    return -1;
  }
  while (ev->event_time_ms >= a->next_progress) {
    progress(a, a->next_progress);
    a->next_progress += HOUR_MS;
  }
  size_t n = kpistream__v1__event__get_packed_size(ev);
  if (n > a->cap) {
    size_t ncap = n * 2 < 4096 ? 4096 : n * 2;
    uint8_t *nb = realloc(a->buf, ncap);
    if (nb == NULL) {
      applog(a, KS_LOG_ERROR, "out of memory");
      a->exit_code = 1;
      stop(a, "error");
      return -1;
    }
    a->buf = nb;
    a->cap = ncap;
  }
  kpistream__v1__event__pack(ev, a->buf);
  char err[512];
  if (ks_producer_send(a->prod, topic, ev->tenant, strlen(ev->tenant), a->buf, n, NULL, NULL, err,
                       sizeof err) != 0) {
    applog(a, KS_LOG_ERROR, "%s", err);
    a->exit_code = 1;
    stop(a, "produce error");
    return -1;
  }
  a->produced++;
  a->per_topic[ks_sim_current_topic(a->sim)]++;
  if (a->max_events && a->produced >= a->max_events) {
    stop(a, "--max-events reached");
    return -1;
  }
  return 0;
}

static void on_tick(uv_timer_t *t) {
  sim_app *a = t->data;
  if (a->stop_reason)
    return;
  if (a->speed > 0) {
    uv_update_time(&a->loop);
    double elapsed_s = (double)(uv_now(&a->loop) - a->wall_start) / 1000.0;
    double target = (double)a->mo.start_ms + elapsed_s * a->speed * 1000.0;
    int64_t due = target >= 9.2e18 ? INT64_MAX : (int64_t)target;
    while (ks_sim_peek_time(a->sim) <= due)
      if (produce_one(a) != 0)
        break;
    if (ks_sim_peek_time(a->sim) == INT64_MAX && a->stop_reason == NULL)
      produce_one(a); /* reports the end (or an error) */
  } else {
    for (int i = 0; i < MAX_BATCH; i++)
      if (produce_one(a) != 0)
        break;
  }
  ks_producer_poll(a->prod); /* delivery reports: rd_kafka_poll(rk, 0) */
}

static void on_signal(uv_signal_t *s, int signum) {
  sim_app *a = s->data;
  stop(a, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void summary(sim_app *a) {
  ks_sim_stats st;
  ks_sim_get_stats(a->sim, &st);
  char from[32], to[32];
  double wall = (double)(uv_now(&a->loop) - a->wall_start) / 1000.0;
  printf("kpistream simulate: stopped (%s); simulated %s .. %s in %.1f s\n", a->stop_reason,
         ks_sim_format_time(a->mo.start_ms, from, sizeof from),
         ks_sim_format_time(st.events ? st.now_ms : a->mo.start_ms, to, sizeof to), wall);
  for (int t = 0; t < KS_SIM_NTOPICS; t++)
    printf("  %-16s %12" PRIu64 "\n", ks_sim_topic_name((ks_sim_topic)t), st.per_topic[t]);
  printf(
      "  %-16s %12" PRIu64 " produced, %" PRIu64 " delivered, %" PRIu64 " failed, %d undelivered\n",
      "total", a->produced, a->delivered, a->failed, a->prod ? ks_producer_outq_len(a->prod) : 0);
  printf("  contacts: %" PRIu64 " arrivals (%" PRIu64 " repeats), %" PRIu64 " queued, %" PRIu64
         " answered, %" PRIu64 " abandoned (%" PRIu64 " short)\n",
         st.arrivals, st.repeats, st.offered, st.answered, st.abandoned, st.short_abandons);
  printf("  %" PRIu64 " handled, %" PRIu64 " reopened, %" PRIu64 " call-backs (of %" PRIu64
         " offered), %" PRIu64 " offers rung out, %" PRIu64 " surveys answered\n",
         st.handled, st.reopened, st.callbacks, st.callbacks_offered, st.ring_no_answer,
         st.surveys);
  fflush(stdout);
}

int ks_cmd_simulate(int argc, char **argv) {
  sim_app *a = calloc(1, sizeof *a);
  if (a == NULL)
    return 1;
  ks_sim_options_default(&a->mo);
  a->speed = 60;
  a->log_level = KS_LOG_INFO;
  int rc = parse_args(a, argc, argv);
  if (rc >= 0) {
    free(a);
    return rc;
  }
  a->sim = ks_sim_new(&a->mo);
  if (a->sim == NULL) {
    fprintf(stderr, "kpistream simulate: cannot create the model (out of memory)\n");
    free(a);
    return 1;
  }
  uv_loop_init(&a->loop);
  char err[1024];
  ks_kv bs = {"bootstrap.servers", a->bootstrap};
  const ks_kv *lists[2] = {&bs, a->props};
  size_t counts[2] = {1, a->n_props};
  int status = 0;
  if (ks_producer_new(&a->prod, &a->loop, lists, counts, 2, a->log_level, on_delivery, a, err,
                      sizeof err) != 0) {
    fprintf(stderr, "kpistream simulate: %s\n", err);
    status = KS_EXIT_USAGE;
    goto out;
  }
  char when[32], dur[48], speed[48];
  if (a->mo.duration_ms > 0)
    snprintf(dur, sizeof dur, "for %.10g h", (double)a->mo.duration_ms / 3600000.0);
  else
    snprintf(dur, sizeof dur, "until stopped");
  if (a->speed > 0)
    snprintf(speed, sizeof speed, "%.10gx real time", a->speed);
  else
    snprintf(speed, sizeof speed, "max");
  applog(a, KS_LOG_INFO,
         "publishing to %s: %d tenants, seed %" PRIu64 ", rate scale %g, from %s %s, speed %s",
         a->bootstrap, a->mo.tenants, a->mo.seed, a->mo.rate_scale,
         ks_sim_format_time(a->mo.start_ms, when, sizeof when), dur, speed);
  a->next_progress = (a->mo.start_ms / HOUR_MS + 1) * HOUR_MS;
  uv_signal_init(&a->loop, &a->sig_int);
  uv_signal_init(&a->loop, &a->sig_term);
  a->sig_int.data = a->sig_term.data = a;
  uv_signal_start(&a->sig_int, on_signal, SIGINT);
  uv_signal_start(&a->sig_term, on_signal, SIGTERM);
  uv_timer_init(&a->loop, &a->tick);
  a->tick.data = a;
  uv_update_time(&a->loop);
  a->wall_start = uv_now(&a->loop);
  uv_timer_start(&a->tick, on_tick, 0, a->speed > 0 ? TICK_MS : 1);
  uv_run(&a->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&a->tick);
  if (a->produced > a->last_progress_events) { /* the last (partial) hour */
    ks_sim_stats st;
    ks_sim_get_stats(a->sim, &st);
    int64_t end = a->mo.start_ms + a->mo.duration_ms;
    progress(a, a->mo.duration_ms > 0 && a->stop_reason &&
                        strcmp(a->stop_reason, "end of --duration") == 0
                    ? end
                    : st.now_ms);
  }

  int deadline =
      a->stop_reason && strncmp(a->stop_reason, "SIG", 3) == 0 ? FLUSH_MS_SIGNAL : FLUSH_MS_DONE;
  applog(a, KS_LOG_INFO, "stopping (%s): flushing %d messages (deadline %d s)",
         a->stop_reason ? a->stop_reason : "?", ks_producer_outq_len(a->prod), deadline / 1000);
  if (ks_producer_flush(a->prod, deadline) != 0) {
    applog(a, KS_LOG_ERROR, "%d messages not delivered within %d s", ks_producer_outq_len(a->prod),
           deadline / 1000);
    a->exit_code = 1;
  }
  uv_update_time(&a->loop);
  summary(a);
  status = a->exit_code;
out:
  if (a->prod)
    ks_producer_close(a->prod);
  uv_walk(&a->loop, close_walk, NULL);
  uv_run(&a->loop, UV_RUN_DEFAULT);
  ks_producer_free(a->prod);
  uv_loop_close(&a->loop);
  ks_sim_free(a->sim);
  free(a->buf);
  free(a);
  return status;
}
