// Shared plumbing of the dojang CLI: options every verb has, secret input,
// output, and the one mapping from library errors to exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::cli {

namespace fs = std::filesystem;

// Exit codes of shared/design.md §4.
enum ExitCode : int {
  kOk = 0,
  kUsage = 2,
  kInvalid = 3,
  kRefused = 4,
  kIoFailure = 5,
};

int exit_code_for(Errc code) noexcept;

struct GlobalOptions {
  std::string npki_dir;  // --npki-dir
  bool json = false;     // --json
};

// Where a secret comes from: a file given by flag, else a no-echo prompt on the terminal.
struct SecretSource {
  std::string file;      // --password-file and friends
  std::string prompt;    // what to ask on a terminal
  std::string flag;      // the flag name, for the error message
  bool confirm = false;  // ask twice on a terminal
};

// Reads a secret: the file's content without one trailing newline, or a no-echo
// prompt on /dev/tty. Without either → Errc::usage naming the flag.
Result<SecretString> read_secret(const SecretSource& source);

// A resident registration number from --idn-file FILE or the terminal,
// normalised to its 13 digits. Errors: as read_secret, invalid_input.
Result<SecretString> read_idn(const std::string& file,
                              const std::string& prompt = "Resident registration number (주민등록번호)");

// Asks for one line (echoed; not for secrets) on the terminal; nullopt without one.
std::optional<std::string> ask_on_terminal(const std::string& prompt);
// Asks a yes/no question on the terminal; false when there is no terminal.
bool confirm_on_terminal(const std::string& question);
bool have_terminal();

// Resolves the wallet root from --npki-dir, $DOJANG_NPKI_DIR, ~/NPKI.
fs::path npki_root(const GlobalOptions& g);

// Reads a whole file; missing/unreadable → Errc::io (or not_found).
Result<Bytes> read_file(const fs::path& p, std::size_t max_size = 64u << 20);
// Reads a certificate file, PEM or DER. Errors: as read_file, invalid_input
// ("<path>: not a certificate (PEM or DER)").
Result<pki::Certificate> read_certificate_file(const fs::path& p);
// Writes a whole file atomically (temp + fsync + rename).
Status write_file(const fs::path& p, ByteView data);

// Prints the error as one line on stderr ("dojang: <message>") or as JSON on
// stdout with --json, and returns the exit code for it.
int fail(const GlobalOptions& g, const Error& e);
// Prints a JSON document on stdout.
void print_json(const nlohmann::json& j);

// A verb: registers its options on the subcommand and returns the function to run.
using Runner = std::function<int()>;
using VerbSetup = std::function<Runner(CLI::App& sub, GlobalOptions& g)>;

}  // namespace dojang::cli
