/* decoder_fast against protobuf-c over many inputs: events of every body
 * type (built through the generated structs, every field nonzero), each
 * truncated at every length and with every byte flipped by a few masks.
 * Wherever the fast decoder decodes, protobuf-c must decode too, to a
 * message that packs to the same bytes. The hand-built cases:
 * test_decoder_fast.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decoder_fast.h"
#include "testkit_engine.h"

#define EVD (&kpistream__v1__event__descriptor)

/* a and b pack to the same bytes (and the same size). */
static void assert_same_packing(const ProtobufCMessage *a, const ProtobufCMessage *b) {
  uint8_t pa[8192], pb[8192];
  size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
  assert_int_equal(na, nb);
  assert_true(na <= sizeof pa);
  assert_int_equal(protobuf_c_message_pack(a, pa), na);
  assert_int_equal(protobuf_c_message_pack(b, pb), nb);
  assert_memory_equal(pa, pb, na);
}

/* Give every non-oneof field of m a nonzero value of its type; repeated
 * messages get two elements. Negative int32s (10-byte varints) where the
 * field number is odd. */
static void fill(ks_arena *a, ProtobufCMessage *m, int salt) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    char *mem = (char *)m + f->offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
      continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      assert_int_equal(f->type, PROTOBUF_C_TYPE_MESSAGE);
      ProtobufCMessage **arr = ks_arena_alloc(a, 2 * sizeof *arr);
      for (int k = 0; k < 2; k++) {
        arr[k] =
            ks_arena_alloc(a, ((const ProtobufCMessageDescriptor *)f->descriptor)->sizeof_message);
        protobuf_c_message_init(f->descriptor, arr[k]);
        fill(a, arr[k], salt + k + 1);
      }
      *(size_t *)(void *)((char *)m + f->quantifier_offset) = 2;
      memcpy(mem, &arr, sizeof arr);
      continue;
    }
    assert_int_equal(f->label, PROTOBUF_C_LABEL_NONE);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: {
      int32_t v = (int32_t)(f->id * 37 + (unsigned)salt) * (f->id % 2 ? -1 : 1);
      memcpy(mem, &v, sizeof v);
    } break;
    case PROTOBUF_C_TYPE_INT64: {
      int64_t v = KS_TK_T0 + f->id * 1000 + salt;
      memcpy(mem, &v, sizeof v);
    } break;
    case PROTOBUF_C_TYPE_ENUM: {
      const ProtobufCEnumDescriptor *ed = f->descriptor;
      int v = ed->values[ed->n_values - 1].value;
      memcpy(mem, &v, sizeof v);
    } break;
    case PROTOBUF_C_TYPE_BOOL: {
      protobuf_c_boolean v = 1;
      memcpy(mem, &v, sizeof v);
    } break;
    case PROTOBUF_C_TYPE_DOUBLE: {
      double v = 0.5 + f->id - salt;
      memcpy(mem, &v, sizeof v);
    } break;
    case PROTOBUF_C_TYPE_STRING: {
      char *s = ks_arena_alloc(a, 32);
      snprintf(s, 32, "%s-%d", f->name, salt);
      memcpy(mem, &s, sizeof s);
    } break;
    default:
      fail_msg("field %s: type %d not in the schema's set", f->name, (int)f->type);
    }
  }
}

typedef struct sweep_counts {
  size_t inputs, fast_ok, declined, pbc_ok, pbc_only;
} sweep_counts;

/* One input: fast ok implies protobuf-c ok and the same packing. */
static void sweep_one(ks_arena *a, const uint8_t *b, size_t n, sweep_counts *c) {
  ks_arena_reset(a);
  ProtobufCMessage *m = NULL;
  int fast = ks_pb_decode_fast(a, EVD, b, n, &m);
  ProtobufCMessage *ref = protobuf_c_message_unpack(EVD, &a->pb, n, b);
  c->inputs++;
  c->fast_ok += fast == 1;
  c->declined += fast == 0;
  c->pbc_ok += ref != NULL;
  c->pbc_only += fast == 0 && ref != NULL;
  if (fast) {
    if (ref == NULL)
      fail_msg("fast decoded %zu bytes protobuf-c refuses", n);
    assert_same_packing(m, ref);
  }
}

static void sweep_matches_protobuf_c(void **state) {
  (void)state;
  ks_arena arena, scratch, *a = &arena;
  ks_arena_init(a, 0);
  ks_arena_init(&scratch, 0);
  static const uint8_t masks[] = {0x01, 0x80, 0xff};
  sweep_counts c = {0};
  size_t originals_fast = 0, n_bodies = 0;
  for (unsigned i = 0; i < EVD->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &EVD->fields[i];
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
      continue;
    n_bodies++;
    for (int full = 0; full <= 1; full++) { /* the body empty, then filled */
      ks_arena_reset(&scratch);
      Kpistream__V1__Event ev = KPISTREAM__V1__EVENT__INIT;
      fill(&scratch, &ev.base, (int)i);
      const ProtobufCMessageDescriptor *bd = f->descriptor;
      ProtobufCMessage *body = ks_arena_alloc(&scratch, bd->sizeof_message);
      protobuf_c_message_init(bd, body);
      if (full)
        fill(&scratch, body, (int)i + 1);
      memcpy((char *)&ev + f->offset, &body, sizeof body);
      ev.body_case = (Kpistream__V1__Event__BodyCase)f->id;
      uint8_t buf[1024];
      size_t n = ks_tk_pack(&ev, buf, sizeof buf);
      assert_true(n > 0);
      size_t before = c.fast_ok;
      sweep_one(a, buf, n, &c);
      originals_fast += c.fast_ok - before;
      for (size_t cut = 0; cut < n; cut++)
        sweep_one(a, buf, cut, &c);
      for (size_t k = 0; k < n; k++) {
        for (size_t mi = 0; mi < sizeof masks; mi++) {
          buf[k] ^= masks[mi];
          sweep_one(a, buf, n, &c);
          buf[k] ^= masks[mi];
        }
      }
    }
  }
  print_message("sweep: %zu inputs, fast ok %zu, declined %zu, protobuf-c ok %zu "
                "(of which declined by fast %zu)\n",
                c.inputs, c.fast_ok, c.declined, c.pbc_ok, c.pbc_only);
  /* 29 bodies, each empty and filled: only the filled qa_evaluation (its
   * repeated sections) is declined among the originals */
  assert_int_equal(n_bodies, 29);
  assert_int_equal(originals_fast, 2 * n_bodies - 1);
  assert_int_equal(c.inputs, c.fast_ok + c.declined);
  assert_true(c.pbc_ok >= c.fast_ok);
  /* most truncations at a field edge, many flips; a string byte flipped by
   * 0x80 or 0xff is no longer UTF-8, which it declines (14881 of 26542 were
   * fast before it checked UTF-8, 5904 since) */
  assert_true(c.fast_ok > c.inputs / 5);
  assert_true(c.declined > c.inputs / 10);     /* malformed, unknown fields, unknown enums */
  assert_true(c.pbc_only > 100);               /* inputs only protobuf-c takes */
  assert_true(c.declined - c.pbc_only > 1000); /* inputs nobody takes */
  ks_arena_free(&scratch);
  ks_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(sweep_matches_protobuf_c)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
