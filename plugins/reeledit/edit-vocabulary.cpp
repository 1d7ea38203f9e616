/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "edit-vocabulary.h"

namespace reelforge::edit {
namespace {

/* Row i names value i, so name_of() is a lookup by index (a value without
 * a row throws std::out_of_range rather than passing for another). */
template <typename Enum, std::size_t N>
constexpr bool in_enum_order(const NameTable<Enum, N> &table) {
  for (std::size_t i = 0; i < N; ++i)
    if (static_cast<std::size_t>(table[i].second) != i) return false;
  return true;
}

static_assert(in_enum_order(kTransitionTypes));
static_assert(in_enum_order(kFits));
static_assert(in_enum_order(kMotions));

template <typename Enum, std::size_t N>
std::string_view name_in(const NameTable<Enum, N> &table, Enum value) {
  return table.at(static_cast<std::size_t>(value)).first;
}

}  // namespace

std::string_view name_of(TransitionType type) {
  return name_in(kTransitionTypes, type);
}

std::string_view name_of(Fit fit) {
  return name_in(kFits, fit);
}

std::string_view name_of(Motion motion) {
  return name_in(kMotions, motion);
}

}  // namespace reelforge::edit
