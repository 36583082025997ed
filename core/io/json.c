/*
** json.c -- tables to and from JSON: an array of objects, or one object a
** line (NDJSON). Reading goes through Jansson; writing streams the rows.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "tally/tally.h"
#include "base/alloc.h"
#include "base/parse.h"
#include "base/datetime.h"
#include "base/error.h"
#include "csv.h"             /* the date formats read_csv detects (csv_dates.c) */

/* ---------------------------------------------------------------------------
** Writing
*/

static void put_json_string(FILE *f, const char *s, size_t n) {
  size_t i;
  putc('"', f);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      case '\b': fputs("\\b", f); break;
      case '\f': fputs("\\f", f); break;
      default:
        if (c < 0x20 || c == 0x7f)
          fprintf(f, "\\u%04x", c);
        else
          putc(c, f);
    }
  }
  putc('"', f);
}

static void put_json_value(FILE *f, const tl_column *c, int64_t i) {
  tl_scalar v;
  char num[64];
  size_t n;
  tl_column_get(c, i, &v);
  if (v.is_null || (v.type == TL_FLOAT && (v.v.f != v.v.f || v.v.f - v.v.f != 0))) {
    fputs("null", f);                            /* JSON has no NaN nor infinity */
    return;
  }
  switch (v.type) {
    case TL_STRING:
      put_json_string(f, v.v.s.ptr ? v.v.s.ptr : "", v.v.s.ptr ? v.v.s.len : 0);
      return;
    case TL_DATE:
    case TL_TIMESTAMP:
      n = tl_scalar_format(&v, num, sizeof num);
      put_json_string(f, num, n < sizeof num ? n : sizeof num - 1);
      return;
    default:
      n = tl_scalar_format(&v, num, sizeof num);
      fwrite(num, 1, n < sizeof num ? n : sizeof num - 1, f);
  }
}

tl_status tl_write_json(const tl_table *t, const char *path, int ndjson, tl_error *err) {
  TL_TRY(tl_table_check_files(t, ndjson ? "write_ndjson" : "write_json", err));
  const char *op = ndjson ? "write_ndjson" : "write_json";
  int64_t i, nrows = tl_table_nrows(t);
  int j, ncols = tl_table_ncols(t), bad, e;
  FILE *f;
  tl_status st = tl_table_check_utf8(t, op, err);   /* before the file is touched */
  if (st != TL_OK)
    return st;
  if (tl_interrupted())
    return tl_error_interrupted(err, op);
  f = fopen(path, "wb");
  if (f == NULL)
    return tl_error_set(err, TL_EIO, "%s: cannot open '%s': %s", op, path, strerror(errno));
  if (!ndjson)
    fputs(nrows > 0 ? "[\n" : "[", f);
  for (i = 0; i < nrows; i++) {
    if ((i & 0xffff) == 0 && i > 0 && tl_interrupted()) {   /* no half file stays behind */
      fclose(f);
      csv_remove_output(path);   /* a file, not a device or a link */
      return tl_error_interrupted(err, op);
    }
    putc('{', f);
    for (j = 0; j < ncols; j++) {
      const char *name = tl_table_name(t, j);
      if (j > 0)
        putc(',', f);
      put_json_string(f, name, strlen(name));
      putc(':', f);
      put_json_value(f, tl_table_column(t, j), i);
    }
    putc('}', f);
    if (!ndjson && i + 1 < nrows)
      putc(',', f);
    putc('\n', f);
  }
  if (!ndjson)
    fputs("]\n", f);
  bad = ferror(f);
  e = errno;
  if (fclose(f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (bad)
    return tl_error_set(err, TL_EIO, "%s: cannot write '%s': %s", op, path, strerror(e));
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Reading: every record is parsed first (an array of objects either way),
** then each field's type is inferred over all records, then the columns
** are built. Fields come in order of first appearance; a field missing from
** a record is null there.
*/

typedef struct json_reader {
  const char *path;
  const char *op;
  int ndjson;
  const tl_json_options *o;
  tl_csv_options dates;       /* dateformat and timestampformat, for csv_fmt_* */
  json_t *records;            /* array of objects */
  json_t *lines;              /* NDJSON: the line of each record */
} json_reader;

/* "file:12" (the NDJSON line) or "file: record 12" */
static const char *where(const json_reader *r, size_t k, char *buf, size_t size) {
  if (r->ndjson)
    snprintf(buf, size, "%s:%lld", r->path,
             (long long)json_integer_value(json_array_get(r->lines, k)));
  else
    snprintf(buf, size, "%s: record %zu", r->path, k + 1);
  return buf;
}

static const char *kind(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
  }
}

/* A missing field, a JSON null, or the string the `null` option names. */
static int is_null_value(const json_reader *r, const json_t *v) {
  if (v == NULL || json_is_null(v)) return 1;
  return r->o && r->o->null && json_is_string(v) && strcmp(json_string_value(v), r->o->null) == 0;
}

static tl_type type_of(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_STRING: return TL_STRING;
    case JSON_INTEGER: return TL_INT;
    case JSON_REAL: return TL_FLOAT;
    case JSON_TRUE:
    case JSON_FALSE: return TL_BOOL;
    default: return 0;
  }
}

/* Moves f past a UTF-8 byte-order mark, as read_csv does (RFC 8259 lets a
** reader ignore one; Windows tools write it), else leaves it at the start. */
static void skip_bom(FILE *f) {
  unsigned char b[3];
  if (fread(b, 1, 3, f) != 3 || b[0] != 0xEF || b[1] != 0xBB || b[2] != 0xBF) rewind(f);
}

/* Reads the whole file as one array of objects. */
static tl_status load_array(json_reader *r, tl_error *err) {
  json_error_t je;
  size_t k;
  FILE *f = fopen(r->path, "rb");
  if (f == NULL)
    return tl_error_set(err, TL_EIO, "%s: cannot open '%s': %s", r->op, r->path,
                        strerror(errno));
  skip_bom(f);
  r->records = json_loadf(f, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
  fclose(f);
  if (r->records == NULL)
    return tl_error_set(err, TL_EPARSE, "%s: %s:%d:%d: %s", r->op, r->path, je.line,
                        je.column, je.text);
  if (!json_is_array(r->records))
    return tl_error_set(err, TL_EPARSE, "%s: %s: expected an array of objects, got %s",
                        r->op, r->path, kind(r->records));
  for (k = 0; k < json_array_size(r->records); k++)
    if (!json_is_object(json_array_get(r->records, k)))
      return tl_error_set(err, TL_EPARSE, "%s: %s: record %zu: expected an object, got %s",
                          r->op, r->path, k + 1, kind(json_array_get(r->records, k)));
  return TL_OK;
}

/* Reads one object a line; blank lines are skipped. */
static tl_status load_lines(json_reader *r, tl_error *err) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long long lineno = 0;
  tl_status st = TL_OK;
  FILE *f = fopen(r->path, "rb");
  if (f == NULL)
    return tl_error_set(err, TL_EIO, "%s: cannot open '%s': %s", r->op, r->path,
                        strerror(errno));
  skip_bom(f);
  r->records = json_array();
  r->lines = json_array();
  if (r->records == NULL || r->lines == NULL)
    st = tl_error_oom(err, r->op);
  while (st == TL_OK && (n = getline(&line, &cap, f)) >= 0) {
    json_error_t je;
    json_t *v;
    size_t i;
    if ((lineno & 0xffff) == 0 && tl_interrupted()) {
      st = tl_error_interrupted(err, r->op);
      break;
    }
    lineno++;
    for (i = 0; i < (size_t)n && strchr(" \t\r\n", line[i]) != NULL; i++)
      ;
    if (i == (size_t)n)
      continue;
    v = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (v == NULL) {
      st = tl_error_set(err, TL_EPARSE, "%s: %s:%lld:%d: %s", r->op, r->path, lineno,
                        je.column, je.text);
    } else if (!json_is_object(v)) {
      st = tl_error_set(err, TL_EPARSE, "%s: %s:%lld: expected an object, got %s", r->op,
                        r->path, lineno, kind(v));
      json_decref(v);
    } else if (json_array_append_new(r->records, v) != 0 ||
               json_array_append_new(r->lines, json_integer(lineno)) != 0) {
      st = tl_error_oom(err, r->op);
    }
  }
  if (st == TL_OK && ferror(f))
    st = tl_error_set(err, TL_EIO, "%s: cannot read '%s': %s", r->op, r->path,
                      strerror(errno));
  free(line);                                    /* allocated by getline */
  fclose(f);
  return st;
}

/* The type of one field over all records: bool, int, float (ints and
** floats mixed), string, or date / timestamp when one of read_csv's date
** formats reads every string (*fmts: the formats that do). */
static tl_status infer(const json_reader *r, const char *name, tl_type *out, unsigned *fmts,
                       char *reason, tl_error *err) {
  tl_type type = 0;
  size_t k, n = json_array_size(r->records);
  unsigned m = csv_fmt_init(&r->dates);
  char at[512];
  for (k = 0; k < n; k++) {
    json_t *v = json_object_get(json_array_get(r->records, k), name);
    tl_type vt;
    if ((k & 0xffff) == 0 && tl_interrupted())
      return tl_error_interrupted(err, r->op);
    if (is_null_value(r, v))
      continue;
    vt = type_of(v);
    if (vt == 0)
      return tl_error_set(err, TL_ETYPE, "%s: %s: field '%s': nested values (%s) are not "
                          "supported", r->op, where(r, k, at, sizeof at), name, kind(v));
    if (vt == TL_STRING && m)
      m = csv_fmt_match(&r->dates, NULL, json_string_value(v), json_string_length(v), m);
    if (type == 0 || type == vt) {
      type = vt;
    } else if ((type == TL_INT && vt == TL_FLOAT) || (type == TL_FLOAT && vt == TL_INT)) {
      type = TL_FLOAT;
    } else if (type != TL_STRING || !*reason) {   /* mixed kinds: read as text, and say why */
      const char *was = type == TL_STRING ? "strings" : type == TL_BOOL ? "booleans" : "numbers";
      snprintf(reason, 256, "string: %s mixed with %s (first at %s)", was,
               vt == TL_STRING ? "strings" : vt == TL_BOOL ? "booleans" : "numbers",
               where(r, k, at, sizeof at));
      type = TL_STRING;
      m = 0;
    }
  }
  unsigned can = type == TL_STRING ? csv_fmt_can(m, NULL) : 0;
  if (can & CAN_DATE)
    type = TL_DATE;
  else if (can & CAN_TS)
    type = TL_TIMESTAMP;
  *out = type == 0 ? TL_STRING : type;           /* all null: a string column */
  *fmts = m;
  return TL_OK;
}

/* The shortest text of a number that reads back as it (or true/false). */
static void number_text(const json_t *v, char *buf, size_t size) {
  if (json_is_integer(v)) { snprintf(buf, size, "%lld", (long long)json_integer_value(v)); return; }
  if (json_is_boolean(v)) { snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false"); return; }
  double d = json_number_value(v);
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, d);
    if (strtod(buf, NULL) == d) return;
  }
}

static int32_t day_of(int64_t us) { return (int32_t)tl_floor_div(us, TL_US_PER_DAY); }

/* Value v of record k as the forced type (fmt: a date or timestamp
** format, or NULL), or an error naming the record, the field and the value. */
static tl_status append_forced(const json_reader *r, tl_builder *b, tl_type type, const char *fmt,
                               const char *name, size_t k, const json_t *v, tl_error *err) {
  char at[512], text[64];
  const char *s = NULL;
  size_t n = 0;
  if (json_is_string(v)) { s = json_string_value(v); n = json_string_length(v); }
  else if (json_is_number(v) || json_is_boolean(v)) { number_text(v, text, sizeof text); s = text; n = strlen(text); }
  else
    return tl_error_set(err, TL_ETYPE, "%s: %s: field '%s': nested values (%s) are not "
                        "supported", r->op, where(r, k, at, sizeof at), name, kind(v));
  int64_t i;
  double f;
  int bv;
  unsigned m;
  switch (type) {
    case TL_STRING: return tl_builder_append_string(b, s, n, err);
    case TL_INT:
      if (json_is_real(v) && json_real_value(v) == (double)(int64_t)json_real_value(v) &&
          fabs(json_real_value(v)) < 9.2e18)
        return tl_builder_append_int(b, (int64_t)json_real_value(v), err);
      if (!json_is_real(v) && !json_is_boolean(v) && tl_parse_int(s, n, &i))
        return tl_builder_append_int(b, i, err);
      break;
    case TL_FLOAT:
      if (json_is_number(v)) return tl_builder_append_float(b, json_number_value(v), err);
      if (json_is_string(v) && tl_parse_float(s, n, &f)) return tl_builder_append_float(b, f, err);
      break;
    case TL_BOOL:
      if (json_is_boolean(v)) return tl_builder_append_bool(b, json_is_true(v), err);
      if (json_is_string(v) && tl_parse_bool(s, n, &bv)) return tl_builder_append_bool(b, bv, err);
      break;
    default:              /* TL_DATE, TL_TIMESTAMP: as read_csv reads a forced column */
      if (!json_is_string(v)) break;
      m = csv_fmt_match(&r->dates, fmt, s, n, csv_fmt_forced(fmt));
      if (!(csv_fmt_can(m, fmt) & (type == TL_DATE ? CAN_DATE : CAN_TS)) ||
          !csv_fmt_parse(&r->dates, fmt, m, type, s, n, &i))
        break;
      if (type == TL_DATE) return tl_builder_append_date(b, day_of(i), err);
      return tl_builder_append_timestamp(b, i, err);
  }
  return tl_error_set(err, TL_ETYPE, "%s: %s: field '%s': %s%.*s%s is not %s %s", r->op,
                      where(r, k, at, sizeof at), name, json_is_string(v) ? "'" : "",
                      (int)(n > 80 ? 80 : n), s, json_is_string(v) ? "'" : "",
                      type == TL_INT ? "an" : "a", tl_type_name(type));
}

static tl_status build(const json_reader *r, const char *name, tl_type type, int forced,
                       const char *fmt, unsigned fmts, tl_column **out, tl_error *err) {
  size_t k, n = json_array_size(r->records);
  tl_builder *b = NULL;
  tl_status st = tl_builder_new(type, (int64_t)n, &b, err);
  for (k = 0; st == TL_OK && k < n; k++) {
    json_t *v = json_object_get(json_array_get(r->records, k), name);
    if ((k & 0xffff) == 0 && tl_interrupted()) {
      st = tl_error_interrupted(err, r->op);
      break;
    }
    if (is_null_value(r, v)) {
      st = tl_builder_append_null(b, err);
      continue;
    }
    if (forced) {
      st = append_forced(r, b, type, fmt, name, k, v, err);
      continue;
    }
    if (type == TL_STRING && !json_is_string(v)) {   /* a mixed column: the value's text */
      char text[64];
      number_text(v, text, sizeof text);
      st = tl_builder_append_string(b, text, strlen(text), err);
      continue;
    }
    switch (type) {
      case TL_BOOL: st = tl_builder_append_bool(b, json_is_true(v), err); break;
      case TL_INT: st = tl_builder_append_int(b, (int64_t)json_integer_value(v), err); break;
      case TL_FLOAT: st = tl_builder_append_float(b, json_number_value(v), err); break;
      case TL_DATE:
      case TL_TIMESTAMP: {        /* by the first of the formats that read every value */
        int64_t us = 0;
        csv_fmt_parse(&r->dates, NULL, fmts, type, json_string_value(v), json_string_length(v),
                      &us);
        st = type == TL_DATE ? tl_builder_append_date(b, day_of(us), err)
                             : tl_builder_append_timestamp(b, us, err);
        break;
      }
      default:
        st = tl_builder_append_string(b, json_string_value(v), json_string_length(v), err);
    }
  }
  if (st != TL_OK) {
    tl_builder_free(b);
    return st;
  }
  return tl_builder_finish(b, out, err);
}

void tl_json_options_init(tl_json_options *o) { memset(o, 0, sizeof *o); }

struct tl_json_info {
  int ncol;
  char **reasons;        /* per column, NULL when the type needs no word */
};

void tl_json_info_free(tl_json_info *info) {
  if (!info) return;
  for (int j = 0; j < info->ncol; j++) tl_free(info->reasons[j]);
  tl_free(info->reasons);
  tl_free(info);
}

const char *tl_json_info_reason(const tl_json_info *info, int j) {
  return info && j >= 0 && j < info->ncol ? info->reasons[j] : NULL;
}

/* The fields of every record, in order of first appearance. */
static tl_status field_names(const json_reader *r, json_t *fields, tl_error *err) {
  for (size_t k = 0; k < json_array_size(r->records); k++) {
    const char *key;
    json_t *v;
    if ((k & 0xffff) == 0 && tl_interrupted()) return tl_error_interrupted(err, r->op);
    json_object_foreach(json_array_get(r->records, k), key, v) {   /* insertion order */
      size_t i;
      char at[512];
      if (!*key)   /* a column needs a name */
        return tl_error_set(err, TL_EPARSE, "%s: %s: an empty field name (\"\")", r->op,
                            where(r, k, at, sizeof at));
      for (i = 0; i < json_array_size(fields); i++)
        if (strcmp(json_string_value(json_array_get(fields, i)), key) == 0) break;
      if (i == json_array_size(fields) && json_array_append_new(fields, json_string(key)))
        return tl_error_oom(err, r->op);
    }
  }
  return TL_OK;
}

/* The type option of field `name`: its type and format ("date:%d.%m.%Y"),
** or 0 when none is given. */
static tl_status forced_type(const json_reader *r, const char *name, tl_type *t, const char **fmt,
                             tl_error *err) {
  *t = 0;
  *fmt = NULL;
  for (int i = 0; r->o && i < r->o->ntypes; i++) {
    if (strcmp(r->o->type_names[i], name) != 0) continue;
    const char *spec = r->o->type_specs[i], *colon = strchr(spec, ':');
    char base[16];
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    snprintf(base, sizeof base, "%.*s", (int)(len < 15 ? len : 15), spec);
    *t = len < 15 ? tl_type_from_name(base) : 0;
    if (!*t || (colon && *t != TL_DATE && *t != TL_TIMESTAMP))
      return tl_error_set(err, TL_EINVAL, "%s: types: field '%s': unknown type '%s' (use int, "
                          "float, string, bool, date, timestamp, date:FORMAT or timestamp:FORMAT)",
                          r->op, name, spec);
    *fmt = colon ? colon + 1 : NULL;
  }
  return TL_OK;
}

/* The names of the columns to read: `columns` (each checked) or every field. */
static tl_status chosen(const json_reader *r, json_t *fields, const char ***names, size_t *nf,
                        tl_error *err) {
  size_t all = json_array_size(fields);
  size_t n = r->o && r->o->columns ? (size_t)r->o->ncolumns : all;
  *names = tl_calloc(n ? n : 1, sizeof **names);
  if (!*names) return tl_error_oom(err, r->op);
  *nf = n;
  for (size_t j = 0; j < n; j++) {
    if (!(r->o && r->o->columns)) { (*names)[j] = json_string_value(json_array_get(fields, j)); continue; }
    const char *want = r->o->columns[j];
    size_t i = 0;
    while (i < all && strcmp(json_string_value(json_array_get(fields, i)), want) != 0) i++;
    if (i == all) {
      const char **list = tl_calloc(all ? all : 1, sizeof *list);
      if (!list) return tl_error_oom(err, r->op);
      for (size_t q = 0; q < all; q++) list[q] = json_string_value(json_array_get(fields, q));
      const char *near = tl_suggest(want, list, (int)all);
      tl_status st = near ? tl_error_set(err, TL_EINVAL, "%s: %s: columns: no field '%s' (did "
                                         "you mean '%s'?)", r->op, r->path, want, near)
                          : tl_error_set(err, TL_EINVAL, "%s: %s: columns: no field '%s'",
                                         r->op, r->path, want);
      tl_free(list);
      return st;
    }
    for (size_t q = 0; q < j; q++)
      if (strcmp((*names)[q], want) == 0)
        return tl_error_set(err, TL_EINVAL, "%s: columns: field '%s' is named twice", r->op, want);
    (*names)[j] = want;
  }
  for (int i = 0; r->o && i < r->o->ntypes; i++) {   /* a type for no column read */
    size_t q = 0;
    while (q < n && strcmp((*names)[q], r->o->type_names[i]) != 0) q++;
    if (q == n)
      return tl_error_set(err, TL_EINVAL, "%s: %s: types: no field '%s' among the columns read",
                          r->op, r->path, r->o->type_names[i]);
  }
  return TL_OK;
}

tl_status tl_read_json_ex(const char *path, const tl_json_options *opts, tl_table **out,
                          tl_json_info **info, tl_error *err) {
  json_reader r;
  json_t *fields = NULL;
  const char **names = NULL;
  tl_column **cols = NULL;
  tl_json_info *inf = NULL;
  size_t nf = 0, j;
  tl_status st;
  memset(&r, 0, sizeof r);
  r.path = path;
  r.ndjson = opts ? opts->ndjson : 0;
  r.o = opts;
  r.op = r.ndjson ? "read_ndjson" : "read_json";
  tl_csv_options_init(&r.dates);
  r.dates.dateformat = opts ? opts->dateformat : NULL;
  r.dates.timestampformat = opts ? opts->timestampformat : NULL;
  st = tl_interrupted() ? tl_error_interrupted(err, r.op)
                        : r.ndjson ? load_lines(&r, err) : load_array(&r, err);
  if (st == TL_OK && tl_interrupted())                    /* Jansson's parse runs whole */
    st = tl_error_interrupted(err, r.op);
  if (st == TL_OK && (fields = json_array()) == NULL)
    st = tl_error_oom(err, r.op);
  if (st == TL_OK) st = field_names(&r, fields, err);
  if (st == TL_OK) st = chosen(&r, fields, &names, &nf, err);
  if (st == TL_OK) {
    cols = tl_calloc(nf ? nf : 1, sizeof *cols);
    inf = tl_calloc(1, sizeof *inf);
    if (inf) inf->reasons = tl_calloc(nf ? nf : 1, sizeof *inf->reasons);
    if (cols == NULL || !inf || !inf->reasons) st = tl_error_oom(err, r.op);
    else inf->ncol = (int)nf;
  }
  for (j = 0; st == TL_OK && j < nf; j++) {
    tl_type type = TL_STRING, forced;
    const char *fmt;
    char reason[256] = "";
    unsigned fmts = 0;
    st = forced_type(&r, names[j], &forced, &fmt, err);
    if (st == TL_OK && !forced) st = infer(&r, names[j], &type, &fmts, reason, err);
    if (st == TL_OK)
      st = build(&r, names[j], forced ? forced : type, forced != 0, fmt, fmts, &cols[j], err);
    if (st == TL_OK && *reason && !(inf->reasons[j] = tl_strdup(reason)))
      st = tl_error_oom(err, r.op);
  }
  if (st == TL_OK)
    st = tl_table_new((int)nf, names, cols, out, err);
  for (j = 0; cols != NULL && j < nf; j++)
    tl_column_release(cols[j]);
  tl_free(cols);
  tl_free(names);
  json_decref(fields);
  json_decref(r.records);
  json_decref(r.lines);
  if (st == TL_OK && info) *info = inf;
  else tl_json_info_free(inf);
  return st;
}

tl_status tl_read_json(const char *path, int ndjson, tl_table **out, tl_error *err) {
  tl_json_options o;
  tl_json_options_init(&o);
  o.ndjson = ndjson;
  return tl_read_json_ex(path, &o, out, NULL, err);
}
