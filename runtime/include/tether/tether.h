// tether/tether.h — the whole public API of libtether.
//
//   #include <tether/tether.h>
//   int main() {
//     return tether::run([] {
//       auto gl = tether::ThreadLocker::make("gl");   // one OS thread, N fibers
//       tether::Chan<int> req(0, "requests");
//       gl.go([&] { for (int r : req) render(r); }); // locked to gl's thread
//       req.send(1);
//       req.close();
//       return 0;
//     });
//   }
#pragma once

#include "tether/chan.h"
#include "tether/cond_var.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/once.h"
#include "tether/runtime.h"
#include "tether/rw_mutex.h"
#include "tether/select.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "tether/wait_group.h"
#include "tether/wait_reason.h"
