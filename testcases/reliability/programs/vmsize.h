// The process's address-space size, for the programs that run under a low
// RLIMIT_AS (exhaust.cpp, dump_oom.cpp): their checks size the limit from it.
#pragma once

#include <fstream>
#include <string>

// VmSize from /proc/self/status, in KiB; -1 if not found.
inline long vmsize_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long v = -1;
  while (in >> key) {
    if (key == "VmSize:") {
      in >> v;
      break;
    }
    in.ignore(1 << 16, '\n');
  }
  return v;
}
