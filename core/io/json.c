/*
** json.c -- tables to and from JSON: an array of objects, or one object a
** line (NDJSON). Reading goes through Jansson; writing streams the rows.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "tally/tally.h"
#include "base/alloc.h"
#include "base/parse.h"
#include "base/error.h"

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
      remove(path);
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

/* Reads the whole file as one array of objects. */
static tl_status load_array(json_reader *r, tl_error *err) {
  json_error_t je;
  size_t k;
  FILE *f = fopen(r->path, "rb");
  if (f == NULL)
    return tl_error_set(err, TL_EIO, "%s: cannot open '%s': %s", r->op, r->path,
                        strerror(errno));
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
** floats mixed), string, or date / timestamp when every string is one. */
static tl_status infer(const json_reader *r, const char *name, tl_type *out, tl_error *err) {
  tl_type type = 0;
  size_t k, n = json_array_size(r->records);
  int dates = 1, stamps = 1;
  char at[512];
  for (k = 0; k < n; k++) {
    json_t *v = json_object_get(json_array_get(r->records, k), name);
    tl_type vt;
    if ((k & 0xffff) == 0 && tl_interrupted())
      return tl_error_interrupted(err, r->op);
    if (v == NULL || json_is_null(v))
      continue;
    vt = type_of(v);
    if (vt == 0)
      return tl_error_set(err, TL_ETYPE, "%s: %s: field '%s': nested values (%s) are not "
                          "supported", r->op, where(r, k, at, sizeof at), name, kind(v));
    if (vt == TL_STRING) {
      const char *s = json_string_value(v);
      size_t len = json_string_length(v);
      int32_t d;
      int64_t us;
      dates = dates && len == 10 && tl_parse_date(s, len, &d);
      stamps = stamps && len > 10 && tl_parse_timestamp(s, len, &us);
    }
    if (type == 0 || type == vt) {
      type = vt;
    } else if ((type == TL_INT && vt == TL_FLOAT) || (type == TL_FLOAT && vt == TL_INT)) {
      type = TL_FLOAT;
    } else {
      const char *want = type == TL_STRING ? "a string" : type == TL_BOOL ? "a boolean"
                                                                        : "a number";
      return tl_error_set(err, TL_ETYPE, "%s: %s: field '%s': expected %s, got %s", r->op,
                          where(r, k, at, sizeof at), name, want, kind(v));
    }
  }
  if (type == TL_STRING && dates)
    type = TL_DATE;
  else if (type == TL_STRING && stamps)
    type = TL_TIMESTAMP;
  *out = type == 0 ? TL_STRING : type;           /* all null: a string column */
  return TL_OK;
}

static tl_status build(const json_reader *r, const char *name, tl_type type,
                       tl_column **out, tl_error *err) {
  size_t k, n = json_array_size(r->records);
  tl_builder *b = NULL;
  tl_status st = tl_builder_new(type, (int64_t)n, &b, err);
  for (k = 0; st == TL_OK && k < n; k++) {
    json_t *v = json_object_get(json_array_get(r->records, k), name);
    if ((k & 0xffff) == 0 && tl_interrupted()) {
      st = tl_error_interrupted(err, r->op);
      break;
    }
    if (v == NULL || json_is_null(v)) {
      st = tl_builder_append_null(b, err);
      continue;
    }
    switch (type) {
      case TL_BOOL: st = tl_builder_append_bool(b, json_is_true(v), err); break;
      case TL_INT: st = tl_builder_append_int(b, (int64_t)json_integer_value(v), err); break;
      case TL_FLOAT: st = tl_builder_append_float(b, json_number_value(v), err); break;
      case TL_DATE: {
        int32_t d = 0;
        tl_parse_date(json_string_value(v), json_string_length(v), &d);
        st = tl_builder_append_date(b, d, err);
        break;
      }
      case TL_TIMESTAMP: {
        int64_t us = 0;
        tl_parse_timestamp(json_string_value(v), json_string_length(v), &us);
        st = tl_builder_append_timestamp(b, us, err);
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

tl_status tl_read_json(const char *path, int ndjson, tl_table **out, tl_error *err) {
  json_reader r;
  json_t *fields = NULL;
  const char **names = NULL;
  tl_column **cols = NULL;
  size_t k, nf = 0, j;
  tl_status st;
  memset(&r, 0, sizeof r);
  r.path = path;
  r.op = ndjson ? "read_ndjson" : "read_json";
  r.ndjson = ndjson;
  st = tl_interrupted() ? tl_error_interrupted(err, r.op)
                        : ndjson ? load_lines(&r, err) : load_array(&r, err);
  if (st == TL_OK && tl_interrupted())                    /* Jansson's parse runs whole */
    st = tl_error_interrupted(err, r.op);
  if (st == TL_OK && (fields = json_array()) == NULL)
    st = tl_error_oom(err, r.op);
  for (k = 0; st == TL_OK && k < json_array_size(r.records); k++) {
    const char *key;
    json_t *v;
    if ((k & 0xffff) == 0 && tl_interrupted()) {
      st = tl_error_interrupted(err, r.op);
      break;
    }
    json_object_foreach(json_array_get(r.records, k), key, v) {   /* insertion order */
      size_t i;
      for (i = 0; i < json_array_size(fields); i++)
        if (strcmp(json_string_value(json_array_get(fields, i)), key) == 0)
          break;
      if (i == json_array_size(fields) && json_array_append_new(fields, json_string(key)))
        st = tl_error_oom(err, r.op);
    }
  }
  if (st == TL_OK) {
    nf = json_array_size(fields);
    names = tl_calloc(nf ? nf : 1, sizeof *names);
    cols = tl_calloc(nf ? nf : 1, sizeof *cols);
    if (names == NULL || cols == NULL)
      st = tl_error_oom(err, r.op);
  }
  for (j = 0; st == TL_OK && j < nf; j++) {
    tl_type type;
    names[j] = json_string_value(json_array_get(fields, j));
    st = infer(&r, names[j], &type, err);
    if (st == TL_OK)
      st = build(&r, names[j], type, &cols[j], err);
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
  return st;
}
