/*
** tally_sandbox.h -- a Lua state for scripts that are not trusted.
**
** The state has the safe parts of the standard libraries and the tally
** module: no io, no debug, no package; os has only time, clock and date;
** require gives only the libraries already loaded (no C modules, no files);
** dofile and loadfile are gone and load reads text only (no binary chunks);
** string.dump is gone; the metatables of strings and of tally's types are
** locked, and setmetatable refuses a __gc (finalizers run without hooks, so
** one could run forever). The module cannot touch files: of its functions
** only from_columns, from_rows, aggregate, clock, threads and help remain
** (any other, read_csv, load, from_arrow, ..., raises an error), and so do
** the methods that write (write_csv, write_json, write_ndjson, save, plot,
** to_arrow); the host hands tables in with tally_push_table.
**
** Chunks are text only. Binary chunks (precompiled with luac or
** string.dump) are not checked by Lua's loader, and a crafted one reads
** and writes any memory: the host loads the untrusted code with
** tally_sandbox_load, or with luaL_loadbufferx / luaL_loadfilex and mode
** "t", never with luaL_loadstring, luaL_loadbuffer or luaL_loadfile
** (their mode, "bt", accepts binary chunks).
**
** Limits stop the script with an error that names the limit:
**   memory        bytes held by Lua's allocations and the core's together,
**                 counting only what was allocated since tally_sandbox_new
**                 (a table the host built before and pushed in is not counted)
**   seconds       wall-clock time since tally_sandbox_new (or _reset)
**   instructions  Lua VM instructions
** A limit once reached stays reached: the error is raised again at every
** step of the VM, so a pcall cannot swallow it. Time and instructions are
** checked between VM instructions, not inside a C function (a long scan of
** the core, or a pattern match): a host that must bound those too watches
** the clock from another thread, as the tally CLI does. An interrupt
** (tally_sandbox_interrupt, for Ctrl-C) goes through the same hook: a
** script that catches it with pcall runs on under every limit.
**
** The core's work of the state runs under an env of its own (tl_env),
** whose allocator counts against the sandbox's memory limit; other states
** and sandboxes of the process, on other threads or on the same one, keep
** their own allocators, limits, thread counts and interrupts. A table the
** script made and the host kept stays valid after tally_sandbox_close.
*/
#ifndef TALLY_SANDBOX_H
#define TALLY_SANDBOX_H

#include <stddef.h>

#include "lua.h"
#include "tally/tally.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TALLY_SANDBOX_MEMORY ((size_t)1 << 30)   /* the CLI's default: 1 GiB */
#define TALLY_SANDBOX_SECONDS 10.0               /* the CLI's default */

typedef struct tally_limits {
  size_t memory;             /* bytes; 0: no limit */
  double seconds;            /* wall clock; 0: no limit */
  long long instructions;    /* 0: no limit */
} tally_limits;

/* A new sandboxed state with `tally` loaded (as a global and for require),
** the limits counting from now. NULL when out of memory, or when another
** sandbox is open. Close it with tally_sandbox_close, not lua_close. */
TL_API lua_State *tally_sandbox_new(const tally_limits *limits);

/* Closes the state and gives the core its previous allocator back. */
TL_API void tally_sandbox_close(lua_State *L);

/* Restarts the clock and the instruction count (before each script a host
** runs in a long-lived sandbox). A limit that was reached stays reached. */
TL_API void tally_sandbox_reset(lua_State *L);

/* Loads a chunk as lua_load does, text only: a binary chunk is an error
** ("attempt to load a binary chunk (mode is 't')"). */
TL_API int tally_sandbox_load(lua_State *L, const char *chunk, size_t len, const char *name);

/* Asks the running script to stop: the sandbox's hook raises
** "interrupted!" at the next instruction, and keeps every limit. Safe in a
** signal handler (the tally CLI calls it for SIGINT). Returns 0, and does
** nothing, when L is not a sandbox's state. */
TL_API int tally_sandbox_interrupt(lua_State *L);

/* After a call into the state failed: when a limit stopped it, replaces
** the error message on the top of the stack with the message naming the
** limit ("memory limit of 1 GiB exceeded (--memory raises it)") and
** returns the limit's name ("memory", "time", "instructions"); otherwise
** leaves the stack alone and returns NULL. Any state may be passed. */
TL_API const char *tally_sandbox_explain(lua_State *L);

#ifdef __cplusplus
}
#endif
#endif
