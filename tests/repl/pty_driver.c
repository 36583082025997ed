/*
** pty_driver.c -- drives the tally REPL through a pseudo-terminal, as a
** person at a keyboard would, and checks what the terminal shows.
**
**   pty_driver script.keys /path/to/tally
**
** A script is a list of commands, one a line ('#' starts a comment):
**   size COLS ROWS    the terminal's size (before start)
**   args A B ...      the arguments of tally (before start)
**   start             starts tally (HOME is a fresh temporary directory,
**                     shared by every start of the script)
**   send TEXT         types TEXT; \n \r \t \e \\ and \xHH are escapes
**   expect TEXT       waits (10 s at most) until TEXT appears in the output
**                     after the previous match; escape sequences are removed
**                     from the output before matching
**   reject TEXT       fails if TEXT appears in the output so far unmatched
**   sleep SECONDS     waits
**   exit CODE         waits for tally to end and checks its exit status
**   file NAME TEXT    the file HOME/NAME contains TEXT
*/
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

static char *out;                /* everything read, escape sequences removed */
static size_t outlen, outcap, cursor;
static int esc_state;            /* 0 text, 1 after ESC, 2 in CSI, 3 in OSC */
static int master = -1;
static pid_t child = -1;
static const char *script_name;
static int lineno;

static void fail(const char *fmt, const char *arg) {
  fprintf(stderr, "%s:%d: ", script_name, lineno);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n--- output after the last match ---\n%s\n---\n",
          out ? out + cursor : "");
  if (child > 0)
    kill(child, SIGKILL);
  exit(1);
}

static void keep(char c) {
  if (outlen + 2 > outcap) {
    outcap = outcap ? outcap * 2 : 4096;
    out = realloc(out, outcap);
    if (out == NULL) {
      perror("realloc");
      exit(1);
    }
  }
  out[outlen++] = c;
  out[outlen] = '\0';
}

/* Keeps the text of what the terminal received, without escape sequences
** and carriage returns. */
static void absorb(const char *buf, ssize_t n) {
  ssize_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)buf[i];
    switch (esc_state) {
      case 0:
        if (c == 0x1b)
          esc_state = 1;
        else if (c != '\r' && c != 0x07 && c != '\b')
          keep((char)c);
        break;
      case 1:
        esc_state = c == '[' ? 2 : c == ']' ? 3 : 0;
        break;
      case 2:
        if (c >= 0x40 && c <= 0x7e)
          esc_state = 0;
        break;
      default:
        if (c == 0x07)
          esc_state = 0;
        else if (c == 0x1b)
          esc_state = 1;
        break;
    }
  }
}

/* Reads what is there within ms milliseconds; 0 at the end of output. */
static int pump(int ms) {
  struct pollfd p;
  char buf[4096];
  ssize_t n;
  p.fd = master;
  p.events = POLLIN;
  if (poll(&p, 1, ms) <= 0)
    return 1;
  n = read(master, buf, sizeof buf);
  if (n <= 0)
    return 0;
  absorb(buf, n);
  return 1;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static size_t unescape(const char *s, char *d) {
  size_t n = 0;
  while (*s) {
    if (*s == '\\' && s[1]) {
      s++;
      switch (*s) {
        case 'n': d[n++] = '\n'; break;
        case 'r': d[n++] = '\r'; break;
        case 't': d[n++] = '\t'; break;
        case 'e': d[n++] = 0x1b; break;
        case 'x': {
          char hex[3] = {s[1], s[1] ? s[2] : 0, 0};
          d[n++] = (char)strtol(hex, NULL, 16);
          s += 2;
          break;
        }
        default: d[n++] = *s;
      }
      s++;
    } else {
      d[n++] = *s++;
    }
  }
  d[n] = '\0';
  return n;
}

int main(int argc, char **argv) {
  char line[4096], text[4096], home[] = "/tmp/tally-repl-XXXXXX";
  char *args[64];
  int nargs = 0;
  struct winsize ws = {24, 80, 0, 0};
  FILE *f;
  if (argc != 3) {
    fprintf(stderr, "usage: pty_driver script.keys tally\n");
    return 2;
  }
  script_name = argv[1];
  if ((f = fopen(argv[1], "r")) == NULL || mkdtemp(home) == NULL) {
    perror(argv[1]);
    return 2;
  }
  args[nargs++] = argv[2];
  args[nargs] = NULL;
  signal(SIGPIPE, SIG_IGN);
  while (fgets(line, sizeof line, f) != NULL) {
    char *cmd = line, *arg;
    size_t l = strlen(line);
    lineno++;
    if (l > 0 && line[l - 1] == '\n')
      line[--l] = '\0';
    while (*cmd == ' ')
      cmd++;
    if (*cmd == '#' || *cmd == '\0')
      continue;
    arg = strchr(cmd, ' ');
    if (arg != NULL)
      *arg++ = '\0';
    else
      arg = cmd + strlen(cmd);
    if (strcmp(cmd, "size") == 0) {
      sscanf(arg, "%hu %hu", &ws.ws_col, &ws.ws_row);
    } else if (strcmp(cmd, "args") == 0) {
      char *tok = strtok(arg, " ");
      while (nargs > 1)
        free(args[--nargs]);
      while (tok != NULL && nargs < 63) {
        args[nargs++] = strdup(tok);
        tok = strtok(NULL, " ");
      }
      args[nargs] = NULL;
    } else if (strcmp(cmd, "start") == 0) {
      if (master >= 0)
        close(master);
      cursor = outlen;
      child = forkpty(&master, NULL, NULL, &ws);
      if (child < 0)
        fail("forkpty: %s", strerror(errno));
      if (child == 0) {
        setenv("HOME", home, 1);
        setenv("TERM", "xterm", 1);
        unsetenv("TALLY_HISTORY");
        unsetenv("TALLY_INIT");
        unsetenv("NO_COLOR");
        execv(args[0], args);
        _exit(127);
      }
    } else if (strcmp(cmd, "send") == 0) {
      size_t n = unescape(arg, text);
      pump(50);
      if (write(master, text, n) != (ssize_t)n)
        fail("cannot type '%s'", arg);
    } else if (strcmp(cmd, "expect") == 0) {
      long end = now_ms() + TIMEOUT_MS;
      unescape(arg, text);
      for (;;) {
        char *hit = out ? strstr(out + cursor, text) : NULL;
        if (hit != NULL) {
          cursor = (size_t)(hit - out) + strlen(text);
          break;
        }
        if (now_ms() > end || !pump(100))
          fail("expected '%s'", arg);
      }
    } else if (strcmp(cmd, "reject") == 0) {
      unescape(arg, text);
      pump(100);
      if (out && strstr(out + cursor, text))
        fail("did not expect '%s'", arg);
    } else if (strcmp(cmd, "sleep") == 0) {
      long end = now_ms() + (long)(atof(arg) * 1000);
      while (now_ms() < end)
        pump(20);
    } else if (strcmp(cmd, "exit") == 0) {
      int status = 0, want = atoi(arg);
      long end = now_ms() + TIMEOUT_MS;
      pid_t r;
      while ((r = waitpid(child, &status, WNOHANG)) == 0 && now_ms() < end)
        pump(50);
      while (pump(50))
        if (now_ms() > end)
          break;
      if (r == 0)
        fail("tally did not exit%s", "");
      if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
        snprintf(text, sizeof text, "%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        fail("exit status %s", text);
      }
      child = -1;
    } else if (strcmp(cmd, "file") == 0) {
      char path[512], body[8192], *want = strchr(arg, ' ');
      FILE *h;
      size_t n;
      if (want == NULL)
        fail("file: no text%s", "");
      *want++ = '\0';
      snprintf(path, sizeof path, "%s/%s", home, arg);
      if ((h = fopen(path, "r")) == NULL)
        fail("no file %s", path);
      n = fread(body, 1, sizeof body - 1, h);
      body[n] = '\0';
      fclose(h);
      unescape(want, text);
      if (strstr(body, text) == NULL)
        fail("file does not contain '%s'", want);
    } else {
      fail("unknown command '%s'", cmd);
    }
  }
  fclose(f);
  while (nargs > 1)
    free(args[--nargs]);
  free(out);
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
  }
  snprintf(line, sizeof line, "rm -rf '%s'", home);
  if (system(line) != 0)
    fprintf(stderr, "could not remove %s\n", home);
  printf("%s: ok\n", script_name);
  return 0;
}
