/*
** test_interrupt.c -- an interrupt stops every long operation: with
** tl_interrupt() standing, each call on a table of many vectors fails with
** TL_EINTR and "<op>: interrupted", leaving nothing behind (the ASan build
** checks for leaks); once cleared, the same call succeeds with the right
** result.
*/
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tally/tally.h"

#define N 140000   /* three 64K-row chunks, several vectors and tasks */

static char tmpdir[64];

static const char *tmp(const char *name) {
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  return path;
}

/* id = i / 4, nm = "a".."d" by i % 4, x = i, s = "v<i % 1000>". */
static tl_table *big(void) {
  tl_builder *b[4];
  tl_type ty[4] = { TL_INT, TL_STRING, TL_INT, TL_STRING };
  tl_error err;
  for (int j = 0; j < 4; j++)
    if (tl_builder_new(ty[j], N, &b[j], &err) != TL_OK) return NULL;
  for (int64_t i = 0; i < N; i++) {
    char s[16], nm[2] = { (char)('a' + i % 4), 0 };
    int n = snprintf(s, sizeof s, "v%d", (int)(i % 1000));
    if (tl_builder_append_int(b[0], i / 4, &err) != TL_OK ||
        tl_builder_append_string(b[1], nm, 1, &err) != TL_OK ||
        tl_builder_append_int(b[2], i, &err) != TL_OK ||
        tl_builder_append_string(b[3], s, (size_t)n, &err) != TL_OK)
      return NULL;
  }
  tl_column *c[4];
  for (int j = 0; j < 4; j++)
    if (tl_builder_finish(b[j], &c[j], &err) != TL_OK) return NULL;
  const char *names[4] = { "id", "nm", "x", "s" };
  tl_table *t = NULL;
  if (tl_table_new(4, names, c, &t, &err) != TL_OK) t = NULL;
  for (int j = 0; j < 4; j++) tl_column_release(c[j]);
  return t;
}

static char want[64];

static int64_t int_at(const tl_table *t, const char *name, int64_t i) {
  for (int j = 0; j < tl_table_ncols(t); j++)
    if (strcmp(tl_table_name(t, j), name) == 0) {
      tl_scalar v;
      tl_column_get(tl_table_column(t, j), i, &v);
      return v.is_null ? -999 : v.type == TL_FLOAT ? (int64_t)v.v.f : v.v.i;
    }
  return -1000;
}

/* Runs `call` (which sets `st`, `out` and `err`) under an interrupt, expects
** TL_EINTR with `op`'s message and no table, then runs it again cleared. */
#define INTERRUPTED(op, call) do { \
    tl_interrupt(); \
    out = NULL; \
    st = (call); \
    tl_clear_interrupt(); \
    CHECK(st == TL_EINTR); \
    snprintf(want, sizeof want, "%s: interrupted", op); \
    CHECK_STR(err.message, want); \
    CHECK(out == NULL); \
    if (out) tl_table_release(out); \
    out = NULL; \
    st = (call); \
    if (st != TL_OK) fprintf(stderr, "%s: %s\n", op, err.message); \
    CHECK(st == TL_OK); \
  } while (0)

static void test_rows(const tl_table *t) {
  tl_table *out;
  tl_status st;
  tl_error err;
  int64_t *rows = malloc(N * sizeof *rows);
  for (int64_t i = 0; i < N; i++) rows[i] = N - 1 - i;
  INTERRUPTED("take", tl_table_take(t, rows, N, &out, &err));
  CHECK(out && tl_table_nrows(out) == N && int_at(out, "x", 0) == N - 1);
  tl_table_release(out);
  free(rows);

  tl_table *two[2] = { (tl_table *)t, NULL };
  const char *keep[2] = { "x", "s" };
  CHECK(tl_table_select(t, 2, keep, &two[1], &err) == TL_OK);
  INTERRUPTED("concat", tl_table_concat(2, (const tl_table *const *)two, &out, &err));
  CHECK(out && tl_table_nrows(out) == 2 * N && int_at(out, "x", N + 5) == 5);
  CHECK(out && int_at(out, "id", N + 5) == -999);
  tl_table_release(out);
  tl_table_release(two[1]);

  tl_column *mask;
  CHECK(tl_table_eval(t, "x % 3 == 0", "mutate", &mask, &err) == TL_OK);
  INTERRUPTED("filter", tl_table_filter_mask(t, mask, &out, &err));
  CHECK(out && tl_table_nrows(out) == (N + 2) / 3 && int_at(out, "x", 2) == 6);
  tl_table_release(out);
  tl_column_release(mask);
}

static void test_ops(const tl_table *t) {
  tl_table *out, *r;
  tl_status st;
  tl_error err;
  const char *defs[1] = { "x = x * 10" };
  const char *ids[1] = { "id" };
  CHECK(tl_table_mutate(t, 1, defs, &r, &err) == TL_OK);   /* 4 rows a key */
  tl_join_options jo;
  tl_join_options_init(&jo);
  jo.nkeys = 1;
  jo.left_keys = ids;
  INTERRUPTED("join", tl_table_join(t, r, &jo, &out, &err));
  CHECK(out && tl_table_nrows(out) == 4 * (int64_t)N);
  CHECK(out && int_at(out, "x", 5) == 1 && int_at(out, "x_right", 5) == 10);
  tl_table_release(out);
  jo.how = TL_JOIN_FULL;
  INTERRUPTED("join", tl_table_join(t, r, &jo, &out, &err));
  CHECK(out && tl_table_nrows(out) == 4 * (int64_t)N);
  tl_table_release(out);
  jo.how = TL_JOIN_SEMI;
  INTERRUPTED("join", tl_table_join(t, r, &jo, &out, &err));
  CHECK(out && tl_table_nrows(out) == N);
  tl_table_release(out);
  tl_table_release(r);

  tl_pivot_wider_options wo;
  tl_pivot_wider_options_init(&wo);
  const char *from[1] = { "nm" };
  const char *wid[1] = { "id" };
  wo.names_from = from;
  wo.nnames_from = 1;
  wo.values_from = "x";
  wo.id_cols = wid;
  wo.nid_cols = 1;
  INTERRUPTED("pivot_wider", tl_table_pivot_wider(t, &wo, &out, &err));
  CHECK(out && tl_table_nrows(out) == N / 4 && int_at(out, "c", 7) == 30);
  tl_table_release(out);

  tl_pivot_longer_options lo;
  tl_pivot_longer_options_init(&lo);
  const char *gather[2] = { "id", "x" };
  lo.cols = gather;
  lo.ncols = 2;
  INTERRUPTED("pivot_longer", tl_table_pivot_longer(t, &lo, &out, &err));
  CHECK(out && tl_table_nrows(out) == 2 * N && int_at(out, "value", 9) == 4);
  tl_table_release(out);

  tl_window_options win;
  tl_window_options_init(&win);
  const char *part[1] = { "nm" };
  win.partition_by = part;
  win.npartition = 1;
  const char *wdefs[2] = { "p = lag(x)", "c = cumsum(x)" };
  INTERRUPTED("mutate", tl_table_mutate_ex(t, 2, wdefs, NULL, &win, &out, &err));
  CHECK(out && int_at(out, "p", 9) == 5 && int_at(out, "c", 9) == 1 + 5 + 9);
  tl_table_release(out);

  INTERRUPTED("describe", tl_table_describe(t, &out, &err));
  CHECK(out && tl_table_nrows(out) == 4 && int_at(out, "count", 2) == N);
  tl_table_release(out);

  tl_grouping *g = NULL;
  const char *keys[1] = { "s" };
  CHECK(tl_table_group_by(t, 1, keys, &g, &err) == TL_OK);
  INTERRUPTED("group", tl_grouping_group(g, 3, &out, &err));
  CHECK(out && tl_table_nrows(out) == N / 1000 && int_at(out, "x", 1) == 1003);
  tl_table_release(out);
  tl_grouping_free(g);
}

static void test_io(const tl_table *t) {
  tl_table *out = NULL;
  tl_status st;
  tl_error err;
  /* a write leaves no file behind: neither the result nor half of it */
  for (int nd = 0; nd <= 1; nd++) {
    const char *path = tmp(nd ? "t.ndjson" : "t.json");
    char p[128];
    snprintf(p, sizeof p, "%s", path);
    tl_interrupt();
    st = tl_write_json(t, p, nd, &err);
    tl_clear_interrupt();
    CHECK(st == TL_EINTR);
    CHECK_STR(err.message, nd ? "write_ndjson: interrupted" : "write_json: interrupted");
    CHECK(access(p, F_OK) != 0);
    CHECK(tl_write_json(t, p, nd, &err) == TL_OK);
    if (nd) {   /* an array is read by test_midway */
      INTERRUPTED("read_ndjson", tl_read_json(p, nd, &out, &err));
      CHECK(out && tl_table_nrows(out) == N && int_at(out, "x", N - 1) == N - 1);
      tl_table_release(out);
    }
    unlink(p);
  }

  char p[128];
  snprintf(p, sizeof p, "%s", tmp("t.csv"));
  tl_interrupt();
  st = tl_write_csv(t, p, &err);
  tl_clear_interrupt();
  CHECK(st == TL_EINTR);
  CHECK_STR(err.message, "write_csv: interrupted");
  CHECK(access(p, F_OK) != 0);
  CHECK(tl_write_csv(t, p, &err) == TL_OK);
  unlink(p);

  snprintf(p, sizeof p, "%s", tmp("t.tly"));
  tl_interrupt();
  st = tl_table_save(t, p, &err);
  tl_clear_interrupt();
  CHECK(st == TL_EINTR);
  CHECK_STR(err.message, "save: interrupted");
  CHECK(access(p, F_OK) != 0);
  char ptmp[160];
  snprintf(ptmp, sizeof ptmp, "%s.tmp", p);
  CHECK(access(ptmp, F_OK) != 0);
  CHECK(tl_table_save(t, p, &err) == TL_OK);
  INTERRUPTED("load", tl_table_load(p, &out, &err));
  CHECK(out && tl_table_nrows(out) == N && int_at(out, "x", N - 1) == N - 1);
  tl_table_release(out);
  INTERRUPTED("load", tl_table_load_ex(p, TL_LOAD_COPY, &out, &err));
  CHECK(out && tl_table_nrows(out) == N && int_at(out, "x", 7) == 7);
  tl_table_release(out);
  unlink(p);

  struct ArrowSchema schema;
  struct ArrowArray array;
  /* wrapped columns need no loop: a copied column (a slice) does */
  CHECK(tl_table_export_arrow(t, &schema, &array, &err) == TL_OK);
  array.offset = 1;
  array.length = N - 1;
  tl_interrupt();
  st = tl_table_import_arrow(&schema, &array, &out, &err);
  tl_clear_interrupt();
  CHECK(st == TL_EINTR);
  CHECK_STR(err.message, "import_arrow: interrupted");
  CHECK(schema.release && array.release);   /* still the caller's */
  out = NULL;
  CHECK(tl_table_import_arrow(&schema, &array, &out, &err) == TL_OK);
  CHECK(out && tl_table_nrows(out) == N - 1 && int_at(out, "x", 11) == 12);
  if (out) tl_table_release(out);
  else { schema.release(&schema); array.release(&array); }

  /* a report of one table with N rows */
  size_t cap = (size_t)N * 24 + 64, len = 0;
  char *text = malloc(cap);
  len += (size_t)snprintf(text, cap, "Title\n\nk\tv\n");
  for (int64_t i = 0; i < N; i++) len += (size_t)snprintf(text + len, cap - len, "r%lld\t%lld\n",
                                                          (long long)i, (long long)i * 2);
  tl_document *d = NULL;
  tl_interrupt();
  st = tl_read_document_buffer(text, len, "r.txt", NULL, &d, &err);
  tl_clear_interrupt();
  CHECK(st == TL_EINTR);
  CHECK_STR(err.message, "read_document: interrupted");
  CHECK(d == NULL);
  tl_document_free(d);
  d = NULL;
  CHECK(tl_read_document_buffer(text, len, "r.txt", NULL, &d, &err) == TL_OK);
  CHECK(d && tl_document_count(d) == 1);
  if (d) {
    tl_table *dt = tl_document_table(d, 0);
    CHECK(tl_table_nrows(dt) == N && int_at(dt, "v", N - 1) == 2 * (N - 1));
  }
  tl_document_free(d);
  free(text);
}

/* ---------------------------------------------------------------------------
** An interrupt in the middle: an allocator that counts allocations and calls
** tl_interrupt() at the Nth, so that an operation is stopped after some of
** its phases have run (and the next check finds it): at the first
** allocation, a third of the way and two thirds of the way. It counts live bytes,
** so that whatever the operation had built must be given back.
*/
static atomic_llong calls, arm_at, live;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    if (ptr) atomic_fetch_sub(&live, (long long)osize);
    free(ptr);
    return NULL;
  }
  long long k = atomic_fetch_add(&calls, 1) + 1;
  if (k == atomic_load(&arm_at)) tl_interrupt();
  void *p = realloc(ptr, nsize);
  if (p) atomic_fetch_add(&live, (long long)nsize - (long long)(ptr ? osize : 0));
  return p;
}

typedef tl_status (*scenario)(const tl_table *t, tl_error *err);

/* Releases the result of a successful call: done(st, &out). */
static tl_status done(tl_status st, tl_table **out) {
  if (st == TL_OK) tl_table_release(*out);
  return st;
}

static tl_status sc_take(const tl_table *t, tl_error *err) {
  int64_t *rows = malloc(N * sizeof *rows);
  for (int64_t i = 0; i < N; i++) rows[i] = (i * 7) % N;
  tl_table *out;
  tl_status st = tl_table_take(t, rows, N, &out, err);
  free(rows);
  return done(st, &out);
}

static tl_status sc_concat(const tl_table *t, tl_error *err) {
  const tl_table *two[2] = { t, t };
  tl_table *out;
  tl_status st = tl_table_concat(2, two, &out, err);
  return done(st, &out);
}

static tl_status join_how(const tl_table *t, tl_join_kind how, tl_error *err) {
  const char *ids[1] = { "id" };
  tl_join_options jo;
  tl_join_options_init(&jo);
  jo.nkeys = 1;
  jo.left_keys = ids;
  jo.how = how;
  tl_table *out;
  tl_status st = tl_table_join(t, t, &jo, &out, err);
  return done(st, &out);
}
static tl_status sc_join(const tl_table *t, tl_error *err) {
  return join_how(t, TL_JOIN_INNER, err);
}
static tl_status sc_anti(const tl_table *t, tl_error *err) {
  return join_how(t, TL_JOIN_ANTI, err);
}

static tl_status sc_wider(const tl_table *t, tl_error *err) {
  tl_pivot_wider_options wo;
  tl_pivot_wider_options_init(&wo);
  const char *from[1] = { "nm" }, *wid[1] = { "id" };
  wo.names_from = from;
  wo.nnames_from = 1;
  wo.values_from = "x";
  wo.id_cols = wid;
  wo.nid_cols = 1;
  tl_table *out;
  tl_status st = tl_table_pivot_wider(t, &wo, &out, err);
  return done(st, &out);
}

static tl_status sc_longer(const tl_table *t, tl_error *err) {
  tl_pivot_longer_options lo;
  tl_pivot_longer_options_init(&lo);
  const char *gather[2] = { "id", "x" };
  lo.cols = gather;
  lo.ncols = 2;
  tl_table *out;
  tl_status st = tl_table_pivot_longer(t, &lo, &out, err);
  return done(st, &out);
}

static tl_status sc_window(const tl_table *t, tl_error *err) {
  tl_window_options win;
  tl_window_options_init(&win);
  const char *part[1] = { "nm" }, *order[1] = { "-x" };
  win.partition_by = part;
  win.npartition = 1;
  win.order_by = order;
  win.norder = 1;
  const char *defs[4] = { "p = lag(x, 1, 0)", "c = cumsum(x)", "r = rank()", "q = lead(s)" };
  tl_table *out;
  tl_status st = tl_table_mutate_ex(t, 4, defs, NULL, &win, &out, err);
  return done(st, &out);
}

static tl_status sc_json(const tl_table *t, tl_error *err) {
  char p[128];
  snprintf(p, sizeof p, "%s", tmp("m.json"));
  tl_status st = tl_write_json(t, p, 0, err);
  if (st != TL_OK) { CHECK(access(p, F_OK) != 0); return st; }
  tl_table *out;
  st = tl_read_json(p, 0, &out, err);
  unlink(p);
  return done(st, &out);
}

static tl_status sc_store(const tl_table *t, tl_error *err) {
  char p[128];
  snprintf(p, sizeof p, "%s", tmp("m.tly"));
  tl_status st = tl_table_save(t, p, err);
  if (st != TL_OK) { CHECK(access(p, F_OK) != 0); return st; }
  tl_table *out;
  st = tl_table_load_ex(p, TL_LOAD_COPY, &out, err);
  unlink(p);
  return done(st, &out);
}

/* Runs sc once to count its allocations, then again with the interrupt
** armed at spread-out allocations: each run succeeds or fails with
** "<op>: interrupted" (or op2's, for a scenario of two calls), and gives
** back every byte. */
static void midway(const char *op, const char *op2, scenario sc, const tl_table *t) {
  tl_error err;
  long long base = atomic_load(&live);
  atomic_store(&arm_at, 0);
  atomic_store(&calls, 0);
  CHECK(sc(t, &err) == TL_OK);
  long long n = atomic_load(&calls), stopped = 0;
  for (long long k = 1; k <= n; k += n / 3 + 1) {
    atomic_store(&calls, 0);
    atomic_store(&arm_at, k);
    tl_status st = sc(t, &err);
    atomic_store(&arm_at, 0);
    tl_clear_interrupt();
    char want2[64];
    snprintf(want2, sizeof want2, "%s: interrupted", op);
    if (st == TL_EINTR && op2 && strncmp(err.message, op, strlen(op)) != 0)
      snprintf(want2, sizeof want2, "%s: interrupted", op2);
    CHECK(st == TL_OK || st == TL_EINTR);
    if (st == TL_EINTR) { CHECK_STR(err.message, want2); stopped++; }
    if (atomic_load(&live) != base)
      fprintf(stderr, "%s at %lld of %lld: %lld bytes kept (%s)\n", op, k, n,
              atomic_load(&live) - base, st == TL_OK ? "ok" : err.message);
    CHECK(atomic_load(&live) == base);
  }
  if (!stopped) fprintf(stderr, "midway: %s never stopped\n", op);
  CHECK(stopped > 0);
}

static void test_midway(const tl_table *t) {
  midway("take", NULL, sc_take, t);
  midway("concat", NULL, sc_concat, t);
  midway("join", NULL, sc_join, t);
  midway("join", NULL, sc_anti, t);
  midway("pivot_wider", NULL, sc_wider, t);
  midway("pivot_longer", NULL, sc_longer, t);
  midway("mutate", NULL, sc_window, t);
  midway("write_json", "read_json", sc_json, t);
  midway("save", "load", sc_store, t);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tally_intr_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  tl_set_allocator(counting_alloc, NULL);   /* before any other call */
  tl_set_threads(2);
  tl_table *t = big();
  CHECK(t != NULL);
  if (t) {
    test_rows(t);
    test_ops(t);
    test_io(t);
    test_midway(t);
    tl_table_release(t);
  }
  rmdir(tmpdir);
  return check_done("test_interrupt");
}
