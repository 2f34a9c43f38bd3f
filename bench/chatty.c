/* The chatty worker of bench/logs.sh: writes fixed-size lines to stdout, one write(2) per line as a logging library
 * does, for SECONDS: as fast as the pipe takes them (RATE 0), or at RATE bytes/s (a token bucket refilled every
 * millisecond). It starts once DIR/go exists (the harness has its baseline), writes "LINES SECONDS" to DIR/count
 * when done, and then sleeps until it is stopped, so that the manager does not restart it.
 *   usage: chatty LINE_BYTES RATE SECONDS DIR */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: chatty LINE_BYTES RATE SECONDS DIR\n");
    return 2;
  }
  int size = atoi(argv[1]);
  double rate = atof(argv[2]), seconds = atof(argv[3]);
  if (size < 32 || size > 4096) {
    fprintf(stderr, "chatty: LINE_BYTES must be 32..4096\n");
    return 2;
  }
  char go[PATH_MAX], count[PATH_MAX];
  snprintf(go, sizeof go, "%s/go", argv[4]);
  snprintf(count, sizeof count, "%s/count", argv[4]);
  while (access(go, F_OK) != 0) {
    struct timespec ms = {0, 10000000};
    nanosleep(&ms, NULL);
  }
  char line[4097];
  memset(line, 'x', size - 1);
  line[size - 1] = '\n';
  long long lines = 0;
  double start = now(), end = start + seconds, tokens = 0, last = start;
  for (double t = start; t < end; t = (lines & 255) ? t : now()) {
    if (rate > 0) {
      while (tokens < size) {
        double n = now();
        tokens += (n - last) * rate;
        last = n;
        if (tokens < size) {
          struct timespec ms = {0, 1000000};
          nanosleep(&ms, NULL);
        }
      }
      tokens -= size;
    }
    int head = snprintf(line, 24, "chatty %012lld", lines); /* a sequence number, then the padding */
    line[head] = ' ';
    if (write(1, line, size) != size) {
      if (errno == EINTR) continue;
      perror("chatty: write");
      return 1;
    }
    lines++;
  }
  FILE *f = fopen(count, "w");
  if (!f) {
    perror("chatty: count file");
    return 1;
  }
  fprintf(f, "%lld %.3f\n", lines, now() - start);
  fclose(f);
  for (;;) pause();
}
