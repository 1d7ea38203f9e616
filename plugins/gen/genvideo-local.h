/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The offline `local` provider: renders a real, moving H.264 MP4 clip with
 * no key and no network, from what a scene gives:
 *  - a prompt alone: a titled card on a gradient that turns, with a soft
 *    light drifting across and the title slowly growing;
 *  - image: a Ken Burns move (slow zoom and pan) over it;
 *  - image + last-image: both with the same move, crossfading from the
 *    first to the second (smoothstep) through the middle of the clip.
 * Frames are drawn with Cairo/Pango into an appsrc and encoded by a private
 * pipeline (videoconvert ! x264enc ! mp4mux faststart) at 24 fps; the size
 * comes from resolution and aspect-ratio (GenRequest::frame_size()), the
 * length from duration (default 4 s). The colours follow the prompt, so
 * different prompts make different clips; equal requests equal clips.
 */
#pragma once

#include "genvideo-request.h"

#include <gio/gio.h>

#include <functional>
#include <string>

namespace reelforge::gen {

constexpr int kLocalFramerate = 24;
constexpr double kLocalDefaultDuration = 4.0;

/* Writes the clip to path. progress(0..1) is called from the encoding
 * thread. Throws GenError (fatal) on failure and http::Cancelled when
 * cancellable is cancelled. */
void render_local_clip(const GenRequest &request, const std::string &path,
                       GCancellable *cancellable, const std::function<void(double)> &progress = {});

}  // namespace reelforge::gen
