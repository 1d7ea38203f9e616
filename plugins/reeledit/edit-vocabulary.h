/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The editing words that the job spec (schemas/job.schema.json), the render
 * planner and stitchbin's clip JSON share: how one clip gives way to the
 * next, how a picture of another shape fills the frame, and how a still
 * moves. Each enum has one table of names, in enum order; name_of() and
 * find_value() read it, and a test checks that the job schema's enums list
 * exactly these names.
 */
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace reelforge::edit {

enum class TransitionType {
  kCut,
  kCrossfade,
  kFadeBlack,
  kFadeWhite,
  kWipeLeft,
  kWipeRight,
  kWipeUp,
  kWipeDown,
  kSlideLeft,
  kSlideRight,
  kSlideUp,
  kSlideDown,
  kCircleOpen,
  kCircleClose,
  kZoomIn,
};
enum class Fit { kCover, kContain, kBlurPad };
enum class Motion { kNone, kKenBurns, kZoomIn, kZoomOut, kPanLeft, kPanRight };

/* An enum's values beside their names, in enum order. */
template <typename Enum, std::size_t N>
using NameTable = std::array<std::pair<std::string_view, Enum>, N>;

inline constexpr NameTable<TransitionType, 15> kTransitionTypes{{
    {"cut", TransitionType::kCut},
    {"crossfade", TransitionType::kCrossfade},
    {"fade-black", TransitionType::kFadeBlack},
    {"fade-white", TransitionType::kFadeWhite},
    {"wipe-left", TransitionType::kWipeLeft},
    {"wipe-right", TransitionType::kWipeRight},
    {"wipe-up", TransitionType::kWipeUp},
    {"wipe-down", TransitionType::kWipeDown},
    {"slide-left", TransitionType::kSlideLeft},
    {"slide-right", TransitionType::kSlideRight},
    {"slide-up", TransitionType::kSlideUp},
    {"slide-down", TransitionType::kSlideDown},
    {"circle-open", TransitionType::kCircleOpen},
    {"circle-close", TransitionType::kCircleClose},
    {"zoom-in", TransitionType::kZoomIn},
}};

inline constexpr NameTable<Fit, 3> kFits{{
    {"cover", Fit::kCover},
    {"contain", Fit::kContain},
    {"blur-pad", Fit::kBlurPad},
}};

inline constexpr NameTable<Motion, 6> kMotions{{
    {"none", Motion::kNone},
    {"ken-burns", Motion::kKenBurns},
    {"zoom-in", Motion::kZoomIn},
    {"zoom-out", Motion::kZoomOut},
    {"pan-left", Motion::kPanLeft},
    {"pan-right", Motion::kPanRight},
}};

/* The value table calls name; nullopt for a name not in it. */
template <typename Enum, std::size_t N>
constexpr std::optional<Enum> find_value(const NameTable<Enum, N> &table, std::string_view name) {
  for (const auto &[word, value] : table)
    if (word == name) return value;
  return std::nullopt;
}

/* The name table gives value; empty for a value without a row. */
template <typename Enum, std::size_t N>
constexpr std::string_view find_name(const NameTable<Enum, N> &table, Enum value) {
  for (const auto &[word, candidate] : table)
    if (candidate == value) return word;
  return {};
}

/* The word the spec and the clip JSON write for each value ("crossfade",
 * "blur-pad", "ken-burns", ...). */
std::string_view name_of(TransitionType type);
std::string_view name_of(Fit fit);
std::string_view name_of(Motion motion);

}  // namespace reelforge::edit
