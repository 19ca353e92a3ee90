// tether/chan.h — Go-style channels between fibers (and plain threads).
//
//   tether::Chan<Request> requests(0, "requests");   // unbuffered, named
//   requests.send(std::move(r));                    // blocks until received
//   while (auto r = requests.recv()) handle(*r);     // nullopt once closed and drained
//   for (Request& r : requests) handle(r);           // the same, as a range
//
// Semantics are Go's: an unbuffered channel hands a value from sender to
// receiver directly; a buffered one of capacity N blocks senders only when
// N values wait. Blocked senders and receivers are served in FIFO order.
// close() wakes every blocked receiver (they get nullopt once the buffer is
// drained); sending on or closing a closed channel raises misuse_error.
// Element types may be move-only; their move constructor must not throw (it
// runs under the channel's spin lock: a throwing move ends the program).
// Chan is a handle: copies refer to the same
// channel, which lives while any handle (or a blocked operation) does.
//
// Every operation records the calling fiber's wait state (chan send / chan
// receive, the channel's id and name, the call site) and the channel
// remembers which fibers used it from which side, for the deadlock detector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>

namespace tether {

namespace detail {

// How the type-erased channel core moves and destroys elements.
struct ElemOps {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src);  // constructs *dst from std::move(*src)
  void (*destroy)(void* p);
  // sizeof(T) if T is trivially copyable and destructible and at most 16
  // bytes, else 0: the channel then copies the bytes inline, no call.
  std::size_t trivial_size;
};

// The moves run under the channel's spin lock, so they are noexcept: a move
// constructor that throws ends the program instead of leaving the lock held.
template <class T>
inline constexpr ElemOps elem_ops_for{
    sizeof(T), alignof(T),
    [](void* dst, void* src) noexcept { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* p) noexcept { static_cast<T*>(p)->~T(); },
    std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T> && sizeof(T) <= 16
        ? sizeof(T)
        : 0};

enum class TryResult { ok, would_block, closed };

// The channel proper (runtime/src/chan_core.cpp); Chan<T> is a typed handle.
class ChanCore {
 public:
  static std::shared_ptr<ChanCore> create(std::size_t capacity, const ElemOps* ops,
                                          std::string name, std::source_location site);
  virtual ~ChanCore() = default;

  // Moves *elem into the channel (on return *elem is moved-from). Blocks.
  virtual void send(void* elem, std::source_location site) = 0;
  // Constructs the received value in *out (raw storage) and returns true, or
  // returns false (leaving *out untouched) when closed and drained. Blocks.
  virtual bool recv(void* out, std::source_location site) = 0;
  virtual TryResult try_send(void* elem, std::source_location site) = 0;
  virtual TryResult try_recv(void* out, std::source_location site) = 0;
  virtual void close(std::source_location site) = 0;

  virtual std::size_t size() const = 0;  // values buffered now
  virtual std::size_t capacity() const = 0;
  virtual bool closed() const = 0;
  virtual std::uint64_t id() const = 0;
  virtual const std::string& name() const = 0;
};

template <class T>
struct RawSlot {
  alignas(T) unsigned char bytes[sizeof(T)];
  T* get() { return std::launder(reinterpret_cast<T*>(bytes)); }
};

}  // namespace detail

template <class T>
class Chan {
  static_assert(std::is_move_constructible_v<T>, "channel elements must be movable");

 public:
  explicit Chan(std::size_t capacity = 0, std::string name = {},
                std::source_location site = std::source_location::current())
      : core_(detail::ChanCore::create(capacity, &detail::elem_ops_for<T>, std::move(name),
                                       site)) {}

  void send(T value, std::source_location site = std::source_location::current()) {
    core_->send(&value, site);
  }
  std::optional<T> recv(std::source_location site = std::source_location::current()) {
    detail::RawSlot<T> slot;
    if (!core_->recv(slot.bytes, site)) return std::nullopt;
    std::optional<T> out(std::move(*slot.get()));
    slot.get()->~T();
    return out;
  }
  // ok: sent; would_block: nobody ready and no room (value kept); closed: misuse_error thrown.
  bool try_send(T& value, std::source_location site = std::source_location::current()) {
    return core_->try_send(&value, site) == detail::TryResult::ok;
  }
  bool try_send(T&& value, std::source_location site = std::source_location::current()) {
    return core_->try_send(&value, site) == detail::TryResult::ok;
  }
  // A value if one was ready; nullopt if none was (or closed and drained: see closed()).
  std::optional<T> try_recv(std::source_location site = std::source_location::current()) {
    detail::RawSlot<T> slot;
    if (core_->try_recv(slot.bytes, site) != detail::TryResult::ok) return std::nullopt;
    std::optional<T> out(std::move(*slot.get()));
    slot.get()->~T();
    return out;
  }
  void close(std::source_location site = std::source_location::current()) {
    core_->close(site);
  }

  std::size_t size() const { return core_->size(); }
  std::size_t capacity() const { return core_->capacity(); }
  bool closed() const { return core_->closed(); }
  std::uint64_t id() const { return core_->id(); }
  const std::string& name() const { return core_->name(); }
  detail::ChanCore* core() const noexcept { return core_.get(); }

  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.core_ == b.core_; }

  // Range-for: receives until the channel is closed and drained. The waits
  // are recorded at the `for` statement (begin()'s call site).
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(Chan* c, std::source_location site) : c_(c), site_(site) { ++*this; }
    T& operator*() { return *v_; }
    iterator& operator++() {
      v_ = c_->recv(site_);
      if (!v_) c_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.c_ == b.c_; }

   private:
    Chan* c_ = nullptr;
    std::source_location site_{};
    std::optional<T> v_;
  };
  iterator begin(std::source_location site = std::source_location::current()) {
    return iterator(this, site);
  }
  iterator end() { return iterator(); }

 private:
  std::shared_ptr<detail::ChanCore> core_;
};

}  // namespace tether
