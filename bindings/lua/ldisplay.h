/*
** ldisplay.h -- printing, JSON, Markdown, charts and help in the Lua
** binding (ldisplay.c, lhelp.c; not installed).
*/
#ifndef LDISPLAY_H
#define LDISPLAY_H

#include "lua.h"
#include "tally/tally.h"

/* The table as text for the standard output: fitted to the terminal's
** width and dimmed nulls when it is a terminal, plain ASCII otherwise. */
void lt_push_formatted(lua_State *L, tl_table *t, int max_rows);

/* tally.Table methods */
int lt_t_show(lua_State *L);
int lt_t_format(lua_State *L);
int lt_t_to_markdown(lua_State *L);
int lt_t_write_json(lua_State *L);
int lt_t_write_ndjson(lua_State *L);
int lt_t_bar(lua_State *L);
/* tally.Column methods */
int lt_c_hist(lua_State *L);
/* The terminal's width in columns; 0 when stdout is not a terminal. */
int lt_terminal_width(void);
/* charts as files and reports (lplot.c) */
int lt_t_plot(lua_State *L);
int lt_t_write_html(lua_State *L);
int lt_c_hist_file(lua_State *L);
int lt_report(lua_State *L);
void lt_open_report(lua_State *L);
/* module functions */
int lt_read_json(lua_State *L);
int lt_read_ndjson(lua_State *L);
int lt_help(lua_State *L);

#endif
