/*
 * One view of hiredis for Swift, whatever its version.
 *
 * hiredis 0.14 (Debian 12) and 1.x (Ubuntu 24.04, Homebrew) differ in the reply types they know
 * (1.x adds the RESP3 types), in how a timed-out read is reported, and in how they connect with
 * options. The static inline helpers below hide those differences, gated on HIREDIS_MAJOR, so the
 * Swift layer calls one API. SIGPIPE needs no gate: both versions write on the calling thread,
 * which blocks it (see below).
 *
 * Ownership: a reply returned by chr_get_reply or chr_buffered_reply is a builder object (see
 * chr_use_reply_builders) that belongs to the caller, who releases it exactly once (only the
 * top-level reply: nested elements go with it). The reader's reply object functions also differ
 * by version (1.x adds doubles and booleans); chr_use_reply_builders gates them.
 */
#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#endif

/* Reply types that hiredis 0.14 does not define (RESP3, hiredis >= 1.0). Same values as 1.x. */
#ifndef REDIS_REPLY_DOUBLE
#define REDIS_REPLY_DOUBLE 7
#endif
#ifndef REDIS_REPLY_BOOL
#define REDIS_REPLY_BOOL 8
#endif
#ifndef REDIS_REPLY_MAP
#define REDIS_REPLY_MAP 9
#endif
#ifndef REDIS_REPLY_SET
#define REDIS_REPLY_SET 10
#endif
#ifndef REDIS_REPLY_ATTR
#define REDIS_REPLY_ATTR 11
#endif
#ifndef REDIS_REPLY_PUSH
#define REDIS_REPLY_PUSH 12
#endif
#ifndef REDIS_REPLY_BIGNUM
#define REDIS_REPLY_BIGNUM 13
#endif
#ifndef REDIS_REPLY_VERB
#define REDIS_REPLY_VERB 14
#endif

/* Error classes the Swift layer distinguishes. */
typedef enum {
    CHR_OK = 0,
    CHR_ERR_IO = 1,
    CHR_ERR_EOF = 2,
    CHR_ERR_PROTOCOL = 3,
    CHR_ERR_TIMEOUT = 4,
    CHR_ERR_OOM = 5,
    CHR_ERR_OTHER = 6,
} chr_error_kind;

/* Classifies the context's error; errno_value is the errno seen right after the failing call. */
static inline chr_error_kind chr_classify(const redisContext *c, int errno_value) {
    if (c == NULL) return CHR_ERR_OOM;
    switch (c->err) {
    case 0: return CHR_OK;
#if HIREDIS_MAJOR >= 1
    case REDIS_ERR_TIMEOUT: return CHR_ERR_TIMEOUT;
#endif
    case REDIS_ERR_IO:
        /* 0.14 reports a read past SO_RCVTIMEO as an I/O error with EAGAIN. */
        if (errno_value == EAGAIN || errno_value == EWOULDBLOCK || errno_value == ETIMEDOUT
            || errno_value == EINPROGRESS)
            return CHR_ERR_TIMEOUT;
        return CHR_ERR_IO;
    case REDIS_ERR_EOF: return CHR_ERR_EOF;
    case REDIS_ERR_PROTOCOL: return CHR_ERR_PROTOCOL;
    case REDIS_ERR_OOM: return CHR_ERR_OOM;
    default: return CHR_ERR_OTHER;
    }
}

/*
 * SIGPIPE. A write to a socket whose peer is gone raises SIGPIPE, whose default action ends the
 * process. The client never changes the process-wide disposition; instead each connection's I/O
 * thread, the only thread that calls hiredis on its context (connect, write, read, free), blocks
 * SIGPIPE for itself, so such a write fails with EPIPE and hiredis reports an I/O error. This
 * works the same on hiredis 0.14 (write()) and 1.x (send() without MSG_NOSIGNAL).
 */

/* Blocks SIGPIPE for the calling thread only (pthread_sigmask fails only for an invalid `how`). */
static inline void chr_block_sigpipe_on_this_thread(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * Discards a SIGPIPE left pending on the calling thread by a failed write (it is blocked there, so
 * it would stay pending for the thread's life). A SIGPIPE pending for the whole process is taken
 * too, which can only happen when every thread blocks it. Linux only; on Apple platforms the
 * socket is asked not to raise it at all (chr_no_sigpipe_on_socket).
 */
static inline void chr_discard_pending_sigpipe(void) {
#if defined(__linux__)
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigset_t pending;
    if (sigpending(&pending) != 0 || !sigismember(&pending, SIGPIPE)) return;
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&set, NULL, &zero) == SIGPIPE) {}
#endif
}

/* Asks the socket itself never to raise SIGPIPE where the system can (SO_NOSIGPIPE, Apple). */
static inline void chr_no_sigpipe_on_socket(const redisContext *c) {
#if defined(SO_NOSIGPIPE)
    int on = 1;
    setsockopt((int)c->fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on));
#else
    (void)c;
#endif
}

/* Connects over TCP with a connect timeout (0 ms: none). Never returns NULL unless out of memory. */
static inline redisContext *chr_connect_tcp(const char *host, int port, long timeout_ms) {
    if (timeout_ms <= 0) return redisConnect(host, port);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return redisConnectWithTimeout(host, port, tv);
}

/* Connects over a Unix socket with a connect timeout (0 ms: none). */
static inline redisContext *chr_connect_unix(const char *path, long timeout_ms) {
    if (timeout_ms <= 0) return redisConnectUnix(path);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return redisConnectUnixWithTimeout(path, tv);
}

/* Sets the read and write timeout of a connected context (0 ms: none). Returns REDIS_OK or REDIS_ERR. */
static inline int chr_set_command_timeout(redisContext *c, long timeout_ms) {
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return redisSetTimeout(c, tv);
}

/* Queues one command given as an argument vector (binary safe: no format string). */
static inline int chr_append_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return redisAppendCommandArgv(c, argc, argv, argvlen);
}

/*
 * Flushes queued commands if needed and reads one reply. On failure returns REDIS_ERR, stores
 * the errno observed at that point in *errno_out (for chr_classify) and discards a SIGPIPE the
 * failed write left pending on this thread. The reply is a builder object (chr_use_reply_builders).
 */
static inline int chr_get_reply(redisContext *c, void **reply, int *errno_out) {
    errno = 0;
    void *r = NULL;
    int status = redisGetReply(c, &r);
    *errno_out = errno;
    if (status != REDIS_OK) chr_discard_pending_sigpipe();
    *reply = r;
    return status;
}

/*
 * The I/O thread's reads: one read of what the socket has into hiredis's reader, then each
 * complete reply from the reader. A plain (not TLS) connection reads only after poll() said the
 * socket is readable, so the read does not block.
 */

/* Reads once from the socket into the reader. REDIS_OK or REDIS_ERR (errno in *errno_out). */
static inline int chr_buffer_read(redisContext *c, int *errno_out) {
    errno = 0;
    int status = redisBufferRead(c);
    *errno_out = errno;
    return status;
}

/* The next complete reply already read (NULL in *reply when there is none yet), or REDIS_ERR
 * for a protocol error. A reply returned is a builder object owned by the caller. */
static inline int chr_buffered_reply(redisContext *c, void **reply) {
    void *r = NULL;
    int status = redisGetReplyFromReader(c, &r);
    *reply = r;
    return status;
}

/*
 * Reply builders. Instead of redisReply objects (a copy of every string, then another into
 * Swift), hiredis's reader hands what it parses to functions the Swift side exports (see
 * ReplyBuilder.swift), which build the Swift values directly: each string is copied once.
 * `parent` is the object returned for the enclosing array (NULL at the top); elements come in
 * order. The object returned for a top-level reply is what chr_get_reply and chr_buffered_reply
 * hand back, owned by the caller; hiredis frees only a top-level object, one it was still
 * building when the stream broke or the context was freed. Every reply type comes back this
 * way, RESP3 pushes included: hiredis 1.x's push callback (which would read a builder object as
 * a redisReply) is turned off, and the caller skips pushes.
 */
extern void *chr_swift_build_string(void *parent, int type, const char *str, size_t len);
extern void *chr_swift_build_aggregate(void *parent, int type, size_t count);
extern void *chr_swift_build_integer(void *parent, int type, long long value);
extern void *chr_swift_build_nil(void *parent);
extern void chr_swift_free_reply(void *object);

static inline void *chr_parent_of(const redisReadTask *task) {
    return task->parent ? task->parent->obj : NULL;
}
static void *chr_build_string(const redisReadTask *task, char *str, size_t len) {
    return chr_swift_build_string(chr_parent_of(task), task->type, str, len);
}
#if HIREDIS_MAJOR >= 1
static void *chr_build_array(const redisReadTask *task, size_t count) {
#else
static void *chr_build_array(const redisReadTask *task, int count) {
#endif
    return chr_swift_build_aggregate(chr_parent_of(task), task->type, (size_t)count);
}
static void *chr_build_integer(const redisReadTask *task, long long value) {
    return chr_swift_build_integer(chr_parent_of(task), task->type, value);
}
static void *chr_build_nil(const redisReadTask *task) {
    return chr_swift_build_nil(chr_parent_of(task));
}
#if HIREDIS_MAJOR >= 1
/* A RESP3 double as its text (as hiredis keeps it), a boolean as an integer of type BOOL. */
static void *chr_build_double(const redisReadTask *task, double value, char *str, size_t len) {
    (void)value;
    return chr_swift_build_string(chr_parent_of(task), task->type, str, len);
}
static void *chr_build_bool(const redisReadTask *task, int value) {
    return chr_swift_build_integer(chr_parent_of(task), task->type, value != 0);
}
#endif

/* Makes the context's reader build replies with the Swift builders, before any reply is read. */
static inline void chr_use_reply_builders(redisContext *c) {
    static redisReplyObjectFunctions functions = {
        .createString = chr_build_string,
        .createArray = chr_build_array,
        .createInteger = chr_build_integer,
#if HIREDIS_MAJOR >= 1
        .createDouble = chr_build_double,
#endif
        .createNil = chr_build_nil,
#if HIREDIS_MAJOR >= 1
        .createBool = chr_build_bool,
#endif
        .freeObject = chr_swift_free_reply,
    };
    c->reader->fn = &functions;
#if HIREDIS_MAJOR >= 1
    c->push_cb = NULL;
#endif
}

/* The major version of the hiredis this was built against (RESP3 replies need 1 or later). */
static inline int chr_hiredis_major(void) { return HIREDIS_MAJOR; }

/* Queues bytes already in RESP form in the output buffer (written by the next chr_get_reply). */
static inline int chr_append_formatted(redisContext *c, const char *bytes, size_t len) {
    return redisAppendFormattedCommand(c, bytes, len);
}

/*
 * Writes on a plain connection's socket without blocking and without SIGPIPE (MSG_NOSIGNAL on
 * Linux; SO_NOSIGPIPE is set on the socket on Apple platforms), from any thread: the bytes
 * written, or -1 with errno (EAGAIN: the socket takes nothing now).
 */
static inline long chr_send_nonblocking(int fd, const void *bytes, size_t len) {
#if defined(MSG_NOSIGNAL)
    int flags = MSG_DONTWAIT | MSG_NOSIGNAL;
#else
    int flags = MSG_DONTWAIT;
#endif
    ssize_t sent;
    do { sent = send(fd, bytes, len, flags); } while (sent < 0 && errno == EINTR);
    return (long)sent;
}

/*
 * Waits until the socket has one of `events`, at most timeout_us microseconds (ppoll on Linux;
 * poll, to the millisecond above, elsewhere). Returns poll's result; its revents in *revents.
 */
static inline int chr_wait_socket(int sock, short events, long long timeout_us, short *revents) {
    struct pollfd p = { sock, events, 0 };
    int ready;
#if defined(__linux__)
    struct timespec limit = { (time_t)(timeout_us / 1000000), (long)(timeout_us % 1000000) * 1000 };
    ready = ppoll(&p, 1, &limit, NULL);
#else
    ready = poll(&p, 1, (int)((timeout_us + 999) / 1000));
#endif
    *revents = p.revents;
    return ready;
}

/*
 * A caller's bounded wait for its reply without a timer armed per call: a one-shot timer
 * descriptor the connection re-arms only when the one armed would not end the wait in time (see
 * ReplyWaitTimer.swift). A poll timeout arms a kernel timer on every call, and on a VM arming the
 * earliest timer of a CPU reprograms its timer hardware: measured on this project's VM with the
 * server on another CPU, about a fifth of the client's CPU time per call. Linux (timerfd);
 * elsewhere chr_timer_open returns -1 and the wait uses poll's own timeout.
 */
static inline int chr_timer_open(void) {
#if defined(__linux__)
    return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
#else
    return -1;
#endif
}

/* Arms the timer to expire once, timeout_us microseconds from now (at least 1); an expiry not
 * yet read is cleared. 0, or -1 with errno. */
static inline int chr_timer_arm(int fd, long long timeout_us) {
#if defined(__linux__)
    if (timeout_us < 1) timeout_us = 1;
    struct itimerspec setting = { { 0, 0 }, { (time_t)(timeout_us / 1000000), (long)(timeout_us % 1000000) * 1000 } };
    return timerfd_settime(fd, 0, &setting, NULL);
#else
    (void)fd; (void)timeout_us;
    return -1;
#endif
}

static inline void chr_timer_close(int fd) {
    if (fd >= 0) close(fd);
}

/*
 * Waits, with no limit of its own, until the socket is readable (or failed) or the timer expires
 * (its expiry is read). Returns poll's result (-1 with errno, EINTR included); in *ready, bit 1:
 * the socket, bit 2: the timer.
 */
static inline int chr_wait_socket_or_timer(int sock, int timer, int *ready) {
    struct pollfd p[2] = { { sock, POLLIN, 0 }, { timer, POLLIN, 0 } };
    int result = poll(p, 2, -1);
    *ready = (result > 0 && p[0].revents != 0 ? 1 : 0) | (result > 0 && p[1].revents != 0 ? 2 : 0);
    if (*ready & 2) {
        uint64_t expirations;
        ssize_t ignored = read(timer, &expirations, sizeof(expirations));
        (void)ignored;
    }
    return result;
}

/*
 * Waking the I/O thread: an eventfd on Linux, a pipe elsewhere. fds[0] is read, fds[1] written
 * (the same descriptor for an eventfd). Both ends are non-blocking and close on exec.
 */
static inline int chr_wake_open(int fds[2]) {
#if defined(__linux__)
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return -1;
    fds[0] = fd; fds[1] = fd;
    return 0;
#else
    if (pipe(fds) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
#endif
}

static inline void chr_wake_signal(int write_fd) {
#if defined(__linux__)
    uint64_t one = 1;
    ssize_t ignored = write(write_fd, &one, sizeof(one));
#else
    char one = 1;
    ssize_t ignored = write(write_fd, &one, 1);
#endif
    (void)ignored;
}

static inline void chr_wake_drain(int read_fd) {
    char buffer[64];
    while (read(read_fd, buffer, sizeof(buffer)) > 0) {}
}

static inline void chr_wake_close(int fds[2]) {
    close(fds[0]);
    if (fds[1] != fds[0]) close(fds[1]);
}

/* Waits until the wake descriptor is readable; poll's result (-1 with errno, EINTR included). */
static inline int chr_wait_for_wake(int wake_fd) {
    struct pollfd p = { wake_fd, POLLIN, 0 };
    return poll(&p, 1, -1);
}

/* True when the peer closed an idle connection (or it failed): checked before reusing it. */
static inline int chr_peer_closed(const redisContext *c) {
    struct pollfd p = { (int)c->fd, POLLIN, 0 };
    /* Readable (or failing) while no reply is pending: EOF, an error, or unsolicited data. */
    return poll(&p, 1, 0) != 0;
}

#endif
