/*
 * A minimal relay over the same rabbitmq-c calls the Swift stage runner uses, to measure what the
 * runner costs. Three modes, so the load and the measurement are the same for both relays:
 *
 *   relay-bench produce HOST PORT USER PASS EXCHANGE KEY COUNT SIZE [RATE]
 *                                                           publish COUNT persistent messages with confirms; with RATE,
 *                                                           paced at RATE msg/s (confirms awaited every 10 messages)
 *   relay-bench relay   HOST PORT USER PASS QUEUE EXCHANGE KEY COUNT [contract]
 *                                                           consume, publish with confirms (batches of 100), ack (multiple);
 *                                                           with `contract`, each message published with the properties
 *                                                           the Swift stage runner gives a relayed message (message id,
 *                                                           correlation id, type, timestamp, a header), so that the
 *                                                           broker has the same work with either relay
 *   relay-bench sink    HOST PORT USER PASS QUEUE COUNT               consume COUNT messages; print msgs/s and latency p50/p99
 *
 * Each message body starts with the CLOCK_REALTIME nanoseconds at which it was produced.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_framing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 100

static void die(const char *what, amqp_rpc_reply_t r) {
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return;
    fprintf(stderr, "%s failed (reply type %d, library error %s)\n", what, r.reply_type, amqp_error_string2(r.library_error));
    exit(1);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static amqp_connection_state_t open_conn(const char *host, int port, const char *user, const char *pass) {
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(c);
    if (amqp_socket_open(s, host, port)) { fprintf(stderr, "cannot connect\n"); exit(1); }
    die("login", amqp_login(c, "/", 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, user, pass));
    amqp_channel_open(c, 1);
    die("channel.open", amqp_get_rpc_reply(c));
    return c;
}

/* Waits until every message up to `target` is confirmed; exits on a nack. */
static void wait_confirms(amqp_connection_state_t c, uint64_t *confirmed, uint64_t target) {
    while (*confirmed < target) {
        amqp_frame_t f;
        if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) { fprintf(stderr, "connection lost\n"); exit(1); }
        if (f.frame_type != AMQP_FRAME_METHOD) continue;
        if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            *confirmed = a->multiple ? a->delivery_tag : (*confirmed + 1 > a->delivery_tag ? *confirmed + 1 : a->delivery_tag);
        } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            fprintf(stderr, "publish nacked\n"); exit(1);
        }
    }
}

static amqp_basic_properties_t persistent(void) {
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    p.delivery_mode = 2;
    p.content_type = amqp_cstring_bytes("application/json");
    return p;
}

static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: see the comment at the top of relay.c\n"); return 2; }
    const char *mode = argv[1], *host = argv[2], *user = argv[4], *pass = argv[5];
    int port = atoi(argv[3]);

    if (!strcmp(mode, "produce") && (argc == 10 || argc == 11)) {
        double rate = argc == 11 ? atof(argv[10]) : 0;
        int confirm_every = rate > 0 ? 10 : BATCH;
        amqp_connection_state_t c = open_conn(host, port, user, pass);
        amqp_confirm_select(c, 1);
        die("confirm.select", amqp_get_rpc_reply(c));
        long count = atol(argv[8]), size = atol(argv[9]);
        char *body = malloc(size);
        memset(body, 'x', size);
        amqp_basic_properties_t p = persistent();
        uint64_t published = 0, confirmed = 0;
        int64_t start = now_ns();
        for (long i = 0; i < count; i++) {
            if (rate > 0) {  /* message i is due at start + i / rate; sent late if the confirms held the producer up */
                int64_t wait = start + (int64_t)(i * 1e9 / rate) - now_ns();
                if (wait > 0) {
                    struct timespec ts = { wait / 1000000000, wait % 1000000000 };
                    nanosleep(&ts, NULL);
                }
            }
            int64_t t = now_ns();
            memcpy(body, &t, sizeof t);
            amqp_bytes_t b = { (size_t)size, body };
            if (amqp_basic_publish(c, 1, amqp_cstring_bytes(argv[6]), amqp_cstring_bytes(argv[7]), 0, 0, &p, b)) { fprintf(stderr, "publish failed\n"); return 1; }
            published++;
            if (published % confirm_every == 0) wait_confirms(c, &confirmed, published);
        }
        wait_confirms(c, &confirmed, published);
        return 0;
    }

    if (!strcmp(mode, "relay") && (argc == 10 || (argc == 11 && !strcmp(argv[10], "contract")))) {
        int contract = argc == 11;
        amqp_connection_state_t in = open_conn(host, port, user, pass);
        amqp_connection_state_t out = open_conn(host, port, user, pass);
        amqp_confirm_select(out, 1);
        die("confirm.select", amqp_get_rpc_reply(out));
        amqp_basic_qos(in, 1, 0, 500, 0);
        die("qos", amqp_get_rpc_reply(in));
        amqp_basic_consume(in, 1, amqp_cstring_bytes(argv[6]), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        die("consume", amqp_get_rpc_reply(in));
        long count = atol(argv[9]), done = 0;
        amqp_basic_properties_t p = persistent();
        uint64_t published = 0, confirmed = 0;
        while (done < count) {
            int batch = 0;
            uint64_t last_tag = 0;
            while (batch < BATCH && done + batch < count) {
                amqp_envelope_t env;
                struct timeval tv = { 0, batch == 0 ? 500000 : 1000 };
                amqp_maybe_release_buffers(in);
                amqp_rpc_reply_t r = amqp_consume_message(in, &env, &tv, 0);
                if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) break;
                die("consume_message", r);
                char message_id[37];
                amqp_table_entry_t attempt;
                if (contract) {  /* as Envelope.amqpMessage of a message that came without ids: a derived message id,
                                    the input's (empty) correlation id, the type the routing key, a timestamp, one header */
                    snprintf(message_id, sizeof message_id, "%08lx-0000-4000-8000-%012llx", (unsigned long)(published & 0xffffffff),
                             (unsigned long long)env.delivery_tag);
                    attempt.key = amqp_cstring_bytes("x-handled-attempt");
                    attempt.value.kind = AMQP_FIELD_KIND_I64;
                    attempt.value.value.i64 = 1;
                    p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_TYPE_FLAG
                        | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_HEADERS_FLAG;
                    p.message_id = amqp_cstring_bytes(message_id);
                    p.correlation_id = amqp_cstring_bytes("");
                    p.type = amqp_cstring_bytes(argv[8]);
                    p.timestamp = (uint64_t)(now_ns() / 1000000000LL);
                    p.headers.num_entries = 1;
                    p.headers.entries = &attempt;
                }
                if (amqp_basic_publish(out, 1, amqp_cstring_bytes(argv[7]), amqp_cstring_bytes(argv[8]), 1, 0, &p, env.message.body)) {
                    fprintf(stderr, "publish failed\n"); return 1;
                }
                published++;
                last_tag = env.delivery_tag;
                amqp_destroy_envelope(&env);
                batch++;
            }
            if (batch == 0) continue;
            wait_confirms(out, &confirmed, published);
            amqp_basic_ack(in, 1, last_tag, 1);
            done += batch;
        }
        return 0;
    }

    if (!strcmp(mode, "sink") && argc == 8) {
        amqp_connection_state_t in = open_conn(host, port, user, pass);
        amqp_basic_qos(in, 1, 0, 1000, 0);
        amqp_basic_consume(in, 1, amqp_cstring_bytes(argv[6]), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        die("consume", amqp_get_rpc_reply(in));
        long count = atol(argv[7]);
        int64_t *lat = malloc(sizeof(int64_t) * count);
        int64_t first = 0, last = 0;
        for (long i = 0; i < count; i++) {
            amqp_envelope_t env;
            amqp_maybe_release_buffers(in);
            die("consume_message", amqp_consume_message(in, &env, NULL, 0));
            int64_t t = now_ns(), sent = 0;
            if (env.message.body.len >= sizeof sent) memcpy(&sent, env.message.body.bytes, sizeof sent);
            lat[i] = t - sent;
            if (i == 0) first = t;
            last = t;
            if (i % 100 == 99 || i == count - 1) amqp_basic_ack(in, 1, env.delivery_tag, 1);
            amqp_destroy_envelope(&env);
        }
        qsort(lat, count, sizeof(int64_t), cmp);
        double seconds = (last - first) / 1e9;
        printf("%.0f msg/s  p50 %.1f ms  p99 %.1f ms\n", seconds > 0 ? (count - 1) / seconds : 0.0,
               lat[count / 2] / 1e6, lat[(long)(count * 0.99)] / 1e6);
        return 0;
    }
    fprintf(stderr, "bad arguments for mode %s\n", mode);
    return 2;
}
