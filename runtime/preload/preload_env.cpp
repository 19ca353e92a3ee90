#include "preload_env.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace tether::preload {
namespace {

// Reads exactly n bytes at off; false on a short read or an error.
bool read_at(int fd, void* buf, std::size_t n, off_t off) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = pread(fd, static_cast<char*>(buf) + done, n - done, off + done);
    if (r <= 0) return false;
    done += static_cast<std::size_t>(r);
  }
  return true;
}

// DT_NEEDED entries of a 64-bit little-endian ELF file, from its section
// headers (.dynamic and the string table it links to). Empty on any problem.
std::vector<std::string> needed_libraries(const std::string& path) {
  std::vector<std::string> out;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  Elf64_Ehdr eh;
  if (read_at(fd, &eh, sizeof eh, 0) && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_ident[EI_DATA] == ELFDATA2LSB &&
      eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum > 0 && eh.e_shnum < 4096) {
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    if (read_at(fd, sh.data(), sh.size() * sizeof(Elf64_Shdr), static_cast<off_t>(eh.e_shoff))) {
      for (const Elf64_Shdr& s : sh) {
        if (s.sh_type != SHT_DYNAMIC || s.sh_link >= sh.size()) continue;
        const Elf64_Shdr& strtab = sh[s.sh_link];
        if (s.sh_size > (1u << 20) || strtab.sh_size > (16u << 20)) break;
        std::vector<Elf64_Dyn> dyn(s.sh_size / sizeof(Elf64_Dyn));
        std::string strings(strtab.sh_size, '\0');
        if (!read_at(fd, dyn.data(), dyn.size() * sizeof(Elf64_Dyn),
                     static_cast<off_t>(s.sh_offset)) ||
            !read_at(fd, strings.data(), strings.size(), static_cast<off_t>(strtab.sh_offset)))
          break;
        for (const Elf64_Dyn& d : dyn) {
          if (d.d_tag == DT_NULL) break;
          if (d.d_tag != DT_NEEDED || d.d_un.d_val >= strings.size()) continue;
          out.emplace_back(strings.c_str() + d.d_un.d_val);
        }
        break;
      }
    }
  }
  close(fd);
  return out;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const std::size_t end = s.find_first_of(": ");
    if (end != 0) out.emplace_back(s.substr(0, end));
    if (end == std::string_view::npos) break;
    s.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace

std::string find_library(const std::string& command_dir, const std::string& libdir) {
  namespace fs = std::filesystem;
  const fs::path dir(command_dir);
  const fs::path candidates[] = {
      dir / kLibraryName,
      dir / ".." / "lib" / libdir / kLibraryName,
      dir / ".." / libdir / kLibraryName,
      dir / ".." / "lib" / kLibraryName,
  };
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return {};
}

std::vector<std::string> sanitizer_runtimes(const std::string& program) {
  std::vector<std::string> out;
  const std::vector<std::string> needed = needed_libraries(program);
  for (std::string_view prefix : {"libasan.so", "libtsan.so", "liblsan.so", "libhwasan.so"}) {
    for (const std::string& n : needed)
      if (std::string_view(n).substr(0, prefix.size()) == prefix) out.push_back(n);
  }
  return out;
}

std::string ld_preload_value(const std::string& library, const std::string& program,
                             const std::string& current) {
  std::vector<std::string> entries = sanitizer_runtimes(program);
  entries.push_back(library);
  for (std::string& e : split(current)) {
    // Another copy of the library would only pass calls through: leave it out.
    if (std::filesystem::path(e).filename() == kLibraryName) continue;
    if (std::find(entries.begin(), entries.end(), e) == entries.end()) entries.push_back(e);
  }
  std::string out;
  for (const std::string& e : entries) out += (out.empty() ? "" : ":") + e;
  return out;
}

}  // namespace tether::preload
