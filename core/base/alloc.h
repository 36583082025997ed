/*
** alloc.h -- the one allocator every part of the core goes through, and
** the environments (tl_env) whose allocator, memory limit, threads and
** interrupt flag the core's work runs under.
*/
#ifndef TL_ALLOC_H
#define TL_ALLOC_H

#include <stdatomic.h>
#include <stddef.h>

#include "tally/tally.h"
#include "testing.h"

/* An env. The default one (static) is never freed; another lives until it
** has been freed with tl_env_free and its last block is gone. */
struct tl_env {
  tl_alloc_fn fn;
  void *ud;
  void (*done)(void *ud);
  atomic_size_t limit;        /* bytes; 0: none (SIZE_MAX: the default, not
                              ** worked out yet) */
  atomic_size_t used;         /* bytes of live blocks, headers included */
  atomic_size_t failed_limit; /* the limit the last failed allocation hit;
                              ** 0: the allocator failed instead */
  atomic_long refs;           /* the handle and each live block */
  atomic_int threads;         /* 0: not chosen yet */
  volatile atomic_int interrupted;
  int is_default;
  size_t self;                /* bytes of this struct's own block */
  const char *tmpdir;         /* NULL in the default env until asked */
  /* How plans run, never what they compute (expr.c, agg/partial.c: the
  ** suite runs the same work under each); 0 everywhere: the defaults. */
  atomic_int vector_rows;     /* rows a vector; 0: TL_VEC */
  atomic_int no_folding;      /* constant folding off */
  atomic_int no_shortcut;     /* and/or evaluate both sides */
  atomic_llong range_rows;    /* rows a range of a grouped scan; 0: default */
  atomic_llong knobs[TL_NKNOBS];   /* testing.h */
};

/* malloc-like, under the current env; NULL on failure (never aborts). */
void *tl_alloc(size_t n);
/* Zeroed; checks n * size for overflow. */
void *tl_calloc(size_t n, size_t size);
/* realloc-like; on failure p is untouched and NULL returned. The block
** stays with the env that allocated it, whichever env is current. */
void *tl_realloc(void *p, size_t n);
/* tl_free(void *p) is public, in tally.h. */
char *tl_strdup(const char *s);
/* The block p of *cap bytes, len of them used, with room for n more: p
** itself when it has it, else p reallocated to the next doubling of *cap
** (from `first` when *cap is 0), *cap updated. NULL (p untouched) when out
** of memory or when the size would overflow. */
void *tl_grow(void *p, size_t *cap, size_t len, size_t n, size_t first);
char *tl_strndup(const char *s, size_t n);
/* The limit that the current env's last failed allocation hit; 0 when
** the allocator failed instead (error.c's message says which). */
size_t tl_alloc_failed_limit(void);
/* Hands the memory freed so far back to the system where the C library
** keeps it for reuse (glibc: its heaps' free pages; elsewhere nothing): for
** a step that has freed much in small blocks, before it allocates big ones. */
void tl_alloc_trim(void);
/* For the rest of the process, memory freed is kept for the next blocks
** rather than given back at once (malloc's thresholds; see alloc.c): for
** work that makes and frees blocks of a few MB over and over, as a
** streaming scan does per batch. */
void tl_alloc_keep_freed(void);

/* For the tests of alloc.c's mapped blocks (big blocks of the default
** allocator, each a mapping of its own): whether p's block is one, and how
** many are live in the process. tl_alloc_refuse_maps makes the Nth mapping
** asked for from now on and every one after it fail as if the system had
** no room (0: none fail), so that the blocks fall back to the allocator;
** it returns how many were asked for while the last such setting stood. */
int tl_alloc_is_mapped(const void *p);
long long tl_alloc_maps(void);
long long tl_alloc_refuse_maps(long long from);

#endif
