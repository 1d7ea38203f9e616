/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge validate` as a user runs it: the real program, its exit codes
 * and what it prints, on the shipped examples and on broken specs.
 */
#include "test-environment.h"

#include <fstream>

namespace reelforge::test {
namespace {

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

/* Runs reelforge with args from folder, keeping stdout and stderr apart. */
Result reelforge(const std::vector<std::string> &args, const std::filesystem::path &folder,
                 const TempDir &scratch) {
  std::string command =
      "cd " + shell_quote(folder.string()) + " && " + shell_quote(g_getenv("REELFORGE_BIN"));
  for (const auto &arg : args) command += " " + shell_quote(arg);
  command += " 2>" + shell_quote(scratch.file("stderr.txt"));
  Result result;
  result.status = run_command(command, &result.out, false);
  std::ifstream err(scratch.file("stderr.txt"));
  result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return result;
}

class ValidateCommand : public ::testing::Test {
 protected:
  void write(const std::string &name, const std::string &text) const {
    std::ofstream(dir_.file(name)) << text;
  }
  Result validate(const std::string &name) const {
    return reelforge({"validate", name}, dir_.path(), scratch_);
  }

  TempDir dir_;
  TempDir scratch_;
};

TEST_F(ValidateCommand, TheExamplesAreValid) {
  const std::filesystem::path examples = source_dir() / "examples" / "validate";
  const Result cards = reelforge({"validate", "cards.json"}, examples, scratch_);
  EXPECT_EQ(cards.status, 0) << cards.err;
  EXPECT_EQ(cards.out, "cards.json: valid \u2014 1 output (1 variant \u00d7 1 platform)\n");
  EXPECT_EQ(cards.err, "");

  const Result matrix = reelforge({"validate", "variations.json"}, examples, scratch_);
  EXPECT_EQ(matrix.status, 0) << matrix.err;
  EXPECT_EQ(matrix.out,
            "variations.json: valid \u2014 6 outputs (3 variants \u00d7 2 platforms)\n");
}

TEST_F(ValidateCommand, EveryExampleSpecIsValid) {
  size_t checked = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator(source_dir() / "examples" / "validate")) {
    if (entry.path().extension() != ".json") continue;
    const Result result = reelforge({"validate", entry.path().filename().string()},
                                    entry.path().parent_path(), scratch_);
    EXPECT_EQ(result.status, 0) << entry.path() << "\n" << result.err;
    ++checked;
  }
  EXPECT_GE(checked, 2u);
}

TEST_F(ValidateCommand, AnInvalidSpecListsEveryProblemOnStderr) {
  write("job.json", R"({"name": "x", "platforms": ["tiktok", "vine"], "scenes": [
      {"source": {"card": {"text": "a"}}, "duration": 1},
      {"source": {"card": {"text": "b"}}, "duration": 1},
      {"source": {"image": "logo.png"}, "duration": 1, "transition": {"type": "swoosh"}}]})");
  const Result result = validate("job.json");
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.out, "");
  const std::string expected_start =
      "job.json: /platforms/1: unknown platform \"vine\"; known platforms are ";
  EXPECT_TRUE(result.err.starts_with(expected_start)) << result.err;
  EXPECT_NE(result.err.find("\njob.json: /scenes/2/source/image: no file at \"logo.png\" "
                            "(looked for "),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("\njob.json: /scenes/2/transition/type: \"swoosh\" is not one of "
                            "cut, crossfade, fade-black,"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 3) << result.err;
}

TEST_F(ValidateCommand, BrokenAndMissingFilesAreNamed) {
  write("broken.json", "{\"name\": \"x\",");
  Result result = validate("broken.json");
  EXPECT_EQ(result.status, 2);
  EXPECT_TRUE(result.err.starts_with("broken.json: not valid JSON")) << result.err;

  result = validate("absent.json");
  EXPECT_EQ(result.status, 2);
  EXPECT_TRUE(result.err.starts_with("absent.json: ")) << result.err;
  EXPECT_NE(result.err.find("absent.json"), std::string::npos);

  write("list.json", "[1, 2]");
  result = validate("list.json");
  EXPECT_EQ(result.status, 2);
  EXPECT_TRUE(result.err.starts_with("list.json: expected an object, got an array")) << result.err;
}

TEST_F(ValidateCommand, UsageMistakesExitTwo) {
  Result result = reelforge({"validate"}, dir_.path(), scratch_);
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("Usage: reelforge validate JOB.json"), std::string::npos);
  result = reelforge({"validate", "a.json", "b.json"}, dir_.path(), scratch_);
  EXPECT_EQ(result.status, 2);
  result = reelforge({"validate", "--help"}, dir_.path(), scratch_);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Usage: reelforge validate"), std::string::npos);
  result = reelforge({"--help"}, dir_.path(), scratch_);
  EXPECT_NE(result.out.find("validate JOB.json"), std::string::npos);
}

}  // namespace
}  // namespace reelforge::test
