/*
** csv_chunk.c -- the chunks of pass 1, found in parallel.
**
** The records after the header are split at fixed byte offsets, `size`
** apart, with no pass over the input beforehand: chunk k reads the records
** whose first byte lies in [begin + k * size, begin + (k + 1) * size). Its
** worker finds where the first of them starts on its own, from its offset,
** and reads on from there at once, so every thread is busy from the first
** byte.
**
** Where a record starts cannot be known from the middle of the input: a
** line end may lie inside a quoted field. The worker speculates: it finds
** the first line start after its offset as if the offset were outside
** quotes, and the first as if it were inside. Where no quoted field holds a
** line end (most input), only one of the two exists, and it is right.
** Otherwise it reads a few records from each guess and keeps the one whose
** records have the header's width, the first of the two when both do.
**
** The guesses are then checked in file order: chunk 0 starts at the first
** record, and chunk k's start must be where the tokenizer, reading chunk
** k - 1 from its start, ended (the first record start at or after chunk
** k's offset). A chunk whose start is wrong is read again from there, on
** the calling thread. So the result never depends on the guesses, nor on
** the chunk size: a stray quote, a quoted field full of line ends or one
** longer than a chunk only costs time.
*/
#define _DEFAULT_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/pool.h"
#include "csv.h"

/* How far a worker looks for its first record start, and how many records
** it reads to weigh a guess. */
#define SPEC_WINDOW ((size_t)1 << 16)
#define SPEC_RECORDS 8

/* 1 when up to SPEC_RECORDS records read from p, a guessed record start,
** have the header's width. Uses the job's reader, which it leaves as it
** found it (but for its field buffer). */
static int plausible(job *jb, const char *p) {
  reader *r = &jb->r;
  const char *until = r->until;
  int ok = 1;
  r->p = p;
  r->until = r->end;
  r->blk = NULL;
  for (int k = 0; k < SPEC_RECORDS && ok; k++) {
    if (csv_read_record(r) != TL_OK) { ok = 0; break; }
    if (r->nf == 0) break;
    ok = r->nf == r->ncol;
  }
  memset(&r->fail, 0, sizeof r->fail);
  r->until = until;
  r->blk = NULL;
  r->line = r->nrec = 0;
  return ok;
}

/* The record start a worker guesses for the chunk at offset x, or NULL
** when it finds no line start in its window (the check reads that chunk
** again from where the one before it ended). */
static const char *guess_start(job *jb, const char *x) {
  const reader *r = &jb->r;
  const char *limit = (size_t)(r->end - x) > SPEC_WINDOW ? x + SPEC_WINDOW : r->end;
  const char *even = csv_line_start(r, x, 0, limit), *odd = csv_line_start(r, x, 1, limit);
  if (even == limit && odd == limit) return limit < r->end ? NULL : r->end;
  /* Where quoted fields hold no line end, all line starts after x lie at
  ** one parity: one guess, and the right one. */
  if (odd == limit) return even;
  if (even == limit) return odd;
  int pe = plausible(jb, even), po = plausible(jb, odd);
  /* Both read well: the later guess would skip the records between them,
  ** which read well too, so the first one is taken. */
  if (pe && po) return odd < even ? odd : even;
  return po ? odd : even;
}

/* Sets up n jobs at offsets `size` apart from r->p, each with a copy of
** the reader's settings and of the columns' prototype, and the flags they
** share after them. */
static tl_status make_jobs(reader *r, const colinfo *proto, size_t size, int n, job **out) {
  job *jobs = tl_calloc(1, (size_t)n * sizeof *jobs + (size_t)r->nout + 1);
  if (!jobs) return tl_error_oom(r->err, "read_csv");
  uint8_t *nodict = (uint8_t *)(jobs + n);
  const char *begin = r->p;
  for (int k = 0; k < n; k++) {
    job *jb = &jobs[k];
    jb->r = *r;
    jb->r.f = NULL;
    jb->r.nf = jb->r.capf = 0;
    jb->r.line = jb->r.nrec = 0;
    jb->r.blk = NULL;   /* each job's blocks are its own */
    jb->r.err = &jb->err;
    jb->at = begin + (size_t)k * size;
    jb->start = k == 0 ? begin : NULL;
    jb->stop = k + 1 < n ? begin + (size_t)(k + 1) * size : r->until;
    jb->r.until = jb->stop;
    jb->proto = proto;
    jb->nodict = nodict;
    if (csv_job_init(jb) != TL_OK) {
      csv_free_jobs(jobs, n);
      return tl_error_oom(r->err, "read_csv");
    }
  }
  *out = jobs;
  return TL_OK;
}

/* Maps the pages of [a, b) of a file mapping in one call, not by a fault
** every few pages: the chunk reads them all. Where the system cannot, the
** faults do it. */
static void map_in(const reader *r, const char *a, const char *b) {
#ifdef MADV_POPULATE_READ
  if (!r->mapped || b <= a) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t lo = (uintptr_t)a & ~(page - 1), hi = ((uintptr_t)b + page - 1) & ~(page - 1);
  (void)madvise((void *)lo, hi - lo, MADV_POPULATE_READ);
#else
  (void)r; (void)a; (void)b;
#endif
}

static void scan_task(void *ctx, int64_t k, int worker) {
  (void)worker;
  csvrun *run = ctx;
  job *jb = &run->jobs[k];
  map_in(&jb->r, jb->at, jb->stop);
  if (run->count_quotes) jb->quotes = count_quotes(jb->at, jb->stop);
  if (k > 0) jb->start = guess_start(jb, jb->at);
  if (jb->start) jb->st = csv_scan_job(jb);
  csv_release_job(jb);
  csv_progress(run, jb);
}

/* Reads job k again from where job k - 1 ended. */
static tl_status rescan(csvrun *run, int k) {
  job *jb = &run->jobs[k];
  csv_job_clear(jb);
  jb->err.code = TL_OK;
  memset(&jb->r.fail, 0, sizeof jb->r.fail);
  jb->r.line = jb->r.nrec = 0;
  jb->r.blk = NULL;
  TL_TRY(csv_job_init(jb));
  jb->start = run->jobs[k - 1].end;
  jb->st = csv_scan_job(jb);
  csv_release_job(jb);
  run->rescans++;
  return TL_OK;
}

/* Pass 1 over the records from r->p on, in chunks of about `size` bytes;
** line0 is the line of r->p and rec0 the data records before it. */
tl_status csv_scan_all(reader *r, const colinfo *proto, size_t size, csvrun *run,
                       int64_t line0, int64_t rec0, tl_error *err) {
  size_t len = (size_t)(r->until - r->p);
  if (size == 0) size = 1;
  size_t n = len / size + (len % size != 0);
  if (n == 0) n = 1;
  if (n > (size_t)1 << 24) {   /* a tiny chunk size on a huge input */
    size = len / ((size_t)1 << 24) + 1;
    n = len / size + (len % size != 0);
  }
  TL_TRY(make_jobs(r, proto, size, (int)n, &run->jobs));
  run->njobs = (int)n;
  run->pass = 1;
  run->done = 0;
  run->rescans = 0;
  tl_parallel_for((int64_t)n, scan_task, run);
  int64_t line = line0, rec = rec0;
  for (int k = 0; k < run->njobs; k++) {   /* in file order: the first failure wins */
    job *jb = &run->jobs[k];
    if (k > 0 && run->jobs[k - 1].end != jb->start) {
      if (tl_interrupted()) return tl_error_interrupted(err, "read_csv");
      if (rescan(run, k) != TL_OK) return tl_error_oom(err, "read_csv");
    }
    if (jb->st != TL_OK) return csv_report(&jb->r, line, rec, err);
    jb->line0 = line;
    jb->rec0 = rec;
    line += jb->lines;
    rec += jb->recs;
  }
  return TL_OK;
}

void csv_free_jobs(job *jobs, int n) {
  for (int k = 0; jobs && k < n; k++) {
    csv_job_clear(&jobs[k]);
    tl_free(jobs[k].r.f);
  }
  tl_free(jobs);
}
