// libtether_preload.so: blocking libc calls, seen by the tether runtime.
//
// Each interposed function forwards to the next definition in the lookup
// order (libc, or a sanitizer's interceptor), found with dlsym(RTLD_NEXT).
// When a tether runtime has registered its hooks (tether_preload_abi.h) and
// the caller is a fiber, the call is recorded as that fiber's "syscall" wait
// around the real call, exactly as tether::sys does. Otherwise it only passes
// through: one relaxed load of a global and a branch.
//
// Exactness: arguments, return values and errno are the real call's (the
// runtime's hooks preserve errno); EINTR and SA_RESTART behave as without
// the library, since the real call is made once, unchanged. Calls that are
// cancellation points stay so, and a cancelled call still ends its record
// (the record is a C++ object: unwinding runs its destructor).
//
// Early start and signal handlers: every real function is resolved in a
// constructor that runs before the program's own; a call that arrives
// earlier (another library's constructor) resolves it then. A call made
// while dlsym itself is resolving one (re-entry) goes to the kernel directly
// where that is possible. After start-up nothing here allocates or locks, so
// the interposed functions are as async-signal-safe as the real ones.
//
// glibc specifics: pthread_cond_wait/timedwait are taken at version
// GLIBC_2.3.2 (plain dlsym can return the old 2.2.5 ABI), and a held
// mutex's owner is read from pthread_mutex_t::__data.__owner (the kernel
// thread id glibc stores there) so the runtime can tell a lock held by a
// fiber of the same thread.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>

#include <atomic>

#include "tether_preload_abi.h"

#define TETHER_PRELOAD_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

std::atomic<const tether_preload_hooks*> g_hooks{nullptr};

// Set while this thread is inside dlsym resolving a real function.
thread_local bool t_resolving __attribute__((tls_model("initial-exec"))) = false;

void* resolve(const char* name, const char* version) {
  t_resolving = true;
  void* p = version ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (!p) p = dlsym(RTLD_NEXT, name);
  t_resolving = false;
  return p;
}

// The real function `name`; resolved once (a benign race: every resolver
// stores the same pointer).
template <typename Fn>
struct Real {
  const char* name;
  const char* version;
  std::atomic<Fn> fn{nullptr};

  Fn get() {
    Fn f = fn.load(std::memory_order_relaxed);
    if (__builtin_expect(f != nullptr, 1)) return f;
    f = reinterpret_cast<Fn>(resolve(name, version));
    fn.store(f, std::memory_order_relaxed);
    return f;
  }
};

// clang-format off
#define TETHER_REAL(ret, name, params) Real<ret(*) params> real_##name{#name, nullptr}
#define TETHER_REAL_V(ret, name, params, version) Real<ret(*) params> real_##name{#name, version}
// clang-format on

TETHER_REAL(ssize_t, read, (int, void*, size_t));
TETHER_REAL(ssize_t, write, (int, const void*, size_t));
TETHER_REAL(ssize_t, readv, (int, const iovec*, int));
TETHER_REAL(ssize_t, writev, (int, const iovec*, int));
TETHER_REAL(ssize_t, recv, (int, void*, size_t, int));
TETHER_REAL(ssize_t, recvfrom, (int, void*, size_t, int, sockaddr*, socklen_t*));
TETHER_REAL(ssize_t, recvmsg, (int, msghdr*, int));
TETHER_REAL(ssize_t, send, (int, const void*, size_t, int));
TETHER_REAL(ssize_t, sendto, (int, const void*, size_t, int, const sockaddr*, socklen_t));
TETHER_REAL(ssize_t, sendmsg, (int, const msghdr*, int));
TETHER_REAL(int, accept, (int, sockaddr*, socklen_t*));
TETHER_REAL(int, accept4, (int, sockaddr*, socklen_t*, int));
TETHER_REAL(int, connect, (int, const sockaddr*, socklen_t));
TETHER_REAL(int, poll, (pollfd*, nfds_t, int));
TETHER_REAL(int, ppoll, (pollfd*, nfds_t, const timespec*, const sigset_t*));
TETHER_REAL(int, select, (int, fd_set*, fd_set*, fd_set*, timeval*));
TETHER_REAL(int, pselect, (int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*));
TETHER_REAL(int, epoll_wait, (int, epoll_event*, int, int));
TETHER_REAL(int, epoll_pwait, (int, epoll_event*, int, int, const sigset_t*));
TETHER_REAL(int, nanosleep, (const timespec*, timespec*));
TETHER_REAL(int, clock_nanosleep, (clockid_t, int, const timespec*, timespec*));
TETHER_REAL(int, usleep, (useconds_t));
TETHER_REAL(unsigned, sleep, (unsigned));
TETHER_REAL(int, pthread_mutex_lock, (pthread_mutex_t*));
TETHER_REAL(int, pthread_mutex_trylock, (pthread_mutex_t*));
TETHER_REAL_V(int, pthread_cond_wait, (pthread_cond_t*, pthread_mutex_t*), "GLIBC_2.3.2");
TETHER_REAL_V(int, pthread_cond_timedwait, (pthread_cond_t*, pthread_mutex_t*, const timespec*),
              "GLIBC_2.3.2");
TETHER_REAL(int, pthread_join, (pthread_t, void**));
TETHER_REAL(int, sem_wait, (sem_t*));
TETHER_REAL(int, flock, (int, int));
TETHER_REAL(int, fcntl, (int, int, ...));
TETHER_REAL(int, fcntl64, (int, int, ...));
TETHER_REAL(pid_t, waitpid, (pid_t, int*, int));
TETHER_REAL(long, syscall, (long, ...));
TETHER_REAL(int, pipe, (int*));
TETHER_REAL(int, pipe2, (int*, int));
TETHER_REAL(int, socketpair, (int, int, int, int*));
TETHER_REAL(int, close, (int));
TETHER_REAL(ssize_t, __read_chk, (int, void*, size_t, size_t));

// One recorded call: what enter_call() recorded ends when it goes out of
// scope (also when a cancellation unwinds through it).
class Record {
 public:
  Record(const char* call, int fd, unsigned flags = 0, long arg = 0) noexcept
      : hooks_(g_hooks.load(std::memory_order_acquire)),
        token_(hooks_ ? hooks_->enter_call(call, fd, flags, arg) : nullptr) {}
  ~Record() {
    if (token_) hooks_->exit_call(token_, result_, result_ < 0 ? errno : 0);
  }
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;

  // Passes the real call's result through (the trace records it).
  template <typename R>
  R done(R r) noexcept {
    result_ = static_cast<long>(r);
    return r;
  }

 private:
  const tether_preload_hooks* hooks_;
  void* token_;
  long result_ = 0;
};

// glibc declares poll's array write-only (access attribute), so GCC warns on
// reading the descriptor the caller put there; the caller did initialize it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
inline int first_fd(const pollfd* fds, nfds_t n) {
  return n > 0 ? fds[0].fd : -1;
}
#pragma GCC diagnostic pop

inline unsigned timed_if(bool timed) {
  return timed ? TETHER_PRELOAD_TIMED : 0u;
}

// A timespec/timeval/ms timeout: <0 or null = forever, 0 = do not wait.
inline bool zero(const timespec* t) {
  return t && t->tv_sec == 0 && t->tv_nsec == 0;
}
inline bool zero(const timeval* t) {
  return t && t->tv_sec == 0 && t->tv_usec == 0;
}

// A direct system call, for the one case where the real function cannot be
// found yet: dlsym itself called it while resolving.
#define TETHER_CALL(name, sysno, ...)                                 \
  (__builtin_expect(t_resolving, 0) ? syscall_raw(sysno, __VA_ARGS__) \
                                    : real_##name.get()(__VA_ARGS__))

template <typename... A>
long syscall_raw(long sysno, A... a) {
  long args[6] = {(long)a...};
  long r;
  register long r10 asm("r10") = args[3];
  register long r8 asm("r8") = args[4];
  register long r9 asm("r9") = args[5];
  asm volatile("syscall"
               : "=a"(r)
               : "a"(sysno), "D"(args[0]), "S"(args[1]), "d"(args[2]), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  if (r < 0 && r > -4096) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}

void note_pair(int rc, const int* fds) {
  if (rc != 0) return;
  if (const tether_preload_hooks* h = g_hooks.load(std::memory_order_acquire)) {
    h->fd_pair(fds[0], fds[1]);
  }
}

bool futex_waits(long op) {
  switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_LOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
      return true;
    default:
      return false;
  }
}

// Resolve everything before the program's constructors and main run, so no
// later call (a signal handler's) has to enter dlsym.
__attribute__((constructor(101))) void resolve_all() {
  (void)real_read.get(), (void)real_write.get(), (void)real_readv.get(), (void)real_writev.get();
  (void)real_recv.get(), (void)real_recvfrom.get(), (void)real_recvmsg.get();
  (void)real_send.get(), (void)real_sendto.get(), (void)real_sendmsg.get();
  (void)real_accept.get(), (void)real_accept4.get(), (void)real_connect.get();
  (void)real_poll.get(), (void)real_ppoll.get(), (void)real_select.get(), (void)real_pselect.get();
  (void)real_epoll_wait.get(), (void)real_epoll_pwait.get();
  (void)real_nanosleep.get(), (void)real_clock_nanosleep.get(), (void)real_usleep.get();
  (void)real_sleep.get(), (void)real_pthread_mutex_lock.get(),
      (void)real_pthread_mutex_trylock.get();
  (void)real_pthread_cond_wait.get(), (void)real_pthread_cond_timedwait.get();
  (void)real_pthread_join.get(), (void)real_sem_wait.get(), (void)real_flock.get();
  (void)real_fcntl.get(), (void)real_fcntl64.get(), (void)real_waitpid.get();
  (void)real_syscall.get(), (void)real_pipe.get(), (void)real_pipe2.get();
  (void)real_socketpair.get(), (void)real_close.get(), (void)real___read_chk.get();
}

}  // namespace

TETHER_PRELOAD_EXPORT int tether_preload_register(const tether_preload_hooks* hooks) {
  if (!hooks || hooks->version != TETHER_PRELOAD_ABI_VERSION ||
      hooks->size < sizeof(tether_preload_hooks))
    return 0;
  const tether_preload_hooks* expected = nullptr;
  if (g_hooks.compare_exchange_strong(expected, hooks, std::memory_order_acq_rel)) return 1;
  return expected == hooks ? 1 : 0;  // the same runtime again (a second tether::run)
}

// ---- descriptors ------------------------------------------------------------

TETHER_PRELOAD_EXPORT ssize_t read(int fd, void* buf, size_t n) {
  Record r("read", fd);
  return r.done(TETHER_CALL(read, SYS_read, fd, buf, n));
}
TETHER_PRELOAD_EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  Record r("write", fd);
  return r.done(TETHER_CALL(write, SYS_write, fd, buf, n));
}
TETHER_PRELOAD_EXPORT ssize_t readv(int fd, const iovec* iov, int n) {
  Record r("readv", fd);
  return r.done(TETHER_CALL(readv, SYS_readv, fd, iov, n));
}
TETHER_PRELOAD_EXPORT ssize_t writev(int fd, const iovec* iov, int n) {
  Record r("writev", fd);
  return r.done(TETHER_CALL(writev, SYS_writev, fd, iov, n));
}
TETHER_PRELOAD_EXPORT ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
  if (n > buflen) return real___read_chk.get()(fd, buf, n, buflen);  // glibc reports the overflow
  Record r("read", fd);
  return r.done(TETHER_CALL(read, SYS_read, fd, buf, n));
}

// ---- sockets ------------------------------------------------------------------

TETHER_PRELOAD_EXPORT ssize_t recv(int fd, void* buf, size_t n, int flags) {
  if (flags & MSG_DONTWAIT) return real_recv.get()(fd, buf, n, flags);
  Record r("recv", fd);
  return r.done(real_recv.get()(fd, buf, n, flags));
}
TETHER_PRELOAD_EXPORT ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* addr,
                                       socklen_t* len) {
  if (flags & MSG_DONTWAIT) return real_recvfrom.get()(fd, buf, n, flags, addr, len);
  Record r("recvfrom", fd);
  return r.done(real_recvfrom.get()(fd, buf, n, flags, addr, len));
}
TETHER_PRELOAD_EXPORT ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  if (flags & MSG_DONTWAIT) return real_recvmsg.get()(fd, msg, flags);
  Record r("recvmsg", fd);
  return r.done(real_recvmsg.get()(fd, msg, flags));
}
TETHER_PRELOAD_EXPORT ssize_t send(int fd, const void* buf, size_t n, int flags) {
  if (flags & MSG_DONTWAIT) return real_send.get()(fd, buf, n, flags);
  Record r("send", fd);
  return r.done(real_send.get()(fd, buf, n, flags));
}
TETHER_PRELOAD_EXPORT ssize_t sendto(int fd, const void* buf, size_t n, int flags,
                                     const sockaddr* addr, socklen_t len) {
  if (flags & MSG_DONTWAIT) return real_sendto.get()(fd, buf, n, flags, addr, len);
  Record r("sendto", fd);
  return r.done(real_sendto.get()(fd, buf, n, flags, addr, len));
}
TETHER_PRELOAD_EXPORT ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  if (flags & MSG_DONTWAIT) return real_sendmsg.get()(fd, msg, flags);
  Record r("sendmsg", fd);
  return r.done(real_sendmsg.get()(fd, msg, flags));
}
TETHER_PRELOAD_EXPORT int accept(int fd, sockaddr* addr, socklen_t* len) {
  Record r("accept", fd);
  return r.done(real_accept.get()(fd, addr, len));
}
TETHER_PRELOAD_EXPORT int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  Record r("accept4", fd);
  return r.done(real_accept4.get()(fd, addr, len, flags));
}
TETHER_PRELOAD_EXPORT int connect(int fd, const sockaddr* addr, socklen_t len) {
  Record r("connect", fd);
  return r.done(real_connect.get()(fd, addr, len));
}

// ---- waiting for descriptors ---------------------------------------------------

TETHER_PRELOAD_EXPORT int poll(pollfd* fds, nfds_t n, int timeout_ms) {
  if (timeout_ms == 0) return real_poll.get()(fds, n, timeout_ms);
  Record r("poll", first_fd(fds, n), timed_if(timeout_ms > 0));
  return r.done(real_poll.get()(fds, n, timeout_ms));
}
TETHER_PRELOAD_EXPORT int ppoll(pollfd* fds, nfds_t n, const timespec* timeout,
                                const sigset_t* mask) {
  if (zero(timeout)) return real_ppoll.get()(fds, n, timeout, mask);
  Record r("ppoll", first_fd(fds, n), timed_if(timeout != nullptr));
  return r.done(real_ppoll.get()(fds, n, timeout, mask));
}
TETHER_PRELOAD_EXPORT int select(int n, fd_set* rd, fd_set* wr, fd_set* ex, timeval* timeout) {
  if (zero(timeout)) return real_select.get()(n, rd, wr, ex, timeout);
  Record r("select", -1, timed_if(timeout != nullptr));
  return r.done(real_select.get()(n, rd, wr, ex, timeout));
}
TETHER_PRELOAD_EXPORT int pselect(int n, fd_set* rd, fd_set* wr, fd_set* ex,
                                  const timespec* timeout, const sigset_t* mask) {
  if (zero(timeout)) return real_pselect.get()(n, rd, wr, ex, timeout, mask);
  Record r("pselect", -1, timed_if(timeout != nullptr));
  return r.done(real_pselect.get()(n, rd, wr, ex, timeout, mask));
}
TETHER_PRELOAD_EXPORT int epoll_wait(int epfd, epoll_event* ev, int max, int timeout_ms) {
  if (timeout_ms == 0) return real_epoll_wait.get()(epfd, ev, max, timeout_ms);
  Record r("epoll_wait", epfd, timed_if(timeout_ms > 0));
  return r.done(real_epoll_wait.get()(epfd, ev, max, timeout_ms));
}
TETHER_PRELOAD_EXPORT int epoll_pwait(int epfd, epoll_event* ev, int max, int timeout_ms,
                                      const sigset_t* mask) {
  if (timeout_ms == 0) return real_epoll_pwait.get()(epfd, ev, max, timeout_ms, mask);
  Record r("epoll_pwait", epfd, timed_if(timeout_ms > 0));
  return r.done(real_epoll_pwait.get()(epfd, ev, max, timeout_ms, mask));
}

// ---- sleeping --------------------------------------------------------------------

TETHER_PRELOAD_EXPORT int nanosleep(const timespec* req, timespec* rem) {
  Record r("nanosleep", -1, TETHER_PRELOAD_TIMED);
  return r.done(TETHER_CALL(nanosleep, SYS_nanosleep, req, rem));
}
TETHER_PRELOAD_EXPORT int clock_nanosleep(clockid_t clock, int flags, const timespec* req,
                                          timespec* rem) {
  Record r("clock_nanosleep", -1, TETHER_PRELOAD_TIMED);
  return r.done(real_clock_nanosleep.get()(clock, flags, req, rem));
}
TETHER_PRELOAD_EXPORT int usleep(useconds_t us) {
  Record r("usleep", -1, TETHER_PRELOAD_TIMED);
  return r.done(real_usleep.get()(us));
}
TETHER_PRELOAD_EXPORT unsigned sleep(unsigned s) {
  Record r("sleep", -1, TETHER_PRELOAD_TIMED);
  return r.done(real_sleep.get()(s));
}

// ---- threads and locks ---------------------------------------------------------------

// Only a lock that has to wait is recorded: try first, so an uncontended lock
// costs one more check than without the library.
TETHER_PRELOAD_EXPORT int pthread_mutex_lock(pthread_mutex_t* m) noexcept {
  const tether_preload_hooks* h = g_hooks.load(std::memory_order_acquire);
  if (__builtin_expect(h == nullptr, 1) || !h->on_fiber()) return real_pthread_mutex_lock.get()(m);
  const int rc = real_pthread_mutex_trylock.get()(m);
  if (rc != EBUSY) return rc;
  Record r("pthread_mutex_lock", -1, TETHER_PRELOAD_LOCK_OWNER,
           static_cast<long>(__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED)));
  return r.done(real_pthread_mutex_lock.get()(m));
}
TETHER_PRELOAD_EXPORT int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  Record r("pthread_cond_wait", -1);
  return r.done(real_pthread_cond_wait.get()(c, m));
}
TETHER_PRELOAD_EXPORT int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                                 const timespec* abstime) {
  Record r("pthread_cond_timedwait", -1, TETHER_PRELOAD_TIMED);
  return r.done(real_pthread_cond_timedwait.get()(c, m, abstime));
}
TETHER_PRELOAD_EXPORT int pthread_join(pthread_t t, void** ret) {
  Record r("pthread_join", -1);
  return r.done(real_pthread_join.get()(t, ret));
}
TETHER_PRELOAD_EXPORT int sem_wait(sem_t* s) {
  Record r("sem_wait", -1);
  return r.done(real_sem_wait.get()(s));
}
TETHER_PRELOAD_EXPORT int flock(int fd, int op) noexcept {
  if (op & LOCK_NB) return real_flock.get()(fd, op);
  Record r("flock", fd);
  return r.done(real_flock.get()(fd, op));
}
TETHER_PRELOAD_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);  // as glibc does: every fcntl argument fits a pointer
  va_end(ap);
  if (cmd != F_SETLKW && cmd != F_OFD_SETLKW) return real_fcntl.get()(fd, cmd, arg);
  Record r("fcntl", fd);
  return r.done(real_fcntl.get()(fd, cmd, arg));
}
TETHER_PRELOAD_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (cmd != F_SETLKW && cmd != F_OFD_SETLKW) return real_fcntl64.get()(fd, cmd, arg);
  Record r("fcntl", fd);
  return r.done(real_fcntl64.get()(fd, cmd, arg));
}
TETHER_PRELOAD_EXPORT pid_t waitpid(pid_t pid, int* status, int options) {
  if (options & WNOHANG) return real_waitpid.get()(pid, status, options);
  Record r("waitpid", -1);
  return r.done(real_waitpid.get()(pid, status, options));
}
// syscall(SYS_futex, ...) waits are recorded; every other number passes.
TETHER_PRELOAD_EXPORT long syscall(long sysno, ...) noexcept {
  va_list ap;
  va_start(ap, sysno);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);  // as glibc does: six register-sized arguments
  va_end(ap);
  if (sysno == SYS_futex && futex_waits(a[1])) {
    Record r("futex", -1, timed_if(a[3] != 0));  // a[3]: the timeout
    return r.done(real_syscall.get()(sysno, a[0], a[1], a[2], a[3], a[4], a[5]));
  }
  return real_syscall.get()(sysno, a[0], a[1], a[2], a[3], a[4], a[5]);
}

// ---- descriptor pairs (who could wake a reader) ---------------------------------------

TETHER_PRELOAD_EXPORT int pipe(int fds[2]) noexcept {
  const int rc = real_pipe.get()(fds);
  note_pair(rc, fds);
  return rc;
}
TETHER_PRELOAD_EXPORT int pipe2(int fds[2], int flags) noexcept {
  const int rc = real_pipe2.get()(fds, flags);
  note_pair(rc, fds);
  return rc;
}
TETHER_PRELOAD_EXPORT int socketpair(int domain, int type, int protocol, int fds[2]) noexcept {
  const int rc = real_socketpair.get()(domain, type, protocol, fds);
  note_pair(rc, fds);
  return rc;
}
TETHER_PRELOAD_EXPORT int close(int fd) {
  if (const tether_preload_hooks* h = g_hooks.load(std::memory_order_acquire)) h->fd_close(fd);
  return TETHER_CALL(close, SYS_close, fd);
}
