/*
** replay.c -- a plain main() for a fuzz target, so that the seed corpus and
** every crash kept in regressions/ run in the normal test suite without
** libFuzzer: each argument is a file, or a directory whose files are fed in
** name order.
*/
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return 1; }
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t k;
  while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (!nb) { free(buf); buf = NULL; }
      buf = nb;
    }
  }
  fclose(f);
  if (!buf) { fprintf(stderr, "replay: out of memory on %s\n", path); return 1; }
  /* a copy of exactly n bytes, so that a read past the end is caught */
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) { free(buf); return 1; }
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv) {
  int files = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) continue;   /* an empty regressions/ may be absent */
    if (!S_ISDIR(sb.st_mode)) { bad += run_file(argv[i]); files++; continue; }
    struct dirent **list;
    int n = scandir(argv[i], &list, NULL, by_name);
    for (int k = 0; k < n; k++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
      if (list[k]->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        bad += run_file(path);
        files++;
      }
      free(list[k]);
    }
    if (n >= 0) free(list);
  }
  printf("replay: %d inputs, %d unreadable\n", files, bad);
  return bad != 0;
}
