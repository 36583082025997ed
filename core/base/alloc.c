/*
** alloc.c -- routes every allocation through the pluggable tl_alloc_fn.
** Each block carries its size in a header, so the host's function sees the
** old size on realloc and free, as lua_Alloc does, and can count memory.
*/
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

typedef union header {
  size_t size;
  max_align_t align;   /* keeps the payload aligned for any type */
} header;

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  return realloc(ptr, nsize);
}

static tl_alloc_fn alloc_fn = default_alloc;
static void *alloc_ud = NULL;

void tl_set_allocator(tl_alloc_fn fn, void *ud) {
  alloc_fn = fn ? fn : default_alloc;
  alloc_ud = fn ? ud : NULL;
}

void tl_get_allocator(tl_alloc_fn *fn, void **ud) {
  if (fn) *fn = alloc_fn;
  if (ud) *ud = alloc_ud;
}

void *tl_realloc(void *p, size_t n) {
  header *h = p ? (header *)p - 1 : NULL;
  size_t osize = h ? h->size + sizeof(header) : 0;
  if (n > SIZE_MAX - sizeof(header)) return NULL;
  if (n == 0) n = 1;   /* a zero-size block is still a distinct pointer */
  header *nh = alloc_fn(alloc_ud, h, osize, n + sizeof(header));
  if (!nh) return NULL;
  nh->size = n;
  return nh + 1;
}

void *tl_alloc(size_t n) { return tl_realloc(NULL, n); }

void *tl_calloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  void *p = tl_alloc(n * size);
  if (p) memset(p, 0, n * size);
  return p;
}

void tl_free(void *p) {
  if (!p) return;
  header *h = (header *)p - 1;
  alloc_fn(alloc_ud, h, h->size + sizeof(header), 0);
}

char *tl_strndup(const char *s, size_t n) {
  char *d = tl_alloc(n + 1);
  if (d) { memcpy(d, s, n); d[n] = '\0'; }
  return d;
}

char *tl_strdup(const char *s) { return tl_strndup(s, strlen(s)); }
