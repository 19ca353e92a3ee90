// tether/sys.h — blocking system calls that the runtime knows about.
//
// Each wrapper behaves exactly like the libc call of the same name (same
// arguments, return value and errno, EINTR included) and additionally:
//  - records the calling fiber's wait state as "syscall" with the call's
//    name and descriptor, so dumps, traces and the deadlock detector see it;
//  - on a pool thread, lets the runtime hand the thread's other runnable
//    fibers to another pool thread if the call blocks for long (as Go's
//    entersyscall does), so one blocking call does not stall the pool;
//  - on a locked thread, marks the thread *occupied*: every fiber locked to
//    it waits until the call returns. That is the shared-thread deadlock the
//    detector looks for ("the one goroutine in a thread was blocked in a
//    system call and stopping the other from running").
// pipe(), pipe2() and socketpair() remember which descriptors are the two
// ends of one channel (peer_fd), so a blocked reader's possible writers are
// known; close() forgets them.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <source_location>

namespace tether::sys {

using Site = std::source_location;

ssize_t read(int fd, void* buf, std::size_t n, Site site = Site::current());
ssize_t write(int fd, const void* buf, std::size_t n, Site site = Site::current());
ssize_t pread(int fd, void* buf, std::size_t n, off_t off, Site site = Site::current());
ssize_t pwrite(int fd, const void* buf, std::size_t n, off_t off, Site site = Site::current());
ssize_t recv(int fd, void* buf, std::size_t n, int flags, Site site = Site::current());
ssize_t send(int fd, const void* buf, std::size_t n, int flags, Site site = Site::current());
int accept(int fd, sockaddr* addr, socklen_t* len, Site site = Site::current());
int connect(int fd, const sockaddr* addr, socklen_t len, Site site = Site::current());
int poll(pollfd* fds, nfds_t n, int timeout_ms, Site site = Site::current());
int nanosleep(const timespec* req, timespec* rem, Site site = Site::current());
int pipe(int fds[2], Site site = Site::current());
int pipe2(int fds[2], int flags, Site site = Site::current());
int socketpair(int domain, int type, int protocol, int fds[2], Site site = Site::current());
int eventfd(unsigned initval, int flags, Site site = Site::current());
int close(int fd, Site site = Site::current());

// The other end of a pipe or socketpair created through tether::sys, or -1.
int peer_fd(int fd) noexcept;

}  // namespace tether::sys
