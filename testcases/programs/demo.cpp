// demo: the program `scripts/setup.sh` runs under `tether run` (the "main job").
//
// A fake GUI toolkit whose calls must all happen on one OS thread, written the
// way the N:1 ThreadLocker allows: instead of one "syscall server" loop, the
// GUI thread runs three cooperating fibers — two servers draining a request
// channel and a repaint fiber — while four worker-pool fibers do real work
// (counting primes) and post their results to the GUI through the channel,
// plus one ThreadLocker::call() each for a value that lives on the GUI thread.
//
// It checks what it relies on (every GUI fiber runs on the GUI thread, the
// sum matches a count made without fibers), prints a short result and exits
// 0, or prints "demo: FAILED: ..." and exits 1.
//
// Later issues turn the main job into a deadlocking program with a report
// and an SVG; this program stays as the "finishes cleanly" example.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tether/chan.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/wait_group.h"

namespace {

constexpr int kClients = 4;
constexpr int kChunksPerClient = 10;
constexpr long kChunk = 2500;  // numbers per request; the clients cover [0, 100000)

bool is_prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

long count_primes(long from, long to) {
  long count = 0;
  for (long n = from; n < to; ++n) count += is_prime(n);
  return count;
}

struct Request {
  int client;
  long primes;               // found in one chunk
  tether::Chan<long> reply;  // the GUI's running total after the update
};

// The toolkit's state. Like a real GUI toolkit's, it may only be touched on
// its own thread, so it needs no lock: the fibers there take turns.
struct Gui {
  int tid = 0;                // the GUI thread's kernel id
  std::map<int, long> label;  // per-client "progress label"
  long total = 0;
  int updates = 0;
  int repaints = 0;
  std::map<std::string, int> served;
  std::vector<std::string> wrong_thread;  // fibers that found themselves elsewhere

  void check_thread(const std::string& who) {
    if (gettid() != tid) wrong_thread.push_back(who);
  }
};

int run_demo() {
  tether::ThreadLocker gui_thread = tether::ThreadLocker::make("gui");
  Gui gui;
  gui.tid = gui_thread.call([] { return static_cast<int>(gettid()); });
  tether::Chan<Request> requests(0, "gui-requests");
  tether::Chan<int> repaint(1, "repaint");  // coalesced: one pending tick is enough
  tether::Chan<std::string> finished(2, "servers-finished");

  // Three fibers locked to the GUI thread.
  gui_thread.go(
      [&] {
        for (int tick : repaint) {
          gui.check_thread("repaint");
          gui.repaints += tick;
        }
      },
      {.name = "repaint"});
  for (std::string name : {"server-1", "server-2"}) {
    gui_thread.go(
        [&, name] {
          for (Request& r : requests) {
            gui.check_thread(name);
            gui.label[r.client] += r.primes;
            gui.total += r.primes;
            ++gui.updates;
            ++gui.served[name];
            repaint.try_send(1);  // drop the tick if one is already pending
            r.reply.send(gui.total);
          }
          finished.send(name);
        },
        {.name = name});
  }

  // Four pool fibers doing the work.
  tether::WaitGroup clients("clients");
  std::atomic<int> pool_on_gui_thread{0};
  std::atomic<long> titles_ok{0};
  clients.add(kClients);
  for (int c = 0; c < kClients; ++c) {
    tether::go(
        [&, c] {
          for (int i = 0; i < kChunksPerClient; ++i) {
            const long from = (static_cast<long>(c) * kChunksPerClient + i) * kChunk;
            if (gettid() == gui.tid) ++pool_on_gui_thread;
            Request r{c, count_primes(from, from + kChunk), tether::Chan<long>(1, "reply")};
            tether::Chan<long> reply = r.reply;
            requests.send(std::move(r));
            reply.recv();
          }
          // A value that lives on the GUI thread, read from the pool.
          const long mine = gui_thread.call([&] {
            gui.check_thread("call");
            return gui.label[c];
          });
          if (mine == count_primes(static_cast<long>(c) * kChunksPerClient * kChunk,
                                   static_cast<long>(c + 1) * kChunksPerClient * kChunk)) {
            ++titles_ok;
          }
          clients.done();
        },
        {.name = "client-" + std::to_string(c)});
  }
  clients.wait();

  const long total = gui_thread.call([&] { return gui.total; });
  requests.close();
  for (int i = 0; i < 2; ++i) finished.recv();  // both servers saw the close
  repaint.close();

  const long expected = count_primes(0, kClients * kChunksPerClient * kChunk);
  std::printf(
      "demo: %d pool fibers sent %d requests to 2 server fibers locked to thread \"gui\" "
      "(tid %d), beside a repaint fiber\n",
      kClients, gui.updates, gui.tid);
  std::printf(
      "demo: served by server-1: %d, server-2: %d; repaints: %d; call() from the pool: "
      "%ld/%d right\n",
      gui.served["server-1"], gui.served["server-2"], gui.repaints, titles_ok.load(), kClients);
  std::printf("demo: primes below %ld: %ld (expected %ld)\n", kClients * kChunksPerClient * kChunk,
              total, expected);

  std::string failure;
  if (total != expected) failure = "wrong total";
  if (gui.updates != kClients * kChunksPerClient) failure = "lost requests";
  if (!gui.wrong_thread.empty()) failure = gui.wrong_thread.front() + " ran off the GUI thread";
  if (pool_on_gui_thread != 0) failure = "a pool fiber ran on the GUI thread";
  if (titles_ok != kClients) failure = "call() returned a wrong value";
  if (gui.repaints < 1) failure = "no repaint";
  if (!failure.empty()) {
    std::printf("demo: FAILED: %s\n", failure.c_str());
    return 1;
  }
  std::printf("demo: ok\n");
  return 0;
}

}  // namespace

int main() {
  return tether::run(run_demo);
}
