/*
** test_document.c -- tables out of text documents, and pivot_longer /
** pivot_wider. Every document here is written for the test; each holds one
** quirk of real reports. Tables are compared as text: a line "name:type"
** per column, then one line per row with the values joined by '|'.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/document.h"
#include "tally/tally.h"

static char shown[8192];

/* The table as text, into `shown`. */
static const char *show(const tl_table *t) {
  size_t o = 0;
  int nc = tl_table_ncols(t);
  shown[0] = '\0';
  for (int j = 0; j < nc; j++)
    o += (size_t)snprintf(shown + o, sizeof shown - o, "%s%s:%s", j ? "," : "",
                          tl_table_name(t, j),
                          tl_type_name(tl_column_type(tl_table_column(t, j))));
  for (int64_t i = 0; i < tl_table_nrows(t); i++) {
    o += (size_t)snprintf(shown + o, sizeof shown - o, "\n");
    for (int j = 0; j < nc; j++) {
      char buf[256];
      tl_scalar v;
      tl_column_get(tl_table_column(t, j), i, &v);
      if (!v.is_null && v.type == TL_STRING)
        snprintf(buf, sizeof buf, "%.*s", (int)v.v.s.len, v.v.s.ptr);
      else
        tl_scalar_format(&v, buf, sizeof buf);
      o += (size_t)snprintf(shown + o, sizeof shown - o, "%s%s", j ? "|" : "", buf);
    }
  }
  return shown;
}

static tl_document *read_text(const char *text) {
  tl_document *d = NULL;
  tl_error err;
  err.message[0] = '\0';
  if (tl_read_document_buffer(text, strlen(text), NULL, NULL, &d, &err) != TL_OK) {
    fprintf(stderr, "unexpected error: %s\n", err.message);
    return NULL;
  }
  return d;
}

static const char *error_of(const char *text, const tl_document_options *o) {
  static tl_error err;
  tl_document *d = NULL;
  err.message[0] = '\0';
  if (tl_read_document_buffer(text, strlen(text), NULL, o, &d, &err) == TL_OK) {
    tl_document_free(d);
    return "(no error)";
  }
  return err.message;
}

/* Units, thousands separators, footnote marks, month dates, trailing
** separators, a blank cell and no final newline; the title is the nearest
** line above, across a blank line. */
static void test_cells(void) {
  const char *text =
    "Staff report, 2020\n"
    "\n"
    "Offices by region\n"
    "\n"
    "Region\tRevenue\tStaff\tOpened\tShare\n"
    "North\t1,234*\t12 persons\tJune 1990\t12%\t\t\n"
    "South\t12 (a)\t1 person\tFeb. 2018\t7.5%\n"
    "East\t\t11persons\tSept. 2001\t3[1]\n"
    "West  \t2,000,000\t45 persons\t2004-12-01\t0.5 %";
  tl_document *d = read_text(text);
  CHECK(d != NULL);
  if (!d) return;
  CHECK(tl_document_count(d) == 1);
  CHECK_STR(tl_document_title(d, 0), "Offices by region");
  int64_t tl, first, last;
  tl_document_lines(d, 0, &tl, &first, &last);
  CHECK(tl == 3 && first == 5 && last == 9);
  CHECK(tl_document_header_rows(d, 0) == 1);
  CHECK_STR(show(tl_document_table(d, 0)),
            "Region:string,Revenue:int,Staff:int,Opened:date,Share:float\n"
            "North|1234|12|1990-06-01|12.0\n"
            "South|12|1|2018-02-01|7.5\n"
            "East|null|11|2001-09-01|3.0\n"
            "West|2000000|45|2004-12-01|0.5");
  CHECK(tl_document_unit(d, 0, 0) == NULL);
  CHECK(tl_document_unit(d, 0, 1) == NULL);
  CHECK_STR(tl_document_unit(d, 0, 2), "persons");
  CHECK(tl_document_unit(d, 0, 3) == NULL);
  CHECK_STR(tl_document_unit(d, 0, 4), "%");
  CHECK(tl_document_unit(d, 0, 5) == NULL);         /* out of range */
  tl_document_free(d);
}

/* Cells that do not agree stay text: units that differ, numbers among
** words, "1,23" (not thousands), a year without a month. */
static void test_text_cells(void) {
  tl_document *d = read_text(
    "k\tlength\tmixed\tcommas\tmonth\tflag\n"
    "a\t5 km\t12\t1,23\tJune 1990\ttrue\n"
    "b\t6 kg\tmany\t4\t1990\tfalse\n");
  CHECK(d != NULL);
  if (!d) return;
  CHECK(tl_document_count(d) == 1);
  CHECK(tl_document_title(d, 0) == NULL);          /* nothing above */
  CHECK_STR(show(tl_document_table(d, 0)),
            "k:string,length:string,mixed:string,commas:string,month:string,flag:bool\n"
            "a|5 km|12|1,23|June 1990|true\n"
            "b|6 kg|many|4|1990|false");
  CHECK(tl_document_unit(d, 0, 1) == NULL);
  tl_document_free(d);
}

/* Two tables back to back: one after a blank line (untitled: the line above
** belongs to the first table), and two in one block, each under its own
** single-cell title line. */
static void test_back_to_back(void) {
  tl_document *d = read_text(
    "a\tb\n1\t2\n3\t4\n"
    "\n"
    "c\td\nx\t5\n"
    "\n"
    "First\t\t\n"
    "k\tv\n"
    "p\t1\n"
    "q\t2\n"
    "Second\t\t\n"
    "k\tw\n"
    "r\t3\n");
  CHECK(d != NULL);
  if (!d) return;
  CHECK(tl_document_count(d) == 4);
  if (tl_document_count(d) == 4) {
    CHECK(tl_document_title(d, 0) == NULL);
    CHECK_STR(show(tl_document_table(d, 0)), "a:int,b:int\n1|2\n3|4");
    CHECK(tl_document_title(d, 1) == NULL);
    CHECK_STR(show(tl_document_table(d, 1)), "c:string,d:int\nx|5");
    CHECK_STR(tl_document_title(d, 2), "First");
    CHECK_STR(show(tl_document_table(d, 2)), "k:string,v:int\np|1\nq|2");
    CHECK_STR(tl_document_title(d, 3), "Second");
    CHECK_STR(show(tl_document_table(d, 3)), "k:string,w:int\nr|3");
    int64_t tl, first, last;
    tl_document_lines(d, 3, &tl, &first, &last);
    CHECK(tl == 12 && first == 13 && last == 14);
  }
  tl_document_free(d);
}

/* Headers of two and three levels: spans carried to the right, up to where
** a level above starts a new span; levels joined with a space; the first
** column keeps its own header; blank header cells named column_N;
** a column of blank cells only is a string column. */
static void test_headers(void) {
  tl_document *d = read_text(
    "Enrolment by year and sex\r\n"
    "Region\t2016\t\t\t\t2017\t\t\t\r\n"
    "\tMen\t\tWomen\t\tMen\t\tWomen\t\r\n"
    "\tN\tPct\tN\tPct\tN\tPct\tN\tPct\r\n"
    "North\t10\t0.5\t12\t0.6\t11\t0.4\t9\t0.25\r\n"
    "South\t1,000\t1\t\t\t3\t0.1\t4\t\r\n"
    "\r\n"
    "Program\t2016\t\t2017\t\n"
    "\tparticipants\tcountries\tparticipants\tcountries\n"
    "A\t11\t11\t13\t\n"
    "B\t9\t8\n"
    "\n"
    "x\t\ty\n"
    "1\t2\t3\n");
  CHECK(d != NULL);
  if (!d) return;
  CHECK(tl_document_count(d) == 3);
  if (tl_document_count(d) == 3) {
    CHECK_STR(tl_document_title(d, 0), "Enrolment by year and sex");
    CHECK(tl_document_header_rows(d, 0) == 3);
    CHECK_STR(show(tl_document_table(d, 0)),
              "Region:string,2016 Men N:int,2016 Men Pct:float,2016 Women N:int,"
              "2016 Women Pct:float,2017 Men N:int,2017 Men Pct:float,2017 Women N:int,"
              "2017 Women Pct:float\n"
              "North|10|0.5|12|0.6|11|0.4|9|0.25\n"
              "South|1000|1.0|null|null|3|0.1|4|null");
    CHECK(tl_document_title(d, 1) == NULL);
    CHECK(tl_document_header_rows(d, 1) == 2);
    CHECK_STR(show(tl_document_table(d, 1)),
              "Program:string,2016 participants:int,2016 countries:int,"
              "2017 participants:int,2017 countries:string\n"
              "A|11|11|13|null\n"
              "B|9|8|null|null");
    CHECK_STR(show(tl_document_table(d, 2)), "x:int,column_2:int,y:int\n1|2|3");
  }
  tl_document_free(d);
}

/* Another separator; a one-line block is no table but may title the next;
** a document without tables; repeated names. */
static void test_misc(void) {
  tl_document_options o;
  tl_document_options_init(&o);
  o.sep = '|';
  const char *text = "Costs|\n\nitem|cost|cost\nink|3|4\n";
  tl_document *d = NULL;
  tl_error err;
  CHECK(tl_read_document_buffer(text, strlen(text), "costs.txt", &o, &d, &err) == TL_OK);
  if (d) {
    CHECK(tl_document_count(d) == 1);
    CHECK_STR(tl_document_title(d, 0), "Costs");
    CHECK_STR(show(tl_document_table(d, 0)), "item:string,cost:int,cost_2:int\nink|3|4");
    tl_document_free(d);
  }
  d = read_text("Nothing but prose.\n\nAnd more prose.");
  CHECK(d && tl_document_count(d) == 0);
  tl_document_free(d);
  d = read_text("");
  CHECK(d && tl_document_count(d) == 0);
  tl_document_free(d);
}

static void test_errors(void) {
  tl_document *d = NULL;
  tl_error err;
  CHECK(tl_read_document("tests/data/documents/missing.txt", NULL, &d, &err) == TL_EIO);
  CHECK_STR(err.message, "read_document: cannot open 'tests/data/documents/missing.txt': "
                         "No such file or directory");
  CHECK(d == NULL);
  CHECK_STR(error_of("a\tb\nx\t\xff\xfe\n", NULL), "read_document: <text>:2:2: invalid UTF-8");
  tl_document_options o;
  tl_document_options_init(&o);
  o.sep = '\n';
  CHECK_STR(error_of("a\tb\n", &o),
            "read_document: <text>: the separator cannot be a space or a line break");
}

/* The document on disk: tests/data/documents/programs.txt. */
static void test_file(void) {
  tl_document *d = NULL;
  tl_error err;
  err.message[0] = '\0';
  CHECK(tl_read_document("tests/data/documents/programs.txt", NULL, &d, &err) == TL_OK);
  if (!d) { fprintf(stderr, "%s\n", err.message); return; }
  CHECK(tl_document_count(d) == 2);
  if (tl_document_count(d) == 2) {
    CHECK_STR(tl_document_title(d, 0), "Courses held (Group & Region Focus)");
    CHECK_STR(show(tl_document_table(d, 0)),
              "Course:string,2019 No. of participants:int,2019 No. of countries:int,"
              "2020 No. of participants:int,2020 No. of countries:int\n"
              "Harbour Safety|11|9|null|null\n"
              "Forensic Imaging|null|null|7|5\n"
              "Radio Procedure|14|12|13|13");
    CHECK_STR(tl_document_title(d, 1), "Relief missions");
    CHECK_STR(show(tl_document_table(d, 1)),
              "Month & Year:date,Place:string,Event:string,Sent:int\n"
              "1991-03-01|Atlantis|Flood|3\n"
              "1994-08-01|Lemuria|Landslide|1");
    CHECK_STR(tl_document_unit(d, 1, 3), "persons");
  }
  tl_document_free(d);
}

/* ---------------------------------------------------------------------------
** Reshaping
*/

static tl_table *wide_table(void) {
  tl_document *d = read_text(
    "Program\t2016\t\t2017\t\n"
    "\tparticipants\tcountries\tparticipants\tcountries\n"
    "A\t11\t11\t13\t\n"
    "B\t9\t8\t\t\n");
  tl_table *t = d ? tl_table_retain(tl_document_table(d, 0)) : NULL;
  tl_document_free(d);
  return t;
}

static void test_pivot(void) {
  tl_table *w = wide_table(), *l = NULL, *b = NULL;
  tl_error err;
  CHECK(w != NULL);
  if (!w) return;
  const char *cols[] = { "2016 participants", "2016 countries", "2017 participants",
                         "2017 countries" };
  const char *to[] = { "year", "measure" };
  tl_pivot_longer_options lo;
  tl_pivot_longer_options_init(&lo);
  lo.cols = cols;
  lo.ncols = 4;
  lo.names_to = to;
  lo.nnames = 2;
  lo.names_sep = " ";
  CHECK(tl_table_pivot_longer(w, &lo, &l, &err) == TL_OK);
  if (l) {
    CHECK_STR(show(l), "Program:string,year:int,measure:string,value:int\n"
                       "A|2016|participants|11\nA|2016|countries|11\n"
                       "A|2017|participants|13\nA|2017|countries|null\n"
                       "B|2016|participants|9\nB|2016|countries|8\n"
                       "B|2017|participants|null\nB|2017|countries|null");
    tl_pivot_wider_options wo;
    tl_pivot_wider_options_init(&wo);
    const char *from[] = { "measure" };
    wo.names_from = from;
    wo.nnames_from = 1;
    wo.values_from = "value";
    CHECK(tl_table_pivot_wider(l, &wo, &b, &err) == TL_OK);
    if (b) {
      CHECK_STR(show(b), "Program:string,year:int,participants:int,countries:int\n"
                         "A|2016|11|11\nA|2017|13|null\nB|2016|9|8\nB|2017|null|null");
      tl_table_release(b);
      b = NULL;
    }
    /* back to the wide table, with a fill for what is missing */
    const char *from2[] = { "year", "measure" };
    const char *ids[] = { "Program" };
    tl_table *l2 = NULL;
    lo.drop_nulls = 1;
    CHECK(tl_table_pivot_longer(w, &lo, &l2, &err) == TL_OK);
    wo.names_from = from2;
    wo.nnames_from = 2;
    wo.names_sep = " ";
    wo.id_cols = ids;
    wo.nid_cols = 1;
    tl_scalar fill = { .type = TL_FLOAT, .is_null = 0, .v.f = 0.5 };
    wo.fill = &fill;
    CHECK(l2 && tl_table_pivot_wider(l2, &wo, &b, &err) == TL_OK);
    if (b) {
      CHECK_STR(show(b), "Program:string,2016 participants:float,2016 countries:float,"
                         "2017 participants:float\nA|11.0|11.0|13.0\nB|9.0|8.0|0.5");
      tl_table_release(b);
      b = NULL;
    }
    /* a duplicate (id, name) pair */
    wo.names_from = from;
    wo.nnames_from = 1;
    wo.fill = NULL;
    CHECK(tl_table_pivot_wider(l2, &wo, &b, &err) == TL_EINVAL);
    CHECK_STR(err.message, "pivot_wider: rows 1 and 3 have the same id (Program = 'A') "
                           "and name 'participants'");
    tl_table_release(l2);
    tl_table_release(l);
  }
  /* errors */
  lo.names_sep = "#";
  CHECK(tl_table_pivot_longer(w, &lo, &l, &err) == TL_EINVAL);
  CHECK_STR(err.message, "pivot_longer: column '2016 participants' does not split into 2 "
                         "parts at '#'");
  const char *mixed[] = { "Program", "2016 participants" };
  lo.cols = mixed;
  lo.ncols = 2;
  lo.nnames = 0;
  CHECK(tl_table_pivot_longer(w, &lo, &l, &err) == TL_ETYPE);
  CHECK_STR(err.message, "pivot_longer: cannot gather column '2016 participants' (int) with "
                         "column 'Program' (string)");
  const char *bad[] = { "2016 particpants" };
  lo.cols = bad;
  lo.ncols = 1;
  CHECK(tl_table_pivot_longer(w, &lo, &l, &err) == TL_EINVAL);
  CHECK_STR(err.message, "pivot_longer: unknown column '2016 particpants' "
                         "(did you mean '2016 participants'?)");
  tl_table_release(w);
}

/* int and float columns gather into float. */
static void test_widen(void) {
  tl_document *d = read_text("k\ta\tb\nx\t1\t2.5\ny\t3\t\n");
  CHECK(d != NULL);
  if (!d) return;
  const char *cols[] = { "a", "b" };
  tl_pivot_longer_options lo;
  tl_pivot_longer_options_init(&lo);
  lo.cols = cols;
  lo.ncols = 2;
  tl_table *l = NULL;
  tl_error err;
  CHECK(tl_table_pivot_longer(tl_document_table(d, 0), &lo, &l, &err) == TL_OK);
  if (l) {
    CHECK_STR(show(l), "k:string,name:string,value:float\nx|a|1.0\nx|b|2.5\ny|a|3.0\ny|b|null");
    tl_table_release(l);
  }
  tl_document_free(d);
}

/* ---------------------------------------------------------------------------
** Allocation failures: fail the 1st, 2nd, ... allocation until reading
** succeeds; every failure must be clean and leave nothing allocated.
*/
static long live, fail_at, count;

static void *test_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    if (ptr) live--;
    free(ptr);
    return NULL;
  }
  if (++count == fail_at) return NULL;
  void *p = realloc(ptr, nsize);
  if (p && !ptr) live++;
  return p;
}

static void test_alloc_failures(void) {
  const char *text =
    "Title\t\t\n"
    "Program\t2016\t\t2017\t\n"
    "\tparticipants\tcountries\tparticipants\tcountries\n"
    "A\t11\t11\t13 persons\t\n"
    "B\t9*\t8\tJune 1990\t\n";
  tl_alloc_fn fn0;
  void *ud0;
  tl_get_allocator(&fn0, &ud0);
  tl_set_allocator(test_alloc, NULL);
  int ok = 0, clean = 1;
  for (fail_at = 1; fail_at < 10000 && !ok; fail_at++) {
    tl_document *d = NULL;
    tl_error err;
    count = 0;
    live = 0;
    tl_status st = tl_read_document_buffer(text, strlen(text), NULL, NULL, &d, &err);
    if (st == TL_OK) {
      ok = 1;
      tl_document_free(d);
    } else if (st != TL_ENOMEM || d != NULL) {
      clean = 0;
    }
    if (live != 0) clean = 0;
  }
  tl_set_allocator(fn0, ud0);
  CHECK(ok);
  CHECK(clean);
}


/* ---------------------------------------------------------------------------
** The work is linear in the input, whatever its shape: each document below
** was quadratic once. No clock: tl_read_document_steps counts the rows,
** cells and bytes looked at, which must stay under a small multiple of the
** bytes read. */

typedef struct text { char *p; size_t n, cap; } text;

static void put(text *t, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (t->p && (size_t)k < t->cap - t->n) { t->n += (size_t)k; return; }
    t->cap = t->cap * 2 + (size_t)k + 64;
    t->p = realloc(t->p, t->cap);
    if (!t->p) abort();
  }
}

#define STEPS_PER_BYTE 16

/* Reads t; returns the number of tables, or -1 on an error (into msg). */
static int bounded(const char *what, text *t, char *msg, size_t cap) {
  tl_document *d = NULL;
  tl_error err;
  uint64_t steps = 0;
  err.message[0] = '\0';
  tl_status st = tl_read_document_steps(t->p, t->n, "adv.txt", NULL, &d, &steps, &err);
  if (steps > STEPS_PER_BYTE * (uint64_t)t->n) {
    fprintf(stderr, "%s: %llu steps for %zu bytes\n", what, (unsigned long long)steps, t->n);
    CHECK(0);
  }
  int n = st == TL_OK ? tl_document_count(d) : -1;
  if (msg) snprintf(msg, cap, "%s", st == TL_OK ? "(no error)" : err.message);
  tl_document_free(d);
  free(t->p);
  memset(t, 0, sizeof *t);
  return n;
}

static void test_linear_work(void) {
  text t = { NULL, 0, 0 };
  char msg[1024];
  tl_document *d;
  /* 20 000 header-like lines above one data line: the header search
  ** looked ahead for a data row from each of them */
  for (int k = 0; k < 20000; k++) put(&t, "h%d\th%d\n", k, k);
  put(&t, "1\t2\n");
  d = read_text(t.p);
  CHECK(d && tl_document_header_rows(d, 0) == 16);   /* the most a header has */
  CHECK(d && tl_table_nrows(tl_document_table(d, 0)) == 20001 - 16);
  tl_document_free(d);
  CHECK(bounded("header-like lines, data last", &t, NULL, 0) == 1);
  for (int k = 0; k < 20000; k++) put(&t, "h%d\th%d\n", k, k);
  CHECK(bounded("header-like lines", &t, NULL, 0) == 1);
  /* a header of many levels over many columns: the levels above each cell
  ** were looked at again for each */
  put(&t, "x\ty\n");
  for (int k = 0; k < 2000; k++) put(&t, "a\t\n");
  for (int k = 0; k < 2000; k++) put(&t, "%d\t", k);
  put(&t, "\n");
  CHECK(bounded("header levels", &t, NULL, 0) == 1);
  /* lower levels of a header, short rows under a long one: each was
  ** compared with the row above over the width of the longest */
  put(&t, "c0");
  for (int k = 0; k < 2000; k++) put(&t, "\t");
  put(&t, "z\n");
  for (int k = 0; k < 5000; k++) put(&t, "\tx\n\t\ty\n");
  CHECK(bounded("sub-levels", &t, NULL, 0) == -1);   /* and too ragged a table */
  /* a cell with thousands of footnote marks: each mark dropped was
  ** followed by a look at the whole rest of the cell */
  put(&t, "a\tb\n1\t1 ");
  for (int k = 0; k < 20000; k++) put(&t, "a");
  for (int k = 0; k < 20000; k++) put(&t, k % 2 ? "*" : "(a)");
  put(&t, "\n");
  CHECK(bounded("footnote marks", &t, NULL, 0) == 1);
  /* blocks of blank cells, one per line: the title of each was looked for
  ** in every line above it */
  for (int k = 0; k < 20000; k++) put(&t, "\t\n\n");
  CHECK(bounded("blank blocks", &t, NULL, 0) == 0);
  /* one long row over many short ones: the padding is a limit */
  for (int k = 0; k < 5000; k++) put(&t, "%d\t", k);
  put(&t, "\n");
  for (int k = 0; k < 5000; k++) put(&t, "a\t\n");
  CHECK(bounded("ragged rows", &t, msg, sizeof msg) == -1);
  CHECK_STR(msg, "read_document: adv.txt:1-5001: a table of 5000 columns and 5001 rows from "
                 "rows of 10000 cells in all: more than 16 times as many, padded with nulls");
  /* a long cell copied over a span of many columns */
  put(&t, "T\t");
  for (int k = 0; k < 5000; k++) put(&t, "x");
  for (int k = 0; k < 100; k++) put(&t, "\t");
  put(&t, "\n\t");
  for (int k = 0; k < 100; k++) put(&t, "b%d\t", k);
  put(&t, "\n1\t2\n");
  CHECK(bounded("spanned long cell", &t, msg, sizeof msg) == -1);
  CHECK_STR(msg, "read_document: adv.txt:1: the name of column 2 is longer than 4096 bytes");
}

/* The limits of read_document at their boundaries (docs/limits.md). */
static void test_limits(void) {
  text t = { NULL, 0, 0 };
  char msg[1024];
  tl_document *d;
  /* header rows: 16, the 17th is data */
  for (int k = 0; k < 17; k++) put(&t, "h%d\th%d\n", k, k);
  put(&t, "1\t2\n");
  d = read_text(t.p);
  CHECK(d && tl_document_header_rows(d, 0) == 16);
  CHECK(d && tl_table_nrows(tl_document_table(d, 0)) == 2);
  tl_document_free(d);
  CHECK(bounded("17 header rows", &t, NULL, 0) == 1);
  /* a name of 4096 bytes, then of 4097 */
  for (int n = 4096; n <= 4097; n++) {
    for (int k = 0; k < n; k++) put(&t, "n");
    put(&t, "\tb\n1\t2\n");
    CHECK(bounded("long name", &t, msg, sizeof msg) == (n == 4096 ? 1 : -1));
    CHECK_STR(msg, n == 4096 ? "(no error)"
                             : "read_document: adv.txt:1: the name of column 1 is longer than "
                               "4096 bytes");
  }
  /* past 4194304 cells, 4096 columns over 1025 rows: 16 times the cells
  ** the rows have is 4096 + 1024 * 252 short, 4096 + 1024 * 253 not */
  for (int c = 252; c <= 253; c++) {
    for (int k = 0; k < 4096; k++) put(&t, "a\t");
    put(&t, "\n");
    for (int r = 0; r < 1024; r++) {
      for (int k = 0; k < c; k++) put(&t, "b\t");
      put(&t, "\n");
    }
    CHECK(bounded("padding", &t, msg, sizeof msg) == (c == 253 ? 1 : -1));
    CHECK_STR(msg, c == 253 ? "(no error)"
                            : "read_document: adv.txt:1-1025: a table of 4096 columns and 1025 "
                              "rows from rows of 262144 cells in all: more than 16 times as many, "
                              "padded with nulls");
  }
}

int main(void) {
  test_cells();
  test_text_cells();
  test_back_to_back();
  test_headers();
  test_misc();
  test_errors();
  test_file();
  test_pivot();
  test_widen();
  test_alloc_failures();
  test_linear_work();
  test_limits();
  return check_done("test_document");
}
