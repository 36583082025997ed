/*
** main.c -- the tally executable: runs scripts with the tally module loaded,
** and a REPL where tables print themselves. Command line and REPL follow
** lua(1).
*/
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "tally/tally.h"
#include "tally_lua.h"
#include "sandbox.h"
#ifdef TALLY_HAVE_MPI
#include "lmpi.h"
#endif
#ifdef TALLY_TESTING
int luaopen_tally_testing(lua_State *L);       /* bindings/lua/ltesting.c */
#endif

#ifdef TALLY_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#define PROMPT "> "
#define PROMPT2 ">> "
#define MAXINPUT 512            /* a line of the fgets fallback */
#define HISTORY_FILE ".tally_history"
#define HISTORY_MAX 1000

#define EXIT_ERROR 1
#define EXIT_USAGE 2

static lua_State *globalL = NULL;
static tl_env *globalenv = NULL;               /* globalL's, once tally is open */
static const char *progname = "tally";
static int sandboxed = 0;                      /* --sandbox: see sandbox.c */
static int traceback_flag = 0;                 /* --traceback: at the prompt too */
static volatile sig_atomic_t prompt_interrupted = 0;   /* Ctrl-C while reading a line */
#ifdef TALLY_HAVE_MPI
static int own_error = 0;                      /* the last error was this rank's alone */
#endif

/* ---------------------------------------------------------------------------
** Interrupts: the handler only sets a hook; the hook raises the error at
** the next safe point of the running Lua code.
*/

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* Installs handler for SIGINT (without SA_RESTART, so that a read waiting
** at the prompt returns EINTR); *old gets the previous action when given. */
static void set_sigint_old(void (*handler)(int), struct sigaction *old) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, old);
}

static void set_sigint(void (*handler)(int)) { set_sigint_old(handler, NULL); }

/* At the prompt Ctrl-C only marks the line as dropped: the read that waits
** for a key returns EINTR and the REPL starts a fresh line. */
static void prompt_action(int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/* In a sandbox the limits live in the hook: the interrupt goes through
** that hook rather than replacing it, so that a script catching
** "interrupted!" stays under its limits. */
static void laction(int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  (void)sig;
  set_sigint(SIG_DFL);                           /* a second Ctrl-C kills */
  tl_interrupt();                                /* a scan in C stops between vectors */
  if (globalenv) tally_lua_interrupt(globalenv); /* and Lua code on the workers */
  if (!tally_sandbox_interrupt(globalL))
    lua_sethook(globalL, lstop, flag, 1);
}

/* ---------------------------------------------------------------------------
** Messages
*/

static void print_usage(const char *badoption) {
  if (badoption[1] == 'e' || badoption[1] == 'l')
    fprintf(stderr, "%s: '%s' needs an argument\n", progname, badoption);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badoption);
  fprintf(stderr, "usage: %s [options] [script [args]]\n"
                  "Try '%s --help' for more information.\n", progname, progname);
}

static void print_help(void) {
  printf("usage: %s [options] [script [args]]\n"
         "Run Lua scripts with the tally module loaded, or an interactive session.\n"
         "\n"
         "Available options are:\n"
         "  -e stat   execute string 'stat'\n"
         "  -i        enter interactive mode after executing 'script'\n"
         "  -l mod    require library 'mod' into global 'mod' (-l g=mod: into 'g')\n"
         "  -v        show version information (also --version)\n"
         "  -E        ignore the TALLY_INIT environment variable\n"
         "  -W        turn warnings on\n"
         "  --traceback       errors typed at the prompt show their traceback\n"
         "  --sandbox         run untrusted code: no files, os, debug or C modules\n"
         "  --memory SIZE     sandbox memory limit (default 1G)\n"
         "  --time SECONDS    sandbox wall-clock limit (default 10)\n"
         "  --instructions N  sandbox limit of Lua instructions (default none)\n"
         "  -h        show this help (also --help)\n"
         "  --        stop handling options\n"
         "  -         execute stdin and stop handling options\n"
         "\n"
         "A data file (.csv, .tsv, .json, .ndjson, .parquet, ...) given as the script is\n"
         "loaded with tally.read as the table 't' before the session starts.\n"
         "With no arguments, tally starts a session when stdin is a terminal and\n"
         "runs stdin otherwise.\n", progname);
}

static void print_version(void) {
  printf("tally %s (%s)\n", TALLY_VERSION, LUA_RELEASE);
  fflush(stdout);
}

/* How chunks load: in the sandbox as text only, since a crafted binary
** chunk reads and writes any memory; outside it bytecode is trusted code,
** as in lua(1). */
static const char *chunk_mode(void) {
  return sandboxed ? "t" : NULL;
}

/* Lua's message for a refused binary chunk names no chunk: add where. */
static int name_refusal(lua_State *L, int status, const char *where) {
  static const char refused[] = "attempt to load a binary chunk";
  const char *msg = status == LUA_ERRSYNTAX ? lua_tostring(L, -1) : NULL;
  if (msg && strncmp(msg, refused, sizeof refused - 1) == 0) {
    lua_pushfstring(L, "%s: %s", where, msg);
    lua_remove(L, -2);
  }
  return status;
}

static int loadbuffer(lua_State *L, const char *s, size_t n, const char *name) {
  int status = luaL_loadbufferx(L, s, n, name, chunk_mode());
  return name_refusal(L, status, name[0] == '=' || name[0] == '@' ? name + 1 : name);
}

static int loadfile(lua_State *L, const char *path) {
  return name_refusal(L, luaL_loadfilex(L, path, chunk_mode()), path ? path : "stdin");
}

static void l_message(const char *pname, const char *msg) {
  if (pname)
    fprintf(stderr, "%s: ", pname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

static int p_tostring(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}

/* The error object at idx as text, as luaL_tolstring makes it (__tostring,
** __name), under protection; pushes the text and returns it, or NULL (with
** nothing pushed) when the object has neither metafield or its __tostring
** fails. */
static const char *object_text(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL) {
    if (luaL_getmetafield(L, idx, "__name") == LUA_TNIL)
      return NULL;
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, p_tostring);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    return NULL;
  }
  return lua_tostring(L, -1);
}

/* Prints the error object on the top of the stack, if status is an error. */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    tally_sandbox_explain(L);                    /* names a limit that stopped it */
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL && (msg = object_text(L, -1)) != NULL)
      lua_replace(L, -2);                        /* the text in the object's place */
    if (msg == NULL)
      msg = "(error object is not a string)";
#ifdef TALLY_HAVE_MPI
    if (lt_mpi_size() > 1) {                     /* one job, many ranks */
      own_error = !lt_mpi_agreed(L, msg);
      if (own_error)
        fprintf(stderr, "%s [rank %d of %d]: %s\n", progname, lt_mpi_rank(), lt_mpi_size(), msg);
      else if (lt_mpi_rank() == 0)               /* every rank has it: say it once */
        l_message(progname, msg);
      fflush(stderr);
      lua_pop(L, 1);
      return status;
    }
#endif
    l_message(progname, msg);
    lua_pop(L, 1);
  }
  return status;
}

static int at_prompt = 0;                      /* a statement typed at the prompt runs */

/* Whether an error typed at the prompt shows its traceback: --traceback,
** or tally.options{ traceback = true } (kept by the binding). */
static int want_traceback(lua_State *L) {
  int on = traceback_flag;
  if (!on) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, TALLY_OPTIONS_KEY) == LUA_TTABLE) {
      lua_getfield(L, -1, "traceback");
      on = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  return on;
}

/* Message handler: adds a traceback (at the prompt only when asked for);
** other error objects become their text as luaL_tolstring makes it
** (__tostring, __name), without one. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (object_text(L, 1) != NULL)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  if (at_prompt && !want_traceback(L))
    return 1;                                    /* the message alone */
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the function below its narg arguments with the message handler
** and Ctrl-C armed. */
static int docall(lua_State *L, int narg, int nres) {
  int status, base = lua_gettop(L) - narg;
  struct sigaction old;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  globalenv = tally_lua_env(L);
  tl_clear_interrupt();
  if (globalenv) tl_env_clear_interrupt(globalenv);
  set_sigint_old(laction, &old);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);                 /* the prompt's handler in the REPL */
  tl_clear_interrupt();
  if (globalenv) tl_env_clear_interrupt(globalenv);
  lua_remove(L, base);
  return status;
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK)
    status = docall(L, 0, 0);
  return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, loadbuffer(L, s, strlen(s), name));
}

/* -l mod or -l g=mod: g = require(mod) */
static int dolibrary(lua_State *L, char *spec) {
  int status;
  char *eq = strchr(spec, '=');
  const char *mod = spec, *global = spec;
  if (eq != NULL) {
    *eq = '\0';
    mod = eq + 1;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = docall(L, 1, 1);
  if (status == LUA_OK)
    lua_setglobal(L, global);
  return report(L, status);
}

/* ---------------------------------------------------------------------------
** Arguments
*/

/* arg[0] is the script, arg[1..] its arguments, and the interpreter and its
** options at negative indexes, as in lua(1). */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  if (script == argc)
    script = 0;                                  /* no script: arg[0] is the program */
  narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int pushargs(lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

/* A data file tally.read opens (by its extension: .csv, .parquet, ...). */
static int ends_with_csv(const char *s) {
  return tally_lua_file_format(s) != NULL;
}

/* `tally data.csv`: the table as global t, its schema shown. */
static int load_csv(lua_State *L, const char *path) {
  static const char show[] =
    "local t, path = ...\n"
    "print(string.format('t = %s: %d rows x %d columns', path, #t, t:ncol()))\n"
    "for _, c in ipairs(t:schema()) do\n"
    "  print(string.format('  %-24s %-9s %s', c.name, c.type,\n"
    "                      c.nulls > 0 and c.nulls .. ' nulls' or ''):match('^(.-)%s*$'))\n"
    "end\n"
    "print()\n"
    "t:show(10)\n";
  int status;
  lua_getglobal(L, "tally");
  lua_getfield(L, -1, "read");
  lua_remove(L, -2);
  lua_pushstring(L, path);
  status = docall(L, 1, 1);
  if (status != LUA_OK)
    return report(L, status);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "t");
  status = loadbuffer(L, show, sizeof show - 1, "=schema");
  if (status == LUA_OK) {
    lua_insert(L, -2);
    lua_pushstring(L, path);
    status = docall(L, 2, 0);
  }
  return report(L, status);
}

static int handle_script(lua_State *L, char **argv) {
  int status;
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    fname = NULL;                                /* stdin */
  status = loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

#define has_error 1
#define has_i 2
#define has_v 4
#define has_e 8
#define has_E 16
#define has_h 32

/* Scans the options; *first gets the index of the script (argc when there
** is none, or the bad option on error). */
static int collectargs(char **argv, int *first) {
  int args = 0, i;
  *first = 0;
  if (argv[0] == NULL)
    return 0;
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-')
      return args;
    if (strcmp(argv[i], "--version") == 0) {
      args |= has_v;
      continue;
    }
    if (strcmp(argv[i], "--traceback") == 0) {
      traceback_flag = 1;                        /* errors at the prompt too */
      continue;
    }
    if (strcmp(argv[i], "--help") == 0) {
      args |= has_h;
      continue;
    }
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] != '\0')
          return has_error;
        *first = i + 1;
        return args;
      case '\0':
        return args;                             /* '-': the script is stdin */
      case 'E':
        if (argv[i][2] != '\0')
          return has_error;
        args |= has_E;
        break;
      case 'W':
        if (argv[i][2] != '\0')
          return has_error;
        break;
      case 'i':
        args |= has_i;                           /* and -v, as in lua(1) */
        /* FALLTHROUGH */
      case 'v':
        if (argv[i][2] != '\0')
          return has_error;
        args |= has_v;
        break;
      case 'h':
        if (argv[i][2] != '\0')
          return has_error;
        args |= has_h;
        break;
      case 'e':
        args |= has_e;                           /* takes an argument, as -l */
        /* FALLTHROUGH */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-')
            return has_error;
        }
        break;
      default:
        return has_error;
    }
  }
  *first = i;
  return args;
}

/* Runs -e and -l, in order; -W turns warnings on. */
static int runargs(lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    int option = argv[i][1];
    if (argv[i][0] != '-' || argv[i][1] == '-')
      continue;
    if (option == 'W') {
      lua_warning(L, "@on", 0);
    } else if (option == 'e' || option == 'l') {
      int status;
      char *extra = argv[i] + 2;
      if (*extra == '\0')
        extra = argv[++i];
      status = option == 'e' ? dostring(L, extra, "=(command line)")
                             : dolibrary(L, extra);
      if (status != LUA_OK)
        return 0;
    }
  }
  return 1;
}

static int handle_init(lua_State *L) {
  const char *init = getenv("TALLY_INIT");
  if (init == NULL)
    return LUA_OK;
  if (init[0] == '@')
    return dochunk(L, loadfile(L, init + 1));
  return dostring(L, init, "=TALLY_INIT");
}

/* ---------------------------------------------------------------------------
** The REPL
*/

#ifdef TALLY_HAVE_LIBEDIT
static char history_path[4096];
static int use_editline = 0;
static lua_State *replL = NULL;

#define COMPLETIONS "tally.completions"   /* registry: the current candidates */
static int complete_start = 0;            /* where the word being completed starts */

static int is_ident(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return 0;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_'))
      return 0;
  return 1;
}

/* Adds prefix..key to the candidates (table at cands) for each identifier
** key of the table at idx that starts with word. */
static void add_keys(lua_State *L, int cands, int idx, const char *prefix, const char *word) {
  size_t wl = strlen(word);
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      if (strncmp(k, word, wl) == 0 && is_ident(k)) {
        lua_pushfstring(L, "%s%s", prefix, k);
        lua_rawseti(L, cands, (lua_Integer)luaL_len(L, cands) + 1);
      }
    }
  }
}

/* The candidates for `text` ("pri", "t.ye", "t:he", "string.fo") as a new
** table. Runs in protected mode: an object whose fields raise errors only
** yields no candidates. */
static int collect(lua_State *L) {
  const char *text = luaL_checkstring(L, 1);
  const char *sep = NULL, *p, *word, *prefix;
  int obj, cands;
  lua_settop(L, 1);
  lua_newtable(L);
  cands = 2;
  for (p = text; *p; p++)
    if (*p == '.' || *p == ':')
      sep = p;
  lua_pushglobaltable(L);
  if (sep == NULL) {
    add_keys(L, cands, -1, "", text);
    lua_settop(L, cands);
    return 1;
  }
  for (p = text; p < sep;) {                     /* walk a.b.c from _G */
    const char *e = p;
    while (e < sep && *e != '.')
      e++;
    if (!lua_istable(L, -1) && !lua_isuserdata(L, -1))
      break;
    lua_pushlstring(L, p, (size_t)(e - p));
    lua_gettable(L, -2);                         /* may run __index */
    lua_remove(L, -2);
    p = e + 1;
  }
  obj = lua_gettop(L);
  prefix = lua_pushlstring(L, text, (size_t)(sep - text) + 1);
  word = sep + 1;
  if (lua_type(L, obj) == LUA_TTABLE && *sep == '.')
    add_keys(L, cands, obj, prefix, word);
  if (lua_getmetatable(L, obj)) {
    int mt = lua_gettop(L);
    lua_getfield(L, mt, "__index");
    if (lua_istable(L, -1))
      add_keys(L, cands, -1, prefix, word);
    else if (lua_tocfunction(L, -1) != NULL && lua_getupvalue(L, -1, 1) != NULL &&
             lua_istable(L, -1))
      add_keys(L, cands, -1, prefix, word);      /* the methods of a tally object */
    lua_settop(L, mt);
  }
  if (*sep == '.' && luaL_testudata(L, obj, "tally.Table")) {
    tl_table *t = tally_check_table(L, obj);
    int j, n = tl_table_ncols(t);
    for (j = 0; j < n; j++) {
      const char *name = tl_table_name(t, j);
      if (strncmp(name, word, strlen(word)) == 0 && is_ident(name)) {
        lua_pushfstring(L, "%s%s", prefix, name);
        lua_rawseti(L, cands, (lua_Integer)luaL_len(L, cands) + 1);
      }
    }
  }
  lua_settop(L, cands);
  return 1;
}

/* Where the line is inside an unclosed string: the index of its opening
** quote, else -1. */
static long open_quote(const char *s, size_t n) {
  long q = -1;
  size_t i;
  char quote = 0;
  for (i = 0; i < n; i++) {
    if (quote && s[i] == '\\' && i + 1 < n)
      i++;
    else if (quote && s[i] == quote)
      quote = 0;
    else if (!quote && (s[i] == '"' || s[i] == '\'')) {
      quote = s[i];
      q = (long)i;
    }
  }
  return quote ? q : -1;
}

static int is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.';
}

/* Adds the columns of the tally.Table at idx that start with word, once. */
static void add_columns(lua_State *L, int cands, int seen, int idx, const char *word) {
  tl_table *t = tally_check_table(L, idx);
  int j, n = tl_table_ncols(t);
  for (j = 0; j < n; j++) {
    const char *name = tl_table_name(t, j);
    if (strncmp(name, word, strlen(word)) != 0)
      continue;
    if (lua_getfield(L, seen, name) != LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, seen, name);
    lua_pushstring(L, name);
    lua_rawseti(L, cands, (lua_Integer)luaL_len(L, cands) + 1);
  }
}

/* Column names for a word inside a string argument or expression, as in
** t:filter("yea<Tab>: the columns of the table the method is called on
** when that can be told (t:filter(", u.sub:col("), else of every table
** held in a global. Runs in protected mode, as collect. */
static int collect_columns(lua_State *L) {
  size_t n;
  const char *line = luaL_checklstring(L, 1, &n);
  const char *word = luaL_checkstring(L, 2);
  long q = open_quote(line, n), p, e;
  int cands, seen;
  lua_newtable(L);
  cands = lua_gettop(L);
  lua_newtable(L);
  seen = lua_gettop(L);
  if (q < 0) {
    lua_settop(L, cands);
    return 1;
  }
  p = q;
  while (p > 0 && line[p - 1] == ' ')
    p--;
  if (p > 0 && line[p - 1] == '(')
    p--;
  while (p > 0 && line[p - 1] == ' ')
    p--;
  while (p > 0 && is_name_char(line[p - 1]) && line[p - 1] != '.')
    p--;                                         /* the method name */
  if (p > 0 && (line[p - 1] == ':' || line[p - 1] == '.')) {
    const char *s;
    e = --p;                                     /* the object ends before the ':' */
    while (p > 0 && is_name_char(line[p - 1]))
      p--;
    lua_pushglobaltable(L);
    for (s = line + p; s < line + e && !lua_isnil(L, -1);) {   /* walk a.b.c */
      const char *dot = s;
      while (dot < line + e && *dot != '.')
        dot++;
      if (!lua_istable(L, -1) && !lua_isuserdata(L, -1)) {
        lua_pushnil(L);
        break;
      }
      lua_pushlstring(L, s, (size_t)(dot - s));
      lua_gettable(L, -2);
      lua_remove(L, -2);
      s = dot + 1;
    }
    if (e > p && luaL_testudata(L, -1, "tally.Table")) {
      add_columns(L, cands, seen, -1, word);
      lua_settop(L, cands);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pushglobaltable(L);                        /* any table in a global */
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (luaL_testudata(L, -1, "tally.Table"))
      add_columns(L, cands, seen, -1, word);
    lua_pop(L, 1);
  }
  lua_settop(L, cands);
  return 1;
}

static char *complete_next(const char *text, int state) {
  static lua_Integer next = 1;
  lua_State *L = replL;
  char *s = NULL;
  if (state == 0) {
    size_t start = (size_t)complete_start;
    if (rl_line_buffer != NULL && strlen(rl_line_buffer) >= start &&
        open_quote(rl_line_buffer, start) >= 0) {
      lua_pushcfunction(L, collect_columns);     /* inside a string: column names */
      lua_pushlstring(L, rl_line_buffer, start);
      lua_pushstring(L, text);
    } else {
      lua_pushcfunction(L, collect);
      lua_pushstring(L, text);
      lua_pushnil(L);
    }
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
      lua_pop(L, 1);
      lua_newtable(L);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, COMPLETIONS);
    next = 1;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, COMPLETIONS);
  if (lua_rawgeti(L, -1, next++) == LUA_TSTRING) {
    const char *c = lua_tostring(L, -1);
    s = malloc(strlen(c) + 1);                   /* readline frees it */
    if (s != NULL)
      strcpy(s, c);
  }
  lua_pop(L, 2);
  return s;
}

static char **complete(const char *text, int start, int end) {
  (void)end;
  complete_start = start;
  rl_attempted_completion_over = 1;              /* never file names */
  return rl_completion_matches(text, complete_next);
}

/* Reads a key for libedit: one character, a UTF-8 sequence decoded to its
** code point. A Ctrl-C ends the line with a newline; the caller drops that
** line (prompt_interrupted says so). */
static int getc_interruptible(FILE *f) {
  unsigned char c;
  int cp, more, i;
  for (;;) {
    ssize_t n = read(fileno(f), &c, 1);
    if (n == 1)
      break;
    if (n < 0 && errno == EINTR) {
      if (prompt_interrupted)
        return '\n';
      continue;
    }
    return EOF;
  }
  if (c < 0x80 || c >= 0xf8 || (c & 0xc0) == 0x80)
    return c;
  more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
  cp = c & (0x3f >> more);
  for (i = 0; i < more; i++) {
    if (read(fileno(f), &c, 1) != 1 || (c & 0xc0) != 0x80)
      return '?';
    cp = (cp << 6) | (c & 0x3f);
  }
  return cp;
}

static void history_open(lua_State *L) {
  const char *path = getenv("TALLY_HISTORY");
  const char *home = getenv("HOME");
  use_editline = isatty(0);
  if (!use_editline)
    return;
  replL = L;
  rl_catch_signals = 0;                          /* Ctrl-C is the REPL's (prompt_action) */
  rl_getc_function = getc_interruptible;
  rl_readline_name = "tally";
  rl_basic_word_break_characters = " \t\n\"\\'`><=;+-*/%^~#&|{}()[],";
  rl_attempted_completion_function = complete;
  rl_completion_append_character = '\0';
  if (path != NULL)
    snprintf(history_path, sizeof history_path, "%s", path);
  else if (home != NULL)
    snprintf(history_path, sizeof history_path, "%s/%s", home, HISTORY_FILE);
  using_history();
  stifle_history(HISTORY_MAX);
  if (history_path[0])
    read_history(history_path);
}

static void history_close(void) {
  if (use_editline && history_path[0])
    write_history(history_path);
}

static void history_add(const char *line) {
  if (use_editline && line[0] != '\0')
    add_history(line);
}

/* Owns a line from readline until it is a Lua string (see readline_push). */
static int line_gc(lua_State *L) {
  char **box = luaL_checkudata(L, 1, "tally.line");
  free(*box);
  *box = NULL;
  return 0;
}
#else
static void history_open(lua_State *L) { (void)L; }
static void history_close(void) {}
static void history_add(const char *line) { (void)line; }
#endif

#define LINE_DROPPED (-2)     /* readline_push: Ctrl-C dropped the line */

/* Reads a line without its newline into a new Lua string and returns 1; 0
** at the end; LINE_DROPPED (nothing pushed) when Ctrl-C dropped the line. */
static int readline_push(lua_State *L, const char *prompt) {
  size_t l;
  prompt_interrupted = 0;
#ifdef TALLY_HAVE_LIBEDIT
  if (use_editline) {
    char **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    if (luaL_newmetatable(L, "tally.line")) {
      lua_pushcfunction(L, line_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    *box = readline(prompt);
    if (prompt_interrupted) {                    /* the line so far is dropped */
      lua_pop(L, 1);                             /* the box frees it */
      return LINE_DROPPED;
    }
    if (*box == NULL) {
      lua_pop(L, 1);
      return 0;
    }
    lua_pushstring(L, *box);                     /* may raise: the box frees the line */
    free(*box);
    *box = NULL;
    lua_remove(L, -2);
    return 1;
  }
#endif
  {
    char buf[MAXINPUT];
    luaL_Buffer b;
    fputs(prompt, stdout);
    fflush(stdout);
    if (fgets(buf, sizeof buf, stdin) == NULL) {
      if (prompt_interrupted) {
        clearerr(stdin);
        fputs("\n", stdout);
        return LINE_DROPPED;
      }
      return 0;
    }
    luaL_buffinit(L, &b);
    for (;;) {                                   /* lines longer than the buffer */
      l = strlen(buf);
      luaL_addlstring(&b, buf, l);
      if ((l > 0 && buf[l - 1] == '\n') || fgets(buf, sizeof buf, stdin) == NULL)
        break;
    }
    luaL_pushresult(&b);
    l = lua_rawlen(L, -1);
    if (l > 0 && lua_tostring(L, -1)[l - 1] == '\n') {
      lua_pushlstring(L, lua_tostring(L, -1), l - 1);
      lua_remove(L, -2);
    }
    return 1;
  }
}

static const char *get_prompt(lua_State *L, int firstline) {
  const char *p;
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  p = lua_tostring(L, -1);
  if (p == NULL)
    p = firstline ? PROMPT : PROMPT2;
  lua_pop(L, 1);                                 /* _PROMPT stays referenced by _G */
  return p;
}

/* Pushes the next line; "=expr" on a first line means "return expr".
** Returns as readline_push. */
static int pushline(lua_State *L, int firstline) {
  const char *prompt = get_prompt(L, firstline);
  int got = readline_push(L, prompt);
  if (got != 1)
    return got;
  if (firstline && lua_tostring(L, -1)[0] == '=') {
    lua_pushfstring(L, "return %s", lua_tostring(L, -1) + 1);
    lua_remove(L, -2);
  }
  return 1;
}

/* Tries the line as "return <line>", so that expressions print. */
static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);                           /* the modified line */
    history_add(line);
  } else {
    lua_pop(L, 2);
  }
  return status;
}

/* A syntax error at <eof> means the statement continues on the next line. */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    static const char mark[] = "<eof>";
    size_t lmsg, lmark = sizeof mark - 1;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= lmark && strcmp(msg + lmsg - lmark, mark) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Reads continuation lines until the statement compiles or fails; a
** Ctrl-C drops the whole statement (LINE_DROPPED, nothing pushed). */
static int multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = loadbuffer(L, line, len, "=stdin"), got;
    if (!incomplete(L, status) || (got = pushline(L, 0)) == 0) {
      history_add(line);
      return status;
    }
    if (got == LINE_DROPPED)
      return LINE_DROPPED;
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Reads and compiles one statement; -1 at the end of input, LINE_DROPPED
** (an empty stack) when Ctrl-C dropped it. */
static int loadline(lua_State *L) {
  int status;
  lua_settop(L, 0);
  status = pushline(L, 1);
  if (status != 1)
    return status == 0 ? -1 : LINE_DROPPED;
  if ((status = addreturn(L)) != LUA_OK)
    status = multiline(L);
  if (status == LINE_DROPPED) {
    lua_settop(L, 0);
    return status;
  }
  lua_remove(L, 1);
  return status;
}

/* Prints the values on the stack with the global print. */
static void l_print(lua_State *L) {
  int n = lua_gettop(L);
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
      l_message(progname, lua_pushfstring(L, "error calling 'print' (%s)",
                                          lua_tostring(L, -1)));
  }
}

static void doREPL(lua_State *L) {
  int status;
  const char *oldprogname = progname;
  progname = NULL;                               /* errors print bare, as in lua(1) */
  history_open(L);
  set_sigint(prompt_action);                     /* Ctrl-C drops the line, never exits */
  while ((status = loadline(L)) != -1) {
    if (status == LINE_DROPPED)
      continue;
    if (status == LUA_OK) {
      at_prompt = 1;
      status = docall(L, 0, LUA_MULTRET);
      at_prompt = 0;
    }
    if (status == LUA_OK)
      l_print(L);
    else
      report(L, status);
  }
  set_sigint(SIG_DFL);
  history_close();
  lua_settop(L, 0);
  fputs("\n", stdout);
  fflush(stdout);
  progname = oldprogname;
}

/* ---------------------------------------------------------------------------
** main
*/

static void open_tally(lua_State *L) {
  luaL_requiref(L, "tally", luaopen_tally, 1);   /* global tally, package.loaded */
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_tally);
  lua_setfield(L, -2, "tally");
#ifdef TALLY_TESTING
  lua_pushcfunction(L, luaopen_tally_testing);   /* the test runner's alone */
  lua_setfield(L, -2, "tally.testing");
#endif
  lua_pop(L, 1);
#ifdef TALLY_HAVE_MPI
  lua_getglobal(L, "tally");                     /* tally.mpi */
  lt_open_mpi(L);
  lua_pop(L, 1);
#endif
  lua_getglobal(L, "tally");                     /* help(x) at the prompt */
  lua_getfield(L, -1, "help");
  lua_setglobal(L, "help");
  lua_pop(L, 1);
}

/* Runs in protected mode; returns the exit code. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script = argc, args;
  luaL_checkversion(L);
  args = collectargs(argv, &script);
  if (args == has_error) {
    print_usage(argv[script]);
    lua_pushinteger(L, EXIT_USAGE);
    return 1;
  }
  if (args & has_h) {
    print_help();
    lua_pushinteger(L, 0);
    return 1;
  }
  if (!sandboxed) {                              /* a sandbox has its own libraries */
    luaL_openlibs(L);
    open_tally(L);
  }
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & has_E) && !sandboxed && handle_init(L) != LUA_OK)
    goto failed;
  if (args & has_v)
    print_version();
  if (!runargs(L, argv, script))
    goto failed;
  if (script < argc) {
    if (ends_with_csv(argv[script]) && strcmp(argv[script - 1], "--") != 0) {
      if (load_csv(L, argv[script]) != LUA_OK)
        goto failed;
      args |= has_i;
    } else if (handle_script(L, argv + script) != LUA_OK) {
      goto failed;
    }
  }
  if (args & has_i) {
    doREPL(L);
  } else if (script == argc && !(args & (has_e | has_v))) {
    if (isatty(0)) {
      print_version();
      doREPL(L);
    } else if (dochunk(L, loadfile(L, NULL)) != LUA_OK) {
      goto failed;
    }
  }
  lua_pushinteger(L, 0);
  return 1;
failed:
  lua_pushinteger(L, EXIT_ERROR);
  return 1;
}

int main(int argc, char **argv) {
  int status, code;
  tally_limits limits;
  sandboxed = cli_sandbox_args(&argc, argv, &limits);
  if (sandboxed < 0)
    return EXIT_USAGE;
  lua_State *L = sandboxed ? tally_sandbox_new(&limits) : luaL_newstate();
  if (L == NULL) {
    l_message(argv[0], "cannot create state: not enough memory");
    return EXIT_ERROR;
  }
  if (sandboxed)
    cli_sandbox_watchdog(progname, &limits);
#ifdef TALLY_HAVE_MPI
  if (!sandboxed)
    lt_mpi_startup(&argc, &argv);
#endif
  lua_gc(L, LUA_GCSTOP);                         /* no collections while starting */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  code = status == LUA_OK ? (int)lua_tointeger(L, -1) : EXIT_ERROR;
  report(L, status);
#ifdef TALLY_HAVE_MPI
  int mpi_rank = lt_mpi_rank();
  const char *disagree = lt_mpi_shutdown(code != 0 && own_error);
  if (disagree && code == 0) {                   /* the ranks parted: fail on each */
    if (mpi_rank == 0)                           /* and say it once */
      l_message(progname, disagree);
    code = EXIT_ERROR;
  }
#endif
  tally_sandbox_close(L);                        /* lua_close for a plain state */
  return code;
}
