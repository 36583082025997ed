/*
** check.h -- the smallest test harness: CHECK records a failure and goes on;
** main returns the failure count through check_done().
*/
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond) do { \
    check_count++; \
    if (!(cond)) { check_failures++; \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } \
  } while (0)

#define CHECK_STR(got, want) do { \
    const char *g_ = (got), *w_ = (want); \
    check_count++; \
    if (!g_ || strcmp(g_, w_) != 0) { check_failures++; \
      fprintf(stderr, "%s:%d: got \"%s\"\n    want \"%s\"\n", __FILE__, __LINE__, \
              g_ ? g_ : "(null)", w_); } \
  } while (0)

/* A whole file, NUL-terminated (malloc'd), its length in *n when n is not
** NULL; NULL when it cannot be read. */
static inline char *check_slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
  if (s && fread(s, 1, (size_t)len, f) != (size_t)len) { free(s); s = NULL; }
  if (s) s[len] = '\0';
  if (s && n) *n = (size_t)len;
  fclose(f);
  return s;
}

static int check_done(const char *name) {
  printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
  return check_failures != 0;
}

#endif
