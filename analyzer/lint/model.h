// lint/model.h — what the checks know about one translation unit (internal).
//
// model_builder.cpp walks libclang's AST once and fills a TuModel: every
// function or lambda body with its calls, channel operations and lock
// acquisitions (each annotated with the locks and lockers held there, from
// flow_walker.cpp's path-sensitive walk), the fiber and thread entry points
// (callables passed to tether::go, ThreadLocker::go / call, tether::run,
// std::thread), and the channels. The checks work on this model only, so
// they never touch libclang and can run after the TU is disposed.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lint/diagnostic.h"

namespace tether::lint {

// A lock held at some program point.
struct HeldLock {
  std::string key;      // object identity (see ast_util.h object_key)
  std::string display;  // source spelling, e.g. "m_" or "gl"
  SourceLoc acquired;   // where it was taken
};

struct CallSite {
  SourceLoc loc;
  std::string callee;                  // qualified name, or "lambda" for a lambda invoked here
  std::string target_usr;              // callee USR (resolved to `target` after the walk)
  int target = -1;                     // index of the callee's body in this TU, -1 if none
  std::string blocking;                // why it blocks its OS thread; empty if it does not
  std::vector<HeldLock> lockers_held;  // ThreadLockers this fiber is locked to here (some path)
  std::vector<std::string> lockers_released;  // lockers unlocked on every path before here
  std::vector<HeldLock> locks_held;           // mutexes held here (some path)
  bool in_loop = false;
};

enum class ChanOpKind { send, recv, nonblocking, select_case, close, escape };

struct ChanOp {
  ChanOpKind kind;
  std::string key;
  SourceLoc loc;
  unsigned order = 0;  // position in the body, in walk order
};

struct Acquire {
  HeldLock lock;
};

struct Body {
  std::string name;  // "main", "Server::loop", "lambda"
  SourceLoc loc;
  bool is_lambda = false;
  std::vector<CallSite> calls;
  std::vector<ChanOp> chan_ops;
  std::vector<Acquire> acquires;  // mutexes acquired directly in this body
  // Lock-order pairs seen inside this body: (held, then acquired).
  std::vector<std::pair<HeldLock, HeldLock>> order_pairs;
};

enum class EntryKind {
  pool_fiber,     // tether::go(fn)
  locker_fiber,   // locker.go(fn)
  locker_call,    // locker.call(fn): fn runs on the locker's thread
  run_main,       // tether::run(fn): fiber 1, on ThreadLocker::main()'s thread
  plain_thread,   // std::thread / std::jthread / std::async
  main_function,  // int main()
};

struct Entry {
  EntryKind kind;
  int body = -1;
  int spawner = -1;  // body containing the spawn site (-1 for main)
  SourceLoc site;    // where it is started
  std::string locker_key;
  std::string locker_display;
  bool multi = false;      // may start more than once (in a loop, or from a helper)
  bool os_locked = false;  // its body calls tether::lock_os_thread()
};

struct Channel {
  std::string display;
  long capacity = -1;  // -1: unknown
  SourceLoc decl;
  int local_body = -1;  // body declaring it as a local variable, else -1
};

struct Locker {
  std::string display;  // "gl (\"gl\")"
  int go_sites = 0;     // fibers started on it (a site in a loop counts twice)
  int lock_sites = 0;
  int call_sites = 0;
  // go/lock/call sites for messages: ("go", loc), ("go (in a loop)", loc), ("lock()", loc)...
  std::vector<std::pair<std::string, SourceLoc>> sites;
  bool fiber1 = false;  // tether::run's fiber 1 (main() locker only)
  // Several fibers may be locked there at once. Each tether::run() has its own
  // fiber 1, so several run() calls do not make the main thread shared.
  bool shared() const { return go_sites + lock_sites + call_sites + (fiber1 ? 1 : 0) >= 2; }
};

struct TuModel {
  std::string main_file;
  std::vector<Body> bodies;
  std::vector<Entry> entries;
  std::map<std::string, Channel> channels;
  std::map<std::string, Locker> lockers;
  std::vector<Diagnostic> diagnostics;  // found while walking (tether-lock-misuse)
};

}  // namespace tether::lint
