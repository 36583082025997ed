/*
** lmpi.c -- tally.mpi: one script, many processes.
**
** `mpirun -n N tally script.lua` runs the script on every rank. A
** distributed table is each rank's share of the rows (a tally.Table) plus
** what the ranks know together. Verbs that keep rows where they are
** (filter, mutate, select, ...) run on the local share; aggregations make
** partial states on each share (tl_grouping_partial), move them between
** ranks as bytes, and merge them in rank order with the core's own merge,
** so every rank holds the same result, equal to a single process's over
** the rows in rank order. Rows that must meet (top, sort, distinct,
** gather) travel as the table file's bytes (tl_table_encode).
**
** Every operation here is collective: each rank calls it, in the same
** order. Each begins with an agreement on which operation it is (its code
** and its number on this rank), the end of the script included, so that
** ranks that call different ones fail together with a message naming
** what each called, rather than wait forever in collectives that never
** match. A failure on one rank is agreed on before anything else moves:
** every rank raises the failing rank's message, so none waits forever for
** a rank that has stopped.
*/
#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lmpi.h"
#include "ltally.h"
#include "tally_lua.h"

#define LT_DTABLE "tally.DistributedTable"
#define LT_DGROUPING "tally.DistributedGrouping"
#define AGREED_KEY "tally.mpi.agreed"   /* registry: the last agreed error */
#define PIECE ((size_t)1 << 30)         /* bytes per broadcast: counts are int */

static MPI_Comm comm = MPI_COMM_NULL;
static int started;            /* MPI_Init was called here */
static int rank, size = 1;
static uint64_t bytes_sent, bytes_received, exchanges;

/* The collective operations, in the order of their codes. */
enum {
  OP_READ_CSV, OP_DISTRIBUTE, OP_WRAP, OP_BARRIER, OP_FILTER, OP_MUTATE, OP_SELECT, OP_DROP,
  OP_RENAME, OP_GATHER, OP_TOP, OP_DISTINCT, OP_HEAD, OP_COUNT_DISTINCT, OP_SORT, OP_AGG,
  OP_GROUP_BY, OP_GROUPED_AGG, OP_GROUPED_COUNT, OP_GROUPED_LEN, OP_END, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
  "read_csv", "distribute", "wrap", "barrier", "filter", "mutate", "select", "drop",
  "rename", "gather", "top", "distinct", "head", "count_distinct", "sort", "agg",
  "group_by", "grouping:agg", "grouping:count", "#grouping", "the end of the script"
};
static long long ops_begun;    /* collective operations begun on this rank */
static char *diverged;         /* the ranks disagreed on one: the message, kept */
static char diverged_msg[1024];
static long long *ops_seen;    /* every rank's (code, number), when they disagree */

static void start(void) {
  int flag;
  if (comm != MPI_COMM_NULL) return;
  MPI_Initialized(&flag);
  if (!flag) {
    int provided;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    started = 1;
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);   /* our messages never meet the host's */
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ops_seen = malloc(2 * (size_t)size * sizeof *ops_seen);
  if (!ops_seen) {
    fprintf(stderr, "tally.mpi: out of memory at start\n");
    MPI_Abort(comm, 1);
  }
}

void lt_mpi_startup(int *argc, char ***argv) {
  static const char *const vars[] = {
    "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", NULL
  };
  for (int k = 0; vars[k]; k++) {
    if (getenv(vars[k])) {
      int provided;
      MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
      started = 1;
      start();
      return;
    }
  }
}

int lt_mpi_rank(void) { return comm == MPI_COMM_NULL ? 0 : rank; }
int lt_mpi_size(void) { return comm == MPI_COMM_NULL ? 1 : size; }

int lt_mpi_agreed(lua_State *L, const char *msg) {
  int agreed = 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, AGREED_KEY) == LUA_TSTRING && msg) {
    size_t n;
    const char *a = lua_tolstring(L, -1, &n);
    agreed = strncmp(msg, a, n) == 0;
  }
  lua_pop(L, 1);
  return agreed;
}

/* ---------------------------------------------------------------------------
** Agreeing on the operation, on failure, and moving bytes
*/

/* Appends to the message what ranks r0..r1 called. */
static size_t say_called(size_t o, int r0, int r1, const long long *what) {
  size_t cap = sizeof diverged_msg - 8;   /* room for "..." */
  long long op = what[0];
  const char *name = op >= 0 && op < OP_COUNT ? op_names[op] : "an unknown operation";
  int k = r0 == r1 ? snprintf(diverged_msg + o, cap - o, "%srank %d called %s (#%lld)",
                              r0 ? ", " : "", r0, name, what[1])
                   : snprintf(diverged_msg + o, cap - o, "%sranks %d-%d called %s (#%lld)",
                              r0 ? ", " : "", r0, r1, name, what[1]);
  if (k < 0 || (size_t)k >= cap - o) {
    memcpy(diverged_msg + o, "...", 4);
    return cap;
  }
  return o + (size_t)k;
}

/* Every rank calls this first in a collective operation, with its code:
** NULL when every rank called the same one, as its same number; else the
** message naming what each called (the same on every rank). Once the
** ranks have disagreed they stay so: no collective can match any more. */
static const char *sync_op(int op) {
  if (diverged) return diverged;
  long long seq = ++ops_begun;
  long long mine[4] = { op, -op, seq, -seq }, least[4];
  MPI_Allreduce(mine, least, 4, MPI_LONG_LONG, MPI_MIN, comm);
  if (least[0] == -least[1] && least[2] == -least[3]) return NULL;
  long long pair[2] = { op, seq };
  MPI_Allgather(pair, 2, MPI_LONG_LONG, ops_seen, 2, MPI_LONG_LONG, comm);
  size_t o = (size_t)snprintf(diverged_msg, sizeof diverged_msg, "tally.mpi: ranks disagree: ");
  for (int r0 = 0, r1; r0 < size && o < sizeof diverged_msg - 8; r0 = r1 + 1) {
    for (r1 = r0; r1 + 1 < size && ops_seen[2 * (r1 + 1)] == ops_seen[2 * r0] &&
                  ops_seen[2 * (r1 + 1) + 1] == ops_seen[2 * r0 + 1]; r1++) {}
    o = say_called(o, r0, r1, ops_seen + 2 * r0);
  }
  diverged = diverged_msg;
  return diverged;
}

/* The start of collective operation `op`: raises the ranks' disagreement
** (an error every rank raises, so that only one need print it). */
static void begin(lua_State *L, int op) {
  start();
  const char *msg = sync_op(op);
  if (!msg) return;
  lua_pushstring(L, msg);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, AGREED_KEY);
  lua_error(L);
}

const char *lt_mpi_shutdown(int failed) {
  if (comm == MPI_COMM_NULL) return NULL;
  if (failed && size > 1) MPI_Abort(comm, 1);   /* the others may be waiting for us */
  const char *why = sync_op(OP_END);   /* a rank still in an operation is told */
  MPI_Comm_free(&comm);
  int done;
  MPI_Finalized(&done);
  if (started && !done) MPI_Finalize();
  return why;
}

/* Every rank calls this with its outcome: msg NULL when it went well. When
** any rank failed, every rank raises the message of the lowest one that
** did, named. */
static void agree(lua_State *L, const char *msg) {
  int mine = msg ? rank : size, first;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  int len = msg && rank == first ? (int)strnlen(msg, 4096) : 0;
  MPI_Bcast(&len, 1, MPI_INT, first, comm);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, (size_t)len);
  if (rank == first) memcpy(p, msg, (size_t)len);
  MPI_Bcast(p, len, MPI_CHAR, first, comm);
  luaL_addsize(&b, (size_t)len);
  if (size > 1) lua_pushfstring(L, " (rank %d of %d)", first, size);
  else lua_pushliteral(L, "");
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, AGREED_KEY);
  lua_error(L);
}

static tl_status oom(tl_error *err, const char *op) {
  return tl_error_set(err, TL_ENOMEM, "%s: out of memory", op);
}

/* agree() on a core status. */
static void agree_status(lua_State *L, tl_status st, const tl_error *err) {
  agree(L, st == TL_OK ? NULL : err->message[0] ? err->message : tl_status_string(st));
}

/* What every rank sent in one exchange: shares[r] of lens[r] bytes. */
typedef struct shares {
  int n;
  int tl_owned;        /* buf[] came from tl_alloc (tl_table_encode), not malloc */
  char **buf;          /* the other ranks' bytes, owned; NULL at this rank */
  const char **at;     /* every rank's bytes, this rank's borrowed */
  size_t *len;
} shares;

static void shares_free(void *p) {
  shares *s = p;
  if (!s) return;
  for (int r = 0; s->buf && r < s->n; r++) {
    if (s->tl_owned) tl_free(s->buf[r]);
    else free(s->buf[r]);
  }
  free(s->buf);
  free(s->at);
  free(s->len);
  free(s);
}

/* Pushes the box of a new shares for every rank; NULL when out of memory
** (the box then holds what there is). */
static shares *new_shares(lua_State *L, int tl_owned) {
  lt_box *box = lt_newbox(L, shares_free);
  shares *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  box->p = s;
  s->n = size;
  s->tl_owned = tl_owned;
  s->buf = calloc((size_t)size, sizeof *s->buf);
  s->at = calloc((size_t)size, sizeof *s->at);
  s->len = calloc((size_t)size, sizeof *s->len);
  return s->buf && s->at && s->len ? s : NULL;
}

/* Every rank's bytes to every rank, in rank order (a broadcast from each in
** turn, in pieces of at most PIECE bytes). Pushes the box that owns them. */
static shares *exchange(lua_State *L, const void *mine, size_t len) {
  shares *s = new_shares(L, 0);
  int ok = s != NULL;
  unsigned long long *lens = calloc((size_t)size, sizeof *lens);
  unsigned long long l = len;
  ok = ok && lens;
  agree(L, ok ? NULL : "tally.mpi: out of memory");
  MPI_Allgather(&l, 1, MPI_UNSIGNED_LONG_LONG, lens, 1, MPI_UNSIGNED_LONG_LONG, comm);
  for (int r = 0; r < size && ok; r++) {
    s->len[r] = (size_t)lens[r];
    s->buf[r] = r == rank ? NULL : malloc(lens[r] ? (size_t)lens[r] : 1);
    s->at[r] = r == rank ? mine : s->buf[r];
    ok = r == rank || s->buf[r];
  }
  free(lens);
  agree(L, ok ? NULL : "tally.mpi: out of memory for the other ranks' data");
  for (int r = 0; r < size; r++) {
    char *p = r == rank ? (char *)mine : s->buf[r];
    for (size_t at = 0; at < s->len[r]; at += PIECE) {
      size_t n = s->len[r] - at < PIECE ? s->len[r] - at : PIECE;
      MPI_Bcast(p + at, (int)n, MPI_BYTE, r, comm);
    }
    if (r == rank) bytes_sent += s->len[r];
    else bytes_received += s->len[r];
  }
  exchanges++;
  return s;
}

/* ---------------------------------------------------------------------------
** Tables across ranks
*/

typedef struct tables {
  int n;
  tl_table **t;
} tables;

static void tables_free(void *p) {
  tables *ts = p;
  if (!ts) return;
  for (int k = 0; k < ts->n; k++) tl_table_release(ts->t[k]);
  free(ts->t);
  free(ts);
}

/* Decodes every rank's share of s into a table; pushes the box that owns
** them. Every rank agrees on failure. */
static tables *decode_all(lua_State *L, const shares *s, const char *op) {
  tl_error err;
  err.message[0] = '\0';
  lt_box *tb = lt_newbox(L, tables_free);
  tables *ts = calloc(1, sizeof *ts);
  if (ts) {
    tb->p = ts;
    ts->t = calloc((size_t)size, sizeof *ts->t);
  }
  tl_status st = ts && ts->t ? TL_OK : oom(&err, op);
  for (int r = 0; r < size && st == TL_OK; r++) {
    char name[32];
    snprintf(name, sizeof name, "rank %d", r);
    st = tl_table_decode(s->at[r], s->len[r], name, &ts->t[r], &err);
    if (st == TL_OK) ts->n = r + 1;
  }
  agree_status(L, st, &err);
  return ts;
}

/* Every rank's table t, in rank order, on every rank; pushes the box that
** owns them. */
static tables *all_tables(lua_State *L, const tl_table *t, const char *op) {
  tl_error err;
  void *buf = NULL;
  size_t len = 0;
  err.message[0] = '\0';
  lt_box *bb = lt_newbox(L, tl_free);
  tl_status st = tl_table_encode(t, &buf, &len, &err);
  bb->p = buf;
  agree_status(L, st, &err);
  shares *s = exchange(L, buf, len);
  tables *ts = decode_all(L, s, op);
  lua_replace(L, -3);   /* keep the tables' box only */
  lua_pop(L, 1);
  return ts;
}

/* Pushes every rank's t, concatenated in rank order, as a tally.Table. */
static void push_gathered(lua_State *L, const tl_table *t, const char *op) {
  tables *ts = all_tables(L, t, op);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_table_concat(ts->n, (const tl_table *const *)ts->t, &ud->t, &err);
  agree_status(L, st, &err);
  lua_remove(L, -2);
}

/* ---------------------------------------------------------------------------
** The distributed table: user value 1 is the local tally.Table.
*/

typedef struct dtable {
  int64_t nrows;   /* rows on every rank together */
} dtable;

/* Pushes a distributed table of the local table at `local`. Collective:
** the ranks count their rows together here, once, so that #t is each
** rank's own answer afterwards. */
static void push_dtable(lua_State *L, int local) {
  local = lua_absindex(L, local);
  long long mine = (long long)tl_table_nrows(tally_check_table(L, local)), all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_LONG_LONG, MPI_SUM, comm);
  dtable *d = lua_newuserdatauv(L, sizeof *d, 1);
  d->nrows = (int64_t)all;
  luaL_setmetatable(L, LT_DTABLE);
  lua_pushvalue(L, local);
  lua_setiuservalue(L, -2, 1);
}

static dtable *check_dtable(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LT_DTABLE);
}

/* Pushes the local table of the distributed table at idx. */
static tl_table *push_local(lua_State *L, int idx) {
  check_dtable(L, idx);
  lua_getiuservalue(L, idx, 1);
  return tally_check_table(L, -1);
}

/* Calls method `name` of the value at `obj` with arguments first..last,
** protected; every rank agrees on failure. Leaves one result. */
static void local_call(lua_State *L, int obj, const char *name, int first, int last) {
  obj = lua_absindex(L, obj);
  lua_pushvalue(L, obj);
  lua_getfield(L, -1, name);
  lua_insert(L, -2);
  for (int i = first; i <= last; i++) lua_pushvalue(L, i);
  const char *msg = NULL;
  if (lua_pcall(L, 1 + (last >= first ? last - first + 1 : 0), 1, 0) != LUA_OK)
    msg = luaL_tolstring(L, -1, NULL);
  agree(L, msg);
}

/* filter, mutate, select, ...: the local share, as a distributed table. */
static int dt_local_verb(lua_State *L, int op, const char *name) {
  begin(L, op);
  int top = lua_gettop(L);
  push_local(L, 1);
  local_call(L, -1, name, 2, top);
  push_dtable(L, -1);
  return 1;
}

static int dt_filter(lua_State *L) { return dt_local_verb(L, OP_FILTER, "filter"); }
static int dt_mutate(lua_State *L) { return dt_local_verb(L, OP_MUTATE, "mutate"); }
static int dt_select(lua_State *L) { return dt_local_verb(L, OP_SELECT, "select"); }
static int dt_drop(lua_State *L) { return dt_local_verb(L, OP_DROP, "drop"); }
static int dt_rename(lua_State *L) { return dt_local_verb(L, OP_RENAME, "rename"); }

/* Methods that only read the columns' names and types, the same on every
** rank: no communication. */
static int dt_local_query(lua_State *L, const char *name) {
  int top = lua_gettop(L);
  push_local(L, 1);
  lua_getfield(L, -1, name);
  lua_insert(L, -2);
  for (int i = 2; i <= top; i++) lua_pushvalue(L, i);
  lua_call(L, top, LUA_MULTRET);
  return lua_gettop(L) - top;
}

static int dt_ncol(lua_State *L) { return dt_local_query(L, "ncol"); }
static int dt_names(lua_State *L) { return dt_local_query(L, "names"); }
static int dt_schema(lua_State *L) { return dt_local_query(L, "schema"); }

/* t:local_rows(): this rank's share, a tally.Table. */
static int dt_local(lua_State *L) {
  push_local(L, 1);
  return 1;
}

/* #t: the rows on every rank together, counted when t was made: no rank
** waits for the others here. */
static int dt_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_dtable(L, 1)->nrows);
  return 1;
}


static int dt_tostring(lua_State *L) {
  tl_table *t = push_local(L, 1);
  lua_pushfstring(L, "DistributedTable: %I rows x %d columns over %d rank%s (%I here)",
                  (lua_Integer)check_dtable(L, 1)->nrows, tl_table_ncols(t), size,
                  size == 1 ? "" : "s", (lua_Integer)tl_table_nrows(t));
  return 1;
}

/* t:gather(): every row, in rank order, on every rank. */
static int dt_gather(lua_State *L) {
  begin(L, OP_GATHER);
  tl_table *t = push_local(L, 1);
  push_gathered(L, t, "gather");
  return 1;
}

/* A method whose local result is gathered and then given to the same
** method again: top, distinct, head. */
static int dt_twice(lua_State *L, const char *name) {
  int top = lua_gettop(L);
  push_local(L, 1);
  local_call(L, -1, name, 2, top);
  push_gathered(L, tally_check_table(L, -1), name);
  local_call(L, -1, name, 2, top);
  return 1;
}

static int dt_top(lua_State *L) {
  begin(L, OP_TOP);
  return dt_twice(L, "top");
}

static int dt_distinct(lua_State *L) {
  begin(L, OP_DISTINCT);
  return dt_twice(L, "distinct");
}

static int dt_head(lua_State *L) {
  begin(L, OP_HEAD);
  if (lua_isnoneornil(L, 2)) {   /* the same default on both steps */
    lua_settop(L, 1);
    lua_pushinteger(L, 10);
  }
  return dt_twice(L, "head");
}

/* t:count_distinct(col): the number of distinct values (nulls not counted)
** of a column on every rank together. */
static int dt_count_distinct(lua_State *L) {
  begin(L, OP_COUNT_DISTINCT);
  luaL_checkstring(L, 2);
  lua_settop(L, 2);
  dt_twice(L, "distinct");
  tl_table *d = tally_check_table(L, -1);
  const tl_column *c = tl_table_column(d, 0);
  lua_pushinteger(L, (lua_Integer)(tl_table_nrows(d) - tl_column_null_count(c)));
  return 1;
}

/* Rows each rank offers as samples of its sorted share. */
#define SAMPLES 64

/* The names of the key columns (without a '-' for descending order). */
static const char **key_columns(lua_State *L, const tl_table *t, const char **keys, int nk) {
  const char **names = lua_newuserdatauv(L, (size_t)nk * sizeof *names, 0);
  for (int j = 0; j < nk; j++)
    names[j] = keys[j][0] == '-' && tl_table_find(t, keys[j]) < 0 ? keys[j] + 1 : keys[j];
  return names;
}

/* Every rank's byte strings for every rank: rank r's out[q] goes to rank q.
** Pushes the box of what came in (shares, in rank order). */
static shares *all_to_all(lua_State *L, const shares *out) {
  lt_box *cb = lt_newbox(L, free);
  int *cnt = cb->p = calloc((size_t)size * 4, sizeof *cnt);
  shares *in = new_shares(L, 0);
  int ok = in && cnt;
  int *scnt = cnt, *sdis = cnt + size, *rcnt = cnt + 2 * size, *rdis = cnt + 3 * size;
  long long sent = 0;
  for (int q = 0; q < size && ok; q++) {
    if (out->len[q] > INT_MAX - (size_t)sent) ok = -1;
    else { scnt[q] = (int)out->len[q]; sdis[q] = (int)sent; sent += scnt[q]; }
  }
  agree(L, ok == 1 ? NULL : ok ? "sort: more than 2 GB to send from one rank" : "sort: out of memory");
  MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm);
  long long got = 0;
  for (int r = 0; r < size && ok == 1; r++) {
    if ((long long)rcnt[r] > INT_MAX - got) ok = -1;
    else { rdis[r] = (int)got; got += rcnt[r]; }
  }
  char *sbuf = ok == 1 ? malloc((size_t)sent + 1) : NULL;
  char *rbuf = ok == 1 ? malloc((size_t)got + 1) : NULL;
  if (ok == 1 && (!sbuf || !rbuf)) ok = 0;
  if (ok != 1) { free(sbuf); free(rbuf); }
  agree(L, ok == 1 ? NULL : ok ? "sort: more than 2 GB to receive on one rank" : "sort: out of memory");
  for (int q = 0; q < size; q++) memcpy(sbuf + sdis[q], out->at[q], (size_t)scnt[q]);
  MPI_Alltoallv(sbuf, scnt, sdis, MPI_BYTE, rbuf, rcnt, rdis, MPI_BYTE, comm);
  free(sbuf);
  in->buf[0] = rbuf;   /* owns the whole; the others point into it */
  for (int r = 0; r < size; r++) {
    in->at[r] = rbuf + rdis[r];
    in->len[r] = (size_t)rcnt[r];
    if (r != rank) bytes_received += (uint64_t)rcnt[r];
  }
  bytes_sent += (uint64_t)(sent - scnt[rank]);
  exchanges++;
  lua_remove(L, -2);   /* the counts' box */
  return in;
}

/* t:sort(...): a sample sort. Each rank sorts its share; the ranks pool
** samples of their keys and choose size - 1 splitters; each rank's sorted
** rows are cut at the splitters and sent to the rank of their slice, which
** sorts what it gets (stable, the senders in rank order, so ties keep the
** rows' global order as one process's stable sort does). Rank r then holds
** the r-th slice of the order. */
static int dt_sort(lua_State *L) {
  begin(L, OP_SORT);
  int top = lua_gettop(L), nk;
  const char **keys = lt_string_args(L, 2, "sort", 0, &nk);
  push_local(L, 1);
  local_call(L, -1, "sort", 2, top);
  tl_table *ls = tally_check_table(L, -1);
  const char **names = key_columns(L, ls, keys, nk);
  tl_error err;
  err.message[0] = '\0';

  /* Samples: evenly spaced rows of the key columns. */
  int64_t n = tl_table_nrows(ls), m = n < SAMPLES ? n : SAMPLES;
  int64_t rows[SAMPLES];
  for (int64_t i = 0; i < m; i++) rows[i] = (2 * i + 1) * n / (2 * m);
  lt_table *kt = lt_new_table(L), *st_ = lt_new_table(L);
  tl_status st = tl_table_select(ls, nk, names, &kt->t, &err);
  if (st == TL_OK) st = tl_table_take(kt->t, rows, m, &st_->t, &err);
  agree_status(L, st, &err);
  tables *ts = all_tables(L, st_->t, "sort");
  lt_table *pool = lt_new_table(L), *spl = lt_new_table(L), *pooled = lt_new_table(L);
  st = tl_table_concat(ts->n, (const tl_table *const *)ts->t, &pooled->t, &err);
  if (st == TL_OK) st = tl_table_sort(pooled->t, nk, keys, &pool->t, &err);
  int64_t np = st == TL_OK ? tl_table_nrows(pool->t) : 0, nspl = np ? size - 1 : 0;
  int64_t *at = lua_newuserdatauv(L, (size_t)(size + 1) * sizeof *at, 0);
  for (int64_t q = 0; q < nspl; q++) at[q] = (q + 1) * np / size;
  if (st == TL_OK) st = tl_table_take(pool->t, at, nspl, &spl->t, &err);

  /* The cuts of this rank's sorted rows, and the slices to send. */
  int64_t *cut = lua_newuserdatauv(L, (size_t)(size + 1) * sizeof *cut, 0);
  cut[0] = 0;
  for (int q = 1; q <= size; q++) cut[q] = n;
  if (st == TL_OK && nspl) st = tl_table_sorted_counts(ls, spl->t, nk, keys, cut + 1, &err);
  agree_status(L, st, &err);
  shares *out = new_shares(L, 1);
  st = out ? TL_OK : oom(&err, "sort");
  for (int q = 0; q < size && st == TL_OK; q++) {
    tl_table *slice = NULL;
    void *buf = NULL;
    st = tl_table_slice(ls, cut[q], cut[q + 1] - cut[q], &slice, &err);
    if (st == TL_OK) st = tl_table_encode(slice, &buf, &out->len[q], &err);
    tl_table_release(slice);
    out->buf[q] = buf;
    out->at[q] = buf;
  }
  agree_status(L, st, &err);
  shares *in = all_to_all(L, out);

  /* What came in, in rank order, sorted. */
  tables *got = decode_all(L, in, "sort");
  lt_table *mine = lt_new_table(L), *res = lt_new_table(L);
  st = tl_table_concat(got->n, (const tl_table *const *)got->t, &mine->t, &err);
  if (st == TL_OK) st = tl_table_sort(mine->t, nk, keys, &res->t, &err);
  agree_status(L, st, &err);
  push_dtable(L, -1);
  return 1;
}

/* ---------------------------------------------------------------------------
** Aggregation: partial states, exchanged and merged in rank order.
*/

static void partial_free(void *p) { tl_partial_free(p); }

/* Every rank's partial p, merged in rank order; pushes the result table. */
static void push_merged(lua_State *L, tl_partial *p, const tl_scope *scope) {
  tl_error err;
  void *buf = NULL;
  size_t len = 0;
  err.message[0] = '\0';
  lt_box *bb = lt_newbox(L, tl_free);
  tl_status st = tl_partial_encode(p, &buf, &len, &err);
  bb->p = buf;
  agree_status(L, st, &err);
  shares *s = exchange(L, buf, len);
  lt_box *acc = lt_newbox(L, partial_free), *next = lt_newbox(L, partial_free);
  tl_partial *q = NULL;
  st = tl_partial_decode(s->at[0], s->len[0], scope, &q, &err);
  acc->p = q;
  for (int r = 1; r < size && st == TL_OK; r++) {
    q = NULL;
    st = tl_partial_decode(s->at[r], s->len[r], scope, &q, &err);
    next->p = q;
    if (st == TL_OK) st = tl_partial_merge(acc->p, q, &err);
    tl_partial_free(q);
    next->p = NULL;
  }
  lt_table *ud = lt_new_table(L);
  if (st == TL_OK) st = tl_partial_finish(acc->p, &ud->t, &err);
  agree_status(L, st, &err);
}

/* The definitions from argument `first` on, and the scope they are made
** in: pushes what keeps them alive. */
static const char **definitions(lua_State *L, int first, tl_scope *scope, int *n) {
  lt_definitions_to_strings(L, first);
  const char **defs = lt_string_args(L, first, "agg", 0, n);
  lt_scope(L, scope);
  return defs;
}

static int dt_agg(lua_State *L) {
  begin(L, OP_AGG);
  int n;
  tl_scope scope;
  lua_settop(L, lua_gettop(L) < 1 ? 1 : lua_gettop(L));
  tl_table *t = push_local(L, 1);
  lua_pop(L, 1);   /* the distributed table holds it */
  const char **defs = definitions(L, 2, &scope, &n);
  lt_box *pb = lt_newbox(L, partial_free);
  tl_partial *p = NULL;
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_table_partial(t, n, defs, &scope, &p, &err);
  pb->p = p;
  agree_status(L, st, &err);
  push_merged(L, p, &scope);
  return 1;
}

/* The distributed grouping: user value 1 the local tally.Grouping, 2 the
** distributed table. */
static int dt_group_by(lua_State *L) {
  begin(L, OP_GROUP_BY);
  int top = lua_gettop(L);
  push_local(L, 1);
  local_call(L, -1, "group_by", 2, top);
  lua_newuserdatauv(L, 0, 2);
  luaL_setmetatable(L, LT_DGROUPING);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 2);
  return 1;
}

static tl_grouping *local_grouping(lua_State *L, int idx) {
  luaL_checkudata(L, idx, LT_DGROUPING);
  lua_getiuservalue(L, idx, 1);
  lt_grouping *g = luaL_checkudata(L, -1, LT_GROUPING);
  lua_pop(L, 1);   /* the distributed grouping holds it */
  if (!g->g) luaL_argerror(L, idx, "grouping is closed");
  return g->g;
}

static int grouped_agg(lua_State *L) {
  int n;
  tl_scope scope;
  tl_grouping *g = local_grouping(L, 1);
  const char **defs = definitions(L, 2, &scope, &n);
  lt_box *pb = lt_newbox(L, partial_free);
  tl_partial *p = NULL;
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_grouping_partial(g, n, defs, &scope, &p, &err);
  pb->p = p;
  agree_status(L, st, &err);
  push_merged(L, p, &scope);
  return 1;
}

static int dg_agg(lua_State *L) {
  begin(L, OP_GROUPED_AGG);
  return grouped_agg(L);
}

static int dg_count(lua_State *L) {
  begin(L, OP_GROUPED_COUNT);
  lua_settop(L, 1);
  lua_pushliteral(L, "n = count()");
  return grouped_agg(L);
}

/* #g: the number of groups on every rank together (collective: the groups
** are merged across the ranks to count them). */
static int dg_len(lua_State *L) {
  begin(L, OP_GROUPED_LEN);
  lua_settop(L, 1);
  grouped_agg(L);
  lua_pushinteger(L, (lua_Integer)tl_table_nrows(tally_check_table(L, -1)));
  return 1;
}

static int dg_tostring(lua_State *L) {
  luaL_checkudata(L, 1, LT_DGROUPING);
  lua_getiuservalue(L, 1, 1);
  lua_pushfstring(L, "Distributed%s over %d rank%s", luaL_tolstring(L, -1, NULL), size,
                  size == 1 ? "" : "s");
  return 1;
}

/* ---------------------------------------------------------------------------
** tally.mpi.read_csv: each rank reads its share of the bytes of the files.
*/

/* Where a rank's span of the files ends, for the rank after it. */
typedef struct cut {
  long long file;       /* the last file the span touches; -1: none */
  long long quotes, lines;   /* in the span's part of that file */
} cut;

/* Pushes the file list (argument 1: a path or a list of paths) as a Lua
** array and returns its length. */
static int path_list(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    return 1;
  }
  luaL_argexpected(L, lua_type(L, 1) == LUA_TTABLE, 1, "a path or a list of paths");
  int n = (int)lt_array_len(L, 1, "tally.mpi.read_csv", "the list of paths", LT_OTHER_KEYS,
                            LT_MAX_INT);
  if (n == 0) luaL_argerror(L, 1, "no files");
  lua_createtable(L, n, 0);
  for (int k = 1; k <= n; k++) {
    if (lua_geti(L, 1, k) != LUA_TSTRING)
      luaL_error(L, "tally.mpi.read_csv: path %d is not a string", k);
    lua_rawseti(L, -2, k);
  }
  return n;
}

/* Calls tally.read_csv(path, opts + range) protected: pushes the table or
** returns the error message (pushed). The quote parity and line number at
** the cut come from the ranks before; records are numbered from the cut
** (range_record 1), which spares a walk over the bytes before it. On an
** error the range is read again the exact way (range_quotes -1: the reader
** walks from the file's start), so the message names the record as a
** single read would, and a '"' outside quotes that fooled the parity is
** read right. */
static const char *read_range(lua_State *L, int paths, int k, int opts, int64_t from,
                              int64_t to, long long quotes, long long line, int types) {
  const char *msg = NULL;
  for (int exact = 0; exact < 2; exact++) {
    if (msg) lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "tally");
    lua_getfield(L, -1, "read_csv");
    lua_replace(L, -3);
    lua_pop(L, 1);
    lua_geti(L, paths, k);
    lua_createtable(L, 0, 12);   /* a copy of the options, with the range */
    if (opts) {
      lua_pushnil(L);
      while (lua_next(L, opts)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
      }
    }
    if (types) {   /* the types the ranks agreed on */
      lua_pushvalue(L, types);
      lua_setfield(L, -2, "types");
    }
    if (from > 0 || to > 0) {
      lua_pushinteger(L, (lua_Integer)from);
      lua_setfield(L, -2, "range_start");
      lua_pushinteger(L, (lua_Integer)to);
      lua_setfield(L, -2, "range_stop");
    }
    if (from > 0 && !exact) {
      lua_pushinteger(L, (lua_Integer)(quotes & 1));
      lua_setfield(L, -2, "range_quotes");
      lua_pushinteger(L, (lua_Integer)line);
      lua_setfield(L, -2, "range_line");
      lua_pushinteger(L, 1);
      lua_setfield(L, -2, "range_record");
    }
    if (lua_pcall(L, 2, 1, 0) == LUA_OK) return NULL;
    msg = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    if (from == 0) break;   /* read from the start: already exact */
  }
  return msg;
}

/* A column type the ranks agree on, from each rank's (type, 1 when it saw a
** value): the narrowest that holds every rank's values, as one reader of
** the whole would have inferred. */
static int agreed_type(const int *types, const int *seen, int n) {
  int t = 0, mixed = 0;
  for (int r = 0; r < n; r++) {
    if (!seen[r]) continue;
    if (!t) { t = types[r]; continue; }
    if (types[r] == t) continue;
    if ((t == TL_INT || t == TL_FLOAT) && (types[r] == TL_INT || types[r] == TL_FLOAT)) t = TL_FLOAT;
    else if ((t == TL_DATE || t == TL_TIMESTAMP) && (types[r] == TL_DATE || types[r] == TL_TIMESTAMP))
      t = TL_TIMESTAMP;
    else mixed = 1;
  }
  if (mixed) return TL_STRING;
  return t ? t : types[0];
}

/* This rank's part [from, to) of file f (0-based), or 0 when it has none. */
static int part(const int64_t *sizes, int f, int64_t lo, int64_t hi, int64_t *from, int64_t *to) {
  int64_t at = 0;
  for (int k = 0; k < f; k++) at += sizes[k];
  *from = lo > at ? lo - at : 0;
  *to = hi < at + sizes[f] ? hi - at : sizes[f];
  return *from < *to;
}

/* Reads this rank's parts of the files and concatenates them; pushes the
** table, or returns the error message (pushed). A rank with no part reads
** the first file's header only. `types`: a stack index of forced types, or
** 0. */
static const char *read_share(lua_State *L, int paths, int nfiles, int opts, const int64_t *sizes,
                              int64_t lo, int64_t hi, const cut *cuts, int types) {
  int base = lua_gettop(L), nread = 0;
  const char *msg = NULL;
  for (int f = 0; f < nfiles && !msg; f++) {
    int64_t from, to;
    if (!part(sizes, f, lo, hi, &from, &to)) continue;
    long long quotes = 0, lines = 0;
    for (int r = 0; r < rank; r++)   /* what the ranks before saw of this file */
      if (cuts[r].file == f) { quotes += cuts[r].quotes; lines += cuts[r].lines; }
    msg = read_range(L, paths, f + 1, opts, from, to == sizes[f] ? 0 : to, quotes,
                     from ? lines + 1 : 0, types);
    nread++;
  }
  if (!msg && nread == 0) {
    msg = read_range(L, paths, 1, opts, sizes[0], 0, 0, 0, types);
    nread = 1;
  }
  if (!msg && nread > 1) {
    tl_table **ts = lua_newuserdatauv(L, (size_t)nread * sizeof *ts, 0);
    for (int k = 0; k < nread; k++) ts[k] = tally_check_table(L, base + 1 + k);
    lt_table *ud = lt_new_table(L);
    tl_error err;
    err.message[0] = '\0';
    if (tl_table_concat(nread, (const tl_table *const *)ts, &ud->t, &err) != TL_OK)
      msg = lua_pushstring(L, err.message);
  }
  if (msg) return msg;
  if (nread > 1) lua_replace(L, base + 1);   /* the concatenation */
  lua_settop(L, base + 1);
  return NULL;
}

/* A hash of a table's column names, to check that the ranks agree. */
static unsigned long long names_hash(const tl_table *t) {
  unsigned long long h = 0xcbf29ce484222325ull;
  for (int j = 0; j < tl_table_ncols(t); j++) {
    for (const char *p = tl_table_name(t, j); ; p++) {
      h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
      if (!*p) break;
    }
  }
  return h;
}

/* The ranks' shares must have the same columns. A share without rows that
** lacks them (its range held no record, and without a header there is
** nothing else to name the columns) takes them from the lowest rank with
** rows: its table at `tab` is replaced by an empty one of that schema. */
static void agree_columns(lua_State *L, int tab) {
  tl_table *t = tally_check_table(L, tab);
  unsigned long long mine[2] = { names_hash(t), (unsigned long long)tl_table_nrows(t) };
  unsigned long long *all = lua_newuserdatauv(L, 2 * (size_t)size * sizeof *all, 0);
  MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG, comm);
  int model = -1, differ = 0;
  for (int r = 0; r < size; r++) {
    if (!all[2 * r + 1]) continue;
    if (model < 0) model = r;
    else differ |= all[2 * r] != all[2 * model];
  }
  agree(L, differ ? "tally.mpi.read_csv: the ranks' shares do not have the same columns "
                    "(the files' headers differ)" : NULL);
  if (model < 0) return;   /* no rows anywhere: every rank read the same header */
  int need = 0, needed = 0;   /* does any rank lack the columns? */
  need = mine[0] != all[2 * model];
  MPI_Allreduce(&need, &needed, 1, MPI_INT, MPI_MAX, comm);
  if (!needed) return;
  lt_box *bb = lt_newbox(L, tl_free), *rb = lt_newbox(L, free);
  tl_error err;
  err.message[0] = '\0';
  size_t len = 0;
  tl_status st = TL_OK;
  if (rank == model) {
    void *buf = NULL;
    tl_table *empty = NULL;
    st = tl_table_slice(t, 0, 0, &empty, &err);
    if (st == TL_OK) st = tl_table_encode(empty, &buf, &len, &err);
    tl_table_release(empty);
    bb->p = buf;
  }
  agree_status(L, st, &err);
  unsigned long long n = len;
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, model, comm);
  void *p = rank == model ? bb->p : (rb->p = malloc((size_t)n + 1));
  if (!p) st = oom(&err, "read_csv");
  agree_status(L, st, &err);
  MPI_Bcast(p, (int)n, MPI_BYTE, model, comm);
  if (need) {
    lt_table *ud = lt_new_table(L);
    st = tl_table_decode(p, (size_t)n, "read_csv", &ud->t, &err);
    if (st == TL_OK) lua_replace(L, tab);
  }
  agree_status(L, st, &err);
}

/* tally.mpi.read_csv(path | {paths...}, opts): the files, taken as one
** stream of bytes, cut into as many spans as there are ranks; a rank reads
** the records that start in its span (tl_csv_options' ranges), knowing
** from the ranks before it the quote parity and line number where its span
** begins, so that every record is read by exactly one rank. */
static int l_read_csv(lua_State *L) {
  begin(L, OP_READ_CSV);
  lua_settop(L, 2);
  int opts = 0;
  if (!lua_isnil(L, 2)) {
    static const char *const mine[] = {
      "range_start", "range_stop", "range_quotes", "range_line", "range_record", NULL
    };
    luaL_checktype(L, 2, LUA_TTABLE);
    opts = 2;
    for (int k = 0; mine[k]; k++) {   /* the ranks' cuts are this function's to set */
      if (lua_getfield(L, opts, mine[k]) != LUA_TNIL)
        return luaL_error(L, "tally.mpi.read_csv: option '%s' is set by tally.mpi itself",
                          mine[k]);
      lua_pop(L, 1);
    }
  }
  int nfiles = path_list(L), paths = lua_gettop(L);
  int64_t *sizes = lua_newuserdatauv(L, (size_t)nfiles * sizeof *sizes, 0);
  cut *cuts = lua_newuserdatauv(L, (size_t)size * sizeof *cuts, 0);
  const char *msg = NULL;
  int64_t total = 0;
  for (int f = 0; f < nfiles && !msg; f++) {
    lua_geti(L, paths, f + 1);
    const char *path = lua_tostring(L, -1);
    struct stat sb;
    int e = stat(path, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : 0;
    if (e)
      msg = lua_pushfstring(L, "read_csv: cannot open '%s': %s", path, strerror(e));
    else
      sizes[f] = (int64_t)sb.st_size, total += sizes[f];
  }
  agree(L, msg);
  lua_settop(L, paths + 2);

  /* This rank's bytes of the concatenation, and what it sees there. */
  int64_t lo = total / size * rank + (rank < total % size ? rank : total % size);
  int64_t hi = lo + total / size + (rank < total % size);
  cut mine = { -1, 0, 0 };
  tl_error err;
  err.message[0] = '\0';
  tl_status st = TL_OK;
  for (int f = 0; f < nfiles && st == TL_OK; f++) {
    int64_t from, to, q = 0, n = 0;
    if (!part(sizes, f, lo, hi, &from, &to)) continue;
    lua_geti(L, paths, f + 1);
    st = tl_csv_scan_range(lua_tostring(L, -1), from, to, &q, &n, &err);
    lua_pop(L, 1);
    mine.file = f;
    mine.quotes = q;
    mine.lines = n;
  }
  agree_status(L, st, &err);
  MPI_Allgather(&mine, 3, MPI_LONG_LONG, cuts, 3, MPI_LONG_LONG, comm);

  agree(L, read_share(L, paths, nfiles, opts, sizes, lo, hi, cuts, 0));
  int tab = lua_gettop(L);
  agree_columns(L, tab);
  lua_settop(L, tab);
  tl_table *t = tally_check_table(L, tab);

  /* Agree on the column types; a rank that inferred another type reads its
  ** share again with the agreed ones forced. */
  int ncol = tl_table_ncols(t);
  int *mytypes = lua_newuserdatauv(L, (size_t)(2 * ncol + 1) * sizeof *mytypes, 0);
  int *alltypes = lua_newuserdatauv(L, (size_t)(2 * ncol * size + 1) * sizeof *alltypes, 0);
  for (int j = 0; j < ncol; j++) {
    const tl_column *c = tl_table_column(t, j);
    mytypes[2 * j] = (int)tl_column_type(c);
    mytypes[2 * j + 1] = tl_column_null_count(c) < tl_column_length(c);
  }
  MPI_Allgather(mytypes, 2 * ncol, MPI_INT, alltypes, 2 * ncol, MPI_INT, comm);
  int *ty = lua_newuserdatauv(L, (size_t)(2 * size + 1) * sizeof *ty, 0);
  int differ = 0;
  lua_newtable(L);
  int forced = lua_gettop(L);
  for (int j = 0; j < ncol; j++) {
    for (int r = 0; r < size; r++) {
      ty[r] = alltypes[r * 2 * ncol + 2 * j];
      ty[size + r] = alltypes[r * 2 * ncol + 2 * j + 1];
    }
    int want = agreed_type(ty, ty + size, size);
    lua_pushstring(L, tl_type_name((tl_type)want));
    lua_setfield(L, forced, tl_table_name(t, j));
    differ |= want != mytypes[2 * j];
  }
  if (opts && lua_getfield(L, opts, "types") == LUA_TTABLE) {   /* the caller's own win */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, forced);
    }
  }
  lua_settop(L, forced);
  msg = differ ? read_share(L, paths, nfiles, opts, sizes, lo, hi, cuts, forced) : NULL;
  agree(L, msg);
  if (differ) lua_replace(L, tab);
  lua_settop(L, tab);
  push_dtable(L, tab);
  return 1;
}

/* tally.mpi.distribute(t): a table every rank holds (the same on each),
** split into shares, rank r keeping the r-th slice of its rows. */
static int l_distribute(lua_State *L) {
  begin(L, OP_DISTRIBUTE);
  tl_table *t = tally_check_table(L, 1);
  int64_t n = tl_table_nrows(t);
  int64_t from = n / size * rank + (rank < n % size ? rank : n % size);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_table_slice(t, from, n / size + (rank < n % size), &ud->t, &err);
  agree_status(L, st, &err);
  push_dtable(L, -1);
  return 1;
}

/* tally.mpi.wrap(t): each rank's own rows (e.g. its own file) as the
** shares of one distributed table; their columns must agree. Collective,
** as every function that makes a distributed table. */
static int l_wrap(lua_State *L) {
  begin(L, OP_WRAP);
  tally_check_table(L, 1);
  push_dtable(L, 1);
  return 1;
}

static int l_barrier(lua_State *L) {
  begin(L, OP_BARRIER);
  MPI_Barrier(comm);
  return 0;
}

/* tally.mpi.stats(): what this rank has exchanged so far. */
static int l_stats(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)exchanges);
  lua_setfield(L, -2, "exchanges");
  lua_pushinteger(L, (lua_Integer)bytes_sent);
  lua_setfield(L, -2, "bytes_sent");
  lua_pushinteger(L, (lua_Integer)bytes_received);
  lua_setfield(L, -2, "bytes_received");
  return 1;
}

/* tally.mpi.rank and tally.mpi.size start MPI when first read. */
static int mpi_index(lua_State *L) {
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "rank") == 0 || strcmp(k, "size") == 0) {
    start();
    lua_pushinteger(L, k[0] == 'r' ? rank : size);
    return 1;
  }
  return 0;
}

void lt_open_mpi(lua_State *L) {
  static const luaL_Reg dt_methods[] = {
    {"filter", dt_filter}, {"mutate", dt_mutate}, {"select", dt_select},
    {"drop", dt_drop}, {"rename", dt_rename}, {"ncol", dt_ncol}, {"names", dt_names},
    {"schema", dt_schema}, {"local_rows", dt_local},
    {"gather", dt_gather}, {"top", dt_top}, {"distinct", dt_distinct}, {"head", dt_head},
    {"count_distinct", dt_count_distinct}, {"sort", dt_sort}, {"agg", dt_agg},
    {"group_by", dt_group_by}, {NULL, NULL}
  };
  static const luaL_Reg dt_meta[] = {
    {"__len", dt_len}, {"__tostring", dt_tostring}, {NULL, NULL}
  };
  static const luaL_Reg dg_methods[] = {
    {"agg", dg_agg}, {"count", dg_count}, {NULL, NULL}
  };
  static const luaL_Reg dg_meta[] = {
    {"__len", dg_len}, {"__tostring", dg_tostring}, {NULL, NULL}
  };
  static const luaL_Reg funcs[] = {
    {"read_csv", l_read_csv}, {"distribute", l_distribute}, {"wrap", l_wrap},
    {"barrier", l_barrier}, {"stats", l_stats}, {NULL, NULL}
  };
  luaL_newmetatable(L, LT_DTABLE);
  luaL_setfuncs(L, dt_meta, 0);
  luaL_newlib(L, dt_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, LT_DGROUPING);
  luaL_setfuncs(L, dg_meta, 0);
  luaL_newlib(L, dg_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, mpi_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "mpi");
}
