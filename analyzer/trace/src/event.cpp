// Names of the event types (tether/trace/event.h): stable, used in JSON
// output and in the reader's error messages.
#include "tether/trace/event.h"

namespace tether::trace {

std::string_view to_string(EventType t) noexcept {
  switch (t) {
    case EventType::site: return "site";
    case EventType::stack: return "stack";
    case EventType::thread_start: return "thread_start";
    case EventType::thread_exit: return "thread_exit";
    case EventType::fiber_create: return "fiber_create";
    case EventType::fiber_exit: return "fiber_exit";
    case EventType::run: return "run";
    case EventType::park: return "park";
    case EventType::unpark: return "unpark";
    case EventType::thread_lock: return "thread_lock";
    case EventType::thread_unlock: return "thread_unlock";
    case EventType::call_begin: return "call_begin";
    case EventType::call_end: return "call_end";
    case EventType::object_create: return "object_create";
    case EventType::object_destroy: return "object_destroy";
    case EventType::lock_acquire: return "lock_acquire";
    case EventType::lock_release: return "lock_release";
    case EventType::chan_send: return "chan_send";
    case EventType::chan_recv: return "chan_recv";
    case EventType::chan_close: return "chan_close";
    case EventType::select_done: return "select_done";
    case EventType::wg_add: return "wg_add";
    case EventType::cond_signal: return "cond_signal";
    case EventType::syscall_enter: return "syscall_enter";
    case EventType::syscall_exit: return "syscall_exit";
    case EventType::fd_pair: return "fd_pair";
    case EventType::misuse: return "misuse";
    case EventType::finding: return "finding";
    case EventType::lost: return "lost";
    case EventType::end: return "end";
  }
  return "unknown";
}

}  // namespace tether::trace
