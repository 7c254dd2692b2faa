/*
 * ops — the operator's side of `kpistream run` (issue 14, docs/operations.md):
 *   - where an installation keeps its plugins (relative to the binary);
 *   - the HTTP endpoint of http.listen (http_server.h): /metrics in the
 *     Prometheus text format (metrics.h), /healthz, /readyz;
 *   - systemd's notification protocol on $NOTIFY_SOCKET: READY=1 once the
 *     first assignment is restored, WATCHDOG=1 from the loop, STOPPING=1;
 *   - SIGHUP: re-read and validate the configuration file; apply the keys
 *     that can change in a running process (log_level, stats_interval,
 *     shutdown.timeout), refuse any other change naming its key, and keep
 *     running either way;
 *   - during a stop, a second SIGINT/SIGTERM exits at once (status 1; the
 *     state is safe in the last checkpoint).
 * runner.c calls it from a few marked lines; it reads the runner's counters
 * and never changes its flow.
 *
 * Ownership: ks_ops_start() allocates r->ops (the HTTP server and its
 * thread, a tick timer and the SIGHUP handle on r->loop, the notify socket,
 * a copy of the configuration file's keys); the runner's final close of
 * every handle of r->loop closes the handles, ks_ops_free() the rest. Every
 * function is a no-op when r->ops is NULL.
 */
#ifndef KS_OPS_H
#define KS_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct runner;

/* The installation's plugin directory: <dir of the binary>/KS_PLUGIN_DIR_FROM_BIN
 * when that directory exists (an installed tree may be moved, or staged with
 * DESTDIR), else the configured KS_PLUGIN_DIR_INSTALL. A new string (malloc),
 * NULL when out of memory. */
char *ks_ops_default_plugin_dir(void);

/* Before setup: remember config_path, start the HTTP endpoint (a bind error
 * fails here: KS_ECONFIG with "http.listen ...: cannot listen: ..." in err),
 * open the notify socket, start the tick and SIGHUP handles. With check_only
 * nothing is started. */
int ks_ops_start(struct runner *r, const char *config_path, int check_only, char *err,
                 size_t errsz);
/* The consumer group assigned partitions (and their checkpoints were
 * restored): ready; READY=1 to systemd the first time. */
void ks_ops_assigned(struct runner *r);
/* The loop returned, the stop begins: STOPPING=1, /readyz 503, and a second
 * SIGINT/SIGTERM from now on exits at once. */
void ks_ops_stopping(struct runner *r);
/* After the loop's handles are closed: stop the HTTP thread, free r->ops. */
void ks_ops_free(struct runner *r);
/* Consumer lag of the merge's input partition i (r->merge.parts[i]):
 * librdkafka's last known high watermark (from fetch responses) minus the
 * consumer's position (the message after the last one pulled); before a
 * position exists, known only for an empty partition (0). 1 when known. */
int ks_ops_partition_lag(struct runner *r, size_t i, int64_t *lag);

/* systemd's notification protocol (sd_notify(3)), done here without
 * libsystemd: one datagram to the AF_UNIX socket named by NOTIFY_SOCKET
 * ("/path" or "@abstract"). */
typedef struct ks_notify {
  int fd; /* -1: not under systemd (no NOTIFY_SOCKET) */
  struct sockaddr_un addr;
  socklen_t addrlen;
  uint64_t watchdog_usec; /* WATCHDOG_USEC when WATCHDOG_PID is unset or ours; else 0 */
} ks_notify;
/* From the environment values (NULL: unset); 0, or KS_EINVAL naming the bad value. */
int ks_notify_open(ks_notify *n, const char *notify_socket, const char *watchdog_usec,
                   const char *watchdog_pid, char *err, size_t errsz);
/* Send one state string ("READY=1", "WATCHDOG=1", "STOPPING=1\nSTATUS=...").
 * 0, or a negative errno; 0 without a socket. */
int ks_notify_send(const ks_notify *n, const char *state);
void ks_notify_close(ks_notify *n);

/* The keys of a YAML configuration file as flat "path=value" lines
 * ("intervals.length=15m", "plugins[0].name=operations"), for the reload's
 * comparison. A new string, or NULL with the reason in err. */
char *ks_ops_flatten_yaml(const char *text, size_t len, char *err, size_t errsz);
/* The keys whose value differs between two flattened files (added, removed
 * or changed), one per line, into out; how many. */
size_t ks_ops_changed_keys(const char *old_flat, const char *new_flat, char *out, size_t outsz);

#endif
