// misuse: a fiber unlocks a mutex it never locked (Go: "fatal error: sync:
// unlock of unlocked mutex"). tether raises misuse_error; nobody catches it,
// so the program ends with the fatal line and a dump (SIGABRT), and the
// JSON report holds a finding of kind "misuse". Not a deadlock: no twin.
#include <cstdio>

#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"

int main() {
  return tether::run([] {
    tether::Mutex accounts("accounts");
    tether::go([&] { accounts.unlock(); }, {.name = "closer"}).join();  // BUG: never locked
    std::printf("main: done\n");
    return 0;
  });
}
