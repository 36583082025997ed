/*
** sandbox.c -- the command line's sandbox options and the watchdog that
** bounds a script's time even inside a C function.
*/
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "sandbox.h"
#include "tally/tally.h"

/* "1G", "512M", "64k", "1GiB", "1000000": a size in bytes; 0 on error. */
static size_t parse_size(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v > 0) || !isfinite(v)) return 0;
  double unit = 1;
  switch (*end) {
    case 'k': case 'K': unit = 1024.0; end++; break;
    case 'm': case 'M': unit = 1024.0 * 1024; end++; break;
    case 'g': case 'G': unit = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': unit = 1024.0 * 1024 * 1024 * 1024; end++; break;
  }
  if (unit > 1 && (*end == 'i' || *end == 'I')) end++;
  if (*end == 'b' || *end == 'B') end++;
  if (*end || v * unit >= 1e18) return 0;
  return (size_t)(v * unit);
}

/* The option's value: after '=' in the same word, or the next word. */
static const char *value_of(int *i, int argc, char **argv, size_t len) {
  const char *a = argv[*i];
  if (a[len] == '=') return a + len + 1;
  if (a[len] != '\0' || *i + 1 >= argc) return NULL;
  return argv[++*i];
}

int cli_sandbox_args(int *argc, char **argv, tally_limits *limits) {
  limits->memory = TALLY_SANDBOX_MEMORY;
  limits->seconds = TALLY_SANDBOX_SECONDS;
  limits->instructions = 0;
  int sandboxed = 0, out = 1;
  int i;
  for (i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) break;   /* the script */
    if (strcmp(a, "--") == 0) break;
    const char *v = NULL;
    if (strcmp(a, "--sandbox") == 0) { sandboxed = 1; continue; }
    if (strncmp(a, "--memory", 8) == 0 && (a[8] == '\0' || a[8] == '=')) {
      if (!(v = value_of(&i, *argc, argv, 8))) goto missing;
      if (strcmp(v, "0") == 0) limits->memory = 0;
      else if (!(limits->memory = parse_size(v))) goto bad;
      sandboxed = 1;
      continue;
    }
    if (strncmp(a, "--time", 6) == 0 && (a[6] == '\0' || a[6] == '=')) {
      if (!(v = value_of(&i, *argc, argv, 6))) goto missing;
      char *end;
      limits->seconds = strtod(v, &end);
      if (end == v || *end || !(limits->seconds >= 0) || limits->seconds > 1e9) goto bad;
      sandboxed = 1;
      continue;
    }
    if (strncmp(a, "--instructions", 14) == 0 && (a[14] == '\0' || a[14] == '=')) {
      if (!(v = value_of(&i, *argc, argv, 14))) goto missing;
      char *end;
      limits->instructions = strtoll(v, &end, 10);
      if (end == v || *end || limits->instructions < 0) goto bad;
      sandboxed = 1;
      continue;
    }
    argv[out++] = argv[i];
    /* options of lua(1) that take the next word */
    if ((strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) && i + 1 < *argc) argv[out++] = argv[++i];
    continue;
  missing:
    fprintf(stderr, "%s: '%s' needs an argument\n", argv[0], a);
    return -1;
  bad:
    fprintf(stderr, "%s: bad value '%s' for '%s'\n", argv[0], v, a);
    return -1;
  }
  for (; i < *argc; i++) argv[out++] = argv[i];
  argv[out] = NULL;
  *argc = out;
  return sandboxed;
}

static char alarm_message[160];
static volatile sig_atomic_t alarms;

/* At the time limit the core's scans are asked to stop (the script then
** meets the limit in the VM); a second later the process ends. */
static void on_alarm(int sig) {
  (void)sig;
  if (alarms++ == 0) {
    tl_interrupt();
    return;
  }
  ssize_t k = write(2, alarm_message, strlen(alarm_message));
  (void)k;
  _exit(1);
}

void cli_sandbox_watchdog(const char *progname, const tally_limits *limits) {
  if (!(limits->seconds > 0)) return;
  snprintf(alarm_message, sizeof alarm_message,
           "%s: time limit of %g s exceeded (--time raises it)\n", progname, limits->seconds);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  double at = limits->seconds;
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = (time_t)at;
  it.it_value.tv_usec = (suseconds_t)((at - floor(at)) * 1e6);
  it.it_interval.tv_sec = 1;   /* the second alarm */
  setitimer(ITIMER_REAL, &it, NULL);
}
