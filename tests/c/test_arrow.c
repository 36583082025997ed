/*
** test_arrow.c -- the Arrow C Data Interface: round trips of every type with
** nulls, zero-copy both ways, release callbacks called exactly once,
** dictionary columns, foreign layouts (offsets, narrow types) and errors.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tally/tally.h"

static tl_column *build(tl_type type, int n, int nulls_every) {
  tl_builder *b;
  tl_column *c = NULL;
  if (tl_builder_new(type, n, &b, NULL) != TL_OK) return NULL;
  for (int i = 0; i < n; i++) {
    tl_status st;
    char s[32];
    if (nulls_every && i % nulls_every == 1) {
      st = tl_builder_append_null(b, NULL);
    } else {
      switch (type) {
        case TL_BOOL: st = tl_builder_append_bool(b, i % 3 == 0, NULL); break;
        case TL_INT: st = tl_builder_append_int(b, (int64_t)i * 1000003 - 7, NULL); break;
        case TL_FLOAT: st = tl_builder_append_float(b, i / 4.0 - 3, NULL); break;
        case TL_DATE: st = tl_builder_append_date(b, 7000 + i, NULL); break;
        case TL_TIMESTAMP: st = tl_builder_append_timestamp(b, 1000000LL * i - 5, NULL); break;
        default:
          snprintf(s, sizeof s, "s%d%s", i, i % 2 ? "" : "\xc3\xa9");
          st = tl_builder_append_string(b, s, strlen(s), NULL);
          break;
      }
    }
    if (st != TL_OK) { tl_builder_free(b); return NULL; }
  }
  if (tl_builder_finish(b, &c, NULL) != TL_OK) return NULL;
  return c;
}

static int same_column(const tl_column *a, const tl_column *b) {
  if (tl_column_type(a) != tl_column_type(b) || tl_column_length(a) != tl_column_length(b) ||
      tl_column_null_count(a) != tl_column_null_count(b))
    return 0;
  for (int64_t i = 0; i < tl_column_length(a); i++) {
    tl_scalar x, y;
    tl_column_get(a, i, &x);
    tl_column_get(b, i, &y);
    if (x.is_null != y.is_null) return 0;
    if (x.is_null) continue;
    switch (x.type) {
      case TL_BOOL: if (x.v.b != y.v.b) return 0; break;
      case TL_INT: case TL_TIMESTAMP: if (x.v.i != y.v.i) return 0; break;
      case TL_FLOAT: if (x.v.f != y.v.f) return 0; break;
      case TL_DATE: if (x.v.d != y.v.d) return 0; break;
      case TL_STRING:
        if (x.v.s.len != y.v.s.len || memcmp(x.v.s.ptr, y.v.s.ptr, x.v.s.len) != 0) return 0;
        break;
    }
  }
  return 1;
}

static int same_table(const tl_table *a, const tl_table *b) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(a) != tl_table_nrows(b))
    return 0;
  for (int j = 0; j < tl_table_ncols(a); j++)
    if (strcmp(tl_table_name(a, j), tl_table_name(b, j)) != 0 ||
        !same_column(tl_table_column(a, j), tl_table_column(b, j)))
      return 0;
  return 1;
}

/* Every type with nulls, plus a dictionary column made with group_by's
** dictionary-encoding path: the keys of a string column. */
static tl_table *sample(int n) {
  static const char *const names[] = {"b", "i", "f", "s", "d", "ts", "i_nonull", "dict"};
  tl_column *cols[8];
  cols[0] = build(TL_BOOL, n, 3);
  cols[1] = build(TL_INT, n, 4);
  cols[2] = build(TL_FLOAT, n, 5);
  cols[3] = build(TL_STRING, n, 3);
  cols[4] = build(TL_DATE, n, 6);
  cols[5] = build(TL_TIMESTAMP, n, 7);
  cols[6] = build(TL_INT, n, 0);
  /* a dictionary column over three words, with nulls */
  static const char *const words[] = {"alpha", "beta", "gamma"};
  tl_builder *db;
  tl_column *dict = NULL;
  CHECK(tl_builder_new(TL_STRING, 3, &db, NULL) == TL_OK);
  for (int k = 0; k < 3; k++)
    CHECK(tl_builder_append_string(db, words[k], strlen(words[k]), NULL) == TL_OK);
  CHECK(tl_builder_finish(db, &dict, NULL) == TL_OK);
  /* codes and validity in one block, freed by the column's release */
  int32_t *codes = calloc((size_t)n + 1 + (size_t)n / 32 + 1, sizeof *codes);
  uint8_t *valid = (uint8_t *)(codes + n + 1);
  for (int i = 0; i < n; i++) {
    if (i % 5 != 2) { valid[i / 8] |= (uint8_t)(1u << (i % 8)); codes[i] = i % 3; }
  }
  CHECK(tl_column_wrap_dictionary(n, codes, dict, valid, free, codes, &cols[7], NULL) ==
        TL_OK);
  tl_column_release(dict);
  tl_table *t = NULL;
  CHECK(tl_table_new(8, names, cols, &t, NULL) == TL_OK);
  for (int j = 0; j < 8; j++) tl_column_release(cols[j]);
  return t;
}

static void test_round_trip(int n) {
  tl_table *t = sample(n), *u = NULL;
  struct ArrowSchema s;
  struct ArrowArray a;
  tl_error err;
  CHECK(t != NULL);
  if (!t) return;
  CHECK(tl_table_export_arrow(t, &s, &a, &err) == TL_OK);
  CHECK_STR(s.format, "+s");
  CHECK(s.n_children == 8 && a.n_children == 8 && a.length == n);
  CHECK_STR(s.children[0]->format, "b");
  CHECK_STR(s.children[1]->format, "l");
  CHECK_STR(s.children[2]->format, "g");
  CHECK_STR(s.children[3]->format, "U");
  CHECK_STR(s.children[4]->format, "tdD");
  CHECK_STR(s.children[5]->format, "tsu:");
  CHECK_STR(s.children[7]->format, "i");
  CHECK(s.children[7]->dictionary && strcmp(s.children[7]->dictionary->format, "U") == 0);
  CHECK(a.children[7]->dictionary && a.children[7]->dictionary->length == 3);
  CHECK(s.children[1]->flags & ARROW_FLAG_NULLABLE);
  CHECK_STR(s.children[5]->name, "ts");
  /* zero-copy out: the buffers are the columns' */
  CHECK(a.children[1]->buffers[1] == (const void *)tl_column_ints(tl_table_column(t, 1)));
  CHECK(a.children[1]->buffers[0] == (const void *)tl_column_validity(tl_table_column(t, 1)));
  CHECK(a.children[6]->buffers[0] == NULL && a.children[6]->null_count == 0);
  CHECK(a.children[3]->buffers[2] ==
        (const void *)tl_column_string_bytes(tl_table_column(t, 3)));
  CHECK(a.children[1]->null_count == tl_column_null_count(tl_table_column(t, 1)));

  CHECK(tl_table_import_arrow(&s, &a, &u, &err) == TL_OK);
  CHECK(s.release == NULL && a.release == NULL);   /* moved */
  CHECK(u && same_table(t, u));
  /* zero-copy in: the imported columns point at the original buffers */
  if (u && n > 0) {
    CHECK(tl_column_ints(tl_table_column(u, 1)) == tl_column_ints(tl_table_column(t, 1)));
    CHECK(tl_column_string_bytes(tl_table_column(u, 3)) ==
          tl_column_string_bytes(tl_table_column(t, 3)));
    CHECK(tl_column_codes(tl_table_column(u, 7)) == tl_column_codes(tl_table_column(t, 7)));
    CHECK(tl_column_dictionary(tl_table_column(u, 7)) != NULL);
  }
  /* the original can go first: the imported table keeps its buffers */
  tl_table_release(t);
  if (u) {
    tl_table *g;
    CHECK(tl_table_filter(u, "i > 0 and s ~= 's3'", &g, &err) == TL_OK);
    tl_table_release(g);
  }
  tl_table_release(u);
}

/* A producer of our own: counts its release calls. */
static int released_schema, released_array;
static void count_schema(struct ArrowSchema *s) { released_schema++; s->release = NULL; }
static void count_array(struct ArrowArray *a) { released_array++; a->release = NULL; }

typedef struct producer {
  struct ArrowSchema s, cs[3], *csp[3], ds;
  struct ArrowArray a, ca[3], *cap[3], da;
  const void *tb[1], *b0[2], *b1[3], *b2[2], *db[3];
} producer;

/* Three columns: int32 "n" (converted), utf8 "u" (converted), and an int64
** "l" with offset 1 (copied); or, with `dict`, "l" is int8 indices into a
** "u" dictionary holding a repeated value. */
static void produce(producer *p, int dict) {
  static const int32_t n[] = {10, -20, 30, 40};
  static const uint8_t nvalid[] = {0x0b};        /* rows 0, 1, 3 */
  static const int32_t uoff[] = {0, 1, 3, 3, 6};
  static const char ubytes[] = "abbccc";
  static const int64_t l[] = {99, 1, 2, 3, 4};
  static const int8_t idx[] = {0, 2, 1, 2, 0};
  static const int32_t doff[] = {0, 1, 2, 3};
  static const char dbytes[] = "xyx";
  memset(p, 0, sizeof *p);
  p->s.format = "+s";
  p->s.n_children = 3;
  p->s.children = p->csp;
  p->s.release = count_schema;
  p->a.length = 4;
  p->a.n_buffers = 1;
  p->a.buffers = p->tb;
  p->a.n_children = 3;
  p->a.children = p->cap;
  p->a.release = count_array;
  const char *fmt[] = {"i", "u", dict ? "c" : "l"}, *nm[] = {"n", "u", "l"};
  for (int j = 0; j < 3; j++) {
    p->csp[j] = &p->cs[j];
    p->cap[j] = &p->ca[j];
    p->cs[j].format = fmt[j];
    p->cs[j].name = nm[j];
    p->cs[j].flags = ARROW_FLAG_NULLABLE;
    p->cs[j].release = count_schema;
    p->ca[j].release = count_array;
    p->ca[j].length = j == 2 ? 5 : 4;
    p->ca[j].n_buffers = j == 1 ? 3 : 2;
  }
  p->b0[0] = nvalid; p->b0[1] = n;
  p->ca[0].buffers = p->b0; p->ca[0].null_count = 1;
  p->b1[1] = uoff; p->b1[2] = ubytes;
  p->ca[1].buffers = p->b1;
  p->b2[1] = dict ? (const void *)idx : (const void *)l;
  p->ca[2].buffers = p->b2;
  p->ca[2].offset = 1;
  if (dict) {
    p->cs[2].dictionary = &p->ds;
    p->ds.format = "u";
    p->ds.release = count_schema;
    p->ca[2].dictionary = &p->da;
    p->da.length = 3;
    p->da.n_buffers = 3;
    p->db[1] = doff; p->db[2] = dbytes;
    p->da.buffers = p->db;
    p->da.release = count_array;
  }
}

static void test_foreign(int dict) {
  producer p;
  tl_table *t = NULL;
  tl_error err;
  released_schema = released_array = 0;
  produce(&p, dict);
  CHECK(tl_table_import_arrow(&p.s, &p.a, &t, &err) == TL_OK);
  if (!t) return;
  tl_column *n = tl_table_column(t, 0), *u = tl_table_column(t, 1), *l = tl_table_column(t, 2);
  CHECK(tl_column_type(n) == TL_INT && tl_column_null_count(n) == 1);
  CHECK(tl_column_ints(n)[0] == 10 && tl_column_is_null(n, 2) && tl_column_ints(n)[3] == 40);
  size_t len;
  const char *s = tl_column_string_at(u, 2, &len);
  CHECK(len == 0);
  s = tl_column_string_at(u, 3, &len);
  CHECK(len == 3 && memcmp(s, "ccc", 3) == 0);
  if (!dict) {
    CHECK(tl_column_ints(l)[0] == 1 && tl_column_ints(l)[3] == 4);
  } else {
    s = tl_column_string_at(l, 0, &len);   /* idx[1] = 2 -> "x" */
    CHECK(len == 1 && s[0] == 'x');
    s = tl_column_string_at(l, 1, &len);
    CHECK(len == 1 && s[0] == 'y');
    CHECK(tl_column_dictionary(l) == NULL);  /* a repeated value: decoded */
  }
  /* every column was converted or copied: the array went at once */
  CHECK(released_array == 1);
  tl_table_release(t);
  CHECK(released_schema == 1 && released_array == 1);
}

/* Host buffers wrapped, exported, imported, then released in every order:
** the host's release runs once, after the last reference. */
static int host_releases;
static void host_release(void *ctx) { host_releases++; free(ctx); }

static void test_wrap_release_once(void) {
  int64_t *v = malloc(4 * sizeof *v);
  for (int i = 0; i < 4; i++) v[i] = i * i;
  uint8_t valid = 0x0d;                          /* row 1 null */
  tl_column *c;
  tl_error err;
  host_releases = 0;
  CHECK(tl_column_wrap(TL_INT, 4, v, &valid, host_release, v, &c, &err) == TL_OK);
  CHECK(tl_column_null_count(c) == 1 && tl_column_ints(c) == v);
  const char *name = "sq";
  tl_table *t, *u = NULL;
  CHECK(tl_table_new(1, &name, &c, &t, &err) == TL_OK);
  tl_column_release(c);
  struct ArrowSchema s;
  struct ArrowArray a;
  CHECK(tl_table_export_arrow(t, &s, &a, &err) == TL_OK);
  tl_table_release(t);
  CHECK(host_releases == 0);                     /* the export holds the column */
  CHECK(tl_table_import_arrow(&s, &a, &u, &err) == TL_OK);
  CHECK(u && tl_column_ints(tl_table_column(u, 0)) == v);
  tl_table *f = NULL, *g = NULL;
  CHECK(tl_table_select(u, 1, &name, &f, &err) == TL_OK);   /* shares the column */
  tl_table_release(u);
  CHECK(host_releases == 0);
  CHECK(tl_table_filter(f, "sq >= 4", &g, &err) == TL_OK);
  CHECK(g && tl_table_nrows(g) == 2);
  tl_table_release(g);
  CHECK(host_releases == 0);
  tl_table_release(f);
  CHECK(host_releases == 1);

  /* a consumer that moves one child out and releases the parent first */
  v = malloc(2 * sizeof *v);
  v[0] = 1; v[1] = 2;
  CHECK(tl_column_wrap(TL_INT, 2, v, NULL, host_release, v, &c, &err) == TL_OK);
  CHECK(tl_table_new(1, &name, &c, &t, &err) == TL_OK);
  tl_column_release(c);
  CHECK(tl_table_export_arrow(t, &s, &a, &err) == TL_OK);
  tl_table_release(t);
  struct ArrowArray child = *a.children[0];
  a.children[0]->release = NULL;                 /* moved */
  a.release(&a);
  s.release(&s);
  CHECK(host_releases == 1 && a.release == NULL && s.release == NULL);
  CHECK(((const int64_t *)child.buffers[1])[1] == 2);
  child.release(&child);
  CHECK(host_releases == 2);
}

static void test_errors(void) {
  producer p;
  tl_table *t = NULL;
  tl_error err;
  produce(&p, 0);
  p.cs[0].format = "+l";
  CHECK(tl_table_import_arrow(&p.s, &p.a, &t, &err) == TL_ETYPE);
  CHECK_STR(err.message, "import_arrow: column 'n': unsupported format '+l'");
  CHECK(p.s.release != NULL && p.a.release != NULL);   /* untouched */
  produce(&p, 0);
  p.s.format = "l";
  CHECK(tl_table_import_arrow(&p.s, &p.a, &t, &err) == TL_ETYPE);
  CHECK_STR(err.message, "import_arrow: expected a struct array (format '+s'), got 'l'");
  produce(&p, 1);
  static const int8_t bad[] = {0, 0, 7, 0, 0};
  p.b2[1] = bad;
  CHECK(tl_table_import_arrow(&p.s, &p.a, &t, &err) == TL_EINVAL);
  CHECK_STR(err.message, "import_arrow: column 'l': an index outside the dictionary");
  produce(&p, 0);
  p.ca[2].length = 3;
  CHECK(tl_table_import_arrow(&p.s, &p.a, &t, &err) == TL_EINVAL);
  CHECK(t == NULL);
  /* wrap's own checks */
  tl_column *c = NULL;
  static const int64_t off[] = {0, 2, 1};
  CHECK(tl_column_wrap_strings(2, off, "abc", NULL, NULL, NULL, &c, &err) == TL_EINVAL);
  CHECK_STR(err.message, "column_wrap: string offsets decrease at row 2");
  CHECK(tl_column_wrap(TL_STRING, 0, NULL, NULL, NULL, NULL, &c, &err) == TL_ETYPE);
  CHECK(tl_column_wrap(TL_INT, 3, NULL, NULL, NULL, NULL, &c, &err) == TL_EINVAL);
  CHECK(c == NULL);
  CHECK(tl_column_wrap(TL_DATE, 0, NULL, NULL, NULL, NULL, &c, &err) == TL_OK);
  CHECK(c && tl_column_length(c) == 0);
  tl_column_release(c);
  CHECK_STR(tl_version(), TALLY_VERSION);
}

/* One hostile change to a good producer: the import fails with `code` and a
** message containing `msg`, and leaves both structs the caller's. */
static void hostile(int dict, void (*spoil)(producer *), tl_status code, const char *msg) {
  producer p;
  tl_table *t = NULL;
  tl_error err;
  produce(&p, dict);
  spoil(&p);
  err.message[0] = '\0';
  CHECK(tl_table_import_arrow(&p.s, &p.a, &t, &err) == code);
  CHECK(t == NULL && p.s.release != NULL && p.a.release != NULL);
  if (!strstr(err.message, msg)) {
    fprintf(stderr, "expected '%s' in '%s'\n", msg, err.message);
    CHECK(0);
  }
}

static void off_overflows(producer *p) { p->ca[2].offset = INT64_MAX; }
static void top_overflows(producer *p) { p->a.offset = INT64_MAX - 1; }
static void top_offset_past(producer *p) { p->a.offset = 3; }
static void neg_length(producer *p) { p->ca[0].length = -1; }
static void neg_offset(producer *p) { p->ca[1].offset = -8; }
static void neg_top(producer *p) { p->a.length = -4; }
static void many_nulls(producer *p) { p->ca[0].null_count = 9; }
static void neg_nulls(producer *p) { p->ca[0].null_count = -2; }
static void few_buffers(producer *p) { p->ca[1].n_buffers = 2; }
static void no_buffers(producer *p) { p->ca[0].buffers = NULL; }
static void children(producer *p) { p->ca[0].n_children = 2; }
static void top_buffers(producer *p) { p->a.n_buffers = 5; }
static void bad_offsets(producer *p) {
  static const int32_t off[] = {0, 4, 2, 3, 6};
  p->b1[1] = off;
}
static void neg_string_offset(producer *p) {
  static const int32_t off[] = {-100, 1, 3, 3, 6};
  p->b1[1] = off;
}
static void dict_overflows(producer *p) { p->da.offset = INT64_MAX - 1; }
static void dict_neg(producer *p) { p->da.length = -3; }
static void dict_index(producer *p) {
  static const int8_t idx[] = {0, -1, 1, 2, 0};
  p->b2[1] = idx;
}
static void no_child(producer *p) { p->cap[1] = NULL; }

/* Crafted structs: sizes that overflow, negative counts, offsets out of
** order, too few buffers. Each is refused with the column named, before a
** byte past the buffers is read (ASan checks the reads). */
static void test_hostile(void) {
  hostile(0, off_overflows, TL_EINVAL,
          "column 'l': offset 9223372036854775807 + length 5 overflows");
  hostile(0, top_overflows, TL_EINVAL, "the struct array has offset 9223372036854775806");
  hostile(0, top_offset_past, TL_EINVAL, "column 'n': 4 rows, shorter than the table's 4 + "
          "offset 3");
  hostile(0, neg_length, TL_EINVAL, "column 'n': a negative length (-1)");
  hostile(0, neg_offset, TL_EINVAL, "column 'u': a negative offset (-8)");
  hostile(0, neg_top, TL_EINVAL, "the struct array has offset 0 and length -4");
  hostile(0, many_nulls, TL_EINVAL, "column 'n': a null count of 9 in 4 rows");
  hostile(0, neg_nulls, TL_EINVAL, "column 'n': a null count of -2 in 4 rows");
  hostile(0, few_buffers, TL_EINVAL, "column 'u': 2 buffers, where its format needs 3");
  hostile(0, no_buffers, TL_EINVAL, "column 'n': 0 buffers, where its format needs 2");
  hostile(0, children, TL_EINVAL, "column 'n': 2 children, where its format has none");
  hostile(0, top_buffers, TL_EINVAL, "the struct array has 5 buffers");
  hostile(0, bad_offsets, TL_EINVAL, "column 'u': string offsets out of order at row 2 (4, "
          "then 2)");
  hostile(0, neg_string_offset, TL_EINVAL, "column 'u': string offsets out of order at row 1");
  hostile(1, dict_overflows, TL_EINVAL, "column 'l': its dictionary: offset "
          "9223372036854775806 + length 3 overflows");
  hostile(1, dict_neg, TL_EINVAL, "column 'l': its dictionary: a negative length (-3)");
  hostile(1, dict_index, TL_EINVAL, "column 'l': an index outside the dictionary");
  hostile(0, no_child, TL_EINVAL, "column 2 ('u') has no array");
}

int main(void) {
  test_round_trip(0);
  test_round_trip(1);
  test_round_trip(9);
  test_round_trip(1000);
  test_foreign(0);
  test_foreign(1);
  test_wrap_release_once();
  test_errors();
  test_hostile();
  return check_done("arrow");
}
