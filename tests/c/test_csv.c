/*
** test_csv.c -- the CSV reader and writer. Every case runs at chunk sizes
** 1, 2, 3, 7, 64, 4096 and the default: results and error messages must be
** the same at each.
*/
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tally/tally.h"
#include "testing.h"

/* The table as text: "name:type,..." then one line a row. */
static void render(const tl_table *t, char *out, size_t size) {
  size_t k = 0;
  out[0] = '\0';
#define PUT(...) do { if (k < size) k += (size_t)snprintf(out + k, size - k, __VA_ARGS__); } while (0)
  for (int j = 0; j < tl_table_ncols(t); j++)
    PUT("%s%s:%s", j ? "," : "", tl_table_name(t, j),
        tl_type_name(tl_column_type(tl_table_column(t, j))));
  PUT("\n");
  for (int64_t i = 0; i < tl_table_nrows(t); i++) {
    for (int j = 0; j < tl_table_ncols(t); j++) {
      tl_scalar v;
      char buf[256];
      tl_column_get(tl_table_column(t, j), i, &v);
      if (v.type == TL_STRING && !v.is_null) snprintf(buf, sizeof buf, "[%.*s]", (int)v.v.s.len, v.v.s.ptr);
      else tl_scalar_format(&v, buf, sizeof buf);
      PUT("%s%s", j ? "," : "", buf);
    }
    PUT("\n");
  }
#undef PUT
}

static const size_t chunks[] = { 1, 2, 3, 7, 64, 4096, 0 };

/* The table, then with `info` what else the load learnt: the rejects
** (after "rejects:") and each column's reason for its type. */
static void render_info(const tl_table *t, const tl_csv_info *info, char *out, size_t size) {
  render(t, out, size);
  if (!info) return;
  size_t k = strlen(out);
  const tl_table *rj = tl_csv_info_rejects(info);
  if (tl_table_nrows(rj) > 0) {
    snprintf(out + k, size - k, "rejects:\n");
    k = strlen(out);
    render(rj, out + k, size - k);
    k = strlen(out);
  }
  for (int j = 0; j < tl_table_ncols(t); j++)
    if (tl_csv_info_reason(info, j)) {
      snprintf(out + k, size - k, "%s: %s\n", tl_table_name(t, j), tl_csv_info_reason(info, j));
      k = strlen(out);
    }
  snprintf(out + k, size - k, "records: %lld\n", (long long)tl_csv_info_records(info));
}

/* Reads `in` at every chunk size, on 1 and 3 threads; the rendering (with
** the info when `with_info`) or the error must be `want`. */
static void expect_in(int line, const char *in, const tl_csv_options *o, int with_info,
                      const char *want) {
  for (size_t c = 0; c < 2 * sizeof chunks / sizeof *chunks; c++) {
    tl_set_threads(c % 2 ? 3 : 1);
    tl_csv_options opts;
    if (o) opts = *o; else tl_csv_options_init(&opts);
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)chunks[c / 2]);   /* the last: the default */
    tl_table *t = NULL;
    tl_csv_info *info = NULL;
    tl_error err;
    char got[4096];
    if (tl_read_csv_buffer_ex(in, strlen(in), "t.csv", &opts, &t, with_info ? &info : NULL,
                              &err) == TL_OK) {
      render_info(t, info, got, sizeof got);
      tl_table_release(t);
      tl_csv_info_free(info);
    } else {
      snprintf(got, sizeof got, "%s", err.message);
    }
    check_count++;
    if (strcmp(got, want) != 0) {
      check_failures++;
      fprintf(stderr, "test_csv.c:%d (chunk %zu, %d threads):\n--- got\n%s\n--- want\n%s\n", line,
              chunks[c / 2], tl_get_threads(), got, want);
      return;
    }
  }
}
#define EXPECT(in, o, want) expect_in(__LINE__, in, o, 0, want)
#define EXPECT_INFO(in, o, want) expect_in(__LINE__, in, o, 1, want)

static void test_types(void) {
  EXPECT("a,b,c,d\n1,2.5,true,x\n-3,,false,\n",
         NULL, "a:int,b:float,c:bool,d:string\n1,2.5,true,[x]\n-3,null,false,null\n");
  /* a leading zero keeps a string; a float's integral value prints with .0 */
  EXPECT("code,v\n007,1\n08123,2e3\n", NULL, "code:string,v:float\n[007],1.0\n[08123],2000.0\n");
  EXPECT("d,ts\n1990-06-01,2018-02-01 10:20:30\n2020-02-29,2018-02-01T00:00:00.5\n", NULL,
         "d:date,ts:timestamp\n1990-06-01,2018-02-01T10:20:30\n2020-02-29,2018-02-01T00:00:00.500000\n");
  /* a date and a timestamp together make a timestamp column; a bad day a string */
  EXPECT("d\n2019-02-28\n2019-02-28 01:00:00\n", NULL,
         "d:timestamp\n2019-02-28T00:00:00\n2019-02-28T01:00:00\n");
  EXPECT("d\n2019-02-29\n", NULL, "d:string\n[2019-02-29]\n");
  /* past int64: float when exact, else string */
  EXPECT("n\n9223372036854775808\n1\n", NULL, "n:float\n9.223372036854776e+18\n1.0\n");
  EXPECT("n\n12345678901234567891\n", NULL, "n:string\n[12345678901234567891]\n");
  EXPECT("n\n9223372036854775807\n-9223372036854775808\n", NULL,
         "n:int\n9223372036854775807\n-9223372036854775808\n");
  /* true/false and 1/0 do not mix into bool */
  EXPECT("b\ntrue\n1\n", NULL, "b:string\n[true]\n[1]\n");
  /* all null: string */
  EXPECT("a,b\n,1\n,2\n", NULL, "a:string,b:int\nnull,1\nnull,2\n");
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.infer = 0;
  EXPECT("a,b\n1,x\n", &o, "a:string,b:string\n[1],[x]\n");
  const char *names[1] = { "a" };
  tl_type types[1] = { TL_FLOAT };
  tl_csv_options_init(&o);
  o.type_names = names; o.types = types; o.ntypes = 1;
  EXPECT("a,b\n1,x\n2,y\n", &o, "a:float,b:string\n1.0,[x]\n2.0,[y]\n");
  EXPECT("a,b\n1,x\nz,y\n", &o,
         "read_csv: t.csv:3:1 (column 'a', record 2): value is not of the forced type float: near \"z\"");
  names[0] = "q";
  EXPECT("a,b\n1,x\n", &o, "read_csv: t.csv: types: unknown column 'q'");
}

static void test_quoting(void) {
  EXPECT("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"line\none\",2\n", NULL,
         "a:string,b:string\n[x,y],[say \"hi\"]\n[line\none],[2]\n");
  /* CRLF, lone CR, no final newline, a BOM */
  EXPECT("\xEF\xBB\xBFx,y\r\n1,2\r3,4\n5,6", NULL, "x:int,y:int\n1,2\n3,4\n5,6\n");
  /* a quote inside an unquoted field is text; "" is an empty string, not null */
  EXPECT("a,b\n5\"3,\"\"\n", NULL, "a:string,b:string\n[5\"3],[]\n");
  EXPECT("", NULL, "\n");
  EXPECT("a,b\n", NULL, "a:string,b:string\n");
  EXPECT("a,b\n\n1,2\n\n", NULL, "a:int,b:int\n1,2\n");
  EXPECT("a\n1\n\n3\n", NULL, "a:int\n1\nnull\n3\n");
  /* stray quotes and quoted line ends cannot fool the cutting into chunks */
  EXPECT("a,b\n5\"3,x\n1,2\n\"3\n4\",\"\"\"\"\n7,8\n", NULL,
         "a:string,b:string\n[5\"3],[x]\n[1],[2]\n[3\n4],[\"]\n[7],[8]\n");
  /* repeated strings become a dictionary, whatever the chunks */
  EXPECT("k,n\na,1\nb,2\na,3\n,4\nb,5\nc,6\na,7\nb,8\n", NULL,
         "k:string,n:int\n[a],1\n[b],2\n[a],3\nnull,4\n[b],5\n[c],6\n[a],7\n[b],8\n");
  {
    tl_table *t;
    const char *in = "k\nx\ny\nx\ny\nx\ny\n";
    for (size_t c = 1; c < 16; c += 3) {
      tl_csv_options o;
      tl_csv_options_init(&o);
      tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)c);
      CHECK(tl_read_csv_buffer(in, strlen(in), "d", &o, &t, NULL) == TL_OK);
      const tl_column *d = tl_column_dictionary(tl_table_column(t, 0));
      CHECK(d && tl_column_length(d) == 2);
      CHECK(tl_column_codes(tl_table_column(t, 0))[5] == 1);
      tl_table_release(t);
    }
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
  }
  /* a quoted number is still a number */
  EXPECT("a\n\"12\"\n", NULL, "a:int\n12\n");
}

static void test_options(void) {
  tl_csv_options o;
  /* separator detection */
  EXPECT("a;b\n1;2,5\n", NULL, "a:int,b:string\n1,[2,5]\n");
  EXPECT("a\tb\n1\t2\n", NULL, "a:int,b:int\n1,2\n");
  EXPECT("a|b\n1|2\n", NULL, "a:int,b:int\n1,2\n");
  tl_csv_options_init(&o);
  o.header = 0;
  EXPECT("1,2\n3,4\n", &o, "column1:int,column2:int\n1,2\n3,4\n");
  tl_csv_options_init(&o);
  const char *nulls[2] = { "NA", "-" };
  o.nulls = nulls; o.nnulls = 2;
  EXPECT("a,b\nNA,1\n2,-\n,3\n", &o, "a:string,b:int\nnull,1\n[2],null\n[],3\n");
  EXPECT("a,b\nNA,1\n2,-\n", &o, "a:int,b:int\nnull,1\n2,null\n");
  tl_csv_options_init(&o);
  o.skip = 2;
  o.comment = "#";
  EXPECT("title\n\nx,y\n# note\n1,2\n#3,4\n", &o, "x:int,y:int\n1,2\n");
  /* names: empty ones get their position, duplicates a suffix */
  EXPECT("a,,a\n1,2,3\n", NULL, "a:int,column2:int,a_2:int\n1,2,3\n");
}

static void test_errors(void) {
  EXPECT("a,b\n1,2\n3\n", NULL,
         "read_csv: t.csv:3:2 (column 'b', record 2): too few fields (expected 2, found 1): near \"3\"");
  EXPECT("a,b\n1,2\n3,4,5\n", NULL,
         "read_csv: t.csv:3:3 (record 2): too many fields (expected 2, found 3): near \"3,4,5\"");
  /* an unterminated quote is reported where its field starts */
  EXPECT("a,b\n1,2\n3,\"four\nfive\n", NULL,
         "read_csv: t.csv:3:2 (column 'b', record 2): unterminated quoted field: near \"\"four\"");
  EXPECT("a,b\n1,\"x\"y\n", NULL,
         "read_csv: t.csv:2:2 (column 'b', record 1): text after a closing quote: near \"\"x\"y\"");
  EXPECT("a,b\n1,\xff\xfe\n", NULL,
         "read_csv: t.csv:2:2 (column 'b', record 1): invalid UTF-8: near \"\xff\xfe\"");
  /* lines after a quoted newline are counted */
  EXPECT("a,b\n\"x\ny\",1\n2\n", NULL,
         "read_csv: t.csv:4:2 (column 'b', record 2): too few fields (expected 2, found 1): near \"2\"");
}

static void test_columns(void) {
  tl_csv_options o;
  const char *cols[3] = { "c", "a", NULL };
  tl_csv_options_init(&o);
  o.columns = cols; o.ncolumns = 2;
  EXPECT("a,b,c\n1,x,2.5\n2,y,3\n", &o, "c:float,a:int\n2.5,1\n3.0,2\n");
  /* the other columns are neither converted nor checked */
  const char *names[1] = { "b" };
  tl_type types[1] = { TL_INT };
  o.type_names = names; o.types = types; o.ntypes = 1;
  EXPECT("a,b,c\n1,x,2\n2,\xff,3\n", &o, "c:int,a:int\n2,1\n3,2\n");
  /* but every record still needs every field */
  EXPECT("a,b,c\n1,x,2\n2,y\n", &o,
         "read_csv: t.csv:3:3 (column 'c', record 2): too few fields (expected 3, found 2): near \"2,y\"");
  o.ntypes = 0;
  cols[0] = "b";
  o.ncolumns = 1;
  EXPECT("a,b\n1,x\n2,x\n3,y\n4,x\n", &o, "b:string\n[x]\n[x]\n[y]\n[x]\n");
  cols[0] = "yaer";
  EXPECT("year,n\n1,2\n", &o, "read_csv: t.csv: columns: unknown column 'yaer' (did you mean 'year'?)");
  cols[0] = "zzz";
  EXPECT("year,n\n1,2\n", &o, "read_csv: t.csv: columns: unknown column 'zzz'");
  cols[0] = "n"; cols[1] = "n";
  o.ncolumns = 2;
  EXPECT("year,n\n1,2\n", &o, "read_csv: t.csv: columns: 'n' is listed twice");
  /* without a header the names are column1.. */
  cols[0] = "column2";
  o.ncolumns = 1;
  o.header = 0;
  EXPECT("1,2\n3,4\n", &o, "column2:int\n2\n4\n");
}

static void test_max_rows(void) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.max_rows = 2;
  EXPECT("a\n1\n2\n3\n", &o, "a:int\n1\n2\n");
  /* what lies past the limit is not read: not its types, not its errors */
  EXPECT("a,b\n1,2\n\n3,4\nx,\"unterminated\n", &o, "a:int,b:int\n1,2\n3,4\n");
  EXPECT("a\n1\n\"2\n2\"\nx\n", &o, "a:string\n[1]\n[2\n2]\n");
  EXPECT("a\n1\n", &o, "a:int\n1\n");
  o.max_rows = 0;
  EXPECT("a,b\n1,2\n", &o, "a:string,b:string\n");
  o.max_rows = 1;
  o.header = 0;
  EXPECT("1,2\n3,4\n", &o, "column1:int,column2:int\n1,2\n");
  /* an error within the limit is still one */
  o.header = 1;
  o.max_rows = 2;
  EXPECT("a,b\n1,2\n3\n", &o,
         "read_csv: t.csv:3:2 (column 'b', record 2): too few fields (expected 2, found 1): near \"3\"");
}

static void test_skip(void) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.on_error = TL_CSV_SKIP;
  /* rows loaded + records rejected = records read */
  EXPECT_INFO("a,b\n1,2\n3\n4,5,6\n\xff,7\n8,9\n", &o,
              "a:int,b:int\n1,2\n8,9\n"
              "rejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "3,2,2,[b],[too_few_fields],[3]\n"
              "4,3,3,null,[too_many_fields],[4,5,6]\n"
              "5,4,1,[a],[invalid_utf8],[\xff]\n"
              "records: 5\n");
  /* a skipped record does not count for the types */
  EXPECT_INFO("a,b\n1,2\nx\n3,4\n", &o,
              "a:int,b:int\n1,2\n3,4\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "3,2,2,[b],[too_few_fields],[x]\nrecords: 3\n");
  const char *names[1] = { "n" };
  tl_type types[1] = { TL_INT };
  o.type_names = names; o.types = types; o.ntypes = 1;
  EXPECT_INFO("k,n\na,1\nb,two\nc,\"3\"\nd,4.5\n\"e\",5\n", &o,
              "k:string,n:int\n[a],1\n[c],3\n[e],5\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "3,2,2,[n],[forced_type],[two]\n5,4,2,[n],[forced_type],[4.5]\nrecords: 5\n");
  /* dictionary strings keep their codes when records between are skipped */
  o.ntypes = 0;
  EXPECT_INFO("k,n\na,1\nb\na,3\nb,4\nc,5,6\na,7\n", &o,
              "k:string,n:int\n[a],1\n[a],3\n[b],4\n[a],7\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "3,2,2,[n],[too_few_fields],[b]\n6,5,3,null,[too_many_fields],[c,5,6]\nrecords: 6\n");
  /* every record bad: no rows, the header's columns */
  EXPECT_INFO("a,b\n1\n2\n", &o,
              "a:string,b:string\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "2,1,2,[b],[too_few_fields],[1]\n3,2,2,[b],[too_few_fields],[2]\n"
              "a: no values to infer from: every field is null\n"
              "b: no values to infer from: every field is null\nrecords: 2\n");
  /* a broken quote is not a record to skip */
  EXPECT("a,b\n1,2\n3,\"x\n", &o,
         "read_csv: t.csv:3:2 (column 'b', record 2): unterminated quoted field: near \"\"x\"");
  /* with max_rows, the rejected records count among those read */
  o.max_rows = 2;
  EXPECT_INFO("a\n1\n2,3\n4\n", &o,
              "a:int\n1\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "3,2,2,null,[too_many_fields],[2,3]\nrecords: 2\n");
}

static void test_reasons(void) {
  EXPECT_INFO("code,n,x,d,b,s\n1,1,1,2019-01-01,true,a\n2,2.5,,2019-01-02 10:00:00,1,b\n"
              "A12,3,,,false,c\n",
              NULL,
              "code:string,n:float,x:int,d:timestamp,b:string,s:string\n"
              "[1],1.0,1,2019-01-01T00:00:00,[true],[a]\n"
              "[2],2.5,null,2019-01-02T10:00:00,[1],[b]\n"
              "[A12],3.0,null,null,[false],[c]\n"
              "code: 'A12' at line 4 is not a number\n"
              "n: '2.5' at line 3 is not an integer\n"
              "d: '2019-01-02 10:00:00' at line 3 is not a date\n"
              "b: '1' at line 3 is not a boolean\n"
              "records: 3\n");
  /* the value that decided, not the first that narrowed */
  EXPECT_INFO("v\n\n1\n2.5\n\n3\n\"x\"\"y\"\n4\nz\n", NULL,
              "v:string\nnull\n[1]\n[2.5]\nnull\n[3]\n[x\"y]\n[4]\n[z]\n"
              "v: 'x\"y' at line 7 is not a number\nrecords: 8\n");
  EXPECT_INFO("v\n1\n9223372036854775808\n", NULL,
              "v:float\n1.0\n9.223372036854776e+18\n"
              "v: '9223372036854775808' at line 3 does not fit in a 64-bit integer\nrecords: 2\n");
  /* a long value is cut in the reason */
  EXPECT_INFO("v\n1\n\"abcdefghij\"\"abcdefghijabcdefghijabcdefghijabcdefghij\"\n", NULL,
              "v:string\n[1]\n[abcdefghij\"abcdefghijabcdefghijabcdefghijabcdefghij]\n"
              "v: 'abcdefghij\"abcdefghijabcdefghijabcdefghi...' at line 3 is not a number\n"
              "records: 2\n");
  /* the first value alone decided: no reason */
  EXPECT_INFO("v,w\nx,1.5\n1,2\n", NULL, "v:string,w:float\n[x],1.5\n[1],2.0\nrecords: 2\n");
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.infer = 0;
  EXPECT_INFO("v\n1\n", &o, "v:string\n[1]\nrecords: 1\n");
}

/* Forced number columns: each value is read once, by the check of its type,
** and that number is the one kept; the common numerals (an integer in an int
** column, one with a point in a float column) and the others (exponents,
** integers, signs, inf, quoted) must give what the reader gave before. */
static void test_forced_numbers(void) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  const char *names[2] = { "i", "f" };
  tl_type types[2] = { TL_INT, TL_FLOAT };
  o.type_names = names; o.types = types; o.ntypes = 2;
  EXPECT("i,s,f\n7,a,1.5\n-0,b,-0.0\n+5,c,1e3\n0,d,22\n"
         "-9223372036854775808,e,-0\n2147483648,f,.5\n\"12\",g,\"2.25\"\n3,h,inf\n,i,\n", &o,
         "i:int,s:string,f:float\n7,[a],1.5\n0,[b],-0.0\n5,[c],1000.0\n0,[d],22.0\n"
         "-9223372036854775808,[e],-0.0\n2147483648,[f],0.5\n12,[g],2.25\n3,[h],inf\n"
         "null,[i],null\n");
  EXPECT("i,s,f\n1,a,1.5\n1.5,b,2\n", &o,
         "read_csv: t.csv:3:1 (column 'i', record 2): value is not of the forced type int: near \"1.5\"");
  EXPECT("i,s,f\n1,a,1.5\n2,b,1.2.3\n", &o,
         "read_csv: t.csv:3:3 (column 'f', record 2): value is not of the forced type float: near \"1.2.3\"");
  EXPECT("i,s,f\n1,a,1.5\n9223372036854775808,b,2\n", &o,
         "read_csv: t.csv:3:1 (column 'i', record 2): value is not of the forced type int: near \"9223372036854775808\"");
  /* a record rejected for its second number keeps neither: the next record's
  ** numbers are its own */
  o.on_error = TL_CSV_SKIP;
  EXPECT("i,s,f\n1,a,1.5\n2,b,x\n3,c,3.5\n4,d\n5,e,5.5\n", &o,
         "i:int,s:string,f:float\n1,[a],1.5\n3,[c],3.5\n5,[e],5.5\n");
  /* only some columns forced: the others are inferred as before */
  o.on_error = TL_CSV_FAIL;
  o.ntypes = 1;
  EXPECT("i,s,f\n1,a,1.5\n2,b,2\n", &o, "i:int,s:string,f:float\n1,[a],1.5\n2,[b],2.0\n");
}

/* Thousands of rows whose records grow longer: the room guessed for a
** chunk's rows from its first records is too small, and grows. */
static void test_many_rows(void) {
  size_t cap = 1 << 20, k = 0;
  char *in = malloc(cap);
  int64_t sum = 0;
  k += (size_t)snprintf(in + k, cap - k, "n,pad\n");
  for (int i = 0; i < 20000; i++) {
    int pad = i < 2000 ? 0 : i % 37;
    k += (size_t)snprintf(in + k, cap - k, "%d,%.*s\n", i, pad, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    sum += i;
  }
  const char *cols[1] = { "n" };
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.columns = cols;
  o.ncolumns = 1;
  for (int c = 0; c < 2; c++) {
    tl_set_threads(c ? 3 : 1);
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, c ? 50000 : 0);
    tl_table *t = NULL;
    tl_error err;
    CHECK(tl_read_csv_buffer(in, k, "m.csv", &o, &t, &err) == TL_OK);
    if (!t) continue;
    CHECK(tl_table_nrows(t) == 20000);
    const tl_column *col = tl_table_column(t, 0);
    int64_t got = 0, ordered = 1;
    for (int64_t i = 0; i < tl_table_nrows(t); i++) {
      tl_scalar v;
      tl_column_get(col, i, &v);
      got += v.v.i;
      ordered &= v.v.i == i;
    }
    CHECK(got == sum);
    CHECK(ordered);
    tl_table_release(t);
  }
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
  free(in);
}

static void test_golden_errors(void) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  const char *names[2] = { "d", "t" };
  tl_type types[2] = { TL_DATE, TL_TIMESTAMP };
  o.type_names = names; o.types = types; o.ntypes = 2;
  EXPECT("d,t\n2020-01-01,2020-01-01 10:00:00\n2020-02-30,x\n", &o,
         "read_csv: t.csv:3:1 (column 'd', record 2): value is not of the forced type date: near \"2020-02-30\"");
  EXPECT("d,t\n2020-01-01,\"2020-01-01 10:00:61\"\n", &o,
         "read_csv: t.csv:2:2 (column 't', record 1): value is not of the forced type timestamp: near \"2020-01-01 10:00:61\"\"");
  types[0] = TL_BOOL;
  EXPECT("d,t\nyes,\n", &o,
         "read_csv: t.csv:2:1 (column 'd', record 1): value is not of the forced type bool: near \"yes\"");
  /* more fields than the limit */
  size_t n = 100001;
  char *wide = malloc(2 * n + 8);
  for (size_t i = 0; i < n; i++) { wide[2 * i] = 'x'; wide[2 * i + 1] = ','; }
  wide[2 * n - 1] = '\n';
  wide[2 * n] = '\0';
  tl_table *t;
  tl_error err;
  CHECK(tl_read_csv_buffer(wide, strlen(wide), "w.csv", NULL, &t, &err) == TL_ELIMIT);
  CHECK_STR(err.message, "read_csv: w.csv:1 (header): more than 100000 fields in a record: near \"x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,\"");
  free(wide);
  EXPECT("a,b\n\"1\"2,3\n", NULL,
         "read_csv: t.csv:2:1 (column 'a', record 1): text after a closing quote: near \"\"1\"2,3\"");
  EXPECT("a\n\"x\n", NULL, "read_csv: t.csv:2:1 (column 'a', record 1): unterminated quoted field: near \"\"x\"");
}

/* max_field_size at its boundary, plain and quoted (its length once doubled
** quotes are undone), in every field of a record and in the header. */
static void test_field_size(void) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.max_field_size = 4;
  EXPECT("a,b\nxxxx,\"y\"\"yy\"\n\"p\nqr\",1234\n", &o,
         "a:string,b:string\n[xxxx],[y\"yy]\n[p\nqr],[1234]\n");
  EXPECT("a,b\nxxxx,1\nxxxxx,2\n", &o,
         "read_csv: t.csv:3:1 (column 'a', record 2): field of 5 bytes exceeds max_field_size (4): "
         "near \"xxxxx\"");
  EXPECT("a,b\n1,\"y\"\"yyy\"\n", &o,
         "read_csv: t.csv:2:2 (column 'b', record 1): field of 5 bytes exceeds max_field_size (4): "
         "near \"y\"\"yyy\"\"");
  /* the line is where the field starts; an unquoted field ends at CR too */
  EXPECT("a,b\r\n1,2\r\n3,\"x\r\ny\r\n\"\r\n", &o,
         "read_csv: t.csv:3:2 (column 'b', record 2): field of 6 bytes exceeds max_field_size (4): "
         "near \"x\"");
  EXPECT("a\r1\rxxxxx\r", &o,
         "read_csv: t.csv:3:1 (column 'a', record 2): field of 5 bytes exceeds max_field_size (4): "
         "near \"xxxxx\"");
  /* every field counts, read or not, and it comes before the field count */
  const char *cols[1] = { "a" };
  o.columns = cols; o.ncolumns = 1;
  EXPECT("a,b\n1,xxxxx,3\n", &o,
         "read_csv: t.csv:2:2 (column 'b', record 1): field of 5 bytes exceeds max_field_size (4): "
         "near \"xxxxx\"");
  o.columns = NULL; o.ncolumns = 0;
  EXPECT("abcde,b\n1,2\n", &o,
         "read_csv: t.csv:1:1 (header): field of 5 bytes exceeds max_field_size (4): near \"abcde\"");
  /* without a header the first record is data like the others */
  o.header = 0;
  o.on_error = TL_CSV_SKIP;
  EXPECT_INFO("abcde,1\nx,2\n", &o,
              "column1:string,column2:int\n[x],2\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "1,1,1,[column1],[field_too_large],[abcde]\nrecords: 2\n");
  o.header = 1;
  EXPECT_INFO("k,v\na,1\nb,\"2\n\"\"2\"\"\"\nc,33333\nd,4\n", &o,
              "k:string,v:int\n[a],1\n[d],4\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "3,2,2,[v],[field_too_large],[2]\n5,3,2,[v],[field_too_large],[33333]\nrecords: 4\n");
  /* the limit of the default, and a large one */
  tl_csv_options_init(&o);
  EXPECT("a\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", &o,
         "a:string\n[xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n");
  o.max_field_size = SIZE_MAX;
  EXPECT("a\nx\n", &o, "a:string\n[x]\n");
}

/* Record numbers differ from line numbers after quoted line ends, skipped
** lines, comments and blank lines; without a header record 1 is line 1. */
static void test_records(void) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.skip = 1;
  o.comment = "#";
  const char *in = "title\na,b\n#c\n\"1\n1\",2\n\n#d\n3\r\n\"4\r4\",\"\xff\"\n5,6\n";
  EXPECT(in, &o, "read_csv: t.csv:8:2 (column 'b', record 2): too few fields (expected 2, found 1): "
                 "near \"3\"");
  o.on_error = TL_CSV_SKIP;
  EXPECT_INFO(in, &o,
              "a:string,b:int\n[1\n1],2\n[5],6\nrejects:\n"
              "line:int,record:int,field:int,column:string,class:string,excerpt:string\n"
              "8,2,2,[b],[too_few_fields],[3]\n10,3,2,[b],[invalid_utf8],[\xff\"]\nrecords: 4\n");
  tl_csv_options_init(&o);
  o.header = 0;
  EXPECT("\"a\n\",1\nb\n", &o,
         "read_csv: t.csv:3:2 (column 'column2', record 2): too few fields (expected 2, found 1): "
         "near \"b\"");
  EXPECT("\"a\n\",1\n\"b,2\n", &o,
         "read_csv: t.csv:3:1 (column 'column1', record 2): unterminated quoted field: near \"\"b,2\"");
  /* an error in the header names it */
  tl_csv_options_init(&o);
  EXPECT("a,\"b\"c\n1,2\n", &o, "read_csv: t.csv:1:2 (header): text after a closing quote: "
                                  "near \"\"b\"c\"");
  /* with max_rows: the records before the limit */
  o.max_rows = 3;
  EXPECT("a,b\n1,2\n\"3\n\",4\n5,6,7\n8,9\n", &o,
         "read_csv: t.csv:5:3 (record 3): too many fields (expected 2, found 3): near \"5,6,7\"");
}

/* The progress callback: pass 1 then pass 2, never past the total. */
typedef struct prog {
  int calls, pass, bad;
  int64_t last;
} prog;

static void on_progress(void *ud, int pass, int64_t done, int64_t total) {
  prog *p = ud;
  p->calls++;
  if (pass < p->pass || done > total || done < 0) p->bad = 1;
  p->pass = pass;
  p->last = done;
}

static void test_progress(void) {
  const char *in = "a,b\n1,2\n3,4\n5,6\n7,8\n";
  for (int th = 1; th <= 3; th += 2) {
    tl_set_threads(th);
    prog p = { 0, 0, 0, 0 };
    tl_csv_options o;
    tl_csv_options_init(&o);
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 4);
    o.progress = on_progress;
    o.progress_ud = &p;
    tl_table *t;
    CHECK(tl_read_csv_buffer(in, strlen(in), "p", &o, &t, NULL) == TL_OK);
    tl_table_release(t);
    CHECK(p.calls >= 2 && !p.bad && p.pass == 2);
    if (th == 1) CHECK(p.last == (int64_t)strlen(in));
  }
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
}

/* ---------------------------------------------------------------------------
** Round trip: random tables of every type through write_csv and read_csv.
*/
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

static const char *const pieces[] = { "a", ",", "\"", "\n", "\r\n", "\r", " ", "", "é", "日本",
                                      "x\"y", ";", "\t", "NA", "007", "12", "true", "-" };

static tl_column *random_column(tl_type type, int64_t n) {
  tl_builder *b;
  tl_column *c = NULL;
  if (tl_builder_new(type, n, &b, NULL) != TL_OK) return NULL;
  for (int64_t i = 0; i < n; i++) {
    tl_status st;
    if (rnd() % 5 == 0) { st = tl_builder_append_null(b, NULL); (void)st; continue; }
    switch (type) {
      case TL_BOOL: st = tl_builder_append_bool(b, (int)(rnd() & 1), NULL); break;
      case TL_INT: {
        int64_t v = (int64_t)rnd();
        if (rnd() % 2) v %= 1000;
        st = tl_builder_append_int(b, v, NULL);
        break;
      }
      case TL_FLOAT: {
        static const double special[] = { 0.0, -0.0, 1.0 / 0.0, -1.0 / 0.0, 0.1, 1e300, 5e-324 };
        double v;
        uint64_t k = rnd() % 10;
        if (k < 7) v = special[k];
        else if (k == 7) v = 0.0 / 0.0;
        else { uint64_t bits = rnd(); memcpy(&v, &bits, sizeof v); if (v != v) v = 1.5; }
        st = tl_builder_append_float(b, v, NULL);
        break;
      }
      case TL_DATE: st = tl_builder_append_date(b, (int32_t)(rnd() % 200000) - 100000 / 2, NULL); break;
      case TL_TIMESTAMP:
        st = tl_builder_append_timestamp(b, (int64_t)(rnd() % 4000000000000000ull), NULL);
        break;
      default: {
        char s[128];
        size_t k = 0;
        for (uint64_t m = rnd() % 5; m > 0; m--) {
          const char *p = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
          size_t l = strlen(p);
          memcpy(s + k, p, l);
          k += l;
        }
        st = tl_builder_append_string(b, s, k, NULL);
        break;
      }
    }
    (void)st;
  }
  if (tl_builder_finish(b, &c, NULL) != TL_OK) return NULL;
  return c;
}

static void test_roundtrip(void) {
  static const tl_type all[] = { TL_BOOL, TL_INT, TL_FLOAT, TL_STRING, TL_DATE, TL_TIMESTAMP };
  static const char *const names[] = { "b", "i", "f", "s", "d", "ts" };
  char path[] = "/tmp/tally_rt_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  char *a = malloc(1 << 20), *b = malloc(1 << 20);
  for (int round = 0; round < 40; round++) {
    int64_t n = (int64_t)(rnd() % 50);
    tl_column *cols[6];
    for (int j = 0; j < 6; j++) cols[j] = random_column(all[j], n);
    tl_table *t;
    CHECK(tl_table_new(6, names, cols, &t, NULL) == TL_OK);
    for (int j = 0; j < 6; j++) tl_column_release(cols[j]);
    tl_error err;
    CHECK(tl_write_csv(t, path, &err) == TL_OK);
    render(t, a, 1 << 20);
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
      tl_set_threads(c % 2 ? 3 : 1);
      tl_csv_options o;
      tl_csv_options_init(&o);
      tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)chunks[c]);   /* the last: the default */
      o.sep = ',';   /* a table of few rows could look ;-separated */
      o.type_names = names; o.types = all; o.ntypes = 6;
      tl_table *back;
      if (tl_read_csv(path, &o, &back, &err) != TL_OK) {
        CHECK_STR(err.message, "");
        continue;
      }
      render(back, b, 1 << 20);
      check_count++;
      if (strcmp(a, b) != 0) {
        check_failures++;
        fprintf(stderr, "round trip %d (chunk %zu):\n--- wrote\n%s\n--- read\n%s\n", round, chunks[c], a, b);
      }
      /* inference gives the same type unless the values alone cannot say */
      tl_table *inf;
      o.ntypes = 0;
      CHECK(tl_read_csv(path, &o, &inf, &err) == TL_OK);
      for (int j = 0; j < 6; j++) {
        tl_type got = tl_column_type(tl_table_column(inf, j));
        const tl_column *w = tl_table_column(t, j);
        if (got != all[j] && tl_column_count(w) > 0 && all[j] != TL_STRING &&
            !(all[j] == TL_INT && got == TL_FLOAT) && !(all[j] == TL_FLOAT && got == TL_INT) &&
            !(all[j] == TL_TIMESTAMP && got == TL_DATE)) {
          check_failures++;
          fprintf(stderr, "round trip %d: column %s inferred as %s\n", round, names[j], tl_type_name(got));
        }
      }
      tl_table_release(inf);
      tl_table_release(back);
    }
    tl_table_release(t);
  }
  free(a);
  free(b);
  unlink(path);
}

/* Allocation failures in the new paths (columns, skip, reasons, rejects):
** the Nth allocation and every later one fail, for N = 1, 2, ... until the
** load succeeds; each failure must be clean and give every byte back. */
static long long fa_live, fa_calls, fa_at;

static void *fa_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    if (ptr) __atomic_fetch_sub(&fa_live, (long long)osize, __ATOMIC_RELAXED);
    free(ptr);
    return NULL;
  }
  if ((nsize > osize || !ptr) && __atomic_add_fetch(&fa_calls, 1, __ATOMIC_RELAXED) >= fa_at)
    return NULL;
  void *p = realloc(ptr, nsize);
  if (p) __atomic_fetch_add(&fa_live, (long long)nsize - (long long)(ptr ? osize : 0), __ATOMIC_RELAXED);
  return p;
}

static void test_alloc_failures(void) {
  const char *in = "k,n,x\na,1,p\nb,two,q\na,3\nc,2.5,r\n";
  const char *cols[2] = { "n", "k" };
  tl_set_threads(2);
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 8);
  for (fa_at = 1;; fa_at++) {
    tl_csv_options o;
    tl_csv_options_init(&o);
    o.on_error = TL_CSV_SKIP;
    o.columns = cols;
    o.ncolumns = 2;
    fa_calls = 0;
    fa_live = 0;
    tl_set_allocator(fa_alloc, NULL);
    tl_table *t = NULL;
    tl_csv_info *info = NULL;
    tl_error err;
    tl_status st = tl_read_csv_buffer_ex(in, strlen(in), "a", &o, &t, &info, &err);
    tl_table_release(t);
    tl_csv_info_free(info);
    tl_set_allocator(NULL, NULL);
    CHECK(fa_live == 0);
    if (st == TL_OK) break;
    CHECK(st == TL_ENOMEM && info == NULL);
    if (fa_at > 10000) { CHECK(0); break; }
  }
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
}

/* A table of 100 000 rows is made into text on several threads, 16384
** rows a task: the file is the same, byte for byte, as on one thread, and
** reads back as the table. Allocation failures while writing are clean and
** leave no file. */
static void test_write_threads(void) {
  static const tl_type all[] = { TL_BOOL, TL_INT, TL_FLOAT, TL_STRING, TL_DATE, TL_TIMESTAMP };
  static const char *const names[] = { "b", "i", "f", "s", "d", "ts" };
  char p1[] = "/tmp/tally_w1_XXXXXX", p3[] = "/tmp/tally_w3_XXXXXX";
  int f1 = mkstemp(p1), f3 = mkstemp(p3);
  CHECK(f1 >= 0 && f3 >= 0);
  close(f1);
  close(f3);
  int64_t n = 100000;
  tl_column *cols[6];
  for (int j = 0; j < 6; j++) cols[j] = random_column(all[j], n);
  tl_table *t;
  CHECK(tl_table_new(6, names, cols, &t, NULL) == TL_OK);
  for (int j = 0; j < 6; j++) tl_column_release(cols[j]);
  tl_error err;
  tl_set_threads(1);
  CHECK(tl_write_csv(t, p1, &err) == TL_OK);
  tl_set_threads(3);
  CHECK(tl_write_csv(t, p3, &err) == TL_OK);
  size_t n1 = 0, n3 = 0;
  char *a = check_slurp(p1, &n1), *b = check_slurp(p3, &n3);
  CHECK(a && b && n1 == n3 && n1 > (size_t)n && memcmp(a, b, n1) == 0);
  free(a);
  free(b);
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.type_names = names; o.types = all; o.ntypes = 6;
  tl_table *back = NULL;
  CHECK(tl_read_csv(p3, &o, &back, &err) == TL_OK);
  size_t size = (size_t)64 << 20;
  a = malloc(size);
  b = malloc(size);
  render(t, a, size);
  render(back, b, size);
  CHECK(tl_table_nrows(back) == n && strcmp(a, b) == 0);
  free(a);
  free(b);
  tl_table_release(back);
  for (fa_at = 1;; fa_at++) {
    fa_calls = 0;
    fa_live = 0;
    tl_set_allocator(fa_alloc, NULL);
    tl_status st = tl_write_csv(t, p1, &err);
    tl_set_allocator(NULL, NULL);
    CHECK(fa_live == 0);
    if (st == TL_OK) break;
    CHECK(st == TL_ENOMEM && access(p1, F_OK) != 0);
    if (fa_at > 1000) { CHECK(0); break; }
  }
  tl_set_threads(1);
  tl_table_release(t);
  unlink(p1);
  unlink(p3);
}

static void test_files(void) {
  tl_table *t;
  tl_error err;
  CHECK(tl_read_csv("data/jica_training.csv", NULL, &t, &err) == TL_OK);
  if (t) {
    CHECK(tl_table_nrows(t) == 40 && tl_table_ncols(t) == 4);
    tl_scalar s;
    const tl_column *p = tl_table_column(t, tl_table_find(t, "participants"));
    CHECK(tl_column_sum(p, &s, NULL) == TL_OK && s.v.i == 446);
    CHECK(tl_column_count(p) == 30);
    tl_table_release(t);
  }
  CHECK(tl_read_csv("no/such.csv", NULL, &t, &err) == TL_EIO);
  CHECK_STR(err.message, "read_csv: cannot open 'no/such.csv': No such file or directory");
  CHECK(tl_read_csv("data", NULL, &t, &err) == TL_EIO);
  CHECK_STR(err.message, "read_csv: cannot read 'data': Is a directory");

  /* round trip through write_csv */
  const char *in = "s,i,f,b,d,ts\n\"a,\"\"b\"\"\",1,0.1,true,1990-06-01,2018-02-01T10:00:00\n"
                   "\"\",,1e300,,,\n\"x\ny\",-5,,false,2020-02-29,\n";
  CHECK(tl_read_csv_buffer(in, strlen(in), "rt", NULL, &t, NULL) == TL_OK);
  char path[] = "/tmp/tally_csv_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  CHECK(tl_write_csv(t, path, &err) == TL_OK);
  tl_table *back;
  CHECK(tl_read_csv(path, NULL, &back, &err) == TL_OK);
  char a[2048], b[2048];
  render(t, a, sizeof a);
  render(back, b, sizeof b);
  CHECK_STR(b, a);
  tl_table_release(back);
  CHECK(tl_write_csv(t, "/nonexistent/dir/x.csv", &err) == TL_EIO);
  CHECK_STR(err.message, "write_csv: cannot open '/nonexistent/dir/x.csv': No such file or directory");
  tl_table_release(t);
  unlink(path);
}

int main(void) {
  test_types();
  test_quoting();
  test_options();
  test_errors();
  test_columns();
  test_max_rows();
  test_skip();
  test_reasons();
  test_golden_errors();
  test_forced_numbers();
  test_many_rows();
  test_field_size();
  test_records();
  test_progress();
  test_roundtrip();
  test_alloc_failures();
  test_files();
  test_write_threads();
  return check_done("csv");
}
