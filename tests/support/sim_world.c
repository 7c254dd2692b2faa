#include "sim_world.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>

#include <cmocka.h>

sim_world *sim_world_new(uint64_t seed, int64_t duration_ms) {
  return sim_world_new_at(seed, 1, NULL, duration_ms);
}

sim_world *sim_world_new_at(uint64_t seed, int tenants, const char *start, int64_t duration_ms) {
  sim_world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  for (int t = 0; t < KS_SIM_NTOPICS; t++)
    w->topics[t] = ks_sim_topic_name((ks_sim_topic)t);
  ks_sim_options so;
  ks_sim_options_default(&so);
  so.seed = seed;
  so.tenants = tenants;
  so.duration_ms = duration_ms;
  if (start)
    assert_int_equal(ks_sim_parse_time(start, &so.start_ms), 0);
  ks_sim *s = ks_sim_new(&so);
  assert_non_null(s);
  size_t cap = 0;
  int64_t next_off[KS_SIM_NTOPICS] = {0};
  Kpistream__V1__Event *ev;
  while (ks_sim_next(s, &ev, NULL) == 1) {
    if (w->n == cap) {
      cap = cap ? cap * 2 : 4096;
      w->msgs = realloc(w->msgs, cap * sizeof *w->msgs);
      assert_non_null(w->msgs);
    }
    sim_msg *m = &w->msgs[w->n++];
    m->topic = (uint32_t)ks_sim_current_topic(s);
    m->offset = next_off[m->topic]++;
    m->len = kpistream__v1__event__get_packed_size(ev);
    m->buf = malloc(m->len ? m->len : 1);
    assert_non_null(m->buf);
    kpistream__v1__event__pack(ev, m->buf);
  }
  ks_sim_free(s);
  return w;
}

void sim_world_free(sim_world *w) {
  for (size_t i = 0; w && i < w->n; i++)
    free(w->msgs[i].buf);
  if (w)
    free(w->msgs);
  free(w);
}

void sim_world_feed(ks_engine *e, const sim_world *w, size_t from, size_t to) {
  char reason[256];
  for (size_t i = from; i < to; i++)
    assert_true(ks_engine_process(e, 0, w->msgs[i].topic, w->msgs[i].offset, w->msgs[i].buf,
                                  w->msgs[i].len, reason, sizeof reason) >= 0);
}
