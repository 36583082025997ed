/*
** arrow.c -- the Arrow C Data Interface: tables out as struct arrays and
** struct arrays in as tables, both without copying the buffers. tally's
** columns already have Arrow's layout, so an exported child points at the
** column's buffers and holds a reference to it, and an imported column
** points at the producer's buffers and holds a reference to the moved
** ArrowArray, released when its last column goes.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "base/wrap.h"

/* Stands in for the NULL buffer of an empty column on export: consumers
** may assume every data buffer is a valid pointer. */
static const int64_t empty[2];

static const void *buf(const void *p) { return p ? p : (const void *)empty; }

/* ---------------------------------------------------------------------------
** Export
*/

/* The private data of an exported array: the column it points into (NULL
** for the top), its buffer pointers and the arrays it owns. */
typedef struct xa {
  tl_column *col;
  const void *buffers[3];
  struct ArrowArray **children;
  struct ArrowArray *kids;
  struct ArrowArray dict;
} xa;

typedef struct xs {
  char *name;
  struct ArrowSchema **children;
  struct ArrowSchema *kids;
  struct ArrowSchema dict;
} xs;

/* A child a consumer moved out has its release set to NULL here, and is
** released by the consumer on its own. */
static void xa_release(struct ArrowArray *a) {
  xa *p = a->private_data;
  for (int64_t i = 0; i < a->n_children; i++)
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
  if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
  tl_column_release(p->col);
  tl_free(p->children);
  tl_free(p->kids);
  tl_free(p);
  a->private_data = NULL;
  a->release = NULL;
}

static void xs_release(struct ArrowSchema *s) {
  xs *p = s->private_data;
  for (int64_t i = 0; i < s->n_children; i++)
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
  if (s->dictionary && s->dictionary->release) s->dictionary->release(s->dictionary);
  tl_free(p->name);
  tl_free(p->children);
  tl_free(p->kids);
  tl_free(p);
  s->private_data = NULL;
  s->release = NULL;
}

static const char *format_of(tl_type type) {
  switch (type) {
    case TL_BOOL: return "b";
    case TL_INT: return "l";
    case TL_FLOAT: return "g";
    case TL_STRING: return "U";
    case TL_DATE: return "tdD";
    case TL_TIMESTAMP: return "tsu:";
  }
  return "n";
}

/* Fills the zeroed *a with column c; on error *a is released. */
static tl_status xa_column(tl_column *c, struct ArrowArray *a, tl_error *err) {
  xa *p = tl_calloc(1, sizeof *p);
  if (!p) return tl_error_oom(err, "export_arrow");
  p->col = tl_column_retain(c);
  a->length = c->length;
  a->null_count = c->null_count;
  a->n_buffers = c->type == TL_STRING && !c->dict ? 3 : 2;
  a->buffers = p->buffers;
  p->buffers[0] = c->null_count > 0 ? c->validity : NULL;
  p->buffers[1] = buf(c->values);
  if (a->n_buffers == 3) p->buffers[2] = buf(c->bytes);
  a->private_data = p;
  a->release = xa_release;
  if (c->dict) {
    a->dictionary = &p->dict;
    tl_status st = xa_column(c->dict, &p->dict, err);
    if (st != TL_OK) { a->release(a); return st; }
  }
  return TL_OK;
}

static tl_status xs_column(const tl_column *c, const char *name, struct ArrowSchema *s,
                           tl_error *err) {
  xs *p = tl_calloc(1, sizeof *p);
  if (!p || !(p->name = tl_strdup(name ? name : ""))) {
    tl_free(p);
    return tl_error_oom(err, "export_arrow");
  }
  s->format = c->dict ? "i" : format_of(c->type);
  s->name = p->name;
  s->flags = name ? ARROW_FLAG_NULLABLE : 0;    /* a dictionary has no name */
  s->private_data = p;
  s->release = xs_release;
  if (c->dict) {
    s->dictionary = &p->dict;
    tl_status st = xs_column(c->dict, NULL, &p->dict, err);
    if (st != TL_OK) { s->release(s); return st; }
  }
  return TL_OK;
}

tl_status tl_table_export_arrow(const tl_table *t, struct ArrowSchema *schema,
                                struct ArrowArray *array, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "export_arrow", err));
  struct ArrowSchema s;
  struct ArrowArray a;
  int n = t->ncol;
  size_t m = (size_t)(n > 0 ? n : 1);
  memset(&s, 0, sizeof s);
  memset(&a, 0, sizeof a);
  xs *sp = tl_calloc(1, sizeof *sp);
  xa *ap = tl_calloc(1, sizeof *ap);
  if (sp) { s.private_data = sp; s.release = xs_release; }
  if (ap) { a.private_data = ap; a.release = xa_release; }
  if (sp && ap) {
    sp->name = tl_strdup("");
    sp->children = tl_calloc(m, sizeof *sp->children);
    sp->kids = tl_calloc(m, sizeof *sp->kids);
    ap->children = tl_calloc(m, sizeof *ap->children);
    ap->kids = tl_calloc(m, sizeof *ap->kids);
  }
  if (!sp || !ap || !sp->name || !sp->children || !sp->kids || !ap->children || !ap->kids) {
    if (s.release) s.release(&s);
    if (a.release) a.release(&a);
    return tl_error_oom(err, "export_arrow");
  }
  s.format = "+s";
  s.name = sp->name;
  s.children = sp->children;
  a.length = t->nrows;
  a.n_buffers = 1;                               /* the validity bitmap: NULL, no nulls */
  a.buffers = ap->buffers;
  a.children = ap->children;
  for (int j = 0; j < n; j++) {
    sp->children[j] = &sp->kids[j];
    ap->children[j] = &ap->kids[j];
  }
  s.n_children = a.n_children = n;               /* unfilled children have release NULL */
  for (int j = 0; j < n; j++) {
    tl_status st = xs_column(t->cols[j], t->names[j], &sp->kids[j], err);
    if (st == TL_OK) st = xa_column(t->cols[j], &ap->kids[j], err);
    if (st != TL_OK) {
      s.release(&s);
      a.release(&a);
      return st;
    }
  }
  *schema = s;
  *array = a;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Import
*/

/* The moved ArrowArray, shared by the columns that point into it. */
typedef struct holder {
  atomic_long refs;
  struct ArrowArray array;
} holder;

static void holder_drop(void *ctx) {
  holder *h = ctx;
  if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1) return;
  if (h->array.release) h->array.release(&h->array);
  tl_free(h);
}

/* The formats read, by kind. */
enum {
  K_BAD, K_BOOL, K_I64, K_I8, K_I16, K_I32, K_U8, K_U16, K_U32, K_F64, K_F32, K_DATE,
  K_TS_S, K_TS_MS, K_TS_US, K_TS_NS, K_STR64, K_STR32
};

static int kind_of(const char *f) {
  static const struct { const char *f; int k; } fixed[] = {
    {"b", K_BOOL}, {"l", K_I64}, {"c", K_I8}, {"s", K_I16}, {"i", K_I32}, {"C", K_U8},
    {"S", K_U16}, {"I", K_U32}, {"g", K_F64}, {"f", K_F32}, {"tdD", K_DATE},
    {"U", K_STR64}, {"u", K_STR32}
  };
  if (!f) return K_BAD;
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (strcmp(f, fixed[i].f) == 0) return fixed[i].k;
  if (strncmp(f, "ts", 2) == 0 && f[2] && f[3] == ':')   /* tsu:, tsu:UTC, ... */
    switch (f[2]) {
      case 's': return K_TS_S;
      case 'm': return K_TS_MS;
      case 'u': return K_TS_US;
      case 'n': return K_TS_NS;
    }
  return K_BAD;
}

static tl_type kind_type(int k) {
  switch (k) {
    case K_BOOL: return TL_BOOL;
    case K_F64: case K_F32: return TL_FLOAT;
    case K_DATE: return TL_DATE;
    case K_TS_S: case K_TS_MS: case K_TS_US: case K_TS_NS: return TL_TIMESTAMP;
    case K_STR64: case K_STR32: return TL_STRING;
    default: return TL_INT;
  }
}

static int is_index(int k) { return k == K_I64 || (k >= K_I8 && k <= K_U32); }

static int64_t read_int(int k, const void *p, int64_t j) {
  switch (k) {
    case K_I8: return ((const int8_t *)p)[j];
    case K_I16: return ((const int16_t *)p)[j];
    case K_I32: return ((const int32_t *)p)[j];
    case K_U8: return ((const uint8_t *)p)[j];
    case K_U16: return ((const uint16_t *)p)[j];
    case K_U32: return ((const uint32_t *)p)[j];
    default: return ((const int64_t *)p)[j];
  }
}

/* One column being imported: where it sits and what it is called. */
typedef struct im {
  const char *name;
  const struct ArrowSchema *s;
  const struct ArrowArray *a;
  int64_t skip;         /* the struct's offset: its row 0 is row `skip` of the child */
  int64_t off;          /* the index of its row 0 in its buffers */
  int64_t n;
  int kind;             /* of the values, or of the indices when encoded */
  int dkind;            /* of the dictionary's values */
  holder *h;
} im;

static tl_status im_error(const im *c, tl_error *err, tl_status code, const char *fmt, ...)
  TL_PRINTF(4, 5);
static tl_status im_error(const im *c, tl_error *err, tl_status code, const char *fmt, ...) {
  char what[TL_ERROR_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return tl_error_set(err, code, "import_arrow: column '%s': %s", c->name, what);
}

static int is_null(const struct ArrowArray *a, int64_t j) {
  const uint8_t *v = a->null_count != 0 ? a->buffers[0] : NULL;
  return v && !TL_BIT_GET(v, j);
}

/* Appends the value at buffer index j of array a, read as kind k. */
static tl_status im_append(const im *c, tl_builder *b, int k, const struct ArrowArray *a,
                           int64_t j, tl_error *err) {
  const void *p = a->buffers[1];
  int64_t v;
  if (is_null(a, j)) return tl_builder_append_null(b, err);
  switch (k) {
    case K_BOOL: return tl_builder_append_bool(b, TL_BIT_GET((const uint8_t *)p, j), err);
    case K_F64: return tl_builder_append_float(b, ((const double *)p)[j], err);
    case K_F32: return tl_builder_append_float(b, ((const float *)p)[j], err);
    case K_DATE: return tl_builder_append_date(b, ((const int32_t *)p)[j], err);
    case K_TS_S: case K_TS_MS:
      if (__builtin_mul_overflow(((const int64_t *)p)[j], k == K_TS_S ? 1000000 : 1000, &v))
        return im_error(c, err, TL_ERANGE, "a timestamp out of range");
      return tl_builder_append_timestamp(b, v, err);
    case K_TS_US: return tl_builder_append_timestamp(b, ((const int64_t *)p)[j], err);
    case K_TS_NS:
      v = ((const int64_t *)p)[j];
      return tl_builder_append_timestamp(b, v / 1000 - (v % 1000 < 0), err);   /* floor */
    case K_STR64: case K_STR32: {
      int64_t lo = read_int(k == K_STR64 ? K_I64 : K_I32, p, j);
      int64_t hi = read_int(k == K_STR64 ? K_I64 : K_I32, p, j + 1);
      if (lo < 0 || hi < lo)
        return im_error(c, err, TL_EINVAL, "string offsets out of order at row %lld (%lld, "
                        "then %lld)", (long long)(j - c->off + 1), (long long)lo, (long long)hi);
      return tl_builder_append_string(b, (const char *)a->buffers[2] + lo, (size_t)(hi - lo),
                                      err);
    }
    default: return tl_builder_append_int(b, read_int(k, p, j), err);
  }
}

/* The copying path: every value through a builder. */
static tl_status im_copy(const im *c, tl_column **out, tl_error *err) {
  tl_builder *b;
  tl_status st = tl_builder_new(kind_type(c->s->dictionary ? c->dkind : c->kind), c->n, &b,
                                err);
  const struct ArrowArray *d = c->a->dictionary;
  for (int64_t i = 0; st == TL_OK && i < c->n; i++) {
    int64_t j = c->off + i;
    if ((i & 0xffff) == 0 && tl_interrupted()) {
      st = tl_error_interrupted(err, "import_arrow");
    } else if (!d) {
      st = im_append(c, b, c->kind, c->a, j, err);
    } else if (is_null(c->a, j)) {
      st = tl_builder_append_null(b, err);
    } else {
      int64_t k = read_int(c->kind, c->a->buffers[1], j);
      if (k < 0 || k >= d->length)
        st = im_error(c, err, TL_EINVAL, "an index outside the dictionary");
      else
        st = im_append(c, b, c->dkind, d, d->offset + k, err);
    }
  }
  if (st != TL_OK) { tl_builder_free(b); return st; }
  return tl_builder_finish(b, out, err);
}

/* Wraps the plain array a (offset 0) without a copy, holding a reference to
** the moved array; *out stays NULL when it cannot be wrapped as it is. */
static tl_status im_wrap(const im *c, int k, const struct ArrowArray *a, int64_t n,
                         tl_column **out, tl_error *err) {
  const void *const *bufs = (const void *const *)a->buffers;
  const uint8_t *validity = a->null_count != 0 ? bufs[0] : NULL;
  size_t align = k == K_DATE ? 4 : k == K_BOOL ? 1 : 8;
  tl_error e;
  tl_status st;
  if ((k != K_BOOL && k != K_I64 && k != K_F64 && k != K_DATE && k != K_TS_US &&
       k != K_STR64) || ((uintptr_t)bufs[1] % align) != 0)
    return TL_OK;
  e.message[0] = '\0';
  if (k == K_STR64)
    st = tl_column_wrap_strings(n, bufs[1], bufs[2], validity, holder_drop, c->h, out, &e);
  else
    st = tl_column_wrap(kind_type(k), n, bufs[1], validity, holder_drop, c->h, out, &e);
  if (st != TL_OK)
    return im_error(c, err, st, "%s", tl_error_detail(&e));
  atomic_fetch_add_explicit(&c->h->refs, 1, memory_order_relaxed);
  return TL_OK;
}

/* A dictionary-encoded column without a copy, when its indices are int32,
** its dictionary large strings without nulls or repeats, and the codes of
** null rows 0; *out stays NULL otherwise. */
static tl_status im_wrap_dict(const im *c, tl_column **out, tl_error *err) {
  const struct ArrowArray *d = c->a->dictionary;
  const int32_t *codes = c->a->buffers[1];
  const uint8_t *validity = c->a->null_count != 0 ? c->a->buffers[0] : NULL;
  tl_column *dict = NULL;
  if (c->kind != K_I32 || c->dkind != K_STR64 || d->offset != 0 ||
      ((uintptr_t)codes % 4) != 0)
    return TL_OK;
  TL_TRY(im_wrap(c, c->dkind, d, d->length, &dict, err));
  if (!dict) return TL_OK;
  int valid = tl_dict_is_valid(dict);
  for (int64_t i = 0; valid == 1 && i < c->n; i++) {
    if ((i & 0xffff) == 0 && tl_interrupted()) {
      tl_column_release(dict);
      return tl_error_interrupted(err, "import_arrow");
    }
    int null = validity && !TL_BIT_GET(validity, i);
    if (null ? codes[i] != 0 : (codes[i] < 0 || codes[i] >= dict->length)) valid = 0;
  }
  tl_status st = TL_OK;
  if (valid < 0) st = tl_error_oom(err, "import_arrow");
  else if (valid) {
    st = tl_column_wrap_dictionary(c->n, codes, dict, validity, holder_drop, c->h, out, err);
    if (st == TL_OK) atomic_fetch_add_explicit(&c->h->refs, 1, memory_order_relaxed);
  }
  tl_column_release(dict);
  return st;
}

/* Array a of column c (`part` is "" for its own array, "its dictionary: "
** for its dictionary), read as kind k: every size checked before a value
** is read, with arithmetic that cannot overflow. A buffer's own size is not
** in the interface: the last string offset stands for the text's. */
static tl_status im_check_array(const im *c, const struct ArrowArray *a, int k,
                                const char *part, tl_error *err) {
  int64_t want = k == K_STR64 || k == K_STR32 ? 3 : 2, end;
  if (a->length < 0 || a->offset < 0)
    return im_error(c, err, TL_EINVAL, "%sa negative %s (%lld)", part,
                    a->length < 0 ? "length" : "offset",
                    (long long)(a->length < 0 ? a->length : a->offset));
  if (__builtin_add_overflow(a->offset, a->length, &end))
    return im_error(c, err, TL_EINVAL, "%soffset %lld + length %lld overflows", part,
                    (long long)a->offset, (long long)a->length);
  if (a->null_count < -1 || a->null_count > a->length)
    return im_error(c, err, TL_EINVAL, "%sa null count of %lld in %lld rows", part,
                    (long long)a->null_count, (long long)a->length);
  if (a->n_children != 0)
    return im_error(c, err, TL_EINVAL, "%s%lld children, where its format has none", part,
                    (long long)a->n_children);
  if (a->n_buffers != want || !a->buffers)
    return im_error(c, err, TL_EINVAL, "%s%lld buffers, where its format needs %lld", part,
                    a->buffers ? (long long)a->n_buffers : 0LL, (long long)want);
  if (a->null_count != 0 && a->null_count != -1 && !a->buffers[0])
    return im_error(c, err, TL_EINVAL, "%snulls without a validity bitmap", part);
  if (end > 0 && (!a->buffers[1] || (want == 3 && !a->buffers[2])))
    return im_error(c, err, TL_EINVAL, "%sa missing data buffer", part);
  return TL_OK;
}

static tl_status im_column(im *c, tl_column **out, tl_error *err) {
  const struct ArrowSchema *s = c->s;
  const struct ArrowArray *a = c->a;
  c->kind = kind_of(s->format);
  if (c->kind == K_BAD || (s->dictionary && !is_index(c->kind)))
    return tl_error_set(err, TL_ETYPE, "import_arrow: column '%s': unsupported format '%s'",
                        c->name, s->format ? s->format : "(null)");
  if (s->dictionary) {
    c->dkind = kind_of(s->dictionary->format);
    if (c->dkind != K_STR64 && c->dkind != K_STR32)
      return tl_error_set(err, TL_ETYPE, "import_arrow: column '%s': unsupported dictionary "
                          "format '%s'", c->name,
                          s->dictionary->format ? s->dictionary->format : "(null)");
    if (!a->dictionary)
      return im_error(c, err, TL_EINVAL, "a dictionary type without a dictionary");
    TL_TRY(im_check_array(c, a->dictionary, c->dkind, "its dictionary: ", err));
  }
  TL_TRY(im_check_array(c, a, s->dictionary ? K_I32 : c->kind, "", err));
  if (a->length - c->skip < c->n)                /* no overflow: both checked >= 0 */
    return im_error(c, err, TL_EINVAL, "%lld rows, shorter than the table's %lld + offset %lld",
                    (long long)a->length, (long long)c->n, (long long)c->skip);
  c->off = a->offset + c->skip;                  /* <= a->offset + a->length: no overflow */
  *out = NULL;
  if (c->off == 0 && !s->dictionary) TL_TRY(im_wrap(c, c->kind, a, c->n, out, err));
  if (c->off == 0 && s->dictionary) TL_TRY(im_wrap_dict(c, out, err));
  if (*out) return TL_OK;
  return im_copy(c, out, err);
}

/* The struct array around the columns: its sizes and that it has no null
** rows. */
static tl_status im_check_top(const struct ArrowSchema *schema, const struct ArrowArray *array,
                              tl_error *err) {
  int64_t end;
  if (!schema->format || strcmp(schema->format, "+s") != 0)
    return tl_error_set(err, TL_ETYPE, "import_arrow: expected a struct array (format "
                        "'+s'), got '%s'", schema->format ? schema->format : "(null)");
  if (schema->n_children != array->n_children || array->n_children < 0 ||
      array->n_children > 1000000 || (array->n_children > 0 &&
                                      (!schema->children || !array->children)))
    return tl_error_set(err, TL_EINVAL, "import_arrow: the schema and the array disagree "
                        "(%lld and %lld children)", (long long)schema->n_children,
                        (long long)array->n_children);
  if (array->length < 0 || array->offset < 0 ||
      __builtin_add_overflow(array->offset, array->length, &end))
    return tl_error_set(err, TL_EINVAL, "import_arrow: the struct array has offset %lld and "
                        "length %lld", (long long)array->offset, (long long)array->length);
  if (array->null_count < -1 || array->null_count > array->length ||
      array->n_buffers < 0 || array->n_buffers > 1 || (array->n_buffers == 1 && !array->buffers))
    return tl_error_set(err, TL_EINVAL, "import_arrow: the struct array has %lld buffers and "
                        "a null count of %lld", (long long)array->n_buffers,
                        (long long)array->null_count);
  if (array->null_count != 0 && array->n_buffers == 1 && array->buffers[0]) {
    for (int64_t i = 0; i < array->length; i++)
      if (!TL_BIT_GET((const uint8_t *)array->buffers[0], array->offset + i))
        return tl_error_set(err, TL_EINVAL, "import_arrow: the struct array has null rows "
                            "(row %lld)", (long long)i + 1);
  }
  return TL_OK;
}

tl_status tl_table_import_arrow(struct ArrowSchema *schema, struct ArrowArray *array,
                                tl_table **out, tl_error *err) {
  if (!schema || !array || !schema->release || !array->release)
    return tl_error_set(err, TL_EINVAL, "import_arrow: %s", !schema || !array
                        ? "no schema or array" : "the schema or array is released");
  TL_TRY(im_check_top(schema, array, err));
  int n = (int)array->n_children;
  size_t m = (size_t)(n > 0 ? n : 1);
  holder *h = tl_calloc(1, sizeof *h);
  tl_column **cols = tl_calloc(m, sizeof *cols);
  const char **names = tl_calloc(m, sizeof *names);
  tl_status st = TL_OK;
  if (!h || !cols || !names) {
    tl_free(h);
    st = tl_error_oom(err, "import_arrow");
    h = NULL;
  } else {
    atomic_init(&h->refs, 1);                    /* the import's own */
  }
  for (int j = 0; st == TL_OK && j < n; j++) {
    const struct ArrowSchema *cs = schema->children[j];
    const struct ArrowArray *ca = array->children[j];
    im c;
    memset(&c, 0, sizeof c);
    c.name = cs && cs->name ? cs->name : "";
    names[j] = c.name;
    c.s = cs;
    c.a = ca;
    c.h = h;
    c.n = array->length;
    if (!cs || !ca) {
      st = tl_error_set(err, TL_EINVAL, "import_arrow: column %d ('%s') has no %s", j + 1,
                        c.name, cs ? "array" : "schema");
      break;
    }
    c.skip = array->offset;
    st = tl_interrupted() ? tl_error_interrupted(err, "import_arrow")
                          : im_column(&c, &cols[j], err);
  }
  tl_table *t = NULL;
  if (st == TL_OK) st = tl_table_new(n, names, cols, &t, err);
  for (int j = 0; cols && j < n; j++) tl_column_release(cols[j]);
  tl_free(cols);
  tl_free(names);
  if (st != TL_OK) {
    if (h) holder_drop(h);                       /* nothing moved yet: just frees it */
    return st;
  }
  h->array = *array;                             /* move: the columns now own it */
  array->release = NULL;
  schema->release(schema);
  schema->release = NULL;
  holder_drop(h);
  *out = t;
  return TL_OK;
}
