/* tether_preload_abi.h — the C interface between libtether_preload.so and the
 * tether runtime (libtether, usually linked statically into the program).
 *
 * libtether_preload.so interposes blocking libc calls (read, poll,
 * pthread_mutex_lock, ...; docs/preload.md has the list). It knows nothing
 * of fibers: when a tether runtime starts (tether::run), the runtime looks up
 * tether_preload_register() with dlsym(RTLD_DEFAULT, ...) and, if the
 * library is loaded, hands it this table. From then on each interposed call
 * asks the runtime to record it as a "syscall" wait of the calling fiber
 * around the real call. Until a runtime registers, and on every thread that
 * is not running a fiber, the calls pass straight through.
 *
 * Guarantees the runtime gives for every hook: callable from any thread, at
 * any time (also from signal handlers: no allocation, no locks, no blocking),
 * and errno is left as it was.
 *
 * Plain C, so it can be included from C and C++ and stays stable: a runtime
 * and a preload library built from different tether versions check
 * `version` and ignore each other when it differs. */
#ifndef TETHER_PRELOAD_ABI_H_
#define TETHER_PRELOAD_ABI_H_

#ifdef __cplusplus
extern "C" {
#endif

#define TETHER_PRELOAD_ABI_VERSION 2

/* enter() flags. */
/* The call ends by itself at a deadline (a sleep, a poll with a timeout):
 * nothing needs to wake it, so it can never be part of a deadlock. */
#define TETHER_PRELOAD_TIMED 1u
/* A pthread_mutex_lock that found the mutex held: `arg` is the kernel thread
 * id of the owner, as glibc records it (0: unknown). */
#define TETHER_PRELOAD_LOCK_OWNER 2u

struct tether_preload_hooks {
  unsigned version; /* TETHER_PRELOAD_ABI_VERSION */
  unsigned size;    /* sizeof(struct tether_preload_hooks) */
  /* Nonzero when the calling thread runs a fiber whose wait state may be
   * recorded now (it is running normally, not inside the runtime's own code
   * or another recorded call). */
  int (*on_fiber)(void);
  /* Records the calling fiber as blocked in `call` (a string literal) on
   * descriptor `fd` (-1: none). Returns a token to pass to exit_call(), or
   * NULL when nothing was recorded (not on a fiber, or already recorded by
   * tether::sys, which calls the interposed function itself). */
  void* (*enter_call)(const char* call, int fd, unsigned flags, long arg);
  /* Ends what enter_call() recorded; the fiber is running again. `result`
   * is the call's return value (0 when unknown: a cancelled call) and `err`
   * its errno when it failed (result < 0), else 0: the trace records them. */
  void (*exit_call)(void* token, long result, int err);
  /* pipe(), pipe2() and socketpair() made descriptors a and b: the two ends of
   * one channel, so a reader blocked on one end can be matched with the
   * fibers that could write the other. close() forgets a descriptor. */
  void (*fd_pair)(int a, int b);
  void (*fd_close)(int fd);
};

/* Exported by libtether_preload.so. Returns 1 when the table was taken, 0
 * when it was refused (another version, or a runtime already registered). */
int tether_preload_register(const struct tether_preload_hooks* hooks);
typedef int (*tether_preload_register_fn)(const struct tether_preload_hooks* hooks);

#ifdef __cplusplus
}
#endif

#endif /* TETHER_PRELOAD_ABI_H_ */
