#include "symbolizer.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace tether::detail {

std::string demangle(const char* name) {
  if (!name) return "??";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status == 0 && d) {
    std::string s(d);
    std::free(d);
    return s;
  }
  std::free(d);
  return name;
}

struct Symbolizer::Impl {
  Dwfl_Callbacks callbacks{};
  char* debuginfo_path = nullptr;
  Dwfl* dwfl = nullptr;

  Impl() {
    callbacks.find_elf = dwfl_linux_proc_find_elf;
    callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    callbacks.debuginfo_path = &debuginfo_path;
    report();
  }
  ~Impl() {
    if (dwfl) dwfl_end(dwfl);
  }
  // (Re)reads the process's modules: also after a dlopen.
  void report() {
    if (!dwfl) dwfl = dwfl_begin(&callbacks);
    if (!dwfl) return;
    dwfl_report_begin(dwfl);
    dwfl_linux_proc_report(dwfl, getpid());
    dwfl_report_end(dwfl, nullptr, nullptr);
  }
};

namespace {

// name qualified by the namespaces and classes that declare die's function
// ("(anonymous namespace)::Interpreter::poke"), for the DIEs GCC gives no
// linkage name (inlined functions of an anonymous namespace, for one). Left
// bare when a scope on the way has no name of its own (a lambda's closure:
// the dump names those after their callable) or is a function.
std::string qualified(Dwarf_Die* die, const char* name) {
  Dwarf_Die decl = *die;
  for (int at : {DW_AT_abstract_origin, DW_AT_specification}) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if (dwarf_attr(&decl, at, &attr) && dwarf_formref_die(&attr, &next)) decl = next;
  }
  Dwarf_Die* scopes = nullptr;
  const int n = dwarf_getscopes_die(&decl, &scopes);
  std::string prefix;
  bool ok = n > 0;
  for (int i = 1; ok && i < n; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit) break;
    const char* part = dwarf_diename(&scopes[i]);
    if (tag == DW_TAG_namespace) {
      prefix.insert(0, std::string(part ? part : "(anonymous namespace)") + "::");
    } else if ((tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
                tag == DW_TAG_union_type) && part) {
      prefix.insert(0, std::string(part) + "::");
    } else {
      ok = false;
    }
  }
  std::free(scopes);
  return ok ? prefix + name : std::string(name);
}

// The name of a subprogram or inlined-subroutine DIE (following its abstract
// origin and specification), demangled where a linkage name exists.
std::string die_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, at, &attr)) {
      if (const char* s = dwarf_formstring(&attr)) return demangle(s);
    }
  }
  if (dwarf_attr_integrate(die, DW_AT_name, &attr)) {
    if (const char* s = dwarf_formstring(&attr)) return qualified(die, s);
  }
  return "??";
}

// Whether kLibdwRoom bytes of address space can still be mapped (and so
// libdw's allocations are unlikely to fail).
bool room_for_libdw() noexcept {
  void* p =
      mmap(nullptr, kLibdwRoom, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  munmap(p, kLibdwRoom);
  return true;
}

// A frame from the dynamic loader's tables alone: the module and the PC's
// offset in it (the symbol is left out: demangling allocates).
Frame unsymbolized_frame(std::uintptr_t pc, bool exact) {
  Frame f;
  f.pc = pc;
  f.function = "??";
  f.unsymbolized = true;
  Dl_info info{};
  const std::uintptr_t addr = exact || pc == 0 ? pc : pc - 1;
  if (dladdr(reinterpret_cast<void*>(addr), &info) != 0) {
    f.module = info.dli_fname && *info.dli_fname ? info.dli_fname : program_invocation_name;
    f.offset = pc - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  }
  return f;
}

}  // namespace

Symbolizer& Symbolizer::instance() {
  static Symbolizer* s = new Symbolizer;  // used by crash dumps: never destroyed
  return *s;
}

Symbolizer::Symbolizer() : impl_(std::make_unique<Impl>()) {}
Symbolizer::~Symbolizer() = default;

const std::vector<Frame>& Symbolizer::symbolize(std::uintptr_t pc, bool exact) {
  std::lock_guard lk(mu_);
  auto& cache = cache_[exact ? 1 : 0];
  if (auto it = cache.find(pc); it != cache.end()) return it->second;
  if (!room_for_libdw()) {
    std::vector<Frame>& raw = unsymbolized_[pc];
    if (raw.empty()) raw.push_back(unsymbolized_frame(pc, exact));
    return raw;
  }

  std::vector<Frame> frames;
  const Dwarf_Addr addr = exact || pc == 0 ? pc : pc - 1;
  Dwfl* dwfl = impl_->dwfl;
  Dwfl_Module* mod = dwfl ? dwfl_addrmodule(dwfl, addr) : nullptr;
  if (!mod && dwfl) {  // a module loaded since: read the maps again
    impl_->report();
    dwfl = impl_->dwfl;
    mod = dwfl ? dwfl_addrmodule(dwfl, addr) : nullptr;
  }
  Frame outer;
  outer.pc = pc;
  outer.function = "??";
  if (mod) {
    const char* mainfile = nullptr;
    const char* modname =
        dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, &mainfile, nullptr);
    outer.module = mainfile ? mainfile : (modname ? modname : "");
    GElf_Off off = 0;
    GElf_Sym sym;
    if (const char* name = dwfl_module_addrinfo(mod, addr, &off, &sym, nullptr, nullptr, nullptr)) {
      outer.function = demangle(name);
      outer.offset = pc - (addr - off);
    }
    std::string file;
    int line = 0;
    if (Dwfl_Line* l = dwfl_module_getsrc(mod, addr)) {
      int lineno = 0;
      if (const char* f = dwfl_lineinfo(l, nullptr, &lineno, nullptr, nullptr, nullptr)) {
        file = f;
        line = lineno;
      }
    }
    // Inlined calls at addr, innermost first: each gets the current
    // position, and its call site becomes the position of the next.
    Dwarf_Addr bias = 0;
    if (Dwarf_Die* cu = dwfl_module_addrdie(mod, addr, &bias)) {
      // dwarf_getscopes() follows an inlined subroutine into its abstract
      // origin's scopes (the class and namespace of its definition), so it
      // yields only the innermost inlined call. The concrete chain (each
      // inlined call inside the one it was inlined into, up to the real
      // function) is dwarf_getscopes_die() of the innermost scope, as
      // eu-addr2line -i does. Without it a range-for over a channel showed
      // Chan::recv, then the fiber's lambda at chan.h's line.
      Dwarf_Die* scopes = nullptr;
      int n = dwarf_getscopes(cu, addr - bias, &scopes);
      if (n > 0) {
        Dwarf_Die innermost = scopes[0];
        std::free(scopes);
        scopes = nullptr;
        n = dwarf_getscopes_die(&innermost, &scopes);
      }
      Dwarf_Files* files = nullptr;
      std::size_t nfiles = 0;
      const bool have_files = dwarf_getsrcfiles(cu, &files, &nfiles) == 0;
      for (int i = 0; i < n; ++i) {
        const int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram) {
          if (outer.function == "??") outer.function = die_name(&scopes[i]);
          break;
        }
        if (tag != DW_TAG_inlined_subroutine) continue;
        Frame f;
        f.pc = pc;
        f.function = die_name(&scopes[i]);
        f.file = file;
        f.line = line;
        f.module = outer.module;
        f.inlined = true;
        frames.push_back(std::move(f));
        Dwarf_Attribute attr;
        Dwarf_Word v = 0;
        if (have_files &&
            dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &v) == 0) {
          if (const char* cf = dwarf_filesrc(files, v, nullptr, nullptr)) file = cf;
        }
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &v) == 0) {
          line = static_cast<int>(v);
        }
      }
      std::free(scopes);
    }
    outer.file = file;
    outer.line = line;
  }
  frames.push_back(std::move(outer));
  return cache.emplace(pc, std::move(frames)).first->second;
}

}  // namespace tether::detail
