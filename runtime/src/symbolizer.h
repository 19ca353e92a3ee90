// Symbolizer (internal): program counters to function, file and line, with
// libdw (elfutils) over the running process's own modules.
//
// Each PC is resolved once and cached (a dump of 10k fibers has a few dozen
// distinct PCs). A return address is looked up as pc - 1, so the line is the
// one of the call, not of the instruction after it. Functions inlined at the
// PC are expanded, innermost first, each with its own line (from DWARF's
// inline scopes), so an inlined user function still shows up by name.
// Names are demangled. Not async-signal-safe: symbolize after a capture, on
// an ordinary thread. Thread-safe (one lock).
//
// When memory is short, libdw is not called: it aborts (an assertion) or
// exits the process ("libdw: Cannot allocate memory") when an allocation
// fails. A PC not in the cache is then described from dladdr alone (module
// and offset, `unsymbolized` set) and not cached, so a later call, with
// memory back, symbolizes it. "Short": kLibdwRoom bytes of address space
// cannot be mapped (checked on each cache miss; two system calls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tether::detail {

struct Frame {
  std::string function;  // demangled; "??" when unknown
  std::string file;      // empty when unknown
  int line = 0;
  std::uintptr_t pc = 0;      // the address as captured
  std::uintptr_t offset = 0;  // pc - the function's start (Go's +0xOFF)
  std::string module;         // the ELF file it lies in
  bool inlined = false;       // an inlined call inside the next frame
  bool unsymbolized = false;  // memory was short: only module and offset are known
};

// Address space libdw may need to read a module's debug information.
inline constexpr std::size_t kLibdwRoom = std::size_t{64} << 20;

class Symbolizer {
 public:
  static Symbolizer& instance();
  ~Symbolizer();

  // The frames at pc (more than one where functions were inlined), innermost
  // first. exact: pc is an interrupted instruction, not a return address.
  // The reference stays valid for the life of the process (cached).
  const std::vector<Frame>& symbolize(std::uintptr_t pc, bool exact);

 private:
  Symbolizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex mu_;
  std::unordered_map<std::uintptr_t, std::vector<Frame>> cache_[2];      // [exact]
  std::unordered_map<std::uintptr_t, std::vector<Frame>> unsymbolized_;  // while memory is short
};

// abi::__cxa_demangle, or the name itself.
std::string demangle(const char* name);

}  // namespace tether::detail
