/*
** tables.h -- what the C tests share to make tables and read results:
** a table from CSV text, and an expression's values as text.
*/
#ifndef TABLES_H
#define TABLES_H

#include <stdio.h>
#include <string.h>

#include "tally/tally.h"

/* A table from CSV text (NULL on an error, which is printed). */
static inline tl_table *load(const char *csv) {
  tl_table *t = NULL;
  tl_error err;
  if (tl_read_csv_buffer(csv, strlen(csv), "t", NULL, &t, &err) != TL_OK)
    fprintf(stderr, "load: %s\n", err.message);
  return t;
}

/* The values of an expression over t, as "v1,v2,..." (null for nulls,
** strings quoted), or the error's message. */
static inline const char *values(const tl_table *t, const char *src) {
  static char out[4096];
  tl_column *c;
  tl_error err;
  if (tl_table_eval(t, src, "mutate", &c, &err) != TL_OK) {
    snprintf(out, sizeof out, "%s", err.message);
    return out;
  }
  size_t k = 0;
  out[0] = '\0';
  for (int64_t i = 0; i < tl_column_length(c) && k < sizeof out; i++) {
    tl_scalar v;
    char buf[128];
    tl_column_get(c, i, &v);
    if (v.type == TL_STRING && !v.is_null) snprintf(buf, sizeof buf, "'%.*s'", (int)v.v.s.len, v.v.s.ptr);
    else tl_scalar_format(&v, buf, sizeof buf);
    k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? "," : "", buf);
  }
  tl_column_release(c);
  return out;
}

#endif
