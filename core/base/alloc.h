/*
** alloc.h -- the one allocator every part of the core goes through.
*/
#ifndef TL_ALLOC_H
#define TL_ALLOC_H

#include <stddef.h>

#include "tally/tally.h"

/* malloc-like; NULL on failure (never aborts). */
void *tl_alloc(size_t n);
/* Zeroed; checks n * size for overflow. */
void *tl_calloc(size_t n, size_t size);
/* realloc-like; on failure p is untouched and NULL returned. */
void *tl_realloc(void *p, size_t n);
/* tl_free(void *p) is public, in tally.h. */
char *tl_strdup(const char *s);
char *tl_strndup(const char *s, size_t n);

#endif
