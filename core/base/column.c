/*
** column.c -- reference-counted typed columns and the column builder.
*/
#include <assert.h>
#include <string.h>

#include "alloc.h"
#include "column.h"
#include "error.h"

static const char *const type_names[] = {
  NULL, "bool", "int", "float", "string", "date", "timestamp"
};

const char *tl_type_name(tl_type type) {
  return (type >= TL_BOOL && type <= TL_TIMESTAMP) ? type_names[type] : NULL;
}

tl_type tl_type_from_name(const char *name) {
  for (int t = TL_BOOL; t <= TL_TIMESTAMP; t++)
    if (strcmp(name, type_names[t]) == 0) return (tl_type)t;
  return (tl_type)0;
}

size_t tl_type_width(tl_type type) {
  switch (type) {
    case TL_INT: case TL_TIMESTAMP: return 8;
    case TL_FLOAT: return sizeof(double);
    case TL_DATE: return 4;
    default: return 0;
  }
}

/* Size of the values buffer of a column of `length` rows. */
static size_t values_size(tl_type type, int64_t length) {
  if (type == TL_BOOL) return TL_BITMAP_BYTES(length);
  if (type == TL_STRING) return (size_t)(length + 1) * sizeof(int64_t);
  return (size_t)length * tl_type_width(type);
}

/* The buffers of a new column; the values are zeroed unless `fill` is 0
** (the caller writes every value). */
static tl_status column_alloc(tl_type type, int64_t length, int nullable, int64_t nbytes,
                              int fill, tl_column **out, tl_error *err) {
  tl_column *c = tl_calloc(1, sizeof *c);
  if (!c) return tl_error_oom(err, "column");
  atomic_init(&c->refs, 1);
  c->type = type;
  c->length = length;
  c->values = fill ? tl_calloc(1, values_size(type, length)) : tl_alloc(values_size(type, length));
  if (nullable) {
    c->validity = tl_alloc(TL_BITMAP_BYTES(length));
    if (c->validity) memset(c->validity, 0xff, TL_BITMAP_BYTES(length));
  }
  if (type == TL_STRING) {
    c->bytes = tl_alloc((size_t)nbytes);
    c->nbytes = nbytes;
  }
  if (!c->values || (nullable && !c->validity) || (type == TL_STRING && !c->bytes)) {
    tl_column_release(c);
    return tl_error_oom(err, "column");
  }
  *out = c;
  return TL_OK;
}

tl_status tl_column_alloc(tl_type type, int64_t length, int nullable, int64_t nbytes,
                          tl_column **out, tl_error *err) {
  return column_alloc(type, length, nullable, nbytes, 1, out, err);
}

tl_status tl_column_alloc_raw(tl_type type, int64_t length, int nullable, tl_column **out,
                              tl_error *err) {
  return column_alloc(type, length, nullable, 0, 0, out, err);
}

tl_status tl_column_alloc_dict(tl_column *dict, int64_t length, int nullable, tl_column **out,
                               tl_error *err) {
  tl_column *c;
  TL_TRY(tl_column_alloc(TL_DATE, length, nullable, 0, &c, err));   /* int32 codes */
  c->type = TL_STRING;
  c->dict = tl_column_retain(dict);
  *out = c;
  return TL_OK;
}

int64_t tl_bitmap_count(const uint8_t *bm, int64_t n) {
  int64_t full = n / 8, v = 0, k = 0;
  for (; k + 8 <= full; k += 8) {
    uint64_t w;
    memcpy(&w, bm + k, 8);
    v += __builtin_popcountll(w);
  }
  for (; k < full; k++) v += __builtin_popcount(bm[k]);
  if (n % 8) v += __builtin_popcount(bm[full] & ((1u << (n % 8)) - 1));
  return v;
}

void tl_column_seal(tl_column *c) {
  if (!c->validity) { c->null_count = 0; return; }
  c->null_count = c->length - tl_bitmap_count(c->validity, c->length);
  if (c->null_count == 0 && !c->release) {
    tl_free(c->validity);
    c->validity = NULL;
  }
}

tl_column *tl_column_retain(tl_column *c) {
  if (c) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return c;
}

void tl_column_release(tl_column *c) {
  if (!c) return;
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) return;
  tl_column_release(c->dict);
  if (c->release) {
    c->release(c->release_ctx);
  } else {
    tl_free(c->validity);
    tl_free(c->values);
    tl_free(c->bytes);
  }
  tl_free(c);
}

tl_type tl_column_type(const tl_column *c) { return c->type; }
int64_t tl_column_length(const tl_column *c) { return c->length; }
int64_t tl_column_null_count(const tl_column *c) { return c->null_count; }
const uint8_t *tl_column_validity(const tl_column *c) { return c->validity; }

int tl_column_is_null(const tl_column *c, int64_t i) {
  assert(i >= 0 && i < c->length);
  return c->validity && !TL_BIT_GET(c->validity, i);
}

const int64_t *tl_column_ints(const tl_column *c) {
  return c->type == TL_INT ? c->values : NULL;
}
const double *tl_column_floats(const tl_column *c) {
  return c->type == TL_FLOAT ? c->values : NULL;
}
const int32_t *tl_column_dates(const tl_column *c) {
  return c->type == TL_DATE ? c->values : NULL;
}
const int64_t *tl_column_timestamps(const tl_column *c) {
  return c->type == TL_TIMESTAMP ? c->values : NULL;
}
const uint8_t *tl_column_bools(const tl_column *c) {
  return c->type == TL_BOOL ? c->values : NULL;
}
const int64_t *tl_column_string_offsets(const tl_column *c) {
  return c->type == TL_STRING && !c->dict ? c->values : NULL;
}
const char *tl_column_string_bytes(const tl_column *c) {
  return c->type == TL_STRING && !c->dict ? c->bytes : NULL;
}
const tl_column *tl_column_dictionary(const tl_column *c) { return c->dict; }
const int32_t *tl_column_codes(const tl_column *c) { return c->dict ? c->values : NULL; }

int tl_column_bool_at(const tl_column *c, int64_t i) {
  assert(c->type == TL_BOOL && i >= 0 && i < c->length);
  return TL_BIT_GET((const uint8_t *)c->values, i);
}

const char *tl_column_string_at(const tl_column *c, int64_t i, size_t *len) {
  assert(c->type == TL_STRING && i >= 0 && i < c->length);
  if (c->dict) return tl_column_string_at(c->dict, ((const int32_t *)c->values)[i], len);
  const int64_t *off = c->values;
  if (len) *len = (size_t)(off[i + 1] - off[i]);
  return c->bytes + off[i];
}

void tl_column_get(const tl_column *c, int64_t i, tl_scalar *out) {
  memset(out, 0, sizeof *out);
  out->type = c->type;
  if (tl_column_is_null(c, i)) { out->is_null = 1; return; }
  switch (c->type) {
    case TL_BOOL: out->v.b = TL_BIT_GET((const uint8_t *)c->values, i); break;
    case TL_INT: case TL_TIMESTAMP: out->v.i = ((const int64_t *)c->values)[i]; break;
    case TL_FLOAT: out->v.f = ((const double *)c->values)[i]; break;
    case TL_DATE: out->v.d = ((const int32_t *)c->values)[i]; break;
    case TL_STRING: out->v.s.ptr = tl_column_string_at(c, i, &out->v.s.len); break;
  }
}

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

int tl_column_compare_values(const tl_column *a, int64_t i, const tl_column *b, int64_t j) {
  switch (a->type) {
    case TL_BOOL:
      return TL_BIT_GET((const uint8_t *)a->values, i) - TL_BIT_GET((const uint8_t *)b->values, j);
    case TL_INT: case TL_TIMESTAMP:
      return cmp_i64(((const int64_t *)a->values)[i], ((const int64_t *)b->values)[j]);
    case TL_DATE:
      return cmp_i64(((const int32_t *)a->values)[i], ((const int32_t *)b->values)[j]);
    case TL_FLOAT: {
      double x = ((const double *)a->values)[i], y = ((const double *)b->values)[j];
      if (x != x || y != y) return (x != x) - (y != y);   /* NaN after every number */
      return (x > y) - (x < y);
    }
    case TL_STRING: {
      if (a->dict && a->dict == b->dict) {   /* the same dictionary: equal codes, equal strings */
        int32_t ca = ((const int32_t *)a->values)[i], cb = ((const int32_t *)b->values)[j];
        if (ca == cb) return 0;
      }
      size_t la, lb;
      const char *sa = tl_column_string_at(a, i, &la), *sb = tl_column_string_at(b, j, &lb);
      int r = memcmp(sa, sb, la < lb ? la : lb);
      return r ? (r > 0) - (r < 0) : cmp_i64((int64_t)la, (int64_t)lb);
    }
  }
  return 0;
}

/* ---------------------------------------------------------------------------
** Builder: grows the buffers geometrically; the validity bitmap is created
** at the first null.
*/
struct tl_builder {
  tl_type type;
  int64_t length, capacity;
  int64_t nulls;
  void *values;
  uint8_t *validity;
  char *bytes;
  int64_t nbytes, bytes_cap;
};

tl_status tl_builder_new(tl_type type, int64_t capacity, tl_builder **out, tl_error *err) {
  if (!tl_type_name(type)) return tl_error_set(err, TL_EINVAL, "builder: unknown type %d", (int)type);
  if (capacity < 16) capacity = 16;
  tl_builder *b = tl_calloc(1, sizeof *b);
  if (!b) return tl_error_oom(err, "builder");
  b->type = type;
  b->capacity = capacity;
  b->values = tl_calloc(1, values_size(type, capacity));
  if (!b->values) { tl_free(b); return tl_error_oom(err, "builder"); }
  *out = b;
  return TL_OK;
}

void tl_builder_free(tl_builder *b) {
  if (!b) return;
  tl_free(b->values);
  tl_free(b->validity);
  tl_free(b->bytes);
  tl_free(b);
}

int64_t tl_builder_length(const tl_builder *b) { return b->length; }
tl_type tl_builder_type(const tl_builder *b) { return b->type; }

/* Makes room for one more row. */
static tl_status grow(tl_builder *b, tl_error *err) {
  if (b->length < b->capacity) return TL_OK;
  int64_t ncap = b->capacity * 2;
  size_t osz = values_size(b->type, b->capacity), nsz = values_size(b->type, ncap);
  void *v = tl_realloc(b->values, nsz);
  if (!v) return tl_error_oom(err, "builder");
  memset((char *)v + osz, 0, nsz - osz);
  b->values = v;
  if (b->validity) {
    uint8_t *m = tl_realloc(b->validity, TL_BITMAP_BYTES(ncap));
    if (!m) return tl_error_oom(err, "builder");
    memset(m + TL_BITMAP_BYTES(b->capacity), 0xff,
           TL_BITMAP_BYTES(ncap) - TL_BITMAP_BYTES(b->capacity));
    b->validity = m;
  }
  b->capacity = ncap;
  return TL_OK;
}

/* Ends a row of a string column: its end offset. */
static void end_string_row(tl_builder *b) {
  if (b->type == TL_STRING) ((int64_t *)b->values)[b->length + 1] = b->nbytes;
}

tl_status tl_builder_append_null(tl_builder *b, tl_error *err) {
  TL_TRY(grow(b, err));
  if (!b->validity) {
    b->validity = tl_alloc(TL_BITMAP_BYTES(b->capacity));
    if (!b->validity) return tl_error_oom(err, "builder");
    memset(b->validity, 0xff, TL_BITMAP_BYTES(b->capacity));
  }
  TL_BIT_CLEAR(b->validity, b->length);
  end_string_row(b);
  b->length++;
  b->nulls++;
  return TL_OK;
}

static tl_status check_type(tl_builder *b, tl_type want, tl_error *err) {
  if (b->type == want) return TL_OK;
  return tl_error_set(err, TL_ETYPE, "builder: cannot append %s to a column of type %s",
                      tl_type_name(want), tl_type_name(b->type));
}

tl_status tl_builder_append_bool(tl_builder *b, int v, tl_error *err) {
  TL_TRY(check_type(b, TL_BOOL, err));
  TL_TRY(grow(b, err));
  if (v) TL_BIT_SET((uint8_t *)b->values, b->length);
  b->length++;
  return TL_OK;
}

tl_status tl_builder_append_int(tl_builder *b, int64_t v, tl_error *err) {
  if (b->type == TL_FLOAT) return tl_builder_append_float(b, (double)v, err);
  TL_TRY(check_type(b, TL_INT, err));
  TL_TRY(grow(b, err));
  ((int64_t *)b->values)[b->length++] = v;
  return TL_OK;
}

tl_status tl_builder_append_float(tl_builder *b, double v, tl_error *err) {
  TL_TRY(check_type(b, TL_FLOAT, err));
  TL_TRY(grow(b, err));
  ((double *)b->values)[b->length++] = v;
  return TL_OK;
}

tl_status tl_builder_append_date(tl_builder *b, int32_t days, tl_error *err) {
  TL_TRY(check_type(b, TL_DATE, err));
  TL_TRY(grow(b, err));
  ((int32_t *)b->values)[b->length++] = days;
  return TL_OK;
}

tl_status tl_builder_append_timestamp(tl_builder *b, int64_t us, tl_error *err) {
  TL_TRY(check_type(b, TL_TIMESTAMP, err));
  TL_TRY(grow(b, err));
  ((int64_t *)b->values)[b->length++] = us;
  return TL_OK;
}

tl_status tl_builder_append_string(tl_builder *b, const char *s, size_t len, tl_error *err) {
  TL_TRY(check_type(b, TL_STRING, err));
  TL_TRY(grow(b, err));
  if ((int64_t)len > INT64_MAX - b->nbytes)
    return tl_error_set(err, TL_ELIMIT, "builder: string data over the size limit");
  if (b->nbytes + (int64_t)len > b->bytes_cap) {
    int64_t ncap = b->bytes_cap ? b->bytes_cap : 256;
    while (ncap < b->nbytes + (int64_t)len) ncap *= 2;
    char *nb = tl_realloc(b->bytes, (size_t)ncap);
    if (!nb) return tl_error_oom(err, "builder");
    b->bytes = nb;
    b->bytes_cap = ncap;
  }
  if (len) memcpy(b->bytes + b->nbytes, s, len);
  b->nbytes += (int64_t)len;
  end_string_row(b);
  b->length++;
  return TL_OK;
}

tl_status tl_builder_append_scalar(tl_builder *b, const tl_scalar *v, tl_error *err) {
  if (v->is_null) return tl_builder_append_null(b, err);
  switch (v->type) {
    case TL_BOOL: return tl_builder_append_bool(b, v->v.b, err);
    case TL_INT: return tl_builder_append_int(b, v->v.i, err);
    case TL_FLOAT: return tl_builder_append_float(b, v->v.f, err);
    case TL_DATE: return tl_builder_append_date(b, v->v.d, err);
    case TL_TIMESTAMP: return tl_builder_append_timestamp(b, v->v.i, err);
    case TL_STRING: return tl_builder_append_string(b, v->v.s.ptr, v->v.s.len, err);
  }
  return tl_error_set(err, TL_EINVAL, "builder: unknown value type");
}

tl_status tl_builder_finish(tl_builder *b, tl_column **out, tl_error *err) {
  if (b->type == TL_STRING && !b->bytes)   /* an empty string column still owns a payload */
    b->bytes = tl_alloc(1);
  tl_column *c = tl_calloc(1, sizeof *c);
  if (!c || (b->type == TL_STRING && !b->bytes)) {
    tl_free(c);
    tl_builder_free(b);
    return tl_error_oom(err, "builder");
  }
  atomic_init(&c->refs, 1);
  c->type = b->type;
  c->length = b->length;
  c->values = b->values;
  c->validity = b->validity;
  c->bytes = b->bytes;
  c->nbytes = b->nbytes;
  b->values = NULL; b->validity = NULL; b->bytes = NULL;
  tl_builder_free(b);
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}
