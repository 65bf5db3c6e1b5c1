#ifndef BRIDGE_CRABBITMQ_SHIM_H
#define BRIDGE_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <amqp_framing.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <errno.h>

/* A wake-up descriptor for the connection thread's poll. */
static inline int bridge_wake_fd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
static inline void bridge_wake_fd_signal(int fd) { uint64_t one = 1; ssize_t r = write(fd, &one, sizeof one); (void)r; }
static inline void bridge_wake_fd_drain(int fd) { uint64_t v; ssize_t r = read(fd, &v, sizeof v); (void)r; }
static inline void bridge_wake_fd_close(int fd) { close(fd); }

/* amqp_login is C-variadic, which Swift cannot call: fixed-argument wrapper for PLAIN auth. */
static inline amqp_rpc_reply_t bridge_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                       int channel_max, int frame_max, int heartbeat,
                                                       const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

/* The same with client properties (connection_name shows in the management UI). */
static inline amqp_rpc_reply_t bridge_amqp_login_plain_props(amqp_connection_state_t state, const char *vhost,
                                                             int channel_max, int frame_max, int heartbeat,
                                                             const amqp_table_t *properties,
                                                             const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

/* Wait until fd or wake_fd is readable or timeout_ms passes: -1 on error, else a mask, 1 the socket readable (or in error,
   for the next read to tell), 2 wake_fd readable, 0 a timeout. */
static inline int bridge_poll_readable(int fd, int wake_fd, int timeout_ms) {
    struct pollfd fds[2];
    fds[0].fd = fd; fds[0].events = POLLIN; fds[0].revents = 0;
    fds[1].fd = wake_fd; fds[1].events = POLLIN; fds[1].revents = 0;
    int rc = poll(fds, wake_fd >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0) return errno == EINTR ? 0 : -1;
    return (fds[0].revents ? 1 : 0) | (wake_fd >= 0 && fds[1].revents ? 2 : 0);
}

/* Writes all of buf to the socket fd, waiting for it to be writable while the kernel's buffer is full (rabbitmq-c's
   sockets do not block), MSG_MORE when more is to follow at once. 0 when all is written, else -errno. */
static inline int bridge_send_all(int fd, const void *buf, size_t len, int more) {
    const char *p = (const char *)buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (n > 0) { p += n; len -= (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = { fd, POLLOUT, 0 };
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return -errno;
            continue;
        }
        return n < 0 ? -errno : -EIO;
    }
    return 0;
}

/* TCP_CORK on (1) or off (0): while on, what is written waits in the kernel and leaves in full segments; turning it off
   sends what is left. 0 on success, -1 on error (a socket that is not TCP). */
static inline int bridge_socket_cork(int fd, int on) {
    return setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}
#endif
