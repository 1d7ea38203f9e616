/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by every test executable: one global environment (gst_init, the
 * build tree's plugins, GLib criticals and warnings as failures) and small
 * helpers to run real pipelines and collect what they post.
 */
#pragma once

#include "gst-ptr.h"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace reelforge::test {

/* What a pipeline posted on its way to EOS. */
struct PipelineRun {
  std::vector<StructurePtr> element_messages; /* copies, in posting order */
  std::string error;                          /* first error, empty if none */
  bool reached_eos = false;

  /* The element messages named name, in order. */
  std::vector<const GstStructure *> messages(const std::string &name) const;
};

/* Parses description with gst_parse_launch, plays it to EOS or error, and
 * returns what it posted. A run that takes longer than timeout fails the
 * test (it never hangs the suite). */
PipelineRun run_pipeline(const std::string &description, GstClockTime timeout = 60 * GST_SECOND);

/* Plays an already built pipeline the same way; the caller keeps ownership. */
PipelineRun run_pipeline(GstElement *pipeline, GstClockTime timeout = 60 * GST_SECOND);

/* Paints frames [first, last) leaving element source_name (a raw video
 * source in pipeline) one flat colour: luma, with neutral chroma. */
void paint_frames(GstElement *pipeline, const char *source_name, guint64 first, guint64 last,
                  guint8 luma);

/* Brings pipeline to PAUSED (prerolled) and does a flushing, accurate seek
 * to position; failures are fatal test failures (check HasFatalFailure()). */
void preroll_and_seek(GstElement *pipeline, GstClockTime position);

/* A private directory removed with everything in it at destruction. */
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::filesystem::path &path() const { return path_; }
  std::string file(const std::string &name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/* Runs a command line through the shell; returns its exit status and puts
 * its stdout in *output (stderr too when merge_stderr). */
int run_command(const std::string &command_line, std::string *output, bool merge_stderr = false);

/* text quoted for /bin/sh */
std::string shell_quote(const std::string &text);

/* What the reelforge program (REELFORGE_BIN) did with some arguments. */
/* A real H.264 MP4 of seconds at width x height (videotestsrc SMPTE bars,
 * x264), made once per shape and process. */
const std::string &test_clip_bytes(double seconds, int width, int height);

struct ProgramResult {
  int status = -1;
  std::string output; /* stdout and stderr */
};
ProgramResult reelforge(const std::vector<std::string> &args);

/* Getters that fail the test with the field's name when it is absent. */
guint64 get_uint64(const GstStructure *s, const char *field);
gdouble get_double(const GstStructure *s, const char *field);
std::string get_string(const GstStructure *s, const char *field);

/* The directory holding the project's sources (for schemas and data). */
std::filesystem::path source_dir();

}  // namespace reelforge::test
