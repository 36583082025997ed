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

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
  if (s) s[n] = '\0';
  fclose(f);
  return s;
}

int main(void) {
  char *doc = slurp("docs/expressions.md");
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
