/*
 * broker_control — fault injection into the running mock cluster, driven by
 * lines written to a FIFO. Commands and ownership: broker_control.h.
 *
 * The FIFO is opened O_RDONLY|O_NONBLOCK (never waits for a writer), read
 * through uv_pipe_open, then opened for writing too and that end held, so it
 * never reports EOF between two writers. (Reopening after each writer's EOF
 * lost lines: a writer that opened between our read() == 0 and our close()
 * wrote into a pipe about to be dropped.) Without that end, EOF reopens.
 * Lines are applied one at a time, in order; a mock call waits for the mock
 * cluster's thread, so it runs on a libuv worker. librdkafka 2.0.2's mock
 * thread can lose the wake-up for an op and sleep 1 s with it queued (see
 * the kicker in tools/broker/broker.c): while a call waits, a 20 ms timer opens and
 * closes a TCP connection to the first broker's listener, which wakes it.
 */
#include "broker_control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <librdkafka/rdkafka.h>

#include "duration.h"
#include "log.h"

#define CTL_LOG        "broker"
#define CTL_LINE_MAX   1024
#define CTL_QUEUE_MAX  4096 /* lines read but not yet applied */
#define CTL_KICK_MS    20
#define CTL_MAX_ERRORS 1000
#define CTL_MAX_RTT_MS 600000

typedef enum { OP_DOWN, OP_UP, OP_RTT, OP_LEADER, OP_ERRORS, OP_CLEAR } ctl_op;
typedef enum { LINE_SKIP, LINE_BAD, LINE_SYNC, LINE_OP } line_kind;

typedef struct ctl_cmd {
  ctl_op op;
  int32_t broker, partition;
  int rtt_ms;
  int16_t api;
  size_t count;
  rd_kafka_resp_err_t err;
  char topic[256];
} ctl_cmd;

/* Kafka ApiKey numbers (rdkafka_protocol.h is not installed). */
static const struct {
  const char *name;
  int16_t key;
} api_keys[] = {
    {"Produce", 0},      {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},   {"LeaveGroup", 13}, {"SyncGroup", 14},       {"InitProducerId", 22},
};

struct ks_broker_control {
  uv_loop_t *loop;             /* borrowed */
  rd_kafka_mock_cluster_t *mc; /* borrowed */
  int n_brokers;
  char *path, *ack_path; /* owned copies */
  int created;           /* we made the FIFO: removed in free */
  int hold_fd, holding;  /* our write end of the FIFO (see the file comment) */

  uv_pipe_t pipe;
  int pipe_open; /* initialised and not yet being closed */
  int reopen;    /* open the FIFO again once the pipe has closed */
  uv_timer_t kick;
  int kick_closed;
  struct sockaddr_in kick_addr;
  int can_kick;

  char rbuf[4096];
  char line[CTL_LINE_MAX + 1];
  size_t line_len;
  int line_too_long;
  char *queue[CTL_QUEUE_MAX]; /* owned lines, a ring: [q_head, q_head + q_len) */
  size_t q_head, q_len;

  uv_work_t work;
  int busy;                        /* a command is on a worker thread */
  ctl_cmd cur;                     /* written before queueing, read by the worker */
  char cur_text[CTL_LINE_MAX + 1]; /* its line, for the log */
  rd_kafka_resp_err_t cur_result;  /* written by the worker */
  unsigned long long n_syncs;
  int stopping;
};

static int open_fifo(ks_broker_control *c);

/* ---- parsing --------------------------------------------------------------- */

static int parse_num(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  return ks_parse_int(s, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
}

static int api_by_name(const char *s, int16_t *out) {
  int64_t v;
  if (parse_num(s, 0, 100, &v) == 0) {
    *out = (int16_t)v;
    return 0;
  }
  for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++)
    if (strcasecmp(api_keys[i].name, s) == 0) {
      *out = api_keys[i].key;
      return 0;
    }
  return -1;
}

/* A broker-side error by librdkafka's name (NOT_LEADER_FOR_PARTITION, with
 * or without the RD_KAFKA_RESP_ERR_ prefix, any case) or by number. */
static const char *err_by_name(const char *s, rd_kafka_resp_err_t *out) {
  int64_t v;
  if (ks_parse_int(s, &v) == 0) {
    *out = (rd_kafka_resp_err_t)v;
    return v < 0 || v > INT16_MAX ? "an error code is 0 to 32767" : NULL;
  }
  if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0)
    s += 18;
  const struct rd_kafka_err_desc *d;
  size_t n;
  rd_kafka_get_err_descs(&d, &n);
  for (size_t i = 0; i < n; i++) {
    if (!d[i].name || strcasecmp(d[i].name, s) != 0)
      continue;
    *out = d[i].code;
    return d[i].code < 0 ? "a client-side (local) error, not one a broker returns" : NULL;
  }
  return "unknown error name (librdkafka's names: NOT_LEADER_FOR_PARTITION, "
         "REQUEST_TIMED_OUT, NOT_COORDINATOR, LEADER_NOT_AVAILABLE, ...)";
}

#define WANT(cond, ...)                                                                            \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      snprintf(why, whysz, __VA_ARGS__);                                                           \
      return LINE_BAD;                                                                             \
    }                                                                                              \
  } while (0)

static int broker_id(const ks_broker_control *c, const char *s, int32_t *out) {
  int64_t v;
  *out = parse_num(s, 1, c->n_brokers, &v) == 0 ? (int32_t)v : -1;
  return *out < 0 ? -1 : 0;
}

/* One line (tokenised in place) into *cmd; on LINE_BAD, why says what is wrong. */
static line_kind parse_line(const ks_broker_control *c, char *text, ctl_cmd *cmd, char *why,
                            size_t whysz) {
  char *tok[5], *save = NULL;
  int n = 0;
  for (char *t = strtok_r(text, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
    WANT(n < 5, "too many arguments");
    tok[n++] = t;
  }
  if (n == 0 || tok[0][0] == '#')
    return LINE_SKIP;
  memset(cmd, 0, sizeof *cmd);
  const char *name = tok[0], *id = NULL;
  int64_t v;
  if (strcmp(name, "sync") == 0 && n == 1)
    return LINE_SYNC;
  if ((strcmp(name, "down") == 0 || strcmp(name, "up") == 0) && n == 2) {
    cmd->op = name[0] == 'd' ? OP_DOWN : OP_UP;
    id = tok[1];
  } else if (strcmp(name, "rtt") == 0 && n == 3) {
    cmd->op = OP_RTT;
    id = tok[1];
    WANT(parse_num(tok[2], 0, CTL_MAX_RTT_MS, &v) == 0, "MS '%s' is not from 0 to %d", tok[2],
         CTL_MAX_RTT_MS);
    cmd->rtt_ms = (int)v;
  } else if (strcmp(name, "leader") == 0 && n == 4) {
    cmd->op = OP_LEADER;
    WANT(strlen(tok[1]) < sizeof cmd->topic, "topic name too long");
    snprintf(cmd->topic, sizeof cmd->topic, "%s", tok[1]);
    WANT(parse_num(tok[2], 0, INT32_MAX, &v) == 0, "PARTITION '%s' is not a number >= 0", tok[2]);
    cmd->partition = (int32_t)v;
    id = tok[3];
  } else if (strcmp(name, "errors") == 0 && (n == 3 || n == 4)) {
    WANT(api_by_name(tok[1], &cmd->api) == 0,
         "unknown API '%s' (Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch, "
         "FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, InitProducerId, or an "
         "ApiKey number)",
         tok[1]);
    WANT(parse_num(tok[2], 0, CTL_MAX_ERRORS, &v) == 0, "COUNT '%s' is not from 0 to %d", tok[2],
         CTL_MAX_ERRORS);
    cmd->count = (size_t)v;
    cmd->op = cmd->count ? OP_ERRORS : OP_CLEAR;
    WANT(!cmd->count || n == 4, "usage: errors API COUNT ERRNAME");
    const char *e = n == 4 ? err_by_name(tok[3], &cmd->err) : NULL;
    WANT(!e, "ERRNAME '%s': %s", tok[3], e);
  } else {
    WANT(0, "unknown command or wrong number of arguments (down ID, up ID, rtt ID MS, "
            "leader TOPIC PARTITION ID, errors API COUNT ERRNAME, sync)");
  }
  WANT(!id || broker_id(c, id, &cmd->broker) == 0, "broker id '%s' is not from 1 to %d", id,
       c->n_brokers);
  return LINE_OP;
}

/* ---- applying --------------------------------------------------------------- */

static void exec_work(uv_work_t *w) {
  ks_broker_control *c = w->data;
  const ctl_cmd *k = &c->cur;
  rd_kafka_resp_err_t errs[CTL_MAX_ERRORS];
  rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (k->op == OP_DOWN)
    rc = rd_kafka_mock_broker_set_down(c->mc, k->broker);
  else if (k->op == OP_UP)
    rc = rd_kafka_mock_broker_set_up(c->mc, k->broker);
  else if (k->op == OP_RTT)
    rc = rd_kafka_mock_broker_set_rtt(c->mc, k->broker, k->rtt_ms);
  else if (k->op == OP_LEADER)
    rc = rd_kafka_mock_partition_set_leader(c->mc, k->topic, k->partition, k->broker);
  else if (k->op == OP_CLEAR)
    rd_kafka_mock_clear_request_errors(c->mc, k->api);
  else {
    for (size_t i = 0; i < k->count; i++)
      errs[i] = k->err;
    rd_kafka_mock_push_request_errors_array(c->mc, k->api, k->count, errs);
  }
  c->cur_result = rc;
}

/* Wakes the mock thread: a SYN on its listening socket (see the file comment). */
static void on_kick(uv_timer_t *t) {
  ks_broker_control *c = t->data;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return;
  (void)connect(fd, (const struct sockaddr *)&c->kick_addr, sizeof c->kick_addr);
  close(fd);
}

static void close_kick(ks_broker_control *c) {
  if (!c->kick_closed) {
    c->kick_closed = 1;
    uv_close((uv_handle_t *)&c->kick, NULL);
  }
}

static void pump(ks_broker_control *c);

static void on_work_done(uv_work_t *w, int status) {
  ks_broker_control *c = w->data;
  c->busy = 0;
  uv_timer_stop(&c->kick); /* fine on a closed timer */
  ks_log(KS_LOG_INFO, status || c->cur_result ? KS_LOG_WARN : KS_LOG_INFO, CTL_LOG,
         "control: %s: %s%s", c->cur_text,
         status          ? "not applied: "
         : c->cur_result ? "failed: "
                         : "ok",
         status          ? uv_strerror(status)
         : c->cur_result ? rd_kafka_err2str(c->cur_result)
                         : "");
  if (c->stopping)
    close_kick(c);
  else
    pump(c);
}

static void do_sync(ks_broker_control *c) {
  char buf[32];
  int len = snprintf(buf, sizeof buf, "ok %llu\n", ++c->n_syncs), fd = -1;
  /* One short write with O_APPEND: a reader sees the whole line or none of it. */
  if (c->ack_path &&
      ((fd = open(c->ack_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
       write(fd, buf, (size_t)len) != len))
    ks_log(KS_LOG_INFO, KS_LOG_WARN, CTL_LOG, "control: sync %llu: cannot write %s: %s", c->n_syncs,
           c->ack_path, strerror(errno));
  else
    ks_log(KS_LOG_INFO, KS_LOG_INFO, CTL_LOG, "control: sync: ok %llu", c->n_syncs);
  if (fd >= 0)
    close(fd);
}

/* Applies queued lines in order until one has to wait for a worker. */
static void pump(ks_broker_control *c) {
  while (!c->busy && !c->stopping && c->q_len) {
    char *text = c->queue[c->q_head];
    c->q_head = (c->q_head + 1) % CTL_QUEUE_MAX;
    c->q_len--;
    char orig[CTL_LINE_MAX + 1], why[512];
    snprintf(orig, sizeof orig, "%s", text);
    orig[strcspn(orig, "\r")] = '\0';
    ctl_cmd cmd;
    line_kind kind = parse_line(c, text, &cmd, why, sizeof why);
    free(text);
    if (kind == LINE_BAD) {
      ks_log(KS_LOG_INFO, KS_LOG_WARN, CTL_LOG, "control: '%s': %s; ignored", orig, why);
    } else if (kind == LINE_SYNC) {
      do_sync(c);
    } else if (kind == LINE_OP) {
      c->cur = cmd;
      snprintf(c->cur_text, sizeof c->cur_text, "%s", orig);
      c->work.data = c;
      int rc = uv_queue_work(c->loop, &c->work, exec_work, on_work_done);
      if (rc != 0) {
        ks_log(KS_LOG_INFO, KS_LOG_WARN, CTL_LOG, "control: %s: %s", orig, uv_strerror(rc));
        continue;
      }
      c->busy = 1;
      if (c->can_kick && cmd.op != OP_ERRORS && cmd.op != OP_CLEAR) /* those take a mutex only */
        uv_timer_start(&c->kick, on_kick, CTL_KICK_MS, CTL_KICK_MS);
    }
  }
}

/* ---- reading ---------------------------------------------------------------- */

static void end_line(ks_broker_control *c) {
  if (c->line_too_long)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, CTL_LOG, "control: a line longer than %d bytes; ignored",
           CTL_LINE_MAX);
  else if (c->q_len == CTL_QUEUE_MAX)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, CTL_LOG, "control: %d commands waiting; '%.*s' dropped",
           CTL_QUEUE_MAX, (int)c->line_len, c->line);
  else if ((c->queue[(c->q_head + c->q_len) % CTL_QUEUE_MAX] = strndup(c->line, c->line_len)))
    c->q_len++;
  c->line_len = 0;
  c->line_too_long = 0;
}

static void feed(ks_broker_control *c, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\n')
      end_line(c);
    else if (c->line_len < CTL_LINE_MAX)
      c->line[c->line_len++] = p[i];
    else
      c->line_too_long = 1;
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  ks_broker_control *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_pipe_closed(uv_handle_t *h) {
  ks_broker_control *c = h->data;
  if (!c->reopen || c->stopping)
    return;
  c->reopen = 0;
  if (open_fifo(c) != 0)
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, CTL_LOG, "control: no longer reading %s", c->path);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  ks_broker_control *c = s->data;
  if (nread >= 0) { /* 0: EAGAIN */
    feed(c, buf->base, (size_t)nread);
    pump(c);
    return;
  }
  if (c->line_len || c->line_too_long) /* a last line without '\n' */
    end_line(c);
  pump(c);
  if (nread != UV_EOF)
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, CTL_LOG, "control: reading %s: %s", c->path,
           uv_strerror((int)nread));
  c->reopen = nread == UV_EOF; /* the last writer closed: wait for the next one */
  c->pipe_open = 0;
  uv_close((uv_handle_t *)&c->pipe, on_pipe_closed);
}

static int open_fifo(ks_broker_control *c) {
  int fd = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int rc = fd < 0 ? uv_translate_sys_error(errno) : uv_pipe_init(c->loop, &c->pipe, 0);
  if (rc == 0) {
    c->pipe.data = c;
    c->pipe_open = 1;
    if ((rc = uv_pipe_open(&c->pipe, fd)) != 0)
      close(fd); /* not the pipe's */
    else if ((rc = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read)) == 0 && !c->holding)
      c->holding = (c->hold_fd = open(c->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0;
    if (rc != 0) { /* c->reopen is 0: closed for good */
      c->pipe_open = 0;
      uv_close((uv_handle_t *)&c->pipe, on_pipe_closed);
    }
  } else if (fd >= 0) {
    close(fd);
  }
  if (rc != 0)
    ks_log(KS_LOG_INFO, KS_LOG_ERROR, CTL_LOG, "control: cannot read %s: %s", c->path,
           uv_strerror(rc));
  return rc != 0 ? -1 : 0;
}

/* A regular file: every line now, applied as the loop runs. */
static int read_file(ks_broker_control *c) {
  int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : 0;
  while (fd >= 0 && ((n = read(fd, c->rbuf, sizeof c->rbuf)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0)
      feed(c, c->rbuf, (size_t)n);
  int saved = errno;
  if (fd >= 0)
    close(fd);
  if (c->line_len || c->line_too_long)
    end_line(c);
  errno = saved;
  return n < 0 ? -1 : 0;
}

/* ---- life cycle ------------------------------------------------------------- */

static void kick_target(ks_broker_control *c, const char *bootstrap) {
  char host[64];
  int port = 0;
  c->can_kick = sscanf(bootstrap, "%63[^:]:%d", host, &port) == 2 && port > 0 && port < 65536 &&
                uv_ip4_addr(host, port, &c->kick_addr) == 0;
}

int ks_broker_control_start(ks_broker_control **out, uv_loop_t *loop, rd_kafka_mock_cluster_t *mc,
                            const char *bootstrap, int n_brokers, const char *path,
                            const char *ack_path) {
  ks_broker_control *c = calloc(1, sizeof *c);
  const char *why = NULL;
  struct stat st;
  int fd = -2;
  *out = NULL;
  if (!c || !(c->path = strdup(path)) || (ack_path && !(c->ack_path = strdup(ack_path))))
    why = "out of memory";
  else if (ack_path && (fd = open(ack_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
    why = strerror(errno); /* truncated: stale acks must not satisfy a waiting script */
  else if (!(c->created = mkfifo(path, 0600) == 0) && errno != EEXIST)
    why = strerror(errno);
  else if (stat(path, &st) != 0)
    why = strerror(errno);
  else if (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode))
    why = "exists and is neither a FIFO nor a regular file";
  else if (S_ISREG(st.st_mode) && read_file(c) != 0)
    why = strerror(errno);
  if (fd >= 0)
    close(fd);
  if (why) {
    fprintf(stderr, "kpistream broker: --control%s %s: %s\n", fd == -1 ? "-ack" : "",
            fd == -1 ? ack_path : path, why);
    ks_broker_control_free(c);
    return -1;
  }
  *out = c;
  c->loop = loop;
  c->mc = mc;
  c->n_brokers = n_brokers;
  kick_target(c, bootstrap);
  uv_timer_init(loop, &c->kick);
  c->kick.data = c;
  if (S_ISFIFO(st.st_mode) && open_fifo(c) != 0)
    return -1; /* reported; the caller stops and frees c as if started */
  ks_log(KS_LOG_INFO, KS_LOG_INFO, CTL_LOG, "control: reading commands from %s (%s)%s%s", path,
         S_ISREG(st.st_mode) ? "file, once"
         : c->created        ? "FIFO created"
                             : "existing FIFO",
         ack_path ? "; sync acknowledged in " : "", ack_path ? ack_path : "");
  pump(c);
  return 0;
}

void ks_broker_control_stop(ks_broker_control *c) {
  if (!c || c->stopping)
    return;
  c->stopping = 1;
  if (c->pipe_open) {
    c->pipe_open = 0;
    uv_close((uv_handle_t *)&c->pipe, on_pipe_closed);
  }
  if (!c->busy) /* else on_work_done closes it */
    close_kick(c);
  if (c->q_len)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, CTL_LOG, "control: %zu command%s not applied (stopping)",
           c->q_len, c->q_len == 1 ? "" : "s");
}

void ks_broker_control_free(ks_broker_control *c) {
  if (!c)
    return;
  if (c->created)
    unlink(c->path);
  if (c->holding)
    close(c->hold_fd);
  for (size_t i = 0; i < c->q_len; i++)
    free(c->queue[(c->q_head + i) % CTL_QUEUE_MAX]);
  free(c->path);
  free(c->ack_path);
  free(c);
}
