/*
** kind.h -- the kinds of aggregate and their states (internal to agg).
**
** The state of one aggregate over a set of groups lives in flat per-group
** arrays (an agst). What a state holds and how it is filled, merged,
** finished, saved and loaded is its kind's: one tl_agg_kind of function
** pointers per aggregate (as sqlite3_module is per virtual table), defined
** in the file of its family (count_sum.c, moments.c, minmax.c, firstlast.c,
** order.c, distinct.c, host.c). The phases (scan.c, merge.c, codec.c and
** partial.c) call the kinds and never switch on an aggregate's id.
*/
#ifndef TL_AGG_KIND_H
#define TL_AGG_KIND_H

#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "expr/expr.h"
#include "partial.h"

typedef struct tl_agg_kind tl_agg_kind;
typedef struct wbuf wbuf;
typedef struct rbuf rbuf;
typedef struct tl_keyindex tl_keyindex;

enum { Q_LIST, Q_HIST, Q_FLAT };   /* quantile: per-group arrays, counts, one array */
enum { D_SET, D_CODES };           /* count_distinct: a hash set, bits over codes */

/* A distinct value: the bits of a number, or a string. */
typedef struct dent {
  uint64_t hv;                     /* the value's hash */
  int64_t g;
  union { int64_t i; const char *s; } v;
  int64_t len;                     /* strings */
} dent;

typedef struct agst {
  const tl_agg_kind *kind;
  int fn;                  /* AGG_* */
  tl_type xt;              /* the argument's type; 0: count() or a bare null */
  int mode;                /* Q_* or D_* */
  int64_t ng;
  double q;                /* quantile */
  const tl_aggregate *host;
  int64_t *cnt;            /* values seen (count: rows) */
  tl_i128 *is;             /* sums of ints and bools */
  double *f1, *f2;         /* float sums: sum, compensation; var: mean, M2 */
  uint8_t *has;            /* min, max, first, last: a value is there */
  int64_t *iv;             /* ... of int, bool, date, timestamp */
  double *dv;              /* ... of float */
  const char **sp;         /* ... of string */
  int64_t *sl;
  int64_t hmin, hrange;    /* Q_HIST: counts of hmin .. hmin + hrange - 1 */
  int64_t *h;
  double **lv;             /* Q_LIST: the values of group g, cnt[g] of lcap[g] */
  int64_t *lcap;
  double *flat;            /* Q_FLAT: group g's values flat[fstart[g] .. fstart[g + 1]) */
  int64_t *fstart;
  const tl_column *dict;   /* D_CODES: bit code of row g of `bits` */
  uint64_t *bits;
  int64_t stride;          /* words a group */
  dent *de;                /* D_SET: the values, and slots (entry + 1) into them */
  int64_t dn, dcap, dscap;
  uint64_t *dslot;
  uint8_t **hb;            /* host: saved bytes of group g */
  size_t *hl;
  tl_column *done;         /* a host aggregate's result, made at once */
  tl_column **keep;        /* what string values point into */
  int nkeep, keepcap;
  int64_t keptbytes;       /* about what the kept columns hold */
  int64_t ownbytes;        /* ... of those, the state's own (tl_agg_state_tidy) */
  /* the aggregates of pairs, of bools and the rest (pairs.c, bools.c, pick2.c) */
  const tl_column *y;      /* the second argument, during the scan */
  tl_type yt;
  double *f3, *f4, *f5;    /* pairs: mean of y, M2 of y, co-moment */
  int64_t *jv;             /* arg_min, arg_max: the by value of the pick */
  double *jd;
  const char **jp;
  int64_t *jl;
  struct tl_mode_tab *mt;  /* mode: (group, value) counts */
  char **tb;               /* string_agg: group g's text so far, tn[g] of tc[g] bytes */
  int64_t *tn, *tc;
  char *sep;               /* its separator (NUL-terminated), sepn bytes */
  int64_t sepn;
} agst;

/* How a scan is cut: ng groups, ranges of R rows, local: ranges number
** their groups from 0. */
typedef struct tl_agg_plan {
  int64_t ng, R;
  int local;
} tl_agg_plan;

/* What the aggregates of one group over one column need of its rows
** [a, b), made in one pass for all of them (fused.c): CS_* bits. */
enum { CS_COUNT = 1, CS_SUM = 2, CS_MIN = 4, CS_MAX = 8 };
typedef struct tl_colsum {
  unsigned want;
  int64_t n;               /* valid values */
  tl_i128 is;              /* CS_SUM of ints, exact */
  double fs, fc;           /* CS_SUM of floats: sum and compensation (sum.h) */
  int64_t imin, imax;      /* ints, dates, timestamps: the least and greatest */
  double dmin, dmax;       /* floats: NaN greater than every number */
} tl_colsum;

/* A fold of one state into another: group g of the one into group map[g]
** of the other (map NULL: the same group); `old` groups were the other's
** before the fold; keys name the groups; op names the operation. */
typedef struct tl_agg_fold {
  const int64_t *map;
  int64_t old;
  const tl_agg_keys *keys;
  const char *op;
  const char *src;          /* the definition, for messages */
} tl_agg_fold;

/* One kind of aggregate. Optional members are NULL when the kind has no
** use for them. Functions returning int give 0 when out of memory. */
struct tl_agg_kind {
  const char *name;
  /* Room for groups [old, n) (n >= old), zeroed. */
  int (*init)(agst *s, int64_t old, int64_t n);
  /* Optional: lays the scan's state out for argument x before the scan. */
  tl_status (*layout)(agst *s, const tl_column *x, const tl_agg_plan *plan, tl_error *err);
  /* Optional: the layout of a range's state of nl groups (`budget`: counts
  ** a range's histogram may have). */
  int (*range_mode)(const agst *glob, int64_t nl, int64_t budget);
  /* Rows [a, b) of x (NULL for count()) into the empty states of groups
  ** ids[i - a] (all 0 when s->ng is 1). NULL for a kind that runs over the
  ** whole table (make). */
  int (*update)(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids);
  /* Optional, for the ranges of one group (update's s->ng == 1): what the
  ** kind needs of the summary of its argument's rows (CS_* bits), and its
  ** state taken from that summary instead of update. */
  unsigned fuse;
  void (*take)(agst *s, const tl_colsum *cs);
  /* Optional: the states over the whole table at once (host aggregates). */
  tl_status (*make)(agst *s, const expr *e, tl_column *const *args, const tl_rowgroups *rg,
                    int direct, const char *src, tl_error *err);
  /* Optional: refuses a state that cannot be merged or encoded. */
  tl_status (*check)(const agst *s, tl_error *err);
  /* Folds fr into in (which has room for every group the map names). */
  tl_status (*merge)(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err);
  /* The column of the results; consume: the state's memory may be reused. */
  tl_status (*finish)(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                      tl_error *err);
  /* The layout byte and the states (codec.c writes the kind and type). */
  void (*save)(wbuf *w, const agst *s);
  /* The states of ng groups; strings point into blob. 0: out of memory;
  ** damage is r->bad. */
  int (*load)(rbuf *r, agst *s, int64_t ng, const tl_column *blob);
};

extern const tl_agg_kind tl_agg_count, tl_agg_sum, tl_agg_mean, tl_agg_var, tl_agg_stddev,
    tl_agg_min, tl_agg_max, tl_agg_first, tl_agg_last, tl_agg_median, tl_agg_quantile,
    tl_agg_count_distinct, tl_agg_host;
extern const tl_agg_kind tl_agg_corr, tl_agg_covar, tl_agg_regr_slope, tl_agg_regr_intercept,
    tl_agg_mode, tl_agg_arg_min, tl_agg_arg_max, tl_agg_count_if, tl_agg_bool_and,
    tl_agg_bool_or, tl_agg_product, tl_agg_string_agg;

/* What state.c frees and copies of those kinds (modes.c). */
void tl_agg_lib_free(agst *s);
int tl_agg_lib_copy(agst *s, const agst *like);
/* 1 for the aggregates that scan two argument columns (x and s->y). */
int tl_agg_takes_pair(int fn);

/* The kind of aggregate id fn (AGG_*), NULL when there is none. */
const tl_agg_kind *tl_agg_kind_of(int fn);

/* Items to allocate for n when an array grows: n rounded up to two
** significant bits past the first (at most a quarter more), so that an
** array grown a little at a time (a partial merged into batch after batch)
** is reallocated, and so copied, only when it has grown by a fifth or more:
** in between, realloc finds the block already that size. */
static inline size_t tl_agg_room(size_t n) {
  if (n < 16) return n;
  size_t unit = (size_t)1 << (61 - __builtin_clzll((unsigned long long)n));
  return (n + unit - 1) & ~(unit - 1);
}

/* Grows array a from `old` to n items, the new ones zeroed; returns 0 from
** the enclosing function when out of memory. A first allocation (old 0)
** takes n items exactly, a growth tl_agg_room(n). */
#define GROW(a, old, n) do { \
    size_t n_ = (size_t)((n) > 0 ? (n) : 1); \
    if ((old) > 0 && (n) > (old)) n_ = tl_agg_room(n_); \
    void *q_ = tl_realloc((a), n_ * sizeof *(a)); \
    if (!q_) return 0; \
    (a) = q_; \
    if ((n) > (old)) memset((a) + (old), 0, (size_t)((n) - (old)) * sizeof *(a)); \
  } while (0)

#define MAP(g) (map ? map[g] : (g))

/* state.c: states of any kind */
agst *tl_agg_state_new(const agst *like, int mode, int64_t ng);
void tl_agg_state_free(agst *s);
int tl_agg_state_grow(agst *s, int64_t n);
int tl_agg_state_keep(agst *s, const tl_column *c);
int tl_agg_state_keep_all(agst *s, const agst *from);
/* After a merge: when the columns s keeps hold much more than the strings
** it points into, copies those strings into one column of its own and lets
** the others go, so that a state folded over many batches stays as large as
** its values. 0: out of memory (s unchanged). */
int tl_agg_state_tidy(agst *s);
/* Calls f on each string value a mode state points into (modes.c). */
typedef void (*tl_agg_ref_fn)(void *ud, const char **p, int64_t len);
void tl_agg_mode_refs(agst *s, tl_agg_ref_fn f, void *ud);
tl_status tl_agg_make_column(tl_type type, int64_t ng, const int64_t *iv, const double *dv,
                             const uint8_t *valid, tl_column **out, tl_error *err);
/* The layout byte of a kind with one layout, then room for ng groups. */
int tl_agg_load_start(rbuf *r, agst *s, int64_t ng, const tl_column *blob);
/* Reads ng counts into s->cnt. */
void tl_agg_load_counts(rbuf *r, agst *s, int64_t ng);
void tl_agg_save_counts(wbuf *w, const agst *s);

/* Row i of a number column (int, float or bool) as a double. */
static inline double tl_agg_num(const tl_column *c, int64_t i) {
  switch (c->type) {
    case TL_FLOAT: return ((const double *)c->values)[i];
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)c->values, i);
    default: return (double)((const int64_t *)c->values)[i];
  }
}

static inline uint64_t tl_mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

/* distinct.c: the hash of row i's value (by content), as count_distinct
** hashes it. */
uint64_t tl_agg_value_hash(const tl_column *c, int64_t i);

/* minmax.c: what min, max, first and last share (a value per group). */
int tl_agg_pick_init(agst *s, int64_t old, int64_t n);
tl_status tl_agg_pick_layout(agst *s, const tl_column *x, const tl_agg_plan *plan, tl_error *err);
void tl_agg_pick_set(agst *s, const tl_column *x, const int64_t *best);
tl_status tl_agg_pick_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                             tl_error *err);
void tl_agg_pick_save(wbuf *w, const agst *s);
int tl_agg_pick_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob);
void tl_agg_pick_copy(agst *in, int64_t G, const agst *fr, int64_t g);

/* fused.c: 1 when tl_agg_colsum summarizes columns of this type for `want`;
** the summary of rows [a, b) of x (cs->want set). */
int tl_agg_colsum_fits(tl_type type, unsigned want);
void tl_agg_colsum(const tl_column *x, int64_t a, int64_t b, tl_colsum *cs);

/* scan.c */
tl_status tl_agg_scan(agst **states, int nslots, const tl_rowgroups *rg, tl_column **x,
                      tl_error *err);

/* ---------------------------------------------------------------------------
** Partials (partial.c; merged in merge.c, encoded in codec.c)
*/
struct tl_partial {
  int ndefs;
  char **defs, **names;    /* the definitions' text and result names */
  expr **e;                /* bound, to evaluate what surrounds the aggregates */
  expr ***aggs;            /* the aggregates of definition k: its slots */
  int *naggs, *first;      /* slot s of definition k is st[first[k] + s] */
  int nslots;
  agst **st;
  tl_table *schema;        /* the columns the definitions read, without rows */
  tl_table *keys;          /* one row per group; NULL: the whole table as one */
  int64_t ng;
  int direct;              /* made for one result: not to merge or encode */
  tl_keyindex *ix;         /* merge.c: the groups by key, once merged into */
};

/* merge.c: the index a partial merged into keeps (NULL is allowed). */
void tl_keyindex_free(tl_keyindex *ix);

/* The definition of slot s, for messages. */
const char *tl_partial_src(const tl_partial *p, int s);
/* " in group k = 'a'" for group g, or "" when the groups have no keys. */
void tl_agg_group_suffix(const tl_agg_keys *keys, int64_t g, char *buf, size_t size);
/* Parses and binds the definitions against t's columns; an empty state
** per slot. */
tl_status tl_partial_bind(tl_partial *p, int n, const char *const *defs, const tl_table *t,
                          const tl_scope *scope, tl_error *err);
/* A table of no rows with these columns. */
tl_status tl_partial_schema(const char **names, const tl_type *types, int n, tl_table **out,
                            tl_error *err);
/* The groups named by the key columns of `keys` (NULL: none). */
void tl_agg_keys_of(const tl_table *keys, tl_agg_keys *out);

#endif
