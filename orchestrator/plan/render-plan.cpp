/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "plan/render-plan.h"

#include "json-file.h"
#include "json-writer.h"
#include "plan/media-inspector.h"
#include "plan/pipeline-template.h"
#include "plan/s3-output.h"
#include "plan/voiceover-plan.h"
#include "platform-profile.h"
#include "time-convert.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

namespace reelforge::plan {

namespace {

using spec::Anchor;
using spec::Colour;
using spec::JobSpec;

/* "#RRGGBB", with "AA" only when not opaque (cards take no alpha). */
std::string colour_text(const Colour &c) {
  char text[16];
  if (c.a == 255)
    std::snprintf(text, sizeof text, "#%02X%02X%02X", c.r, c.g, c.b);
  else
    std::snprintf(text, sizeof text, "#%02X%02X%02X%02X", c.r, c.g, c.b, c.a);
  return text;
}

std::string number_text(double value) {
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd(text, sizeof text, "%.6g", value);
}

/* Whole frames, as stitchbin counts them. */
gint64 frames(double seconds, double fps) {
  return std::llround(seconds * fps);
}

/* captionoverlay names the middle of an edge "<edge>-center". */
std::string caption_anchor(Anchor anchor) {
  switch (anchor) {
    case Anchor::kTop:
      return "top-center";
    case Anchor::kBottom:
      return "bottom-center";
    case Anchor::kLeft:
      return "center-left";
    case Anchor::kRight:
      return "center-right";
    default:
      return std::string(spec::name_of(anchor));
  }
}

/* Width of a PNG from its IHDR chunk; 0 when it is not a PNG. */
int png_width(const std::filesystem::path &path) {
  std::ifstream file(path, std::ios::binary);
  unsigned char header[24] = {};
  if (!file.read(reinterpret_cast<char *>(header), sizeof header)) return 0;
  if (header[0] != 0x89 || header[1] != 'P' || header[2] != 'N' || header[3] != 'G') return 0;
  return (header[16] << 24) | (header[17] << 16) | (header[18] << 8) | header[19];
}

/* How long each scene plays: the spec's length, else the file's. */
std::vector<double> scene_lengths(const JobSpec &job) {
  std::vector<double> lengths;
  for (size_t i = 0; i < job.scenes.size(); ++i) {
    const spec::Scene &scene = job.scenes[i];
    if (auto known = scene.known_length_s()) {
      lengths.push_back(*known);
      continue;
    }
    const auto &clip = std::get<spec::ClipSource>(scene.source);
    if (!clip.media.local_path)
      throw PlanError("/scenes/" + std::to_string(i) + ": " + clip.media.uri +
                      " needs a duration or trim out (its length cannot be read ahead)");
    const MediaFacts facts = inspect_media(clip.media.local_path->string(), 30 * GST_SECOND);
    if (!facts.duration_s)
      throw PlanError("/scenes/" + std::to_string(i) + ": " + clip.media.local_path->string() +
                      " has no known duration; give the scene a duration");
    lengths.push_back(*facts.duration_s - (scene.trim ? scene.trim->in_s : 0));
  }
  return lengths;
}

std::string clips_json(const JobSpec &job, const std::vector<double> &lengths) {
  JsonWriter w;
  w.begin_array();
  for (size_t i = 0; i < job.scenes.size(); ++i) {
    const spec::Scene &scene = job.scenes[i];
    w.begin_object();
    if (const auto *clip = std::get_if<spec::ClipSource>(&scene.source)) {
      w.member("uri", clip->media.uri);
    } else if (const auto *image = std::get_if<spec::ImageSource>(&scene.source)) {
      w.member("image",
               image->media.local_path ? image->media.local_path->string() : image->media.uri);
      w.member("motion", std::string(spec::name_of(image->motion)));
    } else {
      const auto &card = std::get<spec::CardSource>(scene.source);
      w.begin_object("card");
      w.member("text", card.text);
      if (const auto *colour = std::get_if<Colour>(&card.background)) {
        w.member("background", colour_text(*colour));
      } else {
        const auto &gradient = std::get<spec::Gradient>(card.background);
        w.begin_object("background");
        json_builder_set_member_name(w.get(), "gradient");
        w.begin_array();
        json_builder_add_string_value(w.get(), colour_text(gradient.top).c_str());
        json_builder_add_string_value(w.get(), colour_text(gradient.bottom).c_str());
        w.end_array();
        w.end_object();
      }
      w.member("color", colour_text(card.color));
      w.member("font", card.font);
      w.end_object();
    }
    if (scene.trim) {
      w.member("in", scene.trim->in_s);
      if (scene.trim->out_s) w.member("out", *scene.trim->out_s);
    }
    w.member("duration", lengths[i]);
    w.member("fit", std::string(spec::name_of(scene.fit)));
    if (i + 1 < job.scenes.size()) {
      const spec::Transition &next = job.scenes[i + 1].transition;
      w.begin_object("transition");
      w.member("type", std::string(spec::name_of(next.type)));
      w.member("duration", next.overlap_s());
      w.end_object();
    }
    w.end_object();
  }
  w.end_array();
  return w.text();
}

std::string cues_json(const JobSpec &job, double duration_s, int width) {
  const double scale = width / 1080.0; /* spec sizes are pixels of a 1080-wide frame */
  JsonWriter w;
  w.begin_array();
  for (size_t i = 0; i < job.overlays.size(); ++i) {
    const spec::Overlay &overlay = job.overlays[i];
    const std::string at = "/overlays/" + std::to_string(i);
    w.begin_object();
    w.member("start", overlay.start_s);
    w.member("end", overlay.end_s.value_or(duration_s));
    if (const auto *text = std::get_if<spec::TextOverlay>(&overlay.content)) {
      const spec::TextStyle &style = text->style;
      w.member("text", text->text);
      w.begin_object("style");
      w.member("font", style.font);
      w.member("size", style.size * scale);
      w.member("color", colour_text(style.color));
      if (style.stroke) {
        w.begin_object("stroke");
        w.member("color", colour_text(style.stroke->color));
        w.member("width", style.stroke->width * scale);
        w.end_object();
      }
      if (style.shadow) {
        w.begin_object("shadow");
        w.member("color", colour_text(style.shadow->color));
        w.member("dx", style.shadow->offset_x * scale);
        w.member("dy", style.shadow->offset_y * scale);
        w.end_object();
      }
      if (style.box) {
        w.begin_object("box");
        w.member("color", colour_text(style.box->color));
        w.member("padding", style.box->padding * scale);
        w.end_object();
      }
      w.member("anchor", caption_anchor(style.anchor));
      w.end_object();
      w.begin_object("animation");
      w.member("in", std::string(spec::name_of(style.animation_in)));
      w.member("out", std::string(spec::name_of(style.animation_out)));
      w.member("duration", style.animation_s);
      w.end_object();
      w.member("ignore_safe_zone", text->ignore_safe_zone);
    } else {
      const auto &image = std::get<spec::ImageOverlay>(overlay.content);
      if (!image.media.local_path)
        throw PlanError(at + "/image: only local PNG files can be overlaid");
      const int image_width = png_width(*image.media.local_path);
      if (image_width <= 0)
        throw PlanError(at + "/image: " + image.media.local_path->string() +
                        " is not a PNG file (only PNG images can be overlaid)");
      w.member("image", image.media.local_path->string());
      w.member("anchor", caption_anchor(image.anchor));
      /* The spec scales to the frame's width, the element the image's. */
      w.member("scale", image.scale * width / image_width);
      w.member("opacity", image.opacity);
    }
    w.end_object();
  }
  w.end_array();
  return w.text();
}

std::string fraction_text(double fps) {
  /* 29.97 and friends are 30000/1001; whole rates are N/1. */
  if (std::abs(fps - std::round(fps)) < 1e-6) return std::to_string(std::llround(fps)) + "/1";
  return std::to_string(std::llround(fps * 1001)) + "/1001";
}

/* The clips' files when spec is a pure hard-cut concatenation that can be
 * copied without re-encoding onto every canvas of profiles: whole H.264 +
 * AAC clips whose caps are all equal and match the canvas, cut together,
 * with nothing drawn over them and their sound as it is (no voiceover,
 * music, volume or loudness). nullopt when anything must be decoded. */
std::optional<std::vector<std::filesystem::path>> copyable_clips(
    const JobSpec &spec, const std::vector<const qc::PlatformProfile *> &profiles) {
  const spec::Audio &audio = spec.audio;
  if (!spec.overlays.empty() || spec.captions || audio.voiceover || audio.spoken_voiceover ||
      audio.music || !audio.clip_audio.enabled || audio.clip_audio.volume != 1 ||
      audio.loudness.requested)
    return std::nullopt;
  std::vector<std::filesystem::path> files;
  std::optional<MediaFacts> first;
  for (size_t i = 0; i < spec.scenes.size(); ++i) {
    const spec::Scene &scene = spec.scenes[i];
    const auto *clip = std::get_if<spec::ClipSource>(&scene.source);
    if (clip == nullptr || !clip->media.local_path || scene.trim ||
        (i > 0 && scene.transition.type != spec::TransitionType::kCut))
      return std::nullopt;
    MediaFacts facts;
    try {
      facts = inspect_media(clip->media.local_path->string(), 30 * GST_SECOND);
    } catch (const MediaError &) {
      return std::nullopt; /* the render reports it, naming the clip */
    }
    const bool whole =
        !scene.duration_s || (facts.duration_s && facts.fps > 0 &&
                              std::abs(*scene.duration_s - *facts.duration_s) < 0.5 / facts.fps);
    if (!whole || facts.video_codec != "h264" || facts.audio_codec != "aac" ||
        facts.video_streams != 1 || facts.audio_streams != 1 ||
        (facts.container_format != "mp4" && facts.container_format != "mov"))
      return std::nullopt;
    if (first && (facts.video_caps != first->video_caps || facts.audio_caps != first->audio_caps))
      return std::nullopt;
    for (const qc::PlatformProfile *profile : profiles)
      if (facts.width != profile->canvas_width || facts.height != profile->canvas_height ||
          std::abs(facts.fps - profile->canvas_fps) > 1e-3)
        return std::nullopt;
    if (!first) first = facts;
    files.push_back(*clip->media.local_path);
  }
  return files;
}

/* A copy of the clips' streams, one after another, into every output. */
std::string copy_description(const std::vector<std::filesystem::path> &clips,
                             const std::vector<RenderOutput> &outputs) {
  std::string description = PipelineTemplate::load("concat-copy").fill({});
  const PipelineTemplate clip_template = PipelineTemplate::load("concat-copy-clip");
  for (size_t i = 0; i < clips.size(); ++i)
    description += "  " + clip_template.fill({{"i", std::to_string(i)}, {"clip", clips[i]}});
  const PipelineTemplate output_template = PipelineTemplate::load("concat-copy-output");
  for (size_t r = 0; r < outputs.size(); ++r)
    description += "  " + output_template.fill(
                              {{"n", std::to_string(r)}, {"output", outputs[r].video.string()}});
  return description;
}

/* A variant's platforms that share a frame rate share a pass. */
struct Pass {
  const spec::JobVariant *variant;
  double fps;
  std::vector<std::pair<spec::OutputTarget, qc::PlatformProfile>> targets;
};

std::vector<Pass> group_passes(const spec::Job &job) {
  std::vector<Pass> passes;
  for (const spec::OutputTarget &target : job.outputs()) {
    qc::PlatformProfile profile = qc::load_platform_profile(target.platform);
    auto pass = std::find_if(passes.begin(), passes.end(), [&](const Pass &p) {
      return p.variant == target.variant && p.fps == profile.canvas_fps;
    });
    if (pass == passes.end())
      pass = passes.insert(passes.end(), Pass{target.variant, profile.canvas_fps, {}});
    pass->targets.emplace_back(target, std::move(profile));
  }
  return passes;
}

/* How a pass's timeline runs: each scene's length, the speech that may
 * set them (and the captions), and the whole in frames and seconds. */
struct Timeline {
  std::vector<double> lengths;
  std::optional<VoiceoverTiming> speech;
  gint64 total_frames = 0;
  double duration_s = 0;
};

Timeline pass_timeline(const JobSpec &spec, double fps, const std::string &tts_cache) {
  Timeline timeline;
  timeline.lengths = scene_lengths(spec);
  /* A spoken voiceover is spoken now (into the TTS cache) for its timings. */
  if (spec.audio.spoken_voiceover) {
    timeline.speech = time_voiceover(*spec.audio.spoken_voiceover, tts_cache);
    if (spec.duration_from_voiceover)
      timeline.lengths =
          fit_scenes_to(spec, timeline.lengths, timeline.speech->duration_s + kVoiceoverTail_s);
  }
  for (size_t i = 0; i < timeline.lengths.size(); ++i) {
    timeline.total_frames += frames(timeline.lengths[i], fps);
    if (i > 0) timeline.total_frames -= frames(spec.scenes[i].transition.overlap_s(), fps);
  }
  timeline.duration_s = timeline.total_frames / fps;
  return timeline;
}

std::vector<RenderOutput> pass_outputs(const Pass &pass, const std::filesystem::path &dir) {
  std::vector<RenderOutput> outputs;
  for (const auto &[target, profile] : pass.targets) {
    RenderOutput &output = outputs.emplace_back();
    output.name = target.name;
    output.platform = target.platform;
    output.video = dir / (target.name + ".mp4");
    output.report = dir / (target.name + ".qc.json");
    output.thumbnails = (dir / (target.name + ".thumb-%d.jpg")).string();
    output.thumbnail_count = static_cast<unsigned>(pass.variant->spec.output.thumbnails);
  }
  return outputs;
}

/* The values every part of pipelines/render*.pipeline shares. */
std::map<std::string, std::string> shared_values(const Pass &pass, const Timeline &timeline) {
  const JobSpec &spec = pass.variant->spec;
  const qc::PlatformProfile &first = pass.targets.front().second;
  std::string renditions;
  for (size_t r = 1; r < pass.targets.size(); ++r) {
    const qc::PlatformProfile &profile = pass.targets[r].second;
    renditions += (r > 1 ? "," : "") + std::to_string(profile.canvas_width) + "x" +
                  std::to_string(profile.canvas_height);
  }
  const double fps = pass.fps;
  return {
      {"clips", clips_json(spec, timeline.lengths)},
      {"width", std::to_string(first.canvas_width)},
      {"height", std::to_string(first.canvas_height)},
      {"renditions", renditions},
      {"framerate", fraction_text(fps)},
      {"keyframe_interval", std::to_string(std::llround(2 * fps))},
      {"preset", spec.output.video_preset},
      {"crf", std::to_string(spec.output.video_crf)},
      {"audio_bitrate", std::to_string(spec.output.audio_bitrate_kbps * 1000)},
      {"thumbnails", std::to_string(spec.output.thumbnails)},
      {"clip_volume",
       number_text(spec.audio.clip_audio.enabled ? spec.audio.clip_audio.volume : 0.0)},
      {"target_lufs", number_text(spec.audio.loudness.target_lufs)},
      {"true_peak", number_text(spec.audio.loudness.true_peak_db)},
      {"duration_ns", std::to_string(gst_util_uint64_scale_round(
                          static_cast<guint64>(timeline.total_frames), GST_SECOND * 1000,
                          static_cast<guint64>(std::llround(fps * 1000))))},
  };
}

/* Each rendition's captions, QC, encoders and muxer, and where its MP4
 * goes (a file, or the bucket when plan uploads). */
std::string output_descriptions(const Pass &pass, const Timeline &timeline, const RenderPlan &plan,
                                std::map<std::string, std::string> &values) {
  const JobSpec &spec = pass.variant->spec;
  const bool upload = !plan.uri_prefix.empty();
  const PipelineTemplate output_template = PipelineTemplate::load("render-output");
  std::string description;
  for (size_t r = 0; r < pass.targets.size(); ++r) {
    const auto &[target, profile] = pass.targets[r];
    const RenderOutput &output = plan.outputs[r];
    const std::string suffix = r == 0 ? "" : "_" + std::to_string(r);
    values["n"] = suffix;
    values["video_pad"] = "video" + suffix;
    values["profile"] = target.platform;
    values["report"] = output.report.string();
    values["output"] = output.video.string();
    values["thumbnail_pattern"] = output.thumbnails;
    const std::string overlay_cues = cues_json(spec, plan.duration_s, profile.canvas_width);
    values["cues"] =
        spec.captions && timeline.speech
            ? join_json_arrays(overlay_cues,
                               caption_cues_json(*spec.captions, *timeline.speech, plan.duration_s,
                                                 profile.canvas_width))
            : overlay_cues;
    values["on_fail"] = upload ? "error" : "warn";
    if (upload) values["output_uri"] = s3_output_uri(plan.uri_prefix, target.name + ".mp4");
    /* The muxer first: the video track then comes before the audio. */
    description += "  " + PipelineTemplate::load(upload ? "output-s3" : "output-file").fill(values);
    description += "  " + output_template.fill(values);
  }
  return description;
}

/* The voiceover (a file, or speech read back from the TTS cache) and the
 * music bed, ducked under the voice. */
std::string audio_descriptions(const JobSpec &spec, const std::string &tts_cache,
                               std::map<std::string, std::string> &values) {
  std::string description;
  if (spec.audio.voiceover) {
    values["voiceover"] = spec.audio.voiceover->uri;
    description += "  " + PipelineTemplate::load("render-voiceover").fill(values);
  } else if (spec.audio.spoken_voiceover) {
    add_tts_values(*spec.audio.spoken_voiceover, tts_cache, &values);
    description += "  " + PipelineTemplate::load("render-tts").fill(values);
  }
  if (spec.audio.music) {
    const spec::Music &music = *spec.audio.music;
    const bool ducked =
        (spec.audio.voiceover || spec.audio.spoken_voiceover) && music.ducking.enabled;
    values["music"] = music.media.uri;
    values["music_volume"] = number_text(music.volume);
    values["fade_in_ns"] = std::to_string(from_seconds(music.fade_in_s));
    values["fade_out_ns"] = std::to_string(from_seconds(music.fade_out_s));
    values["duck_db"] = number_text(ducked ? music.ducking.amount_db : 0.0);
    values["attack_ns"] = std::to_string(from_seconds(music.ducking.attack_s));
    values["release_ns"] = std::to_string(from_seconds(music.ducking.release_s));
    description += "  " + PipelineTemplate::load("render-music").fill(values);
    if (ducked) description += "  " + PipelineTemplate::load("render-ducking").fill(values);
  }
  return description;
}

/* The whole decode-stitch-mix-encode graph of a pass (render.pipeline and
 * its parts). */
std::string render_description(const Pass &pass, const Timeline &timeline, const RenderPlan &plan,
                               const std::string &tts_cache) {
  std::map<std::string, std::string> values = shared_values(pass, timeline);
  std::string description = PipelineTemplate::load("render").fill(values);
  description += output_descriptions(pass, timeline, plan, values);
  description += audio_descriptions(pass.variant->spec, tts_cache, values);
  return description;
}

/* Every local file the pass's description reads, each once, with its size
 * and SHA-256: the scenes' clips and images, the image overlays, the
 * voiceover and music files, and the speech ttssrc reads back from the TTS
 * cache. Remote media (https://, s3://) are fetched by the render itself. */
std::vector<PlannedInput> local_inputs(const JobSpec &spec, const Timeline &timeline) {
  std::vector<std::filesystem::path> paths;
  auto add = [&](const std::optional<std::filesystem::path> &path) {
    if (path && std::find(paths.begin(), paths.end(), *path) == paths.end()) paths.push_back(*path);
  };
  for (const spec::Scene &scene : spec.scenes) {
    if (const auto *clip = std::get_if<spec::ClipSource>(&scene.source))
      add(clip->media.local_path);
    if (const auto *image = std::get_if<spec::ImageSource>(&scene.source))
      add(image->media.local_path);
  }
  for (const spec::Overlay &overlay : spec.overlays)
    if (const auto *image = std::get_if<spec::ImageOverlay>(&overlay.content))
      add(image->media.local_path);
  if (spec.audio.voiceover) add(spec.audio.voiceover->local_path);
  if (timeline.speech)
    for (const std::filesystem::path &file : timeline.speech->cache_files) add(file);
  if (spec.audio.music) add(spec.audio.music->media.local_path);
  std::vector<PlannedInput> inputs;
  for (const std::filesystem::path &path : paths) inputs.push_back(digest_file(path));
  return inputs;
}

/* One pass planned and sealed. */
RenderPlan plan_pass(const spec::Job &job, const Pass &pass,
                     const std::optional<std::filesystem::path> &out_dir) {
  const JobSpec &spec = pass.variant->spec;
  /* -o DIR renders locally even when the spec uploads. */
  const bool upload = !out_dir && spec.output.uri_prefix;
  if (upload && !spec.output.uri_prefix->starts_with("s3://"))
    throw PlanError(
        "/output/uri_prefix: only s3:// destinations are uploaded; give -o DIR or "
        "output.directory for local files");
  const std::string tts_cache = tts_cache_dir();
  const Timeline timeline = pass_timeline(spec, pass.fps, tts_cache);

  RenderPlan plan;
  plan.name = pass.variant->variant.name;
  plan.folder = out_dir ? *out_dir : spec.output.directory.value_or(job.base_dir / "out");
  plan.outputs = pass_outputs(pass, plan.folder);
  if (upload) plan.uri_prefix = *spec.output.uri_prefix;
  plan.duration_s = timeline.duration_s;
  /* Generous: a render runs at several times real time here. */
  plan.timeout_s = 60 + plan.duration_s * 30 * static_cast<double>(plan.outputs.size());

  std::vector<const qc::PlatformProfile *> profiles;
  for (const auto &target : pass.targets) profiles.push_back(&target.second);
  /* An upload is gated by QC inside the pipeline, which a copy has not. */
  if (const auto clips = upload ? std::nullopt : copyable_clips(spec, profiles)) {
    plan.stream_copy = true;
    plan.description = copy_description(*clips, plan.outputs);
  } else {
    plan.description = render_description(pass, timeline, plan, tts_cache);
  }
  plan.inputs = local_inputs(spec, timeline);
  seal(plan);
  return plan;
}

}  // namespace

std::vector<RenderPlan> plan_job(const spec::Job &job,
                                 const std::optional<std::filesystem::path> &out_dir) {
  std::vector<RenderPlan> plans;
  for (const Pass &pass : group_passes(job)) plans.push_back(plan_pass(job, pass, out_dir));
  return plans;
}

}  // namespace reelforge::plan
