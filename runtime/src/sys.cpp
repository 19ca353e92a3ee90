// tether::sys: libc blocking calls, recorded as "syscall" wait states.
#include "tether/sys.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "fd_table.h"
#include "fiber_impl.h"
#include "fiber_registry.h"
#include "scheduler.h"
#include "sync_object.h"
#include "trace_events.h"

namespace tether::detail {
namespace {

// Brackets one call: wait state "syscall", the thread marked as in a syscall.
class SyscallScope {
 public:
  SyscallScope(const char* name, int fd, std::source_location site) noexcept
      : fiber_(current_fiber()) {
    if (fiber_) {
      fiber_->syscall_name.store(name, std::memory_order_relaxed);
      fiber_->syscall_fd.store(fd, std::memory_order_relaxed);
      FdTable::instance().note_use(fd, fiber_->id);
      fiber_->wait.set(WaitStateCell::Value{WaitReason::syscall, 0, name, coarse_now_ns(), site});
      trace::on_syscall_enter(name, fd, site);
      enter_syscall();
    }
  }
  ~SyscallScope() {
    if (fiber_) {
      const int saved = errno;  // the wrapper's errno must be the call's
      exit_syscall();
      trace::on_syscall_exit(result_, result_ < 0 ? saved : 0);
      fiber_->wait.set_reason(WaitReason::running, coarse_now_ns());
      fiber_->syscall_fd.store(-1, std::memory_order_relaxed);
      errno = saved;
    }
  }

  // Passes the call's result through, for the trace.
  template <class R>
  R done(R r) noexcept {
    result_ = static_cast<std::int64_t>(r);
    return r;
  }

 private:
  Fiber* fiber_;
  std::int64_t result_ = 0;
};

}  // namespace
}  // namespace tether::detail

namespace tether::sys {

using detail::SyscallScope;

namespace {
void note_pair(const int fds[2]) {
  detail::trace::on_fd_pair(fds[0], fds[1]);
  detail::FdTable::instance().add_pair(fds[0], fds[1], detail::current_fiber_id(),
                                       detail::FiberRegistry::instance().peek_next_id());
}
}  // namespace

ssize_t read(int fd, void* buf, std::size_t n, Site site) {
  SyscallScope s("read", fd, site);
  return s.done(::read(fd, buf, n));
}
ssize_t write(int fd, const void* buf, std::size_t n, Site site) {
  SyscallScope s("write", fd, site);
  return s.done(::write(fd, buf, n));
}
ssize_t pread(int fd, void* buf, std::size_t n, off_t off, Site site) {
  SyscallScope s("pread", fd, site);
  return s.done(::pread(fd, buf, n, off));
}
ssize_t pwrite(int fd, const void* buf, std::size_t n, off_t off, Site site) {
  SyscallScope s("pwrite", fd, site);
  return s.done(::pwrite(fd, buf, n, off));
}
ssize_t recv(int fd, void* buf, std::size_t n, int flags, Site site) {
  SyscallScope s("recv", fd, site);
  return s.done(::recv(fd, buf, n, flags));
}
ssize_t send(int fd, const void* buf, std::size_t n, int flags, Site site) {
  SyscallScope s("send", fd, site);
  return s.done(::send(fd, buf, n, flags));
}
int accept(int fd, sockaddr* addr, socklen_t* len, Site site) {
  SyscallScope s("accept", fd, site);
  return s.done(::accept(fd, addr, len));
}
int connect(int fd, const sockaddr* addr, socklen_t len, Site site) {
  SyscallScope s("connect", fd, site);
  return s.done(::connect(fd, addr, len));
}
int poll(pollfd* fds, nfds_t n, int timeout_ms, Site site) {
  SyscallScope s("poll", n > 0 ? fds[0].fd : -1, site);
  return s.done(::poll(fds, n, timeout_ms));
}
int nanosleep(const timespec* req, timespec* rem, Site site) {
  SyscallScope s("nanosleep", -1, site);
  return s.done(::nanosleep(req, rem));
}
int pipe(int fds[2], Site site) { return pipe2(fds, 0, site); }
int pipe2(int fds[2], int flags, Site) {
  const int r = ::pipe2(fds, flags);
  if (r == 0) note_pair(fds);
  return r;
}
int socketpair(int domain, int type, int protocol, int fds[2], Site) {
  const int r = ::socketpair(domain, type, protocol, fds);
  if (r == 0) note_pair(fds);
  return r;
}
int eventfd(unsigned initval, int flags, Site) { return ::eventfd(initval, flags); }
int close(int fd, Site) {
  detail::FdTable::instance().forget(fd);
  return ::close(fd);
}
int peer_fd(int fd) noexcept { return detail::FdTable::instance().peer(fd); }

}  // namespace tether::sys
