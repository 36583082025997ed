/*
** test_docs.c -- docs/expressions.md documents every function of the
** registry: each one's signature appears there, in backquotes, as help()
** prints it. Run from the repository root.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tally/tally.h"

int main(void) {
  char *doc = check_slurp("docs/expressions.md", NULL);
  CHECK(doc != NULL);
  if (!doc) return check_done("docs");
  int n = 0;
  for (int i = 0; tl_builtin_function_at(i); i++, n++) {
    const tl_function_info *f = tl_builtin_function_at(i);
    char want[300];
    snprintf(want, sizeof want, "`%s`", f->signature);
    if (!strstr(doc, want)) fprintf(stderr, "docs/expressions.md: no entry for %s\n", want);
    CHECK(strstr(doc, want) != NULL);
  }
  CHECK(n > 50);
  free(doc);
  return check_done("docs");
}
