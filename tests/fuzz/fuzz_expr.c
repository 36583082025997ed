/*
** fuzz_expr.c -- the expression language on any text, over a small table
** with a column of every type, nulls included. The first byte chooses the
** verb: filter, mutate, agg over the whole table, or agg by group.
*/
#include "fuzz.h"

static tl_table *table;

static tl_table *make_table(void) {
  static const char csv[] =
      "i,f,s,b,d,ts,k,`odd name`\n"
      "1,1.5,apple,true,2020-01-31,2020-01-31T10:00:00,a,x\n"
      ",,,,,,b,\n"
      "-9223372036854775807,-0.0,Äpfel,false,1970-01-01,1969-12-31T23:59:59,a,y\n"
      "0,nan,,true,2000-02-29,2000-02-29T00:00:00.5,,z\n"
      "9223372036854775807,inf,\"a,b\",false,1900-03-01,2100-01-01T00:00:00,b,x\n"
      "42,-inf,zzz,,9999-12-31,1970-01-01T00:00:00,c,y\n";
  tl_table *t = NULL;
  tl_error err;
  if (tl_read_csv_buffer(csv, sizeof csv - 1, "fixture", NULL, &t, &err) != TL_OK) {
    fprintf(stderr, "fixture: %s\n", err.message);
    abort();
  }
  return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (!table) table = make_table();
  /* the expression, NUL-terminated; an embedded NUL ends it early */
  char *src = malloc(size);
  if (!src) return 0;
  memcpy(src, data + 1, size - 1);
  src[size - 1] = '\0';
  const char *defs[1] = { src };
  tl_table *out = NULL;
  tl_error err = { 0 };
  tl_status st;
  switch (data[0] & 3) {
    case 0: st = tl_table_filter(table, src, &out, &err); break;
    case 1: st = tl_table_mutate(table, 1, defs, &out, &err); break;
    case 2: st = tl_table_agg(table, 1, defs, &out, &err); break;
    default: {
      static const char *const keys[] = { "k" };
      tl_grouping *g = NULL;
      st = tl_table_group_by(table, 1, keys, &g, &err);
      FUZZ_ASSERT(st == TL_OK, "%s", err.message);
      st = tl_grouping_agg(g, 1, defs, &out, &err);
      tl_grouping_free(g);
    }
  }
  if (st == TL_OK) {
    fuzz_touch(out);
    tl_table_release(out);
  } else {
    FUZZ_ASSERT(st != TL_ENOMEM && err.message[0] != '\0', "status %d without a message",
                (int)st);
  }
  free(src);
  return 0;
}
