// Names and node-id syntax of the snapshot model (tether/graph/snapshot.h).
#include "tether/graph/snapshot.h"

#include <algorithm>
#include <charconv>

namespace tether::graph {
namespace {

constexpr std::string_view kNodeKindNames[] = {
    "thread", "syscall", "fiber", "chan", "mutex", "rwmutex", "cond_var", "wait_group", "once",
};

}  // namespace

std::string_view to_string(NodeKind k) noexcept {
  return kNodeKindNames[static_cast<std::size_t>(k)];
}

std::optional<NodeKind> node_kind_from_string(std::string_view s) noexcept {
  for (std::size_t i = 0; i < std::size(kNodeKindNames); ++i) {
    if (kNodeKindNames[i] == s) return static_cast<NodeKind>(i);
  }
  return std::nullopt;
}

std::string NodeId::str() const {
  std::string out(to_string(kind));
  out += ':';
  out += std::to_string(id);
  return out;
}

std::optional<NodeId> parse_node_id(std::string_view s) noexcept {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto kind = node_kind_from_string(s.substr(0, colon));
  const std::string_view digits = s.substr(colon + 1);
  if (!kind || digits.empty() || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return NodeId{*kind, id};
}

std::string_view to_string(ThreadKind k) noexcept {
  switch (k) {
    case ThreadKind::main:
      return "main";
    case ThreadKind::locker:
      return "locker";
    case ThreadKind::pool:
      return "pool";
  }
  return "?";
}

std::string_view to_string(EdgeKind k) noexcept {
  switch (k) {
    case EdgeKind::waits_for:
      return "waits_for";
    case EdgeKind::held_by:
      return "held_by";
    case EdgeKind::locked_to:
      return "locked_to";
    case EdgeKind::occupies:
      return "occupies";
  }
  return "?";
}

bool is_deadlock_kind(std::string_view s) noexcept {
  return std::find(std::begin(kDeadlockKinds), std::end(kDeadlockKinds), s) !=
         std::end(kDeadlockKinds);
}

bool is_fiber_state(std::string_view s) noexcept {
  return std::find(std::begin(kFiberStates), std::end(kFiberStates), s) != std::end(kFiberStates);
}

}  // namespace tether::graph
