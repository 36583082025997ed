/*
** test_csv_chunks.c -- read_csv at every chunk size. Random inputs whose
** quoted fields hold line ends (LF, CRLF, CR), separators and doubled
** quotes, with stray quotes in unquoted fields now and then, are read with
** the chunk size set to each of 1, 2, ..., the input's length (so that a
** chunk starts at every byte, inside quoted fields too) on 1 and 3
** threads: the table, or the error with its line and record, must be the
** one the generator knows.
*/
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tally/tally.h"
#include "testing.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

typedef struct buf {
  char s[16384];
  size_t n;
} buf;

static void put(buf *b, const char *s) {
  size_t k = strlen(s);
  if (b->n + k < sizeof b->s) { memcpy(b->s + b->n, s, k); b->n += k; b->s[b->n] = '\0'; }
}

/* Line ends in s as the reader counts them: LF, CRLF and a lone CR. */
static int64_t line_ends(const char *s) {
  int64_t n = 0;
  for (; *s; s++)
    if (*s == '\n' || (*s == '\r' && s[1] != '\n')) n++;
  return n;
}

/* The table as text, as test_csv.c renders it. */
static void render(const tl_table *t, buf *out) {
  char cell[512];
  out->n = 0;
  out->s[0] = '\0';
  for (int j = 0; j < tl_table_ncols(t); j++) {
    snprintf(cell, sizeof cell, "%s%s:%s", j ? "," : "", tl_table_name(t, j),
             tl_type_name(tl_column_type(tl_table_column(t, j))));
    put(out, cell);
  }
  put(out, "\n");
  for (int64_t i = 0; i < tl_table_nrows(t); i++) {
    for (int j = 0; j < tl_table_ncols(t); j++) {
      tl_scalar v;
      char val[400];
      tl_column_get(tl_table_column(t, j), i, &v);
      if (v.type == TL_STRING && !v.is_null) snprintf(val, sizeof val, "[%.*s]", (int)v.v.s.len, v.v.s.ptr);
      else tl_scalar_format(&v, val, sizeof val);
      snprintf(cell, sizeof cell, "%s%s", j ? "," : "", val);
      put(out, cell);
    }
    put(out, "\n");
  }
}

/* A text value: its CSV form into `csv` and the value into `val`. */
static void text_value(char *csv, char *val) {
  static const char *const words[] = { "x", "koban", "a b", "judo" };
  static const char *const inner[] = { "\n", "\r\n", "\r", ",", "\"\"", "q", " " };
  const char *w = words[rnd() % 4];
  switch (rnd() % 8) {
    case 0: strcpy(csv, ""); strcpy(val, "null"); return;
    case 1: strcpy(csv, "\"\""); strcpy(val, "[]"); return;
    case 2: sprintf(csv, "%s\"%s", w, w); sprintf(val, "[%s\"%s]", w, w); return;   /* a stray quote */
    case 3: case 4: {
      char c[256] = "\"", v[256] = "[";
      for (uint64_t k = 1 + rnd() % 4; k > 0; k--) {
        const char *p = inner[rnd() % 7];
        strcat(c, p);
        strcat(v, strcmp(p, "\"\"") == 0 ? "\"" : p);
        strcat(c, w);
        strcat(v, w);
      }
      strcat(c, "\"");
      strcat(v, "]");
      strcpy(csv, c);
      strcpy(val, v);
      return;
    }
    default: strcpy(csv, w); sprintf(val, "[%s]", w); return;
  }
}

/* A random input and the rendering (or the error) read_csv must give. */
static void make_input(buf *in, buf *want, int bad) {
  static const char *const nums[] = { "2.5", "-0.25", "7", "-0", "1e3", "" };
  static const char *const shown[] = { "2.5", "-0.25", "7.0", "-0.0", "1000.0", "null" };
  static const char *const keys[] = { "alpha", "beta", "\"ga\"\"mma\"", "\"de,lta\"", "" };
  static const char *const kshown[] = { "[alpha]", "[beta]", "[ga\"mma]", "[de,lta]", "null" };
  int rows = 3 + (int)(rnd() % 30);
  in->n = want->n = 0;
  in->s[0] = want->s[0] = '\0';
  put(in, "id,txt,v,k\n");
  put(want, "id:int,txt:string,v:float,k:string\n");
  for (int i = 0; i < rows; i++) {
    char csv[256], val[256], line[1024];
    text_value(csv, val);
    int v = i == 0 ? 0 : (int)(rnd() % 6), k = i == 0 ? 0 : (int)(rnd() % 5);
    const char *eol = rnd() % 3 ? "\n" : "\r\n";
    snprintf(line, sizeof line, "%d,%s,%s,%s%s", i, csv, nums[v], keys[k], eol);
    put(in, line);
    snprintf(line, sizeof line, "%d,%s,%s,%s\n", i, val, shown[v], kshown[k]);
    put(want, line);
  }
  if (bad) {   /* a record of two fields, after lines the quoted fields held */
    char msg[256];
    snprintf(msg, sizeof msg,
             "read_csv: t.csv:%lld:3 (column 'v', record %d): too few fields (expected 4, "
             "found 2): near \"9,z\"", (long long)line_ends(in->s) + 1, rows + 1);
    put(in, "9,z\n5,y,1,alpha\n");
    want->n = 0;
    want->s[0] = '\0';
    put(want, msg);
  }
}

static void test_every_chunk(void) {
  buf in, want, got;
  for (int round = 0; round < 40; round++) {
    make_input(&in, &want, round % 5 == 4);
    for (size_t c = 1; c <= in.n + 1; c++) {
      tl_set_threads(c % 2 ? 3 : 1);
      tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)c);
      tl_csv_options o;
      tl_csv_options_init(&o);
      o.sep = ',';
      tl_table *t = NULL;
      tl_error err;
      if (tl_read_csv_buffer(in.s, in.n, "t.csv", &o, &t, &err) == TL_OK) {
        render(t, &got);
        tl_table_release(t);
      } else {
        got.n = 0;
        got.s[0] = '\0';
        put(&got, err.message);
      }
      check_count++;
      if (strcmp(got.s, want.s) != 0) {
        check_failures++;
        fprintf(stderr, "round %d, chunk %zu, %d threads:\n--- input\n%s\n--- got\n%s\n--- want\n%s\n",
                round, c, tl_get_threads(), in.s, got.s, want.s);
        break;
      }
    }
  }
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
}

/* A quoted field longer than many chunks, full of line ends: every chunk
** inside it guesses wrong and is read again. */
static void test_long_field(void) {
  buf in, got;
  in.n = 0;
  in.s[0] = '\0';
  put(&in, "a,b\n1,\"");
  for (int k = 0; k < 300; k++) put(&in, k % 3 ? "x,y\n" : "\"\"\r\n");
  put(&in, "\"\n2,end\n");
  for (size_t c = 1; c < 64; c += 5) {
    tl_set_threads(2);
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)c);
    tl_table *t = NULL;
    CHECK(tl_read_csv_buffer(in.s, in.n, "t.csv", NULL, &t, NULL) == TL_OK);
    if (!t) continue;
    render(t, &got);
    CHECK(tl_table_nrows(t) == 2);
    CHECK(strstr(got.s, "\n2,[end]\n") != NULL);
    tl_scalar v;
    tl_column_get(tl_table_column(t, 1), 0, &v);
    CHECK(!v.is_null && v.v.s.len == 300 / 3 * 3 + 200 * 4);
    tl_table_release(t);
  }
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
}

/* Integers kept four bytes a row until one needs eight, made doubles when a
** float follows (but not past a "-0", which only a float read keeps). */
static void test_numbers(void) {
  static const char *const cases[][2] = {
    { "a,b\n1,x\n-7,y\n5000000000,x\n2,\n", "a:int,b:string\n1,[x]\n-7,[y]\n5000000000,[x]\n2,null\n" },
    { "a\n1\n\n5000000000\n2.5\n", "a:float\n1.0\nnull\n5000000000.0\n2.5\n" },
    { "a\n3\n-0\n2.5\n", "a:float\n3.0\n-0.0\n2.5\n" },
    { "a\n-0\n7\n", "a:int\n0\n7\n" },
    { "a,b\n1,2\nx,3\n", "a:string,b:int\n[1],2\n[x],3\n" },
  };
  buf got;
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    const char *in = cases[k][0];
    for (size_t c = 1; c <= strlen(in) + 1; c++) {
      tl_set_threads(c % 2 ? 3 : 1);
      tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)c);
      tl_table *t = NULL;
      tl_error err;
      if (tl_read_csv_buffer(in, strlen(in), "t.csv", NULL, &t, &err) == TL_OK) {
        render(t, &got);
        tl_table_release(t);
      } else {
        got.n = 0;
        put(&got, err.message);
      }
      check_count++;
      if (strcmp(got.s, cases[k][1]) != 0) {
        check_failures++;
        fprintf(stderr, "case %zu, chunk %zu:\n--- got\n%s\n--- want\n%s\n", k, c, got.s, cases[k][1]);
        break;
      }
    }
  }
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
}

int main(void) {
  test_numbers();
  test_every_chunk();
  test_long_field();
  return check_done("csv_chunks");
}
