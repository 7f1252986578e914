// The dojang verbs; each registers its flags and returns its runner.
#pragma once

#include "dojang/cli.hpp"

namespace dojang::cli {

Runner setup_list(CLI::App& sub, GlobalOptions& g);
Runner setup_show(CLI::App& sub, GlobalOptions& g);
Runner setup_import(CLI::App& sub, GlobalOptions& g);
Runner setup_delete(CLI::App& sub, GlobalOptions& g);
Runner setup_sign(CLI::App& sub, GlobalOptions& g);
Runner setup_verify(CLI::App& sub, GlobalOptions& g);
Runner setup_rp_demo(CLI::App& sub, GlobalOptions& g);
Runner setup_login(CLI::App& sub, GlobalOptions& g);
Runner setup_passwd(CLI::App& sub, GlobalOptions& g);
Runner setup_vid(CLI::App& sub, GlobalOptions& g);
Runner setup_issue(CLI::App& sub, GlobalOptions& g);
Runner setup_export(CLI::App& sub, GlobalOptions& g);
Runner setup_copy(CLI::App& sub, GlobalOptions& g);
Runner setup_revoke(CLI::App& sub, GlobalOptions& g);
Runner setup_suspend(CLI::App& sub, GlobalOptions& g);
Runner setup_resume(CLI::App& sub, GlobalOptions& g);
Runner setup_reissue(CLI::App& sub, GlobalOptions& g);

}  // namespace dojang::cli
