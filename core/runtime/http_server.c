#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kpistream/plugin.h"

typedef struct page {
  unsigned status; /* 0: never published */
  char type[64];
  char *body;
  size_t len;
} page;

struct ks_http {
  struct MHD_Daemon *d;
  pthread_mutex_t mu; /* guards pages and heartbeat_ms */
  page pages[KS_HTTP_N_PAGES];
  uint64_t heartbeat_ms; /* 0: the loop never turned */
  uint64_t stall_ms;
  uint16_t port;
};

uint64_t ks_http_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int ks_http_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *addrlen,
                         char *errstr, size_t errstr_size) {
  memset(addr, 0, sizeof *addr);
  const char *colon = listen ? strrchr(listen, ':') : NULL;
  if (colon == NULL || colon == listen || colon[1] == '\0') {
    snprintf(errstr, errstr_size, "http.listen '%s': expected HOST:PORT (e.g. 127.0.0.1:9464)",
             listen ? listen : "");
    return KS_ECONFIG;
  }
  unsigned long port = 0;
  for (const char *p = colon + 1; *p; p++) {
    if (*p < '0' || *p > '9' || port > 65535) {
      port = 65536;
      break;
    }
    port = port * 10 + (unsigned long)(*p - '0');
  }
  if (port > 65535) {
    snprintf(errstr, errstr_size, "http.listen '%s': port '%s' is not a number in 0..65535", listen,
             colon + 1);
    return KS_ECONFIG;
  }
  char host[INET6_ADDRSTRLEN + 2];
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof host) {
    snprintf(errstr, errstr_size, "http.listen '%s': host is not a numeric address", listen);
    return KS_ECONFIG;
  }
  memcpy(host, listen, hl);
  host[hl] = '\0';
  if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
    host[hl - 1] = '\0';
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons((uint16_t)port);
      *addrlen = sizeof *a6;
      return 0;
    }
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    if (strcmp(host, "localhost") == 0)
      strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
      a4->sin_family = AF_INET;
      a4->sin_port = htons((uint16_t)port);
      *addrlen = sizeof *a4;
      return 0;
    }
  }
  snprintf(errstr, errstr_size,
           "http.listen '%s': host is not a numeric IPv4 address, [IPv6] address or localhost",
           listen);
  return KS_ECONFIG;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, size_t len) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  enum MHD_Result rc = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return rc;
}

#define JSON "application/json"

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls) {
  (void)version;
  (void)upload_data;
  (void)upload_data_size;
  (void)req_cls;
  ks_http *h = cls;
  char buf[256];
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    int n = snprintf(buf, sizeof buf, "{\"error\":\"method not allowed: use GET\"}\n");
    return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, JSON, buf, (size_t)n);
  }
  const char *clen =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if ((clen && strcmp(clen, "0") != 0) ||
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
    int n = snprintf(buf, sizeof buf, "{\"error\":\"a GET request takes no body\"}\n");
    return respond(c, MHD_HTTP_CONTENT_TOO_LARGE, JSON, buf, (size_t)n);
  }
  if (strcmp(url, "/healthz") == 0) {
    pthread_mutex_lock(&h->mu);
    uint64_t beat = h->heartbeat_ms;
    pthread_mutex_unlock(&h->mu);
    uint64_t now = ks_http_now_ms();
    uint64_t ago = beat && now > beat ? now - beat : 0;
    int ok = beat != 0 && ago <= h->stall_ms;
    int n = snprintf(buf, sizeof buf,
                     ok ? "{\"status\":\"ok\",\"loop_last_turn_ms_ago\":%llu}\n"
                        : "{\"status\":\"stalled\",\"loop_last_turn_ms_ago\":%llu,"
                          "\"reason\":\"the event loop has not turned within %llu ms\"}\n",
                     (unsigned long long)ago, (unsigned long long)h->stall_ms);
    if (beat == 0)
      n = snprintf(buf, sizeof buf,
                   "{\"status\":\"starting\",\"reason\":\"the event loop has not turned yet\"}\n");
    return respond(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, JSON, buf, (size_t)n);
  }
  int which = strcmp(url, "/metrics") == 0  ? KS_HTTP_METRICS
              : strcmp(url, "/readyz") == 0 ? KS_HTTP_READYZ
                                            : -1;
  if (which < 0) {
    int n =
        snprintf(buf, sizeof buf,
                 "{\"error\":\"not found\",\"paths\":[\"/metrics\",\"/healthz\",\"/readyz\"]}\n");
    return respond(c, MHD_HTTP_NOT_FOUND, JSON, buf, (size_t)n);
  }
  enum MHD_Result rc;
  pthread_mutex_lock(&h->mu);
  page *p = &h->pages[which];
  if (p->status == 0) {
    int n = snprintf(buf, sizeof buf,
                     "{\"status\":\"starting\",\"reason\":\"nothing published yet\"}\n");
    rc = respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, JSON, buf, (size_t)n);
  } else
    rc = respond(c, p->status, p->type, p->body ? p->body : "", p->len);
  pthread_mutex_unlock(&h->mu);
  return rc;
}

int ks_http_start(ks_http **out, const char *listen_at, const ks_http_limits *lim, char *errstr,
                  size_t errstr_size) {
  *out = NULL;
  struct sockaddr_storage addr;
  socklen_t alen = 0;
  int rc = ks_http_parse_listen(listen_at, &addr, &alen, errstr, errstr_size);
  if (rc != 0)
    return rc;
  ks_http_limits l = {10, 32, 8192, 60000};
  if (lim) {
    l.timeout_s = lim->timeout_s ? lim->timeout_s : l.timeout_s;
    l.max_connections = lim->max_connections ? lim->max_connections : l.max_connections;
    l.max_request_bytes = lim->max_request_bytes ? lim->max_request_bytes : l.max_request_bytes;
    l.stall_ms = lim->stall_ms ? lim->stall_ms : l.stall_ms;
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&addr, alen) != 0 || listen(fd, 64) != 0) {
    snprintf(errstr, errstr_size, "http.listen %s: cannot listen: %s", listen_at, strerror(errno));
    if (fd >= 0)
      close(fd);
    return KS_ECONFIG;
  }
  ks_http *h = calloc(1, sizeof *h);
  if (h == NULL) {
    close(fd);
    return KS_ENOMEM;
  }
  pthread_mutex_init(&h->mu, NULL);
  h->stall_ms = l.stall_ms;
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
    h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
  unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC;
  if (addr.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  h->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, h, MHD_OPTION_LISTEN_SOCKET, fd,
                          MHD_OPTION_CONNECTION_TIMEOUT, l.timeout_s, MHD_OPTION_CONNECTION_LIMIT,
                          l.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                          l.max_request_bytes, MHD_OPTION_END);
  if (h->d == NULL) {
    snprintf(errstr, errstr_size, "http.listen %s: cannot start the HTTP server (libmicrohttpd)",
             listen_at);
    close(fd);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return KS_ECONFIG;
  }
  *out = h;
  return 0;
}

uint16_t ks_http_port(const ks_http *h) {
  return h ? h->port : 0;
}

int ks_http_publish(ks_http *h, ks_http_page which, unsigned status, const char *content_type,
                    const char *body, size_t len) {
  if (h == NULL || (unsigned)which >= KS_HTTP_N_PAGES)
    return KS_EINVAL;
  char *copy = malloc(len ? len : 1);
  if (copy == NULL)
    return KS_ENOMEM;
  if (len)
    memcpy(copy, body, len);
  pthread_mutex_lock(&h->mu);
  page *p = &h->pages[which];
  free(p->body);
  p->body = copy;
  p->len = len;
  p->status = status;
  snprintf(p->type, sizeof p->type, "%s", content_type);
  pthread_mutex_unlock(&h->mu);
  return 0;
}

void ks_http_heartbeat(ks_http *h, uint64_t now_ms) {
  if (h == NULL)
    return;
  pthread_mutex_lock(&h->mu);
  h->heartbeat_ms = now_ms ? now_ms : 1;
  pthread_mutex_unlock(&h->mu);
}

void ks_http_stop(ks_http *h) {
  if (h == NULL)
    return;
  MHD_stop_daemon(h->d); /* joins its thread, closes the listening socket */
  for (int i = 0; i < KS_HTTP_N_PAGES; i++)
    free(h->pages[i].body);
  pthread_mutex_destroy(&h->mu);
  free(h);
}
