/*
 * workers — see workers.h.
 */
#include "workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "kpistream/plugin.h"

typedef struct worker {
  ks_workers *pool;
  size_t index; /* 1..n-1 */
  uv_thread_t tid;
} worker;

struct ks_workers {
  size_t n; /* threads, the caller's included */
  worker *w;
  size_t started; /* threads created (to join) */
  uv_mutex_t lock;
  uv_cond_t go;   /* a new run, or quit */
  uv_cond_t done; /* the last worker finished its part of a run */
  /* under lock */
  unsigned long gen; /* runs so far: a worker waits for the next one */
  size_t ready;      /* workers that ran on_start */
  size_t busy;       /* workers still in the current run */
  int quit;
  /* the current run: written under lock before gen moves */
  ks_work_fn fn;
  void *ud;
  size_t n_items;
  ks_worker_hook on_start, on_stop;
  void *start_ud;
};

/* The items of thread `thread`: those i with (i + 1) mod n == thread. */
static void take_items(ks_workers *p, size_t thread) {
  for (size_t i = (thread + p->n - 1) % p->n; i < p->n_items; i += p->n)
    p->fn(p->ud, thread, i);
}

static void worker_main(void *arg) {
  worker *me = arg;
  ks_workers *p = me->pool;
  if (p->on_start)
    p->on_start(p->start_ud, me->index);
  uv_mutex_lock(&p->lock);
  unsigned long seen = p->gen;
  p->ready++;
  uv_cond_broadcast(&p->done);
  for (;;) {
    while (p->gen == seen && !p->quit)
      uv_cond_wait(&p->go, &p->lock);
    if (p->quit)
      break;
    seen = p->gen;
    uv_mutex_unlock(&p->lock);
    take_items(p, me->index);
    uv_mutex_lock(&p->lock);
    if (--p->busy == 0)
      uv_cond_signal(&p->done);
  }
  uv_mutex_unlock(&p->lock);
  if (p->on_stop)
    p->on_stop(p->start_ud, me->index);
}

int ks_workers_new(ks_workers **out, size_t n_threads, ks_worker_hook on_start,
                   ks_worker_hook on_stop, void *ud, char *errstr, size_t errstr_size) {
  *out = NULL;
  if (n_threads < 2 || n_threads > KS_WORKERS_MAX) {
    snprintf(errstr, errstr_size, "workers: %zu threads (2 to %d)", n_threads, KS_WORKERS_MAX);
    return KS_EINVAL;
  }
  ks_workers *p = calloc(1, sizeof *p);
  if (p == NULL || (p->w = calloc(n_threads, sizeof *p->w)) == NULL) {
    free(p);
    snprintf(errstr, errstr_size, "workers: out of memory");
    return KS_ENOMEM;
  }
  p->n = n_threads;
  p->on_start = on_start;
  p->on_stop = on_stop;
  p->start_ud = ud;
  if (uv_mutex_init(&p->lock) != 0 || uv_cond_init(&p->go) != 0 || uv_cond_init(&p->done) != 0) {
    snprintf(errstr, errstr_size, "workers: cannot create a mutex or condition variable");
    free(p->w);
    free(p);
    return KS_ENOMEM;
  }
  for (size_t i = 1; i < n_threads; i++) {
    p->w[i] = (worker){.pool = p, .index = i};
    int rc = uv_thread_create(&p->w[i].tid, worker_main, &p->w[i]);
    if (rc != 0) {
      snprintf(errstr, errstr_size, "workers: cannot start thread %zu of %zu: %s", i, n_threads - 1,
               uv_strerror(rc));
      ks_workers_free(p);
      return KS_ENOMEM;
    }
    p->started++;
  }
  uv_mutex_lock(&p->lock);
  while (p->ready < p->started)
    uv_cond_wait(&p->done, &p->lock);
  uv_mutex_unlock(&p->lock);
  *out = p;
  return 0;
}

size_t ks_workers_threads(const ks_workers *w) {
  return w ? w->n : 1;
}

void ks_workers_run(ks_workers *p, size_t n_items, ks_work_fn fn, void *ud) {
  uv_mutex_lock(&p->lock);
  p->fn = fn;
  p->ud = ud;
  p->n_items = n_items;
  p->busy = p->started;
  p->gen++;
  uv_cond_broadcast(&p->go);
  uv_mutex_unlock(&p->lock);
  take_items(p, 0);
  uv_mutex_lock(&p->lock);
  while (p->busy > 0)
    uv_cond_wait(&p->done, &p->lock);
  uv_mutex_unlock(&p->lock);
}

void ks_workers_free(ks_workers *p) {
  if (p == NULL)
    return;
  uv_mutex_lock(&p->lock);
  p->quit = 1;
  uv_cond_broadcast(&p->go);
  uv_mutex_unlock(&p->lock);
  for (size_t i = 1; i <= p->started; i++)
    uv_thread_join(&p->w[i].tid);
  uv_cond_destroy(&p->done);
  uv_cond_destroy(&p->go);
  uv_mutex_destroy(&p->lock);
  free(p->w);
  free(p);
}
