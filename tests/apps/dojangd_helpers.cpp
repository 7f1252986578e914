#include "dojangd_helpers.hpp"

#include <unistd.h>

#include <regex>

namespace dojang::testing {

DojangdFixture::DojangdFixture() {
  data_ = (tmp_ / "data").string();
  pass_ = secret("pass", kPassphrase);
}

std::string DojangdFixture::secret(const std::string& name, const std::string& value) {
  auto p = tmp_ / name;
  write_text(p, value + "\n");
  return p.string();
}

RunResult DojangdFixture::dojangd(std::vector<std::string> args) {
  args.insert(args.begin(), bin_path("dojangd").string());
  return run(args);
}

std::string DojangdFixture::init(const std::string& issuing_key, bool cached) {
  if (cached) return init_dojangd(data_, pass_, issuing_key);
  auto r = dojangd({"init", "--data", data_, "--passphrase-file", pass_, "--issuing-key", issuing_key});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(r.out, m, std::regex("admin API token: +([0-9a-f]{64})"))) << r.out;
  return m.size() > 1 ? m[1].str() : "";
}

void DojangdFixture::enrol_hong() {
  auto r = dojangd({"bank", "enrol", "--data", data_, "--passphrase-file", pass_, "--customer", "hong", "--name",
                    "홍길동", "--idn-file", secret("idn", kIdn), "--phone", "010-1234-5678", "--password-file",
                    secret("lpw", kLoginPassword)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

std::unique_ptr<Background> DojangdFixture::serve(std::uint16_t port, std::vector<std::string> extra) {
  std::vector<std::string> argv = {bin_path("dojangd").string(), "serve", "--data", data_, "--passphrase-file",
                                   pass_, "--listen", "127.0.0.1:" + std::to_string(port), "--threads", "2"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto bg = std::make_unique<Background>(argv);
  std::string line = bg->wait_for_line("listening on");
  EXPECT_FALSE(line.empty()) << bg->out();
  if (!line.empty()) port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  return bg;
}

std::pair<std::string, std::string> DojangdFixture::teller_application(const std::string& customer,
                                                                        const std::string& purpose) {
  auto r = dojangd({"bank", "application", "--data", data_, "--passphrase-file", pass_, "--customer", customer,
                    "--purpose", purpose});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch ref, code;
  EXPECT_TRUE(std::regex_search(r.out, ref, std::regex("Reference number: +([0-9]{8})"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, code, std::regex("Authorization code: +([0-9A-Z-]{19})"))) << r.out;
  return {ref.size() > 1 ? ref[1].str() : "", code.size() > 1 ? code[1].str() : ""};
}

}  // namespace dojang::testing
