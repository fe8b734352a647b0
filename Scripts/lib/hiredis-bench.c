/*
 * hiredis's own synchronous client doing what Sources/RedisBenchmark does at one connection:
 * LPUSH of a 300-byte value, then LRANGE 0 49 of that list, each call timed whole (writing the
 * command, waiting, reading and parsing the reply into hiredis's reply objects, freeing them).
 * It is the C floor under this package's client, which is built on the same library; unlike
 * redis-benchmark's latency (from its write until the reply is there to read), it counts what a
 * caller pays for a call, as the client's figures do.
 *
 *   hiredis-bench PORT REQUESTS WARMUP   (127.0.0.1; WARMUP at least 50)
 *
 * Prints RedisBenchmark's CSV, one line per test:
 * test,concurrency,requests,rps,p50_ms,p99_ms,mean_ms,warmup
 * Exits 1 when the server is unreachable or a reply is not what the command returns.
 * Built by Scripts/bench-cost.sh: cc -O2 hiredis-bench.c $(pkg-config --cflags --libs hiredis).
 */
#include <hiredis/hiredis.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A decimal whole number, or -1 for anything else. */
static long whole_number(const char *text) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && value >= 0 ? value : -1;
}

/* One call, checked: LPUSH answers an integer, LRANGE 0 49 an array of 50 strings. */
static int call(redisContext *c, int argc, const char **argv, const size_t *lengths, int is_lrange) {
    redisReply *reply = redisCommandArgv(c, argc, argv, lengths);
    if (reply == NULL) {
        fprintf(stderr, "hiredis-bench: %s\n", c->errstr);
        return -1;
    }
    int ok = is_lrange ? reply->type == REDIS_REPLY_ARRAY && reply->elements == 50
                       : reply->type == REDIS_REPLY_INTEGER;
    if (!ok) fprintf(stderr, "hiredis-bench: unexpected reply to %s (type %d)\n", argv[0], reply->type);
    freeReplyObject(reply);
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: hiredis-bench PORT REQUESTS WARMUP\n");
        return 64;
    }
    long port = whole_number(argv[1]), requests = whole_number(argv[2]), warmup = whole_number(argv[3]);
    if (port < 1 || port > 65535 || requests < 1 || requests > 100000000 || warmup < 50 || warmup > 100000000) {
        fprintf(stderr, "hiredis-bench: PORT is 1 to 65535, REQUESTS 1 to 100000000, WARMUP 50 to 100000000\n");
        return 64;
    }
    redisContext *c = redisConnect("127.0.0.1", (int)port);
    if (c == NULL || c->err) {
        fprintf(stderr, "hiredis-bench: cannot connect: %s\n", c ? c->errstr : "out of memory");
        return 1;
    }
    char value[300];
    memset(value, 'x', sizeof value);
    const char *key = "bench:mylist";
    const char *lpush[] = { "LPUSH", key, value };
    const size_t lpush_lengths[] = { 5, strlen(key), sizeof value };
    const char *lrange[] = { "LRANGE", key, "0", "49" };
    const size_t lrange_lengths[] = { 6, strlen(key), 1, 2 };
    double *latencies = malloc(sizeof(double) * (size_t)requests);
    if (latencies == NULL) {
        fprintf(stderr, "hiredis-bench: no memory for %ld latencies\n", requests);
        return 1;
    }

    for (int test = 0; test < 2; test++) {
        const char **command = test == 0 ? lpush : lrange;
        const size_t *lengths = test == 0 ? lpush_lengths : lrange_lengths;
        int count = test == 0 ? 3 : 4;
        /* The warm-up runs just before its test; LPUSH's leaves the list at least 50 long. */
        for (long i = 0; i < warmup; i++)
            if (call(c, count, command, lengths, test) != 0) return 1;
        double started = now_seconds(), total = 0;
        for (long i = 0; i < requests; i++) {
            double sent = now_seconds();
            if (call(c, count, command, lengths, test) != 0) return 1;
            latencies[i] = now_seconds() - sent;
            total += latencies[i];
        }
        double elapsed = now_seconds() - started;
        qsort(latencies, (size_t)requests, sizeof(double), compare_doubles);
        /* Nearest-rank percentiles, as RedisBenchmark computes them. */
        double p50 = latencies[(requests * 50 + 99) / 100 - 1], p99 = latencies[(requests * 99 + 99) / 100 - 1];
        printf("%s,1,%ld,%.0f,%.4f,%.4f,%.4f,%ld\n", test == 0 ? "LPUSH" : "LRANGE_50", requests,
               requests / elapsed, p50 * 1000, p99 * 1000, total / requests * 1000, warmup);
    }
    const char *del[] = { "DEL", key };
    const size_t del_lengths[] = { 3, strlen(key) };
    redisReply *reply = redisCommandArgv(c, 2, del, del_lengths);
    if (reply) freeReplyObject(reply);
    free(latencies);
    redisFree(c);
    return 0;
}
