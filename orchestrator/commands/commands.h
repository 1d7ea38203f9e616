/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reelforge subcommands. Each takes the arguments after its name and
 * returns the process exit code: 0 success, 1 the work was done but judged
 * failing (QC), 2 bad input or usage.
 */
#pragma once

#include <string>
#include <vector>

namespace reelforge {

enum ExitCode { kExitOk = 0, kExitQcFailed = 1, kExitBadInput = 2 };

int qc_command(const std::vector<std::string> &args);
int validate_command(const std::vector<std::string> &args);
int plan_command(const std::vector<std::string> &args);
int render_command(const std::vector<std::string> &args);
int presign_command(const std::vector<std::string> &args);
/* The daemon and its clients (built when libpq and libsoup 3 are found). */
int serve_command(const std::vector<std::string> &args);
int keys_command(const std::vector<std::string> &args);
/* submit, status, approve, reject, cancel, resume */
int client_command(const std::string &command, const std::vector<std::string> &args);

}  // namespace reelforge
