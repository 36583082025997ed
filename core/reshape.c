/*
** reshape.c -- wide to long (pivot_longer) and long to wide (pivot_wider).
** Rows are matched by the hashing of group_by, so that keys of every type,
** nulls and NaN are equal exactly when grouping says they are.
*/
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "csv.h"
#include "error.h"
#include "tally.h"
#include "verbs.h"

void tl_pivot_longer_options_init(tl_pivot_longer_options *o) {
  memset(o, 0, sizeof *o);
  o->names_infer = 1;
}

void tl_pivot_wider_options_init(tl_pivot_wider_options *o) { memset(o, 0, sizeof *o); }

/* The table's error re-prefixed with the operation ("table: duplicate
** column name 'x'" from tl_table_new). */
static tl_status reprefix(tl_status st, const char *op, tl_error *err) {
  if (st != TL_OK && err && strncmp(err->message, "table:", 6) == 0) {
    char msg[TL_ERROR_SIZE];
    snprintf(msg, sizeof msg, "%s", err->message + 6);
    tl_error_set(err, st, "%s:%s", op, msg);
  }
  return st;
}

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

  /* the type of the values */
  tl_type vt = 0;
  int vfrom = -1;
  for (int k = 0; k < ng && st == TL_OK; k++) {
    const tl_column *c = tl_table_column(t, gather[k]);
    tl_type ct = tl_column_type(c);
    if (tl_column_null_count(c) == tl_column_length(c) && nrows > 0) continue;
    if (vt == 0 || vt == ct) { vt = ct; vfrom = k; }
    else if ((vt == TL_INT || vt == TL_FLOAT) && (ct == TL_INT || ct == TL_FLOAT)) vt = TL_FLOAT;
    else
      st = tl_error_set(err, TL_ETYPE, "pivot_longer: cannot gather column '%s' (%s) with "
                        "column '%s' (%s)", o->cols[k], tl_type_name(ct), o->cols[vfrom],
                        tl_type_name(vt));
  }
  if (st != TL_OK) goto done;
  if (vt == 0) vt = tl_column_type(tl_table_column(t, gather[0]));

  /* the names, split into parts */
  for (int k = 0; k < ng && st == TL_OK; k++) {
    part *pk = &parts[k * nn];
    if (o->names) {
      for (int p = 0; p < nn; p++) {
        const char *s = o->names[k * nn + p];
        pk[p].p = s ? s : "";
        pk[p].n = s ? strlen(s) : 0;
      }
    } else if (nn == 1) {
      pk[0].p = o->cols[k];
      pk[0].n = strlen(o->cols[k]);
    } else {
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
      if (p < nn - 1) {
        st = tl_error_set(err, TL_EINVAL, "pivot_longer: column '%s' does not split into %d "
                          "parts at '%s'", o->cols[k], nn, sep);
        break;
      }
      pk[p].p = s;
      pk[p].n = strlen(s);
    }
  }
  if (st != TL_OK) goto done;

  /* the rows: row by row, column by column */
  int64_t m = 0;
  for (int64_t i = 0; i < nrows; i++)
    for (int k = 0; k < ng; k++) {
      if (o->drop_nulls && tl_column_is_null(tl_table_column(t, gather[k]), i)) continue;
      rows[m] = i;
      which[m++] = k;
    }

  for (int j = 0; j < ncol && st == TL_OK; j++) {
    if (is_g[j]) continue;
    onames[no] = tl_table_name(t, j);
    st = tl_column_take(tl_table_column(t, j), rows, m, &ocols[no], err);
    no++;
  }
  for (int p = 0; p < nn && st == TL_OK; p++) {
    st = tl_builder_new(part_type(parts + p, ng, nn, o->names_infer), m, &b, err);
    for (int64_t r = 0; r < m && st == TL_OK; r++)
      st = append_part(b, &parts[which[r] * nn + p], err);
    if (st == TL_OK) { st = tl_builder_finish(b, &ocols[no], err); b = NULL; }
    onames[no++] = names_to[p];
  }
  if (st != TL_OK) goto done;
  st = tl_builder_new(vt, m, &b, err);
  for (int64_t r = 0; r < m && st == TL_OK; r++) {
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
  for (int64_t i = 0; i < nrows && st == TL_OK; i++) st = tl_builder_append_int(b, i, err);
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

tl_status tl_table_pivot_wider(const tl_table *t, const tl_pivot_wider_options *o,
                               tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "pivot_wider", err));
  const char *const op = "pivot_wider";
  if (!o || o->nnames_from < 1 || !o->names_from)
    return tl_error_set(err, TL_EINVAL, "pivot_wider: names_from is missing");
  if (!o->values_from)
    return tl_error_set(err, TL_EINVAL, "pivot_wider: values_from is missing");
  int ncol = tl_table_ncols(t), nf = o->nnames_from, vj;
  int64_t nrows = tl_table_nrows(t);
  const char *sep = o->names_sep ? o->names_sep : "_";
  int *fidx = tl_calloc((size_t)nf, sizeof *fidx);
  int *iidx = tl_calloc((size_t)ncol + 1, sizeof *iidx);
  char *role = tl_calloc((size_t)ncol + 1, 1);
  int32_t *gid = tl_calloc((size_t)nrows + 1, sizeof *gid);
  int32_t *nid = tl_calloc((size_t)nrows + 1, sizeof *nid);
  int64_t *gfirst = NULL, *nfirst = NULL, *cellrow = NULL, ng = 0, nn = 0;
  tl_grouping *gg = NULL, *gn = NULL;
  char **labels = NULL;
  const char **onames = NULL;
  tl_column **ocols = NULL;
  tl_builder *b = NULL;
  int ni = 0, no = 0;
  tl_status st = (!fidx || !iidx || !role || !gid || !nid) ? tl_error_oom(err, op) : TL_OK;
  for (int k = 0; k < nf && st == TL_OK; k++) {
    st = tl_table_lookup(t, o->names_from[k], op, &fidx[k], err);
    if (st == TL_OK) role[fidx[k]] = 1;
  }
  if (st == TL_OK) st = tl_table_lookup(t, o->values_from, op, &vj, err);
  if (st != TL_OK) goto done;
  if (role[vj]) {
    st = tl_error_set(err, TL_EINVAL, "pivot_wider: column '%s' is both in names_from and "
                      "values_from", o->values_from);
    goto done;
  }
  role[vj] = 2;
  if (o->nid_cols > 0) {
    for (int k = 0; k < o->nid_cols && st == TL_OK; k++) {
      int j;
      st = tl_table_lookup(t, o->id_cols[k], op, &j, err);
      if (st == TL_OK && role[j])
        st = tl_error_set(err, TL_EINVAL, "pivot_wider: column '%s' cannot be an id column "
                          "and in names_from or values_from", o->id_cols[k]);
      if (st == TL_OK) iidx[ni++] = j;
    }
  } else {
    for (int j = 0; j < ncol; j++)
      if (!role[j]) iidx[ni++] = j;
  }
  if (st != TL_OK) goto done;

  /* the type of the values, with the fill */
  const tl_column *vc = tl_table_column(t, vj);
  tl_type vt = tl_column_type(vc);
  const tl_scalar *fill = o->fill && !o->fill->is_null ? o->fill : NULL;
  if (fill && fill->type != vt) {
    if (vt == TL_INT && fill->type == TL_FLOAT) vt = TL_FLOAT;
    else if (!(vt == TL_FLOAT && fill->type == TL_INT)) {
      st = tl_error_set(err, TL_ETYPE, "pivot_wider: fill is a %s value, but column '%s' "
                        "is of type %s", tl_type_name(fill->type), o->values_from,
                        tl_type_name(vt));
      goto done;
    }
  }

  st = group_rows(t, iidx, ni, gid, &gfirst, &ng, &gg, err);
  if (st == TL_OK) st = group_rows(t, fidx, nf, nid, &nfirst, &nn, &gn, err);
  if (st != TL_OK) goto done;
  if (ng > 0 && nn > INT64_MAX / 8 / ng) {
    st = tl_error_set(err, TL_ELIMIT, "pivot_wider: too many cells");
    goto done;
  }
  if (nn > 0x7fffff00 - ni) {
    st = tl_error_set(err, TL_ELIMIT, "pivot_wider: too many columns");
    goto done;
  }

  /* the new columns' names */
  labels = tl_calloc((size_t)nn + 1, sizeof *labels);
  cellrow = tl_alloc(((size_t)(ng * nn) + 1) * sizeof *cellrow);
  onames = tl_calloc((size_t)(ni + nn) + 1, sizeof *onames);
  ocols = tl_calloc((size_t)(ni + nn) + 1, sizeof *ocols);
  if (!labels || !cellrow || !onames || !ocols) { st = tl_error_oom(err, op); goto done; }
  for (int64_t m = 0; m < nn && st == TL_OK; m++) {
    char buf[1024];
    size_t len = 0;
    for (int k = 0; k < nf; k++) {
      if (k) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", sep);
      if (len >= sizeof buf) len = sizeof buf - 1;
      add_value(buf, sizeof buf, &len, tl_table_column(t, fidx[k]), nfirst[m], 0);
    }
    labels[m] = tl_strndup(buf, len);
    if (!labels[m]) st = tl_error_oom(err, op);
  }
  if (st != TL_OK) goto done;

  /* which row fills each cell */
  for (int64_t c = 0; c < ng * nn; c++) cellrow[c] = -1;
  for (int64_t i = 0; i < nrows; i++) {
    int64_t c = (int64_t)gid[i] * nn + nid[i];
    if (cellrow[c] >= 0) {
      char id[512];
      size_t len = 0;
      for (int k = 0; k < ni; k++) {
        if (len < sizeof id)
          len += (size_t)snprintf(id + len, sizeof id - len, "%s%s = ", k ? ", " : "",
                                  tl_table_name(t, iidx[k]));
        if (len >= sizeof id) len = sizeof id - 1;
        add_value(id, sizeof id, &len, tl_table_column(t, iidx[k]), i, 1);
      }
      id[len] = '\0';
      st = tl_error_set(err, TL_EINVAL, "pivot_wider: rows %lld and %lld have the same id "
                        "(%s) and name '%s'", (long long)cellrow[c] + 1, (long long)i + 1,
                        id, labels[nid[i]]);
      goto done;
    }
    cellrow[c] = i;
  }

  for (int k = 0; k < ni && st == TL_OK; k++) {
    onames[no] = tl_table_name(t, iidx[k]);
    st = tl_column_take(tl_table_column(t, iidx[k]), gfirst, ng, &ocols[no], err);
    no++;
  }
  for (int64_t m = 0; m < nn && st == TL_OK; m++) {
    st = tl_builder_new(vt, ng, &b, err);
    for (int64_t g = 0; g < ng && st == TL_OK; g++) {
      int64_t r = cellrow[g * nn + m];
      tl_scalar v;
      if (r < 0) {
        if (fill) { st = tl_builder_append_scalar(b, fill, err); continue; }
        st = tl_builder_append_null(b, err);
        continue;
      }
      tl_column_get(vc, r, &v);
      if (!v.is_null && v.type == TL_INT && vt == TL_FLOAT) {
        v.v.f = (double)v.v.i;
        v.type = TL_FLOAT;
      }
      st = tl_builder_append_scalar(b, &v, err);
    }
    if (st == TL_OK) { st = tl_builder_finish(b, &ocols[no], err); b = NULL; }
    onames[no++] = labels[m];
  }
  if (st == TL_OK) st = reprefix(tl_table_new(no, onames, ocols, out, err), op, err);

done:
  tl_builder_free(b);
  if (ocols)
    for (int j = 0; j < no; j++) tl_column_release(ocols[j]);
  tl_free(ocols);
  tl_free(onames);
  if (labels)
    for (int64_t m = 0; m < nn; m++) tl_free(labels[m]);
  tl_free(labels);
  tl_free(cellrow);
  tl_grouping_free(gg);
  tl_grouping_free(gn);
  tl_free(gfirst);
  tl_free(nfirst);
  tl_free(nid);
  tl_free(gid);
  tl_free(role);
  tl_free(iidx);
  tl_free(fidx);
  return st;
}
