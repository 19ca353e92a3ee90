// A strict, independent decoder of docs/trace-format.md, for the trace
// writer's tests (runtime/tests/trace_writer_test.cpp and trace_check, the
// e2e checker). It shares no code with the writer: it is written from the
// document, so the two can disagree and a test can catch it.
//
// decode() validates every block (magic, size, CRC, seq, records filling the
// payload exactly, each record's fields within its len) and stops at the
// first block that fails, reporting the offset and what it expected there,
// exactly as a reader must on a torn tail.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace trace_check {

struct Record {
  std::uint8_t type = 0;
  std::uint64_t thread = 0;
  std::uint64_t ticks = 0;
  std::vector<std::int64_t> ints;  // every integer field in order (stack: id, n, pc, line, ...)
  std::vector<std::string> strs;   // every string field in order
  std::uint32_t block = 0;
};

struct Trace {
  bool header_ok = false;
  std::uint16_t major = 0, minor = 0;
  std::uint64_t start_ticks = 0, num = 1, den = 1;
  std::uint32_t pid = 0;
  std::string program;
  std::vector<Record> records;
  std::uint32_t blocks = 0;
  std::uint64_t valid_bytes = 0;  // header + complete valid blocks
  std::uint64_t file_bytes = 0;
  std::string error;  // empty: the whole file decoded; else "offset N: expected ..."
  bool has_end() const { return !records.empty() && records.back().type == 0x7F; }
  std::int64_t ns(std::uint64_t ticks) const {
    return static_cast<std::int64_t>(static_cast<unsigned __int128>(ticks - start_ticks) * num /
                                     den);
  }
};

inline std::uint32_t crc32c(const std::uint8_t* p, std::size_t n, std::uint32_t crc = 0) {
  static const auto table = [] {
    std::vector<std::uint32_t> t(256);
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  while (n--) crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// Field layouts of the known record types: u = uv, o = an optional uv at
// the record's end (0 when absent: chan_send/chan_recv's woke, done; park's next), s = sv, S = str,
// '*' = the stack's frames, '#' = the finding's fiber list.
inline const std::map<std::uint8_t, std::string>& layouts() {
  static const std::map<std::uint8_t, std::string> m = {
      {0x01, "uuuSS"}, {0x02, "uu*"},  {0x10, "uuuS"},   {0x11, ""},       {0x20, "uuuuS"},
      {0x21, "u"},     {0x22, "u"},    {0x23, "uuuuuuo"}, {0x24, "uu"},     {0x25, "uuu"},
      {0x26, "uuu"},   {0x27, "uuu"},  {0x28, "uuu"},    {0x30, "uuuuuS"}, {0x31, "u"},
      {0x32, "uuuuu"}, {0x33, "uuu"},  {0x34, "uuoo"},   {0x35, "uuuoo"},  {0x36, "uu"},
      {0x37, "uuuu"},  {0x38, "uuss"}, {0x39, "uuu"},    {0x40, "ussuS"},  {0x41, "usu"},
      {0x42, "uss"},   {0x50, "uuS"},  {0x51, "SS#"},    {0x60, "u"},      {0x7F, "s"},
  };
  return m;
}

inline const char* type_name(std::uint8_t t) {
  static const std::map<std::uint8_t, const char*> m = {
      {0x01, "site"},         {0x02, "stack"},         {0x10, "thread_start"},
      {0x11, "thread_exit"},  {0x20, "fiber_create"},  {0x21, "fiber_exit"},
      {0x22, "run"},          {0x23, "park"},          {0x24, "unpark"},
      {0x25, "thread_lock"},  {0x26, "thread_unlock"}, {0x27, "call_begin"},
      {0x28, "call_end"},     {0x30, "object_create"}, {0x31, "object_destroy"},
      {0x32, "lock_acquire"}, {0x33, "lock_release"},  {0x34, "chan_send"},
      {0x35, "chan_recv"},    {0x36, "chan_close"},    {0x37, "select_done"},
      {0x38, "wg_add"},       {0x39, "cond_signal"},   {0x40, "syscall_enter"},
      {0x41, "syscall_exit"}, {0x42, "fd_pair"},       {0x50, "misuse"},
      {0x51, "finding"},      {0x60, "lost"},          {0x7F, "end"},
  };
  auto it = m.find(t);
  return it == m.end() ? "unknown" : it->second;
}

class Cursor {
 public:
  Cursor(const std::uint8_t* p, const std::uint8_t* end) : p_(p), end_(end) {}
  bool uv(std::uint64_t* out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) return false;
      const std::uint8_t b = *p_++;
      if (shift == 63 && b > 1) return false;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool sv(std::int64_t* out) {
    std::uint64_t z;
    if (!uv(&z)) return false;
    *out = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
    return true;
  }
  bool str(std::string* out) {
    std::uint64_t n;
    if (!uv(&n) || n > 65535 || n > static_cast<std::uint64_t>(end_ - p_)) return false;
    out->assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  const std::uint8_t* pos() const { return p_; }
  bool at_end() const { return p_ >= end_; }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

inline std::uint64_t le(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Decodes one record's fields (after dt) per its layout; false: corrupt.
inline bool decode_fields(Cursor& c, const std::string& layout, Record* r) {
  for (char k : layout) {
    if (k == 'u' || k == 'o') {
      std::uint64_t v = 0;
      if ((k == 'u' || !c.at_end()) && !c.uv(&v)) return false;
      r->ints.push_back(static_cast<std::int64_t>(v));
    } else if (k == 's') {
      std::int64_t v;
      if (!c.sv(&v)) return false;
      r->ints.push_back(v);
    } else if (k == 'S') {
      std::string s;
      if (!c.str(&s)) return false;
      r->strs.push_back(std::move(s));
    } else if (k == '*' || k == '#') {
      const std::uint64_t n = static_cast<std::uint64_t>(r->ints.back());
      if (n > 100000) return false;
      for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t v;
        if (!c.uv(&v)) return false;
        r->ints.push_back(static_cast<std::int64_t>(v));
        if (k == '*') {
          std::uint64_t line;
          std::string file, fn;
          if (!c.uv(&line) || !c.str(&file) || !c.str(&fn)) return false;
          r->ints.push_back(static_cast<std::int64_t>(line));
          r->strs.push_back(std::move(file));
          r->strs.push_back(std::move(fn));
        }
      }
    }
  }
  return true;
}

inline Trace decode(const std::vector<std::uint8_t>& f) {
  Trace t;
  t.file_bytes = f.size();
  const std::uint8_t* d = f.data();
  auto fail = [&](std::uint64_t off, const std::string& what) {
    t.error = "offset " + std::to_string(off) + ": expected " + what;
  };
  if (f.size() < 64 || std::memcmp(d, "TETHERTR", 8) != 0) {
    fail(0, "a trace header (magic TETHERTR)");
    return t;
  }
  const std::uint64_t hsize = le(d + 12, 4);
  if (hsize < 64 || hsize > 65536 || hsize > f.size()) {
    fail(12, "a header size within the file");
    return t;
  }
  if (crc32c(d, hsize - 4) != le(d + hsize - 4, 4)) {
    fail(hsize - 4, "the header's CRC");
    return t;
  }
  t.major = static_cast<std::uint16_t>(le(d + 8, 2));
  t.minor = static_cast<std::uint16_t>(le(d + 10, 2));
  if (t.major != 3) {
    fail(8, "major version 3");
    return t;
  }
  t.start_ticks = le(d + 16, 8);
  t.num = le(d + 24, 8);
  t.den = le(d + 32, 8);
  t.pid = static_cast<std::uint32_t>(le(d + 48, 4));
  const std::uint64_t plen = le(d + 56, 4);
  if (t.num == 0 || t.den == 0 || plen > 4096 || 60 + plen + 4 > hsize) {
    fail(24, "a valid clock and program");
    return t;
  }
  t.program.assign(reinterpret_cast<const char*>(d + 60), plen);
  t.header_ok = true;
  std::uint64_t off = hsize;
  t.valid_bytes = off;
  std::map<std::uint64_t, std::uint64_t> last_ticks;  // per thread
  while (off < f.size()) {
    if (f.size() - off < 36) {
      fail(off, "a 36-byte block header (" + std::to_string(f.size() - off) + " bytes left)");
      return t;
    }
    const std::uint8_t* h = d + off;
    if (std::memcmp(h, "TBLK", 4) != 0) {
      fail(off, "block magic TBLK");
      return t;
    }
    const std::uint64_t size = le(h + 4, 4);
    if (size == 0 || size > (16u << 20)) {
      fail(off + 4, "a payload size in 1..16 MiB");
      return t;
    }
    if (f.size() - off - 36 < size) {
      fail(off, std::to_string(size) + " payload bytes (" + std::to_string(f.size() - off - 36) +
                    " left)");
      return t;
    }
    if (crc32c(h + 36, size, crc32c(h, 32)) != le(h + 32, 4)) {
      fail(off + 32, "the block's CRC");
      return t;
    }
    if (le(h + 24, 4) != t.blocks) {
      fail(off + 24, "block seq " + std::to_string(t.blocks));
      return t;
    }
    const std::uint64_t thread = le(h + 8, 8);
    std::uint64_t ticks = le(h + 16, 8);
    const std::uint64_t nrec = le(h + 28, 4);
    if (thread != 0 && last_ticks.count(thread) && ticks < last_ticks[thread]) {
      fail(off + 16, "ticks not going backwards within thread " + std::to_string(thread));
      return t;
    }
    std::vector<Record> recs;
    std::uint64_t counted = 0;  // unknown records count too
    const std::uint8_t* p = h + 36;
    const std::uint8_t* end = p + size;
    while (p < end) {
      const std::uint64_t roff = static_cast<std::uint64_t>(p - d);
      Record r;
      r.type = *p++;
      Cursor c(p, end);
      std::uint64_t len, dt;
      if (!c.uv(&len) || len > static_cast<std::uint64_t>(end - c.pos())) {
        fail(roff, "a record length within the block");
        return t;
      }
      const std::uint8_t* rend = c.pos() + len;
      Cursor body(c.pos(), rend);
      if (!body.uv(&dt)) {
        fail(roff, "a record dt");
        return t;
      }
      ticks += dt;
      r.ticks = ticks;
      r.thread = thread;
      r.block = t.blocks;
      auto it = layouts().find(r.type);
      if (it != layouts().end()) {
        if (!decode_fields(body, it->second, &r)) {
          fail(roff, std::string("the fields of a ") + type_name(r.type) + " record");
          return t;
        }
        recs.push_back(std::move(r));
      }  // unknown types are skipped
      p = rend;
      ++counted;
    }
    if (counted != nrec) {
      fail(off + 28, std::to_string(nrec) + " records (found " + std::to_string(counted) + ")");
      return t;
    }
    if (thread != 0) last_ticks[thread] = ticks;
    for (Record& r : recs) t.records.push_back(std::move(r));
    off += 36 + size;
    t.valid_bytes = off;
    ++t.blocks;
  }
  return t;
}

inline Trace decode_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  return decode(bytes);
}

// Checks the writer's guarantees over a decoded trace: every site / stack id
// used is defined earlier in the file. Returns an error or "".
inline std::string check_definitions(const Trace& t) {
  std::map<std::int64_t, bool> sites, stacks;
  for (const Record& r : t.records) {
    auto need = [&](std::map<std::int64_t, bool>& m, std::int64_t id, const char* what) {
      return id == 0 || m.count(id) ? std::string()
                                    : std::string(what) + " " + std::to_string(id) + " used by " +
                                          type_name(r.type) + " before its definition";
    };
    std::string e;
    switch (r.type) {
      case 0x01:
        sites[r.ints[0]] = true;
        break;
      case 0x02:
        stacks[r.ints[0]] = true;
        break;
      case 0x20:
        e = need(sites, r.ints[2], "site");
        break;
      case 0x23:
        e = need(sites, r.ints[3], "site") + need(stacks, r.ints[4], "stack");
        break;
      case 0x30:
        e = need(sites, r.ints[3], "site");
        break;
      case 0x32:
        e = need(sites, r.ints[3], "site") + need(stacks, r.ints[4], "stack");
        break;
      case 0x40:
        e = need(sites, r.ints[3], "site");
        break;
      case 0x50:
        e = need(sites, r.ints[1], "site");
        break;
      default:
        break;
    }
    if (!e.empty()) return e;
  }
  return "";
}

}  // namespace trace_check
