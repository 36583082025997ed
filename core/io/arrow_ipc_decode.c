/*
** arrow_ipc_decode.c -- one column of an Arrow record batch as a tally
** column. Buffers already in tally's layout (int64, double, int32 days,
** microsecond timestamps, bit-packed bools, int64 offsets and bytes, int32
** dictionary codes) and in a mapped file are pointed to; everything else
** (narrower or unsigned ints, float32 and float16, decimals, other units,
** int32 offsets, string views, decompressed buffers) is converted into new
** buffers. Every buffer is checked to hold what the column reads of it.
*/
#include <math.h>
#include <string.h>

#include "arrow_ipc.h"
#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"

const char *ipc_type_name(int t) {
  static const char *const names[AT_COUNT] = {
    "none", "null", "int", "float", "binary", "utf8", "bool", "decimal", "date", "time",
    "timestamp", "interval", "list", "struct", "union", "fixed_size_binary",
    "fixed_size_list", "map", "duration", "large_binary", "large_utf8", "large_list",
    "run_end_encoded", "binary_view", "utf8_view", "list_view", "large_list_view"
  };
  return t >= 0 && t < AT_COUNT ? names[t] : "unknown";
}

int ipc_type_buffers(int t) {
  switch (t) {
    case AT_NULL: case AT_RUN_END: return 0;
    case AT_STRUCT: case AT_FIXED_LIST: case AT_UNION: return 1;   /* sparse union: type ids */
    case AT_BINARY: case AT_UTF8: case AT_LARGE_BINARY: case AT_LARGE_UTF8:
    case AT_LIST_VIEW: case AT_LARGE_LIST_VIEW: return 3;
    default: return 2;   /* validity and values, offsets or views */
  }
}

/* The column being decoded: its field, rows and buffers. */
typedef struct dec {
  ipc_reader *R;
  const ipc_field *f;
  int64_t n, nulls;
  ipc_buf *bufs;             /* decompressed ones may be taken over */
  int nbufs;
  const uint8_t *validity;   /* NULL: no nulls */
} dec;

static int is_null(const dec *d, int64_t i) { return d->validity && !TL_BIT_GET(d->validity, i); }

/* Buffer k, which must hold `need` bytes. */
static tl_status need(dec *d, int k, int64_t bytes, const char *what) {
  if (k >= d->nbufs) return ipc_bad(d->R, "buffer %d (%s) is missing", k, what);
  if (d->bufs[k].len < bytes)
    return ipc_bad(d->R, "buffer %d (%s) has %lld bytes, %lld needed", k, what,
                   (long long)d->bufs[k].len, (long long)bytes);
  return TL_OK;
}

/* Whether buffer k can serve as it is: a mapped one pointed to (aligned to
** `align`), a decompressed one taken over. */
static int fits(const dec *d, int k, int align) {
  const ipc_buf *b = &d->bufs[k];
  if (b->owned) return 1;
  return b->mapped && ipc_mapping(d->R) && ((uintptr_t)b->p % (uintptr_t)align) == 0;
}

/* The same for the data of a string column: like its offsets, or empty. */
static int fits_too(const dec *d, int k, int like) {
  const ipc_buf *b = &d->bufs[k];
  return b->len == 0 || (d->bufs[like].owned ? b->owned != NULL : b->mapped);
}

static tl_status check_nulls(dec *d);

/* A column of type t over buffer kv (and kb, string bytes, or -1) as they
** are: pointing into the mapping, or owning the decompressed blocks. */
static tl_status reuse(dec *d, tl_type t, int kv, int kb, tl_column *dict, tl_column **out) {
  TL_TRY(check_nulls(d));
  ipc_buf *bv = &d->bufs[kv], *bb = kb >= 0 ? &d->bufs[kb] : NULL;
  if (!bv->owned) {
    static const char none[1];
    const char *bytes = bb && bb->len ? (const char *)bb->p : none;
    return ipc_wrap(d->R, t, d->n, d->validity, d->nulls, bv->p, bytes, bb ? bb->len : 0, dict,
                    out);
  }
  tl_column *c = tl_calloc(1, sizeof *c);
  uint8_t *vb = d->validity ? tl_alloc(TL_BITMAP_BYTES(d->n)) : NULL;
  char *bytes = bb ? (bb->owned ? (char *)bb->owned : tl_alloc(1)) : NULL;
  if (!c || (d->validity && !vb) || (bb && !bytes)) {
    tl_free(c);
    tl_free(vb);
    if (bb && !bb->owned) tl_free(bytes);
    return tl_error_oom(ipc_err(d->R), "read_arrow");
  }
  if (vb) memcpy(vb, d->validity, TL_BITMAP_BYTES(d->n));
  atomic_init(&c->refs, 1);
  c->type = t;
  c->length = d->n;
  c->validity = vb;
  c->values = bv->owned;
  bv->owned = NULL;                    /* the column's now */
  if (bb) {
    c->bytes = bytes;
    c->nbytes = bb->len;
    bb->owned = NULL;
  }
  c->dict = tl_column_retain(dict);
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

/* A new column of type t with the validity copied in. */
static tl_status alloc_col(dec *d, tl_type t, int64_t nbytes, tl_column **out) {
  tl_column *c;
  if (t == TL_STRING) TL_TRY(tl_column_alloc(t, d->n, d->validity != NULL, nbytes, &c, ipc_err(d->R)));
  else TL_TRY(tl_column_alloc_raw(t, d->n, d->validity != NULL, &c, ipc_err(d->R)));
  if (d->validity && d->n > 0) memcpy(c->validity, d->validity, TL_BITMAP_BYTES(d->n));
  if (c->validity && d->n % 8)   /* bits past the end stay clear, as tally keeps them */
    c->validity[d->n / 8] &= (uint8_t)((1u << (d->n % 8)) - 1);
  *out = c;
  return TL_OK;
}

/* Seals a converted column: its null count must be the batch's. */
static tl_status finish(dec *d, tl_column *c, tl_column **out) {
  tl_column_seal(c);
  if (c->null_count != d->nulls) {
    int64_t got = c->null_count;
    tl_column_release(c);
    return ipc_bad(d->R, "the validity bitmap has %lld nulls, the field node says %lld",
                   (long long)got, (long long)d->nulls);
  }
  *out = c;
  return TL_OK;
}

/* Nulls counted in the validity bitmap (for a pointed-to column). */
static tl_status check_nulls(dec *d) {
  if (!d->validity) return TL_OK;
  int64_t valid = tl_bitmap_count(d->validity, d->n);
  if (d->n - valid != d->nulls)
    return ipc_bad(d->R, "the validity bitmap has %lld nulls, the field node says %lld",
                   (long long)(d->n - valid), (long long)d->nulls);
  return TL_OK;
}

static tl_status wrap_fixed(dec *d, tl_type t, const void *v, tl_column **out) {
  (void)v;
  return reuse(d, t, 1, -1, NULL, out);
}

static int64_t load_int(const uint8_t *p, int bits, int is_signed) {
  switch (bits) {
    case 8: return is_signed ? (int64_t)(int8_t)p[0] : (int64_t)p[0];
    case 16: { uint16_t u; memcpy(&u, p, 2); return is_signed ? (int64_t)(int16_t)u : (int64_t)u; }
    case 32: { uint32_t u; memcpy(&u, p, 4); return is_signed ? (int64_t)(int32_t)u : (int64_t)u; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
  }
}

static tl_status dec_int(dec *d, tl_column **out) {
  int bits = d->f->type.bits;
  int sgn = d->f->type.is_signed;
  if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
    return ipc_bad(d->R, "int of %d bits is not supported", bits);
  TL_TRY(need(d, 1, d->n * (bits / 8), "values"));
  const uint8_t *v = d->bufs[1].p;
  if (bits == 64 && sgn && fits(d, 1, 8))
    return wrap_fixed(d, TL_INT, v, out);
  tl_column *c;
  TL_TRY(alloc_col(d, TL_INT, 0, &c));
  int64_t *dst = c->values;
  for (int64_t i = 0; i < d->n; i++) {
    int64_t x = load_int(v + i * (bits / 8), bits, sgn);
    if (is_null(d, i)) x = 0;
    else if (bits == 64 && !sgn && x < 0) {
      tl_column_release(c);
      return ipc_bad(d->R, "row %lld: unsigned value %llu is past the range of int (int64)",
                     (long long)i + 1, (unsigned long long)x);
    }
    dst[i] = x;
  }
  return finish(d, c, out);
}

/* IEEE half precision to double. */
static double half(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
  return h & 0x8000 ? -v : v;
}

/* A little-endian two's-complement integer of `bytes` bytes as a double. */
static double wide_int(const uint8_t *p, int bytes) {
  uint8_t mag[32];
  int neg = p[bytes - 1] & 0x80;
  memcpy(mag, p, (size_t)bytes);
  if (neg) {   /* negate: invert and add one */
    int carry = 1;
    for (int k = 0; k < bytes; k++) {
      int v = (uint8_t)~mag[k] + carry;
      mag[k] = (uint8_t)v;
      carry = v >> 8;
    }
  }
  double x = 0;
  for (int k = bytes - 1; k >= 0; k--) x = x * 256.0 + mag[k];
  return neg ? -x : x;
}

static tl_status dec_float(dec *d, tl_column **out) {
  const ipc_type *t = &d->f->type;
  int width = t->id == AT_DECIMAL ? t->bits / 8 : t->precision == FP_HALF ? 2
            : t->precision == FP_SINGLE ? 4 : 8;
  if (t->id == AT_DECIMAL && t->bits != 32 && t->bits != 64 && t->bits != 128 && t->bits != 256)
    return ipc_bad(d->R, "decimal of %d bits is not supported", t->bits);
  TL_TRY(need(d, 1, d->n * width, "values"));
  const uint8_t *v = d->bufs[1].p;
  if (t->id == AT_FLOAT && width == 8 && fits(d, 1, 8))
    return wrap_fixed(d, TL_FLOAT, v, out);
  tl_column *c;
  TL_TRY(alloc_col(d, TL_FLOAT, 0, &c));
  double *dst = c->values, scale = t->id == AT_DECIMAL ? pow(10.0, t->scale) : 1;
  for (int64_t i = 0; i < d->n; i++) {
    const uint8_t *p = v + i * width;
    double x;
    if (is_null(d, i)) x = 0;
    else if (t->id == AT_DECIMAL) x = wide_int(p, width) / scale;
    else if (width == 2) { uint16_t h; memcpy(&h, p, 2); x = half(h); }
    else if (width == 4) { float f; memcpy(&f, p, 4); x = f; }
    else memcpy(&x, p, 8);
    dst[i] = x;
  }
  return finish(d, c, out);
}

static tl_status dec_bool(dec *d, tl_column **out) {
  int64_t bytes = (d->n + 7) / 8;
  TL_TRY(need(d, 1, bytes, "values"));
  const uint8_t *v = d->bufs[1].p;
  if (fits(d, 1, 1)) return wrap_fixed(d, TL_BOOL, v, out);
  tl_column *c;
  TL_TRY(alloc_col(d, TL_BOOL, 0, &c));
  uint8_t *dst = c->values;
  if (bytes) memcpy(dst, v, (size_t)bytes);
  if (d->n % 8) dst[d->n / 8] &= (uint8_t)((1u << (d->n % 8)) - 1);
  for (int64_t i = 0; i < d->n && d->validity; i++)
    if (is_null(d, i)) TL_BIT_CLEAR(dst, i);
  return finish(d, c, out);
}

/* Floor division, for negative times before 1970. */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static tl_status dec_time(dec *d, tl_column **out) {
  const ipc_type *t = &d->f->type;
  int days32 = t->id == AT_DATE && t->unit == DATE_DAY;
  int width = days32 ? 4 : 8;
  TL_TRY(need(d, 1, d->n * width, "values"));
  const uint8_t *v = d->bufs[1].p;
  tl_type tt = t->id == AT_DATE ? TL_DATE : TL_TIMESTAMP;
  int native = days32 || (t->id == AT_TIMESTAMP && t->unit == UNIT_MICRO);
  if (native && fits(d, 1, width))
    return wrap_fixed(d, tt, v, out);
  tl_column *c;
  TL_TRY(alloc_col(d, tt, 0, &c));
  for (int64_t i = 0; i < d->n; i++) {
    int64_t x = 0;
    if (!is_null(d, i)) x = load_int(v + i * width, width * 8, 1);
    if (t->id == AT_DATE) {
      if (!days32) x = floor_div(x, 86400000);
      if (x < INT32_MIN || x > INT32_MAX) {
        tl_column_release(c);
        return ipc_bad(d->R, "row %lld: date out of range", (long long)i + 1);
      }
      ((int32_t *)c->values)[i] = (int32_t)x;
      continue;
    }
    if (t->unit == UNIT_NANO) x = floor_div(x, 1000);
    else if (t->unit != UNIT_MICRO) {
      int64_t m = t->unit == UNIT_SECOND ? 1000000 : 1000;
      if (x > INT64_MAX / m || x < INT64_MIN / m) {
        tl_column_release(c);
        return ipc_bad(d->R, "row %lld: timestamp out of range", (long long)i + 1);
      }
      x *= m;
    }
    ((int64_t *)c->values)[i] = x;
  }
  return finish(d, c, out);
}

/* Whether some of the offsets v[1..n] is negative or below the one before
** it (v[0] >= 0). Without a branch, in blocks of a fixed length that the
** compiler vectorizes: the sign bit of v[i] | (v[i] - v[i - 1]), the
** difference of two offsets that are not negative never overflowing. */
static int offsets_down(const int64_t *v, int64_t n) {
  uint64_t acc = 0;
  int64_t i = 1;
  for (; i + 32 <= n + 1; i += 32) {
    uint64_t a = 0;
    for (int k = 0; k < 32; k++)
      a |= (uint64_t)v[i + k] | ((uint64_t)v[i + k] - (uint64_t)v[i + k - 1]);
    acc |= a;
  }
  for (; i <= n; i++) acc |= (uint64_t)v[i] | ((uint64_t)v[i] - (uint64_t)v[i - 1]);
  return (int)(acc >> 63);
}

/* Whether some of the n codes is outside [0, limit), the same way. */
static int codes_outside(const int32_t *c, int64_t n, uint32_t limit) {
  uint32_t outside = 0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint32_t o = 0;
    for (int k = 0; k < 64; k++) o |= (uint32_t)c[i + k] >= limit;
    outside |= o;
  }
  for (; i < n; i++) outside |= (uint32_t)c[i] >= limit;
  return outside != 0;
}

/* String k of a utf8 / large_utf8 column (offsets of `ow` bytes), checked. */
static tl_status str_offsets(dec *d, int ow, int64_t *first) {
  TL_TRY(need(d, 1, d->n == 0 ? 0 : (d->n + 1) * ow, "offsets"));
  if (d->nbufs < 3) return ipc_bad(d->R, "buffer 2 (data) is missing");
  if (d->n == 0) { *first = 0; return TL_OK; }
  const uint8_t *o = d->bufs[1].p;
  int64_t prev = load_int(o, ow * 8, 1), len = d->bufs[2].len;
  *first = prev;
  if (prev < 0 || prev > len) return ipc_bad(d->R, "string offsets start at %lld", (long long)prev);
  int fast = ow == 8 && (uintptr_t)o % 8 == 0, down = 0;
  if (fast) {   /* the walk below finds the row when one goes down */
    const int64_t *v = (const int64_t *)(const void *)o;
    down = offsets_down(v, d->n);
    if (!down) prev = v[d->n];
  }
  for (int64_t i = 1; i <= d->n && (!fast || down); i++) {
    int64_t x = load_int(o + i * ow, ow * 8, 1);
    if (x < prev) return ipc_bad(d->R, "row %lld has a negative string length", (long long)i);
    prev = x;
  }
  if (prev > len)
    return ipc_bad(d->R, "string offsets end at %lld, past the %lld bytes of data",
                   (long long)prev, (long long)len);
  return TL_OK;
}

/* The bytes of row i of a string view column. */
static tl_status view_at(dec *d, int64_t i, const char **s, int64_t *len) {
  const uint8_t *v = d->bufs[1].p + i * 16;
  int32_t l, buf, off;
  memcpy(&l, v, 4);
  if (l < 0) return ipc_bad(d->R, "row %lld: negative string view length", (long long)i + 1);
  *len = l;
  if (l <= 12) { *s = (const char *)v + 4; return TL_OK; }
  memcpy(&buf, v + 8, 4);
  memcpy(&off, v + 12, 4);
  if (buf < 0 || buf + 2 >= d->nbufs)
    return ipc_bad(d->R, "row %lld: string view into missing data buffer %ld", (long long)i + 1,
                   (long)buf);
  const ipc_buf *b = &d->bufs[buf + 2];
  if (off < 0 || off > b->len || l > b->len - off)
    return ipc_bad(d->R, "row %lld: string view past the end of data buffer %ld",
                   (long long)i + 1, (long)buf);
  *s = (const char *)b->p + off;
  return TL_OK;
}

static tl_status dec_string(dec *d, tl_column **out) {
  int id = d->f->type.id, ow = id == AT_UTF8 ? 4 : 8;
  int64_t first = 0, total = 0;
  if (id == AT_UTF8_VIEW) {
    TL_TRY(need(d, 1, d->n * 16, "views"));
    for (int64_t i = 0; i < d->n; i++) {
      const char *s;
      int64_t l;
      TL_TRY(view_at(d, i, &s, &l));
      if (!is_null(d, i)) total += l;
    }
  } else {
    TL_TRY(str_offsets(d, ow, &first));
    const uint8_t *o = d->bufs[1].p;
    int clean = 1;
    total = d->n ? load_int(o + d->n * ow, ow * 8, 1) - first : 0;
    for (int64_t w = 0; d->validity && w < (d->n + 7) / 8; w++) {   /* null rows only */
      if (d->validity[w] == 0xff) continue;
      for (int64_t i = w * 8; i < w * 8 + 8 && i < d->n; i++) {
        if (!is_null(d, i)) continue;
        int64_t l = load_int(o + (i + 1) * ow, ow * 8, 1) - load_int(o + i * ow, ow * 8, 1);
        clean &= l == 0;
        total -= l;
      }
    }
    if (ow == 8 && clean && fits(d, 1, 8) && fits_too(d, 2, 1))
      return reuse(d, TL_STRING, 1, 2, NULL, out);
  }
  tl_column *c;
  TL_TRY(alloc_col(d, TL_STRING, total, &c));
  int64_t *off = c->values, pos = 0;
  off[0] = 0;
  for (int64_t i = 0; i < d->n; i++) {
    if (!is_null(d, i)) {
      const char *s;
      int64_t l;
      if (id == AT_UTF8_VIEW) {
        TL_TRY(view_at(d, i, &s, &l));   /* checked above: cannot fail */
      } else {
        const uint8_t *o = d->bufs[1].p;
        int64_t a = load_int(o + i * ow, ow * 8, 1);
        l = load_int(o + (i + 1) * ow, ow * 8, 1) - a;
        s = (const char *)d->bufs[2].p + a;
      }
      if (l) memcpy(c->bytes + pos, s, (size_t)l);
      pos += l;
    }
    off[i + 1] = pos;
  }
  (void)first;
  return finish(d, c, out);
}

/* The codes of a dictionary-encoded column: as tally codes into `dict` when
** it can serve as a tally dictionary, else gathered into a plain column. */
static tl_status dec_dict(dec *d, tl_column *dict, int dict_ok, tl_column **out) {
  const ipc_type *it = &d->f->index;
  int w = it->bits / 8;
  if (it->bits != 8 && it->bits != 16 && it->bits != 32 && it->bits != 64)
    return ipc_bad(d->R, "dictionary indices of %d bits are not supported", it->bits);
  TL_TRY(need(d, 1, d->n * w, "indices"));
  const uint8_t *v = d->bufs[1].p;
  int64_t ndict = dict->length;
  int zero_nulls = 1;
  if (w == 4 && (uintptr_t)v % 4 == 0) {   /* the common case, vectorized */
    const int32_t *c = (const int32_t *)(const void *)v;
    uint32_t limit = (uint32_t)(ndict < INT32_MAX ? ndict : INT32_MAX);
    if (!codes_outside(c, d->n, limit)) {   /* else the loop below finds the row */
      for (int64_t b = 0; d->validity && b < (d->n + 7) / 8; b++) {   /* null rows: code 0? */
        if (d->validity[b] == 0xff) continue;
        for (int64_t i = b * 8; i < b * 8 + 8 && i < d->n; i++)
          if (is_null(d, i)) zero_nulls &= c[i] == 0;
      }
      goto checked;
    }
  }
  for (int64_t i = 0; i < d->n; i++) {
    int64_t x = load_int(v + i * w, it->bits, it->is_signed);
    if (is_null(d, i)) { zero_nulls &= x == 0; continue; }
    if (x < 0 || x >= ndict)
      return ipc_bad(d->R, "row %lld: dictionary index %lld is outside the dictionary of %lld "
                     "entries", (long long)i + 1, (long long)x, (long long)ndict);
  }
checked:
  if (dict_ok && w == 4 && ndict <= INT32_MAX && zero_nulls && fits(d, 1, 4))   /* any sign */
    return reuse(d, TL_STRING, 1, -1, dict, out);
  if (dict_ok) {
    tl_column *c;
    TL_TRY(check_nulls(d));
    TL_TRY(tl_column_alloc_dict(dict, d->n, d->validity != NULL, &c, ipc_err(d->R)));
    if (d->validity && d->n > 0) memcpy(c->validity, d->validity, TL_BITMAP_BYTES(d->n));
    int32_t *codes = c->values;
    for (int64_t i = 0; i < d->n; i++)
      codes[i] = is_null(d, i) ? 0 : (int32_t)load_int(v + i * w, it->bits, it->is_signed);
    return finish(d, c, out);
  }
  int64_t *rows = tl_alloc((size_t)(d->n ? d->n : 1) * sizeof *rows);
  if (!rows) return tl_error_oom(ipc_err(d->R), "read_arrow");
  for (int64_t i = 0; i < d->n; i++)
    rows[i] = is_null(d, i) ? -1 : load_int(v + i * w, it->bits, it->is_signed);
  tl_status st = tl_column_take(dict, rows, d->n, out, ipc_err(d->R));
  tl_free(rows);
  return st;
}

tl_status ipc_decode(ipc_reader *R, const ipc_field *f, int64_t n, int64_t nulls,
                     ipc_buf *bufs, int nbufs, tl_column *dict, int dict_ok,
                     tl_column **out) {
  dec d = { R, f, n, nulls, bufs, nbufs, NULL };
  if (nulls < 0 || nulls > n)
    return ipc_bad(R, "%lld nulls in %lld rows", (long long)nulls, (long long)n);
  if (nulls > 0) {
    TL_TRY(need(&d, 0, (n + 7) / 8, "validity"));
    d.validity = bufs[0].p;
  }
  if (f->dict) return dec_dict(&d, dict, dict_ok, out);
  switch (f->type.id) {
    case AT_INT: return dec_int(&d, out);
    case AT_FLOAT: case AT_DECIMAL: return dec_float(&d, out);
    case AT_BOOL: return dec_bool(&d, out);
    case AT_DATE: case AT_TIMESTAMP: return dec_time(&d, out);
    case AT_UTF8: case AT_LARGE_UTF8: case AT_UTF8_VIEW: return dec_string(&d, out);
    default:
      return ipc_bad(R, "type %s is not supported", ipc_type_name(f->type.id));
  }
}
