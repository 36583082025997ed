/*
** test_agg_keep.c -- states of string aggregates folded over many batches,
** as a scan folds them: the same results as one agg over the whole table,
** and memory that stays bounded by the values the states hold rather than
** growing with the batches they have seen.
**
** Each batch is a table read from CSV text of its own, so its string
** columns are buffers of their own; the batch and its partial are freed
** once merged. The bytes in use (tl_env_memory) are sampled after every
** merge.
*/
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "tables.h"

#include "agg/partial.h"
#include "tally/tally.h"

#define ROWS 200000
#define BATCH 250

/* Rows [a, b) as CSV: k (12 groups), v (an int, null now and then), s (long
** strings, nearly all distinct, some empty, some null), t (long strings
** of 300 values, some empty, some null). */
static char *csv_rows(int64_t a, int64_t b) {
  size_t cap = (size_t)(b - a) * 260 + 64, k = 0;
  char *csv = malloc(cap);
  k += (size_t)snprintf(csv + k, cap - k, "k,v,s,t\n");
  for (int64_t i = a; i < b; i++) {
    uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    unsigned r = (unsigned)(h % 1000003);
    char v[24] = "", s[128] = "", t[128] = "";
    if (r % 17) snprintf(v, sizeof v, "%d", (int)(r % 50021) - 25000);
    if (r % 23 == 1) snprintf(s, sizeof s, "\"\"");
    else if (r % 23) snprintf(s, sizeof s, "row %07u of a string long enough to weigh on a batch %lld",
                              r, (long long)i);
    if (r % 19 == 2) snprintf(t, sizeof t, "\"\"");
    else if (r % 19) snprintf(t, sizeof t, "value %03u of a set of three hundred long strings", r % 300);
    k += (size_t)snprintf(csv + k, cap - k, "k%u,%s,%s,%s\n", r % 12, v, s, t);
  }
  return csv;
}

/* A table of rows [a, b), as read_csv types them. */
static tl_table *rows(int64_t a, int64_t b) {
  char *csv = csv_rows(a, b);
  tl_table *t = NULL;
  tl_error err;
  const char *names[] = { "k", "v", "s", "t" };
  tl_type types[] = { TL_STRING, TL_INT, TL_STRING, TL_STRING };
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.ntypes = 4;
  o.type_names = names;
  o.types = types;
  if (tl_read_csv_buffer(csv, strlen(csv), "t", &o, &t, &err) != TL_OK)
    fprintf(stderr, "rows: %s\n", err.message);
  free(csv);
  return t;
}

static tl_partial *partial_of(const tl_table *t, int nkeys, const char *key, int n,
                              const char *const *defs) {
  tl_error err;
  tl_partial *p = NULL;
  tl_status st;
  if (nkeys) {
    tl_grouping *g;
    st = tl_table_group_by(t, 1, &key, &g, &err);
    if (st == TL_OK) { st = tl_grouping_partial(g, n, defs, NULL, &p, &err); tl_grouping_free(g); }
  } else {
    st = tl_table_partial(t, n, defs, NULL, &p, &err);
  }
  if (st != TL_OK) fprintf(stderr, "partial: %s\n", err.message);
  return p;
}

static tl_table *agg_of(const tl_table *t, int nkeys, const char *key, int n,
                        const char *const *defs) {
  tl_error err;
  tl_table *out = NULL;
  tl_status st;
  if (nkeys) {
    tl_grouping *g;
    st = tl_table_group_by(t, 1, &key, &g, &err);
    if (st == TL_OK) { st = tl_grouping_agg(g, n, defs, &out, &err); tl_grouping_free(g); }
  } else {
    st = tl_table_agg(t, n, defs, &out, &err);
  }
  if (st != TL_OK) fprintf(stderr, "agg: %s\n", err.message);
  return out;
}

/* 1 when a and b hold the same names and values (as text). */
static int same(const tl_table *a, const tl_table *b) {
  if (!a || !b || tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(a) != tl_table_nrows(b))
    return 0;
  for (int j = 0; j < tl_table_ncols(a); j++) {
    if (strcmp(tl_table_name(a, j), tl_table_name(b, j)) != 0) return 0;
    for (int64_t i = 0; i < tl_table_nrows(a); i++) {
      tl_scalar u, v;
      tl_column_get(tl_table_column(a, j), i, &u);
      tl_column_get(tl_table_column(b, j), i, &v);
      char x[256], y[256];
      tl_scalar_format(&u, x, sizeof x);
      tl_scalar_format(&v, y, sizeof y);
      if (u.is_null != v.is_null || u.type != v.type || strcmp(x, y) != 0) {
        fprintf(stderr, "  %s row %lld: %s vs %s\n", tl_table_name(a, j), (long long)i, x, y);
        return 0;
      }
    }
  }
  return 1;
}

/* The batches of ROWS rows merged one by one into a partial, finished and
** compared with agg over the whole table; *grew: the most the bytes in use
** rose above what they were before the first batch. */
static void fold(const tl_table *whole, int nkeys, int n, const char *const *defs, size_t *grew) {
  size_t base = tl_env_memory(NULL), top = base;
  tl_partial *acc = NULL;
  for (int64_t a = 0; a < ROWS; a += BATCH) {
    tl_table *t = rows(a, a + BATCH);
    CHECK(t != NULL);
    if (!t) break;
    tl_partial *p = partial_of(t, nkeys, "k", n, defs);
    tl_table_release(t);
    CHECK(p != NULL);
    if (!p) break;
    if (!acc) { acc = p; continue; }
    CHECK(tl_partial_merge(acc, p, NULL) == TL_OK);
    tl_partial_free(p);
    size_t now = tl_env_memory(NULL);
    if (now > top) top = now;
  }
  tl_table *got = NULL, *want = agg_of(whole, nkeys, "k", n, defs);
  CHECK(acc && tl_partial_finish(acc, &got, NULL) == TL_OK);
  CHECK(want && got && tl_table_nrows(got) == (nkeys ? 12 : 1));
  CHECK(same(want, got));
  tl_table_release(want);
  tl_table_release(got);
  tl_partial_free(acc);
  *grew = top - base;
}

int main(void) {
  tl_table *whole = rows(0, ROWS);
  CHECK(whole != NULL);
  if (!whole) return check_done("agg_keep");
  size_t input = 0;   /* the bytes of the strings of every batch */
  for (int j = 2; j < 4; j++) {
    const tl_column *c = tl_table_column(whole, j);
    for (int64_t i = 0; i < tl_column_length(c); i++) {
      tl_scalar v;
      tl_column_get(c, i, &v);
      if (!v.is_null) input += v.v.s.len;
    }
  }
  CHECK(input > 15 * 1000 * 1000);
  /* values of their own per group: the states stay small whatever they saw */
  const char *picks[] = { "mn = min(s)", "mx = max(s)", "f = first(s)", "l = last(s)",
                          "am = arg_min(s, v)", "ax = arg_max(s, v)", "bx = arg_max(v, s)",
                          "bn = arg_min(t, s)", "ft = first(t)", "lt = last(t)" };
  for (int nkeys = 0; nkeys < 2; nkeys++) {
    size_t grew;
    fold(whole, nkeys, 10, picks, &grew);
    fprintf(stderr, "%s picks: %zu bytes more at most, over %zu bytes of strings\n",
            nkeys ? "grouped" : "whole", grew, input);
    CHECK(grew < 8 * 1000 * 1000);
  }
  /* states that hold sets of values (300 of t per group) and texts */
  const char *sets[] = { "mo = mode(t)", "cd = count_distinct(t)", "mn = min(t)",
                         "ms = mode(s)", "sa = string_agg(t, '|')" };
  for (int nkeys = 0; nkeys < 2; nkeys++) {
    size_t grew;
    fold(whole, nkeys, 3, sets, &grew);   /* mode and count_distinct of t */
    fprintf(stderr, "%s sets: %zu bytes more at most\n", nkeys ? "grouped" : "whole", grew);
    CHECK(grew < 8 * 1000 * 1000);
    fold(whole, nkeys, 5, sets, &grew);   /* with those that hold all */
  }
  tl_table_release(whole);
  return check_done("agg_keep");
}
