/*
** test_error.c -- tl_error's fields: the operation an error names, the
** detail after it, an expression error's column and reason, and moving an
** error to another operation with tl_error_rename.
*/
#include <string.h>

#include "check.h"
#include "tally/tally.h"

static tl_table *small_table(void) {
  const char csv[] = "program,year\nx,2018\ny,2019\n";
  tl_table *t = NULL;
  if (tl_read_csv_buffer(csv, sizeof csv - 1, "t.csv", NULL, &t, NULL) != TL_OK) return NULL;
  return t;
}

static void reason_is(const tl_error *err, const char *want) {
  size_t len;
  const char *r = tl_error_reason(err, &len);
  char buf[TL_ERROR_SIZE];
  memcpy(buf, r, len);
  buf[len] = '\0';
  CHECK_STR(buf, want);
}

static void test_table_new(void) {
  tl_table *t = small_table();
  tl_column *c[2] = { tl_table_column(t, 0), tl_table_column(t, 1) };
  const char *names[2] = { "a", "a" };
  tl_table *out = NULL;
  tl_error err;
  CHECK(tl_table_new(2, names, c, &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "table: duplicate column name 'a'");
  CHECK_STR(tl_error_op(&err), "table");
  CHECK_STR(err.op, "table");
  CHECK_STR(tl_error_detail(&err), "duplicate column name 'a'");
  CHECK(err.position == 0);
  reason_is(&err, "duplicate column name 'a'");
  tl_error_rename(&err, "from_rows");
  CHECK_STR(err.message, "from_rows: duplicate column name 'a'");
  CHECK_STR(tl_error_op(&err), "from_rows");
  CHECK(err.code == TL_EINVAL);
  reason_is(&err, "duplicate column name 'a'");
  tl_table_release(t);
}

/* The ops attribute tl_table_new's error to themselves. */
static void test_ops(void) {
  tl_table *t = small_table(), *out = NULL;
  const char *from[1] = { "year" }, *to[1] = { "program" };
  tl_error err;
  CHECK(tl_table_rename(t, 1, from, to, &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "rename: duplicate column name 'program'");
  CHECK_STR(tl_error_op(&err), "rename");
  CHECK_STR(tl_error_detail(&err), "duplicate column name 'program'");

  tl_join_options o;
  const char *keys[1] = { "year" };
  tl_join_options_init(&o);
  o.nkeys = 1;
  o.left_keys = keys;
  o.suffix_right = "";
  CHECK(tl_table_join(t, t, &o, &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "join: duplicate column name 'program' (choose other suffixes)");
  CHECK_STR(tl_error_op(&err), "join");
  tl_table_release(t);
}

static void test_expression(void) {
  tl_table *t = small_table();
  tl_column *c = NULL;
  tl_error err;
  CHECK(tl_table_eval(t, "program + 1", "add", &c, &err) == TL_ETYPE);
  CHECK_STR(err.message, "add: \"program + 1\": arithmetic on string and int at column 9");
  CHECK_STR(tl_error_op(&err), "add");
  CHECK_STR(tl_error_detail(&err), "\"program + 1\": arithmetic on string and int at column 9");
  CHECK(err.position == 9);
  reason_is(&err, "arithmetic on string and int");
  tl_error_rename(&err, "mutate");   /* the place and the reason move along */
  CHECK_STR(err.message, "mutate: \"program + 1\": arithmetic on string and int at column 9");
  CHECK(err.position == 9);
  reason_is(&err, "arithmetic on string and int");

  CHECK(tl_table_eval(t, "year +", "filter", &c, &err) == TL_EPARSE);
  CHECK_STR(tl_error_op(&err), "filter");
  CHECK(err.position > 0);
  CHECK(strncmp(err.message, "filter: \"year +\": ", 18) == 0);
  tl_table_release(t);
}

/* Messages that name no operation, and errors left empty. */
static void test_no_op(void) {
  tl_error err;
  memset(&err, 'x', sizeof err);   /* op and the spans hold garbage until set */
  err.message[0] = '\0';
  CHECK_STR(tl_error_op(&err), "");
  CHECK_STR(tl_error_detail(&err), "");
  reason_is(&err, "");
  tl_error_rename(&err, "sum");
  CHECK_STR(err.message, "");

  CHECK(tl_error_set(&err, TL_EINVAL, "function 'f': row %d: boom", 3) == TL_EINVAL);
  CHECK_STR(tl_error_op(&err), "");
  CHECK_STR(tl_error_detail(&err), "function 'f': row 3: boom");
  tl_error_rename(&err, "mutate");
  CHECK_STR(err.message, "mutate: function 'f': row 3: boom");
  CHECK_STR(tl_error_op(&err), "mutate");

  char longop[TL_ERROR_OP_SIZE + 8];
  memset(longop, 'a', sizeof longop - 1);
  longop[sizeof longop - 1] = '\0';
  tl_error_set(&err, TL_EIO, "%s: too long to be an operation", longop);
  CHECK_STR(tl_error_op(&err), "");
  CHECK(strcmp(tl_error_detail(&err), err.message) == 0);

  tl_error_set(&err, TL_EIO, "read_csv: f.csv:12:3: bad");
  CHECK_STR(tl_error_op(&err), "read_csv");
  CHECK_STR(tl_error_detail(&err), "f.csv:12:3: bad");
  CHECK(tl_error_set(NULL, TL_EIO, "x: y") == TL_EIO);
  tl_error_rename(NULL, "x");
  CHECK_STR(tl_error_op(NULL), "");
}

int main(void) {
  test_table_new();
  test_ops();
  test_expression();
  test_no_op();
  return check_done("test_error");
}
