/* See blocking.h. Plain C: compiled as its own shared library, so every
 * libc call below goes through the dynamic linker, as in real libraries. */
#include "blocking.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

int blk_open(int fds[2]) { return pipe(fds); }

int blk_wait(int fd) {
  unsigned char c;
  return read(fd, &c, 1) == 1 ? c : -1;
}

int blk_signal(int fd, char c) { return write(fd, &c, 1) == 1 ? 0 : -1; }

void blk_close(const int fds[2]) {
  close(fds[0]);
  close(fds[1]);
}

void blk_lock(void) { pthread_mutex_lock(&g_lock); }
void blk_unlock(void) { pthread_mutex_unlock(&g_lock); }
