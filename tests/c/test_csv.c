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
#include "tally.h"

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

/* Reads `in` at every chunk size, on 1 and 3 threads; the rendering or the
** error must be `want`. */
static void expect(int line, const char *in, const tl_csv_options *o, const char *want) {
  for (size_t c = 0; c < 2 * sizeof chunks / sizeof *chunks; c++) {
    tl_set_threads(c % 2 ? 3 : 1);
    tl_csv_options opts;
    if (o) opts = *o; else tl_csv_options_init(&opts);
    opts.chunk_size = chunks[c / 2];
    tl_table *t = NULL;
    tl_error err;
    char got[4096];
    if (tl_read_csv_buffer(in, strlen(in), "t.csv", &opts, &t, &err) == TL_OK) {
      render(t, got, sizeof got);
      tl_table_release(t);
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
#define EXPECT(in, o, want) expect(__LINE__, in, o, want)

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
         "read_csv: t.csv:3:1 (column 'a'): value is not of the forced type float: near \"z\"");
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
      o.chunk_size = c;
      CHECK(tl_read_csv_buffer(in, strlen(in), "d", &o, &t, NULL) == TL_OK);
      const tl_column *d = tl_column_dictionary(tl_table_column(t, 0));
      CHECK(d && tl_column_length(d) == 2);
      CHECK(tl_column_codes(tl_table_column(t, 0))[5] == 1);
      tl_table_release(t);
    }
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
         "read_csv: t.csv:3:2 (column 'b'): too few fields (expected 2, found 1): near \"3\"");
  EXPECT("a,b\n1,2\n3,4,5\n", NULL,
         "read_csv: t.csv:3:3: too many fields (expected 2, found 3): near \"3,4,5\"");
  /* an unterminated quote is reported where its field starts */
  EXPECT("a,b\n1,2\n3,\"four\nfive\n", NULL,
         "read_csv: t.csv:3:2 (column 'b'): unterminated quoted field: near \"\"four\"");
  EXPECT("a,b\n1,\"x\"y\n", NULL,
         "read_csv: t.csv:2:2 (column 'b'): text after a closing quote: near \"\"x\"y\"");
  EXPECT("a,b\n1,\xff\xfe\n", NULL,
         "read_csv: t.csv:2:2 (column 'b'): invalid UTF-8: near \"\xff\xfe\"");
  /* lines after a quoted newline are counted */
  EXPECT("a,b\n\"x\ny\",1\n2\n", NULL,
         "read_csv: t.csv:4:2 (column 'b'): too few fields (expected 2, found 1): near \"2\"");
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
  test_files();
  return check_done("csv");
}
