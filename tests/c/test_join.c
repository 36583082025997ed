/*
** test_join.c -- joins of every kind against a nested-loop reference on
** random tables, and the naming rules and errors on small ones.
*/
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "tally/tally.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {   /* xorshift64 */
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

/* A table (id int, k int with nulls, s string) of n rows; keys in [0, range). */
static tl_table *random_table(int n, int range, const char *id) {
  tl_builder *bi, *bk, *bs;
  tl_column *c[3];
  if (tl_builder_new(TL_INT, n, &bi, NULL) || tl_builder_new(TL_INT, n, &bk, NULL) ||
      tl_builder_new(TL_STRING, n, &bs, NULL))
    return NULL;
  for (int i = 0; i < n; i++) {
    char s[8];
    int k = (int)(next_rand() % (uint64_t)range);
    snprintf(s, sizeof s, "v%d", k % 3);
    if (tl_builder_append_int(bi, i, NULL)) return NULL;
    if ((next_rand() % 7 == 0 ? tl_builder_append_null(bk, NULL) : tl_builder_append_int(bk, k, NULL)))
      return NULL;
    if (tl_builder_append_string(bs, s, strlen(s), NULL)) return NULL;
  }
  if (tl_builder_finish(bi, &c[0], NULL) || tl_builder_finish(bk, &c[1], NULL) ||
      tl_builder_finish(bs, &c[2], NULL))
    return NULL;
  const char *names[3] = { id, "k", "s" };
  tl_table *t;
  if (tl_table_new(3, names, c, &t, NULL)) return NULL;
  for (int j = 0; j < 3; j++) tl_column_release(c[j]);
  return t;
}

static int key_at(const tl_table *t, int64_t i, int64_t *k) {
  const tl_column *c = tl_table_column(t, 1);
  if (tl_column_is_null(c, i)) return 0;
  *k = tl_column_ints(c)[i];
  return 1;
}

/* The expected (left id, right id) pairs, -1 for a missing side. */
static int64_t reference(const tl_table *l, const tl_table *r, tl_join_kind how, int64_t *pl,
                         int64_t *pr) {
  int64_t n = 0, nl = tl_table_nrows(l), nr = tl_table_nrows(r);
  char *seen = calloc((size_t)nr + 1, 1);
  for (int64_t i = 0; i < nl; i++) {
    int any = 0;
    int64_t a, b;
    for (int64_t j = 0; j < nr; j++) {
      if (!key_at(l, i, &a) || !key_at(r, j, &b) || a != b) continue;
      any = 1;
      seen[j] = 1;
      if (how != TL_JOIN_SEMI && how != TL_JOIN_ANTI) { pl[n] = i; pr[n++] = j; }
    }
    if (how == TL_JOIN_SEMI && any) { pl[n] = i; pr[n++] = -1; }
    if (how == TL_JOIN_ANTI && !any) { pl[n] = i; pr[n++] = -1; }
    if ((how == TL_JOIN_LEFT || how == TL_JOIN_FULL) && !any) { pl[n] = i; pr[n++] = -1; }
  }
  for (int64_t j = 0; (how == TL_JOIN_RIGHT || how == TL_JOIN_FULL) && j < nr; j++)
    if (!seen[j]) { pl[n] = -1; pr[n++] = j; }
  free(seen);
  return n;
}

static int64_t id_at(const tl_table *t, const char *name, int64_t i) {
  int j = tl_table_find(t, name);
  if (j < 0) return -2;
  const tl_column *c = tl_table_column(t, j);
  return tl_column_is_null(c, i) ? -1 : tl_column_ints(c)[i];
}

static void test_random(void) {
  static const int sizes[][3] = { { 0, 5, 3 }, { 5, 0, 3 }, { 1, 1, 1 }, { 30, 20, 5 },
                                  { 20, 300, 40 }, { 300, 20, 40 }, { 400, 400, 7 } };
  const tl_join_kind kinds[6] = { TL_JOIN_INNER, TL_JOIN_LEFT, TL_JOIN_RIGHT, TL_JOIN_FULL,
                                  TL_JOIN_SEMI, TL_JOIN_ANTI };
  for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
    tl_table *l = random_table(sizes[z][0], sizes[z][2], "lid");
    tl_table *r = random_table(sizes[z][1], sizes[z][2], "rid");
    int64_t cap = (int64_t)(sizes[z][0] + 1) * (sizes[z][1] + 1) + sizes[z][1] + 1;
    int64_t *pl = malloc((size_t)cap * sizeof *pl), *pr = malloc((size_t)cap * sizeof *pr);
    for (int h = 0; h < 6; h++) {
      const char *key = "k";
      tl_join_options o;
      tl_join_options_init(&o);
      o.nkeys = 1;
      o.left_keys = &key;
      o.how = kinds[h];
      tl_table *j;
      tl_error err;
      CHECK(tl_table_join(l, r, &o, &j, &err) == TL_OK);
      int64_t n = reference(l, r, kinds[h], pl, pr);
      int ok = tl_table_nrows(j) == n;
      for (int64_t i = 0; ok && i < n; i++) {
        ok = id_at(j, "lid", i) == pl[i];
        if (ok && kinds[h] != TL_JOIN_SEMI && kinds[h] != TL_JOIN_ANTI) ok = id_at(j, "rid", i) == pr[i];
      }
      check_count++;
      if (!ok) {
        check_failures++;
        fprintf(stderr, "join sizes %d x %d, kind %d: got %lld rows, want %lld\n", sizes[z][0],
                sizes[z][1], (int)kinds[h], (long long)tl_table_nrows(j), (long long)n);
      }
      /* the key column: the right one's value where there is no left row */
      for (int64_t i = 0; ok && i < n; i++) {
        int64_t k, want;
        const tl_column *kc = tl_table_column(j, tl_table_find(j, "k"));
        int has = !tl_column_is_null(kc, i);
        k = has ? tl_column_ints(kc)[i] : -1;
        if (pl[i] >= 0) want = key_at(l, pl[i], &want) ? want : -1;
        else want = key_at(r, pr[i], &want) ? want : -1;
        CHECK(k == want);
      }
      tl_table_release(j);
    }
    free(pl);
    free(pr);
    tl_table_release(l);
    tl_table_release(r);
  }
}

static tl_table *load(const char *csv) {
  tl_table *t = NULL;
  if (tl_read_csv_buffer(csv, strlen(csv), "t", NULL, &t, NULL) != TL_OK) return NULL;
  return t;
}

static void test_names(void) {
  tl_table *l = load("country,year,n\nIran,1990,6\nNepal,2015,23\nPeru,1970,\n");
  tl_table *r = load("country,region,n\nNepal,Asia,1\nIran,Asia,2\nChile,Americas,3\n");
  tl_join_options o;
  tl_join_options_init(&o);
  const char *key = "country";
  o.nkeys = 1;
  o.left_keys = &key;
  o.how = TL_JOIN_FULL;
  tl_table *j;
  tl_error err;
  CHECK(tl_table_join(l, r, &o, &j, &err) == TL_OK);
  CHECK(tl_table_ncols(j) == 5);
  CHECK_STR(tl_table_name(j, 2), "n");
  CHECK_STR(tl_table_name(j, 4), "n_right");
  size_t len;
  CHECK(tl_table_nrows(j) == 4);
  CHECK(memcmp(tl_column_string_at(tl_table_column(j, 0), 3, &len), "Chile", 5) == 0);
  CHECK(tl_column_is_null(tl_table_column(j, 1), 3));
  tl_table_release(j);
  /* different key names keep both columns */
  const char *lk = "country", *rk = "region";
  o.right_keys = &rk;
  o.left_keys = &lk;
  o.how = TL_JOIN_INNER;
  CHECK(tl_table_join(l, r, &o, &j, &err) == TL_OK);
  CHECK(tl_table_nrows(j) == 0 && tl_table_ncols(j) == 6);
  tl_table_release(j);
  /* errors */
  const char *bad = "contry";
  o.left_keys = &bad;
  o.right_keys = NULL;
  CHECK(tl_table_join(l, r, &o, &j, &err) == TL_EINVAL);
  CHECK_STR(err.message, "join: unknown column 'contry' (did you mean 'country'?)");
  const char *yr = "year";
  o.left_keys = &yr;
  CHECK(tl_table_join(l, r, &o, &j, &err) == TL_EINVAL);
  CHECK_STR(err.message, "join: unknown column 'year' (in the right table)");
  const char *n = "n";
  const char *reg = "region";
  o.left_keys = &n;
  o.right_keys = &reg;
  CHECK(tl_table_join(l, r, &o, &j, &err) == TL_ETYPE);
  CHECK_STR(err.message, "join: key 'n' is int on the left but 'region' is string on the right");
  o.nkeys = 0;
  CHECK(tl_table_join(l, r, &o, &j, &err) == TL_EINVAL);
  tl_table_release(l);
  tl_table_release(r);
}

int main(void) {
  test_random();
  test_names();
  return check_done("join");
}
