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
Runner setup_renew(CLI::App& sub, GlobalOptions& g);
Runner setup_revoke(CLI::App& sub, GlobalOptions& g);
Runner setup_suspend(CLI::App& sub, GlobalOptions& g);
Runner setup_resume(CLI::App& sub, GlobalOptions& g);
Runner setup_reissue(CLI::App& sub, GlobalOptions& g);

// `revoke SEL` (no --via-bank): CMP rr signed with the certificate's key.
struct KeyRevocation {
  std::string selector, server, trust, password_file, reason;
  int timeout = 30;
  bool yes = false;
};
int run_revoke_with_key(GlobalOptions& g, const KeyRevocation& k);

}  // namespace dojang::cli
