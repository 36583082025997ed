/*
** tally_lua.h -- the Lua 5.4 binding of libtally.
**
** A host opens the module with luaL_requiref(L, "tally", luaopen_tally, 1)
** (or lets `require "tally"` find it) and hands its own tables to scripts
** with tally_push_table, without copying.
*/
#ifndef TALLY_LUA_H
#define TALLY_LUA_H

#include "lua.h"
#include "tally/tally.h"

/* Linking: a C host that embeds Lua links libtally-lua, libtally and its own
** Lua (`pkg-config --cflags --libs tally-lua`, or tally::tally_lua with
** find_package(tally)); libtally-lua leaves the Lua API to the host. A Lua
** host needs nothing of this: `require "tally"` loads lib/lua/5.4/tally.so.
** Values handed across keep the ownership rule of tally.h: the binding
** retains what a userdata holds and never takes the caller's reference. */

#ifdef __cplusplus
extern "C" {
#endif

/* The registry key of the settings of tally.options{...} (a table: digits,
** traceback), read by a host such as the tally command's REPL. */
#define TALLY_OPTIONS_KEY "tally.options"

/* Opens the module and leaves its table on the stack. The state gets an
** env of its own (tl_env, with the allocator and thread count the default
** env has at the opening), freed with the state; each call into the module
** makes it the calling thread's current env, and the thread stays in it
** after the call (a host running its own work under another env calls
** tl_env_use again). Two states in one process share no allocator, limit,
** thread count or interrupt flag. */
TL_API int luaopen_tally(lua_State *L);

/* The state's env (NULL before the module is opened). */
TL_API tl_env *tally_lua_env(lua_State *L);

/* Interrupts env (tl_env_interrupt: its scans stop between vectors) and
** stops the Lua code running on its worker threads (a tally.func or
** aggregate given to a parallel call) at its next instruction with
** "interrupted!". Safe in a signal handler and from another thread. The
** calling state's own Lua code is the host's to stop, as lua.c does with
** a hook. tl_env_interrupt alone stops the workers' Lua code only when it
** returns to the scan. */
TL_API void tally_lua_interrupt(tl_env *env);

/* The aggregates (tally.aggregate) and functions (tally.func) the state's
** scripts have defined, as the scope of the core's calls that read
** expressions (the tl_*_with and tl_*_scope functions). Pushes
** two arrays that hold them: *scope is valid while they stay on the stack. */
TL_API void tally_lua_scope(lua_State *L, tl_scope *scope);

/* Pushes t as a tally.Table userdata; the userdata retains t, so the caller
** keeps its own reference. */
TL_API void tally_push_table(lua_State *L, tl_table *t);

/* The table at index idx; raises a Lua error when the value is not a
** tally.Table or the table has been closed. The pointer is borrowed: it is
** valid while the userdata is alive. */
TL_API tl_table *tally_check_table(lua_State *L, int idx);

/* The format tally.read and t:write pick for a path, from its extension
** ("csv", "tsv", "json", "ndjson", "jsonl", "parquet", "arrow", ...), or
** NULL when the extension is none of theirs. */
TL_API const char *tally_lua_file_format(const char *path);

/* Arrow interchange, as tally.Table:to_arrow and tally.from_arrow (here for
** a host that registers them elsewhere); see tl_table_export_arrow and
** tl_table_import_arrow for what is shared and who releases what. A script
** never holds an address that can dangle:
**
** t:to_arrow() returns a tally.Arrow, a userdata that owns the exported
** ArrowSchema and ArrowArray; its finalizer (__gc and __close) releases
** them unless they were consumed. tally.from_arrow(x) imports it into a new
** tally.Table and empties it (importing it again is an error that says it
** was consumed). x:release_to_host() moves the pair into two structs
** allocated with malloc and returns their addresses as two integers: the
** receiver owns them, calls their release callbacks (or moves them out)
** and frees each with free(). In C, tally_take_arrow moves the pair of the tally.Arrow at idx
** into the host's own structs (a Lua error if it is not one or is already
** consumed); the host then owns them.
** tally.from_arrow(schema, array), with two light userdata, imports a C
** host's own structs: on success it moves both (their release members set
** to NULL, the buffers shared, not copied), on error it raises a Lua error
** and leaves them untouched. */
TL_API int tally_take_arrow(lua_State *L, int idx, struct ArrowSchema *schema,
                            struct ArrowArray *array);
TL_API int tally_lua_to_arrow(lua_State *L);
TL_API int tally_lua_from_arrow(lua_State *L);

#ifdef __cplusplus
}
#endif
#endif
