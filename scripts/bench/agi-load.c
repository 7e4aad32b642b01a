/*
 * agi-load: a FastAGI load generator that plays Asterisk 22 byte for byte
 * (shared/asterisk/agi-authorize-syscalls.txt): a non-blocking connect(), one write() per
 * environment line, one write() of the lone "\n", then lock step: each command read with
 * read(fd, 4096) and answered with one write() of "200 result=1\n" ("200 result=0\n" for NOOP)
 * only after it arrived; on the server's FIN, write("HANGUP\n") and close().
 *
 * C, epoll, no dependencies, so that the generator costs the machine far less than the server
 * it loads (the Node generator used most of a core against the null responder).
 *
 *   agi-load --env FILE --port P [--port P2 ...] [--host 127.0.0.1]
 *            (--concurrency N (--sessions N | --seconds S) | --rate R --seconds S)
 *            [--offset K] [--timeout-ms MS]
 *
 * FILE holds session templates exactly as Asterisk writes them: environment lines, each
 * "name: value\n", the template ended by an empty line. Session i plays template
 * (offset + i) modulo their number and connects to port i modulo the ports given.
 *
 * Prints one JSON line: sessions completed (ended by the server's FIN), errors by kind, seconds,
 * rate, latency from connect() to the FIN in ms, the generator's own CPU, histograms of commands
 * and of SET VARIABLEs per session, and the DIALGUARD_RESULT values seen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 4096 /* Asterisk's stdio buffer reads 4096 bytes at a time */
#define LINE_MAX_BYTES 8192
#define MAX_PORTS 16
#define MAX_COMMANDS 64
#define MAX_RESULTS 8

struct template {
  int lines;
  char **line;
  size_t *len;
};

enum error_kind { E_CONNECT, E_RESET, E_TIMEOUT, E_PIPELINED, E_LONG_LINE, E_WRITE, E_KINDS };
static const char *error_names[E_KINDS] = {"connect", "reset", "timeout", "pipelined", "longLine", "write"};

struct session {
  int fd;
  int in_use;
  int connected;
  int commands;
  int variables;
  double started_ms;
  size_t buffered;
  char buf[LINE_MAX_BYTES];
  const struct template *tpl;
  char result[16];
  int active_at;
};

static struct template *templates;
static int template_count;
static int ports[MAX_PORTS];
static int port_count;
static struct in_addr host;
static long errors[E_KINDS];
static long command_histogram[MAX_COMMANDS + 1];
static long variable_histogram[MAX_COMMANDS + 1];
static char result_names[MAX_RESULTS][16];
static long result_counts[MAX_RESULTS];
static double *latencies;
static long latency_count, latency_cap;
static long started_count, finished_count;
static int epfd;
static struct session *sessions;
static int session_slots;
/*
 * The sessions in flight, and the free slots as a stack: starting, ending and the timeout sweep
 * touch only live sessions. A sweep of every slot (60,000 of 8 KB at a fixed rate) faulted in
 * 500 MB of zero pages on its first pass, 100 ms into each run: a 90 ms stall of the generator,
 * then a burst of the sessions it owed, which every run's p99 measured instead of the server.
 */
static struct session **active;
static int active_count;
static int *free_slots;
static int free_count;
static double timeout_ms = 10000;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "agi-load: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void usage(void) {
  fprintf(stderr,
          "usage: agi-load --env FILE --port P [--port P ...] [--host ADDR] "
          "(--concurrency N (--sessions N | --seconds S) | --rate R --seconds S) [--offset K] [--timeout-ms MS]\n");
  exit(2);
}

static void load_templates(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int tcap = 0;
  struct template current = {0, NULL, NULL};
  int lcap = 0;
  while ((n = getline(&line, &cap, f)) >= 0) {
    if (current.lines == lcap) {
      lcap = lcap ? lcap * 2 : 32;
      current.line = realloc(current.line, lcap * sizeof *current.line);
      current.len = realloc(current.len, lcap * sizeof *current.len);
    }
    current.line[current.lines] = strndup(line, n);
    current.len[current.lines] = n;
    current.lines++;
    if (n == 1 && line[0] == '\n') {
      if (template_count == tcap) {
        tcap = tcap ? tcap * 2 : 1024;
        templates = realloc(templates, tcap * sizeof *templates);
      }
      templates[template_count++] = current;
      current = (struct template){0, NULL, NULL};
      lcap = 0;
    }
  }
  free(line);
  fclose(f);
  if (current.lines > 0) {
    fprintf(stderr, "agi-load: %s: the last template is not ended by an empty line\n", path);
    exit(2);
  }
  if (template_count == 0) {
    fprintf(stderr, "agi-load: %s: no session templates\n", path);
    exit(2);
  }
}

static void record_latency(double ms) {
  if (latency_count == latency_cap) {
    latency_cap = latency_cap ? latency_cap * 2 : 65536;
    latencies = realloc(latencies, latency_cap * sizeof *latencies);
  }
  latencies[latency_count++] = ms;
}

static void record_result(const char *value) {
  for (int i = 0; i < MAX_RESULTS; i++) {
    if (result_names[i][0] == '\0') {
      snprintf(result_names[i], sizeof result_names[i], "%s", value);
      result_counts[i] = 1;
      return;
    }
    if (strcmp(result_names[i], value) == 0) {
      result_counts[i]++;
      return;
    }
  }
}

static void release(struct session *s) {
  struct session *last = active[--active_count];
  active[s->active_at] = last;
  last->active_at = s->active_at;
  free_slots[free_count++] = (int)(s - sessions);
  s->in_use = 0;
  finished_count++;
}

static void end_session(struct session *s, int error) {
  if (error >= 0) errors[error]++;
  epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  release(s);
}

static int write_all(int fd, const char *data, size_t len) {
  /* A blocking-style write on a non-blocking socket: these are a few bytes into an empty send buffer. */
  while (len > 0) {
    ssize_t w = write(fd, data, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data += w;
    len -= (size_t)w;
  }
  return 0;
}

static void start_session(long index) {
  if (free_count == 0) {
    fprintf(stderr, "agi-load: more than %d sessions in flight\n", session_slots);
    exit(2);
  }
  struct session *s = &sessions[free_slots[--free_count]];
  s->active_at = active_count;
  active[active_count++] = s;
  started_count++;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(ports[index % port_count]), .sin_addr = host};
  s->fd = fd;
  s->in_use = 1;
  s->connected = 0;
  s->commands = 0;
  s->variables = 0;
  s->buffered = 0;
  s->result[0] = '\0';
  s->tpl = &templates[index % template_count];
  s->started_ms = now_ms();
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
    errors[E_CONNECT]++;
    close(fd);
    release(s);
    return;
  }
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

static void on_connected(struct session *s) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    end_session(s, E_CONNECT);
    return;
  }
  s->connected = 1;
  /* One write() per environment line, the last being the lone "\n", as res_agi does. */
  for (int i = 0; i < s->tpl->lines; i++) {
    if (write_all(s->fd, s->tpl->line[i], s->tpl->len[i]) < 0) {
      end_session(s, E_WRITE);
      return;
    }
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
  epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Count the SET VARIABLEs; of DIALGUARD_RESULT <value>, keep the value (quotes removed) to count outcomes. */
static void note_command(struct session *s, const char *line, size_t len) {
  static const char set[] = "SET VARIABLE ";
  static const char prefix[] = "SET VARIABLE DIALGUARD_RESULT ";
  if (len > sizeof set - 1 && strncasecmp(line, set, sizeof set - 1) == 0) s->variables++;
  size_t p = sizeof prefix - 1;
  if (len > p && strncmp(line, prefix, p) == 0) {
    size_t o = 0;
    for (size_t i = p; i < len && o < sizeof s->result - 1; i++)
      if (line[i] != '"') s->result[o++] = line[i];
    s->result[o] = '\0';
  }
}

static void on_readable(struct session *s) {
  for (;;) {
    if (s->buffered == sizeof s->buf) {
      end_session(s, E_LONG_LINE);
      return;
    }
    size_t room = sizeof s->buf - s->buffered;
    ssize_t n = read(s->fd, s->buf + s->buffered, room < READ_SIZE ? room : READ_SIZE);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      end_session(s, E_RESET);
      return;
    }
    if (n == 0) {
      /* The server's FIN: AGI() returns here. Asterisk then writes HANGUP and closes. */
      record_latency(now_ms() - s->started_ms);
      int c = s->commands > MAX_COMMANDS ? MAX_COMMANDS : s->commands;
      command_histogram[c]++;
      variable_histogram[s->variables > MAX_COMMANDS ? MAX_COMMANDS : s->variables]++;
      record_result(s->result[0] ? s->result : "(none)");
      write_all(s->fd, "HANGUP\n", 7);
      end_session(s, -1);
      return;
    }
    s->buffered += (size_t)n;
    char *lf = memchr(s->buf, '\n', s->buffered);
    if (!lf) continue;
    size_t len = (size_t)(lf - s->buf);
    size_t rest = s->buffered - len - 1;
    if (rest > 0) {
      /* The server sent its next command before our reply: Asterisk would stall on it. */
      end_session(s, E_PIPELINED);
      return;
    }
    s->commands++;
    note_command(s, s->buf, len);
    const char *reply = len >= 4 && strncasecmp(s->buf, "NOOP", 4) == 0 ? "200 result=0\n" : "200 result=1\n";
    s->buffered = 0;
    if (write_all(s->fd, reply, 13) < 0) {
      end_session(s, E_WRITE);
      return;
    }
  }
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double percentile(double p) {
  if (latency_count == 0) return 0;
  long i = (long)(p / 100.0 * latency_count);
  if (i >= latency_count) i = latency_count - 1;
  return latencies[i];
}

static void expire(double now) {
  /* Backwards: ending one moves the last live session into its place, one already looked at. */
  for (int i = active_count - 1; i >= 0; i--)
    if (now - active[i]->started_ms > timeout_ms) end_session(active[i], E_TIMEOUT);
}

int main(int argc, char **argv) {
  const char *env_path = NULL;
  long total = -1, offset = 0;
  int concurrency = 0;
  double rate = 0, seconds = 0;
  /* write("HANGUP\n") after a server that closed both ways must fail, not kill us. */
  signal(SIGPIPE, SIG_IGN);
  inet_pton(AF_INET, "127.0.0.1", &host);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (strcmp(a, "--env") == 0) env_path = v;
    else if (strcmp(a, "--port") == 0 && port_count < MAX_PORTS) ports[port_count++] = atoi(v);
    else if (strcmp(a, "--host") == 0) {
      if (inet_pton(AF_INET, v, &host) != 1) usage();
    } else if (strcmp(a, "--concurrency") == 0) concurrency = atoi(v);
    else if (strcmp(a, "--sessions") == 0) total = atol(v);
    else if (strcmp(a, "--seconds") == 0) seconds = atof(v);
    else if (strcmp(a, "--rate") == 0) rate = atof(v);
    else if (strcmp(a, "--offset") == 0) offset = atol(v);
    else if (strcmp(a, "--timeout-ms") == 0) timeout_ms = atof(v);
    else usage();
  }
  int fixed_rate = rate > 0;
  if (!env_path || port_count == 0) usage();
  if (fixed_rate ? seconds <= 0 : (concurrency <= 0 || (total < 0 && seconds <= 0))) usage();
  load_templates(env_path);

  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (fixed_rate) {
    total = (long)(rate * seconds + 0.5);
    session_slots = 60000;
  } else {
    session_slots = concurrency;
  }
  sessions = calloc((size_t)session_slots, sizeof *sessions);
  active = calloc((size_t)session_slots, sizeof *active);
  free_slots = calloc((size_t)session_slots, sizeof *free_slots);
  if (!sessions || !active || !free_slots) die("calloc");
  /* Slot 0 on top: the few sessions of a moderate rate reuse the same warm slots. */
  for (int i = session_slots - 1; i >= 0; i--) free_slots[free_count++] = i;
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");

  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double t0 = now_ms();
  double deadline = seconds > 0 ? t0 + seconds * 1e3 : 0;
  long next = 0;
  /* Max rate: keep `concurrency` in flight until `total` sessions (or `seconds`) are started. */
  if (!fixed_rate)
    while (next < concurrency && (total < 0 || next < total)) start_session(offset + next++);

  struct epoll_event events[256];
  double last_expire = t0;
  for (;;) {
    double now = now_ms();
    if (fixed_rate) {
      while (next < total && t0 + next * 1e3 / rate <= now) start_session(offset + next++);
    } else {
      int more = total >= 0 ? next < total : now < deadline;
      while (more && started_count - finished_count < concurrency) {
        start_session(offset + next++);
        more = total >= 0 ? next < total : now < deadline;
      }
    }
    int stopping = fixed_rate ? next >= total : (total >= 0 ? next >= total : now >= deadline);
    if (stopping && started_count == finished_count) break;
    int wait = 100;
    if (fixed_rate && next < total) {
      double due = t0 + next * 1e3 / rate - now;
      wait = due <= 0 ? 0 : (int)due;
    }
    int n = epoll_wait(epfd, events, 256, wait);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct session *s = events[i].data.ptr;
      if (!s->in_use) continue;
      if (!s->connected) on_connected(s);
      else on_readable(s);
    }
    if (now - last_expire > 100) {
      expire(now);
      last_expire = now;
    }
  }
  double elapsed = (now_ms() - t0) / 1e3;
  getrusage(RUSAGE_SELF, &ru1);
  double user = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
  double sys = (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  qsort(latencies, (size_t)latency_count, sizeof *latencies, compare);

  printf("{\"mode\":\"%s\",\"sessions\":%ld,\"started\":%ld,\"errors\":{", fixed_rate ? "rate" : "max", latency_count, started_count);
  for (int k = 0; k < E_KINDS; k++) printf("%s\"%s\":%ld", k ? "," : "", error_names[k], errors[k]);
  printf("},\"seconds\":%.3f,\"rate\":%.1f", elapsed, latency_count / elapsed);
  printf(",\"latencyMs\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}", percentile(50), percentile(90), percentile(99),
         latency_count ? latencies[latency_count - 1] : 0.0);
  printf(",\"cpuSeconds\":{\"user\":%.3f,\"system\":%.3f,\"total\":%.3f}", user, sys, user + sys);
  printf(",\"commands\":{");
  for (int c = 0, first = 1; c <= MAX_COMMANDS; c++)
    if (command_histogram[c]) {
      printf("%s\"%d\":%ld", first ? "" : ",", c, command_histogram[c]);
      first = 0;
    }
  printf("},\"variables\":{");
  for (int c = 0, first = 1; c <= MAX_COMMANDS; c++)
    if (variable_histogram[c]) {
      printf("%s\"%d\":%ld", first ? "" : ",", c, variable_histogram[c]);
      first = 0;
    }
  printf("},\"results\":{");
  for (int r = 0; r < MAX_RESULTS && result_names[r][0]; r++) printf("%s\"%s\":%ld", r ? "," : "", result_names[r], result_counts[r]);
  printf("}}\n");
  return 0;
}
