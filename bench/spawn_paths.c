/*
 * spawn_paths: where the 1000-worker start's gap to the spawn floor goes (BENCHMARKS.md, Scale). It starts N copies
 * of a program, one after another, by three paths, from a process that holds as many descriptors as clusterd does
 * with N workers (FDS_PER_WORKER each, close-on-exec, so every child's fd table is as large as clusterd's):
 *
 *   floor   posix_spawn of the program itself, as bench/spawn_baseline.py does;
 *   helper  posix_spawn of clusterd-exec, handed a request on a socketpair as clusterd hands it (program, arguments,
 *           parent pid), which then execs the program: clusterd's path without clusterd;
 *   server  clusterd-exec --fork-server, sent each spawn's descriptors as clusterd sends them, whose fork of itself
 *           (a child of ours, by CLONE_PARENT) reads the same request and execs the program: clusterd's path on Linux;
 *   vfork   clone(CLONE_VM | CLONE_VFORK) whose child does the helper's kernel-side steps (setsid, the parent-death
 *           signal) with raw system calls and execs the program: the path a spawn library in clusterd would take.
 *
 * It prints, per path, the milliseconds from the first spawn until every child runs the program (its comm is the
 * program's name), then stops and reaps them. Usage: spawn_paths HELPER N FDS_PER_WORKER PROGRAM [ARG...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { TAG_ARG = 1, TAG_PARENT = 9 }; /* native/clusterd-exec.c */

static char **program_argv;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static size_t put_record(unsigned char *at, unsigned tag, const void *value, uint32_t n)
{
    at[0] = (unsigned char)tag;
    memcpy(at + 1, &n, 4);
    memcpy(at + 5, value, n);
    return 5 + n;
}

/* The request clusterd would write: CLXE, version 2, the body's length, then the records. */
static size_t encode_request(unsigned char *buf)
{
    size_t body = 12;
    for (char **a = program_argv; *a != NULL; a++)
        body += put_record(buf + body, TAG_ARG, *a, (uint32_t)strlen(*a));
    uint32_t parent = (uint32_t)getpid();
    body += put_record(buf + body, TAG_PARENT, &parent, 4);
    uint32_t version = 2, length = (uint32_t)(body - 12);
    memcpy(buf, "CLXE", 4);
    memcpy(buf + 4, &version, 4);
    memcpy(buf + 8, &length, 4);
    return body;
}

static void send_request(int status)
{
    unsigned char request[4096];
    size_t length = encode_request(request);
    if (write(status, request, length) != (ssize_t)length)
        die("write request");
    close(status); /* EOF after the exec, as clusterd reads it */
}

/* posix_spawns clusterd-exec with an empty environment and argv "clusterd-exec [MODE] FD", FD being the child's end of
 * a new socketpair of TYPE (the one descriptor it keeps across its exec); returns our end. */
static int spawn_helper_process(const char *helper, int type, char *mode, pid_t *pid)
{
    int pair[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pair) != 0)
        die("socketpair");
    if (fcntl(pair[1], F_SETFD, 0) != 0)
        die("fcntl");
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", pair[1]);
    char *with_mode[] = { "clusterd-exec", mode, fd_text, NULL };
    char *without[] = { "clusterd-exec", fd_text, NULL };
    char *empty[] = { NULL };
    int error = posix_spawn(pid, helper, NULL, NULL, mode != NULL ? with_mode : without, empty);
    if (error != 0) {
        errno = error;
        die("posix_spawn clusterd-exec");
    }
    close(pair[1]);
    return pair[0];
}

static pid_t spawn_helper(const char *helper)
{
    pid_t pid;
    send_request(spawn_helper_process(helper, SOCK_STREAM, NULL, &pid));
    return pid;
}

static int start_server(const char *helper)
{
    pid_t pid;
    return spawn_helper_process(helper, SOCK_SEQPACKET, "--fork-server", &pid);
}

static pid_t spawn_server(int server)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        die("socketpair");
    int passed[3] = { STDOUT_FILENO, STDERR_FILENO, pair[1] };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof passed)];
    } control;
    char header[12] = "CLXF";
    uint32_t version = 2;
    int32_t cgroup = -1; /* none: a posix_spawn floor has none either */
    memcpy(header + 4, &version, 4);
    memcpy(header + 8, &cgroup, 4);
    struct iovec iov = { .iov_base = header, .iov_len = sizeof header };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof passed);
    memcpy(CMSG_DATA(c), passed, sizeof passed);
    if (sendmsg(server, &msg, 0) != (ssize_t)sizeof header)
        die("sendmsg to the fork server");
    close(pair[1]);
    int32_t pid;
    if (recv(server, &pid, sizeof pid, 0) != (ssize_t)sizeof pid || pid < 0)
        die("fork server reply");
    send_request(pair[0]);
    return pid;
}

static int vfork_child(void *unused)
{
    (void)unused;
    /* Only system calls: the child shares the parent's memory, so no libc state may change. */
    syscall(SYS_setsid);
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    syscall(SYS_execve, program_argv[0], program_argv, environ);
    syscall(SYS_exit_group, 127);
    return 127;
}

static pid_t spawn_vfork(char *stack_top)
{
    pid_t pid = clone(vfork_child, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    if (pid < 0)
        die("clone");
    return pid;
}

static int runs_program(pid_t pid, const char *name)
{
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int found = fgets(comm, sizeof comm, f) != NULL && strncmp(comm, name, strlen(name)) == 0;
    fclose(f);
    return found;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: spawn_paths HELPER N FDS_PER_WORKER PROGRAM [ARG...]\n");
        return 2;
    }
    const char *helper = argv[1];
    int n = atoi(argv[2]), per_worker = atoi(argv[3]);
    program_argv = argv + 4;
    const char *base = strrchr(program_argv[0], '/');
    const char *name = base != NULL ? base + 1 : program_argv[0];

    int server = start_server(helper); /* before clusterd's descriptors, as clusterd starts it before its workers' */
    for (int i = 0; i < n * per_worker; i++)
        if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0)
            die("open /dev/null (raise ulimit -n)");
    size_t stack_size = 64 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        die("mmap");
    pid_t *pids = calloc((size_t)n, sizeof *pids);

    const char *paths[] = { "floor", "helper", "server", "vfork" };
    for (int p = 0; p < 4; p++) {
        double t0 = now_ms();
        for (int i = 0; i < n; i++) {
            if (p == 0) {
                int error = posix_spawn(&pids[i], program_argv[0], NULL, NULL, program_argv, environ);
                if (error != 0) {
                    errno = error;
                    die("posix_spawn");
                }
            } else if (p == 1) {
                pids[i] = spawn_helper(helper);
            } else if (p == 2) {
                pids[i] = spawn_server(server);
            } else {
                pids[i] = spawn_vfork(stack + stack_size);
            }
        }
        for (int i = 0; i < n; i++)
            while (!runs_program(pids[i], name))
                usleep(200);
        printf("%s %.1f\n", paths[p], now_ms() - t0);
        fflush(stdout);
        for (int i = 0; i < n; i++)
            kill(pids[i], SIGTERM);
        for (int i = 0; i < n; i++)
            waitpid(pids[i], NULL, 0);
    }
    return 0;
}
