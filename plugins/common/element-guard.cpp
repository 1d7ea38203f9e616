/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "element-guard.h"

namespace reelforge::detail {

void post_exception(GstElement *element, const std::exception_ptr &error, const char *file,
                    const char *function, int line) noexcept {
  GQuark domain = GST_STREAM_ERROR;
  gint code = GST_STREAM_ERROR_FAILED;
  const char *what = "unknown error";
  try {
    std::rethrow_exception(error);
  } catch (const ElementError &e) {
    domain = e.domain();
    code = e.code();
    what = e.what();
  } catch (const std::bad_alloc &e) {
    domain = GST_CORE_ERROR;
    code = GST_CORE_ERROR_FAILED;
    what = "out of memory";
  } catch (const std::exception &e) {
    what = e.what();
  } catch (...) {
  }
  /* gst_element_message_full() takes ownership of both strings. */
  gst_element_message_full(element, GST_MESSAGE_ERROR, domain, code, g_strdup(what), nullptr, file,
                           function, line);
}

}  // namespace reelforge::detail
