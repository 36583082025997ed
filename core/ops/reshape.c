/*
** reshape.c -- wide to long (pivot_longer) and long to wide (pivot_wider).
** Rows are matched by the hashing of group_by, so that keys of every type,
** nulls and NaN are equal exactly when grouping says they are.
*/
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/table.h"
#include "base/parse.h"
#include "base/error.h"
#include "tally/tally.h"

void tl_pivot_longer_options_init(tl_pivot_longer_options *o) {
  memset(o, 0, sizeof *o);
  o->names_infer = 1;
}

void tl_pivot_wider_options_init(tl_pivot_wider_options *o) { memset(o, 0, sizeof *o); }

/* tl_table_new's error attributed to the operation ("pivot_wider:
** duplicate column name 'x'" rather than "table: ..."). */
static tl_status reprefix(tl_status st, const char *op, tl_error *err) {
  if (st != TL_OK) tl_error_rename(err, op);
  return st;
}

/* Whether to stop before row i: the interrupt is read once every 64K rows. */
#define STOP(i) (((i) & 0xffff) == 0 && tl_interrupted())

/* ---------------------------------------------------------------------------
** pivot_longer
*/

typedef struct part { const char *p; size_t n; } part;

/* The type of the names_to column made of parts[p], parts[p + stride], ... */
static tl_type part_type(const part *parts, int n, int stride, int infer) {
  int ints = 1, floats = 1;
  if (!infer) return TL_STRING;
  for (int k = 0; k < n; k++) {
    const part *q = &parts[k * stride];
    int64_t i;
    double d;
    if (tl_parse_int(q->p, q->n, &i) != 1) ints = 0;
    if (!tl_parse_float(q->p, q->n, &d)) floats = 0;
  }
  return ints ? TL_INT : floats ? TL_FLOAT : TL_STRING;
}

static tl_status append_part(tl_builder *b, const part *q, tl_error *err) {
  int64_t i;
  double d;
  switch (tl_builder_type(b)) {
    case TL_INT: tl_parse_int(q->p, q->n, &i); return tl_builder_append_int(b, i, err);
    case TL_FLOAT: tl_parse_float(q->p, q->n, &d); return tl_builder_append_float(b, d, err);
    default: return tl_builder_append_string(b, q->p, q->n, err);
  }
}

/* The type of the values: the gathered columns' type (ints with floats
** make floats); columns of nulls only take any type. */
static tl_status gathered_type(const tl_table *t, const tl_pivot_longer_options *o,
                               const int *gather, tl_type *out, tl_error *err) {
  tl_type vt = 0;
  int vfrom = -1;
  for (int k = 0; k < o->ncols; k++) {
    const tl_column *c = tl_table_column(t, gather[k]);
    tl_type ct = tl_column_type(c);
    if (tl_column_null_count(c) == tl_column_length(c) && tl_table_nrows(t) > 0) continue;
    if (vt == 0 || vt == ct) { vt = ct; vfrom = k; }
    else if ((vt == TL_INT || vt == TL_FLOAT) && (ct == TL_INT || ct == TL_FLOAT)) vt = TL_FLOAT;
    else
      return tl_error_set(err, TL_ETYPE, "pivot_longer: cannot gather column '%s' (%s) with "
                          "column '%s' (%s)", o->cols[k], tl_type_name(ct), o->cols[vfrom],
                          tl_type_name(vt));
  }
  *out = vt ? vt : tl_column_type(tl_table_column(t, gather[0]));
  return TL_OK;
}

/* Each gathered column's name as nn parts: given (names), whole, or split
** at names_sep. */
static tl_status split_names(const tl_pivot_longer_options *o, int nn, part *parts,
                             tl_error *err) {
  for (int k = 0; k < o->ncols; k++) {
    part *pk = &parts[k * nn];
    if (o->names) {
      for (int p = 0; p < nn; p++) {
        const char *s = o->names[k * nn + p];
        pk[p].p = s ? s : "";
        pk[p].n = s ? strlen(s) : 0;
      }
      continue;
    }
    if (nn == 1) {
      pk[0].p = o->cols[k];
      pk[0].n = strlen(o->cols[k]);
      continue;
    }
    const char *s = o->cols[k], *sep = o->names_sep;
    size_t sl = strlen(sep);
    int p = 0;
    for (; p < nn - 1; p++) {
      const char *e = sl ? strstr(s, sep) : NULL;
      if (!e) break;
      pk[p].p = s;
      pk[p].n = (size_t)(e - s);
      s = e + sl;
    }
    if (p < nn - 1)
      return tl_error_set(err, TL_EINVAL, "pivot_longer: column '%s' does not split into %d "
                          "parts at '%s'", o->cols[k], nn, sep);
    pk[p].p = s;
    pk[p].n = strlen(s);
  }
  return TL_OK;
}

tl_status tl_table_pivot_longer(const tl_table *t, const tl_pivot_longer_options *o,
                                tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "pivot_longer", err));
  static const char *const default_name = "name";
  const char *const op = "pivot_longer";
  if (!o || o->ncols < 1 || !o->cols)
    return tl_error_set(err, TL_EINVAL, "pivot_longer: no columns to gather");
  int ng = o->ncols, nn = o->nnames > 0 ? o->nnames : 1, ncol = tl_table_ncols(t);
  const char *const *names_to = o->nnames > 0 ? o->names_to : &default_name;
  const char *values_to = o->values_to ? o->values_to : "value";
  int64_t nrows = tl_table_nrows(t);
  if (nn > 1 && !o->names && !o->names_sep)
    return tl_error_set(err, TL_EINVAL, "pivot_longer: %d names_to columns need names_sep "
                        "or names_pattern", nn);
  if (nrows > 0 && (int64_t)ng > INT64_MAX / 8 / nrows)
    return tl_error_set(err, TL_ELIMIT, "pivot_longer: too many rows");

  int *gather = tl_calloc((size_t)ng, sizeof *gather);
  char *is_g = tl_calloc((size_t)ncol + 1, 1);
  part *parts = tl_calloc((size_t)ng * (size_t)nn, sizeof *parts);
  int64_t *rows = tl_calloc((size_t)(nrows * ng) + 1, sizeof *rows);
  int *which = tl_calloc((size_t)(nrows * ng) + 1, sizeof *which);
  int nout = ncol - ng + nn + 1;
  const char **onames = tl_calloc((size_t)nout + 1, sizeof *onames);
  tl_column **ocols = tl_calloc((size_t)nout + 1, sizeof *ocols);
  tl_builder *b = NULL;
  tl_status st = TL_OK;
  int no = 0;
  if (!gather || !is_g || !parts || !rows || !which || !onames || !ocols) {
    st = tl_error_oom(err, op);
    goto done;
  }
  for (int k = 0; k < ng && st == TL_OK; k++) {
    st = tl_table_lookup(t, o->cols[k], op, &gather[k], err);
    if (st == TL_OK && is_g[gather[k]])
      st = tl_error_set(err, TL_EINVAL, "pivot_longer: column '%s' is listed twice",
                        o->cols[k]);
    if (st == TL_OK) is_g[gather[k]] = 1;
  }
  if (st != TL_OK) goto done;

  tl_type vt = 0;
  st = gathered_type(t, o, gather, &vt, err);
  if (st != TL_OK) goto done;

  st = split_names(o, nn, parts, err);
  if (st != TL_OK) goto done;

  /* the rows: row by row, column by column */
  int64_t m = 0;
  for (int64_t i = 0; i < nrows && st == TL_OK; i++) {
    if (STOP(i)) st = tl_error_interrupted(err, op);
    for (int k = 0; k < ng && st == TL_OK; k++) {
      if (o->drop_nulls && tl_column_is_null(tl_table_column(t, gather[k]), i)) continue;
      rows[m] = i;
      which[m++] = k;
    }
  }

  for (int j = 0; j < ncol && st == TL_OK; j++) {
    if (is_g[j]) continue;
    if (tl_interrupted()) { st = tl_error_interrupted(err, op); break; }
    onames[no] = tl_table_name(t, j);
    st = tl_column_take(tl_table_column(t, j), rows, m, &ocols[no], err);
    no++;
  }
  for (int p = 0; p < nn && st == TL_OK; p++) {
    st = tl_builder_new(part_type(parts + p, ng, nn, o->names_infer), m, &b, err);
    for (int64_t r = 0; r < m && st == TL_OK; r++)
      st = STOP(r) ? tl_error_interrupted(err, op) : append_part(b, &parts[which[r] * nn + p], err);
    if (st == TL_OK) { st = tl_builder_finish(b, &ocols[no], err); b = NULL; }
    onames[no++] = names_to[p];
  }
  if (st != TL_OK) goto done;
  st = tl_builder_new(vt, m, &b, err);
  for (int64_t r = 0; r < m && st == TL_OK; r++) {
    if (STOP(r)) { st = tl_error_interrupted(err, op); break; }
    tl_scalar v;
    tl_column_get(tl_table_column(t, gather[which[r]]), rows[r], &v);
    if (!v.is_null && v.type != vt && !(v.type == TL_INT && vt == TL_FLOAT)) v.is_null = 1;
    st = tl_builder_append_scalar(b, &v, err);
  }
  if (st == TL_OK) { st = tl_builder_finish(b, &ocols[no], err); b = NULL; }
  onames[no++] = values_to;
  if (st == TL_OK) st = reprefix(tl_table_new(no, onames, ocols, out, err), op, err);

done:
  tl_builder_free(b);
  if (ocols)
    for (int j = 0; j < nout; j++) tl_column_release(ocols[j]);
  tl_free(ocols);
  tl_free(onames);
  tl_free(which);
  tl_free(rows);
  tl_free(parts);
  tl_free(is_g);
  tl_free(gather);
  return st;
}

/* ---------------------------------------------------------------------------
** pivot_wider
*/

/* Groups the rows of t by the columns idx[0..n): gid[row] and, per group,
** its first row. With no columns every row is in one group. */
static tl_status group_rows(const tl_table *t, const int *idx, int n, int32_t *gid,
                            int64_t **first, int64_t *ngroups, tl_grouping **pg,
                            tl_error *err) {
  int64_t nrows = tl_table_nrows(t);
  *pg = NULL;
  if (n == 0) {
    *ngroups = nrows > 0 ? 1 : 0;
    *first = tl_calloc(1, sizeof **first);
    if (!*first) return tl_error_oom(err, "pivot_wider");
    memset(gid, 0, (size_t)nrows * sizeof *gid);
    return TL_OK;
  }
  /* the key columns and the row numbers, under names of their own */
  char (*names)[16] = tl_calloc((size_t)n + 1, sizeof *names);
  const char **np = tl_calloc((size_t)n + 1, sizeof *np);
  tl_column **cols = tl_calloc((size_t)n + 1, sizeof *cols);
  tl_builder *b = NULL;
  tl_column *rowcol = NULL;
  tl_table *keyed = NULL;
  tl_status st = (!names || !np || !cols) ? tl_error_oom(err, "pivot_wider") : TL_OK;
  if (st == TL_OK) st = tl_builder_new(TL_INT, nrows, &b, err);
  for (int64_t i = 0; i < nrows && st == TL_OK; i++)
    st = STOP(i) ? tl_error_interrupted(err, "pivot_wider") : tl_builder_append_int(b, i, err);
  if (st == TL_OK) { st = tl_builder_finish(b, &rowcol, err); b = NULL; }
  if (st == TL_OK) {
    for (int k = 0; k <= n; k++) {
      snprintf(names[k], sizeof names[k], "%d", k);
      np[k] = names[k];
      cols[k] = k < n ? tl_table_column(t, idx[k]) : rowcol;
    }
    st = tl_table_new(n + 1, np, cols, &keyed, err);
  }
  if (st == TL_OK) st = tl_table_group_by(keyed, n, np, pg, err);
  if (st == TL_OK) {
    *ngroups = tl_grouping_count(*pg);
    *first = tl_calloc((size_t)*ngroups + 1, sizeof **first);
    if (!*first) st = tl_error_oom(err, "pivot_wider");
  }
  for (int64_t k = 0; st == TL_OK && k < *ngroups; k++) {
    if (STOP(k)) { st = tl_error_interrupted(err, "pivot_wider"); break; }
    tl_table *sub;
    st = tl_grouping_group(*pg, k, &sub, err);
    if (st != TL_OK) break;
    const int64_t *r = tl_column_ints(tl_table_column(sub, n));
    int64_t len = tl_table_nrows(sub);
    (*first)[k] = len ? r[0] : 0;
    for (int64_t i = 0; i < len; i++) {
      gid[r[i]] = (int32_t)k;
      if (r[i] < (*first)[k]) (*first)[k] = r[i];
    }
    tl_table_release(sub);
  }
  if (st == TL_EINTR) tl_error_interrupted(err, "pivot_wider");   /* group_by's, as ours */
  if (st != TL_OK) {
    tl_grouping_free(*pg);
    *pg = NULL;
  }
  tl_builder_free(b);
  tl_column_release(rowcol);
  tl_table_release(keyed);
  tl_free(cols);
  tl_free(np);
  tl_free(names);
  return st;
}

/* Appends "v" to buf at *o (strings as they are, or quoted when `quote`). */
static void add_value(char *buf, size_t size, size_t *o, const tl_column *c, int64_t i,
                      int quote) {
  tl_scalar v;
  tl_column_get(c, i, &v);
  if (*o >= size) return;
  if (!v.is_null && v.type == TL_STRING) {
    int k = snprintf(buf + *o, size - *o, quote ? "'%.*s'" : "%.*s", (int)v.v.s.len,
                     v.v.s.ptr ? v.v.s.ptr : "");
    *o += k > 0 ? (size_t)k : 0;
  } else {
    *o += tl_scalar_format(&v, buf + *o, size - *o);
  }
  if (*o >= size) *o = size - 1;
}

/* One pivot_wider: the roles of the input's columns, its two groupings
** (rows by id columns, rows by names_from), and the output being built. */
typedef struct wider {
  const tl_table *t;
  const tl_pivot_wider_options *o;
  tl_error *err;
  int nf, ni, no, vj;          /* names_from columns, id columns, output columns */
  int *fidx, *iidx;            /* column indexes of names_from, of the ids */
  char *role;                  /* a column each: 0 id, 1 names_from, 2 values_from */
  const tl_column *vc;         /* values_from */
  tl_type vt;                  /* the type of the new columns */
  const tl_scalar *fill;
  int32_t *gid, *nid;          /* a row each: its id group, its name group */
  int64_t *gfirst, *nfirst, *cellrow, ng, nn;
  tl_grouping *gg, *gn;
  char **labels;               /* a name group each: the new column's name */
  const char **onames;
  tl_column **ocols;
  tl_builder *b;
} wider;

static const char *const WIDER = "pivot_wider";

/* Which column plays which part; the id columns default to the others. */
static tl_status wider_roles(wider *w) {
  const tl_pivot_wider_options *o = w->o;
  tl_status st = TL_OK;
  for (int k = 0; k < w->nf && st == TL_OK; k++) {
    st = tl_table_lookup(w->t, o->names_from[k], WIDER, &w->fidx[k], w->err);
    if (st == TL_OK) w->role[w->fidx[k]] = 1;
  }
  if (st == TL_OK) st = tl_table_lookup(w->t, o->values_from, WIDER, &w->vj, w->err);
  if (st != TL_OK) return st;
  if (w->role[w->vj])
    return tl_error_set(w->err, TL_EINVAL, "pivot_wider: column '%s' is both in names_from "
                        "and values_from", o->values_from);
  w->role[w->vj] = 2;
  if (o->nid_cols == 0) {
    for (int j = 0; j < tl_table_ncols(w->t); j++)
      if (!w->role[j]) w->iidx[w->ni++] = j;
    return TL_OK;
  }
  for (int k = 0; k < o->nid_cols && st == TL_OK; k++) {
    int j;
    st = tl_table_lookup(w->t, o->id_cols[k], WIDER, &j, w->err);
    if (st == TL_OK && w->role[j])
      st = tl_error_set(w->err, TL_EINVAL, "pivot_wider: column '%s' cannot be an id column "
                        "and in names_from or values_from", o->id_cols[k]);
    if (st == TL_OK) w->iidx[w->ni++] = j;
  }
  return st;
}

/* The type of the values, widened to hold the fill. */
static tl_status wider_type(wider *w) {
  w->vc = tl_table_column(w->t, w->vj);
  w->vt = tl_column_type(w->vc);
  w->fill = w->o->fill && !w->o->fill->is_null ? w->o->fill : NULL;
  if (!w->fill || w->fill->type == w->vt) return TL_OK;
  if (w->vt == TL_INT && w->fill->type == TL_FLOAT) w->vt = TL_FLOAT;
  else if (!(w->vt == TL_FLOAT && w->fill->type == TL_INT))
    return tl_error_set(w->err, TL_ETYPE, "pivot_wider: fill is a %s value, but column '%s' "
                        "is of type %s", tl_type_name(w->fill->type), w->o->values_from,
                        tl_type_name(w->vt));
  return TL_OK;
}

/* The new columns' names: the names_from values of each name group. */
static tl_status wider_labels(wider *w) {
  const char *sep = w->o->names_sep ? w->o->names_sep : "_";
  for (int64_t m = 0; m < w->nn; m++) {
    char buf[1024];
    size_t len = 0;
    for (int k = 0; k < w->nf; k++) {
      if (k) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", sep);
      if (len >= sizeof buf) len = sizeof buf - 1;
      add_value(buf, sizeof buf, &len, tl_table_column(w->t, w->fidx[k]), w->nfirst[m], 0);
    }
    w->labels[m] = tl_strndup(buf, len);
    if (!w->labels[m]) return tl_error_oom(w->err, WIDER);
  }
  return TL_OK;
}

/* Which row fills each cell; two rows for one cell are an error. */
static tl_status wider_cells(wider *w) {
  for (int64_t c = 0; c < w->ng * w->nn; c++) w->cellrow[c] = -1;
  for (int64_t i = 0; i < tl_table_nrows(w->t); i++) {
    if (STOP(i)) return tl_error_interrupted(w->err, WIDER);
    int64_t c = (int64_t)w->gid[i] * w->nn + w->nid[i];
    if (w->cellrow[c] < 0) {
      w->cellrow[c] = i;
      continue;
    }
    char id[512];
    size_t len = 0;
    for (int k = 0; k < w->ni; k++) {
      if (len < sizeof id)
        len += (size_t)snprintf(id + len, sizeof id - len, "%s%s = ", k ? ", " : "",
                                tl_table_name(w->t, w->iidx[k]));
      if (len >= sizeof id) len = sizeof id - 1;
      add_value(id, sizeof id, &len, tl_table_column(w->t, w->iidx[k]), i, 1);
    }
    id[len] = '\0';
    return tl_error_set(w->err, TL_EINVAL, "pivot_wider: rows %lld and %lld have the same id "
                        "(%s) and name '%s'", (long long)w->cellrow[c] + 1, (long long)i + 1,
                        id, w->labels[w->nid[i]]);
  }
  return TL_OK;
}

/* The id columns (a row per id group), then a column per name group. */
static tl_status wider_build(wider *w, tl_table **out) {
  tl_status st = TL_OK;
  for (int k = 0; k < w->ni && st == TL_OK; k++) {
    if (tl_interrupted()) return tl_error_interrupted(w->err, WIDER);
    w->onames[w->no] = tl_table_name(w->t, w->iidx[k]);
    st = tl_column_take(tl_table_column(w->t, w->iidx[k]), w->gfirst, w->ng,
                        &w->ocols[w->no], w->err);
    w->no++;
  }
  for (int64_t m = 0; m < w->nn && st == TL_OK; m++) {
    st = tl_builder_new(w->vt, w->ng, &w->b, w->err);
    for (int64_t g = 0; g < w->ng && st == TL_OK; g++) {
      if (STOP(g)) { st = tl_error_interrupted(w->err, WIDER); break; }
      int64_t r = w->cellrow[g * w->nn + m];
      tl_scalar v;
      if (r < 0) {
        st = w->fill ? tl_builder_append_scalar(w->b, w->fill, w->err)
                     : tl_builder_append_null(w->b, w->err);
        continue;
      }
      tl_column_get(w->vc, r, &v);
      if (!v.is_null && v.type == TL_INT && w->vt == TL_FLOAT) {
        v.v.f = (double)v.v.i;
        v.type = TL_FLOAT;
      }
      st = tl_builder_append_scalar(w->b, &v, w->err);
    }
    if (st == TL_OK) { st = tl_builder_finish(w->b, &w->ocols[w->no], w->err); w->b = NULL; }
    w->onames[w->no++] = w->labels[m];
  }
  if (st == TL_OK)
    st = reprefix(tl_table_new(w->no, w->onames, w->ocols, out, w->err), WIDER, w->err);
  return st;
}

static void wider_free(wider *w) {
  tl_builder_free(w->b);
  for (int j = 0; w->ocols && j < w->no; j++) tl_column_release(w->ocols[j]);
  tl_free(w->ocols);
  tl_free(w->onames);
  for (int64_t m = 0; w->labels && m < w->nn; m++) tl_free(w->labels[m]);
  tl_free(w->labels);
  tl_free(w->cellrow);
  tl_grouping_free(w->gg);
  tl_grouping_free(w->gn);
  tl_free(w->gfirst);
  tl_free(w->nfirst);
  tl_free(w->nid);
  tl_free(w->gid);
  tl_free(w->role);
  tl_free(w->iidx);
  tl_free(w->fidx);
}

/* Phases over one context; each allocates what the next needs. */
static tl_status wider_run(wider *w, tl_table **out) {
  int ncol = tl_table_ncols(w->t);
  int64_t nrows = tl_table_nrows(w->t);
  w->fidx = tl_calloc((size_t)w->nf, sizeof *w->fidx);
  w->iidx = tl_calloc((size_t)ncol + 1, sizeof *w->iidx);
  w->role = tl_calloc((size_t)ncol + 1, 1);
  w->gid = tl_calloc((size_t)nrows + 1, sizeof *w->gid);
  w->nid = tl_calloc((size_t)nrows + 1, sizeof *w->nid);
  if (!w->fidx || !w->iidx || !w->role || !w->gid || !w->nid) return tl_error_oom(w->err, WIDER);
  TL_TRY(wider_roles(w));
  TL_TRY(wider_type(w));
  TL_TRY(group_rows(w->t, w->iidx, w->ni, w->gid, &w->gfirst, &w->ng, &w->gg, w->err));
  TL_TRY(group_rows(w->t, w->fidx, w->nf, w->nid, &w->nfirst, &w->nn, &w->gn, w->err));
  if (w->ng > 0 && w->nn > INT64_MAX / 8 / w->ng)
    return tl_error_set(w->err, TL_ELIMIT, "pivot_wider: too many cells");
  if (w->nn > 0x7fffff00 - w->ni)
    return tl_error_set(w->err, TL_ELIMIT, "pivot_wider: too many columns");
  w->labels = tl_calloc((size_t)w->nn + 1, sizeof *w->labels);
  w->cellrow = tl_alloc(((size_t)(w->ng * w->nn) + 1) * sizeof *w->cellrow);
  w->onames = tl_calloc((size_t)(w->ni + w->nn) + 1, sizeof *w->onames);
  w->ocols = tl_calloc((size_t)(w->ni + w->nn) + 1, sizeof *w->ocols);
  if (!w->labels || !w->cellrow || !w->onames || !w->ocols) return tl_error_oom(w->err, WIDER);
  TL_TRY(wider_labels(w));
  TL_TRY(wider_cells(w));
  return wider_build(w, out);
}

tl_status tl_table_pivot_wider(const tl_table *t, const tl_pivot_wider_options *o,
                               tl_table **out, tl_error *err) {
  if (!o || o->nnames_from < 1 || !o->names_from)
    return tl_error_set(err, TL_EINVAL, "pivot_wider: names_from is missing");
  if (!o->values_from)
    return tl_error_set(err, TL_EINVAL, "pivot_wider: values_from is missing");
  TL_TRY(tl_table_check_files(t, "pivot_wider", err));
  wider w = { .t = t, .o = o, .err = err, .nf = o->nnames_from };
  tl_status st = wider_run(&w, out);
  wider_free(&w);
  return st;
}
