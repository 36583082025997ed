/*
** consumer.c -- libtally from C alone, found with find_package(tally): a
** column over the program's array, an expression, and an Arrow export.
*/
#include <stdio.h>

#include "tally/tally.h"

static int released;
static void on_release(void *ctx) { (void)ctx; released++; }

int main(void) {
  static const int64_t v[] = {1, 2, 3, 4, 5, 6};
  const char *name = "v";
  const char *def = "w = v * 2";
  tl_column *c;
  tl_table *t, *u;
  tl_scalar sum;
  tl_error err;
  struct ArrowSchema s;
  struct ArrowArray a;
  if (tl_column_wrap(TL_INT, 6, v, NULL, on_release, NULL, &c, &err) ||
      tl_table_new(1, &name, &c, &t, &err) ||
      tl_table_mutate(t, 1, &def, &u, &err) ||
      tl_column_sum(tl_table_column(u, 0), &sum, &err) ||
      tl_table_export_arrow(u, &s, &a, &err)) {
    fprintf(stderr, "consumer: %s\n", err.message);
    return 1;
  }
  tl_column_release(c);
  tl_table_release(t);
  tl_table_release(u);
  long long cols = (long long)s.n_children, rows = (long long)a.length;
  s.release(&s);
  a.release(&a);
  printf("consumer: %lld rows, sum %lld, exported %lld columns, released %d\n",
         rows, (long long)sum.v.i, cols, released);
  return 0;
}
