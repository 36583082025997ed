/*
** modes.c -- mode (the most frequent value of each group, the first to
** appear among ties) and string_agg (the texts of each group in row order,
** joined by a separator). mode keeps a hash table of (group, value) with a
** count and the number of the group's values seen before the value first
** appeared, so that ranges merged in row order agree with one scan. Here
** too is what state.c asks of the extra arrays of these kinds.
*/
#include <math.h>
#include <xxhash.h>

#include "codec.h"
#include "kind.h"

typedef struct ment {
  uint64_t hv;
  int64_t g, bits, len, cnt, first;
  const char *s;
} ment;

struct tl_mode_tab {
  ment *e;
  int64_t n, cap;
  int64_t *slot;       /* entry + 1, 0: free */
  int64_t nslot;       /* a power of two */
};

/* What state.c asks of the extra arrays of the kinds of pairs.c, bools.c,
** pick2.c and this file. */
int tl_agg_takes_pair(int fn) {
  return fn == AGG_CORR || fn == AGG_COVAR || fn == AGG_REGR_SLOPE || fn == AGG_REGR_INTERCEPT ||
         fn == AGG_ARG_MIN || fn == AGG_ARG_MAX;
}

void tl_agg_lib_free(agst *s) {
  tl_free(s->f3); tl_free(s->f4); tl_free(s->f5);
  tl_free(s->jv); tl_free(s->jd); tl_free(s->jp); tl_free(s->jl);
  if (s->mt) { tl_free(s->mt->e); tl_free(s->mt->slot); tl_free(s->mt); }
  for (int64_t g = 0; s->tb && g < s->ng; g++) tl_free(s->tb[g]);
  tl_free(s->tb); tl_free(s->tn); tl_free(s->tc);
  tl_free(s->sep);
}

int tl_agg_lib_copy(agst *s, const agst *like) {
  s->y = like->y;
  s->yt = like->yt;
  if (like->sep) {
    if (!(s->sep = tl_strndup(like->sep, (size_t)like->sepn))) return 0;
    s->sepn = like->sepn;
  }
  return 1;
}

static uint64_t m_hash(int64_t g, int64_t bits, const char *s, int64_t len, int str) {
  uint64_t h = str ? XXH3_64bits(s, (size_t)len) : tl_mix64((uint64_t)bits);
  return tl_mix64(h ^ ((uint64_t)g * 0x9e3779b97f4a7c15ULL));
}

static int m_grow(struct tl_mode_tab *t) {
  int64_t ns = t->nslot ? t->nslot * 2 : 64;
  int64_t *sl = tl_calloc((size_t)ns, sizeof *sl);
  if (!sl) return 0;
  for (int64_t k = 0; k < t->n; k++) {
    int64_t j = (int64_t)(t->e[k].hv & (uint64_t)(ns - 1));
    while (sl[j]) j = (j + 1) & (ns - 1);
    sl[j] = k + 1;
  }
  tl_free(t->slot);
  t->slot = sl;
  t->nslot = ns;
  return 1;
}

/* The entry of (g, value), made with cnt 0 and first `first` when new; NULL: out of memory. */
static ment *m_find(agst *s, int64_t g, int64_t bits, const char *str, int64_t len, int64_t first) {
  struct tl_mode_tab *t = s->mt;
  int isstr = s->xt == TL_STRING;
  if ((t->n + 1) * 2 > t->nslot && !m_grow(t)) return NULL;
  uint64_t hv = m_hash(g, bits, str, len, isstr);
  int64_t j = (int64_t)(hv & (uint64_t)(t->nslot - 1));
  for (; t->slot[j]; j = (j + 1) & (t->nslot - 1)) {
    ment *e = &t->e[t->slot[j] - 1];
    if (e->hv == hv && e->g == g &&
        (isstr ? e->len == len && (!len || memcmp(e->s, str, (size_t)len) == 0) : e->bits == bits))
      return e;
  }
  if (t->n == t->cap) {
    int64_t cap = t->cap ? t->cap * 2 : 64;
    ment *ne = tl_realloc(t->e, (size_t)cap * sizeof *ne);
    if (!ne) return NULL;
    t->e = ne;
    t->cap = cap;
  }
  ment *e = &t->e[t->n];
  *e = (ment){ hv, g, bits, len, 0, first, str };
  t->slot[j] = ++t->n;
  return e;
}

void tl_agg_mode_refs(agst *s, tl_agg_ref_fn f, void *ud) {
  if (!s->mt || s->xt != TL_STRING) return;
  for (int64_t k = 0; k < s->mt->n; k++) f(ud, &s->mt->e[k].s, s->mt->e[k].len);
}

static int mode_init(agst *s, int64_t o, int64_t n) {
  if (!s->mt && !(s->mt = tl_calloc(1, sizeof *s->mt))) return 0;
  GROW(s->cnt, o, n);
  return tl_agg_pick_init(s, o, n);
}

/* Row i's value as 64 bits (floats: -0 as 0, one NaN). */
static int64_t m_bits(const tl_column *x, int64_t i) {
  switch (x->type) {
    case TL_FLOAT: {
      double d = ((const double *)x->values)[i];
      int64_t b;
      if (d == 0) d = 0;
      if (isnan(d)) d = NAN;
      memcpy(&b, &d, 8);
      return b;
    }
    case TL_DATE: return ((const int32_t *)x->values)[i];
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)x->values, i) != 0;
    default: return ((const int64_t *)x->values)[i];
  }
}

static int mode_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  int str = x->type == TL_STRING;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    int32_t g = ids[i - a];
    size_t len = 0;
    const char *sp = str ? tl_column_string_at(x, i, &len) : NULL;
    ment *e = m_find(s, g, str ? 0 : m_bits(x, i), sp, (int64_t)len, s->cnt[g]);
    if (!e) return 0;
    e->cnt++;
    s->cnt[g]++;
  });
  return 1;
}

static tl_status mode_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  if (!tl_agg_state_keep_all(in, fr)) return tl_error_oom(err, f->op);
  for (int64_t k = 0; k < fr->mt->n; k++) {
    const ment *x = &fr->mt->e[k];
    int64_t G = MAP(x->g);
    ment *e = m_find(in, G, x->bits, x->s, x->len, in->cnt[G] + x->first);
    if (!e) return tl_error_oom(err, f->op);
    e->cnt += x->cnt;
  }
  for (int64_t g = 0; g < fr->ng; g++) in->cnt[MAP(g)] += fr->cnt[g];
  return TL_OK;
}

static tl_status mode_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                             tl_error *err) {
  int64_t *best = tl_alloc((size_t)(s->ng ? s->ng : 1) * sizeof *best);
  if (!best) return tl_error_oom(err, "agg");
  for (int64_t g = 0; g < s->ng; g++) best[g] = -1;
  for (int64_t k = 0; k < s->mt->n; k++) {
    const ment *e = &s->mt->e[k];
    int64_t b = best[e->g];
    if (b < 0 || e->cnt > s->mt->e[b].cnt || (e->cnt == s->mt->e[b].cnt && e->first < s->mt->e[b].first))
      best[e->g] = k;
  }
  for (int64_t g = 0; g < s->ng; g++) {
    s->has[g] = best[g] >= 0;
    if (!s->has[g]) continue;
    const ment *e = &s->mt->e[best[g]];
    if (s->xt == TL_STRING) { s->sp[g] = e->s; s->sl[g] = e->len; }
    else if (s->xt == TL_FLOAT) memcpy(&s->dv[g], &e->bits, 8);
    else s->iv[g] = e->bits;
  }
  tl_free(best);
  return tl_agg_pick_finish(s, consume, f, out, err);
}

static void mode_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  tl_agg_save_counts(w, s);
  w_i64(w, s->mt->n);
  for (int64_t k = 0; k < s->mt->n; k++) {
    const ment *e = &s->mt->e[k];
    w_i64(w, e->g);
    w_i64(w, e->cnt);
    w_i64(w, e->first);
    if (s->xt == TL_STRING) w_value(w, TL_STRING, 0, 0, e->s, e->len);
    else w_i64(w, e->bits);
  }
}

static int mode_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  tl_agg_load_counts(r, s, ng);
  int64_t n = r_count(r, r_i64(r), 32);
  const char *base = (const char *)r->p, *arena = blob->bytes;
  for (int64_t k = 0; k < n && !r->bad; k++) {
    int64_t g = r_i64(r), cnt = r_i64(r), first = r_i64(r), bits = 0, len = 0;
    const char *str = NULL;
    if (s->xt == TL_STRING) r_value(r, TL_STRING, &bits, NULL, &str, &len);
    else bits = r_i64(r);
    if (r->bad) break;
    if (g < 0 || g >= ng || cnt < 1 || first < 0 || first >= s->cnt[g]) { r->bad = "bad value"; break; }
    if (str) str = arena + (str - base);
    ment *e = m_find(s, g, bits, str, len, first);
    if (!e) return 0;
    if (e->cnt) { r->bad = "a value twice"; break; }
    e->cnt = cnt;
  }
  return 1;
}

const tl_agg_kind tl_agg_mode = {
  .name = "mode", .init = mode_init, .layout = tl_agg_pick_layout, .update = mode_update,
  .merge = mode_merge, .finish = mode_finish, .save = mode_save, .load = mode_load,
};

/* ---------------------------------------------------------------------------
** string_agg
*/
static int sa_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  GROW(s->tb, o, n);
  GROW(s->tn, o, n);
  GROW(s->tc, o, n);
  return 1;
}

/* Appends p[0..n) to group g's text (after the separator unless it is the first). */
static int sa_add(agst *s, int64_t g, const char *p, int64_t n, int64_t count) {
  int64_t need = s->tn[g] + n + (s->cnt[g] ? s->sepn : 0);
  if (need > s->tc[g]) {
    int64_t cap = s->tc[g] ? s->tc[g] : 16;
    while (cap < need) cap *= 2;
    char *nb = tl_realloc(s->tb[g], (size_t)cap);
    if (!nb) return 0;
    s->tb[g] = nb;
    s->tc[g] = cap;
  }
  if (s->cnt[g] && s->sepn) { memcpy(s->tb[g] + s->tn[g], s->sep, (size_t)s->sepn); s->tn[g] += s->sepn; }
  if (n) memcpy(s->tb[g] + s->tn[g], p, (size_t)n);
  s->tn[g] += n;
  s->cnt[g] += count;
  return 1;
}

static int sa_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  if (x->type != TL_STRING) return 1;   /* a bare null */
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    size_t n;
    const char *p = tl_column_string_at(x, i, &n);
    if (!sa_add(s, ids[i - a], p, (int64_t)n, 1)) return 0;
  });
  return 1;
}

static tl_status sa_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  for (int64_t g = 0; g < fr->ng; g++)
    if (fr->cnt[g] && !sa_add(in, MAP(g), fr->tb[g], fr->tn[g], fr->cnt[g]))
      return tl_error_oom(err, f->op);
  return TL_OK;
}

static tl_status sa_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                           tl_error *err) {
  (void)consume; (void)f;
  int64_t nbytes = 0;
  for (int64_t g = 0; g < s->ng; g++) nbytes += s->tn[g];
  tl_column *c;
  TL_TRY(tl_column_alloc(TL_STRING, s->ng, 1, nbytes, &c, err));
  int64_t *off = c->values, at = 0;
  for (int64_t g = 0; g < s->ng; g++) {
    off[g] = at;
    if (!s->cnt[g]) { TL_BIT_CLEAR(c->validity, g); continue; }
    if (s->tn[g]) memcpy(c->bytes + at, s->tb[g], (size_t)s->tn[g]);
    at += s->tn[g];
  }
  off[s->ng] = at;
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

static void sa_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  tl_agg_save_counts(w, s);
  for (int64_t g = 0; g < s->ng; g++)
    if (s->cnt[g]) w_value(w, TL_STRING, 0, 0, s->tb[g], s->tn[g]);
}

static int sa_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  tl_agg_load_counts(r, s, ng);
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    if (!s->cnt[g]) continue;
    int64_t iv, len = 0;
    const char *str = NULL;
    r_value(r, TL_STRING, &iv, NULL, &str, &len);
    if (r->bad) break;
    int64_t cnt = s->cnt[g];
    s->cnt[g] = 0;   /* the text as one piece */
    if (!sa_add(s, g, str, len, cnt)) return 0;
  }
  return 1;
}

const tl_agg_kind tl_agg_string_agg = {
  .name = "string_agg", .init = sa_init, .update = sa_update, .merge = sa_merge,
  .finish = sa_finish, .save = sa_save, .load = sa_load,
};
