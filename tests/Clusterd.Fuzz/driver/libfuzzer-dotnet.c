// A libFuzzer driver for a .NET fuzz target (clusterd's `make fuzz`, docs/security.md).
//
// libFuzzer lives in this process; the target runs in one .NET child process, started once and fed every input,
// through the protocol of SharpFuzz's Fuzzer.LibFuzzer.Run:
//   - a System V shared memory segment: SharpFuzz's edge counters (MAP_SIZE bytes), then the input;
//   - the control pipe, fd number in __LIBFUZZER_CONTROL_PIPE_ID: the input's length (int32) to the child;
//   - the status pipe, fd number in __LIBFUZZER_STATUS_PIPE_ID: an int32 from the child, 0 once it is ready and
//     after an input returned normally, anything else after an exception.
// After every input the child's counters are copied into libFuzzer's extra counters, so libFuzzer is guided by the
// coverage of the .NET code. A non-zero status, or a child that dies (a stack overflow, a FailFast), is a crash:
// __builtin_trap() makes libFuzzer save the input as an artifact and exit non-zero. A hang is libFuzzer's -timeout.
//
// Usage: libfuzzer-dotnet --dotnet=PROGRAM [--dotnet_arg=ARG]... [libFuzzer flags] [corpus dirs]
// (libFuzzer ignores flags that start with "--").
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#define MAP_SIZE (1 << 16)           // SharpFuzz's coverage map
#define MAX_INPUT (2 * 1024 * 1024)  // above clusterd's 1 MiB config limit, so that branch can be reached
#define CONTROL_FD 198
#define STATUS_FD 199
#define MAX_ARGS 16

__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t s_counters[MAP_SIZE];

static uint8_t *s_shared;
static int s_control = -1;
static int s_status = -1;

static void fail(const char *what) {
  fprintf(stderr, "libfuzzer-dotnet: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int write_all(int fd, const void *buffer, size_t length) {
  const char *p = buffer;
  while (length > 0) {
    ssize_t n = write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    length -= (size_t)n;
  }
  return 0;
}

// 1: a whole int32 read; 0: the child closed the pipe (it died); -1: an error.
static int read_int32(int fd, int32_t *value) {
  char *p = (char *)value;
  size_t got = 0;
  while (got < sizeof *value) {
    ssize_t n = read(fd, p + got, sizeof *value - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    got += (size_t)n;
  }
  return 1;
}

static const char *flag_value(const char *arg, const char *name) {
  size_t length = strlen(name);
  return strncmp(arg, name, length) == 0 && arg[length] == '=' ? arg + length + 1 : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *program = NULL;
  char *child_argv[MAX_ARGS + 2];
  int child_argc = 1;
  for (int i = 1; i < *argc; i++) {
    const char *value;
    if ((value = flag_value((*argv)[i], "--dotnet")) != NULL) {
      program = value;
    } else if ((value = flag_value((*argv)[i], "--dotnet_arg")) != NULL && child_argc <= MAX_ARGS) {
      child_argv[child_argc++] = (char *)value;
    }
  }
  if (program == NULL) {
    fprintf(stderr, "libfuzzer-dotnet: name the .NET fuzz program with --dotnet=PATH\n");
    exit(1);
  }
  child_argv[0] = (char *)program;
  child_argv[child_argc] = NULL;

  int shm = shmget(IPC_PRIVATE, MAP_SIZE + MAX_INPUT, IPC_CREAT | IPC_EXCL | 0600);
  if (shm < 0) fail("shmget");
  s_shared = shmat(shm, NULL, 0);
  if (s_shared == (void *)-1) fail("shmat");

  int control[2], status[2];
  if (pipe(control) != 0 || pipe(status) != 0) fail("pipe");

  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    // The child must not outlive us: libFuzzer leaves on a crash or timeout with _Exit, running nothing of ours.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
    if (dup2(control[0], CONTROL_FD) < 0 || dup2(status[1], STATUS_FD) < 0) _exit(1);
    close(control[0]);
    close(control[1]);
    close(status[0]);
    close(status[1]);
    char id[16];
    snprintf(id, sizeof id, "%d", shm);
    if (setenv("__LIBFUZZER_SHM_ID", id, 1) != 0 || setenv("__LIBFUZZER_CONTROL_PIPE_ID", "198", 1) != 0 ||
        setenv("__LIBFUZZER_STATUS_PIPE_ID", "199", 1) != 0) {
      _exit(1);
    }
    execv(program, child_argv);
    fprintf(stderr, "libfuzzer-dotnet: cannot run %s: %s\n", program, strerror(errno));
    _exit(1);
  }
  close(control[0]);
  close(status[1]);
  s_control = control[1];
  s_status = status[0];
  // A child that dies must show as EOF or EPIPE on its pipe, not kill us with SIGPIPE before libFuzzer can report.
  signal(SIGPIPE, SIG_IGN);

  int32_t ready;
  if (read_int32(s_status, &ready) != 1 || ready != 0) {
    fprintf(stderr, "libfuzzer-dotnet: %s did not start its fuzz loop\n", program);
    exit(1);
  }
  // Both of us are attached now: the segment goes away with the last of us, however we end.
  shmctl(shm, IPC_RMID, NULL);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_INPUT) {
    fprintf(stderr, "libfuzzer-dotnet: an input of %zu bytes is over the %d-byte limit\n", size, MAX_INPUT);
    exit(1);
  }
  memset(s_shared, 0, MAP_SIZE);
  if (size > 0) memcpy(s_shared + MAP_SIZE, data, size);
  int32_t length = (int32_t)size;
  int32_t status = 0;
  int got = write_all(s_control, &length, sizeof length) == 0 ? read_int32(s_status, &status) : 0;
  memcpy(s_counters, s_shared, MAP_SIZE);
  if (got < 0) fail("reading the target's status");
  if (got == 0) {
    fprintf(stderr, "libfuzzer-dotnet: the .NET target died on this input\n");
    __builtin_trap();
  }
  if (status != 0) {
    __builtin_trap(); // the target threw: SharpFuzz printed the exception
  }
  return 0;
}
