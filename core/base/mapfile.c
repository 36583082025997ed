/*
** mapfile.c -- a file mapped (or copied) into memory with a reference
** count, the ground of columns that point into a file: see mapfile.h.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "column.h"
#include "error.h"
#include "mapfile.h"

#define ALIGN 64u
#define CHUNK ((size_t)1 << 26)   /* a copy reads this much between interrupt checks */

static _Alignas(64) const uint8_t nothing[64];

static tl_mapfile *fresh(const tl_mapfile_kind *kind) {
  tl_mapfile *m = tl_calloc(1, sizeof *m);
  if (!m) return NULL;
  atomic_init(&m->refs, 1);
  m->data = nothing;
  m->fd = -1;
  m->kind = kind;
  return m;
}

void tl_mapfile_retain(tl_mapfile *m) { atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed); }

void tl_mapfile_release(void *ctx) {
  tl_mapfile *m = ctx;
  if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1) return;
  if (m->owned) tl_free(m->base);
  else if (m->base) munmap(m->base, m->size);
  if (m->fd >= 0) close(m->fd);
  tl_free(m->path);
  tl_free(m);
}

tl_status tl_mapfile_check(const void *ctx, const char *op, tl_error *err) {
  const tl_mapfile *m = ctx;
  struct stat sb;
  if (m->fd < 0) return TL_OK;
  const tl_mapfile_kind *k = m->kind;
  if (fstat(m->fd, &sb) != 0)
    return tl_error_set(err, TL_EIO, "%s: cannot check %s '%s': %s", op, k->what, m->path,
                        strerror(errno));
  if ((uint64_t)sb.st_size != (uint64_t)m->size)
    return tl_error_set(err, TL_EIO, "%s: %s '%s' changed since it was %s (%llu bytes, now "
                        "%llu): %s it again", op, k->what, m->path, k->done,
                        (unsigned long long)m->size, (unsigned long long)sb.st_size, k->verb);
  if (sb.st_mtim.tv_sec != m->mtime.tv_sec || sb.st_mtim.tv_nsec != m->mtime.tv_nsec)
    return tl_error_set(err, TL_EIO, "%s: %s '%s' changed since it was %s (it was written "
                        "to): %s it again", op, k->what, m->path, k->done, k->verb);
  return TL_OK;
}

void tl_mapfile_attach(tl_column *c, tl_mapfile *m) {
  tl_mapfile_retain(m);
  c->release = tl_mapfile_release;
  c->release_ctx = m;
  c->check = m->fd >= 0 ? tl_mapfile_check : NULL;
}

void tl_mapfile_drop(const tl_mapfile *m, const void *p, size_t n) {
  if (!m || m->owned || !m->base || n == 0) return;
  long pagesize = sysconf(_SC_PAGESIZE);
  uintptr_t ps = (uintptr_t)(pagesize > 0 ? pagesize : 4096);
  uintptr_t a = ((uintptr_t)p + ps - 1) & ~(ps - 1), b = ((uintptr_t)p + n) & ~(ps - 1);
  if (b > a) (void)madvise((void *)a, b - a, MADV_DONTNEED);
}

static uint8_t *aligned_block(size_t len, void **base) {
  *base = len <= SIZE_MAX - ALIGN ? tl_alloc(len + ALIGN) : NULL;
  return *base ? (uint8_t *)(((uintptr_t)*base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1)) : NULL;
}

tl_status tl_mapfile_copy(const void *data, size_t len, const tl_mapfile_kind *kind,
                          tl_mapfile **out, tl_error *err) {
  tl_mapfile *m = fresh(kind);
  uint8_t *p = m ? aligned_block(len, &m->base) : NULL;
  if (!p) {
    tl_free(m);
    return tl_error_oom(err, kind->op);
  }
  if (len) memcpy(p, data, len);
  m->data = p;
  m->size = len;
  m->owned = 1;
  *out = m;
  return TL_OK;
}

/* The file's m->size bytes read into memory. */
static tl_status read_copy(tl_mapfile *m, int fd, tl_error *err) {
  uint8_t *p = aligned_block(m->size, &m->base);
  if (!p) return tl_error_oom(err, m->kind->op);
  m->owned = 1;
  for (size_t got = 0; got < m->size;) {
    if (tl_interrupted()) return tl_error_interrupted(err, m->kind->op);
    ssize_t k = read(fd, p + got, m->size - got > CHUNK ? CHUNK : m->size - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0)   /* shorter than fstat said: it changed */
      return tl_error_set(err, TL_EIO, "%s: cannot read '%s': %s", m->kind->op, m->path,
                          strerror(k == 0 ? EIO : errno));
    got += (size_t)k;
  }
  m->data = p;
  return TL_OK;
}

/* Shared, so that every process mapping the file uses the same pages of the
** page cache. Writers in tally rename a new file in place, so a mapped one
** never changes under us; a truncation in place is caught by the check. */
static tl_status map(tl_mapfile *m, int fd, tl_error *err) {
  void *p = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return tl_error_set(err, TL_EIO, "%s: cannot map '%s': %s", m->kind->op, m->path,
                        strerror(errno));
  m->base = p;
  m->data = p;
  return TL_OK;
}

static tl_status open_fd(const char *path, const tl_mapfile_kind *kind, int *fd,
                         struct stat *sb, tl_error *err) {
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return tl_error_set(err, TL_EIO, "%s: cannot open '%s': %s", kind->op, path, strerror(errno));
  int e = fstat(*fd, sb) != 0 ? errno : S_ISDIR(sb->st_mode) ? EISDIR : 0;
  if (e == 0 && (uint64_t)sb->st_size > SIZE_MAX) e = EFBIG;
  if (e == 0 && S_ISREG(sb->st_mode)) return TL_OK;
  close(*fd);
  if (e == 0)
    return tl_error_set(err, TL_EIO, "%s: cannot read '%s': not a regular file", kind->op, path);
  return tl_error_set(err, TL_EIO, "%s: cannot read '%s': %s", kind->op, path, strerror(e));
}

tl_status tl_mapfile_open(const char *path, int flags, const tl_mapfile_kind *kind,
                          tl_mapfile **out, tl_error *err) {
  int fd;
  struct stat sb;
  TL_TRY(open_fd(path, kind, &fd, &sb, err));
  tl_mapfile *m = fresh(kind);
  if (!m || !(m->path = tl_strdup(path))) {
    tl_free(m);
    close(fd);
    return tl_error_oom(err, kind->op);
  }
  m->size = (size_t)sb.st_size;
  m->mtime = sb.st_mtim;
  tl_status st = TL_OK;
  if (m->size > 0)
    st = flags & TL_MAPFILE_COPY ? read_copy(m, fd, err) : map(m, fd, err);
  if (st == TL_OK && !m->owned && m->base && (flags & TL_MAPFILE_WATCH))
    m->fd = fd;
  else
    close(fd);
  if (st != TL_OK) {
    tl_mapfile_release(m);
    return st;
  }
  *out = m;
  return TL_OK;
}
