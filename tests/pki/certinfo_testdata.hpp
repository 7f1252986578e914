// Helpers for the pki tests that read the known-answer credentials
// (tests/data/pki/cred/<name>) and drive the openssl CLI.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "testing/testing.hpp"

namespace dojang::pki::test {

namespace fs = std::filesystem;

// Every credential tests/data/pki/gen.sh makes.
inline const std::vector<std::string>& credential_names() {
  static const std::vector<std::string> names = {
      "yessign-general", "yessign-bank", "signgate-old",  "signkorea-pbkdf2", "crosscert-pbes2",
      "tradesign-pbes2", "aria",         "aes-openssl",   "seed-openssl",     "norandom",
      "corporate",       "expired",      "unknown-policy"};
  return names;
}

inline fs::path cred_path(const std::string& name, const std::string& file) {
  return dojang::testing::data_path("pki/cred/" + name + "/" + file);
}

inline std::map<std::string, std::string> expected_for(const std::string& name) {
  return dojang::testing::read_expected(cred_path(name, "expected.txt"));
}

// The openssl CLI (the independent implementation the tests compare with).
inline std::string openssl_bin() {
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      fs::path candidate = fs::path(p.substr(start, end - start)) / "openssl";
      if (!candidate.parent_path().empty() && fs::exists(candidate)) return candidate.string();
      start = end + 1;
    }
  }
  return "/usr/bin/openssl";
}

// Runs openssl with an empty configuration (the system openssl.cnf is never read).
inline dojang::testing::RunResult run_openssl(const dojang::testing::TempDir& dir,
                                              std::vector<std::string> args) {
  fs::path cnf = dir / "empty.cnf";
  if (!fs::exists(cnf)) dojang::testing::write_text(cnf, "");
  args.insert(args.begin(), openssl_bin());
  return dojang::testing::run(args, {}, {"OPENSSL_CONF=" + cnf.string()});
}

}  // namespace dojang::pki::test
