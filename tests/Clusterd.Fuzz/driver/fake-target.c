// A stand-in for the .NET fuzz program, for fuzz.sh's check of the driver before each run: it speaks the same
// protocol as SharpFuzz (status pipe, control pipe), and on its 5th input does what argv[1] says: "hang", "die" or
// "throw" (a non-zero status, as SharpFuzz sends after an exception); "ok" never fails. The driver must turn each
// failure into a libFuzzer finding, or a fuzz run that finds nothing proves nothing.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fd_from(const char *variable) {
  const char *value = getenv(variable);
  return value != NULL ? atoi(value) : -1;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "ok";
  int control = fd_from("__LIBFUZZER_CONTROL_PIPE_ID");
  int status = fd_from("__LIBFUZZER_STATUS_PIPE_ID");
  int32_t zero = 0, one = 1, length;
  if (control < 0 || status < 0 || write(status, &zero, sizeof zero) != sizeof zero) return 1;
  for (int n = 1; read(control, &length, sizeof length) == sizeof length; n++) {
    const int32_t *answer = &zero;
    if (n == 5 && strcmp(mode, "hang") == 0) pause();
    if (n == 5 && strcmp(mode, "die") == 0) return 3;
    if (n == 5 && strcmp(mode, "throw") == 0) answer = &one;
    if (write(status, answer, sizeof *answer) != sizeof *answer) return 1;
  }
  return 0;
}
