// The fixture of dojangd's integration tests: a data directory in a temp dir,
// the real `dojangd` binary to drive it, and `dojangd serve` on a free
// loopback port.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "testing/testing.hpp"

namespace dojang::testing {

class DojangdFixture : public ::testing::Test {
 protected:
  static constexpr const char* kPassphrase = "operator passphrase 1";
  static constexpr const char* kIdn = "800101-1234567";
  static constexpr const char* kLoginPassword = "Bank!login-77";

  DojangdFixture();

  // Writes value + "\n" to tmp_/name (a --*-file argument); returns the path.
  std::string secret(const std::string& name, const std::string& value);
  // Runs build/bin/dojangd with args.
  RunResult dojangd(std::vector<std::string> args);
  // `dojangd init --data data_` with the given issuing key; returns the admin
  // API token it printed. With cached, the data directory is a copy of one made
  // once per build for that key type (init_dojangd: same CA, same token).
  std::string init(const std::string& issuing_key = "rsa2048", bool cached = true);
  // Enrols 홍길동 as customer "hong" (IDN kIdn, phone 010-1234-5678, login kLoginPassword);
  // the IDN and login password files are tmp_/idn and tmp_/lpw.
  void enrol_hong();
  // Starts `dojangd serve` on 127.0.0.1:port (0: a free one) and sets port_.
  std::unique_ptr<Background> serve(std::uint16_t port = 0, std::vector<std::string> extra = {});
  // A teller application for customer: (reference number, authorization code).
  std::pair<std::string, std::string> teller_application(const std::string& customer = "hong",
                                                         const std::string& purpose = "general");
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  TempDir tmp_;
  std::string data_, pass_;
  std::uint16_t port_ = 0;
};

}  // namespace dojang::testing
