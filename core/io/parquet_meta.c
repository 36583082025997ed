/*
** parquet_meta.c -- Parquet's footer, the FileMetaData struct of
** parquet.thrift, decoded with the compact-protocol reader of thrift.c into
** the few fields the reader needs (parquet.h). Unknown fields are skipped;
** every count is bounded by the footer's size, so a damaged footer fails
** with a message rather than a huge allocation.
*/
#include "io/parquet.h"

#include <string.h>

#include "base/alloc.h"
#include "io/thrift.h"

/* One element of the flattened schema, before the tree is rebuilt. */
typedef struct elem {
  const uint8_t *name;
  uint32_t name_len;
  int32_t type, type_length, repetition, num_children, converted, scale, precision;
  int logical, ts_unit, int_bits, int_signed;
} elem;

#define BAD(text) do { if (!r->msg) r->msg = (text); return -1; } while (0)

/* A union such as TimeUnit or LogicalType: the id of its one member, whose
** struct is read by `inner` (NULL: skipped). */
static int read_union(th_reader *r, int *which, int (*inner)(th_reader *, int, elem *), elem *e) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more;
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &id, &t)) > 0) {
    if (t == TH_STRUCT) {
      *which = id;
      if (inner ? inner(r, id, e) < 0 : th_skip(r, t) < 0) return -1;
    } else if (th_skip_field(r, t) < 0) {
      return -1;
    }
  }
  if (more < 0) return -1;
  return th_end(r);
}

/* The struct of LogicalType member `id`: DecimalType, TimestampType or
** IntType are read, the others skipped. */
static int logical_inner(th_reader *r, int id, elem *e) {
  th_struct s;
  int16_t f;
  uint8_t t;
  int more, b;
  if (id != 5 && id != 8 && id != 10) return th_skip(r, TH_STRUCT);
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &f, &t)) > 0) {
    int32_t v;
    if (id == 5 && (f == 1 || f == 2)) {
      if (th_int32_value(r, t, &v) < 0) return -1;
      if (f == 1) e->scale = v; else e->precision = v;
    } else if (id == 8 && f == 1 && th_field_bool(t, &b) == 0) {
      (void)b;   /* isAdjustedToUTC: either way the values are UTC-based */
    } else if (id == 8 && f == 2 && t == TH_STRUCT) {
      if (read_union(r, &e->ts_unit, NULL, e) < 0) return -1;
    } else if (id == 10 && f == 1) {
      if (th_int32_value(r, t, &v) < 0) return -1;
      e->int_bits = v;
    } else if (id == 10 && f == 2 && th_field_bool(t, &b) == 0) {
      e->int_signed = b;
    } else if (th_skip_field(r, t) < 0) {
      return -1;
    }
  }
  if (more < 0) return -1;
  return th_end(r);
}

static int read_elem(th_reader *r, elem *e) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more;
  memset(e, 0, sizeof *e);
  e->type = e->converted = -1;
  e->int_signed = 1;
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &id, &t)) > 0) {
    int32_t *dst = id == 1 ? &e->type : id == 2 ? &e->type_length : id == 3 ? &e->repetition
                 : id == 5 ? &e->num_children : id == 6 ? &e->converted : id == 7 ? &e->scale
                 : id == 8 ? &e->precision : NULL;
    if (dst) {
      if (th_int32_value(r, t, dst) < 0) return -1;
    } else if (id == 4 && t == TH_BINARY) {
      if (th_binary(r, &e->name, &e->name_len) < 0) return -1;
    } else if (id == 10 && t == TH_STRUCT) {
      if (read_union(r, &e->logical, logical_inner, e) < 0) return -1;
    } else if (th_skip_field(r, t) < 0) {
      return -1;
    }
  }
  if (more < 0) return -1;
  if (!e->name) BAD("schema element without a name");
  if (e->num_children < 0) BAD("negative number of children");
  return th_end(r);
}

/* Leaves under the element at *k (itself included when it is one); *k moves
** past its subtree. */
static int count_leaves(th_reader *r, const elem *es, uint32_t n, uint32_t *k, int *leaves) {
  const elem *e = &es[(*k)++];
  if (r->depth >= TH_MAX_DEPTH) BAD("schema nested too deeply");
  if (e->num_children == 0) { (*leaves)++; return 0; }
  r->depth++;
  for (int32_t c = 0; c < e->num_children; c++) {
    if (*k >= n) BAD("schema shorter than its children counts");
    if (count_leaves(r, es, n, k, leaves) < 0) return -1;
  }
  r->depth--;
  return 0;
}

static int build_fields(th_reader *r, const elem *es, uint32_t n, pq_meta *m) {
  if (n == 0) BAD("empty schema");
  int32_t nf = es[0].num_children;
  if ((uint32_t)nf >= n + 1u) BAD("schema shorter than its children counts");
  m->fields = tl_calloc(nf > 0 ? (size_t)nf : 1, sizeof *m->fields);
  if (!m->fields) BAD("out of memory");
  uint32_t k = 1;
  for (int32_t j = 0; j < nf; j++) {
    if (k >= n) BAD("schema shorter than its children counts");
    const elem *e = &es[k];
    pq_field *f = &m->fields[j];
    f->name = tl_strndup((const char *)e->name, e->name_len);
    m->nfields = j + 1;
    if (!f->name) BAD("out of memory");
    f->leaf = m->nleaves;
    if (count_leaves(r, es, n, &k, &f->nleaves) < 0) return -1;
    m->nleaves += f->nleaves;
    f->nested = e->num_children > 0 || e->repetition == 2;
    f->type = e->type;
    f->type_length = e->type_length;
    f->repetition = e->repetition;
    f->converted = e->converted;
    f->scale = e->scale;
    f->precision = e->precision;
    f->logical = e->logical;
    f->ts_unit = e->ts_unit;
    f->int_bits = e->int_bits;
    f->int_signed = e->int_signed;
    if (!f->nested && (f->type < PQ_BOOLEAN || f->type > PQ_FLBA)) BAD("unknown physical type");
  }
  if (k != n) BAD("schema longer than its children counts");
  return 0;
}

static int read_schema(th_reader *r, pq_meta *m) {
  uint8_t et;
  uint32_t n;
  if (th_list(r, &et, &n) < 0) return -1;
  if (et != TH_STRUCT) BAD("schema is not a list of structs");
  elem *es = tl_calloc(n ? n : 1, sizeof *es);
  if (!es) BAD("out of memory");
  int rc = 0;
  for (uint32_t k = 0; k < n && rc == 0; k++) rc = read_elem(r, &es[k]);
  if (rc == 0) rc = th_list_end(r);
  if (rc == 0) rc = build_fields(r, es, n, m);
  tl_free(es);
  return rc;
}

/* Statistics: min_value and max_value win over the deprecated min and max. */
static int read_stats(th_reader *r, pq_chunk *c) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more, modern = 0;
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &id, &t)) > 0) {
    const uint8_t *p;
    uint32_t n;
    if (id == 3) {
      if (th_int64_value(r, t, &c->null_count) < 0) return -1;
    } else if (t == TH_BINARY && (id == 1 || id == 2 || id == 5 || id == 6)) {
      if (th_binary(r, &p, &n) < 0) return -1;
      int is_new = id >= 5;
      if (!is_new && modern) continue;
      if (is_new && !modern) c->smin = c->smax = NULL, modern = 1;
      if (id == 1 || id == 5) c->smax = p, c->smax_len = n;
      else c->smin = p, c->smin_len = n;
    } else if (th_skip_field(r, t) < 0) {
      return -1;
    }
  }
  if (more < 0) return -1;
  c->legacy = !modern;
  return th_end(r);
}

static int read_column_meta(th_reader *r, pq_chunk *c) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more;
  if (th_begin(r, &s) < 0) return -1;
  c->has_meta = 1;
  while ((more = th_field(r, &s, &id, &t)) > 0) {
    int rc;
    switch (id) {
      case 1: rc = th_int32_value(r, t, &c->type); break;
      case 4: rc = th_int32_value(r, t, &c->codec); break;
      case 5: rc = th_int64_value(r, t, &c->num_values); break;
      case 7: rc = th_int64_value(r, t, &c->compressed_size); break;
      case 9: rc = th_int64_value(r, t, &c->data_offset); break;
      case 11: rc = th_int64_value(r, t, &c->dict_offset); break;
      case 12: rc = t == TH_STRUCT ? read_stats(r, c) : th_skip_field(r, t); break;
      default: rc = th_skip_field(r, t);
    }
    if (rc < 0) return -1;
  }
  if (more < 0) return -1;
  return th_end(r);
}

static int read_chunk(th_reader *r, pq_chunk *c) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more;
  c->dict_offset = -1;
  c->null_count = -1;
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &id, &t)) > 0) {
    if (id == 1 && t == TH_BINARY) BAD("column chunk in another file (file_path)");
    if (id == 3 && t == TH_STRUCT) {
      if (read_column_meta(r, c) < 0) return -1;
    } else if (th_skip_field(r, t) < 0) {
      return -1;
    }
  }
  if (more < 0) return -1;
  if (!c->has_meta) BAD("column chunk without metadata");
  return th_end(r);
}

static int read_group(th_reader *r, pq_group *g) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more, seen = 0;
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &id, &t)) > 0) {
    if (id == 1 && t == TH_LIST) {
      uint8_t et;
      uint32_t n;
      if (g->chunks || th_list(r, &et, &n) < 0) BAD("bad column chunk list");
      if (et != TH_STRUCT) BAD("column chunks are not structs");
      g->chunks = tl_calloc(n ? n : 1, sizeof *g->chunks);
      if (!g->chunks) BAD("out of memory");
      for (uint32_t k = 0; k < n; k++) {
        g->nchunks = (int)k + 1;
        if (read_chunk(r, &g->chunks[k]) < 0) return -1;
      }
      if (th_list_end(r) < 0) return -1;
    } else if (id == 3) {
      if (th_int64_value(r, t, &g->num_rows) < 0) return -1;
      seen = 1;
    } else if (th_skip_field(r, t) < 0) {
      return -1;
    }
  }
  if (more < 0) return -1;
  if (!seen || g->num_rows < 0) BAD("row group without a row count");
  return th_end(r);
}

static int read_groups(th_reader *r, pq_meta *m) {
  uint8_t et;
  uint32_t n;
  if (m->groups || th_list(r, &et, &n) < 0) BAD("bad row group list");
  if (et != TH_STRUCT) BAD("row groups are not structs");
  m->groups = tl_calloc(n ? n : 1, sizeof *m->groups);
  if (!m->groups) BAD("out of memory");
  for (uint32_t k = 0; k < n; k++) {
    m->ngroups = (int)k + 1;
    if (read_group(r, &m->groups[k]) < 0) return -1;
  }
  return th_list_end(r);
}

int pq_meta_read(const uint8_t *data, size_t len, pq_meta *m, const char **msg,
                 size_t *where) {
  th_reader rd, *r = &rd;
  th_struct s;
  int16_t id;
  uint8_t t;
  int more, rc = 0, schema = 0;
  memset(m, 0, sizeof *m);
  m->num_rows = -1;
  th_init(r, data, len);
  if (th_begin(r, &s) < 0) rc = -1;
  while (rc == 0 && (more = th_field(r, &s, &id, &t)) != 0) {
    if (more < 0) rc = -1;
    else if (id == 2 && t == TH_LIST && !schema) { rc = read_schema(r, m); schema = 1; }
    else if (id == 3) rc = th_int64_value(r, t, &m->num_rows);
    else if (id == 4 && t == TH_LIST) rc = read_groups(r, m);
    else rc = th_skip_field(r, t);
  }
  if (rc == 0 && !schema) { r->msg = "no schema"; rc = -1; }
  if (rc == 0 && m->num_rows < 0) { r->msg = "no row count"; rc = -1; }
  if (rc < 0) {
    *msg = r->msg ? r->msg : "malformed";
    *where = th_offset(r);
    return -1;
  }
  return 0;
}

void pq_meta_free(pq_meta *m) {
  for (int j = 0; j < m->nfields; j++) tl_free(m->fields[j].name);
  tl_free(m->fields);
  for (int g = 0; g < m->ngroups; g++) tl_free(m->groups[g].chunks);
  tl_free(m->groups);
  memset(m, 0, sizeof *m);
}
