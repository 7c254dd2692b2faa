/*
 * http_server — the operator's HTTP endpoint of `kpistream run` (config
 * http.listen): GET /metrics, /healthz, /readyz. libmicrohttpd serves it from
 * a thread of its own (docs/dependencies.md), so a scrape never runs on the
 * event loop and a stalled loop is still reported: the loop *publishes*
 * snapshots (the pages' bodies, a heartbeat) and the server thread answers
 * from the last ones, under a mutex, copying nothing of the runner's state.
 *
 * /healthz answers 200 while the loop's heartbeat is younger than stall_ms,
 * 503 with a JSON body saying how long ago it turned otherwise; /metrics and
 * /readyz answer what was last published (503 until the first publish).
 *
 * Hostile clients: at most max_connections at once, each closed after
 * timeout_s without progress (slow clients), requests bigger than
 * max_request_bytes (request line + headers) refused by libmicrohttpd
 * (431/414) and the connection closed; methods other than GET and HEAD get
 * 405, request bodies 413, unknown paths 404.
 *
 * Ownership: ks_http_start() allocates the server, its listening socket and
 * thread; ks_http_stop() joins the thread and frees everything. Published
 * bodies are copied.
 */
#ifndef KS_HTTP_SERVER_H
#define KS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct ks_http ks_http;

typedef enum { KS_HTTP_METRICS = 0, KS_HTTP_READYZ = 1, KS_HTTP_N_PAGES = 2 } ks_http_page;

typedef struct ks_http_limits {
  unsigned timeout_s;       /* idle connection timeout (default 10) */
  unsigned max_connections; /* concurrent connections (default 32) */
  size_t max_request_bytes; /* request line + headers (default 8192) */
  uint64_t stall_ms;        /* /healthz fails when the heartbeat is older (default 60000:
                               a revoke may hold the loop for up to 30 s) */
} ks_http_limits;

/* Parse "HOST:PORT" or "[IPV6]:PORT" (numeric host, or "localhost"; PORT
 * 0..65535, 0 = any free port) into addr. 0, or KS_ECONFIG with the reason in
 * errstr. */
int ks_http_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *addrlen,
                         char *errstr, size_t errstr_size);

/* Bind listen and serve in a thread of its own. lim may be NULL (defaults).
 * 0, or a negative error with "http.listen <addr>: <why>" in errstr (bind
 * errors such as a port in use fail here, at start). */
int ks_http_start(ks_http **out, const char *listen, const ks_http_limits *lim, char *errstr,
                  size_t errstr_size);
/* The port actually bound (useful with port 0). */
uint16_t ks_http_port(const ks_http *h);
/* Publish a page: status code, Content-Type and body (copied). Thread-safe;
 * called from the loop. 0 or KS_ENOMEM (the previous page stays). */
int ks_http_publish(ks_http *h, ks_http_page page, unsigned status, const char *content_type,
                    const char *body, size_t len);
/* The loop turned: now, on CLOCK_MONOTONIC in ms (ks_http_now_ms()). */
void ks_http_heartbeat(ks_http *h, uint64_t now_ms);
uint64_t ks_http_now_ms(void);
/* Stop serving, join the thread, free. NULL is a no-op. */
void ks_http_stop(ks_http *h);

#endif
