#include "fatal.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* ---- async-signal-safe formatting: a fixed buffer, no libc stdio ---------- */

typedef struct line {
  char buf[512];
  size_t len;
} line;

static void put(line *l, const char *s) {
  while (s && *s && l->len < sizeof l->buf - 1)
    l->buf[l->len++] = *s++;
}

static void put_i64(line *l, int64_t v) {
  char tmp[24];
  size_t n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u && n < sizeof tmp);
  if (v < 0)
    put(l, "-");
  while (n && l->len < sizeof l->buf - 1)
    l->buf[l->len++] = tmp[--n];
}

void ks_fatal_write(int fd, const char *what, const char *what2, const ks_plugin_call *c,
                    const char *tail) {
  line l = {.len = 0};
  put(&l, "kpistream: ");
  put(&l, what);
  put(&l, what2);
  if (c == NULL || c->plugin == NULL) {
    put(&l, " outside any plugin callback");
  } else {
    put(&l, " in plugin ");
    put(&l, c->plugin);
    put(&l, ", callback ");
    put(&l, c->callback ? c->callback : "?");
    if (c->topic && c->offset >= 0) {
      put(&l, " at ");
      put(&l, c->topic);
      put(&l, " [");
      put_i64(&l, c->task);
      put(&l, "] offset ");
      put_i64(&l, c->offset);
    } else if (c->task >= 0) {
      put(&l, " at task ");
      put_i64(&l, c->task);
      if (c->interval != INT64_MIN) {
        put(&l, ", interval ");
        put_i64(&l, c->interval);
      }
    }
  }
  put(&l, tail);
  put(&l, "\n");
  if (l.buf[l.len - 1] != '\n')
    l.buf[l.len - 1] = '\n'; /* truncated: still one line */
  const char *p = l.buf;
  size_t left = l.len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w <= 0)
      break;
    p += w;
    left -= (size_t)w;
  }
}

const char *ks_fatal_signame(int sig) {
  switch (sig) {
  case SIGSEGV:
    return "SIGSEGV";
  case SIGBUS:
    return "SIGBUS";
  case SIGILL:
    return "SIGILL";
  case SIGFPE:
    return "SIGFPE";
  case SIGABRT:
    return "SIGABRT";
  default:
    return "signal";
  }
}

int ks_fatal_thread_stack(void *stack, size_t stack_size) {
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  /* Any buffer will do: its start is rounded up to 16 bytes (the ABI's
   * stack alignment; ASan unpoisons the alternate stack in 8-byte granules
   * and aborts on a misaligned one when a thread calls a noreturn function). */
  uintptr_t at = (uintptr_t)stack, up = (at + 15u) & ~(uintptr_t)15u;
  if (stack != NULL && (stack_size < up - at || stack_size - (up - at) < MINSIGSTKSZ))
    return -1;
  ss.ss_sp = stack ? (void *)up : NULL;
  ss.ss_size = stack ? stack_size - (up - at) : 0;
  ss.ss_flags = stack ? 0 : SS_DISABLE;
  return sigaltstack(&ss, NULL) == 0 ? 0 : -1;
}

int ks_fatal_install(void (*handler)(int), void *stack, size_t stack_size) {
  if (ks_fatal_thread_stack(stack, stack_size) != 0)
    return -1;
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL) != 0)
      return -1;
  return 0;
}
