/*
** arrow_ipc_read.c -- tl_read_arrow: an Arrow IPC file (magic "ARROW1",
** footer of blocks) or stream (encapsulated messages up to the
** end-of-stream marker) as a table. The file is mapped; the messages'
** flatbuffers are read through flatbuf.c, the buffers of each record batch
** are checked against the body and the file, decompressed (LZ4 frame,
** zstd) when the batch says so, and handed to arrow_ipc_decode.c, which
** points columns into the mapping where the layout allows. Several record
** batches are concatenated.
*/
#include <lz4frame.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "arrow_ipc.h"
#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/mapfile.h"
#include "base/pool.h"
#include "base/table.h"
#include "base/wrap.h"
#include "flatbuf.h"

#define MAX_DEPTH 64          /* nesting of a schema's fields */
#define MAX_SCHEMA_NODES 100000
#define MAX_ROWS ((int64_t)1 << 48)

/* The file the columns stand on: see base/mapfile.h. */
static const tl_mapfile_kind ARROW = { "read_arrow", "Arrow file", "read", "read" };

typedef struct dict_entry {
  int64_t id;
  int field;           /* the schema field it belongs to */
  tl_column *col;      /* decoded values; NULL until its batch is read */
  int ok;              /* a plain string column fit to be a tally dictionary */
} dict_entry;

struct ipc_reader {
  const char *op, *path;
  tl_error *err;
  char part[200];
  const uint8_t *p;
  size_t size;
  tl_mapfile *map;
  const tl_arrow_read_options *opts;
  ipc_field *fields;
  int nfields;
  int *order;          /* output column k is field order[k] */
  int ncols;
  dict_entry *dicts;
  int ndicts;
  tl_table **batches;
  int64_t nbatches, cap;
  int64_t ndict_batches;
  int schema_nodes;
  struct inflated *ahead;   /* the current batch's buffers, decompressed ahead */
};

tl_status ipc_bad(ipc_reader *R, const char *fmt, ...) {
  char msg[TL_ERROR_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tl_error_set(R->err, TL_EPARSE, "%s: %s: %s%s%s", R->op, R->path, R->part,
                      R->part[0] ? ": " : "", msg);
}

tl_error *ipc_err(ipc_reader *R) { return R->err; }
tl_mapfile *ipc_mapping(ipc_reader *R) { return R->map; }

tl_status ipc_wrap(ipc_reader *R, tl_type type, int64_t n, const uint8_t *validity,
                   int64_t nulls, const void *values, const char *bytes, int64_t nbytes,
                   tl_column *dict, tl_column **out) {
  static _Alignas(64) const uint8_t empty[64];
  tl_column *c = tl_calloc(1, sizeof *c);
  if (!c) return tl_error_oom(R->err, R->op);
  atomic_init(&c->refs, 1);
  c->type = type;
  c->length = n;
  c->null_count = validity ? nulls : 0;
  c->validity = c->null_count ? (uint8_t *)(uintptr_t)validity : NULL;   /* read-only */
  c->values = (void *)(uintptr_t)(n ? values : empty);
  c->bytes = type == TL_STRING && !dict ? (char *)(uintptr_t)bytes : NULL;
  c->nbytes = type == TL_STRING && !dict ? nbytes : 0;
  c->dict = tl_column_retain(dict);
  tl_mapfile_attach(c, R->map);
  *out = c;
  return TL_OK;
}

static void set_part(ipc_reader *R, const char *fmt, ...) TL_PRINTF(2, 3);
static void set_part(ipc_reader *R, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(R->part, sizeof R->part, fmt, ap);
  va_end(ap);
}

/* ---------------------------------------------------------------------------
** The schema
*/

static tl_status fbfail(ipc_reader *R, const char *msg) {
  return ipc_bad(R, "damaged metadata (%s)", msg);
}
#define FB(call) do { if ((call) < 0) return fbfail(R, msg); } while (0)

static tl_status read_int_type(ipc_reader *R, const fb_table *t, ipc_type *ty) {
  const char *msg;
  int32_t bits;
  uint8_t sgn;
  FB(fb_i32(t, 0, 0, &bits, &msg));
  FB(fb_u8(t, 1, 0, &sgn, &msg));
  ty->bits = bits;
  ty->is_signed = sgn != 0;
  return TL_OK;
}

/* The type of field f (union at ids 2 and 3). */
static tl_status read_type(ipc_reader *R, const fb_table *f, ipc_type *ty) {
  const char *msg;
  uint8_t id;
  fb_table t;
  int16_t s16;
  int32_t i32;
  memset(ty, 0, sizeof *ty);
  FB(fb_u8(f, 2, 0, &id, &msg));
  int has = fb_table_field(f, 3, &t, &msg);
  FB(has);
  ty->id = id < AT_COUNT ? id : AT_COUNT;
  if (has != 1) return TL_OK;   /* parameters take their defaults */
  switch (id) {
    case AT_INT: return read_int_type(R, &t, ty);
    case AT_FLOAT: FB(fb_i16(&t, 0, 0, &s16, &msg)); ty->precision = s16; break;
    case AT_DECIMAL:
      FB(fb_i32(&t, 1, 0, &i32, &msg)); ty->scale = i32;
      FB(fb_i32(&t, 2, 128, &i32, &msg)); ty->bits = i32;
      break;
    case AT_DATE: FB(fb_i16(&t, 0, DATE_MILLI, &s16, &msg)); ty->unit = s16; break;
    case AT_TIMESTAMP: FB(fb_i16(&t, 0, 0, &s16, &msg)); ty->unit = s16; break;
    default: break;
  }
  return TL_OK;
}

static int is_view(int t) { return t == AT_UTF8_VIEW || t == AT_BINARY_VIEW; }

/* Adds the nodes, buffers and views of field t's subtree to f. */
static tl_status count_subtree(ipc_reader *R, const fb_table *t, int depth, ipc_field *f) {
  const char *msg;
  ipc_type ty;
  fb_table d;
  fb_vec kids;
  if (depth > MAX_DEPTH) return ipc_bad(R, "fields nested deeper than %d", MAX_DEPTH);
  if (++R->schema_nodes > MAX_SCHEMA_NODES)
    return ipc_bad(R, "more than %d fields", MAX_SCHEMA_NODES);
  TL_TRY(read_type(R, t, &ty));
  int dict = fb_table_field(t, 4, &d, &msg);
  FB(dict);
  f->nnodes++;
  f->nbufs += dict == 1 ? 2 : ipc_type_buffers(ty.id);
  f->nviews += dict != 1 && is_view(ty.id);
  FB(fb_vector(t, 5, 4, &kids, &msg));
  for (uint32_t k = 0; k < kids.len; k++) {
    fb_table c;
    FB(fb_vec_table(&kids, k, &c, &msg));
    TL_TRY(count_subtree(R, &c, depth + 1, f));
  }
  return TL_OK;
}

static int supported(int t) {
  switch (t) {
    case AT_INT: case AT_FLOAT: case AT_DECIMAL: case AT_BOOL: case AT_DATE: case AT_TIMESTAMP:
    case AT_UTF8: case AT_LARGE_UTF8: case AT_UTF8_VIEW: return 1;
    default: return 0;
  }
}

static int nested(int t) {
  switch (t) {
    case AT_LIST: case AT_STRUCT: case AT_UNION: case AT_FIXED_LIST: case AT_MAP:
    case AT_LARGE_LIST: case AT_RUN_END: case AT_LIST_VIEW: case AT_LARGE_LIST_VIEW: return 1;
    default: return 0;
  }
}

static tl_status read_field(ipc_reader *R, const fb_table *t, int j, ipc_field *f) {
  const char *msg, *name;
  uint32_t len;
  fb_table d, it;
  FB(fb_string(t, 0, &name, &len, &msg));
  if (len == 0) return ipc_bad(R, "field %d has an empty name", j + 1);
  if (memchr(name, 0, len)) return ipc_bad(R, "field %d has a name with a NUL byte", j + 1);
  if (!(f->name = tl_strndup(name, len))) return tl_error_oom(R->err, R->op);
  TL_TRY(read_type(R, t, &f->type));
  TL_TRY(count_subtree(R, t, 0, f));
  int has = fb_table_field(t, 4, &d, &msg);
  FB(has);
  if (has == 1) {
    f->dict = 1;
    FB(fb_i64(&d, 0, 0, &f->dict_id, &msg));
    int hi = fb_table_field(&d, 1, &it, &msg);
    FB(hi);
    f->index.id = AT_INT;
    f->index.bits = 32;
    f->index.is_signed = 1;
    if (hi == 1) TL_TRY(read_int_type(R, &it, &f->index));
  }
  if (nested(f->type.id)) f->nested = ipc_type_name(f->type.id);
  return TL_OK;
}

/* Which fields become columns, in what order: every supported one, or the
** ones `columns` names. */
static tl_status choose(ipc_reader *R) {
  const tl_arrow_read_options *o = R->opts;
  int n = o && o->columns ? o->ncolumns : R->nfields;
  R->order = tl_calloc((size_t)n + 1, sizeof *R->order);
  if (!R->order) return tl_error_oom(R->err, R->op);
  for (int j = 0; j < R->nfields; j++) R->fields[j].skip = 1;
  for (int k = 0; k < n; k++) {
    int j = k;
    if (o && o->columns) {
      const char *want = o->columns[k];
      for (j = 0; j < R->nfields && strcmp(R->fields[j].name, want) != 0; j++) {}
      if (j == R->nfields) {
        const char **names = tl_calloc((size_t)R->nfields + 1, sizeof *names);
        if (!names) return tl_error_oom(R->err, R->op);
        for (int i = 0; i < R->nfields; i++) names[i] = R->fields[i].name;
        const char *near = tl_suggest(want, names, R->nfields);
        tl_status st = ipc_bad(R, "no column '%s'%s%s%s", want, near ? " (did you mean '" : "",
                               near ? near : "", near ? "'?)" : "");
        tl_free(names);
        return st;
      }
      if (!R->fields[j].skip) return ipc_bad(R, "column '%s' is asked for twice", want);
    }
    ipc_field *f = &R->fields[j];
    if (f->nested)
      return ipc_bad(R, "column '%s' is a nested column (%s), which tally cannot hold: leave it "
                     "out with the option columns", f->name, f->nested);
    if (!supported(f->type.id))
      return ipc_bad(R, "column '%s' has type %s, which is not supported: leave it out with "
                     "the option columns", f->name, ipc_type_name(f->type.id));
    if (f->dict && f->index.id == AT_INT && (f->index.bits < 8 || f->index.bits > 64))
      return ipc_bad(R, "column '%s' has dictionary indices of %d bits", f->name,
                     f->index.bits);
    f->skip = 0;
    R->order[k] = j;
  }
  R->ncols = n;
  return TL_OK;
}

static tl_status read_schema(ipc_reader *R, const fb_table *s) {
  const char *msg;
  int16_t endian;
  fb_vec fields;
  set_part(R, "schema");
  FB(fb_i16(s, 0, 0, &endian, &msg));
  if (endian != 0) return ipc_bad(R, "big-endian data is not supported");
  FB(fb_vector(s, 1, 4, &fields, &msg));
  if (fields.len > 100000) return ipc_bad(R, "%lu fields", (unsigned long)fields.len);
  R->fields = tl_calloc((size_t)fields.len + 1, sizeof *R->fields);
  if (!R->fields) return tl_error_oom(R->err, R->op);
  R->nfields = (int)fields.len;
  for (uint32_t j = 0; j < fields.len; j++) {
    fb_table f;
    FB(fb_vec_table(&fields, j, &f, &msg));
    TL_TRY(read_field(R, &f, (int)j, &R->fields[j]));
    for (uint32_t i = 0; i < j; i++)
      if (strcmp(R->fields[i].name, R->fields[j].name) == 0)
        return ipc_bad(R, "duplicate column name '%s'", R->fields[j].name);
    if (R->fields[j].dict) {
      for (int k = 0; k < R->ndicts; k++)
        if (R->dicts[k].id == R->fields[j].dict_id)
          return ipc_bad(R, "columns '%s' and '%s' share dictionary %lld",
                         R->fields[R->dicts[k].field].name, R->fields[j].name,
                         (long long)R->fields[j].dict_id);
      dict_entry *d = tl_realloc(R->dicts, ((size_t)R->ndicts + 1) * sizeof *d);
      if (!d) return tl_error_oom(R->err, R->op);
      R->dicts = d;
      d[R->ndicts++] = (dict_entry){ R->fields[j].dict_id, (int)j, NULL, 0 };
    }
  }
  return choose(R);
}

/* ---------------------------------------------------------------------------
** Messages and their bodies
*/

typedef struct message {
  uint8_t type;        /* MH_* */
  fb_table header;
  const uint8_t *body;
  int64_t body_len;
  size_t next;         /* where the next message starts */
  int eos;
} message;

static uint32_t ld32(const uint8_t *p) { return (uint32_t)fb_load_i32(p); }

/* The encapsulated message at pos, which must end by `end`. */
static tl_status read_message(ipc_reader *R, size_t pos, size_t end, message *m) {
  const char *msg;
  memset(m, 0, sizeof *m);
  if (end < pos || end - pos < 4)
    return ipc_bad(R, "truncated at byte %zu (a message's length is missing)", pos);
  size_t meta = pos + 4;
  uint32_t len = ld32(R->p + pos);
  if (len == 0xFFFFFFFFu) {   /* continuation marker, then the length */
    if (end - pos < 8) return ipc_bad(R, "truncated at byte %zu (a message's length is missing)", pos);
    len = ld32(R->p + pos + 4);
    meta += 4;
  }
  if (len == 0) { m->eos = 1; m->next = meta; return TL_OK; }
  if (len > end - meta)
    return ipc_bad(R, "truncated or damaged: a message of %lu bytes at byte %zu overruns the "
                   "file", (unsigned long)len, meta);
  fb_table t;
  int16_t version;
  FB(fb_root(R->p + meta, len, &t, &msg));
  FB(fb_i16(&t, 0, 0, &version, &msg));
  if (version < 3) return ipc_bad(R, "metadata version V%d is too old (V4 and V5 are read)", version + 1);
  FB(fb_u8(&t, 1, 0, &m->type, &msg));
  int has = fb_table_field(&t, 2, &m->header, &msg);
  FB(has);
  if (has != 1) return ipc_bad(R, "a message without a header");
  FB(fb_i64(&t, 3, 0, &m->body_len, &msg));
  size_t body = meta + len;
  if (m->body_len < 0 || (uint64_t)m->body_len > end - body)
    return ipc_bad(R, "truncated or damaged: a message body of %lld bytes at byte %zu overruns "
                   "the file", (long long)m->body_len, body);
  m->body = R->p + body;
  m->next = body + (size_t)m->body_len;
  return TL_OK;
}

/* What decompressing a buffer can find wrong. */
enum { INF_OK, INF_NO_LENGTH, INF_BAD_LENGTH, INF_DAMAGED, INF_OOM };

/* Decompresses src (its 8-byte length prefix first) with codec into *out;
** an INF_ code. Runs on worker threads: touches nothing shared. */
static int inflate(int codec, const uint8_t *src, int64_t len, ipc_buf *out) {
  if (len < 8) return INF_NO_LENGTH;
  int64_t ulen = fb_load_i64(src);
  if (ulen == -1) {   /* stored as is */
    out->p = src + 8;
    out->len = len - 8;
    return INF_OK;
  }
  /* Neither codec expands a byte past these ratios (an LZ4 sequence byte
  ** stands for at most 255 bytes; a 4-byte zstd RLE block for 128 KiB). */
  int64_t most = codec == IPC_ZSTD ? (len - 8) * 32768 : (len - 8) * 256 + 65536;
  if (ulen < 0 || ulen > most) return INF_BAD_LENGTH;
  if (codec == IPC_ZSTD) {
    unsigned long long fs = ZSTD_getFrameContentSize(src + 8, (size_t)len - 8);
    if (fs != ZSTD_CONTENTSIZE_UNKNOWN && fs != (unsigned long long)ulen) return INF_DAMAGED;
  }
  uint8_t *dst = tl_alloc((size_t)ulen + 1);
  if (!dst) return INF_OOM;
  size_t got = 0;
  int okay = 1;
  if (codec == IPC_ZSTD) {
    size_t r = ZSTD_decompress(dst, (size_t)ulen, src + 8, (size_t)len - 8);
    okay = !ZSTD_isError(r);
    got = okay ? r : 0;
  } else {
    LZ4F_dctx *ctx;
    okay = !LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION));
    const uint8_t *s = src + 8, *se = src + len;
    int made = okay;
    while (okay && s < se) {
      size_t dn = (size_t)ulen - got, sn = (size_t)(se - s);
      size_t r = LZ4F_decompress(ctx, dst + got, &dn, s, &sn, NULL);
      if (LZ4F_isError(r) || (dn == 0 && sn == 0)) { okay = 0; break; }
      got += dn;
      s += sn;
      if (r == 0) break;   /* the frame is complete */
    }
    if (made) LZ4F_freeDecompressionContext(ctx);
  }
  if (!okay || got != (size_t)ulen) {
    tl_free(dst);
    return INF_DAMAGED;
  }
  out->p = dst;
  out->len = ulen;
  out->owned = dst;
  return INF_OK;
}

/* The error of an INF_ code for buffer k. */
static tl_status inflate_error(ipc_reader *R, int codec, int k, int why) {
  switch (why) {
    case INF_NO_LENGTH: return ipc_bad(R, "buffer %d: compressed without its length", k);
    case INF_BAD_LENGTH: return ipc_bad(R, "buffer %d: damaged length prefix", k);
    case INF_OOM: return tl_error_oom(R->err, R->op);
    default: return ipc_bad(R, "buffer %d: damaged %s data", k, codec == IPC_ZSTD ? "zstd" : "LZ4");
  }
}

/* Buffers of the current batch decompressed ahead, on every core: slot k
** holds buffer k (taken by get_buffer) and what went wrong with it. */
struct inflated {
  ipc_buf buf;
  int why;             /* INF_ code */
  int done;            /* decompressed ahead */
};
typedef struct inflated inflated;

/* Buffer k of a batch: inside the body, decompressed when codec >= 0. */
static tl_status get_buffer(ipc_reader *R, const fb_vec *bufs, int k, const message *m,
                            int codec, ipc_buf *out) {
  memset(out, 0, sizeof *out);
  if ((uint32_t)k >= bufs->len) return ipc_bad(R, "buffer %d is missing", k);
  const uint8_t *b = fb_vec_struct(bufs, (uint32_t)k);
  int64_t off = fb_load_i64(b), len = fb_load_i64(b + 8);
  if (off < 0 || len < 0 || off > m->body_len || len > m->body_len - off)
    return ipc_bad(R, "buffer %d (%lld bytes at %lld) is outside the body of %lld bytes", k,
                   (long long)len, (long long)off, (long long)m->body_len);
  static const uint8_t none[8];
  out->p = len ? m->body + off : none;
  out->len = len;
  if (codec >= 0 && len > 0) {
    inflated *pre = R->ahead ? &R->ahead[k] : NULL;
    int why;
    if (pre && pre->done) {
      *out = pre->buf;
      pre->buf.owned = NULL;   /* the caller's now */
      why = pre->why;
    } else {
      why = inflate(codec, m->body + off, len, out);
    }
    return why == INF_OK ? TL_OK : inflate_error(R, codec, k, why);
  }
  out->mapped = len > 0;
  return TL_OK;
}

typedef struct ahead_job {
  const fb_vec *bufs;
  const message *m;
  int codec;
  inflated *slots;
} ahead_job;

static void ahead_task(void *ctx, int64_t k, int worker) {
  (void)worker;
  ahead_job *J = ctx;
  inflated *s = &J->slots[k];
  if (!s->done) return;   /* not wanted */
  const uint8_t *b = fb_vec_struct(J->bufs, (uint32_t)k);
  int64_t off = fb_load_i64(b), len = fb_load_i64(b + 8);
  if (off < 0 || len <= 0 || off > J->m->body_len || len > J->m->body_len - off) {
    s->done = 0;   /* get_buffer reports it */
    return;
  }
  s->why = inflate(J->codec, J->m->body + off, len, &s->buf);
}

static void free_buffers(ipc_buf *b, int n) {
  for (int k = 0; k < n; k++) tl_free(b[k].owned);
}

/* The parts of a RecordBatch table: length, nodes, buffers, codec, counts
** of variadic buffers. */
typedef struct batch {
  int64_t length;
  fb_vec nodes, bufs, variadic;
  int codec;           /* -1: none */
} batch;

static tl_status read_batch_meta(ipc_reader *R, const fb_table *t, batch *b) {
  const char *msg;
  fb_table comp;
  FB(fb_i64(t, 0, 0, &b->length, &msg));
  if (b->length < 0 || b->length > MAX_ROWS) return ipc_bad(R, "%lld rows", (long long)b->length);
  FB(fb_vector(t, 1, 16, &b->nodes, &msg));
  FB(fb_vector(t, 2, 16, &b->bufs, &msg));
  FB(fb_vector(t, 4, 8, &b->variadic, &msg));
  int has = fb_table_field(t, 3, &comp, &msg);
  FB(has);
  b->codec = -1;
  if (has == 1) {
    uint8_t codec, method;
    FB(fb_u8(&comp, 0, 0, &codec, &msg));
    FB(fb_u8(&comp, 1, 0, &method, &msg));
    if (codec > IPC_ZSTD) return ipc_bad(R, "unknown compression codec %d", codec);
    if (method != 0) return ipc_bad(R, "unknown compression method %d", method);
    b->codec = codec;
  }
  return TL_OK;
}

/* Field f of batch b from node *ni and buffers *bi on (advanced past it). */
static tl_status read_column(ipc_reader *R, const ipc_field *f, const batch *b,
                             const message *m, int64_t *ni, int64_t *bi, int64_t *vi,
                             int64_t rows, tl_column *dict, int dict_ok, tl_column **out) {
  if (*ni >= b->nodes.len) return ipc_bad(R, "field node %lld is missing", (long long)*ni);
  const uint8_t *node = fb_vec_struct(&b->nodes, (uint32_t)*ni);
  int64_t n = fb_load_i64(node), nulls = fb_load_i64(node + 8);
  (*ni)++;
  if (n != rows)
    return ipc_bad(R, "%lld rows in a batch of %lld", (long long)n, (long long)rows);
  int nb = f->dict ? 2 : ipc_type_buffers(f->type.id);
  if (!f->dict && is_view(f->type.id)) {
    if (*vi >= b->variadic.len) return ipc_bad(R, "the count of data buffers is missing");
    int64_t extra = fb_vec_i64(&b->variadic, (uint32_t)*vi);
    (*vi)++;
    if (extra < 0 || extra > (int64_t)b->bufs.len)
      return ipc_bad(R, "%lld data buffers", (long long)extra);
    nb += (int)extra;
  }
  ipc_buf *bufs = tl_calloc((size_t)nb + 1, sizeof *bufs);
  if (!bufs) return tl_error_oom(R->err, R->op);
  tl_status st = TL_OK;
  for (int k = 0; k < nb && st == TL_OK; k++)
    st = get_buffer(R, &b->bufs, (int)(*bi + k), m, b->codec, &bufs[k]);
  if (st == TL_OK) st = ipc_decode(R, f, n, nulls, bufs, nb, dict, dict_ok, out);
  *bi += nb;
  free_buffers(bufs, nb);
  tl_free(bufs);
  return st;
}

static dict_entry *find_dict(ipc_reader *R, int64_t id) {
  for (int k = 0; k < R->ndicts; k++)
    if (R->dicts[k].id == id) return &R->dicts[k];
  return NULL;
}

/* Steps past a field not read: its nodes and buffers, variadic ones too. */
static tl_status skip_field(ipc_reader *R, const ipc_field *f, const batch *b, int64_t *ni,
                            int64_t *bi, int64_t *vi) {
  *ni += f->nnodes;
  *bi += f->nbufs;
  for (int k = 0; k < f->nviews; k++, (*vi)++) {
    if (*vi >= b->variadic.len) return ipc_bad(R, "the count of data buffers is missing");
    int64_t extra = fb_vec_i64(&b->variadic, (uint32_t)*vi);
    if (extra < 0 || extra > (int64_t)b->bufs.len)
      return ipc_bad(R, "%lld data buffers", (long long)extra);
    *bi += extra;
  }
  return TL_OK;
}

/* The number of buffers of field f in batch b from variadic count *vi on;
** -1 when the batch does not say (the walk of record_batch reports it). */
static int64_t field_buffers(const ipc_field *f, const batch *b, int64_t *vi) {
  int64_t nb = f->skip ? f->nbufs : f->dict ? 2 : ipc_type_buffers(f->type.id);
  int views = f->skip ? f->nviews : !f->dict && is_view(f->type.id);
  for (int k = 0; k < views; k++, (*vi)++) {
    if (*vi >= b->variadic.len) return -1;
    int64_t extra = fb_vec_i64(&b->variadic, (uint32_t)*vi);
    if (extra < 0 || extra > (int64_t)b->bufs.len) return -1;
    nb += extra;
  }
  return nb;
}

/* Decompresses the buffers of the columns read from batch b on every core,
** into R->ahead; errors are left for get_buffer to report in order. */
static void inflate_ahead(ipc_reader *R, const batch *b, const message *m) {
  inflated *slots = tl_calloc((size_t)b->bufs.len + 1, sizeof *slots);
  if (!slots) return;   /* then one by one, as they are read */
  int64_t bi = 0, vi = 0;
  for (int j = 0; j < R->nfields; j++) {
    const ipc_field *f = &R->fields[j];
    int64_t nb = field_buffers(f, b, &vi);
    if (nb < 0) break;
    for (int64_t k = bi; !f->skip && k < bi + nb && k < (int64_t)b->bufs.len; k++)
      slots[k].done = 1;
    bi += nb;
  }
  ahead_job J = { &b->bufs, m, b->codec, slots };
  tl_parallel_for((int64_t)b->bufs.len, ahead_task, &J);
  R->ahead = slots;
}

static void drop_ahead(ipc_reader *R, const batch *b) {
  if (!R->ahead) return;
  for (uint32_t k = 0; k < b->bufs.len; k++) tl_free(R->ahead[k].buf.owned);
  tl_free(R->ahead);
  R->ahead = NULL;
}

static tl_status add_batch(ipc_reader *R, tl_table *t) {
  if (R->nbatches == R->cap) {
    int64_t cap = R->cap ? 2 * R->cap : 8;
    tl_table **b = tl_realloc(R->batches, (size_t)cap * sizeof *b);
    if (!b) { tl_table_release(t); return tl_error_oom(R->err, R->op); }
    R->batches = b;
    R->cap = cap;
  }
  R->batches[R->nbatches++] = t;
  return TL_OK;
}

static tl_status record_batch(ipc_reader *R, const message *m) {
  batch b;
  set_part(R, "record batch %lld", (long long)R->nbatches);
  TL_TRY(read_batch_meta(R, &m->header, &b));
  tl_column **cols = tl_calloc((size_t)R->nfields + 1, sizeof *cols);
  if (!cols) return tl_error_oom(R->err, R->op);
  int64_t ni = 0, bi = 0, vi = 0;
  tl_status st = TL_OK;
  int64_t at = R->nbatches;
  if (b.codec >= 0 && b.bufs.len > 1) inflate_ahead(R, &b, m);
  for (int j = 0; j < R->nfields && st == TL_OK; j++) {
    const ipc_field *f = &R->fields[j];
    if (f->skip) { st = skip_field(R, f, &b, &ni, &bi, &vi); continue; }
    set_part(R, "record batch %lld, column '%s'", (long long)at, f->name);
    dict_entry *d = f->dict ? find_dict(R, f->dict_id) : NULL;
    if (f->dict && (!d || !d->col)) {
      st = ipc_bad(R, "dictionary %lld was not read before", (long long)f->dict_id);
      break;
    }
    st = read_column(R, f, &b, m, &ni, &bi, &vi, b.length, d ? d->col : NULL, d ? d->ok : 0,
                     &cols[j]);
  }
  tl_table *t = NULL;
  if (st == TL_OK) {
    char **names = tl_calloc((size_t)R->ncols + 1, sizeof *names);
    tl_column **out = tl_calloc((size_t)R->ncols + 1, sizeof *out);
    int k = 0;
    for (; names && out && k < R->ncols; k++) {
      if (!(names[k] = tl_strdup(R->fields[R->order[k]].name))) break;
      out[k] = cols[R->order[k]];
      cols[R->order[k]] = NULL;
    }
    if (k < R->ncols) {
      for (int i = 0; names && i < k; i++) tl_free(names[i]);
      for (int i = 0; out && i < k; i++) tl_column_release(out[i]);
      tl_free(names);
      tl_free(out);
      st = tl_error_oom(R->err, R->op);
    } else {
      st = tl_table_adopt(R->ncols, names, out, &t, R->err);
    }
  }
  for (int j = 0; j < R->nfields; j++) tl_column_release(cols[j]);
  tl_free(cols);
  drop_ahead(R, &b);
  if (st == TL_OK) st = add_batch(R, t);
  return st;
}

/* A plain string column fit to be a tally dictionary. */
static int dict_fit(const tl_column *c) {
  return c->type == TL_STRING && !c->dict && c->null_count == 0 && tl_dict_is_valid(c) == 1;
}

static tl_status dictionary_batch(ipc_reader *R, const message *m) {
  const char *msg;
  int64_t id;
  uint8_t delta;
  fb_table data;
  batch b;
  set_part(R, "dictionary batch %lld", (long long)R->ndict_batches++);
  FB(fb_i64(&m->header, 0, 0, &id, &msg));
  FB(fb_u8(&m->header, 2, 0, &delta, &msg));
  int has = fb_table_field(&m->header, 1, &data, &msg);
  FB(has);
  if (has != 1) return ipc_bad(R, "no data");
  dict_entry *d = find_dict(R, id);
  if (!d) return ipc_bad(R, "dictionary %lld belongs to no column", (long long)id);
  ipc_field f = R->fields[d->field];
  if (f.skip) return TL_OK;
  f.dict = 0;
  set_part(R, "dictionary batch %lld (column '%s')", (long long)R->ndict_batches - 1, f.name);
  TL_TRY(read_batch_meta(R, &data, &b));
  int64_t ni = 0, bi = 0, vi = 0;
  tl_column *c;
  TL_TRY(read_column(R, &f, &b, m, &ni, &bi, &vi, b.length, NULL, 0, &c));
  if (delta && d->col) {   /* appended to the dictionary so far */
    tl_table *parts[2] = { NULL, NULL }, *joined;
    const char *name = "d";
    tl_status st = tl_table_new(1, &name, &d->col, &parts[0], R->err);
    if (st == TL_OK) st = tl_table_new(1, &name, &c, &parts[1], R->err);
    if (st == TL_OK) st = tl_table_concat(2, (const tl_table *const *)parts, &joined, R->err);
    tl_column_release(c);
    tl_table_release(parts[0]);
    tl_table_release(parts[1]);
    TL_TRY(st);
    c = tl_column_retain(joined->cols[0]);
    tl_table_release(joined);
  }
  tl_column_release(d->col);
  d->col = c;
  int fit = dict_fit(c);
  d->ok = fit;
  return TL_OK;
}

static tl_status dispatch(ipc_reader *R, const message *m) {
  if (m->type == MH_RECORD_BATCH) return record_batch(R, m);
  if (m->type == MH_DICTIONARY) return dictionary_batch(R, m);
  if (m->type == MH_SCHEMA) return ipc_bad(R, "a second schema message");
  return ipc_bad(R, "unexpected message of type %d", m->type);
}

/* ---------------------------------------------------------------------------
** The two formats
*/

static tl_status read_stream(ipc_reader *R) {
  message m;
  set_part(R, "schema");
  if (R->size >= 4 && ld32(R->p) != 0xFFFFFFFFu && ld32(R->p) > R->size - 4)
    return ipc_bad(R, "not an Arrow IPC file or stream (no ARROW1 magic, no message)");
  TL_TRY(read_message(R, 0, R->size, &m));
  if (m.eos || m.type != MH_SCHEMA) return ipc_bad(R, "not an Arrow IPC file or stream "
                                                   "(no schema message first)");
  TL_TRY(read_schema(R, &m.header));
  for (size_t pos = m.next;;) {
    if (tl_interrupted()) return tl_error_interrupted(R->err, R->op);
    set_part(R, "message at byte %zu", pos);
    if (pos == R->size) return ipc_bad(R, "truncated: the stream ends without its end marker");
    TL_TRY(read_message(R, pos, R->size, &m));
    if (m.eos) return TL_OK;
    TL_TRY(dispatch(R, &m));
    pos = m.next;
  }
}

/* The message of block k of vector v, inside the part of the file before
** the footer. */
static tl_status read_block(ipc_reader *R, const fb_vec *v, uint32_t k, size_t limit,
                            message *m) {
  const uint8_t *b = fb_vec_struct(v, k);
  int64_t off = fb_load_i64(b), body = fb_load_i64(b + 16);
  int32_t meta = fb_load_i32(b + 8);
  if (off < 8 || meta < 8 || body < 0 || (uint64_t)off > limit ||
      (uint64_t)meta > limit - (size_t)off || (uint64_t)body > limit - (size_t)off - (size_t)meta)
    return ipc_bad(R, "block %lu of the footer is outside the file", (unsigned long)k);
  TL_TRY(read_message(R, (size_t)off, (size_t)off + (size_t)meta + (size_t)body, m));
  if (m->eos) return ipc_bad(R, "block %lu of the footer holds no message", (unsigned long)k);
  return TL_OK;
}

static tl_status read_file(ipc_reader *R) {
  const char *msg;
  fb_table footer, schema;
  fb_vec dicts, batches;
  set_part(R, "footer");
  if (R->size < 18 || memcmp(R->p + R->size - 6, "ARROW1", 6) != 0)
    return ipc_bad(R, "truncated file (it does not end with ARROW1)");
  int32_t flen = fb_load_i32(R->p + R->size - 10);
  if (flen <= 0 || (size_t)flen > R->size - 18)
    return ipc_bad(R, "damaged footer length %ld", (long)flen);
  size_t fstart = R->size - 10 - (size_t)flen;
  FB(fb_root(R->p + fstart, (size_t)flen, &footer, &msg));
  int has = fb_table_field(&footer, 1, &schema, &msg);
  FB(has);
  if (has != 1) return ipc_bad(R, "no schema");
  FB(fb_vector(&footer, 2, 24, &dicts, &msg));
  FB(fb_vector(&footer, 3, 24, &batches, &msg));
  TL_TRY(read_schema(R, &schema));
  for (uint32_t k = 0; k < dicts.len; k++) {
    message m;
    set_part(R, "dictionary batch %lld", (long long)R->ndict_batches);
    TL_TRY(read_block(R, &dicts, k, fstart, &m));
    if (m.type != MH_DICTIONARY) return ipc_bad(R, "not a dictionary batch");
    TL_TRY(dictionary_batch(R, &m));
  }
  for (uint32_t k = 0; k < batches.len; k++) {
    message m;
    if (tl_interrupted()) return tl_error_interrupted(R->err, R->op);
    set_part(R, "record batch %lld", (long long)R->nbatches);
    TL_TRY(read_block(R, &batches, k, fstart, &m));
    if (m.type != MH_RECORD_BATCH) return ipc_bad(R, "not a record batch");
    TL_TRY(record_batch(R, &m));
  }
  return TL_OK;
}

/* An empty table of the chosen columns, for a file without batches. */
static tl_status empty_table(ipc_reader *R, tl_table **out) {
  char **names = tl_calloc((size_t)R->ncols + 1, sizeof *names);
  tl_column **cols = tl_calloc((size_t)R->ncols + 1, sizeof *cols);
  tl_status st = names && cols ? TL_OK : tl_error_oom(R->err, R->op);
  int k = 0;
  for (; st == TL_OK && k < R->ncols; k++) {
    const ipc_field *f = &R->fields[R->order[k]];
    tl_type t = f->dict ? TL_STRING
              : f->type.id == AT_INT ? TL_INT
              : f->type.id == AT_FLOAT || f->type.id == AT_DECIMAL ? TL_FLOAT
              : f->type.id == AT_BOOL ? TL_BOOL
              : f->type.id == AT_DATE ? TL_DATE
              : f->type.id == AT_TIMESTAMP ? TL_TIMESTAMP : TL_STRING;
    if (!(names[k] = tl_strdup(f->name))) { st = tl_error_oom(R->err, R->op); break; }
    st = tl_column_alloc(t, 0, 0, 0, &cols[k], R->err);
    if (st != TL_OK) { tl_free(names[k]); break; }
  }
  if (st != TL_OK) {
    for (int i = 0; names && i < k; i++) tl_free(names[i]);
    for (int i = 0; cols && i < k; i++) tl_column_release(cols[i]);
    tl_free(names);
    tl_free(cols);
    return st;
  }
  return tl_table_adopt(R->ncols, names, cols, out, R->err);
}

static tl_status read_all(ipc_reader *R, tl_table **out) {
  int file = R->size >= 8 && memcmp(R->p, "ARROW1", 6) == 0;
  TL_TRY(file ? read_file(R) : read_stream(R));
  set_part(R, "%s", "");
  if (R->nbatches == 0) return empty_table(R, out);
  if (R->nbatches == 1) { *out = R->batches[0]; R->batches[0] = NULL; R->nbatches = 0; return TL_OK; }
  if (R->nbatches > INT32_MAX) return ipc_bad(R, "too many record batches");
  tl_status st = tl_table_concat((int)R->nbatches, (const tl_table *const *)R->batches, out,
                                 R->err);
  if (st != TL_OK) tl_error_rename(R->err, R->op);
  return st;
}

static void reader_free(ipc_reader *R) {
  for (int j = 0; j < R->nfields; j++) tl_free(R->fields[j].name);
  tl_free(R->fields);
  tl_free(R->order);
  for (int k = 0; k < R->ndicts; k++) tl_column_release(R->dicts[k].col);
  tl_free(R->dicts);
  for (int64_t k = 0; k < R->nbatches; k++) tl_table_release(R->batches[k]);
  tl_free(R->batches);
}

static tl_status run(tl_mapfile *m, const char *name, const tl_arrow_read_options *opts,
                     tl_table **out, tl_error *err) {
  ipc_reader R;
  memset(&R, 0, sizeof R);
  R.op = "read_arrow";
  R.path = name;
  R.err = err;
  R.p = m->data;
  R.size = m->size;
  R.map = m;
  R.opts = opts;
  tl_status st = read_all(&R, out);
  reader_free(&R);
  tl_mapfile_release(m);   /* the columns hold their own references */
  return st;
}

void tl_arrow_read_options_init(tl_arrow_read_options *opts) { memset(opts, 0, sizeof *opts); }

tl_status tl_read_arrow_buffer(const void *data, size_t len, const char *name,
                               const tl_arrow_read_options *opts, tl_table **out,
                               tl_error *err) {
  tl_mapfile *m;
  TL_TRY(tl_mapfile_copy(data, len, &ARROW, &m, err));   /* aligned as a mapping */
  return run(m, name ? name : "buffer", opts, out, err);
}

tl_status tl_read_arrow(const char *path, const tl_arrow_read_options *opts, tl_table **out,
                        tl_error *err) {
  if (tl_interrupted()) return tl_error_interrupted(err, "read_arrow");
  tl_mapfile *m;
  TL_TRY(tl_mapfile_open(path, TL_MAPFILE_WATCH, &ARROW, &m, err));
  return run(m, path, opts, out, err);
}
