/*
** test_group_range.c -- group_by on one int, date or timestamp key: the
** groups of every row against a reference made here by sorting (groups
** numbered in order of first appearance, nulls one group), whether the
** key's values span a range small enough for a direct table or not (the
** hash table then): negative keys, keys at the ends of int64, all nulls,
** keys nearly all distinct (their groups ordered through a table of the
** rows, not sorted), no rows, over every row and over a selection of rows,
** at 1 and 3 threads, and an interrupt.
*/
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "ops/keys.h"
#include "tally/tally.h"

typedef struct keyrow {
  int null;
  int64_t v, row;
} keyrow;

static int by_key(const void *a, const void *b) {
  const keyrow *x = a, *y = b;
  if (x->null != y->null) return x->null - y->null;
  if (!x->null && x->v != y->v) return x->v < y->v ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}

static int by_row(const void *a, const void *b) {
  int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
  return (x > y) - (x < y);
}

/* The group of each of the m rows rows[0 .. m) (NULL: 0 .. m) of v into
** gid, by sorting: returns the number of groups. */
static int64_t reference(const int64_t *v, const uint8_t *null, const int64_t *rows, int64_t m,
                         int32_t *gid) {
  keyrow *k = malloc(((size_t)m + 1) * sizeof *k);
  int64_t (*firsts)[2] = malloc(((size_t)m + 1) * sizeof *firsts), ng = 0;
  for (int64_t i = 0; i < m; i++) {
    int64_t r = rows ? rows[i] : i;
    k[i].null = null[r];
    k[i].v = null[r] ? 0 : v[r];
    k[i].row = i;
  }
  qsort(k, (size_t)m, sizeof *k, by_key);
  for (int64_t i = 0; i < m; i++) {   /* each key's first row, and its run in k */
    if (i == 0 || by_key(&(keyrow){ k[i].null, k[i].v, 0 }, &(keyrow){ k[i - 1].null, k[i - 1].v, 0 }))
      { firsts[ng][0] = k[i].row; firsts[ng++][1] = i; }
  }
  int64_t *start = malloc(((size_t)ng + 1) * sizeof *start);
  for (int64_t g = 0; g < ng; g++) start[g] = firsts[g][1];
  start[ng] = m;
  int64_t (*order)[2] = malloc(((size_t)ng + 1) * sizeof *order);
  for (int64_t g = 0; g < ng; g++) { order[g][0] = firsts[g][0]; order[g][1] = g; }
  qsort(order, (size_t)ng, sizeof *order, by_row);
  for (int64_t id = 0; id < ng; id++) {
    int64_t g = order[id][1];
    for (int64_t i = start[g]; i < start[g + 1]; i++) gid[k[i].row] = (int32_t)id;
  }
  free(k); free(firsts); free(start); free(order);
  return ng;
}

static tl_table *key_table(tl_type type, const int64_t *v, const uint8_t *null, int64_t n) {
  tl_builder *b;
  tl_column *c;
  CHECK(tl_builder_new(type, n, &b, NULL) == TL_OK);
  for (int64_t i = 0; i < n; i++) {
    if (null[i]) CHECK(tl_builder_append_null(b, NULL) == TL_OK);
    else if (type == TL_DATE) CHECK(tl_builder_append_date(b, (int32_t)v[i], NULL) == TL_OK);
    else if (type == TL_TIMESTAMP) CHECK(tl_builder_append_timestamp(b, v[i], NULL) == TL_OK);
    else CHECK(tl_builder_append_int(b, v[i], NULL) == TL_OK);
  }
  CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
  const char *name = "k";
  tl_table *t = NULL;
  CHECK(tl_table_new(1, &name, &c, &t, NULL) == TL_OK);
  tl_column_release(c);
  return t;
}

/* Groups t by k (over rows[0 .. m), or every row) and compares the groups
** of the rows, their count and each group's key with the reference. */
static void check_groups(const char *what, const tl_table *t, const int64_t *v, const uint8_t *null,
                         const int64_t *rows, int64_t m) {
  const char *key = "k";
  tl_grouping *g = NULL;
  tl_error err;
  tl_status st = rows ? tl_group_by_rows(t, rows, m, 1, &key, &g, &err)
                      : tl_table_group_by(t, 1, &key, &g, &err);
  CHECK(st == TL_OK);
  if (st != TL_OK) { fprintf(stderr, "%s: %s\n", what, err.message); return; }
  int32_t *want = malloc(((size_t)m + 1) * sizeof *want);
  int64_t ng = reference(v, null, rows, m, want);
  const int32_t *gid = NULL;
  CHECK(tl_grouping_row_ids(g, &gid, &err) == TL_OK);
  CHECK(tl_grouping_count(g) == ng);
  int64_t bad = 0;
  for (int64_t i = 0; gid && i < m; i++) bad += gid[i] != want[i];
  if (bad) fprintf(stderr, "%s: %lld rows in the wrong group\n", what, (long long)bad);
  CHECK(bad == 0);
  tl_table *keys = NULL;
  CHECK(tl_grouping_keys(g, &keys, &err) == TL_OK);
  int64_t badkey = 0;
  for (int64_t i = 0; keys && i < m; i++) {   /* the key of row i's group is row i's */
    tl_scalar kv;
    int64_t r = rows ? rows[i] : i;
    tl_column_get(tl_table_column(keys, 0), want[i], &kv);
    badkey += kv.is_null != null[r] || (!null[r] && (kv.type == TL_DATE ? kv.v.d : kv.v.i) != v[r]);
  }
  CHECK(badkey == 0);
  tl_table_release(keys);
  tl_grouping_free(g);
  free(want);
}

typedef struct keyset {
  const char *what;
  tl_type type;
  int64_t n;
} keyset;

/* Key i of set s (null[i] set for a null). */
static int64_t key_of(int s, int64_t i, uint8_t *null) {
  uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
  *null = 0;
  switch (s) {
    case 0: *null = h % 53 == 0; return (int64_t)(h % 432) * 30 - 6000;             /* dates, some before 1970 */
    case 1: return -(int64_t)(h % 5000) - 1;                                         /* negative ints */
    case 2: return INT64_MIN + (int64_t)(h % 7);                                     /* the bottom of int64 */
    case 3: return INT64_MAX - (int64_t)(h % 7);                                     /* its top */
    case 4: return h % 3 ? INT64_MIN : INT64_MAX;                                    /* both: the hash table */
    case 5: *null = 1; return 0;                                                     /* only nulls */
    case 6: *null = h % 5 == 0; return (int64_t)(h % 3000000) * 1000;               /* too wide: the hash table */
    case 7: return (int64_t)(h % 1000) * 86400000000LL;                              /* timestamps, wide */
    case 8: *null = h % 11 == 0; return (int64_t)(h % 9) - 4;                        /* timestamps, narrow */
    case 9: return (int64_t)(i % 1500) - 700;                                        /* in order, a long run */
    default: *null = i % 1000 == 7; return (int64_t)((uint64_t)i * 7919 % 100003) - 50000;   /* most unique */
  }
}

int main(void) {
  static const keyset sets[] = {
    { "dates", TL_DATE, 200001 }, { "negative", TL_INT, 200003 }, { "int64 min", TL_INT, 150000 },
    { "int64 max", TL_INT, 150000 }, { "int64 ends", TL_INT, 70000 }, { "nulls", TL_INT, 140000 },
    { "wide", TL_INT, 200000 }, { "timestamps", TL_TIMESTAMP, 140000 },
    { "narrow timestamps", TL_TIMESTAMP, 140000 }, { "runs", TL_INT, 150000 },
    { "unique", TL_INT, 100003 }, { "no rows", TL_DATE, 0 }, { "one row", TL_INT, 1 },
  };
  int nsets = (int)(sizeof sets / sizeof sets[0]);
  for (int s = 0; s < nsets; s++) {
    int64_t n = sets[s].n;
    int64_t *v = malloc(((size_t)n + 1) * sizeof *v), *rows = malloc(((size_t)n + 1) * sizeof *rows), m = 0;
    uint8_t *null = malloc((size_t)n + 1);
    for (int64_t i = 0; i < n; i++) v[i] = key_of(s, i, &null[i]);
    if (sets[s].type == TL_DATE) for (int64_t i = 0; i < n; i++) v[i] = (int32_t)v[i];
    for (int64_t i = 0; i < n; i++) if (i % 7 != 3) rows[m++] = i;   /* a selection */
    tl_table *t = key_table(sets[s].type, v, null, n);
    for (int th = 1; th <= 3; th += 2) {
      tl_set_threads(th);
      check_groups(sets[s].what, t, v, null, NULL, n);
      check_groups(sets[s].what, t, v, null, rows, m);
    }
    tl_set_threads(0);
    if (s == 0) {   /* an interrupt stops the grouping with its message */
      const char *key = "k";
      tl_grouping *g = NULL;
      tl_error err;
      tl_interrupt();
      tl_status st = tl_table_group_by(t, 1, &key, &g, &err);
      tl_clear_interrupt();
      CHECK(st == TL_EINTR && g == NULL);
      CHECK_STR(err.message, "group_by: interrupted");
    }
    tl_table_release(t);
    free(v); free(rows); free(null);
  }
  return check_done("group_range");
}
