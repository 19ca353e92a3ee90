// A program for the trace writer's end-to-end cases (run_case.sh): it traces
// heavily (TETHER_TRACE is set by the case) and then dies, is killed, or
// runs out of file size.
//   trace_victim crash   fibers talk, then one writes to an unmapped address
//   trace_victim spin    ping-pong forever; prints "ready" once running
//   trace_victim big     200000 ping-pongs, then prints "done" and exits 0
#include <cstdio>
#include <cstring>
#include <string>

#include "tether/tether.h"

namespace {

void ping_pong(int rounds) {
  tether::Chan<int> req(0, "requests"), rep(0, "replies");
  auto server = tether::go(
      [&] {
        while (auto r = req.recv()) rep.send(*r + 1);
      },
      {.name = "server"});
  for (int i = 0; rounds < 0 || i < rounds; ++i) {
    req.send(i);
    rep.recv();
    if (i == 1000) {
      std::printf("ready\n");
      std::fflush(stdout);
    }
  }
  req.close();
  server.join();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "crash" && mode != "spin" && mode != "big") {
    std::fprintf(stderr, "usage: trace_victim crash|spin|big\n");
    return 2;
  }
  return tether::run([&] {
    if (mode == "spin") {
      tether::Chan<int> marker(1, "spin-marker");
      ping_pong(-1);
    } else if (mode == "big") {
      tether::Chan<int> marker(1, "big-marker");
      ping_pong(200000);
      std::printf("done\n");
    } else {
      ping_pong(2000);
      tether::go(
          [] {
            // Recorded just before the crash: only the crash flush can write it
            // (the periodic round runs every 100 ms).
            tether::Chan<int> last(1, "last-before-crash");
            last.send(1);
            *reinterpret_cast<volatile int*>(0x1000) = 1;
          },
          {.name = "crasher"})
          .join();
    }
    return 0;
  });
}
