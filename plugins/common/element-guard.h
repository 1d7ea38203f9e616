/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * No C++ exception may cross a C frame (vfunc, pad function, bus watch,
 * idle callback). Every such entry point runs its body through guard(),
 * which turns an exception into GST_ELEMENT_ERROR and a fallback value.
 */
#pragma once

#include <gst/gst.h>

#include <exception>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace reelforge {

/* Thrown by code that knows which GStreamer error domain and code fit. */
class ElementError : public std::runtime_error {
 public:
  ElementError(GQuark domain, gint code, const std::string &message)
      : std::runtime_error(message), domain_(domain), code_(code) {}
  GQuark domain() const { return domain_; }
  gint code() const { return code_; }

 private:
  GQuark domain_;
  gint code_;
};

namespace detail {
void post_exception(GstElement *element, const std::exception_ptr &error, const char *file,
                    const char *function, int line) noexcept;
}

/* Runs body(); if it throws, posts an error message on element and returns
 * on_error instead. Use for every vfunc and pad function body:
 *
 *   return REELFORGE_GUARD(element, GST_FLOW_ERROR, [&] { ...; return GST_FLOW_OK; });
 */
template <typename Result, typename Body>
Result guard(GstElement *element, Result on_error, Body &&body, const char *file,
             const char *function, int line) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (...) {
    detail::post_exception(element, std::current_exception(), file, function, line);
    return on_error;
  }
}

/* The same for bodies that return nothing. */
template <typename Body>
void guard_void(GstElement *element, Body &&body, const char *file, const char *function,
                int line) noexcept {
  try {
    std::forward<Body>(body)();
  } catch (...) {
    detail::post_exception(element, std::current_exception(), file, function, line);
  }
}

}  // namespace reelforge

#define REELFORGE_GUARD(element, on_error, body) \
  ::reelforge::guard(GST_ELEMENT_CAST(element), on_error, body, __FILE__, GST_FUNCTION, __LINE__)
#define REELFORGE_GUARD_VOID(element, body) \
  ::reelforge::guard_void(GST_ELEMENT_CAST(element), body, __FILE__, GST_FUNCTION, __LINE__)
