#include "trace_encoder.h"

#include <cstring>

#include "crc32c.h"
#include "trace_format.h"
#include "varint.h"

namespace tether::trace::testing {
namespace {

void put_le(std::string& s, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t index_of(std::string_view name, const std::string_view* table, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (table[i] == name) return i;
  return 255;  // "unknown"
}

}  // namespace

void TraceEncoder::put_uv(std::string& s, std::uint64_t v) {
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
}
void TraceEncoder::put_sv(std::string& s, std::int64_t v) { put_uv(s, detail::zigzag(v)); }
void TraceEncoder::put_str(std::string& s, std::string_view v) {
  put_uv(s, v.size());
  s += v;
}

TraceEncoder::TraceEncoder(std::ostream& out, EncoderOptions options)
    : out_(out), options_(std::move(options)) {
  using namespace fmt_v1;
  std::string h(kFileMagic, 8);
  const std::uint32_t size =
      std::max<std::uint32_t>(kMinHeaderSize, kHeaderFixed + options_.program.size() + 4);
  put_le(h, kMajor, 2);
  put_le(h, kMinor, 2);
  put_le(h, size, 4);
  put_le(h, options_.start_ticks, 8);
  put_le(h, options_.tick_num, 8);
  put_le(h, options_.tick_den, 8);
  put_le(h, static_cast<std::uint64_t>(options_.start_wall_ns), 8);
  put_le(h, options_.pid, 4);
  put_le(h, options_.tick_num == 1 && options_.tick_den == 1 ? 0 : 1, 4);
  put_le(h, options_.program.size(), 4);
  h += options_.program;
  h.resize(size - 4, '\0');
  put_le(h, detail::crc32c(h.data(), h.size()), 4);
  out_.write(h.data(), static_cast<std::streamsize>(h.size()));
  written_ = header_size_ = h.size();
}

std::uint64_t TraceEncoder::ticks_of(std::int64_t time_ns) const {
  const auto t = static_cast<unsigned __int128>(time_ns < 0 ? 0 : time_ns);
  return options_.start_ticks +
         static_cast<std::uint64_t>((t * options_.tick_den + options_.tick_num - 1) /
                                    options_.tick_num);
}

void TraceEncoder::append(std::uint64_t thread, std::uint8_t type, std::uint64_t ticks,
                          std::string_view fields) {
  Open& o = open_[thread];
  if (o.records == 0) o.base_ticks = o.last_ticks = ticks;
  const std::uint64_t dt = ticks >= o.last_ticks ? ticks - o.last_ticks : 0;
  o.last_ticks += dt;
  std::string rec;
  put_uv(rec, dt);
  rec += fields;
  o.payload += static_cast<char>(type);
  put_uv(o.payload, rec.size());
  o.payload += rec;
  ++o.records;
  if (o.payload.size() >= options_.block_bytes) flush(thread);
}

void TraceEncoder::add_raw(std::uint64_t thread, std::uint8_t type, std::int64_t time_ns,
                           std::string_view fields) {
  append(thread, type, ticks_of(time_ns), fields);
}

void TraceEncoder::add(std::uint64_t thread, const Event& e) {
  using namespace fmt_v1;
  std::string& f = fields_;
  f.clear();
  switch (e.type) {
    case EventType::site:
      put_uv(f, e.id), put_uv(f, e.line), put_uv(f, 0), put_str(f, e.file), put_str(f, e.text);
      thread = 0;
      break;
    case EventType::stack:
      put_uv(f, e.id), put_uv(f, e.frames.size());
      for (const Frame& fr : e.frames)
        put_uv(f, fr.pc), put_uv(f, fr.line), put_str(f, fr.file), put_str(f, fr.function);
      thread = 0;
      break;
    case EventType::thread_start:
      put_uv(f, index_of(e.kind, kThreadKinds, std::size(kThreadKinds))), put_uv(f, e.object),
          put_uv(f, e.a), put_str(f, e.text);
      break;
    case EventType::thread_exit:
      break;
    case EventType::fiber_create:
      put_uv(f, e.fiber), put_uv(f, e.other), put_uv(f, e.site), put_uv(f, e.thread),
          put_str(f, e.text);
      break;
    case EventType::fiber_exit:
    case EventType::run:
      put_uv(f, e.fiber);
      break;
    case EventType::park:
      put_uv(f, e.fiber), put_uv(f, e.reason), put_uv(f, e.object), put_uv(f, e.site),
          put_uv(f, e.stack), put_uv(f, e.a);
      if (e.other) put_uv(f, e.other);  // 3.0: next, the fiber the thread switched to
      break;
    case EventType::unpark:
      put_uv(f, e.fiber), put_uv(f, e.other);
      break;
    case EventType::thread_lock:
    case EventType::thread_unlock:
      put_uv(f, e.fiber), put_uv(f, e.thread), put_uv(f, e.object);
      break;
    case EventType::call_begin:
    case EventType::call_end:
      put_uv(f, e.fiber), put_uv(f, e.object), put_uv(f, e.other);
      break;
    case EventType::object_create:
      put_uv(f, e.object), put_uv(f, index_of(e.kind, kObjectKinds, std::size(kObjectKinds))),
          put_uv(f, e.fiber), put_uv(f, e.site), put_uv(f, e.a), put_str(f, e.text);
      break;
    case EventType::object_destroy:
      put_uv(f, e.object);
      break;
    case EventType::lock_acquire:
      put_uv(f, e.fiber), put_uv(f, e.object), put_uv(f, e.a), put_uv(f, e.site),
          put_uv(f, e.stack);
      break;
    case EventType::lock_release:
    case EventType::cond_signal:
      put_uv(f, e.fiber), put_uv(f, e.object), put_uv(f, e.a);
      break;
    case EventType::chan_recv:  // 2.0: woke (the fiber it made runnable) and done, when woke != 0
      put_uv(f, e.fiber), put_uv(f, e.object), put_uv(f, e.a);
      if (e.other) put_uv(f, e.other), put_uv(f, e.b ? 1 : 0);  // woke, done
      break;
    case EventType::chan_send:
      put_uv(f, e.fiber), put_uv(f, e.object);
      if (e.other) put_uv(f, e.other), put_uv(f, e.b ? 1 : 0);
      break;
    case EventType::chan_close:
      put_uv(f, e.fiber), put_uv(f, e.object);
      break;
    case EventType::select_done:
      put_uv(f, e.fiber), put_uv(f, e.object), put_uv(f, e.a), put_uv(f, e.b);
      break;
    case EventType::wg_add:
      put_uv(f, e.fiber), put_uv(f, e.object), put_sv(f, e.a), put_sv(f, e.b);
      break;
    case EventType::syscall_enter:
      put_uv(f, e.fiber), put_sv(f, e.a), put_sv(f, e.b), put_uv(f, e.site), put_str(f, e.text);
      break;
    case EventType::syscall_exit:
      put_uv(f, e.fiber), put_sv(f, e.a), put_uv(f, e.b);
      break;
    case EventType::fd_pair:
      put_uv(f, e.fiber), put_sv(f, e.a), put_sv(f, e.b);
      break;
    case EventType::misuse:
      put_uv(f, e.fiber), put_uv(f, e.site), put_str(f, e.text);
      break;
    case EventType::finding:
      put_str(f, e.kind), put_str(f, e.text), put_uv(f, e.fibers.size());
      for (std::uint64_t fiber : e.fibers) put_uv(f, fiber);
      break;
    case EventType::lost:
      put_uv(f, e.a);
      break;
    case EventType::end:
      put_sv(f, e.a);
      break;
  }
  // The end record is the last of the file: every other thread's block first.
  if (e.type == EventType::end)
    for (auto& [other, o] : open_)
      if (other != thread) flush(other);
  const bool metadata = e.type == EventType::site || e.type == EventType::stack;
  // Metadata time means nothing: keep thread 0's clock where it is.
  const std::uint64_t ticks = metadata ? open_[0].last_ticks : ticks_of(e.time_ns);
  append(thread, code_of(e.type), ticks, f);
  if (e.type == EventType::end) flush(thread);
}

void TraceEncoder::flush(std::uint64_t thread) {
  // Definitions first: a block may refer to any site or stack added before it.
  if (thread != 0) flush(0);
  auto it = open_.find(thread);
  if (it == open_.end() || it->second.records == 0) return;
  Open& o = it->second;
  std::string h(fmt_v1::kBlockMagic, 4);
  put_le(h, o.payload.size(), 4);
  put_le(h, thread, 8);
  put_le(h, o.base_ticks, 8);
  put_le(h, seq_++, 4);
  put_le(h, o.records, 4);
  put_le(h, detail::crc32c(o.payload.data(), o.payload.size(), detail::crc32c(h.data(), 32)), 4);
  out_.write(h.data(), static_cast<std::streamsize>(h.size()));
  out_.write(o.payload.data(), static_cast<std::streamsize>(o.payload.size()));
  blocks_.push_back({written_, o.payload.size(), thread, o.records});
  written_ += h.size() + o.payload.size();
  o.payload.clear();
  o.records = 0;
  o.base_ticks = o.last_ticks;
}

void TraceEncoder::flush_all() {
  flush(0);
  for (auto& [thread, o] : open_)
    if (thread != 0) flush(thread);
}

}  // namespace tether::trace::testing
