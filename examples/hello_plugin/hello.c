/*
 * hello — the smallest useful kpistream plugin, for third-party authors.
 * It counts queued contacts per tenant, queue and channel in each interval
 * and emits one result "queued" per group that reached the option
 * `min_count` (default 1). test_hello.c tests it with the
 * plugin test kit (kpistream/testkit.h). Build it out of tree (CMakeLists.txt here,
 * or: cc -shared -fPIC $(pkg-config --cflags kpistream-plugin) hello.c).
 *
 * Rules a plugin follows (docs/plugins.md): no mutable globals; state lives
 * in host tables of fixed-size, pointer-free records; strings handed in are
 * borrowed for the call only.
 */
#include <kpistream/plugin.h>

typedef struct queued_rec {
  int64_t queued;
} queued_rec;

typedef struct hello {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  ks_table *counts;
  int64_t min_count;
} hello;

/* The options, typed: the host refuses a wrong type before init_ex runs, and
 * `kpistream plugins describe hello` prints this table. */
static const ks_option options[] = {
    {"min_count", KS_OPT_INT, "1", "publish a group only when at least this many contacts queued",
     NULL},
    {0},
};

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, 0};

static int hello_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data, char *errstr,
                      size_t errstr_size) {
  /* the host's service table has every member this plugin calls (free is
   * the last of them in ks_host_api) */
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, free))
    return KS_EABI;
  int64_t min_count;
  if (api->config_get_int(ctx, "min_count", 1, &min_count) != 0)
    return KS_EINVAL; /* the host has said why */
  if (min_count < 1)
    return ks_option_refuse(ctx, api, "min_count", "must be at least 1", errstr, errstr_size);
  hello *h = api->alloc(sizeof *h);
  if (h == NULL)
    return KS_ENOMEM;
  h->api = api;
  h->ctx = ctx;
  h->min_count = min_count;
  h->counts = api->table_declare(ctx, "queued", KS_TABLE_WINDOWED, sizeof(queued_rec), 1, 0);
  if (h->counts == NULL) {
    api->free(h);
    return KS_EINVAL;
  }
  *data = h;
  return 0;
}

static int hello_event(void *data, ks_task *task, const ks_event *ev) {
  hello *h = data;
  ks_key k;
  ks_key_reset(&k);
  ks_key_add_str(&k, ev->msg->tenant);
  ks_key_add_str(&k, ev->msg->queue);
  ks_key_add_i64(&k, ev->msg->channel); /* voice and chat of one queue are two groups */
  queued_rec *r = h->api->window_get(task, h->counts, ev->interval_start_ms, k.buf, k.len, 1);
  if (r == NULL)
    return KS_ENOMEM;
  r->queued++;
  return 0;
}

typedef struct emit_ctx {
  hello *h;
  ks_task *task;
  const ks_interval *iv;
} emit_ctx;

static int emit_one(void *ud, const void *key, size_t keylen, void *record) {
  emit_ctx *e = ud;
  const queued_rec *r = record;
  if (r->queued < e->h->min_count)
    return 0;
  char tenant[128], queue[128];
  int64_t channel;
  if (ks_key_part(key, keylen, 0, tenant, sizeof tenant) < 0 ||
      ks_key_part(key, keylen, 1, queue, sizeof queue) < 0 ||
      ks_key_part_i64(key, keylen, 2, &channel) != 0)
    return 1; /* not a key this plugin wrote */
  ks_result res = KS_RESULT_INIT;
  res.metric = "queued";
  res.interval_start_ms = e->iv->start_ms;
  res.interval_end_ms = e->iv->end_ms;
  res.tenant = tenant;
  res.queue = queue;
  res.channel = (int32_t)channel;
  /* the aggregation level (SDK 1.2): a row without a queue is no total */
  res.level = queue[0] ? KS_LEVEL_QUEUE : KS_LEVEL_UNATTRIBUTED;
  ks_result_set_sum(&res, (double)r->queued, r->queued); /* value = numerator */
  res.unit = "contacts";
  return e->h->api->emit(e->h->ctx, e->task, &res) != 0;
}

static int hello_close(void *data, ks_task *task, const ks_interval *iv) {
  hello *h = data;
  emit_ctx e = {h, task, iv};
  return h->api->window_foreach(task, h->counts, iv->start_ms, emit_one, &e) ? KS_EPLUGIN : 0;
}

static void hello_destroy(void *data) {
  hello *h = data;
  if (h)
    h->api->free(h);
}

static const ks_plugin_descriptor descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = "hello",
    .version = "1.0.0",
    .description = "queued contacts per tenant, queue and channel",
    .interests = interests,
    .init_ex = hello_init, /* 1.3: init with an error message; .init stays NULL */
    .on_event = hello_event,
    .on_interval_close = hello_close,
    .destroy = hello_destroy,
    .option_map = options,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &descriptor;
}
