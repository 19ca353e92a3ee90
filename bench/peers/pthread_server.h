/* pthread_server: a request/reply server thread in plain C, the "C with
 * pthreads" peer of golang/go#21827 (issue 7). One request is in flight at a
 * time: the client posts it under a mutex, signals a condition variable and
 * waits on another for the reply, as a C programmer writes it without fibers.
 *
 * Not thread-safe for several clients: the benchmark has exactly one. */
#ifndef TETHER_BENCH_PEERS_PTHREAD_SERVER_H_
#define TETHER_BENCH_PEERS_PTHREAD_SERVER_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef struct peer_pthread_server peer_pthread_server;

/* Starts the server thread; returns NULL (errno set) if it cannot. */
peer_pthread_server* peer_pthread_server_start(void);

/* Sends `request` and blocks until the server replies with request + 1. */
int peer_pthread_server_call(peer_pthread_server* s, int request);

/* Stops and joins the server thread and frees `s`. */
void peer_pthread_server_stop(peer_pthread_server* s);

#ifdef __cplusplus
}
#endif

#endif /* TETHER_BENCH_PEERS_PTHREAD_SERVER_H_ */
