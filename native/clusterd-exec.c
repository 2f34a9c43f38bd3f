/*
 * clusterd-exec: turns itself into one clusterd worker (docs/adr/0005-exec-helper-and-worker-containment.md).
 *
 * clusterd posix_spawns it as root with an empty environment, the worker's stdio on fds 0-2 and one end of a
 * socketpair at the fd named by argv[1], then writes the request on that socket. The worker's environment is only
 * ever an argument to the final execve: LD_PRELOAD, LD_LIBRARY_PATH or GLIBC_TUNABLES in it never act on this
 * process, which is root until step 3.
 *
 * Failure: one line "<exit-code> <errno> <message>" on the status socket, "clusterd-exec: <message>" on stderr (the
 * worker's captured stderr) and systemd's exit code for the step. Success: nothing; the status socket is
 * close-on-exec, so clusterd reads EOF once execve has succeeded.
 *
 * "clusterd-exec --init -- PROGRAM [ARG...]" is another program in the same file: a container's PID 1 that runs
 * clusterd as its only child (docs/adr/0007-clusterd-as-a-container-init.md). See init_main.
 */
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE /* setgroups */
#else
#define _GNU_SOURCE /* setgroups, syscall */
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/prctl.h>
#include <sched.h> /* CLONE_PARENT */
#include <sys/syscall.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP (kernel headers 5.7) */
/* close_range through syscall(2): glibc only wraps it from 2.34, the kernel has it from 5.9 (the flag from 5.11). */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

/* systemd's exit codes for the step that failed, so that operators recognise them. */
enum {
    EXIT_CHDIR = 200,
    EXIT_FDS = 202,
    EXIT_EXEC = 203,
    EXIT_SIGNAL_MASK = 207,
    EXIT_SETUP = 214, /* the request, or the tie to clusterd */
    EXIT_GROUP = 216,
    EXIT_USER = 217,
    EXIT_CGROUP = 219,
    EXIT_SETSID = 220,
};

enum { TAG_ARG = 1, TAG_ENV, TAG_CWD, TAG_UID, TAG_GID, TAG_USER, TAG_FD, TAG_CGROUP, TAG_PARENT, TAG_GROUPS, TAG_COUNT };

#define REQUEST_MAGIC "CLXE"
#define REQUEST_VERSION 2u
#define MAX_BODY (4u << 20)
#define RECORD_HEADER 5u /* u8 tag, u32 length */
#define FIRST_LISTEN_FD 3
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define MAX_LINE 1024 /* clusterd reads at most this much of the status socket */
#define MAX_GROUPS 65536u /* Linux's NGROUPS_MAX */

struct request {
    char **argv;        /* NULL-terminated; argv[0] is the program */
    char **envp;        /* the request's ENV, then room for the three pid variables and NULL */
    size_t envc;
    const char *path;   /* the request's PATH, or NULL */
    bool watchdog;      /* WATCHDOG_USEC is set */
    const char *cwd;
    const char *user;   /* the name, for messages only */
    bool has_uid, has_gid;
    uid_t uid;
    gid_t gid;
    gid_t *groups;      /* the supplementary groups, resolved by clusterd: no NSS here, so the helper links statically */
    size_t ngroups;
    int *fds;           /* the listeners, in order */
    size_t nfds;
    int cgroup_fd;      /* -1: none */
    pid_t parent;
};

static int status_fd = -1;

/* Set in a fork server's child that the kernel started inside the worker's cgroup: it has no cgroup to join. */
static bool born_in_cgroup;

static void write_all(int fd, const char *buf, size_t len, bool socket)
{
    while (len > 0) {
        ssize_t n = socket ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nobody to tell: the exit code still says it */
        buf += n;
        len -= (size_t)n;
    }
}

__attribute__((format(printf, 3, 4), noreturn))
static void fail(int code, int err, const char *format, ...)
{
    char message[MAX_LINE - 64];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);

    char line[MAX_LINE];
    int n = snprintf(line, sizeof line, "%d %d %s\n", code, err, message);
    if (status_fd >= 0 && n > 0)
        write_all(status_fd, line, (size_t)n, true);
    n = snprintf(line, sizeof line, "clusterd-exec: %s\n", message);
    if (n > 0)
        write_all(STDERR_FILENO, line, (size_t)n, false);
    _exit(code);
}

#define malformed(...) fail(EXIT_SETUP, EPROTO, "malformed request: " __VA_ARGS__)

static void read_all(int fd, void *buf, size_t len)
{
    char *at = buf;
    while (len > 0) {
        ssize_t n = read(fd, at, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(EXIT_SETUP, errno, "cannot read the request: %s", strerror(errno));
        if (n == 0)
            malformed("it ends %zu bytes early", len);
        at += n;
        len -= (size_t)n;
    }
}

static uint32_t u32_at(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v); /* host byte order: both ends are the same machine */
    return v;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Pass 1: every record is well-formed; counts them by tag. */
static void check_records(const unsigned char *body, uint32_t len, size_t count[TAG_COUNT])
{
    for (uint32_t at = 0; at < len;) {
        if (len - at < RECORD_HEADER)
            malformed("a record header is cut off at byte %u", at);
        unsigned tag = body[at];
        uint32_t n = u32_at(body + at + 1);
        const unsigned char *value = body + at + RECORD_HEADER;
        if (n > len - at - RECORD_HEADER)
            malformed("record %u at byte %u is longer than the request", tag, at);
        if (tag < TAG_ARG || tag >= TAG_COUNT)
            malformed("unknown record %u at byte %u", tag, at);
        bool number = tag == TAG_UID || tag == TAG_GID || tag == TAG_FD || tag == TAG_CGROUP || tag == TAG_PARENT;
        if (number && n != 4)
            malformed("record %u at byte %u holds %u bytes, not a u32", tag, at, n);
        if (tag == TAG_GROUPS && (n % 4 != 0 || n / 4 > MAX_GROUPS))
            malformed("the group list at byte %u holds %u bytes, not at most %u u32s", at, n, MAX_GROUPS);
        if (!number && tag != TAG_GROUPS && memchr(value, 0, n) != NULL)
            malformed("record %u at byte %u contains a NUL", tag, at);
        if (tag == TAG_ENV && (n == 0 || value[0] == '=' || memchr(value, '=', n) == NULL))
            malformed("environment entry at byte %u is not KEY=VALUE", at);
        if ((tag == TAG_FD || tag == TAG_CGROUP) && u32_at(value) > INT_MAX)
            malformed("fd %u is out of range", u32_at(value));
        if (tag == TAG_PARENT && (u32_at(value) == 0 || u32_at(value) > INT_MAX))
            malformed("parent pid %u is out of range", u32_at(value));
        count[tag]++;
        at += RECORD_HEADER + n;
    }
    if (count[TAG_ARG] == 0)
        malformed("no program");
    if (count[TAG_PARENT] != 1)
        malformed("%zu parent records instead of one", count[TAG_PARENT]);
    static const char *const once[TAG_COUNT] = {
        [TAG_CWD] = "CWD", [TAG_UID] = "UID", [TAG_GID] = "GID", [TAG_USER] = "USER", [TAG_CGROUP] = "CGROUP",
        [TAG_GROUPS] = "GROUPS",
    };
    for (int tag = 0; tag < TAG_COUNT; tag++)
        if (once[tag] != NULL && count[tag] > 1)
            malformed("%zu %s records, at most one allowed", count[tag], once[tag]);
    if (count[TAG_GROUPS] == 1 && count[TAG_GID] == 0)
        malformed("GROUPS without GID");
}

static void *allocate(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        fail(EXIT_SETUP, errno, "cannot hold the request: %s", strerror(errno));
    return p;
}

/* Pass 2: fills the request. Strings are NUL-terminated in place: each one moves down over its own 5-byte header,
 * so it never reaches the next record, which is still to be read. */
static void fill_request(unsigned char *body, uint32_t len, const size_t count[TAG_COUNT], struct request *r)
{
    r->argv = allocate(count[TAG_ARG] + 1, sizeof *r->argv);
    r->envp = allocate(count[TAG_ENV] + 4, sizeof *r->envp);
    r->fds = allocate(count[TAG_FD] + 1, sizeof *r->fds);
    r->cgroup_fd = -1;
    size_t argc = 0;
    uint32_t out = 0;
    for (uint32_t at = 0; at < len;) {
        unsigned tag = body[at];
        uint32_t n = u32_at(body + at + 1);
        unsigned char *value = body + at + RECORD_HEADER;
        uint32_t number = n == 4 ? u32_at(value) : 0;
        char *s = (char *)body + out;
        at += RECORD_HEADER + n;
        switch (tag) {
        case TAG_UID: r->has_uid = true; r->uid = (uid_t)number; continue;
        case TAG_GID: r->has_gid = true; r->gid = (gid_t)number; continue;
        case TAG_FD: r->fds[r->nfds++] = (int)number; continue;
        case TAG_CGROUP: r->cgroup_fd = (int)number; continue;
        case TAG_PARENT: r->parent = (pid_t)number; continue;
        case TAG_GROUPS:
            /* Copied out before any later string moves down over these bytes. */
            r->ngroups = n / 4;
            r->groups = allocate(r->ngroups + 1, sizeof *r->groups);
            for (size_t i = 0; i < r->ngroups; i++)
                r->groups[i] = (gid_t)u32_at(value + 4 * i);
            continue;
        }
        memmove(s, value, n);
        s[n] = '\0';
        out += n + 1;
        switch (tag) {
        case TAG_ARG: r->argv[argc++] = s; break;
        case TAG_CWD: r->cwd = s; break;
        case TAG_USER: r->user = s; break;
        case TAG_ENV:
            /* clusterd does not send these; if it did, the values the worker gets are still its own pid. */
            if (starts_with(s, "LISTEN_PID=") || starts_with(s, "SYSTEMD_EXEC_PID=") || starts_with(s, "WATCHDOG_PID="))
                break;
            if (r->path == NULL && starts_with(s, "PATH="))
                r->path = s + strlen("PATH=");
            if (starts_with(s, "WATCHDOG_USEC="))
                r->watchdog = true;
            r->envp[r->envc++] = s;
            break;
        }
    }
    if (r->argv[0][0] == '\0')
        malformed("the program is an empty string");
}

static void read_request(struct request *r)
{
    unsigned char header[12];
    read_all(status_fd, header, sizeof header);
    if (memcmp(header, REQUEST_MAGIC, 4) != 0)
        malformed("it does not start with " REQUEST_MAGIC);
    if (u32_at(header + 4) != REQUEST_VERSION)
        malformed("version %u, this helper speaks %u", u32_at(header + 4), REQUEST_VERSION);
    uint32_t len = u32_at(header + 8);
    if (len > MAX_BODY)
        malformed("%u bytes, more than %u", len, MAX_BODY);
    unsigned char *body = allocate(len + 1, 1);
    read_all(status_fd, body, len);
    size_t count[TAG_COUNT] = {0};
    check_records(body, len, count);
    fill_request(body, len, count, r);
}

static int parse_fd(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
        return -1;
    return (int)v;
}

/* Everything from floor up becomes close-on-exec. */
static int cloexec_from(int floor)
{
#ifdef __linux__
    if (syscall(SYS_close_range, (unsigned)floor, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL) /* EINVAL: Linux 5.9 and 5.10 know close_range but not the flag */
        return -1;
#endif
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    int end = limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > INT_MAX ? INT_MAX : (int)limit.rlim_cur;
    for (int fd = floor; fd < end; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags == -1 && errno == EBADF)
            continue;
        if (flags == -1 || (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1))
            return -1;
    }
    return 0;
}

/* The listeners to 3..3+n-1 and every other descriptor from 3 up close-on-exec, the status socket included. */
static void place_fds(struct request *r)
{
    int floor = FIRST_LISTEN_FD + (int)r->nfds;
    /* F_DUPFD never clobbers an open descriptor: with every source copied above the targets first, the dup2s below
     * are safe however the inherited numbers overlap 3..floor-1. */
    for (size_t i = 0; i < r->nfds; i++) {
        int copy = fcntl(r->fds[i], F_DUPFD_CLOEXEC, floor);
        if (copy < 0)
            fail(EXIT_FDS, errno, "cannot take listener fd %d: %s", r->fds[i], strerror(errno));
        r->fds[i] = copy;
    }
    int status = fcntl(status_fd, F_DUPFD_CLOEXEC, floor);
    if (status < 0)
        fail(EXIT_FDS, errno, "cannot move the status socket: %s", strerror(errno));
    status_fd = status;
    for (size_t i = 0; i < r->nfds; i++)
        if (dup2(r->fds[i], FIRST_LISTEN_FD + (int)i) < 0) /* without FD_CLOEXEC: these the worker keeps */
            fail(EXIT_FDS, errno, "cannot place listener %zu at fd %zu: %s", i, FIRST_LISTEN_FD + i, strerror(errno));
    if (cloexec_from(floor) != 0)
        fail(EXIT_FDS, errno, "cannot mark descriptors from %d close-on-exec: %s", floor, strerror(errno));
}

static void join_cgroup(int dir)
{
    int procs = openat(dir, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (procs < 0)
        fail(EXIT_CGROUP, errno, "cannot open the worker's cgroup.procs: %s", strerror(errno));
    ssize_t n;
    do
        n = write(procs, "0", 1); /* 0: the writing process */
    while (n < 0 && errno == EINTR);
    if (n != 1)
        fail(EXIT_CGROUP, errno, "cannot join the worker's cgroup: %s", strerror(errno));
    (void)close(procs); /* the write has taken effect: nothing left to learn from close */
}

static void drop_privileges(const struct request *r)
{
    if (r->has_gid) {
        /* What initgroups(3) would set, as clusterd's getgrouplist(3) found it; none without GROUPS. */
#ifdef __APPLE__
        int groups = setgroups((int)r->ngroups, r->groups); /* Darwin's takes an int */
#else
        int groups = setgroups(r->ngroups, r->groups);
#endif
        if (groups != 0 || setgid(r->gid) != 0)
            fail(EXIT_GROUP, errno, "cannot switch to group %u: %s", (unsigned)r->gid, strerror(errno));
    }
    if (r->has_uid && setuid(r->uid) != 0) {
        int err = errno;
        if (r->user != NULL)
            fail(EXIT_USER, err, "cannot switch to user %s: %s", r->user, strerror(err));
        fail(EXIT_USER, err, "cannot switch to user %u: %s", (unsigned)r->uid, strerror(err));
    }
}

static void tie_to_parent(pid_t parent)
{
#ifdef __linux__
    /* After the uid change, which clears it. It fires when the *thread* that spawned us exits: clusterd spawns from
     * one thread that lives as long as it does. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        fail(EXIT_SETUP, errno, "cannot arm the parent-death signal: %s", strerror(errno));
#endif
    if (getppid() != parent)
        fail(EXIT_SETUP, ESRCH, "clusterd (pid %d) exited before the worker was tied to it", (int)parent);
}

/* posix_spawn's POSIX_SPAWN_SETSIGDEF resets every signal but glibc's internal two (32 and 33, for cancellation and
 * setuid across threads), which its spawn child sets to SIG_IGN because it shares the parent's memory; execve keeps
 * SIG_IGN. glibc's sigaction refuses those numbers, so the kernel is asked directly. An all-zero kernel sigaction is
 * SIG_DFL, no flags and an empty mask on every architecture, whatever the struct's layout. */
static void reset_signals(void)
{
#ifdef __linux__
    static const unsigned long dfl[8];
    for (int sig = 1; sig < _NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && syscall(SYS_rt_sigaction, sig, dfl, NULL, _NSIG / 8) != 0)
            fail(EXIT_SIGNAL_MASK, errno, "cannot reset signal %d: %s", sig, strerror(errno));
#endif
}

static void set_pid_variables(struct request *r)
{
    /* systemd's contract: these name the process meant to use the fds and the notify socket, which is this one. */
    static char listen_pid[32], exec_pid[32], watchdog_pid[32];
    int pid = (int)getpid();
    snprintf(listen_pid, sizeof listen_pid, "LISTEN_PID=%d", pid);
    snprintf(exec_pid, sizeof exec_pid, "SYSTEMD_EXEC_PID=%d", pid);
    snprintf(watchdog_pid, sizeof watchdog_pid, "WATCHDOG_PID=%d", pid);
    r->envp[r->envc++] = listen_pid;
    r->envp[r->envc++] = exec_pid;
    if (r->watchdog)
        r->envp[r->envc++] = watchdog_pid;
    r->envp[r->envc] = NULL;
}

/* Like execvpe, on the request's PATH rather than ours (we have none): returns only by failing. */
__attribute__((noreturn))
static void exec_worker(const struct request *r)
{
    const char *program = r->argv[0];
    if (strchr(program, '/') != NULL) {
        execve(program, r->argv, r->envp);
        fail(EXIT_EXEC, errno, "cannot execute '%s': %s", program, strerror(errno));
    }
    const char *path = r->path != NULL ? r->path : DEFAULT_PATH;
    size_t program_len = strlen(program);
    bool denied = false;
    char candidate[PATH_MAX];
    for (const char *dir = path;;) {
        const char *end = strchr(dir, ':');
        size_t dir_len = end != NULL ? (size_t)(end - dir) : strlen(dir);
        if (dir_len + 1 + program_len < sizeof candidate) {
            /* An empty entry is the working directory, as for execvp. */
            int n = snprintf(candidate, sizeof candidate, "%.*s%s%s", (int)dir_len, dir, dir_len > 0 ? "/" : "", program);
            if (n > 0) {
                execve(candidate, r->argv, r->envp);
                switch (errno) {
                case EACCES: denied = true; break;
                case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: case ENAMETOOLONG: break;
                default: fail(EXIT_EXEC, errno, "cannot execute '%s': %s", candidate, strerror(errno));
                }
            }
        }
        if (end == NULL)
            break;
        dir = end + 1;
    }
    if (denied)
        fail(EXIT_EXEC, EACCES, "cannot execute '%s' found on PATH: %s", program, strerror(EACCES));
    fail(EXIT_EXEC, ENOENT, "'%s' not found on PATH %s", program, path);
}

/*
 * --init: PID 1 of a container, with PROGRAM (clusterd) as its child. .NET, as PID 1, reaps every child on SIGCHLD
 * (waitpid(-1)), which would take the workers' exit statuses from clusterd; so clusterd stays a child, and this does
 * what PID 1 must: reap every orphan the kernel hands it, pass the stop and reload signals on (PID 1 gets no signal
 * it has no handler for, so nothing may be left to the default action), and end with the child's status (128+N
 * for a signal N, as a shell says it). When it is not PID 1 (a test) it is a child subreaper instead, so the
 * orphans of its subtree come to it all the same.
 */
static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };

static int exit_status_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

__attribute__((noreturn))
static void init_main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0)
        fail(EXIT_SETUP, EINVAL, "usage: clusterd-exec --init -- PROGRAM [ARG...]");

    /* Blocked before the fork and taken with sigwait: none is lost between the fork and the loop, and none runs a
     * handler. The child starts with an empty mask: whatever the process that exec'd us had blocked is not its. */
    sigset_t handled, none;
    sigemptyset(&handled);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        sigaddset(&handled, forwarded_signals[i]);
    sigaddset(&handled, SIGCHLD);
    sigemptyset(&none);
    if (sigprocmask(SIG_BLOCK, &handled, NULL) != 0)
        fail(EXIT_SIGNAL_MASK, errno, "cannot block signals: %s", strerror(errno));
#ifdef __linux__
    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        fail(EXIT_SETUP, errno, "cannot become a child subreaper: %s", strerror(errno));
#endif

    pid_t child = fork();
    if (child < 0)
        fail(EXIT_SETUP, errno, "cannot fork: %s", strerror(errno));
    if (child == 0) {
        if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
            fail(EXIT_SIGNAL_MASK, errno, "cannot restore the signal mask: %s", strerror(errno));
#ifdef __linux__
        /* Outside a PID namespace (a test) a SIGKILLed init would leave clusterd running: ask it to stop instead. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0)
            fail(EXIT_SETUP, errno, "cannot set the parent-death signal: %s", strerror(errno));
#endif
        execvp(argv[3], argv + 3);
        fail(EXIT_EXEC, errno, "cannot execute '%s': %s", argv[3], strerror(errno));
    }

    for (;;) {
        int sig;
        if (sigwait(&handled, &sig) != 0)
            continue;
        if (sig != SIGCHLD) {
            (void)kill(child, sig); /* ESRCH: it has just exited, and its SIGCHLD is next */
            continue;
        }
        /* Signals coalesce: one SIGCHLD may stand for many exits, the child's among orphans'. */
        int status;
        pid_t pid;
        bool child_exited = false;
        int child_status = 0;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == child) {
                child_exited = true;
                child_status = status;
            }
        }
        if (child_exited)
            exit(exit_status_of(child_status));
    }
}

/* Steps 1-8: the request on status_fd, read into r (zeroed), then the worker. Returns only by failing. */
__attribute__((noreturn))
static void become_worker(struct request *r)
{
#if defined(SO_NOSIGPIPE)
    /* No MSG_NOSIGNAL here: a failure line to a clusterd that is gone must not kill us by SIGPIPE. If this fails,
     * the status fd is no socket and reading the request fails next, saying so. */
    int on = 1;
    (void)setsockopt(status_fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif

    read_request(r);                   /* 1 */
    if (r->cgroup_fd >= 0 && !born_in_cgroup)
        join_cgroup(r->cgroup_fd);     /* 2 */
    drop_privileges(r);                /* 3 */
    tie_to_parent(r->parent);          /* 4 */
    if (setsid() < 0)                  /* 5: the worker leads its own session and process group */
        fail(EXIT_SETSID, errno, "cannot start a session: %s", strerror(errno));
    place_fds(r);                      /* 6 */
    if (r->cwd != NULL && chdir(r->cwd) != 0) /* 7: as the worker's user */
        fail(EXIT_CHDIR, errno, "cannot change directory to '%s': %s", r->cwd, strerror(errno));
    reset_signals();                   /* 8 */
    set_pid_variables(r);
    exec_worker(r);
}

#ifdef __linux__
/*
 * --fork-server: one long-lived process per clusterd that starts the helper for each worker without an exec of its
 * own, so a worker costs one exec (its own) instead of two (docs/adr/0005, "The fork server"). clusterd posix_spawns
 * it as it would the helper (root, an empty environment, signals at their defaults) with one end of a SOCK_SEQPACKET
 * socketpair at the fd named by argv[2]. Each spawn is one message on it:
 *
 *     "CLXF" u32 version (2), i32 cgroup (the index among the fds of the worker's cgroup directory, or -1), and
 *     SCM_RIGHTS: stdout, stderr, then the fds the helper inherits (its status socket first), in order
 *
 * and one reply, an i32: the child's pid, or -errno. The child is clusterd's, not ours (CLONE_PARENT): clusterd
 * waits for it, and its parent-death signal follows clusterd's spawner thread, as a posix_spawned helper's does. It
 * gets stdin on /dev/null, stdout and stderr on 1 and 2, and the inherited fds at 3, 4, ...: what ExecHelper.Start's
 * posix_spawn gives the helper. It then reads its request on fd 3, and goes on as the helper does.
 *
 * The child is a fork of this process (no CLONE_VM): this process is small, so copying it costs less than the exec it
 * saves, and the child's memory, errno and stdio are its own. So the server replies and takes the next message at
 * once, without waiting for the child's exec: children run side by side, and one stuck before its exec (a `cwd` or a
 * program on a dead network mount) holds up nobody else's spawn. The server ends when clusterd closes its end (EOF),
 * or with clusterd's spawner thread (SIGKILL).
 *
 * With a cgroup, the child is born in it (clone3's CLONE_INTO_CGROUP, Linux 5.7): moving a process into a cgroup
 * takes the cgroup core's write lock on every fork and exit in the system, which waits for an RCU grace period once
 * the lock has been idle; that cost 5-7.5 ms per worker restarted after a quiet spell (ADR 0005). A kernel without it,
 * or a cgroup it will not clone into, gets a plain fork, and the child joins as the helper does (step 2), saying why
 * if that fails.
 */
#define SERVER_MAGIC "CLXF"
#define SERVER_VERSION 2u
#define SERVER_HEADER 12
#define MAX_PASSED 253 /* SCM_MAX_FD: the most fds one message can carry */

static void reply(int control, int32_t value)
{
    ssize_t n;
    do
        n = send(control, &value, sizeof value, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof value)
        _exit(0); /* clusterd is gone: nothing is left to serve */
}

/* The child: the passed fds to 1, 2, 3, 4, ...; stdin on /dev/null; then the helper's steps. Every source is first
 * copied above every target and every source, so no dup2 closes a descriptor still needed. */
__attribute__((noreturn))
static void server_child(int control, int *fds, size_t count)
{
    (void)close(control);
    int top = FIRST_LISTEN_FD + (int)count;
    for (size_t i = 0; i < count; i++)
        if (fds[i] >= top)
            top = fds[i] + 1;
    for (size_t i = 0; i < count; i++) {
        int copy = fcntl(fds[i], F_DUPFD_CLOEXEC, top);
        if (copy < 0)
            fail(EXIT_FDS, errno, "cannot take passed fd %d: %s", fds[i], strerror(errno));
        fds[i] = copy;
    }
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0)
        fail(EXIT_FDS, errno, "cannot open /dev/null: %s", strerror(errno));
    for (size_t i = 0; i < count; i++) {
        int target = i < 2 ? (int)i + 1 : FIRST_LISTEN_FD + (int)i - 2;
        if (dup2(fds[i], target) < 0)
            fail(EXIT_FDS, errno, "cannot place passed fd %zu at %d: %s", i, target, strerror(errno));
    }
    status_fd = FIRST_LISTEN_FD;
    struct request r = {0};
    become_worker(&r);
}

/* One message: its bytes into header (SERVER_HEADER of them), its descriptors into fds (count), recvmsg's flags into
 * *flags. Returns what recvmsg returned. */
static ssize_t receive(int control, char *header, int *fds, size_t *count, int *flags)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(MAX_PASSED * sizeof(int))];
    } control_buf;
    struct iovec iov = { .iov_base = header, .iov_len = SERVER_HEADER };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control_buf.buf, .msg_controllen = sizeof control_buf.buf,
    };
    ssize_t n;
    do
        n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    *count = 0;
    *flags = msg.msg_flags;
    if (n <= 0)
        return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k && *count < MAX_PASSED; i++)
            memcpy(&fds[(*count)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    return n;
}

/* Starts the child for one message's fds, in the cgroup whose directory is fds[cgroup] if cgroup >= 0; returns its
 * pid or -errno. Both clones copy this process as fork does: the child goes on from here on its copy of this stack. */
static int32_t serve(int control, int *fds, size_t count, int cgroup)
{
    long pid = -1;
#ifdef CLONE_INTO_CGROUP
    if (cgroup >= 0) {
        /* exit_signal stays 0: with CLONE_PARENT the child's is the server's own (SIGCHLD, to clusterd) */
        struct clone_args args = { .flags = (__u64)CLONE_PARENT | CLONE_INTO_CGROUP, .cgroup = (__u64)(unsigned)fds[cgroup] };
        pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0)
            born_in_cgroup = true;
    }
#else
    (void)cgroup;
#endif
    if (pid < 0)
        pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0)
        server_child(control, fds, count);
    return pid < 0 ? -errno : (int32_t)pid;
}

__attribute__((noreturn))
static void fork_server_main(int control)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        fail(EXIT_SETUP, errno, "cannot arm the parent-death signal: %s", strerror(errno));
    if (fcntl(control, F_SETFD, FD_CLOEXEC) != 0)
        fail(EXIT_SETUP, errno, "cannot mark the control socket close-on-exec: %s", strerror(errno));
    /* From here the server never calls fail(): status_fd is the children's. */
    for (;;) {
        char header[SERVER_HEADER];
        int fds[MAX_PASSED], flags;
        size_t count;
        ssize_t n = receive(control, header, fds, &count, &flags);
        if (n <= 0)
            _exit(0); /* EOF: clusterd closed its end, or is gone */
        int32_t cgroup = (int32_t)u32_at((unsigned char *)header + 8);
        bool valid = n == (ssize_t)sizeof header && memcmp(header, SERVER_MAGIC, 4) == 0
            && u32_at((unsigned char *)header + 4) == SERVER_VERSION && (flags & (MSG_TRUNC | MSG_CTRUNC)) == 0
            && count >= 3 && (cgroup == -1 || (cgroup >= 3 && cgroup < (int32_t)count)); /* 0-2: stdio and status */
        int32_t result = valid ? serve(control, fds, count, cgroup) : -EPROTO;
        for (size_t i = 0; i < count; i++)
            (void)close(fds[i]);
        reply(control, result);
    }
}
#endif

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--init") == 0)
        init_main(argc, argv);
#ifdef __linux__
    int control;
    if (argc == 3 && strcmp(argv[1], "--fork-server") == 0 && (control = parse_fd(argv[2])) >= 0)
        fork_server_main(control);
#endif
    if (argc != 2 || (status_fd = parse_fd(argv[1])) < 0)
        fail(EXIT_SETUP, EINVAL, "usage: clusterd-exec STATUS-FD (it is started by clusterd, not by hand)");
    struct request r = {0};
    become_worker(&r);
}
