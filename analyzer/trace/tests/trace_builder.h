// TraceBuilder: hand-built Event sequences for the analysis tests, written the
// way the runtime records a program (docs/trace-format.md's event model).
#pragma once

#include <string>
#include <vector>

#include "tether/trace/event.h"
#include "tether/wait_reason.h"

namespace tether::trace::testing {

class TraceBuilder {
 public:
  std::vector<Event> events;
  std::int64_t now = 1'000'000;  // ns; tests advance it with at()/tick()

  TraceBuilder& at(std::int64_t t) {
    now = t;
    return *this;
  }
  TraceBuilder& tick(std::int64_t d = 1000) {
    now += d;
    return *this;
  }

  Event& add(EventType type) {
    Event e;
    e.type = type;
    e.time_ns = now;
    events.push_back(e);
    return events.back();
  }
  void site(std::uint32_t id, std::string function, std::string file, int line) {
    Event& e = add(EventType::site);
    e.id = id;
    e.text = std::move(function);
    e.file = std::move(file);
    e.line = line;
  }
  void stack(std::uint32_t id, std::vector<Frame> frames) {
    Event& e = add(EventType::stack);
    e.id = id;
    e.frames = std::move(frames);
  }
  void thread(std::uint64_t id, std::string name, std::string kind) {
    Event& e = add(EventType::thread_start);
    e.thread = id;
    e.text = std::move(name);
    e.kind = std::move(kind);
    e.a = static_cast<std::int64_t>(1000 + id);
  }
  void fiber(std::uint64_t id, std::uint64_t parent, std::string name, std::uint64_t locked_to = 0,
             std::uint32_t site = 0) {
    Event& e = add(EventType::fiber_create);
    e.fiber = id;
    e.other = parent;
    e.text = std::move(name);
    e.thread = locked_to;
    e.site = site;
  }
  void object(std::uint64_t id, std::string kind, std::string name, std::uint64_t creator,
              std::int64_t capacity = 0) {
    Event& e = add(EventType::object_create);
    e.object = id;
    e.kind = std::move(kind);
    e.text = std::move(name);
    e.fiber = creator;
    e.a = capacity;
  }
  void run(std::uint64_t thread, std::uint64_t fiber) {
    Event& e = add(EventType::run);
    e.thread = thread;
    e.fiber = fiber;
  }
  void park(std::uint64_t thread, std::uint64_t fiber, WaitReason r, std::uint64_t object = 0,
            std::uint32_t site = 0, std::uint32_t stack = 0, bool timed = false) {
    Event& e = add(EventType::park);
    e.thread = thread;
    e.fiber = fiber;
    e.reason = static_cast<std::uint8_t>(r);
    e.object = object;
    e.site = site;
    e.stack = stack;
    e.a = timed ? 1 : 0;
  }
  void unpark(std::uint64_t thread, std::uint64_t fiber, std::uint64_t waker) {
    Event& e = add(EventType::unpark);
    e.thread = thread;
    e.fiber = fiber;
    e.other = waker;
  }
  void lock(std::uint64_t thread, std::uint64_t fiber, std::uint64_t object, std::uint32_t site = 0,
            bool read = false) {
    Event& e = add(EventType::lock_acquire);
    e.thread = thread;
    e.fiber = fiber;
    e.object = object;
    e.site = site;
    e.a = read ? 1 : 0;
  }
  void unlock(std::uint64_t thread, std::uint64_t fiber, std::uint64_t object, bool read = false) {
    Event& e = add(EventType::lock_release);
    e.thread = thread;
    e.fiber = fiber;
    e.object = object;
    e.a = read ? 1 : 0;
  }
  void send(std::uint64_t thread, std::uint64_t fiber, std::uint64_t chan) {
    Event& e = add(EventType::chan_send);
    e.thread = thread;
    e.fiber = fiber;
    e.object = chan;
  }
  void recv(std::uint64_t thread, std::uint64_t fiber, std::uint64_t chan) {
    Event& e = add(EventType::chan_recv);
    e.thread = thread;
    e.fiber = fiber;
    e.object = chan;
    e.a = 1;
  }
  void thread_lock(std::uint64_t thread, std::uint64_t fiber, std::uint64_t locker) {
    Event& e = add(EventType::thread_lock);
    e.thread = thread;
    e.fiber = fiber;
    e.object = locker;
  }
  void syscall(std::uint64_t thread, std::uint64_t fiber, std::string call, int fd, int peer = -1,
               std::uint32_t site = 0) {
    Event& e = add(EventType::syscall_enter);
    e.thread = thread;
    e.fiber = fiber;
    e.text = std::move(call);
    e.a = fd;
    e.b = peer;
    e.site = site;
  }
  void syscall_exit(std::uint64_t thread, std::uint64_t fiber, std::int64_t result = 0) {
    Event& e = add(EventType::syscall_exit);
    e.thread = thread;
    e.fiber = fiber;
    e.a = result;
  }
  void fd_pair(std::uint64_t thread, std::uint64_t fiber, int a, int b) {
    Event& e = add(EventType::fd_pair);
    e.thread = thread;
    e.fiber = fiber;
    e.a = a;
    e.b = b;
  }
  void exit(std::uint64_t thread, std::uint64_t fiber) {
    Event& e = add(EventType::fiber_exit);
    e.thread = thread;
    e.fiber = fiber;
  }
  void misuse(std::uint64_t thread, std::uint64_t fiber, std::string text, std::uint32_t site) {
    Event& e = add(EventType::misuse);
    e.thread = thread;
    e.fiber = fiber;
    e.text = std::move(text);
    e.site = site;
  }
  void end(std::int64_t status = 0) { add(EventType::end).a = status; }

  // The usual start: the main thread (1) running the main fiber (1).
  void start() {
    thread(1, "main", "main");
    thread(2, "pool-0", "pool");
    fiber(1, 0, "main");  // as the runtime records it: created, then locked
    thread_lock(1, 1, 1);
    run(1, 1);
  }
};

// A plain thread (id 30, "worker 4242"; format 2.0: park and unpark of
// fiber 0 in its own blocks) waits twice to send on chan 20 "jobs" at
// /src/p.cpp:9: 2'000'000-2'005'000 ns, then from 2'006'000 ns to the
// trace's end, 2'010'000 ns. Fiber 2 "consumer" waits to receive on it.
inline TraceBuilder plain_thread_program() {
  TraceBuilder b;
  b.start();
  b.site(9, "producer_thread", "/src/p.cpp", 9);
  b.thread(30, "worker 4242", "plain");
  b.object(20, "chan", "jobs", 1);
  b.fiber(2, 1, "consumer");
  b.at(2'000'000).park(30, 0, WaitReason::chan_send, 20, 9);
  b.at(2'005'000).unpark(30, 0, 0);
  b.at(2'006'000).park(30, 0, WaitReason::chan_send, 20, 9);  // still blocked at the end
  b.at(2'007'000).run(2, 2);
  b.park(2, 2, WaitReason::chan_receive, 20);
  b.at(2'010'000).park(1, 1, WaitReason::join, 2);  // the trace's last event: its end
  return b;
}

}  // namespace tether::trace::testing
