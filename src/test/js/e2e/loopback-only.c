/*
 * LD_PRELOAD shim for Chromium under webrtc-peer.mjs: every bind() to a non-loopback address is
 * turned into a bind() to the loopback address of the same family (port kept), so WebRTC's ICE
 * sockets, which Chromium binds to each interface's address, all live on 127.0.0.1 / ::1.
 *
 * Why: Chromium gathers host candidates only on real interfaces (loopback needs
 * --allow-loopback-in-peer-connection, and then it still gathers on eth0 too). A socket bound to
 * eth0's address sends connectivity checks to the far end's loopback candidates with that address as
 * source (RFC 8445 §6.1.2 pairs every local with every remote candidate of the family), the far end
 * learns it as peer-reflexive (§7.3.1.3) and answers there, and such a pair may be selected: traffic to
 * an address that is not loopback. Refusing the bind instead left Chromium 156's gathering unfinished
 * (still "gathering" after 30 s: the socket open never completes), and dropping that socket's sends
 * left TURN allocations on the interface pending as long. Rebinding keeps each interface's
 * candidates, now with a loopback address, and everything else in Chromium unchanged.
 *
 * Built by webrtc-peer.mjs with: cc -shared -fPIC -O2 -o loopback-only.so loopback-only.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

typedef int (*bind_function)(int, const struct sockaddr *, socklen_t);

static bind_function real_bind(void) {
    static bind_function real;
    if (!real) {
        real = (bind_function) dlsym(RTLD_NEXT, "bind");
    }
    return real;
}

int bind(int fd, const struct sockaddr *address, socklen_t length) {
    bind_function bind_next = real_bind();
    if (!bind_next) {
        errno = ENOSYS;
        return -1;
    }
    if (address && address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in v4 = *(const struct sockaddr_in *) address;
        uint32_t host = ntohl(v4.sin_addr.s_addr);
        if (host != INADDR_ANY && (host >> 24) != 127) {
            v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return bind_next(fd, (const struct sockaddr *) &v4, sizeof v4);
        }
    } else if (address && address->sa_family == AF_INET6 && length >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 v6 = *(const struct sockaddr_in6 *) address;
        const struct in6_addr *ip = &v6.sin6_addr;
        int v4_mapped_loopback = IN6_IS_ADDR_V4MAPPED(ip) && ip->s6_addr[12] == 127;
        if (!IN6_IS_ADDR_UNSPECIFIED(ip) && !IN6_IS_ADDR_LOOPBACK(ip) && !v4_mapped_loopback) {
            v6.sin6_addr = in6addr_loopback;
            v6.sin6_scope_id = 0;
            return bind_next(fd, (const struct sockaddr *) &v6, sizeof v6);
        }
    }
    return bind_next(fd, address, length);
}
