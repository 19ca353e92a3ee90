/* A small third-party-style C library for the preload tests: it blocks in
 * read() and pthread_mutex_lock() internally and knows nothing of tether.
 * The tether runtime can only see those calls through libtether_preload.so. */
#ifndef TETHER_TEST_BLOCKING_H_
#define TETHER_TEST_BLOCKING_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Opens a channel (a pipe): fds[0] to wait on, fds[1] to signal. 0 or -1. */
int blk_open(int fds[2]);
/* Waits for one byte on fd (read()); returns it, or -1. */
int blk_wait(int fd);
/* Sends one byte on fd (write()); 0 or -1. */
int blk_signal(int fd, char c);
/* Closes both ends. */
void blk_close(const int fds[2]);
/* The library's global lock (a plain pthread mutex). */
void blk_lock(void);
void blk_unlock(void);

#ifdef __cplusplus
}
#endif

#endif
