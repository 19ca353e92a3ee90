// debugger: call injection in a debugger. The Delve case from the Go proposal
// "allow N goroutines to be simultaneously locked to the same OS thread".
//
// The story. A debugger like Delve lets you type `call f(x) + i`: it evaluates
// the expression, and to evaluate f(x) it injects a call into the stopped
// target and resumes it until the call returns. Three fibers are involved,
// as in Delve:
//  - "server", the syscall server: ptrace only accepts requests from the
//    thread that attached, so one fiber locked to the "ptrace" thread serves
//    memory reads and writes for everyone over the channel "requests";
//  - "event-loop": resumes the target and handles its stops (breakpoints,
//    and the stops of an injected call); it calls ptrace itself;
//  - "interpreter": a recursive AST interpreter, written in plain direct
//    style. In the middle of the recursion, eval(f(x)) asks the event loop to
//    resume the target, and for each stop of the injected call it reads or
//    writes the target's memory through the server (the arguments, the
//    result), then lets the event loop go on.
// With tether, the event loop is a fiber locked to the "ptrace" thread next
// to the server (N:1 locking): both call ptrace directly, and while the event
// loop waits for the interpreter, the thread goes on serving requests. The
// interpreter stays in direct style; without N:1 it would have to be
// rewritten in continuation-passing style ("which would make it considerably
// less understandable", says the proposal).
//
// What to look at. Run it plain:
//     build/examples/debugger
// it prints each command and its value, and how many ptrace requests ran on
// the "ptrace" thread. The broken variant (--broken) does what Go's 1:1
// LockOSThread forces: the event loop runs inside the server fiber, the only
// one allowed on the ptrace thread. "I have experimented with running the
// event loop entirely inside the LockOSThread goroutine ... it will deadlock
// when it needs to communicate with [the interpreter]":
//     build/cli/tether run --svg build/wait-graph.svg -- build/examples/debugger --broken
// `print x + i` still works; `call f(x) + i` hangs. tether reports a channel
// cycle: "server" [chan receive, locked to thread "ptrace"] waits on chan
// "handled" for "interpreter", which waits in chan send on "requests" for
// "server". The stacks show where: the server is inside event_loop() called
// from serve(), the interpreter inside inject_call() called from eval(). The
// SVG draws the cycle in red inside the "ptrace" thread's cluster, with
// "console" waiting for the interpreter's result outside it.
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tether/tether.h"

using namespace std::chrono_literals;

namespace {

int current_tid() {
  return static_cast<int>(::syscall(SYS_gettid));
}

// The target's symbols and the "registers" of Go's debugCall protocol.
const std::map<std::string, long> kVariables = {{"x", 0x1000}, {"i", 0x1008}};
const std::map<std::string, long> kFunctions = {{"f", 0x401000}};
constexpr long kCallPC = 0x7000, kCallArg = 0x7008, kCallRet = 0x7010;

// Why the target stopped.
enum class Stop { call_args, call_returned, call_done, exited };

// The traced program, simulated. Like ptrace, it obeys only its tracer: the
// thread that attached. An injected call (a function address written to
// kCallPC) stops the target three times, as Go's debugCall does: to receive
// its argument, after returning (the result is at kCallRet), and when the
// target is back where it was.
class Target {
 public:
  void attach() {
    tracer_ = current_tid();
    mem_[kVariables.at("x")] = 6;
    mem_[kVariables.at("i")] = 7;
  }
  long peek(long addr) {
    check("PTRACE_PEEKDATA");
    auto it = mem_.find(addr);
    return it == mem_.end() ? 0 : it->second;
  }
  void poke(long addr, long value) {
    check("PTRACE_POKEDATA");
    mem_[addr] = value;
  }
  // PTRACE_CONT, then waitpid() until the target stops again.
  Stop cont() {
    check("PTRACE_CONT");
    switch (phase_) {
      case 0:
        if (mem_[kCallPC] == 0) return Stop::exited;
        phase_ = 1;
        return Stop::call_args;
      case 1:
        mem_[kCallRet] = mem_[kCallPC] == kFunctions.at("f") ? f(mem_[kCallArg]) : -1;
        phase_ = 2;
        return Stop::call_returned;
      default:
        mem_[kCallPC] = 0;
        phase_ = 0;
        return Stop::call_done;
    }
  }
  int requests() const { return requests_; }

 private:
  static long f(long n) { return n * n + 1; }
  void check(const char* request) {
    ++requests_;
    if (current_tid() == tracer_) return;
    std::fprintf(stderr, "target: %s from thread %d, but the tracer is thread %d (ESRCH)\n",
                 request, current_tid(), tracer_);
    std::abort();
  }

  int tracer_ = 0;
  int phase_ = 0;
  int requests_ = 0;
  std::map<long, long> mem_;
};

struct Request {  // to the syscall server
  enum Op { peek, poke, cont } op;
  long addr = 0, value = 0;
  tether::Chan<long> reply{};
};

// What the server, the event loop and the interpreter share. The target is
// touched only on the "ptrace" thread.
struct Session {
  bool broken = false;
  Target target;
  tether::Chan<Request> requests{0, "requests"};  // anyone -> server
  tether::Chan<int> resume{0, "resume"};          // interpreter -> event loop
  tether::Chan<Stop> stops{0, "stops"};           // event loop -> interpreter
  tether::Chan<bool> handled{0, "handled"};       // interpreter -> event loop
};

// The event loop's job for one resume: runs the target, hands every stop of
// the injected call to the interpreter and waits until it has handled it.
void event_loop(Session& s) {
  Stop stop = s.target.cont();
  while (stop != Stop::call_done && stop != Stop::exited) {
    s.stops.send(stop);  // the interpreter reads or writes memory ...
    s.handled.recv();    // ... and tells us to go on
    stop = s.target.cont();
  }
  s.stops.send(stop);
}

// The syscall server: serves ptrace requests on the thread that attached.
void serve(Session& s) {
  s.target.attach();
  for (Request& r : s.requests) {
    switch (r.op) {
      case Request::peek:
        r.reply.send(s.target.peek(r.addr));
        break;
      case Request::poke:
        s.target.poke(r.addr, r.value);
        r.reply.send(0);
        break;
      case Request::cont:  // --broken: the event loop runs inside the server
        event_loop(s);     // BUG: no request is served until the call is done
        break;
    }
  }
}

// ---- The expression interpreter -------------------------------------------

struct Node {
  enum Kind { number, variable, call, add, mul };
  explicit Node(Kind k) : kind(k) {}
  Kind kind;
  long value = 0;
  std::string name;
  std::unique_ptr<Node> lhs, rhs;  // call: lhs is the argument
};

// expr := term ('+' term)*   term := factor ('*' factor)*
// factor := NUMBER | NAME | NAME '(' expr ')' | '(' expr ')'
class Parser {
 public:
  explicit Parser(const std::string& text) : t_(text) {}
  std::unique_ptr<Node> parse() {
    auto n = expr();
    skip();
    if (p_ != t_.size()) error("unexpected '" + t_.substr(p_, 1) + "'");
    return n;
  }

 private:
  std::unique_ptr<Node> expr() { return binary(Node::add, '+', &Parser::term); }
  std::unique_ptr<Node> term() { return binary(Node::mul, '*', &Parser::factor); }
  std::unique_ptr<Node> binary(Node::Kind k, char op, std::unique_ptr<Node> (Parser::*next)()) {
    auto n = (this->*next)();
    while (eat(op)) {
      auto b = std::make_unique<Node>(k);
      b->lhs = std::move(n);
      b->rhs = (this->*next)();
      n = std::move(b);
    }
    return n;
  }
  std::unique_ptr<Node> factor() {
    skip();
    if (eat('(')) {
      auto n = expr();
      if (!eat(')')) error("expected ')'");
      return n;
    }
    auto n = std::make_unique<Node>(Node::number);
    if (p_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p_]))) {
      while (p_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p_])))
        n->value = n->value * 10 + (t_[p_++] - '0');
      return n;
    }
    while (p_ < t_.size() && std::isalpha(static_cast<unsigned char>(t_[p_]))) n->name += t_[p_++];
    if (n->name.empty()) error("expected a number or a name");
    n->kind = Node::variable;
    if (eat('(')) {
      n->kind = Node::call;
      n->lhs = expr();
      if (!eat(')')) error("expected ')'");
    }
    return n;
  }
  void skip() {
    while (p_ < t_.size() && t_[p_] == ' ') ++p_;
  }
  bool eat(char c) {
    skip();
    if (p_ < t_.size() && t_[p_] == c) return ++p_, true;
    return false;
  }
  [[noreturn]] void error(const std::string& what) {
    throw std::runtime_error(what + " at column " + std::to_string(p_ + 1));
  }
  std::string t_;
  std::size_t p_ = 0;
};

class Interpreter {
 public:
  explicit Interpreter(Session& s) : s_(s) {}

  // Plain recursion: inject_call() blocks in the middle of it while the
  // target runs, and this fiber simply waits.
  long eval(const Node& n) {
    switch (n.kind) {
      case Node::number:
        return n.value;
      case Node::variable:
        return peek(lookup(kVariables, n.name));
      case Node::call:
        return inject_call(lookup(kFunctions, n.name), eval(*n.lhs));
      case Node::add:
        return eval(*n.lhs) + eval(*n.rhs);
      case Node::mul:
        return eval(*n.lhs) * eval(*n.rhs);
    }
    return 0;
  }

 private:
  // Runs fn(arg) in the target: the event loop resumes it, and at each stop
  // we talk to the target through the server.
  long inject_call(long fn, long arg) {
    poke(kCallPC, fn);
    if (s_.broken) {
      s_.requests.send(
          {Request::cont, 0, 0, tether::Chan<long>()});  // Go style: the server runs the event loop
    } else {
      s_.resume.send(1);  // tether: the event loop is a fiber of its own
    }
    long result = 0;
    for (Stop stop = *s_.stops.recv(); stop != Stop::call_done; stop = *s_.stops.recv()) {
      if (stop == Stop::exited) throw std::runtime_error("the target exited");
      if (stop == Stop::call_args) poke(kCallArg, arg);  // --broken: hangs here
      if (stop == Stop::call_returned) result = peek(kCallRet);
      s_.handled.send(true);
    }
    return result;
  }
  long peek(long addr) {
    tether::Chan<long> reply(0, "reply");
    s_.requests.send({Request::peek, addr, 0, reply});
    return *reply.recv();
  }
  void poke(long addr, long value) {
    tether::Chan<long> reply(0, "reply");
    s_.requests.send({Request::poke, addr, value, reply});
    reply.recv();
  }
  static long lookup(const std::map<std::string, long>& symbols, const std::string& name) {
    auto it = symbols.find(name);
    if (it == symbols.end()) throw std::runtime_error("could not find symbol " + name);
    return it->second;
  }
  Session& s_;
};

// ---- Wiring: the console, the session, and who holds what -----------------

// The user's side: sends each command to the interpreter and prints the value.
void console(tether::Chan<std::string> exprs, tether::Chan<std::string> results) {
  for (const char* cmd : {"print x + i", "call f(x) + i", "call f(f(i) * 2) + x"}) {
    std::printf("(dlv) %s\n", cmd);
    std::fflush(stdout);
    exprs.send(std::strchr(cmd, ' ') + 1);
    std::printf("%s\n", results.recv()->c_str());
    std::fflush(stdout);
  }
  exprs.close();
}

// Starts the parts and returns, Go style: afterwards each channel is held
// only by the fibers that use it, so tether can tell exactly who could still
// wake whom. The console starts first and never sees the session.
void start_debugger(bool broken, tether::Chan<int> done) {
  tether::Chan<std::string> exprs(0, "exprs"), results(0, "results");
  tether::go([=] { console(exprs, results); }, {.name = "console"});

  auto s = std::make_shared<Session>();
  s->broken = broken;
  tether::ThreadLocker ptrace = tether::ThreadLocker::make("ptrace");
  ptrace.go(
      [s, done]() mutable {
        serve(*s);
        std::printf("dlv: %d ptrace requests, all on the \"ptrace\" thread\n",
                    s->target.requests());
        done.send(0);
      },
      {.name = "server"});
  if (!broken) {  // N:1: the event loop shares the ptrace thread with the server
    ptrace.go(
        [s] {
          for (int r : s->resume) {
            (void)r;
            event_loop(*s);
          }
        },
        {.name = "event-loop"});
  }
  tether::go(
      [s, exprs, results]() mutable {
        Interpreter in(*s);
        for (std::string& e : exprs) {
          try {
            results.send(std::to_string(in.eval(*Parser(e).parse())));
          } catch (const std::exception& ex) {
            results.send(std::string("error: ") + ex.what());
          }
        }
        s->resume.close();  // the interpreter was the last client of both
        s->requests.close();
      },
      {.name = "interpreter"});
}

}  // namespace

int main(int argc, char** argv) {
  bool broken = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--broken") == 0) {
      broken = true;
    } else {
      std::fprintf(stderr, "usage: %s [--broken]\n", argv[0]);
      return 2;
    }
  }
  return tether::run([&] {
    tether::Chan<int> done(1, "done");
    tether::go([&] { start_debugger(broken, done); }, {.name = "debugger"});
    int status = 1;
    tether::select(tether::recv(done, [&](std::optional<int> rc) { status = rc.value_or(1); }),
                   tether::after(3s, [] {
                     std::fprintf(stderr,
                                  "dlv: no answer after 3 s: the debugger is stuck (run it "
                                  "under `tether run` to see why)\n");
                   }));
    return status;
  });
}
