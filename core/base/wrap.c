/*
** wrap.c -- columns over the host's own buffers (tl_column_wrap and its
** variants): the column points at the buffers and, instead of freeing
** them, calls the host's release function when its last reference goes.
*/
#include <string.h>

#include "alloc.h"
#include "column.h"
#include "error.h"
#include "wrap.h"

const char *tl_version(void) { return TALLY_VERSION; }

/* Stands in for a NULL buffer of an empty column, so that no kernel ever
** sees a NULL pointer; offsets[0] == 0 for an empty string column. */
static const int64_t empty[2];

static void keep(void *ctx) { (void)ctx; }   /* the host frees the buffers */

static tl_status wrap(tl_type type, int64_t n, const void *values, const char *bytes,
                      int64_t nbytes, const uint8_t *validity, const tl_column *dict,
                      tl_release_fn release, void *ctx, tl_column **out, tl_error *err) {
  tl_column *c = tl_calloc(1, sizeof *c);
  if (!c) return tl_error_oom(err, "column_wrap");
  atomic_init(&c->refs, 1);
  c->type = type;
  c->length = n;
  c->values = (void *)values;                 /* read-only: tables are immutable */
  c->bytes = (char *)bytes;
  c->nbytes = nbytes;
  c->validity = (uint8_t *)validity;
  c->dict = tl_column_retain((tl_column *)dict);
  c->release = release ? release : keep;
  c->release_ctx = ctx;
  tl_column_seal(c);
  if (c->null_count == 0) c->validity = NULL;   /* not ours to free: just forget it */
  *out = c;
  return TL_OK;
}

tl_status tl_column_wrap(tl_type type, int64_t n, const void *data, const uint8_t *validity,
                         tl_release_fn release, void *ctx, tl_column **out, tl_error *err) {
  if (type == TL_STRING)
    return tl_error_set(err, TL_ETYPE, "column_wrap: strings need offsets "
                        "(tl_column_wrap_strings)");
  if (type < TL_BOOL || type > TL_TIMESTAMP)
    return tl_error_set(err, TL_EINVAL, "column_wrap: unknown type %d", (int)type);
  if (n < 0) return tl_error_set(err, TL_EINVAL, "column_wrap: negative length");
  if (!data && n > 0) return tl_error_set(err, TL_EINVAL, "column_wrap: no data");
  if (n == 0) data = empty;
  return wrap(type, n, data, NULL, 0, validity, NULL, release, ctx, out, err);
}

tl_status tl_column_wrap_strings(int64_t n, const int64_t *offsets, const char *bytes,
                                 const uint8_t *validity, tl_release_fn release, void *ctx,
                                 tl_column **out, tl_error *err) {
  if (n < 0) return tl_error_set(err, TL_EINVAL, "column_wrap: negative length");
  if (!offsets) {
    if (n > 0) return tl_error_set(err, TL_EINVAL, "column_wrap: no offsets");
    offsets = empty;
  }
  if (offsets[0] < 0)
    return tl_error_set(err, TL_EINVAL, "column_wrap: negative string offset");
  for (int64_t i = 0; i < n; i++)
    if (offsets[i + 1] < offsets[i])
      return tl_error_set(err, TL_EINVAL, "column_wrap: string offsets decrease at row %lld",
                          (long long)i + 1);
  if (!bytes) {
    if (offsets[n] > 0) return tl_error_set(err, TL_EINVAL, "column_wrap: no string bytes");
    bytes = (const char *)empty;
  }
  return wrap(TL_STRING, n, offsets, bytes, offsets[n], validity, NULL, release, ctx, out,
              err);
}

/* FNV-1a: enough to spread dictionary values over a table. */
static uint64_t hash_bytes(const char *s, size_t len) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211u;
  return h;
}

int tl_dict_is_valid(const tl_column *d) {
  if (d->type != TL_STRING || d->dict || d->null_count > 0) return 0;
  int64_t n = d->length, size = 16;
  while (size < 2 * n) size *= 2;
  int64_t *slots = tl_alloc((size_t)size * sizeof *slots);
  if (!slots) return -1;
  memset(slots, 0xff, (size_t)size * sizeof *slots);   /* -1: empty */
  int ok = 1;
  for (int64_t i = 0; i < n && ok; i++) {
    size_t len;
    const char *s = tl_column_string_at(d, i, &len);
    int64_t k = (int64_t)(hash_bytes(s, len) & (uint64_t)(size - 1));
    for (; slots[k] >= 0; k = (k + 1) & (size - 1)) {
      size_t l2;
      const char *s2 = tl_column_string_at(d, slots[k], &l2);
      if (l2 == len && memcmp(s, s2, len) == 0) { ok = 0; break; }
    }
    slots[k] = i;
  }
  tl_free(slots);
  return ok;
}

tl_status tl_column_wrap_dictionary(int64_t n, const int32_t *codes, const tl_column *dict,
                                    const uint8_t *validity, tl_release_fn release,
                                    void *ctx, tl_column **out, tl_error *err) {
  if (n < 0) return tl_error_set(err, TL_EINVAL, "column_wrap: negative length");
  if (!codes && n > 0) return tl_error_set(err, TL_EINVAL, "column_wrap: no codes");
  if (n == 0) codes = (const int32_t *)empty;
  if (!dict) return tl_error_set(err, TL_EINVAL, "column_wrap: no dictionary");
  int valid = tl_dict_is_valid(dict);
  if (valid < 0) return tl_error_oom(err, "column_wrap");
  if (!valid)
    return tl_error_set(err, TL_EINVAL, "column_wrap: the dictionary must be a plain string "
                        "column of distinct values without nulls");
  for (int64_t i = 0; i < n; i++) {
    int null = validity && !TL_BIT_GET(validity, i);
    if (null ? codes[i] != 0 : (codes[i] < 0 || codes[i] >= dict->length))
      return tl_error_set(err, TL_EINVAL, "column_wrap: code %ld of row %lld %s",
                          (long)codes[i], (long long)i,
                          null ? "must be 0 (the row is null)" : "is outside the dictionary");
  }
  return wrap(TL_STRING, n, codes, NULL, 0, validity, dict, release, ctx, out, err);
}
