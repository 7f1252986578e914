// copy receive / copy send: moving a certificate between devices through the relay.
#include <qrencode.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "dojang/present.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/copy.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::cli {

namespace {

struct QrFree {
  void operator()(QRcode* q) const noexcept { ::QRcode_free(q); }
};

// The text as a QR code drawn with half blocks (two modules per character
// row), dark on light with a quiet zone; "" when it cannot be encoded.
std::string qr_text(const std::string& text) {
  std::unique_ptr<QRcode, QrFree> qr(::QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return {};
  const int n = qr->width, quiet = 2;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= n || y >= n) return false;
    return (qr->data[y * n + x] & 1) != 0;
  };
  std::string out;
  for (int y = -quiet; y < n + quiet; y += 2) {
    for (int x = -quiet; x < n + quiet; ++x) {
      // Light background: a dark module prints as a space.
      bool top = dark(x, y), bottom = dark(x, y + 1);
      out += top && bottom ? " " : top ? "\u2584" : bottom ? "\u2580" : "\u2588";
    }
    out += "\n";
  }
  return out;
}

std::string clock_time(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

Runner setup_receive(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string server, ca_file, code_out, password_file;
    bool replace = false, no_qr = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--server", o->server, "the relay (dojangd) URL")->required();
  sub.add_option("--ca-file", o->ca_file, "extra CA bundle (PEM) for an https relay");
  sub.add_option("--code-out", o->code_out, "also write the code to this file (for scripts)");
  sub.add_option("--password-file", o->password_file, "file holding the copied certificate's password");
  sub.add_flag("--replace", o->replace, "replace the certificate if it is already in the wallet");
  sub.add_flag("--no-qr", o->no_qr, "do not draw the QR code");
  return [&g, o] {
    auto receiver = wallet::CopyReceiver::open({o->server, o->ca_file, 30});
    if (!receiver.ok()) return fail(g, receiver.error());
    std::string digits((*receiver)->code().view());
    std::ostream& screen = g.json ? std::cerr : std::cout;
    screen << "Copy code:  " << wallet::group_code(digits) << "\n";
    if (!o->no_qr) screen << qr_text("DOJANG-COPY:" + digits);
    screen << "On the other device run `dojang copy send SEL --server " << o->server
           << "` and enter this code.\nIt works once, until " << clock_time((*receiver)->expires_at())
           << ". Waiting...\n"
           << std::flush;
    if (!o->code_out.empty()) {
      auto st = wallet::atomic_write_file(
          o->code_out, ByteView(reinterpret_cast<const std::uint8_t*>(digits.data()), digits.size()));
      if (!st.ok()) return fail(g, st.error());
    }
    secure_wipe(digits.data(), digits.size());  // the code stays only in the receiver
    auto bundle = (*receiver)->receive();
    if (!bundle.ok()) return fail(g, bundle.error());
    auto pw = read_secret({o->password_file, "Password of the copied certificate", "--password-file", false});
    if (!pw.ok()) return fail(g, pw.error());
    wallet::NpkiStore store({npki_root(g)});
    auto stored = wallet::store_bundle(store, *bundle, *pw, o->replace);
    if (!stored.ok()) {
      if (stored.error().code == Errc::already_exists)
        return fail(g, {Errc::already_exists, stored.error().message + " (give --replace to replace it)"});
      return fail(g, stored.error());
    }
    if (g.json) {
      auto j = to_json(*stored, SystemClock::instance());
      j["ok"] = true;
      print_json(j);
    } else {
      std::cout << "Copied " << stored->info->cn << " into " << stored->folder.string() << "\n";
    }
    return int{kOk};
  };
}

Runner setup_send(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string sel, server, ca_file, code_file;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("SEL", o->sel, "serial (0x-hex or decimal) or part of the name")->required();
  sub.add_option("--server", o->server, "the relay (dojangd) URL")->required();
  sub.add_option("--ca-file", o->ca_file, "extra CA bundle (PEM) for an https relay");
  sub.add_option("--code-file", o->code_file, "file holding the code the receiving device shows");
  return [&g, o] {
    auto cred = wallet::NpkiStore({npki_root(g)}).select(o->sel);
    if (!cred.ok()) return fail(g, cred.error());
    auto code = read_secret({o->code_file, "Copy code shown on the other device", "--code-file", false});
    if (!code.ok()) return fail(g, code.error());
    if (!g.json) std::cout << "Sending " << cred->info->cn << "...\n" << std::flush;
    auto st = wallet::send_credential({o->server, o->ca_file, 30}, *cred, *code);
    if (!st.ok()) return fail(g, st.error());
    if (g.json) {
      print_json({{"ok", true}, {"sent", cred->info->cn}});
    } else {
      std::cout << "Sent. The other device has " << cred->info->cn << " now.\n";
    }
    return int{kOk};
  };
}

}  // namespace

Runner setup_copy(CLI::App& sub, GlobalOptions& g) {
  sub.require_subcommand(1);
  auto chosen = std::make_shared<Runner>();
  struct Nested {
    const char* name;
    const char* help;
    Runner (*setup)(CLI::App&, GlobalOptions&);
  };
  const Nested nested[] = {
      {"receive", "open a copy session here and show its code", setup_receive},
      {"send", "send a certificate to the device showing a code", setup_send},
  };
  for (const auto& n : nested) {
    CLI::App* s = sub.add_subcommand(n.name, n.help);
    Runner r = n.setup(*s, g);
    s->callback([chosen, r] { *chosen = r; });
  }
  return [chosen] { return *chosen ? (*chosen)() : int{kUsage}; };
}

}  // namespace dojang::cli
