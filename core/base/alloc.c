/*
** alloc.c -- routes every allocation through the allocator of an env.
** Each block carries its size and the env that made it in a header, so the
** env's function sees the old size on realloc and free, as lua_Alloc does,
** and a block freed while another env is current goes back to, and is
** uncounted from, the env that allocated it.
**
** Big blocks of the default allocator (2 MiB or more) are mapped from the
** system directly instead, at 2 MiB boundaries and marked for transparent
** huge pages: a column of 80 MB then comes in by 40 page faults, not by
** 20000, and grows by moving its pages (mremap), never by copying them.
** A host's own allocator sees every block, big ones too.
*/
#define _GNU_SOURCE   /* mremap */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_ASAN 1
#endif
#endif
#ifdef TL_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include "alloc.h"
#include "error.h"

typedef union header {
  struct {
    size_t size;       /* of the payload; MAPPED set: a block of its own mapping */
    tl_env *env;
  } h;
  max_align_t align;   /* keeps the payload aligned for any type */
} header;

_Static_assert(sizeof(header) == sizeof(max_align_t), "the header grew");

#define MAPPED ((size_t)1 << (sizeof(size_t) * 8 - 1))

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  return realloc(ptr, nsize);
}

/* LIMIT_UNSET: the default limit, worked out at the first allocation. */
#define LIMIT_UNSET SIZE_MAX
static tl_env default_env = { .fn = default_alloc, .is_default = 1, .limit = LIMIT_UNSET };

/* ---------------------------------------------------------------------------
** The default memory limit: 80% of the machine's memory, or of the cgroup's
** (v2: memory.max) when that is set and smaller, as DuckDB's default.
*/
static size_t default_limit;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* The cgroup v2 limit of this process (its own cgroup's memory.max, else the
** root's); 0 when there is none ("max") or it cannot be read. */
static size_t cgroup_max(void) {
  char path[512] = "/sys/fs/cgroup/memory.max", line[512];
  FILE *f = fopen("/proc/self/cgroup", "r");
  while (f && fgets(line, sizeof line, f)) {   /* "0::/some/group" under v2 */
    if (strncmp(line, "0::", 3) != 0) continue;
    line[strcspn(line, "\n")] = '\0';
    if (strlen(line + 3) > 1 && strlen(line + 3) < 400)
      snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", line + 3);
  }
  if (f) fclose(f);
  size_t v = 0;
  for (int pass = 0; pass < 2 && v == 0; pass++) {
    f = fopen(pass ? "/sys/fs/cgroup/memory.max" : path, "r");
    if (!f) continue;
    unsigned long long x;
    if (fscanf(f, "%llu", &x) == 1 && x > 0 && x < (unsigned long long)SIZE_MAX) v = (size_t)x;
    fclose(f);
  }
  return v;
}

static void find_default_limit(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  size_t ram = pages > 0 && page > 0 && (unsigned long)pages <= SIZE_MAX / (unsigned long)page
               ? (size_t)pages * (size_t)page : 0;
  size_t cg = cgroup_max();
  if (cg && (ram == 0 || cg < ram)) ram = cg;
  default_limit = ram ? (size_t)((double)ram * 0.8) : 0;   /* unknown: none */
}

size_t tl_memory_limit_default(void) {
  pthread_once(&default_once, find_default_limit);
  return default_limit;
}

/* e's limit (0: none), the default worked out on first use. */
static size_t env_limit(tl_env *e) {
  size_t l = atomic_load_explicit(&e->limit, memory_order_relaxed);
  if (l != LIMIT_UNSET) return l;
  l = tl_memory_limit_default();
  size_t unset = LIMIT_UNSET;   /* unless it was set meanwhile */
  atomic_compare_exchange_strong(&e->limit, &unset, l);
  return atomic_load(&e->limit);
}

/* The thread's env; NULL stands for the default. Worker threads of the
** pool take the env of the thread that starts them (pool.c). A thread holds
** a reference to its env, dropped when it leaves it or ends (the key's
** destructor), so an env freed by its owner outlives the threads still in
** it. */
static _Thread_local tl_env *current;
static pthread_key_t current_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void env_destroy(tl_env *e) {
  void (*done)(void *) = e->done;
  void *ud = e->ud;
  e->fn(ud, e, e->self, 0);
  if (done) done(ud);
}

/* Drops one reference of a non-default env: its handle, a block or a
** thread in it. */
static void env_unref(tl_env *e) {
  if (!e->is_default && atomic_fetch_sub(&e->refs, 1) == 1) env_destroy(e);
}

static void thread_ends(void *e) { env_unref(e); }

static void make_key(void) { key_ok = pthread_key_create(&current_key, thread_ends) == 0; }

tl_env *tl_env_default(void) { return &default_env; }

tl_env *tl_env_current(void) { return current ? current : &default_env; }

tl_env *tl_env_use(tl_env *env) {
  tl_env *prev = tl_env_current();
  if (env == &default_env) env = NULL;
  if (env == current) return prev;   /* the common case: no atomics */
  pthread_once(&key_once, make_key);
  if (env) atomic_fetch_add(&env->refs, 1);
  if (key_ok) pthread_setspecific(current_key, env);
  tl_env *old = current;
  current = env;
  if (old) env_unref(old);
  return prev;
}

tl_status tl_env_new(const tl_env_options *opt, tl_env **out, tl_error *err) {
  tl_env_options o = { 0 };
  if (opt) o = *opt;
  if (!o.alloc) { o.alloc = default_alloc; o.alloc_ud = NULL; }
  size_t dirlen = o.tmpdir ? strlen(o.tmpdir) + 1 : 0;
  tl_env *e = o.alloc(o.alloc_ud, NULL, 0, sizeof *e + dirlen);
  if (!e) return tl_error_oom(err, "env_new");
  memset(e, 0, sizeof *e);
  e->self = sizeof *e + dirlen;
  e->fn = o.alloc;
  e->ud = o.alloc_ud;
  e->done = o.alloc_done;
  /* 0: the default; SIZE_MAX: none */
  atomic_init(&e->limit, o.memory_limit == 0 ? tl_memory_limit_default()
                         : o.memory_limit == SIZE_MAX ? 0 : o.memory_limit);
  atomic_init(&e->used, 0);
  atomic_init(&e->failed_limit, 0);
  atomic_init(&e->refs, 1);
  atomic_init(&e->threads, 0);
  atomic_init(&e->interrupted, 0);
  if (o.tmpdir) e->tmpdir = memcpy((char *)(e + 1), o.tmpdir, dirlen);
  *out = e;
  if (o.threads > 0) tl_env_set_threads(e, o.threads);
  return TL_OK;
}

void tl_env_free(tl_env *env) {
  if (env) env_unref(env);
}

size_t tl_env_memory(const tl_env *env) {
  return atomic_load(&(env ? env : tl_env_current())->used);
}

void tl_env_set_memory_limit(tl_env *env, size_t bytes) {
  tl_env *e = env ? env : tl_env_current();
  atomic_store(&e->limit, bytes == TL_MEMORY_LIMIT_DEFAULT ? tl_memory_limit_default() : bytes);
}

size_t tl_env_memory_limit(const tl_env *env) {
  return env_limit((tl_env *)(env ? env : tl_env_current()));
}

size_t tl_alloc_failed_limit(void) { return atomic_load(&tl_env_current()->failed_limit); }

int64_t tl_testing_set(tl_env *env, tl_knob knob, int64_t value) {
  if ((unsigned)knob >= TL_NKNOBS) return 0;
  tl_env *e = env ? env : tl_env_current();
  return atomic_exchange(&e->knobs[knob], (long long)(value > 0 ? value : 0));
}

int64_t tl_testing_get(tl_knob knob) {
  if ((unsigned)knob >= TL_NKNOBS) return 0;
  return atomic_load_explicit(&tl_env_current()->knobs[knob], memory_order_relaxed);
}

const char *tl_env_tmpdir(const tl_env *env) {
  if (!env) env = tl_env_current();
  if (env->tmpdir) return env->tmpdir;
  const char *d = getenv("TALLY_TEMP_DIRECTORY");
  if (d && *d) return d;
  d = getenv("TMPDIR");
  return d && *d ? d : "/tmp";
}

void tl_set_allocator(tl_alloc_fn fn, void *ud) {
  tl_env *e = tl_env_current();
  e->fn = fn ? fn : default_alloc;
  e->ud = fn ? ud : NULL;
}

void tl_get_allocator(tl_alloc_fn *fn, void **ud) {
  tl_env *e = tl_env_current();
  if (fn) *fn = e->fn;
  if (ud) *ud = e->ud;
}

/* ---------------------------------------------------------------------------
** Mapped blocks. A block of the default allocator of at least map_min(e)
** bytes (header included) is a mapping of its own: its header at the
** mapping's start, which lies on a 2 MiB boundary, and its length rounded up
** to whole pages, so that every 2 MiB of it can be one huge page and its
** tail costs less than a page. Where the system refuses a mapping the block
** comes from the allocator, as any other.
*/
#define HUGE_PAGE ((size_t)2 << 20)
#define MAP_MIN_DEFAULT HUGE_PAGE

static atomic_llong maps_live;       /* mapped blocks, for the tests */
static atomic_llong maps_fail_from;  /* tests: the Nth map from now on fails; 0: none */
static atomic_llong maps_count;

static size_t page_size(void) {
  long p = sysconf(_SC_PAGESIZE);   /* glibc: a field read */
  return p > 0 ? (size_t)p : 4096;
}

/* The bytes of the mapping of a block of nsize bytes (header included). */
static size_t map_len(size_t nsize) {
  size_t page = page_size();
  return (nsize + page - 1) & ~(page - 1);
}

/* Blocks of e of at least this many bytes, header included, are mapped;
** 0: none are. */
static size_t map_min(const tl_env *e) {
  if (e->fn != default_alloc) return 0;
  long long k = atomic_load_explicit(&e->knobs[TL_KNOB_MAP_BYTES], memory_order_relaxed);
  return k > 0 ? (size_t)k : MAP_MIN_DEFAULT;
}

/* The bytes past a block's payload up to its mapping's end are no one's. */
static void poison_tail(header *h, size_t nsize, size_t len) {
#ifdef TL_ASAN
  ASAN_UNPOISON_MEMORY_REGION(h, nsize);
  ASAN_POISON_MEMORY_REGION((char *)h + nsize, len - nsize);
#else
  (void)h; (void)nsize; (void)len;
#endif
}

static void unpoison(header *h, size_t len) {
#ifdef TL_ASAN
  ASAN_UNPOISON_MEMORY_REGION(h, len);
#else
  (void)h; (void)len;
#endif
}

static int map_refused(void) {
  long long from = atomic_load_explicit(&maps_fail_from, memory_order_relaxed);
  return from && atomic_fetch_add(&maps_count, 1) + 1 >= from;
}

/* A new mapping of len bytes (a multiple of the page) at a 2 MiB boundary,
** marked for huge pages; NULL when the system has none. It reserves 2 MiB
** more than it needs and gives back what lies before the boundary and
** after the end. */
static header *map_new(size_t len) {
  if (map_refused() || len > SIZE_MAX - HUGE_PAGE) return NULL;
  size_t span = len + HUGE_PAGE - page_size();
  char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  char *a = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  if (a > m) munmap(m, (size_t)(a - m));
  if (m + span > a + len) munmap(a + len, (size_t)(m + span - (a + len)));
#ifdef MADV_HUGEPAGE
  if (len >= HUGE_PAGE) madvise(a, len, MADV_HUGEPAGE);   /* unavailable: small pages */
#endif
  atomic_fetch_add_explicit(&maps_live, 1, memory_order_relaxed);
  return (header *)(void *)a;
}

static void map_free(header *h, size_t len) {
  unpoison(h, len);
  munmap(h, len);
  atomic_fetch_sub_explicit(&maps_live, 1, memory_order_relaxed);
}

/* The mapped block h of olen bytes of mapping, at nlen: shrunk in place, or
** grown in place or into a new mapping its pages move to (no copy). NULL,
** h untouched, when the system has no room. */
static header *map_resize(header *h, size_t olen, size_t nlen) {
  if (nlen == olen) return h;
  if (nlen < olen) {
    unpoison((header *)(void *)((char *)h + nlen), olen - nlen);
    munmap((char *)h + nlen, olen - nlen);
    return h;
  }
  if (map_refused()) return NULL;
  void *p = mremap(h, olen, nlen, 0);   /* the pages after it may be free */
  if (p != MAP_FAILED) return h;
  header *n = map_new(nlen);
  if (!n) return NULL;
  unpoison(h, olen);
  if (mremap(h, olen, olen, MREMAP_MAYMOVE | MREMAP_FIXED, n) == MAP_FAILED) {
    memcpy(n, h, olen);   /* cannot happen on Linux; copied then */
    munmap(h, olen);
  }
  atomic_fetch_sub_explicit(&maps_live, 1, memory_order_relaxed);   /* h is part of n now */
  return n;
}

/* Where h, a block of osize bytes (0: none; header included), goes to be
** nsize bytes: into a mapping when big enough and the system has one, else
** to the env's allocator. The block's header says which (its size field
** is MAPPED or 0, for the caller to add the size to). */
static header *place(tl_env *e, header *h, size_t osize, size_t nsize) {
  int was = h && (h->h.size & MAPPED);
  size_t min = map_min(e);
  int want = min && (nsize >= min || (was && nsize * 2 >= min));   /* no back and forth at the line */
  header *n = NULL;
  if (was && want) n = map_resize(h, map_len(osize), map_len(nsize));
  else if (want && (n = map_new(map_len(nsize))) != NULL && h) {
    memcpy(n, h, osize);   /* a block of the allocator, copied over */
    e->fn(e->ud, h, osize, 0);
  }
  if (n) {
    poison_tail(n, nsize, map_len(nsize));
    n->h.size = MAPPED;
    return n;
  }
  if (!was) n = e->fn(e->ud, h, osize, nsize);
  else if ((n = e->fn(e->ud, NULL, 0, nsize)) != NULL) {
    /* a mapped block to the allocator: shrunk below the line, or no mapping */
    memcpy(n, h, osize < nsize ? osize : nsize);
    map_free(h, map_len(osize));
  }
  if (n) n->h.size = 0;
  return n;
}

long long tl_alloc_maps(void) { return atomic_load(&maps_live); }

int tl_alloc_is_mapped(const void *p) {
  return p && (((const header *)p - 1)->h.size & MAPPED) != 0;
}

long long tl_alloc_refuse_maps(long long from) {
  atomic_store(&maps_fail_from, from > 0 ? from : 0);
  return atomic_exchange(&maps_count, 0);
}

/* Counts `more` bytes to e; 0 (nothing counted) past its limit. */
static int charge(tl_env *e, size_t more) {
  size_t was = atomic_fetch_add(&e->used, more), limit = env_limit(e);
  if (limit == 0 || (was <= limit && more <= limit - was)) return 1;
  atomic_fetch_sub(&e->used, more);
  atomic_store_explicit(&e->failed_limit, limit, memory_order_relaxed);
  return 0;
}

void *tl_realloc(void *p, size_t n) {
  header *h = p ? (header *)p - 1 : NULL;
  tl_env *e = h ? h->h.env : tl_env_current();
  size_t osize = h ? (h->h.size & ~MAPPED) + sizeof(header) : 0;
  if (n >= MAPPED - HUGE_PAGE) return NULL;   /* no system has it; keeps MAPPED free */
  if (n == 0) n = 1;   /* a zero-size block is still a distinct pointer */
  size_t nsize = n + sizeof(header);
  if (nsize > osize && !charge(e, nsize - osize)) return NULL;
  header *nh = place(e, h, osize, nsize);
  if (!nh) {
    atomic_store_explicit(&e->failed_limit, 0, memory_order_relaxed);
    if (nsize > osize) atomic_fetch_sub(&e->used, nsize - osize);
    return NULL;
  }
  if (nsize < osize) atomic_fetch_sub(&e->used, osize - nsize);
  if (!h && !e->is_default) atomic_fetch_add(&e->refs, 1);
  nh->h.size |= n;
  nh->h.env = e;
  return nh + 1;
}

void *tl_alloc(size_t n) { return tl_realloc(NULL, n); }

void *tl_calloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  void *p = tl_alloc(n * size);
  /* a new mapping is zeroed already: its pages come in as they are used */
  if (p && !tl_alloc_is_mapped(p)) memset(p, 0, n * size);
  return p;
}

void tl_free(void *p) {
  if (!p) return;
  header *h = (header *)p - 1;
  tl_env *e = h->h.env;
  size_t size = (h->h.size & ~MAPPED) + sizeof(header);
  if (h->h.size & MAPPED) map_free(h, map_len(size));
  else e->fn(e->ud, h, size, 0);
  atomic_fetch_sub(&e->used, size);
  env_unref(e);
}

/* glibc's malloc gives the memory freed at the top of a heap back to the
** system past its trim threshold, which starts at 128 kB (and follows the
** mmap threshold, twice the largest block mapped and freed so far). A
** streaming scan makes and frees a batch's columns, a few MB, per morsel:
** each batch's memory was given back and faulted in again, page by page
** (90 000 faults and 1.2 s of system time for a scan of a 850 MB CSV file).
** Set to the ceiling the dynamic thresholds reach anyway (blocks of 32 MB
** and more mapped, up to 64 MB free kept at the top of a heap), the memory
** of one batch is the next one's. Not set for every process: a load of a
** whole CSV file frees its first pass's buffers in the middle of the heaps,
** and its peak memory was 9% higher so. Settings of the user's in the
** environment win. */
static void keep_freed(void) {
#ifdef __GLIBC__
  const char *t = getenv("GLIBC_TUNABLES");
  if ((t && strstr(t, "glibc.malloc.")) || getenv("MALLOC_TRIM_THRESHOLD_") ||
      getenv("MALLOC_MMAP_THRESHOLD_"))
    return;
  (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
  (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

void tl_alloc_keep_freed(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, keep_freed);
}

void tl_alloc_trim(void) {
#ifdef __GLIBC__
  (void)malloc_trim(0);
#endif
}

char *tl_strndup(const char *s, size_t n) {
  char *d = tl_alloc(n + 1);
  if (d) { memcpy(d, s, n); d[n] = '\0'; }
  return d;
}

char *tl_strdup(const char *s) { return tl_strndup(s, strlen(s)); }

void *tl_grow(void *p, size_t *cap, size_t len, size_t n, size_t first) {
  if (*cap - len >= n) return p;
  size_t c = *cap ? *cap : first;
  while (c - len < n) {
    if (c > SIZE_MAX / 2) return NULL;
    c *= 2;
  }
  void *q = tl_realloc(p, c);
  if (q) *cap = c;
  return q;
}
