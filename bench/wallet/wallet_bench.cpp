// bench/wallet: what a wallet does per signature — decrypt signPri.key with the
// password, then sign — measured through the library, beside the openssl CLI
// doing the same job on the same key (`openssl pkeyutl -sign`, one process per
// signature, as a shell script or app calling the CLI would), and beside
// OpenSSL's bare RSA signing ceiling for context.
//
// Usage: bench_wallet [--seconds S] [--cred DIR] [--password PASSWORD_FILE]
// Prints one JSON line per figure (shared/design.md §5).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/keyfile.hpp"
#include "dojang/pki/signing.hpp"

extern char** environ;

namespace {

using namespace dojang;
using Steady = std::chrono::steady_clock;

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "bench_wallet: cannot read " << path << "\n";
    std::exit(5);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

void emit(const char* metric, double value, const char* peer, double peer_value) {
  std::printf(
      "{\"bench\": \"wallet\", \"metric\": \"%s\", \"unit\": \"ops/s\", \"value\": %.1f, "
      "\"peer\": \"%s\", \"peer_value\": %.1f, \"ratio\": %.2f}\n",
      metric, value, peer, peer_value, peer_value > 0 ? value / peer_value : 0.0);
  std::fflush(stdout);
}

int run_quiet(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::string cred = std::string(DOJANG_TEST_DATA) + "/pki/cred/yessign-general";
  std::string password_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--seconds") seconds = std::stod(argv[i + 1]);
    else if (k == "--cred") cred = argv[i + 1];
    else if (k == "--password") password_file = argv[i + 1];
  }
  std::string password;
  if (password_file.empty()) {
    std::ifstream in(cred + "/expected.txt");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("password=", 0) == 0) password = line.substr(9);
  } else {
    auto b = slurp(password_file);
    password = trim(std::string(b.begin(), b.end()));
  }
  auto key_file = slurp(cred + "/signPri.key");
  auto cert_der = slurp(cred + "/signCert.der");
  SecretString pw(password);
  auto cert = pki::Certificate::from_der(cert_der);
  auto first = pki::decrypt_key_file(key_file, pw);
  if (!cert.ok() || !first.ok()) {
    std::cerr << "bench_wallet: cannot load the credential in " << cred << "\n";
    return 3;
  }
  std::vector<std::uint8_t> challenge(32, 0x5a);

  // Dojang: decrypt + sign per operation, in process.
  long ops = 0;
  auto t0 = Steady::now();
  auto deadline = t0 + std::chrono::duration<double>(seconds);
  while (Steady::now() < deadline) {
    auto k = pki::decrypt_key_file(key_file, pw);
    auto sig = pki::sign_raw(k->key, challenge);
    if (!sig.ok()) return 5;
    ++ops;
  }
  double ours = ops / std::chrono::duration<double>(Steady::now() - t0).count();

  // Peer: the openssl CLI signing with the same (decrypted) key, one process per signature.
  char dir_tmpl[] = "/tmp/bench_wallet.XXXXXX";
  std::string dir = mkdtemp(dir_tmpl);
  std::string key_pem = dir + "/key.pem", in_path = dir + "/challenge", sig_path = dir + "/sig";
  {
    auto pem = first->key.to_pem();
    std::ofstream(key_pem, std::ios::binary).write(reinterpret_cast<const char*>(pem->data()),
                                                   static_cast<std::streamsize>(pem->size()));
    std::ofstream(in_path, std::ios::binary).write(reinterpret_cast<const char*>(challenge.data()),
                                                   static_cast<std::streamsize>(challenge.size()));
  }
  std::vector<std::string> cmd = {"openssl", "pkeyutl", "-sign",  "-rawin", "-digest", "sha256",
                                  "-inkey",  key_pem,   "-in",    in_path, "-out",    sig_path};
  long peer_ops = 0;
  t0 = Steady::now();
  deadline = t0 + std::chrono::duration<double>(seconds);
  while (Steady::now() < deadline) {
    if (run_quiet(cmd) != 0) {
      std::cerr << "bench_wallet: openssl pkeyutl failed\n";
      return 5;
    }
    ++peer_ops;
  }
  double peer = peer_ops / std::chrono::duration<double>(Steady::now() - t0).count();
  // Same signature bytes: PKCS#1 v1.5 is deterministic.
  auto ours_sig = pki::sign_raw(first->key, challenge);
  auto peer_sig = slurp(sig_path);
  std::remove(key_pem.c_str());
  std::remove(in_path.c_str());
  std::remove(sig_path.c_str());
  rmdir(dir.c_str());
  if (!ours_sig.ok() || *ours_sig != peer_sig) {
    std::cerr << "bench_wallet: signatures differ from openssl's\n";
    return 5;
  }
  emit("decrypt_sign", ours, "openssl pkeyutl -sign (process per signature)", peer);

  // Context: decrypt alone, and bare signing with the already-decrypted key.
  ops = 0;
  t0 = Steady::now();
  deadline = t0 + std::chrono::duration<double>(seconds / 2);
  while (Steady::now() < deadline) {
    auto sig = pki::sign_raw(first->key, challenge);
    if (!sig.ok()) return 5;
    ++ops;
  }
  double sign_only = ops / std::chrono::duration<double>(Steady::now() - t0).count();
  emit("decrypt_sign_vs_sign_only", ours, "dojang sign_raw with the key already decrypted", sign_only);
  return 0;
}
