/*
** csv.h -- what the parts of the CSV reader share (internal).
**
** csv.c drives a load (options, header, the phases, the entry points),
** csv_read.c holds the tokenizer and the two passes, csv_scan.c the
** tokenizer's search for structural bytes, csv_range.c the byte
** ranges, csv_reject.c the rejects and the reasons for the types,
** csv_unzip.c compressed input (gzip, zstd) and csv_write.c the writer.
*/
#ifndef TALLY_IO_CSV_H
#define TALLY_IO_CSV_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/column.h"
#include "base/error.h"
#include "tally/tally.h"

#define DEFAULT_CHUNK ((size_t)1 << 22)
#define MAX_COLUMNS 100000
#define DEFAULT_MAX_FIELD ((size_t)64 << 20)

enum { CAN_BOOL = 1, CAN_INT = 2, CAN_FLOAT = 4, CAN_DATE = 8, CAN_TS = 16, CAN_ALL = 31 };

typedef struct field {
  const char *p;     /* raw text, without the enclosing quotes */
  size_t n;          /* raw length */
  size_t len;        /* length once doubled quotes are undone */
  int quoted;
  int64_t line;      /* where the field starts */
} field;

enum { NCAN = 5 };

typedef struct colinfo {
  unsigned can;      /* CAN_* types every value so far could be */
  unsigned fmts;     /* the date formats every value so far fits (csv_dates.c) */
  const char *fmt;   /* the column's own date format (types = { d = "date:%d.%m.%Y" }) */
  int64_t values;    /* non-null values */
  int64_t nulls;
  int64_t nbytes;    /* string payload */
  tl_type type;      /* forced or inferred */
  int forced;
  field first;       /* the first value (p == NULL: none yet) */
  field kill[NCAN];  /* per CAN_* bit: the first value that was not of that type */
} colinfo;

typedef struct failure {
  int set;
  tl_status code;
  int64_t line;
  int64_t rec;       /* the record's index, counted from where its reader started */
  int fieldno;
  char what[96];
  const char *where;
  int field_only;
} failure;

typedef struct reader {
  const char *name;
  const char *data, *end, *p;
  const char *until;     /* records start before this: the end of a chunk or range */
  const tl_csv_options *o;
  char sep;
  int64_t line;          /* line of p */
  int64_t rec_line;      /* line where the current record starts */
  int64_t nrec;          /* records read */
  const char *rec_start;
  size_t max_field;      /* bytes a value may have */
  size_t ncomment;       /* length of o->comment; 0: none */
  field big;             /* the record's first value longer than that */
  int bigno;             /* its field number; 0: none */
  field *f;
  int nf, capf;
  int ncol;              /* expected fields per record, 0 until known */
  char **names;          /* of every field of a record */
  int nout;              /* columns read */
  int *sel;              /* column k of the table is field sel[k] */
  unsigned char stop[256];
  const char *blk;       /* the block whose structural bytes sm and qm mark (csv_scan.c) */
  uint64_t sm, qm;       /* bit i: byte blk[i] is a separator or line end; a quote */
  const char *high;      /* the end of the last block csv_block found a byte past
                            ASCII in (or NULL): a record that starts at or after
                            it has none, for every byte of a field lies in a block */
  int mapped;            /* the input is a file mapping of ours (see release) */
  tl_error *err;         /* errors other than failures of the input */
  failure fail;
} reader;

typedef struct dset dset;

/* A number as the type checks read it (csv_read.c), kept for pass 1 to
** keep rather than read again. */
typedef struct csvnum {
  int64_t i;
  double d;
  int has_i, has_d;
} csvnum;

/* ---------------------------------------------------------------------------
** Chunks. The records after the header are split into chunks at fixed byte
** offsets; each chunk guesses where its first record starts, and is scanned
** and converted on its own, in parallel; the guesses are checked in file
** order and a chunk guessed wrong is read again (csv_chunk.c). A record
** belongs to the chunk its first byte lies in.
*/
/* A record skipped under TL_CSV_SKIP: pass 1 lists them per chunk in
** record order, and pass 2 skips the same records. */
enum { BAD_FEW, BAD_MANY, BAD_UTF8, BAD_TYPE, BAD_BIG };

typedef struct reject {
  int64_t rec;         /* the record's index in its chunk, rejected ones counted */
  int64_t line;        /* in the chunk */
  int fieldno;
  int cls;             /* BAD_* */
  int field_only;      /* the excerpt is the field, not the rest of the line */
  const char *where;
} reject;

/* What pass 1 keeps of a column of a chunk, so that pass 2 places its
** values without reading the text again: the numbers as read (when the
** column could be one), the text (of a string column whose values are too
** many for a dictionary; otherwise each row's index in the chunk's set of
** them), and which rows are null. */
enum { LV_NONE, LV_INT, LV_FLOAT, LV_TEXT, LV_DEAD };   /* LV_NONE: no value yet; LV_DEAD: none kept */

typedef struct lvals {
  void *v;             /* a row: an integer (LV_INT), double (LV_FLOAT), or the end
                          of its text in sb (LV_TEXT, once `text`), the integers
                          int32_t until one does not fit; NULL: no value yet */
  uint64_t *nulls;     /* bit per row: null (NULL: no null yet) */
  int kind;
  int negzero;         /* an integer 0 was written "-0", which as a float is -0.0 */
  int text;            /* LV_TEXT: the values are in sb, not in the set */
  int wide;            /* v has 8 bytes a row (always for LV_FLOAT), not 4 (int32_t) */
  char *sb;            /* the text of the rows, doubled quotes undone */
  int64_t sn, scap;
} lvals;

typedef struct job {
  reader r;            /* its own tokenizer state, lines and records counted from 0 */
  const char *at;      /* its offset: it reads the records that start in [at, stop) */
  const char *start, *stop;   /* start: its first record's (NULL: not found) */
  const colinfo *proto;       /* the columns before any value is seen */
  const char *end;     /* where the last record ended */
  colinfo *ci;         /* what pass 1 learnt of each column */
  int64_t rows, lines, recs;
  int64_t row0;        /* first row, once the chunks before are counted */
  int64_t *bytes0;     /* per column: where its strings start */
  dset *ds;            /* per column: its distinct values */
  uint8_t **lcodes;    /* per column: each row's index in ds, while ds lives */
  uint8_t *lwide;      /* per column: lcodes holds uint16_t, not uint8_t */
  int32_t **remap;     /* per column: ds index -> dictionary code */
  lvals *lv;           /* per column */
  int64_t lcap;        /* rows lcodes and lv have room for */
  uint8_t *need;       /* per column: pass 2 reads its text */
  uint8_t *nodict;     /* per column, the run's (NULL: none): some chunk found too
                          many distinct values for a dictionary, so that the
                          others keep its text at once (set atomically) */
  int forced;          /* some column has a forced type that values must fit */
  csvnum *nv;          /* per column: the number check_values read of the record */
  char *scratch;       /* a value with doubled quotes undone */
  size_t capscratch;
  reject *rej;
  int64_t nrej, caprej;
  int64_t line0, rec0; /* lines and data records before the chunk, once counted */
  int64_t quotes;      /* in [at, stop), when the run counts them */
  tl_error err;
  tl_status st;
} job;

typedef struct csvrun {
  reader *main;
  job *jobs;
  int njobs;
  colinfo *ci;         /* merged */
  dset *ds;            /* merged, per column */
  tl_column **cols;
  int64_t done;        /* bytes of the pass done, for the progress callback */
  int64_t before, total;   /* bytes before the first chunk, and in all, for it */
  int pass;
  int busy;            /* a progress call is under way */
  int64_t rescans;     /* chunks read again: their start was guessed wrong */
  int count_quotes;    /* each chunk counts the quotes in [at, stop) (csv_check_cut) */
} csvrun;

static inline int is_eol(char c) { return c == '\n' || c == '\r'; }

/* Line ends in [s, e): LF, CRLF and a lone CR each count once. */
static inline int64_t count_lines(const char *s, const char *e) {
  int64_t n = 0;
  for (; s < e; s++) {
    if (*s == '\n') n++;
    else if (*s == '\r' && (s + 1 == e || s[1] != '\n')) n++;
  }
  return n;
}

static inline int comment_at(const reader *r, const char *p) {
  size_t k = r->ncomment;
  return k && (size_t)(r->end - p) >= k && *p == *r->o->comment &&
         memcmp(p, r->o->comment, k) == 0;
}

/* The number of quote characters in [s, e). */
static inline int64_t count_quotes(const char *s, const char *e) {
  int64_t n = 0;
  while (s < e && (s = memchr(s, '"', (size_t)(e - s))) != NULL) { n++; s++; }
  return n;
}

/* csv.c: failures and their messages */
tl_status csv_fail_in(reader *r, tl_status code, int64_t line, int64_t rec, int fieldno,
                      const char *what, const char *where, int field_only);
size_t csv_excerpt(const reader *r, const char *where, int field_only, char ex[64]);
TL_NODISCARD tl_status csv_report(const reader *r, int64_t line0, int64_t rec0, tl_error *err);

/* csv_scan.c: the masks of the block of 64 bytes at p into r (fewer
** bytes at r->end); and, for tests, the kernel to use (CSV_SCAN_AUTO: the
** best the CPU has): 0 when the CPU lacks it. */
enum { CSV_SCAN_AUTO, CSV_SCAN_SCALAR, CSV_SCAN_SSE2, CSV_SCAN_AVX2 };
void csv_block(reader *r, const char *p);
int csv_scan_force(int kind);

/* The first byte at or after p that is a separator or line end (quote
** == 0) or a quote (quote == 1), or r->end. */
static inline const char *csv_next_mark(reader *r, const char *p, int quote) {
  for (;;) {
    if (p >= r->end) return r->end;
    uintptr_t off = (uintptr_t)p - (uintptr_t)r->blk;   /* huge when p is before blk */
    if (!r->blk || off >= 64) { csv_block(r, p); off = 0; }
    uint64_t m = (quote ? r->qm : r->sm) >> off;
    if (m) return p + __builtin_ctzll(m);
    p = r->blk + 64;
  }
}

/* csv_read.c: the tokenizer and values */
TL_NODISCARD tl_status csv_read_record(reader *r);
const char *csv_skip_line(reader *r, const char *p);
void csv_unescape(char *dst, const field *fd);
unsigned csv_can_of(tl_type t);
void csv_drop_pages(const reader *r, const char *a, const char *b);

/* csv_read.c: the passes. csv_job_init gives a job its per-column state
** (from jb->proto), csv_job_clear frees it; csv_scan_job is pass 1 over
** the job's records from jb->start; csv_release_job drops its pages;
** csv_progress tells the callback that the job is done. */
TL_NODISCARD tl_status csv_job_init(job *jb);
void csv_job_clear(job *jb);
TL_NODISCARD tl_status csv_scan_job(job *jb);
void csv_release_job(const job *jb);
void csv_progress(csvrun *run, const job *jb);

/* csv_chunk.c: pass 1 in chunks of about `size` bytes, found in parallel */
TL_NODISCARD tl_status csv_scan_all(reader *r, const colinfo *proto, size_t size,
                                    csvrun *run, int64_t line0, int64_t rec0, tl_error *err);
void csv_free_jobs(job *jobs, int n);
void csv_merge_scans(csvrun *run, int64_t *nrows, int64_t *nrej);
TL_NODISCARD tl_status csv_make_columns(csvrun *run, int64_t nrows, tl_column **cols);
void csv_convert_all(csvrun *run, tl_column **cols);
void csv_free_run(csvrun *run);

/* csv_range.c; csv_walk: the tokenizer's walk from p, a record start, to
** the first record start at or after target (line ends and records that
** start on the way added to *lines and *recs). */
const char *csv_walk(const reader *r, const char *p, const char *target, int64_t *lines,
                     int64_t *recs);
TL_NODISCARD tl_status csv_seek_range(reader *r, int64_t *rec0);
/* The first line start at or after x (after the header) that is outside
** quotes, `odd` being the parity of the quotes before x; `limit` when none
** lies before it. */
const char *csv_line_start(const reader *r, const char *x, int odd, const char *limit);
TL_NODISCARD tl_status csv_check_cut(reader *r, const csvrun *run, const char *to);

/* csv_write.c: a header line, and the rows, as tl_write_csv writes them
** (an error when interrupted or out of memory: the caller removes the file;
** write errors are the FILE's). */
TL_NODISCARD tl_status csv_write_header(FILE *f, const tl_table *t, tl_error *err);
TL_NODISCARD tl_status csv_write_rows(FILE *f, const tl_table *t, tl_error *err);
/* Removes what a write that failed left at path when it is a file: not a
** device, nor a link (write_csv("/dev/full") must not take /dev/full away). */
void csv_remove_output(const char *path);

/* csv_reject.c */
TL_NODISCARD tl_status csv_make_info(const reader *r, const csvrun *run, int64_t records,
                                     tl_csv_info **out);

/* Date formats (csv_dates.c): masks of the formats a column's values fit. */
unsigned csv_fmt_init(const tl_csv_options *o);
/* The mask of a forced date or timestamp column (fmt: its own format, or NULL). */
unsigned csv_fmt_forced(const char *fmt);
/* The CAN_DATE / CAN_TS bits of a mask. */
unsigned csv_fmt_can(unsigned m, const char *fmt);
/* The formats among m that read s[0..n). */
unsigned csv_fmt_match(const tl_csv_options *o, const char *forced, const char *s, size_t n,
                       unsigned m);
/* Reads s by the first format of m for type t: 1 with *us, or 0. */
int csv_fmt_parse(const tl_csv_options *o, const char *forced, unsigned m, tl_type t,
                  const char *s, size_t n, int64_t *us);

/* csv_unzip.c: TL_CSV_GZIP or TL_CSV_ZSTD when data opens with that
** format's magic bytes, else 0; and the whole text of such input, in a
** buffer of the current env (*out, tl_free), or an error naming `name`. */
enum { TL_CSV_GZIP = 1, TL_CSV_ZSTD = 2 };
int tl_csv_compression(const void *data, size_t len);
tl_status tl_csv_decompress(const void *data, size_t len, int kind, const char *name,
                            char **out, size_t *outlen, tl_error *err);

/* For a scan that counts records: where the data records of the input
** data[0, len) start (past the byte-order mark, skipped lines and header),
** the line there and the separator the reader uses. */
tl_status csv_data_start(const char *data, size_t len, const char *name,
                         const tl_csv_options *opts, size_t *start, int64_t *line, char *sep,
                         tl_error *err);

/* For a scan that cuts a stream of text into batches: data[0, len) holds
** the input's start (byte-order mark, skipped lines, header) then text
** from the record start *from (0: the header's end, set in *from, with its
** line in *line0). *cut is the first record start at or after `target` as
** the tokenizer reads from *from, or len when the record there runs to the
** end (more text may be needed); *lines and *records are the line ends and
** records from *from to *cut. */
tl_status tl_csv_cut(const char *data, size_t len, const char *name, const tl_csv_options *opts,
                     size_t *from, int64_t *line0, size_t target, size_t *cut, int64_t *lines,
                     int64_t *records, tl_error *err);

#endif
